"""AdaLoRA (finetuning_type adalora, issue 15) against PEFT 0.18.1 on the CPU, stories260K (LLaMA):
- the budget schedule equals RankAllocator.budget_schedule at every step of several schedules;
- the allocator: fed the same A, B, E and gradients step by step, Tunebench's AdaLoraAllocator masks
  the same singular values, keeps the same rank pattern and computes the same orthogonal
  regulariser as PEFT's RankAllocator / AdaLoraModel.forward;
- an AdaLoRA adapter trained by `tunebench-cli train` (pruned to target_r, rank_pattern written) loads
  in PEFT with Tunebench's logits (1e-4 of the logit scale), and one trained with PEFT (its
  update_and_allocate loop, saved pruned) loads in Tunebench with PEFT's logits;
- `tunebench-cli export` of the PEFT adapter merged equals PEFT's merge_and_unload();
- a short run on the demo prunes to target_r: the kept ranks sum to target_r × matrices (ties can
  only cut more), and the saved tensors have exactly the kept ranks."""
import json
import os
import shutil
import subprocess

import torch
from peft import AdaLoraConfig, PeftModel, get_peft_model
from peft.tuners.adalora.layer import RankAllocator
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM

from common import CLI, PROBE, SHARED, WORK, Checks, run, write_json
from hf_models import probe_logits

TOL = 1e-4
STORIES = os.path.join(SHARED, "models", "stories260K-hf")
torch.manual_seed(0)
checks = Checks()
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)

# 1. the budget schedule
worst = []
for init_bgt, target_bgt, tinit, tfinal, total, delta in [(24, 8, 1, 2, 6, 1), (120, 40, 10, 20, 200, 5), (60, 0, 0, 0, 50, 3),
                                                          (48, 48, 2, 3, 20, 1), (1000, 250, 37, 91, 997, 7)]:
    cfg = AdaLoraConfig(target_r=1, init_r=1, tinit=tinit, tfinal=tfinal, total_step=total, deltaT=delta)
    ra = RankAllocator.__new__(RankAllocator)
    ra.peft_config, ra.init_bgt, ra.target_bgt = cfg, init_bgt, target_bgt
    ref = [list(ra.budget_schedule(s)) for s in range(total + 2)]
    ours = json.loads(run([PROBE, "adalora-budget", init_bgt, target_bgt, tinit, tfinal, total, delta]))
    ours = [[b, bool(m)] for b, m in ours]
    if ours != ref:
        worst.append((init_bgt, target_bgt, tinit, tfinal, total, delta))
checks.check(not worst, "the budget schedule equals PEFT's RankAllocator.budget_schedule at every step of 5 schedules",
             differ=worst)
ra_cfg = AdaLoraConfig(target_r=1, init_r=1, tinit=1, tfinal=2, total_step=6, deltaT=1)
checks.check([b for b, _ in json.loads(run([PROBE, "adalora-budget", 24, 8, 1, 2, 6, 1]))][:6] == [24, 24, 12, 8, 8, 8],
             "the schedule FORMATS.md §5.5 verified (24, 24, 12, 8, 8, 8)")

# 2. the allocator, step by step on the same values and gradients
STEPS, INIT_R = 9, 6
alloc_cfg = dict(init_r=INIT_R, target_r=2, tinit=1, tfinal=3, total_step=STEPS, deltaT=2, beta1=0.85, beta2=0.85)
base = AutoModelForCausalLM.from_pretrained(STORIES, dtype=torch.float32)
peft_model = get_peft_model(base, AdaLoraConfig(target_modules=["q_proj", "v_proj"], lora_alpha=8, orth_reg_weight=0.5,
                                                **alloc_cfg))
named = {n: p for n, p in peft_model.named_parameters() if "lora_" in n}
gen = torch.Generator().manual_seed(1)
given, ref = {}, {}
x = torch.tensor([[1] + list(range(20, 40))])
for s in range(STEPS):
    with torch.no_grad():
        for n, p in named.items():
            p.add_(torch.randn(p.shape, generator=gen) * 0.05)  # as if an optimizer step had moved them
    for i, (n, p) in enumerate(named.items()):
        p.grad = torch.randn(p.shape, generator=gen) * (1.0 + 3.0 * (i % 5))  # unequal importances
        module = n.replace("base_model.model.", "").replace(".default", "")
        given[f"s{s}.{module}"] = p.detach().clone()
        given[f"s{s}.{module}.grad"] = p.grad.clone()
    with torch.no_grad():  # PEFT's regulariser: AdaLoraModel.forward's loss with it minus without
        with_reg = peft_model.base_model(input_ids=x, labels=x).loss
        peft_model.peft_config["default"].orth_reg_weight = 1e-30
        without = peft_model.base_model(input_ids=x, labels=x).loss
        peft_model.peft_config["default"].orth_reg_weight = 0.5
    ref[f"s{s}.orth"] = ((with_reg - without) / 0.5).reshape(1)
    peft_model.base_model.update_and_allocate(s)
    pattern = peft_model.peft_config["default"].rank_pattern or {}
    for n, p in named.items():
        if "lora_E" in n:
            module = n.replace("base_model.model.", "").replace(".default", "")
            ref[f"s{s}.{module}"] = p.detach().clone()
            key = n.replace("base_model.model.", "", 1)  # the inner model's parameter name
            if key in pattern:
                ref[f"s{s}.{module.replace('.lora_E', '')}.pattern"] = torch.tensor(pattern[key], dtype=torch.uint8)
in_file, out_file = os.path.join(WORK, "alloc_in.safetensors"), os.path.join(WORK, "alloc_out.safetensors")
save_file({k: v.contiguous() for k, v in given.items()}, in_file)
spec = write_json(os.path.join(WORK, "alloc.json"), dict(model=STORIES, targets="q_proj,v_proj", steps=STEPS, **alloc_cfg))
run([PROBE, "adalora", spec, in_file, out_file])
ours = load_file(out_file)
e_diff = max((ours[k] - v).abs().max().item() for k, v in ref.items() if k.endswith("lora_E"))
checks.check(e_diff == 0.0, f"allocator: E after each of {STEPS} steps equals PEFT's (masked entries, bit for bit)", max_abs_diff=e_diff)
pattern_keys = [k for k in ref if k.endswith(".pattern")]
same = all(k in ours and torch.equal(ours[k], ref[k]) for k in pattern_keys)
checks.check(same and len(pattern_keys) > 0, "allocator: the rank pattern after every masking step equals PEFT's",
             patterns=len(pattern_keys))
orth = max(abs(ours[f"s{s}.orth"].item() - ref[f"s{s}.orth"].item()) / ref[f"s{s}.orth"].item() for s in range(STEPS))
checks.check(orth < 1e-5, "orthogonal regulariser equals AdaLoraModel.forward's", max_rel_diff=orth)

# 3. adapters both ways, and the merged export
DATA = os.path.join(WORK, "data")
os.makedirs(DATA)
names = ["Lily", "Tom", "Ben", "Sue", "Max", "Anna", "Tim", "Mia"]
write_json(os.path.join(DATA, "toy.json"), [{"instruction": f"Who is {n}?", "input": "",
                                             "output": f"{n} is a little friend who likes to play with a red ball."} for n in names])
write_json(os.path.join(DATA, "dataset_info.json"), {"toy": {"file_name": "toy.json"}})
ours_dir = os.path.join(WORK, "tb_adalora")
run([CLI, "train", f"model_name_or_path={STORIES}", "dataset=toy", f"dataset_dir={DATA}", "template=empty",
     f"output_dir={ours_dir}", "overwrite_output_dir=true", "device=cpu", "cutoff_len=64", "per_device_train_batch_size=8",
     "max_steps=12", "learning_rate=5e-3", "save_steps=1000", "logging_steps=4", "finetuning_type=adalora",
     "lora_target=q_proj,v_proj", "init_r=6", "target_r=2", "tinit=2", "tfinal=3", "lora_alpha=16"])
cfg = json.load(open(os.path.join(ours_dir, "adapter_config.json")))
saved = load_file(os.path.join(ours_dir, "adapter_model.safetensors"))
kept = {k: sum(v) for k, v in (cfg.get("rank_pattern") or {}).items()}
matrices = len([k for k in saved if k.endswith("lora_E")])
checks.check(cfg["peft_type"] == "ADALORA" and len(kept) == matrices and 0 < sum(kept.values()) <= 2 * matrices,
             "our adapter: peft_type ADALORA, a rank pattern per matrix, at most target_r × matrices ranks kept",
             kept=sum(kept.values()), budget=2 * matrices)
shapes_ok = all(saved[f"base_model.model.{m[:-len('.lora_E')]}.lora_A"].shape[0] == r and
                saved[f"base_model.model.{m[:-len('.lora_E')]}.lora_B"].shape[1] == r for m, r in kept.items())
checks.check(shapes_ok, "our adapter: the saved A, E rows and B columns are exactly the kept ranks")
ids = [1] + [int(t) for t in torch.randint(5, 500, (31,))]
xi = torch.tensor([ids])
base = AutoModelForCausalLM.from_pretrained(STORIES, dtype=torch.float32).eval()
ref_logits = PeftModel.from_pretrained(base, ours_dir).eval()(xi).logits[0].detach()
checks.close(TOL, ref_logits, probe_logits(PROBE, WORK, STORIES, ids, adapter=ours_dir),
             "tunebench-trained AdaLoRA adapter → PEFT: equal logits")
with torch.no_grad():  # a fresh base: from_pretrained put the adapter into `base`
    moved = (ref_logits - AutoModelForCausalLM.from_pretrained(STORIES, dtype=torch.float32).eval()(xi).logits[0]).abs().max().item()
checks.check(moved > 1e-2, "the trained adapter changes the logits (the comparison is not of the base alone)", max_change=moved)

# PEFT trains one (its documented loop), saves it pruned; Tunebench loads it
base = AutoModelForCausalLM.from_pretrained(STORIES, dtype=torch.float32)
pm = get_peft_model(base, AdaLoraConfig(target_modules=["q_proj", "v_proj"], init_r=6, target_r=2, tinit=2, tfinal=3,
                                        total_step=12, lora_alpha=16))
opt = torch.optim.AdamW([p for p in pm.parameters() if p.requires_grad], lr=5e-3)
batch = torch.randint(5, 500, (4, 24))
for step in range(12):
    loss = pm(input_ids=batch, labels=batch).loss
    loss.backward()
    opt.step()
    pm.base_model.update_and_allocate(step)
    opt.zero_grad()
peft_dir = os.path.join(WORK, "peft_adalora")
pm.save_pretrained(peft_dir)
pm.eval()
with torch.no_grad():
    peft_logits = pm(xi).logits[0]
    checks.close(TOL, peft_logits, probe_logits(PROBE, WORK, STORIES, ids, adapter=peft_dir),
                 "PEFT-trained AdaLoRA adapter (pruned, rank_pattern) → Tunebench: equal logits")
    with pm.disable_adapter():
        moved = (peft_logits - pm(xi).logits[0]).abs().max().item()
checks.check(moved > 1e-2, "PEFT's trained adapter changes the logits", max_change=moved)
export = os.path.join(WORK, "export")
run([CLI, "export", "--model_name_or_path", STORIES, "--adapter_name_or_path", peft_dir, "--export_dir", export])
merged = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(STORIES, dtype=torch.float32), peft_dir).merge_and_unload().eval()
loaded = AutoModelForCausalLM.from_pretrained(export, dtype=torch.float32).eval()
with torch.no_grad():
    checks.close(TOL, merged(xi).logits[0], loaded(xi).logits[0], "merged export = PEFT merge_and_unload() of the AdaLoRA adapter")

# LoRA training cannot continue an AdaLoRA adapter (no LoRA config holds its per-matrix ranks): refused, nothing written
refused = os.path.join(WORK, "lora_on_adalora")
p = subprocess.run([CLI, "train", f"model_name_or_path={STORIES}", "dataset=toy", f"dataset_dir={DATA}", "template=empty",
                    f"output_dir={refused}", "device=cpu", "max_steps=2", f"adapter_name_or_path={peft_dir}"],
                   capture_output=True, text=True)
checks.check(p.returncode != 0 and "is an AdaLoRA adapter" in p.stderr and "finetuning_type adalora" in p.stderr
             and not os.path.exists(refused), "finetuning_type lora on an AdaLoRA adapter: one clear refusal, nothing written",
             rc=p.returncode)

# 4. the demo prunes to target_r
demo = os.path.join(WORK, "demo")
subprocess.run([CLI, "init-demo", demo], capture_output=True, text=True, check=True)
demo_out = os.path.join(WORK, "demo_adalora")
p = subprocess.run([CLI, "train", os.path.join(demo, "train_lora.yaml"), f"output_dir={demo_out}", "finetuning_type=adalora",
                    "max_steps=20", "init_r=8", "target_r=3", "tinit=2", "tfinal=12", "logging_steps=5", "save_steps=10"],
                   capture_output=True, text=True)
checks.check(p.returncode == 0, "the demo trains with finetuning_type adalora", rc=p.returncode,
             err=p.stderr.strip().splitlines()[-1] if p.returncode else "")
if p.returncode == 0:
    cfg = json.load(open(os.path.join(demo_out, "adapter_config.json")))
    pattern = cfg["rank_pattern"]
    checks.check(0 < sum(sum(v) for v in pattern.values()) <= 3 * len(pattern) and all(len(v) == 8 for v in pattern.values()),
                 "the demo's adapter is pruned to target_r on average", kept=sum(sum(v) for v in pattern.values()),
                 budget=3 * len(pattern))
    g = subprocess.run([CLI, "generate", "--model_name_or_path", os.path.join(demo, "model"), "--adapter_name_or_path", demo_out,
                        "--prompt", "你好", "--max_new_tokens", "4", "--do_sample", "false"], capture_output=True, text=True)
    checks.check(g.returncode == 0, "the pruned AdaLoRA adapter generates", rc=g.returncode)
    # resume from checkpoint-10 (after the budgeting phase, steps 3–8: the saved rank pattern masks E from
    # there) reproduces the uninterrupted run (allocator state and all ranks saved)
    first = load_file(os.path.join(demo_out, "adapter_model.safetensors"))
    p = subprocess.run([CLI, "train", os.path.join(demo, "train_lora.yaml"), f"output_dir={demo_out}", "finetuning_type=adalora",
                        "max_steps=20", "init_r=8", "target_r=3", "tinit=2", "tfinal=12", "logging_steps=5", "save_steps=10",
                        "overwrite_output_dir=false", f"resume_from_checkpoint={os.path.join(demo_out, 'checkpoint-10')}"],
                       capture_output=True, text=True)
    again = load_file(os.path.join(demo_out, "adapter_model.safetensors"))
    diff = max(((first[k] - again[k]).abs().max().item() if first[k].numel() else 0.0) for k in first) \
        if set(first) == set(again) and all(first[k].shape == again[k].shape for k in first) else float("inf")
    checks.check(p.returncode == 0 and diff == 0.0, "resuming from checkpoint-10 ends with the same pruned adapter, bit for bit",
                 rc=p.returncode, max_abs_diff=diff)
checks.finish()
