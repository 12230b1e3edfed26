"""SFT rows (input_ids, labels) equal LLaMA-Factory's own preprocessing: its dataset converter,
template and SupervisedDatasetProcessor run here on the same real rows of ../shared/datasets, for
every template Tunebench has, with the real tokenizers: single turn (alpaca with input), multi-turn
(sharegpt) with and without mask_history, a binding cutoff_len, efficient_eos (chatglm2/3) and
train_on_prompt (refused with efficient_eos, as LLaMA-Factory refuses it). Packed rows equal
LLaMA-Factory's PackedSupervisedDatasetProcessor's: the same examples in the same rows and order
(its greedy knapsack into cutoff_len - 1, examples cut to cutoff_len - 1 as its DataArguments
lowers it for packing), the same position_ids, and with neat_packing the same segment numbers.

LLaMA-Factory 0.9.5 no longer ships ChatGLM2's template; it is registered here as LLaMA-Factory
0.9.1 defined it (its "\n\n" separator before later rounds included). ChatGLM2/3's Python tokenizer
is remote code that is not available offline, and transformers 5 no longer builds LLaMA-2's from a
bare tokenizer.model: a SentencePiece wrapper stands in for both (ChatGLM's specials in
tokenization_chatglm.py's order; LLaMA-2 as its legacy=True tokenizer, whose encode is
SentencePiece's). The unit tests check both tokenizers' ids against chatglm.cpp's / llama.cpp's
test vectors. No GLM-4 tokenizer is in ../shared: glm4's template is checked over ChatGLM3's, which
knows the same role tokens (its strings, prefix text and efficient_eos are what is compared)."""
import json
import os
import subprocess

import sentencepiece as spm
from transformers import AutoTokenizer

from llamafactory.data.converter import get_dataset_converter
from llamafactory.data.formatter import EmptyFormatter, StringFormatter
from llamafactory.data.parser import get_dataset_list
from llamafactory.data.processor.supervised import PackedSupervisedDatasetProcessor, SupervisedDatasetProcessor
from llamafactory.data.template import TEMPLATES, Template, get_template_and_fix_tokenizer, register_template
from llamafactory.hparams import DataArguments

from common import CLI, PROBE, SHARED, WORK, Checks, write_json

checks = Checks()
MODELS = os.path.join(SHARED, "models")
ROWS = 40

class SeparatorTemplate(Template):
    """LLaMA-Factory 0.9.1's format_separator: inserted before every user turn but the first."""

    def _encode(self, tokenizer, messages, system, tools):
        encoded = super()._encode(tokenizer, messages, system, tools)
        sep = self._convert_elements_to_ids(tokenizer, ["\n\n"])
        return [sep + ids if i > 0 and i % 2 == 0 else ids for i, ids in enumerate(encoded)]


if "chatglm2" not in TEMPLATES:
    register_template(name="chatglm2", format_user=StringFormatter(slots=["[Round {{idx}}]\n\n问：{{content}}\n\n答："]),
                      format_prefix=EmptyFormatter(slots=[{"token": "[gMASK]"}, {"token": "sop"}]), efficient_eos=True,
                      template_class=SeparatorTemplate)


class SentencePieceTokenizer:
    """What LLaMA-Factory asks of a tokenizer, over a SentencePiece model: ChatGLM2/3 (the specials
    after the pieces: [MASK] [gMASK] [sMASK] sop eop, then ChatGLM3's role tokens; eos </s>, pad =
    unk, no bos) or LLaMA-2 (bos <s>, eos </s>)."""

    def __init__(self, folder, chatglm_version=0):
        self.sp = spm.SentencePieceProcessor(model_file=os.path.join(folder, "tokenizer.model"))
        names = ["[MASK]", "[gMASK]", "[sMASK]", "sop", "eop"] if chatglm_version else []
        if chatglm_version == 3:
            names += ["<|system|>", "<|user|>", "<|assistant|>", "<|observation|>"]
        n = self.sp.get_piece_size()
        self.specials = {t: n + i for i, t in enumerate(names)}
        self.eos_token, self.eos_token_id = "</s>", self.sp.eos_id()
        self.bos_token, self.bos_token_id = (None, None) if chatglm_version else ("<s>", self.sp.bos_id())
        self.pad_token, self.pad_token_id = ("<unk>", self.sp.unk_id()) if chatglm_version else (None, None)
        self.chat_template = ""  # keeps LLaMA-Factory from writing a jinja template

    def encode(self, text, add_special_tokens=False):
        assert not add_special_tokens
        return self.sp.encode(text)

    def convert_tokens_to_ids(self, token):
        return self.specials[token] if token in self.specials else self.sp.piece_to_id(token)

    def add_special_tokens(self, tokens, replace_additional_special_tokens=False):
        missing = [t for t in tokens.get("additional_special_tokens", []) if t not in self.specials]
        assert not missing and set(tokens) <= {"additional_special_tokens"}, f"cannot add {tokens}"
        return 0


def tokenizer_for(name):
    if name in ("chatglm2", "chatglm3"):
        return SentencePieceTokenizer(os.path.join(MODELS, f"{name}-6b-tokenizer"), int(name[-1])), f"{name}-6b-tokenizer"
    if name == "glm4":  # no GLM-4 tokenizer in ../shared: ChatGLM3's, which has GLM's role tokens as specials
        return SentencePieceTokenizer(os.path.join(MODELS, "chatglm3-6b-tokenizer"), 3), "chatglm3-6b-tokenizer"
    if name == "llama2":
        return SentencePieceTokenizer(os.path.join(MODELS, "llama2-tokenizer")), "llama2-tokenizer"
    folder = {"llama3": "llama3-tokenizer", "qwen3": "qwen3-tokenizer", "qwen3_nothink": "qwen3-tokenizer"}.get(name, "qwen2-tokenizer")
    return AutoTokenizer.from_pretrained(os.path.join(MODELS, folder)), folder


# Real rows, cut to ROWS each, registered under names both sides read.
DATA = os.path.join(WORK, "data")
os.makedirs(DATA, exist_ok=True)
alpaca = json.load(open(os.path.join(SHARED, "datasets", "llama_factory", "alpaca_zh_demo.json")))[:ROWS]
write_json(os.path.join(DATA, "alpaca.json"), alpaca)
with open(os.path.join(SHARED, "datasets", "medicalgpt", "sharegpt_zh_1K_format.jsonl")) as f:
    sharegpt = [json.loads(next(f)) for _ in range(ROWS)]
write_json(os.path.join(DATA, "sharegpt.json"), sharegpt)
# Qwen3's thoughts: every other reply of the sharegpt rows opens with <think>…</think> (some
# mid-conversation, some only in the last turn), the rest have none.
thinking = json.loads(json.dumps(sharegpt))
for r, row in enumerate(thinking):
    replies = [m for m in row["conversations"] if m["from"] == "gpt"]
    for k, m in enumerate(replies):
        if (r + k) % 2 == 0:
            m["value"] = f"<think>\n先想一想第{k}步：{m['value'][:30]}\n</think>\n\n" + m["value"]
write_json(os.path.join(DATA, "thinking.json"), thinking)
write_json(os.path.join(DATA, "dataset_info.json"), {
    "alpaca": {"file_name": "alpaca.json"},
    "sharegpt": {"file_name": "sharegpt.json", "formatting": "sharegpt", "columns": {"messages": "conversations"}},
    "thinking": {"file_name": "thinking.json", "formatting": "sharegpt", "columns": {"messages": "conversations"}}})

CASES = [  # dataset, cutoff_len, train_on_prompt, mask_history
    ("alpaca", 1024, False, False), ("alpaca", 1024, True, False), ("sharegpt", 4096, False, False),
    ("sharegpt", 4096, False, True), ("sharegpt", 96, False, False), ("sharegpt", 96, False, True),
    ("sharegpt", 4096, True, False)]


def llamafactory_processor(processor_class, template_name, dataset, **data_args):
    """LLaMA-Factory's processor for the template and its converted rows of `dataset`."""
    args = DataArguments(template=template_name, dataset=dataset, dataset_dir=DATA, **data_args)
    tok, _ = tokenizer_for(template_name)
    template = get_template_and_fix_tokenizer(tok, args)
    attr = get_dataset_list([dataset], DATA)[0]
    convert = get_dataset_converter(attr.formatting, attr, args)
    rows = [convert(row) for row in json.load(open(os.path.join(DATA, attr.dataset_name)))]
    return processor_class(template=template, tokenizer=tok, processor=None, data_args=args), rows


def llamafactory_rows(template_name, dataset, cutoff, train_on_prompt, mask_history, **thinking):
    proc, rows = llamafactory_processor(SupervisedDatasetProcessor, template_name, dataset, cutoff_len=cutoff,
                                        train_on_prompt=train_on_prompt, mask_history=mask_history, **thinking)
    out = []
    for ex in rows:
        if len(ex["_prompt"]) % 2 != 1 or len(ex["_response"]) != 1:
            continue  # LLaMA-Factory drops it ("Dropped invalid example"); Tunebench must too
        ids, labels = proc._encode_data_example(prompt=ex["_prompt"], response=ex["_response"], system=ex["_system"],
                                                tools=ex["_tools"], images=[], videos=[], audios=[])
        out.append({"input_ids": ids, "labels": labels})
    return out


def compare_rows(template_name, dataset, cutoff, train_on_prompt, mask_history, **thinking):
    _, tok_folder = tokenizer_for(template_name)
    flags = [f"{k}={str(v).lower()}" for k, v in thinking.items()]
    what = (f"{template_name} ({tok_folder}) {dataset} cutoff_len={cutoff} train_on_prompt={train_on_prompt} "
            f"mask_history={mask_history}" + "".join(" " + f for f in flags))
    out = os.path.join(WORK, "encoded.jsonl")
    cmd = [PROBE, "encode", os.path.join(MODELS, tok_folder), template_name, DATA, dataset, cutoff,
           str(train_on_prompt).lower(), str(mask_history).lower(), out] + flags
    try:
        ref = llamafactory_rows(template_name, dataset, cutoff, train_on_prompt, mask_history, **thinking)
    except ValueError as e:  # LLaMA-Factory refuses the combination: so must Tunebench
        p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
        checks.check(p.returncode != 0 and "train_on_prompt" in p.stderr, f"{what}: refused like LLaMA-Factory ({e})")
        return
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if not checks.check(p.returncode == 0, f"{what}: Tunebench encodes it (LLaMA-Factory does)", stderr=p.stderr.strip()[-200:]):
        return
    ours = [json.loads(line) for line in open(out)]
    checks.check(len(ours) == len(ref), f"{what}: same rows kept", ours=len(ours), llamafactory=len(ref))
    bad = [i for i, (a, b) in enumerate(zip(ours, ref)) if a != b]
    detail = {}
    if bad:
        a, b = ours[bad[0]], ref[bad[0]]
        k = "input_ids" if a["input_ids"] != b["input_ids"] else "labels"
        j = next((j for j, (x, y) in enumerate(zip(a[k], b[k])) if x != y), min(len(a[k]), len(b[k])))
        detail = {"first_row": bad[0], "field": k, "at": j, "ours": a[k][max(0, j - 2):j + 3],
                  "llamafactory": b[k][max(0, j - 2):j + 3], "lengths": f"{len(a[k])}/{len(b[k])}"}
    checks.check(not bad and ours, f"{what}: input_ids and labels equal in all {len(ref)} rows", **detail)


for template_name in ["chatglm2", "chatglm3", "llama2", "llama3", "qwen", "qwen3", "qwen3_nothink", "glm4", "default",
                      "alpaca", "empty"]:
    for dataset, cutoff, train_on_prompt, mask_history in CASES:
        compare_rows(template_name, dataset, cutoff, train_on_prompt, mask_history)

# qwen3's thoughts (ReasoningTemplate): an empty thought is trained where a reply has none, or put
# in the prompt with enable_thinking=false; with mask_history only the last reply keeps its thought
# unless preserve_thinking
for enable in (True, False):
    for preserve in (False, True):
        for mask_history in (False, True):
            compare_rows("qwen3", "thinking", 4096, False, mask_history, enable_thinking=enable, preserve_thinking=preserve)
compare_rows("qwen3", "thinking", 96, False, False)
compare_rows("qwen3_nothink", "thinking", 4096, False, True)

# the chat prompt (encode_oneturn with an empty reply): earlier thoughts removed unless preserved;
# enable_thinking=false ends the prompt with an empty thought
qwen3_tok, qwen3_folder = tokenizer_for("qwen3")
wants = []
history = [["头痛怎么办？", "<think>\n用户头痛。\n</think>\n\n多休息，必要时就医。"], ["发烧呢？", "多喝水。"]]
for enable in (True, False):
    for preserve in (False, True):
        args = DataArguments(template="qwen3", enable_thinking=enable, preserve_thinking=preserve)
        template = get_template_and_fix_tokenizer(qwen3_tok, args)
        messages = [{"role": r, "content": c} for q, a in history for r, c in (("user", q), ("assistant", a))]
        messages += [{"role": "user", "content": "还有别的吗？"}, {"role": "assistant", "content": ""}]
        want, _ = template.encode_oneturn(qwen3_tok, messages)
        wants.append(want)
        p = subprocess.run([CLI, "tokenize", "--model_name_or_path", os.path.join(MODELS, qwen3_folder), "--chat",
                            "--template", "qwen3", "--history_json", json.dumps(history, ensure_ascii=False),
                            "--text", "还有别的吗？", "--enable_thinking", str(enable).lower(),
                            "--preserve_thinking", str(preserve).lower()], capture_output=True, text=True)
        got = [int(x) for x in p.stdout.split()] if p.returncode == 0 else p.stderr.strip()[-200:]
        checks.check(got == want, f"qwen3 chat prompt enable_thinking={enable} preserve_thinking={preserve} = "
                     "LLaMA-Factory's encode_oneturn", ours=got[-12:] if isinstance(got, list) else got, llamafactory=want[-12:])
checks.check(len({tuple(w) for w in wants}) == 4, "the four thinking settings give four different prompts (the checks above can fail)")


def llamafactory_packed(template_name, dataset, cutoff, neat):
    proc, rows = llamafactory_processor(PackedSupervisedDatasetProcessor, template_name, dataset, cutoff_len=cutoff,
                                        packing=True, neat_packing=neat)
    columns = {k: [r[k] for r in rows] for k in ("_prompt", "_response", "_system", "_tools", "_images", "_videos", "_audios")}
    return proc.preprocess_dataset(columns)


# packing: cutoff 1024 and 2048 pack several examples into a row; 96 cuts most of them
for template_name, dataset, cutoff in [("chatglm3", "sharegpt", 1024), ("chatglm3", "alpaca", 96),
                                       ("llama3", "alpaca", 512), ("qwen", "sharegpt", 2048)]:
    _, tok_folder = tokenizer_for(template_name)
    what = f"packing {template_name} {dataset} cutoff_len={cutoff}"
    out = os.path.join(WORK, "packed.jsonl")
    cmd = [PROBE, "encode", os.path.join(MODELS, tok_folder), template_name, DATA, dataset, cutoff, "false", "false", out, "pack"]
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if not checks.check(p.returncode == 0, f"{what}: Tunebench packs it", stderr=p.stderr.strip()[-200:]):
        continue
    ours = [json.loads(line) for line in open(out)]
    for neat in (False, True):
        ref = llamafactory_packed(template_name, dataset, cutoff, neat)
        checks.check(len(ours) == len(ref["input_ids"]) and len(ours) > 1, f"{what} neat={neat}: same number of packed rows",
                     ours=len(ours), llamafactory=len(ref["input_ids"]))
        bad = []
        for i, (row, ids, labels, pos, mask) in enumerate(zip(ours, ref["input_ids"], ref["labels"], ref["position_ids"],
                                                              ref["attention_mask"])):
            n = sum(row["segments"])  # LLaMA-Factory pads each row to cutoff_len + 1
            want_pos = [j for seg in row["segments"] for j in range(seg)]
            want_mask = [k + 1 if neat else 1 for k, seg in enumerate(row["segments"]) for _ in range(seg)]
            if (row["input_ids"] != ids[:n] or row["labels"] != labels[:n] or pos[:n] != want_pos
                    or mask[:n] != want_mask or len(row["input_ids"]) != n):
                bad.append(i)
        detail = {}
        if bad:
            row, pos = ours[bad[0]], ref["position_ids"][bad[0]]
            starts = [j for j, p in enumerate(pos) if p == 0]
            detail = {"ours_segments": row["segments"], "llamafactory_starts": starts[:12],
                      "ids_equal": row["input_ids"] == ref["input_ids"][bad[0]][:len(row["input_ids"])],
                      "labels_equal": row["labels"] == ref["labels"][bad[0]][:len(row["labels"])]}
        checks.check(not bad, f"{what} neat={neat}: rows, labels, position_ids and segments equal", first_bad=bad[:1], **detail)
checks.finish()
