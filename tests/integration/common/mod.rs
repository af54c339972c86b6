//! Builders shared by the integration tests: tiny artifacts, batches, and a "probe" model that
//! returns chosen pipeline columns unchanged so each transform can be checked through `Scorer`.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::sync::Arc;

use arrow_array::ArrayRef;
use kiln::artifact::*;
use kiln::schema::{Column, Schema};
use kiln::{Artifact, Batch, ScoreOptions, Scorer, Scores};

pub fn content(columns: Vec<Column>, pipeline: Vec<Step>, model: ModelSpec) -> Content {
    let outputs = (0..model.n_outputs()).map(|j| OutputSpec::new(format!("out{j}"))).collect();
    Content { schema: Schema::new(columns), pipeline, model, outputs, provenance: Provenance::default(), profile: None }
}

pub fn linear(features: &[&str], coefficients: Vec<Vec<f64>>, intercept: Vec<f64>, link: Link) -> ModelSpec {
    ModelSpec::Linear(LinearSpec { features: features.iter().map(|s| s.to_string()).collect(), coefficients, intercept, link })
}

/// An identity-link linear model with one output per feature, output `j` = `0 + 1*x_j + 0*others + 0`:
/// exactly the feature's value (NaN makes the row `no_score`).
pub fn probe(features: &[&str]) -> ModelSpec {
    let k = features.len();
    let coef = (0..k).map(|j| (0..k).map(|i| if i == j { 1.0 } else { 0.0 }).collect()).collect();
    linear(features, coef, vec![0.0; k], Link::Identity)
}

/// Seal the content and load it back from bytes, as a host would.
pub fn scorer(c: Content) -> Scorer {
    let a = Artifact::new(c).expect("test artifact is valid");
    let bytes = a.to_bytes().unwrap();
    Scorer::from_bytes(&bytes, Some(&a.fingerprint)).expect("test artifact loads")
}

pub fn batch(cols: Vec<(&str, ArrayRef)>) -> Batch {
    Batch::new(cols.into_iter().map(|(n, a)| (n.to_string(), a)).collect()).expect("valid test batch")
}

pub fn arr<A: arrow_array::Array + 'static>(a: A) -> ArrayRef {
    Arc::new(a)
}

pub fn score(s: &Scorer, b: &Batch) -> Scores {
    s.score(b, &ScoreOptions { n_threads: 1 }).expect("scoring succeeds")
}

/// Output `j` of every row.
pub fn col(s: &Scores, j: usize) -> Vec<f64> {
    s.output(j).to_vec()
}

/// Compare floats by bits, treating every NaN as equal: `None` means "NaN expected".
#[track_caller]
pub fn assert_values(got: &[f64], want: &[Option<f64>]) {
    assert_eq!(got.len(), want.len(), "row count");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        match w {
            Some(w) => assert!(g.to_bits() == w.to_bits(), "row {i}: got {g:?} ({:016x}), want {w:?} ({:016x})", g.to_bits(), w.to_bits()),
            None => assert!(g.is_nan(), "row {i}: got {g:?}, want NaN"),
        }
    }
}

/// Status codes as names, for readable failures.
pub fn statuses(s: &Scores) -> Vec<&'static str> {
    s.status.iter().map(|&c| kiln::RowStatus::from_code(c).expect("known status").name()).collect()
}

/// The reason source of each row (`None` for scored rows).
pub fn sources<'a>(sc: &'a Scorer, s: &Scores) -> Vec<Option<&'a str>> {
    (0..s.n_rows).map(|i| (s.status[i] != 0).then(|| sc.reason_source(s.reason[i]).unwrap_or("model"))).collect()
}

/// A tree with no nodes yet, for the random-tree builders to grow.
pub fn empty_tree(target: u32, leaf_width: u32) -> TreeSpec {
    TreeSpec {
        target,
        leaf_width,
        feature: vec![],
        threshold: vec![],
        left: vec![],
        right: vec![],
        default_left: vec![],
        missing: vec![],
        category_splits: vec![],
        value: vec![],
    }
}

mod fixtures;
pub mod golden_io;
#[allow(unused_imports, reason = "only the ABI tests use the fixtures")]
pub use fixtures::*;
