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
        self.inner.serialize() == other.inner.serialize()
    }
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
        s.serialize_str(&BASE64.encode(self.inner.serialize()))
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
