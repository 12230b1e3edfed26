#!/usr/bin/env bash
# neat_packing through the trainer on CUDA (bf16, the demo packed into rows): flash attention's
# variable-length form (the default) against the block-diagonal mask of the ATen references
# (TUNEBENCH_TRAINING_KERNELS=0) — 30-step loss curves within bf16 tolerance (3e-2 relative), and
# the model learns; MLP-only gradient checkpointing on top gives the same curve (1e-2).
# Usage: tests/gpu/run_packing_checks.sh [OUT_DIR]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-gpu-packing}
source "$ROOT/tests/gpu/build_cuda.sh"
build_cuda "$ROOT" "$OUT" tunebench-cli || exit 1
CLI=$OUT/build/app/cli/tunebench-cli
D=$OUT/demo
rm -rf "$D" "$OUT"/neat-*
"$CLI" init-demo "$D" >/dev/null 2>"$OUT/init.log" || { echo "FAIL init-demo"; exit 1; }
status=0
train() {  # NAME KERNELS key=value...: 30 neat-packed LoRA steps of the demo on CUDA in bf16
    local name=$1 kernels=$2
    shift 2
    TUNEBENCH_TRAINING_KERNELS=$kernels "$CLI" train "$D/train_lora.yaml" neat_packing=true bf16=true device=cuda \
        max_steps=30 logging_steps=1 save_steps=1000 output_dir="$OUT/neat-$name" "$@" > "$OUT/neat-$name.log" 2>&1
    if [ $? -ne 0 ]; then echo "FAIL neat-packed training ($name) exits 0"; status=1; fi
}
train varlen 1
train mask 0
train varlen-mlp 1 gradient_checkpointing=true gradient_checkpointing_scope=mlp
python3 - "$OUT" <<'P' || status=1
import json, sys
out = sys.argv[1]
def losses(name):
    try:
        return [json.loads(l)["loss"] for l in open(f"{out}/neat-{name}/trainer_log.jsonl") if '"loss"' in l]
    except OSError:
        return []
def compare(a, b, tol, what):
    ok = len(a) == len(b) == 30
    rel = max(abs(x - y) / abs(y) for x, y in zip(a, b)) if ok else float("nan")
    ok = ok and rel <= tol
    print(("OK   " if ok else "FAIL ") + f"{what}: 30-step losses max rel diff {rel:.2g} (tolerance {tol})")
    return ok
v, m, c = losses("varlen"), losses("mask"), losses("varlen-mlp")
ok = compare(v, m, 3e-2, "neat packing on CUDA bf16, flash varlen vs the masked reference")
ok &= compare(c, v, 1e-2, "neat packing with MLP-only checkpointing vs none")
learns = len(v) == 30 and v[-1] < v[0] / 2
print(("OK   " if learns else "FAIL ") + f"neat-packed training learns: loss {v[0] if v else float('nan'):.3f} -> {v[-1] if v else float('nan'):.3f}")
sys.exit(0 if ok and learns else 1)
P
exit $status
