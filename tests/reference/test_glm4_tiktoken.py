"""GLM-4's remote-code tokenizer (THUDM/glm-4-9b-chat: model_type chatglm, tokenizer.model in tiktoken's
"base64-token rank" format, FORMATS.md §4.2) against tiktoken itself, the library its
tokenization_chatglm.py wraps. GLM-4's own tokenizer.model is not in ../shared; glm4_standin.py's
(Qwen's byte-level ranks in tiktoken's format, GLM-4's regex and 14 specials) stands in. Checked: ids and decoded text
of real Chinese rows, whitespace, digits, code and special tokens; the folder (a small random
ChatGLM-architecture model with GLM-4's config keys) is detected as GLM-4 with its glm4 template, whose
prompt is "[gMASK]<sop><|user|>\\n…<|assistant|>" as tiktoken encodes it."""
import json
import os
import subprocess

import tiktoken

from common import CLI, PROBE, SHARED, WORK, Checks, run, write_json
from glm4_standin import PATTERN, SPECIALS, write_tokenizer

checks = Checks()
folder = os.path.join(WORK, "glm4-remote")
ranks = write_tokenizer(folder)
enc = tiktoken.Encoding(name="glm4-standin", pat_str=PATTERN, mergeable_ranks=ranks,
                        special_tokens={s: len(ranks) + i for i, s in enumerate(SPECIALS)})

rows = json.load(open(os.path.join(SHARED, "datasets", "llama_factory", "alpaca_zh_demo.json")))[:40]
texts = [r["instruction"] + "\n" + r["input"] + "\n" + r["output"] for r in rows] + [
    "你好，请介绍一下 Tunebench。\nOnce upon a time,  in 2026: 12345 apples!", "   leading spaces\n\n\ttabs\t\t",
    "def main():\n    return [x**2 for x in range(10)]  # 注释", "1234567890 3.14159 1,000,000", "Emoji 😀 ☃ é è ñ",
    "[gMASK]<sop><|user|>\n头痛怎么办？<|assistant|>", "<|endoftext|>text<|observation|>", "   "]
out = os.path.join(WORK, "tokenized.json")
run([PROBE, "tokenize", folder, write_json(os.path.join(WORK, "texts.json"), texts), out])
got = json.load(open(out))
want = [enc.encode(t, allowed_special="all") for t in texts]
same = [g["ids"] == w for g, w in zip(got, want)]
bad = next((t for t, ok in zip(texts, same) if not ok), None)
checks.check(all(same), f"ids of {len(rows)} real rows and {len(texts) - len(rows)} edge cases = tiktoken's", equal=sum(same),
             first_difference=repr(bad)[:60])
decoded = [g["decoded"] == enc.decode([i for i in w if i < len(ranks)]) for g, w in zip(got, want)]
checks.check(all(decoded), "decoded text (specials skipped) = tiktoken's decode", equal=sum(decoded))

# the model folder: GLM-4's config keys (remote code), tiny and random
config = {"model_type": "chatglm", "architectures": ["ChatGLMModel"], "_name_or_path": "THUDM/glm-4-9b-chat",
          "num_layers": 2, "hidden_size": 64, "ffn_hidden_size": 128, "kv_channels": 16, "num_attention_heads": 4,
          "multi_query_attention": True, "multi_query_group_num": 2, "padded_vocab_size": len(ranks) + len(SPECIALS),
          "seq_length": 1024, "rope_ratio": 500, "layernorm_epsilon": 1.5625e-07, "rmsnorm": True, "post_layer_norm": True,
          "add_qkv_bias": True, "add_bias_linear": False, "original_rope": True, "tie_word_embeddings": False,
          "apply_residual_connection_post_layernorm": False, "eos_token_id": [len(ranks), len(ranks) + 7, len(ranks) + 9],
          "pad_token_id": len(ranks), "torch_dtype": "float32"}
write_json(os.path.join(folder, "config.json"), config)
q = "头痛发热三天了，怎么办？"
p = subprocess.run([CLI, "tokenize", "--model_name_or_path", folder, "--text", q, "--chat"], capture_output=True, text=True)
mine = [int(i) for i in p.stdout.split()] if p.returncode == 0 else p.stderr.strip()[-200:]
checks.check("template: glm4" in p.stderr, "the folder (model_type chatglm, tiktoken vocabulary) is detected as GLM-4's: template glm4",
             log=p.stderr.strip()[-200:])
prompt = enc.encode("[gMASK]<sop><|user|>\n" + q + "<|assistant|>", allowed_special="all")
checks.check(mine == prompt, "the chat prompt is GLM-4's [gMASK]<sop><|user|>\\n…<|assistant|>", tunebench=str(mine)[:80],
             tiktoken=str(prompt)[:80])
checks.finish()
