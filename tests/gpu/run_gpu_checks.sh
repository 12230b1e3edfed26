#!/usr/bin/env bash
# Builds the engine core against the CUDA LibTorch of the local pip torch and compares with
# transformers (tests/gpu/compare.py). Usage: tests/gpu/run_gpu_checks.sh [OUT_DIR]
# Needs: CUDA GPU, python3 with torch + transformers + safetensors, cmake, a C++20 compiler.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-gpu-checks}
source "$ROOT/tests/gpu/build_cuda.sh"
build_cuda "$ROOT" "$OUT" tunebench_gpu_tool tunebench_probe
python3 "$ROOT/tests/gpu/compare.py" "$OUT/build/tests/gpu/tunebench_gpu_tool" "$OUT/work"

# With STORIES_DIR=path/to/stories260K-hf: the whole CLI on CUDA must tell the documented story.
if [ -n "${STORIES_DIR:-}" ]; then
    build_cuda "$ROOT" "$OUT" tunebench-cli
    for dtype in float32 bfloat16; do
        story=$("$OUT/build/app/cli/tunebench-cli" generate --model_name_or_path "$STORIES_DIR" --template empty \
                --do_sample false --max_new_tokens 40 --device cuda --dtype $dtype 2>"$OUT/cli-$dtype.log")
        echo "stories260K on cuda ($dtype): $story"
        case "$story" in
            "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."*) echo "stories260K cuda $dtype: OK" ;;
            *) echo "stories260K cuda $dtype: DIFFERENT (bf16 may diverge after a near-tie; fp32 must match)"; [ $dtype = float32 ] && exit 1 ;;
        esac
    done
fi
