//! Fitted feature steps, executed over a block of rows. One file per family.
//!
//! A step reads and writes *slots*: columns of a block's scratch, numeric (`f64`, null = NaN)
//! or categorical (`i64` codes, see [`crate::batch::view`]). `plan/` resolves every name to a
//! slot once; here nothing looks up a name, parses or allocates per call.

pub mod arith;
pub mod categorical;
pub mod date;
pub mod numeric;
pub mod text;
mod text_word_table;

use crate::batch::CategoricalView;
use crate::verify::RowStatus;

/// The scratch of one block of rows: every slot's values for those rows, and row statuses.
pub struct Block<'a> {
    /// Rows in this block (`<= cap`).
    pub len: usize,
    /// Index of the block's first row in the batch.
    pub start: usize,
    cap: usize,
    num: Vec<f64>,
    cat: Vec<i64>,
    /// Per categorical slot, the batch column that resolves unknown codes to strings.
    pub cat_source: Vec<Option<&'a CategoricalView<'a>>>,
    /// Per row: 0 = fine so far, otherwise a [`RowStatus`] code.
    pub status: Vec<i32>,
    /// Per row: the schema column (or step) responsible for a non-zero status, -1 if none.
    pub reason: Vec<i32>,
}

impl<'a> Block<'a> {
    pub fn new(cap: usize, n_num: usize, n_cat: usize) -> Self {
        Block {
            len: 0,
            start: 0,
            cap,
            num: vec![0.0; n_num * cap],
            cat: vec![0; n_cat * cap],
            cat_source: vec![None; n_cat],
            status: vec![0; cap],
            reason: vec![-1; cap],
        }
    }

    /// Whether this block can serve a plan with these slot counts, `rows` rows at a time.
    pub fn fits(&self, rows: usize, n_num: usize, n_cat: usize) -> bool {
        self.cap >= rows && self.num.len() == n_num * self.cap && self.cat.len() == n_cat * self.cap
    }

    /// Start a new block of rows `[start, start + len)`.
    pub fn reset(&mut self, start: usize, len: usize) {
        debug_assert!(len <= self.cap);
        self.start = start;
        self.len = len;
        self.status[..len].fill(0);
        self.reason[..len].fill(-1);
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    #[inline]
    pub fn num(&self, slot: usize) -> &[f64] {
        &self.num[slot * self.cap..slot * self.cap + self.len]
    }
    #[inline]
    pub fn num_mut(&mut self, slot: usize) -> &mut [f64] {
        let len = self.len;
        &mut self.num[slot * self.cap..slot * self.cap + len]
    }
    /// All numeric scratch, slot `s` at `[s * stride, s * stride + len)`.
    #[inline]
    pub fn num_all(&self) -> (&[f64], usize) {
        (&self.num, self.cap)
    }
    #[inline]
    pub fn cat(&self, slot: usize) -> &[i64] {
        &self.cat[slot * self.cap..slot * self.cap + self.len]
    }
    #[inline]
    pub fn cat_mut(&mut self, slot: usize) -> &mut [i64] {
        let len = self.len;
        &mut self.cat[slot * self.cap..slot * self.cap + len]
    }

    /// Copy numeric slot `src` into `dst` (no-op when equal) and return `dst` for in-place work.
    #[inline]
    pub fn num_into(&mut self, src: usize, dst: usize) -> &mut [f64] {
        if src != dst {
            let (cap, len) = (self.cap, self.len);
            self.num.copy_within(src * cap..src * cap + len, dst * cap);
        }
        self.num_mut(dst)
    }

    /// `dst[i] = f(src[i])` over the block's rows, in place when `src == dst`. One pass that
    /// reads one slot and writes another, where [`Block::num_into`] copies and then rewrites.
    #[inline(always)]
    pub fn num_map(&mut self, src: usize, dst: usize, f: impl Fn(f64) -> f64) {
        let (cap, len) = (self.cap, self.len);
        if src == dst {
            self.num[dst * cap..dst * cap + len].iter_mut().for_each(|x| *x = f(*x));
            return;
        }
        let (from, to) = if src < dst {
            let (lo, hi) = self.num.split_at_mut(dst * cap);
            (&lo[src * cap..src * cap + len], &mut hi[..len])
        } else {
            let (lo, hi) = self.num.split_at_mut(src * cap);
            (&hi[..len], &mut lo[dst * cap..dst * cap + len])
        };
        for (d, &x) in to.iter_mut().zip(from) {
            *d = f(x);
        }
    }

    /// Like [`Block::num_into`], also lending the row flags so a step can flag rows as it goes.
    #[inline]
    pub fn num_into_flagged(&mut self, src: usize, dst: usize) -> (&mut [f64], Flags<'_>) {
        let (cap, len) = (self.cap, self.len);
        if src != dst {
            self.num.copy_within(src * cap..src * cap + len, dst * cap);
        }
        let slot = &mut self.num[dst * cap..dst * cap + len];
        (slot, Flags { status: &mut self.status[..len], reason: &mut self.reason[..len] })
    }

    /// Read categorical slot `slot` while writing numeric slots and flagging rows.
    #[inline]
    pub fn cat_to_num(&mut self, slot: usize) -> (&[i64], NumScratch<'_>, Flags<'_>) {
        let (cap, len) = (self.cap, self.len);
        (
            &self.cat[slot * cap..slot * cap + len],
            NumScratch { num: &mut self.num, cap, len },
            Flags { status: &mut self.status[..len], reason: &mut self.reason[..len] },
        )
    }

    /// Copy categorical slot `src` into `dst` (no-op when equal), lending `dst` and the flags.
    #[inline]
    pub fn cat_into(&mut self, src: usize, dst: usize) -> &mut [i64] {
        if src != dst {
            let (cap, len) = (self.cap, self.len);
            self.cat.copy_within(src * cap..src * cap + len, dst * cap);
        }
        self.cat_mut(dst)
    }

    /// Read numeric slots `a` and `b` while writing `dst` (which must differ from both, or
    /// equal one of them: then the write happens after the reads of each row).
    #[inline(always)]
    pub fn binary(&mut self, a: usize, b: usize, dst: usize, f: impl Fn(f64, f64) -> f64) {
        let (cap, len) = (self.cap, self.len);
        for i in 0..len {
            let x = self.num[a * cap + i];
            let y = self.num[b * cap + i];
            self.num[dst * cap + i] = f(x, y);
        }
    }

    /// Flag row `i` (block-relative) unless it is already flagged: the first reason wins.
    #[inline]
    pub fn flag(&mut self, i: usize, status: RowStatus, reason: i32) {
        if self.status[i] == 0 {
            self.status[i] = status as i32;
            self.reason[i] = reason;
        }
    }
}

/// Row flags of a block, lent out while a slot is borrowed.
pub struct Flags<'b> {
    status: &'b mut [i32],
    reason: &'b mut [i32],
}

impl Flags<'_> {
    /// Flag row `i` unless it is already flagged: the first reason wins.
    #[inline]
    pub fn flag(&mut self, i: usize, status: RowStatus, reason: i32) {
        if self.status[i] == 0 {
            self.status[i] = status as i32;
            self.reason[i] = reason;
        }
    }
}

/// The numeric scratch, lent out while a categorical slot is read.
pub struct NumScratch<'b> {
    num: &'b mut [f64],
    cap: usize,
    len: usize,
}

impl NumScratch<'_> {
    #[inline]
    pub fn slot_mut(&mut self, slot: usize) -> &mut [f64] {
        &mut self.num[slot * self.cap..slot * self.cap + self.len]
    }
    #[inline]
    pub fn set(&mut self, slot: usize, row: usize, v: f64) {
        self.num[slot * self.cap + row] = v;
    }
}

/// A step resolved to slots, ready to run.
#[derive(Debug, Clone)]
pub enum Prepared {
    Numeric(numeric::NumericStep),
    Categorical(categorical::CategoricalStep),
    Date(date::DateStep),
    Arith(arith::Arithmetic),
    Text(text::TextVectorize),
}

impl Prepared {
    /// Run the step over the block.
    pub fn apply(&self, block: &mut Block<'_>) {
        match self {
            Prepared::Numeric(s) => s.apply(block),
            Prepared::Categorical(s) => s.apply(block),
            Prepared::Date(s) => s.apply(block),
            Prepared::Arith(s) => s.apply(block),
            Prepared::Text(s) => s.apply(block),
        }
    }
}

/// Run `steps` over the block, in order.
pub fn apply_all(steps: &[Prepared], block: &mut Block<'_>) {
    if !steps.is_empty() {
        apply_all_for_cpu(steps, block);
    }
}

crate::exec::for_each_cpu! {
    /// [`apply_all`] for each CPU (see `exec::for_each_cpu`). The per-value numeric and arithmetic
    /// steps are inlined into each version; the others are called as they are.
    fn apply_all_for_cpu<'a>(steps: &[Prepared], block: &mut Block<'a>) {
        for step in steps {
            match step {
                Prepared::Numeric(s) => s.apply(block),
                Prepared::Arith(s) => s.apply(block),
                other => other.apply(block),
            }
        }
    }
}
