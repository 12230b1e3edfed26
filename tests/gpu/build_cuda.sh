# Sourced by the GPU scripts: configures and builds TARGETS in $OUT/build against the CUDA
# LibTorch of the local pip torch. Usage: build_cuda ROOT OUT TARGET...
# With TB_GPU_BUILD set (tests/gpu/run_all.sh: the quick-start build), that build is reused.
build_cuda() {
    local root=$1 out=$2
    shift 2
    mkdir -p "$out"
    if [ -n "${TB_GPU_BUILD:-}" ]; then
        ln -sfn "$TB_GPU_BUILD" "$out/build"
        cmake --build "$out/build" --target "$@" -j "$(nproc)" >>"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; return 1; }
        return 0
    fi
    local prefix gen=()
    prefix=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
    command -v ninja >/dev/null && gen=(-G Ninja)
    cmake -S "$root" -B "$out/build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
          -DTUNEBENCH_BUILD_UI=OFF -DTUNEBENCH_BUILD_TESTS=OFF >"$out/cmake.log" 2>&1 || { tail -30 "$out/cmake.log"; return 1; }
    cmake --build "$out/build" --target "$@" -j "$(nproc)" >>"$out/build.log" 2>&1 || { tail -40 "$out/build.log"; return 1; }
}
