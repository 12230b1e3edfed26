#!/usr/bin/env python3
"""Tunebench training vs PEFT on a CUDA machine (run by tests/gpu/run_training_checks.sh).

(a) Adapter interchange: an adapter trained by `tunebench-cli train` loads in PEFT, and a PEFT
    adapter loads in Tunebench, with matching logits - on stories260K (LLaMA), a random tiny
    Qwen2 and a random tiny GLM (transformers' GlmForCausalLM, converted to ChatGLM's layout;
    its adapters are converted between the fused query_key_value and split q/k/v forms).
(b) 20 LoRA steps from the same initial adapter on the same tokenized rows (written by
    Tunebench's tokenized_path): Tunebench's loss curve vs a PEFT + torch AdamW loop, fp32, bf16
    and fp16 (dynamic loss scaling on both sides).
(c) Training tokens/s and peak memory, ChatGLM2-6B shape, random bf16, batch 4 x 1024, LoRA r=8 on
    query_key_value (PEFT: q/k/v of GlmForCausalLM), with and without gradient checkpointing on
    both sides; also QLoRA 4-bit (PEFT side only when bitsandbytes is installed). Every timed run
    must learn: its last loss below its first and a non-zero gradient norm.
Prints one JSON document; exit 1 when a check is out of tolerance.
"""
import json, os, shutil, subprocess, sys, time
import torch
from safetensors.torch import load_file, save_file
import transformers, peft
from peft import LoraConfig, PeftModel, get_peft_model
from transformers import LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM, GlmConfig, GlmForCausalLM
from hf_models import adapter_interchange, probe_logits, glm_to_chatglm, chatglm_config, interchange_models

TOOL, CLI, WORK, STORIES = sys.argv[1:5]
SKIP_BENCH = os.environ.get("TB_SKIP_BENCH") == "1"
os.makedirs(WORK, exist_ok=True)
torch.manual_seed(0)
R = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
     "gpu": torch.cuda.get_device_name(0), "interchange": [], "loss_curve": [], "bench": [], "ok": True}


def run(cmd):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout[-3000:], p.stderr[-3000:], file=sys.stderr)
        raise RuntimeError("failed: " + " ".join(map(str, cmd)))
    return p.stdout


PROBE = os.path.join(os.path.dirname(TOOL), "tunebench_probe")  # built beside the GPU tool


def tb_logits(folder, ids, adapter=None, dtype="float32"):
    return probe_logits(PROBE, WORK, folder, ids, dtype, "cuda", adapter).cuda()


# a small instruction set in the stories vocabulary
DATA = os.path.join(WORK, "data")
os.makedirs(DATA, exist_ok=True)
names = ["Lily", "Tom", "Ben", "Sue", "Max", "Anna", "Tim", "Mia", "Sam", "Lucy", "Jack", "Amy", "Bob", "Kim", "Zoe", "Dan"]
rows = [{"instruction": f"Who is {n}?", "input": "", "output": f"{n} is a little friend who likes to play with a red ball in the park."}
        for n in names]
json.dump(rows, open(os.path.join(DATA, "toy.json"), "w"))
json.dump({"toy": {"file_name": "toy.json"}}, open(os.path.join(DATA, "dataset_info.json"), "w"))


def tb_train(model_dir, out, **kw):
    args = dict(model_name_or_path=model_dir, dataset="toy", dataset_dir=DATA, template="empty", output_dir=out,
                overwrite_output_dir="true", device="cuda", cutoff_len=128, per_device_train_batch_size=16,
                save_steps=1000, logging_steps=1, gradient_checkpointing="false", lora_rank=8)
    args.update(kw)
    run([CLI, "train"] + [f"{k}={v}" for k, v in args.items()])


def compare_logits(name, direction, ref, ours, tol=1e-4):
    scale = ref.abs().max().item()
    diff = (ref.float() - ours.float()).abs().max().item()
    ok = diff <= tol * scale
    R["interchange"].append({"model": name, "direction": direction, "max_abs_diff": diff, "scale": scale, "ok": ok})
    R["ok"] &= ok


ids = [1] + [int(x) for x in torch.randint(5, 500, (47,))]
x = torch.tensor([ids], device="cuda")
for name, hf, folder, peft_targets, tb_target in interchange_models(WORK, STORIES, "cuda"):
    train = lambda f, out: tb_train(f, out, max_steps=30, learning_rate=5e-3, lora_target=tb_target)
    pairs, _, hf = adapter_interchange(name, hf, folder, peft_targets, WORK, x, train,
                                       lambda f, adapter: tb_logits(f, ids, adapter))
    for direction, ref, ours, _ in pairs:
        compare_logits(name, direction, ref, ours)
    del hf
    torch.cuda.empty_cache()

# (b) loss curves from the same initial adapter on the same rows
for dtype, tol in [("float32", 1e-4), ("bfloat16", 3e-2), ("float16", 3e-2)]:
    td = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    base = LlamaForCausalLM.from_pretrained(STORIES, dtype=td).cuda()
    init = os.path.join(WORK, "init-adapter")
    get_peft_model(base, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])).save_pretrained(init)
    base = LlamaForCausalLM.from_pretrained(STORIES, dtype=td).cuda()
    out, tok = os.path.join(WORK, f"curve-{dtype}"), os.path.join(WORK, "tokenized")
    tb_train(STORIES, out, adapter_name_or_path=init, max_steps=20, learning_rate=1e-3, lr_scheduler_type="constant",
             max_grad_norm=1.0, tokenized_path=tok, bf16=str(dtype == "bfloat16").lower(), fp16=str(dtype == "float16").lower())
    ours = [e["loss"] for e in json.load(open(os.path.join(out, "trainer_state.json")))["log_history"] if "loss" in e]
    rows_t = [json.loads(l) for l in open(os.path.join(tok, "train.jsonl"))]
    T = (max(len(r["input_ids"]) for r in rows_t) + 7) // 8 * 8
    inp = torch.zeros(len(rows_t), T, dtype=torch.long)
    lab = torch.full((len(rows_t), T), -100, dtype=torch.long)
    att = torch.zeros(len(rows_t), T, dtype=torch.long)
    for i, r in enumerate(rows_t):
        n = len(r["input_ids"])
        inp[i, :n], lab[i, :n], att[i, :n] = torch.tensor(r["input_ids"]), torch.tensor(r["labels"]), 1
    inp, lab, att = inp.cuda(), lab.cuda(), att.cuda()
    pm = PeftModel.from_pretrained(base, init, is_trainable=True)  # adapter weights upcast to fp32
    params = [p for p in pm.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    theirs = []
    # fp16: dynamic loss scaling as HF Trainer does it (GradScaler, initial scale 2^16)
    scaler = torch.amp.GradScaler("cuda", init_scale=65536.0, enabled=dtype == "float16")
    for step in range(20):
        loss = pm(input_ids=inp, attention_mask=att, labels=lab).loss
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad()
        theirs.append(loss.item())
    rel = max(abs(a - b) / abs(b) for a, b in zip(ours, theirs))
    ok = len(ours) == 20 and rel <= tol
    R["loss_curve"].append({"dtype": dtype, "tunebench": ours, "peft": theirs, "max_rel_diff": rel, "tolerance": tol, "ok": ok})
    R["ok"] &= ok
    del pm, base
    torch.cuda.empty_cache()

# (c) throughput and memory, ChatGLM2-6B shape
if not SKIP_BENCH:
    cfg = GlmConfig(vocab_size=65024, hidden_size=4096, intermediate_size=13696, num_hidden_layers=28, num_attention_heads=32,
                    num_key_value_heads=2, head_dim=128, partial_rotary_factor=0.5, attention_bias=True, rms_norm_eps=1e-5,
                    max_position_embeddings=8192, tie_word_embeddings=False, pad_token_id=0, eos_token_id=2)
    B, S, STEPS = 4, 1024, 5
    db = os.path.join(WORK, "chatglm2-6b-shape")
    os.makedirs(db, exist_ok=True)
    json.dump(chatglm_config(cfg, "bfloat16", "chatglm2-6b"), open(os.path.join(db, "config.json"), "w"), indent=2)

    def hf_bench(qlora, checkpointing):
        torch.cuda.empty_cache()
        t0 = time.time()
        with torch.device("cuda"):
            try:
                model = GlmForCausalLM._from_config(cfg, dtype=torch.bfloat16, attn_implementation="sdpa")
            except TypeError:
                model = GlmForCausalLM._from_config(cfg, torch_dtype=torch.bfloat16, attn_implementation="sdpa")
        if qlora:
            import bitsandbytes as bnb
            for layer in model.model.layers:
                for parent, names in [(layer.self_attn, ["q_proj", "k_proj", "v_proj", "o_proj"]),
                                      (layer.mlp, ["gate_up_proj", "down_proj"])]:
                    for n in names:
                        old = getattr(parent, n)
                        new = bnb.nn.Linear4bit(old.in_features, old.out_features, bias=old.bias is not None,
                                                compute_dtype=torch.bfloat16, compress_statistics=True, quant_type="nf4")
                        new.weight = bnb.nn.Params4bit(old.weight.data.cpu(), requires_grad=False, quant_type="nf4",
                                                       compress_statistics=True)
                        if old.bias is not None:
                            new.bias = torch.nn.Parameter(old.bias.data, requires_grad=False)
                        setattr(parent, n, new.cuda())
                        del old
            torch.cuda.empty_cache()
        model.config.use_cache = False
        if checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": True})
            model.enable_input_require_grads()
        pm = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "k_proj", "v_proj"]))
        pm.train()  # gradient checkpointing is active only in train mode
        init_s = time.time() - t0
        params = [p for p in pm.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=1e-4)
        ids = torch.randint(5, cfg.vocab_size - 5, (B, S), device="cuda")

        seen = {}

        def step():
            loss = pm(input_ids=ids, labels=ids).loss
            loss.backward()
            seen["grad_norm"] = torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            opt.zero_grad()
            seen["loss"] = loss.detach()
            seen.setdefault("first_loss", seen["loss"])
        step(); step()
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        t = time.time()
        for _ in range(STEPS):
            step()
        torch.cuda.synchronize()
        dt = time.time() - t
        r = {"init_s": init_s, "step_s": dt / STEPS, "tokens_per_s": B * S * STEPS / dt,
             "peak_allocated_gib": torch.cuda.max_memory_allocated() / 2**30,
             "trainable": sum(p.numel() for p in params), "first_loss": seen["first_loss"].item(),
             "loss": seen["loss"].item(), "grad_norm": seen["grad_norm"].item()}
        del pm, model, opt
        torch.cuda.empty_cache()
        return r

    def learns(r):  # a benchmark of a model that does not learn is not a benchmark
        return r["loss"] < r["first_loss"] and r["grad_norm"] > 0

    # checkpointing: 1 whole layers, 0 none, "mlp" only the MLPs (selective; transformers has no such mode)
    for qbits, checkpointing in [(0, 1), (0, "mlp"), (0, 0), (4, 1), (4, 0)]:
            entry = {"method": "QLoRA 4-bit" if qbits else "LoRA",
                     "checkpointing": checkpointing if checkpointing == "mlp" else bool(checkpointing), "batch": B,
                     "seq": S, "rank": 8}
            try:
                if checkpointing == "mlp":
                    raise RuntimeError("transformers has no MLP-only gradient checkpointing")
                entry["transformers+peft"] = hf_bench(qbits == 4, checkpointing)
            except Exception as e:  # bitsandbytes missing or failing: reported, not hidden
                entry["transformers+peft"] = {"error": repr(e)[:300]}
            entry["tunebench"] = json.loads(run([TOOL, "train-bench", db, "bfloat16", "cuda", B, S, STEPS, 8,
                                                 "query_key_value", qbits, checkpointing]).strip().splitlines()[-1])
            entry["tunebench_learns"] = learns(entry["tunebench"])
            R["ok"] &= entry["tunebench_learns"]
            if "tokens_per_s" in entry["transformers+peft"]:
                entry["peft_learns"] = learns(entry["transformers+peft"])
                R["ok"] &= entry["peft_learns"]
                entry["speed_ratio"] = entry["tunebench"]["tokens_per_s"] / entry["transformers+peft"]["tokens_per_s"]
                entry["memory_ratio"] = entry["tunebench"]["peak_allocated_gib"] / entry["transformers+peft"]["peak_allocated_gib"]
            R["bench"].append(entry)
            torch.cuda.empty_cache()

print(json.dumps(R, indent=1))
sys.exit(0 if R["ok"] else 1)
