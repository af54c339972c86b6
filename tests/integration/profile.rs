//! Batch profiles: sketch error bounds on generated data, merge = whole, reproducible bytes,
//! exact counts and moments, and clear errors.

use crate::common;
use crate::sample;

use arrow_array::Float64Array;
use arrow_array::cast::AsArray;
use kiln::profile::{
    BatchProfile, DistinctSketch, FrequentSketch, KllSketch, ProfileOptions, Summary, profile_batch, profile_batch_with,
    score_and_profile,
};
use kiln::schema::{Column, ColumnType, Schema};
use sample::{Change, Rng, customers, schema};

/// Inclusive rank of `x` in sorted data.
fn true_rank(sorted: &[f64], x: f64) -> f64 {
    sorted.partition_point(|&v| v <= x) as f64 / sorted.len() as f64
}

/// Largest rank error of the sketch's quantiles (at 1%..99%) and ranks against the data.
fn max_rank_error(sketch: &KllSketch, data: &[f64]) -> f64 {
    let mut sorted = data.to_vec();
    sorted.sort_by(f64::total_cmp);
    let view = sketch.sorted_view();
    let mut worst: f64 = 0.0;
    for i in 1..100 {
        let q = i as f64 / 100.0;
        let x = view.quantile(q);
        // The true rank interval of x: [rank of values < x, rank of values <= x].
        let below = sorted.partition_point(|&v| v < x) as f64 / sorted.len() as f64;
        let upto = true_rank(&sorted, x);
        let err = if q < below { below - q } else if q > upto { q - upto } else { 0.0 };
        worst = worst.max(err);
        let y = sorted[(q * sorted.len() as f64) as usize];
        worst = worst.max((view.rank(y) - true_rank(&sorted, y)).abs());
    }
    worst
}

fn normals(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| rng.normal()).collect()
}

#[test]
fn kll_rank_error_is_within_the_k200_bound() {
    let sorted_input: Vec<f64> = (0..300_000).map(|i| i as f64).collect();
    let mut rng = Rng::new(7);
    let heavy: Vec<f64> = (0..1_000_000).map(|_| (3.0 * rng.normal()).exp()).collect();
    for (name, data) in [("normal", normals(1_000_000, 1)), ("sorted", sorted_input), ("log-normal", heavy)] {
        let mut s = KllSketch::new(200);
        s.update_many(&data);
        assert_eq!(s.n(), data.len() as u64);
        assert!(s.num_retained() < 1000, "{name}: {} retained", s.num_retained());
        // Past 32,768 values the sketch samples its bottom level (weight 32 at a million), and
        // its stated bound widens from DataSketches' 1.33% for k = 200 by the sampler's share.
        assert!(s.sample_weight() >= 8, "{name}: sample weight {}", s.sample_weight());
        let bound = s.normalized_rank_error();
        assert!((bound - 0.0151).abs() < 0.0005, "k = 200 bound with the sampler on {bound}");
        let err = max_rank_error(&s, &data);
        assert!(err <= bound, "{name}: rank error {err} > {bound}");
        // The tracked error scale is a real bound on what happened, and not a vacuous one.
        let sd = s.rank_error_sd();
        assert!(err <= 4.0 * sd && sd < bound, "{name}: error {err}, sd bound {sd}");
        assert_eq!(s.min(), data.iter().copied().reduce(f64::min));
        assert_eq!(s.max(), data.iter().copied().reduce(f64::max));
    }
}

#[test]
fn kll_merge_of_partitions_is_within_the_bound() {
    let data = normals(600_000, 2);
    let mut merged = KllSketch::new(200);
    let mut start = 0;
    for (i, len) in [1, 250_000, 17, 99_982, 150_000, 100_000].into_iter().enumerate() {
        let mut part = KllSketch::new(200);
        part.update_many(&data[start..start + len]);
        if i % 2 == 0 {
            merged.merge(&part);
        } else {
            // Merge order must not matter for the guarantees.
            part.merge(&merged);
            merged = part;
        }
        start += len;
    }
    assert_eq!(start, data.len());
    assert_eq!(merged.n(), data.len() as u64);
    let err = max_rank_error(&merged, &data);
    assert!(err <= merged.normalized_rank_error(), "merged rank error {err}");
    assert!(err <= 4.0 * merged.rank_error_sd());
}

#[test]
fn hll_relative_error_is_within_three_standard_errors() {
    let rse = DistinctSketch::relative_standard_error();
    for distinct in [100u64, 5_000, 200_000, 1_000_000] {
        let mut s = DistinctSketch::default();
        let mut parts = [DistinctSketch::default(), DistinctSketch::default(), DistinctSketch::default()];
        let mut rng = Rng::new(distinct);
        // Each value several times, in random order; partitions overlap.
        for i in 0..(2 * distinct).max(10_000) {
            let v = (rng.below(distinct) as f64) * 0.5;
            s.update_number(v);
            parts[(i % 3) as usize].update_number(v);
        }
        let seen = {
            let mut rng = Rng::new(distinct);
            let mut set = std::collections::HashSet::new();
            for _ in 0..(2 * distinct).max(10_000) {
                set.insert(rng.below(distinct));
            }
            set.len() as f64
        };
        let err = (s.estimate() - seen).abs() / seen;
        assert!(err <= 3.0 * rse, "{distinct}: estimate {} vs {seen}", s.estimate());
        let mut m = parts[0].clone();
        m.merge(&parts[1]);
        m.merge(&parts[2]);
        let err = (m.estimate() - seen).abs() / seen;
        assert!(err <= 3.0 * rse, "{distinct} merged: estimate {} vs {seen}", m.estimate());
    }
}

#[test]
fn frequent_items_bounds_hold_under_purges_and_merges() {
    let names: Vec<String> = (0..5000).map(|i| format!("item-{i}")).collect();
    let weights: Vec<f64> = (1..=5000).map(|i| 1.0 / (i as f64).powf(1.1)).collect();
    let mut rng = Rng::new(11);
    let mut truth = vec![0u64; names.len()];
    let mut whole = FrequentSketch::default();
    let mut parts = [FrequentSketch::default(), FrequentSketch::default()];
    let n = 400_000;
    for i in 0..n {
        let j = rng.pick(&weights);
        truth[j] += 1;
        whole.update(&names[j], 1);
        parts[i % 2].update(&names[j], 1);
    }
    let mut merged = parts[0].clone();
    merged.merge(&parts[1]);
    for (label, s) in [("whole", &whole), ("merged", &merged)] {
        assert_eq!(s.total(), n as u64);
        let max_err = s.maximum_error();
        assert!(max_err > 0, "{label}: 5000 items must overflow the map (the test would not test purges)");
        // Agarwal et al.: error at most total / (0.75 * map size) for the map size of 512.
        assert!(max_err as f64 <= n as f64 / (0.75 * 512.0) * 2.0, "{label}: max error {max_err}");
        let reported: std::collections::HashSet<String> = s.items().into_iter().map(|r| r.category).collect();
        for (name, &t) in names.iter().zip(&truth) {
            let c = s.count(name);
            assert!(c.lower <= t && t <= c.upper, "{label} {name}: {t} not in [{}, {}]", c.lower, c.upper);
            if t > max_err {
                assert!(reported.contains(name), "{label}: {name} with {t} > {max_err} not reported");
            }
        }
    }
}

fn numeric<'a>(p: &'a BatchProfile, name: &str) -> &'a kiln::profile::NumericProfile {
    match &p.column(name).unwrap().summary {
        Summary::Numeric(n) => n,
        Summary::Categorical(_) => panic!("{name} is categorical"),
    }
}

fn categorical<'a>(p: &'a BatchProfile, name: &str) -> &'a kiln::profile::CategoricalProfile {
    match &p.column(name).unwrap().summary {
        Summary::Categorical(c) => c,
        Summary::Numeric(_) => panic!("{name} is numeric"),
    }
}

#[test]
fn batch_profile_counts_and_moments_are_exact() {
    let batch = customers(30_000, 4, &Change::default());
    let p = profile_batch(&schema(), &batch).unwrap();
    assert_eq!(p.rows(), 30_000);
    let score = batch.column("score").unwrap().as_primitive::<arrow_array::types::Float64Type>();
    let values: Vec<f64> = score.iter().flatten().collect();
    let s = numeric(&p, "score");
    assert_eq!(s.nulls, 30_000 - values.len() as u64);
    assert!(s.nulls > 1000, "5% nulls expected, {}", s.nulls);
    assert_eq!(s.moments.count(), values.len() as u64);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let var = values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / values.len() as f64;
    assert!((s.moments.mean().unwrap() - mean).abs() < 1e-12);
    assert!((s.moments.variance().unwrap() / var - 1.0).abs() < 1e-12);
    assert_eq!(s.moments.min(), values.iter().copied().reduce(f64::min));
    assert_eq!(s.moments.max(), values.iter().copied().reduce(f64::max));
    // Integer and boolean columns read as numbers.
    let age = numeric(&p, "age");
    assert!(age.moments.min().unwrap() >= 18.0 && age.moments.max().unwrap() <= 95.0);
    let ages = batch.column("age").unwrap().as_primitive::<arrow_array::types::Int64Type>();
    let distinct_ages = ages.iter().flatten().collect::<std::collections::HashSet<_>>().len() as f64;
    // Small cardinalities are counted exactly (DataSketches' coupon list).
    assert!((age.distinct.estimate() - distinct_ages).abs() < 0.5, "age distinct {} vs {distinct_ages}", age.distinct.estimate());
    let active = numeric(&p, "active");
    assert!((active.moments.mean().unwrap() - 0.7).abs() < 0.02);
    // Categorical counts are exact below 384 categories: closed, open and dictionary columns.
    let seg = batch.column("segment").unwrap().as_string::<i32>();
    let seg_profile = categorical(&p, "segment");
    for name in sample::SEGMENTS {
        let t = (0..30_000).filter(|&i| seg.value(i) == name).count() as u64;
        let c = seg_profile.frequent.count(name);
        assert_eq!((c.lower, c.upper), (t, t), "{name}");
    }
    let city = categorical(&p, "city");
    assert_eq!(city.frequent.total(), 30_000);
    assert!((city.distinct.estimate() - 60.0).abs() <= 1.0);
    assert_eq!(categorical(&p, "channel").frequent.items().len(), 3);
}

#[test]
fn nulls_infinities_and_manual_updates() {
    let schema = Schema::new(vec![Column::new("x", ColumnType::Float64), Column::new("c", ColumnType::Categorical)]);
    let mut p = BatchProfile::new(&schema, 1);
    p.update_numeric("x", &[1.0, f64::NAN, f64::INFINITY, -2.0, f64::NEG_INFINITY, 3.0]).unwrap();
    p.update_categorical("c", &[Some("a"), None, Some("b"), Some("a")]).unwrap();
    p.update_categorical_codes("c", &[0, -1, 1], &["a", "z"]).unwrap();
    p.update_output(0, &[0.5, f64::NAN]).unwrap();
    let x = numeric(&p, "x");
    assert_eq!((x.rows, x.nulls, x.positive_infinities, x.negative_infinities), (6, 1, 1, 1));
    assert_eq!((x.moments.min(), x.moments.max(), x.moments.mean()), (Some(-2.0), Some(3.0), Some(2.0 / 3.0)));
    let c = categorical(&p, "c");
    assert_eq!((c.rows, c.nulls), (7, 2));
    assert_eq!(c.frequent.count("a").estimate, 3);
    assert_eq!(c.frequent.count("z").estimate, 1);
    assert_eq!(p.outputs()[0].summary.nulls, 1);
    // Errors name what is wrong.
    assert!(p.update_numeric("c", &[1.0]).unwrap_err().message().contains("categorical"));
    assert!(p.update_numeric("nope", &[1.0]).unwrap_err().message().contains("'nope'"));
    assert!(p.update_categorical_codes("c", &[2], &["a", "z"]).unwrap_err().message().contains("code 2"));
    assert!(p.update_output(1, &[1.0]).unwrap_err().message().contains("output 1"));
}

#[test]
fn merged_partitions_equal_the_whole() {
    let batch = customers(120_000, 5, &Change::default());
    let schema = schema();
    let whole = profile_batch(&schema, &batch).unwrap();
    let mut merged = BatchProfile::new(&schema, 0);
    for (start, len) in [(0, 1), (1, 50_000), (50_001, 9_999), (60_000, 60_000)] {
        merged.merge(&profile_batch(&schema, &batch.slice(start, len)).unwrap()).unwrap();
    }
    for c in whole.columns() {
        match (&c.summary, &merged.column(&c.name).unwrap().summary) {
            (Summary::Numeric(a), Summary::Numeric(b)) => {
                assert_eq!((a.rows, a.nulls, a.moments.count()), (b.rows, b.nulls, b.moments.count()), "{}", c.name);
                assert_eq!((a.moments.min(), a.moments.max()), (b.moments.min(), b.moments.max()), "{}", c.name);
                let (ma, mb) = (a.moments.mean().unwrap(), b.moments.mean().unwrap());
                assert!((ma - mb).abs() <= 1e-12 * ma.abs().max(1.0), "{} mean {ma} vs {mb}", c.name);
                let (va, vb) = (a.moments.variance().unwrap(), b.moments.variance().unwrap());
                assert!((va - vb).abs() <= 1e-10 * va, "{} variance {va} vs {vb}", c.name);
                let (sa, sb) = (a.quantiles.sorted_view(), b.quantiles.sorted_view());
                let bound = 2.0 * a.quantiles.normalized_rank_error();
                for i in 1..20 {
                    let x = sa.quantile(i as f64 / 20.0);
                    assert!((sa.rank(x) - sb.rank(x)).abs() <= bound, "{} rank at {x}", c.name);
                }
                let rse = DistinctSketch::relative_standard_error();
                assert!((a.distinct.estimate() / b.distinct.estimate() - 1.0).abs() <= 3.0 * rse, "{}", c.name);
            }
            (Summary::Categorical(a), Summary::Categorical(b)) => {
                assert_eq!((a.rows, a.nulls), (b.rows, b.nulls));
                assert_eq!(a.frequent.items(), b.frequent.items(), "{}", c.name);
                assert!((a.distinct.estimate() - b.distinct.estimate()).abs() < 0.5);
            }
            _ => panic!("kinds differ"),
        }
    }
    // Profiles of other columns do not merge.
    let other = BatchProfile::new(&Schema::new(vec![Column::new("x", ColumnType::Float64)]), 0);
    assert!(merged.merge(&other).unwrap_err().message().contains("different columns"));
}

#[test]
fn same_data_gives_the_same_bytes() {
    let batch = customers(50_000, 6, &Change::default());
    let schema = schema();
    let a = profile_batch_with(&schema, &batch, &ProfileOptions { n_threads: 1 }).unwrap().to_json();
    let b = profile_batch_with(&schema, &batch, &ProfileOptions { n_threads: 4 }).unwrap().to_json();
    assert_eq!(a, b, "thread count changed the profile");
    let again = profile_batch(&schema, &customers(50_000, 6, &Change::default())).unwrap().to_json();
    assert_eq!(a, again);
    // Round trip: the same value and the same bytes; merging continues identically.
    let read = BatchProfile::from_json(&a).unwrap();
    assert_eq!(read.to_json(), a);
    let tail = profile_batch(&schema, &customers(20_000, 7, &Change::default())).unwrap();
    let mut x = profile_batch(&schema, &batch).unwrap();
    let mut y = read;
    x.merge(&tail).unwrap();
    y.merge(&tail).unwrap();
    assert_eq!(x.to_json(), y.to_json());
    // Other data gives other bytes.
    assert_ne!(a, profile_batch(&schema, &customers(50_000, 8, &Change::default())).unwrap().to_json());
}

#[test]
fn bad_profile_json_is_refused_with_the_reason() {
    let p = profile_batch(&schema(), &customers(2_000, 9, &Change::default())).unwrap();
    let json = p.to_json();
    let e = BatchProfile::from_json(&json.replace("kiln-profile-1", "kiln-profile-9")).unwrap_err();
    assert!(e.message().contains("format"), "{e}");
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["columns"][0]["summary"]["rows"] = serde_json::json!(5);
    let e = BatchProfile::from_json(&v.to_string()).unwrap_err();
    assert!(e.message().contains("income"), "{e}");
    let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
    v["columns"][0]["summary"]["distinct"] = serde_json::json!("bm90IGEgc2tldGNo");
    let e = BatchProfile::from_json(&v.to_string()).unwrap_err();
    assert!(e.message().contains("distinct-count sketch"), "{e}");
    assert!(BatchProfile::from_json("{").is_err());
}

#[test]
fn profiling_errors_name_the_column() {
    let schema = Schema::new(vec![Column::new("x", ColumnType::Float64), Column::new("y", ColumnType::Categorical)]);
    let batch = common::batch(vec![("x", common::arr(Float64Array::from(vec![1.0])))]);
    let e = profile_batch(&schema, &batch).unwrap_err();
    assert!(e.message().contains("'y'"), "{e}");
    let batch = common::batch(vec![("x", common::arr(Float64Array::from(vec![1.0]))), ("y", common::arr(Float64Array::from(vec![1.0])))]);
    let e = profile_batch(&schema, &batch).unwrap_err();
    assert!(e.message().contains("'y'"), "{e}");
}

#[test]
fn score_and_profile_records_the_outputs() {
    let cols = vec![Column::new("a", ColumnType::Float64), Column::new("b", ColumnType::Float64)];
    let scorer = common::scorer(common::content(cols, vec![], common::probe(&["a", "b"])));
    let batch = common::batch(vec![
        ("a", common::arr(Float64Array::from(vec![Some(1.0), Some(2.0), None, Some(4.0)]))),
        ("b", common::arr(Float64Array::from(vec![5.0, 6.0, 7.0, 8.0]))),
    ]);
    let (scores, p) = score_and_profile(&scorer, &batch, &kiln::ScoreOptions::default()).unwrap();
    assert_eq!(p.outputs().len(), 2);
    assert_eq!(p.outputs()[0].name, "out0");
    let out0 = &p.outputs()[0].summary;
    // The row with a null input gets no score (NaN): a null output.
    assert_eq!(out0.nulls, scores.output(0).iter().filter(|x| x.is_nan()).count() as u64);
    assert_eq!(out0.rows, 4);
    assert_eq!(p.outputs()[1].summary.moments.max(), scores.output(1).iter().copied().filter(|x| !x.is_nan()).reduce(f64::max));
    assert_eq!(numeric(&p, "a").nulls, 1);
}

#[test]
fn kll_sampler_state_survives_chunking_and_serialization() {
    // The bytes of a sketch depend only on the values and their order: not on how the caller
    // splits them, nor on a write and read in the middle (the sampler's run in progress included).
    let data = normals(200_000, 11);
    let mut whole = KllSketch::new(200);
    whole.update_many(&data);
    assert!(whole.sample_weight() > 1);
    let mut chunked = KllSketch::new(200);
    let mut start = 0;
    for (i, len) in [1, 4095, 32_767, 4, 60_000].into_iter().cycle().enumerate() {
        let end = (start + len).min(data.len());
        chunked.update_many(&data[start..end]);
        start = end;
        if i == 3 {
            // Mid-run (36,867 values in: weight 2, one value into a run): write, read, carry on.
            let text = serde_json::to_string(&chunked).unwrap();
            assert!(text.contains("sample_pos"), "{text:.200}");
            chunked = serde_json::from_str(&text).unwrap();
        }
        if start == data.len() {
            break;
        }
    }
    assert_eq!(serde_json::to_string(&chunked).unwrap(), serde_json::to_string(&whole).unwrap());
    assert_eq!(chunked, whole);
}

#[test]
fn kll_merge_across_sample_weights_is_within_the_bound() {
    // A big partition (sampled at weight 8) with small ones (not sampled), in both orders.
    let data = normals(400_000, 12);
    let (big, small) = data.split_at(300_000);
    let mut a = KllSketch::new(200);
    a.update_many(big);
    let mut b = KllSketch::new(200);
    b.update_many(small);
    assert!(a.sample_weight() > b.sample_weight());
    let mut ab = a.clone();
    ab.merge(&b);
    let mut ba = b.clone();
    ba.merge(&a);
    for (name, m) in [("big into small", &ba), ("small into big", &ab)] {
        assert_eq!(m.n(), data.len() as u64);
        assert_eq!(m.sample_weight(), a.sample_weight(), "{name}");
        let err = max_rank_error(m, &data);
        assert!(err <= m.normalized_rank_error(), "{name}: rank error {err}");
        assert!(err <= 4.0 * m.rank_error_sd(), "{name}: rank error {err}, sd {}", m.rank_error_sd());
        let back: KllSketch = serde_json::from_str(&serde_json::to_string(m).unwrap()).unwrap();
        assert_eq!(&back, m);
    }
}
