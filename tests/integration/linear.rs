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
