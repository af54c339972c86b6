//! General trees: flagged nodes for categorical splits and LightGBM's `zero` and `none`
//! missing types, walked one row at a time.

#![expect(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "`!(x >= 0.0)` holds for NaN too, which is no category and takes the default direction"
)]

use std::collections::VecDeque;

use super::{Layout, TreeEnsemble};
use crate::artifact::{Missing, SetGoes, TreeSpec};

const LEAF: u32 = u32::MAX;

const F_DEFAULT_LEFT: u8 = 1;
const F_CATEGORICAL: u8 = 2;
const F_SET_LEFT: u8 = 4;
const F_MISSING_ZERO: u8 = 8;
const F_MISSING_AS_ZERO: u8 = 16;

/// One node of a general tree. For a leaf, `feature == LEAF` and `child` indexes the leaf-value
/// pool.
#[derive(Debug, Clone, Copy)]
pub(super) struct Node {
    threshold: f64,
    /// Scratch slot of the split feature (already resolved), or `LEAF`.
    feature: u32,
    /// Left child (right is `child + 1`), or the leaf's first value.
    child: u32,
    /// For categorical splits: index into `bitsets`.
    cat: u32,
    flags: u8,
}

impl TreeEnsemble {
    pub(super) fn lay_general(&mut self, tree: &TreeSpec, slots: &[usize]) -> Layout {
        let width = tree.leaf_width as usize;
        let mut cat_of = vec![None; tree.feature.len()];
        for s in &tree.category_splits {
            cat_of[s.node as usize] = Some(s);
        }
        let root = self.general.len() as u32;
        // Breadth-first: each node's children are appended together, so right = left + 1.
        let mut queue = VecDeque::from([(0usize, root as usize)]);
        self.general.push(Node { threshold: 0.0, feature: LEAF, child: 0, cat: 0, flags: 0 });
        while let Some((src, dst)) = queue.pop_front() {
            let f = tree.feature[src];
            if f < 0 {
                self.general[dst].child = self.leaf_values.len() as u32;
                self.leaf_values.extend_from_slice(&tree.value[src * width..(src + 1) * width]);
                continue;
            }
            let child = self.general.len();
            self.general.push(Node { threshold: 0.0, feature: LEAF, child: 0, cat: 0, flags: 0 });
            self.general.push(Node { threshold: 0.0, feature: LEAF, child: 0, cat: 0, flags: 0 });
            queue.push_back((tree.left[src] as usize, child));
            queue.push_back((tree.right[src] as usize, child + 1));
            let mut flags = 0u8;
            if tree.default_left.get(src).copied().unwrap_or(false) {
                flags |= F_DEFAULT_LEFT;
            }
            match tree.missing.get(src).copied().unwrap_or_default() {
                Missing::Nan => {}
                Missing::Zero => flags |= F_MISSING_ZERO,
                Missing::AsZero => flags |= F_MISSING_AS_ZERO,
            }
            let mut cat = 0;
            if let Some(split) = cat_of[src] {
                flags |= F_CATEGORICAL;
                if split.goes == SetGoes::Left {
                    flags |= F_SET_LEFT;
                }
                let max = split.categories.iter().copied().max().unwrap_or(0);
                let n_words = if split.categories.is_empty() { 0 } else { max / 32 + 1 };
                let start = self.words.len();
                self.words.resize(start + n_words as usize, 0);
                for &c in &split.categories {
                    self.words[start + (c / 32) as usize] |= 1 << (c % 32);
                }
                cat = self.bitsets.len() as u32;
                self.bitsets.push((start as u32, n_words));
            }
            self.general[dst] = Node { threshold: tree.threshold[src], feature: slots[f as usize] as u32, child: child as u32, cat, flags };
        }
        Layout::General { root }
    }

    /// Walk row `i` of the block's numbers (`num`, column `f` at `f * stride`) through the general
    /// tree at `root`, one node at a time; returns where its leaf's values start.
    #[inline(always)]
    pub(super) fn general_leaf(&self, root: u32, num: &[f64], stride: usize, i: usize) -> usize {
        let mut node = &self.general[root as usize];
        while node.feature != LEAF {
            let x = num[node.feature as usize * stride + i];
            let next = node.child + u32::from(!self.goes_left(node, x));
            node = &self.general[next as usize];
        }
        node.child as usize
    }

    /// Whether row value `x` goes left at general `node`.
    #[inline(always)]
    fn goes_left(&self, node: &Node, mut x: f64) -> bool {
        if node.flags & F_CATEGORICAL != 0 {
            if !(x >= 0.0) || x.fract() != 0.0 || x > u32::MAX as f64 {
                return node.flags & F_DEFAULT_LEFT != 0;
            }
            let c = x as u32;
            let (start, n_words) = self.bitsets[node.cat as usize];
            let w = c / 32;
            let in_set = w < n_words && (self.words[(start + w) as usize] >> (c % 32)) & 1 == 1;
            return in_set == (node.flags & F_SET_LEFT != 0);
        }
        if x.is_nan() {
            if node.flags & (F_MISSING_ZERO | F_MISSING_AS_ZERO) == 0 {
                return node.flags & F_DEFAULT_LEFT != 0;
            }
            x = 0.0;
        }
        // LightGBM's `Zero` missing type treats |x| <= kZeroThreshold as missing; LightGBM
        // declares it `const double kZeroThreshold = 1e-35f`, the float literal widened.
        if node.flags & F_MISSING_ZERO != 0 && x.abs() <= 1e-35f32 as f64 {
            return node.flags & F_DEFAULT_LEFT != 0;
        }
        if self.less { x < node.threshold } else { x <= node.threshold }
    }
}
