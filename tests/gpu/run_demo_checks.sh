#!/usr/bin/env bash
# The embedded demo on a CUDA machine (issue 4, item 8 "Train works at once on any machine"):
# init-demo writes the demo (its tokenizer is shipped, so SentencePiece's trainer never runs), the
# demo YAML trains on CUDA and on the CPU, and each adapter answers a trained question with its
# trained answer; a second run into the same folder starts over. Also the attention kernel per model: flash_attn=disabled (eager math) and auto
# (fused SDPA) give the same greedy text from the adapter on CUDA.
# Usage: tests/gpu/run_demo_checks.sh [OUT_DIR]
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/build-gpu-demo}
source "$ROOT/tests/gpu/build_cuda.sh"
build_cuda "$ROOT" "$OUT" tunebench-cli || exit 1
CLI=$OUT/build/app/cli/tunebench-cli
D=$OUT/demo
rm -rf "$D" "$OUT"/lora-*
status=0
check() { if [ "$1" -eq 0 ]; then echo "OK   $2"; else echo "FAIL $2"; status=1; fi; }

"$CLI" init-demo "$D" >/dev/null 2>"$OUT/init.log"
check $? "init-demo writes the demo ($(ls "$D/model" | tr '\n' ' '))"
QUESTION="如何开始训练？"
ANSWER="在“训练”页选择模型文件夹和数据集，检查参数，然后点击“开始”。"
for dev in cuda cpu; do
    "$CLI" train "$D/train_lora.yaml" device=$dev output_dir="$OUT/lora-$dev" >/dev/null 2>"$OUT/train-$dev.log"
    rc=$?
    check $rc "train on $dev: $(python3 -c "import json;r=json.load(open('$OUT/lora-$dev/train_results.json'));print(f\"loss {r['train_loss']:.3f}, {r['train_runtime']:.1f} s\")")"
    out=$("$CLI" generate --model_name_or_path "$D/model" --adapter_name_or_path "$OUT/lora-$dev" --device $dev \
          --prompt "$QUESTION" --do_sample false 2>/dev/null)
    [ "$out" = "$ANSWER" ]
    check $? "adapter trained on $dev answers: $out"
done
for kernel in auto disabled; do
    "$CLI" generate --model_name_or_path "$D/model" --adapter_name_or_path "$OUT/lora-cuda" --device cuda \
        --flash_attn $kernel --prompt "$QUESTION" --do_sample false > "$OUT/generate-$kernel.txt" 2>"$OUT/generate-$kernel.log"
    rc=$?
    [ $rc -eq 0 ] && [ -s "$OUT/generate-$kernel.txt" ]
    check $? "generate with flash_attn=$kernel on CUDA (exit $rc, $(wc -c < "$OUT/generate-$kernel.txt") bytes)"
done
# Only meaningful when both answered (two failures would compare equal).
[ -s "$OUT/generate-auto.txt" ] && cmp -s "$OUT/generate-auto.txt" "$OUT/generate-disabled.txt"
check $? "flash_attn=auto and disabled give the same greedy text on CUDA"
# A second run into the same output_dir (the demo YAML has overwrite_output_dir: true), with the
# leftover of a killed writer there: it starts over and removes the leftover. Linked with the pip
# LibTorch, std::regex used to crash this path (SIGSEGV right after "trainable params").
touch "$OUT/lora-cuda/adapter_model.safetensors.tmp-999999999-1"
"$CLI" train "$D/train_lora.yaml" device=cuda output_dir="$OUT/lora-cuda" max_steps=20 >/dev/null 2>"$OUT/train-again.log"
rc=$?
[ $rc -eq 0 ] && [ ! -e "$OUT/lora-cuda/adapter_model.safetensors.tmp-999999999-1" ]
check $? "a second run into the same output_dir starts over and removes a killed writer's leftover (exit $rc)"
exit $status
