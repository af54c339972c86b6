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

#![expect(
    clippy::neg_cmp_op_on_partial_ord,
    reason = "a step goes to its second child on `!(x <= t)`, which NaN (incomparable) satisfies by design"
)]

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

/// Rows that walk a numeric tree together. Sixteen independent walks hide the
/// latency of a node load followed by a feature load (measured: 16 beat 8 by ~5%, 4 lost ~25%).
pub const LANES: usize = 16;

/// Trees deeper than this stop walking a group once all its lanes have reached leaves,
/// checked every [`EXIT_CHECK_LEVELS`] levels past this depth; shallower ones walk their full
/// depth (the check would cost more than the steps it saves).
const EXIT_CHECK_FROM: u32 = 8;
const EXIT_CHECK_LEVELS: u32 = 3;

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

/// One node of a numeric tree. Every node, split or leaf, does the same thing: step to
/// `child + !(x <= threshold)` where `x` is the row's value in the scratch column that starts
/// `column` values into its group's scratch (the column's index times [`LANES`], so a lane's
/// value is one add and one scaled load away). A split
/// whose missing values go left reads the negated feature column with its children swapped,
/// so NaN (where `<=` is false) always takes the second child. A leaf reads [`NAN_COLUMN`]
/// (NaN in every lane, so `<=` is false whatever the threshold) and its `child` is its own
/// index less one, so it steps to itself; its threshold holds its value itself (an inline
/// leaf: a single target whose node type holds the value as the model sums it, see
/// [`TreeEnsemble::new`]) or the bits of where its values start among its tree's. Reading
/// the leaf from the node a walk ends on spares a per-node side table (4 bytes a node), and
/// an inline leaf's value is the walk's last load.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
struct NumericNode<T> {
    threshold: T,
    column: u32,
    child: u32,
}

/// What a walk step reads of a numeric node: its threshold, where the scratch column it
/// compares starts in a group's scratch, and where it goes.
trait Step<T>: Copy {
    fn threshold(&self) -> T;
    fn column(&self) -> usize;
    /// The node after node `at`: the first child, plus `second` (0 or 1).
    fn next(&self, at: u32, second: u32) -> u32;
    /// How far past its group's start a step can read, where the node type bounds it: a walk
    /// that reads a group through a slice this long has no bounds check on the value's load
    /// (the compiler sees the index is within the slice's constant length).
    const COLUMN_REACH: Option<usize>;
    /// For a node type whose children are indices into their run's window of the node array
    /// (see [`WindowNode`]), that window's length: a constant the compiler sees every step's
    /// index is below, so the node's load has no bounds check.
    const WINDOW: Option<usize> = None;
    /// A walk's position as the index it reads: itself, except for window nodes, whose
    /// positions all fit 16 bits. Saying so (a truncation that changes no valid position)
    /// bounds the index below the window's length wherever the position comes from: the
    /// one-row walk's and the refilling walk's lanes, which start from memory, so the
    /// compiler could not bound them and checked every step (a compare and a branch; the
    /// zero-extending move costs a cycle on the step's chain instead). A lockstep block walk
    /// (`walk_numeric`), whose lanes all start at the bounded root, needs neither. C driver,
    /// Zen 3 host, interleaved rounds: one row of 500x8 6.31-6.56 -> 5.91-5.99 us, LightGBM
    /// one thread 98-99k -> 104-106k rows/s (in the block walk the truncation cost XGBoost
    /// 3%).
    #[inline(always)]
    fn index(at: u32) -> usize {
        at as usize
    }
    /// Whether the node is a leaf (or a filler): it reads the NaN column, so it steps to its
    /// second child, itself.
    #[inline(always)]
    fn is_leaf(&self) -> bool {
        self.column() == NAN_COLUMN
    }
}

/// The scratch column that leaves and fillers read: NaN in every lane, so that `!(x <=
/// threshold)` is true whatever the threshold holds (an inline leaf's value, a leaf's offset).
const NAN_COLUMN: usize = 0;

impl<T: Copy> Step<T> for NumericNode<T> {
    const COLUMN_REACH: Option<usize> = None;
    #[inline(always)]
    fn threshold(&self) -> T {
        self.threshold
    }
    #[inline(always)]
    fn column(&self) -> usize {
        self.column as usize
    }
    #[inline(always)]
    fn next(&self, _at: u32, second: u32) -> u32 {
        self.child.wrapping_add(second)
    }
}

/// A numeric node with the column as 16 bits and the first child as a signed 16-bit offset
/// from the node itself (a leaf's is -1): 8 bytes for float32, 12 for float64 (packed to a
/// 4-byte alignment, so a float64 threshold may straddle 8 bytes: x86 reads it as fast). Taken
/// by a model whose column starts fit 16 bits (at most 2,047 features read by its trees) and
/// whose laid-out children all lie within 32,767 nodes of their parents (checked once laid
/// out, see [`compact_nodes`]: a complete tree of 32,767 nodes still does, of 65,535 not);
/// others keep [`NumericNode`]. Two thirds (float32) or three quarters
/// (float64) of the bytes: less memory and less cache per tree.
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(4))]
struct CompactNode<T> {
    threshold: T,
    column: u16,
    child: i16,
}

impl<T: Copy> Step<T> for CompactNode<T> {
    /// A 16-bit column start, plus a lane.
    const COLUMN_REACH: Option<usize> = Some(u16::MAX as usize + LANES);
    #[inline(always)]
    fn threshold(&self) -> T {
        self.threshold
    }
    #[inline(always)]
    fn column(&self) -> usize {
        usize::from(self.column)
    }
    #[inline(always)]
    fn next(&self, at: u32, second: u32) -> u32 {
        at.wrapping_add(i32::from(self.child) as u32).wrapping_add(second)
    }
}

/// A compact node whose first child is a 16-bit index into its run's window of the node
/// array (a run: the up to [`LANES`] consecutive trees a one-row walk takes in lockstep),
/// which starts one node before the run's first root (so that a leaf, its own first child's
/// successor, has an index to point at even at that root): a child is below 65,535, so a
/// step's next index, the child plus 0 or 1, fits 16 bits, and a walk that reads its tree
/// through a window of [`NODE_WINDOW`] nodes, its positions as 16-bit indices
/// ([`Step::index`]), has no bounds check on the node's load either; a one-row walk reads all
/// of a run's trees through one window. Taken by models of at least [`NODE_WINDOW`] nodes
/// whose column starts fit 16 bits and whose runs each span at most 65,535 nodes; the node
/// array then runs a window past the last run's start (see
/// [`pad_nodes`]), so at most doubles. Their deep trees walk unmasked too: the window is
/// cheaper than the mask on the step's chain (C driver, one thread, five interleaved rounds,
/// Zen 3 host: LightGBM's 500 trees of 255 leaves 84-92k -> 90-95k rows/s, the peers' forest
/// 447-511k -> 524-569k).
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(4))]
struct WindowNode<T> {
    threshold: T,
    column: u16,
    child: u16,
}

/// The nodes a [`WindowNode`] walk reads its tree through: any child plus one.
const NODE_WINDOW: usize = u16::MAX as usize + 2;

impl<T: Copy> Step<T> for WindowNode<T> {
    const COLUMN_REACH: Option<usize> = Some(u16::MAX as usize + LANES);
    const WINDOW: Option<usize> = Some(NODE_WINDOW);
    #[inline(always)]
    fn index(at: u32) -> usize {
        usize::from(at as u16)
    }
    #[inline(always)]
    fn threshold(&self) -> T {
        self.threshold
    }
    #[inline(always)]
    fn column(&self) -> usize {
        usize::from(self.column)
    }
    #[inline(always)]
    fn next(&self, _at: u32, second: u32) -> u32 {
        u32::from(self.child) + second
    }
}

/// `nodes` (in a scratch of at most 65,536 columns) as window nodes, given every numeric
/// tree's root and window start (in node order, the first root at 0), or `None` where a run
/// spans more nodes than a 16-bit child reaches.
fn window_nodes<T: Copy>(nodes: &[NumericNode<T>], windows: &[(u32, u32)]) -> Option<Vec<WindowNode<T>>> {
    if windows.first().is_some_and(|&(root, _)| root != 0) {
        return None;
    }
    let mut tree = 0;
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            while windows.get(tree + 1).is_some_and(|&(root, _)| root as usize <= i) {
                tree += 1;
            }
            // Below u16::MAX, so that the second child's index fits 16 bits too.
            let child = u16::try_from(n.child.wrapping_sub(windows[tree].1)).ok().filter(|&c| c < u16::MAX)?;
            Some(WindowNode { threshold: n.threshold, column: n.column as u16, child })
        })
        .collect()
}

/// `nodes` (in a scratch of at most 65,536 columns) as compact nodes, or `None` where a child
/// lies too far from its parent for a 16-bit offset.
fn compact_nodes<T: Copy>(nodes: &[NumericNode<T>]) -> Option<Vec<CompactNode<T>>> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let child = i16::try_from(n.child.wrapping_sub(i as u32) as i32).ok()?;
            Some(CompactNode { threshold: n.threshold, column: n.column as u16, child })
        })
        .collect()
}

/// A split value type of numeric trees: `f32` where the model compares f32-rounded inputs,
/// `f64` otherwise. Comparisons of inputs of this type against these thresholds are exact
/// translations of the model's `x < t` or `x <= t` on f64 thresholds.
trait SplitValue: Copy + PartialOrd + std::ops::Neg<Output = Self> + std::fmt::Debug + 'static {
    const ZERO: Self;
    const INFINITY: Self;
    /// The least value of this type at or above `t`.
    fn at_or_above(t: f64) -> Self;
    /// The greatest value of this type at or below `t`.
    fn at_or_below(t: f64) -> Self;
    /// The least value of this type above `self` (`self` not NaN, not +inf).
    fn next_up(self) -> Self;
    /// An input value, from a block value already rounded to the model's input precision.
    fn input(x: f64) -> Self;
    /// Run `f` with this thread's scratch (kept between calls: no allocation per block once it
    /// has grown to size).
    fn with_scratch<R>(f: impl FnOnce(&mut Vec<[Self; LANES]>) -> R) -> R;
    const NAN: Self;
    /// A leaf's threshold holding where its values start among its tree's, as its bits (a
    /// leaf's threshold is never compared with: see [`NAN_COLUMN`]).
    fn leaf(offset: u32) -> Self;
    /// The offset a [`SplitValue::leaf`] threshold holds.
    fn leaf_offset(self) -> usize;
    /// An inline leaf's threshold: its value itself, rounded as the model accumulates (`acc32`:
    /// f32), which this type holds exactly where inline leaves are taken (see
    /// [`TreeEnsemble::new`]).
    fn inline(value: f64, acc32: bool) -> Self;
    /// An inline leaf's value, for a model that accumulates in f32.
    fn value32(self) -> f32;
    /// An inline leaf's value, for a model that accumulates in f64.
    fn value64(self) -> f64;
}

thread_local! {
    static SCRATCH32: RefCell<Vec<[f32; LANES]>> = const { RefCell::new(Vec::new()) };
    static SCRATCH64: RefCell<Vec<[f64; LANES]>> = const { RefCell::new(Vec::new()) };
    /// A block's running sums of a single-target model that accumulates in f32.
    static SUMS32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

impl SplitValue for f32 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f32::INFINITY;
    fn at_or_above(t: f64) -> Self {
        let near = t as f32;
        if f64::from(near) < t { SplitValue::next_up(near) } else { near }
    }
    fn at_or_below(t: f64) -> Self {
        let near = t as f32;
        if f64::from(near) > t { -SplitValue::next_up(-near) } else { near }
    }
    fn next_up(self) -> Self {
        if self == 0.0 {
            f32::from_bits(1)
        } else if self > 0.0 {
            f32::from_bits(self.to_bits() + 1)
        } else {
            f32::from_bits(self.to_bits() - 1)
        }
    }
    #[inline(always)]
    fn input(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn with_scratch<R>(f: impl FnOnce(&mut Vec<[Self; LANES]>) -> R) -> R {
        SCRATCH32.with(|s| f(&mut s.borrow_mut()))
    }
    const NAN: Self = f32::NAN;
    fn leaf(offset: u32) -> Self {
        f32::from_bits(offset)
    }
    #[inline(always)]
    fn leaf_offset(self) -> usize {
        self.to_bits() as usize
    }
    fn inline(value: f64, _acc32: bool) -> Self {
        value as f32
    }
    #[inline(always)]
    fn value32(self) -> f32 {
        self
    }
    #[inline(always)]
    fn value64(self) -> f64 {
        f64::from(self)
    }
}

impl SplitValue for f64 {
    const ZERO: Self = 0.0;
    const INFINITY: Self = f64::INFINITY;
    fn at_or_above(t: f64) -> Self {
        t
    }
    fn at_or_below(t: f64) -> Self {
        t
    }
    fn next_up(self) -> Self {
        if self == 0.0 {
            f64::from_bits(1)
        } else if self > 0.0 {
            f64::from_bits(self.to_bits() + 1)
        } else {
            f64::from_bits(self.to_bits() - 1)
        }
    }
    #[inline(always)]
    fn input(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn with_scratch<R>(f: impl FnOnce(&mut Vec<[Self; LANES]>) -> R) -> R {
        SCRATCH64.with(|s| f(&mut s.borrow_mut()))
    }
    const NAN: Self = f64::NAN;
    fn leaf(offset: u32) -> Self {
        f64::from_bits(u64::from(offset))
    }
    #[inline(always)]
    fn leaf_offset(self) -> usize {
        self.to_bits() as u32 as usize
    }
    fn inline(value: f64, acc32: bool) -> Self {
        if acc32 { f64::from(value as f32) } else { value }
    }
    #[inline(always)]
    fn value32(self) -> f32 {
        self as f32
    }
    #[inline(always)]
    fn value64(self) -> f64 {
        self
    }
}

/// A numeric split as one `!(v <= threshold)` test: the threshold, and whether `v` is the
/// negated input (with the children swapped). `None` where no threshold of type `T` expresses
/// the split: `v < -inf` has no `<=` equivalent, so such a tree takes the general layout.
///
/// The test is `<=` rather than `<` because `!(v <= t)` is the carry flag of one `ucomiss`
/// (`t < v` or unordered), which the step adds into the child index with one `adc`, where
/// `!(v < t)` needs a `setbe` and an add more in each step's chain of dependent instructions
/// (criterion, 500 x depth 8, one thread: 177-195k -> 174-212k rows/s alone, 201-244k with
/// the block's f32 sums; see the measurement log in benches/HISTORY.md). The `<` splits are `<=` against
/// the next value down: for a split at zero that is the least subnormal, so kiln, like any
/// exact scorer, assumes the default floating-point mode (subnormals not flushed to zero).
fn numeric_split<T: SplitValue>(t: f64, less: bool, default_left: bool) -> Option<(T, bool)> {
    // `<` on values of T is `<=` against the next value down, unless there is none.
    let below = |u: T| if u == -T::INFINITY { None } else { Some(-SplitValue::next_up(-u)) };
    match (less, default_left) {
        // Second child = right = `!(x < t)`; NaN goes right.
        (true, false) => below(T::at_or_above(t)).map(|d| (d, false)),
        // Second child = left = `!(x >= t)` = `!(-x <= -t)`; NaN goes left.
        (true, true) => Some((T::at_or_below(-t), true)),
        // Second child = right = `!(x <= t)`.
        (false, false) => Some((T::at_or_below(t), false)),
        // Second child = left = `!(x > t)` = `!(-x < -t)`.
        (false, true) => below(T::at_or_above(-t)).map(|d| (d, true)),
    }
}

/// Where a tree lives and how it is walked.
#[derive(Debug, Clone, Copy)]
enum Layout {
    /// In the numeric node array: walk exactly `depth` steps from `root`; with `refill`, a
    /// block's rows walk it in [`walk_refill`]'s way. Window nodes (see [`WindowNode`]) index
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
    /// 1: column 0 is [`NAN_COLUMN`]).
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

    /// Walk row `i` of the block's numbers (`num`, column `f` at `f * stride`) through the general
    /// tree at `root`, one node at a time; returns where its leaf's values start.
    #[inline(always)]
    fn general_leaf(&self, root: u32, num: &[f64], stride: usize, i: usize) -> usize {
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

    /// Add every tree's leaves into `out`, tree by tree.
    ///
    /// Never inlined, so the walks are compiled for the baseline x86-64 only, on purpose: in
    /// the AVX2 version LLVM packs the sixteen lanes' node indices into vector registers and
    /// extracts each one again for its loads, and the walks ran 13-18% slower (criterion A/B
    /// on this Zen 4 host, one thread, three interleaved rounds: 500x8 155-167k against
    /// 182-200k rows/s, LightGBM-like 100-107k against 109-122k). Their steps are scalar
    /// loads, compares and adds, which the baseline has in full.
    #[inline(never)]
    fn score_trees<T: SplitValue, N: Step<T>>(&self, nodes: &[N], block: &Block<'_>, out: &mut [f64]) {
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
    /// and for a masked walk unused columns up to a power of two (see [`pad_nodes`]).
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

/// Move a numeric node array into its lasting allocation; returns how many filler nodes now
/// come first (what the trees' roots move by). With `align` (compact nodes, whose child is
/// an offset or an index within the tree), that many that the array's first node starts a
/// 64-byte cache line: the allocator gives no such alignment, and a `Vec` of a type aligned to
/// 64 would not index as a plain slice of nodes. (A clone of the ensemble would lose the
/// alignment, costing only speed; none is made.)
///
/// For window nodes (`window_end` > 0, where the last tree's window ends before the shift),
/// at least one filler first (a window starts a node before its root) and fillers after the
/// last tree to the end of its window: up to [`NODE_WINDOW`] nodes (512 KiB of float32 nodes,
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
fn pad_nodes<N: Copy>(nodes: &mut Vec<N>, pad: bool, align: bool, window_end: usize, filler: N) -> u32 {
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
/// nodes, the window from `window` (see [`WindowNode`]), a slice of constant length that needs
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

/// Cut the trees, in order, into runs of up to [`LANES`] consecutive numeric trees and single
/// general trees.
fn tree_runs(trees: &[Tree]) -> Vec<TreeRun> {
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
struct SharedLeaves {
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
struct Leaves<'a> {
    values: &'a mut Vec<f64>,
    shared: Option<&'a mut SharedLeaves>,
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
const LINE_NODES: usize = 8;

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
fn lay_numeric<T: SplitValue>(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A leaf's threshold keeps its offset, or its value, and the NaN column's value steps
    /// past every such threshold (to `child + 1`, the leaf itself).
    fn leaf_thresholds<T: SplitValue>() -> Vec<T> {
        let offsets = [0, 1, 2, 12345, 1 << 22, u32::MAX].map(|offset| {
            let t = T::leaf(offset);
            assert_eq!(t.leaf_offset(), offset as usize);
            t
        });
        let values = [0.0, -0.0, 1.5, -1e-40, 1e-300, f64::MAX, f64::MIN, f64::INFINITY, f64::NEG_INFINITY, f64::NAN];
        let inline = values.iter().flat_map(|&v| [T::inline(v, true), T::inline(v, false)]);
        let all: Vec<T> = offsets.into_iter().chain(inline).collect();
        for &t in &all {
            assert!(!(T::NAN <= t), "NaN <= leaf {t:?}");
        }
        all
    }

    #[test]
    fn leaf_thresholds_hold_offsets_and_values() {
        assert_eq!(leaf_thresholds::<f32>().len(), 26);
        assert_eq!(leaf_thresholds::<f64>().len(), 26);
        // Inline values read back as the model accumulates them, bit for bit.
        for v in [0.1, -0.0, 1e-40, 3.5e38, -7.25, f64::INFINITY] {
            assert_eq!(f32::inline(v, true).value32().to_bits(), (v as f32).to_bits(), "{v}");
            assert_eq!(f64::inline(v, true).value32().to_bits(), (v as f32).to_bits(), "{v}");
            assert_eq!(f64::inline(v, false).value64().to_bits(), v.to_bits(), "{v}");
        }
        assert!(f64::inline(f64::NAN, false).value64().is_nan() && f32::inline(f64::NAN, true).value32().is_nan());
    }

    /// A complete tree of `depth` levels of splits (feature = node index mod 2), every node's
    /// value its own index.
    fn complete_tree(depth: u32) -> TreeSpec {
        let n = (1usize << (depth + 1)) - 1;
        let split = |i: usize| 2 * i + 2 < n;
        TreeSpec {
            target: 0,
            leaf_width: 1,
            feature: (0..n).map(|i| if split(i) { (i % 2) as i32 } else { -1 }).collect(),
            threshold: (0..n).map(|i| i as f64 * 0.25).collect(),
            left: (0..n).map(|i| if split(i) { (2 * i + 1) as i32 } else { -1 }).collect(),
            right: (0..n).map(|i| if split(i) { (2 * i + 2) as i32 } else { -1 }).collect(),
            default_left: (0..n).map(|i| i % 3 == 0).collect(),
            missing: vec![],
            category_splits: vec![],
            value: (0..n).map(|i| i as f64).collect(),
        }
    }

    /// Every walk of `depth` steps from `at` (both ways at splits, a leaf stepping to itself):
    /// calls `reach(leaf, nodes read on the way)`.
    fn every_walk<T: SplitValue>(nodes: &[NumericNode<T>], at: u32, steps: u32, path: &mut Vec<u32>, reach: &mut impl FnMut(u32, &[u32])) {
        path.push(at);
        let node = nodes[at as usize];
        if steps == 0 {
            reach(at, path);
        } else if node.is_leaf() {
            every_walk(nodes, node.child + 1, steps - 1, path, reach);
        } else {
            for second in 0..2 {
                every_walk(nodes, node.child + second, steps - 1, path, reach);
            }
        }
        path.pop();
    }

    #[test]
    fn float32_trees_lie_in_cache_line_blocks() {
        // After three nodes of an earlier tree, a complete depth-8 tree starts on a line, every
        // one of its 256 walks reads at most 4 lines of 8 nodes (7 breadth-first), reaches its own leaf
        // with that leaf's value, and the blocks' fillers add under an eighth to the nodes.
        let tree = complete_tree(8);
        let filler = NumericNode { threshold: 0.0f32, column: 0, child: 0 };
        let mut nodes = vec![filler; 3];
        let mut values = Vec::new();
        let Some(Layout::Numeric { root, depth, .. }) = lay_numeric::<f32>(&tree, &mut nodes, Leaves { values: &mut values, shared: None }, &[0, 1], 2, false, None) else { unreachable!() };
        assert_eq!((root % LINE_NODES as u32, depth), (0, 8));
        assert!(nodes.len() - root as usize <= 511 + 511 / 8, "{} nodes", nodes.len() - root as usize);
        let (mut leaves, mut lines_read) = (Vec::new(), [0; 10]);
        every_walk(&nodes, root, depth, &mut Vec::new(), &mut |leaf, path| {
            let mut lines: Vec<u32> = path.iter().map(|&at| at / LINE_NODES as u32).collect();
            lines.dedup();
            lines_read[lines.len()] += 1;
            leaves.push(values[nodes[leaf as usize].threshold.leaf_offset()]);
        });
        leaves.sort_by(f64::total_cmp);
        assert_eq!(leaves, (255..511).map(f64::from).collect::<Vec<_>>());
        // A block's spare pair (a grandchild pair) saves some walks a line.
        assert_eq!(lines_read[..3], [0; 3]);
        assert_eq!(lines_read[5..], [0; 5]);
        assert!(lines_read[3] > 0, "{lines_read:?}");
        // Float64 nodes stay breadth-first: no fillers, children after all of a level.
        let (mut nodes, mut values) = (Vec::new(), Vec::new());
        let Some(Layout::Numeric { root, .. }) = lay_numeric::<f64>(&tree, &mut nodes, Leaves { values: &mut values, shared: None }, &[0, 1], 2, false, None) else { unreachable!() };
        assert_eq!((root, nodes.len(), nodes[0].child, nodes[1].child), (0, 511, 1, 3));
    }

    /// A spine of `depth` splits, each with a leaf on one side.
    fn spine_tree(depth: u32) -> TreeSpec {
        let n = 2 * depth as usize + 1;
        let split = |i: usize| i % 2 == 0 && i + 1 < n;
        TreeSpec {
            target: 0,
            leaf_width: 1,
            feature: (0..n).map(|i| if split(i) { 0 } else { -1 }).collect(),
            threshold: vec![0.5; n],
            left: (0..n).map(|i| if split(i) { i as i32 + 1 } else { -1 }).collect(),
            right: (0..n).map(|i| if split(i) { i as i32 + 2 } else { -1 }).collect(),
            default_left: vec![],
            missing: vec![],
            category_splits: vec![],
            value: vec![0.0; n],
        }
    }

    #[test]
    fn only_deep_leaf_wise_trees_refill() {
        let refills = |tree: &TreeSpec| {
            let Some(Layout::Numeric { refill, .. }) = lay_numeric::<f64>(tree, &mut Vec::new(), Leaves { values: &mut Vec::new(), shared: None }, &[0, 1], 2, false, None) else { unreachable!() };
            refill
        };
        // A spine's leaves lie half as deep as its deepest on average; a complete tree's all
        // at its depth; trees of depth 8 or less walk exactly their depth anyway.
        assert!(refills(&spine_tree(20)) && refills(&spine_tree(9)));
        assert!(!refills(&spine_tree(8)) && !refills(&complete_tree(12)) && !refills(&complete_tree(8)));
    }

    /// An ensemble of `trees` over two features, summed in `precision`.
    #[test]
    fn window_children_leave_room_for_the_second_child() {
        // One tree from node 0: its window starts a node before, so index = node + 1. Walks
        // read positions as 16 bits (`Step::index`), so the second child's index, the first
        // child's plus one, must fit 16 bits: the first child at most 65,534.
        let node = |child: u32| NumericNode { threshold: 0.5f32, column: 0, child };
        let fits = window_nodes(&[node(1), node(65_533)], &[(0, u32::MAX)]).expect("first child at 65,534");
        assert_eq!(fits[1].next(0, 1), 65_535);
        assert!(window_nodes(&[node(1), node(65_534)], &[(0, u32::MAX)]).is_none(), "first child at 65,535");
    }

    #[test]
    fn single_targets_take_inline_leaves_where_the_node_holds_the_value() {
        let spec = |input: Precision, acc: Precision, width: u32, n_targets: usize| TreeEnsembleSpec {
            features: vec!["a".into(), "b".into()],
            n_targets,
            base_score: vec![],
            aggregate: Aggregate::Sum,
            decision: Decision::Less,
            input_precision: input,
            accumulate: acc,
            transform: OutputTransform::Identity,
            trees: vec![TreeSpec { leaf_width: width, value: complete_tree(3).value.iter().flat_map(|&v| vec![v; width as usize]).collect(), ..complete_tree(3) }],
        };
        let (f32_, f64_) = (Precision::Float32, Precision::Float64);
        let inline = |s: TreeEnsembleSpec| TreeEnsemble::new(&s, &[0, 1]).inline_leaves;
        assert!(inline(spec(f32_, f32_, 1, 1)) && inline(spec(f64_, f64_, 1, 1)) && inline(spec(f64_, f32_, 1, 1)));
        // A float32 node cannot hold a float64 sum's value; several values need an offset.
        assert!(!inline(spec(f32_, f64_, 1, 1)) && !inline(spec(f64_, f64_, 2, 2)));
        // An inline leaf's threshold is its value.
        let m = TreeEnsemble::new(&spec(f64_, f32_, 1, 1), &[0, 1]);
        let NumericNodes::F64Compact(nodes) = &m.numeric else { panic!("compact float64 nodes") };
        let mut values: Vec<f64> = nodes.iter().filter(|n| n.is_leaf()).map(|n| n.threshold()).collect();
        values.retain(|&v| (7.0..15.0).contains(&v));
        values.sort_by(f64::total_cmp);
        assert_eq!(values, (7..15).map(f64::from).collect::<Vec<_>>());
    }

    fn ensemble(trees: Vec<TreeSpec>, precision: Precision) -> TreeEnsemble {
        let spec = TreeEnsembleSpec {
            features: vec!["a".into(), "b".into()],
            n_targets: 1,
            base_score: vec![],
            aggregate: Aggregate::Sum,
            decision: Decision::Less,
            input_precision: precision,
            accumulate: precision,
            transform: OutputTransform::Identity,
            trees,
        };
        TreeEnsemble::new(&spec, &[0, 1])
    }

    /// Every walk of `depth` steps through window nodes from `at` (a window index), as
    /// [`every_walk`]: calls `reach(leaf's window index)`.
    fn every_window_walk<T: SplitValue>(window: &[WindowNode<T>], at: u32, steps: u32, reach: &mut impl FnMut(u32)) {
        if steps == 0 {
            return reach(at);
        }
        let node = window[at as usize];
        let seconds = if node.is_leaf() { 1..2 } else { 0..2 };
        for second in seconds {
            every_window_walk(window, node.next(at, second), steps - 1, reach);
        }
    }

    /// Models of at least a window's nodes take window nodes: every walk of each tree, read
    /// through its run's window, ends on one of that tree's own leaves (a leaf-only tree's
    /// too). Smaller models keep the offsets.
    #[test]
    fn large_models_take_window_nodes() {
        let leaf = TreeSpec { feature: vec![-1], threshold: vec![0.0], left: vec![-1], right: vec![-1], default_left: vec![false], value: vec![7.0], ..complete_tree(0) };
        let mut trees = vec![leaf.clone()];
        trees.extend((0..139).map(|t| complete_tree(if t % 40 == 39 { 3 } else { 8 })));
        trees.insert(17, leaf);
        let m = ensemble(trees.clone(), Precision::Float32);
        let NumericNodes::F32Window(nodes) = &m.numeric else { panic!("{} trees of depth 8: window nodes", trees.len()) };
        assert!(!m.masked_walk);
        let mut leaves_seen = 0;
        for (t, tree) in m.trees.iter().enumerate() {
            let Layout::Numeric { root, depth, window, .. } = tree.layout else { panic!("numeric") };
            let next_root = m.trees.get(t + 1).map_or(nodes.len() as u32, |n| if let Layout::Numeric { root, .. } = n.layout { root } else { 0 });
            let view = &nodes[window as usize..][..NODE_WINDOW];
            every_window_walk(view, root - window, depth, &mut |leaf| {
                let at = leaf + window;
                assert!((root..next_root).contains(&at), "tree {t}: leaf {at} outside {root}..{next_root}");
                assert!(nodes[at as usize].is_leaf(), "tree {t}: walk ends on a split");
                leaves_seen += 1;
            });
        }
        assert_eq!(leaves_seen, 2 + 136 * 256 + 3 * 8);
        assert!(matches!(ensemble(trees.clone(), Precision::Float64).numeric, NumericNodes::F64Window(_)));
        assert!(matches!(ensemble(trees[..40].to_vec(), Precision::Float32).numeric, NumericNodes::F32Compact(_)), "too small");
        // Deeper trees take them too, walked unmasked; too few nodes keep the masked offsets.
        let mut deep = trees;
        deep.push(complete_tree(9));
        let m = ensemble(deep.clone(), Precision::Float32);
        assert!(matches!(m.numeric, NumericNodes::F32Window(_)) && !m.masked_walk);
        let m = ensemble(deep[100..].to_vec(), Precision::Float32);
        assert!(matches!(m.numeric, NumericNodes::F32Compact(_)) && m.masked_walk, "too small");
    }

    /// Compact float32 nodes are moved to start on a cache line, a masked walk's array is a
    /// power of two long, and a window walk's has a filler before its first node and reaches
    /// the end of its last tree's window; the trees' roots move with them.
    #[test]
    fn settled_nodes_start_on_a_cache_line() {
        for (len, pad, window_end) in [(5usize, false, 0), (1000, true, 0), (1, true, 0), (5, false, 900), (1000, false, 900), (0, false, 1)] {
            let mut nodes: Vec<CompactNode<f32>> = (0..len).map(|i| CompactNode { threshold: i as f32, column: 0, child: 0 }).collect();
            let shift = pad_nodes(&mut nodes, pad, true, window_end, CompactNode { threshold: -1.0, column: 0, child: 0 }) as usize;
            assert_eq!(nodes[shift..].as_ptr().align_offset(64), 0);
            if len > 0 {
                assert_eq!(nodes[shift + len - 1].threshold(), (len - 1) as f32);
            }
            assert!(nodes[..shift].iter().all(|n| n.threshold() == -1.0));
            assert!(nodes[shift + len..].iter().all(|n| n.threshold() == -1.0));
            if pad {
                assert!(nodes.len().is_power_of_two() && nodes.len() >= len + shift);
            } else if window_end > 0 {
                assert!(shift > 0);
                assert_eq!(nodes.len(), shift + len.max(window_end));
            } else {
                assert_eq!(nodes.len(), len + shift);
            }
        }
    }

    /// A numeric split's single `!(v <= t')` test must make the model's decision for every f32
    /// input; the inputs that could disagree are the f32 neighbours of the threshold.
    #[test]
    fn numeric_splits_decide_like_the_model() {
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
            let up = |v: f32| if v == f32::INFINITY { v } else { SplitValue::next_up(v) };
            let down = |v: f32| -up(-v);
            let probes = [near, up(near), down(near), up(up(near)), down(down(near)), f32::INFINITY, f32::NEG_INFINITY, 0.0, -0.0, f32::NAN];
            for less in [true, false] {
                for default_left in [true, false] {
                    let Some((t32, negated)) = numeric_split::<f32>(t, less, default_left) else {
                        assert!(less != default_left, "only a `<` test whose NaN goes its other way can lack a `<=` form");
                        continue;
                    };
                    for &v in &probes {
                        let x = f64::from(v);
                        let goes_left = if x.is_nan() { default_left } else if less { x < t } else { x <= t };
                        let second = !((if negated { -v } else { v }) <= t32);
                        // The second child is the right one, or the left one when negated.
                        assert_eq!(goes_left, second == negated, "threshold {t:e} -> {t32:e} (negated {negated}), input {v:e}, less {less}");
                    }
                }
            }
        }
    }
}
