//! Linear and generalized linear models: `eta_k = (sum_j coef_kj * x_j) + intercept_k`, summed
//! in feature order, then the inverse link.

use super::link::{sigmoid64, softmax64};
use crate::artifact::{Link, LinearSpec};
use crate::transform::Block;

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
            let b = self.intercept[k];
            for a in acc.iter_mut() {
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
