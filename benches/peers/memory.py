"""Resident memory of one loaded model, kiln against the library that trained it.

Each measurement runs in a fresh interpreter: import the engine, load the model once and drop it
(one-time costs: code pages, thread pools), trim the heap, read the resident set; load the model
and keep it; trim again, read again. The difference is what the
loaded model holds resident (its nodes, tables and whatever the loader left behind). Trimming
(glibc `malloc_trim(0)`) on both sides returns freed parsing buffers to the system, so neither
engine is charged for memory it has already let go of.

The resident set still depends on the allocator's history: `malloc_trim` gives back free pages
inside the heaps but not the free top of a thread's arena, so a buffer that a loader freed on a
helper thread can stay resident, and the same model reads a few MB apart from one script to
another. The second figure does not: the bytes the process has allocated and not freed
(glibc `mallinfo2`: `uordblks + hblkhd`), before and after the load. It counts what the
libraries (C, C++, Rust, numpy) hold through malloc; Python's own small objects (pymalloc
arenas) are outside it, which leaves scikit-learn's figure a little short.

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

class Mallinfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
libc.mallinfo2.restype = Mallinfo2

def rss_bytes():
    gc.collect()
    libc.malloc_trim(0)
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")

def heap_bytes():
    gc.collect()
    m = libc.mallinfo2()
    return m.uordblks + m.hblkhd

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
before, heap_before = rss_bytes(), heap_bytes()
model = load()
after, heap_after = rss_bytes(), heap_bytes()
print(json.dumps({"bytes": after - before, "heap_bytes": heap_after - heap_before}))
"""

SOURCE = {
    "xgboost": ("xgboost", "xgboost.json"),
    "lightgbm": ("lightgbm", "lightgbm.txt"),
    "forest": ("sklearn", "forest.pkl"),
    "linear": ("sklearn", "linear.pkl"),
}


def measure_one(engine: str, path: Path) -> Optional[Dict[str, int]]:
    """{"bytes": resident set growth, "heap_bytes": malloc'd bytes growth} of one load."""
    done = subprocess.run([sys.executable, "-c", CHILD, engine, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        print(f"  memory: {engine} {path.name}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'failed'}", flush=True)
        return None
    return {k: int(v) for k, v in json.loads(done.stdout).items()}


def measure(work: Path, cache: Path, kinds: List[str]) -> Dict[str, Dict[str, Optional[int]]]:
    """{kind: {"source": bytes, "kiln": bytes, "source_heap": bytes, "kiln_heap": bytes}} for
    each kind whose files exist (resident set growth, and malloc'd bytes growth)."""
    out: Dict[str, Dict[str, Optional[int]]] = {}
    for kind in kinds:
        engine, name = SOURCE[kind]
        source, artifact = cache / name, work / f"{kind}.kiln"
        if not (source.exists() and artifact.exists()):
            continue
        # Median of three for each figure: the resident set moves by a page or two between runs.
        def medians(e: str, p: Path) -> Dict[str, Optional[int]]:
            got = [m for m in (measure_one(e, p) for _ in range(3)) if m is not None]
            pick = lambda key: sorted(m[key] for m in got)[len(got) // 2] if got else None
            return {"rss": pick("bytes"), "heap": pick("heap_bytes")}

        src, kl = medians(engine, source), medians("kiln", artifact)
        out[kind] = {"source": src["rss"], "kiln": kl["rss"], "source_heap": src["heap"], "kiln_heap": kl["heap"]}
    return out


def print_table(mem: Dict[str, Dict[str, Optional[int]]]) -> None:
    if not mem:
        return
    print("\n### Memory of one loaded model (fresh process, heap trimmed, median of 3)")
    print("Resident: growth of the resident set. Heap: growth of the bytes allocated through malloc and not freed.")
    print("| model | resident, source library | resident, kiln | kiln / source | heap, source library | heap, kiln | kiln / source |")
    print("|---|---|---|---|---|---|---|")
    fmt = lambda b: "-" if b is None else f"{b / 1e6:.1f} MB"
    ratio = lambda k, s: f"{k / s:.2f}" if s and s >= 100_000 and k is not None else "-"  # none against a near-empty figure
    for kind, m in mem.items():
        src, kl, src_heap, kl_heap = m["source"], m["kiln"], m.get("source_heap"), m.get("kiln_heap")
        print(f"| {kind} | {fmt(src)} | {fmt(kl)} | {ratio(kl, src)} | {fmt(src_heap)} | {fmt(kl_heap)} | {ratio(kl_heap, src_heap)} |")


if __name__ == "__main__":
    work, cache, kinds = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    print_table(measure(work, cache, kinds or list(SOURCE)))
