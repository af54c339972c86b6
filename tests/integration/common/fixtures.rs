//! The fixture models shared by the ABI tests (Rust and C): a credit-risk pipeline (impute +
//! one-hot) in front of a small boosted tree ensemble, and the same pipeline in front of a
//! logistic model. `tests/integration/fixtures.rs` checks the committed files under `tests/data/` are
//! exactly what this builds.

use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Schema};
use kiln::Artifact;

fn schema() -> Schema {
    Schema::new(vec![
        Column::new("age", ColumnType::Float64),
        Column::new("income", ColumnType::Float64),
        Column::new("province", ColumnType::Categorical).with_categories(["MADRID", "BARCELONA", "SEVILLA"]),
    ])
}

fn pipeline() -> Vec<Step> {
    vec![
        Step::Impute { column: "income".into(), value: 1000.0, strategy: ImputeStrategy::Median, output: None },
        Step::OneHot {
            column: "province".into(),
            categories: vec!["MADRID".into(), "BARCELONA".into()],
            unknown: UnknownCategory::Ignore,
            outputs: vec!["p_mad".into(), "p_bcn".into()],
        },
    ]
}

fn features() -> Vec<String> {
    ["age", "income", "p_mad", "p_bcn"].map(String::from).to_vec()
}

fn provenance() -> Provenance {
    // A fixed kiln_version keeps the fixture's fingerprint stable across releases.
    Provenance { library: "kiln-tests".into(), kiln_version: "fixture".into(), seed: Some(7), ..Provenance::default() }
}

/// `sigmoid(0.1 + tree0 + tree1)`, where tree0 = age < 40 ? -0.4 : (p_mad < 0.5 ? 0.3 : 0.9)
/// (a missing age goes left) and tree1 = income < 2000 ? 0.2 : -0.1.
pub fn trees() -> Artifact {
    let tree0 = TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: vec![0, -1, 2, -1, -1],
        threshold: vec![40.0, 0.0, 0.5, 0.0, 0.0],
        left: vec![1, -1, 3, -1, -1],
        right: vec![2, -1, 4, -1, -1],
        default_left: vec![true, false, false, false, false],
        missing: vec![],
        category_splits: vec![],
        value: vec![0.0, -0.4, 0.0, 0.3, 0.9],
    };
    let tree1 = TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: vec![1, -1, -1],
        threshold: vec![2000.0, 0.0, 0.0],
        left: vec![1, -1, -1],
        right: vec![2, -1, -1],
        default_left: vec![],
        missing: vec![],
        category_splits: vec![],
        value: vec![0.0, 0.2, -0.1],
    };
    let content = Content {
        schema: schema(),
        pipeline: pipeline(),
        model: ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features: features(),
            n_targets: 1,
            base_score: vec![0.1],
            aggregate: Aggregate::Sum,
            decision: Decision::Less,
            input_precision: Precision::Float64,
            accumulate: Precision::Float64,
            transform: OutputTransform::Sigmoid,
            trees: vec![tree0, tree1],
        }),
        outputs: vec![OutputSpec::new("probability")],
        provenance: provenance(),
        profile: None,
    };
    Artifact::new(content).expect("fixture trees artifact is valid").with_created_at("2024-01-01T00:00:00Z")
}

/// `sigmoid(-1.5 + 0.03 age + 0.0004 income + 0.5 p_mad - 0.25 p_bcn)`.
pub fn logistic() -> Artifact {
    let content = Content {
        schema: schema(),
        pipeline: pipeline(),
        model: ModelSpec::Linear(LinearSpec {
            features: features(),
            coefficients: vec![vec![0.03, 0.0004, 0.5, -0.25]],
            intercept: vec![-1.5],
            link: Link::Logit,
        }),
        outputs: vec![OutputSpec::new("probability")],
        provenance: provenance(),
        profile: None,
    };
    Artifact::new(content).expect("fixture logistic artifact is valid").with_created_at("2024-01-01T00:00:00Z")
}

pub fn data_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

/// Reference formulas of the two fixtures, for one row (`None` = null).
pub fn expected_trees(age: Option<f64>, income: Option<f64>, province: Option<&str>) -> f64 {
    let income = income.unwrap_or(1000.0);
    let p_mad = if province == Some("MADRID") { 1.0 } else { 0.0 };
    let t0: f64 = match age {
        Some(a) if a >= 40.0 => {
            if p_mad < 0.5 {
                0.3
            } else {
                0.9
            }
        }
        _ => -0.4,
    };
    let t1: f64 = if income < 2000.0 { 0.2 } else { -0.1 };
    1.0 / (1.0 + (-(0.1 + t0 + t1)).exp())
}

pub fn expected_logistic(age: f64, income: Option<f64>, province: Option<&str>) -> f64 {
    let income = income.unwrap_or(1000.0);
    let p_mad = if province == Some("MADRID") { 1.0 } else { 0.0 };
    let p_bcn = if province == Some("BARCELONA") { 1.0 } else { 0.0 };
    let eta = -1.5 + 0.03 * age + 0.0004 * income + 0.5 * p_mad - 0.25 * p_bcn;
    1.0 / (1.0 + (-eta).exp())
}
