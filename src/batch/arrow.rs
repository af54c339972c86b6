//! The Arrow door: record batches handed over through the Arrow C Data Interface (a struct
//! array plus its schema) or the C Stream Interface (a stream of struct arrays), imported with
//! arrow-rs's `ffi` feature without copying the values.
//!
//! arrow-rs trusts the producer on the shape of the C structs (it asserts on some mismatches and
//! reads string offsets to size the string data before anything is validated), so the shape is
//! checked here first: lengths and offsets non-negative, buffer and child counts as the type's
//! layout needs, non-NULL pointer arrays, string offsets present and aligned. Values are then
//! validated in full by [`Batch::push`] before anything reads them. The C Data Interface carries
//! no buffer sizes, so a string column's data size is what its last offset says; the offsets
//! themselves are checked to be in order and inside that size.
//!
//! Spec: <https://arrow.apache.org/docs/format/CDataInterface.html> and
//! <https://arrow.apache.org/docs/format/CStreamInterface.html>.

use std::ffi::{CStr, c_char, c_void};

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema, from_ffi_and_data_type};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, StructArray, new_empty_array};
use arrow_data::ArrayData;
use arrow_schema::{DataType, Fields};

use crate::batch::Batch;
use crate::error::{Error, KilnStatus, Result};

/// The `struct ArrowArray` layout fixed by the C Data Interface, read field by field for the
/// shape check (arrow-rs keeps the fields of its own mirror private).
#[repr(C)]
struct RawArrowArray {
    length: i64,
    null_count: i64,
    offset: i64,
    n_buffers: i64,
    n_children: i64,
    buffers: *const *const c_void,
    children: *const *const RawArrowArray,
    dictionary: *const RawArrowArray,
    release: Option<unsafe extern "C" fn(*mut RawArrowArray)>,
    private_data: *mut c_void,
}

/// The `struct ArrowSchema` layout fixed by the C Data Interface.
#[repr(C)]
struct RawArrowSchema {
    format: *const c_char,
    name: *const c_char,
    metadata: *const c_char,
    flags: i64,
    n_children: i64,
    children: *const *const RawArrowSchema,
    dictionary: *const RawArrowSchema,
    release: Option<unsafe extern "C" fn(*mut RawArrowSchema)>,
    private_data: *mut c_void,
}

fn shape_error(path: &str, msg: impl std::fmt::Display) -> Error {
    let at = if path.is_empty() { "record batch".to_string() } else { format!("column '{path}'") };
    Error::bad_buffer(format!("{at}: malformed ArrowArray: {msg}"))
}

/// Children a type has in the C Data Interface.
fn expected_children(dt: &DataType) -> Vec<&DataType> {
    match dt {
        DataType::Struct(fields) => fields.iter().map(|f| f.data_type()).collect(),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::Map(f, _) => vec![f.data_type()],
        DataType::Union(fields, _) => fields.iter().map(|(_, f)| f.data_type()).collect(),
        DataType::RunEndEncoded(a, b) => vec![a.data_type(), b.data_type()],
        _ => Vec::new(),
    }
}

/// Check the shape of a foreign array against its data type, recursively, before arrow-rs
/// reads it.
///
/// # Safety
/// `array` must point to a `struct ArrowArray` whose pointer fields, when non-NULL, point to
/// what the C Data Interface says they do.
unsafe fn check_shape(array: *const RawArrowArray, dt: &DataType, path: &str) -> Result<()> {
    if array.is_null() {
        return Err(shape_error(path, "child array pointer is NULL"));
    }
    // SAFETY: non-NULL, and points to a `struct ArrowArray` (contract).
    let a = unsafe { &*array };
    if a.release.is_none() {
        return Err(shape_error(path, "the array is already released"));
    }
    if a.length < 0 || a.offset < 0 || a.null_count < -1 {
        return Err(shape_error(path, format!("negative length ({}), offset ({}) or null count ({})", a.length, a.offset, a.null_count)));
    }
    let extent = a.length.checked_add(a.offset).ok_or_else(|| shape_error(path, "length + offset overflows"))?;
    let layout = arrow_data::layout(dt);
    let fixed = layout.buffers.len() + usize::from(layout.can_contain_null_mask);
    let n_buffers = usize::try_from(a.n_buffers).map_err(|_| shape_error(path, format!("negative n_buffers {}", a.n_buffers)))?;
    // View types add their variadic data buffers and one buffer of their sizes.
    let buffers_ok = if layout.variadic { n_buffers > fixed } else { n_buffers == fixed };
    if !buffers_ok {
        return Err(shape_error(path, format!("{dt} needs {}{} buffers, the array has {n_buffers}", if layout.variadic { "more than " } else { "" }, fixed)));
    }
    if n_buffers > 0 && a.buffers.is_null() {
        return Err(shape_error(path, "the buffers pointer is NULL"));
    }
    // arrow-rs sizes a string column's data by reading the last offset before validating, so
    // the offsets buffer must be there and aligned whenever there is a row.
    let offset_width = match dt {
        DataType::Utf8 | DataType::Binary => Some(4usize),
        DataType::LargeUtf8 | DataType::LargeBinary => Some(8usize),
        _ => None,
    };
    if let (Some(width), true) = (offset_width, extent > 0) {
        // SAFETY: `buffers` holds `n_buffers` (3 here, checked) pointers (C Data Interface).
        let offsets = unsafe { *a.buffers.add(1) };
        if offsets.is_null() {
            return Err(shape_error(path, format!("{dt} offsets buffer is NULL with {} rows", a.length)));
        }
        if (offsets as usize) % width != 0 {
            return Err(shape_error(path, format!("{dt} offsets buffer {offsets:p} is not aligned to {width} bytes")));
        }
    }
    if layout.variadic {
        // SAFETY: `buffers` holds `n_buffers` pointers; the last one holds the variadic sizes.
        let sizes = unsafe { *a.buffers.add(n_buffers - 1) };
        if n_buffers > fixed + 1 && (sizes.is_null() || (sizes as usize) % 8 != 0) {
            return Err(shape_error(path, format!("{dt} variadic sizes buffer is NULL or not aligned to 8 bytes")));
        }
    }
    let children = expected_children(dt);
    if usize::try_from(a.n_children).ok() != Some(children.len()) {
        return Err(shape_error(path, format!("{dt} has {} children, the array has {}", children.len(), a.n_children)));
    }
    if !children.is_empty() && a.children.is_null() {
        return Err(shape_error(path, "the children pointer is NULL"));
    }
    let names: Vec<String> = match dt {
        DataType::Struct(fields) => fields.iter().map(|f| f.name().clone()).collect(),
        _ => (0..children.len()).map(|i| format!("child {i}")).collect(),
    };
    for (i, (child_dt, name)) in children.into_iter().zip(names).enumerate() {
        let child_path = if path.is_empty() { name } else { format!("{path}.{name}") };
        // SAFETY: `children` holds `n_children` pointers (C Data Interface), checked above.
        let child = unsafe { *a.children.add(i) };
        // SAFETY: forwarded from this function's contract.
        unsafe { check_shape(child, child_dt, &child_path)? };
    }
    match (dt, a.dictionary.is_null()) {
        (DataType::Dictionary(_, value), false) => {
            // SAFETY: forwarded from this function's contract.
            unsafe { check_shape(a.dictionary, value, &format!("{path} (dictionary)"))? }
        }
        (DataType::Dictionary(..), true) => return Err(shape_error(path, "dictionary type without a dictionary array")),
        (_, false) => return Err(shape_error(path, format!("{dt} is not a dictionary type but the array has a dictionary"))),
        (_, true) => {}
    }
    Ok(())
}

/// The data type a schema describes, which must be a struct (a record batch).
///
/// # Safety
/// `schema` must point to a `struct ArrowSchema` (C Data Interface).
unsafe fn record_batch_type(schema: *const FFI_ArrowSchema) -> Result<(DataType, Fields)> {
    if schema.is_null() {
        return Err(Error::new(KilnStatus::NullArgument, "schema is NULL"));
    }
    // SAFETY: the C Data Interface fixes the layout both structs mirror.
    let raw = unsafe { &*schema.cast::<RawArrowSchema>() };
    if raw.release.is_none() {
        return Err(Error::invalid_argument("the ArrowSchema is already released"));
    }
    if raw.format.is_null() {
        return Err(Error::bad_buffer("malformed ArrowSchema: format is NULL"));
    }
    // SAFETY: checked non-NULL; the spec makes it a NUL-terminated string.
    let format = unsafe { CStr::from_ptr(raw.format) }.to_string_lossy().into_owned();
    // SAFETY: non-NULL, and a valid, unreleased schema (contract).
    let dt = DataType::try_from(unsafe { &*schema }).map_err(|e| Error::bad_buffer(format!("ArrowSchema: {e}")))?;
    match &dt {
        DataType::Struct(fields) => {
            let fields = fields.clone();
            Ok((dt, fields))
        }
        other => Err(Error::column_type(
            "(record batch)",
            format!("{other} (format '{format}')"),
            "a struct array whose children are the columns (format '+s')",
        )),
    }
}

/// A batch from a struct array's data, every column validated in full.
fn batch_from_struct_data(data: ArrayData, fields: &Fields) -> Result<Batch> {
    for (field, child) in fields.iter().zip(data.child_data()) {
        child.validate().map_err(|e| Error::bad_buffer(format!("column '{}': {e}", field.name())))?;
    }
    data.validate().map_err(|e| Error::bad_buffer(format!("record batch: {e}")))?;
    Batch::from_struct_array(&StructArray::from(data))
}

/// Import one struct array. Takes the array on every path: the caller's struct is marked
/// released at once, and kiln releases it (on failure, or when the batch is dropped).
///
/// # Safety
/// `array`, when non-NULL, must point to a valid `struct ArrowArray` and `schema`, when non-NULL,
/// to a valid `struct ArrowSchema` describing it (C Data Interface).
pub unsafe fn batch_from_c_array(array: *mut FFI_ArrowArray, schema: *const FFI_ArrowSchema) -> Result<Batch> {
    if array.is_null() {
        return Err(Error::new(KilnStatus::NullArgument, "array is NULL"));
    }
    // SAFETY: non-NULL and a valid array (contract); `from_raw` moves it out and marks the
    // caller's struct released, so exactly one release happens, from our drop.
    let array = unsafe { FFI_ArrowArray::from_raw(array) };
    if array.is_released() {
        return Err(Error::invalid_argument("the ArrowArray is already released"));
    }
    // SAFETY: forwarded from this function's contract.
    let (dt, fields) = unsafe { record_batch_type(schema)? };
    // SAFETY: `array` is a valid `struct ArrowArray`; the C layouts are the same.
    unsafe { check_shape((&raw const array).cast(), &dt, "")? };
    // SAFETY: the shape was checked against `dt`; values are validated before use below.
    let data = unsafe { from_ffi_and_data_type(array, dt) }?;
    batch_from_struct_data(data, &fields)
}

/// Import every chunk of a stream, then release it (on every path).
///
/// # Safety
/// `stream`, when non-NULL, must point to a valid `struct ArrowArrayStream` (C Stream Interface)
/// whose callbacks produce valid C Data Interface structs.
pub unsafe fn batches_from_c_stream(stream: *mut FFI_ArrowArrayStream) -> Result<Vec<Batch>> {
    if stream.is_null() {
        return Err(Error::new(KilnStatus::NullArgument, "stream is NULL"));
    }
    // SAFETY: non-NULL and valid (contract); moved out so that our drop releases it once.
    let mut stream = unsafe { FFI_ArrowArrayStream::from_raw(stream) };
    if stream.release().is_none() {
        return Err(Error::invalid_argument("the ArrowArrayStream is already released"));
    }
    let (Some(get_schema), Some(get_next)) = (stream.get_schema(), stream.get_next()) else {
        return Err(Error::bad_buffer("malformed ArrowArrayStream: get_schema or get_next is NULL"));
    };
    let producer_error = |stream: &mut FFI_ArrowArrayStream, what: &str, code: i32| {
        let detail = stream
            .get_last_error()
            // SAFETY: the last call on this unreleased stream failed, which is when the spec
            // allows get_last_error; its result is NULL or a NUL-terminated string.
            .map(|f| unsafe { f(stream) })
            .filter(|p| !p.is_null())
            // SAFETY: non-NULL, NUL-terminated (spec), valid until the next stream call.
            .map(|p| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
            .unwrap_or_else(|| "no message".into());
        Error::bad_buffer(format!("ArrowArrayStream {what} failed with code {code}: {detail}"))
    };
    let mut schema = FFI_ArrowSchema::empty();
    // SAFETY: a valid stream and a writable schema struct (C Stream Interface).
    let rc = unsafe { get_schema(&raw mut stream, &raw mut schema) };
    if rc != 0 {
        return Err(producer_error(&mut stream, "get_schema", rc));
    }
    // SAFETY: the producer filled `schema` (rc == 0).
    let (dt, fields) = unsafe { record_batch_type(&raw const schema)? };
    let mut batches = Vec::new();
    loop {
        let mut array = FFI_ArrowArray::empty();
        // SAFETY: a valid stream and a writable array struct (C Stream Interface).
        let rc = unsafe { get_next(&raw mut stream, &raw mut array) };
        if rc != 0 {
            return Err(producer_error(&mut stream, "get_next", rc));
        }
        if array.is_released() {
            break;
        }
        let chunk = batches.len();
        // SAFETY: the producer filled `array` (rc == 0, not released); same C layouts.
        unsafe { check_shape((&raw const array).cast(), &dt, "") }.map_err(|e| e.context(format!("stream chunk {chunk}")))?;
        // SAFETY: shape checked against the stream's type; values validated before use.
        let data = unsafe { from_ffi_and_data_type(array, dt.clone()) }?;
        batches.push(batch_from_struct_data(data, &fields).map_err(|e| e.context(format!("stream chunk {chunk}")))?);
    }
    if batches.is_empty() {
        // An empty stream still names its columns, so a model can bind to its zero rows.
        let columns = fields.iter().map(|f| (f.name().clone(), new_empty_array(f.data_type()))).collect();
        batches.push(Batch::new(columns)?);
    }
    Ok(batches)
}

/// Export helper for tests and hosts written in Rust: the C structs of a struct array.
pub fn struct_array_to_c(array: &StructArray) -> Result<(FFI_ArrowArray, FFI_ArrowSchema)> {
    let data = array.to_data();
    let schema = FFI_ArrowSchema::try_from(data.data_type()).map_err(|e| Error::internal(format!("exporting schema: {e}")))?;
    Ok((FFI_ArrowArray::new(&data), schema))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use arrow_array::{ArrayRef, Float64Array, StringArray};
    use arrow_schema::Field;

    fn struct_array() -> StructArray {
        StructArray::from(vec![
            (Arc::new(Field::new("x", DataType::Float64, true)), Arc::new(Float64Array::from(vec![1.0, 2.0])) as ArrayRef),
            (Arc::new(Field::new("s", DataType::Utf8, true)), Arc::new(StringArray::from(vec!["a", "bc"])) as ArrayRef),
        ])
    }

    #[test]
    fn round_trip_through_c_structs() {
        let (mut array, schema) = struct_array_to_c(&struct_array()).unwrap();
        // SAFETY: structs just exported by arrow-rs.
        let batch = unsafe { batch_from_c_array(&raw mut array, &raw const schema) }.unwrap();
        assert!(array.is_released(), "the caller's struct is marked released once moved");
        assert_eq!(batch.num_rows(), 2);
        assert_eq!(batch.column("s").unwrap().len(), 2);
    }

    #[test]
    fn wrong_child_count_is_a_bad_buffer_not_a_panic() {
        let (mut array, schema) = struct_array_to_c(&struct_array()).unwrap();
        // SAFETY: same layout; shrink n_children to lie about the shape.
        unsafe { (*(&raw mut array).cast::<RawArrowArray>()).n_children = 1 };
        // SAFETY: the struct is valid apart from the lie under test.
        let err = unsafe { batch_from_c_array(&raw mut array, &raw const schema) }.unwrap_err();
        assert_eq!(err.status(), KilnStatus::BadBuffer);
        assert!(err.message().contains("children"), "{}", err.message());
    }
}
