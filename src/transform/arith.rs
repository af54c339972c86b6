//! Arithmetic between two numeric columns: ratio, difference, product, sum.

use super::Block;
use crate::artifact::ArithOp;

#[derive(Debug, Clone)]
pub struct Arithmetic {
    pub op: ArithOp,
    pub left: usize,
    pub right: usize,
    pub dst: usize,
}

impl Arithmetic {
    /// Always inlined: compiled into each CPU version of `transform::apply_all`.
    #[inline(always)]
    pub fn apply(&self, block: &mut Block<'_>) {
        let (a, b, d) = (self.left, self.right, self.dst);
        match self.op {
            // A zero denominator gives a null rather than an infinity the model never saw.
            ArithOp::Ratio => block.binary(a, b, d, |x, y| if y == 0.0 { f64::NAN } else { x / y }),
            ArithOp::Difference => block.binary(a, b, d, |x, y| x - y),
            ArithOp::Product => block.binary(a, b, d, |x, y| x * y),
            ArithOp::Sum => block.binary(a, b, d, |x, y| x + y),
        }
    }
}
