"""NF4 quantization (model/quantization.cpp) vs bitsandbytes' quantize_4bit on the CPU, bit for
bit: packed nibbles, absmax, and with double quantization the 8-bit absmax codes, their fp32
scales and the offset; the dequantized weights equal bitsandbytes' dequantize_4bit."""
import os

import torch
from bitsandbytes.functional import dequantize_4bit, quantize_4bit
from safetensors.torch import load_file, save_file

from common import PROBE, WORK, Checks, run

torch.manual_seed(0)
checks = Checks()
# whole blocks; blocks not a multiple of 256 (double quantization's second level); a partial
# last block; bf16 input; an outlier-heavy tensor; a zero block
zero_block = torch.randn(16, 64)
zero_block[3] = 0
tensors = {"square": torch.randn(64, 256), "odd_blocks": torch.randn(33, 64), "partial": torch.randn(7, 100),
           "bf16": torch.randn(48, 128).to(torch.bfloat16), "outliers": torch.randn(32, 64) * torch.rand(32, 64) ** 8 * 50,
           "zero_block": zero_block}
inp = os.path.join(WORK, "weights.safetensors")
save_file(tensors, inp)
for double_quant in (False, True):
    out = os.path.join(WORK, f"nf4-{double_quant}.safetensors")
    run([PROBE, "nf4", inp, out, "true" if double_quant else "false"])
    got = load_file(out)
    for name, w in tensors.items():
        what = f"{name} {tuple(w.shape)} {str(w.dtype).replace('torch.', '')} double_quant={double_quant}"
        q, st = quantize_4bit(w, blocksize=64, compress_statistics=double_quant, quant_type="nf4")
        checks.check(torch.equal(q.flatten(), got[name + ".packed"]), f"{what}: packed bytes equal")
        if double_quant:
            checks.check(torch.equal(st.absmax.flatten(), got[name + ".qabsmax"]), f"{what}: 8-bit absmax codes equal")
            checks.check(torch.equal(st.state2.absmax.float(), got[name + ".absmax2"]), f"{what}: second-level absmax equal")
            checks.check(float(st.offset) == float(got[name + ".offset"][0]), f"{what}: offset equal",
                         ours=float(got[name + ".offset"][0]), bnb=float(st.offset))
        else:
            checks.check(torch.equal(st.absmax.float(), got[name + ".absmax"]), f"{what}: absmax equal")
        deq = dequantize_4bit(q, st).float()
        diff = (deq - got[name + ".dequantized"]).abs().max().item()
        checks.check(diff == 0, f"{what}: dequantized weights equal", max_abs_diff=diff)
checks.finish()
