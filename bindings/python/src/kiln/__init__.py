"""kiln: score tabular ML models from Python, through the kiln C ABI (`include/kiln.h`).

>>> import kiln
>>> with kiln.load("model.kiln") as model:
...     result = model.score({"age": ages, "province": provinces})

See :func:`load` and :class:`Model`.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from . import _native
from ._errors import (
    AbiMismatchError,
    BadBufferError,
    BatchRejectedError,
    BufferTooSmallError,
    ColumnTypeError,
    FingerprintMismatchError,
    InternalError,
    InvalidArgumentError,
    InvalidModelError,
    KilnError,
    KilnIOError,
    MalformedArtifactError,
    MissingColumnError,
    ModelClosedError,
    NullArgumentError,
    PanicError,
    UnsupportedVersionError,
)
from ._import import from_lightgbm, from_xgboost
from ._model import Model, ScoreResult, load
from ._profile import ColumnSummary, DriftFinding, DriftReport, Mover, Profile
from ._sklearn import UnsupportedEstimatorError, from_sklearn

__version__ = "0.1.0"

#: ABI version of the loaded native library.
ABI_VERSION: int = _native.lib.kiln_abi_version()


def library_version() -> str:
    """Version of the loaded native library, e.g. ``"0.1.0"``."""
    return _native.text(_native.lib.kiln_version())


def library_path() -> str:
    """Path of the loaded native library."""
    return str(_native.library_path)


def row_status_name(code: int) -> str:
    """Stable short name of a row status code: 0 ``"ok"``, 2 ``"unknown_category"``, ..."""
    return _native.text(_native.lib.kiln_row_status_name(code))


def row_status_description(code: int) -> str:
    """One-line description of a row status code."""
    return _native.text(_native.lib.kiln_row_status_description(code))


def report_of(result: Any) -> Optional[Dict[str, Any]]:
    """The batch report attached to a result of :meth:`Model.score`, whatever its type
    (polars results carry none: use :meth:`Model.score_with_report`)."""
    import json

    report = getattr(result, "report", None)
    if isinstance(report, dict):
        return report
    attrs = getattr(result, "attrs", None)
    if isinstance(attrs, dict) and "kiln_report" in attrs:
        return attrs["kiln_report"]
    schema = getattr(result, "schema", None)
    metadata = getattr(schema, "metadata", None)
    if metadata and b"kiln.report" in metadata:
        return json.loads(metadata[b"kiln.report"])
    return None


__all__ = [
    "ABI_VERSION",
    "AbiMismatchError",
    "BadBufferError",
    "BatchRejectedError",
    "BufferTooSmallError",
    "ColumnSummary",
    "ColumnTypeError",
    "DriftFinding",
    "DriftReport",
    "FingerprintMismatchError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidModelError",
    "KilnError",
    "KilnIOError",
    "MalformedArtifactError",
    "MissingColumnError",
    "Model",
    "ModelClosedError",
    "Mover",
    "NullArgumentError",
    "PanicError",
    "Profile",
    "ScoreResult",
    "UnsupportedEstimatorError",
    "UnsupportedVersionError",
    "from_lightgbm",
    "from_sklearn",
    "from_xgboost",
    "library_path",
    "library_version",
    "load",
    "report_of",
    "row_status_description",
    "row_status_name",
]
