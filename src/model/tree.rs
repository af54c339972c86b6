//! Decision-tree ensembles: the prepared layouts and the block scorer.
//!
//! At load every tree is re-laid breadth-first into a contiguous node array, so that the two
//! children of a node are adjacent (`child` and `child + 1`). Rows are scored in blocks with
//! trees outside and rows inside, so each tree stays in cache while it serves the block.
//!
//! Two layouts, chosen per tree:
//! - **Numeric** trees (every split numeric, missing values going a fixed default direction:
//!   XGBoost, scikit-learn, LightGBM with NaN missing) use compact nodes holding the threshold
//!   in the model's input precision (`f32` nodes of 12 bytes, `f64` nodes of 16), a leaf that
//!   points back at itself, and a walk of exactly the tree's depth with no per-node flag test
//!   and no exit branch. That lets [`LANES`] rows walk one tree in lockstep, so the CPU overlaps
//!   their independent loads instead of waiting on one row's chain of dependent loads.
//! - **General** trees (categorical splits, LightGBM's `zero` and `none` missing types) keep the
//!   flagged 24-byte nodes and walk one row at a time.
//!
//! Both make the same comparisons on the same values, and each row adds its trees' leaves in
//! tree order, so results are bit-identical to the straightforward traversal for any blocking
//! and any thread count.

use std::cell::RefCell;
use std::collections::VecDeque;

use super::link::{sigmoid32, sigmoid64, softmax32, softmax64};
use crate::artifact::{Aggregate, Decision, Missing, OutputTransform, Precision, SetGoes, TreeEnsembleSpec, TreeSpec};
use crate::transform::Block;

const LEAF: u32 = u32::MAX;

const F_DEFAULT_LEFT: u8 = 1;
const F_CATEGORICAL: u8 = 2;
const F_SET_LEFT: u8 = 4;
const F_MISSING_ZERO: u8 = 8;
const F_MISSING_AS_ZERO: u8 = 16;

/// Rows that walk a numeric tree together. Eight independent walks are enough to hide the
/// latency of a node load followed by a feature load on current x86 and ARM cores.
pub const LANES: usize = 8;

/// One node of a general tree. For a leaf, `feature == LEAF` and `child` indexes the leaf-value
/// pool.
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

/// Top bit of [`NumericNode::feature`]: a missing (NaN) value goes right.
const NAN_RIGHT: u32 = 1 << 31;

/// One node of a numeric tree: a split `x OP threshold` on a column of the row-major scratch,
/// or a leaf, which reads the scratch's constant-zero column against `+inf` and so always steps
/// to `child`, itself.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct NumericNode<T> {
    threshold: T,
    /// Column in the row-major scratch, with [`NAN_RIGHT`] set when NaN goes right.
    feature: u32,
    /// Left child (right is `child + 1`); a leaf's own index.
    child: u32,
}

/// A split value type of numeric trees: `f32` where the model compares f32-rounded inputs,
/// `f64` otherwise.
trait SplitValue: Copy + PartialOrd + std::fmt::Debug + 'static {
    const ZERO: Self;
    const INFINITY: Self;
    /// The threshold `t'` of this type with `x < t' <=> x < t` (`less`), or
    /// `x <= t' <=> x <= t`, for every input `x` of this type.
    fn threshold(t: f64, less: bool) -> Self;
    /// An input value, from a block value already rounded to the model's input precision.
    fn input(x: f64) -> Self;
    /// Run `f` with this thread's row-major scratch (kept between calls: no allocation per
    /// block once it has grown to size).
    fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R;
}

thread_local! {
    static SCRATCH32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    static SCRATCH64: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

impl SplitValue for f32 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f32::INFINITY;
    fn threshold(t: f64, less: bool) -> Self {
        // For f32 inputs v: `v < t` holds exactly when `v < t32` where t32 is the least f32 at
        // or above t (no f32 lies in [t, t32)); `v <= t` exactly when `v <= t32` where t32 is the
        // greatest f32 at or below t.
        let near = t as f32;
        if less && f64::from(near) < t {
            next_up(near)
        } else if !less && f64::from(near) > t {
            next_down(near)
        } else {
            near
        }
    }
    #[inline(always)]
    fn input(x: f64) -> Self {
        x as f32
    }
    fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
        SCRATCH32.with(|s| f(&mut s.borrow_mut()))
    }
}

impl SplitValue for f64 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f64::INFINITY;
    fn threshold(t: f64, _less: bool) -> Self {
        t
    }
    #[inline(always)]
    fn input(x: f64) -> Self {
        x
    }
    fn with_scratch<R>(f: impl FnOnce(&mut Vec<Self>) -> R) -> R {
        SCRATCH64.with(|s| f(&mut s.borrow_mut()))
    }
}

/// The least f32 above `x` (`x` finite or -inf; +inf stays).
fn next_up(x: f32) -> f32 {
    if x == f32::INFINITY {
        x
    } else if x == 0.0 {
        f32::from_bits(1)
    } else if x > 0.0 {
        f32::from_bits(x.to_bits() + 1)
    } else {
        f32::from_bits(x.to_bits() - 1)
    }
}

/// The greatest f32 below `x` (`x` finite or +inf; -inf stays).
fn next_down(x: f32) -> f32 {
    -next_up(-x)
}

/// Where a tree lives and how it is walked.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// In the numeric node array: walk exactly `depth` steps from `root`.
    Numeric { root: u32, depth: u32 },
    /// In the general node array.
    General { root: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Tree {
    layout: Layout,
    /// First target the tree adds into, and values per leaf.
    target: u32,
    width: u32,
}

/// The numeric node array in the model's input precision.
#[derive(Debug, Clone)]
enum NumericNodes {
    F32(Vec<NumericNode<f32>>),
    F64(Vec<NumericNode<f64>>),
}

#[derive(Debug, Clone)]
pub struct TreeEnsemble {
    trees: Vec<Tree>,
    numeric: NumericNodes,
    /// Per numeric node: the first value of its leaf in `leaf_values` (unused for splits).
    numeric_leaf: Vec<u32>,
    general: Vec<Node>,
    /// Leaf values, `width` per leaf, per tree.
    leaf_values: Vec<f64>,
    /// Category bitsets: (start word, word count) into `words`.
    bitsets: Vec<(u32, u32)>,
    words: Vec<u32>,
    /// Distinct feature slots read by the model (for input rounding).
    feature_slots: Vec<usize>,
    /// Block slot of each column of the numeric trees' row-major scratch (the last column, the
    /// constant zero that leaves read, has none).
    scratch_slots: Vec<usize>,
    has_general: bool,
    has_numeric: bool,
    base: Vec<f64>,
    n_targets: usize,
    aggregate: Aggregate,
    less: bool,
    input32: bool,
    acc32: bool,
    transform: OutputTransform,
}

/// Whether every split of `tree` can take the numeric layout.
fn is_numeric(tree: &TreeSpec) -> bool {
    tree.category_splits.is_empty() && tree.missing.iter().all(|m| *m == Missing::Nan)
}

impl TreeEnsemble {
    /// Prepare an ensemble validated by `artifact`; `slots[f]` is the scratch slot of feature `f`.
    pub fn new(spec: &TreeEnsembleSpec, slots: &[usize]) -> Self {
        let less = spec.decision == Decision::Less;
        let input32 = spec.input_precision == Precision::Float32;
        let feature_slots = {
            let mut s: Vec<usize> = slots.to_vec();
            s.sort_unstable();
            s.dedup();
            s
        };
        // Scratch column of each model feature: its position among the distinct slots.
        let column: Vec<u32> = slots.iter().map(|s| feature_slots.binary_search(s).expect("listed") as u32).collect();
        let zero_column = feature_slots.len() as u32;
        let mut m = TreeEnsemble {
            trees: Vec::with_capacity(spec.trees.len()),
            numeric: if input32 { NumericNodes::F32(Vec::new()) } else { NumericNodes::F64(Vec::new()) },
            numeric_leaf: Vec::new(),
            general: Vec::new(),
            leaf_values: Vec::new(),
            bitsets: Vec::new(),
            words: Vec::new(),
            scratch_slots: feature_slots.clone(),
            feature_slots,
            has_general: false,
            has_numeric: false,
            base: if spec.base_score.is_empty() { vec![0.0; spec.n_targets] } else { spec.base_score.clone() },
            n_targets: spec.n_targets,
            aggregate: spec.aggregate,
            less,
            input32,
            acc32: spec.accumulate == Precision::Float32,
            transform: spec.transform,
        };
        for tree in &spec.trees {
            let layout = if is_numeric(tree) {
                m.has_numeric = true;
                match &mut m.numeric {
                    NumericNodes::F32(nodes) => lay_numeric(tree, nodes, &mut m.numeric_leaf, &mut m.leaf_values, &column, zero_column, less),
                    NumericNodes::F64(nodes) => lay_numeric(tree, nodes, &mut m.numeric_leaf, &mut m.leaf_values, &column, zero_column, less),
                }
            } else {
                m.has_general = true;
                m.lay_general(tree, slots)
            };
            m.trees.push(Tree { layout, target: tree.target, width: tree.leaf_width });
        }
        m
    }

    fn lay_general(&mut self, tree: &TreeSpec, slots: &[usize]) -> Layout {
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

    pub fn n_outputs(&self) -> usize {
        self.n_targets
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
        // LightGBM's `Zero` missing type treats |x| <= 1e-35 (kZeroThreshold) as missing.
        if node.flags & F_MISSING_ZERO != 0 && x.abs() <= 1e-35 {
            return node.flags & F_DEFAULT_LEFT != 0;
        }
        if self.less { x < node.threshold } else { x <= node.threshold }
    }

    #[inline(always)]
    fn accumulate(&self, a: &mut f64, v: f64) {
        *a = if self.acc32 { (*a as f32 + v as f32) as f64 } else { *a + v };
    }

    pub fn score_block(&self, block: &mut Block<'_>, out: &mut [f64]) {
        let n = block.len;
        // General trees read the block itself; numeric trees read the scratch, converted from
        // the block in `fill_scratch` (where `as f32` is the same rounding).
        if self.input32 && self.has_general {
            for &s in &self.feature_slots {
                for x in block.num_mut(s) {
                    *x = *x as f32 as f64;
                }
            }
        }
        for k in 0..self.n_targets {
            let init = if self.aggregate == Aggregate::Sum { self.base[k] } else { 0.0 };
            let init = if self.acc32 { init as f32 as f64 } else { init };
            out[k * n..(k + 1) * n].fill(init);
        }
        match &self.numeric {
            NumericNodes::F32(nodes) => self.score_trees(nodes, block, out),
            NumericNodes::F64(nodes) => self.score_trees(nodes, block, out),
        }
        if self.aggregate == Aggregate::Average {
            let trees = self.trees.len() as f64;
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

    /// Add every tree's leaves into `out`, tree by tree.
    fn score_trees<T: SplitValue>(&self, nodes: &[NumericNode<T>], block: &Block<'_>, out: &mut [f64]) {
        let n = block.len;
        let (num, stride) = block.num_all();
        T::with_scratch(|scratch| {
            let width = self.scratch_slots.len() + 1;
            if self.has_numeric {
                self.fill_scratch(scratch, block);
            }
            for tree in &self.trees {
                let target = tree.target as usize;
                let w = tree.width as usize;
                match tree.layout {
                    Layout::Numeric { root, depth } => {
                        let visit = |i: usize, leaf: u32| {
                            let first = self.numeric_leaf[leaf as usize] as usize;
                            for (k, &v) in self.leaf_values[first..first + w].iter().enumerate() {
                                self.accumulate(&mut out[(target + k) * n + i], v);
                            }
                        };
                        if self.less {
                            walk_numeric::<T, true>(nodes, scratch, width, root, depth, n, visit);
                        } else {
                            walk_numeric::<T, false>(nodes, scratch, width, root, depth, n, visit);
                        }
                    }
                    Layout::General { root } => {
                        for i in 0..n {
                            let mut node = &self.general[root as usize];
                            while node.feature != LEAF {
                                let x = num[node.feature as usize * stride + i];
                                let next = node.child + u32::from(!self.goes_left(node, x));
                                node = &self.general[next as usize];
                            }
                            let first = node.child as usize;
                            for (k, &v) in self.leaf_values[first..first + w].iter().enumerate() {
                                self.accumulate(&mut out[(target + k) * n + i], v);
                            }
                        }
                    }
                }
            }
        })
    }

    /// Transpose the block's feature slots into the row-major scratch of the numeric trees:
    /// `width` values per row (the features, then a constant zero), rows padded with zeros to a
    /// whole number of lanes so every lockstep group reads valid values.
    fn fill_scratch<T: SplitValue>(&self, scratch: &mut Vec<T>, block: &Block<'_>) {
        let n = block.len;
        let width = self.scratch_slots.len() + 1;
        let rows = n.div_ceil(LANES) * LANES;
        scratch.clear();
        scratch.resize(rows * width, T::ZERO);
        for (j, &slot) in self.scratch_slots.iter().enumerate() {
            for (i, &x) in block.num(slot).iter().enumerate() {
                scratch[i * width + j] = T::input(x);
            }
        }
    }
}

/// Lay `tree` out breadth-first into the numeric node array; returns its layout.
fn lay_numeric<T: SplitValue>(
    tree: &TreeSpec,
    nodes: &mut Vec<NumericNode<T>>,
    numeric_leaf: &mut Vec<u32>,
    leaf_values: &mut Vec<f64>,
    column: &[u32],
    zero_column: u32,
    less: bool,
) -> Layout {
    let width = tree.leaf_width as usize;
    let root = nodes.len();
    let mut depth = 0;
    let mut queue = VecDeque::from([(0usize, root, 0u32)]);
    nodes.push(NumericNode { threshold: T::INFINITY, feature: zero_column, child: root as u32 });
    numeric_leaf.push(0);
    while let Some((src, dst, level)) = queue.pop_front() {
        depth = depth.max(level);
        let f = tree.feature[src];
        if f < 0 {
            // Leaf: `0 < inf` and `0 <= inf` both go left, to `child`, which is itself.
            nodes[dst] = NumericNode { threshold: T::INFINITY, feature: zero_column, child: dst as u32 };
            numeric_leaf[dst] = leaf_values.len() as u32;
            leaf_values.extend_from_slice(&tree.value[src * width..(src + 1) * width]);
            continue;
        }
        let child = nodes.len();
        for _ in 0..2 {
            nodes.push(NumericNode { threshold: T::INFINITY, feature: zero_column, child: 0 });
            numeric_leaf.push(0);
        }
        queue.push_back((tree.left[src] as usize, child, level + 1));
        queue.push_back((tree.right[src] as usize, child + 1, level + 1));
        let default_left = tree.default_left.get(src).copied().unwrap_or(false);
        let nan = if default_left { 0 } else { NAN_RIGHT };
        nodes[dst] = NumericNode { threshold: T::threshold(tree.threshold[src], less), feature: column[f as usize] | nan, child: child as u32 };
    }
    Layout::Numeric { root: root as u32, depth }
}

/// One step of a numeric walk: the index of the next node (a leaf's is itself).
#[inline(always)]
fn step<T: SplitValue, const LESS: bool>(nodes: &[NumericNode<T>], at: u32, row: &[T]) -> u32 {
    let node = nodes[at as usize];
    let x = row[(node.feature & !NAN_RIGHT) as usize];
    // `ordered_right` is false for NaN and `unordered_right` true, and they agree otherwise:
    // NaN goes right exactly when the node's NAN_RIGHT bit is set, without a branch.
    let (unordered_right, ordered_right) =
        if LESS { (!(x < node.threshold), x >= node.threshold) } else { (!(x <= node.threshold), x > node.threshold) };
    let go_right = u32::from(unordered_right) & (u32::from(ordered_right) | (node.feature >> 31));
    node.child + go_right
}

/// Walk every row of the scratch (`width` values per row, padded to whole lanes) through the
/// numeric tree at `root`, [`LANES`] rows in lockstep, calling `visit(row, leaf)` in row order.
#[inline(always)]
fn walk_numeric<T: SplitValue, const LESS: bool>(
    nodes: &[NumericNode<T>],
    scratch: &[T],
    width: usize,
    root: u32,
    depth: u32,
    n_rows: usize,
    mut visit: impl FnMut(usize, u32),
) {
    for (g, group) in scratch.chunks_exact(width * LANES).enumerate() {
        let rows: [&[T]; LANES] = std::array::from_fn(|r| &group[r * width..(r + 1) * width]);
        let mut at = [root; LANES];
        for _ in 0..depth {
            for r in 0..LANES {
                at[r] = step::<T, LESS>(nodes, at[r], rows[r]);
            }
        }
        let first = g * LANES;
        for (r, &leaf) in at.iter().enumerate().take(n_rows.saturating_sub(first)) {
            visit(first + r, leaf);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The f32 threshold must make the same decision as the f64 one for every f32 input; the
    /// inputs that can disagree are the f32 neighbours of the threshold.
    #[test]
    fn f32_thresholds_decide_like_f64() {
        let mut seeds = vec![0.0, -0.0, 1.0, 0.1, -0.1, 1e-40, -1e-40, 1e-46, 3.4028235677973366e38, 3.5e38, -3.5e38, 1e300, f64::INFINITY, f64::NEG_INFINITY];
        let mut x = 0x1234_5678_9abc_def0u64;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            seeds.push(f64::from_bits(x) % 1e6);
        }
        for &t in seeds.iter().filter(|t| !t.is_nan()) {
            let near = t as f32;
            let mut probes = vec![near, next_up(near), next_down(near), f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0];
            probes.push(next_up(next_up(near)));
            probes.push(next_down(next_down(near)));
            for less in [true, false] {
                let t32 = <f32 as SplitValue>::threshold(t, less);
                for &v in &probes {
                    let (want, got) = if less { (f64::from(v) < t, v < t32) } else { (f64::from(v) <= t, v <= t32) };
                    assert_eq!(want, got, "threshold {t:e} (f32 {t32:e}), input {v:e}, less {less}");
                }
            }
        }
    }
}
