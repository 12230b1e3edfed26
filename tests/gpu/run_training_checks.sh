#!/usr/bin/env bash
# Training checks against PEFT on a CUDA machine (tests/gpu/peft_compare.py says what is checked).
# Usage: STORIES_DIR=path/to/stories260K-hf tests/gpu/run_training_checks.sh [OUT_DIR]
# Needs: CUDA GPU, python3 with torch + transformers + peft + safetensors, cmake, a C++20 compiler,
# yaml-cpp, CLI11, sentencepiece (the CLI is built). TB_SKIP_BENCH=1 skips the 6B benchmark.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-gpu-checks}
: "${STORIES_DIR:?set STORIES_DIR to the stories260K-hf folder (../shared/models/stories260K-hf)}"
source "$ROOT/tests/gpu/build_cuda.sh"
build_cuda "$ROOT" "$OUT" tunebench_gpu_tool tunebench_probe tunebench-cli
python3 "$ROOT/tests/gpu/peft_compare.py" "$OUT/build/tests/gpu/tunebench_gpu_tool" "$OUT/build/app/cli/tunebench-cli" \
        "$OUT/work" "$STORIES_DIR"
