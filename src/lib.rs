//! kiln: an embedded scoring engine for tabular machine learning.
//!
//! A fitted feature pipeline and a model travel together in one versioned artifact
//! ([`artifact::Artifact`]); a [`Scorer`] prepared from it scores columnar batches
//! ([`batch::Batch`]) fast, multithreaded and with identical numbers from every host.
//!
//! Data flows one way: `artifact → plan → execution`, and
//! `batch → verify → transform → score → outputs + report`.
//!
//! Rooms: [`artifact`] (file format), [`schema`], [`batch`] (columnar input, the only place
//! besides [`ffi`] with `unsafe`), [`verify`] (the hard edge), [`transform`] (fitted steps),
//! [`model`] (scorers), [`plan`] (prepared plans), [`profile`] (batch profiles and drift), [`exec`] (threads and blocks), [`ffi`] (the C
//! ABI).

pub mod artifact;
pub mod batch;
pub mod error;
pub mod exec;
pub mod ffi;
pub mod import;
pub mod model;
pub mod plan;
pub mod profile;
pub mod schema;
mod scorer;
pub mod transform;
pub mod verify;

pub use artifact::Artifact;
pub use batch::Batch;
pub use error::{Error, KilnStatus, Result};
pub use scorer::{ReasonCount, RowOutcome, ScoreOptions, ScoreReport, Scorer, Scores};
pub use verify::RowStatus;

/// The library version (Cargo package version).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
