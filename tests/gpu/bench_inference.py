#!/usr/bin/env python3
"""Inference speed and batched-decoding correctness on a CUDA machine, every figure beside its
reference measured in the same run (issue: fast inference).
  1. Random ChatGLM2-6B-shaped bf16 weights (transformers' GlmForCausalLM, the ChatGLM2 math):
     transformers' time to first token (512, 2048) and greedy `generate` tokens/s at batch 1, 8, 64
     (prompt 256, 128 new), and the bandwidth reference — the chain of cuBLAS matrix-vector
     products of one token (every layer's linears + lm_head) captured in a CUDA graph;
  2. the same weights written as a ChatGLM folder, `tunebench-cli bench` on them;
  3. batched = one-row-at-a-time greedy predictions on CUDA (the demo model, `tunebench-cli predict`):
     fp32 with and without CUDA graphs must be equal; bf16 differences are counted and reported.
Usage: bench_inference.py CLI OUT_DIR DEMO_DIR     Writes OUT_DIR/results.json; exit 1 on a failure."""
import json, os, subprocess, sys, time
import torch
from safetensors.torch import save_file
from transformers import GlmConfig, GlmForCausalLM
from hf_models import glm_to_chatglm, chatglm_config

CLI, WORK, DEMO = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(WORK, exist_ok=True)
R = {"ok": True}
PROMPT, NEW = 256, 128


def sync_time():
    torch.cuda.synchronize()
    return time.time()


cfg = GlmConfig(vocab_size=65024, hidden_size=4096, intermediate_size=13696, num_hidden_layers=28,
                num_attention_heads=32, num_key_value_heads=2, head_dim=128, partial_rotary_factor=0.5,
                attention_bias=True, rms_norm_eps=1e-5, max_position_embeddings=8192, pad_token_id=0, eos_token_id=2)
torch.set_default_dtype(torch.bfloat16)
with torch.device("cuda"):
    big = GlmForCausalLM(cfg)
torch.set_default_dtype(torch.float32)
with torch.no_grad():
    for n, p in big.named_parameters():
        p.copy_(1.0 + 0.1 * torch.randn_like(p)) if "norm" in n else p.normal_(0, 0.02)
big.eval()
big.generation_config.pad_token_id = 0
V = cfg.vocab_size


def prompt_ids(n, rows=1):
    return torch.tensor([[((i + 131 * r) * 7919 + 13) % (V - 10) + 5 for i in range(n)] for r in range(rows)], device="cuda")


hf = {"ttft_ms": {}, "decode": []}
with torch.no_grad():
    for n in (512, 2048):
        ids = prompt_ids(n)
        big(ids, logits_to_keep=1).logits.argmax(-1).item()
        best = 1e9
        for _ in range(3):
            t = sync_time(); big(ids, logits_to_keep=1).logits.argmax(-1).item(); best = min(best, sync_time() - t)
        hf["ttft_ms"][n] = round(best * 1000, 2)
    for B in (1, 8, 64):
        ids = prompt_ids(PROMPT, B)
        torch.cuda.reset_peak_memory_stats()
        big.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=8, min_new_tokens=8, do_sample=False)
        t = sync_time()
        big.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False)
        total = sync_time() - t
        t = sync_time(); big(ids, logits_to_keep=1); prefill = sync_time() - t
        hf["decode"].append({"batch": B, "tokens_per_s": round(B * (NEW - 1) / (total - prefill), 1),
                             "total_s": round(total, 3), "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2)})
        print(json.dumps({"transformers": hf["decode"][-1]}), flush=True)

    # Bandwidth reference: one token's matrix-vector products (all layers + lm_head) in a CUDA graph.
    Ws = []
    for layer in big.model.layers:
        a, m = layer.self_attn, layer.mlp
        Ws += [torch.cat([a.q_proj.weight, a.k_proj.weight, a.v_proj.weight]), a.o_proj.weight,
               m.gate_up_proj.weight, m.down_proj.weight]
    Ws.append(big.lm_head.weight)
    x_in = torch.randn(1, 4096, device="cuda", dtype=torch.bfloat16)
    xs = {4096: x_in, 13696: torch.randn(1, 13696, device="cuda", dtype=torch.bfloat16)}

    def chain():
        outs = []
        for W in Ws:
            outs.append(torch.nn.functional.linear(xs[W.shape[1]], W))
        return outs
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            chain()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        chain()
    g.replay()
    t = sync_time()
    for _ in range(50):
        g.replay()
    chain_s = (sync_time() - t) / 50
    weight_bytes = sum(W.numel() * 2 for W in Ws)
    hf["cublas_graph_chain_tokens_per_s"] = round(1 / chain_s, 1)
    hf["cublas_graph_chain_GBps"] = round(weight_bytes / chain_s / 1e9, 1)
    print(json.dumps({"cublas_graph_chain": {"tokens_per_s": hf["cublas_graph_chain_tokens_per_s"],
                                             "GB/s": hf["cublas_graph_chain_GBps"]}}), flush=True)
    del Ws, xs, g

folder = os.path.join(WORK, "chatglm2-6b-shape")
os.makedirs(folder, exist_ok=True)
sd = glm_to_chatglm({k: v.detach() for k, v in big.state_dict().items()}, cfg)
save_file({k: v.cpu() for k, v in sd.items()}, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
json.dump(chatglm_config(cfg, "bfloat16", "chatglm2-6b"), open(os.path.join(folder, "config.json"), "w"), indent=2)
weights_gib = sum(v.numel() * 2 for v in sd.values()) / 2**30
del big, sd
torch.cuda.empty_cache()

tb_json = os.path.join(WORK, "tunebench_bench.json")
p = subprocess.run([CLI, "bench", "--model_name_or_path", folder, "--dtype", "bfloat16", "--device", "cuda",
                    "--json", tb_json], capture_output=True, text=True)
print(p.stdout, p.stderr[-3000:], flush=True)
if p.returncode != 0:
    R["ok"] = False
    R["bench_error"] = p.stderr[-2000:]
else:
    tb = json.load(open(tb_json))
    tb["model"] = os.path.basename(tb["model"])  # no machine paths in the results kept in the repository
    R["tunebench"] = tb
    R["transformers"] = hf
    R["weights_gib"] = round(weights_gib, 2)
    ratios = {}
    for d in tb["decode"]:
        ref = next(h for h in hf["decode"] if h["batch"] == d["batch"])
        ratios[f"decode_batch_{d['batch']}"] = round(d["tokens_per_s"] / ref["tokens_per_s"], 2)
    ratios["batch1_of_cublas_chain"] = round(tb["decode"][0]["tokens_per_s"] / hf["cublas_graph_chain_tokens_per_s"], 3)
    R["ratios"] = ratios
    print(json.dumps({"ratios": ratios}), flush=True)

# Batched = one row at a time on CUDA, through the CLI (the demo model).
csv = os.path.join(WORK, "questions.csv")
with open(csv, "w") as f:
    f.write("question\n")
    for i in range(40):
        f.write(f"Question {i}: what is {'LoRA' if i % 3 else 'QLoRA 是什么'} number {i * 7}?\n" if i % 2 else f"Tunebench {i}\n")


def predict(name, dtype, batch, graphs=True):
    out = os.path.join(WORK, name + ".csv")
    env = dict(os.environ, TUNEBENCH_CUDA_GRAPHS="1" if graphs else "0")
    t = time.time()
    subprocess.run([CLI, "predict", "--model_name_or_path", os.path.join(DEMO, "model"), "--adapter_name_or_path",
                    os.path.join(DEMO, "lora"), "--csv", csv, "--output", out, "--prompt_template", "{question}",
                    "--device", "cuda", "--dtype", dtype, "--do_sample", "false", "--max_new_tokens", "32",
                    "--per_device_eval_batch_size", str(batch)], check=True, env=env, capture_output=True)
    return open(out).read().splitlines(), time.time() - t


equal = {}
one32, _ = predict("fp32_b1", "float32", 1)
for name, dtype, batch, graphs in (("fp32_b8", "float32", 8, True), ("fp32_b16_eager", "float32", 16, False),
                                   ("fp32_b1_eager", "float32", 1, False)):
    rows, _ = predict(name, dtype, batch, graphs)
    same = sum(a == b for a, b in zip(rows, one32))
    equal[name] = {"rows_equal_to_fp32_batch1": same, "rows": len(one32)}
    if rows != one32:
        R["ok"] = False
one16, _ = predict("bf16_b1", "bfloat16", 1)
rows16, _ = predict("bf16_b8", "bfloat16", 8)
equal["bf16_b8"] = {"rows_equal_to_bf16_batch1": sum(a == b for a, b in zip(rows16, one16)), "rows": len(one16)}
R["batched_equals_single"] = equal
print(json.dumps({"batched_equals_single": equal}), flush=True)
json.dump(R, open(os.path.join(WORK, "results.json"), "w"), indent=2)
print("ALL OK" if R["ok"] else "SOME CHECKS FAILED")
sys.exit(0 if R["ok"] else 1)
