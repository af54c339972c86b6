//! Count, mean, variance, min and max of finite values, mergeable.
//!
//! Blocks are summarized with a two-pass mean and sum of squared deviations, and summaries are
//! combined with the pairwise update of Chan, Golub and LeVeque ("Updating formulae and a
//! pairwise algorithm for computing sample variances", 1979): for parts `a` and `b`,
//! `δ = mean_b − mean_a`, `mean = mean_a + δ·n_b/n`, `M2 = M2_a + M2_b + δ²·n_a·n_b/n`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    count: u64,
    mean: f64,
    /// Sum of squared deviations from the mean.
    m2: f64,
    min: f64,
    max: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Moments { count: 0, mean: 0.0, m2: 0.0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }
}

impl Moments {
    pub fn count(&self) -> u64 {
        self.count
    }
    /// Mean, `None` when no value was seen.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then_some(self.mean)
    }
    /// Population variance (divides by `n`), `None` when no value was seen.
    pub fn variance(&self) -> Option<f64> {
        (self.count > 0).then(|| self.m2 / self.count as f64)
    }
    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }
    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }
    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    /// Add a block of finite values.
    pub fn add_block(&mut self, xs: &[f64]) {
        if xs.is_empty() {
            return;
        }
        // Four accumulators per sum: one chain of dependent adds would cost a full add latency
        // per value; four let the compiler keep them in one vector register.
        const L: usize = 4;
        let n = xs.len() as f64;
        let chunks = xs.chunks_exact(L);
        let tail = chunks.remainder();
        let mut sum = [0.0; L];
        for c in chunks.clone() {
            for i in 0..L {
                sum[i] += c[i];
            }
        }
        let mean = (sum.iter().sum::<f64>() + tail.iter().sum::<f64>()) / n;
        let (mut m2, mut lo, mut hi) = ([0.0; L], [f64::INFINITY; L], [f64::NEG_INFINITY; L]);
        for c in chunks {
            for i in 0..L {
                let d = c[i] - mean;
                m2[i] += d * d;
                lo[i] = lo[i].min(c[i]);
                hi[i] = hi[i].max(c[i]);
            }
        }
        let m2 = m2.iter().sum::<f64>() + tail.iter().map(|&x| (x - mean) * (x - mean)).sum::<f64>();
        let lo = tail.iter().chain(&lo).copied().fold(f64::INFINITY, f64::min);
        let hi = tail.iter().chain(&hi).copied().fold(f64::NEG_INFINITY, f64::max);
        self.merge(&Moments { count: xs.len() as u64, mean, m2, min: lo, max: hi });
    }

    /// Combine with the moments of other values (Chan et al.).
    pub fn merge(&mut self, other: &Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        self.mean += delta * nb / n;
        self.m2 += other.m2 + delta * delta * na * nb / n;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MomentsWire {
    count: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    mean: Option<f64>,
    /// Sum of squared deviations (kept rather than the variance so merges stay exact).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    m2: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max: Option<f64>,
}

impl Serialize for Moments {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let some = self.count > 0;
        MomentsWire {
            count: self.count,
            mean: some.then_some(self.mean),
            m2: some.then_some(self.m2),
            min: some.then_some(self.min),
            max: some.then_some(self.max),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Moments {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        let w = MomentsWire::deserialize(d)?;
        match (w.count, w.mean, w.m2, w.min, w.max) {
            (0, None, None, None, None) => Ok(Moments::default()),
            (count, Some(mean), Some(m2), Some(min), Some(max)) if count > 0 => {
                let finite = [mean, m2, min, max].iter().all(|x| x.is_finite());
                if !finite || m2 < 0.0 || min > max {
                    return Err(D::Error::custom("moments: mean/m2/min/max must be finite, m2 >= 0 and min <= max"));
                }
                Ok(Moments { count, mean, m2, min, max })
            }
            _ => Err(D::Error::custom("moments: mean, m2, min and max must be present exactly when count > 0")),
        }
    }
}
