"""Errors: one KilnError subclass per native status code (numbers fixed by the C ABI)."""

from __future__ import annotations

from typing import Dict, Type


class KilnError(Exception):
    """Any kiln failure. `status` is the native status code (0 for errors raised in Python
    before the library was asked), `message` the native message."""

    status: int = 0
    status_name: str = "error"

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return f"{self.status_name}: {self.message}"


class NullArgumentError(KilnError):
    status, status_name = 1, "null_argument"


class InvalidArgumentError(KilnError, ValueError):
    status, status_name = 2, "invalid_argument"


class KilnIOError(KilnError, OSError):
    status, status_name = 3, "io"


class MalformedArtifactError(KilnError):
    status, status_name = 4, "malformed_artifact"


class UnsupportedVersionError(KilnError):
    status, status_name = 5, "unsupported_version"


class InvalidModelError(KilnError):
    status, status_name = 6, "invalid_model"


class FingerprintMismatchError(KilnError):
    status, status_name = 7, "fingerprint_mismatch"


class MissingColumnError(KilnError, KeyError):
    status, status_name = 8, "missing_column"


class ColumnTypeError(KilnError, TypeError):
    status, status_name = 9, "column_type"


class BadBufferError(KilnError, ValueError):
    status, status_name = 10, "bad_buffer"


class BufferTooSmallError(KilnError):
    status, status_name = 11, "buffer_too_small"


class BatchRejectedError(KilnError):
    status, status_name = 12, "batch_rejected"


class PanicError(KilnError):
    status, status_name = 13, "panic"


class AbiMismatchError(KilnError):
    status, status_name = 14, "abi_mismatch"


class InternalError(KilnError):
    status, status_name = 99, "internal"


class ModelClosedError(KilnError):
    """The model was closed; it can no longer score or answer questions."""

    status_name = "model_closed"


_BY_STATUS: Dict[int, Type[KilnError]] = {
    cls.status: cls
    for cls in (
        NullArgumentError,
        InvalidArgumentError,
        KilnIOError,
        MalformedArtifactError,
        UnsupportedVersionError,
        InvalidModelError,
        FingerprintMismatchError,
        MissingColumnError,
        ColumnTypeError,
        BadBufferError,
        BufferTooSmallError,
        BatchRejectedError,
        PanicError,
        AbiMismatchError,
        InternalError,
    )
}


def error_for_status(status: int, message: str) -> KilnError:
    """The exception for a native status code (a plain KilnError for an unknown code)."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        err = KilnError(message or f"unknown kiln status {status}", status)
        err.status_name = f"status_{status}"
        return err
    return cls(message)
