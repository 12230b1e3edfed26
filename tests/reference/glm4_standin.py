"""GLM-4's remote-code tokenizer is not in ../shared: a stand-in in its format (tiktoken's
"base64-token rank" lines in tokenizer.model) made of Qwen's byte-level ranks (Qwen2's vocab.json
below its added tokens: Qwen's tokenizer was tiktoken's, rank = id), with GLM-4's split regex and
its 14 specials after the ranks (FORMATS.md §4.2)."""
import base64
import json
import os

from common import SHARED, write_json

PATTERN = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
SPECIALS = ["<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>", "<|assistant|>",
            "<|observation|>", "<|begin_of_image|>", "<|end_of_image|>", "<|begin_of_video|>", "<|end_of_video|>"]


def qwen_ranks():
    """token bytes → rank, from GPT-2's byte-to-unicode spelling in Qwen2's vocab.json"""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    to_byte, n = {}, 0
    for b in range(256):
        if b in printable:
            to_byte[chr(b)] = b
        else:
            to_byte[chr(256 + n)] = b
            n += 1
    vocab = json.load(open(os.path.join(SHARED, "models", "qwen2-tokenizer", "vocab.json"), encoding="utf-8"))
    return {bytes(to_byte[c] for c in tok): i for tok, i in vocab.items()}


def write_tokenizer(folder):
    """tokenizer.model and tokenizer_config.json of the stand-in; returns the ranks"""
    ranks = qwen_ranks()
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "tokenizer.model"), "w") as f:
        for tok, i in sorted(ranks.items(), key=lambda kv: kv[1]):
            f.write(base64.b64encode(tok).decode() + " " + str(i) + "\n")
    write_json(os.path.join(folder, "tokenizer_config.json"), {"tokenizer_class": "ChatGLM4Tokenizer", "eos_token": "<|endoftext|>",
                                                              "pad_token": "<|endoftext|>", "padding_side": "left"})
    return ranks
