"""Logits of Tunebench vs transformers on the CPU, fp32, ≤ 1e-4 × max|logit| (issue 10 §3):
tiny random LLaMA (also with llama3 rope scaling), Qwen2 (tied embeddings), Qwen3 (q/k norms, its own
head_dim; with and without attention_bias), and transformers' GLM
written as ChatGLM3 and as ChatGLM2 (the model-dtype RoPE variant, the same in fp32) and as itself,
and transformers' GLM-4-0414 (glm4, a quarter of each head rotated); each over a
full forward, 8 KV-cache decode steps and a left-padded batch, with SDPA and the eager kernel."""
import json
import os

import torch
from safetensors.torch import load_file, save_file
from transformers import (Glm4Config, Glm4ForCausalLM, GlmConfig, GlmForCausalLM, LlamaConfig, LlamaForCausalLM,
                          Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

from common import PROBE, WORK, Checks, run, write_json
from hf_models import chatglm_config, glm_to_chatglm, randomize

TOL, STEPS = 1e-4, 8
torch.manual_seed(0)
checks = Checks()
common = dict(vocab_size=256, hidden_size=128, intermediate_size=344, num_hidden_layers=3, num_attention_heads=8,
              num_key_value_heads=2, rms_norm_eps=1e-5, max_position_embeddings=512)


glm_config = GlmConfig(**common, head_dim=16, partial_rotary_factor=0.5, attention_bias=True, pad_token_id=0, eos_token_id=2)
glm = GlmForCausalLM(glm_config)  # transformers' GLM = ChatGLM2/3's architecture with q/k/v split
randomize(glm)


def models():
    llama = LlamaForCausalLM(LlamaConfig(**common, rope_theta=10000.0, tie_word_embeddings=False))
    randomize(llama)
    yield "llama", llama, None
    llama3 = LlamaForCausalLM(LlamaConfig(**common, tie_word_embeddings=False, rope_parameters={
        "rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0, "low_freq_factor": 1.0,
        "high_freq_factor": 4.0, "original_max_position_embeddings": 32}))
    randomize(llama3)
    yield "llama3 rope scaling", llama3, None
    qwen = Qwen2ForCausalLM(Qwen2Config(**common, rope_theta=1000000.0, tie_word_embeddings=True))
    randomize(qwen)
    yield "qwen2 (tied)", qwen, None
    # Qwen3: q/k RMSNorm per head, head_dim independent of hidden_size (8 heads × 32 > 128), no biases
    qwen3 = Qwen3ForCausalLM(Qwen3Config(**common, head_dim=32, rope_theta=1000000.0, tie_word_embeddings=True))
    randomize(qwen3)
    yield "qwen3 (tied)", qwen3, None
    qwen3b = Qwen3ForCausalLM(Qwen3Config(**common, head_dim=16, attention_bias=True, tie_word_embeddings=False))
    randomize(qwen3b)
    yield "qwen3b attention_bias", qwen3b, None
    yield "chatglm3", glm, "chatglm3-6b"
    yield "chatglm2", glm, "chatglm2-6b"
    # GLM-4 as transformers has it: glm (split q/k/v, fused gate_up, half-head interleaved RoPE) and
    # glm4 (GLM-4-0414: norms on the attention's and the MLP's outputs too), loaded as they are
    yield "glm (transformers' names)", glm, None
    glm4 = Glm4ForCausalLM(Glm4Config(**common, head_dim=32, attention_bias=True, pad_token_id=0, eos_token_id=2,
                                      rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.25}))
    randomize(glm4)
    yield "glm4", glm4, None


def save(name, model, chatglm_name):
    d = os.path.join(WORK, name.split()[0])
    if chatglm_name is None:
        model.save_pretrained(d)
        return d
    os.makedirs(d, exist_ok=True)
    sd = {k: v.detach() for k, v in model.state_dict().items()}
    save_file(glm_to_chatglm(sd, model.config), os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(d, "config.json"), chatglm_config(model.config, "float32", chatglm_name))
    return d


def reference(model, rows, attn):
    model.config._attn_implementation = attn
    with torch.no_grad():
        single = [model(torch.tensor([r])).logits[0] for r in rows]
        T = max(map(len, rows))
        ids = torch.zeros(len(rows), T, dtype=torch.long)
        mask = torch.zeros_like(ids)
        pos = torch.zeros_like(ids)
        for b, r in enumerate(rows):
            ids[b, T - len(r):], mask[b, T - len(r):], pos[b, T - len(r):] = torch.tensor(r), 1, torch.arange(len(r))
        batch = model(ids, attention_mask=mask, position_ids=pos).logits
    return single, batch


rows = [[int(x) for x in torch.randint(3, 250, (n,))] for n in (40, 29, 17)]
for name, model, chatglm_name in models():
    model.eval()
    folder = save(name, model, chatglm_name)
    if name.startswith("llama3"):  # the case tests scaling only if the file carries it
        saved = json.load(open(os.path.join(folder, "config.json")))
        rope = saved.get("rope_parameters") or saved.get("rope_scaling") or {}
        checks.check(rope.get("rope_type") == "llama3", "llama3 rope scaling is in the saved config.json", rope=rope)
    for flash_attn, attn in (("auto", "sdpa"), ("disabled", "eager")):
        spec = write_json(os.path.join(WORK, "spec.json"), {"model": folder, "dtype": "float32", "device": "cpu",
                                                           "flash_attn": flash_attn, "rows": rows, "decode_steps": STEPS})
        out = os.path.join(WORK, "out.safetensors")
        run([PROBE, "forward", spec, out])
        got = load_file(out)
        single, batch = reference(model, rows, attn)
        what = f"{name} [{attn}]"
        for b, r in enumerate(rows):
            checks.close(TOL, single[b], got[f"row{b}_full"], f"{what} full forward, {len(r)} tokens")
            checks.close(TOL, single[b][len(r) - STEPS - 1:], got[f"row{b}_decode"], f"{what} KV-cache decode, {STEPS + 1} steps after {len(r) - STEPS - 1}")
        T = batch.shape[1]
        real = torch.cat([batch[b, T - len(r):] for b, r in enumerate(rows)])
        ours = torch.cat([got["batch"][b, T - len(r):] for b, r in enumerate(rows)])
        checks.close(TOL, real, ours, f"{what} left-padded batch of {len(rows)}")


# ChatGLM2 computes its RoPE angles in the model dtype (MODELS.md §1.4.4: θ, positions and their
# product rounded to bf16, so positions past 256 collapse), ChatGLM3 in fp32. In bf16 over 600
# positions: Tunebench's chatglm2 must follow a reference whose rotary table is built that way,
# its chatglm3 the fp32 table, and the two must not be confused (the check can fail).
def chatglm2_rotary(self, x, position_ids):
    dt, dim = x.dtype, self.inv_freq.shape[0] * 2
    theta = 1.0 / (10000 ** (torch.arange(0, dim, 2, dtype=dt) / dim))
    angles = (position_ids.to(dt)[..., None] * theta).float()  # outer product in the model dtype
    emb = torch.cat((angles, angles), dim=-1)
    return emb.cos().to(dt), emb.sin().to(dt)


BF16_TOL = 3e-2  # bf16 rounds after every op, and GLM rounds its norms at other points than ChatGLM
long_row = [int(x) for x in torch.randint(3, 250, (600,))]
glm.eval()
glm_bf16 = glm.to(torch.bfloat16)
with torch.no_grad():
    ref_fp32_angles = glm_bf16(torch.tensor([long_row])).logits[0].float()
    original = type(glm_bf16.model.rotary_emb).forward
    type(glm_bf16.model.rotary_emb).forward = chatglm2_rotary
    ref_model_dtype_angles = glm_bf16(torch.tensor([long_row])).logits[0].float()
    type(glm_bf16.model.rotary_emb).forward = original
got = {}
for version in ("chatglm2", "chatglm3"):
    spec = write_json(os.path.join(WORK, "spec.json"), {"model": os.path.join(WORK, version), "dtype": "bfloat16",
                                                       "device": "cpu", "rows": [long_row]})
    out = os.path.join(WORK, "out.safetensors")
    run([PROBE, "forward", spec, out])
    got[version] = load_file(out)["row0_full"]
checks.close(BF16_TOL, ref_model_dtype_angles, got["chatglm2"], "chatglm2 bf16, 600 positions = reference with model-dtype RoPE angles")
checks.close(BF16_TOL, ref_fp32_angles, got["chatglm3"], "chatglm3 bf16, 600 positions = reference with fp32 RoPE angles")
for version, wrong in (("chatglm2", ref_fp32_angles), ("chatglm3", ref_model_dtype_angles)):
    diff = (wrong - got[version]).abs().max().item()
    checks.check(diff > BF16_TOL * wrong.abs().max().item(),
                 f"{version} bf16 is out of tolerance against the other RoPE variant (so the check above can fail)",
                 max_abs_diff=diff)
checks.finish()
