#!/usr/bin/env bash
# Tunebench quick start — the only two commands a new user needs (Debian 12, root or sudo):
#   packaging/quickstart.sh run    install what is missing, build, open the workbench on the demo
#                                  (headless: the same demo through tunebench-cli)
#   packaging/quickstart.sh test   install what is missing, build, run the whole test suite
# Both are idempotent. A CUDA build: TORCH_DIR=/path/to/libtorch/share/cmake/Torch (or
# CMAKE_PREFIX_PATH=...) packaging/quickstart.sh test  — apt's CPU LibTorch is then not installed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${TUNEBENCH_BUILD_DIR:-$ROOT/build}
DEMO=${TUNEBENCH_DEMO_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/tunebench/demo}
MODE=${1:-}

usage() { echo "usage: $0 run|test" >&2; exit 2; }
[ "$MODE" = run ] || [ "$MODE" = test ] || usage

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_packages() {
    local pkgs=(build-essential cmake ninja-build pkg-config
                libsentencepiece-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
                libgtest-dev libpcre2-dev libicu-dev
                qt6-base-dev qt6-charts-dev libqt6opengl6-dev libquazip1-qt6-dev qt6-l10n-tools qt6-translations-l10n xvfb xauth
                fonts-wqy-microhei)  # a CJK font: Chinese labels and offscreen screenshots
    if [ -z "${TORCH_DIR:-}" ] && [ -z "${CMAKE_PREFIX_PATH:-}" ]; then
        pkgs+=(libtorch-dev libopenblas0-pthread)  # openblas: LibTorch's fp32 matmuls ~7x faster
    fi
    local missing=()
    for p in "${pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
    local args=(-S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release)
    [ -n "${TORCH_DIR:-}" ] && args+=("-DTorch_DIR=$TORCH_DIR")
    [ -n "${CMAKE_PREFIX_PATH:-}" ] && args+=("-DCMAKE_PREFIX_PATH=$CMAKE_PREFIX_PATH")
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
build
case "$MODE" in
    run) run_demo ;;
    test)
        say "running the test suite"
        cd "$BUILD"
        QT_QPA_PLATFORM=offscreen ctest --output-on-failure -j "$(nproc)"
        ;;
esac
