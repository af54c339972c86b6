//! Linear and generalized linear models against hand-computed results, through `Scorer`.

use crate::common;

use arrow_array::Float64Array;
use common::*;
use kiln::artifact::Link;
use kiln::schema::{Column, ColumnType};

fn run(coef: Vec<Vec<f64>>, intercept: Vec<f64>, link: Link, a: &[f64], b: &[f64]) -> kiln::Scores {
    let s = scorer(content(
        vec![Column::new("a", ColumnType::Float64), Column::new("b", ColumnType::Float64)],
        vec![],
        linear(&["a", "b"], coef, intercept, link),
    ));
    score(&s, &batch(vec![("a", arr(Float64Array::from(a.to_vec()))), ("b", arr(Float64Array::from(b.to_vec())))]))
}

#[test]
fn identity_link_is_the_linear_predictor() {
    // 2*3 - 0.5*4 + 1 = 5; 2*(-1) - 0.5*0.5 + 1 = -1.25
    let r = run(vec![vec![2.0, -0.5]], vec![1.0], Link::Identity, &[3.0, -1.0], &[4.0, 0.5]);
    assert_values(r.output(0), &[Some(5.0), Some(-1.25)]);
}

#[test]
fn sum_runs_in_feature_order_then_the_intercept() {
    // (0 + 0.1*1 + 0.2*1) + 0.3 = 0.6000000000000001; other orders give 0.6.
    let r = run(vec![vec![0.1, 0.2]], vec![0.3], Link::Identity, &[1.0], &[1.0]);
    assert_values(r.output(0), &[Some(0.6000000000000001)]);
}

#[test]
fn logit_link() {
    let r = run(vec![vec![1.0, 1.0]], vec![0.0], Link::Logit, &[0.0, 0.75, 800.0, -800.0], &[0.0, 0.0, 0.0, 0.0]);
    assert_values(r.output(0), &[Some(0.5), Some(1.0 / (1.0 + (-0.75f64).exp())), Some(1.0), Some(0.0)]);
    assert!(r.status.iter().all(|&s| s == 0), "saturated probabilities are finite scores");
}

#[test]
fn log_link() {
    let r = run(vec![vec![1.0, 0.0]], vec![0.0], Link::Log, &[0.0, 1.0, -1.0], &[9.0, 9.0, 9.0]);
    assert_values(r.output(0), &[Some(1.0), Some(std::f64::consts::E), Some((-1.0f64).exp())]);
    // exp overflow is not a score.
    let r = run(vec![vec![1.0, 0.0]], vec![0.0], Link::Log, &[1000.0], &[0.0]);
    assert_eq!(statuses(&r), ["no_score"]);
}

#[test]
fn softmax_binary_and_multinomial() {
    // Binary: margins (0, ln 3) -> (1/(1+3), 3/(1+3)) computed as exp(m - max) / sum.
    let ln3 = 3f64.ln();
    let r = run(vec![vec![0.0, 0.0], vec![1.0, 0.0]], vec![0.0, 0.0], Link::Softmax, &[ln3, 0.0], &[0.0, 0.0]);
    let e = (-ln3).exp();
    assert_values(r.output(0), &[Some(e / (e + 1.0)), Some(0.5)]);
    assert_values(r.output(1), &[Some(1.0 / (e + 1.0)), Some(0.5)]);

    // Three classes: margins 1, 2, 3 (a=1, b=1) and, shifted by 1000, the same probabilities.
    let coef = vec![vec![1.0, 0.0], vec![1.0, 1.0], vec![2.0, 1.0]];
    let r = run(coef, vec![0.0, 0.0, 0.0], Link::Softmax, &[1.0, 1000.0], &[1.0, 1.0]);
    let (a, b, c) = ((-2.0f64).exp(), (-1.0f64).exp(), 1.0);
    let s = a + b + c;
    assert_values(r.output(0), &[Some(a / s), Some(0.0)]);
    assert_values(r.output(1), &[Some(b / s), Some(0.0)]);
    assert_values(r.output(2), &[Some(c / s), Some(1.0)]);
}

#[test]
fn null_feature_gives_no_score_for_every_output() {
    let s = scorer(content(
        vec![Column::new("a", ColumnType::Float64), Column::new("b", ColumnType::Float64)],
        vec![],
        linear(&["a", "b"], vec![vec![1.0, 0.0], vec![0.0, 1.0]], vec![0.0, 0.0], Link::Softmax),
    ));
    let r = score(&s, &batch(vec![("a", arr(Float64Array::from(vec![Some(1.0), None]))), ("b", arr(Float64Array::from(vec![Some(1.0), Some(2.0)])))]));
    assert_eq!(statuses(&r), ["ok", "no_score"]);
    assert_eq!(r.reason[1], -1);
    assert_eq!(sources(&s, &r), [None, Some("model")]);
    assert_values(r.output(0), &[Some(0.5), None]);
    assert_values(r.output(1), &[Some(0.5), None]);
}

/// Imputes and standard scales feeding a linear model are scored in one pass over the columns,
/// read in place when they are float64 without nulls (`plan::fuse_linear`). The same pipeline
/// plus a step that changes no value but is neither (a clip without bounds, of a column no
/// feature uses) goes step by step through scratch instead. Both must give the same bits,
/// statuses, reasons and report: over several blocks, one and two threads, NaNs, Arrow nulls, a
/// float32 column, infinities a rule flags (a block the fused pass must leave), values a rule
/// defaults or clamps, and unused columns (a categorical one, a flagged one after the
/// features' columns: the first reason in schema order wins either way).
#[test]
fn fused_linear_pipeline_gives_the_step_by_step_bits() {
    use arrow_array::{Float32Array, StringArray};
    use kiln::artifact::{ImputeStrategy, Step};
    use kiln::schema::{DefaultValue, Policy};
    use kiln::ScoreOptions;

    let n = 20_000;
    let mut rng = crate::sample::Rng::new(11);
    let mut unit = move || rng.uniform();
    let mut draw = |nan_rate: f64| -> Vec<f64> { (0..n).map(|_| if unit() < nan_rate { f64::NAN } else { unit() * 8.0 - 4.0 }).collect() };
    let a = draw(0.02);
    let b: Vec<Option<f64>> = draw(0.03).into_iter().map(|x| (!x.is_nan()).then_some(x)).collect();
    let c: Vec<f32> = draw(0.02).into_iter().map(|x| x as f32).collect();
    let mut d = draw(0.0);
    // Infinities in the second fused block (rows 4096..8192) and the last, none in the others.
    for i in [5000, 5001, 19_999] {
        d[i] = if i % 2 == 0 { f64::INFINITY } else { f64::NEG_INFINITY };
    }
    let e = draw(0.05);
    let mut h = draw(0.0);
    h[5000] = f64::INFINITY; // row 5000 breaks d's rule first
    h[12_000] = f64::INFINITY; // row 12000 breaks h's only
    let g: Vec<&str> = (0..n).map(|i| ["x", "y", "z"][i % 3]).collect();
    // A column that flags nulls: its one NaN, in the third fused block, breaks its rule alone.
    let mut k = draw(0.0);
    k[9000] = f64::NAN;

    let flag_infinite = |mut col: Column| {
        col.policy.non_finite = Policy::Flag;
        col
    };
    let mut e_col = Column::new("e", ColumnType::Float64).with_range(-3.0, 3.0);
    e_col.policy.out_of_range = Policy::Default;
    e_col.policy.null = Some(Policy::Default);
    e_col.default = Some(DefaultValue::Number(0.25));
    let columns = vec![
        Column::new("a", ColumnType::Float64),
        Column::new("b", ColumnType::Float64),
        Column::new("c", ColumnType::Float32),
        flag_infinite(Column::new("d", ColumnType::Float64)),
        e_col,
        Column::new("g", ColumnType::Categorical),
        flag_infinite(Column::new("h", ColumnType::Float64)),
        {
            let mut k_col = Column::new("k", ColumnType::Float64).with_range(-4.0, 4.0);
            k_col.policy.null = Some(Policy::Flag);
            k_col
        },
    ];
    let impute = |col: &str, value: f64, out: Option<&str>| Step::Impute {
        column: col.into(),
        value,
        strategy: ImputeStrategy::Mean,
        output: out.map(Into::into),
    };
    let scale = |col: &str, mean: f64, scale: f64, out: Option<&str>| Step::StandardScale {
        column: col.into(),
        mean,
        scale,
        output: out.map(Into::into),
    };
    let pipeline = vec![
        impute("a", 0.125, Some("a_i")),
        scale("a_i", 0.3, 1.7, Some("a_s")),
        scale("b", -0.2, 0.9, Some("b_s")),
        impute("c", -1.5, Some("c_i")),
        impute("e", 0.5, None),
        scale("e", 0.1, 2.3, None),
    ];
    let features = ["a_s", "b_s", "c_i", "d", "e", "k"];
    let binary = linear(&features, vec![vec![0.7, -1.3, 0.45, 0.011, 2.2, -0.08]], vec![-0.3], Link::Logit);
    let three = linear(
        &features,
        vec![vec![0.7, -1.3, 0.45, 0.011, 2.2, -0.08], vec![-0.2, 0.5, 0.1, -0.9, 0.3, 0.6], vec![0.0, 1.1, -0.6, 0.2, -0.4, 0.05]],
        vec![0.1, -0.2, 0.3],
        Link::Softmax,
    );
    // Once with b's nulls as Arrow nulls and c as float32 (read through scratch), once with
    // every column float64 with NaN for null (read in place, the fused pass's fast way).
    let mixed = batch(vec![
        ("a", arr(Float64Array::from(a.clone()))),
        ("b", arr(Float64Array::from(b.clone()))),
        ("c", arr(Float32Array::from(c.clone()))),
        ("d", arr(Float64Array::from(d.clone()))),
        ("e", arr(Float64Array::from(e.clone()))),
        ("g", arr(StringArray::from(g.clone()))),
        ("h", arr(Float64Array::from(h.clone()))),
        ("k", arr(Float64Array::from(k.clone()))),
    ]);
    let in_place = batch(vec![
        ("a", arr(Float64Array::from(a))),
        ("b", arr(Float64Array::from(b.iter().map(|x| x.unwrap_or(f64::NAN)).collect::<Vec<_>>()))),
        ("c", arr(Float64Array::from(c.iter().map(|&x| x as f64).collect::<Vec<_>>()))),
        ("d", arr(Float64Array::from(d))),
        ("e", arr(Float64Array::from(e))),
        ("g", arr(StringArray::from(g))),
        ("h", arr(Float64Array::from(h))),
        ("k", arr(Float64Array::from(k))),
    ]);
    // e's nulls and out-of-range values send every block the general way once e is reached:
    // without e, most blocks stay on the fused pass from start to end.
    let without_e = linear(&["a_s", "b_s", "c_i", "d", "k"], vec![vec![0.7, -1.3, 0.45, 0.011, -0.08]], vec![-0.3], Link::Logit);
    for model in [binary, three, without_e] {
        let fused = scorer(content(columns.clone(), pipeline.clone(), model.clone()));
        let mut stepwise_pipeline = pipeline.clone();
        stepwise_pipeline.push(Step::Clip { column: "h".into(), min: None, max: None, output: Some("h_clipped".into()) });
        let stepwise = scorer(content(columns.clone(), stepwise_pipeline, model));
        for (data, threads) in [(&mixed, 1), (&mixed, 2), (&in_place, 1), (&in_place, 2)] {
            let opts = ScoreOptions { n_threads: threads };
            let (got, want) = (fused.score(data, &opts).unwrap(), stepwise.score(data, &opts).unwrap());
            assert_eq!(got.status, want.status, "{threads} threads");
            assert_eq!(got.reason, want.reason, "{threads} threads");
            let bits = |s: &kiln::Scores| s.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert!(bits(&got) == bits(&want), "{threads} threads: scores differ");
            assert_eq!(serde_json::to_string(&got.report).unwrap(), serde_json::to_string(&want.report).unwrap());
            // The data reached every path: flagged rows (d's reason first), defaulted values.
            assert_eq!(statuses(&got)[5000], "non_finite");
            assert_eq!(fused.reason_source(got.reason[5000]), Some("d"));
            assert_eq!(fused.reason_source(got.reason[12_000]), Some("h"));
            assert_eq!(statuses(&got).iter().filter(|&&s| s == "non_finite").count(), 4);
            assert_eq!((statuses(&got)[9000], fused.reason_source(got.reason[9000])), ("null", Some("k")));
            assert!(statuses(&got).contains(&"no_score"), "b's nulls (no impute) give no score");
            assert!(got.report.defaults_applied.get("e").is_some_and(|&rows| rows > 0), "{:?}", got.report.defaults_applied);
        }
    }
}

/// The fused pass computes each feature as the steps do, `((x is NaN ? fill : x) - mean) /
/// scale`, and sums in the model's feature order: checked against that arithmetic by hand.
#[test]
fn fused_linear_pipeline_matches_the_arithmetic() {
    use kiln::artifact::{ImputeStrategy, Step};
    let xs = [1.5, f64::NAN, -0.25, 3.0e-5, -7.0];
    let ys = [0.1, 0.2, f64::NAN, -0.3, 0.7];
    let pipeline = vec![
        Step::Impute { column: "x".into(), value: 0.75, strategy: ImputeStrategy::Median, output: None },
        Step::StandardScale { column: "x".into(), mean: 0.3, scale: 1.9, output: None },
        Step::Impute { column: "y".into(), value: -0.5, strategy: ImputeStrategy::Median, output: None },
    ];
    let (cx, cy, b) = (0.37, -2.1, 0.05);
    let s = scorer(content(
        vec![Column::new("x", ColumnType::Float64), Column::new("y", ColumnType::Float64)],
        pipeline,
        linear(&["x", "y"], vec![vec![cx, cy]], vec![b], Link::Identity),
    ));
    let r = score(&s, &batch(vec![("x", arr(Float64Array::from(xs.to_vec()))), ("y", arr(Float64Array::from(ys.to_vec())))]));
    let want: Vec<Option<f64>> = xs
        .iter()
        .zip(&ys)
        .map(|(&x, &y)| {
            let x = ((if x.is_nan() { 0.75 } else { x }) - 0.3) / 1.9;
            let y = if y.is_nan() { -0.5 } else { y };
            let mut acc = 0.0;
            acc += cx * x;
            acc += cy * y;
            Some(acc + b)
        })
        .collect();
    assert_values(r.output(0), &want);
}

/// The fused pass adds up to four features per pass over the predictor: thirteen features in
/// groups of several lengths (scaled ones, an unscaled run, one whose nulls are flagged, one
/// whose rule is not an interval) must still sum one feature at a time in the model's order,
/// to the step-by-step pipeline's bits, with an identity link so the raw sum shows. An
/// infinity a rule flags in the middle of a group sends its block the general way.
#[test]
fn fused_groups_of_features_sum_in_the_model_order() {
    use kiln::artifact::{ImputeStrategy, Step};
    use kiln::schema::{DefaultValue, Policy};
    use kiln::ScoreOptions;

    let n = 10_000;
    let mut rng = crate::sample::Rng::new(13);
    let mut unit = move || rng.uniform();
    let names: Vec<String> = (0..13).map(|j| format!("x{j}")).collect();
    // Magnitudes from 1e-3 to 1e3, so that adding in another order changes low bits.
    let mut data: Vec<Vec<f64>> = (0..13)
        .map(|j| (0..n).map(|_| if unit() < 0.02 { f64::NAN } else { (unit() - 0.4) * 10f64.powi(j % 7 - 3) }).collect())
        .collect();
    data[2][4100] = f64::INFINITY; // second block, in the first group's third feature
    data[9][9000] = f64::NAN; // third block: x9 flags its nulls
    data[11][100] = 99.0; // first block: x11's out-of-range values are clamped (no interval rule)
    let mut columns: Vec<Column> = names.iter().map(|c| Column::new(c, ColumnType::Float64)).collect();
    columns[2].policy.non_finite = Policy::Flag;
    columns[9].policy.null = Some(Policy::Flag);
    columns[11] = Column::new("x11", ColumnType::Float64).with_range(-50.0, 50.0);
    columns[11].policy.out_of_range = Policy::Default;
    columns[11].default = Some(DefaultValue::Number(0.5));
    let mut pipeline = Vec::new();
    for (j, c) in names.iter().enumerate() {
        if j != 9 {
            pipeline.push(Step::Impute { column: c.clone(), value: 0.1 * j as f64 - 0.3, strategy: ImputeStrategy::Mean, output: None });
        }
        // x5..x7 and x9 unscaled: groups [x0..x3] [x4] [x5..x7] [x8] [x9] [x10] [x11] [x12].
        if !(5..=7).contains(&j) && j != 9 {
            pipeline.push(Step::StandardScale { column: c.clone(), mean: 0.01 * j as f64, scale: 0.3 + 0.17 * j as f64, output: None });
        }
    }
    let coef: Vec<f64> = (0..13).map(|j| (j as f64 * 0.731).sin() * 3.0).collect();
    let features: Vec<&str> = names.iter().map(String::as_str).collect();
    let model = linear(&features, vec![coef], vec![0.25], Link::Identity);
    let fused = scorer(content(columns.clone(), pipeline.clone(), model.clone()));
    let mut stepwise_pipeline = pipeline;
    stepwise_pipeline.push(Step::Clip { column: "x0".into(), min: None, max: None, output: Some("x0_clipped".into()) });
    let stepwise = scorer(content(columns, stepwise_pipeline, model));
    let data = batch(names.iter().zip(data).map(|(c, xs)| (c.as_str(), arr(Float64Array::from(xs)))).collect());
    for threads in [1, 2] {
        let opts = ScoreOptions { n_threads: threads };
        let (got, want) = (fused.score(&data, &opts).unwrap(), stepwise.score(&data, &opts).unwrap());
        assert_eq!(got.status, want.status, "{threads} threads");
        let bits = |s: &kiln::Scores| s.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert!(bits(&got) == bits(&want), "{threads} threads: scores differ");
        assert_eq!((statuses(&got)[4100], fused.reason_source(got.reason[4100])), ("non_finite", Some("x2")));
        assert_eq!((statuses(&got)[9000], fused.reason_source(got.reason[9000])), ("null", Some("x9")));
        assert_eq!(got.report.defaults_applied.get("x11"), Some(&1));
        let scored = statuses(&got).iter().filter(|&&s| s == "ok").count();
        assert!(scored > n - 400, "x9's nulls (no impute) flag about 2% of rows, {scored} scored");
    }
}
