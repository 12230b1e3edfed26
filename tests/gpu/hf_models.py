"""Helpers shared by the GPU scripts: random weights for transformers models, and transformers'
GLM (the ChatGLM architecture with q/k/v split) converted to ChatGLM's checkpoint names/config,
and LoRA adapters converted between the two layouts. Used by tests/gpu and tests/reference."""
import json
import os

import torch
from safetensors.torch import load_file, save_file


def randomize(model, std=0.05):
    # All parameters random (biases and norms too), so a wrong bias or norm cannot hide.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            else:
                p.normal_(0.0, std)

def glm_to_chatglm(sd, cfg):
    out = {"transformer.embedding.word_embeddings.weight": sd["model.embed_tokens.weight"],
           "transformer.encoder.final_layernorm.weight": sd["model.norm.weight"],
           "transformer.output_layer.weight": sd["lm_head.weight"]}
    for i in range(cfg.num_hidden_layers):
        s, d = f"model.layers.{i}.", f"transformer.encoder.layers.{i}."
        out[d + "input_layernorm.weight"] = sd[s + "input_layernorm.weight"]
        out[d + "post_attention_layernorm.weight"] = sd[s + "post_attention_layernorm.weight"]
        out[d + "self_attention.query_key_value.weight"] = torch.cat([sd[s + f"self_attn.{x}_proj.weight"] for x in "qkv"], 0)
        out[d + "self_attention.query_key_value.bias"] = torch.cat([sd[s + f"self_attn.{x}_proj.bias"] for x in "qkv"], 0)
        out[d + "self_attention.dense.weight"] = sd[s + "self_attn.o_proj.weight"]
        out[d + "mlp.dense_h_to_4h.weight"] = sd[s + "mlp.gate_up_proj.weight"]
        out[d + "mlp.dense_4h_to_h.weight"] = sd[s + "mlp.down_proj.weight"]
    return {k: v.contiguous() for k, v in out.items()}

def chatglm_config(cfg, dtype, name="chatglm3-6b"):
    return {"_name_or_path": name, "model_type": "chatglm", "architectures": ["ChatGLMModel"],
            "num_layers": cfg.num_hidden_layers, "hidden_size": cfg.hidden_size,
            "num_attention_heads": cfg.num_attention_heads, "kv_channels": cfg.head_dim,
            "multi_query_attention": True, "multi_query_group_num": cfg.num_key_value_heads,
            "ffn_hidden_size": cfg.intermediate_size, "padded_vocab_size": cfg.vocab_size,
            "layernorm_epsilon": cfg.rms_norm_eps, "seq_length": 8192, "add_qkv_bias": True,
            "add_bias_linear": False, "rmsnorm": True, "post_layer_norm": True,
            "apply_residual_connection_post_layernorm": False, "torch_dtype": dtype,
            "eos_token_id": 2, "pad_token_id": 0, "tie_word_embeddings": False}


GLM_NAMES = {"self_attention.dense": "self_attn.o_proj", "mlp.dense_h_to_4h": "mlp.gate_up_proj",
             "mlp.dense_4h_to_h": "mlp.down_proj"}


def chatglm_adapter_to_glm(src, dst, cfg):
    """Our fused query_key_value LoRA → PEFT on split q/k/v (same A, B split by rows): exact."""
    sd, out = load_file(os.path.join(src, "adapter_model.safetensors")), {}
    q, kv = cfg.num_attention_heads * cfg.head_dim, cfg.num_key_value_heads * cfg.head_dim
    for k, v in sd.items():
        i = k.split(".layers.")[1].split(".")[0]
        p = f"base_model.model.model.layers.{i}."
        if "query_key_value" in k:
            for name, (a, b) in zip("qkv", [(0, q), (q, q + kv), (q + kv, q + 2 * kv)]):
                out[p + f"self_attn.{name}_proj." + k.split("query_key_value.")[1]] = v.clone() if ".lora_A." in k else v[a:b].contiguous()
        else:
            for ours, theirs in GLM_NAMES.items():
                if ours in k:
                    out[p + theirs + "." + k.split(ours + ".")[1]] = v
    os.makedirs(dst, exist_ok=True)
    save_file(out, os.path.join(dst, "adapter_model.safetensors"), metadata={"format": "pt"})
    c = json.load(open(os.path.join(src, "adapter_config.json")))
    c["target_modules"] = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj"]
    json.dump(c, open(os.path.join(dst, "adapter_config.json"), "w"))


def glm_adapter_to_chatglm(src, dst, cfg):
    """PEFT on split q/k/v (separate A's) → one fused LoRA of rank 3r: A = [Aq; Ak; Av], B block-diagonal."""
    sd, c = load_file(os.path.join(src, "adapter_model.safetensors")), json.load(open(os.path.join(src, "adapter_config.json")))
    r, out = c["r"], {}
    for i in range(cfg.num_hidden_layers):
        p, d = f"base_model.model.model.layers.{i}.", f"base_model.model.transformer.encoder.layers.{i}."
        A = [sd[p + f"self_attn.{x}_proj.lora_A.weight"] for x in "qkv"]
        B = [sd[p + f"self_attn.{x}_proj.lora_B.weight"] for x in "qkv"]
        out[d + "self_attention.query_key_value.lora_A.weight"] = torch.cat(A, 0).contiguous()
        out[d + "self_attention.query_key_value.lora_B.weight"] = torch.block_diag(*B).contiguous()
        for ours, theirs in GLM_NAMES.items():
            for ab in ["lora_A", "lora_B"]:
                w = sd[p + theirs + f".{ab}.weight"]
                # the rank-r modules keep scaling alpha/r when the config says rank 3r, alpha 3·alpha
                out[d + ours + f".{ab}.weight"] = w
    os.makedirs(dst, exist_ok=True)
    save_file(out, os.path.join(dst, "adapter_model.safetensors"), metadata={"format": "pt"})
    c["r"], c["lora_alpha"] = 3 * r, 3 * c["lora_alpha"]
    c["target_modules"] = ["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]
    json.dump(c, open(os.path.join(dst, "adapter_config.json"), "w"))


def interchange_models(work, stories, device):
    """The models adapters are exchanged on: (name, HF model in fp32 on device, Tunebench folder,
    PEFT target modules or None for every linear, Tunebench lora_target). stories260K (LLaMA), a
    random Qwen2 with tied embeddings, a random Qwen3 (q/k norms, head_dim 32 with hidden 64 / 4
    heads), a random GLM-4-0414 (glm4: fused gate_up_proj, output norms) and a random GLM written as
    ChatGLM."""
    import shutil
    from transformers import (Glm4Config, Glm4ForCausalLM, GlmConfig, GlmForCausalLM, LlamaForCausalLM, Qwen2Config,
                              Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)
    llama = LlamaForCausalLM.from_pretrained(stories, dtype=torch.float32).to(device)
    yield "llama (stories260K)", llama, stories, ["q_proj", "v_proj", "o_proj", "down_proj"], "q_proj,v_proj,o_proj,down_proj"
    common = dict(vocab_size=640, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, rms_norm_eps=1e-5, max_position_embeddings=512)
    def saved(model, name):  # a random model with stories260K's tokenizer beside it
        randomize(model)
        d = os.path.join(work, name)
        model.save_pretrained(d)
        for f in ["tokenizer.model", "tokenizer_config.json"]:
            shutil.copy(os.path.join(stories, f), d)
        return model.to(device), d
    ids = dict(pad_token_id=0, bos_token_id=1, eos_token_id=2)
    qwen, dq = saved(Qwen2ForCausalLM(Qwen2Config(**common, tie_word_embeddings=True, **ids)), "qwen2")
    yield "qwen2 (random, tied)", qwen, dq, ["q_proj", "k_proj", "v_proj", "gate_proj"], "all"
    qwen3, d3 = saved(Qwen3ForCausalLM(Qwen3Config(**common, head_dim=32, tie_word_embeddings=False, **ids)), "qwen3")
    yield "qwen3 (random)", qwen3, d3, ["q_proj", "k_proj", "o_proj", "up_proj"], "all"
    glm4, d4 = saved(Glm4ForCausalLM(Glm4Config(**common, head_dim=16, attention_bias=True, **ids)), "glm4")
    yield "glm4 (random)", glm4, d4, ["q_proj", "v_proj", "gate_up_proj", "down_proj"], "all"
    gcfg = GlmConfig(**common, tie_word_embeddings=False, head_dim=16, partial_rotary_factor=0.5, attention_bias=True,
                     pad_token_id=0, eos_token_id=2)
    glm = GlmForCausalLM(gcfg)
    randomize(glm)
    dg = os.path.join(work, "glm")
    os.makedirs(dg, exist_ok=True)
    save_file(glm_to_chatglm({k: v.detach() for k, v in glm.state_dict().items()}, gcfg),
              os.path.join(dg, "model.safetensors"), metadata={"format": "pt"})
    json.dump(chatglm_config(gcfg, "float32"), open(os.path.join(dg, "config.json"), "w"), indent=2)
    shutil.copy(os.path.join(stories, "tokenizer.model"), dg)
    yield "glm -> chatglm (random)", glm.to(device), dg, None, "all"


def adapter_interchange(name, hf, folder, peft_targets, work, x, train, logits):
    """Both directions for one model: an adapter trained by Tunebench (train(folder, out)) loaded
    in PEFT, and a PEFT adapter with random lora_B loaded in Tunebench (logits(folder, adapter) →
    [T, V]). Returns ([(direction, PEFT logits, Tunebench logits, Tunebench adapter folder)],
    the PEFT adapter's folder, the model without adapters)."""
    from peft import LoraConfig, PeftModel, get_peft_model
    key = name.split()[0]
    out = []
    ours_dir = os.path.join(work, f"tb-adapter-{key}")
    train(folder, ours_dir)
    load_dir = ours_dir
    if key == "glm":
        load_dir = os.path.join(work, "tb-adapter-glm-as-peft")
        chatglm_adapter_to_glm(ours_dir, load_dir, hf.config)
    pm = PeftModel.from_pretrained(hf, load_dir)
    with torch.no_grad():
        ref = pm(x).logits[0]
    out.append(("tunebench-trained adapter -> PEFT", ref, logits(folder, ours_dir), ours_dir))
    hf = pm.unload()
    targets = peft_targets or ["q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj"]
    pm = get_peft_model(hf, LoraConfig(r=4, lora_alpha=8, target_modules=targets))
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
        ref = pm(x).logits[0]
    peft_dir = os.path.join(work, f"peft-adapter-{key}")
    pm.save_pretrained(peft_dir)
    load_dir = peft_dir
    if key == "glm":
        load_dir = os.path.join(work, "peft-adapter-glm-fused")
        glm_adapter_to_chatglm(peft_dir, load_dir, hf.config)
    out.append(("PEFT adapter -> tunebench", ref, logits(folder, load_dir), load_dir))
    return out, peft_dir, pm.unload()


def probe_logits(probe, work, folder, ids, dtype="float32", device="cpu", adapter=None):
    """Tunebench's logits [T, V] (fp32) for one row of ids: tunebench_probe forward."""
    import subprocess
    spec, out = os.path.join(work, "probe-spec.json"), os.path.join(work, "probe-logits.safetensors")
    json.dump({"model": folder, "adapter": adapter, "dtype": dtype, "device": device, "rows": [ids]}, open(spec, "w"))
    p = subprocess.run([probe, "forward", spec, out], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"tunebench_probe forward failed: {p.stderr[-2000:]}")
    return load_file(out)["row0_full"]
