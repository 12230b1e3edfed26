#!/usr/bin/env python3
"""Data-parallel training on several GPUs (issue 17): tokens/s on 1, 2, 4, 8 GPUs and the scaling
efficiency (LoRA, and freeze with 2 trainable layers; TB_DDP_METHODS picks), and the loss curve of
2 GPUs against 1 GPU with the same global batch (TB_DDP_SAME_BATCH=0 skips it).

    ddp_scaling.py CLI OUT_DIR [GPU_COUNTS, default 1,2,4,8 up to the GPUs present]

ChatGLM2-6B shape (random bf16 weights, the demo's tokenizer), LoRA r=8 on query_key_value,
batch 4 × 1024 tokens per GPU, gradient checkpointing — through `tunebench-cli train … nproc_per_node=N`
as users run it. Steady-state tokens/s: tokens and seconds between logged steps 6 and 26 of one
run per GPU count (trainer_log.jsonl's elapsed_s), after one discarded warm-up run — loading, the
first steps and checkpoint writes (freeze saves the whole 12.5 GB model) stay outside.
NCCL_NVLS_ENABLE=0 (NVLink multicast stays off on these machines). Prints one JSON line per
measurement and writes OUT_DIR/ddp_results.json; exit 1 when a run failed.
"""
import json
import os
import random
import shutil
import subprocess
import sys
import time

import torch

CLI, OUT = sys.argv[1], sys.argv[2]
present = torch.cuda.device_count()
counts = [int(x) for x in (sys.argv[3].split(",") if len(sys.argv) > 3 else ["1", "2", "4", "8"])]
counts = [n for n in counts if n <= present]
os.makedirs(OUT, exist_ok=True)
env = dict(os.environ, NCCL_NVLS_ENABLE="0")
R = {"device": torch.cuda.get_device_name(0), "gpus_present": present,
     "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "ok": True}

# The model: the demo's tokenizer and config, scaled to ChatGLM2-6B's shape, random bf16 weights.
demo = os.path.join(OUT, "demo")
if not os.path.isdir(demo):
    subprocess.run([CLI, "init-demo", demo], check=True, capture_output=True)
shape = os.path.join(OUT, "shape")
os.makedirs(shape, exist_ok=True)
cfg = json.load(open(os.path.join(demo, "model", "config.json")))
cfg.update(num_layers=28, hidden_size=4096, ffn_hidden_size=13696, num_attention_heads=32, kv_channels=128,
           multi_query_group_num=2, padded_vocab_size=65024, seq_length=8192)
json.dump(cfg, open(os.path.join(shape, "config.json"), "w"), indent=2)
for f in ("tokenizer.model", "tokenizer_config.json"):
    shutil.copy(os.path.join(demo, "model", f), shape)
model = os.path.join(OUT, "chatglm2-6b-shape")
if not os.path.exists(os.path.join(model, "model.safetensors")):
    subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "make_random_chatglm.py"), shape, model], check=True)

# The data: rows longer than cutoff_len, so every row trains 1024 tokens.
data = os.path.join(OUT, "data")
os.makedirs(data, exist_ok=True)
chars = "".join(sorted(set(open(os.path.join(demo, "data", "demo", "tunebench_demo.json"), encoding="utf-8").read())
                       - set(" \n\t\"{}[]:,\\")))
rng = random.Random(0)
rows = [{"instruction": "".join(rng.choice(chars) for _ in range(64)), "input": "",
         "output": "".join(rng.choice(chars) for _ in range(3000))} for _ in range(4 * 8 * 30)]
json.dump(rows, open(os.path.join(data, "long.json"), "w"), ensure_ascii=False)
json.dump({"long": {"file_name": "long.json"}}, open(os.path.join(data, "dataset_info.json"), "w"))


def train(name, nproc, steps, per_device=4, extra=()):
    out = os.path.join(OUT, "runs", name)
    args = [CLI, "train", os.path.join(demo, "train_lora.yaml"), f"model_name_or_path={model}", "dataset=long",
            f"dataset_dir={data}", f"output_dir={out}", "overwrite_output_dir=true", "cutoff_len=1024",
            "finetuning_type=lora", "lora_target=query_key_value", "lora_rank=8", "bf16=true", "device=cuda",
            "disable_gradient_checkpointing=false", f"per_device_train_batch_size={per_device}",
            "gradient_accumulation_steps=1", f"max_steps={steps}", "logging_steps=1", "save_steps=100000",
            "learning_rate=1e-4", "lr_scheduler_type=constant", "warmup_ratio=0", "plot_loss=false",
            f"nproc_per_node={nproc}", *extra]
    t = time.time()
    p = subprocess.run(args, capture_output=True, text=True, env=env)
    wall = time.time() - t
    if p.returncode != 0:
        R["ok"] = False
        print(json.dumps({"run": name, "error": p.stderr[-1500:]}), flush=True)
        return None
    st = json.load(open(os.path.join(out, "trainer_state.json")))
    log = [json.loads(l) for l in open(os.path.join(out, "trainer_log.jsonl")) if '"loss"' in l]
    return {"log": log, "wall_s": round(wall, 1),
            "loss": [e["loss"] for e in st["log_history"] if "loss" in e and "train_runtime" not in e]}


# The first process on a fresh machine pays one-time costs (page cache, driver) for several steps.
train("warm-up", 1, 3)
R["scaling"] = []
# LoRA (7.8 MB of gradients per step) and freeze with LLaMA-Factory's default 2 trainable layers
# (407 M parameters: 0.8 GB of bf16 gradients per step, all-reduced after backward).
METHODS = {"lora": [], "freeze": ["finetuning_type=freeze", "freeze_trainable_layers=2"]}
for method in os.environ.get("TB_DDP_METHODS", "lora,freeze").split(","):
    base = None
    for n in counts:
        run = train(f"{method}-n{n}", n, 26, extra=METHODS[method])
        if not run:
            continue
        a, b = run["log"][5], run["log"][25]  # after step 6 (warm-up behind) to after step 26
        tps = (b["total_tokens"] - a["total_tokens"]) / (b["elapsed_s"] - a["elapsed_s"])
        row = {"method": method, "gpus": n, "tokens_per_s": round(tps), "tokens_per_s_per_gpu": round(tps / n),
               "step_s": round((b["elapsed_s"] - a["elapsed_s"]) / 20, 4), "wall_s_run": run["wall_s"]}
        if n == 1:
            base = row["tokens_per_s_per_gpu"]
        if base:
            row["scaling_efficiency"] = round(row["tokens_per_s_per_gpu"] / base, 3)
        R["scaling"].append(row)
        print(json.dumps(row), flush=True)

# The same global batch (8 rows) on 1 GPU and on 2 GPUs × 4: the same loss curve within bf16 tolerance.
if present >= 2 and os.environ.get("TB_DDP_SAME_BATCH", "1") != "0":
    one = train("same-batch-1x8", 1, 12, per_device=8)
    two = train("same-batch-2x4", 2, 12, per_device=4)
    if one and two:
        rel = max(abs(a - b) / abs(a) for a, b in zip(one["loss"], two["loss"]))
        R["loss_curve_2x4_vs_1x8"] = {"steps": len(one["loss"]), "max_rel_diff": rel, "tolerance": 3e-2,
                                      "ok": rel <= 3e-2 and len(one["loss"]) == len(two["loss"]) == 12}
        R["ok"] &= R["loss_curve_2x4_vs_1x8"]["ok"]
        print(json.dumps({"loss_curve_2x4_vs_1x8": R["loss_curve_2x4_vs_1x8"]}), flush=True)
json.dump(R, open(os.path.join(OUT, "ddp_results.json"), "w"), indent=2)
shutil.rmtree(os.path.join(OUT, "runs"), ignore_errors=True)
print("ALL OK" if R["ok"] else "FAILED")
sys.exit(0 if R["ok"] else 1)
