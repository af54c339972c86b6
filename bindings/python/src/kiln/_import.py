"""Importers for models trained by XGBoost and LightGBM: ``kiln.from_xgboost`` and
``kiln.from_lightgbm``. The work happens in the native library (``kiln_model_import_with``); this
module only finds the model's bytes, whatever the caller holds: a Booster, a scikit-learn-API
wrapper, a model file's path, or the file's bytes. Neither library is imported here: an object is
recognised by its methods, so kiln does not depend on either.
"""

from __future__ import annotations

import ctypes
import json
import os
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np

from . import _columns as C
from . import _native as N
from ._errors import InvalidArgumentError
from ._model import Model


def _import(format_name: str, data: bytes, options: Dict[str, Any], n_threads: int) -> Model:
    buf = np.frombuffer(data, dtype=np.uint8)
    address = buf.ctypes.data if buf.size else C._EMPTY_BYTES.ctypes.data
    handle = ctypes.c_void_p()
    opts = json.dumps(options).encode() if options else None
    N.check(N.lib.kiln_model_import_with(format_name.encode(), address, buf.size, opts, ctypes.byref(handle)))
    return Model(handle.value, n_threads)


def _with_sample(model: Model, sample: Any) -> Model:
    # `sample` (training data) becomes the artifact's reference profile: its columns' sketches
    # and the distribution of the model's outputs on it, for verification and drift later.
    if sample is not None:
        profiled = model.with_reference_profile(sample)
        model.close()
        return profiled
    return model


def _read_path(source: Any) -> Tuple[bytes, str]:
    path = os.fspath(source)
    with open(path, "rb") as f:
        return f.read(), os.path.splitext(str(path))[1].lower()


def _is_bytes(source: Any) -> bool:
    return isinstance(source, (bytes, bytearray, memoryview))


def _xgboost_bytes(source: Any) -> Tuple[bytes, str]:
    """(model bytes, "xgboost-json" | "xgboost-ubj")."""
    if hasattr(source, "get_booster") and not hasattr(source, "save_raw"):
        source = source.get_booster()  # XGBClassifier / XGBRegressor / XGBRanker
    if hasattr(source, "save_raw"):
        return bytes(source.save_raw(raw_format="json")), "xgboost-json"
    if _is_bytes(source):
        data = bytes(source)
    elif isinstance(source, (str, os.PathLike)):
        data, ext = _read_path(source)
        if ext == ".ubj":
            return data, "xgboost-ubj"
        if ext == ".json":
            return data, "xgboost-json"
        if ext in (".model", ".bin", ".deprecated"):
            raise InvalidArgumentError(
                f"{os.fspath(source)}: XGBoost's old binary format is not supported; load it with "
                "xgboost and save it as .json or .ubj"
            )
    else:
        raise InvalidArgumentError(
            f"from_xgboost takes an xgboost.Booster, an XGBModel (XGBClassifier, ...), a path to a "
            f".json or .ubj model file, or its bytes, not {type(source).__module__}.{type(source).__name__}"
        )
    # Both start with '{'; in JSON the next non-blank byte opens a key ('"'), in UBJSON it is a
    # length marker. Anything else goes to the JSON reader, whose error names the problem.
    body = data.lstrip()
    if body[:1] == b"{" and body[1:].lstrip()[:1] not in (b'"', b"}"):
        return data, "xgboost-ubj"
    return data, "xgboost-json"


def _lightgbm_text(source: Any) -> bytes:
    booster = getattr(source, "booster_", None)  # LGBMClassifier / LGBMRegressor, once fitted
    if booster is not None and not hasattr(source, "model_to_string"):
        source = booster
    elif hasattr(source, "fit") and not hasattr(source, "model_to_string"):
        raise InvalidArgumentError(f"{type(source).__name__} is not fitted: call fit() before importing it")
    if hasattr(source, "model_to_string"):
        # num_iteration=-1: every tree, whatever best_iteration says; kiln's num_iteration picks.
        return source.model_to_string(num_iteration=-1).encode()
    if _is_bytes(source):
        return bytes(source)
    if isinstance(source, (str, os.PathLike)):
        return _read_path(source)[0]
    raise InvalidArgumentError(
        f"from_lightgbm takes a lightgbm.Booster, a fitted LGBMModel (LGBMClassifier, ...), a path "
        f"to a text model file, or its bytes, not {type(source).__module__}.{type(source).__name__}"
    )


def _feature_names(names: Optional[Sequence[str]]) -> Optional[list]:
    if names is None:
        return None
    names = list(names)
    if not all(isinstance(n, str) for n in names):
        raise InvalidArgumentError("feature_names must be strings")
    return names


def from_xgboost(
    booster_or_path: Any,
    sample: Any = None,
    iteration_range: Optional[Tuple[int, int]] = None,
    best_iteration: bool = False,
    feature_names: Optional[Sequence[str]] = None,
    n_threads: int = 0,
) -> Model:
    """Import an XGBoost model as a loaded :class:`kiln.Model` whose scores are bit-identical to
    ``Booster.predict`` / ``inplace_predict`` (float32 results, widened to float64).

    ``booster_or_path``: an ``xgboost.Booster``, a fitted ``XGBClassifier``/``XGBRegressor``
    (its booster), a path to a ``.json`` or ``.ubj`` model file, or such a file's bytes.
    ``iteration_range=(begin, end)`` keeps those boosting iterations, as ``predict`` does with
    the same argument; ``best_iteration=True`` keeps those up to the early-stopping best.
    ``feature_names`` replaces the model's input names. ``sample`` (training rows) makes the
    reference profile where this kiln supports it. Keep the result with ``model.save(path)``.

    Unsupported models (gblinear, multi-output trees, an objective kiln cannot reproduce) raise
    :class:`kiln.InvalidModelError` naming what is unsupported.
    """
    data, fmt = _xgboost_bytes(booster_or_path)
    options: Dict[str, Any] = {}
    if iteration_range is not None:
        begin, end = iteration_range
        options["iteration_range"] = [int(begin), int(end)]
    if best_iteration:
        options["best_iteration"] = True
    names = _feature_names(feature_names)
    if names is not None:
        options["feature_names"] = names
    return _with_sample(_import(fmt, data, options, n_threads), sample)


def from_lightgbm(
    booster_or_path: Any,
    sample: Any = None,
    num_iteration: Optional[int] = None,
    feature_names: Optional[Sequence[str]] = None,
    n_threads: int = 0,
) -> Model:
    """Import a LightGBM model as a loaded :class:`kiln.Model` whose scores are bit-identical to
    ``Booster.predict``.

    ``booster_or_path``: a ``lightgbm.Booster``, a fitted ``LGBMClassifier``/``LGBMRegressor``
    (its ``booster_``), a path to a text model file (``save_model``), or its bytes/text.
    ``num_iteration=n`` keeps the first ``n`` iterations, as ``predict(num_iteration=n)``; by
    default what ``predict`` uses: a Booster's ``best_iteration`` when early stopping set one,
    else every iteration (a model file records no best iteration). A model trained on
    a pandas DataFrame with ``category`` columns takes those columns as strings.
    ``feature_names`` and ``sample`` as in :func:`from_xgboost`.
    """
    if isinstance(booster_or_path, str) and booster_or_path.startswith("tree\n"):
        data = booster_or_path.encode()
    else:
        data = _lightgbm_text(booster_or_path)
        booster = getattr(booster_or_path, "booster_", booster_or_path)
        best = getattr(booster, "best_iteration", 0) if hasattr(booster, "model_to_string") else 0
        if num_iteration is None and isinstance(best, int) and best > 0:
            # Booster.predict's default: the early-stopping best iteration when there is one.
            num_iteration = best
    options: Dict[str, Any] = {}
    if num_iteration is not None:
        if isinstance(num_iteration, bool) or int(num_iteration) < 0:
            raise InvalidArgumentError(f"num_iteration must be a non-negative integer, not {num_iteration!r}")
        options["num_iteration"] = int(num_iteration)
    names = _feature_names(feature_names)
    if names is not None:
        options["feature_names"] = names
    return _with_sample(_import("lightgbm-text", data, options, n_threads), sample)
