//! Deterministic data and artifacts shared by the benchmarks: every generator takes a seed, so
//! every run measures the same model over the same rows.

#![allow(dead_code, reason = "each bench file uses a subset of the generators")]

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array};
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Schema};
use kiln::{Artifact, Batch, ScoreOptions, Scorer};

/// SplitMix64: tiny, seedable and good enough for benchmark data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

pub fn feature_names(n: usize) -> Vec<String> {
    (0..n).map(|j| format!("f{j}")).collect()
}

/// `n_features` float64 columns of `n_rows` standard-ish values, each value NaN (null in
/// spirit: a float NaN, as XGBoost's missing) with probability `nan_rate`.
pub fn float_batch(n_rows: usize, n_features: usize, nan_rate: f64, seed: u64) -> Batch {
    let mut rng = Rng::new(seed);
    let cols = feature_names(n_features)
        .into_iter()
        .map(|name| {
            let values: Vec<f64> =
                (0..n_rows).map(|_| if rng.unit() < nan_rate { f64::NAN } else { rng.unit() * 2.0 - 1.0 }).collect();
            (name, Arc::new(Float64Array::from(values)) as ArrayRef)
        })
        .collect();
    Batch::new(cols).expect("distinct column names")
}

/// One random tree of at most `depth` levels of splits: a node below the depth limit splits
/// with probability 0.9 (so most trees are nearly complete, as boosting with `max_depth`
/// gives), thresholds are drawn from the features' range and default directions at random.
pub fn random_tree(rng: &mut Rng, depth: u32, n_features: usize) -> TreeSpec {
    let mut t = TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: vec![],
        threshold: vec![],
        left: vec![],
        right: vec![],
        default_left: vec![],
        missing: vec![],
        category_splits: vec![],
        value: vec![],
    };
    // Depth-first construction with an explicit stack of (node, level).
    fn push(t: &mut TreeSpec) -> usize {
        t.feature.push(-1);
        t.threshold.push(0.0);
        t.left.push(-1);
        t.right.push(-1);
        t.default_left.push(false);
        t.value.push(0.0);
        t.feature.len() - 1
    }
    let root = push(&mut t);
    let mut stack = vec![(root, 0u32)];
    while let Some((node, level)) = stack.pop() {
        if level < depth && (level == 0 || rng.unit() < 0.9) {
            t.feature[node] = rng.below(n_features) as i32;
            t.threshold[node] = rng.unit() * 1.6 - 0.8;
            t.default_left[node] = rng.unit() < 0.5;
            let l = push(&mut t);
            let r = push(&mut t);
            t.left[node] = l as i32;
            t.right[node] = r as i32;
            stack.push((l, level + 1));
            stack.push((r, level + 1));
        } else {
            t.left[node] = -1;
            t.right[node] = -1;
            t.value[node] = (rng.unit() - 0.5) * 0.2;
        }
    }
    t
}

/// A binary-logistic boosted ensemble as XGBoost produces it: `x < t`, inputs rounded to f32,
/// leaf sums accumulated in f32, a sigmoid on top.
pub fn xgboost_like(n_trees: usize, depth: u32, n_features: usize, seed: u64) -> Artifact {
    let mut rng = Rng::new(seed);
    let names = feature_names(n_features);
    let content = Content {
        schema: Schema::new(names.iter().map(|n| Column::new(n.clone(), ColumnType::Float64)).collect()),
        pipeline: vec![],
        model: ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features: names.clone(),
            n_targets: 1,
            base_score: vec![0.0],
            aggregate: Aggregate::Sum,
            decision: Decision::Less,
            input_precision: Precision::Float32,
            accumulate: Precision::Float32,
            transform: OutputTransform::Sigmoid,
            trees: (0..n_trees).map(|_| random_tree(&mut rng, depth, n_features)).collect(),
        }),
        outputs: vec![OutputSpec::new("probability")],
        provenance: Provenance::default(),
        profile: None,
    };
    Artifact::new(content).expect("generated ensemble is valid")
}

/// A leaf-wise tree as LightGBM grows it: `n_leaves` leaves made by splitting a leaf chosen at
/// random each time, so trees are unbalanced (typically depth 15 to 20 for 255 leaves while
/// most leaves sit near depth 10). Missing values go a random default direction (`nan` missing
/// type, as LightGBM uses for features that had missing values in training).
pub fn leafwise_tree(rng: &mut Rng, n_leaves: usize, n_features: usize) -> TreeSpec {
    let mut t = TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: vec![-1],
        threshold: vec![0.0],
        left: vec![-1],
        right: vec![-1],
        default_left: vec![false],
        missing: vec![],
        category_splits: vec![],
        value: vec![0.0],
    };
    let mut leaves = vec![0usize];
    while leaves.len() < n_leaves {
        let node = leaves.swap_remove(rng.below(leaves.len()));
        t.feature[node] = rng.below(n_features) as i32;
        t.threshold[node] = rng.unit() * 1.6 - 0.8;
        t.default_left[node] = rng.unit() < 0.5;
        for side in 0..2 {
            let child = t.feature.len();
            t.feature.push(-1);
            t.threshold.push(0.0);
            t.left.push(-1);
            t.right.push(-1);
            t.default_left.push(false);
            t.value.push((rng.unit() - 0.5) * 0.2);
            if side == 0 {
                t.left[node] = child as i32;
            } else {
                t.right[node] = child as i32;
            }
            leaves.push(child);
        }
    }
    t
}

/// A binary model as LightGBM produces it: `x <= t` on float64 inputs and thresholds, float64
/// sums, a sigmoid on top; leaf-wise trees of `n_leaves` leaves.
pub fn lightgbm_like(n_trees: usize, n_leaves: usize, n_features: usize, seed: u64) -> Artifact {
    let mut rng = Rng::new(seed);
    let names = feature_names(n_features);
    let content = Content {
        schema: Schema::new(names.iter().map(|n| Column::new(n.clone(), ColumnType::Float64)).collect()),
        pipeline: vec![],
        model: ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features: names.clone(),
            n_targets: 1,
            base_score: vec![],
            aggregate: Aggregate::Sum,
            decision: Decision::LessEqual,
            input_precision: Precision::Float64,
            accumulate: Precision::Float64,
            transform: OutputTransform::Sigmoid,
            trees: (0..n_trees).map(|_| leafwise_tree(&mut rng, n_leaves, n_features)).collect(),
        }),
        outputs: vec![OutputSpec::new("probability")],
        provenance: Provenance::default(),
        profile: None,
    };
    Artifact::new(content).expect("generated ensemble is valid")
}

/// A binary random forest as scikit-learn produces it: `x <= t` on float32-rounded inputs,
/// two class probabilities per leaf, averaged over the trees in float64.
pub fn forest_like(n_trees: usize, depth: u32, n_features: usize, seed: u64) -> Artifact {
    let mut rng = Rng::new(seed);
    let names = feature_names(n_features);
    let trees = (0..n_trees)
        .map(|_| {
            let mut t = random_tree(&mut rng, depth, n_features);
            t.leaf_width = 2;
            t.value = t.value.iter().flat_map(|&v| [0.5 + v * 2.0, 0.5 - v * 2.0]).collect();
            t
        })
        .collect();
    let content = Content {
        schema: Schema::new(names.iter().map(|n| Column::new(n.clone(), ColumnType::Float64)).collect()),
        pipeline: vec![],
        model: ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features: names.clone(),
            n_targets: 2,
            base_score: vec![],
            aggregate: Aggregate::Average,
            decision: Decision::LessEqual,
            input_precision: Precision::Float32,
            accumulate: Precision::Float64,
            transform: OutputTransform::Identity,
            trees,
        }),
        outputs: vec![OutputSpec::new("class_0"), OutputSpec::new("class_1")],
        provenance: Provenance::default(),
        profile: None,
    };
    Artifact::new(content).expect("generated forest is valid")
}

/// Preallocated outputs for `score_into`, so a benchmark measures scoring and not allocation.
pub struct Outputs {
    pub scores: Vec<f64>,
    pub status: Vec<i32>,
}

impl Outputs {
    pub fn new(scorer: &Scorer, n_rows: usize) -> Self {
        Outputs { scores: vec![0.0; n_rows * scorer.n_outputs()], status: vec![0; n_rows] }
    }

    pub fn score(&mut self, scorer: &Scorer, batch: &Batch, threads: usize) {
        let opts = ScoreOptions { n_threads: threads };
        scorer.score_into(batch, &opts, &mut self.scores, &mut self.status, None).expect("benchmark batch scores");
    }
}
