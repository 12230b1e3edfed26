#!/usr/bin/env bash
# Training checks against PEFT on a CUDA machine (tests/gpu/peft_compare.py says what is checked).
# Usage: STORIES_DIR=path/to/stories260K-hf tests/gpu/run_training_checks.sh [OUT_DIR]
# Needs: CUDA GPU, python3 with torch + transformers + peft + safetensors, cmake, a C++20 compiler,
# yaml-cpp, CLI11, sentencepiece (the CLI is built). TB_SKIP_BENCH=1 skips the 6B benchmark.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-gpu-checks}
: "${STORIES_DIR:?set STORIES_DIR to the stories260K-hf folder (../shared/models/stories260K-hf)}"
mkdir -p "$OUT"
PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
cmake -S "$ROOT" -B "$OUT/build" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
      -DTUNEBENCH_BUILD_UI=OFF -DTUNEBENCH_BUILD_TESTS=OFF >"$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
cmake --build "$OUT/build" --target tunebench_gpu_tool tunebench-cli -j "$(nproc)" >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
python3 "$ROOT/tests/gpu/peft_compare.py" "$OUT/build/tests/gpu/tunebench_gpu_tool" "$OUT/build/app/cli/tunebench-cli" \
        "$OUT/work" "$STORIES_DIR"
