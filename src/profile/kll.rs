//! A KLL quantile sketch over `f64` with a seeded compaction coin.
//!
//! Algorithm: Karnin, Lang, Liberty, "Optimal Quantile Approximation in Streams", FOCS 2016
//! (arXiv:1603.05346), in the practical form used by Apache DataSketches: levels whose
//! capacities shrink geometrically by 2/3 from the top (never below 8; level 0 keeps room for
//! `k`), a lazy compactor that
//! compacts the lowest full level only when the whole sketch is full, and merges that append
//! level by level.
//!
//! Why kiln writes its own instead of using `datasketches::kll`: that sketch draws its
//! compaction coin from a thread-local generator seeded at random (`common/random.rs` in
//! datasketches 0.6.0) with no way to seed it, so the same data in the same order gives
//! different sketches, and a profile could not be reproduced byte for byte. Here the coin is a
//! SplitMix64 stream whose state lives in the sketch (and in its serialized form), started from
//! a fixed seed.
//!
//! **Sampling the bottom levels.** Sorting every value once at level 0 is most of a sketch's
//! cost. KLL16 (§3) notes that the lowest compactors, whose capacity has shrunk to the minimum,
//! can be replaced by a sampler without changing the error's order. kiln does that once the
//! sketch has seen enough values for it not to matter: with `w = 2^s`, each run of `w`
//! consecutive values keeps one of them, chosen by the seeded coin, at weight `w`, and the
//! levels above count from weight `w`. `s` grows by one (the bottom level compacted away) each
//! time `n` passes `2^(s+1) ·` [`SAMPLE_VALUES_PER_WEIGHT`]. A run changes any rank query by a
//! zero-mean amount of variance at most `w²/4`; summed, the sampler's normalized rank variance
//! stays under `1 / (8 · SAMPLE_VALUES_PER_WEIGHT)`, about 29% of the compactions' a-priori
//! variance at k = 200 (so the a-priori bound grows by at most 13%, and
//! [`KllSketch::normalized_rank_error`] says so), while at 1,000,000 values only one in eight
//! values reaches a sort. Retained weights then add up to about `n` rather than exactly, so
//! ranks are normalized by the retained weight.
//!
//! Besides the classic a-priori bound ([`KllSketch::normalized_rank_error`]), the sketch keeps
//! the exact sum of squared compaction weights. Each compaction of a level of weight `w` changes
//! any rank query by `0` or `±w` with a fair coin (KLL16, §2), independently of the others, so
//! `sqrt(Σ w²) / n` bounds the standard deviation (in fact the sub-Gaussian scale) of the
//! normalized rank error of any query, and of the share of any interval. Drift calibration uses
//! it to know how much of a difference the sketches alone can make.

use serde::{Deserialize, Serialize};

/// Default `k`: about 1.3% normalized rank error at 99% confidence.
pub const DEFAULT_K: u16 = 200;
const MIN_K: u16 = 8;
/// Smallest level capacity (DataSketches' `m`).
const MIN_LEVEL_CAPACITY: usize = 8;
/// Seed of the compaction coin of every new sketch: fixed so that profiles are reproducible.
const COIN_SEED: u64 = 0x6b69_6c6e_5f6b_6c6c; // "kiln_kll"
/// Levels are capped so that weights (`2^(sample level + level)`) fit a u64.
const MAX_LEVELS: usize = 61;
/// Values seen per unit of sample weight before the sampler may double its weight (see the
/// module doc): weight `2^s` once `n >= 2^s · 16384`.
pub const SAMPLE_VALUES_PER_WEIGHT: u64 = 16_384;

/// A mergeable quantile sketch of finite `f64` values.
#[derive(Debug, Clone)]
pub struct KllSketch {
    k: u16,
    n: u64,
    min: f64,
    max: f64,
    /// `levels[h]` holds items of weight `2^(sample_level + h)`. Level 0 is unsorted; every
    /// other level is sorted.
    levels: Vec<Vec<f64>>,
    /// `s`: values reach level 0 one per run of `2^s` (0: every value).
    sample_level: u8,
    /// Values of the current run already seen (`< 2^s`).
    sample_pos: u64,
    /// Position in the current run of the value it keeps (`< 2^s`).
    sample_pick: u64,
    /// SplitMix64 state of the compaction coin.
    coin: u64,
    /// Σ w² over all compactions that built this sketch (in squared counts).
    rank_variance: f64,
    /// Cached Σ level capacities (depends only on `k` and the number of levels).
    capacity: usize,
    retained: usize,
    /// Reused merge buffer (not part of the sketch's value).
    scratch: Vec<f64>,
}

impl PartialEq for KllSketch {
    fn eq(&self, other: &Self) -> bool {
        self.k == other.k
            && self.n == other.n
            && self.min() == other.min()
            && self.max() == other.max()
            && self.levels == other.levels
            && self.sample_level == other.sample_level
            && self.sample_pos == other.sample_pos
            && self.sample_pick == other.sample_pick
            && self.coin == other.coin
            && self.rank_variance == other.rank_variance
    }
}

impl Default for KllSketch {
    fn default() -> Self {
        KllSketch::new(DEFAULT_K)
    }
}

/// Capacity of level `h` in a sketch with `num_levels` levels: `k · (2/3)^depth`, rounded,
/// at least [`MIN_LEVEL_CAPACITY`]. Integer arithmetic, so every platform agrees.
///
/// Level 0 is the exception: it keeps room for `k` values at any depth. Its items have weight 1,
/// so the extra room costs at most `k` values of space and no accuracy, while sorting and
/// compacting it once per `k/2` updates instead of once per 4 makes updates several times
/// cheaper.
fn level_capacity(k: u16, num_levels: usize, h: usize) -> usize {
    if h == 0 {
        return usize::from(k);
    }
    let depth = (num_levels - 1 - h) as u32;
    if depth > 30 {
        return MIN_LEVEL_CAPACITY;
    }
    let num = u64::from(k) << depth; // k · 2^depth
    let den = 3u64.pow(depth);
    (((2 * num + den) / (2 * den)) as usize).max(MIN_LEVEL_CAPACITY)
}

fn total_capacity(k: u16, num_levels: usize) -> usize {
    (0..num_levels).map(|h| level_capacity(k, num_levels, h)).sum()
}

/// One SplitMix64 step (Steele, Lea, Flood, "Fast splittable pseudorandom number generators",
/// OOPSLA 2014; constants from Vigna's reference `splitmix64.c`).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Merge two sorted runs into `out` (cleared first).
fn merge_sorted(a: &[f64], b: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.reserve(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j] < a[i] {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

impl KllSketch {
    /// An empty sketch. `k` is clamped to at least 8.
    pub fn new(k: u16) -> Self {
        let k = k.max(MIN_K);
        KllSketch {
            k,
            n: 0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            levels: vec![Vec::new()],
            sample_level: 0,
            sample_pos: 0,
            sample_pick: 0,
            coin: COIN_SEED,
            rank_variance: 0.0,
            capacity: total_capacity(k, 1),
            retained: 0,
            scratch: Vec::new(),
        }
    }

    pub fn k(&self) -> u16 {
        self.k
    }
    /// Number of values seen.
    pub fn n(&self) -> u64 {
        self.n
    }
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// Number of values kept.
    pub fn num_retained(&self) -> usize {
        self.retained
    }
    /// Smallest value seen (exact), `None` when empty.
    pub fn min(&self) -> Option<f64> {
        (self.n > 0).then_some(self.min)
    }
    /// Largest value seen (exact), `None` when empty.
    pub fn max(&self) -> Option<f64> {
        (self.n > 0).then_some(self.max)
    }

    /// The a-priori normalized rank error at 99% confidence for this `k`, from the empirical fit
    /// published by Apache DataSketches (`2.296 / k^0.9723`, single-rank queries); once the
    /// sampler is on, widened by the sampler's share of the variance (see the module doc).
    pub fn normalized_rank_error(&self) -> f64 {
        let compactions = 2.296 / f64::from(self.k).powf(0.9723);
        if self.sample_level == 0 {
            return compactions;
        }
        // 99% two-sided normal quantile: the fit's bound as a standard deviation.
        const Z99: f64 = 2.576;
        let sampler_variance = 1.0 / (8.0 * SAMPLE_VALUES_PER_WEIGHT as f64);
        compactions * (1.0 + sampler_variance / (compactions / Z99).powi(2)).sqrt()
    }

    /// Weight of one value at the bottom level: `2^s`, 1 until the sampler is on.
    pub fn sample_weight(&self) -> u64 {
        1u64 << self.sample_level
    }

    /// Upper bound on the standard deviation of this sketch's normalized rank error for any one
    /// query (or interval share): `sqrt(Σ w²) / n` over its compactions. Zero while exact.
    pub fn rank_error_sd(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.rank_variance.sqrt() / self.n as f64 }
    }

    /// Add one finite value. Non-finite values are ignored: the profile counts them apart.
    pub fn update(&mut self, x: f64) {
        self.update_many(std::slice::from_ref(&x));
    }

    /// Add values in order; non-finite values are skipped.
    pub fn update_many(&mut self, values: &[f64]) {
        if values.iter().all(|x| x.is_finite()) {
            self.update_finite(values);
        } else {
            let finite: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
            self.update_finite(&finite);
        }
    }

    /// Add finite values in order (the profile has already set non-finite values apart).
    pub(crate) fn update_finite(&mut self, values: &[f64]) {
        debug_assert!(values.iter().all(|x| x.is_finite()));
        if let Some((lo, hi)) = min_max(values) {
            self.min = self.min.min(lo);
            self.max = self.max.max(hi);
        }
        let mut rest = values;
        while !rest.is_empty() {
            if self.sample_pos == 0 && self.n >= self.next_sample_level_at() && self.can_raise() {
                self.raise_sample_level();
                continue;
            }
            if self.sample_level == 0 {
                if self.retained >= self.capacity {
                    self.compress_once();
                    continue;
                }
                let until_raise = match self.next_sample_level_at().checked_sub(self.n) {
                    Some(d) if d > 0 => usize::try_from(d).unwrap_or(usize::MAX),
                    _ => usize::MAX,
                };
                let take = (self.capacity - self.retained).min(rest.len()).min(until_raise);
                self.levels[0].extend_from_slice(&rest[..take]);
                self.n += take as u64;
                self.retained += take;
                rest = &rest[take..];
            } else {
                let w = self.sample_weight();
                if self.sample_pos == 0 {
                    self.sample_pick = splitmix64(&mut self.coin) & (w - 1);
                    let wf = w as f64;
                    self.rank_variance += wf * wf / 4.0;
                }
                let in_run = (w - self.sample_pos).min(rest.len() as u64);
                if (self.sample_pos..self.sample_pos + in_run).contains(&self.sample_pick) {
                    let x = rest[(self.sample_pick - self.sample_pos) as usize];
                    self.push_level0(x);
                }
                self.sample_pos = (self.sample_pos + in_run) % w;
                self.n += in_run;
                rest = &rest[in_run as usize..];
            }
        }
    }

    fn push_level0(&mut self, x: f64) {
        if self.retained >= self.capacity {
            self.compress_once();
        }
        self.levels[0].push(x);
        self.retained += 1;
    }

    /// `n` from which the sampler may take one value per `2^(s+1)`.
    fn next_sample_level_at(&self) -> u64 {
        (2u64 << self.sample_level).saturating_mul(SAMPLE_VALUES_PER_WEIGHT)
    }

    fn can_raise(&self) -> bool {
        usize::from(self.sample_level) + self.levels.len() + 1 < MAX_LEVELS
    }

    /// Double the sampler's weight: compact level 0 into level 1 and let level 1 become the
    /// bottom. A value left over by an odd count moves up at double weight or goes, on a fair
    /// coin (unbiased, variance `w²`). A run in progress is closed: it kept its value with
    /// probability (values seen)/w, at weight w, so it stays unbiased.
    fn raise_sample_level(&mut self) {
        if self.levels.len() == 1 {
            self.levels.push(Vec::new());
            self.capacity = total_capacity(self.k, self.levels.len());
        }
        if self.levels[0].len() >= 2 {
            self.compact_level(0);
        }
        if let Some(x) = self.levels[0].pop() {
            let w = self.weight(0) as f64;
            self.rank_variance += w * w;
            if splitmix64(&mut self.coin) & 1 == 1 {
                let up = &mut self.levels[1];
                let at = up.partition_point(|&v| v < x);
                up.insert(at, x);
            } else {
                self.retained -= 1;
            }
        }
        self.levels.remove(0);
        self.sample_level += 1;
        self.sample_pos = 0;
        self.sample_pick = 0;
        self.capacity = total_capacity(self.k, self.levels.len());
        while self.retained > self.capacity {
            self.compress_once();
        }
    }

    fn weight(&self, h: usize) -> u64 {
        1u64 << (usize::from(self.sample_level) + h)
    }

    /// Free space: one bottom-up pass compacting every level at or over its capacity (KLL16's
    /// cascade; the top level grows the sketch by one level). Compacting only the lowest full
    /// level frees a handful of slots per call and makes updates slow.
    fn compress_once(&mut self) {
        let mut h = 0;
        let mut compacted = false;
        while h < self.levels.len() {
            let num_levels = self.levels.len();
            if self.levels[h].len() >= level_capacity(self.k, num_levels, h) {
                if h + 1 == num_levels {
                    if num_levels + usize::from(self.sample_level) >= MAX_LEVELS {
                        // Unreachable for any u64 count of values; keep the sketch valid regardless.
                        break;
                    }
                    self.levels.push(Vec::new());
                    self.capacity = total_capacity(self.k, self.levels.len());
                }
                self.compact_level(h);
                compacted = true;
            }
            h += 1;
        }
        if !compacted {
            // Some level is always full when the sketch is (pigeonhole); this only guards the
            // loop in `update_many` against a capacity rule that breaks that.
            let top = self.levels.len() - 1;
            self.levels.push(Vec::new());
            self.capacity = total_capacity(self.k, self.levels.len());
            self.compact_level(top);
        }
    }

    /// Halve level `h`: sort it, keep the odd or the even positions (a fair coin) at double
    /// weight in level `h + 1`. With an odd count the smallest item stays behind.
    fn compact_level(&mut self, h: usize) {
        let offset = (splitmix64(&mut self.coin) & 1) as usize;
        let (lower, upper) = self.levels.split_at_mut(h + 1);
        let level = &mut lower[h];
        if h == 0 {
            level.sort_unstable_by(f64::total_cmp);
        }
        let keep = level.len() % 2;
        let pairs = (level.len() - keep) / 2;
        // In place: the promoted items move to the front of the compacted run.
        for i in 0..pairs {
            level[keep + i] = level[keep + offset + 2 * i];
        }
        merge_sorted(&upper[0], &level[keep..keep + pairs], &mut self.scratch);
        std::mem::swap(&mut upper[0], &mut self.scratch);
        level.truncate(keep);
        self.retained -= pairs;
        let w = self.weight(h) as f64;
        self.rank_variance += w * w;
    }

    /// Merge another sketch into this one (same `k` required; the caller checks). Levels are
    /// aligned by weight: the sketch with the lighter bottom level is first raised to the other's
    /// sample weight.
    pub fn merge(&mut self, other: &KllSketch) {
        if other.n == 0 {
            return;
        }
        if other.sample_level > self.sample_level {
            while self.sample_level < other.sample_level {
                self.raise_sample_level();
            }
        } else if other.sample_level < self.sample_level {
            let mut raised = other.clone();
            while raised.sample_level < self.sample_level {
                raised.raise_sample_level();
            }
            return self.merge_aligned(&raised);
        }
        self.merge_aligned(other);
    }

    /// Merge a sketch of the same sample weight.
    fn merge_aligned(&mut self, other: &KllSketch) {
        debug_assert_eq!(self.sample_level, other.sample_level);
        while self.levels.len() < other.levels.len() {
            self.levels.push(Vec::new());
        }
        self.capacity = total_capacity(self.k, self.levels.len());
        for (h, theirs) in other.levels.iter().enumerate() {
            if h == 0 {
                self.levels[0].extend_from_slice(theirs);
            } else if !theirs.is_empty() {
                merge_sorted(&self.levels[h], theirs, &mut self.scratch);
                std::mem::swap(&mut self.levels[h], &mut self.scratch);
            }
        }
        self.n += other.n;
        self.retained += other.retained;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.rank_variance += other.rank_variance;
        while self.retained > self.capacity {
            self.compress_once();
        }
    }

    /// All retained values with their weights, sorted by value, as a queryable view.
    pub fn sorted_view(&self) -> SortedView {
        let mut items: Vec<(f64, u64)> = Vec::with_capacity(self.retained);
        for (h, level) in self.levels.iter().enumerate() {
            let w = self.weight(h);
            items.extend(level.iter().map(|&x| (x, w)));
        }
        items.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut values = Vec::with_capacity(items.len());
        let mut cumulative = Vec::with_capacity(items.len());
        let mut acc = 0u64;
        for (x, w) in items {
            acc += w;
            values.push(x);
            cumulative.push(acc);
        }
        SortedView { values, cumulative, n: self.n, total_weight: acc, min: self.min, max: self.max }
    }

    /// Estimated inclusive rank of `x` (share of values `<= x`), `None` when empty.
    pub fn rank(&self, x: f64) -> Option<f64> {
        (self.n > 0).then(|| self.sorted_view().rank(x))
    }

    /// Estimated `q`-quantile (inclusive), `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        (self.n > 0).then(|| self.sorted_view().quantile(q))
    }
}

/// A sorted snapshot of a sketch for many rank and quantile queries.
#[derive(Debug, Clone)]
pub struct SortedView {
    values: Vec<f64>,
    /// Cumulative weight up to and including `values[i]`.
    cumulative: Vec<u64>,
    n: u64,
    /// Sum of retained weights: `n` exactly until the sampler is on, about `n` after.
    total_weight: u64,
    min: f64,
    max: f64,
}

impl SortedView {
    pub fn n(&self) -> u64 {
        self.n
    }
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// Share of values `<= x` (the inclusive normalized rank).
    pub fn rank(&self, x: f64) -> f64 {
        if self.n == 0 || self.total_weight == 0 {
            return 0.0;
        }
        if x >= self.max {
            return 1.0;
        }
        let i = self.values.partition_point(|&v| v <= x);
        if i == 0 { 0.0 } else { self.cumulative[i - 1] as f64 / self.total_weight as f64 }
    }
    /// Smallest retained value whose inclusive rank reaches `q` (`q <= 0` gives the minimum,
    /// `q >= 1` the maximum). NaN when empty.
    pub fn quantile(&self, q: f64) -> f64 {
        if self.n == 0 {
            return f64::NAN;
        }
        if q <= 0.0 {
            return self.min;
        }
        if q >= 1.0 {
            return self.max;
        }
        let target = q * self.total_weight as f64;
        let i = self.cumulative.partition_point(|&c| (c as f64) < target);
        self.values.get(i).copied().unwrap_or(self.max)
    }
    /// The distinct retained values and the inclusive rank at each (for integrals over the
    /// sketch's distribution).
    pub fn steps(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        let n = self.total_weight as f64;
        self.values.iter().zip(&self.cumulative).enumerate().filter_map(move |(i, (&x, &c))| {
            // Only the last of a run of equal values carries the rank of that value.
            let last = self.values.get(i + 1).is_none_or(|&next| next != x);
            last.then_some((x, c as f64 / n))
        })
    }
}

/// Serialized form: plain numbers, so the JSON is readable and exact (finite values only).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KllWire {
    k: u16,
    n: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<f64>,
    /// Coin state, so a sketch read back continues exactly as the one written.
    coin: u64,
    rank_variance: f64,
    levels: Vec<Vec<f64>>,
    /// The sampler's state; absent (zero) until it is on, so sketches of fewer values read as
    /// they always did.
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    sample_level: u8,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    sample_pos: u64,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    sample_pick: u64,
}

fn is_zero_u8(x: &u8) -> bool {
    *x == 0
}
fn is_zero_u64(x: &u64) -> bool {
    *x == 0
}

/// Smallest and largest of finite values, `None` for none; four lanes so the compiler keeps
/// the comparisons in vector registers.
fn min_max(values: &[f64]) -> Option<(f64, f64)> {
    let first = *values.first()?;
    let (mut lo, mut hi) = ([first; 4], [first; 4]);
    let chunks = values.chunks_exact(4);
    let tail = chunks.remainder();
    for c in chunks {
        for i in 0..4 {
            lo[i] = lo[i].min(c[i]);
            hi[i] = hi[i].max(c[i]);
        }
    }
    let lo = tail.iter().chain(&lo).copied().fold(f64::INFINITY, f64::min);
    let hi = tail.iter().chain(&hi).copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lo, hi))
}

impl Serialize for KllSketch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        KllWire {
            k: self.k,
            n: self.n,
            min: self.min(),
            max: self.max(),
            coin: self.coin,
            rank_variance: self.rank_variance,
            levels: self.levels.clone(),
            sample_level: self.sample_level,
            sample_pos: self.sample_pos,
            sample_pick: self.sample_pick,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for KllSketch {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = KllWire::deserialize(d)?;
        KllSketch::from_wire(w).map_err(serde::de::Error::custom)
    }
}

impl KllSketch {
    fn from_wire(w: KllWire) -> std::result::Result<Self, String> {
        if w.k < MIN_K {
            return Err(format!("quantile sketch: k = {} is below {MIN_K}", w.k));
        }
        if w.levels.is_empty() || w.levels.len() + usize::from(w.sample_level) > MAX_LEVELS {
            return Err(format!(
                "quantile sketch: {} levels above sample level {} (at most {MAX_LEVELS} in all)",
                w.levels.len(),
                w.sample_level
            ));
        }
        let run = 1u64 << w.sample_level;
        if w.sample_pos >= run || w.sample_pick >= run {
            return Err(format!("quantile sketch: sampler position {} / pick {} outside its run of {run}", w.sample_pos, w.sample_pick));
        }
        if !(w.rank_variance.is_finite() && w.rank_variance >= 0.0) {
            return Err("quantile sketch: rank_variance must be a finite non-negative number".into());
        }
        let mut weight: u128 = 0;
        for (h, level) in w.levels.iter().enumerate() {
            if level.iter().any(|x| !x.is_finite()) {
                return Err(format!("quantile sketch: level {h} holds a non-finite value"));
            }
            if h > 0 && level.windows(2).any(|p| p[0] > p[1]) {
                return Err(format!("quantile sketch: level {h} is not sorted"));
            }
            weight += level.len() as u128 * (1u128 << (h + usize::from(w.sample_level)));
        }
        if w.sample_level == 0 && weight != u128::from(w.n) {
            return Err(format!("quantile sketch: retained weight {weight} differs from n = {}", w.n));
        }
        if w.sample_level > 0 && (weight == 0 || w.n < SAMPLE_VALUES_PER_WEIGHT << w.sample_level) {
            return Err(format!(
                "quantile sketch: sample level {} with n = {} and retained weight {weight} (the sampler starts at n = {})",
                w.sample_level,
                w.n,
                SAMPLE_VALUES_PER_WEIGHT << w.sample_level
            ));
        }
        let retained: usize = w.levels.iter().map(Vec::len).sum();
        let capacity = total_capacity(w.k, w.levels.len());
        if retained > capacity {
            return Err(format!("quantile sketch: {retained} retained values exceed the capacity {capacity}"));
        }
        let (min, max) = match (w.min, w.max, w.n) {
            (None, None, 0) => (f64::INFINITY, f64::NEG_INFINITY),
            (Some(lo), Some(hi), n) if n > 0 => {
                let inside = w.levels.iter().flatten().all(|&x| lo <= x && x <= hi);
                if !(lo.is_finite() && hi.is_finite() && lo <= hi && inside) {
                    return Err("quantile sketch: min/max do not bound the retained values".into());
                }
                (lo, hi)
            }
            _ => return Err("quantile sketch: min and max must be present exactly when n > 0".into()),
        };
        Ok(KllSketch {
            k: w.k,
            n: w.n,
            min,
            max,
            levels: w.levels,
            sample_level: w.sample_level,
            sample_pos: w.sample_pos,
            sample_pick: w.sample_pick,
            coin: w.coin,
            rank_variance: w.rank_variance,
            capacity,
            retained,
            scratch: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_follow_two_thirds_and_floor_at_eight() {
        assert_eq!(level_capacity(200, 1, 0), 200);
        assert_eq!(level_capacity(200, 3, 1), 133);
        assert_eq!(level_capacity(200, 4, 1), 89);
        assert_eq!(level_capacity(200, 20, 1), 8);
        assert_eq!(level_capacity(200, 20, 0), 200);
    }

    #[test]
    fn exact_while_small() {
        let mut s = KllSketch::new(200);
        s.update_many(&[3.0, 1.0, 2.0, f64::NAN, f64::INFINITY]);
        assert_eq!(s.n(), 3);
        assert_eq!(s.rank_error_sd(), 0.0);
        let v = s.sorted_view();
        assert_eq!(v.rank(1.5), 1.0 / 3.0);
        assert_eq!(v.quantile(0.5), 2.0);
        assert_eq!(v.quantile(0.0), 1.0);
        assert_eq!(v.quantile(1.0), 3.0);
    }

    #[test]
    fn splitmix_matches_reference_vector() {
        // First output of splitmix64.c for seed 0.
        let mut s = 0u64;
        assert_eq!(splitmix64(&mut s), 0xe220_a839_7b1d_cdaf);
    }

    #[test]
    fn bad_wire_forms_are_refused() {
        let bad = r#"{"k":200,"n":3,"min":1.0,"max":2.0,"coin":1,"rank_variance":0.0,"levels":[[1.0,2.0]]}"#;
        assert!(serde_json::from_str::<KllSketch>(bad).unwrap_err().to_string().contains("differs from n"));
        let unsorted = r#"{"k":200,"n":4,"min":1.0,"max":2.0,"coin":1,"rank_variance":0.0,"levels":[[],[2.0,1.0]]}"#;
        assert!(serde_json::from_str::<KllSketch>(unsorted).unwrap_err().to_string().contains("not sorted"));
    }
}
