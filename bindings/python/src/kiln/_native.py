"""The native library: found, loaded once, every function declared with argtypes and restype.

This module is the only place that knows the C signatures of `include/kiln.h`. Functions are
bound through `ctypes.CDLL`, which releases the GIL for the duration of every call, so scoring
in several Python threads runs in parallel.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import POINTER, c_char_p, c_int32, c_size_t, c_uint32, c_void_p
from pathlib import Path
from typing import Optional

from ._errors import AbiMismatchError, KilnError, error_for_status

#: ABI versions of `include/kiln.h` this package was written against.
KNOWN_ABI_VERSIONS = frozenset({1})

#: Development override: a library file to load instead of the packaged one.
LIBRARY_ENV = "KILN_DEV_LIBRARY"

KILN_STATUS_OK = 0

# Physical column types of the raw door (`KilnPhysicalType`).
PHYS_F64 = 1
PHYS_F32 = 2
PHYS_I64 = 3
PHYS_I32 = 4
PHYS_I16 = 5
PHYS_I8 = 6
PHYS_U8 = 7
PHYS_BOOL8 = 8
PHYS_DATE32 = 9
PHYS_TIMESTAMP_US = 10

# Logical schema column types (`KilnColumnType`).
COLUMN_TYPE_NAMES = {
    1: "float64",
    2: "float32",
    3: "int64",
    4: "int32",
    5: "bool",
    6: "categorical",
    7: "date",
    8: "timestamp",
}

_status = c_int32
_handle = c_void_p
_ptr = c_void_p  # raw host memory: numpy arrays hand over their address as an int

# name: (restype, argtypes). Mirrors include/kiln.h (ABI version 1).
PROTOTYPES = {
    "kiln_abi_version": (c_uint32, []),
    "kiln_version": (c_char_p, []),
    "kiln_last_error": (c_char_p, []),
    "kiln_status_name": (c_char_p, [c_int32]),
    "kiln_row_status_name": (c_char_p, [c_int32]),
    "kiln_row_status_description": (c_char_p, [c_int32]),
    "kiln_model_load": (_status, [c_char_p, c_char_p, POINTER(_handle)]),
    "kiln_model_load_bytes": (_status, [_ptr, c_size_t, c_char_p, POINTER(_handle)]),
    "kiln_model_import_with": (_status, [c_char_p, _ptr, c_size_t, c_char_p, POINTER(_handle)]),
    "kiln_model_free": (None, [_handle]),
    "kiln_model_fingerprint": (_status, [_handle, POINTER(c_char_p)]),
    "kiln_model_num_outputs": (_status, [_handle, POINTER(c_size_t)]),
    "kiln_model_output_name": (_status, [_handle, c_size_t, POINTER(c_char_p)]),
    "kiln_model_num_inputs": (_status, [_handle, POINTER(c_size_t)]),
    "kiln_model_input": (_status, [_handle, c_size_t, POINTER(c_char_p), POINTER(c_int32)]),
    "kiln_model_info_json": (_status, [_handle, POINTER(c_char_p)]),
    "kiln_model_reason_source": (_status, [_handle, c_int32, POINTER(c_char_p)]),
    "kiln_model_save": (_status, [_handle, c_char_p]),
    "kiln_model_to_bytes": (_status, [_handle, _ptr, c_size_t, POINTER(c_size_t)]),
    "kiln_batch_new": (_status, [c_size_t, POINTER(_handle)]),
    "kiln_batch_free": (None, [_handle]),
    "kiln_batch_num_rows": (_status, [_handle, POINTER(c_size_t)]),
    "kiln_batch_add_column": (_status, [_handle, c_char_p, c_int32, _ptr, c_size_t, _ptr, _ptr]),
    "kiln_batch_add_utf8": (_status, [_handle, c_char_p, _ptr, _ptr, c_size_t, c_size_t, _ptr, _ptr]),
    "kiln_batch_add_dictionary": (
        _status,
        [_handle, c_char_p, _ptr, c_size_t, _ptr, _ptr, c_size_t, c_size_t, c_int32],
    ),
    "kiln_batch_from_arrow": (_status, [_ptr, _ptr, POINTER(_handle)]),
    "kiln_batch_from_arrow_stream": (_status, [_ptr, POINTER(_handle)]),
    "kiln_model_score": (
        _status,
        [_handle, _handle, c_uint32, _ptr, c_size_t, _ptr, c_size_t, _ptr, c_size_t, POINTER(_handle)],
    ),
    "kiln_model_score_row": (_status, [_handle, _ptr, c_size_t, _ptr, c_size_t, _ptr, _ptr]),
    "kiln_report_json": (_status, [_handle, POINTER(c_char_p)]),
    "kiln_report_free": (None, [_handle]),
    "kiln_model_score_ex": (
        _status,
        [_handle, _handle, c_uint32, c_uint32, _ptr, c_size_t, _ptr, c_size_t, _ptr, c_size_t, POINTER(_handle)],
    ),
    "kiln_model_with_reference_profile": (_status, [_handle, _handle, c_uint32, POINTER(_handle)]),
    "kiln_model_reference_profile": (_status, [_handle, POINTER(c_char_p)]),
    # Strings the caller owns come back as void* so that they can be freed with kiln_string_free.
    "kiln_profile_merge": (_status, [c_char_p, c_char_p, POINTER(c_void_p)]),
    "kiln_profile_drift": (_status, [c_char_p, c_char_p, POINTER(c_void_p)]),
    "kiln_profile_summary": (_status, [c_char_p, POINTER(c_void_p)]),
    "kiln_string_free": (None, [c_void_p]),
}

# `kiln_model_score_ex` flags (`KILN_SCORE_*`).
SCORE_PROFILE = 1
SCORE_DRIFT = 2
SCORE_REJECT_NULL_RATE = 4

def _packaged_library() -> Path:
    here = Path(__file__).resolve().parent
    name = {"darwin": "libkiln.dylib", "win32": "kiln.dll"}.get(sys.platform, "libkiln.so")
    return here / name


def _find_library() -> Path:
    override = os.environ.get(LIBRARY_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise KilnError(f"{LIBRARY_ENV}={override} does not name a library file")
        return path
    path = _packaged_library()
    if not path.is_file():
        raise KilnError(
            f"the kiln native library is missing from the package ({path}); reinstall with "
            f"`pip install ./bindings/python`, or point {LIBRARY_ENV} at a built libkiln"
        )
    return path


def _declare(dll: ctypes.CDLL) -> None:
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(dll, name)
        except AttributeError:
            raise KilnError(f"the kiln library lacks `{name}`: it is not a kiln library of ABI 1") from None
        fn.restype = restype
        fn.argtypes = argtypes


def check_abi(version: int) -> None:
    """Refuse a library whose ABI version this package does not know."""
    if version not in KNOWN_ABI_VERSIONS:
        known = ", ".join(str(v) for v in sorted(KNOWN_ABI_VERSIONS))
        raise AbiMismatchError(
            f"the kiln library at {library_path} has ABI version {version}; this Python package "
            f"knows ABI version {known}: install matching versions of the package and library"
        )


library_path: Path = _find_library()
lib = ctypes.CDLL(str(library_path))
_declare(lib)
check_abi(lib.kiln_abi_version())


def last_error() -> str:
    """The calling thread's last kiln error message, copied out at once."""
    raw = lib.kiln_last_error()
    return raw.decode("utf-8", "replace") if raw else ""


def check(status: int) -> None:
    """Raise the KilnError subclass for a non-zero status, with the native message."""
    if status != KILN_STATUS_OK:
        message = last_error()
        raise error_for_status(status, message)


def text(raw: Optional[bytes]) -> str:
    return raw.decode("utf-8") if raw else ""


def owned_text(call, *args) -> str:  # type: ignore[no-untyped-def]
    """Call a function that returns a caller-owned string through its last argument; copy the
    string out and free it (also when decoding fails)."""
    out = c_void_p()
    check(call(*args, ctypes.byref(out)))
    try:
        return ctypes.string_at(out.value).decode("utf-8")
    finally:
        lib.kiln_string_free(out)
