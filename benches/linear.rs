//! Linear scoring throughput: a median imputer and a standard scaler on each of 50 float64
//! columns (~1.3% NaN) feeding a logistic regression, over 1,000,000 rows at 1 and 2 threads.
//!
//! Run: `cargo bench -- linear/`

use crate::common;

use std::time::Duration;

use common::{Outputs, Rng, feature_names, float_batch};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Schema};
use kiln::{Artifact, Scorer};

const N_FEATURES: usize = 50;

fn logistic_pipeline(n_features: usize, seed: u64) -> Artifact {
    let mut rng = Rng::new(seed);
    let names = feature_names(n_features);
    let mut pipeline = Vec::new();
    for n in &names {
        pipeline.push(Step::Impute { column: n.clone(), value: rng.unit() - 0.5, strategy: ImputeStrategy::Median, output: None });
        pipeline.push(Step::StandardScale { column: n.clone(), mean: rng.unit() - 0.5, scale: 0.5 + rng.unit(), output: None });
    }
    let content = Content {
        schema: Schema::new(names.iter().map(|n| Column::new(n.clone(), ColumnType::Float64)).collect()),
        pipeline,
        model: ModelSpec::Linear(LinearSpec {
            features: names.clone(),
            coefficients: vec![(0..n_features).map(|_| rng.unit() - 0.5).collect()],
            intercept: vec![0.1],
            link: Link::Logit,
        }),
        outputs: vec![OutputSpec::new("probability")],
        provenance: Provenance::default(),
        profile: None,
    };
    Artifact::new(content).expect("generated pipeline is valid")
}

fn linear(c: &mut Criterion) {
    let scorer = Scorer::new(logistic_pipeline(N_FEATURES, 5)).expect("prepares");
    let mut group = c.benchmark_group("linear/impute+scale+logistic");
    for (rows, threads) in [(1_000_000, 1), (1_000_000, 2), (10_000, 1)] {
        let batch = float_batch(rows, N_FEATURES, 0.013, 7);
        let mut out = Outputs::new(&scorer, rows);
        group.sample_size(10).measurement_time(Duration::from_secs(5)).throughput(Throughput::Elements(rows as u64));
        group.bench_function(BenchmarkId::new(format!("cols={N_FEATURES}/rows={rows}"), format!("threads={threads}")), |b| {
            b.iter(|| out.score(&scorer, &batch, threads))
        });
    }
    group.finish();
}

criterion_group!(benches, linear);
