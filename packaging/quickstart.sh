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
                libgtest-dev libpcre2-dev libicu-dev
                qt6-base-dev qt6-charts-dev libqt6opengl6-dev libquazip1-qt6-dev qt6-l10n-tools qt6-translations-l10n xvfb xauth
                fonts-wqy-microhei)  # a CJK font: Chinese labels and offscreen screenshots
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
            -r "$ROOT/packaging/requirements-reference-nodeps.txt" || die "pip could not install llamafactory"
    fi
    echo "$stamp" > "$VENV/.tunebench-stamp-$MODE"
}

build() {
    local prefix
    prefix=$("$PYTHON" -c 'import torch.utils; print(torch.utils.cmake_prefix_path)' 2>/dev/null) \
        || die "$PYTHON cannot import torch"
    # nvcc where the CUDA toolkit installs it, when it is not on PATH.
    command -v nvcc >/dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && export PATH="/usr/local/cuda/bin:$PATH"; }
    command -v nvcc >/dev/null || say "no CUDA toolkit (nvcc): building without Tunebench's CUDA kernels"
    local args=(-S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix"
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
        ;;
esac
