//! Tree-ensemble scoring throughput. The reference case is the performance issue's: 500 trees of
//! depth 8 over 50 float64 features with ~1.3% NaN, binary logistic with f32 inputs and f32
//! accumulation like XGBoost, 1,000,000 rows at 1 and 2 threads. Smaller batches (10k rows, one
//! row) show per-call overhead; the depth sweep shows how the layout scales.
//!
//! `peers_models` covers the LightGBM-like and scikit-learn-like models.
//!
//! Run: `cargo bench -- trees/` (or `-- 'trees/500x8'` for the reference case only,
//! `-- 'trees/lightgbm'`, `-- 'trees/forest'`).

use crate::common;

use std::time::Duration;

use common::{Outputs, float_batch, forest_like, lightgbm_like, xgboost_like};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use kiln::Scorer;

const N_FEATURES: usize = 50;
const NAN_RATE: f64 = 0.013;

fn reference(c: &mut Criterion) {
    let artifact = xgboost_like(500, 8, N_FEATURES, 42);
    let scorer = Scorer::new(artifact).expect("prepares");
    let mut group = c.benchmark_group("trees/500x8");
    for (rows, threads, samples, secs) in [(1_000_000, 1, 10, 20), (1_000_000, 2, 10, 15), (10_000, 1, 20, 5), (10_000, 2, 20, 5), (1, 1, 100, 3)] {
        let batch = float_batch(rows, N_FEATURES, NAN_RATE, 7);
        let mut out = Outputs::new(&scorer, rows);
        group.sample_size(samples).measurement_time(Duration::from_secs(secs)).throughput(Throughput::Elements(rows as u64));
        group.bench_function(BenchmarkId::new(format!("rows={rows}"), format!("threads={threads}")), |b| {
            b.iter(|| out.score(&scorer, &batch, threads))
        });
    }
    group.finish();
}

/// The other two tree models, at 100k rows (1 and 2 threads) and one row: LightGBM-like
/// (500 leaf-wise trees of 255 leaves, f64 `<=`) and scikit-learn-like (random forest of 100
/// trees of depth 12, two probabilities per leaf, averaged).
fn peers_models(c: &mut Criterion) {
    let rows = 100_000;
    let batch = float_batch(rows, N_FEATURES, NAN_RATE, 7);
    let one = float_batch(1, N_FEATURES, NAN_RATE, 7);
    for (name, artifact) in [("lightgbm_500x255", lightgbm_like(500, 255, N_FEATURES, 44)), ("forest_100x12", forest_like(100, 12, N_FEATURES, 45))] {
        let scorer = Scorer::new(artifact).expect("prepares");
        let mut group = c.benchmark_group(format!("trees/{name}"));
        for threads in [1, 2] {
            let mut out = Outputs::new(&scorer, rows);
            group.sample_size(10).measurement_time(Duration::from_secs(10)).throughput(Throughput::Elements(rows as u64));
            group.bench_function(BenchmarkId::new(format!("rows={rows}"), format!("threads={threads}")), |b| {
                b.iter(|| out.score(&scorer, &batch, threads))
            });
        }
        let mut out = Outputs::new(&scorer, 1);
        group.sample_size(100).measurement_time(Duration::from_secs(3)).throughput(Throughput::Elements(1));
        group.bench_function(BenchmarkId::new("rows=1", "threads=1"), |b| b.iter(|| out.score(&scorer, &one, 1)));
        group.finish();
    }
}

/// Depth and tree-count sweep at 100k rows, one thread: how cost grows with model size.
fn sweep(c: &mut Criterion) {
    let rows = 100_000;
    let batch = float_batch(rows, N_FEATURES, NAN_RATE, 7);
    let mut group = c.benchmark_group("trees/sweep");
    group.sample_size(10).measurement_time(Duration::from_secs(5)).throughput(Throughput::Elements(rows as u64));
    for (n_trees, depth) in [(100, 4), (100, 8), (100, 12), (1000, 6)] {
        let scorer = Scorer::new(xgboost_like(n_trees, depth, N_FEATURES, 43)).expect("prepares");
        let mut out = Outputs::new(&scorer, rows);
        group.bench_function(BenchmarkId::new(format!("{n_trees}x{depth}"), format!("rows={rows}")), |b| {
            b.iter(|| out.score(&scorer, &batch, 1))
        });
    }
    group.finish();
}

/// Loading the peers' three tree artifacts from their JSON bytes (parse, fingerprint, validate,
/// prepare): the reference 500 x depth 8, the LightGBM-like 500 x 255 leaves, the forest-like
/// 100 x depth 12.
fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("trees/load");
    group.sample_size(20);
    for (name, artifact) in [
        ("500x8", xgboost_like(500, 8, N_FEATURES, 42)),
        ("lightgbm_500x255", lightgbm_like(500, 255, N_FEATURES, 44)),
        ("forest_100x12", forest_like(100, 12, N_FEATURES, 45)),
    ] {
        let bytes = artifact.to_bytes().expect("encodes");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(format!("{name}/from_bytes"), |b| b.iter(|| Scorer::from_bytes(&bytes, None).expect("loads")));
    }
    group.finish();
}

criterion_group!(benches, reference, peers_models, sweep, load);
