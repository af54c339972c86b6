//! Frequent categories: Apache DataSketches' frequent-items sketch, the mergeable Misra-Gries
//! summary of Agarwal, Cormode, Huang, Phillips, Wei and Yi ("Mergeable Summaries", PODS 2012)
//! with a median purge. Every reported count carries deterministic bounds: the true count lies
//! in `[lower, upper]`, and `upper − lower` is at most [`FrequentSketch::maximum_error`], which
//! stays zero while fewer than 0.75 × 512 distinct categories were seen (then it is exact).
//! Hashing uses MurmurHash3 with a fixed seed; the same updates in the same order give the
//! same bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use datasketches::frequencies::{ErrorType, FrequentItemsSketch};
use serde::{Deserialize, Serialize};

/// Maximum hash-map size (a power of two); 384 categories are tracked exactly.
pub const MAX_MAP_SIZE: usize = 512;

/// One category with its count bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CategoryCount {
    pub category: String,
    pub estimate: u64,
    pub lower: u64,
    pub upper: u64,
}

#[derive(Debug, Clone)]
pub struct FrequentSketch {
    inner: FrequentItemsSketch<String>,
}

impl Default for FrequentSketch {
    fn default() -> Self {
        FrequentSketch { inner: FrequentItemsSketch::new(MAX_MAP_SIZE).expect("512 is a valid map size") }
    }
}

impl PartialEq for FrequentSketch {
    fn eq(&self, other: &Self) -> bool {
        canonical_bytes(&self.inner) == canonical_bytes(&other.inner)
    }
}

/// DataSketches' image with its (count, item) pairs sorted by item. The image lists them in
/// hash-table order, which depends on insertion history (a sketch read back re-inserts them, and
/// a probe run that wraps around the table comes back in another order). Layout (datasketches
/// 0.6.0 `frequencies/sketch.rs`): a 32-byte preamble whose bytes 8..12 hold the item count,
/// then one u64 count per item, then per item a u32 length and its UTF-8 bytes. Read-back
/// accepts any order. An image that does not parse as that layout is returned unchanged.
fn canonical_bytes(sketch: &FrequentItemsSketch<String>) -> Vec<u8> {
    let bytes = sketch.serialize();
    if bytes.len() < 32 || bytes[0] != 4 {
        return bytes; // empty sketch: preamble only
    }
    let n = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
    let counts_end = 32 + 8 * n;
    let Some(counts) = bytes.get(32..counts_end) else { return bytes };
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::with_capacity(n);
    let mut at = counts_end;
    for count in counts.chunks_exact(8) {
        let Some(len) = bytes.get(at..at + 4) else { return bytes };
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let Some(item) = bytes.get(at..at + 4 + len) else { return bytes };
        pairs.push((item, count));
        at += 4 + len;
    }
    if at != bytes.len() {
        return bytes;
    }
    pairs.sort_unstable_by(|a, b| a.0[4..].cmp(&b.0[4..]));
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..32]);
    for (_, count) in &pairs {
        out.extend_from_slice(count);
    }
    for (item, _) in &pairs {
        out.extend_from_slice(item);
    }
    out
}

impl FrequentSketch {
    pub fn update(&mut self, category: &str, count: u64) {
        self.inner.update_with_count_ref(category, count);
    }
    pub fn merge(&mut self, other: &FrequentSketch) {
        self.inner.merge(&other.inner);
    }
    /// Total count of all updates.
    pub fn total(&self) -> u64 {
        self.inner.total_weight()
    }
    /// Upper bound on `upper − lower` of any category (zero while exact).
    pub fn maximum_error(&self) -> u64 {
        self.inner.maximum_error()
    }
    /// Bounds of one category's count.
    pub fn count(&self, category: &str) -> CategoryCount {
        CategoryCount {
            category: category.to_string(),
            estimate: self.inner.estimate(category),
            lower: self.inner.lower_bound(category),
            upper: self.inner.upper_bound(category),
        }
    }
    /// Every tracked category that could be above the error floor (no false negatives), most
    /// frequent first, ties by name.
    pub fn items(&self) -> Vec<CategoryCount> {
        let mut rows: Vec<CategoryCount> = self
            .inner
            .frequent_items(ErrorType::NoFalseNegatives)
            .into_iter()
            .map(|r| CategoryCount { category: r.item().clone(), estimate: r.estimate(), lower: r.lower_bound(), upper: r.upper_bound() })
            .collect();
        rows.sort_by(|a, b| b.estimate.cmp(&a.estimate).then_with(|| a.category.cmp(&b.category)));
        rows
    }
}

impl Serialize for FrequentSketch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&BASE64.encode(canonical_bytes(&self.inner)))
    }
}

impl<'de> Deserialize<'de> for FrequentSketch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        let text = String::deserialize(d)?;
        let bytes = BASE64.decode(text.as_bytes()).map_err(|e| D::Error::custom(format!("frequent-items sketch: not base64: {e}")))?;
        let inner = FrequentItemsSketch::<String>::deserialize(&bytes).map_err(|e| D::Error::custom(format!("frequent-items sketch: {e}")))?;
        if inner.max_map_size() != MAX_MAP_SIZE {
            return Err(D::Error::custom(format!("frequent-items sketch: map size {} (kiln writes {MAX_MAP_SIZE})", inner.max_map_size())));
        }
        Ok(FrequentSketch { inner })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_do_not_depend_on_insertion_order() {
        let names: Vec<String> = (0..300).map(|i| format!("c{i}")).collect();
        let (mut a, mut b) = (FrequentSketch::default(), FrequentSketch::default());
        for (i, n) in names.iter().enumerate() {
            a.update(n, 1 + i as u64);
        }
        for (i, n) in names.iter().enumerate().rev() {
            b.update(n, 1 + i as u64);
        }
        assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        let back: FrequentSketch = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
        assert_eq!(back.count("c7").estimate, 8);
    }
}
