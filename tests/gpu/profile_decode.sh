#!/usr/bin/env bash
# Where one decode step's time goes: each kernel of the replayed CUDA graph timed by Nsight Compute,
# summed by kernel name. Caches are not flushed and clocks not locked between kernels (Nsight
# Compute's default overstated the small kernels; this sum is close to the measured step).
# Needs the ChatGLM2-6B-shaped folder bench_inference.py writes.
# Usage: [PROFILE_BITS=4|8] profile_decode.sh TOOL MODEL_DIR OUT_DIR [BATCH...]   (4: NF4, 8: int8, as it loads)
set -euo pipefail
TOOL=$1 MODEL=$2 OUT=$3
shift 3
mkdir -p "$OUT"
for B in ${*:-1 64}; do
    ncu --profile-from-start off --graph-profiling node --cache-control none --clock-control none --metrics gpu__time_duration.sum --csv \
        "$TOOL" profile-step "$MODEL" "$B" ${PROFILE_BITS:-} > "$OUT/ncu_b$B${PROFILE_BITS:+_q$PROFILE_BITS}.csv" \
        2> "$OUT/ncu_b$B.err" || { tail -20 "$OUT/ncu_b$B.err"; exit 1; }
    python3 - "$OUT/ncu_b$B${PROFILE_BITS:+_q$PROFILE_BITS}.csv" "$B" <<'PY'
import csv, io, json, sys
rows = [l for l in open(sys.argv[1]) if l.startswith('"')]
by = {}
for r in csv.DictReader(io.StringIO("".join(rows))):
    if r.get("Metric Name") != "gpu__time_duration.sum":
        continue
    v = float(r["Metric Value"].replace(",", ""))
    unit = r.get("Metric Unit", "nsecond")
    us = v / 1000 if unit.startswith("n") else (v if unit.startswith("u") else v * 1000)
    name = r["Kernel Name"].split("(")[0][:90]
    c, t = by.get(name, (0, 0.0))
    by[name] = (c + 1, t + us)
total = sum(t for _, t in by.values())
count = sum(c for c, _ in by.values())
top = sorted(by.items(), key=lambda kv: -kv[1][1])[:15]
print(json.dumps({"profile_batch": int(sys.argv[2]), "kernels": count, "sum_us": round(total, 1),
                  "top": [{"kernel": k, "count": c, "us": round(t, 1), "share": round(t / total, 3)} for k, (c, t) in top]}))
PY
done
