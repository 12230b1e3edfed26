"""What the GGUF export reference tests share: running the export, a tensor's bytes, LLaMA's q/k
permutation, the comparison with llama.cpp's own quantizer, and the Ollama Modelfile's check."""
import ctypes
import json
import os
import re
import subprocess

import numpy as np
from gguf import GGUFReader

import llama_cpp
from common import CLI, WORK

FTYPES = {"Q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0, "Q4_K_M": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M}
# Hugging Face → llama.cpp names of the llama / qwen2 / qwen3 tensors (FORMATS.md §1.8, §4.1)
NAMES = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight",
         "lm_head.weight": "output.weight"}
LAYER = {"input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
         "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
         "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
         "self_attn.q_norm": "attn_q_norm", "self_attn.k_norm": "attn_k_norm",
         # GLM-4 (FORMATS.md §1.7): gate and up stay fused, glm4's output norms
         "mlp.gate_up_proj": "ffn_up", "post_self_attn_layernorm": "post_attention_norm",
         "post_mlp_layernorm": "post_ffw_norm"}


def gguf_name(hf_name):
    if hf_name in NAMES:
        return NAMES[hf_name]
    _, _, i, rest = hf_name.split(".", 3)
    module, kind = rest.rsplit(".", 1)
    return f"blk.{i}.{LAYER[module]}.{kind}"




def permute(w, heads):  # convert_hf_to_gguf.py's LlamaModel.permute
    return w.reshape(heads, 2, w.shape[0] // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def unpermute(w, heads):
    return w.reshape(heads, w.shape[0] // heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def tensor_bytes(t):
    return np.asarray(t.data).view(np.uint8).reshape(-1)


def export(checks, model_dir, label, gguf_type):
    out = os.path.join(WORK, f"{label}-{gguf_type}")
    p = subprocess.run([CLI, "export", f"model_name_or_path={model_dir}", f"export_dir={out}", "export_format=gguf",
                        f"export_gguf_type={gguf_type}"], capture_output=True, text=True)
    ok = checks.check(p.returncode == 0, f"{label} {gguf_type}: tunebench-cli export writes the GGUF", stderr=p.stderr.strip()[-300:])
    return os.path.join(out, f"{os.path.basename(model_dir)}-{gguf_type}.gguf") if ok else None


def check_against_llama_quantize(checks, label, f32_path, ours, gguf_type, ftype):
    """llama.cpp's own quantizer (llama_model_quantize, as llama-quantize) on our F32 file gives the
    same tensor types and, but for its fused multiply-adds (this build's -march=native), the same bytes."""
    theirs_path = os.path.join(WORK, f"{label}-llama-quantize-{gguf_type}.gguf")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = 1
    rc = llama_cpp.llama_model_quantize(f32_path.encode(), theirs_path.encode(), ctypes.byref(params))
    if not checks.check(rc == 0, f"{label} {gguf_type}: llama.cpp quantizes our F32 file"):
        return
    a = {t.name: t for t in GGUFReader(ours).tensors}
    b = {t.name: t for t in GGUFReader(theirs_path).tensors}
    types = [n for n in b if n not in a or a[n].tensor_type != b[n].tensor_type]
    checks.check(not types and len(a) == len(b), f"{label} {gguf_type}: every tensor's type is llama-quantize's",
                 differing=[(n, a[n].tensor_type.name if n in a else None, b[n].tensor_type.name) for n in types[:4]])
    total = differing = 0
    for n, t in b.items():
        if n not in a or a[n].tensor_type != t.tensor_type:
            continue
        x, y = tensor_bytes(a[n]), tensor_bytes(t)
        total += x.size
        differing += int((x != y).sum()) if x.size == y.size else x.size
    checks.check(differing <= 1e-3 * total, f"{label} {gguf_type}: bytes equal llama-quantize's (FMA ties aside)",
                 differing_bytes=f"{differing}/{total}")


def ollama_renderer():
    """tests/reference/ollama_template.go built once: Go's text/template, Ollama's template engine."""
    out = os.path.join(WORK, "ollama_template")
    if not os.path.exists(out):
        source = os.path.join(os.path.dirname(__file__), "ollama_template.go")
        env = dict(os.environ, GOCACHE=os.path.join(WORK, "gocache"), GO111MODULE="off")
        subprocess.run(["go", "build", "-o", out, source], env=env, check=True)
    return out


BOSLESS_TEMPLATES = {"empty", "default", "alpaca"}
STOP_WORDS = {"qwen": {"<|im_end|>"}, "llama3": {"<|eot_id|>"}, "chatglm3": {"<|user|>", "<|observation|>"}}
CONVERSATIONS = [([], "你好，请介绍一下你自己。", ""),
                 ([["What is 2+2?", "4"]], "And 3+3?", ""),
                 ([["第一个问题", "第一个回答"], ["second", "answer two"]], "third question", "You are a careful doctor.")]


def check_modelfile(checks, label, model_dir, gguf_path):
    """The Modelfile beside the GGUF names the file, and its TEMPLATE, rendered by Go's
    text/template as Ollama renders it (system from the request or the Modelfile's SYSTEM) and
    tokenized by llama.cpp from the same GGUF (BOS as the file asks, special tokens parsed), gives
    the ids of the prompt Tunebench builds (`tokenize --chat`), for one, two and three rounds;
    the stop words are the template's, each one token of the vocabulary."""
    folder = os.path.dirname(gguf_path)
    text = open(os.path.join(folder, "Modelfile"), encoding="utf-8").read()
    source = re.search(r'^FROM \./(.+)$', text, re.M)
    checks.check(source is not None and source.group(1) == os.path.basename(gguf_path), f"{label}: the Modelfile is FROM the GGUF",
                 got=source.group(1) if source else None)
    template = re.search(r'^TEMPLATE """(.*?)"""$', text, re.M | re.S)
    if not checks.check(template is not None, f"{label}: the Modelfile has a TEMPLATE"):
        return
    template_name = re.search(r"with template '([^']*)'", text).group(1)
    default_system = re.search(r'^SYSTEM """(.*?)"""$', text, re.M | re.S)
    template_file = os.path.join(WORK, f"{label}.gotmpl")
    open(template_file, "w", encoding="utf-8").write(template.group(1))
    llm = llama_cpp.Llama(model_path=gguf_path, vocab_only=True, verbose=False)
    renderer = ollama_renderer()
    for history, query, system in CONVERSATIONS:
        messages = [{"role": r, "content": c} for q, a in history for r, c in (("user", q), ("assistant", a))]
        messages.append({"role": "user", "content": query})
        values = {"system": system or (default_system.group(1) if default_system else ""), "messages": messages}
        p = subprocess.run([renderer, template_file], input=json.dumps(values), capture_output=True, text=True)
        if not checks.check(p.returncode == 0, f"{label}: Go's text/template renders the TEMPLATE", stderr=p.stderr[-300:]):
            return
        theirs = llm.tokenize(p.stdout.encode(), add_bos=True, special=True)
        cmd = [CLI, "tokenize", "--model_name_or_path", model_dir, "--chat", "--text", query, "--history_json", json.dumps(history)]
        q = subprocess.run(cmd + (["--system", system] if system else []), capture_output=True, text=True)
        ours = [int(i) for i in q.stdout.split()] if q.returncode == 0 else q.stderr[-200:]
        # LLaMA-Factory's templates without a BOS slot give the model none; llama.cpp adds one where
        # the file says add_bos_token (as the converter writes it): the one difference allowed
        runtime_bos = template_name in BOSLESS_TEMPLATES and theirs[:1] == [llm.token_bos()] and theirs[1:] == ours
        checks.check(theirs == ours or runtime_bos, f"{label}: Ollama's prompt for {len(history) + 1} round(s) is Tunebench's",
                     ollama=theirs[-12:], tunebench=ours[-12:] if isinstance(ours, list) else ours, lengths=(len(theirs), len(ours)),
                     runtime_bos=runtime_bos)
    stops = re.findall(r'^PARAMETER stop "(.*)"$', text, re.M)
    single = [s for s in stops if len(llm.tokenize(s.encode(), add_bos=False, special=True)) == 1]
    checks.check(single == stops and set(stops) >= STOP_WORDS.get(template_name, set()),
                 f"{label}: the stop words are the template's, each one token", stops=stops)
    del llm
