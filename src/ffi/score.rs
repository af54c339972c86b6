//! Scoring into caller-allocated buffers, and `KilnReport`, the per-batch summary.

use std::ffi::{CString, c_char};

use super::batch::KilnBatch;
use super::boundary::*;
use super::model::KilnModel;
use crate::error::{Error, KilnStatus, Result};
use crate::profile::check::{BatchFinding, BatchPolicy, NullRateRule, enforce, no_reference, null_rate_findings};
use crate::profile::{BatchProfile, DriftOptions, DriftReport, ProfileOptions, profile_batch_with};
use crate::{ScoreOptions, ScoreReport};

/// `kiln_model_score_ex` flag: put the batch's profile (inputs and outputs) in the report.
pub const KILN_SCORE_PROFILE: u32 = 1;
/// `kiln_model_score_ex` flag: put the drift report against the model's reference profile in
/// the report (`KILN_STATUS_INVALID_ARGUMENT` if the model has none).
pub const KILN_SCORE_DRIFT: u32 = 2;
/// `kiln_model_score_ex` flag: refuse the batch (`KILN_STATUS_BATCH_REJECTED`) when a column's
/// null rate breaks the null-rate rule against the reference profile, instead of reporting it.
pub const KILN_SCORE_REJECT_NULL_RATE: u32 = 4;
const KNOWN_FLAGS: u32 = KILN_SCORE_PROFILE | KILN_SCORE_DRIFT | KILN_SCORE_REJECT_NULL_RATE;

/// What happened to a scored batch (opaque): rows scored, flagged, and why. Used by one thread
/// at a time. Made by `kiln_model_score` or `kiln_model_score_ex`, freed by `kiln_report_free`.
pub struct KilnReport {
    json: CString,
}

impl Handle for KilnReport {
    type Ownership = OwnershipBox;
    const NAME: &'static str = "report";
}


fn score_impl(
    model: &KilnModel,
    batch: &KilnBatch,
    n_threads: u32,
    scores: &mut [f64],
    status: &mut [i32],
    mut reason: Option<&mut [i32]>,
) -> Result<ScoreReport> {
    let scorer = &model.scorer;
    let n = batch.n_rows;
    let opts = ScoreOptions { n_threads: n_threads as usize };
    // A later chunk of a stream must not fail after earlier chunks wrote their rows: check
    // them all first, so that a rejected batch leaves every output untouched.
    if batch.chunks.len() > 1 {
        for (i, chunk) in batch.chunks.iter().enumerate() {
            scorer.check(chunk).map_err(|e| e.context(format!("stream chunk {i}")))?;
        }
    }
    let mut report = ScoreReport::default();
    let mut offset = 0;
    for chunk in &batch.chunks {
        let len = chunk.num_rows();
        let end = offset + len;
        let chunk_report = scorer.score_into_strided(
            chunk,
            &opts,
            scores.get_mut(offset..).unwrap_or_default(),
            n,
            &mut status[offset..end],
            reason.as_deref_mut().map(|r| &mut r[offset..end]),
        )?;
        report.merge(&chunk_report);
        offset = end;
    }
    Ok(report)
}

/// The report JSON of `kiln_model_score_ex`: the row accounting plus the batch-level results.
#[derive(serde::Serialize)]
struct ReportEx<'a> {
    #[serde(flatten)]
    report: &'a ScoreReport,
    findings: &'a [BatchFinding],
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<&'a BatchProfile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    drift: Option<&'a DriftReport>,
}

fn report_handle(json: String) -> Result<*mut KilnReport> {
    let json = CString::new(json).map_err(|e| Error::internal(format!("report JSON: {e}")))?;
    Ok(box_into_raw(KilnReport { json }))
}

/// Output buffers of one scoring call, checked against the batch.
struct Outputs<'a> {
    scores: &'a mut [f64],
    status: &'a mut [i32],
    reason: Option<&'a mut [i32]>,
}

/// # Safety
/// Each buffer is NULL or writable for its length, and the buffers do not overlap.
#[expect(clippy::too_many_arguments, reason = "the C signature's buffers, checked in one place")]
unsafe fn outputs<'a>(
    m: &KilnModel,
    n: usize,
    scores: *mut f64,
    scores_len: usize,
    status: *mut i32,
    status_len: usize,
    reason: *mut i32,
    reason_len: usize,
) -> Result<Outputs<'a>> {
    let need = n.checked_mul(m.scorer.n_outputs()).ok_or_else(|| Error::invalid_argument("n_rows * n_outputs overflows"))?;
    // SAFETY: each buffer is NULL or writable for its length and unaliased (contract).
    let (scores, status) = unsafe { (out_slice("scores buffer", scores, scores_len, need)?, out_slice("status buffer", status, status_len, n)?) };
    let reason = if reason.is_null() {
        None
    } else {
        // SAFETY: as above.
        Some(unsafe { out_slice("reason buffer", reason, reason_len, n)? })
    };
    Ok(Outputs { scores, status, reason })
}

/// Profile every chunk's inputs (each chunk checked first, so that a bad chunk fails before any
/// work) and merge.
fn profile_inputs(model: &KilnModel, batch: &KilnBatch, n_threads: u32) -> Result<BatchProfile> {
    let scorer = &model.scorer;
    let opts = ProfileOptions { n_threads: n_threads as usize };
    let mut merged = BatchProfile::with_output_names(scorer.schema(), scorer.output_names());
    for (i, chunk) in batch.chunks.iter().enumerate() {
        let p = profile_batch_with(scorer, chunk, &opts).map_err(|e| if batch.chunks.len() > 1 { e.context(format!("stream chunk {i}")) } else { e })?;
        merged.merge(&p)?;
    }
    Ok(merged)
}

fn score_ex_impl(model: &KilnModel, batch: &KilnBatch, n_threads: u32, flags: u32, out: Outputs<'_>) -> Result<String> {
    if flags & !KNOWN_FLAGS != 0 {
        return Err(Error::invalid_argument(format!("unknown kiln_model_score_ex flags 0x{:x} (known: 0x{KNOWN_FLAGS:x})", flags & !KNOWN_FLAGS)));
    }
    let scorer = &model.scorer;
    let reference = scorer.reference_profile();
    let (want_profile, want_drift) = (flags & KILN_SCORE_PROFILE != 0, flags & KILN_SCORE_DRIFT != 0);
    if want_drift && reference.is_none() {
        return Err(no_reference());
    }
    let mut profile = if reference.is_some() || want_profile || want_drift { Some(profile_inputs(model, batch, n_threads)?) } else { None };
    let findings = match (reference, &profile) {
        (Some(r), Some(p)) => {
            let policy = if flags & KILN_SCORE_REJECT_NULL_RATE != 0 { BatchPolicy::Reject } else { BatchPolicy::Report };
            null_rate_findings(r, p, &NullRateRule { policy, ..NullRateRule::default() })?
        }
        _ => Vec::new(),
    };
    enforce(&findings)?;
    let n = batch.n_rows;
    let Outputs { scores, status, reason } = out;
    let report = score_impl(model, batch, n_threads, &mut *scores, status, reason)?;
    if let Some(p) = &mut profile {
        for j in 0..scorer.n_outputs() {
            p.update_output(j, &scores[j * n..(j + 1) * n])?;
        }
    }
    let drift = match (want_drift, reference, &profile) {
        (true, Some(r), Some(p)) => Some(DriftReport::compare(r, p, &DriftOptions::default())?),
        _ => None,
    };
    let json = ReportEx { report: &report, findings: &findings, profile: profile.as_ref().filter(|_| want_profile), drift: drift.as_ref() };
    serde_json::to_string(&json).map_err(|e| Error::internal(format!("encoding report: {e}")))
}

/// Score a batch like `kiln_model_score`, and also run the batch-level checks: when the model
/// has a reference profile (`kiln_model_with_reference_profile`), the null-rate rule of each
/// input column (see docs/ABI.md); `flags` (`KILN_SCORE_*`, or-ed; 0 for none) add the batch's
/// profile (`KILN_SCORE_PROFILE`) and its drift against the reference (`KILN_SCORE_DRIFT`) to
/// the report, or make a broken null-rate rule refuse the batch
/// (`KILN_SCORE_REJECT_NULL_RATE`). The report's JSON (`kiln_report_json`) has the keys of
/// `kiln_model_score`'s plus `findings` (broken batch-level rules), and `profile` and `drift`
/// when asked for. Buffers, `n_threads` and failures as in `kiln_model_score`: on any failure,
/// a rejected batch included, nothing is written.
///
/// # Safety
/// As `kiln_model_score`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_score_ex(
    model: *const KilnModel,
    batch: *const KilnBatch,
    n_threads: u32,
    flags: u32,
    scores: *mut f64,
    scores_len: usize,
    status: *mut i32,
    status_len: usize,
    reason: *mut i32,
    reason_len: usize,
    report: *mut *mut KilnReport,
) -> KilnStatus {
    guard("kiln_model_score_ex", || {
        // SAFETY: NULL or live handles; the batch is not mutated during the call (contract).
        let (m, b) = unsafe { (arc_ref(model)?, box_ref(batch)?) };
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { outputs(m, b.n_rows, scores, scores_len, status, status_len, reason, reason_len)? };
        let json = score_ex_impl(m, b, n_threads, flags, out)?;
        if !report.is_null() {
            let handle = report_handle(json)?;
            // SAFETY: non-NULL and writable (contract).
            unsafe { write_out(report, handle) };
        }
        Ok(())
    })
}

/// Score a batch into caller-allocated buffers. `n_threads` 0 = all cores (small batches never
/// fan out). `scores` is column-major: output `j` of row `i` at `scores[j * n_rows + i]`, with
/// `scores_len >= n_rows * num_outputs`. `status[i]` is a `KilnRowStatus` (0 = scored; otherwise
/// the row's scores are NaN), `status_len >= n_rows`. `reason` (nullable) receives per-row
/// reason ids for `kiln_model_reason_source` (-1 = none), `reason_len >= n_rows` when given.
/// `report` (nullable) receives a report to free with `kiln_report_free`. A rejected batch
/// returns `KILN_STATUS_BATCH_REJECTED` and writes nothing; so does any other failure.
///
/// # Safety
/// `model` and `batch` are live handles; each buffer is NULL or writable for its length, and
/// the buffers do not overlap; `report` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_score(
    model: *const KilnModel,
    batch: *const KilnBatch,
    n_threads: u32,
    scores: *mut f64,
    scores_len: usize,
    status: *mut i32,
    status_len: usize,
    reason: *mut i32,
    reason_len: usize,
    report: *mut *mut KilnReport,
) -> KilnStatus {
    guard("kiln_model_score", || {
        // SAFETY: NULL or live handles; the batch is not mutated during the call (contract).
        let (m, b) = unsafe { (arc_ref(model)?, box_ref(batch)?) };
        // SAFETY: forwarded from this function's contract.
        let out = unsafe { outputs(m, b.n_rows, scores, scores_len, status, status_len, reason, reason_len)? };
        let r = score_impl(m, b, n_threads, out.scores, out.status, out.reason)?;
        if !report.is_null() {
            let json = serde_json::to_string(&r).map_err(|e| Error::internal(format!("encoding report: {e}")))?;
            let handle = report_handle(json)?;
            // SAFETY: non-NULL and writable (contract).
            unsafe { write_out(report, handle) };
        }
        Ok(())
    })
}

/// The report as JSON: `rows`, `scored`, `flagged`, `reasons` (each `status`, `code`, `source`,
/// `rows`), `defaults_applied` (column → count). Lives as long as the report.
///
/// # Safety
/// `report` is a live report; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_report_json(report: *const KilnReport, out: *mut *const c_char) -> KilnStatus {
    guard("kiln_report_json", || {
        let out = out_ptr(out, "out")?;
        // SAFETY: NULL or a live report (contract).
        let r = unsafe { box_ref(report)? };
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, r.json.as_ptr()) };
        Ok(())
    })
}

/// Free a report. NULL is a no-op. Never free twice.
///
/// # Safety
/// `report` is NULL or came from `kiln_model_score`/`kiln_model_score_ex` and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_report_free(report: *mut KilnReport) {
    // SAFETY: forwarded from this function's contract.
    guard_value("kiln_report_free", (), || unsafe { box_free(report) })
}

/// Score one row given as `n_values` numbers in schema order (`values[j]` for schema column
/// `j`: integers and booleans as numbers, dates as days since 1970-01-01, timestamps as
/// fractional days; NaN for null), on the calling thread, with no batch and, once a thread has
/// scored a row of a model of this shape, no allocation. The row meets the same rules and gets
/// the same scores as in a one-row batch through `kiln_model_score`. `scores` receives the
/// model's outputs (`scores_len >= num_outputs`; NaN when the row is not scored); `status`
/// (nullable) its `KilnRowStatus`; `reason` (nullable) its reason id (-1 for none). Models with
/// string (categorical) inputs, a wrong `n_values`, or a row breaking a `reject` rule
/// (`KILN_STATUS_BATCH_REJECTED`) are errors, and nothing is written.
///
/// # Safety
/// `model` is a live handle; `values` is readable for `n_values` doubles; `scores` is writable
/// for `scores_len` doubles; `status` and `reason` are NULL or writable for one `int32_t`; no
/// buffer overlaps another.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_score_row(
    model: *const KilnModel,
    values: *const f64,
    n_values: usize,
    scores: *mut f64,
    scores_len: usize,
    status: *mut i32,
    reason: *mut i32,
) -> KilnStatus {
    guard("kiln_model_score_row", || {
        // SAFETY: NULL or a live handle (contract).
        let m = unsafe { arc_ref(model)? };
        let k = m.scorer.n_outputs();
        // SAFETY: `values` is readable for `n_values` doubles (contract); read-only here.
        let values = unsafe { in_slice("values", values, n_values)? };
        // SAFETY: writable for `scores_len` doubles and unaliased (contract).
        let scores = unsafe { out_slice("scores buffer", scores, scores_len, k)? };
        let mut row = [0.0; 16];
        // Score into local space first, so that a failure leaves the caller's buffer untouched.
        let outcome = if k <= row.len() {
            let outcome = m.scorer.score_row(values, &mut row[..k])?;
            scores.copy_from_slice(&row[..k]);
            outcome
        } else {
            let mut tmp = vec![0.0; k];
            let outcome = m.scorer.score_row(values, &mut tmp)?;
            scores.copy_from_slice(&tmp);
            outcome
        };
        if !status.is_null() {
            // SAFETY: non-NULL and writable for one int32_t (contract).
            unsafe { write_out(status, outcome.status) };
        }
        if !reason.is_null() {
            // SAFETY: as above.
            unsafe { write_out(reason, outcome.reason) };
        }
        Ok(())
    })
}
