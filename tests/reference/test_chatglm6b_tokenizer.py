"""ChatGLM-6B's tokenizer and chat format against its original tokenization code
(../shared/reference/chatglm-6b/tokenization_chatglm.py, FORMATS.md §3.5–3.6). The real ice_text.model
is not in ../shared (Git LFS only), so a SentencePiece model is trained here on real Chinese rows with
the original's pieces: <pad>, the eight specials ([MASK] [gMASK] [sMASK] <unused_0> <sop> <eop> <ENC>
<dBLOCK>), <n>, <|tab|> and <|blank_2|> … <|blank_80|>. Under transformers 5 ChatGLMTokenizer's
constructor fails (it asks for its vocabulary before it has one), so its SPTokenizer — where the
encoding happens — is driven directly, with num_image_tokens 0 (the released config) and 20000
(the class default). Checked: ids and decoded text of real rows and of whitespace edge cases, and
the SFT rows of the chatglm6b template — the model's own chat() prompt ("[Round i]\\n问：…\\n答：…\\n",
a lone query as it is), X [gMASK] <sop> Y <eop> as build_inputs_with_special_tokens makes it,
labels on Y and <eop> — for single-turn and multi-turn rows, also under a binding cutoff_len."""
import json
import os

from llamafactory.data.converter import get_dataset_converter
from llamafactory.data.parser import get_dataset_list
from llamafactory.data.processor.processor_utils import infer_seqlen
from llamafactory.hparams import DataArguments

from chatglm6b_common import alpaca_zh, original_package, write_tokenizer
from common import PROBE, SHARED, WORK, Checks, run, write_json

checks = Checks()
ROWS = 40
original_package()
from chatglm6b_original.tokenization_chatglm import SPTokenizer  # noqa: E402

alpaca = alpaca_zh()
ROWS_ZH = [r["instruction"] + "\n" + r["input"] + "\n" + r["output"] for r in alpaca[:ROWS]]
EDGES = ["你好", "  两个空格开头", "a  b   c    d", "x" + " " * 81 + "y" + " " * 170 + "z", "tab\there\t\tend",
         "行一\n行二\n\n\n行三\n", "def main():\n    print('hello')\t# 注释", "   ", "\n", "Emoji 😀 和 ☃ 字节回退",
         "[Round 0]\n问：头痛怎么办？\n答：", "混合 English 和中文，标点！？"]

for offset in (0, 20000):
    folder = os.path.join(WORK, f"tokenizer-{offset}")
    ref = SPTokenizer(write_tokenizer(folder, offset), num_image_tokens=offset)
    texts = ROWS_ZH + EDGES
    out = os.path.join(WORK, "tokenized.json")
    run([PROBE, "tokenize", folder, write_json(os.path.join(WORK, "texts.json"), texts), out])
    got = json.load(open(out))
    ids_ok = [g["ids"] == ref.encode(t) for t, g in zip(texts, got)]
    text_ok = [g["decoded"] == ref.decode(ref.encode(t)) for t, g in zip(texts, got)]
    first_bad = next((t for t, ok in zip(texts, ids_ok) if not ok), None)
    checks.check(all(ids_ok), f"num_image_tokens={offset}: ids of {len(ROWS_ZH)} real rows and {len(EDGES)} edge cases = SPTokenizer.encode",
                 equal=sum(ids_ok), first_difference=repr(first_bad)[:60])
    bad_text = next((t for t, ok in zip(texts, text_ok) if not ok), None)
    checks.check(all(text_ok), f"num_image_tokens={offset}: decoded text = SPTokenizer.decode", equal=sum(text_ok),
                 first_difference=repr(bad_text)[:60])
    checks.check(got[EDGES.index("行一\n行二\n\n\n行三\n") + ROWS].get("decoded") == "行一\n行二\n\n\n行三\n",
                 f"num_image_tokens={offset}: newlines survive encode → decode")

# SFT rows of the chatglm6b template (offset 0, as released)
folder = os.path.join(WORK, "tokenizer-0")
ref = SPTokenizer(os.path.join(folder, "ice_text.model"), num_image_tokens=0)
GMASK, SOP, EOP = (ref[s] for s in ("[gMASK]", "<sop>", "<eop>"))
DATA = os.path.join(WORK, "data")
os.makedirs(DATA, exist_ok=True)
write_json(os.path.join(DATA, "alpaca.json"), alpaca[:ROWS])
with open(os.path.join(SHARED, "datasets", "medicalgpt", "sharegpt_zh_1K_format.jsonl")) as f:
    write_json(os.path.join(DATA, "sharegpt.json"), [json.loads(next(f)) for _ in range(ROWS)])
write_json(os.path.join(DATA, "dataset_info.json"), {
    "alpaca": {"file_name": "alpaca.json"},
    "sharegpt": {"file_name": "sharegpt.json", "formatting": "sharegpt", "columns": {"messages": "conversations"}}})


def chat_prompt(messages):
    """ChatGLMForConditionalGeneration.chat's prompt for the last user message after the earlier rounds."""
    *history, query = [m["content"] for m in messages]
    if not history:
        return query
    rounds = list(zip(history[0::2], history[1::2]))
    prompt = "".join(f"[Round {i}]\n问：{q}\n答：{a}\n" for i, (q, a) in enumerate(rounds))
    return prompt + f"[Round {len(rounds)}]\n问：{query}\n答："


def reference_rows(dataset, cutoff):
    args = DataArguments(template="empty", dataset=dataset, dataset_dir=DATA, cutoff_len=cutoff)
    attr = get_dataset_list([dataset], DATA)[0]
    convert = get_dataset_converter(attr.formatting, attr, args)
    rows, multi = [], 0
    for row in json.load(open(os.path.join(DATA, attr.dataset_name))):
        ex = convert(row)
        if len(ex["_prompt"]) % 2 != 1 or len(ex["_response"]) != 1:
            continue
        multi += len(ex["_prompt"]) > 1
        source = ref.encode(chat_prompt(ex["_prompt"]))
        target = ref.encode(ex["_response"][0]["content"]) + [EOP]
        s_len, t_len = infer_seqlen(len(source) + 2, len(target), cutoff)
        # the prompt is cut from its end, its [gMASK] <sop> kept (ChatGLM-Efficient-Tuning's max_source_length - 2)
        source = source[:s_len - 2] + [GMASK, SOP]
        target = target[:t_len]
        rows.append({"input_ids": source + target, "labels": [-100] * len(source) + target})
    return rows, multi


for dataset, cutoff in (("alpaca", 1024), ("sharegpt", 4096), ("sharegpt", 96)):
    out = os.path.join(WORK, "rows.jsonl")
    run([PROBE, "encode", folder, "chatglm6b", DATA, dataset, cutoff, "false", "false", out])
    got = [json.loads(l) for l in open(out)]
    want, multi = reference_rows(dataset, cutoff)
    same = sum(g == w for g, w in zip(got, want))
    checks.check(len(got) == len(want) and same == len(want),
                 f"chatglm6b SFT rows of {dataset} (cutoff_len={cutoff}, {multi} multi-turn) = the original's chat prompt "
                 "with build_inputs_with_special_tokens", rows=len(got), equal=same)
checks.finish()
