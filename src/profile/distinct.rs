//! Distinct counts: Apache DataSketches' HyperLogLog (Flajolet, Fusy, Gandouet, Meunier,
//! "HyperLogLog: the analysis of a near-optimal cardinality estimation algorithm", 2007, with
//! DataSketches' HIP and coupon-list refinements), `lg_k = 12` (4096 registers, relative
//! standard error about 1.6%). It hashes with MurmurHash3 and a fixed seed and has no other
//! randomness, so the same values in the same order give the same bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use datasketches::common::NumStdDev;
use datasketches::hll::{HllSketch, HllType, HllUnion};
use serde::{Deserialize, Serialize};

/// log2 of the number of registers.
pub const LG_K: u8 = 12;

#[derive(Debug, Clone)]
pub struct DistinctSketch {
    hll: HllSketch,
    /// The last number hashed: runs of one value (integer codes, flags) skip the hash.
    last: Option<u64>,
}

impl Default for DistinctSketch {
    fn default() -> Self {
        DistinctSketch { hll: new_hll(), last: None }
    }
}

fn new_hll() -> HllSketch {
    HllSketch::new(LG_K, HllType::Hll8).expect("lg_k 12 is within DataSketches' range")
}

impl PartialEq for DistinctSketch {
    fn eq(&self, other: &Self) -> bool {
        canonical_bytes(&self.hll) == canonical_bytes(&other.hll)
    }
}

/// DataSketches' image with the coupons of the sparse modes sorted. In those modes (LIST: 8-byte
/// preamble, SET: 12-byte preamble, then little-endian u32 coupons) the image lists coupons in
/// hash-table order, which depends on insertion history: a sketch read back re-inserts them and
/// could write them in another order. Sorted, the image depends only on the set of coupons;
/// DataSketches reads compact sparse images in any order. Register-array images are already
/// canonical.
fn canonical_bytes(hll: &HllSketch) -> Vec<u8> {
    const LIST_PREINTS: u8 = 2;
    const SET_PREINTS: u8 = 3;
    let mut bytes = hll.serialize();
    let start = match bytes.first() {
        Some(&LIST_PREINTS) => 8,
        Some(&SET_PREINTS) => 12,
        _ => return bytes,
    };
    if bytes.len() > start {
        let mut coupons: Vec<u32> =
            bytes[start..].chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        coupons.sort_unstable();
        for (dst, c) in bytes[start..].chunks_exact_mut(4).zip(coupons) {
            dst.copy_from_slice(&c.to_le_bytes());
        }
    }
    bytes
}

/// Canonical bits of a number: `-0.0` and `0.0` are one value.
#[inline]
fn number_key(x: f64) -> u64 {
    if x == 0.0 { 0 } else { x.to_bits() }
}

impl DistinctSketch {
    #[inline]
    pub fn update_number(&mut self, x: f64) {
        let key = number_key(x);
        if self.last != Some(key) {
            self.hll.update(key);
            self.last = Some(key);
        }
    }
    pub fn update_str(&mut self, s: &str) {
        self.last = None;
        self.hll.update(s);
    }
    pub fn merge(&mut self, other: &DistinctSketch) {
        let mut union = HllUnion::new(LG_K).expect("lg_k 12 is within DataSketches' range");
        union.update(&self.hll);
        union.update(&other.hll);
        self.hll = union.to_sketch(HllType::Hll8);
        self.last = None;
    }
    /// Estimated number of distinct values.
    pub fn estimate(&self) -> f64 {
        self.hll.estimate()
    }
    /// Bounds at about two standard errors.
    pub fn bounds(&self) -> (f64, f64) {
        (self.hll.lower_bound(NumStdDev::Two), self.hll.upper_bound(NumStdDev::Two))
    }
    /// Relative standard error of the estimate for this register count (1.04 / sqrt(2^lg_k)).
    pub fn relative_standard_error() -> f64 {
        1.04 / f64::from(1u32 << LG_K).sqrt()
    }
}

impl Serialize for DistinctSketch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(canonical_bytes(&self.hll)))
    }
}

impl<'de> Deserialize<'de> for DistinctSketch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(d)?;
        let bytes = BASE64.decode(text.as_bytes()).map_err(|e| D::Error::custom(format!("distinct-count sketch: not base64: {e}")))?;
        let hll = HllSketch::deserialize(&bytes).map_err(|e| D::Error::custom(format!("distinct-count sketch: {e}")))?;
        if hll.lg_config_k() != LG_K {
            return Err(D::Error::custom(format!("distinct-count sketch: lg_k {} (kiln writes {LG_K})", hll.lg_config_k())));
        }
        Ok(DistinctSketch { hll, last: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_images_do_not_depend_on_insertion_order() {
        // 200 values: past the coupon list, in the coupon hash-set mode.
        let (mut a, mut b) = (DistinctSketch::default(), DistinctSketch::default());
        for i in 0..200 {
            a.update_number(i as f64);
        }
        for i in (0..200).rev() {
            b.update_number(i as f64);
        }
        let text = serde_json::to_string(&a).unwrap();
        assert_eq!(text, serde_json::to_string(&b).unwrap());
        let back: DistinctSketch = serde_json::from_str(&text).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        assert!((back.estimate() - 200.0).abs() < 1.0);
    }
}
