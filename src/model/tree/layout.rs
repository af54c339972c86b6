//! Laying numeric trees out at load: the node array in cache-line blocks, the runs of trees
//! a one-row walk takes together, the leaf-value tables, and the array's lasting allocation.

use std::collections::VecDeque;

use super::node::{NumericNode, NAN_COLUMN};
use super::value::{numeric_split, SplitValue};
use super::{Layout, Tree, TreeRun, EXIT_CHECK_FROM, LANES};
use crate::artifact::{Missing, TreeSpec};

/// Move a numeric node array into its lasting allocation; returns how many filler nodes now
/// come first (what the trees' roots move by). With `align` (compact nodes, whose child is
/// an offset or an index within the tree), that many that the array's first node starts a
/// 64-byte cache line: the allocator gives no such alignment, and a `Vec` of a type aligned to
/// 64 would not index as a plain slice of nodes. (A clone of the ensemble would lose the
/// alignment, costing only speed; none is made.)
///
/// For window nodes (`window_end` > 0, where the last tree's window ends before the shift),
/// at least one filler first (a window starts a node before its root) and fillers after the
/// last tree to the end of its window: up to [`NODE_WINDOW`](super::node::NODE_WINDOW) nodes (512 KiB of float32 nodes,
/// written once here) that no walk reads.
///
/// For a masked walk (`pad`: models with trees deeper than [`EXIT_CHECK_FROM`] that are too
/// small for window nodes, or whose runs a window does not reach), pad a numeric node array
/// to a power-of-two length with `filler` nodes that no walk reaches. A masked walk indexes nodes as `at & (len - 1)` and scratch
/// columns as `column & (columns - 1)` (the scratch is padded likewise): the same index for
/// every valid layout, but one the compiler can see is in bounds, so a step has no bounds
/// check (a compare against a length spilled to the stack and a branch, each step, for each
/// lane). That walks leaf-wise LightGBM trees (deeper than [`EXIT_CHECK_FROM`]) ~20% faster,
/// and a depth-12 forest within the noise of the checked walk; depth-8 trees walked ~8% slower
/// (the larger scratch and the masks' registers), so they keep the unmasked walk. Padding at
/// most doubles the node array, usually far less (500 LightGBM trees of 255 leaves, which now
/// take window nodes: 254,500 nodes round to 262,144).
pub(super) fn pad_nodes<N: Copy>(nodes: &mut Vec<N>, pad: bool, align: bool, window_end: usize, filler: N) -> u32 {
    let line = if align { 64 / std::mem::size_of::<N>() } else { 1 };
    let len = (nodes.len() + line).max(window_end + line);
    let len = if pad { len.max(1).next_power_of_two() } else { len };
    // Filled within its capacity, so never moved again.
    let mut settled: Vec<N> = Vec::with_capacity(len);
    let shift = match settled.as_ptr().align_offset(64) {
        s if align && s < line => s,
        _ => 0,
    };
    let shift = if window_end > 0 && shift == 0 { line } else { shift };
    settled.resize(shift, filler);
    settled.extend_from_slice(nodes);
    settled.resize(if pad { len } else { settled.len().max(shift + window_end) }, filler);
    *nodes = settled;
    shift as u32
}

/// Cut the trees, in order, into runs of up to [`LANES`] consecutive numeric trees and single
/// general trees.
pub(super) fn tree_runs(trees: &[Tree]) -> Vec<TreeRun> {
    let mut runs: Vec<TreeRun> = Vec::new();
    for (t, tree) in trees.iter().enumerate() {
        match tree.layout {
            Layout::Numeric { depth, .. } => match runs.last_mut() {
                Some(run) if run.numeric && (run.len as usize) < LANES => {
                    run.len += 1;
                    run.depth = run.depth.max(depth);
                }
                _ => runs.push(TreeRun { first: t as u32, len: 1, depth, numeric: true, roots: [0; LANES] }),
            },
            Layout::General { .. } => runs.push(TreeRun { first: t as u32, len: 1, depth: 0, numeric: false, roots: [0; LANES] }),
        }
    }
    runs
}

/// An averaging ensemble's leaf values, each distinct set of a leaf's values stored once, by
/// their bits. A forest's leaves repeat few sets of class fractions (the peers' forest: 133,123
/// leaves, 9,891 distinct pairs), and the table then fits L2 where per-tree values (2.1 MB)
/// missed it at the end of every walk (C driver, that forest, one thread: ~10% of its time).
///
/// The table holds each distinct set's offset and length in the values themselves, so a
/// lookup allocates nothing and compares against the values it would share (keys boxed on
/// their own were an allocation per distinct set and a pointer chased per probe: the peers'
/// forest, C driver, Zen 3 host, five interleaved rounds, best of 15 loads: 29.7-30.6 ->
/// 27.9-29.3 ms).
#[derive(Default)]
pub(super) struct SharedLeaves {
    /// `(offset, len)` of each distinct set in the leaf values.
    table: hashbrown::HashTable<(u32, u32)>,
    hasher: ahash::RandomState,
}

/// The set of leaf values at `(offset, len)` in `store`.
fn held(store: &[f64], (offset, len): (u32, u32)) -> &[f64] {
    &store[offset as usize..][..len as usize]
}

/// The hash of a set of leaf values, by their bits.
fn hash_bits(hasher: &ahash::RandomState, values: &[f64]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = hasher.build_hasher();
    values.iter().for_each(|v| h.write_u64(v.to_bits()));
    h.finish()
}

/// Where [`lay_numeric`] puts a tree's leaf values: appended to `values`, or, with `shared`,
/// found among or added to the shared table's.
pub(super) struct Leaves<'a> {
    pub(super) values: &'a mut Vec<f64>,
    pub(super) shared: Option<&'a mut SharedLeaves>,
}

impl Leaves<'_> {
    /// Store a leaf's `values`; returns their offset for the leaf's threshold: from `first` (the
    /// tree's first value) when appended per tree, from the table's start when shared.
    fn add(&mut self, values: &[f64], first: usize) -> u32 {
        let Some(shared) = self.shared.as_deref_mut() else {
            let offset = (self.values.len() - first) as u32;
            self.values.extend_from_slice(values);
            return offset;
        };
        let same = |a: &[f64], b: &[f64]| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits());
        let hash = hash_bits(&shared.hasher, values);
        if let Some(&(offset, _)) = shared.table.find(hash, |&entry| same(held(self.values, entry), values)) {
            return offset;
        }
        let offset = self.values.len() as u32;
        self.values.extend_from_slice(values);
        let (store, hasher) = (&*self.values, &shared.hasher);
        shared.table.insert_unique(hash, (offset, values.len() as u32), |&entry| hash_bits(hasher, held(store, entry)));
        offset
    }
}

/// Nodes of a float32 numeric tree that share a 64-byte cache line (8-byte compact nodes).
pub(super) const LINE_NODES: usize = 8;

/// Lay `tree` out into the numeric node array and return its layout, or `None` (and change
/// nothing) where it does not fit there: a category split, missing values other than NaN's
/// default direction, or a split with no `<=` form in `T` (see [`numeric_split`]).
/// `column[f]` is the scratch column of feature `f`, of `n_features` (its negation follows
/// `n_features` columns on; leaves read [`NAN_COLUMN`]); nodes hold a column's start in its
/// group's scratch, column x [`LANES`]. With `inline` (`Some(acc32)`), each leaf's threshold
/// is its value (see [`SplitValue::inline`]), else where its values start in `leaves`.
///
/// Float32 trees are laid in cache-line blocks: the tree starts on a line (of
/// [`LINE_NODES`]), and each block (the root, or a sibling pair whose parent lies in an
/// earlier block) takes its descendants breadth-first, whole sibling pairs, while they fit one
/// line: the root with two levels under it, a pair with its children and one grandchild pair.
/// A walk of depth 8 then reads 3 or 4 lines instead of 7 breadth-first, which matters where
/// the nodes come from L2 rather than L1: one row walking 500 trees (`kiln_model_score_row`,
/// 500x8, interleaved runs: 6.5-6.7 -> 6.2-6.4 us; a batch's walks, whose trees stay in L1
/// for a block, are unchanged). Blocks that do not fill a line share the next ones' line if
/// they fit whole (complete trees of 8,191 to 131,071 nodes take 7-8% more nodes). Float64
/// trees are laid breadth-first (blocks of one pair, no lines): their 12-byte nodes do not
/// divide a line.
pub(super) fn lay_numeric<T: SplitValue>(
    tree: &TreeSpec,
    nodes: &mut Vec<NumericNode<T>>,
    mut leaves: Leaves<'_>,
    column: &[u32],
    n_features: u32,
    less: bool,
    inline: Option<bool>,
) -> Option<Layout> {
    let width = tree.leaf_width as usize;
    let n_leaves = tree.feature.iter().filter(|&&f| f < 0).count();
    if !tree.category_splits.is_empty() || tree.missing.iter().any(|m| *m != Missing::Nan) {
        return None;
    }
    // Each split as laid: threshold, scratch column start, children in walk order.
    let splits = (0..tree.feature.len())
        .map(|src| {
            let Ok(f) = usize::try_from(tree.feature[src]) else { return Ok(None) };
            let default_left = tree.default_left.get(src).copied().unwrap_or(false);
            let (threshold, negated) = numeric_split::<T>(tree.threshold[src], less, default_left).ok_or(())?;
            let children = if negated { [tree.right[src], tree.left[src]] } else { [tree.left[src], tree.right[src]] };
            Ok(Some((threshold, (1 + column[f] + if negated { n_features } else { 0 }) * LANES as u32, children)))
        })
        .collect::<Result<Vec<_>, ()>>()
        .ok()?;
    let split = |src: usize| splits[src];
    let line = if std::mem::size_of::<T>() == 4 { LINE_NODES } else { 0 };
    // Fillers no walk reaches, each its own second child (a compact offset of -1).
    let filler = |at: usize| NumericNode { threshold: T::ZERO, column: NAN_COLUMN as u32, child: (at as u32).wrapping_sub(1) };
    while line > 0 && nodes.len() % line != 0 {
        nodes.push(filler(nodes.len()));
    }
    let root = nodes.len();
    let first_value = leaves.values.len();
    // Every leaf is reached once (validation rules out orphans and shared subtrees), so the
    // leaves counted above are the ones laid out.
    let (mut depth, mut leaf_levels) = (0, 0);
    // Blocks to lay: their first nodes (one or a pair), the node to point at them, their level.
    let mut blocks = VecDeque::from([([0i32, 0], 1usize, None::<usize>, 0u32)]);
    // A block's nodes: source node, level, and the member index of its first child if in it.
    let mut members: Vec<(usize, u32, Option<usize>)> = Vec::new();
    while let Some((first, count, parent, level)) = blocks.pop_front() {
        members.clear();
        members.extend(first[..count].iter().map(|&src| (src as usize, level, None)));
        let room = if line > 0 { line } else { count };
        let mut k = 0;
        while k < members.len() && members.len() + 2 <= room {
            let (src, lvl, _) = members[k];
            if let Some((_, _, children)) = split(src) {
                members[k].2 = Some(members.len());
                members.extend(children.map(|c| (c as usize, lvl + 1, None)));
            }
            k += 1;
        }
        if line > 0 && nodes.len() % line + members.len() > line {
            while nodes.len() % line != 0 {
                nodes.push(filler(nodes.len()));
            }
        }
        let base = nodes.len();
        if let Some(p) = parent {
            nodes[p].child = base as u32;
        }
        for (k, &(src, lvl, child)) in members.iter().enumerate() {
            let at = base + k;
            depth = depth.max(lvl);
            let node = match split(src) {
                // `!(NaN <= t)` is true: a leaf steps to `child + 1`, itself.
                None => {
                    leaf_levels += lvl;
                    let threshold = match inline {
                        Some(acc32) => T::inline(tree.value[src], acc32),
                        None => T::leaf(leaves.add(&tree.value[src * width..(src + 1) * width], first_value)),
                    };
                    NumericNode { threshold, column: NAN_COLUMN as u32, child: (at as u32).wrapping_sub(1) }
                }
                Some((threshold, column, children)) => match child {
                    Some(c) => NumericNode { threshold, column, child: (base + c) as u32 },
                    None => {
                        blocks.push_back((children, 2, Some(at), lvl + 1));
                        NumericNode { threshold, column, child: 0 }
                    }
                },
            };
            nodes.push(node);
        }
    }
    // Deep trees whose deepest leaf lies well below their average leaf (leaf-wise trees).
    let refill = depth > EXIT_CHECK_FROM && 4 * depth as usize * n_leaves > 5 * leaf_levels as usize;
    Some(Layout::Numeric { root: root as u32, depth, refill, window: 0 })
}
