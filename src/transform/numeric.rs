//! Per-value numeric steps: impute, standard scale, min-max scale, clip, log1p, bucketize.
//! Nulls (NaN) pass through every step but impute unchanged.

use super::Block;
use crate::verify::RowStatus;

#[derive(Debug, Clone, PartialEq)]
pub enum NumericOp {
    /// NaN becomes the value.
    Impute(f64),
    /// `(x - mean) / scale`, in that order (scikit-learn's `StandardScaler.transform`).
    StandardScale { mean: f64, scale: f64 },
    /// `x * scale + offset`, in that order (scikit-learn's `MinMaxScaler.transform`).
    MinMaxScale { scale: f64, offset: f64 },
    Clip { min: f64, max: f64 },
    /// `ln(1 + x)`; `x <= -1` flags the row with `domain_error` and gives NaN.
    Log1p,
    /// Number of edges `<= x`.
    Bucketize(Vec<f64>),
}

#[derive(Debug, Clone)]
pub struct NumericStep {
    pub src: usize,
    pub dst: usize,
    pub op: NumericOp,
    /// Reason id reported when this step flags a row.
    pub reason: i32,
}

impl NumericStep {
    /// Always inlined: compiled into each CPU version of `transform::apply_all`.
    #[inline(always)]
    pub fn apply(&self, block: &mut Block<'_>) {
        let reason = self.reason;
        match &self.op {
            &NumericOp::Impute(v) => block.num_map(self.src, self.dst, |x| if x.is_nan() { v } else { x }),
            &NumericOp::StandardScale { mean, scale } => block.num_map(self.src, self.dst, |x| (x - mean) / scale),
            &NumericOp::MinMaxScale { scale, offset } => block.num_map(self.src, self.dst, |x| x * scale + offset),
            &NumericOp::Clip { min, max } => {
                for x in block.num_into(self.src, self.dst) {
                    // NaN fails both comparisons and stays NaN.
                    if *x < min {
                        *x = min;
                    } else if *x > max {
                        *x = max;
                    }
                }
            }
            NumericOp::Log1p => {
                let (xs, mut flags) = block.num_into_flagged(self.src, self.dst);
                for (i, x) in xs.iter_mut().enumerate() {
                    if *x <= -1.0 {
                        *x = f64::NAN;
                        flags.flag(i, RowStatus::DomainError, reason);
                    } else {
                        *x = x.ln_1p();
                    }
                }
            }
            NumericOp::Bucketize(edges) => {
                for x in block.num_into(self.src, self.dst) {
                    if !x.is_nan() {
                        *x = edges.partition_point(|e| *e <= *x) as f64;
                    }
                }
            }
        }
    }
}
