"""Helpers shared by the GPU scripts: random weights for transformers models, and transformers'
GLM (the ChatGLM architecture with q/k/v split) converted to ChatGLM's checkpoint names/config."""
import torch


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
