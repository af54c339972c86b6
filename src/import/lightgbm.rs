//! LightGBM text model import (`Booster.save_model()` / `model_to_string()`, format name
//! [`FORMAT_NAME`]).
//!
//! The file is turned into a [`TreeEnsembleSpec`] that reproduces `Booster.predict` bit for bit.
//! The arithmetic it must match (LightGBM 4.x, `include/LightGBM/tree.h`, `src/boosting/gbdt.cpp`,
//! `src/objective/*.hpp`):
//! - features are doubles and splits test `x <= threshold` in double (`Decision::LessEqual`,
//!   `Precision::Float64`); thresholds and leaf values are printed with 17 significant digits,
//!   so Rust's correctly rounded `f64` parse recovers them exactly;
//! - `decision_type` bit 0 marks a categorical split, bit 1 the default-left direction, bits
//!   2..3 the missing type: 0 None (NaN counts as 0.0), 1 Zero (NaN counts as 0.0, and
//!   |x| <= kZeroThreshold goes the default way), 2 NaN (NaN goes the default way);
//! - per-tree outputs are added in double, in tree order, starting from 0.0; tree `i` adds into
//!   class `i % num_tree_per_iteration`; `average_output` (random forest) divides by the number of
//!   iterations; the objective's `ConvertOutput` follows.
//!
//! # Categorical features
//! LightGBM splits a categorical feature on its integer code: a code is in a node's bitset or
//! not. For a model trained on a pandas `category` column the file's `pandas_categorical` lists
//! its categories; that column then takes strings, and an ordinal step gives each its position
//! in the list, null for a missing value or a category the list does not hold (what LightGBM's
//! pandas path does). Other categorical features take the codes as float64 numbers. Null, negative and out-of-set codes go
//! right, as in LightGBM on x86-64. Fractional codes are not LightGBM's behaviour: LightGBM
//! truncates them to an integer, kiln sends them right.
//!
//! # Edges
//! LightGBM's dense predict path reads |x| <= kZeroThreshold as 0.0; thresholds in
//! [-kZeroThreshold, kZeroThreshold) are moved so raw values split the same way. A threshold of
//! +inf (the last bin) cannot be stored (artifacts hold finite numbers): it becomes `f64::MAX`,
//! which splits every finite value the same, and the schema then flags infinite inputs (the
//! `non_finite` policy's default) instead of allowing them as it does otherwise.
//!
//! # Refused
//! Linear trees (`is_linear=1`), objectives without a kiln output transform (`cross_entropy_lambda`,
//! `regression` with `reg_sqrt`, unknown names), and multi-output random forests (kiln's average
//! divides by the number of trees, LightGBM's by the number of iterations). A `sigmoid:` other
//! than 1 maps to `OutputTransform::ScaledSigmoid`.

use std::collections::BTreeMap;

use crate::artifact::{
    Aggregate, Artifact, CategorySplit, Content, Decision, Missing, ModelSpec, OutputSpec, OutputTransform, Precision,
    Provenance, SetGoes, Step, TreeEnsembleSpec, TreeSpec, UnknownCategory,
};
use crate::error::{Error, Result};
use crate::schema::{Column, ColumnType, Policy, Schema};

/// The name of this import format (for the C ABI and the command line).
pub const FORMAT_NAME: &str = "lightgbm-text";

/// LightGBM's `kZeroThreshold`: declared `const double kZeroThreshold = 1e-35f;`, so the float
/// literal widened to double, not the double nearest 1e-35.
const ZERO_THRESHOLD: f64 = 1e-35f32 as f64;

const CATEGORICAL_MASK: u8 = 1;
const DEFAULT_LEFT_MASK: u8 = 2;

/// Options for [`from_text`].
#[derive(Clone, Debug, Default)]
pub struct LgbmImportOptions {
    /// Keep only the first `n` boosting iterations, like `Booster.predict(num_iteration=n)`.
    /// `None` or `Some(0)`: all iterations. More iterations than the model has is an error.
    pub num_iteration: Option<usize>,
    /// Input column names, one per feature, replacing the file's `feature_names`.
    pub feature_names: Option<Vec<String>>,
}

/// Import a LightGBM text model into a validated artifact: one nullable float64 column per
/// feature (infinities let through, as LightGBM compares them), one tree ensemble, provenance
/// `lightgbm` with the file's `version=` and its `parameters:` block.
pub fn from_text(text: &str, opts: &LgbmImportOptions) -> Result<Artifact> {
    import(text, opts).map_err(|e| e.context("LightGBM model"))
}

fn bad(msg: impl Into<String>) -> Error {
    Error::invalid_model(msg)
}

/// The file's sections: header lines, one block of lines per tree, and what follows the trees.
struct Sections<'a> {
    header: BTreeMap<&'a str, &'a str>,
    flags: Vec<&'a str>,
    trees: Vec<(usize, Vec<&'a str>)>,
    params: BTreeMap<String, serde_json::Value>,
    pandas_categorical: Option<serde_json::Value>,
}

fn split_sections(text: &str) -> Result<Sections<'_>> {
    let mut lines = text.lines().map(|l| l.trim_end_matches('\r'));
    match lines.next() {
        Some("tree") => {}
        Some(first) => {
            return Err(bad(format!("not a LightGBM text model: the first line is '{}', expected 'tree'", first.chars().take(40).collect::<String>())));
        }
        None => return Err(bad("empty file: not a LightGBM text model")),
    }
    let mut s = Sections { header: BTreeMap::new(), flags: Vec::new(), trees: Vec::new(), params: BTreeMap::new(), pandas_categorical: None };
    let mut in_trees = false;
    let mut ended = false;
    let mut in_params = false;
    for line in lines {
        if ended {
            if line == "parameters:" {
                in_params = true;
            } else if line == "end of parameters" {
                in_params = false;
            } else if in_params {
                if let Some((k, v)) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')).and_then(|l| l.split_once(": ")) {
                    s.params.insert(k.to_string(), serde_json::Value::String(v.to_string()));
                }
            } else if let Some(json) = line.strip_prefix("pandas_categorical:") {
                let v: serde_json::Value =
                    serde_json::from_str(json).map_err(|e| bad(format!("pandas_categorical is not valid JSON: {e}")))?;
                if !v.is_null() {
                    s.pandas_categorical = Some(v);
                }
            }
            continue;
        }
        if line == "end of trees" {
            ended = true;
        } else if let Some(idx) = line.strip_prefix("Tree=") {
            let idx = idx.parse::<usize>().map_err(|_| bad(format!("bad tree header '{line}'")))?;
            s.trees.push((idx, Vec::new()));
            in_trees = true;
        } else if in_trees {
            if !line.is_empty() {
                s.trees.last_mut().expect("in_trees implies a tree").1.push(line);
            }
        } else if let Some((k, v)) = line.split_once('=') {
            s.header.insert(k, v);
        } else if !line.is_empty() {
            s.flags.push(line);
        }
    }
    if !ended {
        return Err(bad(format!(
            "truncated LightGBM model: no 'end of trees' line after {} tree(s)",
            s.trees.len()
        )));
    }
    if in_params {
        return Err(bad("truncated LightGBM model: the parameters block has no 'end of parameters' line"));
    }
    Ok(s)
}

fn header<'a>(s: &Sections<'a>, key: &str) -> Result<&'a str> {
    s.header.get(key).copied().ok_or_else(|| bad(format!("the header has no '{key}=' line")))
}

fn parse_usize(what: &str, v: &str) -> Result<usize> {
    v.trim().parse::<usize>().map_err(|_| bad(format!("{what} is '{v}', expected a non-negative integer")))
}

/// The objective's output transform and the name stem of its outputs.
struct Objective {
    transform: OutputTransform,
    output_prefix: &'static str,
}

/// LightGBM's `1 / (1 + exp(-sigmoid * x))`; with `sigmoid == 1` the product is `x` exactly.
fn sigmoid_transform(scale: f64) -> OutputTransform {
    if scale == 1.0 {
        OutputTransform::Sigmoid
    } else {
        OutputTransform::ScaledSigmoid { scale }
    }
}

fn objective(line: Option<&str>, n_targets: usize) -> Result<Objective> {
    let Some(line) = line else {
        // No objective (a custom one in training): LightGBM predicts raw scores.
        return Ok(Objective { transform: OutputTransform::Identity, output_prefix: "score" });
    };
    let mut tokens = line.split_whitespace();
    let name = tokens.next().unwrap_or("");
    let mut args = BTreeMap::new();
    let mut flags = Vec::new();
    for t in tokens {
        match t.split_once(':') {
            Some((k, v)) => {
                args.insert(k, v);
            }
            None => flags.push(t),
        }
    }
    if flags.contains(&"sqrt") {
        return Err(bad(format!("objective '{line}' uses reg_sqrt (predictions are squared back), which kiln does not support")));
    }
    let sigmoid = || -> Result<f64> {
        let v = args.get("sigmoid").ok_or_else(|| bad(format!("objective '{line}' has no sigmoid: parameter")))?;
        v.parse::<f64>().ok().filter(|s| *s > 0.0 && s.is_finite()).ok_or_else(|| bad(format!("objective '{line}': sigmoid '{v}' is not a positive number")))
    };
    let single = |what: &str| -> Result<()> {
        if n_targets != 1 {
            return Err(bad(format!("objective '{what}' with {n_targets} trees per iteration; expected 1")));
        }
        Ok(())
    };
    Ok(match name {
        "regression" | "regression_l1" | "huber" | "fair" | "quantile" | "mape" | "lambdarank" | "rank_xendcg" | "custom" => {
            single(name)?;
            Objective { transform: OutputTransform::Identity, output_prefix: if matches!(name, "lambdarank" | "rank_xendcg") { "score" } else { "prediction" } }
        }
        "poisson" | "gamma" | "tweedie" => {
            single(name)?;
            Objective { transform: OutputTransform::Exp, output_prefix: "prediction" }
        }
        "binary" => {
            single(name)?;
            Objective { transform: sigmoid_transform(sigmoid()?), output_prefix: "probability" }
        }
        "cross_entropy" | "xentropy" => {
            single(name)?;
            Objective { transform: OutputTransform::Sigmoid, output_prefix: "probability" }
        }
        "multiclass" | "multiclassova" => {
            let k = args.get("num_class").ok_or_else(|| bad(format!("objective '{line}' has no num_class: parameter")))?;
            if parse_usize("num_class", k)? != n_targets {
                return Err(bad(format!("objective '{line}' disagrees with num_tree_per_iteration={n_targets}")));
            }
            if name == "multiclass" {
                Objective { transform: OutputTransform::Softmax, output_prefix: "class_" }
            } else {
                Objective { transform: sigmoid_transform(sigmoid()?), output_prefix: "class_" }
            }
        }
        "cross_entropy_lambda" | "xentlambda" => {
            return Err(bad(format!("objective '{name}' (output log1p(exp(x))) has no kiln output transform")));
        }
        other => return Err(bad(format!("objective '{other}' is not supported by the LightGBM importer"))),
    })
}

fn import(text: &str, opts: &LgbmImportOptions) -> Result<Artifact> {
    let s = split_sections(text)?;
    let version = header(&s, "version")?.to_string();
    let n_targets = parse_usize("num_tree_per_iteration", header(&s, "num_tree_per_iteration")?)?;
    if n_targets == 0 {
        return Err(bad("num_tree_per_iteration is 0"));
    }
    let n_features = parse_usize("max_feature_idx", header(&s, "max_feature_idx")?)?
        .checked_add(1)
        .ok_or_else(|| bad("max_feature_idx is out of range"))?;
    let average = s.flags.contains(&"average_output");
    let obj = objective(s.header.get("objective").copied(), n_targets)?;
    if average && n_targets > 1 {
        return Err(bad(format!(
            "average_output (random forest) with {n_targets} trees per iteration is not supported: LightGBM divides each class by the number of iterations, kiln's average by the number of trees"
        )));
    }

    let names: Vec<String> = match &opts.feature_names {
        Some(n) => n.clone(),
        None => header(&s, "feature_names")?.split(' ').map(str::to_string).collect(),
    };
    if names.len() != n_features {
        let whose = if opts.feature_names.is_some() { "the feature_names option" } else { "the file's feature_names" };
        return Err(bad(format!("{whose} lists {} name(s); the model has {n_features} features (max_feature_idx+1)", names.len())));
    }

    if let Some(sizes) = s.header.get("tree_sizes") {
        let n = sizes.split_whitespace().count();
        if n != s.trees.len() {
            return Err(bad(format!("tree_sizes lists {n} trees but the file holds {} (a damaged or truncated file)", s.trees.len())));
        }
    }
    if s.trees.len() % n_targets != 0 {
        return Err(bad(format!("{} trees is not a whole number of iterations of {n_targets} trees", s.trees.len())));
    }
    let total_iterations = s.trees.len() / n_targets;
    let iterations = match opts.num_iteration {
        None | Some(0) => total_iterations,
        Some(k) if k <= total_iterations => k,
        Some(k) => return Err(Error::invalid_argument(format!("num_iteration {k} is more than the model's {total_iterations} iterations"))),
    };

    let mut trees = Vec::with_capacity(iterations * n_targets);
    let mut has_infinite_threshold = false;
    for (i, (idx, lines)) in s.trees.iter().take(iterations * n_targets).enumerate() {
        if *idx != i {
            return Err(bad(format!("tree {i} is labelled Tree={idx}")));
        }
        let (mut tree, inf) = parse_tree(lines, n_features).map_err(|e| e.context(format!("tree {i}")))?;
        has_infinite_threshold |= inf;
        tree.target = (i % n_targets) as u32;
        trees.push(tree);
    }

    let outputs = if n_targets == 1 {
        vec![OutputSpec::new(obj.output_prefix)]
    } else {
        (0..n_targets).map(|k| OutputSpec::new(format!("{}{k}", obj.output_prefix))).collect()
    };
    let string_categories = pandas_categories(&s, n_features)?;
    let mut pipeline = Vec::new();
    let columns = names
        .iter()
        .zip(&string_categories)
        .map(|(n, cats)| {
            if let Some(cats) = cats {
                // LightGBM's pandas path re-codes a category column against the training
                // categories by name; a category it does not know becomes NaN, which goes right
                // at every categorical split. The ordinal step does the same from strings.
                let mut c = Column::new(n.clone(), ColumnType::Categorical).with_categories(cats.clone());
                c.policy.unknown_category = Policy::Allow;
                pipeline.push(Step::Ordinal {
                    column: n.clone(),
                    categories: cats.clone(),
                    unknown: UnknownCategory::Ignore,
                    unknown_value: None,
                    output: None,
                });
                return c;
            }
            let mut c = Column::new(n.clone(), ColumnType::Float64);
            // LightGBM compares infinities like any value, and so does kiln unless a split had
            // to move from an infinite threshold to f64::MAX (see `parse_tree`): then an infinite
            // input gets a row status (the default `flag`) rather than a possibly different score.
            if !has_infinite_threshold {
                c.policy.non_finite = Policy::Allow;
            }
            c
        })
        .collect();

    let mut params = s.params;
    if let Some(pc) = s.pandas_categorical {
        params.insert("pandas_categorical".into(), pc);
    }
    if let Some(k) = opts.num_iteration.filter(|k| *k > 0) {
        params.insert("num_iteration".into(), serde_json::Value::from(k));
    }
    let content = Content {
        schema: Schema::new(columns),
        pipeline,
        model: ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features: names,
            n_targets,
            base_score: Vec::new(),
            aggregate: if average { Aggregate::Average } else { Aggregate::Sum },
            decision: Decision::LessEqual,
            input_precision: Precision::Float64,
            accumulate: Precision::Float64,
            transform: obj.transform,
            trees,
        }),
        outputs,
        provenance: Provenance { library: "lightgbm".into(), library_version: version, params, ..Provenance::default() },
        profile: None,
    };
    Artifact::new(content)
}

/// The categorical features' indices: the `categorical_feature` parameter LightGBM writes (indices,
/// comma-separated), else the features whose `feature_infos` entry is a category list rather than
/// a `[min:max]` range or `none`.
fn categorical_features(s: &Sections<'_>, n_features: usize) -> Result<Vec<usize>> {
    if let Some(v) = s.params.get("categorical_feature").and_then(|v| v.as_str()) {
        let mut idx = v
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| parse_usize("categorical_feature", t))
            .collect::<Result<Vec<_>>>()?;
        idx.sort_unstable();
        idx.dedup();
        if let Some(&i) = idx.iter().find(|&&i| i >= n_features) {
            return Err(bad(format!("categorical_feature names feature {i}; the model has {n_features}")));
        }
        return Ok(idx);
    }
    Ok(match s.header.get("feature_infos") {
        Some(infos) => infos
            .split(' ')
            .enumerate()
            .filter(|(_, info)| !info.starts_with('[') && *info != "none" && !info.is_empty())
            .map(|(i, _)| i)
            .collect(),
        None => Vec::new(),
    })
}

/// String category names per feature from `pandas_categorical` (written when the model was
/// trained on a pandas DataFrame): one list per `category` column, in column order, which is the
/// order of the categorical features. A feature's code is its category's position in the list.
/// `None` for every other feature, and for a category column of numbers (the host then passes
/// the codes, as it does for a model trained on arrays).
fn pandas_categories(s: &Sections<'_>, n_features: usize) -> Result<Vec<Option<Vec<String>>>> {
    let mut out = vec![None; n_features];
    let Some(lists) = &s.pandas_categorical else {
        return Ok(out);
    };
    let lists = lists.as_array().ok_or_else(|| bad("pandas_categorical is not a list"))?;
    if lists.is_empty() {
        return Ok(out);
    }
    let cat_features = categorical_features(s, n_features)?;
    if lists.len() != cat_features.len() {
        return Err(bad(format!(
            "pandas_categorical lists {} category column(s) but the model has {} categorical feature(s) {:?}: kiln cannot tell which \
             features the lists belong to (train with every categorical feature as a pandas category column, or pass codes and \
             strip pandas_categorical)",
            lists.len(),
            cat_features.len(),
            cat_features
        )));
    }
    for (&f, list) in cat_features.iter().zip(lists) {
        let list = list.as_array().ok_or_else(|| bad(format!("pandas_categorical entry for feature {f} is not a list")))?;
        let names: Option<Vec<String>> = list.iter().map(|v| v.as_str().map(str::to_owned)).collect();
        if let Some(names) = names {
            let mut seen = std::collections::HashSet::new();
            if let Some(dup) = names.iter().find(|n| !seen.insert(n.as_str())) {
                return Err(bad(format!("pandas_categorical lists category '{dup}' twice for feature {f}")));
            }
            out[f] = Some(names);
        }
    }
    Ok(out)
}

fn field<'a>(fields: &BTreeMap<&str, &'a str>, key: &str) -> Result<&'a str> {
    fields.get(key).copied().ok_or_else(|| bad(format!("no '{key}=' line")))
}

fn array<T: std::str::FromStr>(fields: &BTreeMap<&str, &str>, key: &str, len: usize) -> Result<Vec<T>> {
    let raw = field(fields, key)?;
    let items: Vec<T> = raw
        .split_whitespace()
        .map(|t| t.parse::<T>().map_err(|_| bad(format!("{key}: '{t}' is not a valid number"))))
        .collect::<Result<_>>()?;
    if items.len() != len {
        return Err(bad(format!("{key} has {} values, expected {len}", items.len())));
    }
    Ok(items)
}

/// One LightGBM tree as kiln nodes: LightGBM's internal nodes keep their indices
/// `0..num_leaves-1`; leaf `j` (a child written `~j`, i.e. `-j-1`) becomes node `num_leaves-1+j`.
/// Also says whether a numeric threshold was +inf (stored as `f64::MAX`).
fn parse_tree(lines: &[&str], n_features: usize) -> Result<(TreeSpec, bool)> {
    let fields: BTreeMap<&str, &str> = lines.iter().filter_map(|l| l.split_once('=')).collect();
    if fields.get("is_linear").is_some_and(|v| v.trim() == "1") {
        return Err(bad("linear trees (is_linear=1, trained with linear_tree=true) are not supported: kiln's tree leaves are constants"));
    }
    let n_leaves = parse_usize("num_leaves", field(&fields, "num_leaves")?)?;
    if n_leaves == 0 {
        return Err(bad("num_leaves is 0"));
    }
    let leaf_value: Vec<f64> = array(&fields, "leaf_value", n_leaves)?;
    if let Some(v) = leaf_value.iter().find(|v| !v.is_finite()) {
        return Err(bad(format!("leaf_value holds {v}")));
    }
    if n_leaves == 1 {
        return Ok((TreeSpec {
            target: 0,
            leaf_width: 1,
            feature: vec![-1],
            threshold: vec![0.0],
            left: vec![-1],
            right: vec![-1],
            default_left: Vec::new(),
            missing: Vec::new(),
            category_splits: Vec::new(),
            value: leaf_value,
        }, false));
    }
    let n_inner = n_leaves - 1;
    let split_feature: Vec<i64> = array(&fields, "split_feature", n_inner)?;
    let threshold: Vec<f64> = array(&fields, "threshold", n_inner)?;
    let decision_type: Vec<u8> = array(&fields, "decision_type", n_inner)?;
    let left_child: Vec<i64> = array(&fields, "left_child", n_inner)?;
    let right_child: Vec<i64> = array(&fields, "right_child", n_inner)?;
    let n_cat = fields.get("num_cat").map(|v| parse_usize("num_cat", v)).transpose()?.unwrap_or(0);
    if n_cat > n_inner {
        return Err(bad(format!("num_cat is {n_cat}, more than the {n_inner} internal nodes")));
    }
    let (cat_boundaries, cat_threshold): (Vec<usize>, Vec<u32>) = if n_cat > 0 {
        let b: Vec<usize> = array(&fields, "cat_boundaries", n_cat + 1)?;
        let words = b[n_cat];
        if b[0] != 0 || b.windows(2).any(|w| w[0] > w[1]) {
            return Err(bad("cat_boundaries are not non-decreasing from 0"));
        }
        (b, array(&fields, "cat_threshold", words)?)
    } else {
        (Vec::new(), Vec::new())
    };

    let n_nodes = n_inner + n_leaves;
    let node_of = |child: i64| -> Result<i32> {
        if child >= 0 && (child as usize) < n_inner {
            Ok(child as i32)
        } else if child < 0 && ((!child) as usize) < n_leaves {
            Ok((n_inner + (!child) as usize) as i32)
        } else {
            Err(bad(format!("child {child} names neither one of {n_inner} internal nodes nor one of {n_leaves} leaves")))
        }
    };
    let mut t = TreeSpec {
        target: 0,
        leaf_width: 1,
        feature: vec![-1; n_nodes],
        threshold: vec![0.0; n_nodes],
        left: vec![-1; n_nodes],
        right: vec![-1; n_nodes],
        default_left: vec![false; n_nodes],
        missing: vec![Missing::Nan; n_nodes],
        category_splits: Vec::new(),
        value: vec![0.0; n_nodes],
    };
    t.value[n_inner..].copy_from_slice(&leaf_value);
    let mut has_inf = false;
    for i in 0..n_inner {
        let f = split_feature[i];
        if f < 0 || f as usize >= n_features {
            return Err(bad(format!("node {i} splits on feature {f}; the model has {n_features} features")));
        }
        t.feature[i] = f as i32;
        t.left[i] = node_of(left_child[i])?;
        t.right[i] = node_of(right_child[i])?;
        let dt = decision_type[i];
        if dt & CATEGORICAL_MASK != 0 {
            // NaN, negative and out-of-set codes all go right in LightGBM's CategoricalDecision
            // (NaN through its int cast on x86-64), so the default direction is right.
            let th = threshold[i];
            if th < 0.0 || th.fract() != 0.0 || th as usize >= n_cat {
                return Err(bad(format!("categorical node {i} names bitset {th}; the tree has {n_cat}")));
            }
            let k = th as usize;
            let words = &cat_threshold[cat_boundaries[k]..cat_boundaries[k + 1]];
            let categories = words
                .iter()
                .enumerate()
                .flat_map(|(w, bits)| (0..32u32).filter(move |b| bits >> b & 1 == 1).map(move |b| w as u32 * 32 + b))
                .collect();
            t.category_splits.push(CategorySplit { node: i as u32, categories, goes: SetGoes::Left });
            continue;
        }
        t.default_left[i] = dt & DEFAULT_LEFT_MASK != 0;
        t.missing[i] = match (dt >> 2) & 3 {
            0 => Missing::AsZero,
            1 => Missing::Zero,
            2 => Missing::Nan,
            m => return Err(bad(format!("node {i} has missing type {m} (decision_type {dt}); LightGBM knows 0, 1, 2"))),
        };
        has_inf |= threshold[i] == f64::INFINITY;
        t.threshold[i] = match threshold[i] {
            // The last bin's upper bound. Every value but +inf and NaN goes left either way; the
            // artifact stores finite numbers only, so +inf inputs cannot be bit-exact on this
            // node: `has_infinite_threshold` makes the schema flag them instead.
            f64::INFINITY => f64::MAX,
            th if th.is_finite() => zero_band_threshold(th),
            th => return Err(bad(format!("node {i} has threshold {th}, which kiln cannot represent"))),
        };
    }
    Ok((t, has_inf))
}

/// LightGBM's dense predict path stores values with |x| <= kZeroThreshold as 0.0 before any
/// tree sees them. kiln compares the raw value, which decides the same way for every threshold
/// outside [-kZeroThreshold, kZeroThreshold) (thresholds at -kZeroThreshold are common: bin
/// bounds next to zero). A threshold in that range is replaced by the one that splits every
/// value as LightGBM's zeroed value would go.
fn zero_band_threshold(t: f64) -> f64 {
    if (-ZERO_THRESHOLD..ZERO_THRESHOLD).contains(&t) {
        if t >= 0.0 {
            // Band values become 0 <= t: left; right iff x > kZero.
            ZERO_THRESHOLD
        } else {
            // Band values become 0 > t: right; left iff x < -kZero.
            f64::from_bits((-ZERO_THRESHOLD).to_bits() + 1)
        }
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_band_thresholds_split_like_zeroed_inputs() {
        let lgbm = |x: f64, t: f64| {
            let x = if x.abs() <= ZERO_THRESHOLD { 0.0 } else { x };
            x <= t
        };
        let xs = [-1.0, -ZERO_THRESHOLD * 2.0, -ZERO_THRESHOLD, -1e-36, -0.0, 0.0, 1e-36, ZERO_THRESHOLD, 2e-35, 1.0];
        for t in [-ZERO_THRESHOLD, -5e-36, -0.0, 0.0, 5e-36, ZERO_THRESHOLD, -1.0, 1.0] {
            let snapped = zero_band_threshold(t);
            for x in xs {
                assert_eq!(x <= snapped, lgbm(x, t), "x={x:e} t={t:e}");
            }
        }
    }
}
