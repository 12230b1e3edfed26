#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (tests/fuzz/CMakeLists.txt) and fuzzes each.
#   tests/fuzz/run_fuzzers.sh [--seconds N | --runs N] [--jobs J] [--build DIR] [TARGET...]
# --seconds N: each target for N seconds (CI: a short run); --runs N: each for N executions
# (the campaign: 10000000). New corpus entries stay in DIR/corpus/<target> (the committed seeds
# are read, never written); a crash is copied to tests/fuzz/crashes/<target>/ and fails the run,
# and from then on the replay test in ctest runs it.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BUILD=$HERE/../../build-fuzz
SECONDS_EACH=""
RUNS=""
JOBS=1
TARGETS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) SECONDS_EACH=$2; shift 2 ;;
        --runs) RUNS=$2; shift 2 ;;
        --jobs) JOBS=$2; shift 2 ;;
        --build) BUILD=$2; shift 2 ;;
        -h|--help) sed -n 2,8p "$0"; exit 0 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
[ -n "$SECONDS_EACH$RUNS" ] || SECONDS_EACH=20
if [ ${#TARGETS[@]} -eq 0 ]; then
    read -r -a TARGETS <<<"$(sed -n 's/^set(TB_FUZZ_TARGETS \(.*\)/\1/p;s/^    \(.*\))$/\1/p' "$HERE/targets.cmake" | tr '\n' ' ')"
fi
command -v clang++ >/dev/null || { echo "clang++ is needed (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }
cmake -S "$HERE" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
# tmpfs: every execution writes its input as a file
[ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=${TUNEBENCH_FUZZ_TMP:-/dev/shm}
export TMPDIR=${TMPDIR:-/tmp}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for t in "${TARGETS[@]}"; do
    work=$BUILD/corpus/$t
    artifacts=$BUILD/artifacts/$t
    mkdir -p "$work" "$artifacts"
    limit=(-max_total_time="${SECONDS_EACH:-0}")
    [ -n "$RUNS" ] && limit=(-runs="$RUNS")
    log=$BUILD/fuzz_$t.log
    parallel=()
    # several processes share the corpus; libFuzzer writes their logs as fuzz-N.log in the cwd
    [ "$JOBS" -gt 1 ] && parallel=(-jobs="$JOBS" -workers="$JOBS") && rm -f "$BUILD"/fuzz-*.log
    # 2 GB RSS, 512 MB per allocation: a damaged file must not make a loader allocate more.
    if (cd "$BUILD" && "$BUILD/fuzz_$t" "${limit[@]}" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=20 \
            -max_len=65536 "${parallel[@]}" -artifact_prefix="$artifacts/" -print_final_stats=1 \
            "$work" "$HERE/corpus/$t" >"$log" 2>&1); then
        [ "$JOBS" -gt 1 ] && cat "$BUILD"/fuzz-*.log >>"$log"
        runs=$(grep -h 'stat::number_of_executed_units' "$log" | awk '{s+=$2} END {print s+0}')
        echo "fuzz $t: ok, $runs executions, corpus $(ls "$work" | wc -l) inputs"
    else
        status=1
        [ "$JOBS" -gt 1 ] && cat "$BUILD"/fuzz-*.log >>"$log"
        echo "fuzz $t: FAILED (log: $log)"
        grep -m5 -E 'ERROR|SUMMARY|deadly|Test unit written' "$log" || tail -20 "$log"
        mkdir -p "$HERE/crashes/$t"
        for f in "$artifacts"/*; do [ -f "$f" ] && cp "$f" "$HERE/crashes/$t/"; done
    fi
done
exit $status
