//! The C ABI called from Rust exactly as a host would: raw pointers, status codes, out-params,
//! last-error messages.

use crate::common;

use std::ffi::{CStr, CString, c_char};
use std::ptr;
use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, ArrayRef, Float64Array, Int32Array, RecordBatch, RecordBatchIterator, StringArray, StructArray};
use arrow_schema::{DataType, Field, Schema};
use kiln::ffi::*;
use kiln::{Batch, KilnStatus, ScoreOptions, Scorer};

const OK: KilnStatus = KilnStatus::Ok;

fn last_error() -> String {
    // SAFETY: kiln_last_error returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(kiln_last_error()) }.to_string_lossy().into_owned()
}

fn cstr(p: *const c_char) -> String {
    assert!(!p.is_null());
    // SAFETY: kiln returns NUL-terminated strings that outlive this call.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Assert a status and that the last error mentions every one of `words`.
#[track_caller]
fn assert_fails(status: KilnStatus, expected: KilnStatus, words: &[&str]) {
    let msg = last_error();
    assert_eq!(status, expected, "status {status:?}, message: {msg}");
    for w in words {
        assert!(msg.contains(w), "last error {msg:?} does not mention {w:?}");
    }
}

struct Model(*const KilnModel);
impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: a live model from kiln_model_load*.
        unsafe { kiln_model_free(self.0) }
    }
}

fn load(name: &str, pin: Option<&str>) -> Result<Model, KilnStatus> {
    let path = CString::new(common::data_path(name).to_str().unwrap()).unwrap();
    let pin = pin.map(|p| CString::new(p).unwrap());
    let mut out = ptr::null();
    // SAFETY: valid strings and out-pointer.
    let s = unsafe { kiln_model_load(path.as_ptr(), pin.as_ref().map_or(ptr::null(), |p| p.as_ptr()), &mut out) };
    if s == OK { Ok(Model(out)) } else { Err(s) }
}

fn trees() -> Model {
    load("credit_trees.kiln", None).unwrap_or_else(|s| panic!("{s:?}: {}", last_error()))
}

struct RawBatch(*mut KilnBatch);
impl Drop for RawBatch {
    fn drop(&mut self) {
        // SAFETY: a live batch.
        unsafe { kiln_batch_free(self.0) }
    }
}

fn new_batch(n: usize) -> RawBatch {
    let mut b = ptr::null_mut();
    // SAFETY: valid out-pointer.
    assert_eq!(unsafe { kiln_batch_new(n, &mut b) }, OK);
    RawBatch(b)
}

/// Host memory for the test rows, alive as long as the batch.
struct Rows {
    age: Vec<f64>,
    income: Vec<f64>,
    income_mask: Vec<u8>,
    offsets: Vec<i32>,
    text: Vec<u8>,
    validity: Vec<u8>,
}

const AGES: [f64; 5] = [35.0, 52.0, 47.0, 61.0, 44.0];
const INCOMES: [Option<f64>; 5] = [Some(1500.0), None, Some(3000.0), Some(2500.0), Some(900.0)];
const PROVINCES: [Option<&str>; 5] = [Some("MADRID"), Some("BARCELONA"), Some("SEVILLA"), None, Some("LISBOA")];

fn rows() -> Rows {
    let mut offsets = vec![0];
    let mut text = Vec::new();
    for p in PROVINCES {
        text.extend_from_slice(p.unwrap_or("").as_bytes());
        offsets.push(text.len() as i32);
    }
    let validity = vec![PROVINCES.iter().enumerate().fold(0u8, |acc, (i, p)| acc | (u8::from(p.is_some()) << i))];
    Rows {
        age: AGES.to_vec(),
        income: INCOMES.iter().map(|x| x.unwrap_or(0.0)).collect(),
        income_mask: INCOMES.iter().map(|x| u8::from(x.is_none())).collect(),
        offsets,
        text,
        validity,
    }
}

fn add_rows(b: &RawBatch, r: &Rows) {
    let n = r.age.len();
    // SAFETY: every pointer covers its stated length and outlives the batch (the caller keeps
    // `r` alive until the batch is dropped).
    unsafe {
        assert_eq!(kiln_batch_add_column(b.0, c"age".as_ptr(), 1, r.age.as_ptr().cast(), n, ptr::null(), ptr::null()), OK, "{}", last_error());
        assert_eq!(
            kiln_batch_add_column(b.0, c"income".as_ptr(), 1, r.income.as_ptr().cast(), n, ptr::null(), r.income_mask.as_ptr()),
            OK,
            "{}",
            last_error()
        );
        assert_eq!(
            kiln_batch_add_utf8(b.0, c"province".as_ptr(), r.offsets.as_ptr(), r.text.as_ptr(), r.text.len(), n, r.validity.as_ptr(), ptr::null()),
            OK,
            "{}",
            last_error()
        );
    }
}

struct Out {
    scores: Vec<f64>,
    status: Vec<i32>,
    reason: Vec<i32>,
    report: String,
}

fn score(m: &Model, b: *const KilnBatch, n: usize) -> Result<Out, KilnStatus> {
    let mut scores = vec![-7.0; n];
    let mut status = vec![-7; n];
    let mut reason = vec![-7; n];
    let mut report = ptr::null_mut();
    // SAFETY: buffers sized as stated.
    let s = unsafe {
        kiln_model_score(m.0, b, 1, scores.as_mut_ptr(), n, status.as_mut_ptr(), n, reason.as_mut_ptr(), n, &mut report)
    };
    if s != OK {
        assert!(report.is_null(), "no report on failure");
        assert!(scores.iter().all(|x| *x == -7.0) && status.iter().all(|x| *x == -7), "outputs untouched on failure");
        return Err(s);
    }
    let mut json = ptr::null();
    // SAFETY: a live report.
    assert_eq!(unsafe { kiln_report_json(report, &mut json) }, OK);
    let report_json = cstr(json);
    // SAFETY: a live report, freed once.
    unsafe { kiln_report_free(report) };
    Ok(Out { scores, status, reason, report: report_json })
}

fn check_expected(m: &Model, out: &Out) {
    for i in 0..4 {
        let want = common::expected_trees(Some(AGES[i]), INCOMES[i], PROVINCES[i]);
        assert_eq!(out.status[i], 0, "row {i}");
        assert_eq!(out.scores[i], want, "row {i}");
        assert_eq!(out.reason[i], -1);
    }
    // LISBOA is outside the schema's categories: flagged, NaN, reason names the column.
    assert_eq!(out.status[4], kiln::RowStatus::UnknownCategory as i32);
    assert!(out.scores[4].is_nan());
    let mut src = ptr::null();
    // SAFETY: live model, valid out-pointer.
    assert_eq!(unsafe { kiln_model_reason_source(m.0, out.reason[4], &mut src) }, OK);
    assert_eq!(cstr(src), "province");
    let report: serde_json::Value = serde_json::from_str(&out.report).unwrap();
    assert_eq!(report["rows"], 5);
    assert_eq!(report["scored"], 4);
    assert_eq!(report["flagged"], 1);
    assert_eq!(report["reasons"][0]["status"], "unknown_category");
    assert_eq!(report["reasons"][0]["source"], "province");
}

#[test]
fn versions_and_names() {
    assert_eq!(kiln_abi_version(), 1);
    assert_eq!(KILN_ABI_VERSION, 1);
    assert_eq!(cstr(kiln_version()), env!("CARGO_PKG_VERSION"));
    assert_eq!(cstr(kiln_status_name(8)), "missing_column");
    assert_eq!(cstr(kiln_status_name(12345)), "unknown");
    for s in KilnStatus::ALL {
        assert_eq!(cstr(kiln_status_name(s as i32)), s.name());
    }
    assert_eq!(cstr(kiln_row_status_name(2)), "unknown_category");
    assert_eq!(cstr(kiln_row_status_name(-1)), "unknown");
    assert_eq!(cstr(kiln_row_status_description(0)), "scored");
}

#[test]
fn load_good_model_and_read_its_metadata() {
    let m = trees();
    let pin = std::fs::read_to_string(common::data_path("credit_trees.fingerprint")).unwrap();
    let mut fp = ptr::null();
    let mut n = 0usize;
    // SAFETY: live model, valid out-pointers.
    unsafe {
        assert_eq!(kiln_model_fingerprint(m.0, &mut fp), OK);
        assert_eq!(cstr(fp), pin.trim());
        assert_eq!(kiln_model_num_outputs(m.0, &mut n), OK);
        assert_eq!(n, 1);
        let mut name = ptr::null();
        assert_eq!(kiln_model_output_name(m.0, 0, &mut name), OK);
        assert_eq!(cstr(name), "probability");
        assert_fails(kiln_model_output_name(m.0, 1, &mut name), KilnStatus::InvalidArgument, &["output index 1"]);
        assert_eq!(kiln_model_num_inputs(m.0, &mut n), OK);
        assert_eq!(n, 3);
        let mut ty = 0;
        assert_eq!(kiln_model_input(m.0, 2, &mut name, &mut ty), OK);
        assert_eq!((cstr(name).as_str(), ty), ("province", KilnColumnType::Categorical as i32));
        let mut json = ptr::null();
        assert_eq!(kiln_model_info_json(m.0, &mut json), OK);
        let info: serde_json::Value = serde_json::from_str(&cstr(json)).unwrap();
        assert_eq!(info["fingerprint"], pin.trim());
        assert_eq!(info["model"]["kind"], "tree_ensemble");
        assert_eq!(info["model"]["n_trees"], 2);
        assert_eq!(info["model"]["depth"], 2);
        assert_eq!(info["schema"]["columns"][2]["name"], "province");
        assert_eq!(info["created_at"], "2024-01-01T00:00:00Z");
        let mut again = ptr::null();
        assert_eq!(kiln_model_info_json(m.0, &mut again), OK);
        assert_eq!(again, json, "made once, then the same string for the model's life");
    }
    // A fresh model's description, first asked for by several threads at once: one string.
    let fresh = trees();
    let model = fresh.0 as usize;
    let got: Vec<usize> = std::thread::scope(|s| {
        let asks: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(move || {
                    let mut p = ptr::null();
                    // SAFETY: a live model, shared read-only; a valid out-pointer.
                    assert_eq!(unsafe { kiln_model_info_json(model as *const KilnModel, &mut p) }, OK);
                    p as usize
                })
            })
            .collect();
        asks.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(got.iter().all(|&p| p == got[0]), "{got:?}");
    let info: serde_json::Value = serde_json::from_str(&cstr(got[0] as *const c_char)).unwrap();
    assert_eq!(info["fingerprint"], pin.trim());
    drop(fresh);
    // The pinned fingerprint loads; with or without the prefix.
    assert!(load("credit_trees.kiln", Some(pin.trim())).is_ok());
    assert!(load("credit_trees.kiln", Some(pin.trim().trim_start_matches("sha256:"))).is_ok());
}

#[test]
fn load_failures_name_the_problem() {
    let wrong = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_fails(load("credit_trees.kiln", Some(wrong)).err().unwrap(), KilnStatus::FingerprintMismatch, &["fingerprint mismatch", wrong]);
    assert_fails(load("no_such_file.kiln", None).err().unwrap(), KilnStatus::Io, &["no_such_file.kiln"]);

    let good = std::fs::read(common::data_path("credit_logistic.kiln")).unwrap();
    let load_bytes = |bytes: &[u8]| {
        let mut out = ptr::null();
        // SAFETY: valid slice and out-pointer.
        let s = unsafe { kiln_model_load_bytes(bytes.as_ptr(), bytes.len(), ptr::null(), &mut out) };
        if s == OK {
            // SAFETY: a live model.
            unsafe { kiln_model_free(out) };
        } else {
            assert!(out.is_null(), "out untouched on failure");
        }
        s
    };
    assert_eq!(load_bytes(&good), OK);
    assert_fails(load_bytes(b"this is not json"), KilnStatus::MalformedArtifact, &["malformed artifact"]);
    assert_fails(load_bytes(&good[..good.len() / 2]), KilnStatus::MalformedArtifact, &["truncated"]);
    let tampered = String::from_utf8(good.clone()).unwrap().replace("-1.5", "-1.25");
    assert_fails(load_bytes(tampered.as_bytes()), KilnStatus::FingerprintMismatch, &["altered or corrupted"]);
    let newer = String::from_utf8(good).unwrap().replace("\"format_version\":\"1.0\"", "\"format_version\":\"9.0\"");
    assert_fails(load_bytes(newer.as_bytes()), KilnStatus::UnsupportedVersion, &["9.0"]);
}

#[test]
fn null_handles_and_out_pointers_are_refused() {
    let m = trees();
    let b = new_batch(1);
    let mut n = 0usize;
    let mut s_ptr = ptr::null();
    // SAFETY: NULL handles and out-pointers are exactly what is under test.
    unsafe {
        assert_fails(kiln_model_load(ptr::null(), ptr::null(), &mut ptr::null()), KilnStatus::NullArgument, &["path"]);
        let path = CString::new(common::data_path("credit_trees.kiln").to_str().unwrap()).unwrap();
        assert_fails(kiln_model_load(path.as_ptr(), ptr::null(), ptr::null_mut()), KilnStatus::NullArgument, &["out"]);
        assert_fails(kiln_model_load_bytes(ptr::null(), 10, ptr::null(), &mut ptr::null()), KilnStatus::NullArgument, &["data"]);
        assert_fails(kiln_model_num_outputs(ptr::null(), &mut n), KilnStatus::NullArgument, &["model"]);
        assert_fails(kiln_model_num_outputs(m.0, ptr::null_mut()), KilnStatus::NullArgument, &["out"]);
        assert_fails(kiln_model_fingerprint(ptr::null(), &mut s_ptr), KilnStatus::NullArgument, &["model"]);
        assert_fails(kiln_model_input(m.0, 0, ptr::null_mut(), &mut 0), KilnStatus::NullArgument, &["name"]);
        assert_fails(kiln_batch_num_rows(ptr::null(), &mut n), KilnStatus::NullArgument, &["batch"]);
        assert_fails(kiln_batch_new(3, ptr::null_mut()), KilnStatus::NullArgument, &["out"]);
        let x = [1.0f64];
        assert_fails(
            kiln_batch_add_column(ptr::null_mut(), c"age".as_ptr(), 1, x.as_ptr().cast(), 1, ptr::null(), ptr::null()),
            KilnStatus::NullArgument,
            &["batch"],
        );
        assert_fails(
            kiln_batch_add_column(b.0, ptr::null(), 1, x.as_ptr().cast(), 1, ptr::null(), ptr::null()),
            KilnStatus::NullArgument,
            &["name"],
        );
        assert_fails(
            kiln_batch_add_column(b.0, c"age".as_ptr(), 1, ptr::null(), 1, ptr::null(), ptr::null()),
            KilnStatus::NullArgument,
            &["age", "data pointer is NULL"],
        );
        let mut scores = [0.0];
        let mut status = [0];
        assert_fails(
            kiln_model_score(ptr::null(), b.0, 0, scores.as_mut_ptr(), 1, status.as_mut_ptr(), 1, ptr::null_mut(), 0, ptr::null_mut()),
            KilnStatus::NullArgument,
            &["model"],
        );
        assert_fails(
            kiln_model_score(m.0, ptr::null(), 0, scores.as_mut_ptr(), 1, status.as_mut_ptr(), 1, ptr::null_mut(), 0, ptr::null_mut()),
            KilnStatus::NullArgument,
            &["batch"],
        );
        assert_fails(kiln_report_json(ptr::null(), &mut s_ptr), KilnStatus::NullArgument, &["report"]);
        assert_fails(kiln_batch_from_arrow(ptr::null_mut(), ptr::null(), &mut ptr::null_mut()), KilnStatus::NullArgument, &["array"]);
        assert_fails(kiln_batch_from_arrow_stream(ptr::null_mut(), &mut ptr::null_mut()), KilnStatus::NullArgument, &["stream"]);
        // _free(NULL) is a no-op.
        kiln_model_free(ptr::null());
        kiln_batch_free(ptr::null_mut());
        kiln_report_free(ptr::null_mut());
    }
}

#[test]
fn raw_door_scores_the_reference_numbers() {
    let m = trees();
    let r = rows();
    let b = new_batch(5);
    add_rows(&b, &r);
    let mut n = 0;
    // SAFETY: live batch.
    assert_eq!(unsafe { kiln_batch_num_rows(b.0, &mut n) }, OK);
    assert_eq!(n, 5);
    let out = score(&m, b.0, 5).unwrap();
    check_expected(&m, &out);
}

#[test]
fn raw_door_dictionary_codes_pandas_and_r() {
    let m = load("credit_logistic.kiln", None).unwrap();
    let dict_text = b"MADRIDBARCELONA";
    let dict_offsets = [0i32, 6, 15];
    let age = [30.0f64, 30.0, 30.0];
    let income = [1000.0f64; 3];
    for (base, codes) in [(0, [0i32, 1, -1]), (1, [1, 2, i32::MIN])] {
        let b = new_batch(3);
        // SAFETY: pointers cover their lengths and outlive the batch.
        unsafe {
            assert_eq!(kiln_batch_add_column(b.0, c"age".as_ptr(), 1, age.as_ptr().cast(), 3, ptr::null(), ptr::null()), OK);
            assert_eq!(kiln_batch_add_column(b.0, c"income".as_ptr(), 1, income.as_ptr().cast(), 3, ptr::null(), ptr::null()), OK);
            let s = kiln_batch_add_dictionary(b.0, c"province".as_ptr(), codes.as_ptr(), 3, dict_offsets.as_ptr(), dict_text.as_ptr(), 15, 2, base);
            assert_eq!(s, OK, "{}", last_error());
        }
        let out = score(&m, b.0, 3).unwrap();
        let want: Vec<f64> = [Some("MADRID"), Some("BARCELONA"), None].iter().map(|p| common::expected_logistic(30.0, Some(1000.0), *p)).collect();
        // The reference sums in another order than the engine: equal to rounding.
        for (got, want) in out.scores.iter().zip(&want) {
            assert!((got - want).abs() < 1e-12, "code_base {base}: {got} vs {want}");
        }
        assert_eq!(out.status, [0, 0, 0]);
    }
}

#[test]
fn missing_column_and_wrong_column_type() {
    let m = trees();
    let r = rows();
    let b = new_batch(5);
    // SAFETY: pointers cover their lengths and outlive the batch.
    unsafe {
        assert_eq!(kiln_batch_add_column(b.0, c"age".as_ptr(), 1, r.age.as_ptr().cast(), 5, ptr::null(), ptr::null()), OK);
        assert_eq!(kiln_batch_add_column(b.0, c"income".as_ptr(), 1, r.income.as_ptr().cast(), 5, ptr::null(), ptr::null()), OK);
    }
    assert_fails(score(&m, b.0, 5).err().unwrap(), KilnStatus::MissingColumn, &["province"]);
    // A numeric column where the model expects a categorical one.
    // SAFETY: as above.
    unsafe {
        assert_eq!(kiln_batch_add_column(b.0, c"province".as_ptr(), 1, r.age.as_ptr().cast(), 5, ptr::null(), ptr::null()), OK);
    }
    assert_fails(score(&m, b.0, 5).err().unwrap(), KilnStatus::ColumnType, &["province", "categorical"]);
}

#[test]
fn bad_raw_buffers_are_refused_before_reading() {
    let b = new_batch(3);
    let x = [0.0f64; 4];
    let bytes = b"abcdef";
    // SAFETY: pointers cover what kiln may read before refusing; lies are in the lengths.
    unsafe {
        // Offsets past the end of the data.
        let offsets = [0i32, 2, 4, 9];
        assert_fails(
            kiln_batch_add_utf8(b.0, c"s".as_ptr(), offsets.as_ptr(), bytes.as_ptr(), 6, 3, ptr::null(), ptr::null()),
            KilnStatus::BadBuffer,
            &["column 's'", "offset 3 is 9", "past the end"],
        );
        let offsets = [0i32, 4, 2, 6];
        assert_fails(
            kiln_batch_add_utf8(b.0, c"s".as_ptr(), offsets.as_ptr(), bytes.as_ptr(), 6, 3, ptr::null(), ptr::null()),
            KilnStatus::BadBuffer,
            &["column 's'", "decrease"],
        );
        // Invalid UTF-8.
        let bad = [b'a', 0xff, b'c'];
        let offsets = [0i32, 1, 2, 3];
        assert_fails(
            kiln_batch_add_utf8(b.0, c"s".as_ptr(), offsets.as_ptr(), bad.as_ptr(), 3, 3, ptr::null(), ptr::null()),
            KilnStatus::BadBuffer,
            &["column 's'", "utf"],
        );
        // Dictionary code out of range.
        let codes = [0i32, 5, 1];
        let dict_offsets = [0i32, 3, 6];
        assert_fails(
            kiln_batch_add_dictionary(b.0, c"d".as_ptr(), codes.as_ptr(), 3, dict_offsets.as_ptr(), bytes.as_ptr(), 6, 2, 0),
            KilnStatus::BadBuffer,
            &["column 'd'", "code 5 at row 1"],
        );
        // R codes start at 1: 0 is out of range there.
        let codes = [1i32, 0, 2];
        assert_fails(
            kiln_batch_add_dictionary(b.0, c"d".as_ptr(), codes.as_ptr(), 3, dict_offsets.as_ptr(), bytes.as_ptr(), 6, 2, 1),
            KilnStatus::BadBuffer,
            &["column 'd'", "code 0 at row 1"],
        );
        assert_fails(
            kiln_batch_add_dictionary(b.0, c"d".as_ptr(), codes.as_ptr(), 3, dict_offsets.as_ptr(), bytes.as_ptr(), 6, 2, 2),
            KilnStatus::InvalidArgument,
            &["code_base"],
        );
        // Misaligned f64 data.
        let misaligned = x.as_ptr().cast::<u8>().add(1);
        assert_fails(
            kiln_batch_add_column(b.0, c"m".as_ptr(), 1, misaligned.cast(), 3, ptr::null(), ptr::null()),
            KilnStatus::BadBuffer,
            &["column 'm'", "not aligned to 8 bytes"],
        );
        // Wrong length, unknown type, both null encodings, bool8 that is not 0/1.
        assert_fails(
            kiln_batch_add_column(b.0, c"m".as_ptr(), 1, x.as_ptr().cast(), 4, ptr::null(), ptr::null()),
            KilnStatus::BadBuffer,
            &["column 'm' has 4 values, the batch has 3 rows"],
        );
        assert_fails(
            kiln_batch_add_column(b.0, c"m".as_ptr(), 42, x.as_ptr().cast(), 3, ptr::null(), ptr::null()),
            KilnStatus::InvalidArgument,
            &["physical_type 42"],
        );
        let mask = [0u8; 3];
        assert_fails(
            kiln_batch_add_column(b.0, c"m".as_ptr(), 1, x.as_ptr().cast(), 3, mask.as_ptr(), mask.as_ptr()),
            KilnStatus::InvalidArgument,
            &["at most one"],
        );
        let b8 = [0u8, 1, 2];
        assert_fails(
            kiln_batch_add_column(b.0, c"flag".as_ptr(), 8, b8.as_ptr().cast(), 3, ptr::null(), ptr::null()),
            KilnStatus::BadBuffer,
            &["column 'flag'", "row 2 is 2"],
        );
        // A name given twice.
        assert_eq!(kiln_batch_add_column(b.0, c"m".as_ptr(), 1, x.as_ptr().cast(), 3, ptr::null(), ptr::null()), OK);
        assert_fails(
            kiln_batch_add_column(b.0, c"m".as_ptr(), 1, x.as_ptr().cast(), 3, ptr::null(), ptr::null()),
            KilnStatus::InvalidArgument,
            &["'m' appears twice"],
        );
    }
}

#[test]
fn buffer_too_small_writes_nothing() {
    let m = trees();
    let r = rows();
    let b = new_batch(5);
    add_rows(&b, &r);
    let mut scores = vec![-7.0; 4];
    let mut status = vec![-7; 5];
    // SAFETY: buffers sized as stated.
    let s = unsafe { kiln_model_score(m.0, b.0, 0, scores.as_mut_ptr(), 4, status.as_mut_ptr(), 5, ptr::null_mut(), 0, ptr::null_mut()) };
    assert_fails(s, KilnStatus::BufferTooSmall, &["scores buffer has room for 4 values, 5 are needed"]);
    // SAFETY: as above.
    let s = unsafe { kiln_model_score(m.0, b.0, 0, scores.as_mut_ptr(), 4, status.as_mut_ptr(), 4, ptr::null_mut(), 0, ptr::null_mut()) };
    assert_eq!(s, KilnStatus::BufferTooSmall);
    assert!(scores.iter().all(|x| *x == -7.0) && status.iter().all(|x| *x == -7));
}

fn record_batch(ages: &[f64], incomes: &[Option<f64>], provinces: &[Option<&str>]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("province", DataType::Utf8, true),
        Field::new("age", DataType::Float64, true),
        Field::new("income", DataType::Float64, true),
        Field::new("extra", DataType::Int32, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(provinces.to_vec())),
        Arc::new(Float64Array::from(ages.to_vec())),
        Arc::new(Float64Array::from(incomes.to_vec())),
        Arc::new(Int32Array::from(vec![7; ages.len()])),
    ];
    RecordBatch::try_new(schema, columns).unwrap()
}

fn rust_scores(m: &Model, rb: &RecordBatch) -> Vec<f64> {
    let bytes = std::fs::read(common::data_path("credit_trees.kiln")).unwrap();
    let scorer = Scorer::from_bytes(&bytes, None).unwrap();
    let _ = m;
    scorer.score(&Batch::from_record_batch(rb).unwrap(), &ScoreOptions::default()).unwrap().values
}

#[test]
fn arrow_door_struct_array() {
    let m = trees();
    let rb = record_batch(&AGES, &INCOMES, &PROVINCES);
    let data = StructArray::from(rb.clone()).into_data();
    let mut array = FFI_ArrowArray::new(&data);
    let schema = FFI_ArrowSchema::try_from(data.data_type()).unwrap();
    let mut b = ptr::null_mut();
    // SAFETY: structs exported by arrow-rs; the array is moved in.
    assert_eq!(unsafe { kiln_batch_from_arrow(&mut array, &schema, &mut b) }, OK, "{}", last_error());
    assert!(array.is_released(), "the caller's array is marked released");
    let b = RawBatch(b);
    let out = score(&m, b.0, 5).unwrap();
    check_expected(&m, &out);
    let want = rust_scores(&m, &rb);
    assert_eq!(out.scores[..4], want[..4]);
    // Columns cannot be added to an imported batch.
    let x = [0.0f64; 5];
    // SAFETY: pointers cover their lengths.
    let s = unsafe { kiln_batch_add_column(b.0, c"z".as_ptr(), 1, x.as_ptr().cast(), 5, ptr::null(), ptr::null()) };
    assert_fails(s, KilnStatus::InvalidArgument, &["kiln_batch_new"]);
}

#[test]
fn arrow_door_refuses_bad_buffers() {
    // Dictionary keys out of range: built unchecked, as a foreign producer could.
    let keys = Int32Array::from(vec![0, 3, 1]);
    let values = StringArray::from(vec!["MADRID", "BARCELONA"]);
    let dict_type = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    // SAFETY: deliberately invalid data, only ever handed to kiln's validation.
    let dict = unsafe {
        arrow_data::ArrayDataBuilder::new(dict_type.clone()).len(3).add_buffer(keys.into_data().buffers()[0].clone()).add_child_data(values.into_data()).build_unchecked()
    };
    let ages = Float64Array::from(vec![1.0, 2.0, 3.0]).into_data();
    let fields = vec![Field::new("age", DataType::Float64, true), Field::new("province", dict_type, true)];
    // SAFETY: as above.
    let data = unsafe {
        arrow_data::ArrayDataBuilder::new(DataType::Struct(fields.into())).len(3).add_child_data(ages).add_child_data(dict).build_unchecked()
    };
    let mut array = FFI_ArrowArray::new(&data);
    let schema = FFI_ArrowSchema::try_from(data.data_type()).unwrap();
    let mut b = ptr::null_mut();
    // SAFETY: valid C structs describing invalid values.
    let s = unsafe { kiln_batch_from_arrow(&mut array, &schema, &mut b) };
    assert_fails(s, KilnStatus::BadBuffer, &["column 'province'", "out of bounds: 3"]);
    assert!(b.is_null() && array.is_released());

    // A non-struct array is not a record batch.
    let ints = Int32Array::from(vec![1, 2]).into_data();
    let mut array = FFI_ArrowArray::new(&ints);
    let schema = FFI_ArrowSchema::try_from(ints.data_type()).unwrap();
    // SAFETY: valid C structs.
    let s = unsafe { kiln_batch_from_arrow(&mut array, &schema, &mut b) };
    assert_fails(s, KilnStatus::ColumnType, &["struct array"]);
    // NULL schema: the array is still taken (and released).
    let data = StructArray::from(record_batch(&[1.0], &[None], &[None])).into_data();
    let mut array = FFI_ArrowArray::new(&data);
    // SAFETY: valid array, NULL schema under test.
    let s = unsafe { kiln_batch_from_arrow(&mut array, ptr::null(), &mut b) };
    assert_fails(s, KilnStatus::NullArgument, &["schema"]);
    assert!(array.is_released());
}

#[test]
fn arrow_stream_of_two_chunks_matches_scorer_score() {
    let m = trees();
    let first = record_batch(&AGES[..2], &INCOMES[..2], &PROVINCES[..2]);
    let second = record_batch(&AGES[2..], &INCOMES[2..], &PROVINCES[2..]);
    let schema = first.schema();
    let reader = RecordBatchIterator::new(vec![Ok(first), Ok(second)], schema);
    let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
    let mut b = ptr::null_mut();
    // SAFETY: a stream exported by arrow-rs; moved in.
    assert_eq!(unsafe { kiln_batch_from_arrow_stream(&mut stream, &mut b) }, OK, "{}", last_error());
    let b = RawBatch(b);
    let mut n = 0;
    // SAFETY: live batch.
    assert_eq!(unsafe { kiln_batch_num_rows(b.0, &mut n) }, OK);
    assert_eq!(n, 5);
    let out = score(&m, b.0, 5).unwrap();
    check_expected(&m, &out);
    let whole = rust_scores(&m, &record_batch(&AGES, &INCOMES, &PROVINCES));
    assert_eq!(out.scores[..4], whole[..4]);
    assert!(out.scores[4].is_nan() && whole[4].is_nan());
}

#[test]
fn stream_chunk_with_a_missing_column_writes_nothing() {
    let m = trees();
    let good = record_batch(&AGES[..2], &INCOMES[..2], &PROVINCES[..2]);
    let schema = Arc::new(Schema::new(vec![Field::new("age", DataType::Float64, true)]));
    let only_age = RecordBatch::try_new(schema.clone(), vec![Arc::new(Float64Array::from(vec![1.0]))]).unwrap();
    // A stream's chunks share one schema, so the missing column is missing in every chunk.
    let reader = RecordBatchIterator::new(vec![Ok(only_age.clone()), Ok(only_age)], schema);
    let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
    let mut b = ptr::null_mut();
    // SAFETY: a stream exported by arrow-rs.
    assert_eq!(unsafe { kiln_batch_from_arrow_stream(&mut stream, &mut b) }, OK);
    let b = RawBatch(b);
    assert_fails(score(&m, b.0, 2).err().unwrap(), KilnStatus::MissingColumn, &["stream chunk 0", "income"]);
    drop(good);
}

#[test]
fn a_model_is_shared_by_threads() {
    let m = trees();
    let r = rows();
    let b = new_batch(5);
    add_rows(&b, &r);
    let single = score(&m, b.0, 5).unwrap().scores;
    let model = m.0 as usize;
    std::thread::scope(|s| {
        for _ in 0..4 {
            let r = &r;
            let single = &single;
            s.spawn(move || {
                let m = std::mem::ManuallyDrop::new(Model(model as *const KilnModel));
                for _ in 0..20 {
                    let b = new_batch(5);
                    add_rows(&b, r);
                    let out = score(&m, b.0, 5).unwrap();
                    assert_eq!(out.scores[..4], single[..4]);
                }
            });
        }
    });
}

#[test]
fn empty_stream_is_a_zero_row_batch_with_columns() {
    let m = trees();
    let rb = record_batch(&[], &[], &[]);
    let reader = RecordBatchIterator::new(Vec::<Result<RecordBatch, arrow_schema::ArrowError>>::new(), rb.schema());
    let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
    let mut b = ptr::null_mut();
    // SAFETY: a stream exported by arrow-rs.
    assert_eq!(unsafe { kiln_batch_from_arrow_stream(&mut stream, &mut b) }, OK, "{}", last_error());
    let b = RawBatch(b);
    let out = score(&m, b.0, 0).unwrap();
    assert!(out.scores.is_empty());
    assert!(out.report.contains("\"rows\":0"), "{}", out.report);
}

#[test]
fn failing_stream_producer_message_is_passed_on() {
    let rb = record_batch(&[1.0], &[None], &[None]);
    let err = arrow_schema::ArrowError::ComputeError("disk on fire".into());
    let reader = RecordBatchIterator::new(vec![Ok(rb.clone()), Err(err)], rb.schema());
    let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
    let mut b = ptr::null_mut();
    // SAFETY: a stream exported by arrow-rs.
    let s = unsafe { kiln_batch_from_arrow_stream(&mut stream, &mut b) };
    assert_fails(s, KilnStatus::BadBuffer, &["get_next", "disk on fire"]);
    assert!(b.is_null());
}

#[test]
fn arrow_door_refuses_misaligned_string_offsets() {
    // A utf8 child whose offsets buffer starts one byte off its i32 alignment.
    let bytes = vec![0u8; 4 * 3 + 1];
    let offsets = arrow_buffer::Buffer::from_vec(bytes).slice(1);
    // SAFETY: invalid on purpose (misaligned), handed only to kiln.
    let strings = unsafe {
        arrow_data::ArrayDataBuilder::new(DataType::Utf8).len(2).add_buffer(offsets).add_buffer(arrow_buffer::Buffer::from_vec(Vec::<u8>::new())).build_unchecked()
    };
    let fields = vec![Field::new("province", DataType::Utf8, true)];
    // SAFETY: as above.
    let data = unsafe { arrow_data::ArrayDataBuilder::new(DataType::Struct(fields.into())).len(2).add_child_data(strings).build_unchecked() };
    let mut array = FFI_ArrowArray::new(&data);
    let schema = FFI_ArrowSchema::try_from(data.data_type()).unwrap();
    let mut b = ptr::null_mut();
    // SAFETY: valid C structs apart from the misalignment under test.
    let s = unsafe { kiln_batch_from_arrow(&mut array, &schema, &mut b) };
    assert_fails(s, KilnStatus::BadBuffer, &["column 'province'", "not aligned to 4 bytes"]);
}
