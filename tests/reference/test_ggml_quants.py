"""ggml block formats against gguf-py 0.19 (the converter's own quantizers, gguf.quants): Tunebench's
bytes (tunebench_probe ggml-quantize) equal gguf-py's quantize() for F16, BF16 and Q8_0; Q4_0 and
Q5_0 as well except where gguf-py emulates a fused multiply-add that ggml's C reference does not do (its
"FIXME: cursed" rounding, FORMATS.md §2.4: one code apart at exact boundaries, counted and bounded);
gguf-py has no K-quant quantizer, so for Q4_K and Q6_K its dequantize() of our bytes must give our
dequantized values. Rows are Gaussian, heavy-tailed, the spec's vector, and all-zero."""
import os
import subprocess

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize
from safetensors.numpy import load_file, save_file

from common import PROBE, WORK, Checks

checks = Checks()
os.makedirs(WORK, exist_ok=True)
rng = np.random.default_rng(3)
x = {"normal": rng.standard_normal((64, 512)).astype(np.float32),
     "heavy": (rng.standard_t(3, (32, 1024)) * 0.05).astype(np.float32),
     "spec": np.array([(((i * 37) % 61) - 30) / 16 for i in range(256)], dtype=np.float32).reshape(1, 256),
     "zeros": np.zeros((2, 256), dtype=np.float32)}
inp = os.path.join(WORK, "rows.safetensors")
save_file(x, inp)
for name in ["F16", "BF16", "Q8_0", "Q4_0", "Q5_0", "Q5_1", "Q4_K", "Q5_K", "Q6_K"]:
    qt = T[name]
    out = os.path.join(WORK, f"{name}.safetensors")
    p = subprocess.run([PROBE, "ggml-quantize", inp, out, name], capture_output=True, text=True)
    if not checks.check(p.returncode == 0, f"{name}: tunebench_probe quantizes", stderr=p.stderr.strip()[-200:]):
        continue
    got = load_file(out)
    for k, a in x.items():
        ours = got[k + ".bytes"]
        rows = ours.reshape(a.shape[0], -1)
        try:
            theirs = quantize(a, qt).view(np.uint8).reshape(a.shape[0], -1)
        except NotImplementedError:
            theirs = None
        if theirs is not None:
            if name in ("Q4_0", "Q5_0"):  # gguf-py rounds x·id + 8.5 (16.5) as one fused operation
                size = {"Q4_0": 18, "Q5_0": 22}[name]
                blocks = (rows.reshape(-1, size) != theirs.reshape(-1, size)).any(axis=1)
                checks.check(blocks.mean() <= 0.01 and (rows.reshape(-1, size)[:, :2] == theirs.reshape(-1, size)[:, :2]).all(),
                             f"{name} {k}: bytes equal gguf-py's but for its FMA rounding (scales all equal)",
                             blocks_differing=f"{int(blocks.sum())}/{blocks.size}")
            else:
                checks.check(np.array_equal(rows, theirs), f"{name} {k}: bytes equal gguf-py's quantize()",
                             differing=int((rows != theirs).sum()))
        deq = dequantize(rows, qt).reshape(a.shape)
        mine = got[k + ".dequantized"]
        scale = max(float(np.abs(a).max()), 1e-30)
        diff = float(np.abs(deq - mine).max())
        checks.check(diff <= 1e-6 * scale and np.isfinite(mine).all(), f"{name} {k}: gguf-py dequantizes our bytes to our values",
                     max_abs_diff=diff)
        err = float(np.sqrt(((mine - a) ** 2).mean() / max(float((a ** 2).mean()), 1e-30)))
        checks.check(err < 0.15 or k == "zeros", f"{name} {k}: round trip relative RMS error {err:.2g}")
checks.finish()
