"""ChatGLM-6B (the first generation) against its original modeling code (../shared/reference/chatglm-6b,
FORMATS.md §3), on the CPU in fp32, ≤ 1e-4 × max|logit|: a tiny random model of the release's config
shape (LayerNorm with bias, GELU, α-scaled residual, per-head q|k|v rows, 2-D RoPE, the prefix-LM
mask up to <sop>), over a full forward, KV-cache decode steps after <sop> and a left-padded batch
(masks and positions as the original tokenizer's _pad builds them), with SDPA and the eager kernel;
LoRA trained here loaded by PEFT on the original and PEFT's adapter loaded here; QLoRA training;
the merged export loaded by the original class with PEFT's merge_and_unload() logits."""
import json
import os
import re
import subprocess
import shutil

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file

from chatglm6b_common import original_package, write_tokenizer
from common import CLI, PROBE, WORK, Checks, run, write_json
from hf_models import probe_logits, randomize

TOL, STEPS = 1e-4, 6
torch.manual_seed(0)
checks = Checks()
original_package()
from chatglm6b_original.configuration_chatglm import ChatGLMConfig  # noqa: E402
from chatglm6b_original.modeling_chatglm import ChatGLMForConditionalGeneration  # noqa: E402
from chatglm6b_original.tokenization_chatglm import SPTokenizer  # noqa: E402

folder = os.path.join(WORK, "chatglm6b")
tok = SPTokenizer(write_tokenizer(folder), num_image_tokens=0)  # a stand-in ice_text.model, 4000 pieces
MASK, GMASK, SOP, EOP, PAD = (tok[s] for s in ("[MASK]", "[gMASK]", "<sop>", "<eop>", "<pad>"))
config = ChatGLMConfig(vocab_size=4096, hidden_size=128, num_layers=3, num_attention_heads=4, inner_hidden_size=512,
                       layernorm_epsilon=1e-5, max_sequence_length=512, bos_token_id=SOP, eos_token_id=EOP,
                       mask_token_id=MASK, gmask_token_id=GMASK, pad_token_id=PAD, position_encoding_2d=True)
model = ChatGLMForConditionalGeneration(config, empty_init=False).float().eval()
randomize(model)
# transformers 4.2x, which the code was written for, ties lm_head to the embedding on loading (no
# tie_word_embeddings key: its default, true); transformers 5 no longer does it for this class
model.lm_head.weight = model.transformer.word_embeddings.weight

state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}  # both names, as the release
save_file(state, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
saved = config.to_dict()
saved["torch_dtype"] = "float32"
saved.pop("dtype", None)
write_json(os.path.join(folder, "config.json"), saved)


# the parameter count Tunebench reports (inspect) = the original's (the tied head counted once)
p = subprocess.run([CLI, "inspect", "--model_name_or_path", folder], capture_output=True, text=True)
reported = re.search(r"parameters .*\((\d+);", p.stdout)
checks.check(reported and int(reported.group(1)) == sum(x.numel() for x in model.parameters()),
             "inspect's parameter count = the original model's", tunebench=reported.group(1) if reported else p.stderr[-200:],
             original=sum(x.numel() for x in model.parameters()))


def row(prompt_len, answer_len, mask=GMASK):
    r = lambda n: [int(x) for x in torch.randint(200, 3990, (n,))]
    return r(prompt_len) + [mask, SOP] + r(answer_len)


rows = [row(20, 14), row(9, 10), row(5, 8, mask=MASK)]


def padded_batch(rows):
    """tokenization_chatglm's _pad: mask and 2-D positions of each unpadded row, then left padding
    (pad id 3; mask True in the new rows and columns, positions 0)."""
    T = max(map(len, rows))
    ids = torch.full((len(rows), T), PAD, dtype=torch.long)
    masks = torch.ones(len(rows), 1, T, T, dtype=torch.bool)
    positions = torch.zeros(len(rows), 2, T, dtype=torch.long)
    for b, r in enumerate(rows):
        x = torch.tensor([r])
        n, pad = len(r), T - len(r)
        ids[b, pad:] = x[0]
        masks[b, :, pad:, pad:] = model.transformer.get_masks(x, device="cpu")[0]
        mask_token = GMASK if GMASK in r else MASK
        positions[b, :, pad:] = model.transformer.get_position_ids(x, [r.index(mask_token)], device="cpu",
                                                                    use_gmasks=[mask_token == GMASK])[0]
    return ids, masks, positions


with torch.no_grad():
    single = [model(input_ids=torch.tensor([r])).logits[0] for r in rows]
    ids, masks, positions = padded_batch(rows)
    batch = model(input_ids=ids, attention_mask=masks, position_ids=positions).logits

for flash_attn in ("auto", "disabled"):
    spec = write_json(os.path.join(WORK, "spec.json"), {"model": folder, "dtype": "float32", "device": "cpu",
                                                       "flash_attn": flash_attn, "rows": rows, "decode_steps": STEPS})
    out = os.path.join(WORK, "out.safetensors")
    run([PROBE, "forward", spec, out])
    got = load_file(out)
    what = f"chatglm-6b [flash_attn={flash_attn}]"
    for b, r in enumerate(rows):
        checks.close(TOL, single[b], got[f"row{b}_full"], f"{what} full forward, {len(r)} tokens")
        checks.close(TOL, single[b][len(r) - STEPS - 1:], got[f"row{b}_decode"],
                     f"{what} KV-cache decode, {STEPS + 1} steps after {len(r) - STEPS - 1}")
    T = batch.shape[1]
    real = torch.cat([batch[b, T - len(r):] for b, r in enumerate(rows)])
    ours = torch.cat([got["batch"][b, T - len(r):] for b, r in enumerate(rows)])
    checks.close(TOL, real, ours, f"{what} left-padded batch of {len(rows)}")

# The checks can fail: the same model with a causal prompt (no prefix attention) is far off.
with torch.no_grad():
    T = len(rows[0])
    causal = torch.ones(1, 1, T, T).tril() < 0.5
    x = torch.tensor([rows[0]])
    pos = model.transformer.get_position_ids(x, [rows[0].index(GMASK)], device="cpu", use_gmasks=[True])
    wrong = model(input_ids=x, attention_mask=causal, position_ids=pos).logits[0]
diff = (wrong - single[0]).abs().max().item()
checks.check(diff > TOL * single[0].abs().max().item(), "a causal mask over the prompt is out of tolerance (the prefix mask matters)",
             max_abs_diff=diff)

# fp16, as the release runs: its rotary buffer is fp16, so the angles t·inv_freq are fp16 products (an
# angle near 700 rad keeps 0.25 rad). Over a 912-token row Tunebench in fp16 must follow the original
# in fp16, and be out of tolerance of the same model with fp32 angles (so the check can fail). The
# query_key_value rows are scaled up here so attention is sharp enough for positions to matter.
HALF_TOL = 3e-2
sharp_state = {k: (v * 6 if "query_key_value.weight" in k else v).detach().clone() for k, v in model.state_dict().items()}
sharp_folder = os.path.join(WORK, "chatglm6b-sharp")
os.makedirs(sharp_folder, exist_ok=True)
save_file({k: v.contiguous() for k, v in sharp_state.items()}, os.path.join(sharp_folder, "model.safetensors"), metadata={"format": "pt"})
shutil.copy(os.path.join(folder, "config.json"), sharp_folder)
half = ChatGLMForConditionalGeneration(config, empty_init=False).float()
half.load_state_dict(sharp_state)
half.lm_head.weight = half.transformer.word_embeddings.weight
half = half.half().eval()


def fp32_angles(self, x, seq_dim=1, seq_len=None):  # RotaryEmbedding.forward with t·inv_freq in fp32, cos/sin in fp16
    t = torch.arange(int(seq_len), dtype=torch.float32)
    emb = torch.cat([torch.outer(t, self.inv_freq.float())] * 2, dim=-1)
    return emb.cos()[:, None, :].half(), emb.sin()[:, None, :].half()


long_row = row(900, 10)
with torch.no_grad():
    for layer in half.transformer.layers:  # the release's buffer, fp16; caches of the fp32 model dropped
        rot = layer.attention.rotary_emb
        rot.inv_freq = rot.inv_freq.half()
        rot.cos_cached = rot.sin_cached = rot.max_seq_len_cached = None
    ref_fp16_angles = half(input_ids=torch.tensor([long_row])).logits[0].float()
    rotary_class = type(half.transformer.layers[0].attention.rotary_emb)
    original_forward = rotary_class.forward
    rotary_class.forward = fp32_angles
    ref_fp32_angles = half(input_ids=torch.tensor([long_row])).logits[0].float()
    rotary_class.forward = original_forward
spec = write_json(os.path.join(WORK, "spec.json"), {"model": sharp_folder, "dtype": "float16", "device": "cpu", "rows": [long_row]})
run([PROBE, "forward", spec, os.path.join(WORK, "out.safetensors")])
got16 = load_file(os.path.join(WORK, "out.safetensors"))["row0_full"]
checks.close(HALF_TOL, ref_fp16_angles, got16, "chatglm-6b fp16, 912 positions = the original in fp16 (fp16 rotary angles)")
diff = (ref_fp32_angles - got16).abs().max().item()
checks.check(diff > HALF_TOL * ref_fp32_angles.abs().max().item(),
             "chatglm-6b fp16 is out of tolerance of fp32 rotary angles (so the check above can fail)", max_abs_diff=diff)

# LoRA both ways with PEFT (its chatglm default target is query_key_value; every linear here)
x = torch.tensor([rows[0]])
DATA = os.path.join(WORK, "data")
os.makedirs(DATA, exist_ok=True)
write_json(os.path.join(DATA, "toy.json"), [{"instruction": f"第{i}个病人头痛发热，怎么办？", "input": "",
                                             "output": f"建议多喝水，休息{i}天，必要时就医。"} for i in range(8)])
write_json(os.path.join(DATA, "dataset_info.json"), {"toy": {"file_name": "toy.json"}})
ours_dir = os.path.join(WORK, "tb-adapter")
run([CLI, "train", f"model_name_or_path={folder}", "dataset=toy", f"dataset_dir={DATA}", "template=chatglm6b",
     f"output_dir={ours_dir}", "overwrite_output_dir=true", "device=cpu", "cutoff_len=64", "per_device_train_batch_size=4",
     "max_steps=8", "learning_rate=5e-3", "save_steps=1000", "logging_steps=4", "lora_rank=8", "lora_target=query_key_value"])
trained = load_file(os.path.join(ours_dir, "adapter_model.safetensors"))
checks.check(any(v.abs().max() > 0 for k, v in trained.items() if "lora_B" in k), "tunebench-trained lora_B is not zero")
log = [json.loads(l) for l in open(os.path.join(ours_dir, "trainer_log.jsonl")) if '"loss"' in l]
checks.check(len(log) >= 2 and log[-1]["loss"] < log[0]["loss"], "training on the chatglm6b template lowers the loss",
             first=log[0]["loss"] if log else -1.0, last=log[-1]["loss"] if log else -1.0)
qlora_dir = os.path.join(WORK, "tb-qlora")
run([CLI, "train", f"model_name_or_path={folder}", "dataset=toy", f"dataset_dir={DATA}", "template=chatglm6b",
     f"output_dir={qlora_dir}", "overwrite_output_dir=true", "device=cpu", "cutoff_len=64", "per_device_train_batch_size=4",
     "max_steps=8", "learning_rate=5e-3", "save_steps=1000", "logging_steps=4", "lora_rank=8", "lora_target=all",
     "quantization_bit=4"])
qlog = [json.loads(l) for l in open(os.path.join(qlora_dir, "trainer_log.jsonl")) if '"loss"' in l]
checks.check(len(qlog) >= 2 and qlog[-1]["loss"] < qlog[0]["loss"], "QLoRA (NF4 base, every linear adapted) lowers the loss",
             first=qlog[0]["loss"] if qlog else -1.0, last=qlog[-1]["loss"] if qlog else -1.0)
pm = PeftModel.from_pretrained(model, ours_dir)
with torch.no_grad():
    ref = pm(input_ids=x).logits[0]
checks.close(TOL, ref, probe_logits(PROBE, WORK, folder, rows[0], adapter=ours_dir), "tunebench-trained adapter -> PEFT")
base = pm.unload()
pm = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules=["query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"]))
with torch.no_grad():
    for n, p in pm.named_parameters():
        if "lora_B" in n:
            p.normal_(0, 0.05)
    ref = pm(input_ids=x).logits[0]
peft_dir = os.path.join(WORK, "peft-adapter")
pm.save_pretrained(peft_dir)
checks.close(TOL, ref, probe_logits(PROBE, WORK, folder, rows[0], adapter=peft_dir), "PEFT adapter -> tunebench")

# merged export: the original code loads it and gives PEFT's merge_and_unload() logits
with torch.no_grad():
    merged_ref = pm.merge_and_unload()(input_ids=x).logits[0]
export = os.path.join(WORK, "export")
shutil.rmtree(export, ignore_errors=True)
run([CLI, "export", "--model_name_or_path", folder, "--adapter_name_or_path", peft_dir, "--export_dir", export])
exported = load_file(os.path.join(export, "model.safetensors"))
checks.check(set(exported) == {k for k in state if "rotary_emb" not in k},
             "the export holds the release's tensor names (lm_head beside the embedding)", tensors=len(exported))
loaded = ChatGLMForConditionalGeneration(ChatGLMConfig(**json.load(open(os.path.join(export, "config.json")))), empty_init=False).float()
missing = loaded.load_state_dict(exported, strict=False)
checks.check(not [k for k in missing.missing_keys if "rotary_emb" not in k] and not missing.unexpected_keys,
             "the original model class loads the export's config and every tensor", missing=len(missing.missing_keys))
with torch.no_grad():
    checks.close(TOL, merged_ref, loaded.eval()(input_ids=x).logits[0], "merged export (original code) = PEFT merge_and_unload()")
checks.check(os.path.exists(os.path.join(export, "ice_text.model")), "the export carries ice_text.model")
checks.finish()
