//! The C ABI (`include/kiln.h`, generated from this module by cbindgen; contract in
//! `docs/ABI.md`). The only place with `extern "C"`.
//!
//! Every entry point is a thin shell: it checks pointers, converts arguments, and calls safe
//! code returning [`crate::Result`], inside a panic boundary that turns any panic into
//! `KILN_STATUS_PANIC` with a message. Out-parameters are written only on success. Handles
//! declare their ownership: [`KilnModel`] is reference-counted and shared (`const KilnModel*`),
//! [`KilnBatch`] and [`KilnReport`] are uniquely owned (`T*`, one thread at a time).
//!
//! This room converts and checks; it does not score, validate memory or know file formats.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod batch;
mod boundary;
mod model;
mod profile;
mod score;

use std::ffi::{CString, c_char};
use std::sync::OnceLock;

pub use batch::*;
pub use model::*;
pub use profile::*;
pub use score::*;

use crate::error::KilnStatus;
use crate::verify::RowStatus;

/// The ABI version this library provides. Bindings refuse a library whose ABI they do not know.
pub const KILN_ABI_VERSION: u32 = 1;

/// The ABI version of this library (`KILN_ABI_VERSION` of the header it was built with).
#[unsafe(no_mangle)]
pub extern "C" fn kiln_abi_version() -> u32 {
    KILN_ABI_VERSION
}

/// Static C strings built once (names, descriptions, the version).
struct Names {
    version: CString,
    status: Vec<(i32, CString)>,
    row_status: Vec<(i32, CString, CString)>,
    unknown: CString,
}

fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| {
        // None of these strings holds a NUL byte; `unwrap_or_default` only satisfies the types.
        let c = |s: &str| CString::new(s).unwrap_or_default();
        Names {
            version: c(crate::VERSION),
            status: KilnStatus::ALL.iter().map(|s| (*s as i32, c(s.name()))).collect(),
            row_status: RowStatus::ALL.iter().map(|s| (*s as i32, c(s.name()), c(s.description()))).collect(),
            unknown: c("unknown"),
        }
    })
}

/// The library version, e.g. `"0.1.0"` (static).
#[unsafe(no_mangle)]
pub extern "C" fn kiln_version() -> *const c_char {
    boundary::guard_value("kiln_version", c"".as_ptr(), || names().version.as_ptr())
}

/// The message of the last failed call on the calling thread (`""` if none). Valid until the
/// next failed kiln call on this thread: copy it before raising a host error.
#[unsafe(no_mangle)]
pub extern "C" fn kiln_last_error() -> *const c_char {
    boundary::guard_value("kiln_last_error", c"".as_ptr(), boundary::last_error_ptr)
}

/// Stable short name of a status code, e.g. `"missing_column"` (`"unknown"` otherwise; static).
#[unsafe(no_mangle)]
pub extern "C" fn kiln_status_name(status: i32) -> *const c_char {
    boundary::guard_value("kiln_status_name", c"unknown".as_ptr(), || {
        let n = names();
        n.status.iter().find(|(code, _)| *code == status).map_or(n.unknown.as_ptr(), |(_, s)| s.as_ptr())
    })
}

/// Stable short name of a row status code, e.g. `"unknown_category"` (`"unknown"` otherwise;
/// static).
#[unsafe(no_mangle)]
pub extern "C" fn kiln_row_status_name(code: i32) -> *const c_char {
    boundary::guard_value("kiln_row_status_name", c"unknown".as_ptr(), || {
        let n = names();
        n.row_status.iter().find(|(c, ..)| *c == code).map_or(n.unknown.as_ptr(), |(_, s, _)| s.as_ptr())
    })
}

/// One-line description of a row status code (`"unknown"` otherwise; static).
#[unsafe(no_mangle)]
pub extern "C" fn kiln_row_status_description(code: i32) -> *const c_char {
    boundary::guard_value("kiln_row_status_description", c"unknown".as_ptr(), || {
        let n = names();
        n.row_status.iter().find(|(c, ..)| *c == code).map_or(n.unknown.as_ptr(), |(_, _, d)| d.as_ptr())
    })
}
