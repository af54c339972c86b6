"""Bad input of every kind raises a clear KilnError subclass; nothing crashes."""

from __future__ import annotations

import ctypes
import importlib
import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import kiln
from kiln import _columns, _native
from conftest import LOCAL_ARTIFACT, local_columns, to_arrow, to_numpy, to_pandas


@pytest.fixture()
def data() -> dict:
    return {c["name"]: to_numpy(c) for c in local_columns(20, seed=11)}


def test_missing_column_names_it(model: kiln.Model, data: dict) -> None:
    del data["province"]
    with pytest.raises(kiln.MissingColumnError) as e:
        model.score(data)
    assert "province" in str(e.value) and e.value.status == 8
    with pytest.raises(kiln.MissingColumnError, match="province"):
        model.score(to_pandas(local_columns(20, seed=11)).drop(columns="province"))
    with pytest.raises(kiln.MissingColumnError, match="province"):
        model.score(to_arrow(local_columns(20, seed=11)).drop(["province"]))


def test_wrong_dtype(model: kiln.Model, data: dict) -> None:
    with pytest.raises(kiln.ColumnTypeError, match="age") as e:
        model.score({**data, "age": np.array(["old"] * 20)})
    assert e.value.status == 9 and isinstance(e.value, kiln.KilnError)
    with pytest.raises(kiln.ColumnTypeError, match="province"):
        model.score({**data, "province": np.arange(20.0)})
    with pytest.raises(kiln.ColumnTypeError, match="complex"):
        model.score({**data, "age": np.zeros(20, dtype=np.complex128)})
    with pytest.raises(kiln.ColumnTypeError, match="uint64"):
        model.score({**data, "age": np.zeros(20, dtype=np.uint64)})
    with pytest.raises(kiln.ColumnTypeError, match="province"):
        model.score({**data, "province": np.array([1, "a"] * 10, dtype=object)})
    with pytest.raises(kiln.ColumnTypeError, match="one-dimensional"):
        model.score({**data, "age": np.zeros((20, 2))})
    frame = to_pandas(local_columns(20, seed=11))
    with pytest.raises(kiln.ColumnTypeError, match="province"):
        model.score(frame.assign(province=pd.Categorical([1, 2] * 10)))


def test_bad_shapes_and_inputs(model: kiln.Model, data: dict) -> None:
    with pytest.raises(kiln.InvalidArgumentError, match="different lengths"):
        model.score({**data, "age": data["age"][:5]})
    with pytest.raises(kiln.InvalidArgumentError, match="cannot score"):
        model.score([1, 2, 3])
    frame = to_pandas(local_columns(20, seed=11))
    with pytest.raises(kiln.InvalidArgumentError, match="duplicate"):
        model.score(pd.concat([frame, frame[["age"]]], axis=1))


def test_bad_dictionary_code_is_a_bad_buffer() -> None:
    batch = _columns.RawBatch(2)
    try:
        with pytest.raises(kiln.BadBufferError):
            batch.add_dictionary("province", np.array([0, 5], dtype=np.int32), np.array(["A", "B"], dtype=object))
    finally:
        batch.free()


def test_closed_model_raises_and_close_is_idempotent(artifact_bytes: bytes, data: dict) -> None:
    m = kiln.load(artifact_bytes)
    m.score(data)
    m.close()
    m.close()
    assert m.closed
    with pytest.raises(kiln.ModelClosedError, match="closed"):
        m.score(data)
    with pytest.raises(kiln.KilnError):
        m.reason_source(0)
    # The description is read from the library on request, so a closed model has none; what
    # was read at load (schema, outputs, fingerprint) stays.
    with pytest.raises(kiln.ModelClosedError):
        m.info
    with pytest.raises(kiln.ModelClosedError):
        m.provenance
    assert m.fingerprint.startswith("sha256:") and m.outputs
    with kiln.load(artifact_bytes) as m2:
        pass
    with pytest.raises(kiln.KilnError):
        m2.score(data)


def test_fingerprint_pin(artifact_bytes: bytes, tmp_path: Any) -> None:
    real = kiln.load(artifact_bytes).fingerprint
    wrong = "sha256:" + "0" * 64
    with pytest.raises(kiln.FingerprintMismatchError) as e:
        kiln.load(artifact_bytes, expect_fingerprint=wrong)
    assert wrong in str(e.value) and e.value.status == 7
    path = tmp_path / "m.kiln"
    path.write_bytes(artifact_bytes)
    with pytest.raises(kiln.FingerprintMismatchError):
        kiln.load(path, expect_fingerprint=wrong)
    # A file whose stored fingerprint does not match its content.
    doc = json.loads(artifact_bytes)
    doc["fingerprint"] = wrong
    with pytest.raises(kiln.FingerprintMismatchError):
        kiln.load(json.dumps(doc).encode())
    assert kiln.load(artifact_bytes, expect_fingerprint=real).fingerprint == real


def test_bad_artifacts(tmp_path: Any) -> None:
    with pytest.raises(kiln.MalformedArtifactError):
        kiln.load(b"not json at all")
    with pytest.raises(kiln.MalformedArtifactError):
        kiln.load(b"")
    with pytest.raises(kiln.KilnIOError, match="nope.kiln"):
        kiln.load(tmp_path / "nope.kiln")
    newer = json.loads(json.dumps(LOCAL_ARTIFACT))
    newer["format_version"] = "9.0"
    with pytest.raises(kiln.UnsupportedVersionError):
        kiln.load(json.dumps(newer).encode())
    broken = json.loads(json.dumps(LOCAL_ARTIFACT))
    broken["content"]["model"]["features"].append("no_such_feature")
    broken["content"]["model"]["coefficients"][0].append(1.0)
    broken["content"]["model"]["coefficients"][1].append(1.0)
    with pytest.raises(kiln.KilnError) as e:
        kiln.load(json.dumps(broken).encode())
    assert "no_such_feature" in str(e.value)
    with pytest.raises(kiln.InvalidArgumentError):
        kiln.load(12345)  # type: ignore[arg-type]


def test_batch_rejected() -> None:
    doc = json.loads(json.dumps(LOCAL_ARTIFACT))
    doc["content"]["schema"]["columns"][0].update({"min": 0.0, "max": 150.0, "policy": {"out_of_range": "reject"}})
    with kiln.load(json.dumps(doc).encode()) as m:
        data = {c["name"]: to_numpy(c) for c in local_columns(20, seed=12)}
        data["age"][7] = 200.0
        with pytest.raises(kiln.BatchRejectedError, match="age"):
            m.score(data)


def test_unknown_abi_is_refused(monkeypatch: Any) -> None:
    monkeypatch.setattr(_native, "KNOWN_ABI_VERSIONS", frozenset({999}))
    with pytest.raises(kiln.AbiMismatchError, match="ABI version 1"):
        _native.check_abi(_native.lib.kiln_abi_version())
    # The import itself refuses it: reload the native module with the patched version table.
    monkeypatch.setattr(_native.lib, "kiln_abi_version", lambda: 2)
    with pytest.raises(kiln.AbiMismatchError, match="ABI version 2"):
        _native.check_abi(_native.lib.kiln_abi_version())


def test_unknown_abi_at_import(monkeypatch: Any) -> None:
    # A fake library answering ABI 2 through the real import path.
    real_cdll = ctypes.CDLL

    class FakeAbi2:
        def __init__(self, path: str) -> None:
            self._real = real_cdll(path)

        def __getattr__(self, name: str) -> Any:
            fn = getattr(self._real, name)
            if name == "kiln_abi_version":
                return _Fixed(2)
            return fn

    monkeypatch.setattr(ctypes, "CDLL", FakeAbi2)
    try:
        with pytest.raises(kiln.AbiMismatchError, match="ABI version 2"):
            importlib.reload(_native)
    finally:
        monkeypatch.undo()
        importlib.reload(_native)
    assert _native.lib.kiln_abi_version() == 1


class _Fixed:
    restype: Any = None
    argtypes: Any = None

    def __init__(self, value: int) -> None:
        self.value = value

    def __call__(self) -> int:
        return self.value


def test_every_status_has_its_class() -> None:
    from kiln._errors import error_for_status

    for code in list(range(1, 15)) + [99]:
        err = error_for_status(code, "m")
        assert err.status == code and type(err) is not kiln.KilnError
        assert _native.text(_native.lib.kiln_status_name(code)) == err.status_name
    unknown = error_for_status(4242, "")
    assert type(unknown) is kiln.KilnError and unknown.status == 4242
