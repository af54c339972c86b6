"""Latency and throughput of scoring from Python (not a test).

    python bench.py [MODEL] [--rows 1000000] [--threads 0]

MODEL defaults to examples/bank/model.kiln, or the first golden case's model when that is not
there. Input columns are generated from the model's schema with a fixed seed (categorical
columns draw from the categories the artifact lists). Reports single-row latency (median and
p99 over many calls, dict of numpy input) and 1,000,000-row throughput for dict-of-numpy,
pandas and pyarrow inputs, and the time of one call on a batch of 100 rows for each (what a
service or a Spark pandas UDF pays per batch, beside the rows' own cost).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any, Dict

import numpy as np

import kiln

REPO = Path(__file__).resolve().parents[2]


def default_model() -> Path:
    bank = REPO / "examples" / "bank" / "model.kiln"
    if bank.is_file():
        return bank
    cases = sorted((REPO / "tests" / "golden").glob("*/model.kiln"))
    if not cases:
        raise SystemExit("no model: pass a path")
    return cases[0]


def make_data(model: kiln.Model, n: int, seed: int = 42) -> Dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    columns = {c["name"]: c for c in model.info["schema"]["columns"]}
    data: Dict[str, np.ndarray] = {}
    for name, ty in model.schema.items():
        col = columns.get(name, {})
        lo, hi = col.get("min", 0.0), col.get("max", 100.0)
        if ty == "categorical":
            cats = col.get("categories") or ["a", "b", "c"]
            data[name] = np.array(cats, dtype=object)[rng.integers(0, len(cats), n)]
        elif ty == "bool":
            data[name] = rng.integers(0, 2, n).astype(bool)
        elif ty in ("int32", "int64"):
            data[name] = rng.integers(int(lo), int(hi) + 1, n).astype(ty)
        elif ty in ("date", "timestamp"):
            data[name] = rng.integers(15000, 20000, n).astype("datetime64[D]")
        else:
            data[name] = rng.uniform(lo, hi, n).astype(ty if ty == "float32" else "float64")
    return data


def timed(fn: Any, repeat: int) -> list:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model", nargs="?", type=Path, default=None)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    path = args.model or default_model()
    model = kiln.load(path, n_threads=args.threads)
    print(f"model {path} ({model.fingerprint[:19]}…), {len(model.schema)} inputs, outputs {model.outputs}")
    print(f"library {kiln.library_path()} {kiln.library_version()}, threads {args.threads or 'all'}")

    one = make_data(model, 1)
    for _ in range(200):
        model.score(one)
    lat = sorted(timed(lambda: model.score(one), 5000))
    print(f"single row (dict of numpy): median {statistics.median(lat) * 1e6:.1f} us, "
          f"p99 {lat[int(len(lat) * 0.99)] * 1e6:.1f} us")

    big = make_data(model, args.rows)
    inputs: Dict[str, Any] = {"dict of numpy": big}
    try:
        import pandas as pd

        inputs["pandas"] = pd.DataFrame(big)
    except ImportError:
        pass
    try:
        import pyarrow as pa

        inputs["pyarrow"] = pa.table(big)
    except ImportError:
        pass
    for label, data in inputs.items():
        model.score(data)
        best = min(timed(lambda: model.score(data), 5))
        print(f"{args.rows:,} rows ({label}): best of 5 {best * 1e3:.1f} ms, {args.rows / best / 1e6:.2f} M rows/s")
    small = make_data(model, 100, seed=7)
    batches: Dict[str, Any] = {"dict of numpy": small}
    if "pandas" in inputs:
        batches["pandas"] = pd.DataFrame(small)
    if "pyarrow" in inputs:
        batches["pyarrow"] = pa.table(small)
    for label, data in batches.items():
        for _ in range(50):
            model.score(data)
        per_call = sorted(timed(lambda: model.score(data), 1000))
        print(f"100 rows ({label}): median {statistics.median(per_call) * 1e6:.0f} us a call")
    model.close()


if __name__ == "__main__":
    main()
