//! Scoring against the reference: the artifact's reference profile (of the training data), the
//! batch-level rules of the hard edge that need it, and the scoring call that verifies a batch,
//! scores it, profiles it and measures its drift in one pass.
//!
//! Row-level rules (types, allowed categories, ranges, finiteness, nulls) come from the schema
//! and are applied by the scorer per value (`verify/`). What a single value cannot show is a
//! column's **null rate** moving away from training: that rule is checked here, on the batch's
//! profile against the reference profile ([`NullRateRule`]).
//!
//! # The null-rate rule
//! With `p_t` the column's training null rate, `p_b` the batch's over `n` rows, the batch passes
//! when `|p_b − p_t| ≤ δ` with
//!
//! `δ = τ · p_t + a + z · sqrt(p_t (1 − p_t) / n)`
//!
//! `τ` is the proportional tolerance (default 0.5: half the training rate either way), `a` an
//! absolute floor (default 0.001: a column that had no nulls in training tolerates a rare one),
//! and the last term `z` (default 3) binomial standard errors of a batch of `n` rows, so a small
//! batch drawn from the training distribution does not break the rule by chance. A batch that
//! breaks it gets a [`BatchFinding`] naming the column, the training rate, the observed rate
//! and the tolerance; under [`BatchPolicy::Reject`] the batch is refused instead (nothing is
//! scored, nothing written).

use serde::Serialize;

use super::{BatchProfile, DriftOptions, DriftReport, ProfileOptions, Summary, profile_batch_with};
use crate::artifact::{Artifact, Content};
use crate::batch::Batch;
use crate::error::{Error, Result};
use crate::scorer::{ScoreOptions, Scorer, Scores};

/// What a broken batch-level rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum BatchPolicy {
    /// Score the batch and report the finding.
    #[default]
    Report,
    /// Refuse the batch (`BatchRejected`), naming the column.
    Reject,
}

/// The null-rate rule (see the module doc for the formula).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NullRateRule {
    /// Proportional tolerance `τ` around the training rate.
    pub tolerance: f64,
    /// Absolute floor `a` on the tolerance.
    pub floor: f64,
    /// Binomial standard errors `z` of the batch added to the tolerance.
    pub standard_errors: f64,
    pub policy: BatchPolicy,
}

impl Default for NullRateRule {
    fn default() -> Self {
        NullRateRule { tolerance: 0.5, floor: 0.001, standard_errors: 3.0, policy: BatchPolicy::Report }
    }
}

impl NullRateRule {
    fn validate(&self) -> Result<()> {
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        if !(ok(self.tolerance) && ok(self.floor) && ok(self.standard_errors)) {
            return Err(Error::invalid_argument(format!(
                "null-rate rule: tolerance ({}), floor ({}) and standard errors ({}) must be finite and non-negative",
                self.tolerance, self.floor, self.standard_errors
            )));
        }
        Ok(())
    }
}

/// A batch-level rule the batch broke.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchFinding {
    /// The rule: `"null_rate"`.
    pub rule: &'static str,
    pub column: String,
    pub training_rate: f64,
    pub observed_rate: f64,
    /// The proportional tolerance `τ` the rule was run with.
    pub tolerance: f64,
    /// The allowed range of the observed rate, `[low, high]`.
    pub allowed_low: f64,
    pub allowed_high: f64,
    pub training_rows: u64,
    pub rows: u64,
    /// What the rule's policy did: `"report"` or `"reject"`.
    pub policy: BatchPolicy,
    pub message: String,
}

/// The null-rate findings of `batch` against `reference` (profiles of the same columns).
pub fn null_rate_findings(reference: &BatchProfile, batch: &BatchProfile, rule: &NullRateRule) -> Result<Vec<BatchFinding>> {
    rule.validate()?;
    let mut findings = Vec::new();
    for r in reference.columns() {
        let Some(c) = batch.column(&r.name) else {
            return Err(Error::invalid_argument(format!("null-rate rule: the batch profile has no column '{}'", r.name)));
        };
        let (rows_t, nulls_t) = (r.summary.rows(), r.summary.nulls());
        let (rows_b, nulls_b) = (c.summary.rows(), c.summary.nulls());
        if rows_t == 0 || rows_b == 0 {
            continue;
        }
        let p_t = nulls_t as f64 / rows_t as f64;
        let p_b = nulls_b as f64 / rows_b as f64;
        let se = (p_t * (1.0 - p_t) / rows_b as f64).sqrt();
        let delta = rule.tolerance * p_t + rule.floor + rule.standard_errors * se;
        let (low, high) = ((p_t - delta).max(0.0), (p_t + delta).min(1.0));
        if p_b < low || p_b > high {
            let message = format!(
                "column '{}': null rate {} ({nulls_b} of {rows_b} rows) is outside [{}, {}], the training rate {} ({nulls_t} of {rows_t} rows) within a tolerance of {}% of it + {} + {} standard errors",
                r.name,
                round6(p_b),
                round6(low),
                round6(high),
                round6(p_t),
                rule.tolerance * 100.0,
                rule.floor,
                rule.standard_errors
            );
            findings.push(BatchFinding {
                rule: "null_rate",
                column: r.name.clone(),
                training_rate: p_t,
                observed_rate: p_b,
                tolerance: rule.tolerance,
                allowed_low: low,
                allowed_high: high,
                training_rows: rows_t,
                rows: rows_b,
                policy: rule.policy,
                message,
            });
        }
    }
    Ok(findings)
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Apply a rule's policy: under `Reject`, the first finding refuses the batch.
pub fn enforce(findings: &[BatchFinding]) -> Result<()> {
    match findings.iter().find(|f| f.policy == BatchPolicy::Reject) {
        Some(f) => Err(Error::batch_rejected(format!("{} (null-rate policy: reject)", f.message))),
        None => Ok(()),
    }
}

/// Read and check an artifact's reference profile: it must profile the schema's columns (names,
/// types, order) and the model's outputs.
pub(crate) fn read_reference(content: &Content) -> Result<Option<BatchProfile>> {
    let Some(value) = &content.profile else { return Ok(None) };
    let profile = BatchProfile::from_json_value(value).map_err(|e| Error::invalid_model(format!("the artifact's reference profile: {}", e.message())))?;
    check_matches(&profile, content).map_err(|e| Error::invalid_model(format!("the artifact's reference profile: {}", e.message())))?;
    Ok(Some(profile))
}

fn check_matches(profile: &BatchProfile, content: &Content) -> Result<()> {
    let want: Vec<String> = content.schema.columns.iter().map(|c| format!("{} ({})", c.name, c.ty)).collect();
    let have: Vec<String> = profile.columns().iter().map(|c| format!("{} ({})", c.name, c.ty)).collect();
    if want != have {
        return Err(Error::invalid_argument(format!(
            "it profiles columns [{}], the model's schema has [{}]",
            have.join(", "),
            want.join(", ")
        )));
    }
    let want: Vec<&str> = content.outputs.iter().map(|o| o.name.as_str()).collect();
    let have: Vec<&str> = profile.outputs().iter().map(|o| o.name.as_str()).collect();
    if want != have {
        return Err(Error::invalid_argument(format!("it profiles outputs [{}], the model has [{}]", have.join(", "), want.join(", "))));
    }
    Ok(())
}

/// Profile a (training) batch for use as a reference: its inputs and, by scoring it, its
/// outputs' distribution.
pub fn reference_profile(scorer: &Scorer, batch: &Batch, opts: &ScoreOptions) -> Result<BatchProfile> {
    super::score_and_profile(scorer, batch, opts).map(|(_, p)| p)
}

impl Scorer {
    /// A new model: this one with `profile` recorded as its reference (the artifact's
    /// `content.profile`, so the fingerprint changes). The profile must be of this model's
    /// columns and outputs, e.g. from [`reference_profile`].
    pub fn with_reference_profile(&self, profile: &BatchProfile) -> Result<Scorer> {
        let mut content = self.artifact()?.into_owned().content;
        content.profile = Some(profile.to_json_value());
        let artifact = Artifact::new(content)?;
        check_matches(profile, &artifact.content)?;
        Scorer::new(artifact)
    }

    /// [`Scorer::with_reference_profile`] of the profile of `batch` (inputs and scored outputs).
    pub fn with_reference_from(&self, batch: &Batch, opts: &ScoreOptions) -> Result<Scorer> {
        self.with_reference_profile(&reference_profile(self, batch, opts)?)
    }
}

/// What [`score_checked`] does besides scoring.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Threads for this call; 0 = all cores.
    pub n_threads: usize,
    /// Return the batch's profile (inputs and outputs).
    pub profile: bool,
    /// Return the drift report against the model's reference profile (an error without one).
    pub drift: bool,
    /// The null-rate rule, run whenever the model has a reference profile.
    pub null_rate: NullRateRule,
    pub drift_options: DriftOptions,
}

/// Scores plus the batch-level results.
#[derive(Debug, Clone)]
pub struct CheckedScores {
    pub scores: Scores,
    /// Batch-level rules the batch broke (reported, since none rejected it).
    pub findings: Vec<BatchFinding>,
    pub profile: Option<BatchProfile>,
    pub drift: Option<DriftReport>,
}

/// Verify a batch (schema rules per value; the null-rate rule against the model's reference
/// profile, when it has one), score it, and as asked return its profile and its drift against
/// the reference. A rejected batch is an error and nothing is scored.
pub fn score_checked(scorer: &Scorer, batch: &Batch, opts: &CheckOptions) -> Result<CheckedScores> {
    let reference = scorer.reference_profile();
    if opts.drift && reference.is_none() {
        return Err(no_reference());
    }
    let mut profile = if reference.is_some() || opts.profile || opts.drift {
        Some(profile_batch_with(scorer, batch, &ProfileOptions { n_threads: opts.n_threads })?)
    } else {
        None
    };
    let findings = match (reference, &profile) {
        (Some(r), Some(p)) => null_rate_findings(r, p, &opts.null_rate)?,
        _ => Vec::new(),
    };
    enforce(&findings)?;
    let scores = scorer.score(batch, &ScoreOptions { n_threads: opts.n_threads })?;
    if let Some(p) = &mut profile {
        p.update_outputs(&scores)?;
    }
    let drift = match (opts.drift, reference, &profile) {
        (true, Some(r), Some(p)) => Some(DriftReport::compare(r, p, &opts.drift_options)?),
        _ => None,
    };
    Ok(CheckedScores { scores, findings, profile: if opts.profile { profile } else { None }, drift })
}

/// The error of a drift request on a model without a reference profile.
pub fn no_reference() -> Error {
    Error::invalid_argument(
        "the model has no reference profile to measure drift against: attach one from training data (kiln profile --model M DATA --attach, kiln_model_with_reference_profile, Model.with_reference_profile)",
    )
}

/// Per-column summary of a profile, readable without the sketches: for numeric columns null
/// rate, mean, standard deviation, min, max, quantiles and distinct count; for categorical
/// columns null rate, distinct count and the most frequent categories with their shares.
pub fn summarize(profile: &BatchProfile) -> serde_json::Value {
    use serde_json::json;
    let numeric = |p: &super::NumericProfile| {
        let view = p.quantiles.sorted_view();
        let quantiles: serde_json::Map<String, serde_json::Value> = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]
            .iter()
            .map(|&q| (format!("{q}"), if view.is_empty() { serde_json::Value::Null } else { json!(view.quantile(q)) }))
            .collect();
        json!({
            "kind": "numeric",
            "rows": p.rows,
            "nulls": p.nulls,
            "null_rate": p.null_rate(),
            "infinities": p.positive_infinities + p.negative_infinities,
            "mean": p.moments.mean(),
            "std_dev": p.moments.std_dev(),
            "min": p.moments.min(),
            "max": p.moments.max(),
            "quantiles": quantiles,
            "distinct": p.distinct.estimate().round(),
        })
    };
    let columns: Vec<serde_json::Value> = profile
        .columns()
        .iter()
        .map(|c| {
            let mut v = match &c.summary {
                Summary::Numeric(p) => numeric(p),
                Summary::Categorical(p) => {
                    let total = p.frequent.total().max(1) as f64;
                    let top: Vec<serde_json::Value> = p
                        .frequent
                        .items()
                        .into_iter()
                        .take(10)
                        .map(|i| json!({"category": i.category, "count": i.estimate, "share": i.estimate as f64 / total}))
                        .collect();
                    json!({
                        "kind": "categorical",
                        "rows": p.rows,
                        "nulls": p.nulls,
                        "null_rate": p.null_rate(),
                        "distinct": p.distinct.estimate().round(),
                        "top": top,
                    })
                }
            };
            v["name"] = json!(c.name);
            v["type"] = json!(c.ty);
            v
        })
        .collect();
    let outputs: Vec<serde_json::Value> = profile
        .outputs()
        .iter()
        .map(|o| {
            let mut v = numeric(&o.summary);
            v["name"] = json!(o.name);
            v
        })
        .collect();
    json!({"rows": profile.rows(), "columns": columns, "outputs": outputs})
}
