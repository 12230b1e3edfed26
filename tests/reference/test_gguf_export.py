"""`tunebench-cli export … export_format=gguf` of stories260K (llama, SentencePiece) and of a random
256-wide LLaMA with its tokenizer, checked in the runtimes that read GGUF (issue 13), in F32, F16,
BF16, Q8_0, Q4_0 and Q4_K_M:
- gguf-py 0.19's GGUFReader reads every key and tensor; the keys llama.cpp's loader needs are
  there with the value types it checks; every tensor's bytes equal gguf-py's own quantize() of the
  Hugging Face weight (LLaMA's q/k rows permuted as convert_hf_to_gguf.py does), Q4_0 but for its
  FMA-emulating rounding (FORMATS.md §2.4);
- llama.cpp (llama-cpp-python 0.3.16, built from source) loads each file: its tokenizer gives
  Tunebench's ids, and its logits equal transformers' on the weights the file holds (gguf-py's
  dequantization, permutation undone) — F32/F16 within 2e-3 × max|logit| (llama.cpp keeps its KV
  cache in F16), BF16 within 1e-2 (it rounds the activations to bf16 for the dot products),
  Q8_0/Q4_0 within 5e-2 (activations quantized to 8 bits) — with the greedy next token equal at
  every position; against the unquantized model the figures are
  printed (Q4_0 of a 64-wide model loses a lot);
- llama.cpp's own quantizer (llama_model_quantize) run on our F32 file makes Q8_0 and Q4_K_M files
  with the same tensor types as ours and the same bytes (its -march=native build's fused
  multiply-adds may move a code at an exact tie: ≤ 0.1% of the bytes).
Then ChatGLM2/3 (arch chatglm) with their real tokenizers, the demo model, and GLM-4's remote-code
form (glm-4-9b-chat's config keys, a tiktoken vocabulary: glm4_standin.py's) in the same runtimes."""
import os
import shutil
import subprocess

import numpy as np
import torch
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFValueType as V
from gguf.quants import dequantize, quantize
from safetensors.torch import load_file
from safetensors.torch import save_file
from transformers import GlmConfig, GlmForCausalLM, LlamaConfig, LlamaForCausalLM

import llama_cpp
from common import CLI, PROBE, SHARED, WORK, Checks, write_json
from gguf_common import FTYPES, gguf_name, check_against_llama_quantize, check_modelfile, export, permute, tensor_bytes, unpermute
from glm4_standin import SPECIALS as GLM4_SPECIALS, write_tokenizer as write_glm4_tokenizer
from hf_models import chatglm_config, glm_to_chatglm, probe_logits, randomize

checks = Checks()
STORIES = os.path.join(SHARED, "models", "stories260K-hf")
ROWS = [[1, 403, 407, 261, 378, 29, 77, 310, 5, 198], [1, 9, 17, 300, 22, 45]]
REQUIRED = {"general.architecture": V.STRING, "llama.context_length": V.UINT32, "llama.embedding_length": V.UINT32,
            "llama.block_count": V.UINT32, "llama.feed_forward_length": V.UINT32, "llama.attention.head_count": V.UINT32,
            "llama.attention.head_count_kv": V.UINT32, "llama.rope.dimension_count": V.UINT32,
            "llama.attention.layer_norm_rms_epsilon": V.FLOAT32, "general.file_type": V.UINT32,
            "tokenizer.ggml.model": V.STRING, "tokenizer.ggml.tokens": V.ARRAY, "tokenizer.ggml.scores": V.ARRAY,
            "tokenizer.ggml.token_type": V.ARRAY, "tokenizer.ggml.bos_token_id": V.UINT32,
            "tokenizer.ggml.eos_token_id": V.UINT32}


def check_file(model_dir, label, gguf_type, path):
    hf = LlamaForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    cfg = hf.config
    weights = {k: v.float().numpy() for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
    heads_of = lambda n: cfg.num_attention_heads if "q_proj" in n else cfg.num_key_value_heads if "k_proj" in n else 0
    what = f"{label} {gguf_type}"
    reader = GGUFReader(path)
    missing = [k for k, t in REQUIRED.items() if k not in reader.fields or reader.fields[k].types[0] != t]
    checks.check(not missing, f"{what}: gguf-py reads the keys llama.cpp needs with their types", missing=missing)
    tensors = {t.name: t for t in reader.tensors}
    checks.check(len(tensors) == len(weights), f"{what}: one tensor per weight", tensors=len(tensors), weights=len(weights))
    bad, dequantized, types = [], {}, {}
    for hf_name, w in weights.items():
        t = tensors.get(gguf_name(hf_name))
        if t is None:
            bad.append(f"{hf_name} missing")
            continue
        want = permute(w, heads_of(hf_name)) if heads_of(hf_name) else w
        qt = t.tensor_type
        types[qt.name] = types.get(qt.name, 0) + 1
        data = tensor_bytes(t)
        try:  # gguf-py's encoding of the same weight (it has no K-quant quantizer)
            theirs = np.ascontiguousarray(quantize(want, qt)).view(np.uint8).reshape(-1)
        except NotImplementedError:
            theirs = None
        if theirs is not None:
            if qt in (T.Q4_0, T.Q5_0):  # gguf-py's rounding emulates a fused multiply-add: a code apart at exact ties
                same = data.size == theirs.size and (data != theirs).mean() < 0.01
            else:
                same = np.array_equal(data, theirs)
            if not same:
                bad.append(f"{hf_name} ({qt.name})")
        dequantized[hf_name] = dequantize(data.reshape(want.shape[0], -1), qt).reshape(want.shape)
    checks.check(not bad, f"{what}: every tensor's bytes equal gguf-py's encoding of the weight", bad=bad[:3], types=types)

    # the model the file holds, back in Hugging Face's row order (the permutation undone)
    held = LlamaForCausalLM(cfg).eval()
    sd = {k: torch.from_numpy(np.ascontiguousarray(unpermute(v, heads_of(k)) if heads_of(k) else v)) for k, v in dequantized.items()}
    if cfg.tie_word_embeddings:
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    held.load_state_dict(sd)
    llm = llama_cpp.Llama(model_path=path, n_ctx=64, logits_all=True, verbose=False, n_threads=1)
    ids = llm.tokenize(b"Once upon a time", add_bos=True)
    p = subprocess.run([CLI, "tokenize", "--model_name_or_path", model_dir, "--text", "Once upon a time", "--add_special_tokens"],
                       capture_output=True, text=True)
    checks.check(p.returncode == 0 and [int(i) for i in p.stdout.split()] == ids, f"{what}: llama.cpp tokenizes as Tunebench",
                 llama_cpp=ids, tunebench=p.stdout.strip())
    for text in ["Once upon a time", "Once upon a time,  there was\n  a 2026 cat."]:
        theirs = llm.tokenize(text.encode(), add_bos=True)
        q = subprocess.run([CLI, "tokenize", "--model_name_or_path", path, "--text", text, "--add_special_tokens"],
                           capture_output=True, text=True)
        checks.check(q.returncode == 0 and [int(i) for i in q.stdout.split()] == theirs,
                     f"{what}: Tunebench reading the GGUF's vocabulary tokenizes {text[:20]!r}… as llama.cpp",
                     llama_cpp=theirs[:12], tunebench_gguf=(q.stdout or q.stderr).strip()[:80])
    # llama.cpp's CPU dot products round the activations to the weights' kind: bf16 for BF16, 8-bit for the rest
    # (K-quants' dot products take 8-bit activation blocks of 256: 1e-1 of a small random model's logits)
    tol = {"F32": 2e-3, "F16": 2e-3, "BF16": 1e-2, "Q4_K_M": 1e-1}.get(gguf_type, 5e-2)
    for r, row in enumerate(ROWS):
        llm.reset()
        llm.eval(row)
        got = np.array(llm.scores[:len(row)])
        with torch.no_grad():
            want = held(torch.tensor([row])).logits[0].numpy()
            original = hf(torch.tensor([row])).logits[0].numpy()
        scale = float(np.abs(want).max())
        diff = float(np.abs(got - want).max())
        same_next = float((got.argmax(-1) == want.argmax(-1)).mean())
        vs_original = float((got.argmax(-1) == original.argmax(-1)).mean())
        checks.check(diff <= tol * scale and same_next == 1.0, f"{what} row {r}: llama.cpp's logits equal the file's weights'",
                     max_abs_diff=diff, scale=scale, greedy_agreement=same_next, greedy_agreement_vs_unquantized=vs_original)
    del llm


# a 256-wide LLaMA (rows of whole K-quant blocks, 8 layers) with stories260K's tokenizer
WIDE = os.path.join(WORK, "llama-wide")
torch.manual_seed(0)
wide = LlamaForCausalLM(LlamaConfig(vocab_size=512, hidden_size=256, intermediate_size=512, num_hidden_layers=8,
                                    num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                                    rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2))
with torch.no_grad():
    for p_ in wide.parameters():
        p_.normal_(0, 0.05 if p_.dim() > 1 else 1.0)
        if p_.dim() == 1:
            p_.abs_().add_(0.5)
wide.save_pretrained(WIDE)
for f in ["tokenizer.model", "tokenizer_config.json"]:
    shutil.copy(os.path.join(STORIES, f), WIDE)

# (llama-quantize refuses Q8_0 for stories260K's 172-wide rows, which the converter — and we — keep F16)
for model_dir, label, types, compared in [
        (STORIES, "stories260K", ["F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_K_M"], ["Q4_K_M"]),
        (WIDE, "llama-256", ["F32", "Q8_0", "Q4_K_M"], ["Q8_0", "Q4_K_M"])]:
    paths = {}
    for gguf_type in types:
        path = export(checks, model_dir, label, gguf_type)
        if path:
            paths[gguf_type] = path
            check_file(model_dir, label, gguf_type, path)
            if gguf_type == "F32" and label != "glm4-remote":  # its glm4 template's role tokens are text in the stand-in
                check_modelfile(checks, label, model_dir, path)
    for gguf_type in compared:
        if "F32" in paths and gguf_type in paths:
            check_against_llama_quantize(checks, label, paths["F32"], paths[gguf_type], gguf_type, FTYPES[gguf_type])


# ChatGLM2/3 (arch chatglm: fused query_key_value and dense_h_to_4h, no permutation; the
# SentencePiece pieces then ChatGLM's specials): random models of transformers' GLM written as
# ChatGLM with the real chatglm3-6b / chatglm2-6b tokenizers, and the demo model. llama.cpp's
# logits against Tunebench's own (tunebench_probe forward, fp32) on the same weights; its
# tokenizer against Tunebench's on Chinese text; Q4_K_M/Q8_0 against llama.cpp's quantizer.
CHATGLM_NAMES = {"transformer.embedding.word_embeddings.weight": "token_embd.weight",
                 "transformer.encoder.final_layernorm.weight": "output_norm.weight",
                 "transformer.output_layer.weight": "output.weight",
                 "input_layernorm.weight": "attn_norm.weight", "self_attention.query_key_value.weight": "attn_qkv.weight",
                 "self_attention.query_key_value.bias": "attn_qkv.bias", "self_attention.dense.weight": "attn_output.weight",
                 "post_attention_layernorm.weight": "ffn_norm.weight", "mlp.dense_h_to_4h.weight": "ffn_up.weight",
                 "mlp.dense_4h_to_h.weight": "ffn_down.weight"}


def chatglm_model(name, tokenizer_dir):
    d = os.path.join(WORK, name)
    torch.manual_seed(1)
    cfg = GlmConfig(vocab_size=65024, hidden_size=256, intermediate_size=512, num_hidden_layers=4, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=64, partial_rotary_factor=0.5, attention_bias=True, rms_norm_eps=1e-5,
                    max_position_embeddings=2048, pad_token_id=0, eos_token_id=2)
    glm = GlmForCausalLM(cfg)
    randomize(glm)
    os.makedirs(d, exist_ok=True)
    sd = {k: v.detach() for k, v in glm.state_dict().items()}
    save_file(glm_to_chatglm(sd, cfg), os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(d, "config.json"), chatglm_config(cfg, "float32", name))
    for f in ["tokenizer.model", "tokenizer_config.json"]:
        shutil.copy(os.path.join(tokenizer_dir, f), d)
    return d


def glm4_remote_model():
    """GLM-4's remote-code form (glm-4-9b-chat: ChatGLM2/3's architecture with rope_ratio 500, a
    tiktoken vocabulary; glm4_standin.py's stands in), small and random"""
    d = os.path.join(WORK, "glm4-remote")
    ranks = write_glm4_tokenizer(d)
    torch.manual_seed(2)
    cfg = GlmConfig(vocab_size=len(ranks) + len(GLM4_SPECIALS), hidden_size=128, intermediate_size=256, num_hidden_layers=2,
                    num_attention_heads=4, num_key_value_heads=2, head_dim=32, partial_rotary_factor=0.5, attention_bias=True,
                    rms_norm_eps=1.5625e-07, max_position_embeddings=2048, pad_token_id=len(ranks), eos_token_id=len(ranks))
    glm = GlmForCausalLM(cfg)
    randomize(glm)
    sd = {k: v.detach() for k, v in glm.state_dict().items()}
    save_file(glm_to_chatglm(sd, cfg), os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    config = chatglm_config(cfg, "float32", "THUDM/glm-4-9b-chat")
    config.update(rope_ratio=500, eos_token_id=[len(ranks), len(ranks) + 7, len(ranks) + 9], pad_token_id=len(ranks))
    write_json(os.path.join(d, "config.json"), config)
    return d


def check_chatglm(model_dir, label, gguf_type, path, text):
    what = f"{label} {gguf_type}"
    reader = GGUFReader(path)
    fields = reader.fields
    arch_ok = bytes(fields["general.architecture"].parts[-1]).decode() == "chatglm"
    checks.check(arch_ok and "chatglm.rope.dimension_count" in fields, f"{what}: written as llama.cpp's chatglm architecture")
    weights = {k: v.float().numpy() for k, v in load_file(os.path.join(model_dir, "model.safetensors")).items()}
    tensors = {t.name: t for t in reader.tensors}
    checks.check(len(tensors) == len(weights), f"{what}: one tensor per weight", tensors=len(tensors), weights=len(weights))
    llm = llama_cpp.Llama(model_path=path, n_ctx=128, logits_all=True, verbose=False, n_threads=1)
    ids = llm.tokenize(text.encode(), add_bos=False, special=False)
    p = subprocess.run([CLI, "tokenize", "--model_name_or_path", model_dir, "--text", text], capture_output=True, text=True)
    checks.check(p.returncode == 0 and [int(i) for i in p.stdout.split()] == ids, f"{what}: llama.cpp tokenizes {text!r} as Tunebench",
                 llama_cpp=ids[:12], tunebench=p.stdout.strip()[:60])
    q = subprocess.run([CLI, "tokenize", "--model_name_or_path", path, "--text", text], capture_output=True, text=True)
    checks.check(q.returncode == 0 and [int(i) for i in q.stdout.split()] == ids, f"{what}: Tunebench reading the GGUF's vocabulary tokenizes as llama.cpp",
                 tunebench_gguf=(q.stdout or q.stderr).strip()[:80])
    special = subprocess.run([CLI, "tokenize", "--model_name_or_path", model_dir, "--text", text, "--add_special_tokens"],
                             capture_output=True, text=True)
    row = [int(i) for i in special.stdout.split()]  # [gMASK] sop, then the text
    llm.reset()
    llm.eval(row)
    got = np.array(llm.scores[:len(row)])
    original = probe_logits(PROBE, WORK, model_dir, row).numpy()
    held_dir = model_dir
    if gguf_type not in ("F32", "F16"):  # Tunebench on the weights the file holds (gguf-py's dequantization)
        held_dir = os.path.join(WORK, f"{label}-{gguf_type}-held")
        os.makedirs(held_dir, exist_ok=True)
        back = {v: k for k, v in CHATGLM_NAMES.items()}
        sd = {}
        for name, t in tensors.items():
            blk, rest = (name.split(".", 2)[1], name.split(".", 2)[2]) if name.startswith("blk.") else (None, name)
            hf = (f"transformer.encoder.layers.{blk}." + back[rest]) if blk is not None else back[rest]
            shape = weights[hf].shape
            sd[hf] = torch.from_numpy(np.ascontiguousarray(dequantize(tensor_bytes(t).reshape(shape[0], -1), t.tensor_type).reshape(shape)))
        save_file(sd, os.path.join(held_dir, "model.safetensors"), metadata={"format": "pt"})
        for f in ["config.json", "tokenizer.model", "tokenizer_config.json"]:
            shutil.copy(os.path.join(model_dir, f), held_dir)
    want = probe_logits(PROBE, WORK, held_dir, row).numpy()
    scale = float(np.abs(want).max())
    diff = float(np.abs(got - want).max())
    agree = float((got.argmax(-1) == want.argmax(-1)).mean())
    vs_original = float((got.argmax(-1) == original.argmax(-1)).mean())
    # llama.cpp keeps its KV cache in F16 and, for quantized weights, quantizes the activations too
    tol = {"F32": 2e-3, "F16": 3e-3, "Q8_0": 5e-2}.get(gguf_type, 1e-1)
    # (K-quant dot products round the activations to 8 bits: a near-tie of a random model may flip);
    # elsewhere the greedy token must be equal wherever Tunebench's top two are further apart than the tolerance
    top2 = np.sort(want, -1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 2 * tol * scale
    flipped = int(((got.argmax(-1) != want.argmax(-1)) & clear).sum())
    checks.check(diff <= tol * scale and (agree >= 0.9 if gguf_type == "Q4_K_M" else flipped == 0),
                 f"{what}: llama.cpp's logits equal Tunebench's on the file's weights "
                 f"({len(row)} tokens)", max_abs_diff=diff, scale=scale, greedy_agreement=agree,
                 flipped_clear_positions=flipped, greedy_agreement_vs_unquantized=vs_original)
    del llm


TEXT = "你好，请介绍一下 Tunebench。Once upon a time,  2026\n  indented"
chatglm_cases = [(chatglm_model("chatglm3-6b", os.path.join(SHARED, "models", "chatglm3-6b-tokenizer")), "chatglm3"),
                 (chatglm_model("chatglm2-6b", os.path.join(SHARED, "models", "chatglm2-6b-tokenizer")), "chatglm2")]
demo = os.path.join(WORK, "demo")
subprocess.run([CLI, "init-demo", demo], capture_output=True, text=True, check=True)
chatglm_cases.append((os.path.join(demo, "model"), "demo"))
chatglm_cases.append((glm4_remote_model(), "glm4-remote"))
for model_dir, label in chatglm_cases:
    paths = {}
    for gguf_type in {"demo": ["F32"], "glm4-remote": ["F32", "Q8_0"]}.get(label, ["F32", "F16", "Q8_0", "Q4_K_M"]):
        path = export(checks, model_dir, label, gguf_type)
        if path:
            paths[gguf_type] = path
            check_chatglm(model_dir, label, gguf_type, path, TEXT if label != "demo" else "Tunebench 是什么？")
            if gguf_type == "F32" and label != "glm4-remote":  # its glm4 template's role tokens are text in the stand-in
                check_modelfile(checks, label, model_dir, path)
    for gguf_type in ["Q8_0", "Q4_K_M"]:
        if "F32" in paths and gguf_type in paths:
            check_against_llama_quantize(checks, label, paths["F32"], paths[gguf_type], gguf_type, FTYPES[gguf_type])
checks.finish()
