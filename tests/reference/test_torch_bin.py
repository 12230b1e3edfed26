"""pytorch_model.bin files written by Python's torch.save load equal in Tunebench's own reader
(io/torch_bin.cpp): an OrderedDict state dict, fp32/fp16/bf16 tensors, and two tensors that share
one storage at an offset, as tied or sliced weights are saved. A non-contiguous (transposed) view
is refused with a message naming the tensor and a hint (the reader maps bytes, not strides)."""
import collections
import os
import subprocess

import torch
from safetensors.torch import load_file

from common import PROBE, WORK, Checks, run

torch.manual_seed(0)
checks = Checks()
base = torch.randn(64, 48)
sd = collections.OrderedDict()
sd["layer.weight"] = torch.randn(32, 16)
sd["half.weight"] = torch.randn(7, 5).half()
sd["bf16.weight"] = torch.randn(3, 11).to(torch.bfloat16)
sd["bf16.scalar"] = torch.tensor(2.5, dtype=torch.bfloat16)
sd["shared.whole"] = base
sd["shared.rows"] = base[10:20]            # same storage, offset 10·48 elements
sd["ints"] = torch.arange(10, dtype=torch.int64)
path = os.path.join(WORK, "pytorch_model.bin")
torch.save(sd, path)
loaded = torch.load(path)
checks.check(loaded["shared.rows"].untyped_storage().data_ptr() == loaded["shared.whole"].untyped_storage().data_ptr()
             and loaded["shared.rows"].storage_offset() == 480, "the file really shares one storage at an offset")
out = os.path.join(WORK, "read.safetensors")
run([PROBE, "read-bin", path, out])
got = load_file(out)
checks.check(sorted(got) == sorted(sd), "same tensor names", names=len(got))
for name, t in sd.items():
    g = got.get(name)
    same = g is not None and g.dtype == t.dtype and tuple(g.shape) == tuple(t.shape) and torch.equal(g, t.contiguous())
    checks.check(same, f"{name} {str(t.dtype).replace('torch.', '')} {tuple(t.shape)} equal")
strided = collections.OrderedDict(w=base, wt=base[4:8].t())
path2 = os.path.join(WORK, "strided.bin")
torch.save(strided, path2)
p = subprocess.run([PROBE, "read-bin", path2, out], capture_output=True, text=True)
checks.check(p.returncode == 1 and "'wt' is not contiguous" in p.stderr and "hint" in p.stderr,
             "a transposed view is refused with the tensor's name and a hint", message=p.stderr.strip()[:120])
checks.finish()
