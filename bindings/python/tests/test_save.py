"""A model written with ``Model.save`` / ``Model.to_bytes`` loads back as the same model."""

from __future__ import annotations

from pathlib import Path

import pytest

import kiln
from conftest import golden_cases, read_golden
from test_golden import check_against_expected, INPUTS


@pytest.mark.parametrize("case", golden_cases())
def test_save_and_to_bytes_round_trip(case: str, tmp_path: Path) -> None:
    g = read_golden(case)
    exp = g["expected"]
    model = kiln.load(g["model"])
    data = model.to_bytes()
    assert kiln.load(data).fingerprint == exp["fingerprint"]
    path = tmp_path / "copy.kiln"
    model.save(path)
    assert path.read_bytes() == data
    with kiln.load(path, expect_fingerprint=exp["fingerprint"]) as again:
        result = again.score(INPUTS["numpy"](g["input"]["columns"]))
        check_against_expected(result, exp, again, f"{case}/saved")


def test_save_into_a_missing_directory_names_the_path(tmp_path: Path) -> None:
    model = kiln.load(read_golden(golden_cases()[0])["model"])
    with pytest.raises(kiln.KilnError, match="no-such-dir"):
        model.save(tmp_path / "no-such-dir" / "m.kiln")
    model.close()
    with pytest.raises(kiln.ModelClosedError):
        model.to_bytes()
