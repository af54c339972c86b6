//! Scoring into caller-allocated buffers, and `KilnReport`, the per-batch summary.

use std::ffi::{CString, c_char};

use super::batch::KilnBatch;
use super::boundary::*;
use super::model::KilnModel;
use crate::error::{Error, KilnStatus, Result};
use crate::{ScoreOptions, ScoreReport};

/// What happened to a scored batch (opaque): rows scored, flagged, and why. Used by one thread
/// at a time. Made by `kiln_model_score`, freed by `kiln_report_free`.
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
        let n = b.n_rows;
        let need = n.checked_mul(m.scorer.n_outputs()).ok_or_else(|| Error::invalid_argument("n_rows * n_outputs overflows"))?;
        // SAFETY: each buffer is NULL or writable for its length and unaliased (contract).
        let (scores, status) = unsafe { (out_slice("scores buffer", scores, scores_len, need)?, out_slice("status buffer", status, status_len, n)?) };
        let reason = if reason.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(unsafe { out_slice("reason buffer", reason, reason_len, n)? })
        };
        let r = score_impl(m, b, n_threads, scores, status, reason)?;
        if !report.is_null() {
            let json = serde_json::to_string(&r).map_err(|e| Error::internal(format!("encoding report: {e}")))?;
            let json = CString::new(json).map_err(|e| Error::internal(format!("report JSON: {e}")))?;
            // SAFETY: non-NULL and writable (contract).
            unsafe { write_out(report, box_into_raw(KilnReport { json })) };
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
/// `report` is NULL or came from `kiln_model_score` and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_report_free(report: *mut KilnReport) {
    // SAFETY: forwarded from this function's contract.
    guard_value("kiln_report_free", (), || unsafe { box_free(report) })
}
