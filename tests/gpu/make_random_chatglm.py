"""Writes a ChatGLM model folder with random bf16 weights of the shape a tokenizer folder's config.json
describes (e.g. ../shared/models/chatglm3-6b-tokenizer → a 6.24B-parameter ChatGLM3-6B), with that
folder's tokenizer files, so full-size training can be timed without downloading weights.
Usage: make_random_chatglm.py TOKENIZER_DIR OUT_DIR"""
import json, os, shutil, sys
import torch
from safetensors.torch import save_file

src, dst = sys.argv[1], sys.argv[2]
cfg = json.load(open(os.path.join(src, "config.json")))
os.makedirs(dst, exist_ok=True)
for f in os.listdir(src):
    if f.startswith("tokenizer") or f == "config.json":
        shutil.copy(os.path.join(src, f), os.path.join(dst, f))
H, L, F, V = cfg["hidden_size"], cfg["num_layers"], cfg["ffn_hidden_size"], cfg["padded_vocab_size"]
heads, kv, hd = cfg["num_attention_heads"], cfg["multi_query_group_num"], cfg["kv_channels"]
qkv = heads * hd + 2 * kv * hd
shapes = {"transformer.embedding.word_embeddings.weight": (V, H),
          "transformer.encoder.final_layernorm.weight": (H,), "transformer.output_layer.weight": (V, H)}
for i in range(L):
    p = f"transformer.encoder.layers.{i}."
    shapes.update({p + "input_layernorm.weight": (H,), p + "post_attention_layernorm.weight": (H,),
                   p + "self_attention.query_key_value.weight": (qkv, H), p + "self_attention.query_key_value.bias": (qkv,),
                   p + "self_attention.dense.weight": (H, heads * hd), p + "mlp.dense_h_to_4h.weight": (2 * F, H),
                   p + "mlp.dense_4h_to_h.weight": (H, F)})
g = torch.Generator(device="cuda").manual_seed(0)
sd = {}
for name, shape in shapes.items():
    if "layernorm" in name:
        sd[name] = torch.ones(shape, dtype=torch.bfloat16)
    else:  # std 1/sqrt(fan_in) keeps activations and the loss finite through 28 layers
        std = 1.0 / shape[-1] ** 0.5
        sd[name] = (torch.randn(shape, generator=g, device="cuda") * std).to(torch.bfloat16).cpu()
save_file(sd, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})
cfg["torch_dtype"] = "bfloat16"
json.dump(cfg, open(os.path.join(dst, "config.json"), "w"), indent=2)
print(f"{sum(t.numel() for t in sd.values()) / 1e9:.2f}B parameters written to {dst}")
