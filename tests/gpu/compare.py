#!/usr/bin/env python3
"""Tunebench vs transformers on the same random weights (run by run_gpu_checks.sh).

1. Logits: tiny LLaMA, Qwen2, Qwen3, GLM-4-0414 (glm4) and GLM (transformers' GlmForCausalLM = the ChatGLM architecture
   with q/k/v split; its weights are converted to ChatGLM names and config keys) at fp32 and
   bf16, plus the LLaMA model saved as torch.save pytorch_model.bin.
2. Greedy decoding of Qwen3 and GLM-4 through tunebench-cli generate on CUDA = transformers' generate.
Decode speed is bench_inference.py's (tunebench-cli bench beside transformers' generate).
"""
import json, os, subprocess, sys, time
import torch
from safetensors.torch import save_file, load_file
import transformers
from hf_models import randomize, glm_to_chatglm, chatglm_config, probe_logits
from transformers import (LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM,
                          Qwen3Config, Qwen3ForCausalLM, GlmConfig, GlmForCausalLM, Glm4Config, Glm4ForCausalLM)

TOOL, WORK = sys.argv[1], sys.argv[2]
os.makedirs(WORK, exist_ok=True)
torch.manual_seed(0)
results = {"torch": torch.__version__, "transformers": transformers.__version__,
           "gpu": torch.cuda.get_device_name(0), "logits": [], "ok": True}

PROBE = os.path.join(os.path.dirname(TOOL), "tunebench_probe")  # built beside the GPU tool


def compare(name, model, folder, ids, dtype, tol):
    # Tolerances: fp32 runs the same op sequence (SDPA, cuBLAS GEMMs with TF32 off) so only
    # reduction order differs: 1e-4 of the logit scale. bf16 rounds after every op (8-bit
    # mantissa, ~0.4% per rounding; GLM's RMSNorm also rounds at a different point than
    # ChatGLM's) so differences of a few bf16 ulps of the logits are expected: 3e-2 of the scale.
    tdtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]
    m = model.to(tdtype).cuda().eval()
    with torch.no_grad():
        ref = m(torch.tensor([ids]).cuda()).logits[0].float().cpu()
    got = probe_logits(PROBE, WORK, folder, ids, dtype, "cuda")
    scale = ref.abs().max().item()
    diff = (ref - got).abs().max().item()
    argmax = (ref.argmax(-1) == got.argmax(-1)).float().mean().item()
    ok = diff <= tol * scale
    results["ok"] &= ok
    row = {"model": name, "dtype": dtype, "max_abs_diff": diff, "logit_scale": scale,
           "tolerance": tol * scale, "argmax_agreement": argmax, "ok": ok}
    results["logits"].append(row)
    print(json.dumps(row), flush=True)

ids = [int(x) for x in torch.randint(3, 250, (48,))]
common = dict(vocab_size=256, hidden_size=128, intermediate_size=344, num_hidden_layers=3,
              num_attention_heads=8, num_key_value_heads=2, rms_norm_eps=1e-5, max_position_embeddings=512)

# LLaMA (also written as pytorch_model.bin to check the torch.save reader)
llama = LlamaForCausalLM(LlamaConfig(**common, rope_theta=10000.0, tie_word_embeddings=False))
randomize(llama)
d = os.path.join(WORK, "llama"); llama.save_pretrained(d)
dbin = os.path.join(WORK, "llama_bin"); os.makedirs(dbin, exist_ok=True)
torch.save(llama.state_dict(), os.path.join(dbin, "pytorch_model.bin"))
subprocess.run(["cp", os.path.join(d, "config.json"), dbin], check=True)
qwen = Qwen2ForCausalLM(Qwen2Config(**common, rope_theta=1000000.0, tie_word_embeddings=True))
randomize(qwen)
dq = os.path.join(WORK, "qwen2"); qwen.save_pretrained(dq)
qwen3 = Qwen3ForCausalLM(Qwen3Config(**common, head_dim=32, rope_theta=1000000.0, tie_word_embeddings=True))
randomize(qwen3)
dq3 = os.path.join(WORK, "qwen3"); qwen3.save_pretrained(dq3)
glm4 = Glm4ForCausalLM(Glm4Config(**common, head_dim=32, attention_bias=True, pad_token_id=0, eos_token_id=2))
randomize(glm4)
dg4 = os.path.join(WORK, "glm4"); glm4.save_pretrained(dg4)
glm_cfg = GlmConfig(**common, head_dim=16, partial_rotary_factor=0.5, attention_bias=True, pad_token_id=0, eos_token_id=2)
glm = GlmForCausalLM(glm_cfg)
randomize(glm)
dg = os.path.join(WORK, "glm"); os.makedirs(dg, exist_ok=True)
save_file(glm_to_chatglm({k: v.detach() for k, v in glm.state_dict().items()}, glm_cfg), os.path.join(dg, "model.safetensors"), metadata={"format": "pt"})
json.dump(chatglm_config(glm_cfg, "float32"), open(os.path.join(dg, "config.json"), "w"), indent=2)

for dtype, tol in (("float32", 1e-4), ("bfloat16", 3e-2)):
    compare("llama", llama, d, ids, dtype, tol)
    compare("llama (pytorch_model.bin)", llama, dbin, ids, dtype, tol)
    compare("qwen2", qwen, dq, ids, dtype, tol)
    compare("qwen3", qwen3, dq3, ids, dtype, tol)
    compare("glm4", glm4, dg4, ids, dtype, tol)
    compare("glm → chatglm", glm, dg, ids, dtype, tol)
del llama, qwen, qwen3, glm4, glm
torch.cuda.empty_cache()

# 2. Greedy decoding through `tunebench-cli generate` on CUDA (the decode context, CUDA graphs on and
# off) against transformers' generate, for the families whose layers have their own extras (Qwen3's
# q/k norms, GLM-4's output norms and partial interleaved RoPE): 40 tokens, fp32, the same text.
# lm_head's byte-token rows are zeroed so that the texts compare without byte-decoding differences.
import shutil

CLI = os.path.join(os.path.dirname(TOOL), "..", "..", "app", "cli", "tunebench-cli")
STORIES = os.environ["STORIES_DIR"]
try:  # the stories tokenizer itself (AutoTokenizer would pick a class by model_type: a GLM one for glm4)
    import sentencepiece
    sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(STORIES, "tokenizer.model"))
except ImportError:
    from transformers import LlamaTokenizer
    llama_tok = LlamaTokenizer.from_pretrained(STORIES)
    class sp:
        encode = staticmethod(lambda text: llama_tok.encode(text, add_special_tokens=False))
        decode = staticmethod(lambda ids: llama_tok.decode(ids))
results["decode"] = []
prompt = "Once upon a time there was a little"
shape = dict(vocab_size=512, hidden_size=128, intermediate_size=256, num_hidden_layers=3, num_attention_heads=4,
             num_key_value_heads=2, head_dim=64, max_position_embeddings=512, tie_word_embeddings=False, pad_token_id=0,
             bos_token_id=1, eos_token_id=2)
for name, model in (("qwen3", Qwen3ForCausalLM(Qwen3Config(**shape))),
                    ("glm4", Glm4ForCausalLM(Glm4Config(**shape, attention_bias=True)))):
    torch.manual_seed(3)
    randomize(model, std=0.2)
    with torch.no_grad():
        model.lm_head.weight[3:259] = 0
    folder = os.path.join(WORK, f"decode-{name}")
    model.save_pretrained(folder)
    for f in ["tokenizer.model", "tokenizer_config.json"]:
        shutil.copy(os.path.join(STORIES, f), folder)
    ids = torch.tensor([[1] + sp.encode(prompt)]).cuda()
    with torch.no_grad():
        out = model.cuda().eval().generate(ids, max_new_tokens=40, do_sample=False)
    want = sp.decode(out[0, ids.shape[1]:].tolist())
    for graphs in ("1", "0"):
        p = subprocess.run([CLI, "generate", "--model_name_or_path", folder, "--prompt", prompt, "--do_sample", "false",
                            "--max_new_tokens", "40", "--device", "cuda", "--dtype", "float32", "--template", "empty"],
                           capture_output=True, text=True, env=dict(os.environ, TUNEBENCH_CUDA_GRAPHS=graphs))
        ok = p.returncode == 0 and p.stdout.strip() == want.strip() and len(want) > 20
        results["ok"] &= ok
        row = {"model": name, "cuda_graphs": graphs == "1", "ok": ok, "tunebench": p.stdout.strip()[:60] or p.stderr[-200:],
               "transformers": want[:60]}
        results["decode"].append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    del model

json.dump(results, open(os.path.join(WORK, "results.json"), "w"), indent=2)
print("ALL OK" if results["ok"] else "SOME CHECKS FAILED")
sys.exit(0 if results["ok"] else 1)
