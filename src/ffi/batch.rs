//! `KilnBatch`: columns borrowed from the host (raw door) or imported Arrow arrays (Arrow door).

use std::ffi::{c_char, c_void};

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;

use super::boundary::*;
use crate::batch::raw::{self, PhysicalType};
use crate::batch::{Batch, arrow};
use crate::error::{Error, KilnStatus, Result};

/// A batch of named columns (opaque). Used by one thread at a time (it may move between
/// threads). Made by `kiln_batch_new` / `kiln_batch_from_arrow` / `kiln_batch_from_arrow_stream`,
/// freed by `kiln_batch_free`.
pub struct KilnBatch {
    /// A stream gives several chunks; each is scored at its row offset into one result.
    pub(crate) chunks: Vec<Batch>,
    pub(crate) n_rows: usize,
    /// Made by `kiln_batch_new`: columns may be added.
    raw: bool,
}

impl Handle for KilnBatch {
    type Ownership = OwnershipBox;
    const NAME: &'static str = "batch";
}

impl KilnBatch {
    fn from_chunks(chunks: Vec<Batch>) -> Result<Self> {
        let n_rows = chunks.iter().try_fold(0usize, |acc, c| acc.checked_add(c.num_rows()));
        let n_rows = n_rows.ok_or_else(|| Error::bad_buffer("the stream's row count overflows"))?;
        Ok(KilnBatch { chunks, n_rows, raw: false })
    }

    fn raw_chunk(&mut self, name: &str, len: usize) -> Result<&mut Batch> {
        if len != self.n_rows {
            return Err(Error::bad_buffer(format!("column '{name}' has {len} values, the batch has {} rows", self.n_rows)));
        }
        match (self.raw, self.chunks.as_mut_slice()) {
            (true, [only]) => Ok(only),
            _ => Err(Error::invalid_argument(format!(
                "column '{name}': columns can only be added to a batch made by kiln_batch_new, not to an imported Arrow batch"
            ))),
        }
    }
}

/// A new empty batch of `n_rows` rows for the raw door; add columns next. On success `*out`
/// receives a batch to free with `kiln_batch_free`.
///
/// # Safety
/// `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_batch_new(n_rows: usize, out: *mut *mut KilnBatch) -> KilnStatus {
    guard("kiln_batch_new", || {
        let out = out_ptr(out, "out")?;
        let batch = KilnBatch { chunks: vec![Batch::with_rows(n_rows)], n_rows, raw: true };
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, box_into_raw(batch)) };
        Ok(())
    })
}

/// Free a batch (and release its Arrow arrays). NULL is a no-op. Host memory a raw batch
/// borrowed may be freed after this returns. Never free twice.
///
/// # Safety
/// `batch` is NULL or came from a `kiln_batch_*` constructor and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_batch_free(batch: *mut KilnBatch) {
    // SAFETY: forwarded from this function's contract.
    guard_value("kiln_batch_free", (), || unsafe { box_free(batch) })
}

/// Number of rows (the sum over a stream's chunks).
///
/// # Safety
/// `batch` is a live batch; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_batch_num_rows(batch: *const KilnBatch, out: *mut usize) -> KilnStatus {
    guard("kiln_batch_num_rows", || {
        let out = out_ptr(out, "out")?;
        // SAFETY: NULL or a live batch not mutated concurrently (contract).
        let b = unsafe { box_ref(batch)? };
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, b.n_rows) };
        Ok(())
    })
}

/// Add a fixed-width column over host memory (zero-copy, except BOOL8, which is bit-packed).
/// `physical_type` is a `KilnPhysicalType`; `data` holds `len` values aligned for the type;
/// `validity` (nullable) is an Arrow LSB bitmap, 1 = valid; `null_mask` (nullable) one byte per
/// row, non-zero = null; at most one of them. NaN in a float column reads as null. The memory
/// must stay alive and unchanged until the batch is freed.
///
/// # Safety
/// `batch` is a live batch; `name` a NUL-terminated string; `data` readable for
/// `len * width(physical_type)` bytes; `validity` for `ceil(len / 8)` bytes; `null_mask` for `len`
/// bytes; all until the batch is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_batch_add_column(
    batch: *mut KilnBatch,
    name: *const c_char,
    physical_type: i32,
    data: *const c_void,
    len: usize,
    validity: *const u8,
    null_mask: *const u8,
) -> KilnStatus {
    guard("kiln_batch_add_column", || {
        // SAFETY: NULL or a live batch owned by this thread for the call (contract).
        let b = unsafe { box_mut(batch)? };
        // SAFETY: NUL-terminated or NULL (contract).
        let name = unsafe { str_arg(name, "name")? };
        let ty = PhysicalType::from_code(physical_type).ok_or_else(|| {
            Error::invalid_argument(format!("column '{name}': physical_type {physical_type} is not a KilnPhysicalType (1..=10)"))
        })?;
        let chunk = b.raw_chunk(name, len)?;
        // SAFETY: memory as the raw door requires, alive until the batch is freed (contract).
        let array = unsafe { raw::raw_column(name, ty, data.cast(), len, validity, null_mask)? };
        chunk.push(name, array)
    })
}

/// Add a utf8 column over host memory (zero-copy): `len + 1` Arrow-style `offsets` into
/// `data_len` bytes at `data`. Offsets are checked (non-decreasing, inside the data) and the
/// strings checked to be UTF-8 before use. Validity as in `kiln_batch_add_column`.
///
/// # Safety
/// `offsets` readable for `len + 1` `int32_t`s, `data` for `data_len` bytes, validity pointers as
/// in `kiln_batch_add_column`; all until the batch is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_batch_add_utf8(
    batch: *mut KilnBatch,
    name: *const c_char,
    offsets: *const i32,
    data: *const u8,
    data_len: usize,
    len: usize,
    validity: *const u8,
    null_mask: *const u8,
) -> KilnStatus {
    guard("kiln_batch_add_utf8", || {
        // SAFETY: NULL or a live batch owned by this thread for the call (contract).
        let b = unsafe { box_mut(batch)? };
        // SAFETY: NUL-terminated or NULL (contract).
        let name = unsafe { str_arg(name, "name")? };
        let chunk = b.raw_chunk(name, len)?;
        // SAFETY: memory as the raw door requires, alive until the batch is freed (contract).
        let array = unsafe { raw::raw_utf8_column(name, offsets, data, data_len, len, validity, null_mask)? };
        chunk.push(name, array)
    })
}

/// Add a dictionary-encoded categorical column: `len` `codes` into a dictionary of `dict_len`
/// strings (Arrow-style `dict_offsets`, `dict_len + 1` of them, into `dict_data_len` bytes).
/// `code_base` is 0 (pandas) or 1 (R factors). A negative code is a null; any other code
/// outside `[code_base, code_base + dict_len)` is `KILN_STATUS_BAD_BUFFER`. Zero-copy for
/// `code_base` 0; with 1 the codes are rebased into a copy.
///
/// # Safety
/// `codes` readable for `len` `int32_t`s, the dictionary for its sizes; all until the batch is
/// freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_batch_add_dictionary(
    batch: *mut KilnBatch,
    name: *const c_char,
    codes: *const i32,
    len: usize,
    dict_offsets: *const i32,
    dict_data: *const u8,
    dict_data_len: usize,
    dict_len: usize,
    code_base: i32,
) -> KilnStatus {
    guard("kiln_batch_add_dictionary", || {
        // SAFETY: NULL or a live batch owned by this thread for the call (contract).
        let b = unsafe { box_mut(batch)? };
        // SAFETY: NUL-terminated or NULL (contract).
        let name = unsafe { str_arg(name, "name")? };
        let chunk = b.raw_chunk(name, len)?;
        // SAFETY: memory as the raw door requires, alive until the batch is freed (contract).
        let array = unsafe { raw::raw_dictionary_column(name, codes, len, dict_offsets, dict_data, dict_data_len, dict_len, code_base)? };
        chunk.push(name, array)
    })
}

/// Arrow door: a struct array (a record batch) whose children are the columns. The array is
/// moved in on every path once `array` is non-NULL: the caller's struct is marked released and
/// kiln calls the producer's `release` when the batch is freed (or at once, on failure). The
/// schema is only read. On success `*out` receives a batch to free with `kiln_batch_free`.
///
/// # Safety
/// `array` and `schema` are valid C Data Interface structs (or NULL); `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_batch_from_arrow(
    array: *mut FFI_ArrowArray,
    schema: *const FFI_ArrowSchema,
    out: *mut *mut KilnBatch,
) -> KilnStatus {
    guard("kiln_batch_from_arrow", || {
        // Take the array before anything can fail, so ownership never depends on the error.
        // SAFETY: a valid C Data Interface array and schema, or NULL (contract).
        let imported = unsafe { arrow::batch_from_c_array(array, schema) };
        let out = out_ptr(out, "out")?;
        let batch = KilnBatch::from_chunks(vec![imported?])?;
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, box_into_raw(batch)) };
        Ok(())
    })
}

/// Arrow door: read every chunk of a C stream of struct arrays (zero-copy) and release the
/// stream, on every path once `stream` is non-NULL. On success `*out` receives a batch to free
/// with `kiln_batch_free`.
///
/// # Safety
/// `stream` is a valid C Stream Interface stream (or NULL); `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_batch_from_arrow_stream(stream: *mut FFI_ArrowArrayStream, out: *mut *mut KilnBatch) -> KilnStatus {
    guard("kiln_batch_from_arrow_stream", || {
        // SAFETY: a valid C stream or NULL (contract).
        let imported = unsafe { arrow::batches_from_c_stream(stream) };
        let out = out_ptr(out, "out")?;
        let batch = KilnBatch::from_chunks(imported?)?;
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, box_into_raw(batch)) };
        Ok(())
    })
}
