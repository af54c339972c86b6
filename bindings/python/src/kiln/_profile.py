"""Profiles and drift reports as Python objects, over the C ABI's profile functions.

A :class:`Profile` holds the JSON of a kiln batch profile (mergeable sketches per column and
per model output); its readable summary comes from ``kiln_profile_summary``. A
:class:`DriftReport` is the drift of one profile against a reference: findings with the column,
statistic, expected band, observed value and the bins or categories that moved most.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

from . import _native as N
from ._errors import InvalidArgumentError


@dataclass(frozen=True)
class ColumnSummary:
    """One column's (or output's) profile, readable: null rate, and for numbers the moments,
    quantiles and distinct count; for categories the distinct count and the top categories."""

    name: str
    kind: str
    type: Optional[str]
    rows: int
    nulls: int
    null_rate: float
    distinct: float
    mean: Optional[float] = None
    std_dev: Optional[float] = None
    min: Optional[float] = None
    max: Optional[float] = None
    #: Quantile level → value (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99).
    quantiles: Dict[float, Optional[float]] = field(default_factory=dict)
    #: Most frequent categories: (category, count, share), most frequent first.
    top: List[Tuple[str, int, float]] = field(default_factory=list)

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "ColumnSummary":
        return cls(
            name=d["name"],
            kind=d["kind"],
            type=d.get("type"),
            rows=d["rows"],
            nulls=d["nulls"],
            null_rate=d["null_rate"],
            distinct=d["distinct"],
            mean=d.get("mean"),
            std_dev=d.get("std_dev"),
            min=d.get("min"),
            max=d.get("max"),
            quantiles={float(q): v for q, v in (d.get("quantiles") or {}).items()},
            top=[(t["category"], t["count"], t["share"]) for t in d.get("top", [])],
        )


class Profile:
    """A batch profile: per input column and model output, counts, nulls, moments and
    mergeable sketches (KLL quantiles, HyperLogLog distinct counts, frequent items).

    Get one from :meth:`kiln.Model.profile` or :meth:`from_json`. Profiles of partitions of one
    data set :meth:`merge` into the profile of the whole (within the sketches' error).
    """

    def __init__(self, text: str) -> None:
        # The summary parses and validates the profile: a bad one fails here, not later.
        self._summary = json.loads(N.owned_text(N.lib.kiln_profile_summary, text.encode()))
        self._json = text

    @classmethod
    def from_json(cls, text: "str | bytes") -> "Profile":
        """Read a profile from its JSON (as :meth:`to_json` or ``kiln profile`` wrote it)."""
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        if not isinstance(text, str):
            raise InvalidArgumentError(f"Profile.from_json takes a str, not {type(text).__name__}")
        return cls(text)

    def to_json(self) -> str:
        """The profile's JSON (sketches included); :meth:`from_json` reads it back."""
        return self._json

    def to_dict(self) -> Dict[str, Any]:
        return json.loads(self._json)

    def merge(self, other: "Profile") -> "Profile":
        """The profile of both (e.g. two partitions); neither is changed. Profiles of different
        columns raise :class:`kiln.InvalidArgumentError`."""
        if not isinstance(other, Profile):
            raise InvalidArgumentError(f"Profile.merge takes a Profile, not {type(other).__name__}")
        return Profile(N.owned_text(N.lib.kiln_profile_merge, self._json.encode(), other._json.encode()))

    @classmethod
    def merge_all(cls, profiles: Iterable["Profile"]) -> "Profile":
        """Merge any number of profiles (at least one), e.g. the partitions of a Spark job."""
        it = iter(profiles)
        try:
            merged = next(it)
        except StopIteration:
            raise InvalidArgumentError("Profile.merge_all needs at least one profile") from None
        for p in it:
            merged = merged.merge(p)
        return merged

    def drift(self, current: "Profile") -> "DriftReport":
        """The drift of ``current`` against this profile as the reference."""
        return DriftReport(json.loads(N.owned_text(N.lib.kiln_profile_drift, self._json.encode(), current._json.encode())))

    @property
    def rows(self) -> int:
        return int(self._summary["rows"])

    @property
    def columns(self) -> Dict[str, ColumnSummary]:
        """Input column name → its summary, in schema order."""
        return {c["name"]: ColumnSummary._from(c) for c in self._summary["columns"]}

    @property
    def outputs(self) -> Dict[str, ColumnSummary]:
        """Model output name → the summary of its scores (unscored rows count as nulls)."""
        return {o["name"]: ColumnSummary._from(o) for o in self._summary["outputs"]}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Profile) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"<kiln.Profile {self.rows} rows, {len(self._summary['columns'])} columns, {len(self._summary['outputs'])} outputs>"


@dataclass(frozen=True)
class Mover:
    """A bin, quantile or category and how it moved. For numeric bins ``lower``/``upper`` bound
    the bin; for Wasserstein quantiles they are the reference's and the batch's value."""

    label: str
    reference_share: float
    current_share: float
    contribution: float
    lower: Optional[float] = None
    upper: Optional[float] = None


@dataclass(frozen=True)
class DriftFinding:
    """One statistic of one column (or output) outside the band it stays in when nothing
    drifted."""

    column: str
    #: "input" or "output".
    target: str
    #: "psi", "wasserstein", "js_divergence" or "null_rate".
    statistic: str
    observed: float
    #: The expected band (low, high) at this test's Holm-corrected level.
    band: Tuple[float, float]
    p_value: float
    level: float
    detail: str
    #: The bins or categories that moved most, largest first.
    movers: List[Mover]

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "DriftFinding":
        return cls(
            column=d["column"],
            target=d["target"],
            statistic=d["statistic"],
            observed=d["observed"],
            band=(d["expected"]["low"], d["expected"]["high"]),
            p_value=d["p_value"],
            level=d["level"],
            detail=d["detail"],
            movers=[Mover(**m) for m in d["movers"]],
        )


class DriftReport:
    """The drift of a batch against a reference profile (see the README for the method:
    reference-quantile PSI, Jensen-Shannon, normalized Wasserstein, calibrated bands, Holm)."""

    def __init__(self, data: Dict[str, Any]) -> None:
        self._data = data
        self.findings: List[DriftFinding] = [DriftFinding._from(f) for f in data["findings"]]
        self.checks: List[DriftFinding] = [DriftFinding._from(c) for c in data["checks"]]
        #: Columns and outputs with at least one finding, in schema order.
        self.drifted: List[str] = list(data["drifted"])
        self.tests: int = data["tests"]
        self.reference_rows: int = data["reference_rows"]
        self.current_rows: int = data["current_rows"]

    @property
    def ok(self) -> bool:
        """True when nothing drifted."""
        return not self.findings

    def to_dict(self) -> Dict[str, Any]:
        """The full report as kiln's JSON has it (checks, skipped, options included)."""
        return json.loads(json.dumps(self._data))

    def __repr__(self) -> str:
        state = "ok" if self.ok else f"drifted: {', '.join(self.drifted)}"
        return f"<kiln.DriftReport {self.current_rows} rows vs {self.reference_rows}, {self.tests} tests, {state}>"
