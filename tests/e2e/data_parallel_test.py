#!/usr/bin/env python3
"""Data-parallel training on the CPU over Gloo (issue 17), through `tunebench-cli train` as users run it.

    data_parallel_test.py CLI WORK_DIR

1. 2 processes × batch 2 end with the same adapter, loss and grad_norm curves as 1 process × batch 4
   (and 3 processes × batch 2 as 1 × batch 6, whose last batch leaves a process without rows), within
   float tolerance, for LoRA, freeze, full and QLoRA 4-bit, with gradient accumulation, and the same
   eval_loss on a validation split; only rank 0 writes (one log line per step).
2. torchrun's environment variables (RANK, WORLD_SIZE, …) started by hand give the same run.
3. A rank killed with SIGKILL stops the others with one clear error; the checkpoint that was there
   is byte-identical, and the run resumes from it with another process count.
4. SIGINT to the launcher stops every rank at the same step with a checkpoint (exit 130).
5. Bad launches are clear errors: WORLD_SIZE without RANK, more processes than GPUs.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from safetensors.torch import load_file

CLI, WORK = sys.argv[1], Path(sys.argv[2])
failures = []


def check(name, ok, detail=""):
    if ok:
        detail = detail if len(detail) < 100 else ""  # a run's output only when it failed
    print(("ok   " if ok else "FAIL ") + name + (f" ({detail})" if detail else ""), flush=True)
    if not ok:
        failures.append(name)


def run(args, env=None, **kw):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, env=e, **kw)


def train(out, *extra, env=None):
    return run(["train", DEMO / "train_lora.yaml", f"output_dir={out}", "device=cpu", "num_train_epochs=3",
                "logging_steps=1", "save_steps=1000", "learning_rate=5e-3", *extra], env=env)


def logged(out, key):
    return [e[key] for e in json.load(open(out / "trainer_state.json"))["log_history"] if key in e]


def tail(err):
    """The end of a run's stderr without its progress lines."""
    return "\n".join(l for l in err.splitlines() if not l.startswith("step "))[-400:]


def same_run(a, b, what):
    """The same trained weights (relative to what training changed) and the same loss and grad_norm
    at every step. Elements whose gradient is only rounding noise move by Adam's normalised steps
    in whatever direction the noise points: ChatGLM's key bias (softmax ignores a shift of every key
    score) differs by ~1 % between any two summation orders; the logged curves are the tight check."""
    adapter = (a / "adapter_model.safetensors").exists()
    f = "adapter_model.safetensors" if adapter else "model.safetensors"
    wa, wb = load_file(a / f), load_file(b / f)
    w0 = {k: 0 * v for k, v in wa.items()} if adapter else load_file(DEMO / "model" / "model.safetensors")
    if wa.keys() != wb.keys():
        check(f"{what}: the same trained weights", False, "different tensor names")
        return
    diff = sum(((wa[k].double() - wb[k].double()) ** 2).sum() for k in wa) ** 0.5
    change = sum(((wa[k].double() - w0[k].double()) ** 2).sum() for k in wa) ** 0.5
    check(f"{what}: the same trained weights", diff <= 1e-3 * change,
          f"|difference| / |change from the start| = {diff / change:.2e}")
    for key, tol in (("loss", 1e-5), ("grad_norm", 1e-4)):  # grad_norm: the gradients are summed, not averaged
        la, lb = logged(a, key), logged(b, key)
        rel = max(abs(x - y) / abs(x) for x, y in zip(la, lb)) if len(la) == len(lb) and la else float("inf")
        check(f"{what}: the same {key} at each of {len(la)} steps", rel <= tol, f"max rel diff {rel:.2e}")


def tree_hash(d):
    h = hashlib.sha256()
    for p in sorted(Path(d).rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def endless_run(out, save_steps):
    """2 processes training the demo for 1000 epochs in the background."""
    return subprocess.Popen([CLI, "train", DEMO / "train_lora.yaml", f"output_dir={out}", "device=cpu",
                             "num_train_epochs=1000", "logging_steps=1", f"save_steps={save_steps}",
                             "per_device_train_batch_size=2", "nproc_per_node=2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for(path, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline and not path.exists():
        time.sleep(0.05)


def rank_pid(marker, rank):
    """pid of the training process with RANK=rank whose command line contains marker."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
        except OSError:
            continue
        if marker in cmd and f"RANK={rank}".encode() in env:
            return int(pid)
    return None


shutil.rmtree(WORK, ignore_errors=True)
WORK.mkdir(parents=True)
DEMO = WORK / "demo"
subprocess.run([CLI, "init-demo", DEMO], check=True, capture_output=True)

# 1. same global batch → same run
r1 = train(WORK / "one", "per_device_train_batch_size=4")
r2 = train(WORK / "two", "per_device_train_batch_size=2", "nproc_per_node=2")
check("2 processes train the demo", r1.returncode == 0 and r2.returncode == 0, tail(r1.stderr + r2.stderr))
if r1.returncode == 0 and r2.returncode == 0:
    same_run(WORK / "one", WORK / "two", "2 × batch 2 vs 1 × batch 4")
    steps = json.load(open(WORK / "two" / "trainer_state.json"))["global_step"]
    lines = open(WORK / "two" / "trainer_log.jsonl").read().splitlines()
    check("only rank 0 writes the log (one line per step)", len(lines) == steps, f"{len(lines)} lines, {steps} steps")
    check("the launcher says how the run is split", "data parallel: 2 processes over gloo" in r2.stderr, tail(r2.stderr))
r6 = train(WORK / "six", "per_device_train_batch_size=6")
r3 = train(WORK / "three", "per_device_train_batch_size=2", "nproc_per_node=3")
check("3 processes train the demo (the last batch leaves one without rows)", r3.returncode == 0, tail(r3.stderr))
if r6.returncode == 0 and r3.returncode == 0:
    same_run(WORK / "six", WORK / "three", "3 × batch 2 vs 1 × batch 6")

# gradient accumulation and a validation split (the eval loss is summed over the processes' shares)
extra = ["gradient_accumulation_steps=2", "val_size=0.25", "eval_steps=2", "per_device_eval_batch_size=2", "logging_steps=1"]
a = train(WORK / "accum-one", "per_device_train_batch_size=4", *extra)
b = train(WORK / "accum-two", "per_device_train_batch_size=2", "nproc_per_node=2", *extra)
check("accumulation + evaluation: 2 processes train the demo", a.returncode == 0 and b.returncode == 0, tail(a.stderr + b.stderr))
if a.returncode == 0 and b.returncode == 0:
    same_run(WORK / "accum-one", WORK / "accum-two", "accumulation 2, 2 × batch 2 vs 1 × batch 4")
    ea, eb = logged(WORK / "accum-one", "eval_loss"), logged(WORK / "accum-two", "eval_loss")
    rel = max(abs(x - y) / x for x, y in zip(ea, eb)) if ea and len(ea) == len(eb) else float("inf")
    check(f"the same eval_loss at each of {len(ea)} evaluations", rel <= 1e-5, f"max rel diff {rel:.2e}")

# the other methods: freeze, full, QLoRA 4-bit
for method in (["finetuning_type=freeze", "freeze_trainable_layers=1"], ["finetuning_type=full"], ["quantization_bit=4"]):
    name = method[0].split("=")[1]
    a = train(WORK / f"{name}-one", "per_device_train_batch_size=4", "num_train_epochs=2", "learning_rate=1e-3", *method)
    b = train(WORK / f"{name}-two", "per_device_train_batch_size=2", "nproc_per_node=2", "num_train_epochs=2",
              "learning_rate=1e-3", *method)
    check(f"{method[0]}: 2 processes train the demo", a.returncode == 0 and b.returncode == 0, tail(a.stderr + b.stderr))
    if a.returncode == 0 and b.returncode == 0:
        same_run(WORK / f"{name}-one", WORK / f"{name}-two", f"{method[0]}, 2 × batch 2 vs 1 × batch 4")

# 2. torchrun's variables, processes started by hand
env = {"WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(29500 + os.getpid() % 20000)}
procs = [subprocess.Popen([CLI, "train", DEMO / "train_lora.yaml", f"output_dir={WORK / 'torchrun'}", "device=cpu",
                           "num_train_epochs=3", "logging_steps=1", "save_steps=1000", "learning_rate=5e-3",
                           "per_device_train_batch_size=2"],
                          env={**os.environ, **env, "RANK": str(r), "LOCAL_RANK": str(r)},
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for r in range(2)]
outs = [p.communicate(timeout=300) for p in procs]
check("torchrun-style variables start the same run", all(p.returncode == 0 for p in procs), tail(outs[1][1]))
if all(p.returncode == 0 for p in procs) and r1.returncode == 0:
    same_run(WORK / "one", WORK / "torchrun", "torchrun variables vs 1 × batch 4")

# 3. a killed rank
out = WORK / "killed"
p = endless_run(out, save_steps=5)
wait_for(out / "checkpoint-10")
victim = rank_pid(str(out), 1)
kept = sorted(out.glob("checkpoint-*"))
hashes = {c.name: tree_hash(c) for c in kept}
os.kill(victim, signal.SIGKILL)
_, err = p.communicate(timeout=120)
check("a killed rank stops the run with one clear error", p.returncode == 1 and
      "training process 1 of 2 was killed by signal 9 (SIGKILL); the other processes were stopped" in err, tail(err))
check("the checkpoints written before the kill are byte-identical",
      bool(hashes) and all(tree_hash(out / n) == h for n, h in hashes.items()), ", ".join(hashes))
# resume what 2 processes of batch 2 wrote with 1 process of batch 4 (the same examples per batch)
r = run(["train", DEMO / "train_lora.yaml", f"output_dir={out}", "device=cpu", "max_steps=14", "logging_steps=1",
         "save_steps=5", "per_device_train_batch_size=4", "resume_from_checkpoint=true"])
last = max(int(c.name.split("-")[1]) for c in kept)
check("the run resumes from the last checkpoint with 1 process", r.returncode == 0 and f"at step {last}" in r.stderr and
      json.load(open(out / "trainer_state.json"))["global_step"] == 14, tail(r.stderr))

# 4. Ctrl-C (SIGINT) to the launcher
out = WORK / "interrupted"
p = endless_run(out, save_steps=100000)
wait_for(out / "trainer_log.jsonl")
time.sleep(0.5)
p.send_signal(signal.SIGINT)
_, err = p.communicate(timeout=120)
ckpts = sorted(out.glob("checkpoint-*"))
check("SIGINT stops every rank at one step and saves it (exit 130)", p.returncode == 130 and len(ckpts) == 1 and
      json.load(open(ckpts[0] / "trainer_state.json"))["global_step"] == int(ckpts[0].name.split("-")[1]),
      f"rc {p.returncode}, {[c.name for c in ckpts]}, {tail(err)}")

# 5. bad launches
r = run(["train", DEMO / "train_lora.yaml", f"output_dir={WORK / 'bad'}", "device=cpu"], env={"WORLD_SIZE": "2"})
check("WORLD_SIZE without RANK is a clear error", r.returncode == 1 and "RANK is not" in r.stderr, tail(r.stderr))
r = run(["train", DEMO / "train_lora.yaml", f"output_dir={WORK / 'bad'}", "device=cuda", "nproc_per_node=64"])
check("more processes than GPUs is refused before any starts", r.returncode == 1 and "one GPU per process" in r.stderr,
      tail(r.stderr))
check("nothing was written by the refused runs", not (WORK / "bad").exists())

print("ALL OK" if not failures else f"{len(failures)} FAILED: {failures}")
sys.exit(1 if failures else 0)
