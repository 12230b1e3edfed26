"""`tunebench-cli analyze` (issue 15, seed 002's weight study) against numpy on the CPU, stories260K:
- every linear weight: mean, std, min, max, Frobenius norm and the histogram as numpy computes
  them, all singular values as numpy.linalg.svd's (exact path), effective rank exp(H(σ/Σσ)) and
  stable rank ‖W‖²_F/σ₁² from them;
- the randomized path (exact_limit below the matrix sizes): each of the top-k singular values within
  its stated error of the true one, and the error bound itself ≤ 1 (relative to ‖W‖_F);
- an adapter's update ΔW = s·B·A: its values and its (rank r) spectrum equal numpy's on s·B·A;
- the JSON and the SVG plots are written, an unrelated weight_analysis.json is never replaced."""
import json
import os
import shutil
import subprocess

import numpy as np
import torch
from peft import LoraConfig, get_peft_model
from safetensors.numpy import load_file
from transformers import AutoModelForCausalLM

from common import CLI, SHARED, WORK, Checks, run

STORIES = os.path.join(SHARED, "models", "stories260K-hf")
checks = Checks()
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)

weights = {k[:-len(".weight")]: v.astype(np.float64) for k, v in load_file(os.path.join(STORIES, "model.safetensors")).items()
           if k.endswith(".weight") and v.ndim == 2 and "embed" not in k and "lm_head" not in k}

out = os.path.join(WORK, "exact")
run([CLI, "analyze", "--model_name_or_path", STORIES, "--output_dir", out, "--bins", "32"])
result = json.load(open(os.path.join(out, "weight_analysis.json")))
ms = {m["name"]: m for m in result["matrices"] if not m["adapter_update"]}
checks.check(set(weights) <= set(ms), "every linear weight of the checkpoint is analysed", missing=sorted(set(weights) - set(ms))[:3])
stat_err, sv_err, rank_err, hist_off = 0.0, 0.0, 0.0, 0
for name, w in weights.items():
    m = ms.get(name)
    if m is None:
        continue
    for key, ref in (("mean", w.mean()), ("std", w.std()), ("min", w.min()), ("max", w.max()), ("frobenius", np.linalg.norm(w))):
        stat_err = max(stat_err, abs(m[key] - ref) / max(1e-12, abs(ref)))
    s = np.linalg.svd(w, compute_uv=False)
    sv_err = max(sv_err, np.abs(np.array(m["singular_values"]) - s).max() / s[0])
    p = s / s.sum()
    erank = np.exp(-(p[p > 0] * np.log(p[p > 0])).sum())
    rank_err = max(rank_err, abs(m["effective_rank"] - erank) / erank, abs(m["stable_rank"] - (w ** 2).sum() / s[0] ** 2) / erank)
    counts, _ = np.histogram(w, bins=32, range=(m["histogram"]["lo"], m["histogram"]["hi"]))
    hist_off = max(hist_off, int(np.abs(counts - np.array(m["histogram"]["counts"])).sum()))
checks.check(stat_err < 1e-6, "mean, std, min, max and Frobenius norm equal numpy's", max_rel_diff=stat_err)
checks.check(sv_err < 1e-6 and all(m["spectrum_exact"] for m in ms.values()), "all singular values equal numpy.linalg.svd's",
             max_rel_diff=sv_err)
checks.check(rank_err < 1e-6, "effective rank exp(H(σ/Σσ)) and stable rank equal numpy's", max_rel_diff=rank_err)
checks.check(hist_off <= 2, "histograms equal numpy.histogram's (bin-edge rounding aside)", max_counts_moved=hist_off)
checks.check(all(os.path.getsize(os.path.join(out, f)) > 500 and open(os.path.join(out, f)).read().startswith("<svg")
                 for f in ("spectrum.svg", "rank_by_layer.svg")), "spectrum.svg and rank_by_layer.svg written")

# randomized: every matrix above exact_limit
out_r = os.path.join(WORK, "randomized")
run([CLI, "analyze", "--model_name_or_path", STORIES, "--output_dir", out_r, "--exact_limit", "16", "--top_k", "12"])
mr = {m["name"]: m for m in json.load(open(os.path.join(out_r, "weight_analysis.json")))["matrices"]}
within, bound_ok, n = True, True, 0
for name, w in weights.items():
    m = mr[name]
    s = np.linalg.svd(w, compute_uv=False)[:12]
    got = np.array(m["singular_values"])
    n += not m["spectrum_exact"]
    within &= bool(np.all(np.abs(got - s) <= m["spectrum_error"] + 1e-9 * s[0]))
    bound_ok &= m["spectrum_error"] <= np.linalg.norm(w) * (1 + 1e-9)
checks.check(n == len(weights) and within, "randomized top-12: each singular value within its stated error of the true one",
             randomized=n)
checks.check(bound_ok, "the stated error never exceeds ‖W‖_F")

# an adapter's update ΔW = s·B·A
base = AutoModelForCausalLM.from_pretrained(STORIES, dtype=torch.float32)
pm = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
torch.manual_seed(0)
with torch.no_grad():
    for n_, p in pm.named_parameters():
        if "lora_B" in n_:
            p.normal_(0, 0.1)
adapter = os.path.join(WORK, "adapter")
pm.save_pretrained(adapter)
out_a = os.path.join(WORK, "adapter_analysis")
run([CLI, "analyze", "--model_name_or_path", STORIES, "--adapter_name_or_path", adapter, "--output_dir", out_a])
ma = {m["name"]: m for m in json.load(open(os.path.join(out_a, "weight_analysis.json")))["matrices"] if m["adapter_update"]}
tensors = load_file(os.path.join(adapter, "adapter_model.safetensors"))
worst = 0.0
for name, m in ma.items():
    A = tensors[f"base_model.model.{name}.lora_A.weight"].astype(np.float64)
    B = tensors[f"base_model.model.{name}.lora_B.weight"].astype(np.float64)
    dw = 2.0 * B @ A
    s = np.linalg.svd(dw, compute_uv=False)[:4]
    worst = max(worst, np.abs(np.array(m["singular_values"]) - s).max() / s[0], abs(m["frobenius"] - np.linalg.norm(dw)) / np.linalg.norm(dw))
checks.check(len(ma) == 2 * len([k for k in weights if "q_proj" in k]) and worst < 1e-6,
             "adapter ΔW = s·B·A: spectrum (rank 4) and norm equal numpy's", matrices=len(ma), max_rel_diff=worst)
checks.check(os.path.exists(os.path.join(out_a, "adapter_spectrum.svg")), "adapter plots written")

# never over a file it did not write
foreign = os.path.join(WORK, "foreign")
os.makedirs(foreign)
open(os.path.join(foreign, "weight_analysis.json"), "w").write('{"mine": true}')
p = subprocess.run([CLI, "analyze", "--model_name_or_path", STORIES, "--output_dir", foreign], capture_output=True, text=True)
checks.check(p.returncode != 0 and open(os.path.join(foreign, "weight_analysis.json")).read() == '{"mine": true}',
             "an unrelated weight_analysis.json is refused and left as it was", rc=p.returncode)
checks.finish()
