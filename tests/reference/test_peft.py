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
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM, GlmConfig, GlmForCausalLM, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

from common import CLI, PROBE, SHARED, WORK, Checks, run, write_json
from hf_models import chatglm_adapter_to_glm, chatglm_config, glm_adapter_to_chatglm, glm_to_chatglm, randomize

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
    spec = write_json(os.path.join(WORK, "spec.json"), {"model": folder, "adapter": adapter, "dtype": "float32",
                                                       "device": "cpu", "rows": [ids]})
    out = os.path.join(WORK, "logits.safetensors")
    run([PROBE, "forward", spec, out])
    return load_file(out)["row0_full"]


def models():
    """(name, HF model, Tunebench folder, PEFT targets, Tunebench lora_target)"""
    llama = LlamaForCausalLM.from_pretrained(STORIES, dtype=torch.float32)
    yield "llama (stories260K)", llama, STORIES, ["q_proj", "v_proj", "o_proj", "down_proj"], "q_proj,v_proj,o_proj,down_proj"
    common = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, rms_norm_eps=1e-5, max_position_embeddings=512)
    qwen = Qwen2ForCausalLM(Qwen2Config(**common, tie_word_embeddings=True, pad_token_id=0, bos_token_id=1, eos_token_id=2))
    randomize(qwen)
    dq = os.path.join(WORK, "qwen2")
    qwen.save_pretrained(dq)
    for f in ["tokenizer.model", "tokenizer_config.json"]:
        shutil.copy(os.path.join(STORIES, f), dq)
    yield "qwen2 (random, tied)", qwen, dq, ["q_proj", "k_proj", "v_proj", "gate_proj"], "all"
    gcfg = GlmConfig(**common, tie_word_embeddings=False, head_dim=16, partial_rotary_factor=0.5, attention_bias=True,
                     pad_token_id=0, eos_token_id=2)
    glm = GlmForCausalLM(gcfg)
    randomize(glm)
    dg = os.path.join(WORK, "glm")
    os.makedirs(dg, exist_ok=True)
    save_file(glm_to_chatglm({k: v.detach() for k, v in glm.state_dict().items()}, gcfg),
              os.path.join(dg, "model.safetensors"), metadata={"format": "pt"})
    write_json(os.path.join(dg, "config.json"), chatglm_config(gcfg, "float32"))
    shutil.copy(os.path.join(STORIES, "tokenizer.model"), dg)
    yield "chatglm (random GLM)", glm, dg, None, "all"


ids = [1] + [int(x) for x in torch.randint(5, 500, (39,))]
x = torch.tensor([ids])
for name, hf, folder, peft_targets, tb_target in models():
    hf.eval()
    key = name.split()[0]
    ours = os.path.join(WORK, f"tb-adapter-{key}")
    tb_train(folder, ours, tb_target)
    load_dir = ours
    if key == "chatglm":
        load_dir = os.path.join(WORK, "tb-adapter-chatglm-as-peft")
        chatglm_adapter_to_glm(ours, load_dir, hf.config)
    pm = PeftModel.from_pretrained(hf, load_dir)
    with torch.no_grad():
        ref = pm(x).logits[0]
    trained = load_file(os.path.join(ours, "adapter_model.safetensors"))
    checks.check(any(v.abs().max() > 0 for k, v in trained.items() if "lora_B" in k), f"{name}: trained lora_B is not zero")
    checks.close(TOL, ref, tb_logits(folder, ids, ours), f"{name}: Tunebench-trained adapter → PEFT")
    hf = pm.unload()
    targets = peft_targets or ["q_proj", "k_proj", "v_proj", "o_proj", "gate_up_proj", "down_proj"]
    pm = get_peft_model(hf, LoraConfig(r=4, lora_alpha=8, target_modules=targets))
    with torch.no_grad():
        for n, p in pm.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
        ref = pm(x).logits[0]
    peft_dir = os.path.join(WORK, f"peft-adapter-{key}")
    pm.save_pretrained(peft_dir)
    load_dir = peft_dir
    if key == "chatglm":
        load_dir = os.path.join(WORK, "peft-adapter-chatglm-fused")
        glm_adapter_to_chatglm(peft_dir, load_dir, hf.config)
    checks.close(TOL, ref, tb_logits(folder, ids, load_dir), f"{name}: PEFT adapter → Tunebench")
    if key == "chatglm":
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
