//! XGBoost model import: JSON (`Booster.save_model("m.json")`, `save_raw("json")`) and UBJSON
//! (`save_model("m.ubj")`, the XGBoost 3 default; decoded by `super::ubjson` into the same
//! document, so both files of one model give the same artifact).
//!
//! The result reproduces `Booster.predict` bit for bit for the supported objectives, because it
//! follows XGBoost's CPU predictor arithmetic (`src/predictor/cpu_predictor.cc`,
//! `src/predictor/predict_fn.h`, `src/common/math.h`, `src/objective/regression_loss.h`):
//! - inputs are float32 (XGBoost's DMatrix stores float32) and a split goes left when
//!   `x < split_condition`, both float32;
//! - a missing value (NaN) follows the node's `default_left`;
//! - margins start at the learner's base margin (float32) and add each tree's leaf value in
//!   float32, tree by tree in order;
//! - the output transform runs in float32: `common::Sigmoid` (with its cap at -x = 88.7) for
//!   logistic objectives, `common::Softmax` (max-subtracted `expf`, summed in double, divided by
//!   the float32 sum) for `multi:*`, `expf` for log-link objectives.
//!
//! `base_score` in the JSON (XGBoost >= 2) is in the objective's *output* space; the predictor
//! starts from `ProbToMargin(base_score)`, computed here in float32 exactly as XGBoost does:
//! `-logf(1/b - 1)` (b bounded to [1e-6, 1 - 1e-6]) for reg:logistic and binary:logistic, `logf(b)` for log-link
//! objectives (count:poisson, reg:gamma, reg:tweedie, and survival:cox, whose output is the hazard ratio `expf(margin)`), `b`
//! otherwise (binary:logitraw keeps `b` as a margin; checked against XGBoost 3.2's predictions).
//!
//! Boosters: `gbtree`, and `dart` (each tree's leaves are multiplied by its `weight_drop` in
//! float32, as XGBoost's DART predictor does). `gblinear` and multi-output (vector-leaf) trees
//! are refused. `multi:softmax` is imported as class probabilities (what `multi:softprob` returns
//! for the same trees); `Booster.predict` returns their first argmax.
//!
//! Categorical splits: XGBoost stores, per categorical node, the list of categories whose bit is
//! set; a listed category goes RIGHT (`common::Decision` returns "go left" for categories not in
//! the set, `src/common/categorical.h`). The model reads categorical features as numeric codes
//! (pandas `cat.codes`), one float column per feature, unless the model records the category
//! names (XGBoost >= 3.1, `cats.enc`, for pandas string categories): then the column takes the
//! strings and an ordinal step turns them into the training codes (see `from_value` for unseen
//! names). Differences from XGBoost for codes that are not valid categories: a negative or
//! non-integral code goes the node's default direction in kiln, while XGBoost sends negatives
//! left and truncates fractions. NaN agrees (default).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::artifact::{
    Aggregate, CategorySplit, Content, Decision, ModelSpec, OutputSpec, OutputTransform, Precision, Provenance, SetGoes,
    Step, TreeEnsembleSpec, TreeSpec, UnknownCategory,
};
use crate::error::{Error, Result};
use crate::schema::{Column, ColumnType, Policy, Schema};
use crate::Artifact;

/// Which boosting iterations to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Iterations {
    /// Every tree: what `Booster.predict` uses by default (`iteration_range=(0, 0)`).
    #[default]
    All,
    /// Iterations `0..=best_iteration` from the model's `best_iteration` attribute (set by early
    /// stopping): what `predict(iteration_range=(0, best_iteration + 1))` uses. An error when
    /// the model has no `best_iteration`.
    Best,
    /// Iterations `begin..end` (end exclusive), as `predict(iteration_range=(begin, end))`.
    Range { begin: usize, end: usize },
}

/// Options for [`from_json`].
#[derive(Debug, Clone, Default)]
pub struct XgbImportOptions {
    /// Column names to use instead of the model's `feature_names` (or `f0..fN` when it has none).
    pub feature_names: Option<Vec<String>>,
    pub iterations: Iterations,
}

/// How an objective turns base_score into a margin and margins into outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Family {
    Identity,
    /// Logistic: base_score is a probability, outputs go through the sigmoid.
    Logistic,
    /// binary:logitraw: logistic margins, base_score already a margin, no transform.
    LogitRaw,
    Softmax,
    Log,
}

fn family(objective: &str) -> Result<Family> {
    Ok(match objective {
        "reg:squarederror" | "reg:linear" | "reg:squaredlogerror" | "reg:pseudohubererror" | "reg:absoluteerror" => {
            Family::Identity
        }
        "reg:logistic" | "binary:logistic" => Family::Logistic,
        // logitraw keeps base_score as a margin (XGBoost 3: predict(output_margin) starts from it).
        "binary:logitraw" => Family::LogitRaw,
        "multi:softprob" | "multi:softmax" => Family::Softmax,
        // survival:cox predicts the hazard ratio exp(margin) (CoxRegression::PredTransform) and
        // reads base_score through log (ProbToMargin), like the log-link objectives.
        "count:poisson" | "reg:gamma" | "reg:tweedie" | "survival:cox" => Family::Log,
        other => {
            return Err(Error::invalid_model(format!(
                "XGBoost objective '{other}' is not supported (supported: reg:squarederror, reg:squaredlogerror, \
                 reg:pseudohubererror, reg:absoluteerror, reg:logistic, binary:logistic, binary:logitraw, \
                 multi:softprob, multi:softmax, count:poisson, reg:gamma, reg:tweedie, survival:cox)"
            )));
        }
    })
}

fn bad(what: impl std::fmt::Display) -> Error {
    Error::invalid_model(format!("XGBoost model: {what}"))
}

fn field<'a>(obj: &'a Value, key: &str, at: &str) -> Result<&'a Value> {
    obj.get(key).ok_or_else(|| bad(format!("'{at}' has no field '{key}'")))
}

fn array<'a>(obj: &'a Value, key: &str, at: &str) -> Result<&'a Vec<Value>> {
    field(obj, key, at)?.as_array().ok_or_else(|| bad(format!("'{at}.{key}' is not an array")))
}

/// A string-encoded or plain integer parameter (XGBoost writes parameters as strings).
fn int_param(obj: &Value, key: &str, at: &str) -> Result<i64> {
    let v = field(obj, key, at)?;
    let n = match v {
        Value::String(s) => s.trim().parse::<i64>().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    };
    n.ok_or_else(|| bad(format!("'{at}.{key}' is not an integer: {v}")))
}

fn ints(obj: &Value, key: &str, at: &str) -> Result<Vec<i64>> {
    array(obj, key, at)?
        .iter()
        .map(|v| match v {
            Value::Bool(b) => Some(i64::from(*b)),
            _ => v.as_i64(),
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad(format!("'{at}.{key}' has a non-integer entry")))
}

/// float32 values as XGBoost holds them: each decimal is read as f64 and rounded to f32, which
/// recovers the exact float32 XGBoost printed (it prints the shortest round-trip form).
fn floats32(obj: &Value, key: &str, at: &str) -> Result<Vec<f32>> {
    array(obj, key, at)?
        .iter()
        .map(|v| v.as_f64().map(|x| x as f32))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| bad(format!("'{at}.{key}' has a non-numeric entry")))
}

/// `base_score`: "5E-1" (XGBoost 2) or "[5E-1]" / "[0E0,0E0,0E0]" (XGBoost 3, one per target).
fn parse_base_score(v: &Value) -> Result<Vec<f32>> {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) => a.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(","),
        _ => return Err(bad(format!("base_score is neither a string nor a number: {v}"))),
    };
    let inner = s.trim().trim_start_matches('[').trim_end_matches(']');
    inner
        .split(',')
        .map(|p| p.trim().trim_matches('"').parse::<f32>().map_err(|_| bad(format!("base_score '{s}' is not a number list"))))
        .collect()
}

/// `ObjFunction::ProbToMargin`, in float32 as XGBoost computes it.
fn prob_to_margin(family: Family, b: f32) -> Result<f32> {
    Ok(match family {
        Family::Identity | Family::LogitRaw | Family::Softmax => b,
        Family::Logistic => {
            if b.is_nan() {
                return Err(bad("base_score is NaN"));
            }
            // XGBoost bounds the probability by kRtEps (1e-6f) before `common::Logit`.
            let b = b.clamp(1e-6f32, 1.0f32 - 1e-6f32);
            -(1.0f32 / b - 1.0f32).ln()
        }
        Family::Log => {
            if b.is_nan() || b <= 0.0 {
                return Err(bad(format!("base_score {b} must be positive for a log-link objective")));
            }
            b.ln()
        }
    })
}

fn convert_tree(tree: &Value, at: &str, target: u32, n_features: usize) -> Result<TreeSpec> {
    let left = ints(tree, "left_children", at)?;
    let right = ints(tree, "right_children", at)?;
    let split_index = ints(tree, "split_indices", at)?;
    let cond = floats32(tree, "split_conditions", at)?;
    let default_left = ints(tree, "default_left", at)?;
    let n = left.len();
    for (name, len) in [("right_children", right.len()), ("split_indices", split_index.len()), ("split_conditions", cond.len()), ("default_left", default_left.len())] {
        if len != n {
            return Err(bad(format!("{at}: '{name}' has {len} entries for {n} nodes")));
        }
    }
    if n == 0 {
        return Err(bad(format!("{at} has no nodes")));
    }
    if let Some(tp) = tree.get("tree_param") {
        if let Ok(w) = int_param(tp, "size_leaf_vector", &format!("{at}.tree_param")) {
            if w > 1 {
                return Err(bad(format!("{at}: vector leaves (size_leaf_vector {w}, multi_strategy=multi_output_tree) are not supported")));
            }
        }
    }
    let split_type = match tree.get("split_type") {
        Some(_) => ints(tree, "split_type", at)?,
        None => vec![0; n],
    };
    if split_type.len() != n {
        return Err(bad(format!("{at}: 'split_type' has {} entries for {n} nodes", split_type.len())));
    }
    let mut spec = TreeSpec {
        target,
        leaf_width: 1,
        feature: Vec::with_capacity(n),
        threshold: Vec::with_capacity(n),
        left: Vec::with_capacity(n),
        right: Vec::with_capacity(n),
        default_left: Vec::with_capacity(n),
        missing: vec![],
        category_splits: vec![],
        value: Vec::with_capacity(n),
    };
    let node_index = |c: i64, i: usize, side: &str| -> Result<i32> {
        if c < 0 || c as usize >= n {
            return Err(bad(format!("{at}: node {i} has {side} child {c}, outside 0..{n}")));
        }
        Ok(c as i32)
    };
    for i in 0..n {
        let is_leaf = left[i] == -1;
        if is_leaf {
            // A leaf's split_condition slot holds its (already eta-scaled) leaf value.
            spec.feature.push(-1);
            spec.threshold.push(0.0);
            spec.left.push(-1);
            spec.right.push(-1);
            spec.default_left.push(false);
            spec.value.push(f64::from(cond[i]));
            continue;
        }
        let f = split_index[i];
        if f < 0 || f as usize >= n_features {
            return Err(bad(format!("{at}: node {i} splits on feature {f}, the model has {n_features}")));
        }
        spec.feature.push(f as i32);
        let categorical = match split_type[i] {
            0 => false,
            1 => true,
            t => return Err(bad(format!("{at}: node {i} has unknown split_type {t}"))),
        };
        spec.threshold.push(if categorical { 0.0 } else { f64::from(cond[i]) });
        spec.left.push(node_index(left[i], i, "left")?);
        spec.right.push(node_index(right[i], i, "right")?);
        spec.default_left.push(default_left[i] != 0);
        spec.value.push(0.0);
    }
    let cat_nodes = match tree.get("categories_nodes") {
        Some(_) => ints(tree, "categories_nodes", at)?,
        None => vec![],
    };
    if !cat_nodes.is_empty() {
        let cats = ints(tree, "categories", at)?;
        let segments = ints(tree, "categories_segments", at)?;
        let sizes = ints(tree, "categories_sizes", at)?;
        if segments.len() != cat_nodes.len() || sizes.len() != cat_nodes.len() {
            return Err(bad(format!(
                "{at}: categories_nodes ({}), categories_segments ({}) and categories_sizes ({}) differ in length",
                cat_nodes.len(),
                segments.len(),
                sizes.len()
            )));
        }
        for ((&node, &seg), &size) in cat_nodes.iter().zip(&segments).zip(&sizes) {
            if node < 0 || node as usize >= n || split_type[node as usize] != 1 {
                return Err(bad(format!("{at}: categories_nodes names node {node}, which is not a categorical split")));
            }
            let (seg, size) = (seg as usize, size as usize);
            let list = cats
                .get(seg..seg.saturating_add(size))
                .ok_or_else(|| bad(format!("{at}: category segment {seg}+{size} runs past the {} categories", cats.len())))?;
            let categories = list
                .iter()
                .map(|&c| u32::try_from(c).map_err(|_| bad(format!("{at}: node {node} lists category {c}"))))
                .collect::<Result<Vec<_>>>()?;
            spec.category_splits.push(CategorySplit { node: node as u32, categories, goes: SetGoes::Right });
        }
    }
    for (i, &t) in split_type.iter().enumerate() {
        if t == 1 && spec.feature[i] >= 0 && !spec.category_splits.iter().any(|s| s.node as usize == i) {
            return Err(bad(format!("{at}: node {i} is a categorical split with no categories listed")));
        }
    }
    Ok(spec)
}

/// The C ABI / command-line name of the JSON model format.
pub const JSON_FORMAT_NAME: &str = "xgboost-json";
/// The C ABI / command-line name of the UBJSON model format.
pub const UBJ_FORMAT_NAME: &str = "xgboost-ubj";

/// Import an XGBoost JSON model into an artifact.
pub fn from_json(bytes: &[u8], opts: &XgbImportOptions) -> Result<Artifact> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| Error::malformed(format!("XGBoost model is not valid JSON: {e}")))?;
    from_value(&root, opts)
}

/// Import an XGBoost UBJSON model (`save_model("m.ubj")`, `save_raw("ubj")`) into an artifact.
/// The document is the same as the JSON one, only encoded in binary; float32 values are
/// stored as float32, so nothing is lost on the way.
pub fn from_ubjson(bytes: &[u8], opts: &XgbImportOptions) -> Result<Artifact> {
    let root = super::ubjson::decode(bytes).map_err(|e| e.context("XGBoost UBJSON model"))?;
    from_value(&root, opts)
}

/// Category names per feature, from the model's `cats` (XGBoost >= 3.1 records the categories
/// of pandas/arrow categorical columns seen in training): `enc[f]` holds, for a string feature,
/// `values` (the UTF-8 bytes of all names, concatenated) and `offsets` (n + 1 boundaries). A
/// feature's code is the position of its name in this list. `None` for a feature without
/// recorded string categories (numeric, or categorical given as codes).
fn category_names(model: &Value, n_features: usize) -> Result<Vec<Option<Vec<String>>>> {
    let mut out = vec![None; n_features];
    let Some(enc) = model.get("cats").and_then(|c| c.get("enc")).and_then(Value::as_array) else {
        return Ok(out);
    };
    if enc.is_empty() {
        return Ok(out);
    }
    if enc.len() != n_features {
        return Err(bad(format!("cats.enc has {} entries for {n_features} features", enc.len())));
    }
    for (f, e) in enc.iter().enumerate() {
        let at = format!("cats.enc[{f}]");
        let offsets = match e.get("offsets") {
            Some(_) => ints(e, "offsets", &at)?,
            None => vec![],
        };
        if offsets.is_empty() {
            // Numeric categories (a pandas category of numbers) carry values but no offsets:
            // the host then passes the codes itself.
            continue;
        }
        let bytes: Vec<u8> = ints(e, "values", &at)?
            .into_iter()
            .map(|b| u8::try_from(b).map_err(|_| bad(format!("{at}.values holds {b}, not a byte"))))
            .collect::<Result<_>>()?;
        let mut names = Vec::with_capacity(offsets.len().saturating_sub(1));
        for w in offsets.windows(2) {
            let (a, b) = (w[0], w[1]);
            if a < 0 || b < a || b as usize > bytes.len() {
                return Err(bad(format!("{at}.offsets are not increasing within the {} bytes", bytes.len())));
            }
            let name = std::str::from_utf8(&bytes[a as usize..b as usize]).map_err(|_| bad(format!("{at}: a category name is not UTF-8")))?;
            names.push(name.to_owned());
        }
        if offsets[0] != 0 || *offsets.last().unwrap_or(&0) as usize != bytes.len() {
            return Err(bad(format!("{at}.offsets do not span the {} bytes", bytes.len())));
        }
        out[f] = Some(names);
    }
    Ok(out)
}

/// The import proper, on the parsed document (JSON and UBJSON give the same one, so the same
/// model gives the same artifact and fingerprint from either file).
fn from_value(root: &Value, opts: &XgbImportOptions) -> Result<Artifact> {
    let learner = field(root, "learner", "model")?;
    let version = match root.get("version").and_then(Value::as_array) {
        Some(v) => v.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("."),
        None => String::new(),
    };
    let lmp = field(learner, "learner_model_param", "learner")?;
    let objective_obj = field(learner, "objective", "learner")?;
    let objective = field(objective_obj, "name", "learner.objective")?
        .as_str()
        .ok_or_else(|| bad("'learner.objective.name' is not a string"))?;
    let fam = family(objective)?;
    let booster = field(learner, "gradient_booster", "learner")?;
    let booster_name = field(booster, "name", "learner.gradient_booster")?.as_str().unwrap_or("");
    let model = match booster_name {
        "gbtree" => field(booster, "model", "learner.gradient_booster")?,
        "dart" => field(field(booster, "gbtree", "learner.gradient_booster")?, "model", "learner.gradient_booster.gbtree")?,
        other => return Err(bad(format!("booster '{other}' is not supported (only 'gbtree' and 'dart')"))),
    };
    // DART scales each tree's output by its weight at prediction: XGBoost adds
    // `leaf * weight_drop[t]` (float32 product) to the margin (Dart::PredictBatchImpl,
    // src/gbm/gbtree.cc), so the scaled leaves are computed once here. XGBoost 3.2 stores the
    // weights beside the tree model, later versions inside it.
    let tree_weights: Option<Vec<f32>> = if booster_name == "dart" {
        let at = if booster.get("weight_drop").is_some() { booster } else { model };
        match at.get("weight_drop") {
            Some(_) => Some(floats32(at, "weight_drop", "dart booster")?),
            None => None,
        }
    } else {
        None
    };

    let n_features = int_param(lmp, "num_feature", "learner.learner_model_param")?;
    let num_class = lmp.get("num_class").map(|_| int_param(lmp, "num_class", "learner.learner_model_param")).transpose()?.unwrap_or(0);
    let num_target = lmp.get("num_target").map(|_| int_param(lmp, "num_target", "learner.learner_model_param")).transpose()?.unwrap_or(1);
    if n_features <= 0 {
        return Err(bad(format!("num_feature is {n_features}")));
    }
    if num_target > 1 {
        return Err(bad(format!("multi-target models (num_target {num_target}) are not supported")));
    }
    let n_features = n_features as usize;
    let n_groups = if fam == Family::Softmax {
        if num_class < 2 {
            return Err(bad(format!("objective '{objective}' with num_class {num_class}")));
        }
        num_class as usize
    } else if num_class > 1 {
        return Err(bad(format!("objective '{objective}' with num_class {num_class}")));
    } else {
        1
    };

    // Base margin per output group.
    let base_prob = parse_base_score(field(lmp, "base_score", "learner.learner_model_param")?)?;
    let base_prob = match base_prob.len() {
        1 => vec![base_prob[0]; n_groups],
        k if k == n_groups => base_prob,
        k => return Err(bad(format!("base_score has {k} values for {n_groups} output groups"))),
    };
    let base_margin = base_prob.iter().map(|&b| prob_to_margin(fam, b)).collect::<Result<Vec<f32>>>()?;

    // Trees and their iteration boundaries.
    let trees = array(model, "trees", "gradient_booster.model")?;
    let tree_info = ints(model, "tree_info", "gradient_booster.model")?;
    if tree_info.len() != trees.len() {
        return Err(bad(format!("tree_info has {} entries for {} trees", tree_info.len(), trees.len())));
    }
    let indptr: Vec<usize> = match model.get("iteration_indptr") {
        Some(_) => ints(model, "iteration_indptr", "gradient_booster.model")?.into_iter().map(|x| x.max(0) as usize).collect(),
        None => {
            let per_iter = n_groups
                * model
                    .get("gbtree_model_param")
                    .map(|p| int_param(p, "num_parallel_tree", "gbtree_model_param"))
                    .transpose()?
                    .unwrap_or(1)
                    .max(1) as usize;
            (0..=trees.len() / per_iter).map(|i| i * per_iter).collect()
        }
    };
    if indptr.first() != Some(&0) || indptr.windows(2).any(|w| w[0] > w[1]) || indptr.last() != Some(&trees.len()) {
        return Err(bad("iteration_indptr is not an increasing list from 0 to the number of trees"));
    }
    let n_iter = indptr.len() - 1;
    let attributes = learner.get("attributes");
    let (begin, end) = match opts.iterations {
        Iterations::All => (0, n_iter),
        Iterations::Best => {
            let best = attributes
                .and_then(|a| a.get("best_iteration"))
                .ok_or_else(|| Error::invalid_argument("iterations Best: the XGBoost model has no 'best_iteration' attribute"))?;
            let best = match best {
                Value::String(s) => s.trim().parse::<usize>().ok(),
                v => v.as_u64().map(|x| x as usize),
            }
            .ok_or_else(|| bad(format!("best_iteration is not an integer: {best}")))?;
            (0, (best + 1).min(n_iter))
        }
        Iterations::Range { begin, end } => {
            // XGBoost reads end 0 as "to the last iteration".
            let end = if end == 0 { n_iter } else { end };
            if begin > end || end > n_iter {
                return Err(Error::invalid_argument(format!("iteration range {begin}..{end} is outside the model's {n_iter} iterations")));
            }
            (begin, end)
        }
    };

    if let Some(w) = &tree_weights {
        if !w.is_empty() && w.len() != trees.len() {
            return Err(bad(format!("dart weight_drop has {} weights for {} trees", w.len(), trees.len())));
        }
    }
    let mut specs = Vec::new();
    for t in indptr[begin]..indptr[end] {
        let group = tree_info[t];
        if group < 0 || group as usize >= n_groups {
            return Err(bad(format!("tree {t} belongs to output group {group}, the model has {n_groups}")));
        }
        let mut spec = convert_tree(&trees[t], &format!("tree {t}"), group as u32, n_features)?;
        if let Some(&w) = tree_weights.as_ref().and_then(|w| w.get(t)) {
            for (v, &f) in spec.value.iter_mut().zip(&spec.feature) {
                if f < 0 {
                    *v = f64::from(*v as f32 * w);
                }
            }
        }
        specs.push(spec);
    }

    let features: Vec<String> = match &opts.feature_names {
        Some(names) => {
            if names.len() != n_features {
                return Err(Error::invalid_argument(format!("{} feature names given, the model has {n_features} features", names.len())));
            }
            names.clone()
        }
        None => match learner.get("feature_names").and_then(Value::as_array) {
            Some(names) if !names.is_empty() => {
                if names.len() != n_features {
                    return Err(bad(format!("feature_names has {} names for num_feature {n_features}", names.len())));
                }
                names.iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(|| bad("feature_names has a non-string entry"))).collect::<Result<_>>()?
            }
            _ => (0..n_features).map(|i| format!("f{i}")).collect(),
        },
    };

    let transform = match fam {
        Family::Identity | Family::LogitRaw => OutputTransform::Identity,
        Family::Logistic => OutputTransform::Sigmoid,
        Family::Softmax => OutputTransform::Softmax,
        Family::Log => OutputTransform::Exp,
    };
    let outputs = if n_groups > 1 {
        (0..n_groups).map(|k| OutputSpec::new(format!("prob_{k}"))).collect()
    } else {
        vec![OutputSpec::new(match fam {
            Family::Logistic => "probability",
            Family::LogitRaw => "margin",
            Family::Log if objective == "survival:cox" => "hazard_ratio",
            _ => "prediction",
        })]
    };

    // A categorical feature whose category names the model records takes strings: an ordinal
    // step turns each into its training code, as XGBoost re-codes a pandas column by name.
    // XGBoost 3.2 means to refuse a category not in the training set ("Found a category not in
    // the training set", src/data/cat_container.h), but its binary search only notices one that
    // sorts after every training category; any other unseen name silently takes the code of the
    // training category that follows it in sorted order. kiln does not copy that accident: the
    // column keeps the default `flag` policy, so such a row gets the status `unknown_category`
    // (the ordinal step's `slot` code is never scored).
    let names_per_feature = category_names(model, n_features)?;
    let mut columns = Vec::with_capacity(n_features);
    let mut pipeline = Vec::new();
    for (name, cats) in features.iter().zip(&names_per_feature) {
        match cats {
            Some(cats) => {
                columns.push(Column::new(name.clone(), ColumnType::Categorical).with_categories(cats.clone()));
                pipeline.push(Step::Ordinal {
                    column: name.clone(),
                    categories: cats.clone(),
                    unknown: UnknownCategory::Slot,
                    unknown_value: None,
                    output: None,
                });
            }
            None => {
                let mut c = Column::new(name.clone(), ColumnType::Float32);
                // XGBoost accepts NaN/inf anywhere; missing values follow default directions.
                c.policy.non_finite = Policy::Allow;
                columns.push(c);
            }
        }
    }

    let mut params = BTreeMap::new();
    params.insert("objective".to_owned(), objective_obj.clone());
    params.insert("learner_model_param".to_owned(), lmp.clone());
    params.insert("booster".to_owned(), Value::String(booster_name.to_owned()));
    params.insert("iteration_range".to_owned(), serde_json::json!([begin, end]));
    if let Some(types) = learner.get("feature_types").filter(|t| t.as_array().is_some_and(|a| !a.is_empty())) {
        // "c" marks a categorical feature: kiln reads it as its integer category code.
        params.insert("feature_types".to_owned(), types.clone());
    }
    if let Some(a) = attributes {
        params.insert("attributes".to_owned(), a.clone());
    }
    if objective == "multi:softmax" {
        // Booster.predict returns the argmax class for multi:softmax; kiln returns the class
        // probabilities that argmax is taken over (ties: XGBoost picks the first maximum).
        params.insert("kiln_note".to_owned(), Value::String("multi:softmax imported as class probabilities; the predicted class is the first argmax".into()));
    }

    let content = Content {
        schema: Schema::new(columns),
        pipeline,
        model: ModelSpec::TreeEnsemble(TreeEnsembleSpec {
            features,
            n_targets: n_groups,
            base_score: base_margin.iter().map(|&m| f64::from(m)).collect(),
            aggregate: Aggregate::Sum,
            decision: Decision::Less,
            input_precision: Precision::Float32,
            accumulate: Precision::Float32,
            transform,
            trees: specs,
        }),
        outputs,
        provenance: Provenance {
            library: "xgboost".into(),
            library_version: version,
            params,
            ..Provenance::default()
        },
        profile: None,
    };
    Artifact::new(content)
}
