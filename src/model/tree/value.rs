//! Split values: thresholds and inputs in the precision the model compares in, and each
//! numeric split as one `!(v <= threshold)` test.

use std::cell::RefCell;

use super::LANES;

/// A split value type of numeric trees: `f32` where the model compares f32-rounded inputs,
/// `f64` otherwise. Comparisons of inputs of this type against these thresholds are exact
/// translations of the model's `x < t` or `x <= t` on f64 thresholds.
pub(super) trait SplitValue: Copy + PartialOrd + std::ops::Neg<Output = Self> + std::fmt::Debug + 'static {
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
    /// leaf's threshold is never compared with: see [`NAN_COLUMN`](super::node::NAN_COLUMN)).
    fn leaf(offset: u32) -> Self;
    /// The offset a [`SplitValue::leaf`] threshold holds.
    fn leaf_offset(self) -> usize;
    /// An inline leaf's threshold: its value itself, rounded as the model accumulates (`acc32`:
    /// f32), which this type holds exactly where inline leaves are taken (see
    /// [`TreeEnsemble::new`](super::TreeEnsemble::new)).
    fn inline(value: f64, acc32: bool) -> Self;
    /// An inline leaf's value, for a model that accumulates in f32.
    fn value32(self) -> f32;
    /// An inline leaf's value, for a model that accumulates in f64.
    fn value64(self) -> f64;
}

thread_local! {
    static SCRATCH32: RefCell<Vec<[f32; LANES]>> = const { RefCell::new(Vec::new()) };
    static SCRATCH64: RefCell<Vec<[f64; LANES]>> = const { RefCell::new(Vec::new()) };
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
pub(super) fn numeric_split<T: SplitValue>(t: f64, less: bool, default_left: bool) -> Option<(T, bool)> {
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
