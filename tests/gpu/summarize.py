#!/usr/bin/env python3
"""Collects run_all.sh's step logs into OUT/results.json and a short OUT/results.md table: each
figure beside the reference measured in the same run. Exit 1 when a step failed."""
import datetime
import json
import os
import sys

OUT = sys.argv[1]


def log(name):
    p = os.path.join(OUT, name + ".log")
    return open(p, errors="replace").read() if os.path.exists(p) else ""


def json_lines(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return out


def last_json_document(text):
    start = text.rfind("\n{\n")
    try:
        return json.loads(text[start + 1:]) if start >= 0 else None
    except json.JSONDecodeError:
        return None


steps = {}
for line in open(os.path.join(OUT, "steps.txt")):
    name, rc, secs = line.split()
    steps[name] = {"exit": int(rc), "seconds": int(secs)}
try:
    import torch
    device = torch.cuda.get_device_name(0)
    versions = {"torch": torch.__version__}
except Exception as e:  # the summary still gets written
    device, versions = f"unknown ({e})", {}
R = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), "device": device,
     "versions": versions, "steps": steps}
rows = []  # (check, Tunebench, reference, ratio / verdict)
if "generate_cuda" in steps:
    R["generate_cuda"] = log("generate_cuda").strip().splitlines()[-1:]
    rows.append(("quick-start build → `tunebench-cli generate --device cuda`", "exit %d" % steps["generate_cuda"]["exit"], "", "ok" if steps["generate_cuda"]["exit"] == 0 else "FAIL"))
if "kernels" in steps:
    R["kernels"] = json_lines(log("kernels"))
    for k in R["kernels"]:
        rounding = f" round_once={k['round_once']}" if "round_once" in k else ""
        diff = f"diff {k['max_abs_diff']:.2g}" if "max_abs_diff" in k else f"rel. diff {k.get('max_rel_diff', float('nan')):.2g}"
        shape = f"{k['rows']}×{k['cols']}" if "cols" in k else f"{k['rows']} rows × [{k['out']}, {k['in']}]"
        rows.append((f"{k['kernel']} {k['dtype']} {shape}{rounding}",
                     f"{k['kernel_us']:.1f} µs", f"ATen {k['aten_us']:.1f} µs",
                     f"{k['speedup']:.2f}× ({diff}) {'ok' if k['ok'] else 'FAIL'}"))
if "logits" in steps:
    p = os.path.join(OUT, "compare", "results.json")
    if os.path.exists(p):
        R["logits"] = json.load(open(p))
        for r in R["logits"].get("logits", []):
            rows.append((f"logits {r['model']} {r['dtype']}", f"max diff {r['max_abs_diff']:.2g}",
                         f"transformers (tol {r['tolerance']:.2g})", "ok" if r["ok"] else "FAIL"))
        for r in R["logits"].get("decode", []):
            rows.append((f"greedy decode {r['model']}, 40 tokens, CUDA graphs {'on' if r['cuda_graphs'] else 'off'}",
                         "same text" if r["ok"] else r["tunebench"], "transformers generate", "ok" if r["ok"] else "FAIL"))
if "chatglm6b" in steps:
    p = os.path.join(OUT, "chatglm6b", "results.json")
    if os.path.exists(p):
        R["chatglm6b"] = json.load(open(p))
        for r in R["chatglm6b"].get("logits", []):
            rows.append((f"logits chatglm-6b {r['dtype']}", f"max diff {r['max_abs_diff']:.2g}",
                         f"original modeling_chatglm.py (tol {r['tolerance']:.2g})", "ok" if r["ok"] else "FAIL"))
        for r in R["chatglm6b"].get("decode", []):
            rows.append((f"greedy decode chatglm-6b, 2 prompts × 24 tokens, CUDA graphs {'on' if r['cuda_graphs'] else 'off'}",
                         "same ids" if r["ok"] else str(r["tunebench"])[:60], "original, full recomputation", "ok" if r["ok"] else "FAIL"))
    else:
        rows.append(("ChatGLM-6B vs the original on CUDA", f"exit {steps['chatglm6b']['exit']}", "", "FAIL"))
if "inference" in steps:
    p = os.path.join(OUT, "inference", "results.json")
    if os.path.exists(p):
        R["inference"] = inf = json.load(open(p))
        tb, hf = inf.get("tunebench"), inf.get("transformers")
        if tb and hf:
            rows.append(("load from page cache, ChatGLM2-6B shape bf16", f"{tb['load_s']:.2f} s", "", ""))
            for t in tb["ttft"]:
                ref = hf["ttft_ms"].get(str(t["prompt"])) or hf["ttft_ms"].get(t["prompt"])
                rows.append((f"time to first token, prompt {t['prompt']}", f"{t['seconds'] * 1000:.1f} ms",
                             f"transformers {ref} ms", f"{ref / (t['seconds'] * 1000):.2f}× faster" if ref else ""))
            for d in tb["decode"]:
                ref = next(h for h in hf["decode"] if h["batch"] == d["batch"])
                rows.append((f"decode tokens/s, batch {d['batch']} (prompt 256, 128 new)", f"{d['tokens_per_s']:.0f}",
                             f"transformers {ref['tokens_per_s']:.0f}", f"{d['tokens_per_s'] / ref['tokens_per_s']:.2f}×"))
            rows.append(("batch-1 decode vs cuBLAS matvec chain in a CUDA graph", f"{tb['decode'][0]['tokens_per_s']:.0f}",
                         f"{hf['cublas_graph_chain_tokens_per_s']:.0f} ({hf['cublas_graph_chain_GBps']:.0f} GB/s)",
                         f"{inf['ratios']['batch1_of_cublas_chain']:.2f}"))
            rows.append(("peak device memory", f"{tb['peak_bytes'] / 2**30:.2f} GiB", f"weights {inf['weights_gib']} GiB", ""))
        for name, e in inf.get("batched_equals_single", {}).items():
            key = [k for k in e if k.startswith("rows_equal")][0]
            rows.append((f"predict on CUDA, {name} vs batch 1", f"{e[key]}/{e['rows']} rows equal", "", ""))
if "quantized" in steps:
    p = os.path.join(OUT, "quantized", "results.json")
    if os.path.exists(p):
        R["quantized"] = q = json.load(open(p))
        base = q["variants"]["base"]
        for v, r in q["variants"].items():
            for b, t in r["decode"].items():
                ratio = t / base["decode"][b]
                target = {"base, NF4": 2.0, "base, int8": 1.5}.get(v) if str(b) == "1" else None
                rows.append((f"decode tokens/s {v}, batch {b}, ChatGLM2-6B shape", f"{t:.0f}",
                             f"our bf16 {base['decode'][b]:.0f}",
                             f"{ratio:.2f}×" + (f" (target {target}×: {'met' if ratio >= target else 'NOT met'})" if target else "")))
            rows.append((f"weights / peak device memory, {v}", f"{r['weights_gib']} / {r['peak_gib']} GiB", "", ""))
if "profile" in steps:
    R["profile"] = json_lines(log("profile"))
    for p in R["profile"]:
        top = ", ".join(f"{k['kernel'][:40]} {k['share'] * 100:.0f}%" for k in p["top"][:4])
        rows.append((f"decode step profile, batch {p['profile_batch']} (Nsight Compute)",
                     f"{p['kernels']} kernels, {p['sum_us'] / 1000:.2f} ms", top, ""))
if "training" in steps:
    doc = last_json_document(log("training"))
    if doc:
        R["training"] = doc
        for r in doc.get("interchange", []):
            rows.append((f"adapter {r['model']}: {r['direction']}", f"max diff {r['max_abs_diff']:.2g}", "PEFT", "ok" if r["ok"] else "FAIL"))
        for r in doc.get("loss_curve", []):
            rows.append((f"20-step loss curve {r.get('dtype', '')}", f"max rel diff {r.get('max_rel_diff', float('nan')):.2g}", "PEFT + torch AdamW",
                         "ok" if r.get("ok") else "FAIL"))
        for r in doc.get("bench", []):
            ours, theirs = r["tunebench"], r["transformers+peft"]
            c = r.get("checkpointing", True)
            ckpt = "MLP-only checkpointing" if c == "mlp" else "checkpointing" if c else "no checkpointing"
            learns = "" if r.get("tunebench_learns", True) else ", DOES NOT LEARN"
            rows.append((f"training {r['method']} tokens/s, ChatGLM2-6B shape, batch {r['batch']}×{r['seq']}, {ckpt}",
                         f"{ours['tokens_per_s']:.0f} ({ours['peak_allocated_gib']:.1f} GiB, reserved "
                         f"{ours.get('peak_reserved_gib', float('nan')):.1f}{learns})",
                         f"PEFT {theirs['tokens_per_s']:.0f} ({theirs['peak_allocated_gib']:.1f} GiB)" if "tokens_per_s" in theirs
                         else f"PEFT: {theirs.get('error', '')[:80]}", f"{r.get('speed_ratio', float('nan')):.2f}×"))
if "oom" in steps:
    R["oom"] = [l for l in log("oom").splitlines() if l.startswith(("ok:", "FAIL:"))]
    for l in R["oom"]:
        status, text = l.split(":", 1)
        rows.append(("CUDA OOM while training: " + text.strip(), "", "", "OK" if status == "ok" else "FAIL"))
if "ddp" in steps:
    p = os.path.join(OUT, "ddp", "ddp_results.json")
    if os.path.exists(p):
        d = R["ddp"] = json.load(open(p))
        for r in d.get("scaling", []):
            rows.append((f"data-parallel {r.get('method', 'lora')} tokens/s, {r['gpus']} GPU(s) × batch 4×1024, ChatGLM2-6B shape",
                         f"{r['tokens_per_s']} ({r['tokens_per_s_per_gpu']} per GPU)", "1 GPU, same build",
                         f"{r.get('scaling_efficiency', float('nan')):.3f} efficiency"))
        lc = d.get("loss_curve_2x4_vs_1x8")
        if lc:
            rows.append((f"loss curve 2 GPUs × 4 vs 1 GPU × 8 ({lc['steps']} steps)", f"max rel diff {lc['max_rel_diff']:.2g}",
                         f"tolerance {lc['tolerance']}", "ok" if lc["ok"] else "FAIL"))
if "demo" in steps:
    R["demo"] = [l for l in log("demo").splitlines() if l.startswith(("OK", "FAIL"))]
    for l in R["demo"]:
        rows.append(("demo: " + l[5:], "", "", l[:4].strip()))
if "packing" in steps:
    R["packing"] = [l for l in log("packing").splitlines() if l.startswith(("OK", "FAIL"))]
    for l in R["packing"]:
        rows.append(("packing: " + l[5:], "", "", l[:4].strip()))
json.dump(R, open(os.path.join(OUT, "results.json"), "w"), indent=1, ensure_ascii=False)
md = [f"# tests/gpu/run_all.sh — {R['device']}, {R['date']}", "",
      "| step | exit | seconds |", "|---|---|---|"]
md += [f"| {n} | {s['exit']} | {s['seconds']} |" for n, s in steps.items()]
md += ["", "| check | Tunebench | reference (same run) | ratio / verdict |", "|---|---|---|---|"]
md += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
open(os.path.join(OUT, "results.md"), "w").write("\n".join(md) + "\n")
print("\n".join(md))
sys.exit(1 if any(s["exit"] for s in steps.values()) else 0)
