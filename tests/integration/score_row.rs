//! One row without a batch (`Scorer::score_row`, `kiln_model_score_row`): the same scores,
//! statuses and reasons as the row in a batch, bit for bit, on imported XGBoost and LightGBM
//! models and on a pipeline whose rules flag, default and reject; and clear errors for what it
//! cannot take.

use crate::common;

use std::ffi::{CStr, c_char};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int32Array};
use common::*;
use kiln::artifact::Step;
use kiln::ffi::*;
use kiln::import::{ImportOptions, import};
use kiln::schema::{Column, ColumnType, DefaultValue, Policy};
use kiln::{Artifact, Batch, KilnStatus, ScoreOptions, Scorer};
use serde_json::Value;

fn fixture(kind: &str, case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(kind).join(case)
}

/// The fixture's input rows in the model's schema order (nulls as NaN).
fn rows_of(kind: &str, case: &str, scorer: &Scorer) -> Vec<Vec<f64>> {
    let v: Value = serde_json::from_slice(&std::fs::read(fixture(kind, case).join("input.json")).unwrap()).unwrap();
    let names: Vec<&str> = scorer.schema().columns.iter().map(|c| c.name.as_str()).collect();
    let cols: Vec<Vec<f64>> = names
        .iter()
        .map(|n| v["columns"][*n].as_array().unwrap_or_else(|| panic!("{case}: no column {n}")).iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
        .collect();
    (0..cols[0].len()).map(|i| cols.iter().map(|c| c[i]).collect()).collect()
}

fn batch_of_row(scorer: &Scorer, row: &[f64]) -> Batch {
    let cols = scorer.schema().columns.iter().zip(row).map(|(c, &x)| {
        let a: ArrayRef = match c.ty {
            ColumnType::Int32 => Arc::new(Int32Array::from(vec![(!x.is_nan()).then_some(x as i32)])),
            _ => Arc::new(Float64Array::from(vec![(!x.is_nan()).then_some(x)])),
        };
        (c.name.clone(), a)
    });
    Batch::new(cols.collect()).unwrap()
}

fn last_error() -> String {
    // SAFETY: kiln_last_error returns a valid NUL-terminated string.
    unsafe { CStr::from_ptr(kiln_last_error() as *const c_char) }.to_string_lossy().into_owned()
}

struct CModel(*const KilnModel);

impl CModel {
    fn new(artifact: &Artifact) -> Self {
        let bytes = artifact.to_bytes().unwrap();
        let mut m = ptr::null();
        // SAFETY: bytes readable for their length; `m` writable.
        let st = unsafe { kiln_model_load_bytes(bytes.as_ptr(), bytes.len(), ptr::null(), &mut m) };
        assert_eq!(st, KilnStatus::Ok, "{}", last_error());
        CModel(m)
    }
    /// `kiln_model_score_row` into fresh buffers: (status code, scores, row status, reason).
    fn score_row(&self, row: &[f64], k: usize) -> (KilnStatus, Vec<f64>, i32, i32) {
        let mut out = vec![-7.0; k];
        let (mut status, mut reason) = (-7, -7);
        // SAFETY: a live model; buffers sized as passed.
        let st = unsafe { kiln_model_score_row(self.0, row.as_ptr(), row.len(), out.as_mut_ptr(), out.len(), &mut status, &mut reason) };
        (st, out, status, reason)
    }
}

impl Drop for CModel {
    fn drop(&mut self) {
        // SAFETY: loaded above, freed once.
        unsafe { kiln_model_free(self.0) };
    }
}

/// Every row: score_row (Rust and C) equals the row's scores in the whole batch and in a
/// one-row batch, bits, status and reason.
fn check_rows(label: &str, scorer: &Scorer, rows: &[Vec<f64>]) {
    assert!(!rows.is_empty());
    let k = scorer.n_outputs();
    let c = CModel::new(&scorer.artifact().unwrap());
    let n_cols = rows[0].len();
    let whole = Batch::new(
        scorer
            .schema()
            .columns
            .iter()
            .enumerate()
            .map(|(j, col)| {
                let a: ArrayRef = match col.ty {
                    ColumnType::Int32 => Arc::new(Int32Array::from(rows.iter().map(|r| (!r[j].is_nan()).then_some(r[j] as i32)).collect::<Vec<_>>())),
                    _ => Arc::new(Float64Array::from(rows.iter().map(|r| (!r[j].is_nan()).then_some(r[j])).collect::<Vec<_>>())),
                };
                (col.name.clone(), a)
            })
            .collect(),
    )
    .unwrap();
    assert_eq!(whole.num_columns(), n_cols);
    let all = scorer.score(&whole, &ScoreOptions { n_threads: 2 }).unwrap();
    let mut out = vec![0.0; k];
    for (i, row) in rows.iter().enumerate() {
        let got = scorer.score_row(row, &mut out).unwrap();
        let one = scorer.score(&batch_of_row(scorer, row), &ScoreOptions::default()).unwrap();
        assert_eq!((got.status, got.reason), (one.status[0], one.reason[0]), "{label} row {i}: status/reason vs a one-row batch");
        assert_eq!((got.status, got.reason), (all.status[i], all.reason[i]), "{label} row {i}: status/reason vs the batch");
        let (st, c_out, c_status, c_reason) = c.score_row(row, k);
        assert_eq!(st, KilnStatus::Ok, "{label} row {i}: {}", last_error());
        assert_eq!((c_status, c_reason), (got.status, got.reason), "{label} row {i}: C status/reason");
        for j in 0..k {
            let batch_bits = all.values[j * rows.len() + i].to_bits();
            assert_eq!(out[j].to_bits(), batch_bits, "{label} row {i} output {j}: {} vs {}", out[j], all.values[j * rows.len() + i]);
            assert_eq!(one.values[j].to_bits(), batch_bits, "{label} row {i} output {j}: one-row batch");
            assert_eq!(c_out[j].to_bits(), batch_bits, "{label} row {i} output {j}: C");
        }
    }
}

#[test]
fn imported_boosters_score_each_row_as_the_batch_does() {
    let cases = [
        ("xgboost", "binary_logistic", "xgboost-json"),
        ("xgboost", "multi_softprob", "xgboost-json"),
        ("xgboost", "dart", "xgboost-json"),
        ("xgboost", "regression", "xgboost-json"),
        ("lightgbm", "binary_nan", "lightgbm-text"),
        ("lightgbm", "regression_zero_as_missing", "lightgbm-text"),
        ("lightgbm", "multiclass_wine", "lightgbm-text"),
        ("lightgbm", "rf_binary", "lightgbm-text"),
    ];
    for (kind, case, format) in cases {
        let file = if kind == "xgboost" { "model.json" } else { "model.txt" };
        let bytes = std::fs::read(fixture(kind, case).join(file)).unwrap_or_else(|e| panic!("{case}: {e}"));
        let artifact = import(format, &bytes, &ImportOptions::default()).unwrap_or_else(|e| panic!("{case}: {}", e.message()));
        let scorer = Scorer::new(artifact).unwrap();
        let rows = rows_of(kind, case, &scorer);
        check_rows(case, &scorer, &rows);
    }
}

/// `x` float in [0, 10] (nulls flagged, out of range flagged), `n` int32 (nulls defaulted to
/// 3), `z` float (non-finite defaulted to 0) through log1p (<= -1 flags a domain error); a
/// logistic model over all three.
fn ruled_scorer() -> Scorer {
    let mut x = Column::new("x", ColumnType::Float64).with_range(0.0, 10.0);
    x.policy.null = Some(Policy::Flag);
    x.policy.out_of_range = Policy::Flag;
    let mut n = Column::new("n", ColumnType::Int32);
    n.default = Some(DefaultValue::Number(3.0));
    n.policy.null = Some(Policy::Default);
    let mut z = Column::new("z", ColumnType::Float64);
    z.default = Some(DefaultValue::Number(0.0));
    z.policy.non_finite = Policy::Default;
    z.policy.null = Some(Policy::Allow);
    let pipeline = vec![Step::Log1p { column: "z".into(), output: None }];
    scorer(content(vec![x, n, z], pipeline, linear(&["x", "n", "z"], vec![vec![0.3, -0.2, 0.7]], vec![0.1], kiln::artifact::Link::Logit)))
}

#[test]
fn rules_flag_and_default_the_row_as_in_a_batch() {
    let s = ruled_scorer();
    let nan = f64::NAN;
    let rows = vec![
        vec![1.0, 2.0, 0.5],
        vec![nan, 2.0, 0.5],              // x null: flagged
        vec![11.0, 2.0, 0.5],             // x out of range: flagged
        vec![5.0, nan, 0.5],              // n null: defaulted to 3
        vec![5.0, 4.0, f64::INFINITY],    // z non-finite: defaulted to 0
        vec![5.0, 4.0, -2.0],             // z <= -1: log1p flags a domain error
        vec![5.0, 4.0, nan],              // z null allowed: NaN output, no score
        vec![10.0, -1.0, 1e300],
    ];
    check_rows("rules", &s, &rows);
    let mut out = [0.0];
    let flagged = s.score_row(&rows[1], &mut out).unwrap();
    assert_ne!(flagged.status, 0);
    assert_eq!(s.reason_source(flagged.reason), Some("x"));
    assert!(out[0].is_nan(), "a flagged row has no score");
    assert_eq!(s.score_row(&rows[3], &mut out).unwrap().status, 0, "a defaulted value is scored");
}

#[test]
fn a_reject_rule_is_an_error_and_writes_nothing() {
    let mut x = Column::new("x", ColumnType::Float64).with_range(0.0, 10.0);
    x.policy.out_of_range = Policy::Reject;
    let s = scorer(content(vec![x], vec![], probe(&["x"])));
    let mut out = [42.0];
    let e = s.score_row(&[11.0], &mut out).unwrap_err();
    assert_eq!(e.status(), KilnStatus::BatchRejected);
    assert!(e.message().contains("'x'"), "{}", e.message());
    assert_eq!(out, [42.0]);
    let c = CModel::new(&s.artifact().unwrap());
    let (st, c_out, status, reason) = c.score_row(&[11.0], 1);
    assert_eq!(st, KilnStatus::BatchRejected);
    assert!(last_error().contains("reject"), "{}", last_error());
    assert_eq!((c_out[0], status, reason), (-7.0, -7, -7), "nothing written");
    assert_eq!(s.score_row(&[3.0], &mut out).unwrap().status, 0);
    assert_eq!(out, [3.0]);
}

#[test]
fn what_one_row_cannot_take_is_a_clear_error() {
    let s = ruled_scorer();
    let mut out = [0.0; 1];
    let e = s.score_row(&[1.0, 2.0], &mut out).unwrap_err();
    assert!(e.message().contains("2 values") && e.message().contains("3 columns"), "{}", e.message());
    let e = s.score_row(&[1.0, 2.0, 3.0], &mut []).unwrap_err();
    assert_eq!(e.status(), KilnStatus::BufferTooSmall, "{}", e.message());
    // A model with a string input needs a batch.
    let cat = Scorer::new(common::trees()).unwrap();
    let e = cat.score_row(&[1.0, 2.0, 3.0], &mut out).unwrap_err();
    assert!(e.message().contains("province") && e.message().contains("batch"), "{}", e.message());

    let c = CModel::new(&s.artifact().unwrap());
    let mut one = [0.0];
    // SAFETY: NULL values with a non-zero count must be refused, not read.
    let st = unsafe { kiln_model_score_row(c.0, ptr::null(), 3, one.as_mut_ptr(), 1, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(st, KilnStatus::NullArgument);
    assert!(last_error().contains("values"), "{}", last_error());
    let row = [1.0, 2.0, 0.5];
    // SAFETY: a scores buffer of length 0 for a 1-output model: refused before any write.
    let st = unsafe { kiln_model_score_row(c.0, row.as_ptr(), 3, one.as_mut_ptr(), 0, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(st, KilnStatus::BufferTooSmall, "{}", last_error());
    // Status and reason are optional.
    // SAFETY: valid buffers.
    let st = unsafe { kiln_model_score_row(c.0, row.as_ptr(), 3, one.as_mut_ptr(), 1, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(st, KilnStatus::Ok, "{}", last_error());
    let mut expected = [0.0];
    s.score_row(&row, &mut expected).unwrap();
    assert_eq!(one[0].to_bits(), expected[0].to_bits());
    // SAFETY: a NULL model is refused.
    let st = unsafe { kiln_model_score_row(ptr::null(), row.as_ptr(), 3, one.as_mut_ptr(), 1, ptr::null_mut(), ptr::null_mut()) };
    assert_eq!(st, KilnStatus::NullArgument);
}
