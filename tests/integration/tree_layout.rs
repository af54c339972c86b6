//! The prepared tree layouts (compact numeric nodes walked in lockstep, general nodes for
//! categorical splits and LightGBM missing types) against a straightforward traversal of the
//! artifact's own arrays. Inputs are drawn to sit on, just beside and far from thresholds, with
//! NaN, infinities, signed zeros and tiny values, so that every comparison edge is exercised;
//! results must agree bit for bit.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array};
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Policy, Schema};
use kiln::{Artifact, Batch, ScoreOptions, Scorer};

use crate::common::empty_tree;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// What kinds of split a generated tree may contain.
#[derive(Clone, Copy)]
struct Kinds {
    categorical: bool,
    missing_kinds: bool,
}

fn random_tree(rng: &mut Rng, max_depth: u32, n_features: usize, width: u32, target: u32, kinds: Kinds, pool: &mut Vec<f64>) -> TreeSpec {
    let mut t = empty_tree(target, width);
    let mut stack = vec![(0usize, 0u32)];
    let push = |t: &mut TreeSpec| {
        t.feature.push(-1);
        t.threshold.push(0.0);
        t.left.push(-1);
        t.right.push(-1);
        t.default_left.push(false);
        t.missing.push(Missing::Nan);
        t.value.extend(std::iter::repeat_n(0.0, width as usize));
        t.feature.len() - 1
    };
    push(&mut t);
    while let Some((node, level)) = stack.pop() {
        // Irregular shapes: some trees end early, some run deep on one side.
        if level < max_depth && rng.chance(if level == 0 { 0.95 } else { 0.8 }) {
            t.feature[node] = rng.below(n_features) as i32;
            t.default_left[node] = rng.chance(0.5);
            let threshold = match rng.below(4) {
                0 => rng.unit() * 4.0 - 2.0,
                1 => (rng.unit() * 4.0 - 2.0) as f32 as f64,
                2 => (rng.below(9) as f64) - 2.0,
                // Artifacts hold finite thresholds only (JSON has no infinity); the extremes are
                // the largest finite values, where `<=` has no strict f32 form.
                _ => [0.0, -0.0, 1e-36, -1e-36, 1e39, -1e39, f64::MAX, -f64::MAX][rng.below(8)],
            };
            t.threshold[node] = threshold;
            pool.push(threshold);
            if kinds.missing_kinds && rng.chance(0.3) {
                t.missing[node] = if rng.chance(0.5) { Missing::Zero } else { Missing::AsZero };
            }
            if kinds.categorical && rng.chance(0.3) {
                let categories: Vec<u32> = (0..rng.below(5)).map(|_| rng.below(70) as u32).collect();
                t.category_splits.push(CategorySplit {
                    node: node as u32,
                    categories,
                    goes: if rng.chance(0.5) { SetGoes::Left } else { SetGoes::Right },
                });
            }
            let l = push(&mut t);
            let r = push(&mut t);
            // Children in a shuffled order in the source arrays: the layout must not assume
            // any particular numbering.
            let (l, r) = if rng.chance(0.5) { (l, r) } else { (r, l) };
            t.left[node] = l as i32;
            t.right[node] = r as i32;
            stack.push((l, level + 1));
            stack.push((r, level + 1));
        } else {
            for k in 0..width as usize {
                t.value[node * width as usize + k] = (rng.unit() - 0.5) * 0.7;
            }
        }
    }
    t
}

struct Case {
    spec: TreeEnsembleSpec,
}

fn random_ensemble(rng: &mut Rng, n_features: usize, kinds: Kinds, pool: &mut Vec<f64>) -> Case {
    let n_targets = 1 + rng.below(3);
    let forest = rng.chance(0.3);
    let n_trees = 1 + rng.below(30);
    let trees = (0..n_trees)
        .map(|_| {
            let (width, target) = if forest { (n_targets as u32, 0) } else { (1, rng.below(n_targets) as u32) };
            let depth = 1 + rng.below(11) as u32;
            random_tree(rng, depth, n_features, width, target, kinds, pool)
        })
        .collect();
    let pick = |rng: &mut Rng| if rng.chance(0.5) { Precision::Float32 } else { Precision::Float64 };
    let spec = TreeEnsembleSpec {
        features: (0..n_features).map(|j| format!("f{j}")).collect(),
        n_targets,
        base_score: (0..n_targets).map(|_| rng.unit() - 0.5).collect(),
        aggregate: if forest { Aggregate::Average } else { Aggregate::Sum },
        decision: if rng.chance(0.5) { Decision::Less } else { Decision::LessEqual },
        input_precision: pick(rng),
        accumulate: pick(rng),
        transform: OutputTransform::Identity,
        trees,
    };
    Case { spec }
}

fn artifact(spec: &TreeEnsembleSpec) -> Artifact {
    let columns = spec
        .features
        .iter()
        .map(|n| {
            let mut c = Column::new(n.clone(), ColumnType::Float64);
            c.policy.non_finite = Policy::Allow;
            c
        })
        .collect();
    let content = Content {
        schema: Schema::new(columns),
        pipeline: vec![],
        model: ModelSpec::TreeEnsemble(spec.clone()),
        outputs: (0..spec.n_targets).map(|k| OutputSpec::new(format!("y{k}"))).collect(),
        provenance: Provenance::default(),
        profile: None,
    };
    Artifact::new(content).expect("generated ensemble is valid")
}

/// Values that sit on, beside and far from the thresholds in `pool`.
fn random_value(rng: &mut Rng, pool: &[f64]) -> f64 {
    let t = pool[rng.below(pool.len())];
    match rng.below(12) {
        0 => f64::NAN,
        1 => t,
        2 => t as f32 as f64,
        3 => f64::from_bits(t.to_bits().wrapping_add(1)),
        4 => f64::from_bits(t.to_bits().wrapping_sub(1)),
        5 => t + f64::from(f32::EPSILON) * t.abs(),
        6 => [0.0, -0.0, 1e-36, -1e-40, f64::INFINITY, f64::NEG_INFINITY, 3.0, 3.5, 70.0, 1e10][rng.below(10)],
        7 => rng.below(70) as f64,
        _ => rng.unit() * 4.0 - 2.0,
    }
}

/// The obvious traversal, straight over the artifact's arrays.
fn reference(spec: &TreeEnsembleSpec, row: &[f64]) -> Vec<f64> {
    let acc32 = spec.accumulate == Precision::Float32;
    let round = |v: f64| if acc32 { v as f32 as f64 } else { v };
    let base = |k: usize| spec.base_score.get(k).copied().unwrap_or(0.0);
    let mut acc: Vec<f64> =
        (0..spec.n_targets).map(|k| if spec.aggregate == Aggregate::Sum { round(base(k)) } else { 0.0 }).collect();
    for tree in &spec.trees {
        let mut node = 0usize;
        while tree.feature[node] >= 0 {
            let mut x = row[tree.feature[node] as usize];
            if spec.input_precision == Precision::Float32 {
                x = x as f32 as f64;
            }
            let default_left = tree.default_left.get(node).copied().unwrap_or(false);
            let missing = tree.missing.get(node).copied().unwrap_or_default();
            let left = if let Some(split) = tree.category_splits.iter().find(|s| s.node as usize == node) {
                if x.is_nan() || x < 0.0 || x.fract() != 0.0 || x > u32::MAX as f64 {
                    default_left
                } else {
                    let listed = split.categories.contains(&(x as u32));
                    listed == (split.goes == SetGoes::Left)
                }
            } else {
                if x.is_nan() && missing != Missing::Nan {
                    x = 0.0;
                }
                if x.is_nan() || (missing == Missing::Zero && x.abs() <= 1e-35) {
                    default_left
                } else if spec.decision == Decision::Less {
                    x < tree.threshold[node]
                } else {
                    x <= tree.threshold[node]
                }
            };
            node = if left { tree.left[node] } else { tree.right[node] } as usize;
        }
        let w = tree.leaf_width as usize;
        for k in 0..w {
            let a = &mut acc[tree.target as usize + k];
            let v = tree.value[node * w + k];
            *a = if acc32 { (*a as f32 + v as f32) as f64 } else { *a + v };
        }
    }
    if spec.aggregate == Aggregate::Average {
        let n = spec.trees.len() as f64;
        for (k, a) in acc.iter_mut().enumerate() {
            *a = if acc32 { (*a as f32 / n as f32 + base(k) as f32) as f64 } else { *a / n + base(k) };
        }
    }
    acc
}

fn check(case: &Case, rng: &mut Rng, pool: &[f64], n_rows: usize, label: &str) {
    let scorer = Scorer::new(artifact(&case.spec)).expect("prepares");
    let n_features = case.spec.features.len();
    let columns: Vec<Vec<f64>> = (0..n_features).map(|_| (0..n_rows).map(|_| random_value(rng, pool)).collect()).collect();
    let batch = Batch::new(
        columns.iter().enumerate().map(|(j, c)| (format!("f{j}"), Arc::new(Float64Array::from(c.clone())) as ArrayRef)).collect(),
    )
    .expect("batch");
    for threads in [1, 2] {
        let got = scorer.score(&batch, &ScoreOptions { n_threads: threads }).expect("scores");
        for i in 0..n_rows {
            let row: Vec<f64> = columns.iter().map(|c| c[i]).collect();
            let want = reference(&case.spec, &row);
            assert_eq!(got.status[i], 0, "{label}: row {i} not scored");
            for (k, w) in want.iter().enumerate() {
                let g = got.output(k)[i];
                assert_eq!(g.to_bits(), w.to_bits(), "{label}, {threads} threads: row {i} target {k}: got {g}, want {w}; row {row:?}");
            }
        }
    }
}

fn run(kinds: Kinds, seed: u64, label: &str) {
    let mut rng = Rng(seed);
    for e in 0..40 {
        let mut pool = vec![0.0, 1.0];
        let n_features = 1 + rng.below(6);
        let case = random_ensemble(&mut rng, n_features, kinds, &mut pool);
        // Row counts off every block and lane boundary, and below the few-rows threshold
        // where trees rather than rows walk in lockstep.
        let n_rows = [1, 7, 9, 130, 300, 3, 2][e % 7];
        let label = format!("{label} ensemble {e} ({:?} input, {:?} accumulation, {:?})", case.spec.input_precision, case.spec.accumulate, case.spec.decision);
        check(&case, &mut rng, &pool, n_rows, &label);
    }
}

#[test]
fn numeric_trees_match_reference_traversal() {
    run(Kinds { categorical: false, missing_kinds: false }, 1, "numeric");
}

#[test]
fn categorical_and_missing_kinds_match_reference_traversal() {
    run(Kinds { categorical: true, missing_kinds: true }, 2, "general");
}

#[test]
fn mixed_layouts_keep_tree_order() {
    // Numeric and general trees interleaved in one ensemble, f32 accumulation (where the order
    // of additions shows in the bits).
    let mut rng = Rng(3);
    for e in 0..20 {
        let mut pool = vec![0.0];
        let mut case = random_ensemble(&mut rng, 4, Kinds { categorical: false, missing_kinds: false }, &mut pool);
        case.spec.accumulate = Precision::Float32;
        let general = Kinds { categorical: true, missing_kinds: true };
        for t in 0..case.spec.trees.len() {
            if t % 2 == 1 {
                let (w, target) = (case.spec.trees[t].leaf_width, case.spec.trees[t].target);
                case.spec.trees[t] = random_tree(&mut rng, 6, 4, w, target, general, &mut pool);
            }
        }
        check(&case, &mut rng, &pool, 257, &format!("mixed ensemble {e}"));
    }
}

#[test]
fn deep_and_single_leaf_trees() {
    let mut rng = Rng(4);
    let mut pool = vec![0.5];
    let leaf_only = random_tree(&mut rng, 0, 2, 1, 0, Kinds { categorical: false, missing_kinds: false }, &mut pool);
    let deep = random_tree(&mut rng, 30, 2, 1, 0, Kinds { categorical: false, missing_kinds: false }, &mut pool);
    let mut case = random_ensemble(&mut rng, 2, Kinds { categorical: false, missing_kinds: false }, &mut pool);
    case.spec.n_targets = 1;
    case.spec.base_score = vec![0.25];
    case.spec.aggregate = Aggregate::Sum;
    case.spec.trees = vec![leaf_only, deep.clone(), deep];
    check(&case, &mut rng, &pool, 200, "deep");
}

#[test]
fn full_lockstep_runs_of_trees() {
    // A small call walks sixteen consecutive numeric trees in lockstep: forty trees of one
    // maximum depth fill such runs, and depths 8 and 9 sit on either side of the depth past
    // which a full run stops early once every tree's walk is at a leaf.
    let mut rng = Rng(5);
    for (e, max_depth) in [8, 8, 9, 3, 1].into_iter().enumerate() {
        let mut pool = vec![0.0, -1.0];
        let mut case = random_ensemble(&mut rng, 5, Kinds { categorical: false, missing_kinds: false }, &mut pool);
        let width = case.spec.trees[0].leaf_width;
        case.spec.trees = (0..40)
            .map(|t| {
                let target = if width == 1 { (t % case.spec.n_targets) as u32 } else { 0 };
                random_tree(&mut rng, max_depth, 5, width, target, Kinds { categorical: false, missing_kinds: false }, &mut pool)
            })
            .collect();
        for n_rows in [1, 2, 3, 130] {
            check(&case, &mut rng, &pool, n_rows, &format!("depth {max_depth} ensemble {e}, {n_rows} rows"));
        }
    }
}

#[test]
fn earlier_models_leave_nothing_in_the_scratch_that_counts() {
    // Each thread keeps one scratch for the walks, which only grows and is only written where a
    // block's features go: the lanes past a block's last row, the zero column that leaves
    // read and the slack past the last group keep what an earlier model's block left there
    // (a wider model's inputs, NaN and infinities among them). Shallow trees (the unmasked
    // walk, which reads through that slack) and deep ones (the masked walk) alike give the
    // reference's results, on the calling thread and the pool's, after every other model.
    let mut rng = Rng(9);
    let numeric = Kinds { categorical: false, missing_kinds: false };
    let mut pool = vec![0.0, 1.0];
    let mut cases = Vec::new();
    // Features and deepest tree; 0 for leaf-wise trees of depth 14 (walked by refilling lanes,
    // which index the whole scratch at once).
    for (n_features, max_depth) in [(40, 8), (2, 8), (3, 11), (1, 4), (3, 0)] {
        let mut case = random_ensemble(&mut rng, n_features, numeric, &mut pool);
        let width = case.spec.trees[0].leaf_width;
        case.spec.trees = (0..20)
            .map(|t| {
                let target = if width == 1 { (t % case.spec.n_targets) as u32 } else { 0 };
                if max_depth == 0 {
                    return spine_tree(&mut rng, 14, n_features, width, target, &mut pool);
                }
                let depth = 1 + rng.below(max_depth) as u32;
                random_tree(&mut rng, depth, n_features, width, target, numeric, &mut pool)
            })
            .collect();
        cases.push(case);
    }
    for round in 0..3 {
        for (c, case) in cases.iter().enumerate() {
            for n_rows in [300, 7, 1, 2, 130] {
                check(case, &mut rng, &pool, n_rows, &format!("round {round}, model {c}, {n_rows} rows"));
            }
        }
    }
}

/// A leaf-wise tree: a spine of `depth` splits, each with a leaf on a random side and the
/// spine going on on the other, the last with two leaves; most walks end far above its
/// deepest leaf.
fn spine_tree(rng: &mut Rng, depth: u32, n_features: usize, width: u32, target: u32, pool: &mut Vec<f64>) -> TreeSpec {
    let mut t = empty_tree(target, width);
    let n = 2 * depth as usize + 1;
    t.feature = vec![-1; n];
    t.threshold = vec![0.0; n];
    t.left = vec![-1; n];
    t.right = vec![-1; n];
    t.default_left = (0..n).map(|_| rng.chance(0.5)).collect();
    t.missing = vec![Missing::Nan; n];
    t.value = (0..n * width as usize).map(|_| (rng.unit() - 0.5) * 0.7).collect();
    // Node 2k is the spine's k-th split, 2k + 1 its leaf; node 2 * depth the last leaf.
    for k in 0..depth as usize {
        let (spine, leaf, next) = (2 * k, 2 * k + 1, 2 * k + 2);
        t.feature[spine] = rng.below(n_features) as i32;
        t.threshold[spine] = if rng.chance(0.5) { rng.unit() * 2.0 - 1.0 } else { rng.below(5) as f64 - 2.0 };
        pool.push(t.threshold[spine]);
        (t.left[spine], t.right[spine]) = if rng.chance(0.5) { (leaf as i32, next as i32) } else { (next as i32, leaf as i32) };
    }
    t
}

#[test]
fn leaf_wise_trees_walked_by_refilling_lanes() {
    // Deep trees whose leaves mostly lie far above their deepest one (LightGBM's leaf-wise
    // trees) are walked with each lane taking the block's next row once its walk ends: rows
    // are visited out of order, so every row must still get its own leaves, in tree order,
    // whatever the row count (off lane and block boundaries, a block's tail padded to whole
    // groups), beside ordinary trees and with one or two targets.
    let mut rng = Rng(8);
    for e in 0..12 {
        let mut pool = vec![0.0, 1.0, -1.0];
        let n_features = 1 + rng.below(4);
        let mut case = random_ensemble(&mut rng, n_features, Kinds { categorical: false, missing_kinds: false }, &mut pool);
        let width = case.spec.trees[0].leaf_width;
        let n_targets = case.spec.n_targets;
        let mut trees: Vec<TreeSpec> = (0..24)
            .map(|t| {
                let target = if width == 1 { (t % n_targets) as u32 } else { 0 };
                let depth = 12 + rng.below(20) as u32;
                spine_tree(&mut rng, depth, n_features, width, target, &mut pool)
            })
            .collect();
        trees.insert(5, case.spec.trees[0].clone());
        case.spec.trees = trees;
        for n_rows in [4, 16, 17, 127, 128, 129, 300, 1000] {
            check(&case, &mut rng, &pool, n_rows, &format!("leaf-wise ensemble {e}, {n_rows} rows"));
        }
    }
}

#[test]
fn averaging_ensembles_share_repeated_leaf_values() {
    // A forest's leaves repeat a few sets of class fractions; kiln keeps each distinct set once
    // (by its bits: 0.0 and -0.0 stay apart) in one table for all trees. Every row must still
    // get its own leaves' values, one and three values a leaf, with ordinary leaves beside.
    let mut rng = Rng(9);
    let sets: [[f64; 3]; 5] = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.25, 0.25], [-0.0, 1.0, 0.0], [0.0, -0.0, 1.0]];
    for (e, width) in [1u32, 3, 3, 1].into_iter().enumerate() {
        let mut pool = vec![0.0, 0.5, -0.5];
        let mut case = random_ensemble(&mut rng, 3, Kinds { categorical: false, missing_kinds: false }, &mut pool);
        case.spec.aggregate = Aggregate::Average;
        case.spec.n_targets = width as usize;
        case.spec.base_score = vec![0.0; width as usize];
        case.spec.trees = (0..20)
            .map(|t| {
                let mut tree = random_tree(&mut rng, 2 + (t % 9) as u32, 3, width, 0, Kinds { categorical: false, missing_kinds: false }, &mut pool);
                for leaf in (0..tree.feature.len()).filter(|&i| tree.feature[i] < 0) {
                    // Most leaves from the few sets, some their own.
                    if !rng.chance(0.1) {
                        let set = sets[rng.below(sets.len())];
                        tree.value[leaf * width as usize..(leaf + 1) * width as usize].copy_from_slice(&set[..width as usize]);
                    }
                }
                tree
            })
            .collect();
        for n_rows in [1, 5, 130] {
            check(&case, &mut rng, &pool, n_rows, &format!("shared leaves {e}, width {width}, {n_rows} rows"));
        }
    }
}

/// A complete tree of `depth` levels of splits on random features and thresholds from `pool`.
fn full_tree(rng: &mut Rng, depth: u32, n_features: usize, pool: &mut Vec<f64>) -> TreeSpec {
    let n = (1usize << (depth + 1)) - 1;
    let mut t = TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: vec![-1; n],
        threshold: vec![0.0; n],
        left: vec![-1; n],
        right: vec![-1; n],
        default_left: vec![false; n],
        missing: vec![Missing::Nan; n],
        category_splits: vec![],
        value: vec![0.0; n],
    };
    for i in 0..n {
        if 2 * i + 2 < n {
            t.feature[i] = rng.below(n_features) as i32;
            t.threshold[i] = (rng.unit() * 4.0 - 2.0) as f32 as f64;
            pool.push(t.threshold[i]);
            t.default_left[i] = rng.chance(0.5);
            t.left[i] = (2 * i + 1) as i32;
            t.right[i] = (2 * i + 2) as i32;
        } else {
            t.value[i] = (rng.unit() - 0.5) * 0.7;
        }
    }
    t
}

#[test]
fn trees_too_large_for_compact_nodes() {
    // Models take compact nodes (8 bytes for float32, 12 for float64) whose child is a 16-bit
    // offset, unless a laid-out child lies more than 32,767 nodes from its parent: a
    // 131,071-node tree (children up to ~73,000 nodes ahead in cache-line blocks) beside small
    // ones keeps the whole model on the wider nodes, with the same results.
    let mut rng = Rng(6);
    let mut pool = vec![0.0];
    for (input, accumulate) in [(Precision::Float32, Precision::Float32), (Precision::Float32, Precision::Float64), (Precision::Float64, Precision::Float64)] {
        let mut case = random_ensemble(&mut rng, 3, Kinds { categorical: false, missing_kinds: false }, &mut pool);
        case.spec.input_precision = input;
        case.spec.accumulate = accumulate;
        case.spec.n_targets = 1;
        case.spec.base_score = vec![0.5];
        case.spec.aggregate = Aggregate::Sum;
        let small = random_tree(&mut rng, 6, 3, 1, 0, Kinds { categorical: false, missing_kinds: false }, &mut pool);
        let large = full_tree(&mut rng, 16, 3, &mut pool);
        assert!(large.feature.len() > 1 << 15);
        case.spec.trees = vec![small.clone(), large, small];
        for n_rows in [3, 130] {
            check(&case, &mut rng, &pool, n_rows, &format!("large tree, {input:?} input, {accumulate:?} accumulation, {n_rows} rows"));
        }
    }
}

#[test]
fn models_too_wide_for_compact_nodes() {
    // A compact node's 16-bit column holds where its scratch column starts in a 16-row group
    // (column x 16, over twice the features for their negations): 2,047 features fit, 2,048 and
    // more take the wider nodes. The trees split on the last features only, whose negated
    // columns start past 16 bits on the wide side. Both sides of the edge give the reference's
    // results, in both decisions and precisions.
    let mut rng = Rng(7);
    let mut pool = vec![0.0];
    for n_features in [2047, 2048, 2050] {
        for seed in 0..4 {
            let mut case = random_ensemble(&mut rng, n_features, Kinds { categorical: false, missing_kinds: false }, &mut pool);
            for tree in &mut case.spec.trees {
                for f in tree.feature.iter_mut().filter(|f| **f >= 0) {
                    *f = (n_features - 1 - *f as usize % 8) as i32;
                }
            }
            case.spec.decision = if seed % 2 == 0 { Decision::Less } else { Decision::LessEqual };
            case.spec.input_precision = if seed < 2 { Precision::Float32 } else { Precision::Float64 };
            for n_rows in [2, 40] {
                check(&case, &mut rng, &pool, n_rows, &format!("{n_features} features, case {seed}, {n_rows} rows"));
            }
        }
    }
}

#[test]
fn large_models_walk_run_windows() {
    // Models with 65,537 nodes or more take nodes whose child is an index
    // into a window shared by a run of sixteen trees (no bounds check per step): complete and
    // random trees, leaf-only trees (one at a run's start, where the window begins a node
    // before it) and a general tree cutting the runs short, in both precisions, scored a row
    // at a time (trees in lockstep) and in blocks.
    let mut rng = Rng(8);
    let mut pool = vec![0.0, -2.0, 2.0];
    let numeric = Kinds { categorical: false, missing_kinds: false };
    for (input, accumulate) in [(Precision::Float32, Precision::Float32), (Precision::Float64, Precision::Float64), (Precision::Float32, Precision::Float64)] {
        let mut case = random_ensemble(&mut rng, 4, numeric, &mut pool);
        case.spec.input_precision = input;
        case.spec.accumulate = accumulate;
        case.spec.n_targets = 1;
        case.spec.base_score = vec![0.5];
        case.spec.aggregate = Aggregate::Sum;
        let leaf_only = random_tree(&mut rng, 0, 4, 1, 0, numeric, &mut pool);
        let mut trees = vec![leaf_only.clone()];
        for t in 0..150 {
            trees.push(if t % 7 == 3 { random_tree(&mut rng, 8, 4, 1, 0, numeric, &mut pool) } else { full_tree(&mut rng, 8, 4, &mut pool) });
        }
        trees.insert(32, leaf_only);
        trees.insert(70, random_tree(&mut rng, 5, 4, 1, 0, Kinds { categorical: true, missing_kinds: true }, &mut pool));
        assert!(trees.iter().map(|t| t.feature.len()).sum::<usize>() > 65_537);
        // The same with deeper trees, walked unmasked through their windows: complete ones
        // of depth 10 and 12 (walks that stop once a group's lanes all sit at leaves) and
        // leaf-wise spines (refilled lanes), in runs of sixteen and cut short.
        let mut deep = trees.clone();
        for t in 0..40 {
            deep.insert(3 * t, match t % 4 {
                0 => full_tree(&mut rng, 10, 4, &mut pool),
                1 => spine_tree(&mut rng, 20 + t as u32 % 7, 4, 1, 0, &mut pool),
                2 => random_tree(&mut rng, 12, 4, 1, 0, numeric, &mut pool),
                _ => full_tree(&mut rng, 12, 4, &mut pool),
            });
        }
        for (trees, kind) in [(trees, "shallow"), (deep, "deep")] {
            case.spec.trees = trees;
            for n_rows in [1, 3, 130, 300] {
                check(&case, &mut rng, &pool, n_rows, &format!("large {kind} model, {input:?} input, {accumulate:?} accumulation, {n_rows} rows"));
            }
        }
    }
}
