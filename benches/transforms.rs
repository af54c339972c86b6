//! Throughput of each transform family over 1,000,000 rows on one thread. Each case is one
//! input column, one family's steps, and a linear model over their outputs, so the figure is
//! dominated by the family (the batch binding and the model cost the same in every case; the
//! `baseline` case measures them alone).
//!
//! Run: `cargo bench -- transforms`

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, Date32Array, DictionaryArray, Float64Array, Int32Array, StringArray};
use common::{Outputs, Rng};
use criterion::{Criterion, Throughput, criterion_group};
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Schema};
use kiln::{Artifact, Batch, Scorer};

const ROWS: usize = 1_000_000;
const CITIES: [&str; 8] = ["MADRID", "BARCELONA", "SEVILLA", "VALENCIA", "BILBAO", "MALAGA", "ZARAGOZA", "MURCIA"];

fn artifact(columns: Vec<Column>, pipeline: Vec<Step>, features: Vec<String>) -> Artifact {
    let content = Content {
        schema: Schema::new(columns),
        pipeline,
        model: ModelSpec::Linear(LinearSpec {
            coefficients: vec![(0..features.len()).map(|j| 0.1 + j as f64 * 0.01).collect()],
            features,
            intercept: vec![0.0],
            link: Link::Identity,
        }),
        outputs: vec![OutputSpec::new("score")],
        provenance: Provenance::default(),
        profile: None,
    };
    Artifact::new(content).expect("benchmark pipeline is valid")
}

fn numeric_column(name: &str, rng: &mut Rng, nan_rate: f64) -> (String, ArrayRef) {
    let v: Vec<f64> = (0..ROWS).map(|_| if rng.unit() < nan_rate { f64::NAN } else { rng.unit() * 100.0 }).collect();
    (name.to_string(), Arc::new(Float64Array::from(v)))
}

fn cases() -> Vec<(&'static str, Artifact, Batch)> {
    let mut rng = Rng::new(11);
    let x = || Column::new("x", ColumnType::Float64);
    let num_batch = Batch::new(vec![numeric_column("x", &mut rng, 0.013), numeric_column("y", &mut rng, 0.0)]).expect("batch");
    let city = |rng: &mut Rng| CITIES[rng.below(CITIES.len())];
    let utf8: Vec<&str> = (0..ROWS).map(|_| city(&mut rng)).collect();
    let utf8_batch = Batch::new(vec![("city".into(), Arc::new(StringArray::from(utf8)) as ArrayRef)]).expect("batch");
    let keys = Int32Array::from((0..ROWS).map(|_| rng.below(CITIES.len()) as i32).collect::<Vec<_>>());
    let dict = DictionaryArray::<Int32Type>::try_new(keys, Arc::new(StringArray::from(CITIES.to_vec()))).expect("dictionary");
    let dict_batch = Batch::new(vec![("city".into(), Arc::new(dict) as ArrayRef)]).expect("batch");
    let days = Date32Array::from((0..ROWS).map(|_| 10_000 + rng.below(10_000) as i32).collect::<Vec<_>>());
    let date_batch = Batch::new(vec![("d".into(), Arc::new(days) as ArrayRef)]).expect("batch");
    let city_col = || Column::new("city", ColumnType::Categorical).with_categories(CITIES);
    let cities: Vec<String> = CITIES.iter().map(|s| s.to_string()).collect();
    let onehot_outputs: Vec<String> = CITIES.iter().map(|c| format!("is_{c}")).collect();

    vec![
        ("baseline", artifact(vec![x()], vec![Step::Impute { column: "x".into(), value: 0.0, strategy: ImputeStrategy::Mean, output: None }], vec!["x".into()]), num_batch.clone()),
        (
            "numeric/impute+scale+clip+log1p",
            artifact(
                vec![x()],
                vec![
                    Step::Impute { column: "x".into(), value: 50.0, strategy: ImputeStrategy::Median, output: None },
                    Step::MinMaxScale { column: "x".into(), scale: 0.01, offset: 0.0, output: None },
                    Step::Clip { column: "x".into(), min: Some(0.0), max: Some(0.9), output: None },
                    Step::Log1p { column: "x".into(), output: None },
                ],
                vec!["x".into()],
            ),
            num_batch.clone(),
        ),
        (
            "numeric/bucketize(16 edges)",
            artifact(
                vec![x()],
                vec![Step::Bucketize { column: "x".into(), edges: (1..=16).map(|e| e as f64 * 6.0).collect(), output: None }],
                vec!["x".into()],
            ),
            num_batch.clone(),
        ),
        (
            "arith/ratio",
            artifact(
                vec![x(), Column::new("y", ColumnType::Float64)],
                vec![
                    Step::Arithmetic { op: ArithOp::Ratio, left: "x".into(), right: "y".into(), output: "r".into() },
                    Step::Impute { column: "r".into(), value: 0.0, strategy: ImputeStrategy::Constant, output: None },
                ],
                vec!["r".into()],
            ),
            num_batch,
        ),
        (
            "categorical/one_hot(utf8)",
            artifact(
                vec![city_col()],
                vec![Step::OneHot { column: "city".into(), categories: cities.clone(), unknown: UnknownCategory::Ignore, outputs: onehot_outputs.clone() }],
                onehot_outputs.clone(),
            ),
            utf8_batch.clone(),
        ),
        (
            "categorical/one_hot(dictionary)",
            artifact(
                vec![city_col()],
                vec![Step::OneHot { column: "city".into(), categories: cities.clone(), unknown: UnknownCategory::Ignore, outputs: onehot_outputs.clone() }],
                onehot_outputs,
            ),
            dict_batch,
        ),
        (
            "categorical/ordinal(utf8)",
            artifact(
                vec![city_col()],
                vec![Step::Ordinal { column: "city".into(), categories: cities.clone(), unknown: UnknownCategory::Error, unknown_value: None, output: Some("code".into()) }],
                vec!["code".into()],
            ),
            utf8_batch.clone(),
        ),
        (
            "categorical/hash(16)",
            artifact(
                vec![city_col()],
                vec![Step::Hash { column: "city".into(), n_features: 16, alternate_sign: true, outputs: (0..16).map(|i| format!("h{i}")).collect() }],
                (0..16).map(|i| format!("h{i}")).collect(),
            ),
            utf8_batch,
        ),
        (
            "date/parts(year,month,day_of_week)",
            artifact(
                vec![Column::new("d", ColumnType::Date)],
                vec![Step::DateParts {
                    column: "d".into(),
                    parts: vec![DatePart::Year, DatePart::Month, DatePart::DayOfWeek],
                    outputs: vec!["y".into(), "m".into(), "w".into()],
                }],
                vec!["y".into(), "m".into(), "w".into()],
            ),
            date_batch.clone(),
        ),
        (
            "date/elapsed(months)",
            artifact(
                vec![Column::new("d", ColumnType::Date)],
                vec![Step::Elapsed { column: "d".into(), reference: "2000-01-01".into(), unit: ElapsedUnit::Months, output: Some("age".into()) }],
                vec!["age".into()],
            ),
            date_batch,
        ),
    ]
}

fn transforms(c: &mut Criterion) {
    let mut group = c.benchmark_group("transforms");
    group.sample_size(10).measurement_time(Duration::from_secs(3)).throughput(Throughput::Elements(ROWS as u64));
    for (name, artifact, batch) in cases() {
        let scorer = Scorer::new(artifact).expect("prepares");
        let mut out = Outputs::new(&scorer, ROWS);
        group.bench_function(format!("{name}/rows={ROWS}"), |b| b.iter(|| out.score(&scorer, &batch, 1)));
    }
    group.finish();
}

criterion_group!(benches, transforms);
