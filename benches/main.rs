//! kiln's criterion benchmarks, in one bench binary (each bench binary is linked with thin LTO
//! against the whole crate, which cost CI minutes per file). Each module is one area; pick one
//! with a filter on the group names, for example:
//!
//! ```text
//! cargo bench -- 'trees/500x8'     # the issue's reference ensemble, 1 and 2 threads
//! cargo bench -- 'trees/load'      # loading the three peers models
//! cargo bench -- 'ffi/single_row'  # one row through the C ABI
//! cargo bench -- 'linear/'         # the fused linear pipeline
//! cargo bench -- transforms        # per-row transforms
//! cargo bench -- 'profile/overhead'
//! cargo bench                      # everything
//! ```

mod common;

mod ffi;
mod linear;
mod profile;
mod text;
mod transforms;
mod trees;

criterion::criterion_main!(trees::benches, linear::benches, transforms::benches, text::benches, ffi::benches, profile::benches);
