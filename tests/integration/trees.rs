//! Tree-ensemble semantics against hand-computed results, through `Scorer`: split decisions at
//! equality, missing values, categorical sets, float32 inputs and accumulation, aggregation,
//! base scores, multi-target leaves and output transforms.

use crate::common;

use common::*;
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Policy};

/// A stump on feature 0: left leaf `l`, right leaf `r`.
fn stump(threshold: f64, default_left: bool, missing: Missing, l: f64, r: f64) -> TreeSpec {
    TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: vec![0, -1, -1],
        threshold: vec![threshold, 0.0, 0.0],
        left: vec![1, -1, -1],
        right: vec![2, -1, -1],
        default_left: vec![default_left, false, false],
        missing: vec![missing, Missing::Nan, Missing::Nan],
        category_splits: vec![],
        value: vec![0.0, l, r],
    }
}

/// A single leaf adding `values` into targets `target..`.
fn leaf(target: u32, values: &[f64]) -> TreeSpec {
    TreeSpec {
        target,
        leaf_width: values.len() as u32,
        feature: vec![-1],
        threshold: vec![0.0],
        left: vec![-1],
        right: vec![-1],
        default_left: vec![],
        missing: vec![],
        category_splits: vec![],
        value: values.to_vec(),
    }
}

fn ensemble(trees: Vec<TreeSpec>) -> TreeEnsembleSpec {
    TreeEnsembleSpec {
        features: vec!["x".into()],
        n_targets: 1,
        base_score: vec![],
        aggregate: Aggregate::Sum,
        decision: Decision::Less,
        input_precision: Precision::Float64,
        accumulate: Precision::Float64,
        transform: OutputTransform::Identity,
        trees,
    }
}

fn x_column() -> Column {
    let mut c = Column::new("x", ColumnType::Float64);
    c.policy.non_finite = Policy::Allow;
    c
}

/// Score `xs` through the ensemble; returns the scorer's outputs column-major.
fn run(spec: TreeEnsembleSpec, xs: &[Option<f64>]) -> kiln::Scores {
    let s = scorer(content(vec![x_column()], vec![], ModelSpec::TreeEnsemble(spec)));
    score(&s, &batch(vec![("x", arr(arrow_array::Float64Array::from(xs.to_vec())))]))
}

const L: f64 = 1.0;
const R: f64 = 2.0;

#[test]
fn less_and_less_equal_differ_only_at_equality() {
    let xs = [Some(0.5 - f64::EPSILON), Some(0.5), Some(0.5 + f64::EPSILON)];
    let less = run(ensemble(vec![stump(0.5, false, Missing::Nan, L, R)]), &xs);
    assert_values(less.output(0), &[Some(L), Some(R), Some(R)]);
    let mut spec = ensemble(vec![stump(0.5, false, Missing::Nan, L, R)]);
    spec.decision = Decision::LessEqual;
    assert_values(run(spec, &xs).output(0), &[Some(L), Some(L), Some(R)]);
}

#[test]
fn nan_follows_default_left() {
    let xs = [None, Some(f64::NAN), Some(-1.0), Some(f64::INFINITY), Some(f64::NEG_INFINITY)];
    assert_values(run(ensemble(vec![stump(0.0, true, Missing::Nan, L, R)]), &xs).output(0), &[Some(L), Some(L), Some(L), Some(R), Some(L)]);
    assert_values(run(ensemble(vec![stump(0.0, false, Missing::Nan, L, R)]), &xs).output(0), &[Some(R), Some(R), Some(L), Some(R), Some(L)]);
    // No default_left array at all: missing goes right.
    let mut t = stump(0.0, true, Missing::Nan, L, R);
    t.default_left.clear();
    t.missing.clear();
    assert_values(run(ensemble(vec![t]), &xs).output(0), &[Some(R), Some(R), Some(L), Some(R), Some(L)]);
}

#[test]
fn missing_kind_zero_sends_zero_and_nan_the_default_way() {
    // Threshold -1: every comparison would go right, so "left" proves the default direction.
    let xs = [None, Some(0.0), Some(-0.0), Some(1e-36), Some(-1e-35), Some(1e-30), Some(-2.0)];
    let r = run(ensemble(vec![stump(-1.0, true, Missing::Zero, L, R)]), &xs);
    assert_values(r.output(0), &[Some(L), Some(L), Some(L), Some(L), Some(L), Some(R), Some(L)]);
    let r = run(ensemble(vec![stump(-1.0, false, Missing::Zero, L, R)]), &xs);
    assert_values(r.output(0), &[Some(R), Some(R), Some(R), Some(R), Some(R), Some(R), Some(L)]);
}

#[test]
fn missing_kind_as_zero_compares_nan_as_zero() {
    // default_left is ignored: NaN is 0.0, and 0.0 < 0.5 goes left; 0.0 < -0.5 goes right.
    let xs = [None, Some(0.0), Some(0.7)];
    assert_values(run(ensemble(vec![stump(0.5, false, Missing::AsZero, L, R)]), &xs).output(0), &[Some(L), Some(L), Some(R)]);
    assert_values(run(ensemble(vec![stump(-0.5, true, Missing::AsZero, L, R)]), &xs).output(0), &[Some(R), Some(R), Some(R)]);
    // With kind `nan`, 0.0 is an ordinary value.
    assert_values(run(ensemble(vec![stump(-0.5, true, Missing::Nan, L, R)]), &xs).output(0), &[Some(L), Some(R), Some(R)]);
}

fn cat_stump(categories: Vec<u32>, goes: SetGoes, default_left: bool) -> TreeSpec {
    let mut t = stump(0.0, default_left, Missing::Nan, L, R);
    t.category_splits = vec![CategorySplit { node: 0, categories, goes }];
    t
}

#[test]
fn categorical_set_splits_both_directions() {
    let xs = [Some(1.0), Some(3.0), Some(2.0), Some(40.0), Some(41.0), Some(1000.0), Some(0.0), Some(31.0), Some(32.0)];
    let set = vec![1, 3, 40, 31];
    let left = run(ensemble(vec![cat_stump(set.clone(), SetGoes::Left, false)]), &xs);
    assert_values(left.output(0), &[Some(L), Some(L), Some(R), Some(L), Some(R), Some(R), Some(R), Some(L), Some(R)]);
    let right = run(ensemble(vec![cat_stump(set, SetGoes::Right, true)]), &xs);
    assert_values(right.output(0), &[Some(R), Some(R), Some(L), Some(R), Some(L), Some(L), Some(L), Some(R), Some(L)]);
    // An empty set: nothing is in it.
    let empty = run(ensemble(vec![cat_stump(vec![], SetGoes::Left, true)]), &[Some(0.0), Some(5.0)]);
    assert_values(empty.output(0), &[Some(R), Some(R)]);
}

#[test]
fn categorical_invalid_values_go_the_default_direction() {
    // Null, negative, non-integral and too-large values are no category: default direction,
    // whichever way the set goes and even if their truncation would be in the set.
    let xs = [None, Some(-1.0), Some(1.5), Some(-0.5), Some(f64::INFINITY), Some(5e9), Some(f64::NEG_INFINITY)];
    for goes in [SetGoes::Left, SetGoes::Right] {
        for default_left in [false, true] {
            let want = if default_left { L } else { R };
            let r = run(ensemble(vec![cat_stump(vec![0, 1], goes, default_left)]), &xs);
            assert_values(r.output(0), &vec![Some(want); xs.len()]);
        }
    }
}

#[test]
fn float32_inputs_round_before_comparing() {
    let t = 0.1f32 as f64; // 0.100000001490116...
    let xs = [Some(0.1), Some(t), Some(t + 1e-17), Some(0.1f32.next_down_f32() as f64)];
    // In f64, 0.1 < t goes left; rounded to f32 it equals t and goes right.
    let r64 = run(ensemble(vec![stump(t, false, Missing::Nan, L, R)]), &xs);
    assert_values(r64.output(0), &[Some(L), Some(R), Some(R), Some(L)]);
    let mut spec = ensemble(vec![stump(t, false, Missing::Nan, L, R)]);
    spec.input_precision = Precision::Float32;
    assert_values(run(spec, &xs).output(0), &[Some(R), Some(R), Some(R), Some(L)]);
    // A value just above the threshold that rounds down onto it, with `x <= t`.
    let above = 0.1000000016; // > t in f64, rounds to t in f32
    assert!(above > t && (above as f32) as f64 == t);
    let mut spec = ensemble(vec![stump(t, false, Missing::Nan, L, R)]);
    spec.decision = Decision::LessEqual;
    assert_values(run(spec.clone(), &[Some(above)]).output(0), &[Some(R)]);
    spec.input_precision = Precision::Float32;
    assert_values(run(spec, &[Some(above)]).output(0), &[Some(L)]);
}

trait NextDown {
    fn next_down_f32(self) -> f32;
}
impl NextDown for f32 {
    fn next_down_f32(self) -> f32 {
        f32::from_bits(self.to_bits() - 1)
    }
}

#[test]
fn float32_accumulation_rounds_every_addition() {
    let trees = vec![leaf(0, &[0.1]), leaf(0, &[0.2]), leaf(0, &[0.3])];
    let mut spec = ensemble(trees);
    spec.base_score = vec![0.7];
    let r64 = run(spec.clone(), &[Some(0.0)]);
    assert_values(r64.output(0), &[Some(0.7 + 0.1 + 0.2 + 0.3)]); // 1.3000000000000003
    spec.accumulate = Precision::Float32;
    let want32 = ((0.7f32 + 0.1f32) + 0.2f32) + 0.3f32;
    assert_eq!(want32 as f64, 1.2999999523162842, "the f32 path lands on a different double");
    assert_values(run(spec, &[Some(0.0)]).output(0), &[Some(want32 as f64)]);
}

#[test]
fn sum_and_average_with_base_score() {
    let trees = || vec![leaf(0, &[1.0]), leaf(0, &[2.0]), leaf(0, &[4.0])];
    let mut spec = ensemble(trees());
    spec.base_score = vec![0.5];
    assert_values(run(spec.clone(), &[Some(0.0)]).output(0), &[Some(7.5)]);
    spec.aggregate = Aggregate::Average;
    // base + (sum / n_trees): the base is not averaged.
    assert_values(run(spec.clone(), &[Some(0.0)]).output(0), &[Some(7.0 / 3.0 + 0.5)]);
    spec.accumulate = Precision::Float32;
    assert_values(run(spec, &[Some(0.0)]).output(0), &[Some((7.0f32 / 3.0f32 + 0.5f32) as f64)]);
}

#[test]
fn multi_target_trees_add_at_their_offset_with_leaf_width() {
    let mut spec = ensemble(vec![leaf(1, &[10.0, 20.0]), leaf(0, &[1.0]), leaf(2, &[0.25]), leaf(0, &[100.0, 200.0, 300.0])]);
    spec.n_targets = 3;
    spec.base_score = vec![0.5, -0.5, 2.0];
    let s = scorer(content(vec![x_column()], vec![], ModelSpec::TreeEnsemble(spec)));
    let r = score(&s, &batch(vec![("x", arr(arrow_array::Float64Array::from(vec![1.0, 2.0])))]));
    assert_values(r.output(0), &[Some(101.5), Some(101.5)]);
    assert_values(r.output(1), &[Some(209.5), Some(209.5)]);
    assert_values(r.output(2), &[Some(322.25), Some(322.25)]);
}

#[test]
fn multi_target_average_divides_by_all_trees() {
    // A forest of probability leaves: each tree votes a full distribution.
    let mut spec = ensemble(vec![leaf(0, &[1.0, 0.0]), leaf(0, &[0.5, 0.5]), leaf(0, &[0.0, 1.0]), leaf(0, &[0.25, 0.75])]);
    spec.n_targets = 2;
    spec.aggregate = Aggregate::Average;
    let r = run(spec, &[Some(0.0)]);
    assert_values(r.output(0), &[Some(1.75 / 4.0)]);
    assert_values(r.output(1), &[Some(2.25 / 4.0)]);
}

#[test]
fn output_transforms() {
    let margin = |t: OutputTransform, acc: Precision, base: Vec<f64>| {
        let mut spec = ensemble(vec![leaf(0, &vec![0.0; base.len()])]);
        spec.n_targets = base.len();
        spec.base_score = base;
        spec.transform = t;
        spec.accumulate = acc;
        let r = run(spec, &[Some(0.0)]);
        (0..r.report.rows as usize).flat_map(|_| (0..s_len(&r)).map(|j| r.output(j)[0]).collect::<Vec<_>>()).collect::<Vec<f64>>()
    };
    fn s_len(r: &kiln::Scores) -> usize {
        r.values.len() / r.n_rows
    }
    let m = 0.75f64;
    assert_eq!(margin(OutputTransform::Sigmoid, Precision::Float64, vec![0.0]), [0.5]);
    assert_eq!(margin(OutputTransform::Sigmoid, Precision::Float64, vec![m]), [1.0 / (1.0 + (-m).exp())]);
    let m32 = m as f32;
    assert_eq!(margin(OutputTransform::Sigmoid, Precision::Float32, vec![m]), [(1.0f32 / (1.0f32 + (-m32).exp())) as f64]);
    assert_eq!(margin(OutputTransform::Exp, Precision::Float64, vec![1.0]), [std::f64::consts::E]);
    assert_eq!(margin(OutputTransform::Exp, Precision::Float32, vec![1.0]), [1.0f32.exp() as f64]);
    // Softmax subtracts the max first: exp(-2), exp(-1), exp(0) over their sum.
    let (a, b, c) = ((-2.0f64).exp(), (-1.0f64).exp(), 1.0);
    let sum = a + b + c;
    assert_eq!(margin(OutputTransform::Softmax, Precision::Float64, vec![1.0, 2.0, 3.0]), [a / sum, b / sum, c / sum]);
    // Shifting every margin by a constant changes nothing; huge margins do not overflow.
    assert_eq!(margin(OutputTransform::Softmax, Precision::Float64, vec![1001.0, 1002.0, 1003.0]), [a / sum, b / sum, c / sum]);
    // Float32 softmax is XGBoost's: f32 exponentials summed in f64, divided by the sum as f32.
    let (a32, b32) = ((-2.0f32).exp(), (-1.0f32).exp());
    let sum32 = (a32 as f64 + b32 as f64 + 1.0f64) as f32;
    assert_eq!(
        margin(OutputTransform::Softmax, Precision::Float32, vec![1.0, 2.0, 3.0]),
        [(a32 / sum32) as f64, (b32 / sum32) as f64, (1.0f32 / sum32) as f64]
    );
}

#[test]
fn deeper_tree_routes_through_two_features() {
    // node0: x < 0 ? node1 : node2; node1: y < 10 ? leaf 3 : leaf 4; node2 leaf. Children
    // listed out of breadth-first order to check the re-layout keeps them straight.
    let tree = TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: vec![0, -1, 1, -1, -1],
        threshold: vec![0.0, 0.0, 10.0, 0.0, 0.0],
        left: vec![2, -1, 4, -1, -1],
        right: vec![1, -1, 3, -1, -1],
        default_left: vec![],
        missing: vec![],
        category_splits: vec![],
        value: vec![0.0, 30.0, 0.0, 20.0, 10.0],
    };
    let mut spec = ensemble(vec![tree]);
    spec.features = vec!["x".into(), "y".into()];
    let s = scorer(content(vec![x_column(), Column::new("y", ColumnType::Float64)], vec![], ModelSpec::TreeEnsemble(spec)));
    let r = score(
        &s,
        &batch(vec![
            ("x", arr(arrow_array::Float64Array::from(vec![-1.0, -1.0, 5.0, -1.0]))),
            ("y", arr(arrow_array::Float64Array::from(vec![Some(3.0), Some(10.0), Some(3.0), None]))),
        ]),
    );
    assert_values(r.output(0), &[Some(10.0), Some(20.0), Some(30.0), Some(20.0)]);
}
