//! The reference profile in the artifact, end to end through a `Scorer`: attaching it, the
//! null-rate rule it enables, drift against it, and row accounting under every policy.

use crate::common;
use crate::sample;

use std::sync::OnceLock;

use arrow_array::Float64Array;
use common::{arr, batch, content, linear};
use kiln::artifact::{Artifact, Link};
use kiln::profile::check::{no_reference, null_rate_findings, summarize};
use kiln::profile::drift::Statistic;
use kiln::profile::{BatchPolicy, BatchProfile, CheckOptions, NullRateRule, score_checked};
use kiln::schema::{Column, ColumnType, DefaultValue, Policy, Schema};
use kiln::{KilnStatus, ScoreOptions, Scorer};
use sample::{Change, customers, schema};

const TRAINING_ROWS: usize = 200_000;

/// A logistic model over three of the customers' numeric columns (the others are profiled and
/// checked but not used by the model).
fn model() -> Scorer {
    let m = linear(&["income", "age", "visits"], vec![vec![1e-5, 0.02, 0.1]], vec![-1.5], Link::Logit);
    common::scorer(content(schema().columns, vec![], m))
}

/// The model with the profile of its training data attached, made once per test binary.
fn trained() -> &'static Scorer {
    static S: OnceLock<Scorer> = OnceLock::new();
    S.get_or_init(|| model().with_reference_from(&customers(TRAINING_ROWS, 1, &Change::default()), &ScoreOptions::default()).unwrap())
}

fn check(n: usize, seed: u64, change: &Change) -> kiln::profile::CheckedScores {
    let opts = CheckOptions { profile: true, drift: true, ..CheckOptions::default() };
    score_checked(trained(), &customers(n, seed, change), &opts).unwrap()
}

#[test]
fn attaching_a_reference_makes_a_new_artifact_that_round_trips() {
    let plain = model();
    let s = trained();
    assert_ne!(s.fingerprint(), plain.fingerprint());
    assert!(plain.reference_profile().is_none());
    let r = s.reference_profile().unwrap();
    assert_eq!(r.rows(), TRAINING_ROWS as u64);
    // The outputs were scored for the reference: every training row has a score here.
    assert_eq!(r.outputs()[0].summary.rows, TRAINING_ROWS as u64);
    assert!(r.outputs()[0].summary.moments.mean().is_some_and(|m| m > 0.0 && m < 1.0));
    let back = Scorer::from_bytes(&s.artifact().unwrap().to_bytes().unwrap(), Some(s.fingerprint())).unwrap();
    assert_eq!(back.reference_profile(), Some(r));
    // The same data gives the same reference, so the same fingerprint.
    let again = plain.with_reference_from(&customers(TRAINING_ROWS, 1, &Change::default()), &ScoreOptions { n_threads: 1 }).unwrap();
    assert_eq!(again.fingerprint(), s.fingerprint());
}

#[test]
fn a_reference_of_other_columns_is_refused_at_load() {
    let other = Schema::new(vec![Column::new("x", ColumnType::Float64)]);
    let mut c = model().artifact().unwrap().content.clone();
    c.profile = Some(BatchProfile::with_output_names(&other, ["out0"]).to_json_value());
    let a = Artifact::new(c).unwrap();
    let e = Scorer::new(a).unwrap_err();
    assert_eq!(e.status(), KilnStatus::InvalidModel);
    assert!(e.message().contains("reference profile") && e.message().contains("x (float64)"), "{e}");
    // Outputs must match too.
    let e = model().with_reference_profile(&BatchProfile::with_output_names(&schema(), ["p"])).unwrap_err();
    assert!(e.message().contains("outputs [p]"), "{e}");
}

#[test]
fn drift_needs_a_reference() {
    let opts = CheckOptions { drift: true, ..CheckOptions::default() };
    let e = score_checked(&model(), &customers(10, 1, &Change::default()), &opts).unwrap_err();
    assert_eq!(e.message(), no_reference().message());
}

#[test]
fn the_training_distribution_is_quiet_end_to_end() {
    for (n, seed) in [(1000, 31), (1000, 32), (1_000_000, 33)] {
        let c = check(n, seed, &Change::default());
        assert!(c.findings.is_empty(), "{n} rows: {:?}", c.findings);
        let d = c.drift.unwrap();
        assert!(d.findings.is_empty(), "{n} rows: {:?}", d.drifted);
        // Inputs and the output were all tested.
        assert!(d.checks.iter().any(|x| x.column == "out0"));
        assert_eq!(c.profile.unwrap().rows(), n as u64);
        assert_eq!(c.scores.report.scored + c.scores.report.flagged, n as u64);
    }
}

#[test]
fn each_change_is_found_and_named_end_to_end() {
    let cases: Vec<(Change, &str, Statistic)> = vec![
        (Change { score_shift: 0.5, ..Change::default() }, "score", Statistic::Psi),
        (Change { segment_mix: Some([0.20, 0.30, 0.15, 0.10, 0.25]), ..Change::default() }, "segment", Statistic::JsDivergence),
        (Change { all_null: Some("city"), ..Change::default() }, "city", Statistic::NullRate),
        (Change { times_1000: Some("income"), ..Change::default() }, "income", Statistic::Wasserstein),
    ];
    for (change, column, statistic) in cases {
        for n in [1000, 1_000_000] {
            let d = check(n, 40, &change).drift.unwrap();
            assert!(d.drifted.first().is_some_and(|c| c == column) || d.drifted.contains(&column.to_string()), "{column} at {n}: {:?}", d.drifted);
            let f = d.findings.iter().find(|f| f.column == column && f.statistic == statistic);
            assert!(f.is_some_and(|f| f.observed > f.expected.high), "{column} {statistic:?} at {n}: {:?}", d.findings);
            // Inputs the model does not use move nothing else; income feeds the output.
            let expected: Vec<&str> = if column == "income" { vec!["income", "out0"] } else { vec![column] };
            assert_eq!(d.drifted, expected, "{column} at {n}");
        }
    }
}

#[test]
fn a_column_turned_all_null_breaks_the_null_rate_rule() {
    let c = check(1000, 41, &Change { all_null: Some("income"), ..Change::default() });
    assert_eq!(c.findings.len(), 1, "{:?}", c.findings);
    let f = &c.findings[0];
    assert_eq!((f.rule, f.column.as_str(), f.observed_rate, f.training_rate, f.tolerance), ("null_rate", "income", 1.0, 0.0, 0.5));
    assert!(f.message.contains("'income'") && f.message.contains("null rate 1"), "{}", f.message);
    // Reported, and scored: income is null, so the logistic model gives no score (no_score).
    assert_eq!(c.scores.report.flagged, 1000);
    // Under reject, the batch is refused instead.
    let opts = CheckOptions { null_rate: NullRateRule { policy: BatchPolicy::Reject, ..NullRateRule::default() }, ..CheckOptions::default() };
    let e = score_checked(trained(), &customers(1000, 41, &Change { all_null: Some("income"), ..Change::default() }), &opts).unwrap_err();
    assert_eq!(e.status(), KilnStatus::BatchRejected);
    assert!(e.message().contains("column 'income'") && e.message().contains("reject"), "{e}");
    // score has 5% nulls in training: a batch with 5% passes under reject too.
    assert!(score_checked(trained(), &customers(1000, 42, &Change::default()), &opts).is_ok());
}

/// The rule on hand-made profiles: proportional, two-sided, and allowing for batch size.
#[test]
fn the_null_rate_rule_is_proportional_two_sided_and_size_aware() {
    let schema = Schema::new(vec![Column::new("x", ColumnType::Float64)]);
    let profile = |rows: usize, nulls: usize| {
        let mut p = BatchProfile::new(&schema, 0);
        let v: Vec<f64> = (0..rows).map(|i| if i < nulls { f64::NAN } else { i as f64 }).collect();
        p.update_numeric("x", &v).unwrap();
        p
    };
    let training = profile(100_000, 30_000);
    let rule = NullRateRule::default();
    let fired = |rows, nulls| !null_rate_findings(&training, &profile(rows, nulls), &rule).unwrap().is_empty();
    // 30% ± (15% + 0.1% + 3 standard errors).
    assert!(!fired(1000, 300) && !fired(1000, 440) && !fired(1000, 160));
    assert!(fired(1000, 500) && fired(1000, 100), "the rule fires both ways");
    assert!(fired(1000, 0), "nulls filled upstream (30% -> 0%) are found");
    // A 1M-row batch gets almost no sampling allowance; 10 rows get a lot.
    assert!(!fired(1_000_000, 451_000) && fired(1_000_000, 455_000));
    assert!(!fired(10, 7));
    let f = &null_rate_findings(&training, &profile(1000, 500), &rule).unwrap()[0];
    assert!((f.allowed_high - (0.3 + 0.15 + 0.001 + 3.0 * (0.21f64 / 1000.0).sqrt())).abs() < 1e-12, "{f:?}");
    // No nulls in training: a rare one is tolerated, a few are not.
    let clean = profile(100_000, 0);
    assert!(null_rate_findings(&clean, &profile(10_000, 10), &rule).unwrap().is_empty());
    assert_eq!(null_rate_findings(&clean, &profile(10_000, 11), &rule).unwrap().len(), 1);
    let bad = NullRateRule { tolerance: -1.0, ..rule };
    assert!(null_rate_findings(&clean, &clean, &bad).unwrap_err().message().contains("tolerance"));
}

/// Every policy of the schema, together with the null-rate rule: each row is scored or counted
/// under one reason, and the counts add up; a rejected batch scores nothing.
#[test]
fn every_row_is_scored_or_refused_under_every_policy() {
    let rows: Vec<Option<f64>> = (0..1000).map(|i| match i % 10 {
        0 => None,
        1 => Some(-5.0),
        2 => Some(f64::INFINITY),
        _ => Some(i as f64 / 100.0),
    }).collect();
    let data = batch(vec![("x", arr(Float64Array::from(rows)))]);
    let training = batch(vec![("x", arr(Float64Array::from((0..1000).map(|i| if i % 10 == 0 { None } else { Some(i as f64 / 100.0) }).collect::<Vec<_>>())))]);
    for policy in [Policy::Flag, Policy::Default, Policy::Allow, Policy::Reject] {
        let mut c = Column::new("x", ColumnType::Float64).with_range(0.0, 10.0);
        c.default = Some(DefaultValue::Number(1.0));
        c.policy.null = Some(policy);
        c.policy.out_of_range = policy;
        c.policy.non_finite = policy;
        let m = linear(&["x"], vec![vec![1.0]], vec![0.0], Link::Identity);
        let plain = common::scorer(content(vec![c], vec![], m));
        let s = if policy == Policy::Reject { plain } else { plain.with_reference_from(&training, &ScoreOptions::default()).unwrap() };
        let result = score_checked(&s, &data, &CheckOptions { profile: true, ..CheckOptions::default() });
        if policy == Policy::Reject {
            assert_eq!(result.unwrap_err().status(), KilnStatus::BatchRejected);
            continue;
        }
        let c = result.unwrap();
        let r = &c.scores.report;
        assert_eq!(r.scored + r.flagged, r.rows, "{policy:?}");
        assert_eq!(r.rows, 1000);
        assert_eq!(r.reasons.iter().map(|x| x.rows).sum::<u64>(), r.flagged, "{policy:?}");
        assert_eq!(r.flagged, c.scores.status.iter().filter(|&&s| s != 0).count() as u64);
        match policy {
            // null, out of range, infinite: 300 rows flagged (the allow policy lets the null
            // through to the model, which gives no score, and the infinity and -5 score).
            Policy::Flag => assert_eq!(r.flagged, 300),
            Policy::Default => assert_eq!((r.flagged, r.defaults_applied["x"]), (0, 300)),
            Policy::Allow => assert_eq!(r.flagged, 200, "{r:?}"),
            Policy::Reject => unreachable!(),
        }
        // 10% nulls as in training: the null-rate rule is quiet.
        assert!(c.findings.is_empty(), "{policy:?}: {:?}", c.findings);
        assert_eq!(c.profile.unwrap().outputs()[0].summary.nulls, r.flagged);
    }
}

#[test]
fn the_summary_reads_without_sketches() {
    let s = summarize(trained().reference_profile().unwrap());
    assert_eq!(s["rows"], TRAINING_ROWS as u64);
    let score = s["columns"].as_array().unwrap().iter().find(|c| c["name"] == "score").unwrap();
    assert!((score["null_rate"].as_f64().unwrap() - 0.05).abs() < 0.005);
    assert!(score["quantiles"]["0.5"].as_f64().unwrap().abs() < 0.05);
    let segment = s["columns"].as_array().unwrap().iter().find(|c| c["name"] == "segment").unwrap();
    assert_eq!(segment["top"][0]["category"], "retail");
    assert_eq!(segment["distinct"], 5.0);
    assert_eq!(s["outputs"][0]["name"], "out0");
}
