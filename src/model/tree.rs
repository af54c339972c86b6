//! Decision-tree ensembles: the prepared layout and the block scorer.
//!
//! At load every tree is re-laid into one contiguous node array for the whole ensemble, in
//! breadth-first order so that the two children of a node are adjacent (`child` and
//! `child + 1`): one index per node, no pointer chasing through separate arrays. Rows are
//! scored in blocks with trees outside and rows inside, so each tree stays in cache while it
//! serves the block. Per-row arithmetic never depends on the block, so results are identical
//! for any blocking and any thread count.

use std::collections::VecDeque;

use super::link::{sigmoid32, sigmoid64, softmax32, softmax64};
use crate::artifact::{Aggregate, Decision, Missing, OutputTransform, Precision, SetGoes, TreeEnsembleSpec};
use crate::transform::Block;

const LEAF: u32 = u32::MAX;

const F_DEFAULT_LEFT: u8 = 1;
const F_CATEGORICAL: u8 = 2;
const F_SET_LEFT: u8 = 4;
const F_MISSING_ZERO: u8 = 8;
const F_MISSING_AS_ZERO: u8 = 16;

/// One node. For a leaf, `feature == LEAF` and `child` indexes the leaf-value pool.
#[derive(Debug, Clone, Copy)]
struct Node {
    threshold: f64,
    /// Scratch slot of the split feature (already resolved), or `LEAF`.
    feature: u32,
    /// Left child (right is `child + 1`), or the leaf's first value.
    child: u32,
    /// For categorical splits: index into `bitsets`.
    cat: u32,
    flags: u8,
}

#[derive(Debug, Clone)]
pub struct TreeEnsemble {
    nodes: Vec<Node>,
    /// Root node and first target of each tree.
    roots: Vec<(u32, u32)>,
    /// Leaf values, `leaf_width` per leaf, per tree.
    leaf_values: Vec<f64>,
    leaf_width: Vec<u32>,
    /// Category bitsets: (start word, word count) into `words`.
    bitsets: Vec<(u32, u32)>,
    words: Vec<u32>,
    /// Distinct feature slots read by the model (for input rounding).
    feature_slots: Vec<usize>,
    base: Vec<f64>,
    n_targets: usize,
    aggregate: Aggregate,
    less: bool,
    input32: bool,
    acc32: bool,
    transform: OutputTransform,
}

impl TreeEnsemble {
    /// Prepare an ensemble validated by `artifact`; `slots[f]` is the scratch slot of feature `f`.
    pub fn new(spec: &TreeEnsembleSpec, slots: &[usize]) -> Self {
        let mut m = TreeEnsemble {
            nodes: Vec::new(),
            roots: Vec::with_capacity(spec.trees.len()),
            leaf_values: Vec::new(),
            leaf_width: Vec::with_capacity(spec.trees.len()),
            bitsets: Vec::new(),
            words: Vec::new(),
            feature_slots: {
                let mut s: Vec<usize> = slots.to_vec();
                s.sort_unstable();
                s.dedup();
                s
            },
            base: if spec.base_score.is_empty() { vec![0.0; spec.n_targets] } else { spec.base_score.clone() },
            n_targets: spec.n_targets,
            aggregate: spec.aggregate,
            less: spec.decision == Decision::Less,
            input32: spec.input_precision == Precision::Float32,
            acc32: spec.accumulate == Precision::Float32,
            transform: spec.transform,
        };
        for tree in &spec.trees {
            let width = tree.leaf_width as usize;
            let mut cat_of = vec![None; tree.feature.len()];
            for s in &tree.category_splits {
                cat_of[s.node as usize] = Some(s);
            }
            let root = m.nodes.len() as u32;
            m.roots.push((root, tree.target));
            m.leaf_width.push(tree.leaf_width);
            // Breadth-first: each node's children are appended together, so right = left + 1.
            let mut queue = VecDeque::from([(0usize, root as usize)]);
            m.nodes.push(Node { threshold: 0.0, feature: LEAF, child: 0, cat: 0, flags: 0 });
            while let Some((src, dst)) = queue.pop_front() {
                let f = tree.feature[src];
                if f < 0 {
                    m.nodes[dst].child = m.leaf_values.len() as u32;
                    m.leaf_values.extend_from_slice(&tree.value[src * width..(src + 1) * width]);
                    continue;
                }
                let child = m.nodes.len();
                m.nodes.push(Node { threshold: 0.0, feature: LEAF, child: 0, cat: 0, flags: 0 });
                m.nodes.push(Node { threshold: 0.0, feature: LEAF, child: 0, cat: 0, flags: 0 });
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
                    let start = m.words.len();
                    m.words.resize(start + n_words as usize, 0);
                    for &c in &split.categories {
                        m.words[start + (c / 32) as usize] |= 1 << (c % 32);
                    }
                    cat = m.bitsets.len() as u32;
                    m.bitsets.push((start as u32, n_words));
                }
                m.nodes[dst] = Node { threshold: tree.threshold[src], feature: slots[f as usize] as u32, child: child as u32, cat, flags };
            }
        }
        m
    }

    pub fn n_outputs(&self) -> usize {
        self.n_targets
    }

    /// Whether row value `x` goes left at `node`.
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

    pub fn score_block(&self, block: &mut Block<'_>, out: &mut [f64]) {
        let n = block.len;
        if self.input32 {
            for &s in &self.feature_slots {
                for x in block.num_mut(s) {
                    *x = *x as f32 as f64;
                }
            }
        }
        let (num, stride) = block.num_all();
        for k in 0..self.n_targets {
            let init = if self.aggregate == Aggregate::Sum { self.base[k] } else { 0.0 };
            let init = if self.acc32 { init as f32 as f64 } else { init };
            out[k * n..(k + 1) * n].fill(init);
        }
        for (t, &(root, target)) in self.roots.iter().enumerate() {
            let width = self.leaf_width[t] as usize;
            for i in 0..n {
                let mut node = &self.nodes[root as usize];
                while node.feature != LEAF {
                    let x = num[node.feature as usize * stride + i];
                    let next = node.child + u32::from(!self.goes_left(node, x));
                    node = &self.nodes[next as usize];
                }
                let leaf = &self.leaf_values[node.child as usize..node.child as usize + width];
                for (k, &v) in leaf.iter().enumerate() {
                    let a = &mut out[(target as usize + k) * n + i];
                    *a = if self.acc32 { (*a as f32 + v as f32) as f64 } else { *a + v };
                }
            }
        }
        if self.aggregate == Aggregate::Average {
            let trees = self.roots.len() as f64;
            for k in 0..self.n_targets {
                for a in &mut out[k * n..(k + 1) * n] {
                    *a = if self.acc32 { (*a as f32 / trees as f32 + self.base[k] as f32) as f64 } else { *a / trees + self.base[k] };
                }
            }
        }
        match self.transform {
            OutputTransform::Identity => {}
            OutputTransform::Sigmoid => {
                let f = if self.acc32 { sigmoid32 } else { sigmoid64 };
                out.iter_mut().for_each(|v| *v = f(*v));
            }
            OutputTransform::ScaledSigmoid { scale } => {
                // The product is rounded once, as LightGBM's `-sigmoid_ * x` is (negation is exact).
                if self.acc32 {
                    let s = scale as f32;
                    out.iter_mut().for_each(|v| *v = sigmoid32((s * *v as f32) as f64));
                } else {
                    out.iter_mut().for_each(|v| *v = sigmoid64(scale * *v));
                }
            }
            OutputTransform::Exp => {
                if self.acc32 {
                    out.iter_mut().for_each(|v| *v = (*v as f32).exp() as f64);
                } else {
                    out.iter_mut().for_each(|v| *v = v.exp());
                }
            }
            OutputTransform::Softmax => {
                for i in 0..n {
                    if self.acc32 {
                        softmax32(out, n, self.n_targets, i);
                    } else {
                        softmax64(out, n, self.n_targets, i);
                    }
                }
            }
        }
    }
}
