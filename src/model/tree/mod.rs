//! Decision-tree ensembles: the prepared layouts and the block scorer.
//!
//! At load every tree is re-laid breadth-first into a contiguous node array, so that the two
//! children of a node are adjacent (`child` and `child + 1`). Rows are scored in blocks with
//! trees outside and rows inside, so each tree stays in cache while it serves the block.
//!
//! Two layouts, chosen per tree:
//! - **Numeric** trees (every split numeric, missing values going a fixed default direction:
//!   XGBoost, scikit-learn, LightGBM with NaN missing) use compact nodes holding the threshold
//!   in the model's input precision (`f32` nodes of 8 bytes and `f64` nodes of 12, or 12 and
//!   16 where a child lies beyond a 16-bit reach), the child as an index into a window shared
//!   by a run of 16 trees in large models ([`WindowNode`]: no bounds check per step) or as an
//!   offset in smaller ones, a leaf that points back at itself, and a walk of exactly the
//!   tree's depth with no per-node flag test and no exit branch. That lets [`LANES`] rows walk one tree in lockstep, so the CPU overlaps
//!   their independent loads instead of waiting on one row's chain of dependent loads.
//! - **General** trees (categorical splits, LightGBM's `zero` and `none` missing types) keep the
//!   flagged 24-byte nodes and walk one row at a time.
//!
//! Both make the same comparisons on the same values, and each row adds its trees' leaves in
//! tree order, so results are bit-identical to the straightforward traversal for any blocking
//! and any thread count.
//!
//! The parts: `node` (the numeric node types and the walk step they share), `value`
//! (thresholds in the input precision), `layout` (laying trees out at load), `walk`
//! (scoring a block: the lockstep and refilling walks, and the one-row walk by runs of
//! trees) and `general` (the flagged nodes of trees with categorical splits or other missing
//! types).

mod general;
mod layout;
mod node;
mod value;
mod walk;
#[cfg(test)]
mod tests;

use super::link::{sigmoid32, sigmoid64, softmax32, softmax64};
use crate::artifact::{Aggregate, Decision, OutputTransform, Precision, TreeEnsembleSpec};
use crate::transform::Block;
use general::Node;
use layout::{lay_numeric, pad_nodes, tree_runs, Leaves, SharedLeaves, LINE_NODES};
use node::{compact_nodes, window_nodes, CompactNode, NumericNode, WindowNode, NODE_WINDOW};

/// Rows that walk a numeric tree together. Sixteen independent walks hide the
/// latency of a node load followed by a feature load (measured: 16 beat 8 by ~5%, 4 lost ~25%).
pub const LANES: usize = 16;

/// Trees deeper than this stop walking a group once all its lanes have reached leaves,
/// checked every [`EXIT_CHECK_LEVELS`] levels past this depth; shallower ones walk their full
/// depth (the check would cost more than the steps it saves).
const EXIT_CHECK_FROM: u32 = 8;
const EXIT_CHECK_LEVELS: u32 = 3;

/// Where a tree lives and how it is walked.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// In the numeric node array: walk exactly `depth` steps from `root`; with `refill`, a
    /// block's rows walk it in `walk::walk_refill`'s way. Window nodes (see [`WindowNode`]) index
    /// the tree from `window`, where its run's window starts.
    Numeric { root: u32, depth: u32, refill: bool, window: u32 },
    /// In the general node array.
    General { root: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Tree {
    layout: Layout,
    /// First target the tree adds into, and values per leaf.
    target: u32,
    width: u32,
    /// Where the tree's leaf values start in `leaf_values` (numeric trees).
    leaf_base: u32,
}

/// The numeric node array in the model's input precision.
#[derive(Debug, Clone)]
enum NumericNodes {
    F32(Vec<NumericNode<f32>>),
    F32Compact(Vec<CompactNode<f32>>),
    F64(Vec<NumericNode<f64>>),
    F64Compact(Vec<CompactNode<f64>>),
    F32Window(Vec<WindowNode<f32>>),
    F64Window(Vec<WindowNode<f64>>),
}

/// Consecutive trees that a small block scores together, one row at a time: up to [`LANES`]
/// numeric trees walked in lockstep (the lanes are trees instead of rows), or one general tree.
#[derive(Debug, Clone, Copy)]
struct TreeRun {
    first: u32,
    len: u32,
    /// Steps that take every tree of a numeric run to its leaf (its deepest tree's depth).
    depth: u32,
    numeric: bool,
    /// A numeric run's roots, where its walk starts each lane: indices into the run's window
    /// for window nodes, else into the node array (0 past the run's trees). Kept here, the
    /// one-row walk's lanes start with one load each rather than a read (and a variant check)
    /// of each tree's layout. One row of 500x8, Zen 3 host, interleaved rounds: C driver
    /// median 5.19-5.25 -> 4.85-5.14 us (five rounds); a scratch loop over 1,024 rows, best
    /// mean of five, 4.64-5.12 -> 4.32-4.72 us (four rounds).
    roots: [u32; LANES],
}

/// Blocks of fewer rows than this walk the trees one row at a time, [`LANES`] trees in lockstep,
/// instead of the rows in lockstep: a one-row call then still has sixteen independent walks in
/// flight rather than one.
const FEW_ROWS: usize = 4;

#[derive(Debug, Clone)]
pub struct TreeEnsemble {
    trees: Vec<Tree>,
    runs: Vec<TreeRun>,
    numeric: NumericNodes,
    general: Vec<Node>,
    /// Leaf values, `width` per leaf, per tree.
    leaf_values: Vec<f64>,
    /// The same values in f32 where the model accumulates in f32 (`leaf_values` is then
    /// empty): every addition rounds a leaf value to f32 first, so keeping it rounded is exact,
    /// and half the bytes.
    leaf_values32: Vec<f32>,
    /// Category bitsets: (start word, word count) into `words`.
    bitsets: Vec<(u32, u32)>,
    words: Vec<u32>,
    /// Distinct feature slots read by the model (for input rounding).
    feature_slots: Vec<usize>,
    /// Block slot of each feature column of the numeric trees' row-major scratch (from column
    /// 1: column 0 is [`NAN_COLUMN`](node::NAN_COLUMN)).
    scratch_slots: Vec<usize>,
    has_general: bool,
    has_numeric: bool,
    /// Whether numeric leaves hold their value itself (see [`TreeEnsemble::new`]).
    inline_leaves: bool,
    /// Whether the numeric walks index with masks (see [`pad_nodes`]): for models whose trees
    /// go deeper than [`EXIT_CHECK_FROM`] and that do not take window nodes.
    masked_walk: bool,
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
        let n_columns = feature_slots.len() as u32;
        let mut m = TreeEnsemble {
            trees: Vec::with_capacity(spec.trees.len()),
            runs: Vec::new(),
            numeric: if input32 { NumericNodes::F32(Vec::new()) } else { NumericNodes::F64(Vec::new()) },
            general: Vec::new(),
            leaf_values: Vec::new(),
            leaf_values32: Vec::new(),
            bitsets: Vec::new(),
            words: Vec::new(),
            scratch_slots: feature_slots.clone(),
            feature_slots,
            has_general: false,
            has_numeric: false,
            inline_leaves: false,
            masked_walk: false,
            base: if spec.base_score.is_empty() { vec![0.0; spec.n_targets] } else { spec.base_score.clone() },
            n_targets: spec.n_targets,
            aggregate: spec.aggregate,
            less,
            input32,
            acc32: spec.accumulate == Precision::Float32,
            transform: spec.transform,
        };
        // A single target's numeric leaves hold their value in the threshold's place where the
        // node's type holds it exactly as the model accumulates (float32 nodes and sums,
        // float64 nodes): a walk's last load is then the value, rather than the leaf's offset,
        // its tree's base and then the value from the leaf table, a load that missed cache
        // where the table outgrew it. C driver, Zen 3 host, interleaved rounds: one row of
        // 500x8 5.93-6.43 -> 5.23-5.40 us, one thread 281-287k -> 297-315k rows/s.
        m.inline_leaves = spec.n_targets == 1 && spec.trees.iter().all(|t| t.leaf_width == 1) && (m.acc32 || !input32);
        let inline = m.inline_leaves.then_some(m.acc32);
        // An averaging ensemble's numeric leaves share one table of distinct values (see
        // `SharedLeaves`), where every offset fits a leaf's threshold.
        let all_values: usize = spec.trees.iter().map(|t| t.feature.iter().filter(|&&f| f < 0).count() * t.leaf_width as usize).sum();
        let mut shared = (spec.aggregate == Aggregate::Average && !m.inline_leaves && all_values <= u32::MAX as usize).then(SharedLeaves::default);
        // Room for every node and the cache-line blocks' fillers, so the array is not copied as
        // it grows.
        let all_nodes: usize = spec.trees.iter().map(|t| t.feature.len()).sum();
        match &mut m.numeric {
            NumericNodes::F32(nodes) => nodes.reserve(all_nodes + all_nodes / 8 + LINE_NODES * spec.trees.len()),
            NumericNodes::F64(nodes) => nodes.reserve(all_nodes),
            _ => unreachable!("laid out wide first"),
        }
        for tree in &spec.trees {
            let mut leaf_base = m.leaf_values.len() as u32;
            let leaves = Leaves { values: &mut m.leaf_values, shared: shared.as_mut() };
            let numeric = match &mut m.numeric {
                NumericNodes::F32(nodes) => lay_numeric(tree, nodes, leaves, &column, n_columns, less, inline),
                NumericNodes::F64(nodes) => lay_numeric(tree, nodes, leaves, &column, n_columns, less, inline),
                _ => unreachable!("compacted once laid out"),
            };
            let layout = match numeric {
                Some(layout) => {
                    m.has_numeric = true;
                    if shared.is_some() {
                        leaf_base = 0;
                    }
                    layout
                }
                None => {
                    m.has_general = true;
                    m.lay_general(tree, slots)
                }
            };
            m.trees.push(Tree { layout, target: tree.target, width: tree.leaf_width, leaf_base });
        }
        m.runs = tree_runs(&m.trees);
        m.masked_walk = m.trees.iter().any(|t| matches!(t.layout, Layout::Numeric { depth, .. } if depth > EXIT_CHECK_FROM));
        // Each numeric tree's root and the start of its window: a node before its run's first
        // root, so that one window serves all of a run's trees (see `WindowNode`).
        let windows: Vec<(u32, u32)> = m
            .runs
            .iter()
            .filter(|run| run.numeric)
            .flat_map(|run| {
                let trees = &m.trees[run.first as usize..(run.first + run.len) as usize];
                let root = |tree: &Tree| if let Layout::Numeric { root, .. } = tree.layout { root } else { unreachable!("numeric run") };
                let window = root(&trees[0]).wrapping_sub(1);
                trees.iter().map(move |tree| (root(tree), window))
            })
            .collect();
        // The largest column start, the last negation's `2 * n_columns * LANES`, must fit 16 bits.
        // Window nodes where their padding (a window past the last run) at most doubles the
        // array; smaller models keep the offsets.
        if 2 * n_columns as usize * LANES <= usize::from(u16::MAX) {
            let compacted = match &m.numeric {
                NumericNodes::F32(nodes) if nodes.len() >= NODE_WINDOW => window_nodes(nodes, &windows).map(NumericNodes::F32Window),
                NumericNodes::F64(nodes) if nodes.len() >= NODE_WINDOW => window_nodes(nodes, &windows).map(NumericNodes::F64Window),
                _ => None,
            };
            let compacted = compacted.or_else(|| match &m.numeric {
                NumericNodes::F32(nodes) => compact_nodes(nodes).map(NumericNodes::F32Compact),
                NumericNodes::F64(nodes) => compact_nodes(nodes).map(NumericNodes::F64Compact),
                _ => None,
            });
            if let Some(compacted) = compacted {
                m.numeric = compacted;
            }
        }
        if matches!(m.numeric, NumericNodes::F32Window(_) | NumericNodes::F64Window(_)) {
            m.masked_walk = false;
        }
        // A loaded model keeps these for its life: no spare capacity from growing them, padded
        // to a power of two for a masked walk (see `pad_nodes`), and compact float32 nodes
        // moved to start on a cache line, so that `lay_numeric`'s lines are the cache's.
        let pad = m.masked_walk;
        // Window nodes: room for the last run's window.
        let window_end = windows.last().map_or(0, |&(_, w)| w.wrapping_add(1) as usize + NODE_WINDOW - 1);
        let shift = match &mut m.numeric {
            NumericNodes::F32(nodes) => pad_nodes(nodes, pad, false, 0, NumericNode { threshold: f32::INFINITY, column: 0, child: 0 }),
            NumericNodes::F32Compact(nodes) => pad_nodes(nodes, pad, true, 0, CompactNode { threshold: f32::INFINITY, column: 0, child: 0 }),
            NumericNodes::F64(nodes) => pad_nodes(nodes, pad, false, 0, NumericNode { threshold: f64::INFINITY, column: 0, child: 0 }),
            NumericNodes::F64Compact(nodes) => pad_nodes(nodes, pad, false, 0, CompactNode { threshold: f64::INFINITY, column: 0, child: 0 }),
            NumericNodes::F32Window(nodes) => pad_nodes(nodes, false, true, window_end, WindowNode { threshold: 0.0, column: 0, child: 0 }),
            NumericNodes::F64Window(nodes) => pad_nodes(nodes, false, false, window_end, WindowNode { threshold: 0.0, column: 0, child: 0 }),
        };
        let mut tree_windows = windows.iter();
        for tree in &mut m.trees {
            if let Layout::Numeric { root, window, .. } = &mut tree.layout {
                *root += shift;
                // In numeric tree order, as `windows` lists them.
                let &(_, w) = tree_windows.next().expect("a window per numeric tree");
                *window = w.wrapping_add(shift);
            }
        }
        let windowed = matches!(m.numeric, NumericNodes::F32Window(_) | NumericNodes::F64Window(_));
        for run in m.runs.iter_mut().filter(|run| run.numeric) {
            for (k, tree) in m.trees[run.first as usize..(run.first + run.len) as usize].iter().enumerate() {
                let Layout::Numeric { root, window, .. } = tree.layout else { unreachable!("numeric run") };
                run.roots[k] = if windowed { root - window } else { root };
            }
        }
        m.general.shrink_to_fit();
        if m.acc32 {
            m.leaf_values32 = m.leaf_values.iter().map(|&v| v as f32).collect();
            m.leaf_values = Vec::new();
        }
        m.leaf_values.shrink_to_fit();
        m.words.shrink_to_fit();
        m.bitsets.shrink_to_fit();
        m
    }

    pub fn n_outputs(&self) -> usize {
        self.n_targets
    }

    /// Always inlined, so that the fill of the scratch and the output transforms are compiled
    /// into each CPU version of `model::score_block_for_cpu`; the walks are not (see
    /// [`TreeEnsemble::score_trees`]).
    #[inline(always)]
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
            NumericNodes::F32Compact(nodes) => self.score_trees(nodes, block, out),
            NumericNodes::F64(nodes) => self.score_trees(nodes, block, out),
            NumericNodes::F64Compact(nodes) => self.score_trees(nodes, block, out),
            NumericNodes::F32Window(nodes) => self.score_trees(nodes, block, out),
            NumericNodes::F64Window(nodes) => self.score_trees(nodes, block, out),
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
