//! Writes the shared golden cases under `tests/golden/` (format: `tests/golden/README.md`).
//!
//! `cargo run --example make_golden` rewrites every case: the artifacts and inputs are built
//! here, the expected results are what this kiln scores. Regenerate only on purpose (a format
//! change or a deliberate numeric change): every host's suite compares against these files, and
//! `tests/integration/golden.rs` fails whenever kiln's results drift from them.

#[path = "../tests/integration/common/golden_io.rs"]
mod golden_io;

use std::path::{Path, PathBuf};

use golden_io::GoldenValues as V;
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, DefaultValue, Policy, Schema};
use kiln::{Artifact, ScoreOptions, Scorer};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for (name, content, input) in cases() {
        write_case(&root.join(name), content, input);
        println!("wrote tests/golden/{name}");
    }
}

type Input = Vec<(String, V)>;

fn cases() -> Vec<(&'static str, Content, Input)> {
    vec![
        ("linear_logistic_pipeline", linear_logistic_pipeline(), linear_logistic_input()),
        ("trees_binary_missing_categorical", trees_binary(), trees_binary_input()),
        ("trees_multiclass_softmax", trees_multiclass(), trees_multiclass_input()),
        ("forest_regression_average", forest_average(), forest_average_input()),
        ("flagged_rows", flagged_rows(), flagged_rows_input()),
    ]
}

fn write_case(dir: &Path, content: Content, input: Input) {
    std::fs::create_dir_all(dir).expect("creating case directory");
    let artifact = Artifact::new(content).expect("golden artifact is valid");
    let model_path: PathBuf = dir.join("model.kiln");
    artifact.save(&model_path).expect("writing model.kiln");
    golden_io::write_json(&dir.join("input.json"), &golden_io::input_to_json(&input));
    // Score what a host will read: the files just written, not the in-memory objects.
    let scorer = Scorer::load(&model_path, Some(&artifact.fingerprint)).expect("loading model.kiln");
    let parsed = golden_io::input_from_json(&golden_io::read_json(&dir.join("input.json"))).expect("reading input.json");
    let scores = scorer.score(&golden_io::batch_of(&parsed), &ScoreOptions { n_threads: 1 }).expect("scoring golden input");
    golden_io::write_json(&dir.join("expected.json"), &golden_io::expected_to_json(&scorer, &scores));
}

fn provenance(note: &str) -> Provenance {
    let mut p = Provenance { library: "kiln-golden".into(), ..Provenance::default() };
    p.params.insert("case".into(), serde_json::Value::from(note));
    p
}

fn f(v: &[Option<f64>]) -> V {
    V::Float64(v.to_vec())
}
fn s(v: &[Option<&str>]) -> V {
    V::Utf8(v.iter().map(|x| x.map(str::to_string)).collect())
}
fn allow_unknown(mut c: Column) -> Column {
    c.policy.unknown_category = Policy::Allow;
    c
}
fn col(name: &str, v: V) -> (String, V) {
    (name.to_string(), v)
}

/// Days since 1970-01-01 of a date (for readable inputs).
fn day(y: i64, m: u32, d: u32) -> Option<i32> {
    Some(kiln::transform::date::days_from_civil(y, m, d) as i32)
}

// --- 1. logistic regression behind a pipeline: impute, scale, log1p, one-hot, dates ----------

fn linear_logistic_pipeline() -> Content {
    Content {
        schema: Schema::new(vec![
            Column::new("age", ColumnType::Float64),
            Column::new("income", ColumnType::Float64),
            // Unknown cities are allowed through to the encoder, which has an "other" slot.
            allow_unknown(Column::new("city", ColumnType::Categorical).with_categories(["madrid", "lisbon", "porto"])),
            Column::new("signup", ColumnType::Date),
            Column::new("member", ColumnType::Bool),
            Column::new("children", ColumnType::Int32),
        ]),
        pipeline: vec![
            Step::Impute { column: "age".into(), value: 41.5, strategy: ImputeStrategy::Mean, output: None },
            Step::StandardScale { column: "age".into(), mean: 40.25, scale: 12.5, output: None },
            Step::Impute { column: "income".into(), value: 2100.0, strategy: ImputeStrategy::Median, output: None },
            Step::Log1p { column: "income".into(), output: Some("log_income".into()) },
            Step::OneHot {
                column: "city".into(),
                categories: vec!["madrid".into(), "lisbon".into()],
                unknown: UnknownCategory::Slot,
                outputs: vec!["city_madrid".into(), "city_lisbon".into(), "city_other".into()],
            },
            Step::DateParts {
                column: "signup".into(),
                parts: vec![DatePart::Month, DatePart::DayOfWeek],
                outputs: vec!["signup_month".into(), "signup_dow".into()],
            },
            Step::Elapsed {
                column: "signup".into(),
                reference: "2024-03-31".into(),
                unit: ElapsedUnit::Months,
                output: Some("tenure_months".into()),
            },
            Step::Impute { column: "children".into(), value: 0.0, strategy: ImputeStrategy::Constant, output: None },
            Step::Clip { column: "children".into(), min: Some(0.0), max: Some(3.0), output: None },
            Step::Impute { column: "member".into(), value: 0.0, strategy: ImputeStrategy::Constant, output: None },
        ],
        model: ModelSpec::Linear(LinearSpec {
            features: [
                "age",
                "log_income",
                "city_madrid",
                "city_lisbon",
                "city_other",
                "signup_month",
                "signup_dow",
                "tenure_months",
                "member",
                "children",
            ]
            .map(String::from)
            .to_vec(),
            coefficients: vec![vec![0.35, -0.42, 0.8, -0.15, 0.05, 0.03, -0.07, 0.011, 0.6, -0.25]],
            intercept: vec![2.75],
            link: Link::Logit,
        }),
        outputs: vec![OutputSpec { name: "p_churn".into(), description: "probability of churn".into() }],
        provenance: provenance("linear logistic with a pipeline"),
        profile: None,
    }
}

fn linear_logistic_input() -> Input {
    vec![
        col("age", f(&[Some(23.0), Some(67.5), None, Some(40.25), Some(31.0), Some(55.0), Some(18.0), Some(44.4)])),
        col("income", f(&[Some(1500.0), Some(0.0), Some(98000.5), None, Some(2100.0), Some(350.25), Some(12.0), Some(-0.5)])),
        col("city", s(&[Some("madrid"), Some("lisbon"), Some("porto"), None, Some("paris"), Some("madrid"), Some("lisbon"), Some("porto")])),
        col(
            "signup",
            V::Date32(vec![
                day(2024, 1, 31),
                day(2020, 2, 29),
                day(1969, 12, 31),
                day(2023, 3, 31),
                day(1970, 1, 1),
                day(2024, 3, 31),
                day(2000, 1, 1),
                day(2024, 4, 15),
            ]),
        ),
        col("member", V::Bool(vec![Some(true), Some(false), None, Some(true), Some(false), Some(true), Some(true), Some(false)])),
        col("children", V::Int32(vec![Some(0), Some(2), Some(5), None, Some(1), Some(3), Some(-1), Some(4)])),
    ]
}

// --- 2. XGBoost-style binary booster: float32, NaN default directions, a categorical split ----

fn trees_binary() -> Content {
    // Threshold 0.1 as float32 (0.100000001490116...): an input of 0.1 rounds up onto it.
    let t01 = 0.1f32 as f64;
    Content {
        schema: Schema::new(vec![
            Column::new("x1", ColumnType::Float64),
            Column::new("x2", ColumnType::Int32),
            // Unknown colours reach the tree as a null code and go the default direction.
            allow_unknown(Column::new("color", ColumnType::Categorical).with_categories(["red", "green", "blue", "black"])),
            Column::new("flag", ColumnType::Bool),
        ]),
        pipeline: vec![Step::Ordinal {
            column: "color".into(),
            categories: vec!["red".into(), "green".into(), "blue".into(), "black".into()],
            unknown: UnknownCategory::Ignore,
            unknown_value: None,
            output: Some("color_code".into()),
        }],
        model: ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features: vec!["x1".into(), "x2".into(), "color_code".into(), "flag".into()],
            n_targets: 1,
            base_score: vec![-0.25],
            aggregate: Aggregate::Sum,
            decision: Decision::Less,
            input_precision: Precision::Float32,
            accumulate: Precision::Float32,
            transform: OutputTransform::Sigmoid,
            trees: vec![
                TreeSpec {
                    target: 0,
                    leaf_width: 1,
                    feature: vec![0, 2, 1, -1, -1, -1, -1],
                    threshold: vec![t01, 0.0, 10.0, 0.0, 0.0, 0.0, 0.0],
                    left: vec![1, 3, 5, -1, -1, -1, -1],
                    right: vec![2, 4, 6, -1, -1, -1, -1],
                    default_left: vec![true, false, false, false, false, false, false],
                    missing: vec![],
                    category_splits: vec![CategorySplit { node: 1, categories: vec![0, 2], goes: SetGoes::Left }],
                    value: vec![0.0, 0.0, 0.0, 0.3125, -0.2, 0.1, -0.4375],
                },
                TreeSpec {
                    target: 0,
                    leaf_width: 1,
                    feature: vec![3, -1, 0, -1, -1],
                    threshold: vec![0.5, 0.0, 2.25, 0.0, 0.0],
                    left: vec![1, -1, 3, -1, -1],
                    right: vec![2, -1, 4, -1, -1],
                    default_left: vec![false, false, true, false, false],
                    missing: vec![],
                    category_splits: vec![],
                    value: vec![0.0, -0.05, 0.0, 0.2, 0.15],
                },
                TreeSpec {
                    target: 0,
                    leaf_width: 1,
                    feature: vec![2, -1, -1],
                    threshold: vec![0.0, 0.0, 0.0],
                    left: vec![1, -1, -1],
                    right: vec![2, -1, -1],
                    default_left: vec![true, false, false],
                    missing: vec![],
                    category_splits: vec![CategorySplit { node: 0, categories: vec![1], goes: SetGoes::Right }],
                    value: vec![0.0, 0.0123, -0.0456],
                },
            ],
        }),
        outputs: vec![OutputSpec::new("probability")],
        provenance: provenance("xgboost-style binary booster"),
        profile: None,
    }
}

fn trees_binary_input() -> Input {
    vec![
        col("x1", f(&[Some(0.1), Some(0.09999), None, Some(3.0), Some(2.25), Some(-7.5), Some(0.5), None])),
        col("x2", V::Int32(vec![Some(3), Some(10), Some(9), None, Some(11), Some(0), Some(10), Some(-4)])),
        col("color", s(&[Some("red"), Some("green"), Some("blue"), Some("black"), None, Some("purple"), Some("blue"), Some("green")])),
        col("flag", V::Bool(vec![Some(true), Some(false), Some(true), None, Some(true), Some(false), Some(true), Some(true)])),
    ]
}

// --- 3. multiclass booster with softmax: one tree per class per round ------------------------

fn stump(target: u32, feature: i32, threshold: f64, left: f64, right: f64, default_left: bool) -> TreeSpec {
    TreeSpec {
        target,
        leaf_width: 1,
        feature: vec![feature, -1, -1],
        threshold: vec![threshold, 0.0, 0.0],
        left: vec![1, -1, -1],
        right: vec![2, -1, -1],
        default_left: vec![default_left, false, false],
        missing: vec![],
        category_splits: vec![],
        value: vec![0.0, left, right],
    }
}

fn trees_multiclass() -> Content {
    Content {
        schema: Schema::new(vec![Column::new("a", ColumnType::Float64), Column::new("b", ColumnType::Float64)]),
        pipeline: vec![Step::StandardScale { column: "b".into(), mean: 1.5, scale: 0.75, output: None }],
        model: ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features: vec!["a".into(), "b".into()],
            n_targets: 3,
            base_score: vec![0.5, 0.5, 0.5],
            aggregate: Aggregate::Sum,
            decision: Decision::LessEqual,
            input_precision: Precision::Float64,
            accumulate: Precision::Float64,
            transform: OutputTransform::Softmax,
            trees: vec![
                stump(0, 0, 1.0, 0.41, -0.2, true),
                stump(1, 1, 0.0, -0.33, 0.27, false),
                stump(2, 0, 2.5, -0.1, 0.52, true),
                stump(0, 1, -1.0, 0.18, -0.05, false),
                stump(1, 0, 0.25, 0.07, -0.12, false),
                stump(2, 1, 1.0, -0.21, 0.3, true),
            ],
        }),
        outputs: vec![OutputSpec::new("p_setosa"), OutputSpec::new("p_versicolor"), OutputSpec::new("p_virginica")],
        provenance: provenance("multiclass softmax booster"),
        profile: None,
    }
}

fn trees_multiclass_input() -> Input {
    vec![
        col("a", f(&[Some(0.5), Some(1.0), Some(2.5), Some(3.75), None, Some(0.25), Some(-1.0)])),
        col("b", f(&[Some(1.5), Some(0.75), Some(2.25), None, Some(3.0), Some(0.0), Some(1.5)])),
    ]
}

// --- 4. random-forest regression: averaged trees, LightGBM-style missing kinds ---------------

fn forest_average() -> Content {
    let tree = |f0: i32, t0: f64, missing0: Missing, f1: i32, t1: f64, values: [f64; 3]| TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: vec![f0, f1, -1, -1, -1],
        threshold: vec![t0, t1, 0.0, 0.0, 0.0],
        left: vec![1, 2, -1, -1, -1],
        right: vec![4, 3, -1, -1, -1],
        default_left: vec![true, false, false, false, false],
        missing: vec![missing0, Missing::Nan, Missing::Nan, Missing::Nan, Missing::Nan],
        category_splits: vec![],
        value: vec![0.0, 0.0, values[0], values[1], values[2]],
    };
    Content {
        schema: Schema::new(vec![
            Column::new("rooms", ColumnType::Int32),
            Column::new("area", ColumnType::Float64),
            Column::new("garden", ColumnType::Bool),
            Column::new("built", ColumnType::Date),
        ]),
        pipeline: vec![Step::Elapsed { column: "built".into(), reference: "2025-01-01".into(), unit: ElapsedUnit::Years, output: Some("age".into()) }],
        model: ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features: vec!["rooms".into(), "area".into(), "garden".into(), "age".into()],
            n_targets: 1,
            base_score: vec![],
            aggregate: Aggregate::Average,
            decision: Decision::LessEqual,
            input_precision: Precision::Float64,
            accumulate: Precision::Float64,
            transform: OutputTransform::Identity,
            trees: vec![
                tree(0, 2.0, Missing::Nan, 1, 55.5, [110_000.0, 162_500.25, 240_000.0]),
                tree(1, 80.0, Missing::Zero, 2, 0.5, [131_000.5, 175_250.0, 265_500.75]),
                tree(3, 30.0, Missing::AsZero, 0, 3.0, [199_999.99, 150_000.01, 120_500.0]),
            ],
        }),
        outputs: vec![OutputSpec::new("price")],
        provenance: provenance("random forest regression"),
        profile: None,
    }
}

fn forest_average_input() -> Input {
    vec![
        col("rooms", V::Int32(vec![Some(1), Some(2), Some(3), None, Some(5), Some(2), Some(4)])),
        col("area", f(&[Some(40.0), Some(55.5), Some(80.0), Some(0.0), None, Some(120.75), Some(80.000001)])),
        col("garden", V::Bool(vec![Some(false), Some(true), None, Some(true), Some(false), Some(true), Some(false)])),
        col("built", V::Date32(vec![day(1995, 1, 1), day(1994, 12, 31), None, day(2025, 6, 1), day(1960, 2, 29), day(2015, 1, 2), day(1900, 3, 1)])),
    ]
}

// --- 5. hard edges: rows flagged for nulls, unknown categories, ranges, domain, no score ----

fn flagged_rows() -> Content {
    let mut age = Column::new("age", ColumnType::Float64).with_range(0.0, 120.0).not_null();
    age.policy.out_of_range = Policy::Flag;
    let mut city = Column::new("city", ColumnType::Categorical).with_categories(["a", "b", "c"]);
    city.policy.unknown_category = Policy::Flag;
    city.policy.null = Some(Policy::Default);
    city.default = Some(DefaultValue::Category("b".into()));
    let mut score = Column::new("score", ColumnType::Float64).with_range(0.0, 100.0);
    score.policy.null = Some(Policy::Default);
    score.policy.out_of_range = Policy::Default;
    score.default = Some(DefaultValue::Number(50.0));
    Content {
        schema: Schema::new(vec![
            age,
            city,
            score,
            Column::new("income", ColumnType::Float64),
            Column::new("debt", ColumnType::Float64),
        ]),
        pipeline: vec![
            Step::OneHot {
                column: "city".into(),
                categories: vec!["a".into(), "b".into(), "c".into()],
                unknown: UnknownCategory::Error,
                outputs: vec!["city_a".into(), "city_b".into(), "city_c".into()],
            },
            Step::Log1p { column: "income".into(), output: None },
            Step::Arithmetic { op: ArithOp::Ratio, left: "income".into(), right: "debt".into(), output: "income_per_debt".into() },
        ],
        model: ModelSpec::Linear(LinearSpec {
            features: ["age", "city_a", "city_b", "city_c", "score", "income", "income_per_debt"].map(String::from).to_vec(),
            coefficients: vec![vec![0.01, 1.5, -0.5, 0.25, 0.02, 0.3, -0.125]],
            intercept: vec![0.1],
            link: Link::Identity,
        }),
        outputs: vec![OutputSpec::new("value")],
        provenance: provenance("row flags at the edge and in the pipeline"),
        profile: None,
    }
}

fn flagged_rows_input() -> Input {
    vec![
        col("age", f(&[Some(30.0), None, Some(121.0), Some(45.0), Some(50.0), Some(60.0), Some(0.0), Some(120.0), Some(33.0)])),
        col("city", s(&[Some("a"), Some("b"), Some("c"), Some("zz"), None, Some("a"), Some("c"), Some("b"), Some("a")])),
        col("score", f(&[Some(10.0), Some(20.0), Some(30.0), Some(40.0), None, Some(150.0), Some(-3.0), Some(99.5), Some(70.0)])),
        col("income", f(&[Some(100.0), Some(1.0), Some(2.0), Some(3.0), Some(4.0), Some(-1.0), Some(0.5), Some(1e6), Some(10.0)])),
        col("debt", f(&[Some(2.0), Some(1.0), Some(1.0), Some(1.0), Some(8.0), Some(1.0), Some(0.25), Some(3.5), Some(0.0)])),
    ]
}
