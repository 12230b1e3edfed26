"""LoRA adapters between Tunebench and PEFT on the CPU, fp32, logits ≤ 1e-4 × max|logit|:
trained by `tunebench-cli train` → loaded by PEFT, and made by PEFT → loaded here; on stories260K
(LLaMA), a random Qwen2 (tied embeddings) and a random GLM written as ChatGLM (adapters converted
between the fused query_key_value and split q/k/v). Then a merged export (`tunebench-cli export`,
sharded) loads with transformers' AutoModelForCausalLM with PEFT's merge_and_unload() logits,
and its index names every tensor of the model, each in a shard that exists."""
import json
import os
import shutil

import torch
from peft import PeftModel
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

from common import CLI, PROBE, SHARED, WORK, Checks, run, write_json
from hf_models import adapter_interchange, interchange_models, probe_logits

TOL = 1e-4
STORIES = os.path.join(SHARED, "models", "stories260K-hf")
torch.manual_seed(0)
checks = Checks()

DATA = os.path.join(WORK, "data")
os.makedirs(DATA, exist_ok=True)
names = ["Lily", "Tom", "Ben", "Sue", "Max", "Anna", "Tim", "Mia"]
write_json(os.path.join(DATA, "toy.json"), [{"instruction": f"Who is {n}?", "input": "",
                                             "output": f"{n} is a little friend who likes to play with a red ball."} for n in names])
write_json(os.path.join(DATA, "dataset_info.json"), {"toy": {"file_name": "toy.json"}})


def tb_train(model_dir, out, target):
    run([CLI, "train", f"model_name_or_path={model_dir}", "dataset=toy", f"dataset_dir={DATA}", "template=empty",
         f"output_dir={out}", "overwrite_output_dir=true", "device=cpu", "cutoff_len=64", "per_device_train_batch_size=8",
         "max_steps=12", "learning_rate=5e-3", "save_steps=1000", "logging_steps=4", "lora_rank=8", f"lora_target={target}"])


def tb_logits(folder, ids, adapter):
    return probe_logits(PROBE, WORK, folder, ids, adapter=adapter)


ids = [1] + [int(x) for x in torch.randint(5, 500, (39,))]
x = torch.tensor([ids])
for name, hf, folder, peft_targets, tb_target in interchange_models(WORK, STORIES, "cpu"):
    hf.eval()
    key = name.split()[0]
    pairs, peft_dir, hf = adapter_interchange(name, hf, folder, peft_targets, WORK, x,
                                              lambda f, out: tb_train(f, out, tb_target), lambda f, a: tb_logits(f, ids, a))
    for direction, ref, ours, adapter in pairs:
        if direction.startswith("tunebench"):
            trained = load_file(os.path.join(adapter, "adapter_model.safetensors"))
            checks.check(any(v.abs().max() > 0 for k, v in trained.items() if "lora_B" in k), f"{name}: trained lora_B is not zero")
        checks.close(TOL, ref, ours, f"{name}: {direction}")
    if key == "glm":
        continue  # transformers cannot load a ChatGLM folder without its remote code
    # merged export: Tunebench merges the PEFT adapter; transformers loads the folder
    base = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    merged_ref = PeftModel.from_pretrained(base, peft_dir).merge_and_unload().eval()
    export = os.path.join(WORK, f"export-{key}")
    shutil.rmtree(export, ignore_errors=True)
    run([CLI, "export", "--model_name_or_path", folder, "--adapter_name_or_path", peft_dir, "--export_dir", export,
         "--export_size", "0.0001"])
    loaded = AutoModelForCausalLM.from_pretrained(export, dtype=torch.float32).eval()
    with torch.no_grad():
        checks.close(TOL, merged_ref(x).logits[0], loaded(x).logits[0], f"{name}: merged export (transformers) = PEFT merge_and_unload()")
    index = json.load(open(os.path.join(export, "model.safetensors.index.json")))
    shards = sorted(set(index["weight_map"].values()))
    in_shards = set()
    for s in shards:
        in_shards |= set(load_file(os.path.join(export, s)).keys())
    expected = set(merged_ref.state_dict().keys())
    if hf.config.tie_word_embeddings:
        expected.discard("lm_head.weight")
    checks.check(set(index["weight_map"]) == expected == in_shards,
                 f"{name}: the export's index names every tensor, each in its shard", shards=len(shards), tensors=len(in_shards))
checks.finish()
