"""Zero-copy and leaks: numeric columns are handed over by address; Arrow tables are imported
without allocating; repeated load/score/free cycles do not grow the process."""

from __future__ import annotations

import gc
import os
from typing import Any, List, Tuple

import numpy as np
import pandas as pd
import pyarrow as pa

import kiln
from kiln import _columns
from conftest import local_columns, to_arrow, to_numpy, to_pandas


def traced(monkeypatch: Any) -> List[Tuple[str, int, int, int]]:
    calls: List[Tuple[str, int, int, int]] = []
    monkeypatch.setattr(_columns, "_trace", lambda *a: calls.append(a))
    return calls


def test_numpy_numeric_columns_are_not_copied(model: kiln.Model, monkeypatch: Any) -> None:
    calls = traced(monkeypatch)
    data = {c["name"]: to_numpy(c) for c in local_columns(1000, seed=20, with_nulls=False)}
    data["signup"] = data["signup"].astype("datetime64[us]")
    model.score(data)
    handed = {name: address for name, _, address, _ in calls}
    for name in ("age", "income", "kids", "member", "signup"):
        assert handed[name] == data[name].ctypes.data, name


def test_non_contiguous_column_is_copied(model: kiln.Model, monkeypatch: Any) -> None:
    calls = traced(monkeypatch)
    data = {c["name"]: to_numpy(c) for c in local_columns(100, seed=21, with_nulls=False)}
    strided = np.repeat(data["age"], 2)[::2]
    model.score({**data, "age": strided})
    handed = {name: address for name, _, address, _ in calls}
    assert handed["age"] != strided.ctypes.data


def test_pandas_columns_and_masks_are_not_copied(model: kiln.Model, monkeypatch: Any) -> None:
    calls = traced(monkeypatch)
    cols = local_columns(1000, seed=22)
    df = to_pandas(cols)
    df["kids"] = df["kids"].astype("Int32")
    # int32 category codes (pandas picks int32 past 32767 categories) go over as they are.
    many = pd.Categorical.from_codes(
        np.where(df["province"].isna(), -1, (df["province"] == "BARCELONA").astype(np.int32)),
        categories=["MADRID", "BARCELONA"] + [f"c{i}" for i in range(40000)],
    )
    assert many.codes.dtype == np.int32
    df["province"] = many
    model.score(df)
    handed = {name: (address, mask) for name, _, address, mask in calls}
    assert handed["age"][0] == df["age"].to_numpy().ctypes.data
    assert handed["income"][0] == df["income"].to_numpy().ctypes.data
    assert handed["kids"][0] == df["kids"].array._data.ctypes.data
    assert handed["kids"][1] == df["kids"].array._mask.ctypes.data
    assert handed["province"][0] == df["province"].array.codes.ctypes.data


def test_arrow_import_allocates_nothing(model: kiln.Model) -> None:
    table = to_arrow(local_columns(20000, seed=23))
    table = pa.concat_tables([table, table])  # two chunks per column
    gc.collect()
    before = pa.total_allocated_bytes()
    batch = _columns.batch_from_arrow_stream(table)
    try:
        # pyarrow allocates a few KB of bookkeeping while exporting the stream; a copied column
        # would be at least 20000 * 4 bytes per chunk.
        grown = pa.total_allocated_bytes() - before
        assert grown < 16 * 1024, f"importing the table allocated {grown} bytes of Arrow memory"
    finally:
        batch.free()
    assert pa.total_allocated_bytes() == before
    result = model.score(table)
    del result
    gc.collect()
    assert pa.total_allocated_bytes() == before, "scoring an Arrow table leaked Arrow memory"


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_load_score_free_cycles_do_not_grow(artifact_bytes: bytes) -> None:
    cols = local_columns(5000, seed=24)
    data = {c["name"]: to_numpy(c) for c in cols}
    df = to_pandas(cols)
    table = to_arrow(cols)

    def cycle() -> None:
        with kiln.load(artifact_bytes) as m:
            m.score(data)
            m.score(df)
            m.score(table)
        try:
            kiln.load(b"{broken")
        except kiln.MalformedArtifactError:
            pass

    for _ in range(30):  # warm up allocators and caches
        cycle()
    gc.collect()
    start = rss_bytes()
    for _ in range(300):
        cycle()
    gc.collect()
    growth = rss_bytes() - start
    # 300 cycles each move ~1.5 MB through kiln: a per-cycle leak of even 10 KB would show.
    assert growth < 3 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB over 300 cycles"
