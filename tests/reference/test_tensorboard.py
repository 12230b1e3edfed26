"""`report_to: tensorboard` (issue 15) read back by tensorboard 2.21's own EventAccumulator:
- a LoRA run on the demo (logging every step, eval every 4, a checkpoint every 6) writes one events
  file under output_dir/runs/<Mon DD_HH-MM-SS>_<host>/ holding every number of trainer_state.json's
  log_history (and the final evaluation) at its step, named as HF's TensorBoardCallback names them
  (train/loss, train/learning_rate, train/grad_norm, train/epoch, eval/loss, …), equal to
  trainer_log.jsonl in float32, no step more or less, and the arguments in the TEXT tab;
- resuming from checkpoint-6 continues the same file: steps after 6 are cut away and written anew,
  so every tag still has each step exactly once and equals the resumed run's logs;
- our events parse to the same protobuf messages torch's SummaryWriter writes for the same scalar
  and text (wall time aside);
- logging_dir puts the file there; report_to wandb is named in a warning; report_to foo is refused.
"""
import glob
import json
import os
import shutil
import subprocess

import numpy as np
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto import event_pb2
from torch.utils.tensorboard import SummaryWriter

from common import CLI, WORK, Checks

checks = Checks()
demo = os.path.join(WORK, "demo")
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
subprocess.run([CLI, "init-demo", demo], capture_output=True, text=True, check=True)


def train(out, *extra):
    p = subprocess.run([CLI, "train", os.path.join(demo, "train_lora.yaml"), "output_dir=" + out, "max_steps=12",
                        "logging_steps=1", "save_steps=6", "eval_steps=4", "val_size=0.2", "report_to=tensorboard",
                        "plot_loss=false", *extra], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stderr[-3000:])
    return p


def records(path):
    """The Event messages of a file, by tensorboard's own record reader."""
    from tensorboard.compat.tensorflow_stub import pywrap_tensorflow
    reader = pywrap_tensorflow.PyRecordReader_New(path.encode())
    out = []
    while True:
        try:
            reader.GetNext()
        except Exception:  # end of file
            return out
        e = event_pb2.Event()
        e.ParseFromString(reader.record())
        out.append(e)


def expected_scalars(out):
    """What HF's TensorBoardCallback logs: every entry of trainer_state.json's log_history, then (as
    after LLaMA-Factory's trainer.evaluate()) the final evaluation of eval_results.json, at the
    last step: tag → [(step, value)] in order."""
    state = json.load(open(os.path.join(out, "trainer_state.json")))
    final_eval = json.load(open(os.path.join(out, "eval_results.json")))
    want = {}
    for entry in state["log_history"] + [dict(final_eval, step=state["global_step"])]:
        for k, v in entry.items():
            if k == "step" or not isinstance(v, (int, float)):
                continue
            tag = "eval/" + k[5:] if k.startswith("eval_") else "train/" + k
            want.setdefault(tag, []).append((entry["step"], v))
    return want


def check_run(out, label):
    files = glob.glob(os.path.join(out, "runs", "*", "events.out.tfevents.*"))
    checks.check(len(files) == 1, f"{label}: one events file under output_dir/runs/<time>_<host>/", files=len(files))
    if not files:
        return None
    acc = EventAccumulator(os.path.dirname(files[0]), size_guidance={"scalars": 0, "tensors": 0})
    acc.Reload()
    want = expected_scalars(out)
    got_tags = set(acc.Tags()["scalars"])
    checks.check(got_tags == set(want), f"{label}: the scalar tags are HF's names of every logged number",
                 missing=sorted(set(want) - got_tags), extra=sorted(got_tags - set(want)))
    for tag in ("train/loss", "train/learning_rate", "train/grad_norm", "train/epoch", "eval/loss"):
        checks.check(tag in got_tags, f"{label}: {tag} logged")
    worst, steps_ok = 0.0, True
    for tag, pairs in want.items():
        if tag not in got_tags:
            continue
        got = [(s.step, s.value) for s in acc.Scalars(tag)]
        steps_ok &= [s for s, _ in got] == [s for s, _ in pairs]
        for (_, v), (_, g) in zip(pairs, got):
            worst = max(worst, abs(np.float32(v) - g))
    checks.check(steps_ok, f"{label}: every tag holds exactly the logged steps, in order")
    checks.check(worst == 0.0, f"{label}: every value equals log_history's, rounded to float32", max_abs_diff=float(worst))
    # trainer_log.jsonl (LLaMA-Factory's log) against the same events
    loss = {s.step: s.value for s in acc.Scalars("train/loss")}
    lr = {s.step: s.value for s in acc.Scalars("train/learning_rate")}
    ev = {s.step: s.value for s in acc.Scalars("eval/loss")} if "eval/loss" in got_tags else {}
    bad = 0
    for line in open(os.path.join(out, "trainer_log.jsonl")):
        row = json.loads(line)
        step = row["current_steps"]
        if "loss" in row:
            bad += loss.get(step) != np.float32(row["loss"]) or lr.get(step) != np.float32(row["lr"])
        if "eval_loss" in row:
            bad += ev.get(step) != np.float32(row["eval_loss"])
    checks.check(bad == 0, f"{label}: trainer_log.jsonl's loss, lr and eval_loss equal the events", mismatches=bad)
    texts = acc.Tags()["tensors"]
    checks.check("args/text_summary" in texts, f"{label}: the arguments in the TEXT tab (args/text_summary)")
    if "args/text_summary" in texts:
        text = acc.Tensors("args/text_summary")[0].tensor_proto.string_val[0].decode()
        checks.check("report_to: tensorboard" in text and "max_steps: 12" in text, f"{label}: the args text is the run's YAML")
    return files[0]


run = os.path.join(WORK, "run")
p = train(run)
checks.check(p.returncode == 0, "train with report_to=tensorboard", rc=p.returncode)
checks.check("TensorBoard events: " in p.stderr, "the log names the events file")
first = check_run(run, "fresh run")

# resume from checkpoint-6: the same file, steps 7–12 written again
if first:
    size_before = os.path.getsize(first)
    p = train(run, "resume_from_checkpoint=" + os.path.join(run, "checkpoint-6"))
    checks.check(p.returncode == 0, "resume from checkpoint-6", rc=p.returncode)
    again = check_run(run, "resumed run")
    checks.check(again == first, "the resumed run continued the checkpoint's events file")
    steps = [e.step for e in records(first) if e.HasField("summary") and e.summary.value[0].tag == "train/loss"]
    checks.check(steps == list(range(1, 13)), "resumed file: train/loss at steps 1..12 once each (7..12 cut and rewritten)",
                 steps=steps)

# byte structure against torch's SummaryWriter for the same summaries
ref_dir = os.path.join(WORK, "torch_writer")
w = SummaryWriter(ref_dir)
w.add_scalar("train/loss", 1.2345678, 7)
w.add_text("args", "hello 你好")
w.close()
ref = [e for e in records(glob.glob(os.path.join(ref_dir, "events.out.tfevents.*"))[0]) if e.HasField("summary")]
if first:
    ours = records(first)
    checks.check(ours[0].file_version == "brain.Event:2", "first record: file_version brain.Event:2")
    mine = next(e for e in ours if e.HasField("summary") and e.summary.value[0].tag == "train/loss" and e.step == 7)
    theirs = ref[0]
    mine.summary.value[0].simple_value = theirs.summary.value[0].simple_value
    checks.check(mine.summary == theirs.summary and mine.step == theirs.step,
                 "a scalar event has torch SummaryWriter's structure (tag, simple_value, step)")
    text_ours = next(e for e in ours if e.HasField("summary") and e.summary.value[0].tag == "args/text_summary")
    tv_ours, tv_ref = text_ours.summary.value[0], ref[1].summary.value[0]
    tv_ours.tensor.string_val[0] = tv_ref.tensor.string_val[0]
    checks.check(tv_ours == tv_ref, "the text event has torch SummaryWriter's structure (plugin 'text', string tensor [1])")

# logging_dir, other loggers, an unknown logger
logdir = os.path.join(WORK, "my_logs")
p = train(os.path.join(WORK, "run_logdir"), "logging_dir=" + logdir, "max_steps=2")
checks.check(p.returncode == 0 and len(glob.glob(os.path.join(logdir, "events.out.tfevents.*"))) == 1,
             "logging_dir: the events file is written there")
p = train(os.path.join(WORK, "run_wandb"), "report_to=wandb", "max_steps=2")
checks.check(p.returncode == 0 and "not logging to wandb" in p.stderr and not os.path.exists(os.path.join(WORK, "run_wandb", "runs")),
             "report_to wandb: trains, one warning names it, no events written")
p = train(os.path.join(WORK, "run_foo"), "report_to=foo", "max_steps=2")
checks.check(p.returncode != 0 and "report_to 'foo'" in p.stderr and not os.path.exists(os.path.join(WORK, "run_foo")),
             "report_to foo: refused before anything is written, naming the value", rc=p.returncode)
checks.finish()
