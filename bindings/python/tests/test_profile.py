"""Profiles, reference profiles and drift from Python: native objects over the C ABI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict

import numpy as np
import pytest

import kiln

MODEL = Path(__file__).resolve().parents[3] / "tests" / "data" / "credit_trees.kiln"
PROVINCES = np.array(["MADRID", "BARCELONA", "SEVILLA"], dtype=object)


def customers(n: int, seed: int, *, age_shift: float = 0.0, income_times: float = 1.0,
              income_null: float = 0.1, mix=(0.5, 0.3, 0.2)) -> Dict[str, Any]:
    rng = np.random.default_rng(seed)
    income = np.exp(rng.normal(7.5, 0.5, n)) * income_times
    income[rng.random(n) < income_null] = np.nan
    return {
        "age": rng.normal(45.0, 12.0, n) + age_shift,
        "income": income,
        "province": PROVINCES[rng.choice(3, size=n, p=list(mix))],
    }


@pytest.fixture(scope="module")
def trained() -> kiln.Model:
    with kiln.load(MODEL) as plain:
        return plain.with_reference_profile(customers(50_000, 1))


def test_with_reference_profile_makes_a_new_model(trained: kiln.Model, tmp_path: Path) -> None:
    import pandas as pd

    with kiln.load(MODEL) as plain:
        assert not plain.has_reference_profile and plain.reference_profile is None
        assert trained.fingerprint != plain.fingerprint
        # Any input score() accepts: a DataFrame gives the same reference as the dict.
        again = plain.with_reference_profile(pd.DataFrame(customers(50_000, 1)))
        assert again.fingerprint == trained.fingerprint
    ref = trained.reference_profile
    assert isinstance(ref, kiln.Profile) and ref.rows == 50_000
    assert list(ref.outputs) == trained.outputs
    trained.save(tmp_path / "m.kiln")
    with kiln.load(tmp_path / "m.kiln", expect_fingerprint=trained.fingerprint) as back:
        assert back.reference_profile == ref


def test_profile_summaries_and_json(trained: kiln.Model) -> None:
    data = customers(20_000, 2)
    p = trained.profile(data)
    assert p.rows == 20_000
    age = p.columns["age"]
    assert age.kind == "numeric" and age.type == "float64" and age.nulls == 0
    assert age.mean == pytest.approx(np.mean(data["age"]), rel=1e-12)
    assert age.min == np.min(data["age"]) and age.max == np.max(data["age"])
    assert age.quantiles[0.5] == pytest.approx(np.median(data["age"]), abs=12 * 0.05)
    income = p.columns["income"]
    assert income.nulls == int(np.isnan(data["income"]).sum())
    province = p.columns["province"]
    assert province.kind == "categorical" and province.top[0][0] == "MADRID"
    assert province.top[0][1] == int((data["province"] == "MADRID").sum())
    assert province.distinct == 3
    assert set(p.outputs) == {"probability"} and p.outputs["probability"].rows == 20_000
    back = kiln.Profile.from_json(p.to_json())
    assert back == p and back.to_json() == p.to_json()
    with pytest.raises(kiln.InvalidArgumentError, match="profile"):
        kiln.Profile.from_json('{"format": "something else"}')


def test_partition_profiles_merge_into_the_whole(trained: kiln.Model) -> None:
    data = customers(30_000, 3)
    whole = trained.profile(data)
    parts = [trained.profile({k: v[i::3] for k, v in data.items()}) for i in range(3)]
    merged = kiln.Profile.merge_all(parts)
    assert merged.rows == whole.rows
    for name in ("age", "income", "province"):
        a, b = merged.columns[name], whole.columns[name]
        assert (a.rows, a.nulls, a.min, a.max) == (b.rows, b.nulls, b.min, b.max)
        if a.mean is not None:
            assert a.mean == pytest.approx(b.mean, rel=1e-12)
    assert merged.columns["province"].top == whole.columns["province"].top
    assert parts[0].merge(parts[1]).rows == parts[0].rows + parts[1].rows
    # Drift between profiles: the merged partitions are the same data.
    assert whole.drift(merged).ok


@pytest.mark.parametrize("n", [1_000, 1_000_000])
def test_the_training_distribution_is_quiet(trained: kiln.Model, n: int) -> None:
    report = trained.drift(customers(n, 10 + n))
    assert report.ok, report.findings
    assert report.findings == [] and report.drifted == []
    assert report.current_rows == n and report.tests > 0
    assert report.to_dict()["correction"] == "holm"


@pytest.mark.parametrize(
    "change, column, statistic",
    [
        (dict(age_shift=6.0), "age", "psi"),
        (dict(mix=(0.2, 0.3, 0.5)), "province", "js_divergence"),
        (dict(income_null=1.0), "income", "null_rate"),
        (dict(income_times=1000.0), "income", "wasserstein"),
    ],
)
def test_each_change_is_found_and_named(trained: kiln.Model, change: Dict[str, Any], column: str, statistic: str) -> None:
    report = trained.drift(customers(5_000, 20, **change))
    assert not report.ok
    assert column in report.drifted
    found = [f for f in report.findings if f.column == column and f.statistic == statistic]
    assert found, report.findings
    f = found[0]
    assert isinstance(f, kiln.DriftFinding) and f.target == "input"
    assert f.observed > f.band[1] or f.observed < f.band[0]
    assert f.movers and isinstance(f.movers[0], kiln.Mover)
    assert 0 < f.level <= 0.01


def test_drift_needs_a_reference() -> None:
    with kiln.load(MODEL) as plain:
        with pytest.raises(kiln.InvalidArgumentError, match="reference profile"):
            plain.drift(customers(100, 1))


def test_score_with_profile_reports_findings_profile_and_drift(trained: kiln.Model) -> None:
    import pyarrow as pa

    result, report = trained.score_with_report(customers(2_000, 30), profile=True)
    assert report["findings"] == []
    assert report["scored"] + report["flagged"] == report["rows"] == 2_000
    assert kiln.Profile.from_json(json.dumps(report["profile"])).rows == 2_000
    assert kiln.DriftReport(report["drift"]).ok
    # Plain scoring stays plain.
    assert "profile" not in trained.score_with_report(customers(10, 30))[1]
    # A column turned all-null breaks the null-rate rule: named, with both rates.
    table = trained.score(pa.table(customers(2_000, 31, income_null=1.0)), profile=True)
    findings = kiln.report_of(table)["findings"]
    assert [(f["column"], f["training_rate"] > 0.09, f["observed_rate"]) for f in findings] == [("income", True, 1.0)]
    v = trained.verify(customers(2_000, 31, income_null=1.0))
    assert v["findings"][0]["column"] == "income" and "null rate 1" in v["findings"][0]["message"]
