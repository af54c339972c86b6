//! Scorers, one file per family. Each is prepared once from its artifact description (with
//! feature names already resolved to scratch slots by `plan/`) and exposes one entry: score a
//! block of rows into column-major outputs.

pub mod linear;
pub mod link;
pub mod tree;

use crate::transform::Block;

pub use linear::Linear;
pub use tree::TreeEnsemble;

/// A prepared model.
#[derive(Debug, Clone)]
pub enum Prepared {
    Linear(Linear),
    Trees(Box<TreeEnsemble>),
}

impl Prepared {
    pub fn n_outputs(&self) -> usize {
        match self {
            Prepared::Linear(m) => m.n_outputs(),
            Prepared::Trees(m) => m.n_outputs(),
        }
    }

    /// Score the block's rows. `out` holds `n_outputs` columns of `block.len` values each.
    /// The block's feature slots may be modified (e.g. rounded to the model's input precision).
    pub fn score_block(&self, block: &mut Block<'_>, out: &mut [f64]) {
        debug_assert_eq!(out.len(), self.n_outputs() * block.len);
        score_block_for_cpu(self, block, out);
    }
}

crate::exec::for_each_cpu! {
    /// [`Prepared::score_block`] for each CPU (see `exec::for_each_cpu`). The wider build scores
    /// the linear pipeline ~20% faster (criterion A/B, one thread). The models' block kernels are
    /// `#[inline(always)]` so that they are compiled into each version, except the tree walks,
    /// which run faster in the baseline build (see `TreeEnsemble::score_trees`). (The `fma`
    /// feature only makes `mul_add`, which kiln does not use, one instruction.)
    fn score_block_for_cpu<'a>(model: &Prepared, block: &mut Block<'a>, out: &mut [f64]) {
        match model {
            Prepared::Linear(m) => m.score_block(block, out),
            Prepared::Trees(m) => m.score_block(block, out),
        }
    }
}
