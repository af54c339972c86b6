//! Cost of profiling a batch: float columns × rows, one thread and all threads; and the
//! overhead that matters, `profile/overhead`: scoring the 500-tree depth-8 benchmark model at
//! 1,000,000 rows x 50 columns plainly (`score`) against scoring it with everything the edge
//! does besides (`score+verify+profile+drift`: input profile, null-rate rule against the
//! reference, output profile, drift report). Target: at most 15% more.
//!
//! Run: `cargo bench -- profile/overhead` (and `-- profile_batch`).

use crate::common;

use std::time::Duration;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array};
use criterion::{Criterion, Throughput, criterion_group};
use kiln::Batch;
use kiln::profile::{CheckOptions, ProfileOptions, profile_batch_with, score_checked};
use kiln::schema::{Column, ColumnType, Schema};

fn data(rows: usize, cols: usize) -> (Schema, Batch) {
    let mut state = 42u64;
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let schema = Schema::new((0..cols).map(|j| Column::new(format!("f{j}"), ColumnType::Float64)).collect());
    let columns: Vec<(String, ArrayRef)> = (0..cols)
        .map(|j| {
            // Continuous values (every one distinct: the HLL hashes each), 1% nulls.
            let v: Vec<Option<f64>> = (0..rows).map(|_| { let u = next(); (u >= 0.01).then_some(u * 100.0 + j as f64) }).collect();
            (format!("f{j}"), Arc::new(Float64Array::from(v)) as ArrayRef)
        })
        .collect();
    (schema, Batch::new(columns).unwrap())
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("profile_batch");
    g.sample_size(10);
    for (rows, cols) in [(100_000, 50), (1_000_000, 50)] {
        let (schema, batch) = data(rows, cols);
        g.throughput(Throughput::Elements((rows * cols) as u64));
        for threads in [1, 0] {
            let name = format!("{rows}x{cols}/threads={}", if threads == 0 { "all".to_string() } else { threads.to_string() });
            g.bench_function(name, |b| b.iter(|| profile_batch_with(&schema, &batch, &ProfileOptions { n_threads: threads }).unwrap()));
        }
    }
    g.finish();
}

fn overhead(c: &mut Criterion) {
    const ROWS: usize = 1_000_000;
    let plain = kiln::Scorer::new(common::xgboost_like(500, 8, 50, 42)).expect("prepares");
    let training = common::float_batch(100_000, 50, 0.013, 8);
    let scorer = plain.with_reference_from(&training, &kiln::ScoreOptions::default()).expect("profiles");
    let batch = common::float_batch(ROWS, 50, 0.013, 7);
    let mut g = c.benchmark_group("profile/overhead");
    g.sample_size(10).measurement_time(Duration::from_secs(30)).throughput(Throughput::Elements(ROWS as u64));
    for threads in [1, 2] {
        g.bench_function(format!("500x8/rows={ROWS}/threads={threads}/score"), |b| {
            b.iter(|| scorer.score(&batch, &kiln::ScoreOptions { n_threads: threads }).expect("scores"))
        });
        let opts = CheckOptions { n_threads: threads, profile: true, drift: true, ..CheckOptions::default() };
        g.bench_function(format!("500x8/rows={ROWS}/threads={threads}/score+verify+profile+drift"), |b| {
            b.iter(|| {
                let r = score_checked(&scorer, &batch, &opts).expect("scores");
                assert!(r.drift.as_ref().is_some_and(|d| d.findings.is_empty()), "the bench batch is the training distribution");
                r
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench, overhead);
