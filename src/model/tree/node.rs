//! The numeric trees' node types, and the step of a walk that every one of them takes.

use super::LANES;

/// One node of a numeric tree. Every node, split or leaf, does the same thing: step to
/// `child + !(x <= threshold)` where `x` is the row's value in the scratch column that starts
/// `column` values into its group's scratch (the column's index times [`LANES`], so a lane's
/// value is one add and one scaled load away). A split
/// whose missing values go left reads the negated feature column with its children swapped,
/// so NaN (where `<=` is false) always takes the second child. A leaf reads [`NAN_COLUMN`]
/// (NaN in every lane, so `<=` is false whatever the threshold) and its `child` is its own
/// index less one, so it steps to itself; its threshold holds its value itself (an inline
/// leaf: a single target whose node type holds the value as the model sums it, see
/// [`TreeEnsemble::new`](super::TreeEnsemble::new)) or the bits of where its values start among its tree's. Reading
/// the leaf from the node a walk ends on spares a per-node side table (4 bytes a node), and
/// an inline leaf's value is the walk's last load.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub(super) struct NumericNode<T> {
    pub(super) threshold: T,
    pub(super) column: u32,
    pub(super) child: u32,
}

/// What a walk step reads of a numeric node: its threshold, where the scratch column it
/// compares starts in a group's scratch, and where it goes.
pub(super) trait Step<T>: Copy {
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
pub(super) const NAN_COLUMN: usize = 0;

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
pub(super) struct CompactNode<T> {
    pub(super) threshold: T,
    pub(super) column: u16,
    pub(super) child: i16,
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
/// [`pad_nodes`](super::layout::pad_nodes)), so at most doubles. Their deep trees walk unmasked too: the window is
/// cheaper than the mask on the step's chain (C driver, one thread, five interleaved rounds,
/// Zen 3 host: LightGBM's 500 trees of 255 leaves 84-92k -> 90-95k rows/s, the peers' forest
/// 447-511k -> 524-569k).
#[derive(Debug, Clone, Copy)]
#[repr(C, packed(4))]
pub(super) struct WindowNode<T> {
    pub(super) threshold: T,
    pub(super) column: u16,
    pub(super) child: u16,
}

/// The nodes a [`WindowNode`] walk reads its tree through: any child plus one.
pub(super) const NODE_WINDOW: usize = u16::MAX as usize + 2;

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
pub(super) fn window_nodes<T: Copy>(nodes: &[NumericNode<T>], windows: &[(u32, u32)]) -> Option<Vec<WindowNode<T>>> {
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
pub(super) fn compact_nodes<T: Copy>(nodes: &[NumericNode<T>]) -> Option<Vec<CompactNode<T>>> {
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let child = i16::try_from(n.child.wrapping_sub(i as u32) as i32).ok()?;
            Some(CompactNode { threshold: n.threshold, column: n.column as u16, child })
        })
        .collect()
}
