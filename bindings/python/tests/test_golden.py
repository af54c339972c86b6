"""The shared golden cases (tests/golden/): every input type gives the committed bits."""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import kiln
from conftest import GOLDEN, bits, golden_cases, read_golden, to_arrow, to_numpy, to_pandas


def test_golden_cases_are_present() -> None:
    # The parametrized tests below would silently run nothing without the shared cases.
    assert golden_cases(), f"no golden cases under {GOLDEN}"


def _as_columns(result: Any, outputs: List[str]) -> Dict[str, np.ndarray]:
    if isinstance(result, pd.DataFrame):
        return {c: result[c].to_numpy() for c in [*outputs, "status", "reason"]}
    if isinstance(result, pa.Table):
        return {c: result.column(c).to_numpy(zero_copy_only=False) for c in [*outputs, "status", "reason"]}
    if isinstance(result, pl.DataFrame):
        return {c: result[c].to_numpy() for c in [*outputs, "status", "reason"]}
    return dict(result)


INPUTS: Dict[str, Callable[[List[Dict[str, Any]]], Any]] = {
    "numpy": lambda cols: {c["name"]: to_numpy(c) for c in cols},
    "pandas": lambda cols: to_pandas(cols),
    "pandas_category": lambda cols: to_pandas(cols, categorical=True),
    "arrow_table": lambda cols: to_arrow(cols),
    "arrow_dictionary": lambda cols: to_arrow(cols, dictionary=True),
    "arrow_record_batch": lambda cols: to_arrow(cols).combine_chunks().to_batches()[0],
    "arrow_reader": lambda cols: pa.RecordBatchReader.from_batches(
        to_arrow(cols).schema, to_arrow(cols).to_batches(max_chunksize=max(1, len(cols[0]["values"]) // 3))
    ),
    "polars": lambda cols: pl.from_arrow(to_arrow(cols)),
}


def check_against_expected(result: Any, expected: Dict[str, Any], model: kiln.Model, where: str) -> None:
    outputs = [o["name"] for o in expected["outputs"]]
    assert model.outputs == outputs
    cols = _as_columns(result, outputs)
    status = np.asarray(cols["status"]).astype(np.int64)
    assert status.tolist() == expected["status"], where
    for o in expected["outputs"]:
        got = np.asarray(cols[o["name"]], dtype=np.float64)
        for i, want in enumerate(o["bits"]):
            if want is None:
                assert math.isnan(got[i]), f"{where}: {o['name']}[{i}] should be NaN, is {got[i]!r}"
            else:
                assert bits(got[i]) == want, f"{where}: {o['name']}[{i}] = {got[i]!r}, expected {o['values'][i]}"
    reasons = list(cols["reason"])
    for i, (name, source) in enumerate(zip(expected["status_names"], expected["reason_sources"])):
        assert reasons[i] == ("" if source is None else f"{name}: {source}"), where


@pytest.mark.parametrize("case", golden_cases())
@pytest.mark.parametrize("input_type", list(INPUTS))
def test_golden_bits(case: str, input_type: str) -> None:
    g = read_golden(case)
    exp = g["expected"]
    with kiln.load(g["model"], expect_fingerprint=exp["fingerprint"]) as model:
        assert model.fingerprint == exp["fingerprint"]
        result, report = model.score_with_report(INPUTS[input_type](g["input"]["columns"]))
        check_against_expected(result, exp, model, f"{case}/{input_type}")
        assert report["rows"] == exp["n_rows"]
        assert report["scored"] == exp["scored"]
        assert report["flagged"] == exp["flagged"]


@pytest.mark.parametrize("case", golden_cases())
@pytest.mark.parametrize("n_threads", [1, 2, 0])
def test_golden_bits_any_thread_count_and_split(case: str, n_threads: int) -> None:
    g = read_golden(case)
    exp = g["expected"]
    cols = g["input"]["columns"]
    n = exp["n_rows"]
    with kiln.load(g["model"].read_bytes()) as model:
        # Whole batch with this thread count, then every row alone: same bits.
        check_against_expected(model.score(INPUTS["numpy"](cols), n_threads=n_threads), exp, model, f"{case}/threads")
        for i in range(n):
            one = [{**c, "values": c["values"][i : i + 1]} for c in cols]
            part = model.score(INPUTS["numpy"](one), n_threads=n_threads)
            row_exp = {
                **exp,
                "n_rows": 1,
                "status": exp["status"][i : i + 1],
                "status_names": exp["status_names"][i : i + 1],
                "reason_sources": exp["reason_sources"][i : i + 1],
                "outputs": [{**o, "bits": o["bits"][i : i + 1], "values": o["values"][i : i + 1]} for o in exp["outputs"]],
            }
            check_against_expected(part, row_exp, model, f"{case}/row {i}")
