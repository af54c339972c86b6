"""Resident memory of one loaded model, kiln against the library that trained it.

Each measurement runs in a fresh interpreter: import the engine, load the model once and drop it
(one-time costs: code pages, thread pools), trim the heap, read the resident set; load the model
and keep it; trim again, read again. The difference is what the
loaded model holds resident (its nodes, tables and whatever the loader left behind). Trimming
(glibc `malloc_trim(0)`) on both sides returns freed parsing buffers to the system, so neither
engine is charged for memory it has already let go of.

Run by run.py after the speed tables (the models and kiln artifacts it made are reused), or on
its own: `python memory.py WORK_DIR CACHE_DIR xgboost lightgbm forest linear`.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

CHILD = r"""
import ctypes, gc, json, pickle, sys
engine, path = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL("libc.so.6")

def rss_bytes():
    gc.collect()
    libc.malloc_trim(0)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")

if engine == "kiln":
    import kiln
    load = lambda: kiln.load(path, n_threads=1)
elif engine == "xgboost":
    import xgboost as xgb
    load = lambda: xgb.Booster(params={"nthread": 1}, model_file=path)
elif engine == "lightgbm":
    import lightgbm as lgb
    load = lambda: lgb.Booster(model_file=path)
else:
    import sklearn.ensemble, sklearn.pipeline  # noqa: F401  (class imports out of the figure)
    raw = open(path, "rb").read()
    load = lambda: pickle.loads(raw)
# A first load and drop pays the one-time costs (code pages faulted in, thread pools, lazy
# tables), which belong to the engine, not to a model.
del_me = load()
del del_me
before = rss_bytes()
model = load()
after = rss_bytes()
print(json.dumps({"bytes": after - before}))
"""

SOURCE = {
    "xgboost": ("xgboost", "xgboost.json"),
    "lightgbm": ("lightgbm", "lightgbm.txt"),
    "forest": ("sklearn", "forest.pkl"),
    "linear": ("sklearn", "linear.pkl"),
}


def measure_one(engine: str, path: Path) -> Optional[int]:
    done = subprocess.run([sys.executable, "-c", CHILD, engine, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        print(f"  memory: {engine} {path.name}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'failed'}", flush=True)
        return None
    return int(json.loads(done.stdout)["bytes"])


def measure(work: Path, cache: Path, kinds: List[str]) -> Dict[str, Dict[str, Optional[int]]]:
    """{kind: {"source": bytes, "kiln": bytes}} for each kind whose files exist."""
    out: Dict[str, Dict[str, Optional[int]]] = {}
    for kind in kinds:
        engine, name = SOURCE[kind]
        source, artifact = cache / name, work / f"{kind}.kiln"
        if not (source.exists() and artifact.exists()):
            continue
        # Median of three: the resident set moves by a page or two between runs.
        def median(e: str, p: Path) -> Optional[int]:
            got = [m for m in (measure_one(e, p) for _ in range(3)) if m is not None]
            return sorted(got)[len(got) // 2] if got else None

        out[kind] = {"source": median(engine, source), "kiln": median("kiln", artifact)}
    return out


def print_table(mem: Dict[str, Dict[str, Optional[int]]]) -> None:
    if not mem:
        return
    print("\n### Resident memory of one loaded model (fresh process, heap trimmed, median of 3)")
    print("| model | source library | kiln | kiln / source |")
    print("|---|---|---|---|")
    for kind, m in mem.items():
        src, kl = m["source"], m["kiln"]
        ratio = f"{kl / src:.2f}" if src and kl is not None else "-"
        fmt = lambda b: "-" if b is None else f"{b / 1e6:.1f} MB"
        print(f"| {kind} | {fmt(src)} | {fmt(kl)} | {ratio} |")


if __name__ == "__main__":
    work, cache, kinds = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    print_table(measure(work, cache, kinds or list(SOURCE)))
