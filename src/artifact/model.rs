//! Model descriptions as they are stored in an artifact. Scoring lives in `model/`.

use serde::{Deserialize, Serialize};

/// The model: kiln's own families; importers from other libraries target these.
///
/// Stored as one object whose `kind` names the family (`{"kind": "tree_ensemble", ...}`).
#[derive(Serialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelSpec {
    Linear(LinearSpec),
    TreeEnsemble(TreeEnsembleSpec),
}

const MODEL_KINDS: &[&str] = &["linear", "tree_ensemble"];

/// By hand rather than derived: serde's internally tagged enums buffer the whole object before
/// reading it, which for a large ensemble cost as much as parsing it. Here only the entries
/// before `kind` are buffered, and the rest of the object is read straight into the family's
/// struct. kiln writes the object with its keys sorted (the canonical encoding), where `kind`
/// follows a few small fields (`accumulate` .. `features`, or a linear model's `coefficients`)
/// and precedes a tree ensemble's `trees`; kiln 0.1 wrote `kind` first.
impl<'de> Deserialize<'de> for ModelSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ModelVisitor)
    }
}

struct ModelVisitor;

fn unknown_kind<E: serde::de::Error>(kind: &str) -> E {
    E::unknown_variant(kind, MODEL_KINDS)
}

impl<'de> serde::de::Visitor<'de> for ModelVisitor {
    type Value = ModelSpec;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a model object with a \"kind\"")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ModelSpec, A::Error> {
        use serde::de::Error;
        let mut before = Vec::new();
        let kind: String = loop {
            let Some(key) = map.next_key::<String>()? else {
                return Err(A::Error::missing_field("kind"));
            };
            if key == "kind" {
                match map.next_value()? {
                    serde_json::Value::String(kind) => break kind,
                    other => return Err(A::Error::invalid_type(serde::de::Unexpected::Other(&other.to_string()), &"a string naming the model kind")),
                }
            }
            let value: serde_json::Value = map.next_value()?;
            before.push((key, value));
        };
        let rest = serde::de::value::MapAccessDeserializer::new(Buffered { before: before.into_iter(), value: None, rest: map });
        match kind.as_str() {
            "linear" => LinearSpec::deserialize(rest).map(ModelSpec::Linear),
            "tree_ensemble" => TreeEnsembleSpec::deserialize(rest).map(ModelSpec::TreeEnsemble),
            other => Err(unknown_kind(other)),
        }
    }
}

/// A map's entries read before its `kind`, then the entries still to be read.
struct Buffered<A> {
    before: std::vec::IntoIter<(String, serde_json::Value)>,
    /// The value of the buffered key last handed out.
    value: Option<serde_json::Value>,
    rest: A,
}

impl<'de, A: serde::de::MapAccess<'de>> serde::de::MapAccess<'de> for Buffered<A> {
    type Error = A::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        use serde::de::IntoDeserializer;
        match self.before.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(IntoDeserializer::<A::Error>::into_deserializer(key)).map(Some)
            }
            None => self.rest.next_key_seed(seed),
        }
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(value).map_err(serde::de::Error::custom),
            None => self.rest.next_value_seed(seed),
        }
    }
}

impl ModelSpec {
    /// Names of the feature columns the model reads, in the order its parameters refer to them.
    pub fn features(&self) -> &[String] {
        match self {
            ModelSpec::Linear(m) => &m.features,
            ModelSpec::TreeEnsemble(m) => &m.features,
        }
    }
    /// Number of output columns.
    pub fn n_outputs(&self) -> usize {
        match self {
            ModelSpec::Linear(m) => m.intercept.len(),
            ModelSpec::TreeEnsemble(m) => m.n_targets,
        }
    }
    pub fn kind_name(&self) -> &'static str {
        match self {
            ModelSpec::Linear(_) => "linear",
            ModelSpec::TreeEnsemble(_) => "tree_ensemble",
        }
    }
}

/// Inverse link applied to the linear predictor.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// Regression: the linear predictor itself.
    Identity,
    /// Binary logistic / binomial GLM: `1 / (1 + exp(-eta))` on each target.
    Logit,
    /// Poisson/gamma/tweedie GLM with log link: `exp(eta)` on each target.
    Log,
    /// Multinomial logistic: softmax across the targets.
    Softmax,
}

/// Linear and generalized linear models: `eta_k = intercept_k + sum_j coef_kj * x_j`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LinearSpec {
    pub features: Vec<String>,
    /// `[n_targets][n_features]`
    pub coefficients: Vec<Vec<f64>>,
    /// `[n_targets]`
    pub intercept: Vec<f64>,
    pub link: Link,
}

/// How per-tree outputs are combined.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Boosting: `base + t1 + t2 + ...`, added in tree order.
    Sum,
    /// Forests: `base + (t1 + t2 + ...) / n_trees`.
    Average,
}

/// Numeric split comparison: a row goes left when `x OP threshold`.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// `x < threshold` (XGBoost).
    Less,
    /// `x <= threshold` (LightGBM, scikit-learn).
    LessEqual,
}

/// A floating-point precision.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Float32,
    Float64,
}

/// Transform from accumulated margins to outputs.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum OutputTransform {
    Identity,
    Sigmoid,
    /// `1 / (1 + exp(-(scale * x)))` on each target: LightGBM's binary and multiclassova
    /// objectives with their `sigmoid:` parameter. Folding the scale into the leaf values instead
    /// would round differently unless it is a power of two.
    ScaledSigmoid { scale: f64 },
    Softmax,
    Exp,
}

/// How a node treats a missing (NaN/null) value.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// NaN goes the default direction (XGBoost, scikit-learn, LightGBM `NaN`).
    #[default]
    Nan,
    /// NaN counts as 0.0, and 0.0 goes the default direction (LightGBM `Zero`).
    Zero,
    /// NaN counts as 0.0 and is compared like any value (LightGBM `None`).
    AsZero,
}

/// Which way the categories listed in a categorical split go.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SetGoes {
    Left,
    Right,
}

/// A categorical split at `node`: the feature value (a category index, as produced by an
/// ordinal encoding or a host's integer codes) is tested for membership in `categories`.
/// Null, negative or non-integral values go the node's default direction.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CategorySplit {
    pub node: u32,
    pub categories: Vec<u32>,
    pub goes: SetGoes,
}

/// One tree as parallel per-node arrays. A node with `feature == -1` is a leaf.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TreeSpec {
    /// First target this tree adds into.
    #[serde(default)]
    pub target: u32,
    /// Values per leaf (1 for boosting; n_classes for forests of probability leaves).
    #[serde(default = "one")]
    pub leaf_width: u32,
    pub feature: Vec<i32>,
    pub threshold: Vec<f64>,
    pub left: Vec<i32>,
    pub right: Vec<i32>,
    /// Default direction for missing values, per node (empty: all go right).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub default_left: Vec<bool>,
    /// Missing-value handling per node (empty: all `nan`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<Missing>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category_splits: Vec<CategorySplit>,
    /// `leaf_width` values per node (only leaves' values are read).
    pub value: Vec<f64>,
}

fn one() -> u32 {
    1
}

impl TreeSpec {
    /// Splits on the longest path from the root to a leaf (0 for a lone leaf), for a tree that
    /// passed validation (an invalid one gets some finite figure, never a panic).
    pub fn depth(&self) -> usize {
        // Where every child lies after its parent (as XGBoost, LightGBM, scikit-learn and kiln
        // number nodes), one pass in index order sees each node's depth before its children.
        let n = self.feature.len();
        if self.left.len() == n && self.right.len() == n {
            let mut depths = vec![0u32; n];
            let mut deepest = 0;
            let forward = (0..n).all(|i| {
                if self.feature[i] < 0 {
                    return true;
                }
                let (l, r, d) = (self.left[i] as usize, self.right[i] as usize, depths[i] + 1);
                if l <= i || r <= i || l >= n || r >= n {
                    return false;
                }
                depths[l] = d;
                depths[r] = d;
                deepest = deepest.max(d);
                true
            });
            if forward {
                return deepest as usize;
            }
        }
        let mut deepest = 0;
        let mut stack = vec![(0usize, 0usize)];
        while let Some((node, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            let is_leaf = self.feature.get(node).is_none_or(|f| *f < 0);
            if !is_leaf {
                for child in [self.left.get(node), self.right.get(node)].into_iter().flatten() {
                    // Validation at load rules out cycles; the bound keeps a bad tree finite anyway.
                    if let Ok(c) = usize::try_from(*child) {
                        if depth < self.feature.len() {
                            stack.push((c, depth + 1));
                        }
                    }
                }
            }
        }
        deepest
    }

    /// Give back the spare capacity a parse leaves: serde_json cannot know an array's length
    /// before reading it, so each per-node array grew by doubling (up to twice its length).
    /// A loaded model keeps its trees for its whole life, so the slack would be kept too.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.feature.shrink_to_fit();
        self.threshold.shrink_to_fit();
        self.left.shrink_to_fit();
        self.right.shrink_to_fit();
        self.default_left.shrink_to_fit();
        self.missing.shrink_to_fit();
        self.category_splits.shrink_to_fit();
        self.category_splits.iter_mut().for_each(|s| s.categories.shrink_to_fit());
        self.value.shrink_to_fit();
    }
}

/// A decision-tree ensemble (boosting or forest).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TreeEnsembleSpec {
    pub features: Vec<String>,
    pub n_targets: usize,
    /// Initial margin per target (empty: zeros).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_score: Vec<f64>,
    pub aggregate: Aggregate,
    pub decision: Decision,
    /// Inputs are rounded to this precision before comparing (scikit-learn, XGBoost: float32).
    pub input_precision: Precision,
    /// Precision of the running sum of leaf values (XGBoost: float32).
    pub accumulate: Precision,
    pub transform: OutputTransform,
    pub trees: Vec<TreeSpec>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(feature: Vec<i32>, left: Vec<i32>, right: Vec<i32>) -> TreeSpec {
        let n = feature.len();
        TreeSpec { target: 0, leaf_width: 1, feature, threshold: vec![0.0; n], left, right, default_left: Vec::new(), missing: Vec::new(), category_splits: Vec::new(), value: vec![0.0; n] }
    }

    #[test]
    fn depth_is_the_longest_root_to_leaf_path_in_any_node_order() {
        assert_eq!(tree(vec![-1], vec![-1], vec![-1]).depth(), 0);
        // Children after parents, depth first (scikit-learn) and breadth first (XGBoost); the
        // deep side on the right.
        assert_eq!(tree(vec![0, -1, 1, -1, -1], vec![1, -1, 3, -1, -1], vec![2, -1, 4, -1, -1]).depth(), 2);
        assert_eq!(tree(vec![0, -1, 1, 2, -1, -1, -1], vec![1, -1, 3, 5, -1, -1, -1], vec![2, -1, 4, 6, -1, -1, -1]).depth(), 3);
        // A child before its parent: the same tree renumbered, read by walking from the root.
        assert_eq!(tree(vec![0, -1, 2, -1, 1, -1, -1], vec![4, -1, 5, -1, 2, -1, -1], vec![1, -1, 6, -1, 3, -1, -1]).depth(), 3);
    }
}
