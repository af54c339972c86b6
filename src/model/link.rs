//! Output transforms shared by the model families: sigmoid, softmax, exp. Each exists in the
//! precision the source library computes it in, so that results match bit for bit.

/// `1 / (1 + exp(-x))` in f64.
#[inline]
pub fn sigmoid64(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `1 / (1 + exp(-x))` computed in f32 as XGBoost computes it (`common::Sigmoid`,
/// src/common/math.h): `-x` is capped at 88.7 so `expf` stays finite (margins below -88.7 give
/// about 3e-39, not 0), then `1 / (expf(-x) + 1 + 1e-16)`. The 1e-16 is below half an ulp of
/// any denominator (all >= 1), so it never changes the sum; it is kept for fidelity.
#[inline]
pub fn sigmoid32(x: f64) -> f64 {
    let neg = -(x as f32);
    // `std::min(neg, 88.7f)`: a NaN margin stays NaN (f32::min would return 88.7).
    let capped = if 88.7f32 < neg { 88.7f32 } else { neg };
    (1.0f32 / (capped.exp() + 1.0f32 + 1e-16f32)) as f64
}

/// In-place softmax of the row `i` across `k` column-major columns of length `n`, in f64.
pub fn softmax64(out: &mut [f64], n: usize, k: usize, i: usize) {
    let mut max = f64::NEG_INFINITY;
    for j in 0..k {
        max = max.max(out[j * n + i]);
    }
    let mut sum = 0.0;
    for j in 0..k {
        let e = (out[j * n + i] - max).exp();
        out[j * n + i] = e;
        sum += e;
    }
    for j in 0..k {
        out[j * n + i] /= sum;
    }
}

/// In-place softmax of the row `i` across `k` column-major columns, in f32 as XGBoost computes
/// it (`common::Softmax`, src/common/math.h): float32 max and `expf(x - max)`, the exponentials
/// summed in class order into a double, each divided by that sum rounded to float32.
pub fn softmax32(out: &mut [f64], n: usize, k: usize, i: usize) {
    let mut max = f32::NEG_INFINITY;
    for j in 0..k {
        max = max.max(out[j * n + i] as f32);
    }
    let mut sum = 0.0f64;
    for j in 0..k {
        let e = (out[j * n + i] as f32 - max).exp();
        out[j * n + i] = e as f64;
        sum += e as f64;
    }
    let sum = sum as f32;
    for j in 0..k {
        out[j * n + i] = (out[j * n + i] as f32 / sum) as f64;
    }
}
