//! `KilnModel`: a loaded, immutable model shared by any number of host threads.

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

use serde_json::json;

use super::boundary::*;
use crate::artifact::{FORMAT_MAJOR, FORMAT_MINOR};
use crate::error::{Error, KilnStatus, Result};
use crate::schema::ColumnType;
use crate::Scorer;

/// Logical type of a model input column (`kiln_model_input`). The numbers are part of the
/// stable ABI.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KilnColumnType {
    Float64 = 1,
    Float32 = 2,
    Int64 = 3,
    Int32 = 4,
    Bool = 5,
    Categorical = 6,
    Date = 7,
    Timestamp = 8,
}

impl From<ColumnType> for KilnColumnType {
    fn from(t: ColumnType) -> Self {
        match t {
            ColumnType::Float64 => KilnColumnType::Float64,
            ColumnType::Float32 => KilnColumnType::Float32,
            ColumnType::Int64 => KilnColumnType::Int64,
            ColumnType::Int32 => KilnColumnType::Int32,
            ColumnType::Bool => KilnColumnType::Bool,
            ColumnType::Categorical => KilnColumnType::Categorical,
            ColumnType::Date => KilnColumnType::Date,
            ColumnType::Timestamp => KilnColumnType::Timestamp,
        }
    }
}

/// A loaded model (opaque). Immutable: functions taking `const KilnModel*` may run
/// concurrently from any number of threads. Made by `kiln_model_load`/`kiln_model_load_bytes`,
/// freed by `kiln_model_free`.
pub struct KilnModel {
    pub(crate) scorer: Scorer,
    fingerprint: CString,
    output_names: Vec<CString>,
    inputs: Vec<(CString, KilnColumnType)>,
    reason_sources: Vec<CString>,
    /// The description `kiln_model_info_json` gives, made on first request: schema, pipeline
    /// and provenance as JSON are as large as the rest of a small model (22 KB of a linear
    /// pipeline over 50 columns), and most hosts never ask.
    info_json: OnceLock<CString>,
    /// The reference profile's JSON, made on first request.
    reference_json: OnceLock<Option<CString>>,
}

impl Handle for KilnModel {
    type Ownership = OwnershipArc;
    const NAME: &'static str = "model";
}

fn c_string(s: &str, what: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::invalid_model(format!("{what} '{}' contains a NUL byte", s.replace('\0', "\\0"))))
}

impl KilnModel {
    pub(crate) fn new(scorer: Scorer) -> Result<Self> {
        let artifact = scorer.artifact_without_trees();
        let content = &artifact.content;
        let fingerprint = c_string(scorer.fingerprint(), "fingerprint")?;
        let output_names = scorer.output_names().into_iter().map(|n| c_string(n, "output name")).collect::<Result<_>>()?;
        let inputs = content
            .schema
            .columns
            .iter()
            .map(|c| Ok((c_string(&c.name, "column name")?, KilnColumnType::from(c.ty))))
            .collect::<Result<_>>()?;
        let reason_sources = (0..)
            .map_while(|i| scorer.reason_source(i))
            .map(|s| c_string(s, "reason source"))
            .collect::<Result<_>>()?;
        Ok(KilnModel {
            scorer,
            fingerprint,
            output_names,
            inputs,
            reason_sources,
            info_json: OnceLock::new(),
            reference_json: OnceLock::new(),
        })
    }

    pub(crate) fn info_json(&self) -> Result<&CString> {
        made_once(&self.info_json, || self.describe())
    }

    pub(crate) fn reference_json(&self) -> Result<Option<&CString>> {
        let made = made_once(&self.reference_json, || {
            self.scorer.reference_profile().map(|p| c_string(&p.to_json(), "reference profile")).transpose()
        })?;
        Ok(made.as_ref())
    }

    /// The model's description as JSON text (see `kiln_model_info_json`).
    fn describe(&self) -> Result<CString> {
        let scorer = &self.scorer;
        let artifact = scorer.artifact_without_trees();
        let content = &artifact.content;
        let mut model = json!({
            "kind": content.model.kind_name(),
            "features": content.model.features(),
            "n_outputs": content.model.n_outputs(),
        });
        if let Some(shape) = scorer.tree_shape() {
            model["n_trees"] = json!(shape.n_trees);
            model["depth"] = json!(shape.depth);
        }
        let info = json!({
            "fingerprint": artifact.fingerprint,
            "created_at": artifact.created_at,
            "format_version": format!("{FORMAT_MAJOR}.{FORMAT_MINOR}"),
            "schema": content.schema,
            "pipeline": content.pipeline,
            "model": model,
            "outputs": content.outputs,
            "provenance": content.provenance,
        });
        c_string(&info.to_string(), "model info")
    }
}

/// The value in `cell`, made by `make` on the first request. A racing first request may make
/// its own too; every caller gets the one stored (they are the same), so a pointer handed out
/// stays valid for the model's life.
fn made_once<T>(cell: &OnceLock<T>, make: impl FnOnce() -> Result<T>) -> Result<&T> {
    if let Some(made) = cell.get() {
        return Ok(made);
    }
    let made = make()?;
    Ok(cell.get_or_init(|| made))
}

fn index_error(what: &str, i: usize, n: usize) -> Error {
    Error::invalid_argument(format!("{what} index {i} is out of range: the model has {n}"))
}

/// Load a model artifact file. `expect_fingerprint` (nullable) pins the content: a different
/// fingerprint fails with `KILN_STATUS_FINGERPRINT_MISMATCH`. On success `*out` receives a model
/// to free with `kiln_model_free`; on failure `*out` is untouched.
///
/// # Safety
/// `path` and `expect_fingerprint` (when non-NULL) are NUL-terminated strings; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_load(path: *const c_char, expect_fingerprint: *const c_char, out: *mut *const KilnModel) -> KilnStatus {
    guard("kiln_model_load", || {
        let out = out_ptr(out, "out")?;
        // SAFETY: NUL-terminated strings or NULL (contract).
        let (path, pin) = unsafe { (str_arg(path, "path")?, opt_str_arg(expect_fingerprint, "expect_fingerprint")?) };
        let model = KilnModel::new(Scorer::load(path, pin)?)?;
        // SAFETY: `out` is non-NULL and writable (contract).
        unsafe { write_out(out, arc_into_raw(model)) };
        Ok(())
    })
}

/// Load a model artifact from `len` bytes at `data` (copied; the host may free them after the
/// call). `expect_fingerprint` and `out` as in `kiln_model_load`.
///
/// # Safety
/// `data` is readable for `len` bytes; strings and `out` as in `kiln_model_load`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_load_bytes(
    data: *const u8,
    len: usize,
    expect_fingerprint: *const c_char,
    out: *mut *const KilnModel,
) -> KilnStatus {
    guard("kiln_model_load_bytes", || {
        let out = out_ptr(out, "out")?;
        if data.is_null() && len > 0 {
            return Err(null_argument("data"));
        }
        // SAFETY: readable for `len` bytes (contract); an empty slice for len 0.
        let bytes = if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(data, len) } };
        // SAFETY: NUL-terminated or NULL (contract).
        let pin = unsafe { opt_str_arg(expect_fingerprint, "expect_fingerprint")? };
        let model = KilnModel::new(Scorer::from_bytes(bytes, pin)?)?;
        // SAFETY: `out` is non-NULL and writable (contract).
        unsafe { write_out(out, arc_into_raw(model)) };
        Ok(())
    })
}

/// Import a model trained by another library from `len` bytes at `data` (copied) with default
/// options: `format` "xgboost-json" for an XGBoost JSON model file (`save_model("m.json")`),
/// "xgboost-ubj" for an XGBoost UBJSON model file (`save_model("m.ubj")`, XGBoost 3's default),
/// or "lightgbm-text" for a LightGBM text model (`save_model()`): all trees, the model's feature
/// names. An unknown format is `KILN_STATUS_INVALID_ARGUMENT`;
/// an unsupported model (objective, booster, ...) is `KILN_STATUS_INVALID_MODEL` and bytes
/// that cannot be parsed are `KILN_STATUS_MALFORMED_ARTIFACT`, each with a message naming the
/// problem. On success `*out` receives a model to free with `kiln_model_free`.
///
/// # Safety
/// `format` is a NUL-terminated string; `data` is readable for `len` bytes; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_import(format: *const c_char, data: *const u8, len: usize, out: *mut *const KilnModel) -> KilnStatus {
    guard("kiln_model_import", || {
        // SAFETY: forwarded contract.
        unsafe { import_impl(format, data, len, None, out) }
    })
}

/// Like `kiln_model_import`, with options as a JSON object (NULL or "" for the defaults):
/// `{"feature_names": ["a", ...]}` renames the inputs (one name per model feature);
/// `{"iteration_range": [begin, end]}` (XGBoost; end exclusive, 0 = the last) or
/// `{"best_iteration": true}` (XGBoost, the early-stopping best) or `{"num_iteration": n}`
/// (LightGBM, the first n; 0 = all) keep only those boosting iterations, as the library's
/// predict does with the same argument. An unknown key, or a key for the other library, is
/// `KILN_STATUS_INVALID_ARGUMENT`. Statuses and ownership otherwise as `kiln_model_import`.
///
/// # Safety
/// As `kiln_model_import`; `options_json` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_import_with(
    format: *const c_char,
    data: *const u8,
    len: usize,
    options_json: *const c_char,
    out: *mut *const KilnModel,
) -> KilnStatus {
    guard("kiln_model_import_with", || {
        // SAFETY: NUL-terminated or NULL (contract).
        let options = unsafe { opt_str_arg(options_json, "options_json")? };
        // SAFETY: forwarded contract.
        unsafe { import_impl(format, data, len, options, out) }
    })
}

/// # Safety
/// As `kiln_model_import`.
unsafe fn import_impl(format: *const c_char, data: *const u8, len: usize, options: Option<&str>, out: *mut *const KilnModel) -> Result<()> {
    let out = out_ptr(out, "out")?;
    // SAFETY: NUL-terminated string (contract).
    let format = unsafe { str_arg(format, "format")? };
    if data.is_null() && len > 0 {
        return Err(null_argument("data"));
    }
    // SAFETY: readable for `len` bytes (contract); an empty slice for len 0.
    let bytes = if len == 0 { &[][..] } else { unsafe { std::slice::from_raw_parts(data, len) } };
    let options = crate::import::ImportOptions::from_json(options.unwrap_or(""))?;
    let artifact = crate::import::import(format, bytes, &options)?;
    let model = KilnModel::new(Scorer::new(artifact)?)?;
    // SAFETY: `out` is non-NULL and writable (contract).
    unsafe { write_out(out, arc_into_raw(model)) };
    Ok(())
}

/// Free a model. NULL is a no-op. Every string obtained from the model dies with it. Never free
/// twice, and never while another thread still uses the model.
///
/// # Safety
/// `model` is NULL or came from `kiln_model_load*` and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_free(model: *const KilnModel) {
    // SAFETY: forwarded from this function's contract.
    guard_value("kiln_model_free", (), || unsafe { arc_free(model) })
}

/// A getter: check the model and out-pointer, compute, then write.
///
/// # Safety
/// `model` is NULL or a live model; `out` is NULL or writable.
unsafe fn get<T>(function: &str, model: *const KilnModel, out: *mut T, f: impl FnOnce(&KilnModel) -> Result<T>) -> KilnStatus {
    guard(function, || {
        let out = out_ptr(out, "out")?;
        // SAFETY: NULL or a live model (contract).
        let m = unsafe { arc_ref(model)? };
        let v = f(m)?;
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, v) };
        Ok(())
    })
}

/// The model's content fingerprint, `"sha256:<64 hex digits>"`; lives as long as the model.
///
/// # Safety
/// `model` is a live model; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_fingerprint(model: *const KilnModel, out: *mut *const c_char) -> KilnStatus {
    // SAFETY: forwarded from this function's contract.
    unsafe { get("kiln_model_fingerprint", model, out, |m| Ok(m.fingerprint.as_ptr())) }
}

/// Number of output columns.
///
/// # Safety
/// `model` is a live model; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_num_outputs(model: *const KilnModel, out: *mut usize) -> KilnStatus {
    // SAFETY: forwarded from this function's contract.
    unsafe { get("kiln_model_num_outputs", model, out, |m| Ok(m.output_names.len())) }
}

/// Name of output `i` (`0 <= i < num_outputs`); lives as long as the model.
///
/// # Safety
/// `model` is a live model; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_output_name(model: *const KilnModel, i: usize, out: *mut *const c_char) -> KilnStatus {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        get("kiln_model_output_name", model, out, |m| {
            m.output_names.get(i).map(|s| s.as_ptr()).ok_or_else(|| index_error("output", i, m.output_names.len()))
        })
    }
}

/// Number of input columns the model needs (schema columns).
///
/// # Safety
/// `model` is a live model; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_num_inputs(model: *const KilnModel, out: *mut usize) -> KilnStatus {
    // SAFETY: forwarded from this function's contract.
    unsafe { get("kiln_model_num_inputs", model, out, |m| Ok(m.inputs.len())) }
}

/// Name and logical type (`KilnColumnType`) of input column `i`. The name lives as long as the
/// model. Both out-pointers are required.
///
/// # Safety
/// `model` is a live model; `name` and `column_type` are writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_input(model: *const KilnModel, i: usize, name: *mut *const c_char, column_type: *mut i32) -> KilnStatus {
    guard("kiln_model_input", || {
        let name = out_ptr(name, "name")?;
        let column_type = out_ptr(column_type, "column_type")?;
        // SAFETY: NULL or a live model (contract).
        let m = unsafe { arc_ref(model)? };
        let (n, t) = m.inputs.get(i).ok_or_else(|| index_error("input", i, m.inputs.len()))?;
        // SAFETY: both non-NULL and writable (contract).
        unsafe {
            write_out(name, n.as_ptr());
            write_out(column_type, *t as i32);
        }
        Ok(())
    })
}

/// A JSON object describing the model: `fingerprint`, `created_at`, `format_version`, `schema`,
/// `pipeline`, `model` (kind, features, n_outputs; for trees n_trees and depth), `outputs`,
/// `provenance`. Lives as long as the model.
///
/// # Safety
/// `model` is a live model; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_info_json(model: *const KilnModel, out: *mut *const c_char) -> KilnStatus {
    // SAFETY: forwarded from this function's contract.
    unsafe { get("kiln_model_info_json", model, out, |m| Ok(m.info_json()?.as_ptr())) }
}

/// The schema column or pipeline step a per-row reason id (from `kiln_model_score`) names.
/// Lives as long as the model.
///
/// # Safety
/// `model` is a live model; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_reason_source(model: *const KilnModel, reason: i32, out: *mut *const c_char) -> KilnStatus {
    // SAFETY: forwarded from this function's contract.
    unsafe {
        get("kiln_model_reason_source", model, out, |m| {
            usize::try_from(reason)
                .ok()
                .and_then(|i| m.reason_sources.get(i))
                .map(|s| s.as_ptr())
                .ok_or_else(|| Error::invalid_argument(format!("reason id {reason} is out of range: the model has {} reasons", m.reason_sources.len())))
        })
    }
}

/// Write the model's artifact to the file at `path` (created or replaced). What is written loads
/// back with the same fingerprint; this is how a model made by `kiln_model_import` (or built by
/// an exporter) is kept.
///
/// # Safety
/// `model` is a live model; `path` is a NUL-terminated UTF-8 string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_save(model: *const KilnModel, path: *const c_char) -> KilnStatus {
    guard("kiln_model_save", || {
        // SAFETY: NULL or a live model; NUL-terminated string (contract).
        let (m, path) = unsafe { (arc_ref(model)?, str_arg(path, "path")?) };
        m.scorer.artifact()?.save(path)
    })
}

/// The model's artifact file bytes, two calls: with `buf` NULL (or too small) `*out_len`
/// receives the size needed and nothing is copied; with `buf_len >= *out_len` the bytes are
/// copied into `buf`. A non-NULL `buf` that is too small is `KILN_STATUS_BUFFER_TOO_SMALL`.
///
/// # Safety
/// `model` is a live model; `buf` is NULL or writable for `buf_len` bytes; `out_len` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_to_bytes(model: *const KilnModel, buf: *mut u8, buf_len: usize, out_len: *mut usize) -> KilnStatus {
    guard("kiln_model_to_bytes", || {
        let out_len = out_ptr(out_len, "out_len")?;
        // SAFETY: NULL or a live model (contract).
        let m = unsafe { arc_ref(model)? };
        let bytes = m.scorer.artifact()?.to_bytes()?;
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out_len, bytes.len()) };
        if buf.is_null() {
            return Ok(());
        }
        // SAFETY: writable for `buf_len` bytes and not aliased (contract).
        let dst = unsafe { out_slice("buf", buf, buf_len, bytes.len())? };
        dst[..bytes.len()].copy_from_slice(&bytes);
        Ok(())
    })
}

/// The thread-safety rules of the header, proven at compile time: a model is shared across
/// threads, a batch or report may move between them.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    const fn movable<T: Send>() {}
    shared::<KilnModel>();
    movable::<super::batch::KilnBatch>();
    movable::<super::score::KilnReport>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_type_numbers_are_fixed() {
        assert_eq!(KilnColumnType::Float64 as i32, 1);
        assert_eq!(KilnColumnType::Categorical as i32, 6);
        assert_eq!(KilnColumnType::Timestamp as i32, 8);
    }
}
