#!/usr/bin/env bash
# Every GPU check and benchmark of the project, in one command, on a CUDA machine:
#   1. packaging/quickstart.sh run (the installed torch, no variable set) builds everything and
#      runs the headless demo; then `tunebench-cli generate --device cuda`;
#   2. the CUDA kernels against their ATen references, with timings (tunebench_gpu_tool kernels);
#   3. logits vs transformers (fp32, bf16) and batch-1 decode tokens/s vs transformers (compare.py);
#   3b. inference speed (TTFT, decode at batch 1/8/64) vs transformers and a cuBLAS-graph chain, and
#      batched = one-row-at-a-time predictions on CUDA (bench_inference.py);
#      profile (by hand, after inference): each kernel of one decode step under Nsight Compute;
#   3c. NF4 and int8 decode vs our bf16 decode on the same ChatGLM2-6B-shaped weights
#      (bench_quantized.py: `tunebench-cli bench --compare`; after inference);
#   4. adapter interchange, 20-step loss curves and LoRA/QLoRA training speed vs PEFT (peft_compare.py);
#   5. the demo on CUDA and CPU, flash_attn auto vs disabled (run_demo_checks.sh), and neat packing
#      through the trainer: flash varlen vs the masked reference (run_packing_checks.sh);
#   6. CUDA out of memory while training: a clear error, the last checkpoint intact (run_oom_check.sh);
#   7. with several GPUs: data-parallel training speed on 1…N GPUs and its loss curve (ddp_scaling.py).
# Writes OUT/results.json and OUT/results.md (device, date, each figure beside its reference
# measured in the same run) and each step's log. Exit 1 when a step failed.
# Usage: [STORIES_DIR=.../stories260K-hf] [TB_SKIP_BENCH=1] tests/gpu/run_all.sh [OUT_DIR] [STEP...]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-gpu-all}
shift || true
GPUS=$(nvidia-smi -L 2>/dev/null | grep -c "^GPU")
# ddp (several GPUs only): data-parallel tokens/s on 1…N GPUs and the same-global-batch loss curve
STEPS=${*:-"quickstart kernels logits chatglm6b inference quantized training demo packing oom$([ "${GPUS:-0}" -gt 1 ] && echo " ddp")"}
export STORIES_DIR=${STORIES_DIR:-$ROOT/../shared/models/stories260K-hf}
mkdir -p "$OUT"
BUILD=$OUT/quickstart-build
export TB_GPU_BUILD=$BUILD
TOOL=$BUILD/tests/gpu/tunebench_gpu_tool
CLI=$BUILD/app/cli/tunebench-cli
: > "$OUT/steps.txt"

step() {  # step NAME COMMAND...: log to OUT/NAME.log, record the exit code
    local name=$1
    shift
    echo "== $name: $*"
    local t0=$SECONDS
    "$@" > "$OUT/$name.log" 2>&1
    local rc=$?
    echo "$name $rc $((SECONDS - t0))" >> "$OUT/steps.txt"
    tail -n 25 "$OUT/$name.log"
    echo "== $name: exit $rc in $((SECONDS - t0)) s"
}

for s in $STEPS; do
    case $s in
        quickstart)
            step quickstart env TUNEBENCH_BUILD_DIR="$BUILD" TUNEBENCH_DEMO_DIR="$OUT/demo" "$ROOT/packaging/quickstart.sh" run
            step generate_cuda "$CLI" generate --model_name_or_path "$OUT/demo/model" --adapter_name_or_path "$OUT/demo/lora" \
                --device cuda --prompt "Tunebench 是什么？" --do_sample false --max_new_tokens 32 ;;
        kernels) step kernels "$TOOL" kernels ;;
        logits) step logits python3 "$ROOT/tests/gpu/compare.py" "$TOOL" "$OUT/compare" ;;
        chatglm6b) step chatglm6b python3 "$ROOT/tests/gpu/compare_chatglm6b.py" "$BUILD" "$OUT/chatglm6b" ;;
        inference) step inference python3 "$ROOT/tests/gpu/bench_inference.py" "$CLI" "$OUT/inference" "$OUT/demo" ;;
        quantized) step quantized python3 "$ROOT/tests/gpu/bench_quantized.py" "$CLI" "$OUT/inference/chatglm2-6b-shape" "$OUT/quantized" ;;
        profile) step profile "$ROOT/tests/gpu/profile_decode.sh" "$TOOL" "$OUT/inference/chatglm2-6b-shape" "$OUT/profile" ;;
        training) step training python3 "$ROOT/tests/gpu/peft_compare.py" "$TOOL" "$CLI" "$OUT/training" "$STORIES_DIR" ;;
        demo) step demo "$ROOT/tests/gpu/run_demo_checks.sh" "$OUT/demo-checks" ;;
        packing) step packing "$ROOT/tests/gpu/run_packing_checks.sh" "$OUT/packing-checks" ;;
        ddp) step ddp python3 "$ROOT/tests/gpu/ddp_scaling.py" "$CLI" "$OUT/ddp" ;;
        oom) step oom "$ROOT/tests/gpu/run_oom_check.sh" "$CLI" "$OUT/oom" ;;
        *) echo "unknown step $s" >&2; exit 2 ;;
    esac
done
python3 "$ROOT/tests/gpu/summarize.py" "$OUT"
