"""`tunebench-cli export … export_format=gguf` of stories260K (llama, SentencePiece) checked in the
runtimes that read GGUF (issue 13), in F32, F16, BF16, Q8_0 and Q4_0:
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
  printed (Q4_0 of a 64-wide model loses a lot)."""
import os
import subprocess

import numpy as np
import torch
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader, GGUFValueType as V
from gguf.quants import dequantize, quantize
from safetensors.torch import load_file
from transformers import LlamaForCausalLM

import llama_cpp
from common import CLI, SHARED, WORK, Checks

checks = Checks()
STORIES = os.path.join(SHARED, "models", "stories260K-hf")
hf = LlamaForCausalLM.from_pretrained(STORIES, dtype=torch.float32).eval()
weights = {k: v.float().numpy() for k, v in load_file(os.path.join(STORIES, "model.safetensors")).items()}
cfg = hf.config
NAMES = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
         "lm_head.weight": "output.weight"}
LAYER = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
         "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
         "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down"}


def gguf_name(hf_name):
    if hf_name in NAMES:
        return NAMES[hf_name]
    _, _, i, rest = hf_name.split(".", 3)
    module, kind = rest.rsplit(".", 1)
    return f"blk.{i}.{LAYER[module]}.{kind}"


def permute(w, heads):  # convert_hf_to_gguf.py's LlamaModel.permute
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def heads_of(hf_name):
    return cfg.num_attention_heads if "q_proj" in hf_name else cfg.num_key_value_heads if "k_proj" in hf_name else 0


ROWS = [[1, 403, 407, 261, 378, 29, 77, 310, 5, 198], [1, 9, 17, 300, 22, 45]]
REQUIRED = {"general.architecture": V.STRING, "llama.context_length": V.UINT32, "llama.embedding_length": V.UINT32,
            "llama.block_count": V.UINT32, "llama.feed_forward_length": V.UINT32, "llama.attention.head_count": V.UINT32,
            "llama.attention.head_count_kv": V.UINT32, "llama.rope.dimension_count": V.UINT32,
            "llama.attention.layer_norm_rms_epsilon": V.FLOAT32, "general.file_type": V.UINT32,
            "tokenizer.ggml.model": V.STRING, "tokenizer.ggml.tokens": V.ARRAY, "tokenizer.ggml.scores": V.ARRAY,
            "tokenizer.ggml.token_type": V.ARRAY, "tokenizer.ggml.bos_token_id": V.UINT32,
            "tokenizer.ggml.eos_token_id": V.UINT32}

with torch.no_grad():
    original = [hf(torch.tensor([r])).logits[0].numpy() for r in ROWS]

for name in ["F32", "F16", "BF16", "Q8_0", "Q4_0"]:
    out = os.path.join(WORK, name)
    p = subprocess.run([CLI, "export", f"model_name_or_path={STORIES}", f"export_dir={out}", "export_format=gguf",
                        f"export_gguf_type={name}"], capture_output=True, text=True)
    if not checks.check(p.returncode == 0, f"{name}: tunebench-cli export writes the GGUF", stderr=p.stderr.strip()[-300:]):
        continue
    path = os.path.join(out, f"stories260K-hf-{name}.gguf")
    reader = GGUFReader(path)
    missing = [k for k, t in REQUIRED.items() if k not in reader.fields or reader.fields[k].types[0] != t]
    checks.check(not missing, f"{name}: gguf-py reads the keys llama.cpp needs with their types", missing=missing)
    tensors = {t.name: t for t in reader.tensors}
    checks.check(len(tensors) == len(weights) - ("lm_head.weight" in weights),
                 f"{name}: one tensor per weight (tied lm_head as token_embd)", tensors=len(tensors))
    bad, dequantized = [], {}
    for hf_name, w in weights.items():
        t = tensors.get(gguf_name(hf_name))
        if t is None:
            bad.append(f"{hf_name} missing")
            continue
        want = permute(w, heads_of(hf_name)) if heads_of(hf_name) else w
        qt = t.tensor_type
        data = np.asarray(t.data).view(np.uint8).reshape(-1) if qt not in (T.F32, T.F16) else np.asarray(t.data)
        if qt == T.F32:
            same = np.array_equal(data.reshape(want.shape), want)
        elif qt == T.F16:
            same = np.array_equal(data.reshape(want.shape).view(np.uint16), want.astype(np.float16).view(np.uint16))
        else:
            theirs = quantize(want, qt).view(np.uint8).reshape(-1)
            if qt == T.Q4_0:  # gguf-py's rounding emulates a fused multiply-add: a code apart at exact ties
                same = data.size == theirs.size and (data != theirs).mean() < 0.01
            else:
                same = np.array_equal(data, theirs)
        if not same:
            bad.append(f"{hf_name} ({qt.name})")
        raw = data if qt not in (T.F32, T.F16) else data.view(np.uint8)
        deq = dequantize(raw.reshape(want.shape[0], -1), qt).reshape(want.shape)
        dequantized[hf_name] = deq  # in llama.cpp's row order
    checks.check(not bad, f"{name}: every tensor's bytes equal gguf-py's encoding of the weight", bad=bad[:3])

    # the model the file holds, back in Hugging Face's row order (the permutation undone)
    def unpermute(w, heads):
        return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)
    held = LlamaForCausalLM(cfg).eval()
    sd = {k: torch.from_numpy(np.ascontiguousarray(unpermute(v, heads_of(k)) if heads_of(k) else v)) for k, v in dequantized.items()}
    if cfg.tie_word_embeddings:
        sd["lm_head.weight"] = sd["model.embed_tokens.weight"]
    held.load_state_dict(sd)
    llm = llama_cpp.Llama(model_path=path, n_ctx=64, logits_all=True, verbose=False, n_threads=1)
    ids = llm.tokenize(b"Once upon a time", add_bos=True)
    p = subprocess.run([CLI, "tokenize", "--model_name_or_path", STORIES, "--text", "Once upon a time", "--add_special_tokens"],
                       capture_output=True, text=True)
    checks.check(p.returncode == 0 and [int(i) for i in p.stdout.split()] == ids, f"{name}: llama.cpp tokenizes as Tunebench",
                 llama_cpp=ids, tunebench=p.stdout.strip())
    # llama.cpp's CPU dot products round the activations to the weights' kind: bf16 for BF16, 8-bit for Q*
    tol = {"F32": 2e-3, "F16": 2e-3, "BF16": 1e-2}.get(name, 5e-2)
    for r, row in enumerate(ROWS):
        llm.reset()
        llm.eval(row)
        got = np.array(llm.scores[:len(row)])
        with torch.no_grad():
            want = held(torch.tensor([row])).logits[0].numpy()
        scale = float(np.abs(want).max())
        diff = float(np.abs(got - want).max())
        same_next = float((got.argmax(-1) == want.argmax(-1)).mean())
        vs_original = float((got.argmax(-1) == original[r].argmax(-1)).mean())
        checks.check(diff <= tol * scale and same_next == 1.0, f"{name} row {r}: llama.cpp's logits equal the file's weights'",
                     max_abs_diff=diff, scale=scale, greedy_agreement=same_next, greedy_agreement_vs_unquantized=vs_original)
    del llm
checks.finish()
