//! Profiles as JSON across the boundary: merging the profiles of partitions, drift between two
//! profiles, a readable summary, and a model's reference profile. Strings made here are owned
//! by the caller and freed with `kiln_string_free`.

use std::ffi::{CString, c_char};

use super::batch::KilnBatch;
use super::boundary::*;
use super::model::KilnModel;
use crate::error::{Error, KilnStatus, Result};
use crate::profile::check::summarize;
use crate::profile::{BatchProfile, DriftOptions, DriftReport};

/// A string for the caller to free with `kiln_string_free`.
fn owned_string(s: String) -> Result<*mut c_char> {
    Ok(CString::new(s).map_err(|e| Error::internal(format!("JSON with a NUL byte: {e}")))?.into_raw())
}

/// # Safety
/// `s` is NULL or a NUL-terminated string.
unsafe fn profile_arg(s: *const c_char, what: &str) -> Result<BatchProfile> {
    // SAFETY: forwarded from this function's contract.
    let text = unsafe { str_arg(s, what)? };
    BatchProfile::from_json(text).map_err(|e| e.context(what))
}

/// Merge two profiles of the same columns and outputs (e.g. of two partitions of one data set)
/// into one, as if the data had been profiled together. `*out` receives the merged profile's
/// JSON, which the caller frees with `kiln_string_free`. Profiles of different columns are
/// `KILN_STATUS_INVALID_ARGUMENT`, as is JSON that is not a kiln profile.
///
/// # Safety
/// `a` and `b` are NUL-terminated strings; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_profile_merge(a: *const c_char, b: *const c_char, out: *mut *mut c_char) -> KilnStatus {
    guard("kiln_profile_merge", || {
        let out = out_ptr(out, "out")?;
        // SAFETY: NUL-terminated strings (contract).
        let (mut a, b) = unsafe { (profile_arg(a, "profile a")?, profile_arg(b, "profile b")?) };
        a.merge(&b)?;
        let s = owned_string(a.to_json())?;
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, s) };
        Ok(())
    })
}

/// The drift report of `current` against `reference` (profiles of the same columns), with the
/// default options (family-wise alpha 0.01, Holm correction; see docs/ABI.md). `*out` receives
/// its JSON, which the caller frees with `kiln_string_free`.
///
/// # Safety
/// `reference` and `current` are NUL-terminated strings; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_profile_drift(reference: *const c_char, current: *const c_char, out: *mut *mut c_char) -> KilnStatus {
    guard("kiln_profile_drift", || {
        let out = out_ptr(out, "out")?;
        // SAFETY: NUL-terminated strings (contract).
        let (r, c) = unsafe { (profile_arg(reference, "reference profile")?, profile_arg(current, "current profile")?) };
        let report = DriftReport::compare(&r, &c, &DriftOptions::default())?;
        let json = serde_json::to_string(&report).map_err(|e| Error::internal(format!("encoding the drift report: {e}")))?;
        let s = owned_string(json)?;
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, s) };
        Ok(())
    })
}

/// A readable summary of a profile: `rows`, and per column (`columns`) and output (`outputs`)
/// the null rate, and for numbers mean, std_dev, min, max, quantiles and distinct count, for
/// categories distinct count and the most frequent (`top`, with shares). `*out` receives the
/// JSON, which the caller frees with `kiln_string_free`.
///
/// # Safety
/// `profile` is a NUL-terminated string; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_profile_summary(profile: *const c_char, out: *mut *mut c_char) -> KilnStatus {
    guard("kiln_profile_summary", || {
        let out = out_ptr(out, "out")?;
        // SAFETY: NUL-terminated string (contract).
        let p = unsafe { profile_arg(profile, "profile")? };
        let s = owned_string(summarize(&p).to_string())?;
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, s) };
        Ok(())
    })
}

/// Free a string returned by a `kiln_profile_*` function. NULL is a no-op. Never free twice,
/// and never free with it a string kiln owns (`kiln_report_json`, `kiln_model_*`).
///
/// # Safety
/// `s` is NULL or came from a `kiln_profile_*` function and was not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_string_free(s: *mut c_char) {
    guard_value("kiln_string_free", (), || {
        if !s.is_null() {
            // SAFETY: made by `CString::into_raw` in this module and freed once (contract).
            drop(unsafe { CString::from_raw(s) });
        }
    })
}

/// A new model: `model` with the profile of `batch` (a sample of the training data) recorded as
/// its reference, so that scoring can check null rates and measure drift against it. The batch
/// is scored to profile the outputs too. The new model has a new fingerprint; `model` is not
/// changed. `*out` receives it, to free with `kiln_model_free`. A batch the model cannot score
/// (a missing column, a rejected batch) fails as in `kiln_model_score`.
///
/// # Safety
/// `model` and `batch` are live handles; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_with_reference_profile(
    model: *const KilnModel,
    batch: *const KilnBatch,
    n_threads: u32,
    out: *mut *const KilnModel,
) -> KilnStatus {
    guard("kiln_model_with_reference_profile", || {
        let out = out_ptr(out, "out")?;
        // SAFETY: NULL or live handles (contract).
        let (m, b) = unsafe { (arc_ref(model)?, box_ref(batch)?) };
        let scorer = &m.scorer;
        let opts = crate::ScoreOptions { n_threads: n_threads as usize };
        let mut profile = BatchProfile::with_output_names(scorer.schema(), scorer.output_names());
        for chunk in &b.chunks {
            profile.merge(&crate::profile::check::reference_profile(scorer, chunk, &opts)?)?;
        }
        let new = KilnModel::new(scorer.with_reference_profile(&profile)?)?;
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, arc_into_raw(new)) };
        Ok(())
    })
}

/// The model's reference profile as JSON (`kiln_profile_*` read it), or NULL when it has none.
/// Lives as long as the model (do not free it).
///
/// # Safety
/// `model` is a live model; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn kiln_model_reference_profile(model: *const KilnModel, out: *mut *const c_char) -> KilnStatus {
    guard("kiln_model_reference_profile", || {
        let out = out_ptr(out, "out")?;
        // SAFETY: NULL or a live model (contract).
        let m = unsafe { arc_ref(model)? };
        let p = m.reference_json()?.map_or(std::ptr::null(), |s| s.as_ptr());
        // SAFETY: non-NULL and writable (contract).
        unsafe { write_out(out, p) };
        Ok(())
    })
}
