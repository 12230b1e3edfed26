"""LLaMA-Factory command lines as users type them (issue 15), against llamafactory 0.9.5's own parser:
- engine/core/llamafactory_arguments_table.inc lists exactly the arguments of LLaMA-Factory's train
  parser (HfArgumentParser over its five dataclasses, HF TrainingArguments included) with the form
  each takes (`python test_cli_arguments.py --print` writes a new table when the pin moves);
- every one of them is accepted by `tunebench-cli train` on one command line (bare flags, True/False,
  --no_<flag>, dashes), the ones Tunebench does not use named in one warning;
- command lines in the forms LLaMA-Factory's READMEs and scripts use (LoRA, QLoRA, flash attention,
  a ChatGLM-era medical SFT with its old names, a JSON arguments file) train on the demo with only
  paths changed (fp16 → bf16 on the CPU), each first checked to parse in LLaMA-Factory's parser;
- a typo is one line naming the nearest key and a non-zero exit, for train, chat, export, predict
  and evaluate alike."""
import json
import os
import re
import shutil
import subprocess
import sys

from transformers import HfArgumentParser
from llamafactory.hparams.parser import _TRAIN_ARGS

from common import CLI, SHARED, WORK, Checks

HERE = os.path.dirname(os.path.abspath(__file__))
TABLE = os.path.join(HERE, "..", "..", "engine", "core", "llamafactory_arguments_table.inc")
parser = HfArgumentParser(_TRAIN_ARGS)


def kinds():
    out = {}
    for a in parser._actions:
        if a.dest == "help" or type(a).__name__ == "_StoreFalseAction":
            continue
        out[a.dest] = "kFlag" if (a.nargs == "?" and a.const is True) else ("kList" if a.nargs == "+" else "kValue")
    return out


if "--print" in sys.argv:
    import llamafactory
    print(f"// Generated from llamafactory {llamafactory.__version__}'s train parser (HfArgumentParser over "
          f"{', '.join(c.__name__ for c in _TRAIN_ARGS)}):")
    print("// tests/reference/test_cli_arguments.py checks it against the installed llamafactory and prints a new one.")
    for k, v in sorted(kinds().items()):
        print(f'{{"{k}", {v}}},')
    sys.exit(0)

checks = Checks()
shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
demo = os.path.join(WORK, "demo")
subprocess.run([CLI, "init-demo", demo], capture_output=True, text=True, check=True)
MODEL, DATA = os.path.join(demo, "model"), os.path.join(demo, "data")

ours = dict(re.findall(r'\{"([a-z0-9_]+)", (k\w+)\}', open(TABLE).read()))
theirs = kinds()
checks.check(ours == theirs, "the table is llamafactory's train parser: every name and its form",
             missing=sorted(set(theirs) - set(ours))[:8], extra=sorted(set(ours) - set(theirs))[:8],
             differ=sorted(k for k in ours if k in theirs and ours[k] != theirs[k])[:8])


def cli(*args):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True)


def lf_accepts(argv):
    """What LLaMA-Factory's parser leaves over from argv (syntax only: no __post_init__); ["error"] if it refuses it."""
    try:
        _, rest = parser.parse_known_args(argv)
    except SystemExit:
        return ["error"]
    return rest


# every LLaMA-Factory argument on one `train` command line
help_text = cli("train", "--help").stdout
used = set(re.search(r"Keys this command reads: (.*?)\. LLaMA", help_text, re.S).group(1).replace("\n", " ").split(", "))
used = {u.strip() for u in used}
actions = {a.dest: a for a in parser._actions if type(a).__name__ != "_StoreFalseAction"}
negatable = {a.dest for a in parser._actions if type(a).__name__ == "_StoreFalseAction"}  # HF's --no_<flag>
def accepts(action, text):
    try:
        v = action.type(text) if action.type else text
        return not action.choices or v in action.choices
    except Exception:
        return False


argv, lf_argv, passed, unparsable = [], [], [], []
for i, (k, kind) in enumerate(sorted(theirs.items())):
    if k in used:
        continue  # applied and validated: the forms below and the other tests cover them
    passed.append(k)
    start = len(argv)
    spelled = "--" + (k.replace("_", "-") if i % 5 == 0 else k)
    if kind == "kFlag":
        argv += [spelled, "False"] if i % 3 else ["--no_" + k] if k in negatable else [spelled + "=false"]
    elif kind == "kList":
        argv += [spelled, "underflow_overflow", "tpu_metrics_debug"] if k == "debug" else [spelled, "a", "b"]
    else:
        a = actions[k]
        d = a.default
        candidates = [""] if k in ("fsdp", "fsdp_config") else \
            [str(c) for c in (a.choices or [])] + ([str(d)] if isinstance(d, (str, int, float)) and str(d) else []) + \
            ["x", "1", "0.5", "false", "{}"]
        value = next((c for c in candidates if accepts(a, c)), None)
        if value is None:  # dict-typed (liger_kernel_config, parallelism_config): YAML-only in LLaMA-Factory
            unparsable.append(k)
            value = "x"
        argv += [spelled + "=" + value] if i % 2 else [spelled, value]
    if k not in unparsable:
        lf_argv += argv[start:]
argv += ["--do_train", "--overwrite_cache"]  # bare flags
lf_argv += ["--do_train", "--overwrite_cache"]
p = cli("train", os.path.join(demo, "train_lora.yaml"), "output_dir=" + os.path.join(WORK, "all_keys"), "max_steps=1", *argv)
checks.check(p.returncode == 0, f"train takes all {len(passed)} LLaMA-Factory arguments it does not use on one command line",
             rc=p.returncode, err=p.stderr.strip().splitlines()[-1] if p.returncode else "")
m = re.search(r"ignoring keys Tunebench does not use: (.*)", p.stderr)
warned = set(m.group(1).split(", ")) if m else set()
silent = {"do_train", "trust_remote_code", "overwrite_cache", "preprocessing_num_workers", "dataloader_num_workers",
          "save_strategy", "logging_strategy", "include_num_input_tokens_seen", "quantization_method",
          "upcast_layernorm", "save_only_model", "run_name", "use_galore", "use_badam", "use_unsloth", "fsdp", "fsdp_config"}
checks.check(warned | (silent & set(passed)) == set(passed) and p.stderr.count("ignoring keys") == 1,
             "one warning names every ignored argument (bar the few that change nothing here)",
             unnamed=sorted(set(passed) - warned - silent)[:8])
checks.check(not lf_accepts(lf_argv), "the same command line parses in LLaMA-Factory's parser (bar its YAML-only dict arguments)",
             yaml_only=unparsable)

# command lines as LLaMA-Factory users type them (paths changed; fp16 → bf16 on the CPU)
common = ["--model_name_or_path", MODEL, "--dataset", "tunebench_demo", "--dataset_dir", DATA, "--template", "chatglm3",
          "--cutoff_len", "128", "--max_steps", "2", "--logging_steps", "1", "--save_steps", "100"]
forms = {
    "LoRA (README)": ["--stage", "sft", "--do_train", "--finetuning_type", "lora", "--lora_target", "query_key_value",
                      "--overwrite_cache", "--overwrite_output_dir", "--per_device_train_batch_size", "2",
                      "--gradient_accumulation_steps", "2", "--lr_scheduler_type", "cosine", "--learning_rate", "5e-5",
                      "--num_train_epochs", "3.0", "--plot_loss", "--bf16"],
    "QLoRA": ["--stage", "sft", "--do_train", "True", "--finetuning_type", "lora", "--quantization_bit", "4",
              "--lora_rank", "8", "--lora_alpha", "16", "--lora_dropout", "0.05", "--overwrite_output_dir", "True",
              "--bf16", "True", "--fp16", "False"],
    "flash attention (older bool spelling)": ["--stage", "sft", "--do-train", "--flash_attn", "True",
                                              "--overwrite-output-dir", "--report_to", "none"],
    "flash attention (current spelling)": ["--stage=sft", "--do_train=true", "--flash_attn=fa2", "--overwrite_output_dir=1"],
}
for label, form in forms.items():
    argv = form + common + ["--output_dir", os.path.join(WORK, re.sub(r"\W+", "_", label))]
    if "older" not in label:  # LLaMA-Factory 0.9.5 itself no longer takes flash_attn True
        checks.check(not lf_accepts(argv), f"{label}: LLaMA-Factory's parser takes the command line")
    p = cli("train", *argv)
    checks.check(p.returncode == 0, f"{label}: tunebench-cli train runs it", rc=p.returncode,
                 err=p.stderr.strip().splitlines()[-1] if p.returncode else "")
p = cli("train", *forms["flash attention (older bool spelling)"], *common, "--output_dir", os.path.join(WORK, "fa_old2"))
checks.check("flash_attn True (an older LLaMA-Factory spelling) read as flash_attn fa2" in p.stderr,
             "flash_attn True is read as fa2, and says so")

# a ChatGLM-era medical SFT script (ChatGLM-Efficient-Tuning's names: max_source/target_length, dev_ratio, checkpoint_dir)
med = os.path.join(WORK, "med")
os.makedirs(med)
rows = [json.loads(l) for l in open(os.path.join(SHARED, "datasets", "med_chatglm", "train.txt"), encoding="utf-8")][:16]
json.dump([{"instruction": r["context"], "input": "", "output": r["target"]} for r in rows],
          open(os.path.join(med, "med.json"), "w"), ensure_ascii=False)
json.dump({"med": {"file_name": "med.json"}}, open(os.path.join(med, "dataset_info.json"), "w"))
first = os.path.join(WORK, "med_lora")
p = cli("train", "--do_train", "--model_name_or_path", MODEL, "--dataset", "med", "--dataset_dir", med, "--template",
        "chatglm3", "--finetuning_type", "lora", "--output_dir", first, "--max_source_length", "96",
        "--max_target_length", "64", "--dev_ratio", "0.25", "--per_device_train_batch_size", "4", "--max_steps", "2",
        "--learning_rate", "1e-3", "--logging_steps", "1", "--bf16")
checks.check(p.returncode == 0 and "read as cutoff_len 160" in p.stderr and "dev_ratio (an older LLaMA-Factory name) read as val_size" in p.stderr,
             "medical SFT with ChatGLM-era names: max_source+max_target → cutoff_len, dev_ratio → val_size",
             rc=p.returncode)
p = cli("train", "--do_train", "--model_name_or_path", MODEL, "--checkpoint_dir", first, "--dataset", "med",
        "--dataset_dir", med, "--template", "chatglm3", "--output_dir", os.path.join(WORK, "med_more"), "--max_steps", "1",
        "--bf16")
checks.check(p.returncode == 0 and "checkpoint_dir (an older LLaMA-Factory name) read as adapter_name_or_path" in p.stderr,
             "checkpoint_dir (the old adapter key) continues the adapter", rc=p.returncode)

# seed 004's arguments as a JSON file (what HfArgumentParser.parse_json_file reads)
args_json = os.path.join(WORK, "train_args.json")
json.dump({"stage": "sft", "do_train": True, "model_name_or_path": MODEL, "dataset": "tunebench_demo", "dataset_dir": DATA,
           "template": "chatglm3", "finetuning_type": "lora", "lora_target": "all", "output_dir": os.path.join(WORK, "json_run"),
           "overwrite_output_dir": True, "per_device_train_batch_size": 2, "max_steps": 2, "learning_rate": 1e-3,
           "logging_steps": 1, "bf16": True, "plot_loss": True, "report_to": "none"}, open(args_json, "w"))
p = cli("train", args_json)
checks.check(p.returncode == 0 and os.path.exists(os.path.join(WORK, "json_run", "adapter_model.safetensors")),
             "a JSON arguments file trains as its YAML twin", rc=p.returncode)

# typos: one line naming the nearest key, non-zero exit, nothing written — in every command
typo_cases = {
    "train": (["train", "--bp16", "True", *common, "--output_dir", os.path.join(WORK, "typo")], "--bp16", "--bf16"),
    "chat": (["chat", "--model_name_or_path", MODEL, "--temprature", "0.5"], "--temprature", "--temperature"),
    "generate": (["generate", "--model_name_or_path", MODEL, "--max_new_token", "5"], "--max_new_token", "--max_new_tokens"),
    "export": (["export", "--model_name_or_path", MODEL, "--export_dri", os.path.join(WORK, "typo_export")], "--export_dri", "--export_dir"),
    "predict": (["predict", "--model_name_or_path", MODEL, "--csv", os.path.join(SHARED, "datasets", "qizhen", "drug_indication_eval.csv"),
                 "--output", os.path.join(WORK, "typo.csv"), "--prompt_template", "{instruction}", "--do_sampel", "false"],
                "--do_sampel", "--do_sample"),
    "evaluate": (["evaluate", "--model_name_or_path", MODEL, "--dataset", "tunebench_demo", "--dataset_dir", DATA,
                  "--output_dir", os.path.join(WORK, "typo_eval"), "--max_sample", "3"], "--max_sample", "--max_samples"),
}
for cmd, (argv, bad, good) in typo_cases.items():
    p = cli(*argv)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    checks.check(p.returncode != 0 and len(lines) == 1 and f"unknown argument {bad}; did you mean {good}?" in lines[0],
                 f"{cmd}: the typo {bad} is one line naming {good}, exit {p.returncode}", line=lines[-1][:120] if lines else "")
checks.check(not any(os.path.exists(os.path.join(WORK, d)) for d in ("typo", "typo_export", "typo.csv", "typo_eval")),
             "a refused command line writes nothing")
p = cli("generate", "--model_name_or_path", MODEL, "--prompt", "你好", "--max_new_tokens", "2", "--rope_scaling", "linear",
        "--do_sample", "false")
checks.check(p.returncode == 0 and "ignoring keys" in p.stderr and "rope_scaling" in p.stderr,
             "generate: a LLaMA-Factory key it does not use is named in one warning", rc=p.returncode)
checks.finish()
