//! Scoring a block through the prepared trees: rows in lockstep (or refilling lanes, for
//! leaf-wise trees), or, for a few rows, each row through runs of trees in lockstep.

#![expect(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "a step goes to its second child on `!(x <= t)`, which NaN (incomparable) satisfies by design"
)]

use std::cell::RefCell;

use super::node::{Step, NAN_COLUMN};
use super::value::SplitValue;
use super::{Layout, Tree, TreeEnsemble, EXIT_CHECK_FROM, EXIT_CHECK_LEVELS, FEW_ROWS, LANES};
use crate::transform::Block;

thread_local! {
    /// A block's running sums of a single-target model that accumulates in f32.
    static SUMS32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl TreeEnsemble {
    /// Add a leaf's `w` values, from `first`, to row `i`'s targets from `target` in `out` (`n`
    /// rows per target), in the model's accumulation precision.
    #[inline(always)]
    fn add_leaves(&self, out: &mut [f64], first: usize, w: usize, target: usize, n: usize, i: usize) {
        if self.acc32 {
            for (k, &v) in self.leaf_values32[first..first + w].iter().enumerate() {
                let a = &mut out[(target + k) * n + i];
                *a = f64::from(*a as f32 + v);
            }
        } else {
            for (k, &v) in self.leaf_values[first..first + w].iter().enumerate() {
                out[(target + k) * n + i] += v;
            }
        }
    }

    /// Add every tree's leaves into `out`, tree by tree.
    ///
    /// Never inlined, so the walks are compiled for the baseline x86-64 only, on purpose: in
    /// the AVX2 version LLVM packs the sixteen lanes' node indices into vector registers and
    /// extracts each one again for its loads, and the walks ran 13-18% slower (criterion A/B
    /// on this Zen 4 host, one thread, three interleaved rounds: 500x8 155-167k against
    /// 182-200k rows/s, LightGBM-like 100-107k against 109-122k). Their steps are scalar
    /// loads, compares and adds, which the baseline has in full.
    #[inline(never)]
    pub(super) fn score_trees<T: SplitValue, N: Step<T>>(&self, nodes: &[N], block: &Block<'_>, out: &mut [f64]) {
        if self.masked_walk {
            self.score_trees_as::<T, N, true>(nodes, block, out);
        } else {
            self.score_trees_as::<T, N, false>(nodes, block, out);
        }
    }

    /// [`TreeEnsemble::score_trees`], the walks indexing with masks or not (`MASK`).
    #[inline(always)]
    fn score_trees_as<T: SplitValue, N: Step<T>, const MASK: bool>(&self, nodes: &[N], block: &Block<'_>, out: &mut [f64]) {
        let n = block.len;
        T::with_scratch(|scratch| {
            // Laid out even for a model of general trees only (with no features to copy), so
            // that every walk's slice of it exists. Passed on as the thread's vector rather
            // than resliced: with a slice held across the walks, the forest's walk kept more of
            // its lanes on the stack (C driver, one thread, 100k rows, interleaved rounds:
            // 386-416k against 494-520k rows/s).
            self.fill_scratch(scratch, block, column_reach::<T, N, MASK>(self.scratch_columns() * LANES));
            if n < FEW_ROWS {
                for i in 0..n {
                    self.score_row_by_runs::<T, N, MASK>(nodes, scratch, block, i, out);
                }
                return;
            }
            // A single target sums in place, in f32 where the model accumulates in f32 (the same
            // roundings: an f32-rounded sum converts to f64 and back exactly), rather than
            // converting each row's running sum out of `out` and back for every tree.
            if self.n_targets == 1 && self.acc32 {
                SUMS32.with(|sums| {
                    let sums = &mut *sums.borrow_mut();
                    sums.clear();
                    sums.extend(out[..n].iter().map(|&v| v as f32));
                    // Slices taken once: read through `self` inside the closure, the vectors'
                    // pointers were reloaded for every leaf (C driver, 500x8, one thread,
                    // interleaved: 255-257k -> 268-272k rows/s).
                    let (sums, values) = (sums.as_mut_slice(), self.leaf_values32.as_slice());
                    let general = |first: usize| values[first];
                    if self.inline_leaves {
                        self.walk_block::<T, N, MASK, _>(nodes, scratch, block, |_, t: T| t.value32(), general, |_, v, i| sums[i] += v);
                    } else {
                        let numeric = |tree: &Tree, t: T| values[leaf_first(tree, t)];
                        self.walk_block::<T, N, MASK, _>(nodes, scratch, block, numeric, general, |_, v, i| sums[i] += v);
                    }
                    out[..n].iter_mut().zip(sums.iter()).for_each(|(o, &s)| *o = f64::from(s));
                });
            } else if self.n_targets == 1 {
                let values = self.leaf_values.as_slice();
                let general = |first: usize| values[first];
                if self.inline_leaves {
                    self.walk_block::<T, N, MASK, _>(nodes, scratch, block, |_, t: T| t.value64(), general, |_, v, i| out[i] += v);
                } else {
                    let numeric = |tree: &Tree, t: T| values[leaf_first(tree, t)];
                    self.walk_block::<T, N, MASK, _>(nodes, scratch, block, numeric, general, |_, v, i| out[i] += v);
                }
            } else {
                self.walk_block::<T, N, MASK, _>(nodes, scratch, block, leaf_first, |first| first, |tree, first, i| {
                    self.add_leaves(out, first, tree.width as usize, tree.target as usize, n, i);
                });
            }
        })
    }

    /// Walk every row of a block through every tree, tree by tree, calling `visit(tree, leaf,
    /// row)` for each, where `leaf` is what `numeric(tree, leaf's threshold)` or `general(first
    /// leaf value)` make of the leaf: its value, or where its values start.
    #[inline(always)]
    fn walk_block<T: SplitValue, N: Step<T>, const MASK: bool, L>(
        &self,
        nodes: &[N],
        scratch: &[[T; LANES]],
        block: &Block<'_>,
        numeric: impl Fn(&Tree, T) -> L,
        general: impl Fn(usize) -> L,
        mut visit: impl FnMut(&Tree, L, usize),
    ) {
        let n = block.len;
        let (num, stride) = block.num_all();
        for tree in &self.trees {
            match tree.layout {
                Layout::Numeric { root, depth, refill, window } => {
                    let visit_leaf = |i: usize, leaf: u32| visit(tree, numeric(tree, nodes[leaf as usize].threshold()), i);
                    if refill {
                        walk_refill::<T, N, MASK>(nodes, scratch.as_flattened(), self.scratch_columns(), (root, window), n, visit_leaf);
                    } else {
                        walk_numeric::<T, N, MASK>(nodes, scratch.as_flattened(), self.scratch_columns(), (root, window), depth, n, visit_leaf);
                    }
                }
                Layout::General { root } => {
                    for i in 0..n {
                        visit(tree, general(self.general_leaf(root, num, stride, i)), i);
                    }
                }
            }
        }
    }

    /// Add every tree's leaves for row `i` of a small block. A single target's running sum is
    /// kept in a register (in f32 where the model accumulates in f32: the same roundings, since
    /// an f32-rounded sum converts to f64 and back exactly) rather than re-read from `out`, which
    /// would chain a store, a load and two conversions into every tree's addition.
    #[inline(always)]
    fn score_row_by_runs<T: SplitValue, N: Step<T>, const MASK: bool>(&self, nodes: &[N], scratch: &[[T; LANES]], block: &Block<'_>, i: usize, out: &mut [f64]) {
        let n = block.len;
        if self.n_targets == 1 {
            if self.acc32 {
                let (mut a, values) = (out[i] as f32, self.leaf_values32.as_slice());
                let general = |first: usize| values[first];
                if self.inline_leaves {
                    self.walk_row_by_runs::<T, N, MASK, _>(nodes, scratch, block, i, |_, t: T| t.value32(), general, |_, v| a += v);
                } else {
                    let numeric = |tree: &Tree, t: T| values[leaf_first(tree, t)];
                    self.walk_row_by_runs::<T, N, MASK, _>(nodes, scratch, block, i, numeric, general, |_, v| a += v);
                }
                out[i] = f64::from(a);
            } else {
                let (mut a, values) = (out[i], self.leaf_values.as_slice());
                let general = |first: usize| values[first];
                if self.inline_leaves {
                    self.walk_row_by_runs::<T, N, MASK, _>(nodes, scratch, block, i, |_, t: T| t.value64(), general, |_, v| a += v);
                } else {
                    let numeric = |tree: &Tree, t: T| values[leaf_first(tree, t)];
                    self.walk_row_by_runs::<T, N, MASK, _>(nodes, scratch, block, i, numeric, general, |_, v| a += v);
                }
                out[i] = a;
            }
        } else {
            self.walk_row_by_runs::<T, N, MASK, _>(nodes, scratch, block, i, leaf_first, |first| first, |tree, first| {
                self.add_leaves(out, first, tree.width as usize, tree.target as usize, n, i);
            });
        }
    }

    /// Walk row `i` of a small block through every tree, each run of numeric trees in lockstep,
    /// calling `visit(tree, leaf)` in tree order (`leaf` as in [`TreeEnsemble::walk_block`]). The same steps as
    /// [`walk_numeric`] per tree: a leaf steps to itself, so a tree shallower than its run's
    /// depth waits at its leaf.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn walk_row_by_runs<T: SplitValue, N: Step<T>, const MASK: bool, L>(
        &self,
        nodes: &[N],
        scratch: &[[T; LANES]],
        block: &Block<'_>,
        i: usize,
        numeric: impl Fn(&Tree, T) -> L,
        general: impl Fn(usize) -> L,
        mut visit: impl FnMut(&Tree, L),
    ) {
        let (num, stride) = block.num_all();
        let group_len = self.scratch_columns() * LANES;
        let reach = column_reach::<T, N, MASK>(group_len);
        let group = &scratch.as_flattened()[(i / LANES) * group_len..][..reach];
        let (group, column_mask) = masked::<_, MASK>(group);
        // Unmasked, the row's values are read from a slice starting at its lane (one add less
        // in each step) that reaches as far as any column starts.
        let (values, lane) = if MASK { (group, i % LANES) } else { (&group[i % LANES..][..reach + 1 - LANES], 0) };
        for run in &self.runs {
            let trees = &self.trees[run.first as usize..(run.first + run.len) as usize];
            if !run.numeric {
                let tree = &trees[0];
                let Layout::General { root } = tree.layout else { unreachable!("general run") };
                visit(tree, general(self.general_leaf(root, num, stride, i)));
                continue;
            }
            // The run's trees share their nodes' slice (window nodes: the run's window).
            let Layout::Numeric { root, window, .. } = trees[0].layout else { unreachable!("numeric run") };
            let (run_nodes, node_mask, _, _) = tree_nodes::<T, N, MASK>(nodes, root, window);
            let mut at = run.roots;
            let step = |at: &mut u32| {
                let a = N::index(*at) & node_mask;
                let node = run_nodes[a];
                let x = values[(node.column() + lane) & column_mask];
                *at = node.next(a as u32, u32::from(!(x <= node.threshold())));
            };
            let leaf_values = |tree: &Tree, leaf: u32| numeric(tree, run_nodes[N::index(leaf) & node_mask].threshold());
            // Full runs walk a copy of the lanes that only fixed-length loops touch, as in
            // `walk_numeric` (one row, 500x8: 6.0-6.3 -> 4.6-4.8 us).
            if trees.len() == LANES && run.depth <= EXIT_CHECK_FROM {
                let mut lanes = at;
                for _ in 0..run.depth {
                    lanes.iter_mut().for_each(step);
                }
                // Visited from the fixed-length copy (through a slice, the loop was not
                // unrolled and one row took ~6% longer).
                for (tree, &leaf) in trees.iter().zip(&lanes) {
                    visit(tree, leaf_values(tree, leaf));
                }
            } else if trees.len() == LANES {
                // As in `walk_numeric`: deep runs stop once every tree's walk sits at a leaf.
                let mut lanes = at;
                let mut level = 0;
                while level < run.depth {
                    let end = if level == 0 { EXIT_CHECK_FROM } else { (level + EXIT_CHECK_LEVELS).min(run.depth) };
                    for _ in level..end {
                        lanes.iter_mut().for_each(step);
                    }
                    level = end;
                    if level < run.depth && lanes.iter().all(|&a| run_nodes[N::index(a) & node_mask].is_leaf()) {
                        break;
                    }
                }
                for (tree, &leaf) in trees.iter().zip(&lanes) {
                    visit(tree, leaf_values(tree, leaf));
                }
            } else {
                for _ in 0..run.depth {
                    at[..trees.len()].iter_mut().for_each(step);
                }
                for (tree, &leaf) in trees.iter().zip(&at) {
                    visit(tree, leaf_values(tree, leaf));
                }
            }
        }
    }

    /// Columns of the numeric trees' scratch: [`NAN_COLUMN`], the features, their negations,
    /// and for a masked walk unused columns up to a power of two (see [`pad_nodes`](super::layout::pad_nodes)).
    fn scratch_columns(&self) -> usize {
        let columns = 2 * self.scratch_slots.len() + 1;
        if self.masked_walk { columns.next_power_of_two() } else { columns }
    }

    /// Lay the block's feature values out for the numeric trees: per group of [`LANES`] rows,
    /// per scratch column, the group's values side by side, so a lane's load is one fixed
    /// offset from the column's start. The scratch is left as long as the walks read: every
    /// group's columns, and `reach` values (see [`column_reach`]) from the last one's start.
    /// Only the groups' [`NAN_COLUMN`] and features are written: the rows past the block's end
    /// and the reach past the last group keep what an earlier block left (zeros where the
    /// scratch grows), which no walk's result depends on (no walk takes a row past the end). Clearing it all for each
    /// block would write a compact model's reach, 256 KiB (float32), every time.
    #[inline(always)]
    fn fill_scratch<T: SplitValue>(&self, scratch: &mut Vec<[T; LANES]>, block: &Block<'_>, reach: usize) {
        let n = block.len;
        let n_features = self.scratch_slots.len();
        let n_columns = self.scratch_columns();
        let groups = n.div_ceil(LANES);
        // A masked walk reads a power of two of groups (see `pad_nodes`), its reach one group.
        let laid = if self.masked_walk { groups.next_power_of_two() } else { groups.max(1) };
        let len = (laid - 1) * n_columns + reach.div_ceil(LANES);
        if scratch.capacity() < len {
            // A new zeroed allocation rather than a grown one (whose old values need no
            // keeping): the allocator hands it out as untouched zero pages, so the reach past
            // the last group that no walk reads costs address space, not resident memory.
            *scratch = vec![[T::ZERO; LANES]; len];
        } else {
            scratch.resize(len, [T::ZERO; LANES]);
        }
        for group in scratch.chunks_exact_mut(n_columns).take(groups) {
            group[NAN_COLUMN] = [T::NAN; LANES];
        }
        for (j, &slot) in self.scratch_slots.iter().enumerate() {
            let values = block.num(slot);
            for (g, group) in scratch.chunks_exact_mut(n_columns).take(groups).enumerate() {
                let rows = &values[g * LANES..n.min((g + 1) * LANES)];
                for (r, &x) in rows.iter().enumerate() {
                    let v = T::input(x);
                    group[1 + j][r] = v;
                    group[1 + n_features + j][r] = -v;
                }
            }
        }
    }
}

/// Where a numeric leaf's values start in the leaf table, from its threshold (not inline).
#[inline(always)]
fn leaf_first<T: SplitValue>(tree: &Tree, threshold: T) -> usize {
    tree.leaf_base as usize + threshold.leaf_offset()
}

/// How many scratch values past a group's start a walk reads the group through: for
/// unmasked walks of a node type that bounds its column ([`Step::COLUMN_REACH`]), that bound,
/// a constant for which the compiler drops the bounds check on each step's value load;
/// otherwise the group itself. The scratch holds that many past its last group's start (see
/// [`TreeEnsemble::fill_scratch`]): 256 KiB (float32) or 512 KiB (float64) of address space per
/// scoring thread, allocated zeroed, its pages past the groups never touched (50 live threads
/// scoring one row each with the 500x8 model: resident set +3.5 MB, against +13.5 MB when the
/// scratch grew by writing its zeros, +1.3 MB before the reach). C driver, 500x8 on the Zen 3 host,
/// interleaved rounds: one thread, 200k rows, 225-247k -> 258-281k rows/s; one row (the
/// driver's `kiln_model_score_row` median, `kiln_capi xgboost.kiln rows.bin 1 out.bin 1 20000
/// 0 1000`, four rounds on a noisy host) 7.4-11.3 -> 6.3-9.2 us.
#[inline(always)]
fn column_reach<T, N: Step<T>, const MASK: bool>(group_len: usize) -> usize {
    match N::COLUMN_REACH {
        Some(reach) if !MASK => {
            debug_assert!(group_len <= reach, "a compact model's columns fit 16 bits");
            reach
        }
        _ => group_len,
    }
}

/// For a masked walk (`MASK`): `items` (of a power-of-two length) and its index mask, resliced
/// so that the compiler knows the length is `mask + 1`, so an index `& mask` needs no bounds
/// check. Otherwise `items` and a mask that changes no index.
#[inline(always)]
fn masked<T, const MASK: bool>(items: &[T]) -> (&[T], usize) {
    if !MASK || items.is_empty() {
        return (items, usize::MAX);
    }
    debug_assert!(items.len().is_power_of_two());
    let mask = items.len() - 1;
    (&items[..=mask], mask)
}

/// The nodes a walk of the tree at `root` reads, their index mask (see [`masked`]), the
/// root's index among them, and what an index there adds to be the node array's: for window
/// nodes, the window from `window` (see [`WindowNode`](super::node::WindowNode)), a slice of constant length that needs
/// no mask; otherwise all nodes, masked for a masked walk.
#[inline(always)]
fn tree_nodes<T, N: Step<T>, const MASK: bool>(nodes: &[N], root: u32, window: u32) -> (&[N], usize, u32, u32) {
    match N::WINDOW {
        // The root's index is below 65,535; saying so with `min` lets the compiler bound the
        // positions of a lockstep walk's lanes, all started at the root: a lane's next
        // position, a 16-bit child plus 0 or 1, is then below the window's 65,537 nodes, with
        // no bounds check and no truncation on the step's chain (see `Step::index`).
        Some(len) => (&nodes[window as usize..][..len], usize::MAX, (root - window).min(u32::from(u16::MAX)), window),
        None => {
            let (nodes, mask) = masked::<_, MASK>(nodes);
            (nodes, mask, root, 0)
        }
    }
}

/// Walk every row of the block through the numeric tree at `root` (window nodes: read through
/// the window from `window`, see [`tree_nodes`]), [`LANES`] rows in lockstep for exactly
/// `depth` steps, calling `visit(row, leaf)` in row order. Each lane's chain of loads is
/// independent of the others, so the core overlaps them.
#[inline(always)]
fn walk_numeric<T: SplitValue, N: Step<T>, const MASK: bool>(
    nodes: &[N],
    scratch: &[T],
    n_columns: usize,
    (root, window): (u32, u32),
    depth: u32,
    n_rows: usize,
    mut visit: impl FnMut(usize, u32),
) {
    let (nodes, node_mask, root, to_array) = tree_nodes::<T, N, MASK>(nodes, root, window);
    let group_len = n_columns * LANES;
    let reach = column_reach::<T, N, MASK>(group_len);
    for g in 0..n_rows.div_ceil(LANES) {
        let group = &scratch[g * group_len..][..reach];
        let (group, column_mask) = masked::<_, MASK>(group);
        let first = g * LANES;
        let live = (n_rows - first).min(LANES);
        let mut at = [root; LANES];
        // A full group walks all lanes in a fixed-length loop the compiler unrolls; a partial
        // one (a small call, a block's tail) walks only its live rows, so a one-row call does
        // not pay for sixteen walks. Each row's steps are the same either way.
        let step = |at: &mut u32, r: usize| {
            let a = *at as usize & node_mask;
            let node = nodes[a];
            let x = group[(node.column() + r) & column_mask];
            *at = node.next(a as u32, u32::from(!(x <= node.threshold())));
        };
        if live == LANES && depth <= EXIT_CHECK_FROM {
            // A copy of the lanes that only fixed-length loops touch, visited here: with the
            // one array shared by every branch (the partial one slices it), LLVM kept it in
            // memory and stored each lane's position twice a step. C driver, one thread, 20k
            // rows, three interleaved rounds: 500x8 253-258k -> 304-310k rows/s, forest
            // 524-534k -> 596-623k (its walks take the deep branch below, which gained with
            // the function's code as a whole; giving that branch its own copy too was slower,
            // 537-562k).
            let mut lanes = at;
            // The first step reads the root, the same node for every lane, once: each lane's
            // first step then waits only on its value's load. A tree of depth 0 takes the step
            // too (a leaf steps to itself). C driver, one thread, 20k rows, three interleaved
            // rounds: 500x8 303-306k -> 314-318k rows/s.
            let first_node = nodes[root as usize & node_mask];
            for (r, at) in lanes.iter_mut().enumerate() {
                let x = group[(first_node.column() + r) & column_mask];
                *at = first_node.next(root, u32::from(!(x <= first_node.threshold())));
            }
            for _ in 1..depth {
                for (r, at) in lanes.iter_mut().enumerate() {
                    step(at, r);
                }
            }
            for (r, &leaf) in lanes.iter().enumerate() {
                visit(first + r, leaf + to_array);
            }
            continue;
        } else if live == LANES {
            // Deep trees (those not refilled, see `walk_refill`) may still end some groups'
            // walks early: every few levels, stop once all lanes sit at leaves (a leaf is its
            // own child), which changes no lane's leaf.
            let mut level = 0;
            while level < depth {
                let end = if level == 0 { EXIT_CHECK_FROM } else { (level + EXIT_CHECK_LEVELS).min(depth) };
                for _ in level..end {
                    for (r, at) in at.iter_mut().enumerate() {
                        step(at, r);
                    }
                }
                level = end;
                if level < depth && at.iter().all(|&a| nodes[a as usize].is_leaf()) {
                    break;
                }
            }
        } else {
            for _ in 0..depth {
                for (r, at) in at[..live].iter_mut().enumerate() {
                    step(at, r);
                }
            }
        }
        for (r, &leaf) in at[..live].iter().enumerate() {
            visit(first + r, leaf + to_array);
        }
    }
}

/// Levels walked between a refilling walk's looks at its lanes. C driver, LightGBM's 500 trees
/// of 255 leaves, one thread, 20k rows, interleaved rounds (rows/s): lockstep 69-77k; refills
/// every 2 / 4 / 6 / 8 / 12 levels 97-103k / 110-125k / 94-131k (two of three 130k) /
/// 108-128k / 115-117k. With a branch per lane for its look (rather than the branch-free
/// list), refilling every 3 levels gained nothing, every 12-16 levels ~30%.
const REFILL_LEVELS: u32 = 6;

/// Walk every row of the block through the deep numeric tree at `root` (and `window`, as in
/// [`walk_numeric`]), [`LANES`] walks in flight, calling `visit(row, leaf)` for each row (in no fixed order). Every
/// [`REFILL_LEVELS`] levels, a lane whose walk sits at a leaf hands it over and takes the
/// block's next row from the root. Leaf-wise trees end most walks far above their deepest
/// leaf: walking a group of rows in lockstep until its deepest walk ends, LightGBM's 500
/// trees of 255 leaves took 18.6 steps a row where the rows' leaves lie 7.8 deep on average.
/// A lane's row is anywhere in the scratch, so its value is read from the lane's own offset,
/// a load off the step's chain.
#[inline(always)]
fn walk_refill<T: SplitValue, N: Step<T>, const MASK: bool>(
    nodes: &[N],
    scratch: &[T],
    n_columns: usize,
    (root, window): (u32, u32),
    n_rows: usize,
    mut visit: impl FnMut(usize, u32),
) {
    let (nodes, node_mask, root, to_array) = tree_nodes::<T, N, MASK>(nodes, root, window);
    let (scratch, column_mask) = masked::<_, MASK>(scratch);
    let group_len = n_columns * LANES;
    let offset = |row: usize| (row / LANES) * group_len + row % LANES;
    const IDLE: usize = usize::MAX;
    let mut at = [root; LANES];
    let mut row = [IDLE; LANES];
    let mut base = [0usize; LANES];
    let mut next = n_rows.min(LANES);
    for l in 0..next {
        row[l] = l;
        base[l] = offset(l);
    }
    let mut busy = next;
    while busy > 0 {
        for _ in 0..REFILL_LEVELS {
            for l in 0..LANES {
                let a = N::index(at[l]) & node_mask;
                let node = nodes[a];
                let x = scratch[(base[l] + node.column()) & column_mask];
                at[l] = node.next(a as u32, u32::from(!(x <= node.threshold())));
            }
        }
        // The lanes at leaves, listed without a branch per lane (which lanes end when is
        // anyone's guess), then handed over one by one.
        let mut ended = [0u8; LANES];
        let mut n_ended = 0;
        for l in 0..LANES {
            ended[n_ended] = l as u8;
            n_ended += usize::from(row[l] != IDLE && nodes[N::index(at[l]) & node_mask].is_leaf());
        }
        for &l in &ended[..n_ended] {
            let l = usize::from(l);
            visit(row[l], at[l] + to_array);
            if next < n_rows {
                (row[l], base[l], at[l]) = (next, offset(next), root);
                next += 1;
            } else {
                row[l] = IDLE;
                busy -= 1;
            }
        }
    }
}
