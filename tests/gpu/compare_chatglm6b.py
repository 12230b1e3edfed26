#!/usr/bin/env python3
"""ChatGLM-6B (first generation) on CUDA against its original modeling code (run_all.sh step chatglm6b).

A tiny random model of the release's layout (the original class, the release's special-token
layout at the end of the vocabulary), through tunebench_probe:
1. logits of a prompt … [gMASK] <sop> answer, fp32 (≤ 1e-4 × max|logit|) and bf16 (≤ 3e-2): the
   original in bf16 keeps its rotary table in fp32 angles cast to bf16 (its precision=bfloat16 path),
   as Tunebench does; left as the module's fp16-built buffer cast to bf16, positions lose bits.
2. greedy decoding through the decode context (the chat's path: prefix attention at prefill, 2-D
   positions from each slot's anchors, CUDA graphs on and off) of two prompts in one batch = the
   original's greedy decoding by full recomputation, 24 tokens, fp32.
Usage: compare_chatglm6b.py BUILD_DIR OUT_DIR (CHATGLM6B_REF: the original files, default
../shared/reference/chatglm-6b; TB_DEVICE=cpu runs the same checks on the CPU, a dry run of the script)."""
import copy, json, os, subprocess, sys
import torch
from safetensors.torch import load_file, save_file

BUILD, WORK = sys.argv[1], sys.argv[2]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REF = os.environ.get("CHATGLM6B_REF", os.path.join(ROOT, "..", "shared", "reference", "chatglm-6b"))
PROBE = os.path.join(BUILD, "tests", "gpu", "tunebench_probe")
DEV = os.environ.get("TB_DEVICE", "cuda")
os.makedirs(WORK, exist_ok=True)
package = os.path.join(WORK, "ref", "chatglm6b_original")  # the original files import each other as a package
os.makedirs(package, exist_ok=True)
for f in ("configuration_chatglm.py", "modeling_chatglm.py"):
    if not os.path.exists(os.path.join(package, f)):
        os.symlink(os.path.abspath(os.path.join(REF, f)), os.path.join(package, f))
open(os.path.join(package, "__init__.py"), "w").close()
sys.path.insert(0, os.path.dirname(package))
from chatglm6b_original.configuration_chatglm import ChatGLMConfig  # noqa: E402
from chatglm6b_original.modeling_chatglm import ChatGLMForConditionalGeneration  # noqa: E402

torch.manual_seed(0)
results = {"gpu": torch.cuda.get_device_name(0) if DEV == "cuda" else DEV, "logits": [], "decode": [], "ok": True}
MASK, GMASK, SOP, EOP = 504, 505, 508, 509
config = ChatGLMConfig(vocab_size=512, hidden_size=256, num_layers=4, num_attention_heads=4, inner_hidden_size=1024,
                       layernorm_epsilon=1e-5, max_sequence_length=512, bos_token_id=SOP, eos_token_id=EOP,
                       mask_token_id=MASK, gmask_token_id=GMASK, pad_token_id=3, position_encoding_2d=True,
                       tie_word_embeddings=False)  # a head of its own: a tied random head only repeats the last token
model = ChatGLMForConditionalGeneration(config, empty_init=False).float()
with torch.no_grad():
    for name, p in model.named_parameters():
        p.copy_(1.0 + 0.1 * torch.randn_like(p)) if "layernorm" in name and name.endswith("weight") else p.normal_(0.0, 0.05)
folder = os.path.join(WORK, "chatglm6b")
os.makedirs(folder, exist_ok=True)
save_file({k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}, os.path.join(folder, "model.safetensors"))
saved = config.to_dict()
saved["torch_dtype"] = "float32"
saved.pop("dtype", None)
json.dump(saved, open(os.path.join(folder, "config.json"), "w"))


def probe(cmd, spec):
    spec_path, out = os.path.join(WORK, "spec.json"), os.path.join(WORK, "out")
    json.dump(spec, open(spec_path, "w"))
    p = subprocess.run([PROBE, cmd, spec_path, out], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"tunebench_probe {cmd} failed: {p.stderr[-2000:]}")
    return out


def as_dtype(dtype):
    """A copy of the fp32 model in dtype on the GPU, its rotary table from the fp16-rounded inv_freq in fp32
    angles, cos/sin in the model dtype (the original's precision=bfloat16 path)."""
    m = copy.deepcopy(model).to(dtype).to(DEV).eval()
    for layer, orig in zip(m.transformer.layers, model.transformer.layers):
        rot = layer.attention.rotary_emb
        rot.inv_freq = orig.attention.rotary_emb.inv_freq.detach().float().to(DEV)
        rot.precision, rot.cos_cached, rot.sin_cached, rot.max_seq_len_cached = dtype, None, None, None
    return m


row = [int(x) for x in torch.randint(10, 500, (30,))] + [GMASK, SOP] + [int(x) for x in torch.randint(10, 500, (16,))]
for dtype, tol in ((torch.float32, 1e-4), (torch.bfloat16, 3e-2)):
    m = as_dtype(dtype)
    with torch.no_grad():
        ref = m(input_ids=torch.tensor([row]).to(DEV)).logits[0].float().cpu()
    name = {torch.float32: "float32", torch.bfloat16: "bfloat16"}[dtype]
    got = load_file(probe("forward", {"model": folder, "dtype": name, "device": DEV, "rows": [row]}))["row0_full"]
    diff, scale = (ref - got).abs().max().item(), ref.abs().max().item()
    ok = diff <= tol * scale
    results["ok"] &= ok
    r = {"model": "chatglm-6b", "dtype": name, "max_abs_diff": diff, "logit_scale": scale, "tolerance": tol * scale,
         "argmax_agreement": (ref.argmax(-1) == got.argmax(-1)).float().mean().item(), "ok": ok}
    results["logits"].append(r)
    print(json.dumps(r), flush=True)

m = as_dtype(torch.float32)
prompts = [[int(x) for x in torch.randint(10, 500, (n,))] + [GMASK, SOP] for n in (21, 7)]
N = 24
want = []
with torch.no_grad():
    for p in prompts:
        ids = list(p)
        for _ in range(N):
            ids.append(int(m(input_ids=torch.tensor([ids]).to(DEV)).logits[0, -1].argmax()))
        want.append(ids[len(p):])
for graphs in (True, False):
    out = probe("greedy", {"model": folder, "dtype": "float32", "device": DEV, "prompts": prompts, "new_tokens": N,
                           "cuda_graphs": graphs})
    got = json.load(open(out))
    ok = got == want and all(len(set(w)) >= 5 for w in want)  # and the continuation is not one token repeated
    results["ok"] &= ok
    r = {"model": "chatglm-6b", "cuda_graphs": graphs, "ok": ok, "tunebench": got, "original": want}
    results["decode"].append(r)
    print(json.dumps(r), flush=True)

json.dump(results, open(os.path.join(WORK, "results.json"), "w"), indent=2)
print("ALL OK" if results["ok"] else "SOME CHECKS FAILED")
sys.exit(0 if results["ok"] else 1)
