//! Structural validation, run once at load so that scoring never re-checks the model.
//! Every message names what is wrong and where (step index, tree index, node index).

use std::collections::HashMap;

use super::{Content, ModelSpec, Step, TreeEnsembleSpec, TreeSpec};
use crate::error::{Error, Result};
use crate::schema::ColumnType;

/// What a named column holds while the pipeline runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Numeric,
    Categorical,
    /// Days since 1970-01-01 (date and timestamp inputs).
    Temporal,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Numeric => "numeric",
            Kind::Categorical => "categorical",
            Kind::Temporal => "date/timestamp",
        }
    }
}

pub(crate) fn validate(c: &Content) -> Result<()> {
    validate_schema(c)?;
    let kinds = resolve_pipeline(c)?;
    let features = c.model.features();
    for (i, f) in features.iter().enumerate() {
        match kinds.get(f.as_str()) {
            None => return Err(Error::invalid_model(format!("model feature {i} '{f}' is neither a schema column nor a pipeline output"))),
            Some(Kind::Categorical) => {
                return Err(Error::invalid_model(format!("model feature {i} '{f}' is categorical: encode it (one_hot, ordinal, hash) before the model")));
            }
            Some(_) => {}
        }
    }
    if c.outputs.len() != c.model.n_outputs() {
        return Err(Error::invalid_model(format!(
            "the artifact names {} outputs but the model produces {}",
            c.outputs.len(),
            c.model.n_outputs()
        )));
    }
    match &c.model {
        ModelSpec::Linear(m) => {
            if m.intercept.is_empty() {
                return Err(Error::invalid_model("linear model has no targets (empty intercept)"));
            }
            if m.coefficients.len() != m.intercept.len() {
                return Err(Error::invalid_model(format!(
                    "linear model has {} coefficient rows but {} intercepts",
                    m.coefficients.len(),
                    m.intercept.len()
                )));
            }
            for (k, row) in m.coefficients.iter().enumerate() {
                if row.len() != features.len() {
                    return Err(Error::invalid_model(format!(
                        "linear model coefficient row {k} has {} values for {} features",
                        row.len(),
                        features.len()
                    )));
                }
                if let Some(j) = row.iter().position(|v| !v.is_finite()) {
                    return Err(Error::invalid_model(format!("linear model coefficient [{k}][{j}] is not finite")));
                }
            }
            if let Some(k) = m.intercept.iter().position(|v| !v.is_finite()) {
                return Err(Error::invalid_model(format!("linear model intercept {k} is not finite")));
            }
            if m.link == super::Link::Softmax && m.intercept.len() < 2 {
                return Err(Error::invalid_model("softmax link needs at least two targets"));
            }
        }
        ModelSpec::TreeEnsemble(m) => validate_ensemble(m)?,
    }
    Ok(())
}

#[expect(clippy::neg_cmp_op_on_partial_ord, reason = "`!(lo <= hi)` holds for NaN too, which this check must refuse")]
fn validate_schema(c: &Content) -> Result<()> {
    let mut seen = HashMap::new();
    for (i, col) in c.schema.columns.iter().enumerate() {
        if col.name.is_empty() {
            return Err(Error::invalid_model(format!("schema column {i} has an empty name")));
        }
        if let Some(j) = seen.insert(col.name.as_str(), i) {
            return Err(Error::invalid_model(format!("schema columns {j} and {i} are both named '{}'", col.name)));
        }
        if col.categories.is_some() && col.ty != ColumnType::Categorical {
            return Err(Error::invalid_model(format!("schema column '{}' is {} but lists categories", col.name, col.ty)));
        }
        if let (Some(lo), Some(hi)) = (col.min, col.max) {
            if !(lo <= hi) {
                return Err(Error::invalid_model(format!("schema column '{}' has min {lo} > max {hi}", col.name)));
            }
        }
    }
    Ok(())
}

/// Walk the pipeline, checking each step's inputs exist with the right kind.
pub(crate) fn resolve_pipeline(c: &Content) -> Result<HashMap<&str, Kind>> {
    let mut kinds: HashMap<&str, Kind> = HashMap::new();
    for col in &c.schema.columns {
        let k = match col.ty {
            ColumnType::Categorical => Kind::Categorical,
            ColumnType::Date | ColumnType::Timestamp => Kind::Temporal,
            _ => Kind::Numeric,
        };
        kinds.insert(col.name.as_str(), k);
    }
    for (i, step) in c.pipeline.iter().enumerate() {
        let op = step.op_name();
        let want = match step {
            Step::ImputeCategory { .. } | Step::OneHot { .. } | Step::Ordinal { .. } | Step::Hash { .. } | Step::TextVectorize(_) => {
                Kind::Categorical
            }
            Step::DateParts { .. } | Step::Elapsed { .. } => Kind::Temporal,
            _ => Kind::Numeric,
        };
        for input in step.inputs() {
            match kinds.get(input) {
                None => return Err(Error::invalid_model(format!("pipeline step {i} ({op}) reads column '{input}', which does not exist at that point"))),
                Some(&k) if k != want && !(want == Kind::Numeric && k == Kind::Temporal && matches!(step, Step::Impute { .. })) => {
                    return Err(Error::invalid_model(format!(
                        "pipeline step {i} ({op}) needs a {} column but '{input}' is {}",
                        want.name(),
                        k.name()
                    )));
                }
                _ => {}
            }
        }
        check_step_params(i, step)?;
        let out_kind = match step {
            Step::ImputeCategory { .. } => Kind::Categorical,
            Step::Impute { column, .. } => kinds[column.as_str()],
            _ => Kind::Numeric,
        };
        let outputs = step.outputs();
        for (j, o) in outputs.iter().enumerate() {
            if o.is_empty() {
                return Err(Error::invalid_model(format!("pipeline step {i} ({op}) output {j} has an empty name")));
            }
            if outputs[..j].contains(o) {
                return Err(Error::invalid_model(format!("pipeline step {i} ({op}) writes '{o}' twice")));
            }
            kinds.insert(o, out_kind);
        }
    }
    Ok(kinds)
}

#[expect(clippy::neg_cmp_op_on_partial_ord, reason = "`!(a < b)` holds for NaN too, which these checks must refuse")]
fn check_step_params(i: usize, step: &Step) -> Result<()> {
    let op = step.op_name();
    let bad = |m: String| Err(Error::invalid_model(format!("pipeline step {i} ({op}): {m}")));
    match step {
        Step::Impute { value, .. } if !value.is_finite() => bad(format!("impute value {value} is not finite")),
        Step::StandardScale { mean, scale, .. } if !mean.is_finite() || !scale.is_finite() || *scale == 0.0 => {
            bad(format!("mean {mean} and scale {scale} must be finite and scale non-zero"))
        }
        Step::MinMaxScale { scale, offset, .. } if !scale.is_finite() || !offset.is_finite() => {
            bad(format!("scale {scale} and offset {offset} must be finite"))
        }
        Step::Clip { min: Some(lo), max: Some(hi), .. } if !(lo <= hi) => bad(format!("min {lo} > max {hi}")),
        Step::Bucketize { edges, .. } => {
            if edges.iter().any(|e| e.is_nan()) || edges.windows(2).any(|w| !(w[0] < w[1])) {
                return bad("edges must be strictly ascending numbers".into());
            }
            Ok(())
        }
        Step::OneHot { categories, unknown, outputs, .. } => {
            let want = categories.len() + usize::from(*unknown == super::UnknownCategory::Slot);
            if outputs.len() != want {
                return bad(format!("{} categories (unknown: {unknown:?}) need {want} outputs, {} given", categories.len(), outputs.len()));
            }
            check_unique(categories).map_or(Ok(()), |c| bad(format!("category '{c}' is listed twice")))
        }
        Step::Ordinal { categories, .. } => check_unique(categories).map_or(Ok(()), |c| bad(format!("category '{c}' is listed twice"))),
        Step::Hash { n_features, outputs, .. } => {
            if *n_features == 0 || outputs.len() != *n_features as usize {
                return bad(format!("n_features {n_features} must be positive and equal the number of outputs ({})", outputs.len()));
            }
            Ok(())
        }
        Step::DateParts { parts, outputs, .. } if parts.len() != outputs.len() || parts.is_empty() => {
            bad(format!("{} parts need as many outputs, {} given", parts.len(), outputs.len()))
        }
        Step::Elapsed { reference, .. } if crate::transform::date::parse_iso_date(reference).is_none() => {
            bad(format!("reference '{reference}' is not an ISO date YYYY-MM-DD"))
        }
        Step::TextVectorize(t) => t.check().or_else(bad),
        _ => Ok(()),
    }
}

fn check_unique(items: &[String]) -> Option<&str> {
    let mut seen = std::collections::HashSet::new();
    items.iter().find(|c| !seen.insert(c.as_str())).map(String::as_str)
}

fn validate_ensemble(m: &TreeEnsembleSpec) -> Result<()> {
    if m.n_targets == 0 {
        return Err(Error::invalid_model("tree ensemble has n_targets 0"));
    }
    if !m.base_score.is_empty() && m.base_score.len() != m.n_targets {
        return Err(Error::invalid_model(format!("base_score has {} values for {} targets", m.base_score.len(), m.n_targets)));
    }
    if m.transform == super::OutputTransform::Softmax && m.n_targets < 2 {
        return Err(Error::invalid_model("softmax transform needs at least two targets"));
    }
    if let super::OutputTransform::ScaledSigmoid { scale } = m.transform {
        if !(scale.is_finite() && scale > 0.0) {
            return Err(Error::invalid_model(format!("scaled_sigmoid scale {scale} is not a positive finite number")));
        }
    }
    if m.trees.is_empty() {
        return Err(Error::invalid_model("tree ensemble has no trees"));
    }
    for (t, tree) in m.trees.iter().enumerate() {
        validate_tree(tree, m.features.len(), m.n_targets).map_err(|e| e.context(format!("tree {t}")))?;
    }
    Ok(())
}

/// Largest category index (exclusive) a categorical split may list: 2^24 keeps one set's
/// bitset within 2 MiB while being far above any real category count.
pub(crate) const MAX_CATEGORY: u32 = 1 << 24;

fn validate_tree(tree: &TreeSpec, n_features: usize, n_targets: usize) -> Result<()> {
    let n = tree.feature.len();
    if n == 0 {
        return Err(Error::invalid_model("has no nodes"));
    }
    let width = tree.leaf_width as usize;
    if width == 0 || tree.target as usize + width > n_targets {
        return Err(Error::invalid_model(format!(
            "target {} with leaf_width {} does not fit in {n_targets} targets",
            tree.target, tree.leaf_width
        )));
    }
    let same = |name: &str, len: usize, allow_empty: bool| {
        if len == n || (allow_empty && len == 0) {
            Ok(())
        } else {
            Err(Error::invalid_model(format!("array '{name}' has {len} entries for {n} nodes")))
        }
    };
    same("threshold", tree.threshold.len(), false)?;
    same("left", tree.left.len(), false)?;
    same("right", tree.right.len(), false)?;
    same("default_left", tree.default_left.len(), true)?;
    same("missing", tree.missing.len(), true)?;
    if tree.value.len() != n * width {
        return Err(Error::invalid_model(format!("array 'value' has {} entries, {n} nodes x leaf_width {width} needed", tree.value.len())));
    }
    // JSON has no infinities or NaNs (serde_json would write null and the file would not load).
    if let Some((i, t)) = tree.threshold.iter().enumerate().find(|(_, t)| !t.is_finite()) {
        return Err(Error::invalid_model(format!("node {i} has threshold {t}; thresholds must be finite")));
    }
    if let Some((i, v)) = tree.value.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid_model(format!("value {i} is {v}; values must be finite")));
    }
    let mut is_cat = vec![false; n];
    for s in &tree.category_splits {
        let node = s.node as usize;
        if node >= n {
            return Err(Error::invalid_model(format!("category split names node {node}, beyond the {n} nodes")));
        }
        if tree.feature[node] < 0 {
            return Err(Error::invalid_model(format!("category split on node {node}, which is a leaf")));
        }
        if is_cat[node] {
            return Err(Error::invalid_model(format!("node {node} has two category splits")));
        }
        is_cat[node] = true;
        // The prepared tree holds each set as a bitset up to its largest category: bound it, so
        // a few bytes of artifact cannot ask for gigabytes at load.
        if let Some(c) = s.categories.iter().find(|&&c| c >= MAX_CATEGORY) {
            return Err(Error::invalid_model(format!("category split on node {node} lists category {c}; categories must be below {MAX_CATEGORY}")));
        }
    }
    for (i, &f) in tree.feature.iter().enumerate() {
        if f < 0 {
            if f != -1 {
                return Err(Error::invalid_model(format!("node {i} has feature {f}; leaves use -1")));
            }
            if let Some(v) = tree.value[i * width..(i + 1) * width].iter().find(|v| v.is_nan()) {
                return Err(Error::invalid_model(format!("leaf {i} has value {v}")));
            }
            continue;
        }
        if f as usize >= n_features {
            return Err(Error::invalid_model(format!("node {i} splits on feature {f}, beyond the model's {n_features} features")));
        }
        if !is_cat[i] && tree.threshold[i].is_nan() {
            return Err(Error::invalid_model(format!("node {i} has a NaN threshold")));
        }
        for (side, c) in [("left", tree.left[i]), ("right", tree.right[i])] {
            if c < 0 || c as usize >= n {
                return Err(Error::invalid_model(format!("node {i} has {side} child {c}, out of range 0..{n}")));
            }
        }
    }
    // Every node must be reached exactly once from the root: this rules out cycles, shared
    // subtrees and orphans in one pass.
    let mut seen = vec![false; n];
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        if seen[i] {
            return Err(Error::invalid_model(format!("node {i} is reached twice (a cycle or a shared subtree)")));
        }
        seen[i] = true;
        if tree.feature[i] >= 0 {
            stack.push(tree.left[i] as usize);
            stack.push(tree.right[i] as usize);
        }
    }
    if let Some(orphan) = seen.iter().position(|s| !s) {
        return Err(Error::invalid_model(format!("node {orphan} is not reachable from the root")));
    }
    Ok(())
}
