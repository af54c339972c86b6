//! Drift reports: quiet for batches drawn from the training distribution at any size, and each
//! kind of change is found and named.

use crate::sample;

use std::sync::OnceLock;

use arrow_array::cast::AsArray;

use kiln::profile::drift::{Statistic, Target};
use kiln::profile::{BatchProfile, DriftOptions, DriftReport, profile_batch};
use sample::{Change, customers, schema};

const REFERENCE_ROWS: usize = 200_000;

/// The training data's profile, made once per test binary.
fn reference() -> &'static BatchProfile {
    static REF: OnceLock<BatchProfile> = OnceLock::new();
    REF.get_or_init(|| profile_batch(&schema(), &customers(REFERENCE_ROWS, 1, &Change::default())).unwrap())
}

fn drift(n: usize, seed: u64, change: &Change) -> DriftReport {
    let current = profile_batch(&schema(), &customers(n, seed, change)).unwrap();
    DriftReport::compare(reference(), &current, &DriftOptions::default()).unwrap()
}

fn describe(r: &DriftReport) -> String {
    r.findings
        .iter()
        .map(|f| format!("{} {:?}: {} not in [{}, {}] (p {:e})", f.column, f.statistic, f.observed, f.expected.low, f.expected.high, f.p_value))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn training_distribution_is_quiet_at_1000_rows() {
    for seed in 10..20 {
        let r = drift(1000, seed, &Change::default());
        assert!(r.findings.is_empty(), "seed {seed}:\n{}", describe(&r));
        // Every column was tested: null rate everywhere, PSI + W1 on 5 numeric, JS on 3.
        assert_eq!(r.tests, 8 + 5 * 2 + 3, "skipped: {:?}", r.skipped);
    }
}

#[test]
fn training_distribution_is_quiet_at_1_000_000_rows() {
    let r = drift(1_000_000, 99, &Change::default());
    assert!(r.findings.is_empty(), "{}", describe(&r));
    assert_eq!(r.current_rows, 1_000_000);
}

/// The bands are not simply wide: the sampling part shrinks with the batch, so a 1M-row batch
/// is held to a tighter PSI band than a 1000-row one, and every band holds its observed value
/// with room to spare only where noise demands it.
#[test]
fn bands_tighten_with_batch_size() {
    let small = drift(1000, 5, &Change::default());
    let large = drift(200_000, 6, &Change::default());
    for stat in [Statistic::Psi, Statistic::JsDivergence, Statistic::Wasserstein] {
        for c in small.checks.iter().filter(|c| c.statistic == stat) {
            let l = large.checks.iter().find(|l| l.column == c.column && l.statistic == stat).unwrap();
            assert!(l.expected.null_mean < c.expected.null_mean, "{} {stat:?}: {} vs {}", c.column, l.expected.null_mean, c.expected.null_mean);
        }
    }
}

fn only(r: &DriftReport, column: &str) {
    assert!(!r.findings.is_empty(), "nothing found for {column}");
    assert_eq!(r.drifted, vec![column.to_string()], "{}", describe(r));
}

#[test]
fn a_shifted_mean_is_found_and_named() {
    for n in [1000, 1_000_000] {
        let r = drift(n, 21, &Change { score_shift: 0.5, ..Change::default() });
        only(&r, "score");
        let psi = r.findings.iter().find(|f| f.statistic == Statistic::Psi).expect("PSI fires");
        assert!(psi.observed > psi.expected.high);
        // The top bins moved as a shift up would move them: mass left the lowest bin and the
        // highest gained the most.
        assert!(psi.movers.iter().any(|m| m.upper.is_none() && m.current_share > m.reference_share), "{:?}", psi.movers);
        let w = r.findings.iter().find(|f| f.statistic == Statistic::Wasserstein).expect("W1 fires");
        assert!(w.detail.contains("IQR"), "{}", w.detail);
        // A 0.5 sd shift is 0.5 / 1.349 IQR.
        assert!((w.observed - 0.5 / 1.349).abs() < 0.06, "W1 {}", w.observed);
    }
}

#[test]
fn a_changed_category_mix_is_found_with_the_categories_that_moved() {
    let batch = customers(1000, 22, &Change { segment_mix: Some([0.20, 0.30, 0.15, 0.10, 0.25]), ..Change::default() });
    let segment = batch.column("segment").unwrap().as_string::<i32>();
    let public_share = (0..1000).filter(|&i| segment.value(i) == "public").count() as f64 / 1000.0;
    let current = profile_batch(&schema(), &batch).unwrap();
    let r = DriftReport::compare(reference(), &current, &DriftOptions::default()).unwrap();
    only(&r, "segment");
    let js = &r.findings[0];
    assert_eq!(js.statistic, Statistic::JsDivergence);
    let top: Vec<&str> = js.movers.iter().take(2).map(|m| m.label.as_str()).collect();
    assert!(top.contains(&"public") && top.contains(&"retail"), "{:?}", js.movers);
    let public = js.movers.iter().find(|m| m.label == "public").unwrap();
    // Fewer than 384 categories: the frequent-items counts are exact.
    assert!((public.reference_share - 0.05).abs() < 0.005, "{public:?}");
    assert_eq!(public.current_share, public_share);
}

#[test]
fn a_column_turned_all_null_is_found() {
    for (column, n) in [("income", 1000), ("city", 1000), ("age", 1_000_000)] {
        let r = drift(n, 23, &Change { all_null: Some(column), ..Change::default() });
        only(&r, column);
        let f = r.findings.iter().find(|f| f.statistic == Statistic::NullRate).expect("null rate fires");
        assert_eq!(f.observed, 1.0);
        assert_eq!(f.movers[0].reference_share, 0.0);
        // Distribution checks cannot run on no values, and say so.
        assert!(r.skipped.iter().any(|s| s.column == column && s.reason.contains("no")), "{:?}", r.skipped);
    }
}

#[test]
fn a_unit_change_is_found() {
    for (column, n) in [("income", 1000), ("age", 1000), ("visits", 1_000_000)] {
        let r = drift(n, 24, &Change { times_1000: Some(column), ..Change::default() });
        only(&r, column);
        let stats: Vec<Statistic> = r.findings.iter().map(|f| f.statistic).collect();
        assert!(stats.contains(&Statistic::Wasserstein) && stats.contains(&Statistic::Psi), "{column}: {stats:?}");
        let w = r.findings.iter().find(|f| f.statistic == Statistic::Wasserstein).unwrap();
        assert!(w.observed > 100.0, "{column}: W1 {} IQRs", w.observed);
    }
}

#[test]
fn output_drift_is_reported_as_an_output() {
    let schema = schema();
    let mut rng = sample::Rng::new(3);
    let mut reference = BatchProfile::with_output_names(&schema, ["probability"]);
    let scores: Vec<f64> = (0..50_000).map(|_| 1.0 / (1.0 + (-rng.normal()).exp())).collect();
    reference.update_output(0, &scores).unwrap();
    let mut same = BatchProfile::with_output_names(&schema, ["probability"]);
    let scores: Vec<f64> = (0..5_000).map(|_| 1.0 / (1.0 + (-rng.normal()).exp())).collect();
    same.update_output(0, &scores).unwrap();
    let mut moved = BatchProfile::with_output_names(&schema, ["probability"]);
    let scores: Vec<f64> = (0..5_000).map(|_| 1.0 / (1.0 + (-(rng.normal() + 1.0)).exp())).collect();
    moved.update_output(0, &scores).unwrap();
    let opts = DriftOptions::default();
    let quiet = DriftReport::compare(&reference, &same, &opts).unwrap();
    assert!(quiet.findings.is_empty(), "{}", describe(&quiet));
    assert!(quiet.checks.iter().any(|c| c.target == Target::Output));
    let r = DriftReport::compare(&reference, &moved, &opts).unwrap();
    assert_eq!(r.drifted, vec!["probability".to_string()]);
    assert!(r.findings.iter().all(|f| f.target == Target::Output));
}

#[test]
fn the_report_is_json_and_bands_agree_with_findings() {
    let r = drift(2000, 25, &Change { score_shift: 1.0, times_1000: Some("income"), ..Change::default() });
    assert_eq!(r.drifted, vec!["income".to_string(), "score".to_string()]);
    for c in &r.checks {
        let outside = c.observed > c.expected.high || c.observed < c.expected.low;
        assert_eq!(c.fired, outside, "{c:?}");
        assert!(c.level > 0.0 && c.level <= r.options.alpha);
    }
    let json: serde_json::Value = serde_json::to_value(&r).unwrap();
    assert_eq!(json["correction"], "holm");
    assert_eq!(json["findings"][0]["column"].as_str().map(|s| s == "income" || s == "score"), Some(true));
    assert!(json["findings"][0]["expected"]["high"].is_number());
}

#[test]
fn mismatched_profiles_and_bad_options_are_errors() {
    let other = kiln::schema::Schema::new(vec![kiln::schema::Column::new("x", kiln::schema::ColumnType::Float64)]);
    let e = DriftReport::compare(reference(), &BatchProfile::new(&other, 0), &DriftOptions::default()).unwrap_err();
    assert!(e.message().contains("different columns"), "{e}");
    let e = DriftReport::compare(reference(), reference(), &DriftOptions { alpha: 0.0, ..DriftOptions::default() }).unwrap_err();
    assert!(e.message().contains("alpha"), "{e}");
}
