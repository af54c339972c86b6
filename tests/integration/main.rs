//! kiln's integration tests, in one test binary: each module below was a file of its own, and
//! each test binary is linked (with thin LTO, in release) against the whole crate and its
//! dependencies, which cost CI minutes per file. The modules keep their own scope; shared
//! builders live in `common`, the generated profiling samples in `sample`.
//!
//! Run one area with a filter: `cargo test --release --test integration -- trees::`.

mod common;
mod sample;

mod artifact;
#[cfg(feature = "cli")]
mod cli;
#[cfg(feature = "cli")]
mod cli_checks;
mod determinism;
mod drift;
mod ffi;
mod fixtures;
mod golden;
mod header;
mod import_lightgbm;
mod import_xgboost;
mod linear;
mod profile;
mod reference;
mod score_row;
mod smoke;
mod text;
mod transforms;
mod tree_layout;
mod trees;
mod verify;
