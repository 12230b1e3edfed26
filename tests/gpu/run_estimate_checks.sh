#!/usr/bin/env bash
# The up-front estimates on a CUDA machine: `tunebench-cli estimate` (memory + time) next to the
# measured train_runtime of the same run, on CUDA fp32, CUDA bf16 with long sequences, and CPU.
# With CHATGLM_TOKENIZER set (../shared/models/chatglm3-6b-tokenizer) also a full-size ChatGLM3-6B
# LoRA run (random bf16 weights from make_random_chatglm.py, batch 4 × 1024 packed, gradient checkpointing).
# Fails when the device listing / CUDA memory statistics fail or an estimate is off by more than 3×.
# Usage: STORIES_DIR=.../stories260K-hf ADGEN=.../datasets/adgen/dev.jsonl [CHATGLM_TOKENIZER=...] \
#        tests/gpu/run_estimate_checks.sh [OUT_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-gpu-estimate}
: "${STORIES_DIR:?set STORIES_DIR to the stories260K-hf folder (../shared/models/stories260K-hf)}"
: "${ADGEN:?set ADGEN to ../shared/datasets/adgen/dev.jsonl}"
source "$ROOT/tests/gpu/build_cuda.sh"
build_cuda "$ROOT" "$OUT" tunebench-cli
CLI=$OUT/build/app/cli/tunebench-cli
DATA=$OUT/data
mkdir -p "$DATA"
cp "$ADGEN" "$DATA/dev.jsonl"
echo '{"adgen": {"file_name": "dev.jsonl"}}' > "$DATA/dataset_info.json"
BASE=(dataset=adgen dataset_dir="$DATA" finetuning_type=lora learning_rate=1e-3 logging_steps=20 save_steps=1000
      overwrite_output_dir=true output_dir="$OUT/run")
SMALL="model_name_or_path=$STORIES_DIR template=llama2 cutoff_len=256 max_samples=400 per_device_train_batch_size=8 num_train_epochs=2"
CASES=("$SMALL device=cuda" "$SMALL device=cuda bf16=true max_samples=1070 cutoff_len=1024 num_train_epochs=3" "$SMALL device=cpu")
if [ -n "${CHATGLM_TOKENIZER:-}" ]; then
    BIG=$OUT/chatglm3-6b-random
    [ -f "$BIG/model.safetensors" ] || python3 "$ROOT/tests/gpu/make_random_chatglm.py" "$CHATGLM_TOKENIZER" "$BIG"
    CASES+=("model_name_or_path=$BIG template=chatglm3 device=cuda bf16=true packing=true cutoff_len=1024 per_device_train_batch_size=4 lora_target=query_key_value gradient_checkpointing=true num_train_epochs=1 learning_rate=1e-4")
fi
status=0
for cfg in "${CASES[@]}"; do
    # shellcheck disable=SC2086
    est=$("$CLI" estimate "${BASE[@]}" $cfg 2>/dev/null | grep '^time:')
    rm -rf "$OUT/run"
    # shellcheck disable=SC2086
    "$CLI" train "${BASE[@]}" $cfg >"$OUT/train.log" 2>&1 || { tail -20 "$OUT/train.log"; status=1; continue; }
    measured=$(python3 -c "import json;print(json.load(open('$OUT/run/train_results.json'))['train_runtime'])")
    estimated=$(echo "$est" | awk '{print $2}')
    ratio=$(python3 -c "print(round($estimated / $measured, 2))")
    ok=$(python3 -c "print('OK' if 1/3 <= $ratio <= 3 else 'FAIL')")
    [ "$ok" = OK ] || status=1
    echo "${cfg#"$SMALL"} [$est]: estimated ${estimated} s, measured ${measured} s, ratio ${ratio} $ok"
done
exit $status
