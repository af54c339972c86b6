"""Model.score_row: one row of numbers in schema order, no batch; the same scores (bits),
statuses and reasons as the row in a batch, and clear errors for what it cannot take."""

from __future__ import annotations

import struct
from typing import Any, Dict, List

import numpy as np
import pytest

import kiln
from conftest import golden_cases, read_golden, to_numpy

NUMERIC = ("float64", "int32", "bool", "date32")


def bits(x: float) -> bytes:
    return struct.pack(">d", x)


def numeric_cases() -> List[str]:
    return [c for c in golden_cases() if all(col["type"] in NUMERIC for col in read_golden(c)["input"]["columns"])]


def as_number(t: str, v: Any) -> float:
    if v is None:
        return float("nan")
    return float(v)  # int32, bool and date32 (days since 1970-01-01) read as numbers


@pytest.mark.parametrize("case", numeric_cases())
def test_each_row_scores_as_in_the_batch(case: str) -> None:
    g = read_golden(case)
    cols = g["input"]["columns"]
    model = kiln.load(g["model"])
    order = list(model.schema)
    by_name = {c["name"]: c for c in cols}
    batch = model.score({c["name"]: to_numpy(c) for c in cols})
    n = len(cols[0]["values"])
    for i in range(n):
        row = [as_number(by_name[name]["type"], by_name[name]["values"][i]) for name in order]
        read_only = np.array(row)
        read_only.flags.writeable = False
        # Arrays as a host may hold them: read-only, a strided view, a reversed view, a view at
        # an odd offset into bytes (unaligned).
        strided = np.repeat(np.array(row), 2)[::2]
        reversed_view = np.array(row[::-1])[::-1]
        unaligned = np.frombuffer(b"\0" + np.array(row).tobytes(), dtype=np.float64, offset=1)
        assert not unaligned.flags.aligned
        for values in (row, np.array(row), tuple(None if np.isnan(v) else v for v in row), read_only, strided, reversed_view, unaligned):
            got = model.score_row(values)
            assert got["status"] == batch["status"][i], f"{case} row {i}"
            assert got["reason"] == batch["reason"][i], f"{case} row {i}"
            for out in model.outputs:
                assert bits(got[out]) == bits(batch[out][i]), f"{case} row {i} {out}: {got[out]} vs {batch[out][i]}"


def test_a_flagged_row_carries_its_reason_as_in_the_batch() -> None:
    # Infinity in the first float column: whatever that column's policy, the row must come out
    # as it does in a batch; under the default policy it is flagged and the reason names it.
    for case in numeric_cases():
        g = read_golden(case)
        model = kiln.load(g["model"])
        cols = g["input"]["columns"]
        target = next(c["name"] for c in cols if c["type"] == "float64")
        data = {c["name"]: to_numpy(c)[:1] for c in cols}
        data[target] = np.array([np.inf])
        batch = model.score(data)
        row = [float(np.asarray(data[name], dtype=np.float64)[0]) if not np.ma.is_masked(data[name]) else float("nan") for name in model.schema]
        got = model.score_row(row)
        assert (got["status"], got["reason"]) == (batch["status"][0], batch["reason"][0]), case
        if got["status"] != 0:
            assert target in got["reason"]


def test_what_one_row_cannot_take_is_a_clear_error() -> None:
    case = numeric_cases()[0]
    model = kiln.load(read_golden(case)["model"])
    width = len(model.schema)
    with pytest.raises(kiln.InvalidArgumentError, match=f"{width} columns"):
        model.score_row([0.0] * (width + 1))
    with pytest.raises(kiln.InvalidArgumentError, match="1-D"):
        model.score_row(np.zeros((2, width)))
    strings = next(c for c in golden_cases() if any(col["type"] == "utf8" for col in read_golden(c)["input"]["columns"]))
    cat = kiln.load(read_golden(strings)["model"])
    with pytest.raises(kiln.InvalidArgumentError, match="batch"):
        cat.score_row([0.0] * len(cat.schema))
    model.close()
    with pytest.raises(kiln.ModelClosedError):
        model.score_row([0.0] * width)
