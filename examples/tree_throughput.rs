//! Score the benchmarks' reference tree ensemble (500 trees, depth 8, 50 float64 features,
//! ~1.3% NaN, XGBoost-style f32 binary logistic) and print rows per second. Criterion's
//! `benches/trees.rs` is the benchmark; this is for quick A/B runs and for `perf stat` on a
//! shared machine, where CPU time (task-clock) is steadier than wall time.
//!
//! `cargo run --release --example tree_throughput -- [rows] [threads] [repeats]`

#[path = "../benches/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{Outputs, float_batch, xgboost_like};
use kiln::Scorer;

fn main() {
    let args: Vec<usize> = std::env::args().skip(1).map(|a| a.parse().expect("numeric argument")).collect();
    let rows = args.first().copied().unwrap_or(1_000_000);
    let threads = args.get(1).copied().unwrap_or(1);
    let repeats = args.get(2).copied().unwrap_or(3);
    let bytes = xgboost_like(500, 8, 50, 42).to_bytes().expect("encodes");
    let t = Instant::now();
    let scorer = Scorer::from_bytes(&bytes, None).expect("loads");
    println!("load: {:.1} ms for {:.1} MB of JSON", t.elapsed().as_secs_f64() * 1e3, bytes.len() as f64 / 1e6);
    load_breakdown(&bytes);
    let batch = float_batch(rows, 50, 0.013, 7);
    let mut out = Outputs::new(&scorer, rows);
    out.score(&scorer, &batch, threads);
    let t = Instant::now();
    for _ in 0..repeats {
        out.score(&scorer, &batch, threads);
    }
    let secs = t.elapsed().as_secs_f64();
    let checksum: f64 = out.scores.iter().sum();
    println!("{rows} rows x {repeats}, {threads} threads: {:.3} s, {:.0} rows/s (checksum {checksum:.6})", secs, (rows * repeats) as f64 / secs);
}

/// Where `Scorer::from_bytes` spends its time, from the public pieces it is made of.
fn load_breakdown(bytes: &[u8]) {
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let value: serde_json::Value = serde_json::from_slice(bytes).expect("parses");
    let parse_value = ms(t);
    let content_value = value["content"].clone();
    let t = Instant::now();
    let content: kiln::artifact::Content = serde_json::from_value(content_value).expect("typed");
    let value_to_typed = ms(t);
    #[derive(serde::Deserialize)]
    #[expect(dead_code, reason = "only the parse is timed")]
    struct Typed {
        content: kiln::artifact::Content,
    }
    let t = Instant::now();
    let _typed: Typed = serde_json::from_slice(bytes).expect("parses typed");
    let parse_typed = ms(t);
    let t = Instant::now();
    let artifact = kiln::Artifact::new(content).expect("valid");
    let validate_and_fingerprint = ms(t);
    let t = Instant::now();
    let _scorer = Scorer::new(artifact).expect("prepares");
    let prepare = ms(t);
    println!(
        "load breakdown: parse to Value {parse_value:.1} ms, Value to typed content {value_to_typed:.1} ms, \
         bytes straight to typed content {parse_typed:.1} ms, validate + encode + fingerprint (Artifact::new) {validate_and_fingerprint:.1} ms, plan/prepare {prepare:.1} ms"
    );
}
