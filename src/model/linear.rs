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
        let mut j = 0;
        while j < fused.features.len() {
            let group = fused.group(j, |_| Some(FineRange::any()));
            let mut xs: [&[f64]; GROUP] = [&[]; GROUP];
            for (x, f) in xs.iter_mut().zip(group) {
                *x = &column(f)[..n];
            }
            self.fused_add(j, group, &xs[..group.len()], &[FineRange::any(); GROUP][..group.len()], out);
            j += group.len();
        }
        self.fused_finish(n, out);
    }

    /// Start [`Linear::score_fused`] by hand: zero the predictors of `n` rows.
    pub fn fused_start(&self, n: usize, out: &mut [f64]) {
        out[..self.n_outputs() * n].fill(0.0);
    }

    /// Add features `j..j + group.len()` (a [`Fused::group`], whose input values are `xs` and
    /// whose rules are `ranges`) to every output's predictor, in one pass over the predictor,
    /// and check the values by their ranges in that same pass: whether every one is fine. The
    /// features are added either way, so a caller that gets `false` must start the block's sum
    /// over (the check reads each value once, where a check before the add would read the
    /// block twice, the first time from memory). Called for each group in the model's order, as
    /// the sum's order is part of the result.
    pub fn fused_add(&self, j: usize, group: &[FusedFeature], xs: &[&[f64]], ranges: &[FineRange], out: &mut [f64]) -> bool {
        let n = xs[0].len();
        let mut fine = true;
        for (k, coef) in self.coef.iter().enumerate() {
            // Entries past the group repeat its last: the kernel reads `group.len()` of them.
            let terms: [Term; GROUP] = std::array::from_fn(|g| {
                let g = g.min(group.len() - 1);
                Term::new(coef[j + g], &group[g], ranges[g])
            });
            // Each output checks the values again: a few vector compares, on values in cache.
            fine &= add_group_for_cpu(&mut out[k * n..(k + 1) * n], xs, &terms[..group.len()], group[0].scaled, ranges[0].nan_fine);
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

/// The most features one pass over the predictor adds ([`Fused::group`]). Each pass reads and
/// writes the block's predictor (32 KB at 4096 rows, as large as Zen 3's L1), so four features
/// a pass cut that traffic to a quarter. Each feature brings six constants (coefficient, fill,
/// mean, scale, the range's two bounds), so four already keep some on the stack, and more keep
/// more. On the peers' 50-column pipeline (C driver, 1M rows, alternated, 2026-12-07): one
/// feature a pass gave 19-26M rows/s on one thread (six rounds) and 31-45M on two (eight
/// rounds), four 31.5-33.1M and 36-62M. Six and eight measured no better, within the host's
/// noise.
pub const GROUP: usize = 4;

impl Fused {
    /// The features one pass adds, starting at feature `j`: up to [`GROUP`] in a row, alike in
    /// whether they are scaled and in whether their range (`range(feature)`, the rule check
    /// made in the pass) lets a null through, so one kernel serves them all. A feature with no
    /// range (its rules are not an interval) forms a group of one; `range` is not asked for
    /// features past it.
    pub fn group(&self, j: usize, range: impl Fn(&FusedFeature) -> Option<FineRange>) -> &[FusedFeature] {
        let first = &self.features[j];
        let Some(lead) = range(first) else { return &self.features[j..=j] };
        let alike = self.features[j + 1..]
            .iter()
            .take(GROUP - 1)
            .take_while(|f| f.scaled == first.scaled && range(f).is_some_and(|r| r.nan_fine == lead.nan_fine))
            .count();
        &self.features[j..=j + alike]
    }
}

/// One feature's constants in a group kernel.
#[derive(Debug, Clone, Copy)]
struct Term {
    coef: f64,
    fill: f64,
    mean: f64,
    scale: f64,
    range: FineRange,
}

impl Term {
    fn new(coef: f64, f: &FusedFeature, range: FineRange) -> Self {
        Term { coef, fill: f.fill, mean: f.mean, scale: f.scale, range }
    }

    /// `coef * (((x is NaN ? fill : x) - mean) / scale)` (without the scale unless `SCALED`):
    /// the impute step's, the scale step's and the model's operations on one value, as they
    /// do them.
    #[inline(always)]
    fn of<const SCALED: bool>(&self, x: f64) -> f64 {
        let v = if x.is_nan() { self.fill } else { x };
        if SCALED { self.coef * ((v - self.mean) / self.scale) } else { self.coef * v }
    }
}

/// `acc[i] = (acc[i] + term_0(x_0[i])) + term_1(x_1[i]) ...` for the `G` features of a group,
/// and whether no `x_g[i]` breaks its range. Branch-free (the flag is an OR over the block), so
/// it vectorizes: rows inside, the group's features unrolled.
#[inline(always)]
fn add_terms<const G: usize, const SCALED: bool, const NAN_FINE: bool>(acc: &mut [f64], xs: &[&[f64]], terms: &[Term]) -> bool {
    let n = acc.len();
    let xs: [&[f64]; G] = std::array::from_fn(|g| &xs[g][..n]);
    let terms: [Term; G] = std::array::from_fn(|g| terms[g]);
    // A flag as wide as the values (not a bool) keeps the vector's lanes: no packing.
    let mut broken = 0u64;
    for (i, a) in acc.iter_mut().enumerate() {
        let mut sum = *a;
        for (x, t) in xs.iter().zip(&terms) {
            let x = x[i];
            broken |= u64::from(t.range.breaks::<NAN_FINE>(x));
            sum += t.of::<SCALED>(x);
        }
        *a = sum;
    }
    broken == 0
}

#[inline(always)]
fn add_group<const SCALED: bool, const NAN_FINE: bool>(acc: &mut [f64], xs: &[&[f64]], terms: &[Term]) -> bool {
    match terms.len() {
        1 => add_terms::<1, SCALED, NAN_FINE>(acc, xs, terms),
        2 => add_terms::<2, SCALED, NAN_FINE>(acc, xs, terms),
        3 => add_terms::<3, SCALED, NAN_FINE>(acc, xs, terms),
        _ => add_terms::<GROUP, SCALED, NAN_FINE>(acc, xs, terms),
    }
}

crate::exec::for_each_cpu! {
    /// [`add_terms`] for a group of 1 to [`GROUP`] features, all scaled or none, whose ranges
    /// all let a null through or none.
    fn add_group_for_cpu(acc: &mut [f64], xs: &[&[f64]], terms: &[Term], scaled: bool, nan_fine: bool) -> bool {
        match (scaled, nan_fine) {
            (true, true) => add_group::<true, true>(acc, xs, terms),
            (true, false) => add_group::<true, false>(acc, xs, terms),
            (false, true) => add_group::<false, true>(acc, xs, terms),
            (false, false) => add_group::<false, false>(acc, xs, terms),
        }
    }
}

crate::exec::for_each_cpu! {
    /// [`Linear::finish`] for each CPU, for [`Linear::score_fused`].
    fn finish_for_cpu(model: &Linear, n: usize, out: &mut [f64]) {
        model.finish(n, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feature(input: usize, scaled: bool) -> FusedFeature {
        FusedFeature { input, slot: input, fill: 0.0, scaled, mean: 0.0, scale: 1.0 }
    }

    /// Groups run up to four alike features; a change of scaling, of the null rule or a
    /// feature with no interval rule ends one, and such a feature stands alone.
    #[test]
    fn groups_hold_up_to_four_alike_features() {
        let scaled = [true, true, true, true, true, false, false, true, true, true];
        let fused = Fused { features: scaled.iter().enumerate().map(|(i, &s)| feature(i, s)).collect() };
        let range = |f: &FusedFeature| match f.input {
            7 => None,
            9 => Some(FineRange { nan_fine: false, ..FineRange::any() }),
            _ => Some(FineRange::any()),
        };
        let mut lengths = Vec::new();
        let mut j = 0;
        while j < fused.features.len() {
            let group = fused.group(j, range);
            assert_eq!(group[0].input, j);
            lengths.push(group.len());
            j += group.len();
        }
        assert_eq!(lengths, [4, 1, 2, 1, 1, 1]);
    }
}
