"""`tunebench-cli export … export_format=gguf` of models with byte-level BPE vocabularies (issue 13):
a random Qwen2 model (llama.cpp's `qwen2`: q/k/v biases, no permutation, tied embeddings) with the
real Qwen2 tokenizer (vocab.json + merges.txt), a random Qwen3 model (`qwen3`: q/k norms, head_dim
not hidden/heads, no biases) with the real Qwen3 tokenizer (tokenizer.json, pairs as merges,
non-special added tokens), a random LLaMA-3.1 (`llama`, rope_type llama3 → a rope_freqs
tensor) with the real LLaMA-3 tokenizer, and random GLM-4s — transformers' glm as llama.cpp's
`chatglm` (q/k/v apart with biases, fused gate|up, half of each head rotated in pairs)
and glm4 as its `glm4` (plus the two output norms) — with Qwen2's tokenizer standing in, checked against:
- llama.cpp's own converter (convert_hf_to_gguf.py of llama-cpp-python 0.3.16) run on the same
  folder: every architecture and tokenizer key it writes has the same value in our file (tokens,
  types, merges, special ids, pre-tokenizer name, chat template), and every tensor of our F32
  file has its name, shape and bytes;
- llama.cpp (llama-cpp-python) loading our F32 files and one or two of F16, Q8_0, Q4_K_M each: its tokenizer gives
  Tunebench's ids on Chinese, English, digits, whitespace and special tokens, and its logits equal
  transformers' on the weights the file holds (gguf-py's dequantization), with the greedy token
  equal at every position (the quantized files' agreement with the unquantized model is printed);
- llama.cpp's quantizer on our F32 file: the same tensor types and bytes as our Q8_0 and Q4_K_M;
- the Ollama Modelfile beside the file (gguf_common.check_modelfile)."""
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import torch
from gguf import GGUFReader
from gguf.quants import dequantize
from safetensors.torch import load_file
from transformers import (AutoModelForCausalLM, Glm4Config, Glm4ForCausalLM, GlmConfig, GlmForCausalLM, LlamaConfig,
                          LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM, Qwen3Config, Qwen3ForCausalLM)

import llama_cpp
from common import CLI, SHARED, WORK, Checks, write_json
from gguf_common import FTYPES, gguf_name, check_against_llama_quantize, check_modelfile, export, tensor_bytes, unpermute

checks = Checks()
CONVERTER = os.path.join(os.path.dirname(llama_cpp.__file__), "..", "bin", "convert_hf_to_gguf.py")
# the converter's own tokenizer check text (its pre-tokenizer hash is taken over it)
CHKTXT = eval(re.search(r"chktxt = (.*?)\n", open(CONVERTER, encoding="utf-8").read()).group(1))
TEXT = "你好，请介绍一下 Tunebench。\nOnce upon a time,  in 2026: 12345 apples!"
SPECIAL_TEXT = {"qwen2": "<|im_start|>user\n你好<|im_end|>\n", "qwen3": "<|im_start|>user\n<think>你好</think><|im_end|>",
                "llama3": "<|start_header_id|>user<|end_header_id|>\n\nHello 世界<|eot_id|>"}
# the converter's own bookkeeping, not facts about the model
# Where we differ from the converter on purpose: its pre-tokenizer hash names Meta's LLaMA-3
# tokenizer.json (ignore_merges) "smaug-bpe", under which llama.cpp skips ignore_merges and
# tokenizes the tokenizer's own test vectors differently from it (and from Tunebench); we write
# "llama-bpe" (checked below: llama.cpp reading our file tokenizes them as Tunebench).
# And this converter, reading the config through transformers 5 (which moves rope_scaling under
# rope_parameters), leaves out LLaMA-3.1's rope_freqs tensor, which we write: its values are
# checked against the converter's own formula (LlamaModel.generate_extra_tensors) below.
EXPECTED_DIFFERENCES = {("llama3", "tokenizer.ggml.pre"), ("llama3", "GGUF.tensor_count")}
EXTRA_TENSORS = {"llama3": "rope_freqs.weight"}
IGNORED_KEYS = {"general.name", "general.type", "general.size_label", "general.basename", "general.finetune",
                "general.file_type", "general.quantization_version", "GGUF.kv_count"}


def randomize(model):
    torch.manual_seed(0)
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.normal_(0, 0.05 if p.dim() > 1 else 1.0)
            if "norm" in name:
                p.abs_().add_(0.5)  # norm weights (Qwen3's per-head q/k norms too) away from zero


def make_model(label, model, tokenizer_dir):
    """The model saved with the Hub's config.json layout (rope_theta and rope_scaling at the top, as
    the released Qwen2 and LLaMA-3.1 files have them; transformers 5 nests them under
    rope_parameters, which this converter does not read) and the real tokenizer's files."""
    d = os.path.join(WORK, label)
    randomize(model)
    model.save_pretrained(d)
    config = json.load(open(os.path.join(d, "config.json")))
    rope = config.pop("rope_parameters", {})
    config["rope_theta"] = rope.pop("rope_theta", 10000.0)
    if rope.get("rope_type", "default") != "default":
        config["rope_scaling"] = rope
    write_json(os.path.join(d, "config.json"), config)
    for f in os.listdir(tokenizer_dir):
        if f.endswith(".json") and f != "config.json" or f == "merges.txt":
            shutil.copy(os.path.join(tokenizer_dir, f), d)
    return d


def value(field):
    v = field.contents()
    return [float(x) for x in v] if isinstance(v, list) and v and isinstance(v[0], float) else v


def check_against_converter(label, model_dir, ours_path):
    theirs_path = os.path.join(WORK, f"{label}-converter-F32.gguf")
    p = subprocess.run([sys.executable, CONVERTER, model_dir, "--outfile", theirs_path, "--outtype", "f32"],
                       capture_output=True, text=True)
    if not checks.check(p.returncode == 0, f"{label}: llama.cpp's convert_hf_to_gguf.py converts the folder",
                        stderr=p.stderr.strip()[-400:]):
        return
    ours, theirs = GGUFReader(ours_path), GGUFReader(theirs_path)
    differing = []
    for key, field in theirs.fields.items():
        if key in IGNORED_KEYS or (label, key) in EXPECTED_DIFFERENCES:
            continue
        if key not in ours.fields:
            differing.append(f"{key} missing")
        elif value(ours.fields[key]) != value(field):
            a, b = value(ours.fields[key]), value(field)
            where = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), None) if isinstance(a, list) else None
            differing.append(f"{key}: ours {a if where is None else a[where]!r} vs {b if where is None else b[where]!r}"
                             + (f" at {where}" if where is not None else ""))
    checks.check(not differing, f"{label}: every key the converter writes has its value in our file",
                 differing=differing[:4], keys=len(theirs.fields))
    a = {t.name: t for t in ours.tensors}
    b = {t.name: t for t in theirs.tensors}
    if label in EXTRA_TENSORS:
        extra = a.pop(EXTRA_TENSORS[label])
        checks.check(np.allclose(np.asarray(extra.data), llama3_rope_factors(model_dir), rtol=1e-6, atol=0),
                     f"{label}: rope_freqs holds the converter's llama3 factors", ours=np.asarray(extra.data)[:6].tolist())
    bad = [n for n, t in b.items() if n not in a or list(a[n].shape) != list(t.shape) or
           a[n].tensor_type != t.tensor_type or not np.array_equal(tensor_bytes(a[n]), tensor_bytes(t))]
    checks.check(not bad and set(a) == set(b), f"{label} F32: every tensor equals the converter's (name, shape, type, bytes)",
                 differing=bad[:4], only_ours=sorted(set(a) - set(b))[:4], only_theirs=sorted(set(b) - set(a))[:4])


def llama3_rope_factors(model_dir):
    """LlamaModel.generate_extra_tensors of convert_hf_to_gguf.py, on the Hub-layout config.json."""
    import math
    c = json.load(open(os.path.join(model_dir, "config.json")))
    r = c["rope_scaling"]
    dim = c.get("head_dim") or c["hidden_size"] // c["num_attention_heads"]
    freqs = 1.0 / (c["rope_theta"] ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    old = r["original_max_position_embeddings"]
    low, high = old / r["low_freq_factor"], old / r["high_freq_factor"]
    out = []
    for f in freqs.tolist():
        wavelen = 2 * math.pi / f
        if wavelen < high:
            out.append(1.0)
        elif wavelen > low:
            out.append(r["factor"])
        else:
            smooth = (old / wavelen - r["low_freq_factor"]) / (r["high_freq_factor"] - r["low_freq_factor"])
            out.append(1 / ((1 - smooth) / r["factor"] + smooth))
    return np.array(out, dtype=np.float32)


def tunebench_ids(model_dir, text, special):
    cmd = [CLI, "tokenize", "--model_name_or_path", model_dir, "--text", text] + (["--add_special_tokens"] if special else [])
    p = subprocess.run(cmd, capture_output=True, text=True)
    return [int(i) for i in p.stdout.split()] if p.returncode == 0 else p.stderr.strip()[-200:]


def check_file(label, tok_label, model_dir, gguf_type, path):
    what = f"{label} {gguf_type}"
    hf = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    cfg = hf.config
    llama = cfg.model_type == "llama"
    heads_of = lambda n: 0 if not llama else cfg.num_attention_heads if "q_proj" in n else cfg.num_key_value_heads if "k_proj" in n else 0
    weights = {k: v.float().numpy() for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
    tensors = {t.name: t for t in GGUFReader(path).tensors}
    held_sd = {}
    for hf_name, w in weights.items():
        t = tensors[gguf_name(hf_name)]
        want_shape = w.shape
        x = dequantize(tensor_bytes(t).reshape(want_shape[0], -1) if w.ndim == 2 else tensor_bytes(t), t.tensor_type).reshape(want_shape)
        held_sd[hf_name] = torch.from_numpy(np.ascontiguousarray(unpermute(x, heads_of(hf_name)) if heads_of(hf_name) else x))
    held = type(hf)(cfg).eval()
    if cfg.tie_word_embeddings:
        held_sd["lm_head.weight"] = held_sd["model.embed_tokens.weight"]
    held.load_state_dict(held_sd)

    llm = llama_cpp.Llama(model_path=path, n_ctx=128, logits_all=True, verbose=False, n_threads=1)
    vectors = open(os.path.join(SHARED, "models", f"{tok_label}-tokenizer", "test-vectors.inp"), encoding="utf-8").read()[:4000]
    for text, special in [(TEXT, False), (CHKTXT, False), (vectors, False), (SPECIAL_TEXT[tok_label], True)]:
        ids = llm.tokenize(text.encode(), add_bos=False, special=special)
        mine = tunebench_ids(model_dir, text, False)
        checks.check(ids == mine, f"{what}: llama.cpp tokenizes {text[:24]!r}… as Tunebench", llama_cpp=ids[:16], tunebench=mine[:16])
        from_file = tunebench_ids(path, text, False)
        checks.check(ids == from_file, f"{what}: Tunebench reading the GGUF's vocabulary tokenizes {text[:24]!r}… as llama.cpp",
                     tunebench_gguf=from_file[:16])
    with_bos = llm.tokenize(TEXT.encode(), add_bos=True, special=False)
    mine = tunebench_ids(model_dir, TEXT, True)
    checks.check(with_bos == mine, f"{what}: llama.cpp's add_bos gives Tunebench's model input", llama_cpp=with_bos[:4], tunebench=mine[:4])

    row = llm.tokenize(SPECIAL_TEXT[tok_label].encode(), add_bos=True, special=True) + llm.tokenize(TEXT.encode(), add_bos=False)
    llm.reset()
    llm.eval(row)
    got = np.array(llm.scores[:len(row)])
    with torch.no_grad():
        want = held(torch.tensor([row])).logits[0].numpy()
        original = hf(torch.tensor([row])).logits[0].numpy()
    # llama.cpp keeps its KV cache in F16 and quantizes the activations for quantized weights
    tol = {"F32": 2e-3, "F16": 3e-3}.get(gguf_type, 1e-1)
    scale = float(np.abs(want).max())
    diff = float(np.abs(got - want).max())
    agree = float((got.argmax(-1) == want.argmax(-1)).mean())
    # the greedy token must be equal wherever the reference's top two are further apart than the tolerance
    top2 = np.sort(want, -1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 2 * tol * scale
    flipped = int(((got.argmax(-1) != want.argmax(-1)) & clear).sum())
    checks.check(diff <= tol * scale and flipped == 0,
                 f"{what}: llama.cpp's logits equal transformers' on the file's weights ({len(row)} tokens)",
                 max_abs_diff=diff, scale=scale, greedy_agreement=agree, flipped_clear_positions=flipped,
                 greedy_agreement_vs_unquantized=float((got.argmax(-1) == original.argmax(-1)).mean()))
    del llm


# 128 wide, so the 150k-row embeddings stay small (K-quant blocks of 256 are covered by
# test_gguf_export.py's 256-wide models; here Q4_K_M falls back per row as llama-quantize does)
def qwen2(tie):
    return Qwen2ForCausalLM(Qwen2Config(vocab_size=151936, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                                        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                                        rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=tie,
                                        bos_token_id=151643, eos_token_id=151645))


qwen3 = Qwen3ForCausalLM(Qwen3Config(vocab_size=151936, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                                     num_attention_heads=4, num_key_value_heads=2, head_dim=64, max_position_embeddings=1024,
                                     rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True,
                                     bos_token_id=151643, eos_token_id=151645))
llama3 = LlamaForCausalLM(LlamaConfig(
    vocab_size=128256, hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, max_position_embeddings=131072, rms_norm_eps=1e-5, rope_theta=500000.0,
    rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                  "original_max_position_embeddings": 8192},
    tie_word_embeddings=False, bos_token_id=128000, eos_token_id=128001))
# GLM-4 as transformers has it: glm (glm-4-9b-chat-hf) as llama.cpp's chatglm with q/k/v apart, glm4
# (GLM-4-0414) as its glm4. No GLM-4 tokenizer is in ../shared: Qwen2's stands in (the same byte-level
# BPE machinery; GLM-4's own regex is LLaMA-3's). llama.cpp's converter needs GLM-4's own tokenizer
# for these classes (ChatGLMModel.set_vocab reads tiktoken's mergeable_ranks; Glm4Model its role
# tokens), and the Modelfile's glm4 template needs its role tokens (<|user|>, … single tokens there,
# text in Qwen2's); so for them llama.cpp's loading, tokenizer, logits and quantizer are checked.
glm_common = dict(vocab_size=151936, hidden_size=128, intermediate_size=256, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, head_dim=32, max_position_embeddings=1024, rms_norm_eps=1e-5, attention_bias=True,
                  partial_rotary_factor=0.5, tie_word_embeddings=False, bos_token_id=151643, eos_token_id=151645)
glm = GlmForCausalLM(GlmConfig(**glm_common))
glm4 = Glm4ForCausalLM(Glm4Config(**glm_common))
NO_CONVERTER = {"glm", "glm4"}
models = os.path.join(SHARED, "models")
cases = [("qwen2-tied", "qwen2", make_model("qwen2-tied", qwen2(True), os.path.join(models, "qwen2-tokenizer"))),
         ("qwen3", "qwen3", make_model("qwen3", qwen3, os.path.join(models, "qwen3-tokenizer"))),
         ("llama3", "llama3", make_model("llama3", llama3, os.path.join(models, "llama3-tokenizer"))),
         ("glm", "qwen2", make_model("glm", glm, os.path.join(models, "qwen2-tokenizer"))),
         ("glm4", "qwen2", make_model("glm4", glm4, os.path.join(models, "qwen2-tokenizer")))]
TYPES = {"qwen2-tied": ["F32", "Q4_K_M"], "qwen3": ["F32", "Q8_0"], "llama3": ["F32", "F16", "Q8_0"], "glm": ["F32", "Q8_0"],
         "glm4": ["F32", "Q4_K_M"]}
for label, tok_label, model_dir in cases:
    paths = {}
    for gguf_type in TYPES[label]:
        path = export(checks, model_dir, label, gguf_type)
        if path:
            paths[gguf_type] = path
            check_file(label, tok_label, model_dir, gguf_type, path)
    if "F32" in paths:
        if label not in NO_CONVERTER:
            check_modelfile(checks, label, model_dir, paths["F32"])
            check_against_converter(label, model_dir, paths["F32"])
        for gguf_type in ["Q8_0", "Q4_K_M"]:
            if gguf_type in paths:
                check_against_llama_quantize(checks, label, paths["F32"], paths[gguf_type], gguf_type, FTYPES[gguf_type])
checks.finish()
