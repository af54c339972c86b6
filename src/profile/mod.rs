//! Batch profiles and drift: what a batch looked like, in a few kilobytes, and how far it moved
//! from the training data.
//!
//! A [`BatchProfile`] holds, per input column: rows, nulls, and for numeric columns infinities,
//! count/mean/variance/min/max of the finite values ([`Moments`]), a KLL quantile sketch
//! ([`KllSketch`], k = 200) and a HyperLogLog distinct-count sketch ([`DistinctSketch`]); for
//! categorical columns a frequent-items sketch with error bounds ([`FrequentSketch`]) and a
//! distinct-count sketch. It also profiles each model output like a numeric column (a NaN
//! output, i.e. an unscored row, counts as a null).
//!
//! Properties the rest of kiln relies on:
//! - **Mergeable.** `merge` of the profiles of two partitions equals the profile of the whole:
//!   exactly for counts, nulls, min and max, to float rounding for mean and variance, and within
//!   each sketch's stated error for quantiles, distinct counts and frequencies.
//! - **Reproducible.** No randomness except the KLL coin, which is seeded; columns are each read
//!   in row order whatever the thread count. The same data in the same order gives the same
//!   JSON bytes.
//! - **Cheap.** Columns are read through the batch's typed views one block at a time into one
//!   reused buffer, and profiled in parallel (one column per task).
//!
//! Drift against a reference profile is in [`drift`]. This room reads batches and scores; it
//! never changes them and never touches scoring.

pub mod distinct;
pub mod check;
pub mod drift;
pub mod frequent;
pub mod kll;
pub mod moments;
mod stats;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::batch::Batch;
use crate::batch::view::{CategoricalView, NULL_CODE, NumericView, Vocabulary};
use crate::error::{Error, Result};
use crate::exec;
use crate::schema::{ColumnType, Schema};
use crate::scorer::{ScoreOptions, Scorer, Scores};

pub use distinct::DistinctSketch;
pub use check::{BatchFinding, BatchPolicy, CheckOptions, CheckedScores, NullRateRule, score_checked};
pub use drift::{DriftOptions, DriftReport};
pub use frequent::{CategoryCount, FrequentSketch};
pub use kll::KllSketch;
pub use moments::Moments;

/// Format tag of serialized profiles.
pub const PROFILE_FORMAT: &str = "kiln-profile-1";

/// Rows read per block when profiling a batch.
const PROFILE_BLOCK_ROWS: usize = 4096;

/// Profile of one numeric column (or model output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NumericProfile {
    /// Rows seen, nulls included.
    pub rows: u64,
    /// Null (or NaN) values.
    pub nulls: u64,
    pub positive_infinities: u64,
    pub negative_infinities: u64,
    /// Moments of the finite values.
    pub moments: Moments,
    /// Quantiles of the finite values.
    pub quantiles: KllSketch,
    /// Distinct finite values.
    pub distinct: DistinctSketch,
}

impl NumericProfile {
    /// Add values (NaN is a null). Finite values are compacted into `scratch`'s front half of
    /// the work: the caller's slice is left as it was.
    fn update(&mut self, values: &[f64], finite: &mut Vec<f64>) {
        finite.clear();
        self.rows += values.len() as u64;
        // Branch-free compaction (write every value, advance past the finite ones): missing
        // values are rare but scattered, and a mispredicted branch per one costs more.
        finite.resize(values.len(), 0.0);
        let mut kept = 0;
        for &x in values {
            finite[kept] = x;
            kept += usize::from(x.is_finite());
        }
        finite.truncate(kept);
        if kept < values.len() {
            for &x in values.iter().filter(|x| !x.is_finite()) {
                if x.is_nan() {
                    self.nulls += 1;
                } else if x > 0.0 {
                    self.positive_infinities += 1;
                } else {
                    self.negative_infinities += 1;
                }
            }
        }
        self.moments.add_block(finite);
        self.quantiles.update_finite(finite);
        for &x in finite.iter() {
            self.distinct.update_number(x);
        }
    }

    fn merge(&mut self, other: &NumericProfile) {
        self.rows += other.rows;
        self.nulls += other.nulls;
        self.positive_infinities += other.positive_infinities;
        self.negative_infinities += other.negative_infinities;
        self.moments.merge(&other.moments);
        self.quantiles.merge(&other.quantiles);
        self.distinct.merge(&other.distinct);
    }

    /// Share of rows that were null.
    pub fn null_rate(&self) -> f64 {
        if self.rows == 0 { 0.0 } else { self.nulls as f64 / self.rows as f64 }
    }
}

/// Profile of one categorical column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CategoricalProfile {
    pub rows: u64,
    pub nulls: u64,
    pub frequent: FrequentSketch,
    pub distinct: DistinctSketch,
}

impl CategoricalProfile {
    fn add(&mut self, category: &str, count: u64) {
        self.frequent.update(category, count);
        self.distinct.update_str(category);
    }
    fn merge(&mut self, other: &CategoricalProfile) {
        self.rows += other.rows;
        self.nulls += other.nulls;
        self.frequent.merge(&other.frequent);
        self.distinct.merge(&other.distinct);
    }
    pub fn null_rate(&self) -> f64 {
        if self.rows == 0 { 0.0 } else { self.nulls as f64 / self.rows as f64 }
    }
}

/// The summary of one column, by kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Summary {
    Numeric(NumericProfile),
    Categorical(CategoricalProfile),
}

impl Summary {
    pub fn rows(&self) -> u64 {
        match self {
            Summary::Numeric(p) => p.rows,
            Summary::Categorical(p) => p.rows,
        }
    }
    pub fn nulls(&self) -> u64 {
        match self {
            Summary::Numeric(p) => p.nulls,
            Summary::Categorical(p) => p.nulls,
        }
    }
}

/// One input column's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    pub summary: Summary,
}

/// One model output's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputProfile {
    pub name: String,
    pub summary: NumericProfile,
}

/// The profile of one or more batches (see the module doc).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchProfile {
    format: String,
    columns: Vec<ColumnProfile>,
    outputs: Vec<OutputProfile>,
}

impl BatchProfile {
    /// An empty profile for `schema`'s columns and `n_outputs` outputs named `output_0`, ...
    pub fn new(schema: &Schema, n_outputs: usize) -> Self {
        Self::with_output_names(schema, (0..n_outputs).map(|j| format!("output_{j}")))
    }

    /// An empty profile with named outputs.
    pub fn with_output_names<S: Into<String>>(schema: &Schema, outputs: impl IntoIterator<Item = S>) -> Self {
        let columns = schema
            .columns
            .iter()
            .map(|c| ColumnProfile {
                name: c.name.clone(),
                ty: c.ty,
                summary: if c.ty.is_numeric() {
                    Summary::Numeric(NumericProfile::default())
                } else {
                    Summary::Categorical(CategoricalProfile::default())
                },
            })
            .collect();
        let outputs = outputs.into_iter().map(|n| OutputProfile { name: n.into(), summary: NumericProfile::default() }).collect();
        BatchProfile { format: PROFILE_FORMAT.to_string(), columns, outputs }
    }

    pub fn columns(&self) -> &[ColumnProfile] {
        &self.columns
    }
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }
    pub fn outputs(&self) -> &[OutputProfile] {
        &self.outputs
    }
    /// Rows profiled: those of the first column, or of the first output when there are no
    /// columns.
    pub fn rows(&self) -> u64 {
        self.columns.first().map(|c| c.summary.rows()).or_else(|| self.outputs.first().map(|o| o.summary.rows)).unwrap_or(0)
    }

    fn column_mut(&mut self, name: &str) -> Result<&mut ColumnProfile> {
        self.columns
            .iter_mut()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::invalid_argument(format!("the profile has no column '{name}'")))
    }

    /// Add values of a numeric column (NaN is a null).
    pub fn update_numeric(&mut self, column: &str, values: &[f64]) -> Result<()> {
        let col = self.column_mut(column)?;
        match &mut col.summary {
            Summary::Numeric(p) => {
                let mut finite = Vec::with_capacity(values.len().min(PROFILE_BLOCK_ROWS));
                for chunk in values.chunks(PROFILE_BLOCK_ROWS) {
                    p.update(chunk, &mut finite);
                }
                Ok(())
            }
            Summary::Categorical(_) => Err(Error::invalid_argument(format!("column '{column}' is categorical, not numeric"))),
        }
    }

    /// Add values of a categorical column (`None` is a null).
    pub fn update_categorical(&mut self, column: &str, values: &[Option<&str>]) -> Result<()> {
        let col = self.column_mut(column)?;
        let Summary::Categorical(p) = &mut col.summary else {
            return Err(Error::invalid_argument(format!("column '{column}' is numeric, not categorical")));
        };
        let mut counter = StringCounter::default();
        for v in values {
            p.rows += 1;
            match v {
                None => p.nulls += 1,
                Some(s) => counter.add(s, p),
            }
        }
        counter.flush(p);
        Ok(())
    }

    /// Add values of a categorical column given as codes into `categories` (`-1` is a null).
    pub fn update_categorical_codes(&mut self, column: &str, codes: &[i64], categories: &[&str]) -> Result<()> {
        let col = self.column_mut(column)?;
        let Summary::Categorical(p) = &mut col.summary else {
            return Err(Error::invalid_argument(format!("column '{column}' is numeric, not categorical")));
        };
        if let Some(bad) = codes.iter().find(|&&c| c < -1 || c >= categories.len() as i64) {
            return Err(Error::invalid_argument(format!(
                "column '{column}': code {bad} is outside -1..{} (the {} categories given)",
                categories.len(),
                categories.len()
            )));
        }
        let mut counts = vec![0u64; categories.len()];
        for &c in codes {
            if c == NULL_CODE {
                p.nulls += 1;
            } else {
                counts[c as usize] += 1;
            }
        }
        p.rows += codes.len() as u64;
        for (name, &count) in categories.iter().zip(&counts) {
            if count > 0 {
                p.add(name, count);
            }
        }
        Ok(())
    }

    /// Add values of output `j` (NaN marks an unscored row).
    pub fn update_output(&mut self, j: usize, values: &[f64]) -> Result<()> {
        let n = self.outputs.len();
        let out = self.outputs.get_mut(j).ok_or_else(|| Error::invalid_argument(format!("output {j} is out of range (the profile has {n})")))?;
        let mut finite = Vec::with_capacity(values.len().min(PROFILE_BLOCK_ROWS));
        for chunk in values.chunks(PROFILE_BLOCK_ROWS) {
            out.summary.update(chunk, &mut finite);
        }
        Ok(())
    }

    /// Add every output of a scored batch.
    pub fn update_outputs(&mut self, scores: &Scores) -> Result<()> {
        let k = scores.values.len().checked_div(scores.n_rows).unwrap_or(self.outputs.len());
        if k != self.outputs.len() {
            return Err(Error::invalid_argument(format!("the scores have {k} outputs, the profile {}", self.outputs.len())));
        }
        for j in 0..k {
            self.update_output(j, scores.output(j))?;
        }
        Ok(())
    }

    /// Fold another profile of the same columns and outputs into this one.
    pub fn merge(&mut self, other: &BatchProfile) -> Result<()> {
        self.check_same_shape(other)?;
        for (a, b) in self.columns.iter_mut().zip(&other.columns) {
            match (&mut a.summary, &b.summary) {
                (Summary::Numeric(x), Summary::Numeric(y)) => x.merge(y),
                (Summary::Categorical(x), Summary::Categorical(y)) => x.merge(y),
                _ => unreachable!("kinds checked above"),
            }
        }
        for (a, b) in self.outputs.iter_mut().zip(&other.outputs) {
            a.summary.merge(&b.summary);
        }
        Ok(())
    }

    /// Errors unless `other` profiles the same columns (names, types, order) and outputs.
    pub(crate) fn check_same_shape(&self, other: &BatchProfile) -> Result<()> {
        let shape = |p: &BatchProfile| -> Vec<String> {
            p.columns.iter().map(|c| format!("{} ({})", c.name, c.ty)).collect()
        };
        if shape(self) != shape(other) {
            return Err(Error::invalid_argument(format!(
                "profiles of different columns: [{}] vs [{}]",
                shape(self).join(", "),
                shape(other).join(", ")
            )));
        }
        let names = |p: &BatchProfile| p.outputs.iter().map(|o| o.name.clone()).collect::<Vec<_>>();
        if names(self) != names(other) {
            return Err(Error::invalid_argument(format!(
                "profiles of different outputs: [{}] vs [{}]",
                names(self).join(", "),
                names(other).join(", ")
            )));
        }
        let k = |p: &BatchProfile| {
            p.columns
                .iter()
                .filter_map(|c| match &c.summary {
                    Summary::Numeric(n) => Some(n.quantiles.k()),
                    Summary::Categorical(_) => None,
                })
                .chain(p.outputs.iter().map(|o| o.summary.quantiles.k()))
                .collect::<Vec<_>>()
        };
        if k(self) != k(other) {
            return Err(Error::invalid_argument("profiles whose quantile sketches have different k"));
        }
        Ok(())
    }

    /// Canonical JSON: the same profile always gives the same bytes.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a profile serializes: finite numbers and strings only")
    }
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("a profile serializes: finite numbers and strings only")
    }
    /// Read a profile, validating every sketch.
    pub fn from_json(text: &str) -> Result<Self> {
        let p: BatchProfile = serde_json::from_str(text).map_err(|e| Error::invalid_argument(format!("profile JSON: {e}")))?;
        p.validate()
    }
    pub fn from_json_value(value: &serde_json::Value) -> Result<Self> {
        let p = BatchProfile::deserialize(value).map_err(|e| Error::invalid_argument(format!("profile JSON: {e}")))?;
        p.validate()
    }

    fn validate(self) -> Result<Self> {
        if self.format != PROFILE_FORMAT {
            return Err(Error::invalid_argument(format!("profile format '{}' is not '{PROFILE_FORMAT}'", self.format)));
        }
        for c in &self.columns {
            let kind_ok = match &c.summary {
                Summary::Numeric(p) => {
                    check_numeric(&c.name, p)?;
                    c.ty.is_numeric()
                }
                Summary::Categorical(p) => {
                    if p.nulls > p.rows || p.frequent.total() != p.rows - p.nulls {
                        return Err(Error::invalid_argument(format!(
                            "profile column '{}': rows {}, nulls {} and frequent-items total {} disagree",
                            c.name,
                            p.rows,
                            p.nulls,
                            p.frequent.total()
                        )));
                    }
                    !c.ty.is_numeric()
                }
            };
            if !kind_ok {
                return Err(Error::invalid_argument(format!("profile column '{}' of type {} has the wrong kind of summary", c.name, c.ty)));
            }
        }
        for o in &self.outputs {
            check_numeric(&o.name, &o.summary)?;
        }
        Ok(self)
    }
}

fn check_numeric(name: &str, p: &NumericProfile) -> Result<()> {
    let finite = p.moments.count();
    let sum = finite.checked_add(p.nulls).and_then(|s| s.checked_add(p.positive_infinities)).and_then(|s| s.checked_add(p.negative_infinities));
    if sum != Some(p.rows) || p.quantiles.n() != finite {
        return Err(Error::invalid_argument(format!(
            "profile column '{name}': rows {} differ from finite {finite} + nulls {} + infinities {}, or the quantile sketch's n {}",
            p.rows,
            p.nulls,
            p.positive_infinities + p.negative_infinities,
            p.quantiles.n()
        )));
    }
    if p.moments.min() != p.quantiles.min() || p.moments.max() != p.quantiles.max() {
        return Err(Error::invalid_argument(format!("profile column '{name}': min/max of the moments and the quantile sketch differ")));
    }
    Ok(())
}

/// FNV-1a, for counting a block's strings: fixed (so flush order is reproducible) and fast on
/// short keys. Not exposed to outside input in a way that matters: the map is per call and
/// bounded (see [`STRING_COUNTER_LIMIT`]).
#[derive(Default)]
struct Fnv1a(u64);
impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 { 0xcbf2_9ce4_8422_2325 } else { self.0 };
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Distinct strings counted before the counts are handed to the sketches.
const STRING_COUNTER_LIMIT: usize = 1 << 16;

/// Counts strings of a batch before handing them to the sketches once each, in first-seen
/// order: hashing per distinct string instead of per row.
#[derive(Default)]
struct StringCounter<'a> {
    index: HashMap<&'a str, usize, BuildHasherDefault<Fnv1a>>,
    counts: Vec<(&'a str, u64)>,
}

impl<'a> StringCounter<'a> {
    fn add(&mut self, s: &'a str, p: &mut CategoricalProfile) {
        match self.index.get(s) {
            Some(&i) => self.counts[i].1 += 1,
            None => {
                if self.counts.len() >= STRING_COUNTER_LIMIT {
                    self.flush(p);
                }
                self.index.insert(s, self.counts.len());
                self.counts.push((s, 1));
            }
        }
    }
    fn flush(&mut self, p: &mut CategoricalProfile) {
        for &(s, c) in &self.counts {
            p.add(s, c);
        }
        self.counts.clear();
        self.index.clear();
    }
}

/// What a batch is profiled against: a schema (inputs only) or a loaded model (inputs, and the
/// outputs' names for [`score_and_profile`]).
pub trait ProfileTarget {
    fn schema(&self) -> &Schema;
    fn output_names(&self) -> Vec<String>;
}

impl ProfileTarget for Schema {
    fn schema(&self) -> &Schema {
        self
    }
    fn output_names(&self) -> Vec<String> {
        Vec::new()
    }
}

impl ProfileTarget for Scorer {
    fn schema(&self) -> &Schema {
        Scorer::schema(self)
    }
    fn output_names(&self) -> Vec<String> {
        Scorer::output_names(self).into_iter().map(str::to_string).collect()
    }
}

/// Per-call options for profiling.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProfileOptions {
    /// Threads for this call; 0 = all cores. Columns are profiled in parallel; the result does
    /// not depend on the thread count.
    pub n_threads: usize,
}

/// Profile the input columns of a batch (outputs, if the target has any, stay empty: see
/// [`score_and_profile`]). Columns are matched by name; a missing or mistyped column is an
/// error naming it.
pub fn profile_batch<T: ProfileTarget + ?Sized>(target: &T, batch: &Batch) -> Result<BatchProfile> {
    profile_batch_with(target, batch, &ProfileOptions::default())
}

/// [`profile_batch`] with options.
pub fn profile_batch_with<T: ProfileTarget + ?Sized>(target: &T, batch: &Batch, opts: &ProfileOptions) -> Result<BatchProfile> {
    let schema = target.schema();
    let mut profile = BatchProfile::with_output_names(schema, target.output_names());
    // Bind every column first, so a bad batch fails before any work.
    // Codes are dense and first-occurrence: `names[code]` below relies on it.
    let vocabs: Vec<Vocabulary> = schema
        .columns
        .iter()
        .map(|c| {
            let mut v = Vocabulary::new();
            for s in c.categories.iter().flatten() {
                let next = v.len() as i64;
                v.entry(s.clone()).or_insert(next);
            }
            v
        })
        .collect();
    let mut bound = Vec::with_capacity(schema.columns.len());
    for (col, vocab) in schema.columns.iter().zip(&vocabs) {
        let array = batch.column(&col.name).ok_or_else(|| Error::missing_column(&col.name))?;
        bound.push(if col.ty.is_numeric() {
            Bound::Num(NumericView::new(col, array)?)
        } else {
            Bound::Cat(CategoricalView::new(col, array, vocab)?)
        });
    }
    let n = batch.num_rows();
    let work = |(cp, (view, vocab)): (&mut ColumnProfile, (&Bound<'_>, &Vocabulary))| match (&mut cp.summary, view) {
        (Summary::Numeric(p), Bound::Num(v)) => profile_numeric(p, v, n),
        (Summary::Categorical(p), Bound::Cat(v)) => profile_categorical(p, v, vocab, n),
        _ => unreachable!("profiles and views are both built from the schema's kinds"),
    };
    let threads = exec::resolve_threads(opts.n_threads).min(schema.columns.len().max(1));
    if threads > 1 && n > PROFILE_BLOCK_ROWS {
        exec::pool(threads)?.install(|| profile.columns.par_iter_mut().zip(bound.par_iter().zip(vocabs.par_iter())).for_each(work));
    } else {
        profile.columns.iter_mut().zip(bound.iter().zip(vocabs.iter())).for_each(work);
    }
    Ok(profile)
}

/// Score a batch and profile its inputs and outputs.
pub fn score_and_profile(scorer: &Scorer, batch: &Batch, opts: &ScoreOptions) -> Result<(Scores, BatchProfile)> {
    let scores = scorer.score(batch, opts)?;
    let mut profile = profile_batch_with(scorer, batch, &ProfileOptions { n_threads: opts.n_threads })?;
    profile.update_outputs(&scores)?;
    Ok((scores, profile))
}

enum Bound<'a> {
    Num(NumericView<'a>),
    Cat(CategoricalView<'a>),
}

fn profile_numeric(p: &mut NumericProfile, view: &NumericView<'_>, n: usize) {
    let mut block = vec![0.0; PROFILE_BLOCK_ROWS.min(n)];
    let mut finite = Vec::with_capacity(block.len());
    for start in (0..n).step_by(PROFILE_BLOCK_ROWS) {
        let len = PROFILE_BLOCK_ROWS.min(n - start);
        view.fill(start, &mut block[..len]);
        p.update(&block[..len], &mut finite);
    }
}

fn profile_categorical(p: &mut CategoricalProfile, view: &CategoricalView<'_>, vocab: &Vocabulary, n: usize) {
    let mut block = vec![0i64; PROFILE_BLOCK_ROWS.min(n)];
    let mut known = vec![0u64; vocab.len()];
    let mut unknown = StringCounter::default();
    let vocab_len = vocab.len() as i64;
    for start in (0..n).step_by(PROFILE_BLOCK_ROWS) {
        let len = PROFILE_BLOCK_ROWS.min(n - start);
        view.fill(start, &mut block[..len], vocab);
        for &code in &block[..len] {
            if code == NULL_CODE {
                p.nulls += 1;
            } else if code < vocab_len {
                known[code as usize] += 1;
            } else {
                unknown.add(view.unknown(code), p);
            }
        }
    }
    p.rows += n as u64;
    let mut names = vec![""; vocab.len()];
    for (s, &code) in vocab {
        names[code as usize] = s.as_str();
    }
    for (name, &count) in names.iter().zip(&known) {
        if count > 0 {
            p.add(name, count);
        }
    }
    unknown.flush(p);
}
