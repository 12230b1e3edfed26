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
