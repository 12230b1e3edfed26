#!/usr/bin/env bash
# Tunebench quick start — the only two commands a new user needs (Debian 12, root or sudo):
#   packaging/quickstart.sh run    install what is missing, build, open the workbench on the demo
#                                  (headless: the same demo through tunebench-cli)
#   packaging/quickstart.sh test   install what is missing, build, run the whole test suite
# Both are idempotent. LibTorch comes from the pinned torch wheel (packaging/requirements.txt) in a
# project-local Python environment (.venv); `test` adds the reference libraries the tests compare
# with (packaging/requirements-reference*.txt). Where python3 already has torch 2.x and no .venv
# exists (a GPU machine without network), `run` builds against that torch instead.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TUNEBENCH_BUILD_DIR:-$ROOT/build}
VENV=${TUNEBENCH_VENV:-$ROOT/.venv}
DEMO=${TUNEBENCH_DEMO_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/tunebench/demo}
MODE=${1:-}

usage() { echo "usage: $0 run|test" >&2; exit 2; }
[ "$MODE" = run ] || [ "$MODE" = test ] || usage

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
    local pkgs=(build-essential cmake ninja-build pkg-config python3-venv
                libsentencepiece-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
                libgtest-dev libpcre2-dev libicu-dev libgloo-dev
                qt6-base-dev qt6-charts-dev libqt6opengl6-dev libquazip1-qt6-dev qt6-l10n-tools qt6-translations-l10n xvfb xauth
                fonts-wqy-microhei  # a CJK font: Chinese labels and offscreen screenshots
                python3-jieba)      # jieba's dictionary: ROUGE over Chinese words, as LLaMA-Factory scores
    # the fuzzers (tests/fuzz) need clang and its libFuzzer runtime
    [ "$MODE" = test ] && pkgs+=(clang libclang-rt-14-dev)
    # Go's text/template renders the exported Ollama Modelfiles in the reference tests
    [ "$MODE" = test ] && pkgs+=(golang-go)
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing: ${missing[*]}"
    if sudo_if_needed apt-get update -qq && DEBIAN_FRONTEND=noninteractive sudo_if_needed apt-get install -y -qq \
            --no-install-recommends "${missing[@]}" >/dev/null; then
        return 0
    fi
    # No archive reachable (an offline GPU machine): build with what is there; CMake names what
    # is missing and skips only what needs it (the GUI without Qt 6).
    say "could not install ${missing[*]}: building with what is installed"
}

# The Python environment that provides LibTorch (and, for `test`, the reference libraries).
# A stamp of the requirement files keeps a second run from asking the package index again.
setup_python() {
    local reqs=(-r "$ROOT/packaging/requirements.txt")
    local files=("$ROOT/packaging/requirements.txt" "$ROOT/packaging/constraints.txt")
    if [ "$MODE" = test ]; then
        reqs+=(-r "$ROOT/packaging/requirements-reference.txt")
        files+=("$ROOT/packaging/requirements-reference.txt" "$ROOT/packaging/requirements-reference-nodeps.txt")
    fi
    if [ "$MODE" = run ] && [ ! -x "$VENV/bin/python" ] && python3 -c \
            'import sys, torch; sys.exit(0 if int(torch.__version__.split(".")[0]) >= 2 else 1)' 2>/dev/null; then
        PYTHON=$(command -v python3)
        say "using the installed torch $($PYTHON -c 'import torch;print(torch.__version__)' 2>/dev/null) ($PYTHON)"
        return 0
    fi
    PYTHON=$VENV/bin/python
    local stamp
    stamp=$(cat "${files[@]}" | sha256sum | cut -c1-16)
    if [ -x "$PYTHON" ] && grep -qx "$stamp" "$VENV/.tunebench-stamp-$MODE" 2>/dev/null; then
        return 0
    fi
    if [ ! -x "$PYTHON" ]; then
        say "creating the Python environment $VENV"
        python3 -m venv "$VENV" || die "python3 -m venv failed; install python3-venv (apt-get install python3-venv)"
    fi
    say "installing $( [ "$MODE" = test ] && echo "torch and the reference libraries" || echo "torch") into $VENV (first time: ~3 GB)"
    "$PYTHON" -m pip install -q --disable-pip-version-check --progress-bar off \
        -c "$ROOT/packaging/constraints.txt" "${reqs[@]}" \
        || die "pip could not install packaging/requirements*.txt into $VENV (network? disk space?)"
    if [ "$MODE" = test ]; then
        "$PYTHON" -m pip install -q --disable-pip-version-check --progress-bar off --no-deps \
            -r "$ROOT/packaging/requirements-reference-nodeps.txt" || die "pip could not install packaging/requirements-reference-nodeps.txt"
    fi
    echo "$stamp" > "$VENV/.tunebench-stamp-$MODE"
}

# Without a CUDA toolkit: nvcc and the CUDA headers from the package index, next to the wheel's
# CUDA libraries, laid out as a toolkit CMake recognises ($VENV/cuda). Sets CUDA_ROOT.
cuda_toolkit_from_pypi() {
    local site cu
    site=$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    cu=$site/nvidia/cu13
    if [ ! -x "$cu/bin/nvcc" ] || [ ! -f "$cu/include/nv/target" ]; then
        say "no CUDA toolkit: installing nvcc and the CUDA headers from the package index (~250 MB)"
        "$PYTHON" -m pip install -q --disable-pip-version-check --progress-bar off -c "$ROOT/packaging/constraints.txt" \
            -r "$ROOT/packaging/requirements-cuda-build.txt" || return 1
    fi
    [ -x "$cu/bin/nvcc" ] && [ -f "$cu/include/cuda_runtime_api.h" ] || return 1
    CUDA_ROOT=$VENV/cuda
    mkdir -p "$CUDA_ROOT/lib/stubs"
    ln -sfn lib "$CUDA_ROOT/lib64"
    # bin holds links to each tool (not a link itself): nvcc finds lib/ and nvvm/ from bin/..
    mkdir -p "$CUDA_ROOT/bin"
    local f
    for f in "$cu"/bin/*; do ln -sfn "$f" "$CUDA_ROOT/bin/"; done
    for f in include nvvm; do ln -sfn "$cu/$f" "$CUDA_ROOT/$f"; done
    for f in "$cu"/lib/lib*.so.*; do  # the versioned names programs load, the unversioned ones CMake links by
        local base=${f##*/}
        ln -sfn "$f" "$CUDA_ROOT/lib/$base"
        ln -sfn "$f" "$CUDA_ROOT/lib/${base%%.so.*}.so"
    done
    for f in "$cu"/lib/*.a; do ln -sfn "$f" "$CUDA_ROOT/lib/"; done
    # libcuda is the driver's; the link only needs a stand-in (as the toolkit's own stubs/libcuda.so)
    [ -f "$CUDA_ROOT/lib/stubs/libcuda.so" ] || echo 'void cuTunebenchStub(void) {}' |
        cc -shared -fPIC -Wl,-soname,libcuda.so.1 -x c - -o "$CUDA_ROOT/lib/stubs/libcuda.so" || return 1
}

build() {
    local prefix
    prefix=$("$PYTHON" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null) \
        || die "$PYTHON cannot import torch"
    local cuda_args=()
    # nvcc where the CUDA toolkit installs it, when it is not on PATH (and one that runs).
    nvcc --version >/dev/null 2>&1 || { [ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"; }
    if ! nvcc --version >/dev/null 2>&1 && "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.version.cuda else 1)' 2>/dev/null; then
        if [ -x "$VENV/bin/python" ] && [ "$PYTHON" = "$VENV/bin/python" ] && cuda_toolkit_from_pypi; then
            export PATH="$CUDA_ROOT/bin:$PATH" CUDA_PATH="$CUDA_ROOT"  # CUDA_PATH: LibTorch's FindCUDA
            cuda_args=(-DCUDAToolkit_ROOT="$CUDA_ROOT" -DCUDA_TOOLKIT_ROOT_DIR="$CUDA_ROOT" -DCMAKE_CUDA_COMPILER="$CUDA_ROOT/bin/nvcc")
        else
            die "no CUDA toolkit, and nvcc could not be installed from the package index: install the CUDA toolkit (nvcc)"
        fi
    fi
    local args=(-S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" "${cuda_args[@]}"
                -DTUNEBENCH_PYTHON="$PYTHON" -DTUNEBENCH_BUILD_TESTS=$( [ "$MODE" = test ] && echo ON || echo OFF ))
    say "configuring and building in $BUILD"
    cmake "${args[@]}" >/dev/null
    # 2 GB per compile job: LibTorch translation units are heavy.
    local jobs
    jobs=$(( $(awk '/MemAvailable/ {print int($2/2000000)}' /proc/meminfo) ))
    [ "$jobs" -ge 1 ] || jobs=1
    [ "$jobs" -le "$(nproc)" ] || jobs=$(nproc)
    cmake --build "$BUILD" -j "$jobs"
}

run_demo() {
    say "demo in $DEMO"
    "$BUILD/app/cli/tunebench-cli" init-demo "$DEMO" >/dev/null
    if [ -x "$BUILD/app/gui/tunebench" ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
        say "opening the workbench"
        exec "$BUILD/app/gui/tunebench" --demo "$DEMO"
    fi
    say "no display: running the demo headless through tunebench-cli"
    local cli="$BUILD/app/cli/tunebench-cli" q="Tunebench 是什么？"
    echo "Question: $q"
    printf 'Untrained demo model: '
    "$cli" generate --model_name_or_path "$DEMO/model" --prompt "$q" --do_sample false --max_new_tokens 32
    say "training a LoRA adapter on the demo dataset ($DEMO/train_lora.yaml)"
    "$cli" train "$DEMO/train_lora.yaml"
    printf 'With the trained adapter: '
    "$cli" generate --model_name_or_path "$DEMO/model" --adapter_name_or_path "$DEMO/lora" \
        --prompt "$q" --do_sample false --max_new_tokens 64
    say "loss curve: $DEMO/lora/training_loss.svg; chat with it: $cli chat --model_name_or_path $DEMO/model --adapter_name_or_path $DEMO/lora"
}

install_packages
setup_python
build
case "$MODE" in
    run) run_demo ;;
    test)
        say "running the test suite"
        cd "$BUILD"
        # --no-tests=error: a suite that finds no tests has failed.
        QT_QPA_PLATFORM=offscreen ctest --output-on-failure --no-tests=error -j "$(nproc)"
        say "fuzzing every file reader briefly (tests/fuzz; the campaign: --runs 10000000)"
        "$ROOT/tests/fuzz/run_fuzzers.sh" --seconds "${TUNEBENCH_FUZZ_SECONDS:-10}" --build "$ROOT/build-fuzz"
        ;;
esac
