use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, Float64Array, StringArray};
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Schema};
use kiln::{Artifact, Batch, ScoreOptions, Scorer};

fn artifact() -> Artifact {
    let content = Content {
        schema: Schema::new(vec![
            Column::new("age", ColumnType::Float64),
            Column::new("income", ColumnType::Float64),
            Column::new("province", ColumnType::Categorical).with_categories(["MADRID", "BARCELONA"]),
            Column::new("signup", ColumnType::Date),
        ]),
        pipeline: vec![
            Step::Impute { column: "income".into(), value: 1000.0, strategy: ImputeStrategy::Median, output: None },
            Step::Log1p { column: "income".into(), output: None },
            Step::StandardScale { column: "age".into(), mean: 40.0, scale: 10.0, output: None },
            Step::OneHot {
                column: "province".into(),
                categories: vec!["MADRID".into(), "BARCELONA".into()],
                unknown: UnknownCategory::Ignore,
                outputs: vec!["p_mad".into(), "p_bcn".into()],
            },
            Step::Elapsed { column: "signup".into(), reference: "2020-01-01".into(), unit: ElapsedUnit::Months, output: Some("tenure".into()) },
        ],
        model: ModelSpec::Linear(LinearSpec {
            features: vec!["age".into(), "income".into(), "p_mad".into(), "p_bcn".into(), "tenure".into()],
            coefficients: vec![vec![0.5, 0.1, 1.0, -1.0, 0.01]],
            intercept: vec![-0.3],
            link: Link::Logit,
        }),
        outputs: vec![OutputSpec::new("probability")],
        provenance: Provenance::default(),
        profile: None,
    };
    Artifact::new(content).unwrap()
}

#[test]
fn smoke() {
    let a = artifact();
    let bytes = a.to_bytes().unwrap();
    let s = Scorer::from_bytes(&bytes, Some(&a.fingerprint)).unwrap();
    let cols: Vec<(String, ArrayRef)> = vec![
        ("age".into(), Arc::new(Float64Array::from(vec![50.0, 30.0, 40.0]))),
        ("income".into(), Arc::new(Float64Array::from(vec![Some(100.0), None, Some(5.0)]))),
        ("province".into(), Arc::new(StringArray::from(vec![Some("MADRID"), Some("SEVILLA"), None]))),
        ("signup".into(), Arc::new(Date32Array::from(vec![0, 18000, 18262]))),
    ];
    let batch = Batch::new(cols).unwrap();
    let out = s.score(&batch, &ScoreOptions::default()).unwrap();
    eprintln!("{:?} {:?} {:?}", out.values, out.status, out.report);
    let eta0 = 0.5 * 1.0 + 0.1 * 101f64.ln() + 1.0 + 0.01 * 600.0 - 0.3;
    assert_eq!(out.values[0], 1.0 / (1.0 + (-eta0).exp()));
}
