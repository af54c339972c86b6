//! The raw door: arrow-rs arrays built directly over a host's typed column memory (numpy arrays,
//! R vectors, Java direct buffers), without copying the values.
//!
//! The host promises to keep the memory alive and unchanged until the batch that holds these
//! arrays is freed; the buffers therefore carry an owner ([`HostMemory`]) that frees nothing.
//! Everything about the pointers that can be checked is checked before a byte is read: NULL
//! with a non-zero length, alignment for the element type, size overflow, offsets inside the
//! data, dictionary codes inside the dictionary, booleans that are 0 or 1.
//!
//! Copies, all of them small and said out loud: a bit-packed validity map built from a byte
//! null mask (1 bit per row); BOOL8 values bit-packed (arrow-rs booleans are bits); dictionary
//! codes with `code_base = 1` rebased to 0 (one `i32` per row), and a validity map where codes
//! are negative (pandas -1, R `NA_integer_`).

use std::ptr::NonNull;
use std::sync::Arc;

use arrow_array::types::{
    ArrowPrimitiveType, Date32Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampMicrosecondType,
    UInt8Type,
};
use arrow_array::{ArrayRef, BooleanArray, DictionaryArray, PrimitiveArray, StringArray};
use arrow_buffer::{BooleanBuffer, Buffer, MutableBuffer, NullBuffer, OffsetBuffer, ScalarBuffer};

use crate::error::{Error, KilnStatus, Result};

/// Physical type of a raw column (the `physical_type` argument of `kiln_batch_add_column`).
/// The numbers are part of the stable ABI.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PhysicalType {
    F64 = 1,
    F32 = 2,
    I64 = 3,
    I32 = 4,
    I16 = 5,
    I8 = 6,
    U8 = 7,
    /// One byte per value, 0 or 1.
    Bool8 = 8,
    /// `int32` days since 1970-01-01.
    Date32 = 9,
    /// `int64` microseconds since 1970-01-01 UTC.
    TimestampUs = 10,
}

impl PhysicalType {
    /// Every variant, in numeric order (a Rust-side table, not part of the C ABI).
    ///
    /// cbindgen:ignore
    pub const ALL: [PhysicalType; 10] = [
        PhysicalType::F64,
        PhysicalType::F32,
        PhysicalType::I64,
        PhysicalType::I32,
        PhysicalType::I16,
        PhysicalType::I8,
        PhysicalType::U8,
        PhysicalType::Bool8,
        PhysicalType::Date32,
        PhysicalType::TimestampUs,
    ];

    pub fn from_code(code: i32) -> Option<PhysicalType> {
        PhysicalType::ALL.iter().copied().find(|t| *t as i32 == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            PhysicalType::F64 => "f64",
            PhysicalType::F32 => "f32",
            PhysicalType::I64 => "i64",
            PhysicalType::I32 => "i32",
            PhysicalType::I16 => "i16",
            PhysicalType::I8 => "i8",
            PhysicalType::U8 => "u8",
            PhysicalType::Bool8 => "bool8",
            PhysicalType::Date32 => "date32",
            PhysicalType::TimestampUs => "timestamp_us",
        }
    }

    /// Bytes per value in host memory.
    pub fn width(self) -> usize {
        match self {
            PhysicalType::F64 | PhysicalType::I64 | PhysicalType::TimestampUs => 8,
            PhysicalType::F32 | PhysicalType::I32 | PhysicalType::Date32 => 4,
            PhysicalType::I16 => 2,
            PhysicalType::I8 | PhysicalType::U8 | PhysicalType::Bool8 => 1,
        }
    }
}

/// The owner of host memory inside an arrow-rs buffer: the host frees it, so dropping the last
/// reference does nothing.
#[derive(Debug)]
struct HostMemory;

/// A zero-copy buffer over `len` bytes at `ptr` (an empty owned buffer when `len` is 0, whatever
/// the pointer, since hosts pass NULL or dangling pointers for empty arrays).
///
/// # Safety
/// When `len > 0`, `ptr` must be non-NULL and valid for reads of `len` bytes, unchanged for as
/// long as any array built over the buffer lives.
unsafe fn host_buffer(ptr: *const u8, len: usize) -> Buffer {
    match NonNull::new(ptr.cast_mut()) {
        Some(p) if len > 0 => {
            // SAFETY: the caller guarantees `ptr` is valid for `len` bytes for the buffer's
            // lifetime; the owner frees nothing because the host owns the memory.
            unsafe { Buffer::from_custom_allocation(p, len, Arc::new(HostMemory)) }
        }
        _ => MutableBuffer::new(0).into(),
    }
}

/// Check a pointer to `len` values of `width` bytes: non-NULL when `len > 0`, aligned to
/// `align`, and the byte size fits. Returns the size in bytes.
fn check_pointer(column: &str, what: &str, ptr: *const u8, len: usize, width: usize, align: usize) -> Result<usize> {
    let bytes = len.checked_mul(width).filter(|b| isize::try_from(*b).is_ok()).ok_or_else(|| {
        Error::bad_buffer(format!("column '{column}': {what} of {len} values of {width} bytes overflows the address space"))
    })?;
    if len == 0 {
        return Ok(0);
    }
    if ptr.is_null() {
        return Err(Error::new(KilnStatus::NullArgument, format!("column '{column}': {what} pointer is NULL but the column has {len} values")));
    }
    if (ptr as usize) % align != 0 {
        return Err(Error::bad_buffer(format!(
            "column '{column}': {what} pointer {ptr:p} is not aligned to {align} bytes, as its element type needs"
        )));
    }
    Ok(bytes)
}

/// The validity of a raw column from either an Arrow LSB bitmap (zero-copy) or a byte-per-row
/// null mask (bit-packed: a copy of one bit per row). `None` when neither is given.
///
/// # Safety
/// `validity`, when non-NULL, must be valid for reads of `ceil(len / 8)` bytes; `null_mask`, when
/// non-NULL, for `len` bytes; both for the lifetime of the arrays built over them.
pub unsafe fn raw_validity(column: &str, len: usize, validity: *const u8, null_mask: *const u8) -> Result<Option<NullBuffer>> {
    match (validity.is_null(), null_mask.is_null()) {
        (false, false) => Err(Error::invalid_argument(format!(
            "column '{column}': both a validity bitmap and a null mask were given; pass at most one"
        ))),
        (true, true) => Ok(None),
        (false, true) => {
            let bytes = len.div_ceil(8);
            // SAFETY: the caller guarantees `validity` covers `ceil(len / 8)` bytes.
            let buffer = unsafe { host_buffer(validity, bytes) };
            Ok(Some(NullBuffer::new(BooleanBuffer::new(buffer, 0, len))).filter(|n| n.null_count() > 0))
        }
        (true, false) => {
            // SAFETY: the caller guarantees `null_mask` covers `len` bytes (u8 needs no alignment).
            let mask = unsafe { std::slice::from_raw_parts(null_mask, len) };
            let valid = BooleanBuffer::collect_bool(len, |i| mask[i] == 0);
            Ok(Some(NullBuffer::new(valid)).filter(|n| n.null_count() > 0))
        }
    }
}

fn primitive<T: ArrowPrimitiveType>(column: &str, buffer: Buffer, len: usize, nulls: Option<NullBuffer>) -> Result<ArrayRef> {
    let values = ScalarBuffer::<T::Native>::new(buffer, 0, len);
    let array = PrimitiveArray::<T>::try_new(values, nulls).map_err(|e| Error::bad_buffer(format!("column '{column}': {e}")))?;
    Ok(Arc::new(array))
}

/// A fixed-width column over host memory (`kiln_batch_add_column`).
///
/// # Safety
/// `data`, when `len > 0`, must point to `len` values of `ty` (`len * ty.width()` bytes); the
/// validity pointers as in [`raw_validity`]. All of that memory must stay alive and unchanged for
/// the lifetime of the returned array.
pub unsafe fn raw_column(
    column: &str,
    ty: PhysicalType,
    data: *const u8,
    len: usize,
    validity: *const u8,
    null_mask: *const u8,
) -> Result<ArrayRef> {
    let bytes = check_pointer(column, "data", data, len, ty.width(), ty.width())?;
    // SAFETY: forwarded from this function's contract.
    let nulls = unsafe { raw_validity(column, len, validity, null_mask)? };
    if ty == PhysicalType::Bool8 {
        // SAFETY: `data` is non-NULL when `len > 0` (checked) and covers `len` bytes (contract).
        let bytes = if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(data, len) } };
        if let Some(i) = bytes.iter().position(|b| *b > 1) {
            return Err(Error::bad_buffer(format!("column '{column}': bool8 value at row {i} is {}, not 0 or 1", bytes[i])));
        }
        let values = BooleanBuffer::collect_bool(len, |i| bytes[i] != 0);
        return Ok(Arc::new(BooleanArray::new(values, nulls)));
    }
    // SAFETY: `data` is checked non-NULL and aligned when `bytes > 0`, and covers `bytes` bytes
    // for the array's lifetime (contract).
    let buffer = unsafe { host_buffer(data, bytes) };
    match ty {
        PhysicalType::F64 => primitive::<Float64Type>(column, buffer, len, nulls),
        PhysicalType::F32 => primitive::<Float32Type>(column, buffer, len, nulls),
        PhysicalType::I64 => primitive::<Int64Type>(column, buffer, len, nulls),
        PhysicalType::I32 => primitive::<Int32Type>(column, buffer, len, nulls),
        PhysicalType::I16 => primitive::<Int16Type>(column, buffer, len, nulls),
        PhysicalType::I8 => primitive::<Int8Type>(column, buffer, len, nulls),
        PhysicalType::U8 => primitive::<UInt8Type>(column, buffer, len, nulls),
        PhysicalType::Date32 => primitive::<Date32Type>(column, buffer, len, nulls),
        PhysicalType::TimestampUs => {
            let values = ScalarBuffer::<i64>::new(buffer, 0, len);
            let array = PrimitiveArray::<TimestampMicrosecondType>::try_new(values, nulls)
                .map_err(|e| Error::bad_buffer(format!("column '{column}': {e}")))?
                .with_timezone("UTC");
            Ok(Arc::new(array))
        }
        PhysicalType::Bool8 => Err(Error::internal("bool8 is handled above")),
    }
}

/// Arrow-style strings over host memory: `len + 1` offsets into `data_len` bytes. Offsets are
/// checked to be non-negative, non-decreasing and inside the data before any string is read;
/// UTF-8 is checked by [`crate::Batch::push`].
///
/// # Safety
/// `offsets`, when `len > 0`, must point to `len + 1` `i32`s; `data` to `data_len` bytes; all
/// alive and unchanged for the lifetime of the returned array.
pub unsafe fn raw_utf8(
    column: &str,
    what: &str,
    offsets: *const i32,
    data: *const u8,
    data_len: usize,
    len: usize,
) -> Result<StringArray> {
    if len == 0 && offsets.is_null() {
        return Ok(StringArray::new_null(0));
    }
    let n_offsets = len.checked_add(1).ok_or_else(|| Error::bad_buffer(format!("column '{column}': {what} length overflows")))?;
    let offset_bytes = check_pointer(column, &format!("{what} offsets"), offsets.cast(), n_offsets, 4, 4)?;
    check_pointer(column, &format!("{what} data"), data, data_len, 1, 1)?;
    if i32::try_from(data_len).is_err() {
        return Err(Error::bad_buffer(format!(
            "column '{column}': {what} data has {data_len} bytes, more than 32-bit offsets can address"
        )));
    }
    // SAFETY: `offsets` is non-NULL and 4-byte aligned (checked) and covers `len + 1` values.
    let offs = unsafe { std::slice::from_raw_parts(offsets, n_offsets) };
    let mut prev = 0i32;
    for (i, &o) in offs.iter().enumerate() {
        if o < 0 {
            return Err(Error::bad_buffer(format!("column '{column}': {what} offset {i} is negative ({o})")));
        }
        if i > 0 && o < prev {
            return Err(Error::bad_buffer(format!(
                "column '{column}': {what} offsets decrease at {i} ({prev} then {o}); they must be non-decreasing"
            )));
        }
        if o as usize > data_len {
            return Err(Error::bad_buffer(format!(
                "column '{column}': {what} offset {i} is {o}, past the end of the {data_len}-byte string data"
            )));
        }
        prev = o;
    }
    // SAFETY: checked non-NULL, aligned and covering `offset_bytes` bytes; `data` likewise for
    // `data_len` bytes; the host keeps both alive (contract).
    let (offset_buffer, data_buffer) = unsafe { (host_buffer(offsets.cast(), offset_bytes), host_buffer(data, data_len)) };
    // SAFETY: the offsets were checked above: non-negative, non-decreasing, within the data.
    let offsets = unsafe { OffsetBuffer::new_unchecked(ScalarBuffer::new(offset_buffer, 0, n_offsets)) };
    StringArray::try_new(offsets, data_buffer, None).map_err(|e| Error::bad_buffer(format!("column '{column}': {what}: {e}")))
}

/// A utf8 column over host memory (`kiln_batch_add_utf8`).
///
/// # Safety
/// As [`raw_utf8`] for the strings and [`raw_validity`] for the validity pointers.
pub unsafe fn raw_utf8_column(
    column: &str,
    offsets: *const i32,
    data: *const u8,
    data_len: usize,
    len: usize,
    validity: *const u8,
    null_mask: *const u8,
) -> Result<ArrayRef> {
    // SAFETY: forwarded from this function's contract.
    let strings = unsafe { raw_utf8(column, "utf8", offsets, data, data_len, len)? };
    // SAFETY: forwarded from this function's contract.
    let nulls = unsafe { raw_validity(column, len, validity, null_mask)? };
    let (offsets, values, _) = strings.into_parts();
    let array = StringArray::try_new(offsets, values, nulls).map_err(|e| Error::bad_buffer(format!("column '{column}': {e}")))?;
    Ok(Arc::new(array))
}

/// A dictionary-encoded categorical column over host memory (`kiln_batch_add_dictionary`):
/// `len` codes into `dict_len` strings. `code_base` is 0 (pandas) or 1 (R factors); a negative
/// code is a null; any other code outside `[code_base, code_base + dict_len)` is a bad buffer.
/// Codes are zero-copy when `code_base` is 0; rebased (one copy) when it is 1.
///
/// # Safety
/// `codes`, when `len > 0`, must point to `len` `i32`s; the dictionary as in [`raw_utf8`] with
/// `dict_len` strings; all alive and unchanged for the lifetime of the returned array.
#[expect(clippy::too_many_arguments, reason = "mirrors the C signature one to one")]
pub unsafe fn raw_dictionary_column(
    column: &str,
    codes: *const i32,
    len: usize,
    dict_offsets: *const i32,
    dict_data: *const u8,
    dict_data_len: usize,
    dict_len: usize,
    code_base: i32,
) -> Result<ArrayRef> {
    if code_base != 0 && code_base != 1 {
        return Err(Error::invalid_argument(format!("column '{column}': code_base is {code_base}; it must be 0 or 1")));
    }
    let code_bytes = check_pointer(column, "codes", codes.cast(), len, 4, 4)?;
    // SAFETY: forwarded from this function's contract.
    let dictionary = unsafe { raw_utf8(column, "dictionary", dict_offsets, dict_data, dict_data_len, dict_len)? };
    // SAFETY: `codes` is non-NULL and aligned when `len > 0` (checked) and covers `len` values.
    let code_slice = if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(codes, len) } };
    let upper = i64::from(code_base) + dict_len as i64;
    let mut any_null = false;
    for (row, &c) in code_slice.iter().enumerate() {
        if c < 0 {
            any_null = true;
        } else if i64::from(c) < i64::from(code_base) || i64::from(c) >= upper {
            return Err(Error::bad_buffer(format!(
                "column '{column}': dictionary code {c} at row {row} is outside [{code_base}, {upper}) for a dictionary of {dict_len} strings"
            )));
        }
    }
    let nulls = any_null.then(|| NullBuffer::new(BooleanBuffer::collect_bool(len, |i| code_slice[i] >= 0)));
    let keys_buffer = if code_base == 0 {
        // SAFETY: checked non-NULL and aligned when `len > 0`; covers `code_bytes` bytes and
        // the host keeps it alive (contract).
        unsafe { host_buffer(codes.cast(), code_bytes) }
    } else {
        // Null slots keep a valid key (0) so nothing downstream meets a negative index.
        Buffer::from_vec(code_slice.iter().map(|&c| if c < 0 { 0 } else { c - code_base }).collect::<Vec<i32>>())
    };
    let keys = PrimitiveArray::<Int32Type>::try_new(ScalarBuffer::new(keys_buffer, 0, len), nulls)
        .map_err(|e| Error::bad_buffer(format!("column '{column}': codes: {e}")))?;
    let array = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(dictionary))
        .map_err(|e| Error::bad_buffer(format!("column '{column}': {e}")))?;
    Ok(Arc::new(array))
}
