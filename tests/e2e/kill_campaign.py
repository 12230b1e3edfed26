#!/usr/bin/env python3
"""kill -9 campaign (issue 16): train, export, convert and predict are killed at random moments.

After every kill each file the operation writes must be the old one or the complete new one
(checkpoints and adapters load, JSON parses, a CSV's complete records are a prefix of the
uninterrupted output, an export folder is the earlier export or the whole new one), and running
the same command again must finish with the uninterrupted result, byte for byte.

    kill_campaign.py CLI SHARED_DIR WORK_DIR [--trials N] [--seed S]

CI runs it with --trials 2 (ctest kill_campaign); the campaign reported in issue notes uses more.
The Datasets tab's Write calls the same engine function as `convert` (data::convert_csv).
"""
import argparse
import csv
import filecmp
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from safetensors import safe_open


def run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def ok(cmd):
    r = run(cmd)
    if r.returncode != 0:
        sys.exit(f"FAILED: {' '.join(map(str, cmd))}\n{r.stderr}")
    return r


def killed_run(cmd, after_s):
    """Starts cmd, SIGKILLs it after `after_s` seconds; returns True if it was still running."""
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        p.wait(timeout=after_s)
        return False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        return True


def timed(cmd):
    t = time.time()
    ok(cmd)
    return time.time() - t


def check_safetensors(path):
    with safe_open(str(path), framework="pt") as f:
        for k in f.keys():
            f.get_tensor(k)


def check_json(path):
    json.loads(Path(path).read_text(encoding="utf-8"))


def check_visible_files(folder, problems):
    """Every visible file Tunebench writes in `folder` (recursively) is complete."""
    for p in Path(folder).rglob("*"):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(folder).parts):
            continue  # hidden: a write in progress (.partial folders), cleaned by the next run
        if ".tmp-" in p.name:
            continue  # a temporary of an unfinished atomic write: never read, removed by the next run
        try:
            if p.suffix == ".safetensors":
                check_safetensors(p)
            elif p.suffix == ".json":
                check_json(p)
            elif p.suffix == ".jsonl":
                lines = p.read_text(encoding="utf-8").split("\n")
                for line in lines[:-1]:  # appended line by line: only an unterminated last line may be partial
                    json.loads(line)
        except Exception as e:  # noqa: BLE001 - any failure to read is a finding
            problems.append(f"{p}: {e}")


def complete_records(path):
    text = Path(path).read_text(encoding="utf-8")
    quoted, end = False, 0
    for i, c in enumerate(text):
        if c == '"':
            quoted = not quoted
        elif c == "\n" and not quoted:
            end = i + 1
    return list(csv.reader(io.StringIO(text[:end])))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cli")
    ap.add_argument("shared")
    ap.add_argument("work")
    ap.add_argument("--trials", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = Path(a.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    cli = a.cli
    demo = work / "demo"
    ok([cli, "init-demo", demo])
    problems = []
    kills = {"train": 0, "export": 0, "convert": 0, "predict": 0}

    # ---- train: checkpoints every 5 steps, 30 steps in all ----
    def train(out, resume=False):
        cmd = [cli, "train", demo / "train_lora.yaml", f"output_dir={out}", "max_steps=30", "save_steps=5",
               "logging_steps=1", "overwrite_output_dir=false"]
        if resume:
            cmd.append("resume_from_checkpoint=true")
        return cmd

    t_train = timed(train(work / "train_ref"))
    ref_adapter = work / "train_ref" / "adapter_model.safetensors"
    for trial in range(a.trials):
        out = work / f"train_{trial}"
        kills["train"] += killed_run(train(out), rng.uniform(0.05, 1.1) * t_train)
        check_visible_files(out, problems)
        has_ckpt = out.exists() and any(p.name.startswith("checkpoint-") for p in out.iterdir())
        ok(train(out, resume=has_ckpt))
        if not filecmp.cmp(out / "adapter_model.safetensors", ref_adapter, shallow=False):
            problems.append(f"train trial {trial}: the resumed adapter differs from the uninterrupted one")

    # ---- export: an earlier export (float32) is replaced by a bfloat16 one ----
    def export(out, dtype):
        return [cli, "export", "--model_name_or_path", demo / "model", "--adapter_name_or_path", work / "train_ref",
                "--export_dir", out, "--export_dtype", dtype, "--export_size", "0.0002"]

    ok(export(work / "export_old", "float32"))
    t_export = timed(export(work / "export_new", "bfloat16"))
    for trial in range(a.trials):
        out = work / f"export_{trial}"
        shutil.copytree(work / "export_old", out)
        kills["export"] += killed_run(export(out, "bfloat16"), rng.uniform(0.05, 1.1) * t_export)
        same = [filecmp.dircmp(out, ref) for ref in (work / "export_old", work / "export_new")]
        if not any(not d.left_only and not d.right_only and not d.diff_files for d in same):
            problems.append(f"export trial {trial}: {out} is neither the earlier export nor the whole new one")
        ok(export(out, "bfloat16"))
        d = filecmp.dircmp(out, work / "export_new")
        if d.left_only or d.right_only or d.diff_files:
            problems.append(f"export trial {trial}: the rerun differs from an uninterrupted export")

    # ---- convert (the Datasets tab's Write): output + registry ----
    csv_in = Path(a.shared) / "datasets" / "qizhen" / "drug_indication_eval.csv"

    def convert(folder):
        return [cli, "convert", "--csv", csv_in, "--output", folder / "drugs.json", "--instruction", "{instruction}",
                "--output_template", "{医学专家标注的适应病症}", "--dataset_dir", folder, "--dataset_name", "drugs"]

    (work / "convert_ref").mkdir()
    t_convert = timed(convert(work / "convert_ref"))
    for trial in range(a.trials):
        folder = work / f"convert_{trial}"
        folder.mkdir()
        kills["convert"] += killed_run(convert(folder), rng.uniform(0.05, 1.1) * t_convert)
        check_visible_files(folder, problems)
        if (folder / "dataset_info.json").exists() and "drugs" in json.loads((folder / "dataset_info.json").read_text()):
            if not (folder / "drugs.json").exists():
                problems.append(f"convert trial {trial}: registered before its file exists")
        ok(convert(folder))
        if not filecmp.cmp(folder / "drugs.json", work / "convert_ref" / "drugs.json", shallow=False):
            problems.append(f"convert trial {trial}: the rerun differs")

    # ---- predict: resumable CSV ----
    def predict(out):
        return [cli, "predict", "--model_name_or_path", demo / "model", "--adapter_name_or_path", work / "train_ref",
                "--csv", csv_in, "--output", out, "--prompt_template", "{instruction}", "--max_new_tokens", "8",
                "--do_sample", "false", "--device", "cpu"]

    t_predict = timed(predict(work / "predict_ref.csv"))
    ref_rows = complete_records(work / "predict_ref.csv")
    for trial in range(a.trials):
        out = work / f"predict_{trial}.csv"
        kills["predict"] += killed_run(predict(out), rng.uniform(0.05, 1.1) * t_predict)
        if out.exists():
            rows = complete_records(out)
            if rows != ref_rows[: len(rows)]:
                problems.append(f"predict trial {trial}: the complete records are not a prefix of the uninterrupted output")
        ok(predict(out))
        if not filecmp.cmp(out, work / "predict_ref.csv", shallow=False):
            problems.append(f"predict trial {trial}: the resumed output differs")

    print(f"kill campaign: {a.trials} trials per operation; processes killed mid-run: {kills}; "
          f"uninterrupted times train {t_train:.1f}s, export {t_export:.1f}s, convert {t_convert:.1f}s, predict {t_predict:.1f}s")
    if sum(kills.values()) == 0:
        problems.append("no process was killed mid-run: the campaign tested nothing")
    for p in problems:
        print("PROBLEM:", p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
