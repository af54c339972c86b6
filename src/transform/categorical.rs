//! Categorical steps: impute a category, one-hot, ordinal and hashing encoders.
//!
//! Categorical slots hold codes into the input column's vocabulary (known at plan time), so
//! every encoder maps a code through a table built once; only an unknown string is hashed at
//! run time.

use super::Block;
use crate::artifact::UnknownCategory;
use crate::batch::view::NULL_CODE;
use crate::verify::RowStatus;

#[derive(Debug, Clone)]
pub enum CategoricalStep {
    /// Null codes become `code`.
    Impute { src: usize, dst: usize, code: i64 },
    OneHot(OneHot),
    Ordinal(Ordinal),
    Hash(Hash),
}

impl CategoricalStep {
    pub fn apply(&self, block: &mut Block<'_>) {
        match self {
            &CategoricalStep::Impute { src, dst, code } => {
                for c in block.cat_into(src, dst) {
                    if *c == NULL_CODE {
                        *c = code;
                    }
                }
            }
            CategoricalStep::OneHot(s) => s.apply(block),
            CategoricalStep::Ordinal(s) => s.apply(block),
            CategoricalStep::Hash(s) => s.apply(block),
        }
    }
}

#[derive(Debug, Clone)]
pub struct OneHot {
    pub src: usize,
    /// Output slots, one per category, then the unknown slot if any.
    pub outputs: Vec<usize>,
    /// Vocabulary code to position in `outputs` (-1: not one of the step's categories).
    pub table: Vec<i32>,
    pub unknown: UnknownCategory,
    pub reason: i32,
}

impl OneHot {
    fn apply(&self, block: &mut Block<'_>) {
        let (codes, mut num, mut flags) = block.cat_to_num(self.src);
        for &o in &self.outputs {
            num.slot_mut(o).fill(0.0);
        }
        for (i, &c) in codes.iter().enumerate() {
            let pos = if c >= 0 && (c as usize) < self.table.len() { self.table[c as usize] } else { -1 };
            if pos >= 0 {
                num.set(self.outputs[pos as usize], i, 1.0);
                continue;
            }
            match self.unknown {
                UnknownCategory::Ignore => {}
                UnknownCategory::Slot => num.set(*self.outputs.last().expect("validated: slot policy has an unknown output"), i, 1.0),
                UnknownCategory::Error => {
                    let status = if c == NULL_CODE { RowStatus::Null } else { RowStatus::UnknownCategory };
                    flags.flag(i, status, self.reason);
                    for &o in &self.outputs {
                        num.set(o, i, f64::NAN);
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Ordinal {
    pub src: usize,
    pub dst: usize,
    /// Vocabulary code to the category's position (-1: not one of the step's categories).
    pub table: Vec<i32>,
    pub n_categories: usize,
    pub unknown: UnknownCategory,
    pub unknown_value: f64,
    pub reason: i32,
}

impl Ordinal {
    fn apply(&self, block: &mut Block<'_>) {
        let (codes, mut num, mut flags) = block.cat_to_num(self.src);
        let out = num.slot_mut(self.dst);
        for (i, (&c, o)) in codes.iter().zip(out.iter_mut()).enumerate() {
            if c == NULL_CODE {
                *o = f64::NAN;
                continue;
            }
            let pos = if (c as usize) < self.table.len() { self.table[c as usize] } else { -1 };
            *o = if pos >= 0 {
                pos as f64
            } else {
                match self.unknown {
                    UnknownCategory::Ignore => self.unknown_value,
                    UnknownCategory::Slot => self.n_categories as f64,
                    UnknownCategory::Error => {
                        flags.flag(i, RowStatus::UnknownCategory, self.reason);
                        f64::NAN
                    }
                }
            };
        }
    }
}

#[derive(Debug, Clone)]
pub struct Hash {
    pub src: usize,
    pub outputs: Vec<usize>,
    /// Per vocabulary code: (bucket, +1.0 or -1.0), computed once at plan time.
    pub table: Vec<(u32, f64)>,
    pub alternate_sign: bool,
}

impl Hash {
    fn apply(&self, block: &mut Block<'_>) {
        let source = block.cat_source[self.src];
        let (codes, mut num, _) = block.cat_to_num(self.src);
        for &o in &self.outputs {
            num.slot_mut(o).fill(0.0);
        }
        for (i, &c) in codes.iter().enumerate() {
            if c == NULL_CODE {
                continue;
            }
            let (bucket, sign) = if (c as usize) < self.table.len() {
                self.table[c as usize]
            } else {
                let s = source.expect("plan: a hashed slot with unknown codes has a source column").unknown(c);
                hash_bucket(s, self.outputs.len() as u32, self.alternate_sign)
            };
            num.set(self.outputs[bucket as usize], i, sign);
        }
    }
}

/// Bucket and sign of a string, as scikit-learn's `FeatureHasher`: MurmurHash3 x86 32-bit with
/// seed 0 of the UTF-8 bytes, read as a signed integer; bucket `|h| mod n`; sign of `h`.
pub fn hash_bucket(s: &str, n: u32, alternate_sign: bool) -> (u32, f64) {
    let h = murmur3_32(s.as_bytes(), 0) as i32;
    // scikit-learn maps i32::MIN (whose absolute value overflows) with this formula.
    let bucket = if h == i32::MIN { (i32::MAX as u32 - (n - 1)) % n } else { h.unsigned_abs() % n };
    let sign = if alternate_sign && h < 0 { -1.0 } else { 1.0 };
    (bucket, sign)
}

/// MurmurHash3_x86_32 (Austin Appleby's public-domain reference algorithm, smhasher).
pub fn murmur3_32(data: &[u8], seed: u32) -> u32 {
    const C1: u32 = 0xcc9e_2d51;
    const C2: u32 = 0x1b87_3593;
    let mut h = seed;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
        h = h.rotate_left(13).wrapping_mul(5).wrapping_add(0xe654_6b64);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut k = 0u32;
        for (i, b) in tail.iter().enumerate() {
            k |= (*b as u32) << (8 * i);
        }
        k = k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2);
        h ^= k;
    }
    h ^= data.len() as u32;
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^= h >> 16;
    h
}
