#!/usr/bin/env bash
# End-to-end checks of tunebench-cli as a user runs it: stdout carries only the answer, errors
# are one line on stderr with a non-zero exit. Usage: cli_test.sh CLI SHARED_DIR
set -u
CLI=$1
SHARED=$2
M=$SHARED/models
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0
check() {  # check NAME CONDITION-EXIT-CODE
    if [ "$2" -eq 0 ]; then echo "ok   $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi
}

out=$("$CLI" generate --model_name_or_path "$M/stories260K-hf" --template empty --do_sample false --max_new_tokens 40 2>"$TMP/err")
[[ "$out" == "Once upon a time, there was a little girl named Lily. She loved to play outside in the park."* ]]
check "generate: stories260K story on stdout" $?
grep -q "Once upon" "$TMP/err"; [ $? -ne 0 ]
check "generate: logs stay on stderr" $?

out=$("$CLI" tokenize --model_name_or_path "$M/qwen3-tokenizer" --text "Hello, world! 你好，世界。")
[ "$out" = "9707 11 1879 0 220 108386 3837 99489 1773" ]
check "tokenize: qwen3 ids" $?
out=$("$CLI" tokenize --model_name_or_path "$M/chatglm3-6b-tokenizer" --add_special_tokens --text "你好")
[ "$out" = "64790 64792 36474 54591" ]
check "tokenize: chatglm3 with [gMASK] sop" $?

out=$("$CLI" inspect --model_name_or_path "$M/stories260K-hf")
echo "$out" | grep -q "LLaMA" && echo "$out" | grep -q "260032"
check "inspect: architecture and parameters" $?

cat > "$TMP/chat.yaml" <<YAML
model_name_or_path: $M/stories260K-hf
template: empty
do_sample: false
max_new_tokens: 8
temperature: 0.5
YAML
out=$(printf 'Once upon a time\n/clear\nTom and his dog\n/exit\nnever read\n' | "$CLI" chat "$TMP/chat.yaml" max_new_tokens=6 2>/dev/null)
[ "$(echo "$out" | wc -l)" -eq 2 ]
check "chat: one reply line per stdin turn, /clear and /exit" $?

# a crash prints the signal and a backtrace for the report (core/crash_report.h), then dies as before
mkfifo "$TMP/chat-in"
"$CLI" chat "$TMP/chat.yaml" < "$TMP/chat-in" > /dev/null 2> "$TMP/crash.err" &
pid=$!
exec 9> "$TMP/chat-in"  # held open: the chat waits for a turn
for _ in $(seq 300); do grep -q "model:" "$TMP/crash.err" && break; sleep 0.1; done
kill -SEGV $pid
wait $pid
rc=$?
exec 9>&-
[ $rc -eq 139 ] && grep -q "tunebench-cli crashed (Segmentation fault" "$TMP/crash.err" && grep -q "tunebench-cli(" "$TMP/crash.err"
check "crash: SIGSEGV prints the signal and a backtrace, and the exit status stays 139" $?

"$CLI" init-demo "$TMP/demo" >/dev/null 2>&1 && "$CLI" init-demo "$TMP/demo" >/dev/null 2>&1
check "init-demo: writes the demo, and again (idempotent)" $?
out=$("$CLI" generate --model_name_or_path "$TMP/demo/model" --prompt "你好" --do_sample false --max_new_tokens 5 2>"$TMP/err")
check "generate: the demo model answers" $?
grep -q "template: chatglm3" "$TMP/err"
check "generate: demo template detected as chatglm3" $?
out=$("$CLI" tokenize --model_name_or_path "$TMP/demo/model" --add_special_tokens --text "Tunebench")
[[ "$out" =~ ^[0-9]+\ [0-9]+\ [0-9] ]]
check "tokenize: demo tokenizer" $?

# training, export and conversion on the demo
D="$TMP/demo"
"$CLI" train "$D/train_lora.yaml" num_train_epochs=30 rope_scaling=linear output_dir="$TMP/lora" 2>"$TMP/err" >/dev/null
check "train: the demo YAML trains a LoRA" $?
grep -q "ignoring keys Tunebench does not use: rope_scaling" "$TMP/err"
check "train: one warning lists the LLaMA-Factory keys it ignores" $?
"$CLI" train "$D/train_lora.yaml" mystery_key=1 output_dir="$TMP/mystery" 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && grep -q "unknown argument mystery_key=1" "$TMP/err" && [ ! -e "$TMP/mystery" ]
check "train: a key nobody knows is refused before anything is written" $?
[ -f "$TMP/lora/adapter_model.safetensors" ] && [ -f "$TMP/lora/training_loss.svg" ] && [ -f "$TMP/lora/trainer_log.jsonl" ]
check "train: adapter, loss plot and log written" $?
out=$("$CLI" generate --model_name_or_path "$D/model" --adapter_name_or_path "$TMP/lora" --prompt "如何开始训练？" --do_sample false 2>/dev/null)
[ "$out" = "在“训练”页选择模型文件夹和数据集，检查参数，然后点击“开始”。" ]
check "train: the adapter answers a trained question with its trained answer" $?
"$CLI" export --model_name_or_path "$D/model" --adapter_name_or_path "$TMP/lora" --export_dir "$TMP/merged" 2>"$TMP/err"
out2=$("$CLI" generate --model_name_or_path "$TMP/merged" --prompt "如何开始训练？" --do_sample false 2>/dev/null)
[ "$out2" = "$out" ]
check "export: the merged model answers like base + adapter" $?
"$CLI" export --model_name_or_path "$D/model" --adapter_name_or_path "$TMP/lora" --export_dir "$TMP/gguf" \
    --export_format gguf --export_gguf_type F32 2>"$TMP/err" && [ -f "$TMP/gguf/Modelfile" ]
check "export: GGUF with an Ollama Modelfile, checked after writing" $?
out3=$("$CLI" generate --model_name_or_path "$TMP/gguf" --prompt "如何开始训练？" --do_sample false 2>/dev/null)
[ "$out3" = "$out" ]
check "export: Tunebench chats with its own GGUF and it answers like base + adapter" $?
"$CLI" export --model_name_or_path "$D/model" --adapter_name_or_path "$TMP/lora" --export_dir "$TMP/nf4" \
    --export_quantization_bit 4 2>"$TMP/err" && grep -q "quantized to NF4 on 3 prompts.*: ok" "$TMP/err" &&
    "$CLI" generate --model_name_or_path "$TMP/nf4" --prompt "如何开始训练？" --do_sample false >/dev/null 2>&1
check "export: a bitsandbytes 4-bit export, checked, then chatted with" $?
"$CLI" bench --compare --model_name_or_path "$D/model" --adapter_name_or_path "$TMP/lora" --compare_with "$TMP/gguf" \
    --device cpu --batch_sizes 1 --ttft_prompts 16 --prompt_len 8 --new_tokens 4 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && [ "$(grep -c -E '^(base |base \+ adapter|merged |merged, int8|merged, NF4|gguf )' "$TMP/out")" -eq 6 ]
check "bench --compare: one row per variant (base, adapter, merged, int8, NF4, the GGUF)" $?
"$CLI" predict --model_name_or_path "$D/model" --adapter_name_or_path "$TMP/lora" --csv "$SHARED/datasets/qizhen/drug_indication_eval.csv" \
    --output "$TMP/pred.csv" --prompt_template "{instruction}" --max_new_tokens 4 2>"$TMP/err" >/dev/null
grep -q "done: 94 rows" "$TMP/err" && head -1 "$TMP/pred.csv" | grep -q ",prediction"
check "predict: one prediction per CSV row, input columns kept" $?
"$CLI" predict --model_name_or_path "$D/model" --adapter_name_or_path "$TMP/lora" --csv "$SHARED/datasets/qizhen/drug_indication_eval.csv" \
    --output "$TMP/pred.csv" --prompt_template "{instruction}" --max_new_tokens 4 2>"$TMP/err" >/dev/null
grep -q "resumed after 94" "$TMP/err"
check "predict: running again resumes (nothing left to do)" $?
cp "$TMP/pred.csv" "$TMP/pred.before"
"$CLI" predict --model_name_or_path "$D/model" --csv "$SHARED/datasets/qizhen/drug_indication_eval.csv" \
    --output "$TMP/pred.csv" --prompt_template "{instruction}" --max_new_tokens 4 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && grep -q "another job" "$TMP/err" && cmp -s "$TMP/pred.csv" "$TMP/pred.before"
check "predict: the same output with another adapter is refused, the rows kept" $?
echo "# my notes" >"$TMP/notes.md"
"$CLI" predict --model_name_or_path "$D/model" --csv "$SHARED/datasets/qizhen/drug_indication_eval.csv" \
    --output "$TMP/notes.md" --prompt_template "{instruction}" 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && [ "$(cat "$TMP/notes.md")" = "# my notes" ]
check "predict: a file it did not write is never overwritten" $?
"$CLI" train "$D/train_lora.yaml" stage=dpo 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && grep -q "stage 'dpo' is not supported" "$TMP/err"
check "train: unsupported stage is a clear error" $?
"$CLI" train "$D/train_lora.yaml" output_dir="$TMP/lora" overwrite_output_dir=false 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && grep -q "resume_from_checkpoint" "$TMP/err"
check "train: an earlier run is not silently resumed or overwritten" $?
# Ctrl-C once: the run stops, saves what it has (resumable) and exits 130 — not 0, it did not finish
"$CLI" train "$D/train_lora.yaml" output_dir="$TMP/stopped" num_train_epochs=100000 logging_steps=1 save_steps=100000 \
    2>"$TMP/stop.log" >/dev/null &
pid=$!
for _ in $(seq 1 300); do grep -q "^.*step 2/" "$TMP/stop.log" && break; sleep 0.1; done
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] && ls "$TMP/stopped"/checkpoint-* >/dev/null 2>&1 && grep -q "stopped at step" "$TMP/stop.log"
check "train: Ctrl-C saves a checkpoint and exits 130 (got $rc)" $?
"$CLI" train "$D/train_lora.yaml" output_dir="$TMP/nan" learning_rate=nan 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && grep -q "learning_rate should be a finite number" "$TMP/err" && [ ! -e "$TMP/nan" ]
check "train: learning_rate=nan refused before anything is written" $?
"$CLI" convert --csv "$SHARED/datasets/xfg_paper/testB.csv" --output "$TMP/data/papers.json" --instruction "Classify the paper" \
    --input_template "title:{title},abstract:{abstract}" --output_template "{uuid}" --dataset_dir "$TMP/data" --dataset_name papers 2>"$TMP/err"
grep -q "converted 2000 rows" "$TMP/err" && grep -q '"papers"' "$TMP/data/dataset_info.json"
check "convert: CSV → alpaca JSON, registered" $?
"$CLI" convert --csv "$SHARED/datasets/xfg_paper/testB.csv" --output "$TMP/x.json" --instruction "{titel}" 2>"$TMP/err"
[ $? -ne 0 ] && grep -q "column 'titel' is not in the CSV" "$TMP/err" && [ ! -e "$TMP/x.json" ]
check "convert: unknown column named, nothing written" $?

"$CLI" generate --model_name_or_path "$TMP/missing" --prompt x 2>"$TMP/err" >/dev/null
rc=$?
[ $rc -ne 0 ] && [ "$(wc -l <"$TMP/err")" -eq 1 ] && grep -q "$TMP/missing" "$TMP/err"
check "bad input: missing model folder → one line naming it, non-zero exit" $?

mkdir -p "$TMP/bad" && cp "$M/stories260K-hf/config.json" "$TMP/bad/" && sed -i 's/"llama"/"mamba"/' "$TMP/bad/config.json"
"$CLI" generate --model_name_or_path "$TMP/bad" 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && grep -q "model_type 'mamba' is not supported" "$TMP/err" && grep -q "hint:" "$TMP/err"
check "bad input: unknown model_type" $?

mkdir -p "$TMP/notok" && cp "$M/stories260K-hf/config.json" "$M/stories260K-hf/model.safetensors" "$TMP/notok/"
"$CLI" generate --model_name_or_path "$TMP/notok" 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && grep -q "no tokenizer" "$TMP/err"
check "bad input: missing tokenizer" $?

"$CLI" chat "$TMP/chat.yaml" top_p=7 </dev/null 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && grep -q "top_p" "$TMP/err"
check "bad input: invalid override names the key" $?

"$CLI" bench --model_name_or_path "$M/stories260K-hf" --device cpu --batch_sizes 1,4 --ttft_prompts 64 --prompt_len 16 \
    --new_tokens 8 --json "$TMP/bench.json" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && grep -q "decode, batch 4" "$TMP/out" && python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
assert [d['batch'] for d in j['decode']] == [1, 4] and all(d['tokens_per_s'] > 0 for d in j['decode'])
assert j['ttft'][0]['prompt'] == 64 and j['ttft'][0]['seconds'] > 0 and j['load_s'] > 0
" "$TMP/bench.json"
check "bench: table and JSON with load, first-token time and decode rates per batch" $?
"$CLI" bench --model_name_or_path "$M/stories260K-hf" --device cpu --batch_sizes 1,0 2>"$TMP/err" >/dev/null
[ $? -ne 0 ] && grep -q "batch_sizes" "$TMP/err"
check "bench: a bad batch size names the key" $?

printf '%s\n' '{"predict": "北京协和医院就诊", "label": "北京协和医院看病"}' > "$TMP/pred.jsonl"
"$CLI" score "$TMP/pred.jsonl" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
assert abs(j['predict_rouge-1'] - 50.0) < 1e-3 and 'predict_rouge-1_characters' in j, j
" "$TMP/out"
check "score: ROUGE over jieba words beside the character ROUGE" $?
TUNEBENCH_JIEBA_DIR="$TMP/no-jieba" "$CLI" score "$TMP/pred.jsonl" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 0 ] && grep -q "no-jieba" "$TMP/err" && python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
assert 'predict_rouge-1' not in j and 'predict_rouge-1_characters' in j and 'no-jieba' in j['note'], j
" "$TMP/out"
check "score: without jieba's data only the character ROUGE, and a warning naming where it looked" $?

echo "$fails failure(s)"
[ $fails -eq 0 ]
