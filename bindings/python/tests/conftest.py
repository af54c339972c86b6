"""Shared fixtures: the repository's golden cases, a small local artifact, and converters that
turn one column description into each input type the package accepts."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
GOLDEN = Path(os.environ.get("KILN_GOLDEN_DIR", REPO / "tests" / "golden"))


def golden_cases() -> List[str]:
    if not GOLDEN.is_dir():
        return []
    return sorted(p.name for p in GOLDEN.iterdir() if (p / "expected.json").is_file())


def read_golden(name: str) -> Dict[str, Any]:
    case = GOLDEN / name
    inp = json.loads((case / "input.json").read_text())
    exp = json.loads((case / "expected.json").read_text())
    for doc in (inp, exp):
        assert doc["format"] == "kiln-golden-1", f"{name}: unknown golden format {doc['format']!r}"
    return {"model": case / "model.kiln", "input": inp, "expected": exp}


def bits(x: float) -> str:
    return struct.pack(">d", x).hex()


# -- one logical column (golden "type" + values with None) → each host representation ----------


def to_numpy(col: Dict[str, Any]) -> np.ndarray:
    """numpy: NaN for float nulls, masked arrays for int/bool nulls, None in object arrays,
    NaT for dates."""
    t, v = col["type"], col["values"]
    nulls = np.array([x is None for x in v], dtype=bool)
    if t == "float64":
        return np.array([np.nan if x is None else x for x in v], dtype=np.float64)
    if t in ("int32", "bool"):
        dtype = np.int32 if t == "int32" else np.bool_
        data = np.array([0 if x is None else x for x in v], dtype=dtype)
        return np.ma.MaskedArray(data, mask=nulls) if nulls.any() else data
    if t == "utf8":
        return np.array(v, dtype=object)
    if t == "date32":
        return np.array(["NaT" if x is None else np.datetime64(int(x), "D") for x in v], dtype="datetime64[D]")
    raise AssertionError(f"unknown golden type {t}")


def to_pandas(cols: List[Dict[str, Any]], categorical: bool = False) -> Any:
    import pandas as pd

    out = {}
    for col in cols:
        t, v = col["type"], col["values"]
        if t == "float64":
            out[col["name"]] = pd.Series(to_numpy(col))
        elif t == "int32":
            out[col["name"]] = pd.Series(v, dtype="Int32")
        elif t == "bool":
            out[col["name"]] = pd.Series(v, dtype="boolean")
        elif t == "utf8":
            out[col["name"]] = pd.Series(v, dtype="category" if categorical else object)
        elif t == "date32":
            # pandas has no day unit: seconds since the epoch at midnight.
            out[col["name"]] = pd.Series(to_numpy(col).astype("datetime64[s]"))
    frame = pd.DataFrame(out)
    # A non-default index: results must keep it.
    frame.index = pd.RangeIndex(100, 100 + len(frame))
    return frame


def to_arrow(cols: List[Dict[str, Any]], dictionary: bool = False) -> Any:
    import pyarrow as pa

    types = {"float64": pa.float64(), "int32": pa.int32(), "bool": pa.bool_(), "utf8": pa.string(), "date32": pa.date32()}
    arrays = []
    for col in cols:
        a = pa.array(col["values"], type=types[col["type"]])
        if dictionary and col["type"] == "utf8":
            a = a.dictionary_encode()
        arrays.append(a)
    return pa.table(arrays, names=[c["name"] for c in cols])


# -- a small local artifact (JSON without a stored fingerprint: kiln computes it) --------------

LOCAL_ARTIFACT = {
    "format": "kiln",
    "format_version": "1.0",
    "content": {
        "schema": {
            "columns": [
                {"name": "age", "type": "float64"},
                {"name": "income", "type": "float64"},
                {"name": "kids", "type": "int32"},
                {"name": "member", "type": "bool"},
                {"name": "province", "type": "categorical", "categories": ["MADRID", "BARCELONA"],
                 "policy": {"unknown_category": "flag"}},
                {"name": "signup", "type": "date"},
            ]
        },
        "pipeline": [
            {"step": "impute", "column": "income", "value": 1000.0},
            {"step": "impute", "column": "kids", "value": 0.0},
            {"step": "impute", "column": "member", "value": 0.0},
            {"step": "log1p", "column": "income"},
            {"step": "standard_scale", "column": "age", "mean": 40.0, "scale": 10.0},
            {"step": "one_hot", "column": "province", "categories": ["MADRID", "BARCELONA"],
             "outputs": ["p_mad", "p_bcn"]},
            {"step": "elapsed", "column": "signup", "reference": "2020-01-01", "unit": "months",
             "output": "tenure"},
        ],
        "model": {
            "kind": "linear",
            "features": ["age", "income", "kids", "member", "p_mad", "p_bcn", "tenure"],
            "coefficients": [[0.5, 0.1, 0.25, -0.75, 1.0, -1.0, 0.01], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]],
            "intercept": [-0.3, 0.2],
            "link": "identity",
        },
        "outputs": [{"name": "risk"}, {"name": "value"}],
        "provenance": {"library": "kiln-python-tests", "library_version": "0", "seed": 7},
    },
}


@pytest.fixture(scope="session")
def artifact_bytes() -> bytes:
    return json.dumps(LOCAL_ARTIFACT).encode()


@pytest.fixture()
def model(artifact_bytes: bytes) -> Any:
    import kiln

    with kiln.load(artifact_bytes) as m:
        yield m


def local_columns(n: int, seed: int = 0, with_nulls: bool = True) -> List[Dict[str, Any]]:
    """Golden-style column descriptions for the local artifact, with nulls and an unknown
    category sprinkled in."""
    rng = np.random.default_rng(seed)
    provinces = ["MADRID", "BARCELONA", "SEVILLA"]

    def maybe_null(values: List[Any], rate: float) -> List[Any]:
        if not with_nulls:
            return values
        drop = rng.random(len(values)) < rate
        return [None if d else x for x, d in zip(values, drop)]

    return [
        {"name": "age", "type": "float64", "values": [float(x) for x in rng.uniform(18, 90, n).round(2)]},
        {"name": "income", "type": "float64", "values": maybe_null([float(x) for x in rng.lognormal(8, 1, n)], 0.1)},
        {"name": "kids", "type": "int32", "values": maybe_null([int(x) for x in rng.integers(0, 5, n)], 0.1)},
        {"name": "member", "type": "bool", "values": maybe_null([bool(x) for x in rng.integers(0, 2, n)], 0.1)},
        {"name": "province", "type": "utf8",
         "values": maybe_null([provinces[i] for i in rng.choice(3, n, p=[0.5, 0.45, 0.05])], 0.05)},
        {"name": "signup", "type": "date32", "values": [int(x) for x in rng.integers(15000, 19000, n)]},
    ]
