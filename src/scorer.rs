//! The public face of the engine: a loaded [`Scorer`] (immutable, `Send + Sync`, shared by any
//! number of threads) scores a [`Batch`] into caller-owned buffers.
//!
//! Flow per call: bind batch columns to the schema by name (type-checked) → for each block of
//! rows: read and verify inputs → run the fitted steps → score → write outputs and statuses.

use std::borrow::Cow;
use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::artifact::packed::PackedTrees;
use crate::artifact::{Artifact, Content, ModelSpec, TreeSpec};
use crate::batch::view::{CategoricalView, NumericView};
use crate::batch::Batch;
use crate::error::{Error, Result};
use crate::exec;
use crate::model::{self, linear::{FusedFeature, GROUP}};
use crate::plan::{BLOCK_ROWS, Input, Plan};
use crate::profile::BatchProfile;
use crate::schema::{Policy, Schema};
use crate::transform::{self, Block};
use crate::verify::{FineRange, Finding, RowStatus};

/// Ensembles of at least this many nodes (50 trees of depth 10) are packed on a second thread
/// while their walk is laid out; below it the thread costs more than it saves.
const PACK_THREAD_FROM_NODES: usize = 50_000;

thread_local! {
    /// One-row scratch for [`Scorer::score_row`] (numeric models only: no categorical views).
    static ROW_BLOCK: std::cell::RefCell<Option<Block<'static>>> = const { std::cell::RefCell::new(None) };
}

/// What became of one row scored by [`Scorer::score_row`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowOutcome {
    /// A `RowStatus` code: 0 scored, otherwise the outputs are NaN.
    pub status: i32,
    /// Reason id (see [`Scorer::reason_source`]), -1 for none.
    pub reason: i32,
}

/// Per-call options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoreOptions {
    /// Threads for this call; 0 = all cores. Small batches never fan out.
    pub n_threads: usize,
}

/// Counts of one reason in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    pub status: &'static str,
    pub code: i32,
    /// The schema column or pipeline step responsible.
    pub source: String,
    pub rows: u64,
}

/// What happened to a batch: every input row is either scored or counted under a reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScoreReport {
    pub rows: u64,
    pub scored: u64,
    pub flagged: u64,
    pub reasons: Vec<ReasonCount>,
    /// Values replaced by a column's fitted default (policy `default`), per column.
    pub defaults_applied: BTreeMap<String, u64>,
}

impl ScoreReport {
    /// Merge the report of another batch into this one.
    pub fn merge(&mut self, other: &ScoreReport) {
        self.rows += other.rows;
        self.scored += other.scored;
        self.flagged += other.flagged;
        for r in &other.reasons {
            match self.reasons.iter_mut().find(|x| x.code == r.code && x.source == r.source) {
                Some(x) => x.rows += r.rows,
                None => self.reasons.push(r.clone()),
            }
        }
        self.reasons.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.code.cmp(&b.code)).then(a.source.cmp(&b.source)));
        for (k, v) in &other.defaults_applied {
            *self.defaults_applied.entry(k.clone()).or_default() += v;
        }
    }
}

/// Owned results of [`Scorer::score`].
#[derive(Debug, Clone)]
pub struct Scores {
    pub n_rows: usize,
    /// Column-major: output `j` of row `i` at `values[j * n_rows + i]`. NaN for flagged rows.
    pub values: Vec<f64>,
    /// Per row: 0 = scored, otherwise a [`RowStatus`] code.
    pub status: Vec<i32>,
    /// Per row: reason id (see [`Scorer::reason_source`]) or -1.
    pub reason: Vec<i32>,
    pub report: ScoreReport,
}

impl Scores {
    /// Output column `j`.
    pub fn output(&self, j: usize) -> &[f64] {
        &self.values[j * self.n_rows..(j + 1) * self.n_rows]
    }
}

/// A loaded model: artifact plus prepared plan. Immutable; share it freely across threads.
#[derive(Debug)]
pub struct Scorer {
    /// The artifact, less a tree ensemble's trees: those are in `trees`.
    artifact: Artifact,
    /// A tree ensemble's trees, packed (see `artifact/packed.rs`): scoring reads the prepared
    /// plan, so the trees as written are needed only to write the model out again.
    trees: Option<Packed>,
    plan: Plan,
    /// The artifact's reference profile (of the training data), read and checked once.
    reference: Option<BatchProfile>,
}

/// The size of a tree ensemble (see [`Scorer::tree_shape`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeShape {
    pub n_trees: usize,
    /// Splits on the longest root-to-leaf path of any tree.
    pub depth: usize,
}

/// What [`Scorer::prepare`] makes of an artifact's content.
struct Parts {
    plan: Plan,
    reference: Option<BatchProfile>,
    trees: Option<Packed>,
}

/// What [`Scorer::plan`] makes.
struct Planned {
    plan: Plan,
    reference: Option<BatchProfile>,
    shape: Option<TreeShape>,
}

impl Parts {
    fn new(planned: Planned, packed: Option<PackedTrees>) -> Self {
        let Planned { plan, reference, shape } = planned;
        Parts { plan, reference, trees: shape.zip(packed).map(|(shape, trees)| Packed { trees, shape }) }
    }
}

#[derive(Debug)]
struct Packed {
    trees: PackedTrees,
    shape: TreeShape,
}

enum Bound<'a> {
    Num(NumericView<'a>),
    Cat(CategoricalView<'a>),
}

/// One block's share of the caller's output buffers.
struct Job<'o> {
    start: usize,
    outs: Vec<&'o mut [f64]>,
    status: &'o mut [i32],
    reason: Option<&'o mut [i32]>,
}

/// What one scoring call reads: the batch's columns bound to the schema, and those a fused
/// linear plan reads in place.
struct Call<'a> {
    bound: &'a [Bound<'a>],
    in_place: &'a InPlace<'a>,
}

/// A fused linear plan's float64 input columns without nulls, whole (see [`Scorer::in_place`]).
struct InPlace<'a> {
    /// Per input column.
    columns: Vec<Option<&'a [f64]>>,
    /// Whether every feature's column is among them: then a block whose feature columns need
    /// no rule is scored straight from the batch, one column at a time.
    features: bool,
}

/// Per-worker state: scratch block and counters, folded across workers at the end.
struct Acc<'a> {
    block: Block<'a>,
    out: Vec<f64>,
    counts: BTreeMap<(i32, i32), u64>,
    defaults: Vec<u64>,
    /// Rows of the current column a rule may apply to (see `NumericCheck::attention`).
    attention: Vec<usize>,
    /// Per input column, the block's values read in place from the batch (a fused linear
    /// plan's float64 columns without nulls, when no rule applies in the block), else `None`:
    /// the values are in the column's scratch slot.
    direct: Vec<Option<&'a [f64]>>,
}

impl Scorer {
    /// Prepare an artifact for scoring (validates nothing twice: the artifact is validated).
    pub fn new(artifact: Artifact) -> Result<Self> {
        let parts = Self::prepare(&artifact.content)?;
        Ok(Self::keep(artifact, parts))
    }

    /// Everything a scorer holds that is made from the content: the plan, the reference
    /// profile, and a tree ensemble's trees packed. A large ensemble is packed on a thread of
    /// its own while the walk is laid out: each is about a third of the preparation.
    fn prepare(content: &Content) -> Result<Parts> {
        let large = matches!(&content.model, ModelSpec::TreeEnsemble(model) if model.trees.iter().map(|t| t.feature.len()).sum::<usize>() >= PACK_THREAD_FROM_NODES);
        let (planned, packed) = if large {
            std::thread::scope(|scope| {
                let packing = scope.spawn(|| Self::pack(content));
                let planned = Self::plan(content);
                (planned, packing.join().map_err(|_| Error::internal("the thread packing the trees panicked")))
            })
        } else {
            (Self::plan(content), Ok(Self::pack(content)))
        };
        Ok(Parts::new(planned?, packed?))
    }

    /// What is made from the validated content: the plan, the reference profile, and a tree
    /// ensemble's shape (its depth is found by walking the trees, which validation keeps
    /// finite).
    fn plan(content: &Content) -> Result<Planned> {
        let shape = match &content.model {
            ModelSpec::TreeEnsemble(model) => Some(TreeShape { n_trees: model.trees.len(), depth: model.trees.iter().map(TreeSpec::depth).max().unwrap_or(0) }),
            ModelSpec::Linear(_) => None,
        };
        Ok(Planned { plan: Plan::new(content)?, reference: crate::profile::check::read_reference(content)?, shape })
    }

    /// A tree ensemble's trees packed; `None` for a linear model. Any content packs, valid or
    /// not: packing reads each array as it lies and never follows a child.
    fn pack(content: &Content) -> Option<PackedTrees> {
        match &content.model {
            ModelSpec::TreeEnsemble(model) => Some(PackedTrees::pack(&model.trees)),
            ModelSpec::Linear(_) => None,
        }
    }

    /// The scorer of a prepared artifact, whose trees it keeps only packed.
    fn keep(mut artifact: Artifact, parts: Parts) -> Self {
        if let ModelSpec::TreeEnsemble(model) = &mut artifact.content.model {
            model.trees = Vec::new();
        }
        let Parts { plan, reference, trees } = parts;
        Scorer { artifact, trees, plan, reference }
    }

    /// Load an artifact file; `expect_fingerprint` pins the content.
    pub fn load(path: impl AsRef<std::path::Path>, expect_fingerprint: Option<&str>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = crate::artifact::read_file(path)?;
        Self::from_bytes(&bytes, expect_fingerprint).map_err(|e| e.context(format!("artifact {}", path.display())))
    }

    /// Load an artifact from bytes; `expect_fingerprint` pins the content. The model is planned
    /// while its fingerprint is checked, and its trees packed once that is done (see
    /// [`Artifact::from_bytes_then`]). The two threads then share the work about evenly, where
    /// packing on a third thread beside the layout left the hashing thread idle once it was
    /// done. The peers' forest (100 trees of depth 12, 9.7 MB), C driver, Zen 3 host, five
    /// interleaved rounds, median of 15 loads: 40.1-46.3 -> 30.5-37.8 ms; LightGBM 500x255
    /// 34.8-43.3 -> 29.7-32.0 ms; XGBoost 500x8 23.8-25.3 -> 20.0-24.2 ms.
    pub fn from_bytes(bytes: &[u8], expect_fingerprint: Option<&str>) -> Result<Self> {
        let (artifact, planned, packed) = Artifact::from_bytes_then(bytes, expect_fingerprint, Self::plan, Self::pack)?;
        Ok(Self::keep(artifact, Parts::new(planned, packed)))
    }

    /// The artifact this model was loaded from, whole. A tree ensemble's trees are unpacked for
    /// the call (about as long as preparing them took): for the schema alone, use
    /// [`Scorer::schema`].
    pub fn artifact(&self) -> Result<Cow<'_, Artifact>> {
        let Some(packed) = &self.trees else { return Ok(Cow::Borrowed(&self.artifact)) };
        let mut artifact = self.artifact.clone();
        if let ModelSpec::TreeEnsemble(model) = &mut artifact.content.model {
            model.trees = packed.trees.unpack()?;
        }
        Ok(Cow::Owned(artifact))
    }
    /// The artifact less a tree ensemble's trees (its `trees` are empty): every other field
    /// as loaded, without unpacking.
    pub(crate) fn artifact_without_trees(&self) -> &Artifact {
        &self.artifact
    }
    /// The input schema.
    pub fn schema(&self) -> &Schema {
        &self.artifact.content.schema
    }
    /// The number of trees and the deepest tree's depth, for a tree ensemble.
    pub fn tree_shape(&self) -> Option<TreeShape> {
        self.trees.as_ref().map(|p| p.shape)
    }
    /// The training data's profile recorded in the artifact, if one was (see
    /// [`Scorer::with_reference_profile`]).
    pub fn reference_profile(&self) -> Option<&BatchProfile> {
        self.reference.as_ref()
    }
    pub fn fingerprint(&self) -> &str {
        &self.artifact.fingerprint
    }
    pub fn n_outputs(&self) -> usize {
        self.plan.n_outputs()
    }
    pub fn output_names(&self) -> Vec<&str> {
        self.artifact.content.outputs.iter().map(|o| o.name.as_str()).collect()
    }
    /// The schema column or pipeline step a reason id refers to.
    pub fn reason_source(&self, id: i32) -> Option<&str> {
        usize::try_from(id).ok().and_then(|i| self.plan.reasons.get(i)).map(String::as_str)
    }

    /// Score a batch into new buffers.
    pub fn score(&self, batch: &Batch, opts: &ScoreOptions) -> Result<Scores> {
        let n = batch.num_rows();
        let mut values = vec![0.0; n * self.n_outputs()];
        let mut status = vec![0; n];
        let mut reason = vec![-1; n];
        let report = self.score_into(batch, opts, &mut values, &mut status, Some(&mut reason))?;
        Ok(Scores { n_rows: n, values, status, reason, report })
    }

    /// Score a batch into caller-owned buffers: `scores` (column-major, `n_rows * n_outputs`),
    /// `status` (`n_rows`), optionally `reason` (`n_rows`). On error nothing is written.
    pub fn score_into(
        &self,
        batch: &Batch,
        opts: &ScoreOptions,
        scores: &mut [f64],
        status: &mut [i32],
        reason: Option<&mut [i32]>,
    ) -> Result<ScoreReport> {
        self.score_into_strided(batch, opts, scores, batch.num_rows(), status, reason)
    }

    /// Like [`Scorer::score_into`], with output column `j` of this batch written at
    /// `scores[j * col_stride ..][..n_rows]`: several batches (the chunks of a stream) can fill
    /// one column-major result, each starting at its row offset.
    pub fn score_into_strided(
        &self,
        batch: &Batch,
        opts: &ScoreOptions,
        scores: &mut [f64],
        col_stride: usize,
        status: &mut [i32],
        reason: Option<&mut [i32]>,
    ) -> Result<ScoreReport> {
        let n = batch.num_rows();
        let k = self.n_outputs();
        if col_stride < n {
            return Err(Error::invalid_argument(format!("column stride {col_stride} is smaller than the batch's {n} rows")));
        }
        let need = if k == 0 || n == 0 { 0 } else { (k - 1) * col_stride + n };
        if scores.len() < need {
            return Err(Error::buffer_too_small("scores buffer", scores.len(), need));
        }
        if status.len() < n {
            return Err(Error::buffer_too_small("status buffer", status.len(), n));
        }
        if let Some(r) = &reason {
            if r.len() < n {
                return Err(Error::buffer_too_small("reason buffer", r.len(), n));
            }
        }
        let bound = self.bind(batch)?;
        self.reject_pass(&bound, n)?;
        let in_place = self.in_place(&bound);
        let call = Call { bound: &bound, in_place: &in_place };

        // Split the outputs into per-block jobs (safe disjoint borrows of every output column).
        let block_size = self.plan.block_rows();
        let mut col_chunks: Vec<std::slice::ChunksMut<'_, f64>> =
            scores[..need].chunks_mut(col_stride.max(1)).take(k).map(|c| c[..n].chunks_mut(block_size)).collect();
        let mut status_chunks = status[..n].chunks_mut(block_size);
        let mut reason_chunks = reason.map(|r| r[..n].chunks_mut(block_size));
        let n_blocks = n.div_ceil(block_size);
        let mut jobs = Vec::with_capacity(n_blocks);
        for b in 0..n_blocks {
            jobs.push(Job {
                start: b * block_size,
                outs: col_chunks.iter_mut().map(|c| c.next().expect("one chunk per block")).collect(),
                status: status_chunks.next().expect("one chunk per block"),
                reason: reason_chunks.as_mut().map(|r| r.next().expect("one chunk per block")),
            });
        }

        let threads = exec::resolve_threads(opts.n_threads);
        // A small call gets a block of its own size: a full scratch block is tens of KB to
        // allocate and zero for a single row.
        let block_rows = n.clamp(1, block_size);
        let (n_num, n_cat) = self.plan.scratch_slots();
        let new_acc = || Acc {
            block: Block::new(block_rows, n_num, n_cat),
            out: vec![0.0; k * block_rows],
            counts: BTreeMap::new(),
            defaults: vec![0; self.plan.inputs.len()],
            attention: Vec::with_capacity(block_rows),
            direct: Vec::new(),
        };
        let merge = |mut a: (BTreeMap<(i32, i32), u64>, Vec<u64>), b: (BTreeMap<(i32, i32), u64>, Vec<u64>)| {
            for (key, v) in b.0 {
                *a.0.entry(key).or_default() += v;
            }
            for (x, y) in a.1.iter_mut().zip(b.1) {
                *x += y;
            }
            a
        };
        let (counts, defaults) = if exec::should_fan_out(n, threads, block_size) {
            let pool = exec::pool(threads)?;
            pool.install(|| {
                jobs.into_par_iter()
                    .fold(new_acc, |mut acc, job| {
                        self.run_block(&call, &mut acc, job);
                        acc
                    })
                    .map(|acc| (acc.counts, acc.defaults))
                    .reduce(|| (BTreeMap::new(), vec![0; self.plan.inputs.len()]), merge)
            })
        } else {
            let mut acc = new_acc();
            for job in jobs {
                self.run_block(&call, &mut acc, job);
            }
            (acc.counts, acc.defaults)
        };
        Ok(self.report(n, counts, defaults))
    }

    /// Score one row given as numbers in schema order, on the caller's thread, without a batch:
    /// the path for services answering one request at a time. `values[j]` is schema column
    /// `j`'s value as kiln reads that column (integers and booleans as numbers, dates as days
    /// since 1970-01-01, timestamps as fractional days), NaN for null. The row meets the same
    /// rules and gets the same scores as in a one-row batch: a flagged row's outputs are NaN and
    /// its status and reason come back; a row breaking a rule whose policy is `reject` is an
    /// error, as the batch would be. Models with categorical (string) inputs need a batch.
    /// Scratch lives in a per-thread cache: no allocation per call once a thread has scored a
    /// row of a model of this shape.
    pub fn score_row(&self, values: &[f64], out: &mut [f64]) -> Result<RowOutcome> {
        let schema = self.schema();
        let k = self.n_outputs();
        if let Some(col) = schema.columns.iter().find(|c| !c.ty.is_numeric()) {
            return Err(Error::invalid_argument(format!(
                "column '{}' is {}: one-row scoring takes numbers only; score a batch for models with string inputs",
                col.name, col.ty
            )));
        }
        if values.len() != schema.columns.len() {
            return Err(Error::invalid_argument(format!(
                "one row of {} values given; the model's schema has {} columns",
                values.len(),
                schema.columns.len()
            )));
        }
        if out.len() < k {
            return Err(Error::buffer_too_small("scores buffer", out.len(), k));
        }
        for ((col, input), &x) in schema.columns.iter().zip(&self.plan.inputs).zip(values) {
            if let Input::Numeric { check, .. } = input {
                if let Finding::Reject(_) = check.check(&mut x.clone()) {
                    return Err(Error::batch_rejected(format!("column '{}' row 0: value {x} breaks a rule whose policy is reject", col.name)));
                }
            }
        }
        ROW_BLOCK.with(|cell| {
            let mut cached = cell.borrow_mut();
            let block = match &mut *cached {
                Some(b) if b.fits(1, self.plan.n_num, self.plan.n_cat) => b,
                other => other.insert(Block::new(1, self.plan.n_num, self.plan.n_cat)),
            };
            block.reset(0, 1);
            for (col_idx, (input, &x)) in self.plan.inputs.iter().zip(values).enumerate() {
                if let Input::Numeric { slot, check } = input {
                    let (xs, mut flags) = block.num_into_flagged(*slot, *slot);
                    xs[0] = x;
                    if !check.trivial {
                        if let Finding::Flag(s) | Finding::Reject(s) = check.check(&mut xs[0]) {
                            flags.flag(0, s, col_idx as i32);
                        }
                    }
                }
            }
            transform::apply_all(&self.plan.steps, block);
            self.plan.model.score_block(block, &mut out[..k]);
            if block.status[0] == 0 && out[..k].iter().any(|v| !v.is_finite()) {
                block.status[0] = RowStatus::NoScore as i32;
                block.reason[0] = -1;
            }
            if block.status[0] != 0 {
                out[..k].fill(f64::NAN);
            }
            Ok(RowOutcome { status: block.status[0], reason: block.reason[0] })
        })
    }

    /// Check that a batch would be accepted (every schema column present with an accepted
    /// type, no rule with a `reject` policy broken) without scoring it. Lets a caller that
    /// scores several batches into one result fail before writing any of it.
    pub fn check(&self, batch: &Batch) -> Result<()> {
        let bound = self.bind(batch)?;
        self.reject_pass(&bound, batch.num_rows())
    }

    fn report(&self, n: usize, counts: BTreeMap<(i32, i32), u64>, defaults: Vec<u64>) -> ScoreReport {
        let flagged: u64 = counts.values().sum();
        let mut reasons: Vec<ReasonCount> = counts
            .into_iter()
            .map(|((code, src), rows)| ReasonCount {
                status: RowStatus::from_code(code).map_or("unknown", RowStatus::name),
                code,
                source: self.reason_source(src).unwrap_or("model").to_string(),
                rows,
            })
            .collect();
        reasons.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.code.cmp(&b.code)).then(a.source.cmp(&b.source)));
        let defaults_applied = defaults
            .into_iter()
            .enumerate()
            .filter(|(_, v)| *v > 0)
            .map(|(i, v)| (self.plan.reasons[i].clone(), v))
            .collect();
        ScoreReport { rows: n as u64, scored: n as u64 - flagged, flagged, reasons, defaults_applied }
    }

    /// The columns a fused linear plan can read in place: float64 with no null slot (their
    /// values are what the scratch would hold). None for any other plan.
    fn in_place<'b>(&self, bound: &[Bound<'b>]) -> InPlace<'b> {
        let Some(fused) = &self.plan.fused else { return InPlace { columns: Vec::new(), features: false } };
        let columns: Vec<Option<&'b [f64]>> = bound
            .iter()
            .map(|b| match b {
                Bound::Num(v) => v.as_f64(),
                Bound::Cat(_) => None,
            })
            .collect();
        let features = fused.features.iter().all(|f| columns[f.input].is_some());
        InPlace { columns, features }
    }

    /// Match batch columns to schema columns by name and type.
    fn bind<'b>(&self, batch: &'b Batch) -> Result<Vec<Bound<'b>>> {
        let schema = self.schema();
        schema
            .columns
            .iter()
            .zip(&self.plan.inputs)
            .enumerate()
            .map(|(i, (col, input))| {
                // Hosts usually pass the columns in schema order: try that position first.
                let array = match batch.columns().nth(i) {
                    Some((name, array)) if name == col.name => array,
                    _ => batch.column(&col.name).ok_or_else(|| Error::missing_column(&col.name))?,
                };
                Ok(match input {
                    Input::Numeric { .. } => Bound::Num(NumericView::new(col, array)?),
                    Input::Categorical { vocab, .. } => Bound::Cat(CategoricalView::new(col, array, &self.plan.vocabs[*vocab])?),
                })
            })
            .collect()
    }

    /// Columns with a `reject` policy are checked over the whole batch before any output is
    /// written, so a rejected batch leaves the caller's buffers untouched.
    fn reject_pass(&self, bound: &[Bound<'_>], n: usize) -> Result<()> {
        let schema = self.schema();
        for ((col, input), view) in schema.columns.iter().zip(&self.plan.inputs).zip(bound) {
            let p = &col.policy;
            let rejects = col.null_policy() == Policy::Reject
                || p.unknown_category == Policy::Reject
                || p.out_of_range == Policy::Reject
                || p.non_finite == Policy::Reject;
            if !rejects {
                continue;
            }
            let mut buf_f = vec![0.0; BLOCK_ROWS];
            let mut buf_c = vec![0i64; BLOCK_ROWS];
            for start in (0..n).step_by(BLOCK_ROWS) {
                let len = BLOCK_ROWS.min(n - start);
                let found = match (input, view) {
                    (Input::Numeric { check, .. }, Bound::Num(v)) => {
                        v.fill(start, &mut buf_f[..len]);
                        buf_f[..len].iter_mut().map(|x| check.check(x)).position(|f| matches!(f, Finding::Reject(_))).map(|i| (i, buf_f[i].to_string()))
                    }
                    (Input::Categorical { check, vocab, .. }, Bound::Cat(v)) => {
                        v.fill(start, &mut buf_c[..len], &self.plan.vocabs[*vocab]);
                        buf_c[..len].iter_mut().map(|c| check.check(c)).position(|f| matches!(f, Finding::Reject(_))).map(|i| {
                            let c = buf_c[i];
                            let vocab = &self.plan.vocabs[*vocab];
                            // A code below the vocabulary size is a string the pipeline knows
                            // but the schema does not (an encoder's extra category): it lives in
                            // the vocabulary, not among the batch's unknown strings.
                            let known = vocab.iter().find(|&(_, &code)| code == c).map(|(s, _)| s.as_str());
                            (i, if c < 0 { "null".to_string() } else { format!("'{}'", known.unwrap_or_else(|| v.unknown(c))) })
                        })
                    }
                    _ => unreachable!("bound by input kind"),
                };
                if let Some((i, value)) = found {
                    return Err(Error::batch_rejected(format!(
                        "column '{}' row {}: value {value} breaks a rule whose policy is reject",
                        col.name,
                        start + i
                    )));
                }
            }
        }
        Ok(())
    }

    fn run_block<'a>(&'a self, call: &Call<'a>, acc: &mut Acc<'a>, job: Job<'_>) {
        let len = job.status.len();
        let k = self.n_outputs();
        acc.block.reset(job.start, len);
        acc.direct.clear();
        acc.direct.resize(self.plan.inputs.len(), None);
        // A fused linear plan first tries the block straight from the batch: each group of
        // features' columns is checked and added to the predictor in one pass where their rules
        // are intervals (else a column is checked first, while its values are in cache). A
        // column a rule applies to sends the block the general way (below), which starts the
        // sum over and keeps reading in place the columns found clean before it.
        let fused_clean = match (&self.plan.fused, &self.plan.model) {
            (Some(fused), model::Prepared::Linear(linear)) if call.in_place.features => {
                let out = &mut acc.out[..k * len];
                linear.fused_start(len, out);
                let check = |f: &FusedFeature| match &self.plan.inputs[f.input] {
                    Input::Numeric { check, .. } => check,
                    Input::Categorical { .. } => unreachable!("fused features are numeric"),
                };
                let column = |f: &FusedFeature| &call.in_place.columns[f.input].expect("every feature column in place")[job.start..job.start + len];
                let range = |f: &FusedFeature| {
                    let check = check(f);
                    if check.trivial { Some(FineRange::any()) } else { check.fine_range() }
                };
                let mut j = 0;
                loop {
                    let Some(first) = fused.features.get(j) else { break true };
                    let group = fused.group(j, range);
                    let mut xs: [&[f64]; GROUP] = [&[]; GROUP];
                    let mut ranges = [FineRange::any(); GROUP];
                    for ((x, r), f) in xs.iter_mut().zip(&mut ranges).zip(group) {
                        *x = column(f);
                        // No range: the column's own check, before the add (a group of one).
                        *r = range(f).unwrap_or(FineRange::any());
                    }
                    let g = group.len();
                    let clean = (range(first).is_some() || check(first).attention(xs[0], &mut acc.attention).is_empty())
                        && linear.fused_add(j, group, &xs[..g], &ranges[..g], out);
                    if !clean {
                        break false;
                    }
                    for (f, x) in group.iter().zip(xs) {
                        acc.direct[f.input] = Some(x);
                    }
                    j += g;
                }
            }
            _ => false,
        };
        let block = &mut acc.block;
        for (col_idx, (input, view)) in self.plan.inputs.iter().zip(call.bound).enumerate() {
            let reason = col_idx as i32;
            if acc.direct[col_idx].is_some() {
                // Read in place above, and no rule applies to it in this block.
                continue;
            }
            match (input, view) {
                (Input::Numeric { slot, check }, Bound::Num(v)) => {
                    if let Some(column) = call.in_place.columns.get(col_idx).copied().flatten() {
                        // Read in place unless a rule applies to one of the block's values
                        // (a check may rewrite the value).
                        let xs = &column[job.start..job.start + len];
                        if check.trivial || check.attention(xs, &mut acc.attention).is_empty() {
                            acc.direct[col_idx] = Some(xs);
                            continue;
                        }
                    }
                    v.fill(job.start, block.num_mut(*slot));
                    if !check.trivial {
                        let (xs, mut flags) = block.num_into_flagged(*slot, *slot);
                        for &i in check.attention(xs, &mut acc.attention) {
                            match check.check(&mut xs[i]) {
                                Finding::Fine => {}
                                Finding::Defaulted => acc.defaults[col_idx] += 1,
                                Finding::Flag(s) | Finding::Reject(s) => flags.flag(i, s, reason),
                            }
                        }
                    }
                }
                (Input::Categorical { slot, vocab, check }, Bound::Cat(v)) => {
                    v.fill(job.start, block.cat_mut(*slot), &self.plan.vocabs[*vocab]);
                    block.cat_source[*slot] = Some(v);
                    if !check.trivial {
                        for i in 0..len {
                            let c = &mut block.cat_mut(*slot)[i];
                            match check.check(c) {
                                Finding::Fine => {}
                                Finding::Defaulted => acc.defaults[col_idx] += 1,
                                Finding::Flag(s) | Finding::Reject(s) => block.flag(i, s, reason),
                            }
                        }
                    }
                }
                _ => unreachable!("bound by input kind"),
            }
        }
        // Derived categorical slots (imputed copies) resolve unknown strings through their root.
        for (slot, &vocab) in self.plan.cat_vocab.iter().enumerate() {
            if block.cat_source[slot].is_none() {
                block.cat_source[slot] = self.plan.inputs.iter().zip(call.bound).find_map(|(inp, b)| match (inp, b) {
                    (Input::Categorical { vocab: v, .. }, Bound::Cat(view)) if *v == vocab => Some(view),
                    _ => None,
                });
            }
        }
        let out = &mut acc.out[..k * len];
        match (&self.plan.fused, &self.plan.model) {
            (Some(_), model::Prepared::Linear(linear)) if fused_clean => linear.fused_finish(len, out),
            (Some(fused), model::Prepared::Linear(linear)) => {
                let (direct, block) = (&acc.direct, &*block);
                linear.score_fused(fused, len, |f| direct[f.input].unwrap_or_else(|| block.num(f.slot)), out);
            }
            _ => {
                transform::apply_all(&self.plan.steps, block);
                self.plan.model.score_block(block, out);
            }
        }
        // A row whose scores are not all finite gets no score. Written as zips with selects:
        // no bounds check and no branch per row.
        let (status, reason) = (&mut block.status[..len], &mut block.reason[..len]);
        for src in out.chunks_exact(len) {
            for ((s, r), v) in status.iter_mut().zip(reason.iter_mut()).zip(src) {
                let none = *s == 0 && !v.is_finite();
                *s = if none { RowStatus::NoScore as i32 } else { *s };
                *r = if none { -1 } else { *r };
            }
        }
        for (src, dst) in out.chunks_exact(len).zip(job.outs) {
            for ((d, &v), &s) in dst.iter_mut().zip(src).zip(&*status) {
                *d = if s == 0 { v } else { f64::NAN };
            }
        }
        job.status.copy_from_slice(&block.status[..len]);
        if let Some(r) = job.reason {
            r.copy_from_slice(&block.reason[..len]);
        }
        for i in 0..len {
            if block.status[i] != 0 {
                *acc.counts.entry((block.status[i], block.reason[i])).or_default() += 1;
            }
        }
    }
}
