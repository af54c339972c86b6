//! Linear and generalized linear models: `eta_k = (sum_j coef_kj * x_j) + intercept_k`, summed
//! in feature order, then the inverse link.

use super::link::{sigmoid64, softmax64};
use crate::artifact::{Link, LinearSpec};
use crate::transform::Block;
use crate::verify::FineRange;

#[derive(Debug, Clone)]
pub struct Linear {
    /// Scratch slot of each feature.
    slots: Vec<usize>,
    /// `[n_targets][n_features]`
    coef: Vec<Vec<f64>>,
    intercept: Vec<f64>,
    link: Link,
}

impl Linear {
    pub fn new(spec: &LinearSpec, slots: Vec<usize>) -> Self {
        Linear { slots, coef: spec.coefficients.clone(), intercept: spec.intercept.clone(), link: spec.link }
    }

    pub fn n_outputs(&self) -> usize {
        self.intercept.len()
    }

    /// Always inlined: compiled into each CPU version of `model::score_block_for_cpu`.
    #[inline(always)]
    pub fn score_block(&self, block: &mut Block<'_>, out: &mut [f64]) {
        let n = block.len;
        let (num, stride) = block.num_all();
        for (k, coef) in self.coef.iter().enumerate() {
            let acc = &mut out[k * n..(k + 1) * n];
            acc.fill(0.0);
            // Features outside, rows inside: a vectorizable multiply-add per feature column.
            for (&slot, &c) in self.slots.iter().zip(coef) {
                let x = &num[slot * stride..slot * stride + n];
                for (a, &v) in acc.iter_mut().zip(x) {
                    *a += c * v;
                }
            }
        }
        self.finish(n, out);
    }

    /// Score `n` rows whose features are each one input column through at most an impute and
    /// a standard scale (see [`Fused`]), reading `column(feature)`'s `n` values and writing no
    /// scratch: the same operations, in the same order, as the transform steps and
    /// [`Linear::score_block`], so the same bits.
    pub fn score_fused<'x>(&self, fused: &Fused, n: usize, column: impl Fn(&FusedFeature) -> &'x [f64], out: &mut [f64]) {
        self.fused_start(n, out);
        for (j, f) in fused.features.iter().enumerate() {
            self.fused_add(j, f, &column(f)[..n], out);
        }
        self.fused_finish(n, out);
    }

    /// Start [`Linear::score_fused`] by hand: zero the predictors of `n` rows.
    pub fn fused_start(&self, n: usize, out: &mut [f64]) {
        out[..self.n_outputs() * n].fill(0.0);
    }

    /// Add feature `j` (`f`, whose input values are `x`) to every output's predictor: called
    /// for each feature in the model's order, as the sum's order is part of the result.
    pub fn fused_add(&self, j: usize, f: &FusedFeature, x: &[f64], out: &mut [f64]) {
        let n = x.len();
        for (k, coef) in self.coef.iter().enumerate() {
            f.add(coef[j], x, &mut out[k * n..(k + 1) * n]);
        }
    }

    /// [`Linear::fused_add`] with the column's rule check made in the same pass over `x`:
    /// whether every value is fine by `range`. The feature is added either way, so a caller
    /// that gets `false` must start the block's sum over (the check reads each value once,
    /// where a check before the add would read the block twice, the first time from memory).
    pub fn fused_add_checked(&self, j: usize, f: &FusedFeature, x: &[f64], range: FineRange, out: &mut [f64]) -> bool {
        // The first output's add makes the check; any others add as `fused_add` does.
        let n = x.len();
        let (first, rest) = out.split_at_mut(n);
        let fine = if f.scaled {
            add_scaled_checked_for_cpu(first, x, self.coef[0][j], f.fill, f.mean, f.scale, range)
        } else {
            add_imputed_checked_for_cpu(first, x, self.coef[0][j], f.fill, range)
        };
        for (k, coef) in self.coef.iter().enumerate().skip(1) {
            f.add(coef[j], x, &mut rest[(k - 1) * n..k * n]);
        }
        fine
    }

    /// Finish [`Linear::score_fused`] by hand: intercepts and the link.
    pub fn fused_finish(&self, n: usize, out: &mut [f64]) {
        finish_for_cpu(self, n, out);
    }

    /// Add the intercepts to the `n` rows' linear predictors in `out` and apply the link.
    #[inline(always)]
    fn finish(&self, n: usize, out: &mut [f64]) {
        for (k, &b) in self.intercept.iter().enumerate() {
            for a in &mut out[k * n..(k + 1) * n] {
                *a += b;
            }
        }
        match self.link {
            Link::Identity => {}
            Link::Logit => out.iter_mut().for_each(|v| *v = sigmoid64(*v)),
            Link::Log => out.iter_mut().for_each(|v| *v = v.exp()),
            Link::Softmax => {
                let k = self.n_outputs();
                for i in 0..n {
                    softmax64(out, n, k, i);
                }
            }
        }
    }
}

/// A linear model's features each traced back to the input column it is computed from, when
/// the pipeline is nothing but an impute and/or a standard scale per feature (in that order),
/// the shape scikit-learn's `SimpleImputer` + `StandardScaler` + linear model gives. Built by
/// `plan/`; the scorer then reads each input column once per block, straight from the batch
/// where it can, instead of copying it into scratch and rewriting it step by step.
#[derive(Debug, Clone)]
pub struct Fused {
    /// One per model feature, in the model's order.
    pub features: Vec<FusedFeature>,
}

/// One feature of a [`Fused`] linear model: `((x is NaN ? fill : x) - mean) / scale`.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedFeature {
    /// Index of the input (schema) column.
    pub input: usize,
    /// The input column's scratch slot.
    pub slot: usize,
    /// What a NaN becomes; NaN when there is no impute step.
    pub fill: f64,
    /// Whether a standard scale step follows (else `mean` and `scale` are unused).
    pub scaled: bool,
    pub mean: f64,
    pub scale: f64,
}

impl FusedFeature {
    /// `acc[i] += c * feature(x[i])`.
    fn add(&self, c: f64, x: &[f64], acc: &mut [f64]) {
        if self.scaled {
            add_scaled_for_cpu(acc, x, c, self.fill, self.mean, self.scale);
        } else {
            add_imputed_for_cpu(acc, x, c, self.fill);
        }
    }
}

crate::exec::for_each_cpu! {
    /// `acc[i] += c * (((x[i] is NaN ? fill : x[i]) - mean) / scale)`: the impute step's, the
    /// scale step's and the model's operations on one value, as they do them.
    fn add_scaled_for_cpu(acc: &mut [f64], x: &[f64], c: f64, fill: f64, mean: f64, scale: f64) {
        for (a, &x) in acc.iter_mut().zip(x) {
            let v = if x.is_nan() { fill } else { x };
            *a += c * ((v - mean) / scale);
        }
    }
}

crate::exec::for_each_cpu! {
    /// `acc[i] += c * (x[i] is NaN ? fill : x[i])`.
    fn add_imputed_for_cpu(acc: &mut [f64], x: &[f64], c: f64, fill: f64) {
        for (a, &x) in acc.iter_mut().zip(x) {
            *a += c * if x.is_nan() { fill } else { x };
        }
    }
}

/// The body of the checked kernels: `add(acc[i], x[i])` for each row, and whether no value
/// lies outside the range. Branch-free (the flag is an OR over the block), so it vectorizes.
#[inline(always)]
fn add_checked<const NAN_FINE: bool>(acc: &mut [f64], x: &[f64], range: FineRange, add: impl Fn(&mut f64, f64)) -> bool {
    let mut broken = false;
    for (a, &x) in acc.iter_mut().zip(x) {
        broken |= range.breaks::<NAN_FINE>(x);
        add(a, x);
    }
    !broken
}

crate::exec::for_each_cpu! {
    /// [`add_scaled_for_cpu`], and whether every `x[i]` is fine by `range`.
    fn add_scaled_checked_for_cpu(acc: &mut [f64], x: &[f64], c: f64, fill: f64, mean: f64, scale: f64, range: FineRange) -> bool {
        let add = |a: &mut f64, x: f64| {
            let v = if x.is_nan() { fill } else { x };
            *a += c * ((v - mean) / scale);
        };
        if range.nan_fine { add_checked::<true>(acc, x, range, add) } else { add_checked::<false>(acc, x, range, add) }
    }
}

crate::exec::for_each_cpu! {
    /// [`add_imputed_for_cpu`], and whether every `x[i]` is fine by `range`.
    fn add_imputed_checked_for_cpu(acc: &mut [f64], x: &[f64], c: f64, fill: f64, range: FineRange) -> bool {
        let add = |a: &mut f64, x: f64| *a += c * if x.is_nan() { fill } else { x };
        if range.nan_fine { add_checked::<true>(acc, x, range, add) } else { add_checked::<false>(acc, x, range, add) }
    }
}

crate::exec::for_each_cpu! {
    /// [`Linear::finish`] for each CPU, for [`Linear::score_fused`].
    fn finish_for_cpu(model: &Linear, n: usize, out: &mut [f64]) {
        model.finish(n, out);
    }
}
