"""Every input type the package accepts, against one local artifact: the same numbers, results
in the caller's world, and the model's metadata."""

from __future__ import annotations

from typing import Any, Dict

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import kiln
from conftest import LOCAL_ARTIFACT, local_columns, to_arrow, to_numpy, to_pandas

N = 2000


def reference(model: kiln.Model, cols: Any) -> kiln.ScoreResult:
    return model.score({c["name"]: to_numpy(c) for c in cols})


def assert_same(result: Dict[str, np.ndarray], ref: Dict[str, np.ndarray], outputs: Any) -> None:
    for name in outputs:
        got, want = np.asarray(result[name], dtype=np.float64), ref[name]
        # Bit-identical, NaN where the reference has NaN.
        assert np.array_equal(got.view(np.int64)[~np.isnan(want)], want.view(np.int64)[~np.isnan(want)]), name
        assert np.array_equal(np.isnan(got), np.isnan(want)), name
    assert np.array_equal(np.asarray(result["status"]), ref["status"])
    assert list(result["reason"]) == list(ref["reason"])


def test_metadata(model: kiln.Model) -> None:
    assert model.outputs == ["risk", "value"]
    assert model.schema == {
        "age": "float64",
        "income": "float64",
        "kids": "int32",
        "member": "bool",
        "province": "categorical",
        "signup": "date",
    }
    assert model.fingerprint.startswith("sha256:") and len(model.fingerprint) == 7 + 64
    assert model.info["fingerprint"] == model.fingerprint
    # Each request parses afresh: a caller's edits do not reach the next one.
    model.info["schema"].clear()
    assert [c["name"] for c in model.info["schema"]["columns"]] == list(model.schema)
    assert model.provenance["library"] == "kiln-python-tests"
    assert model.provenance["seed"] == 7
    assert model.n_threads == 0
    assert kiln.ABI_VERSION == 1
    assert kiln.row_status_name(2) == "unknown_category"


def test_numbers_match_an_independent_computation(model: kiln.Model) -> None:
    cols = local_columns(500, seed=3)
    res = reference(model, cols)
    v = {c["name"]: c["values"] for c in cols}
    coef = LOCAL_ARTIFACT["content"]["model"]["coefficients"]
    icpt = LOCAL_ARTIFACT["content"]["model"]["intercept"]
    for i in range(500):
        prov = v["province"][i]
        if prov is None:  # the one-hot step flags a null province
            assert res["status"][i] == 1
            assert res["reason"][i] == "null: step 5 (one_hot of 'province')"
            continue
        if prov not in ("MADRID", "BARCELONA"):
            assert res["status"][i] == 2
            assert res["reason"][i] == "unknown_category: province"
            assert np.isnan(res["risk"][i])
            continue
        assert res["status"][i] == 0 and res["reason"][i] == ""
        features = [
            (v["age"][i] - 40.0) / 10.0,
            np.log1p(1000.0 if v["income"][i] is None else v["income"][i]),
            0.0 if v["kids"][i] is None else float(v["kids"][i]),
            0.0 if v["member"][i] is None else float(v["member"][i]),
            1.0 if prov == "MADRID" else 0.0,
            1.0 if prov == "BARCELONA" else 0.0,
            elapsed_months(v["signup"][i], "2020-01-01"),
        ]
        for j, name in enumerate(["risk", "value"]):
            want = icpt[j] + sum(c * x for c, x in zip(coef[j], features))
            assert abs(res[name][i] - want) <= 1e-12 * max(1.0, abs(want)), (i, name, res[name][i], want)


def elapsed_months(days: int, reference: str) -> float:
    """Whole calendar months from the date to the reference (negative after it)."""
    ref = np.datetime64(reference, "D").astype(int)
    early, late, sign = (days, ref, 1.0) if days <= ref else (ref, days, -1.0)
    (y0, m0, d0), (y1, m1, d1) = (np.datetime64(int(x), "D").astype(object).timetuple()[:3] for x in (early, late))
    months = (y1 - y0) * 12 + (m1 - m0) - (1 if d1 < d0 else 0)
    return sign * months


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda cols: to_pandas(cols), id="pandas_object"),
        pytest.param(lambda cols: to_pandas(cols, categorical=True), id="pandas_category"),
        pytest.param(lambda cols: to_arrow(cols), id="arrow_table"),
        pytest.param(lambda cols: to_arrow(cols, dictionary=True), id="arrow_dictionary"),
        pytest.param(lambda cols: to_arrow(cols).to_batches()[0], id="arrow_record_batch"),
        pytest.param(
            lambda cols: pa.RecordBatchReader.from_batches(to_arrow(cols).schema, to_arrow(cols).to_batches(max_chunksize=333)),
            id="arrow_reader_chunks",
        ),
        pytest.param(lambda cols: pl.from_arrow(to_arrow(cols)), id="polars"),
        pytest.param(lambda cols: {c["name"]: to_arrow([c]).column(0) for c in cols}, id="dict_of_arrow"),
    ],
)
def test_every_input_type_gives_the_same_bits(model: kiln.Model, make: Any) -> None:
    cols = local_columns(N, seed=1)
    ref = reference(model, cols)
    result = model.score(make(cols))
    if isinstance(result, pd.DataFrame):
        result = {c: result[c].to_numpy() for c in result.columns}
    elif isinstance(result, pa.Table):
        result = {c: result.column(c).to_numpy(zero_copy_only=False) for c in result.column_names}
    elif isinstance(result, pl.DataFrame):
        result = {c: result[c].to_numpy() for c in result.columns}
    assert_same(result, ref, model.outputs)
    assert (ref["status"] == 2).any() and (ref["status"] == 0).any()


def test_pandas_block_columns_score_as_their_series(model: kiln.Model, monkeypatch: Any) -> None:
    """A frame's numpy-backed columns are read from its blocks (pandas' internal
    `DataFrame._get_column_array`), the others through their Series. Without the accessor (a
    pandas that lacks it), every column goes through its Series. Both ways give the same bits,
    the reference's, for numpy float, int, bool and object columns, strided ones (a frame made
    from a 2-d array), and nullable, categorical and datetime ones."""
    cols = local_columns(N, seed=5, with_nulls=False)
    plain = pd.DataFrame({c["name"]: to_numpy(c) for c in cols})
    assert plain["kids"].dtype == np.int32 and plain["member"].dtype == np.bool_
    wide = np.stack([to_numpy(cols[0]), to_numpy(cols[1])], axis=1)  # C order: strided columns
    strided = pd.concat([pd.DataFrame(wide, columns=["age", "income"], copy=False), plain.drop(columns=["age", "income"])], axis=1)
    assert not strided._get_column_array(0).flags.c_contiguous
    nullable = to_pandas(local_columns(N, seed=6))
    categorical = to_pandas(local_columns(N, seed=7), categorical=True)
    frames = [(plain, cols), (strided, cols), (nullable, local_columns(N, seed=6)), (categorical, local_columns(N, seed=7))]

    read = []
    original = pd.DataFrame._get_column_array
    monkeypatch.setattr(pd.DataFrame, "_get_column_array", lambda df, i: read.append(i) or original(df, i))
    from_blocks = [model.score(frame) for frame, _ in frames]
    # The accessor was asked for every column of every frame, once.
    assert len(read) == len(frames) * len(cols)
    monkeypatch.delattr(pd.DataFrame, "_get_column_array")
    from_series = [model.score(frame) for frame, _ in frames]

    for (_, source), a, b in zip(frames, from_blocks, from_series):
        ref = reference(model, source)
        assert_same({c: a[c].to_numpy() for c in a.columns}, ref, model.outputs)
        assert_same({c: b[c].to_numpy() for c in b.columns}, ref, model.outputs)


def test_result_types_follow_the_input(model: kiln.Model) -> None:
    cols = local_columns(50, seed=2)
    d = model.score({c["name"]: to_numpy(c) for c in cols})
    assert isinstance(d, kiln.ScoreResult) and set(d) == {"risk", "value", "status", "reason"}
    assert d["risk"].dtype == np.float64 and d["status"].dtype == np.int32
    assert d.report["rows"] == 50 and d.report["scored"] + d.report["flagged"] == 50

    df = to_pandas(cols)
    out = model.score(df)
    assert isinstance(out, pd.DataFrame)
    assert out.index.equals(df.index)
    assert list(out.columns) == ["risk", "value", "status", "reason"]
    assert out.attrs["kiln_report"] == d.report == kiln.report_of(out)

    table = model.score(to_arrow(cols))
    assert isinstance(table, pa.Table) and table.column_names == ["risk", "value", "status", "reason"]
    assert table.schema.field("reason").type == pa.string()
    assert kiln.report_of(table) == d.report

    pdf = model.score(pl.from_arrow(to_arrow(cols)))
    assert isinstance(pdf, pl.DataFrame) and pdf.columns == ["risk", "value", "status", "reason"]
    _, report = model.score_with_report(pl.from_arrow(to_arrow(cols)))
    assert report == d.report
    flagged = [r for r in report["reasons"] if r["status"] == "unknown_category"]
    assert flagged and flagged[0]["source"] == "province"


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "int16", "int8", "uint8", "uint16", "uint32"])
def test_numpy_numeric_dtypes(model: kiln.Model, dtype: str) -> None:
    cols = local_columns(300, seed=4, with_nulls=False)
    data = {c["name"]: to_numpy(c) for c in cols}
    ref = model.score(data)
    data["kids"] = data["kids"].astype(dtype)
    assert_same(model.score(data), ref, model.outputs)


@pytest.mark.parametrize("unit", ["D", "s", "ms", "us", "ns"])
def test_datetime_units(model: kiln.Model, unit: str) -> None:
    cols = local_columns(300, seed=5)
    data = {c["name"]: to_numpy(c) for c in cols}
    ref = model.score(data)
    data["signup"] = data["signup"].astype(f"datetime64[{unit}]")
    assert_same(model.score(data), ref, model.outputs)


def test_strings_as_numpy_str_bytes_and_pandas_string_dtypes(model: kiln.Model) -> None:
    cols = local_columns(400, seed=6, with_nulls=False)
    data = {c["name"]: to_numpy(c) for c in cols}
    ref = model.score(data)
    provinces = data["province"]
    for variant in (provinces.astype(str), provinces.astype(bytes), provinces.tolist()):
        assert_same(model.score({**data, "province": variant}), ref, model.outputs)
    df = to_pandas(cols)
    for dtype in ("string", "str", pd.ArrowDtype(pa.large_string()), pd.ArrowDtype(pa.string())):
        df2 = df.assign(province=df["province"].astype(dtype))
        out = model.score(df2)
        assert_same({c: out[c].to_numpy() for c in out.columns}, ref, model.outputs)


def test_nulls_every_way(model: kiln.Model) -> None:
    cols = local_columns(600, seed=7)
    ref = reference(model, cols)
    df = to_pandas(cols)
    # pandas numpy-backed float with NaN, nullable Float64, and arrow-backed columns.
    variants = [
        df.assign(income=df["income"].astype("Float64")),
        df.assign(kids=df["kids"].astype(pd.ArrowDtype(pa.int32()))),
        df.assign(member=df["member"].astype(pd.ArrowDtype(pa.bool_()))),
        df.assign(province=df["province"].astype(pd.ArrowDtype(pa.string()))),
    ]
    for v in variants:
        out = model.score(v)
        assert_same({c: out[c].to_numpy() for c in out.columns}, ref, model.outputs)


def test_non_contiguous_and_byte_swapped_columns_are_copied_correctly(model: kiln.Model) -> None:
    cols = local_columns(500, seed=8, with_nulls=False)
    data = {c["name"]: to_numpy(c) for c in cols}
    ref = model.score(data)
    wide = np.zeros((500, 3))
    wide[:, 1] = data["age"]
    assert not wide[:, 1].flags.c_contiguous
    swapped = data["income"].astype(">f8")
    assert_same(model.score({**data, "age": wide[:, 1], "income": swapped}), ref, model.outputs)
    # A DataFrame built from a 2-d array holds strided columns.
    frame = pd.DataFrame(wide, columns=["x", "age", "y"])
    for c in cols:
        if c["name"] != "age":
            frame[c["name"]] = to_pandas([c])[c["name"]].to_numpy()
    out = model.score(frame)
    assert_same({c: out[c].to_numpy() for c in out.columns}, ref, model.outputs)


def test_extra_columns_are_ignored_and_empty_batches_work(model: kiln.Model) -> None:
    cols = local_columns(10, seed=9)
    data = {c["name"]: to_numpy(c) for c in cols}
    ref = model.score(data)
    assert_same(model.score({**data, "unused": np.arange(10), "note": np.array(["x"] * 10)}), ref, model.outputs)
    empty = model.score({k: v[:0] for k, v in data.items()})
    assert len(empty["risk"]) == 0 and empty.report["rows"] == 0


def test_n_threads_default_and_override(artifact_bytes: bytes) -> None:
    cols = local_columns(5000, seed=10)
    data = {c["name"]: to_numpy(c) for c in cols}
    with kiln.load(artifact_bytes, n_threads=1) as m:
        assert m.n_threads == 1
        one = m.score(data)
        m.n_threads = 2
        assert_same(m.score(data), one, m.outputs)
        assert_same(m.score(data, n_threads=0), one, m.outputs)
        with pytest.raises(kiln.InvalidArgumentError):
            m.score(data, n_threads=-1)


def test_load_from_path(tmp_path: Any, artifact_bytes: bytes) -> None:
    path = tmp_path / "m.kiln"
    path.write_bytes(artifact_bytes)
    with kiln.load(path) as a, kiln.load(str(path)) as b, kiln.load(artifact_bytes) as c:
        assert a.fingerprint == b.fingerprint == c.fingerprint
        with kiln.load(path, expect_fingerprint=a.fingerprint) as pinned:
            assert pinned.fingerprint == a.fingerprint
