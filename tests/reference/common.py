"""Shared by the reference tests: where the probe, the CLI and the shared data are (ctest passes
them in the environment), running them, and recording checks. Each test script prints one line
per check and exits 1 if any failed; a missing oracle library fails the import, never skips."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "gpu"))

PROBE = os.environ["TB_PROBE"]
CLI = os.environ.get("TB_CLI", "")
SHARED = os.environ["TB_SHARED_DIR"]
WORK = os.environ["TB_WORK"]
os.makedirs(WORK, exist_ok=True)


def run(cmd):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if p.returncode != 0:
        print(p.stdout[-3000:], p.stderr[-3000:], file=sys.stderr)
        raise RuntimeError("failed (exit %d): %s" % (p.returncode, " ".join(map(str, cmd))))
    return p.stdout


class Checks:
    def __init__(self):
        self.passed, self.failed = 0, 0

    def check(self, ok, what, **details):
        ok = bool(ok)
        self.passed += ok
        self.failed += not ok
        extra = " ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in details.items())
        print(("ok   " if ok else "FAIL ") + what + ("  " + extra if extra else ""), flush=True)
        return ok

    def close(self, tol, ref, got, what, **details):
        """max |ref - got| ≤ tol · max |ref| (the logit scale)."""
        ref, got = ref.float(), got.float()
        if ref.shape != got.shape:
            return self.check(False, what, shapes=f"{tuple(ref.shape)} vs {tuple(got.shape)}")
        scale = ref.abs().max().item()
        diff = (ref - got).abs().max().item()
        return self.check(diff <= tol * scale, what, max_abs_diff=diff, scale=scale, **details)

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed or not self.passed else 0)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
    return path
