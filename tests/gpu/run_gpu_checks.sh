#!/usr/bin/env bash
# Builds the engine core against the CUDA LibTorch of the local pip torch and compares with
# transformers (tests/gpu/compare.py). Usage: tests/gpu/run_gpu_checks.sh [OUT_DIR]
# Needs: CUDA GPU, python3 with torch + transformers + safetensors, cmake, a C++20 compiler.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-gpu-checks}
mkdir -p "$OUT"
PREFIX=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
GEN=()
command -v ninja >/dev/null && GEN=(-G Ninja)
cmake -S "$ROOT" -B "$OUT/build" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
      -DTUNEBENCH_BUILD_UI=OFF -DTUNEBENCH_BUILD_TESTS=OFF >"$OUT/cmake.log" 2>&1 || { tail -30 "$OUT/cmake.log"; exit 1; }
cmake --build "$OUT/build" --target tunebench_gpu_tool -j "$(nproc)" >"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
python3 "$ROOT/tests/gpu/compare.py" "$OUT/build/tests/gpu/tunebench_gpu_tool" "$OUT/work"

# With STORIES_DIR=path/to/stories260K-hf: the whole CLI on CUDA must tell the documented story.
if [ -n "${STORIES_DIR:-}" ]; then
    cmake --build "$OUT/build" --target tunebench-cli -j "$(nproc)" >>"$OUT/build.log" 2>&1 || { tail -40 "$OUT/build.log"; exit 1; }
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
