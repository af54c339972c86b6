//! Generated data for the profile and drift tests: a seeded generator and a "customers" batch
//! whose distribution can be changed one column at a time.

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::sync::Arc;

use arrow_array::types::Int8Type;
use arrow_array::{ArrayRef, BooleanArray, DictionaryArray, Float64Array, Int64Array, Int8Array, StringArray};
use kiln::Batch;
use kiln::schema::{Column, ColumnType, Schema};

/// SplitMix64: small, seeded, good enough for test data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x5eed_5eed_5eed_5eed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        // Box-Muller; 1 - u keeps the logarithm finite.
        let (u, v) = (1.0 - self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// Index drawn with the given weights.
    pub fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                return i;
            }
            u -= w;
        }
        weights.len() - 1
    }
}

pub const SEGMENTS: [&str; 5] = ["retail", "business", "private", "student", "public"];
pub const SEGMENT_MIX: [f64; 5] = [0.40, 0.30, 0.15, 0.10, 0.05];
pub const CHANNELS: [&str; 3] = ["web", "branch", "phone"];

/// The schema of [`customers`]: `segment` has a closed vocabulary, `city` an open one.
pub fn schema() -> Schema {
    Schema::new(vec![
        Column::new("income", ColumnType::Float64),
        Column::new("age", ColumnType::Int64),
        Column::new("score", ColumnType::Float64),
        Column::new("visits", ColumnType::Float64),
        Column::new("segment", ColumnType::Categorical).with_categories(SEGMENTS),
        Column::new("city", ColumnType::Categorical),
        Column::new("channel", ColumnType::Categorical).with_categories(CHANNELS),
        Column::new("active", ColumnType::Bool),
    ])
}

/// How a generated batch departs from the training distribution.
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// Added to `score` (whose sd is 1).
    pub score_shift: f64,
    /// Replaces [`SEGMENT_MIX`].
    pub segment_mix: Option<[f64; 5]>,
    /// A column whose every value becomes null.
    pub all_null: Option<&'static str>,
    /// A numeric column multiplied by 1000.
    pub times_1000: Option<&'static str>,
}

/// `n` rows of customers. `income` is log-normal, `age` an integer, `score` normal with 5%
/// nulls, `visits` zero-inflated counts (many ties), `segment` a skewed mix of 5, `city` a
/// Zipf mix of 60 names, `channel` a dictionary-encoded mix of 3, `active` a flag.
pub fn customers(n: usize, seed: u64, change: &Change) -> Batch {
    let mut rng = Rng::new(seed);
    let mix = change.segment_mix.unwrap_or(SEGMENT_MIX);
    let city_weights: Vec<f64> = (1..=60).map(|i| 1.0 / i as f64).collect();
    let cities: Vec<String> = (0..60).map(|i| format!("city-{i:02}")).collect();
    let mut income = Vec::with_capacity(n);
    let mut age = Vec::with_capacity(n);
    let mut score = Vec::with_capacity(n);
    let mut visits = Vec::with_capacity(n);
    let mut segment = Vec::with_capacity(n);
    let mut city = Vec::with_capacity(n);
    let mut channel = Vec::with_capacity(n);
    let mut active = Vec::with_capacity(n);
    for _ in 0..n {
        income.push(Some((10.5 + 0.6 * rng.normal()).exp()));
        age.push(Some((40.0 + 12.0 * rng.normal()).round().clamp(18.0, 95.0) as i64));
        let s = rng.normal() + change.score_shift;
        score.push(if rng.uniform() < 0.05 { None } else { Some(s) });
        visits.push(Some(if rng.uniform() < 0.6 { 0.0 } else { 1.0 + rng.below(12) as f64 }));
        segment.push(Some(SEGMENTS[rng.pick(&mix)]));
        city.push(Some(cities[rng.pick(&city_weights)].clone()));
        channel.push(Some(rng.pick(&[0.6, 0.3, 0.1]) as i8));
        active.push(Some(rng.uniform() < 0.7));
    }
    let times = |name: &str, v: Vec<Option<f64>>| -> Vec<Option<f64>> {
        if change.times_1000 == Some(name) { v.into_iter().map(|x| x.map(|x| x * 1000.0)).collect() } else { v }
    };
    let income = times("income", income);
    let score = times("score", score);
    let visits = times("visits", visits);
    let age: Vec<Option<i64>> =
        if change.times_1000 == Some("age") { age.into_iter().map(|x| x.map(|x| x * 1000)).collect() } else { age };
    let mut cols: Vec<(String, ArrayRef)> = vec![
        ("income".into(), Arc::new(Float64Array::from(income))),
        ("age".into(), Arc::new(Int64Array::from(age))),
        ("score".into(), Arc::new(Float64Array::from(score))),
        ("visits".into(), Arc::new(Float64Array::from(visits))),
        ("segment".into(), Arc::new(StringArray::from(segment))),
        ("city".into(), Arc::new(StringArray::from(city))),
        (
            "channel".into(),
            Arc::new(DictionaryArray::<Int8Type>::try_new(Int8Array::from(channel), Arc::new(StringArray::from(CHANNELS.to_vec()))).unwrap()),
        ),
        ("active".into(), Arc::new(BooleanArray::from(active))),
    ];
    if let Some(name) = change.all_null {
        let col = cols.iter_mut().find(|(n, _)| n == name).expect("all_null names a column");
        col.1 = arrow_array::new_null_array(col.1.data_type(), n);
    }
    Batch::new(cols).expect("generated batch is valid")
}
