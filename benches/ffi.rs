//! Scoring through the C ABI, called from Rust exactly as a C host calls it: the reference
//! ensemble (500 trees of depth 8 over 50 float64 columns with ~1.3% NaN, XGBoost-like) loaded
//! with `kiln_model_load_bytes`, rows handed over as raw column pointers.
//!
//! - `ffi/single_row/build+score`: the whole per-call cost of one row: `kiln_batch_new`, 50
//!   `kiln_batch_add_column` over the row, `kiln_model_score`, `kiln_batch_free`; each
//!   iteration takes the next of 1,024 rows.
//! - `ffi/single_row/score`: `kiln_model_score` alone on a one-row batch built once.
//! - `ffi/single_row/score_row`: `kiln_model_score_row` on 50 doubles, no batch; each
//!   iteration takes the next of 1,024 rows.
//! - `ffi/batch/rows=10000`: a 10k-row batch at one thread, to set against `trees/500x8`'s
//!   Rust-API figure for the same size (the ABI's per-call cost spread over a batch).
//!
//! Thread scaling at 1,000,000 rows (1 vs 2 threads) is `trees/500x8` in `benches/trees.rs`.
//!
//! Run: `cargo bench -- ffi/`.

use crate::common;

use std::ffi::{CStr, CString};
use std::hint::black_box;
use std::ptr;
use std::time::Duration;

use common::{Rng, feature_names, xgboost_like};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use kiln::KilnStatus;
use kiln::ffi::*;

const N_FEATURES: usize = 50;
const NAN_RATE: f64 = 0.013;
const F64: i32 = 1;

fn check(status: KilnStatus, what: &str) {
    if status != KilnStatus::Ok {
        // SAFETY: kiln_last_error returns a NUL-terminated string valid until the next call.
        let msg = unsafe { CStr::from_ptr(kiln_last_error()) }.to_string_lossy();
        panic!("{what}: {status:?}: {msg}");
    }
}

/// The reference model as a C host holds it.
struct Model(*const KilnModel);

impl Model {
    fn reference() -> Self {
        let bytes = xgboost_like(500, 8, N_FEATURES, 42).to_bytes().expect("encodes");
        let mut out = ptr::null();
        // SAFETY: `bytes` is readable for its length; no fingerprint pin; `out` is writable.
        check(unsafe { kiln_model_load_bytes(bytes.as_ptr(), bytes.len(), ptr::null(), &mut out) }, "kiln_model_load_bytes");
        Model(out)
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: a live model from kiln_model_load_bytes, freed once.
        unsafe { kiln_model_free(self.0) }
    }
}

/// Host columns (column-major, one Vec per feature) and their NUL-terminated names.
struct Columns {
    names: Vec<CString>,
    values: Vec<Vec<f64>>,
    n_rows: usize,
}

impl Columns {
    /// The same value distribution as `common::float_batch`: uniform in [-1, 1), NaN with
    /// probability `NAN_RATE`.
    fn generate(n_rows: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let values = (0..N_FEATURES)
            .map(|_| (0..n_rows).map(|_| if rng.unit() < NAN_RATE { f64::NAN } else { rng.unit() * 2.0 - 1.0 }).collect())
            .collect();
        let names = feature_names(N_FEATURES).into_iter().map(|n| CString::new(n).expect("no NUL")).collect();
        Columns { names, values, n_rows }
    }

    /// A raw-door batch over rows `[start, start + n)`; free it with `kiln_batch_free` before
    /// `self` goes away.
    fn batch(&self, start: usize, n: usize) -> *mut KilnBatch {
        assert!(start + n <= self.n_rows);
        let mut batch = ptr::null_mut();
        // SAFETY: `batch` is a writable out-pointer.
        check(unsafe { kiln_batch_new(n, &mut batch) }, "kiln_batch_new");
        for (name, col) in self.names.iter().zip(&self.values) {
            // SAFETY: a live batch; `name` is NUL-terminated; `col[start..start + n]` is in
            // bounds (asserted above), f64-aligned, and outlives the batch (the caller frees
            // the batch before `self`); no validity bitmap or null mask.
            let status = unsafe {
                kiln_batch_add_column(batch, name.as_ptr(), F64, col.as_ptr().add(start).cast(), n, ptr::null(), ptr::null())
            };
            check(status, "kiln_batch_add_column");
        }
        batch
    }
}

/// `kiln_model_score` into caller-owned buffers sized for `n` rows and one output.
fn score(model: &Model, batch: *const KilnBatch, threads: u32, scores: &mut [f64], status: &mut [i32]) {
    // SAFETY: live model and batch; `scores` and `status` are writable for their lengths, which
    // cover the batch's rows times the model's single output; no reason ids, no report.
    let s = unsafe {
        kiln_model_score(model.0, batch, threads, scores.as_mut_ptr(), scores.len(), status.as_mut_ptr(), status.len(), ptr::null_mut(), 0, ptr::null_mut())
    };
    check(s, "kiln_model_score");
}

fn single_row(c: &mut Criterion) {
    let model = Model::reference();
    let cols = Columns::generate(1024, 7);
    let mut scores = [0.0f64; 1];
    let mut status = [0i32; 1];
    let mut group = c.benchmark_group("ffi/single_row");
    group.sample_size(100).measurement_time(Duration::from_secs(3)).throughput(Throughput::Elements(1));

    let mut row = 0;
    // Two threads asked for, as a service would configure it: a one-row call must not fan out.
    group.bench_function("build+score", |b| {
        b.iter(|| {
            row = (row + 1) % cols.n_rows;
            let batch = cols.batch(row, 1);
            score(&model, batch, 2, &mut scores, &mut status);
            // SAFETY: the batch from `cols.batch`, freed once, while `cols` is alive.
            unsafe { kiln_batch_free(batch) };
            black_box(scores[0])
        })
    });

    let batch = cols.batch(0, 1);
    group.bench_function("score", |b| {
        b.iter(|| {
            score(&model, batch, 2, &mut scores, &mut status);
            black_box(scores[0])
        })
    });
    // SAFETY: the batch from `cols.batch`, freed once, while `cols` is alive.
    unsafe { kiln_batch_free(batch) };

    // The row as a service holds it: 50 doubles in schema order, no batch at all.
    let rows: Vec<Vec<f64>> = (0..cols.n_rows).map(|i| cols.values.iter().map(|c| c[i]).collect()).collect();
    let mut row = 0;
    group.bench_function("score_row", |b| {
        b.iter(|| {
            row = (row + 1) % rows.len();
            let values = &rows[row];
            let (mut st, mut reason) = (0i32, 0i32);
            // SAFETY: live model; `values` readable for its length; one-output buffers.
            let s = unsafe { kiln_model_score_row(model.0, values.as_ptr(), values.len(), scores.as_mut_ptr(), 1, &mut st, &mut reason) };
            check(s, "kiln_model_score_row");
            black_box(scores[0])
        })
    });
    group.finish();
}

fn batch(c: &mut Criterion) {
    let model = Model::reference();
    let rows = 10_000;
    let cols = Columns::generate(rows, 7);
    let mut scores = vec![0.0f64; rows];
    let mut status = vec![0i32; rows];
    let mut group = c.benchmark_group("ffi/batch");
    group.sample_size(20).measurement_time(Duration::from_secs(5)).throughput(Throughput::Elements(rows as u64));
    group.bench_function(BenchmarkId::new(format!("rows={rows}"), "threads=1"), |b| {
        b.iter(|| {
            let batch = cols.batch(0, rows);
            score(&model, batch, 1, &mut scores, &mut status);
            // SAFETY: the batch from `cols.batch`, freed once, while `cols` is alive.
            unsafe { kiln_batch_free(batch) };
        })
    });
    group.finish();
}

criterion_group!(benches, single_row, batch);
