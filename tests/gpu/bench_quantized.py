#!/usr/bin/env python3
"""4-bit and 8-bit decode against our own bf16 decode, measured in the same run (issue 13's
targets on the ChatGLM2-6B shape: NF4 batch-1 ≥ 2× bf16, int8 ≥ 1.5×): `tunebench-cli bench
--compare` on the random ChatGLM2-6B-shaped folder the inference step wrote — base (bf16), base
quantized to int8 and to NF4 (double quantization) as the model loads, each alone on the card.
Usage: bench_quantized.py CLI MODEL_DIR OUT_DIR     Writes OUT_DIR/results.json; exit 1 when the
bench fails (the targets are reported, met or not)."""
import json, os, subprocess, sys

CLI, MODEL, OUT = sys.argv[1:4]
os.makedirs(OUT, exist_ok=True)
js = os.path.join(OUT, "compare.jsonl")
p = subprocess.run([CLI, "bench", "--compare", "--model_name_or_path", MODEL, "--dtype", "bfloat16", "--device", "cuda",
                    "--batch_sizes", "1,4,8", "--ttft_prompts", "512", "--json", js], capture_output=True, text=True)
print(p.stdout, p.stderr[-3000:], flush=True)
if p.returncode != 0:
    sys.exit(1)
rows = [json.loads(l) for l in open(js) if l.strip()]
by = {r["variant"]: r for r in rows}
def tps(v, b):
    return next(d["tokens_per_s"] for d in by[v]["decode"] if d["batch"] == b)
R = {"variants": {v: {"decode": {d["batch"]: round(d["tokens_per_s"], 1) for d in r["decode"]},
                      "weights_gib": round(r["weights_bytes"] / 2**30, 2), "peak_gib": round(r["peak_bytes"] / 2**30, 2),
                      "ttft_512_ms": round(r["ttft"][0]["seconds"] * 1000, 1)} for v, r in by.items()}}
R["ratios"] = {f"{k}_batch{b}_vs_bf16": round(tps(v, b) / tps("base", b), 2)
               for k, v in (("nf4", "base, NF4"), ("int8", "base, int8")) for b in (1, 4, 8)}
R["targets"] = {"nf4_batch1_ge_2x": R["ratios"]["nf4_batch1_vs_bf16"] >= 2.0,
                "int8_batch1_ge_1.5x": R["ratios"]["int8_batch1_vs_bf16"] >= 1.5}
R["model"] = os.path.basename(MODEL)
json.dump(R, open(os.path.join(OUT, "results.json"), "w"), indent=2)
print(json.dumps(R), flush=True)
