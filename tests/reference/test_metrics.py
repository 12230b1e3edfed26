"""Evaluate's scores against LLaMA-Factory's own metric code (issue 15 item 5):
- jieba segmentation: the engine's cut of ~4,000 real texts (Chinese medical and ad-copy answers,
  English instructions, and crafted edge cases: numbers, percentages, "\\r\\n", runs of spaces,
  full-width punctuation, emoji, unknown names the HMM must split) equals jieba 0.42.1's
  jieba.cut(text) word for word;
- per sample, BLEU-4 and ROUGE-1/2/L by jieba words equal LLaMA-Factory's ComputeSimilarity (its
  jieba + rouge_chinese + nltk code, called through a stand-in tokenizer) before its rounding,
  for predictions from exact copies through shuffles, cuts and unrelated answers to blank ones;
- the character-level ROUGE equals rouge_chinese over " ".join(character tokens);
- `tunebench-cli score FILE` prints predict_results.json whose predict_bleu-4 and predict_rouge-*
  equal ComputeSimilarity's means (each sample rounded to 4 decimals, as LLaMA-Factory does), and
  a malformed line is an error naming the file and line.
"""
import json
import os
import random
import subprocess

import jieba
import numpy as np
from llamafactory.train.sft.metric import ComputeSimilarity
from rouge_chinese import Rouge
from transformers import EvalPrediction

from common import CLI, PROBE, SHARED, WORK, Checks, run, write_json

checks = Checks()
rng = random.Random(15)
jieba.setLogLevel(60)


def dataset_texts():
    d = os.path.join(SHARED, "datasets")
    texts = []
    for row in json.load(open(os.path.join(d, "llama_factory", "alpaca_zh_demo.json"))):
        texts += [row["instruction"], row["output"]]
    for row in json.load(open(os.path.join(d, "llama_factory", "alpaca_en_demo.json")))[:300]:
        texts.append(row["output"])
    for line in list(open(os.path.join(d, "adgen", "dev.jsonl")))[:600]:
        row = json.loads(line)
        texts += [row["instruction"], row["output"]]
    for line in list(open(os.path.join(d, "medicalgpt", "medical_sft_1K_format.jsonl")))[:500]:
        texts += [turn["value"] for turn in json.loads(line)["conversations"]]
    for line in list(open(os.path.join(d, "med_chatglm", "train.txt")))[:300]:
        row = json.loads(line)
        texts += [row["context"], row["target"]]
    return [t for t in texts if t]


EDGE = [
    "", " ", "\r\n", "a\r\nb\n\rc", "  多个  空格\t制表\u3000全角空格", "体温38.5℃，血压120/80mmHg，升高了15.3%。",
    "GPT-4o和C++、C#、AT&T、iPhone15 Pro Max", "张三丰李四光在北京协和医院就诊。", "我们😀今天去🏥看病！",
    "他说：“你好。”然后离开了……又回来了......真的吗？是的!", "３．１４和ＡＢＣ全角字母", "维生素B12缺乏", "e.g. 1.2.3 v2.0%",
    "。。。！？?", "“。”", "腺苷脱氨酶缺乏症患儿", "Ⅱ型糖尿病", "abc_def-ghi+jkl#mno&pqr%",
]

texts = dataset_texts() + EDGE

# 1. segmentation, through the probe's similarity command (each text is a label)
pairs = [{"predict": "", "label": t} for t in texts]
out = os.path.join(WORK, "cut.json")
run([PROBE, "similarity", write_json(os.path.join(WORK, "cut_pairs.json"), pairs), out])
got = json.load(open(out))
bad = [(t, g["label_words"], list(jieba.cut(t))) for t, g in zip(texts, got) if g["label_words"] != list(jieba.cut(t))]
for t, ours, ref in bad[:3]:
    print("  text:", repr(t[:80]), "\n  ours:", ours[:20], "\n  jieba:", ref[:20])
checks.check(not bad, f"jieba.cut of {len(texts)} texts ({sum(map(len, texts))} characters) word for word",
             differing=len(bad))


# 2. per-sample scores against LLaMA-Factory's ComputeSimilarity
def perturb(label, other):
    kind = rng.randrange(8)
    if kind == 0:
        return label
    if kind == 1:
        return label[: max(1, len(label) * rng.randrange(1, 10) // 10)]
    if kind == 2:
        parts = label.split("，")
        rng.shuffle(parts)
        return "，".join(parts)
    if kind == 3:
        return other
    if kind == 4:
        return label + "\n" + other[:40]
    if kind == 5:
        chars = list(label)
        for _ in range(max(1, len(chars) // 8)):
            chars[rng.randrange(len(chars))] = rng.choice("的了是在和有病治疗患者")
        return "".join(chars)
    if kind == 6:
        return label.replace("。", "。\n")
    return rng.choice(["", " ", "\n", "。", "好的。”", label[:1]])


answers = [t for t in dataset_texts() if 4 <= len(t) <= 300]
rng.shuffle(answers)
answers = answers[:500]
pairs = [{"predict": perturb(a, answers[(i + 7) % len(answers)]), "label": a} for i, a in enumerate(answers)]
pairs += [{"predict": e, "label": EDGE[(i + 5) % len(EDGE)] or "标签"} for i, e in enumerate(EDGE)]


class TextsTokenizer:
    """Stands in for the tokenizer ComputeSimilarity decodes with: row i of ids is text i."""
    pad_token_id = 0

    def __init__(self, texts):
        self.texts = texts

    def batch_decode(self, ids, skip_special_tokens=True):
        return [self.texts[int(row[0])] for row in ids]


def lf_scores(pairs):
    """ComputeSimilarity's score_dict (each sample rounded) and its means."""
    texts = [p["predict"] for p in pairs] + [p["label"] for p in pairs]
    n = len(pairs)
    metric = ComputeSimilarity(tokenizer=TextsTokenizer(texts))
    preds = np.arange(n).reshape(n, 1)
    labels = np.arange(n, 2 * n).reshape(n, 1)
    metric(EvalPrediction(predictions=preds, label_ids=labels), compute_result=False)
    per_sample = {k: list(v) for k, v in metric.score_dict.items()}
    return per_sample, metric._dump()


out = os.path.join(WORK, "scores.json")
run([PROBE, "similarity", write_json(os.path.join(WORK, "pairs.json"), pairs), out])
ours = json.load(open(out))
ref, ref_means = lf_scores(pairs)
worst = {k: 0.0 for k in ("bleu-4", "rouge-1", "rouge-2", "rouge-l")}
for i, o in enumerate(ours):
    for k, v in zip(("bleu-4", "rouge-1", "rouge-2", "rouge-l"), o["words"]):
        # LLaMA-Factory keeps round(v, 4); the probe gives v unrounded
        worst[k] = max(worst[k], abs(round(v, 4) - ref[k][i]))
for k, d in worst.items():
    checks.check(d <= 1e-9, f"{k} of {len(pairs)} samples equals LLaMA-Factory's ComputeSimilarity", max_abs_diff=d)
kinds = sorted({round(v, 1) for v in ref["rouge-l"]})
checks.check(len(kinds) > 50 and min(ref["rouge-l"]) == 0.0 and max(ref["rouge-l"]) == 100.0,
             "the samples span ROUGE-L from 0 to 100", distinct=len(kinds))


# 3. the character-level variant is rouge_chinese over the character tokens
def character_tokens(text):
    def cjk(c):
        o = ord(c)
        return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2A6DF or 0xF900 <= o <= 0xFAFF
                or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF)
    return " ".join("".join(" " if c.isspace() else (" " + c + " " if cjk(c) else c) for c in text).split())


diff = 0.0
for p, o in zip(pairs, ours):
    h, r = character_tokens(p["predict"]), character_tokens(p["label"])
    if not h or not r:
        ref3 = [0.0, 0.0, 0.0]
    else:
        s = Rouge().get_scores(h, r)[0]
        ref3 = [s["rouge-1"]["f"] * 100, s["rouge-2"]["f"] * 100, s["rouge-l"]["f"] * 100]
    diff = max(diff, max(abs(a - b) for a, b in zip(ref3, o["characters"][1:])))
checks.check(diff <= 1e-9, "ROUGE by characters equals rouge_chinese over the character tokens", max_abs_diff=diff)

# 4. the CLI scores a generated_predictions.jsonl as LLaMA-Factory's predict_results.json
jsonl = os.path.join(WORK, "generated_predictions.jsonl")
with open(jsonl, "w", encoding="utf-8") as f:
    for i, p in enumerate(pairs):
        row = {"prompt": f"问题{i}", "predict": p["predict"], "label": p["label"]}
        if i % 3 == 0:
            del row["prompt"]  # older LLaMA-Factory files have no prompt
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
results = json.loads(run([CLI, "score", jsonl]))
d = max(abs(results["predict_" + k] - ref_means[k]) for k in ("bleu-4", "rouge-1", "rouge-2", "rouge-l"))
checks.check(d <= 1e-9 and results["predict_samples"] == len(pairs),
             "tunebench-cli score's predict_results equal ComputeSimilarity's means",
             max_abs_diff=d, rouge_l=results["predict_rouge-l"])
checks.check(all(k in results for k in ("predict_rouge-1_characters", "predict_rouge-2_characters",
                                        "predict_rouge-l_characters")) and "jieba" in results["note"],
             "the character-level ROUGE is there too, labelled")
with open(jsonl, "a", encoding="utf-8") as f:
    f.write('{"predict": "x"}\n')
p = subprocess.run([CLI, "score", jsonl], capture_output=True, text=True)
checks.check(p.returncode != 0 and f"generated_predictions.jsonl:{len(pairs) + 1}" in p.stderr and '"label"' in p.stderr,
             "a line without a label is named", stderr=p.stderr.strip()[-160:])

checks.finish()
