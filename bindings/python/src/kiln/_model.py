"""The loaded model and scoring."""

from __future__ import annotations

import ctypes
import json
import os
import threading
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np

from . import _columns as C
from . import _native as N
from ._errors import InvalidArgumentError, ModelClosedError
from ._profile import DriftReport, Profile

PathOrBytes = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview]


class ScoreResult(dict):  # type: ignore[type-arg]
    """Scores for a dict-of-numpy input: output columns, `status` and `reason` as numpy arrays,
    plus `report`, the batch report."""

    report: Dict[str, Any]


class _Hold:
    """One call's hold on a model's native handle: a context manager written out, where a
    ``contextlib.contextmanager`` generator cost 3.5 us a call (a third of ``score_row`` on a
    linear model)."""

    __slots__ = ("_model",)

    def __init__(self, model: "Model") -> None:
        self._model = model

    def __enter__(self) -> int:
        model = self._model
        with model._lock:
            if model._handle is None or model._closing:
                raise ModelClosedError("the model is closed; load it again to score")
            model._users += 1
            return model._handle

    def __exit__(self, *exc: Any) -> None:
        model = self._model
        with model._lock:
            model._users -= 1
            free_now = model._closing and model._users == 0 and model._handle is not None
            if free_now:
                handle, model._handle = model._handle, None
        if free_now:
            N.lib.kiln_model_free(handle)


class Model:
    """A loaded kiln artifact: immutable and safe to share between threads.

    Create it with :func:`kiln.load`. Free it deterministically with :meth:`close` or a
    ``with`` block; after that every call raises :class:`kiln.ModelClosedError`.
    """

    def __init__(self, handle: int, n_threads: int = 0) -> None:
        self._handle: Optional[int] = handle
        self._lock = threading.Lock()
        self._users = 0
        self._closing = False
        self.n_threads = n_threads
        self._reason_names: Dict[Tuple[int, int], str] = {}
        try:
            self._read_metadata(handle)
        except BaseException:
            N.lib.kiln_model_free(handle)
            self._handle = None
            raise

    def _read_metadata(self, h: int) -> None:
        out = ctypes.c_char_p()
        N.check(N.lib.kiln_model_fingerprint(h, ctypes.byref(out)))
        self._fingerprint = N.text(out.value)
        count = ctypes.c_size_t()
        N.check(N.lib.kiln_model_num_outputs(h, ctypes.byref(count)))
        outputs = []
        for i in range(count.value):
            N.check(N.lib.kiln_model_output_name(h, i, ctypes.byref(out)))
            outputs.append(N.text(out.value))
        self._outputs = outputs
        N.check(N.lib.kiln_model_num_inputs(h, ctypes.byref(count)))
        schema: Dict[str, str] = {}
        ty = ctypes.c_int32()
        for i in range(count.value):
            N.check(N.lib.kiln_model_input(h, i, ctypes.byref(out), ctypes.byref(ty)))
            schema[N.text(out.value)] = N.COLUMN_TYPE_NAMES.get(ty.value, f"type_{ty.value}")
        self._schema = schema
        # ctypes array types for one row's values and scores (`score_row`), made once.
        self._row_type = ctypes.c_double * len(schema)
        self._scores_type = ctypes.c_double * len(outputs)

    # -- metadata ------------------------------------------------------------------------------

    @property
    def schema(self) -> Dict[str, str]:
        """Input columns the model needs, name → logical type ("float64", "categorical", ...)."""
        return dict(self._schema)

    @property
    def outputs(self) -> List[str]:
        """Names of the output columns, in order."""
        return list(self._outputs)

    @property
    def fingerprint(self) -> str:
        """The artifact's content fingerprint, ``"sha256:<hex>"``."""
        return self._fingerprint

    @property
    def info(self) -> Dict[str, Any]:
        """Everything the artifact says about itself (``kiln_model_info_json``): made and read
        on request, as for a small model it is larger than the rest of the loaded model."""
        out = ctypes.c_char_p()
        with self._use() as handle:
            N.check(N.lib.kiln_model_info_json(handle, ctypes.byref(out)))
            return json.loads(N.text(out.value))

    @property
    def provenance(self) -> Dict[str, Any]:
        """Where the artifact came from: library, version, params, data fingerprint, seed."""
        return dict(self.info.get("provenance") or {})

    @property
    def n_threads(self) -> int:
        """Default threads per :meth:`score` call; 0 means every core."""
        return self._n_threads

    @n_threads.setter
    def n_threads(self, value: int) -> None:
        self._n_threads = _thread_count(value)

    @property
    def closed(self) -> bool:
        return self._handle is None or self._closing

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self._schema)} inputs, outputs {self._outputs}"
        return f"<kiln.Model {self._fingerprint[:19]}… {state}>"

    # -- lifetime ------------------------------------------------------------------------------

    def _use(self) -> "_Hold":
        """Hold the native handle for one call (``with self._use() as handle``); close() waits
        for no one but frees only once the last call in flight has returned."""
        return _Hold(self)

    def close(self) -> None:
        """Free the native model. Calls in flight on other threads finish first. Idempotent."""
        with self._lock:
            if self._handle is None or self._closing:
                return
            self._closing = True
            if self._users:
                return
            handle, self._handle = self._handle, None
        N.lib.kiln_model_free(handle)

    def __enter__(self) -> "Model":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            self._handle = None
            try:
                N.lib.kiln_model_free(handle)
            except Exception:  # interpreter shutdown: the library may be gone already
                pass

    # -- scoring -------------------------------------------------------------------------------

    def score(self, data: Any, n_threads: Optional[int] = None, profile: bool = False) -> Any:
        """Score a batch; the result comes back in the caller's world.

        ``data`` may be a dict of numpy arrays (→ :class:`ScoreResult`, a dict of numpy arrays),
        a pandas DataFrame (→ DataFrame with the same index; report in ``.attrs["kiln_report"]``),
        a pyarrow Table / RecordBatch / RecordBatchReader or anything else with the Arrow
        PyCapsule interface (→ pyarrow Table; report JSON in schema metadata ``kiln.report``),
        or a polars DataFrame (→ polars DataFrame). Every result has the output columns plus
        ``status`` (0 = scored, else a row status code) and ``reason`` ("" for scored rows,
        else e.g. ``"unknown_category: province"``). Use :meth:`score_with_report` to get the
        report as a separate value for any input type.

        Numeric columns are not copied (see the README for the few documented copies). Columns
        are matched by name; extra columns are ignored. ``n_threads`` overrides the model's
        default for this call (0 = every core).

        ``profile=True`` also runs the batch-level checks and adds to the report ``findings``
        (null-rate rules broken against the reference profile), ``profile`` (the batch's
        profile, as JSON; :meth:`kiln.Profile.from_json` of ``json.dumps`` of it) and, when the
        model has a reference profile, ``drift`` (the drift report's JSON).
        """
        return self.score_with_report(data, n_threads, profile=profile)[0]

    def score_with_report(self, data: Any, n_threads: Optional[int] = None, profile: bool = False) -> Tuple[Any, Dict[str, Any]]:
        """Like :meth:`score`, returning ``(result, report)``."""
        threads = self._n_threads if n_threads is None else _thread_count(n_threads)
        flags = None
        if profile:
            flags = N.SCORE_PROFILE | (N.SCORE_DRIFT if self.has_reference_profile else 0)
        kind = _kind_of(data)
        with self._use() as handle:
            batch = self._batch(kind, data)
            try:
                scores, status, reason, report = self._run(handle, batch.handle, threads, flags)
            finally:
                batch.free()
            reasons = self._reason_strings(handle, status, reason)
        result = _assemble(kind, data, self._outputs, scores, status, reasons, report)
        return result, report

    def score_row(self, values: Any) -> Dict[str, Any]:
        """Score one row given as numbers in schema order (:attr:`schema`), on the calling
        thread, without building a batch: the low-latency path for a service answering one
        request at a time. ``values`` is a sequence or a 1-D array of floats (NaN or None for
        null; integers and booleans as numbers, dates as days since 1970-01-01). The row meets
        the same rules and gets the same scores, bit for bit, as in a batch.

        Returns a dict: each output's score (NaN when the row is not scored), ``status`` (0 =
        scored) and ``reason`` ("" or e.g. ``"out_of_range: age"``). Models with string inputs
        need :meth:`score`; a wrong number of values is :class:`kiln.InvalidArgumentError`.
        """
        row = values if type(values) is np.ndarray and values.dtype == np.float64 and values.ndim == 1 and values.flags.c_contiguous and values.flags.aligned else None
        if row is None:
            # Contiguous and aligned: the library reads the row's values one after another as
            # doubles (a strided or reversed view would hand it other numbers, or memory past
            # the array; an unaligned one, a view at an odd offset into bytes, it refuses).
            row = np.asarray([np.nan if v is None else v for v in values] if isinstance(values, (list, tuple)) else values, dtype=np.float64)
            row = np.require(row, requirements=["C", "A"])
            if row.ndim != 1:
                raise InvalidArgumentError(f"score_row takes one row: a 1-D sequence of numbers, not shape {row.shape}")
        # The row's address: a ctypes view of a writable row of the schema's length is made
        # in 0.7 us, `ndarray.ctypes.data` in 1.4-2.5; any other row (read-only, or of another
        # length) is passed by its address, for the library to score it or name what is wrong.
        values_at = self._row_type.from_buffer(row) if row.size == len(self._schema) and row.flags.writeable else row.ctypes.data
        k = len(self._outputs)
        out = self._scores_type()
        status, reason = ctypes.c_int32(), ctypes.c_int32()
        with self._use() as handle:
            N.check(N.lib.kiln_model_score_row(handle, values_at, row.size, out, k, ctypes.byref(status), ctypes.byref(reason)))
            why = "" if status.value == 0 else self._reason_name(handle, status.value, reason.value)
        result: Dict[str, Any] = dict(zip(self._outputs, out))
        result["status"] = status.value
        result["reason"] = why
        return result

    # -- profiles and drift --------------------------------------------------------------------

    def profile(self, data: Any, n_threads: Optional[int] = None) -> Profile:
        """The profile of a batch (any input :meth:`score` accepts): its input columns and,
        by scoring it, the model's outputs."""
        return Profile(json.dumps(self._report_of(data, n_threads, N.SCORE_PROFILE)["profile"]))

    def drift(self, data: Any, n_threads: Optional[int] = None) -> DriftReport:
        """The drift of a batch against the model's reference profile (see
        :meth:`with_reference_profile`); :class:`kiln.InvalidArgumentError` without one."""
        return DriftReport(self._report_of(data, n_threads, N.SCORE_DRIFT)["drift"])

    def verify(self, data: Any, n_threads: Optional[int] = None) -> Dict[str, Any]:
        """Score a batch for its report only: rows scored and refused per reason, defaults
        applied, and ``findings`` (broken null-rate rules against the reference profile)."""
        return self._report_of(data, n_threads, 0)

    def _report_of(self, data: Any, n_threads: Optional[int], flags: int) -> Dict[str, Any]:
        threads = self._n_threads if n_threads is None else _thread_count(n_threads)
        kind = _kind_of(data)
        with self._use() as handle:
            batch = self._batch(kind, data)
            try:
                return self._run(handle, batch.handle, threads, flags)[3]
            finally:
                batch.free()

    def with_reference_profile(self, sample: Any) -> "Model":
        """A new model: this one with the profile of ``sample`` (training data; any input
        :meth:`score` accepts) recorded as its reference, so that scoring can check null rates
        and measure drift against it. The new model has a new fingerprint; this one is
        unchanged. :meth:`save` keeps it."""
        kind = _kind_of(sample)
        out = ctypes.c_void_p()
        with self._use() as handle:
            batch = self._batch(kind, sample)
            try:
                N.check(N.lib.kiln_model_with_reference_profile(handle, batch.handle, self._n_threads, ctypes.byref(out)))
            finally:
                batch.free()
        return Model(out.value, self._n_threads)

    @property
    def has_reference_profile(self) -> bool:
        """Whether the artifact records a reference profile of its training data."""
        out = ctypes.c_char_p()
        with self._use() as handle:
            N.check(N.lib.kiln_model_reference_profile(handle, ctypes.byref(out)))
        return out.value is not None

    @property
    def reference_profile(self) -> Optional[Profile]:
        """The reference profile recorded in the artifact, or None."""
        out = ctypes.c_char_p()
        with self._use() as handle:
            N.check(N.lib.kiln_model_reference_profile(handle, ctypes.byref(out)))
            text = None if out.value is None else N.text(out.value)
        return None if text is None else Profile(text)

    def save(self, path: "os.PathLike[str] | str") -> None:
        """Write the model's artifact to ``path``; :func:`kiln.load` reads it back with the same
        fingerprint."""
        with self._use() as handle:
            N.check(N.lib.kiln_model_save(handle, os.fsencode(path)))

    def to_bytes(self) -> bytes:
        """The model's artifact file, as bytes (what :meth:`save` writes)."""
        size = ctypes.c_size_t()
        with self._use() as handle:
            N.check(N.lib.kiln_model_to_bytes(handle, None, 0, ctypes.byref(size)))
            buf = ctypes.create_string_buffer(size.value)
            N.check(N.lib.kiln_model_to_bytes(handle, buf, size.value, ctypes.byref(size)))
        return buf.raw[: size.value]

    def reason_source(self, reason_id: int) -> str:
        """The schema column or pipeline step a per-row reason id names."""
        out = ctypes.c_char_p()
        with self._use() as handle:
            N.check(N.lib.kiln_model_reason_source(handle, reason_id, ctypes.byref(out)))
            return N.text(out.value)

    def _batch(self, kind: str, data: Any) -> Any:
        if kind == "mapping":
            return C.batch_from_mapping(data, self._schema)
        if kind == "pandas":
            return C.batch_from_pandas(data, self._schema)
        if hasattr(data, "__arrow_c_stream__"):
            return C.batch_from_arrow_stream(data)
        return C.batch_from_arrow_array(data)

    def _run(
        self, handle: int, batch: Optional[int], threads: int, flags: Optional[int] = None
    ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, Dict[str, Any]]:
        rows = ctypes.c_size_t()
        N.check(N.lib.kiln_batch_num_rows(batch, ctypes.byref(rows)))
        n = rows.value
        k = len(self._outputs)
        # Column-major scores: output j of row i at [j, i], so each output is a contiguous row.
        scores = np.empty((k, n), dtype=np.float64)
        status = np.empty(n, dtype=np.int32)
        reason = np.empty(n, dtype=np.int32)
        report = ctypes.c_void_p()
        buffers = (scores.ctypes.data, scores.size, status.ctypes.data, n, reason.ctypes.data, n, ctypes.byref(report))
        if flags is None:
            N.check(N.lib.kiln_model_score(handle, batch, threads, *buffers))
        else:
            N.check(N.lib.kiln_model_score_ex(handle, batch, threads, flags, *buffers))
        try:
            out = ctypes.c_char_p()
            N.check(N.lib.kiln_report_json(report, ctypes.byref(out)))
            report_dict = json.loads(N.text(out.value))
        finally:
            N.lib.kiln_report_free(report)
        return scores, status, reason, report_dict

    def _reason_strings(self, handle: int, status: np.ndarray, reason: np.ndarray) -> np.ndarray:
        """Per row: "" when scored, else "<row status name>: <source>"."""
        n = len(status)
        flagged = np.flatnonzero(status)
        # An object array filled in place: np.full(n, "", dtype=object), or a gather of every
        # row, takes 3-4x as long (10 ms against 2.7 ms for 1M rows), as much as scoring a
        # linear model's batch.
        out = np.empty(n, dtype=object)
        out.fill("")
        if flagged.size == 0:
            return out
        if n <= C._SMALL:
            for i in flagged.tolist():
                out[i] = self._reason_name(handle, int(status[i]), int(reason[i]))
            return out
        keys = status[flagged].astype(np.int64) << 32 | (reason[flagged].astype(np.int64) & 0xFFFFFFFF)
        unique, inverse = np.unique(keys, return_inverse=True)
        names = []
        for key in unique.tolist():
            code, rid = key >> 32, (key & 0xFFFFFFFF)
            rid = rid - (1 << 32) if rid >= 1 << 31 else rid
            names.append(self._reason_name(handle, int(code), int(rid)))
        out[flagged] = np.array(names, dtype=object)[inverse.reshape(-1)]
        return out

    def _reason_name(self, handle: int, code: int, rid: int) -> str:
        cached = self._reason_names.get((code, rid))
        if cached is not None:
            return cached
        status_name = N.text(N.lib.kiln_row_status_name(code))
        source = "model"
        if rid >= 0:
            out = ctypes.c_char_p()
            if N.lib.kiln_model_reason_source(handle, rid, ctypes.byref(out)) == N.KILN_STATUS_OK:
                source = N.text(out.value)
        name = f"{status_name}: {source}"
        self._reason_names[(code, rid)] = name
        return name


def _thread_count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= int(value) <= 0xFFFFFFFF:
        raise InvalidArgumentError(f"n_threads must be a non-negative integer (0 = every core), not {value!r}")
    return int(value)


def _kind_of(data: Any) -> str:
    module = type(data).__module__.split(".")[0]
    if module == "pandas" and hasattr(data, "columns") and hasattr(data, "index"):
        return "pandas"
    if module == "polars" and hasattr(data, "__arrow_c_stream__"):
        return "polars"
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        return "arrow"
    if isinstance(data, Mapping):
        return "mapping"
    raise InvalidArgumentError(
        f"cannot score a {type(data).__module__}.{type(data).__name__}: pass a dict of numpy "
        "arrays, a pandas or polars DataFrame, or an Arrow table/record batch/stream"
    )


def _assemble(
    kind: str,
    data: Any,
    outputs: List[str],
    scores: np.ndarray,
    status: np.ndarray,
    reasons: np.ndarray,
    report: Dict[str, Any],
) -> Any:
    columns: Dict[str, Any] = {name: scores[j] for j, name in enumerate(outputs)}
    if kind == "pandas":
        import pandas as pd

        columns["status"] = status
        columns["reason"] = reasons
        frame = pd.DataFrame(columns, index=data.index, copy=False)
        frame.attrs["kiln_report"] = report
        return frame
    if kind in ("arrow", "polars"):
        import pyarrow as pa

        columns["status"] = status
        columns["reason"] = pa.array(reasons, type=pa.string())
        table = pa.table(columns).replace_schema_metadata({"kiln.report": json.dumps(report)})
        if kind == "polars":
            import polars as pl

            return pl.from_arrow(table)
        return table
    result = ScoreResult(columns)
    result["status"] = status
    result["reason"] = reasons
    result.report = report
    return result


def load(source: PathOrBytes, expect_fingerprint: Optional[str] = None, n_threads: int = 0) -> Model:
    """Load a kiln artifact from a file path or from its bytes.

    ``expect_fingerprint`` pins the content (``"sha256:<hex>"``): a different artifact raises
    :class:`kiln.FingerprintMismatchError`. ``n_threads`` is the default for :meth:`Model.score`
    (0 = every core).
    """
    threads = _thread_count(n_threads)
    pin = expect_fingerprint.encode() if expect_fingerprint is not None else None
    handle = ctypes.c_void_p()
    if isinstance(source, (bytes, bytearray, memoryview)):
        buf = np.frombuffer(source, dtype=np.uint8)
        address = buf.ctypes.data if buf.size else C._EMPTY_BYTES.ctypes.data
        N.check(N.lib.kiln_model_load_bytes(address, buf.size, pin, ctypes.byref(handle)))
    elif isinstance(source, (str, os.PathLike)):
        N.check(N.lib.kiln_model_load(os.fsencode(source), pin, ctypes.byref(handle)))
    else:
        raise InvalidArgumentError(f"load() takes a path or bytes, not {type(source).__name__}")
    return Model(handle.value, threads)
