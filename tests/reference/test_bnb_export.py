"""`tunebench-cli export … export_quantization_bit=4`: base + LoRA merged, then the decoder-layer
linears written as bitsandbytes NF4 with double quantization (issue 13), for a random bf16 LLaMA
and a random bf16 Qwen2 (q/k/v biases, tied embeddings), each with a PEFT LoRA adapter, checked
against transformers 5.6 + bitsandbytes 0.50 on the CPU:
- transformers quantizing Tunebench's own bf16 merge of the same model (load_in_4bit,
  bnb_4bit_use_double_quant) and saving it writes the same keys, the same quant_state JSON, the
  same packed NF4 codes, block scales and unquantized tensors; of the 8-bit codes of the block
  scales, bitsandbytes' native CPU kernel rounds a few near-ties differently from the bucketing
  FORMATS.md §7.3 gives (and Tunebench does): the share that agrees is printed and must be ≥ 99%;
- transformers loads our export as pre-quantized (Linear4bit holding our file's codes, nothing
  quantized again) and its logits equal Tunebench's on the same file (both dequantizing and
  multiplying in fp32: 1e-3 of the logit scale, the greedy token equal wherever the top two are
  further apart than that);
- Tunebench loads transformers' own 4-bit folder and its logits equal transformers' on it;
- what 4 bits cost against the merged model is printed (greedy agreement).
And `export_quantization_bit=8` (bitsandbytes LLM.int8) for the same models:
- transformers quantizing the same bf16 merge (load_in_8bit) and saving it writes the same keys and
  the same tensors: int8 rows, each module's SCB (row absmax) and weight_format, plain tensors —
  all equal — and the same quantization_config;
- transformers loads our export as pre-quantized (Linear8bitLt holding our int8 rows) and gives the
  same logits as on its own folder (exactly: the files hold the same numbers);
- Tunebench reads both folders as int8 and gives equal logits on them, equal (1e-4 of the scale)
  to transformers' fp32 model holding the file's weights dequantized as bitsandbytes defines it
  (CB · SCB / 127); against transformers' own LLM.int8 forward, which also quantizes the
  activations (outliers above 6.0 kept in fp16) in bf16, the difference is printed.
Tunebench's int8 rows are bitsandbytes' bit for bit: 127 · (1 / absmax) as PyTorch evaluates
`127.0 / row_stats`, so ties round alike."""
import json
import os
import shutil
import subprocess

import numpy as np
import torch
from bitsandbytes.nn import Linear4bit, Linear8bitLt
from peft import LoraConfig, get_peft_model
from safetensors import safe_open
from transformers import AutoModelForCausalLM, BitsAndBytesConfig, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from common import CLI, PROBE, SHARED, WORK, Checks
from hf_models import probe_logits

checks = Checks()
ROW = [1, 403, 407, 261, 378, 29, 77, 310, 5, 198, 17, 300, 22, 45, 9, 101]
BNB = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                         bnb_4bit_compute_dtype=torch.bfloat16)


def make_base(label, model, tokenizer_dir):
    d = os.path.join(WORK, label)
    torch.manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.05 if p.dim() > 1 else 1.0)
            if p.dim() == 1 and p.shape[0] == model.config.hidden_size:
                p.abs_().add_(0.5)
    model.to(torch.bfloat16).save_pretrained(d)
    for f in os.listdir(tokenizer_dir):
        if f.startswith("tokenizer") or f in ("vocab.json", "merges.txt", "added_tokens.json", "special_tokens_map.json"):
            shutil.copy(os.path.join(tokenizer_dir, f), d)
    # a LoRA adapter with a non-zero update, so the merge matters
    peft = get_peft_model(AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32),
                          LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj", "up_proj", "down_proj"]))
    with torch.no_grad():
        for n, p in peft.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
    peft.save_pretrained(d + "-lora")
    return d, d + "-lora"


def export(base, adapter, out, *extra):
    p = subprocess.run([CLI, "export", f"model_name_or_path={base}", f"adapter_name_or_path={adapter}", f"export_dir={out}", *extra],
                       capture_output=True, text=True)
    ok = checks.check(p.returncode == 0 and ": ok" in p.stderr, f"tunebench-cli export {' '.join(extra)} writes and checks {os.path.basename(out)}",
                      stderr=p.stderr.strip()[-300:])
    return ok


def transformers_quantized(merged, config, out):
    """transformers quantizing the merged bf16 folder with `config` and saving it (tokenizer beside)."""
    AutoModelForCausalLM.from_pretrained(merged, quantization_config=config, dtype=torch.bfloat16, device_map="cpu").save_pretrained(out)
    for f in os.listdir(merged):
        if f.startswith("tokenizer") or f in ("vocab.json", "merges.txt", "added_tokens.json"):
            shutil.copy(os.path.join(merged, f), out)


def same_keys(label, what, a, b):
    checks.check(set(a) == set(b), f"{label}: our {what} file has transformers' keys",
                 only_ours=sorted(set(a) - set(b))[:4], only_theirs=sorted(set(b) - set(a))[:4])
    return sorted(set(a) & set(b))


def tensors(folder):
    f = safe_open(os.path.join(folder, "model.safetensors"), "pt")
    return {k: f.get_tensor(k) for k in f.keys()}


def compare_logits(what, got, want, tol=1e-3):
    scale = float(np.abs(want).max())
    diff = float(np.abs(got - want).max())
    top2 = np.sort(want, -1)[:, -2:]
    clear = (top2[:, 1] - top2[:, 0]) > 2 * tol * scale
    flipped = int(((got.argmax(-1) != want.argmax(-1)) & clear).sum())
    checks.check(diff <= tol * scale and flipped == 0, what, max_abs_diff=diff, scale=scale,
                 greedy_agreement=float((got.argmax(-1) == want.argmax(-1)).mean()), flipped_clear_positions=flipped)


def load_4bit(folder):
    """transformers' model of a 4-bit folder, computing in fp32: bitsandbytes dequantizes each
    weight to its quant_state's dtype and multiplies in the layer's compute dtype (bf16 here), so
    both are set to fp32 — the codes and scales are the file's either way. Its AVX512-BF16 CPU
    path, which repacks the weights with the block scales rounded to bf16 at the first forward,
    is switched off: the reference is the file's exact NF4 weights."""
    m = AutoModelForCausalLM.from_pretrained(folder, device_map="cpu", dtype=torch.float32).eval()
    for mod in m.modules():
        if isinstance(mod, Linear4bit):
            mod.compute_dtype = torch.float32
            mod.weight.quant_state.dtype = torch.float32
            mod.support_avx512bf16_for_cpu = False
    return m


def logits(m):
    with torch.no_grad():
        return m(torch.tensor([ROW])).logits[0].float().numpy()


models = os.path.join(SHARED, "models")
cases = [("llama", LlamaForCausalLM(LlamaConfig(vocab_size=512, hidden_size=256, intermediate_size=512, num_hidden_layers=4,
                                                 num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                                                 rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)),
          os.path.join(models, "stories260K-hf")),
         ("qwen2", Qwen2ForCausalLM(Qwen2Config(vocab_size=151936, hidden_size=256, intermediate_size=512, num_hidden_layers=3,
                                                num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                                                tie_word_embeddings=True)),
          os.path.join(models, "qwen2-tokenizer"))]
for label, model, tokenizer_dir in cases:
    base, adapter = make_base(label, model, tokenizer_dir)
    ours, merged, theirs = (os.path.join(WORK, f"{label}-{k}") for k in ("nf4", "bf16", "transformers-nf4"))
    if not (export(base, adapter, ours, "export_quantization_bit=4") and export(base, adapter, merged, "export_dtype=bfloat16")):
        continue
    merged_logits = logits(AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval())
    transformers_quantized(merged, BNB, theirs)
    a, b = tensors(ours), tensors(theirs)
    common = same_keys(label, "4-bit", a, b)
    codes = [k for k in common if k.endswith(".weight.absmax") and a[k].dtype == torch.uint8]
    exact = [k for k in common if k not in codes]
    bad = [k for k in exact if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or not torch.equal(a[k], b[k])]
    checks.check(not bad, f"{label}: packed NF4 codes, block-scale maps, quant_state JSON and plain tensors equal transformers'",
                 differing=bad[:4], compared=len(exact))
    same = sum(int((a[k] == b[k]).sum()) for k in codes)
    total = sum(a[k].numel() for k in codes)
    checks.check(total > 0 and same >= 0.99 * total, f"{label}: the 8-bit codes of the block scales agree with bitsandbytes' CPU kernel",
                 agreeing=f"{same}/{total}")
    checks.check(json.load(open(os.path.join(ours, "config.json")))["quantization_config"] ==
                 json.load(open(os.path.join(theirs, "config.json")))["quantization_config"],
                 f"{label}: config.json's quantization_config is transformers'")

    hf_ours = load_4bit(ours)  # (checked before a forward: bitsandbytes' CPU path may repack the codes then)
    linears = [m for m in hf_ours.modules() if isinstance(m, Linear4bit)]
    stored = all(torch.equal(m.weight.data.reshape(-1), a[n + ".weight"].reshape(-1))
                 for n, m in hf_ours.named_modules() if isinstance(m, Linear4bit))
    got = logits(hf_ours)
    checks.check(len(linears) == 7 * model.config.num_hidden_layers and stored,
                 f"{label}: transformers loads our export pre-quantized (Linear4bit with our codes)", linears=len(linears))
    compare_logits(f"{label}: transformers' logits on our 4-bit export equal Tunebench's",
                   got, probe_logits(PROBE, WORK, ours, ROW, dtype="float32").numpy())
    compare_logits(f"{label}: Tunebench's logits on transformers' 4-bit folder equal transformers'",
                   probe_logits(PROBE, WORK, theirs, ROW, dtype="float32").numpy(), logits(load_4bit(theirs)))
    print(f"note {label}: greedy agreement of the 4-bit export with the merged bf16 model: "
          f"{float((got.argmax(-1) == merged_logits.argmax(-1)).mean()):.3f}")

    # 8 bits: bitsandbytes LLM.int8
    ours8, theirs8 = (os.path.join(WORK, f"{label}-{k}") for k in ("int8", "transformers-int8"))
    if not export(base, adapter, ours8, "export_quantization_bit=8"):
        continue
    transformers_quantized(merged, BitsAndBytesConfig(load_in_8bit=True), theirs8)
    a, b = tensors(ours8), tensors(theirs8)
    common = same_keys(label, "8-bit", a, b)
    bad = [k for k in common if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape or not torch.equal(a[k], b[k])]
    checks.check(not bad and any(k.endswith(".SCB") for k in common),
                 f"{label}: int8 rows, SCB, weight_format and plain tensors equal transformers'", differing=bad[:4], compared=len(common))
    checks.check(json.load(open(os.path.join(ours8, "config.json")))["quantization_config"] ==
                 json.load(open(os.path.join(theirs8, "config.json")))["quantization_config"],
                 f"{label}: config.json's 8-bit quantization_config is transformers'")
    hf8 = AutoModelForCausalLM.from_pretrained(ours8, device_map="cpu", dtype=torch.bfloat16).eval()
    linears8 = [(n, m) for n, m in hf8.named_modules() if isinstance(m, Linear8bitLt)]
    stored8 = all(torch.equal(m.weight.data, a[n + ".weight"]) for n, m in linears8)
    checks.check(len(linears8) == 7 * model.config.num_hidden_layers and stored8,
                 f"{label}: transformers loads our 8-bit export pre-quantized (Linear8bitLt with our rows)", linears=len(linears8))
    hf_got, hf_want = logits(hf8), logits(AutoModelForCausalLM.from_pretrained(theirs8, device_map="cpu", dtype=torch.bfloat16).eval())
    checks.check(np.array_equal(hf_got, hf_want), f"{label}: transformers' logits on our 8-bit export equal those on its own",
                 max_abs_diff=float(np.abs(hf_got - hf_want).max()))
    tb_ours, tb_theirs = (probe_logits(PROBE, WORK, d, ROW, dtype="float32").numpy() for d in (ours8, theirs8))
    checks.check(np.array_equal(tb_ours, tb_theirs), f"{label}: Tunebench reads our and transformers' 8-bit folders alike",
                 max_abs_diff=float(np.abs(tb_ours - tb_theirs).max()))
    # the file's weights as bitsandbytes dequantizes them (CB · SCB / 127) in transformers' fp32 model
    dense = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
    with torch.no_grad():
        for n, mod in dense.named_modules():
            if n + ".SCB" in a:
                mod.weight.copy_(a[n + ".weight"].float() * a[n + ".SCB"].float().unsqueeze(1) / 127)
    compare_logits(f"{label}: Tunebench's int8 logits equal transformers' on the file's weights dequantized (CB·SCB/127, fp32)",
                   tb_ours, logits(dense), tol=1e-4)
    print(f"note {label}: against transformers' own LLM.int8 forward (activations quantized too, bf16): max diff "
          f"{float(np.abs(tb_ours - hf_want).max()):.3g} of scale {float(np.abs(hf_want).max()):.3g}, greedy agreement "
          f"{float((tb_ours.argmax(-1) == hf_want.argmax(-1)).mean()):.3f}")
checks.finish()
