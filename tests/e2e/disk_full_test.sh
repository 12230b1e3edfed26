#!/usr/bin/env bash
# A full disk while saving (issue 16): training, export and predict write onto a 4 MB tmpfs that
# is filled up under them. Each must stop with a clear error, leave what was there before byte
# for byte (checkpoints, the adapter, the earlier export, the finished CSV rows) and no visible
# half-written file; with space again the same command finishes.
# Usage: disk_full_test.sh CLI SHARED_DIR. Runs itself in a private mount namespace (unshare -m)
# so the tmpfs is seen by nothing else; that needs root or CAP_SYS_ADMIN (CI and this machine).
set -u
if [ -z "${TB_IN_MOUNT_NS:-}" ]; then
    exec unshare -m env TB_IN_MOUNT_NS=1 "$0" "$@"
fi
CLI=$1
SHARED=$2
W=$(mktemp -d)
trap 'umount "$W/disk" 2>/dev/null; rm -rf "$W"' EXIT
D=$W/disk
mkdir -p "$D"
mount -t tmpfs -o size=4M tmpfs "$D" || { echo "FAIL: cannot mount a tmpfs (needs root or CAP_SYS_ADMIN)"; exit 1; }
"$CLI" init-demo "$W/demo" >/dev/null 2>&1 || { echo "FAIL: init-demo"; exit 1; }
fails=0
check() { if [ "$2" -eq 0 ]; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi; }
# Fills the disk, then frees $1 KB so the next write gets that far and no further.
fill_leaving() {
    rm -f "$D/filler"
    dd if=/dev/zero of="$D/filler" bs=4k 2>/dev/null
    local size
    size=$(stat -c %s "$D/filler")
    truncate -s $((size - $1 * 1024)) "$D/filler"
}
# the visible files (hidden .partial folders are writes in progress, removed on failure)
snapshot() { (cd "$1" && find . -type f ! -name filler ! -path "*/.*" -print0 | sort -z | xargs -0 sha256sum); }
visible_partials() { find "$1" -name '*.partial' ! -path '*/.*' | wc -l; }

# 1. training: checkpoints 5 and 10 written, then a resume to 20 finds no room for checkpoint-15
train=("$CLI" train "$W/demo/train_lora.yaml" "output_dir=$D/run" save_steps=5 logging_steps=1 overwrite_output_dir=false)
"${train[@]}" max_steps=10 >/dev/null 2>&1
check "train: 10 steps with checkpoints fit on the small disk" $?
before=$(snapshot "$D/run")
fill_leaving 200  # an adapter fits, a checkpoint (adapter + AdamW state) does not
"${train[@]}" max_steps=20 resume_from_checkpoint=true >/dev/null 2>"$W/err"
rc=$?
[ $rc -ne 0 ] && grep -qiE "disk|space" "$W/err"
check "train: a full disk stops the run with a clear error (rc $rc: $(head -c 300 "$W/err" | tr '\n' ' '))" $?
after=$(snapshot "$D/run" | grep -v -e '\.tmp-' -e 'trainer_log.jsonl' -e 'training_args.yaml')
expected=$(echo "$before" | grep -v -e 'trainer_log.jsonl' -e 'training_args.yaml')
[ "$after" = "$expected" ] && [ ! -e "$D/run/checkpoint-15" ] && [ ! -e "$D/run/.checkpoint-15.partial" ] && [ "$(visible_partials "$D/run")" -eq 0 ]
check "train: checkpoints 5 and 10 and the adapter are byte-identical, no checkpoint-15, nothing half-written" $?
rm -f "$D/filler"
"${train[@]}" max_steps=20 resume_from_checkpoint=true >/dev/null 2>&1 && [ -d "$D/run/checkpoint-20" ]
check "train: with space again the resume finishes" $?
rm -rf "$D/run"

# 2. export: an earlier export stays whole when the new one does not fit
"$CLI" train "$W/demo/train_lora.yaml" "output_dir=$W/lora" max_steps=2 >/dev/null 2>&1
export=("$CLI" export --model_name_or_path "$W/demo/model" --adapter_name_or_path "$W/lora" --export_dir "$D/merged")
"${export[@]}" --export_dtype bfloat16 >/dev/null 2>&1
check "export: a first export fits" $?
before=$(snapshot "$D/merged")
fill_leaving 300
"${export[@]}" --export_dtype float32 >/dev/null 2>"$W/err"
rc=$?
[ $rc -ne 0 ] && grep -qiE "disk|space" "$W/err"
check "export: a full disk is a clear error (rc $rc: $(head -c 300 "$W/err" | tr '\n' ' '))" $?
[ "$(snapshot "$D/merged")" = "$before" ]
check "export: the earlier export is byte-identical" $?
rm -f "$D/filler"
"${export[@]}" --export_dtype float32 >/dev/null 2>&1
check "export: with space again it is replaced" $?
rm -rf "$D/merged" "$D"/.merged.*

# 3. predict: the rows written before the disk filled stay, the rerun finishes them
predict=("$CLI" predict --model_name_or_path "$W/demo/model" --csv "$SHARED/datasets/qizhen/drug_indication_eval.csv"
         --output "$D/pred.csv" --prompt_template "{instruction}" --max_new_tokens 4 --do_sample false --device cpu)
fill_leaving 12
"${predict[@]}" >/dev/null 2>"$W/err"
rc=$?
[ $rc -ne 0 ] && grep -qiE "disk|space" "$W/err"
check "predict: a full disk is a clear error (rc $rc: $(head -c 300 "$W/err" | tr '\n' ' '))" $?
rm -f "$D/filler"
"${predict[@]}" >/dev/null 2>&1
rc=$?
"${predict[@]/$D\/pred.csv/$W/ref.csv}" >/dev/null 2>&1
[ $rc -eq 0 ] && cmp -s "$D/pred.csv" "$W/ref.csv"
check "predict: with space again the resumed CSV equals an uninterrupted one" $?

[ $fails -eq 0 ] && echo "disk full: all checks passed" || echo "disk full: $fails check(s) failed"
exit $fails
