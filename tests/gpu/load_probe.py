"""Where loading a 12.5 GB bf16 checkpoint (ChatGLM2-6B shapes) from the page cache to the GPU goes:
CUDA context, allocation, host copies from the mapping, pageable vs pinned double-buffered copies.
Usage: load_probe.py FILE.safetensors (written first when missing). Not part of run_all."""
import json, mmap, os, sys, time
import torch
from safetensors.torch import save_file
path = sys.argv[1]
t = time.time(); torch.cuda.init(); torch.empty(1, device="cuda"); torch.cuda.synchronize()
print(f"cuda context: {time.time()-t:.2f} s", flush=True)
if not os.path.exists(path):
    H, F, V, L = 4096, 13696, 65024, 28
    sd = {"emb": (V, H), "out": (V, H)}
    for i in range(L):
        sd.update({f"{i}.qkv": (4608, H), f"{i}.qkvb": (4608,), f"{i}.o": (H, H), f"{i}.gu": (2 * F, H), f"{i}.d": (H, F), f"{i}.n1": (H,), f"{i}.n2": (H,)})
    save_file({k: torch.randn(s, dtype=torch.bfloat16, device="cuda").cpu() for k, s in sd.items()}, path)
f = open(path, "rb"); mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
n = int.from_bytes(mm[:8], "little"); hdr = json.loads(mm[8:8 + n]); base = 8 + n
items = [(k, v["data_offsets"]) for k, v in hdr.items() if k != "__metadata__"]
buf = torch.frombuffer(mm, dtype=torch.uint8)
total = sum(e - s for _, (s, e) in items)
def run(name, fn):
    torch.cuda.empty_cache(); torch.cuda.synchronize(); t = time.time(); keep = fn(); torch.cuda.synchronize()
    dt = time.time() - t; print(f"{name}: {dt:.3f} s ({total/dt/1e9:.1f} GB/s)", flush=True); del keep
run("warm page cache (host sum)", lambda: [buf[base+s:base+e].sum() for _, (s, e) in items][:0])
run("alloc only, one per tensor", lambda: [torch.empty(e - s, dtype=torch.uint8, device="cuda") for _, (s, e) in items])
run("alloc only, one block", lambda: torch.empty(total, dtype=torch.uint8, device="cuda"))
run("host memcpy mmap->pageable", lambda: [buf[base+s:base+e].clone() for _, (s, e) in items][:0])
def pageable():
    out = []
    for _, (s, e) in items:
        d = torch.empty(e - s, dtype=torch.uint8, device="cuda"); d.copy_(buf[base+s:base+e]); out.append(d)
    return out
run("per tensor: empty + pageable copy (what Tunebench does)", pageable)
def pinned(chunk=32 << 20):
    out = []; stage = [torch.empty(chunk, dtype=torch.uint8).pin_memory() for _ in range(2)]; ev = [None, None]; i = 0
    for _, (s, e) in items:
        d = torch.empty(e - s, dtype=torch.uint8, device="cuda"); out.append(d)
        for off in range(0, e - s, chunk):
            ln = min(chunk, e - s - off); b = i % 2; i += 1
            if ev[b] is not None: ev[b].synchronize()
            stage[b][:ln].copy_(buf[base+s+off:base+s+off+ln])
            d[off:off+ln].copy_(stage[b][:ln], non_blocking=True); ev[b] = torch.cuda.Event(); ev[b].record()
    return out
run("per tensor: pinned double buffer 32 MB", pinned)
print("threads", torch.get_num_threads())
