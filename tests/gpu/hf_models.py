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
