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
    bucket_of_hash(murmur3_32(s.as_bytes(), 0) as i32, n, alternate_sign)
}

/// Bucket and sign of a signed 32-bit hash `h` among `n` buckets (scikit-learn's rule).
pub fn bucket_of_hash(h: i32, n: u32, alternate_sign: bool) -> (u32, f64) {
    // scikit-learn special-cases i32::MIN (its absolute value overflows an i32) as
    // `(2^31 - 1 - (n - 1)) mod n`, which is `2^31 mod n`: exactly what the unsigned absolute
    // value gives. Writing that formula in u32 underflowed for n > 2^31.
    let bucket = h.unsigned_abs() % n;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Published MurmurHash3_x86_32 test vectors (the table circulated with smhasher ports, e.g.
    /// https://stackoverflow.com/a/31929528), covering every tail length and non-zero seeds.
    #[test]
    fn murmur3_matches_published_vectors() {
        let cases: &[(&[u8], u32, u32)] = &[
            (b"", 0, 0),
            (b"", 1, 0x514e_28b7),
            (b"", 0xffff_ffff, 0x81f1_6f39),
            (b"\xff\xff\xff\xff", 0, 0x7629_3b50),
            (b"\x21\x43\x65\x87", 0, 0xf55b_516b),
            (b"\x21\x43\x65\x87", 0x5082_edee, 0x2362_f9de),
            (b"\x21\x43\x65", 0, 0x7e4a_8634),
            (b"\x21\x43", 0, 0xa0f7_b07a),
            (b"\x21", 0, 0x7266_1cf4),
            (b"\x00\x00\x00\x00", 0, 0x2362_f9de),
            (b"\x00\x00\x00", 0, 0x85f0_b427),
            (b"\x00\x00", 0, 0x30f4_c306),
            (b"\x00", 0, 0x514e_28b7),
            (b"aaaa", 0x9747_b28c, 0x5a97_808a),
            (b"aaa", 0x9747_b28c, 0x283e_0130),
            (b"aa", 0x9747_b28c, 0x5d21_1726),
            (b"a", 0x9747_b28c, 0x7fa0_9ea6),
            (b"abcd", 0x9747_b28c, 0xf047_8627),
            (b"abc", 0x9747_b28c, 0xc84a_62dd),
            (b"ab", 0x9747_b28c, 0x7487_5592),
            (b"Hello, world!", 0x9747_b28c, 0x2488_4cba),
            (b"The quick brown fox jumps over the lazy dog", 0x9747_b28c, 0x2fa8_26cd),
        ];
        for &(data, seed, want) in cases {
            assert_eq!(murmur3_32(data, seed), want, "murmur3_32({data:?}, {seed:#x})");
        }
        // scikit-learn's own test values (sklearn/utils/tests/test_murmurhash.py), signed.
        assert_eq!(murmur3_32(b"foo", 0) as i32, -156_908_512);
        assert_eq!(murmur3_32(b"foo", 42) as i32, -1_322_301_282);
        // Multi-byte UTF-8 is hashed as its bytes.
        assert_eq!(murmur3_32("é".as_bytes(), 0), murmur3_32(&[0xc3, 0xa9], 0));
    }

    #[test]
    fn bucket_is_abs_mod_n_and_sign_follows_the_hash() {
        assert_eq!(bucket_of_hash(7, 5, true), (2, 1.0));
        assert_eq!(bucket_of_hash(-7, 5, true), (2, -1.0));
        assert_eq!(bucket_of_hash(-7, 5, false), (2, 1.0));
        assert_eq!(bucket_of_hash(0, 5, true), (0, 1.0));
        assert_eq!(bucket_of_hash(i32::MAX, 10, true), (7, 1.0));
        assert_eq!(hash_bucket("foo", 5, true), (2, -1.0));
    }

    #[test]
    fn i32_min_takes_scikit_learns_special_case() {
        // |i32::MIN| overflows i32; scikit-learn uses (2^31 - 1 - (n - 1)) mod n, which equals
        // 2^31 mod n. Negative, so the alternate sign is -1.
        for n in [1u32, 2, 3, 5, 7, 10, 1 << 20, 1_000_003, u32::MAX] {
            let want = ((1u64 << 31) % n as u64) as u32;
            assert_eq!(bucket_of_hash(i32::MIN, n, true), (want, -1.0), "n = {n}");
            assert_eq!(bucket_of_hash(i32::MIN, n, false), (want, 1.0), "n = {n}");
        }
        assert_eq!(bucket_of_hash(i32::MIN, 3, true).0, 2);
    }
}
