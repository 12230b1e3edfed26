"""Shared by the ChatGLM-6B reference tests: the original code (../shared/reference/chatglm-6b)
importable as a package, and a stand-in for ice_text.model (the real one is not in ../shared): a
SentencePiece BPE model trained on real Chinese rows with the original's pieces. (A unigram model
would do too, but Debian's libsentencepiece, which Tunebench links, and pip's sentencepiece 0.2.3
break Viterbi ties differently on runs of one character such as "-----": a difference of the two
libraries, seen on 2 of 40 sharegpt rows, not of the encoding.)"""
import io
import json
import os
import sys

import sentencepiece as spm

from common import SHARED, WORK

REF = os.path.join(SHARED, "reference", "chatglm-6b")
SPECIALS = ["[MASK]", "[gMASK]", "[sMASK]", "<unused_0>", "<sop>", "<eop>", "<ENC>", "<dBLOCK>"]


def original_package():
    """The original files import each other as a package: link them under one in the work folder."""
    package = os.path.join(WORK, "ref", "chatglm6b_original")
    os.makedirs(package, exist_ok=True)
    for f in ("configuration_chatglm.py", "modeling_chatglm.py", "tokenization_chatglm.py"):
        link = os.path.join(package, f)
        if not os.path.exists(link):
            os.symlink(os.path.join(REF, f), link)
    open(os.path.join(package, "__init__.py"), "w").close()
    if os.path.dirname(package) not in sys.path:
        sys.path.insert(0, os.path.dirname(package))


def alpaca_zh():
    return json.load(open(os.path.join(SHARED, "datasets", "llama_factory", "alpaca_zh_demo.json")))


def write_tokenizer(folder, num_image_tokens=0):
    """ice_text.model (<pad>, the specials, <n>, <|tab|>, <|blank_2..80|>, then learnt pieces with byte
    fallback; 4000 pieces) and the release's tokenizer_config.json with num_image_tokens."""
    os.makedirs(folder, exist_ok=True)
    pieces = ["<pad>"] + SPECIALS + ["<n>", "<|tab|>"] + [f"<|blank_{i}|>" for i in range(2, 81)]
    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter([r["instruction"] + r["input"] + r["output"] for r in alpaca_zh()]),
                                   model_writer=buf, vocab_size=4000, model_type="bpe", user_defined_symbols=pieces,
                                   byte_fallback=True, character_coverage=0.995, minloglevel=2)
    with open(os.path.join(folder, "ice_text.model"), "wb") as f:
        f.write(buf.getvalue())
    tcfg = json.load(open(os.path.join(REF, "tokenizer_config.json")))
    tcfg["num_image_tokens"] = num_image_tokens
    with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
        json.dump(tcfg, f)
    return os.path.join(folder, "ice_text.model")
