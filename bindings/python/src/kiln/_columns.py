"""Host data → native batch.

Two doors, as in the C ABI:
- the raw door (`kiln_batch_new` + `kiln_batch_add_*`) for dicts of numpy arrays and pandas
  DataFrames: numeric columns are handed over by address, never copied;
- the Arrow door (`kiln_batch_from_arrow[_stream]`) for anything speaking the Arrow PyCapsule
  interface (pyarrow, polars, ...): the arrays move into kiln, zero-copy.

Copies made on the way, all documented in the README: non-contiguous, misaligned or
non-native-endian numpy arrays are made contiguous; `datetime64[D]` becomes int32 days and
units other than `us` become `us`; uint16/uint32 widen to int32/int64; pandas category codes
narrower than int32 widen to int32; strings are laid out as Arrow utf8 (offsets + bytes), and
large/view strings are cast to utf8.

Only the columns the model's schema names are handed over; others are ignored.
"""

from __future__ import annotations

import ctypes
from typing import Any, Callable, List, Mapping, NamedTuple, Optional

import numpy as np

from . import _native as N
from ._errors import ColumnTypeError, InvalidArgumentError

#: Test hook: called as `_trace(name, physical_type, data_address, mask_address)` for every
#: raw-door numeric column, so tests can prove which memory the library was handed.
_trace: Optional[Callable[[str, int, int, int], None]] = None

_PHYSICAL = {
    np.dtype(np.float64): N.PHYS_F64,
    np.dtype(np.float32): N.PHYS_F32,
    np.dtype(np.int64): N.PHYS_I64,
    np.dtype(np.int32): N.PHYS_I32,
    np.dtype(np.int16): N.PHYS_I16,
    np.dtype(np.int8): N.PHYS_I8,
    np.dtype(np.uint8): N.PHYS_U8,
}
# Exact widenings for integer types the raw door has no code for.
_WIDEN = {np.dtype(np.uint16): np.dtype(np.int32), np.dtype(np.uint32): np.dtype(np.int64)}

_EMPTY_BYTES = np.zeros(1, dtype=np.uint8)  # a valid address for an empty string buffer
_SMALL = 64  # rows below which per-call overhead, not per-row work, decides the fastest path


def _optional_import(name: str) -> Any:
    try:
        return __import__(name)
    except ImportError:
        return None


class _Utf8(NamedTuple):
    """Arrow utf8 buffers by address: `n + 1` int32 offsets into `data_len` bytes."""

    offsets: int
    n: int
    data: int
    data_len: int
    validity: Optional[int]
    null_mask: Optional[np.ndarray]


class RawBatch:
    """A native batch filled column by column; it borrows the memory it is handed, so every
    array stays referenced here until the batch is freed."""

    def __init__(self, n_rows: int) -> None:
        handle = ctypes.c_void_p()
        N.check(N.lib.kiln_batch_new(n_rows, ctypes.byref(handle)))
        self.handle: Optional[int] = handle.value
        self.n_rows = n_rows
        self._keep: List[Any] = []

    def free(self) -> None:
        if self.handle is not None:
            N.lib.kiln_batch_free(self.handle)
            self.handle = None
        self._keep.clear()

    # -- numeric -------------------------------------------------------------------------------

    def add_numpy(self, name: str, values: np.ndarray, mask: Optional[np.ndarray] = None) -> None:
        """Add a one-dimensional numpy column (numeric, bool, datetime64, str, bytes or object)."""
        if values.ndim != 1:
            raise ColumnTypeError(f"column '{name}' has {values.ndim} dimensions; a column must be one-dimensional")
        kind = values.dtype.kind
        if kind in "OUS":
            self.add_strings(name, values, mask)
            return
        if kind == "M":
            self._add_datetime(name, values, mask)
            return
        if kind == "b":
            self._add_fixed(name, N.PHYS_BOOL8, values.view(np.uint8) if values.dtype.isnative else values, mask)
            return
        if kind in "fiu":
            dtype = values.dtype.newbyteorder("=") if not values.dtype.isnative else values.dtype
            if dtype in _WIDEN:
                values = values.astype(_WIDEN[dtype])
                dtype = values.dtype
            physical = _PHYSICAL.get(dtype)
            if physical is None:
                raise ColumnTypeError(
                    f"column '{name}' has numpy dtype {values.dtype}, which kiln does not take "
                    "(float64/32, int64/32/16/8, uint8/16/32, bool, datetime64, str): cast it first"
                )
            self._add_fixed(name, physical, values.astype(dtype, copy=False), mask)
            return
        raise ColumnTypeError(f"column '{name}' has numpy dtype {values.dtype}, which kiln does not take")

    def _add_fixed(self, name: str, physical: int, values: np.ndarray, mask: Optional[np.ndarray]) -> None:
        # The one place numeric memory is handed over: contiguous and aligned arrays go by
        # address; anything else is copied into a contiguous array first.
        if not (values.flags.c_contiguous and values.flags.aligned and values.dtype.isnative):
            values = np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("="))
        mask_address = self._mask_address(name, mask, len(values))
        self._keep.append(values)
        if _trace is not None:
            _trace(name, physical, values.ctypes.data, mask_address or 0)
        N.check(
            N.lib.kiln_batch_add_column(
                self.handle, name.encode(), physical, values.ctypes.data, len(values), None, mask_address
            )
        )

    def _mask_address(self, name: str, mask: Optional[np.ndarray], n: int) -> Optional[int]:
        if mask is None:
            return None
        mask = np.asarray(mask)
        if mask.dtype != np.bool_ or mask.ndim != 1:
            raise InvalidArgumentError(f"the null mask of column '{name}' must be a 1-d bool array, not {mask.dtype}")
        if len(mask) != n:
            raise InvalidArgumentError(f"the null mask of column '{name}' has {len(mask)} rows, the column {n}")
        if not mask.any():
            return None
        mask = np.ascontiguousarray(mask).view(np.uint8)
        self._keep.append(mask)
        return mask.ctypes.data

    def _add_datetime(self, name: str, values: np.ndarray, mask: Optional[np.ndarray]) -> None:
        unit, _ = np.datetime_data(values.dtype)
        nat = np.isnat(values)
        if nat.any():
            mask = nat if mask is None else (nat | np.asarray(mask, dtype=bool))
        if unit == "D":
            days = values.view(np.int64)
            live = days[~nat]
            if live.size and (live.min() < np.iinfo(np.int32).min or live.max() > np.iinfo(np.int32).max):
                raise InvalidArgumentError(f"column '{name}' has dates outside the int32 day range")
            self._add_fixed(name, N.PHYS_DATE32, np.where(nat, 0, days).astype(np.int32), mask)
            return
        if unit != "us":
            values = values.astype("datetime64[us]")
        self._add_fixed(name, N.PHYS_TIMESTAMP_US, values.view(np.int64), mask)

    # -- strings -------------------------------------------------------------------------------

    def add_strings(self, name: str, values: Any, mask: Optional[np.ndarray] = None) -> None:
        """Strings from a numpy str/bytes/object array (None/NaN/pd.NA are nulls) or a pyarrow
        string-like array, laid out as Arrow utf8."""
        u = self._utf8_buffers(name, values)
        null_mask = u.null_mask
        if mask is not None and np.asarray(mask, dtype=bool).any():
            if null_mask is not None or u.validity is not None:
                raise InvalidArgumentError(f"column '{name}' has both a null mask and nulls in its values")
            null_mask = mask
        mask_address = self._mask_address(name, null_mask, u.n)
        N.check(
            N.lib.kiln_batch_add_utf8(
                self.handle, name.encode(), u.offsets, u.data, u.data_len, u.n, u.validity, mask_address
            )
        )

    def _utf8_buffers(self, name: str, values: Any) -> "_Utf8":
        pa = _optional_import("pyarrow")
        if pa is not None and isinstance(values, (pa.Array, pa.ChunkedArray)):
            return self._arrow_utf8(name, values)
        values = np.asarray(values)
        if values.dtype.kind == "S":
            values = values.astype(object)
        # pyarrow's conversion pays a fixed ~10 us; a plain loop is cheaper for a few rows.
        if pa is not None and len(values) > _SMALL:
            try:
                arr = pa.array(values, type=pa.string(), from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
                raise ColumnTypeError(f"column '{name}' holds values that are not strings: {e}") from None
            return self._arrow_utf8(name, arr)
        return self._python_utf8(name, values)

    def _arrow_utf8(self, name: str, arr: Any) -> "_Utf8":
        import pyarrow as pa

        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        if not pa.types.is_string(arr.type):
            if not (pa.types.is_large_string(arr.type) or pa.types.is_string_view(arr.type)):
                raise ColumnTypeError(f"column '{name}' is Arrow {arr.type}, not strings")
            arr = arr.cast(pa.string())
        self._keep.append(arr)
        validity_buf, offsets_buf, data_buf = arr.buffers()
        n = len(arr)
        offsets_address = offsets_buf.address + 4 * arr.offset
        if data_buf is None or data_buf.size == 0:
            data, data_len = _EMPTY_BYTES.ctypes.data, 0
        else:
            data, data_len = data_buf.address, data_buf.size
        validity, null_mask = None, None
        if arr.null_count > 0:
            if arr.offset % 8 == 0:
                validity = validity_buf.address + arr.offset // 8
            else:
                null_mask = arr.is_null().to_numpy(zero_copy_only=False)
        return _Utf8(offsets_address, n, data, data_len, validity, null_mask)

    def _python_utf8(self, name: str, values: np.ndarray) -> "_Utf8":
        n = len(values)
        null_mask = np.zeros(n, dtype=bool)
        encoded = []
        for i, v in enumerate(values.tolist()):
            if isinstance(v, str):
                encoded.append(v.encode("utf-8"))
            elif v is None or (isinstance(v, float) and v != v) or type(v).__name__ in ("NAType", "NaTType"):
                null_mask[i] = True
                encoded.append(b"")
            elif isinstance(v, bytes):
                encoded.append(v)
            else:
                raise ColumnTypeError(f"column '{name}' row {i} holds a {type(v).__name__}, not a string")
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        if offsets[-1] > np.iinfo(np.int32).max:
            raise InvalidArgumentError(f"column '{name}' holds more than 2 GiB of text; split the batch")
        offsets = offsets.astype(np.int32)
        data = np.frombuffer(b"".join(encoded), dtype=np.uint8) if offsets[-1] else _EMPTY_BYTES
        self._keep.extend([offsets, data])
        return _Utf8(offsets.ctypes.data, n, data.ctypes.data, int(offsets[-1]), None, null_mask if null_mask.any() else None)

    def add_dictionary(self, name: str, codes: np.ndarray, categories: Any) -> None:
        """Categorical codes (code base 0, negative = null) into a dictionary of strings."""
        codes = np.ascontiguousarray(codes, dtype=np.int32)  # no copy when already int32
        u = self._utf8_buffers(name, categories)
        if u.validity is not None or u.null_mask is not None:
            raise ColumnTypeError(f"column '{name}' has a null among its categories")
        self._keep.append(codes)
        if _trace is not None:
            _trace(name, -1, codes.ctypes.data, 0)
        N.check(
            N.lib.kiln_batch_add_dictionary(
                self.handle, name.encode(), codes.ctypes.data, len(codes), u.offsets, u.data, u.data_len, u.n, 0
            )
        )


# -- whole inputs ------------------------------------------------------------------------------


def _length(name: str, v: Any) -> int:
    try:
        return len(v)
    except TypeError:
        raise InvalidArgumentError(f"column '{name}' is a {type(v).__name__}, not an array") from None


def batch_from_mapping(data: Mapping[str, Any], schema: Mapping[str, str]) -> RawBatch:
    """A dict of numpy arrays (masked arrays: the mask marks nulls), pyarrow arrays, or other
    array-likes (converted with np.asarray: a copy)."""
    present = [(n, data[n]) for n in schema if n in data]
    lengths = {_length(n, v) for n, v in present}
    if len(lengths) > 1:
        detail = ", ".join(f"'{n}': {_length(n, v)}" for n, v in present)
        raise InvalidArgumentError(f"columns have different lengths ({detail})")
    if present:
        n_rows = lengths.pop()
    else:
        n_rows = _length("?", next(iter(data.values()))) if data else 0
    batch = RawBatch(n_rows)
    try:
        plain = all(type(v) is np.ndarray for _, v in present)
        pa = None if plain else _optional_import("pyarrow")
        for name, values in present:
            if pa is not None and isinstance(values, (pa.Array, pa.ChunkedArray)):
                _add_arrow_column(batch, name, values)
            elif isinstance(values, np.ma.MaskedArray):
                # A masked array's mask is the null mask, handed over as it is.
                batch.add_numpy(name, values.data, np.ma.getmaskarray(values))
            else:
                batch.add_numpy(name, np.asarray(values))
    except BaseException:
        batch.free()
        raise
    return batch


def batch_from_pandas(df: Any, schema: Mapping[str, str]) -> RawBatch:
    """A pandas DataFrame through the raw door (columns by name)."""
    # The labels are read once, into a dict: on pandas 3's Arrow-backed string index, `name in
    # df.columns` costs about a microsecond a call and `is_unique` 136 us on each new frame.
    labels = df.columns.tolist()
    position = {label: i for i, label in enumerate(labels)}
    # The dict's size says when to ask; pandas' own check says what is a duplicate.
    if len(position) != len(labels) and not df.columns.is_unique:
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise InvalidArgumentError(f"the DataFrame has duplicate column names: {', '.join(dup)}")
    # A numpy-backed column's array straight from the frame's block: `df[name]` builds a
    # Series for it, 17 us a column on pandas 3.1, which made a 100-row frame of 50 columns
    # take 2.4 ms to score against 0.3 ms for the same columns in a dict. `_get_column_array`
    # is pandas' own internal accessor (pandas 1.3 to 3.x), so it is looked up, not assumed:
    # without it, or for a column that is not a plain ndarray (categorical, nullable,
    # datetime, string and Arrow dtypes), the column goes through its Series as before.
    column_array = getattr(df, "_get_column_array", None)
    batch = RawBatch(len(df))
    try:
        for name in schema:
            i = position.get(name)
            if i is None:
                continue
            values = column_array(i) if column_array is not None else None
            if type(values) is np.ndarray:
                batch.add_numpy(name, values)
            else:
                _add_pandas_series(batch, name, df.iloc[:, i])
    except BaseException:
        batch.free()
        raise
    return batch


def _add_pandas_series(batch: RawBatch, name: str, s: Any) -> None:
    import pandas as pd

    dtype = s.dtype
    array = s.array
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        if categories.dtype.kind not in "OU" and not isinstance(categories.dtype, pd.StringDtype):
            raise ColumnTypeError(
                f"column '{name}' is a category of {categories.dtype} values; kiln categories are strings"
            )
        batch.add_dictionary(name, array.codes, np.asarray(categories, dtype=object))
        return
    masked = getattr(pd.arrays, "BaseMaskedArray", None) or _masked_base()
    if masked is not None and isinstance(array, masked):
        # Nullable Int64/Float64/boolean: values and mask handed over as they are.
        batch.add_numpy(name, array._data, array._mask)
        return
    if isinstance(dtype, pd.DatetimeTZDtype):
        batch.add_numpy(name, s.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())
        return
    if isinstance(dtype, pd.StringDtype) or isinstance(dtype, getattr(pd, "ArrowDtype", ())):
        pa_array = getattr(array, "_pa_array", None)
        if pa_array is not None:
            _add_arrow_column(batch, name, pa_array)
        else:  # python-backed strings: object array with pd.NA for nulls
            batch.add_strings(name, np.asarray(array, dtype=object))
        return
    batch.add_numpy(name, s.to_numpy(copy=False))


def _masked_base() -> Any:
    try:
        from pandas.core.arrays.masked import BaseMaskedArray

        return BaseMaskedArray
    except ImportError:  # pragma: no cover
        return None


def _add_arrow_column(batch: RawBatch, name: str, arr: Any) -> None:
    """One pyarrow array (e.g. behind a pandas ArrowDtype column) through the raw door."""
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        batch.add_strings(name, arr)
        return
    if pa.types.is_dictionary(t):
        if arr.null_count:
            codes = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False)
        else:
            codes = arr.indices.to_numpy(zero_copy_only=False)
        batch.add_dictionary(name, codes, arr.dictionary)
        return
    mask = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
    if arr.null_count:
        if pa.types.is_boolean(t):
            arr = arr.fill_null(False)
        elif pa.types.is_integer(t) or pa.types.is_floating(t):
            arr = arr.fill_null(0)
        elif pa.types.is_temporal(t):
            arr = arr.cast(pa.int64() if t.bit_width == 64 else pa.int32()).fill_null(0).cast(t)
    batch.add_numpy(name, arr.to_numpy(zero_copy_only=False), mask)


# -- the Arrow door ----------------------------------------------------------------------------

_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class ArrowBatch:
    """A native batch that owns Arrow arrays moved in through the C Data Interface."""

    def __init__(self, handle: int) -> None:
        self.handle: Optional[int] = handle

    def free(self) -> None:
        if self.handle is not None:
            N.lib.kiln_batch_free(self.handle)
            self.handle = None


def batch_from_arrow_stream(obj: Any) -> ArrowBatch:
    """Anything with `__arrow_c_stream__` (pyarrow Table/RecordBatchReader, polars DataFrame)."""
    capsule = obj.__arrow_c_stream__()
    stream = _capsule_pointer(capsule, b"arrow_array_stream")
    handle = ctypes.c_void_p()
    # kiln reads every chunk and releases the stream; the capsule's destructor then finds it
    # released and does nothing.
    N.check(N.lib.kiln_batch_from_arrow_stream(stream, ctypes.byref(handle)))
    return ArrowBatch(handle.value)


def batch_from_arrow_array(obj: Any) -> ArrowBatch:
    """Anything with `__arrow_c_array__` returning a struct array (a record batch)."""
    schema_capsule, array_capsule = obj.__arrow_c_array__()
    schema = _capsule_pointer(schema_capsule, b"arrow_schema")
    array = _capsule_pointer(array_capsule, b"arrow_array")
    handle = ctypes.c_void_p()
    N.check(N.lib.kiln_batch_from_arrow(array, schema, ctypes.byref(handle)))
    return ArrowBatch(handle.value)
