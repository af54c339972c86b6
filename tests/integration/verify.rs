//! The hard edge: each policy (flag, default, reject, allow) for each rule (null, out of range,
//! non-finite, unknown category), what the report says, and batch-level errors.

use crate::common;

use arrow_array::{Date32Array, Float64Array, Int32Array, StringArray};
use common::*;
use kiln::artifact::{Step, UnknownCategory};
use kiln::schema::{Column, ColumnType, DefaultValue, Policy};
use kiln::{KilnStatus, ScoreOptions, Scorer, Scores};

#[derive(Clone, Copy, Debug)]
enum Rule {
    Null,
    OutOfRange,
    NonFinite,
}

/// A scorer whose only input `x` (range [0, 10], default 5) has `policy` for `rule` and `allow`
/// for the others; the model returns `x` unchanged.
fn numeric_scorer(rule: Rule, policy: Policy) -> Scorer {
    let mut c = Column::new("x", ColumnType::Float64).with_range(0.0, 10.0);
    c.default = Some(DefaultValue::Number(5.0));
    c.policy.null = Some(Policy::Allow);
    c.policy.out_of_range = Policy::Allow;
    c.policy.non_finite = Policy::Allow;
    match rule {
        Rule::Null => c.policy.null = Some(policy),
        Rule::OutOfRange => c.policy.out_of_range = policy,
        Rule::NonFinite => c.policy.non_finite = policy,
    }
    scorer(content(vec![c], vec![], probe(&["x"])))
}

/// Rows: fine, null, above max, below min, +inf, -inf, fine.
fn numeric_batch() -> kiln::Batch {
    let x = vec![Some(1.0), None, Some(11.0), Some(-1.0), Some(f64::INFINITY), Some(f64::NEG_INFINITY), Some(10.0)];
    batch(vec![("x", arr(Float64Array::from(x)))])
}

fn run(s: &Scorer, b: &kiln::Batch) -> Scores {
    let r = score(s, b);
    assert_eq!(r.report.rows, b.num_rows() as u64);
    assert_eq!(r.report.scored + r.report.flagged, r.report.rows, "every row is scored or flagged");
    assert_eq!(r.report.flagged, r.status.iter().filter(|&&x| x != 0).count() as u64);
    assert_eq!(r.report.reasons.iter().map(|x| x.rows).sum::<u64>(), r.report.flagged);
    r
}

#[test]
fn flag_policies_flag_the_row_and_name_the_column() {
    for (rule, rows, status) in [
        (Rule::Null, vec![1], "null"),
        (Rule::OutOfRange, vec![2, 3], "out_of_range"),
        (Rule::NonFinite, vec![4, 5], "non_finite"),
    ] {
        let s = numeric_scorer(rule, Policy::Flag);
        let r = run(&s, &numeric_batch());
        for &i in &rows {
            assert_eq!(statuses(&r)[i], status, "{rule:?} row {i}");
            assert_eq!(sources(&s, &r)[i], Some("x"));
            assert!(r.output(0)[i].is_nan(), "a flagged row has no score");
        }
        assert_eq!(r.status[0], 0);
        assert_eq!(r.output(0)[0], 1.0);
        let reason = r.report.reasons.iter().find(|x| x.status == status).expect("reason reported");
        assert_eq!((reason.source.as_str(), reason.rows, reason.code), ("x", rows.len() as u64, r.status[rows[0]]));
    }
}

#[test]
fn default_policies_replace_and_count() {
    // Null and non-finite values become the fitted default; out-of-range values are clamped.
    let s = numeric_scorer(Rule::Null, Policy::Default);
    let r = run(&s, &numeric_batch());
    assert_eq!(r.output(0)[1], 5.0);
    assert_eq!(r.status[1], 0);
    assert_eq!(r.report.defaults_applied.get("x"), Some(&1));

    let s = numeric_scorer(Rule::OutOfRange, Policy::Default);
    let r = run(&s, &numeric_batch());
    assert_eq!((r.output(0)[2], r.output(0)[3]), (10.0, 0.0));
    assert_eq!(r.report.defaults_applied.get("x"), Some(&2));

    let s = numeric_scorer(Rule::NonFinite, Policy::Default);
    let r = run(&s, &numeric_batch());
    assert_eq!((r.output(0)[4], r.output(0)[5]), (5.0, 5.0));
    assert_eq!(statuses(&r)[4..6], ["ok", "ok"]);
}

#[test]
fn allow_policies_let_values_through() {
    // Out of range: scored as is. Null and infinities reach the linear model: no score.
    let r = run(&numeric_scorer(Rule::OutOfRange, Policy::Allow), &numeric_batch());
    assert_eq!((r.output(0)[2], r.output(0)[3]), (11.0, -1.0));
    assert_eq!(statuses(&r), ["ok", "no_score", "ok", "ok", "no_score", "no_score", "ok"]);
    assert!(r.report.reasons.iter().all(|x| x.source == "model"));
    assert!(r.report.defaults_applied.is_empty());
}

#[test]
fn reject_policies_refuse_the_batch_and_touch_nothing() {
    for (rule, row, value) in [(Rule::Null, 1, "NaN"), (Rule::OutOfRange, 2, "11"), (Rule::NonFinite, 4, "inf")] {
        let s = numeric_scorer(rule, Policy::Reject);
        let b = numeric_batch();
        let mut scores = vec![42.0; 7];
        let mut status = vec![77; 7];
        let mut reason = vec![88; 7];
        let e = s.score_into(&b, &ScoreOptions::default(), &mut scores, &mut status, Some(&mut reason)).unwrap_err();
        assert_eq!(e.status(), KilnStatus::BatchRejected, "{rule:?}");
        assert!(e.message().contains("'x'") && e.message().contains(&format!("row {row}")) && e.message().contains(value), "{e}");
        assert_eq!(scores, [42.0; 7]);
        assert_eq!(status, [77; 7]);
        assert_eq!(reason, [88; 7]);
    }
}

#[test]
fn reject_finds_an_offender_in_a_late_block_before_writing_any() {
    let s = numeric_scorer(Rule::OutOfRange, Policy::Reject);
    let mut x = vec![1.0; 1000];
    x[777] = 12.0;
    let b = batch(vec![("x", arr(Float64Array::from(x)))]);
    let mut scores = vec![-1.0; 1000];
    let mut status = vec![-1; 1000];
    let e = s.score_into(&b, &ScoreOptions { n_threads: 4 }, &mut scores, &mut status, None).unwrap_err();
    assert!(e.message().contains("row 777"), "{e}");
    assert!(scores.iter().all(|&v| v == -1.0) && status.iter().all(|&v| v == -1));
}

/// A categorical input `c` (schema categories a, b; default a) with `policy` for unknown
/// categories, one-hot encoded over a, b, c (so "c" is known to the encoder, not the schema).
fn categorical_scorer(policy: Policy) -> Scorer {
    let mut c = Column::new("c", ColumnType::Categorical).with_categories(["a", "b"]);
    c.policy.unknown_category = policy;
    c.default = Some(DefaultValue::Category("a".into()));
    scorer(content(
        vec![c],
        vec![Step::OneHot {
            column: "c".into(),
            categories: vec!["a".into(), "b".into(), "c".into()],
            unknown: UnknownCategory::Ignore,
            outputs: vec!["is_a".into(), "is_b".into(), "is_c".into()],
        }],
        probe(&["is_a", "is_b", "is_c"]),
    ))
}

fn categorical_batch() -> kiln::Batch {
    batch(vec![("c", arr(StringArray::from(vec![Some("a"), Some("zz"), Some("b"), Some("c"), None])))])
}

fn hot(r: &Scores, i: usize) -> Vec<f64> {
    (0..3).map(|j| r.output(j)[i]).collect()
}

#[test]
fn unknown_category_policies() {
    let s = categorical_scorer(Policy::Flag);
    let r = run(&s, &categorical_batch());
    assert_eq!(statuses(&r), ["ok", "unknown_category", "ok", "unknown_category", "ok"]);
    assert_eq!(sources(&s, &r)[1], Some("c"));

    let r = run(&categorical_scorer(Policy::Default), &categorical_batch());
    assert_eq!(statuses(&r), ["ok"; 5]);
    assert_eq!(hot(&r, 1), [1.0, 0.0, 0.0], "unknown 'zz' became the default 'a'");
    assert_eq!(hot(&r, 3), [1.0, 0.0, 0.0], "'c' is unknown to the schema: default too");
    assert_eq!(hot(&r, 4), [0.0, 0.0, 0.0], "null is allowed (nullable) and ignored by the encoder");
    assert_eq!(r.report.defaults_applied.get("c"), Some(&2));

    let r = run(&categorical_scorer(Policy::Allow), &categorical_batch());
    assert_eq!(hot(&r, 1), [0.0, 0.0, 0.0]);
    assert_eq!(hot(&r, 3), [0.0, 0.0, 1.0], "allowed through to an encoder that knows 'c'");
}

#[test]
fn unknown_category_reject_names_the_value() {
    let s = categorical_scorer(Policy::Reject);
    let e = s.score(&categorical_batch(), &ScoreOptions::default()).unwrap_err();
    assert_eq!(e.status(), KilnStatus::BatchRejected);
    assert!(e.message().contains("'c'") && e.message().contains("row 1") && e.message().contains("'zz'"), "{e}");
    // The offending value is a category the encoder knows but the schema does not.
    let b = batch(vec![("c", arr(StringArray::from(vec!["a", "c"])))]);
    let e = s.score(&b, &ScoreOptions::default()).unwrap_err();
    assert_eq!(e.status(), KilnStatus::BatchRejected);
    assert!(e.message().contains("row 1") && e.message().contains("value 'c'"), "{e}");
}

#[test]
fn categorical_null_policies() {
    let mut c = Column::new("c", ColumnType::Categorical).with_categories(["a", "b"]).not_null();
    c.default = Some(DefaultValue::Category("b".into()));
    let make = |p: Option<Policy>| {
        let mut c = c.clone();
        c.policy.null = p;
        scorer(content(
            vec![c],
            vec![Step::Ordinal { column: "c".into(), categories: vec!["a".into(), "b".into()], unknown: UnknownCategory::Error, unknown_value: None, output: Some("o".into()) }],
            probe(&["o"]),
        ))
    };
    let b = batch(vec![("c", arr(StringArray::from(vec![Some("a"), None])))]);
    // Not nullable and no explicit policy: flagged.
    let s = make(None);
    let r = run(&s, &b);
    assert_eq!(statuses(&r), ["ok", "null"]);
    assert_eq!(sources(&s, &r)[1], Some("c"));
    let r = run(&make(Some(Policy::Default)), &b);
    assert_values(r.output(0), &[Some(0.0), Some(1.0)]);
    let e = make(Some(Policy::Reject)).score(&b, &ScoreOptions::default()).unwrap_err();
    assert!(e.status() == KilnStatus::BatchRejected && e.message().contains("'c' row 1") && e.message().contains("null"), "{e}");
}

#[test]
fn first_failing_column_is_the_reason() {
    let mut a = Column::new("a", ColumnType::Float64).not_null();
    a.policy.null = Some(Policy::Flag);
    let mut c = Column::new("c", ColumnType::Categorical).with_categories(["x"]);
    c.policy.unknown_category = Policy::Flag;
    let s = scorer(content(vec![a, c], vec![], probe(&["a"])));
    let b = batch(vec![("c", arr(StringArray::from(vec!["y", "y", "x"]))), ("a", arr(Float64Array::from(vec![None, Some(1.0), Some(2.0)])))]);
    let r = run(&s, &b);
    assert_eq!(statuses(&r), ["null", "unknown_category", "ok"]);
    assert_eq!(sources(&s, &r), [Some("a"), Some("c"), None]);
    assert_eq!(r.report.reasons.len(), 2);
}

#[test]
fn missing_column_and_wrong_types_name_the_column() {
    let s = scorer(content(
        vec![Column::new("amount", ColumnType::Float64), Column::new("city", ColumnType::Categorical), Column::new("day", ColumnType::Date)],
        vec![Step::OneHot { column: "city".into(), categories: vec!["a".into()], unknown: UnknownCategory::Ignore, outputs: vec!["is_a".into()] }],
        probe(&["amount", "is_a", "day"]),
    ));
    let good = || -> Vec<(&str, arrow_array::ArrayRef)> {
        vec![
            ("amount", arr(Float64Array::from(vec![1.0]))),
            ("city", arr(StringArray::from(vec!["a"]))),
            ("day", arr(Date32Array::from(vec![3]))),
        ]
    };
    let r = s.score(&batch(good()), &ScoreOptions::default()).unwrap();
    assert_eq!(r.values, [1.0, 1.0, 3.0]);

    let mut cols = good();
    cols.remove(1);
    let e = s.score(&batch(cols), &ScoreOptions::default()).unwrap_err();
    assert_eq!(e.status(), KilnStatus::MissingColumn);
    assert!(e.message().contains("'city'"), "{e}");

    for (name, wrong) in [
        ("amount", arr(StringArray::from(vec!["1.0"]))),
        ("city", arr(Float64Array::from(vec![1.0]))),
        ("city", arr(Int32Array::from(vec![1]))),
        ("day", arr(Int32Array::from(vec![3]))),
        ("day", arr(StringArray::from(vec!["2020-01-01"]))),
    ] {
        let mut cols = good();
        let i = cols.iter().position(|(n, _)| *n == name).unwrap();
        cols[i].1 = wrong;
        let e = s.score(&batch(cols), &ScoreOptions::default()).unwrap_err();
        assert_eq!(e.status(), KilnStatus::ColumnType, "{name}: {e}");
        assert!(e.message().contains(&format!("'{name}'")), "{e}");
    }
    // Columns the model does not know are ignored; order does not matter.
    let mut cols = good();
    cols.reverse();
    cols.push(("extra", arr(StringArray::from(vec!["?"]))));
    assert_eq!(s.score(&batch(cols), &ScoreOptions::default()).unwrap().values, [1.0, 1.0, 3.0]);
}

#[test]
fn buffers_too_small_are_errors_not_panics() {
    let s = numeric_scorer(Rule::Null, Policy::Flag);
    let b = numeric_batch();
    let e = s.score_into(&b, &ScoreOptions::default(), &mut [0.0; 6], &mut [0; 7], None).unwrap_err();
    assert_eq!(e.status(), KilnStatus::BufferTooSmall);
    let e = s.score_into(&b, &ScoreOptions::default(), &mut [0.0; 7], &mut [0; 6], None).unwrap_err();
    assert_eq!(e.status(), KilnStatus::BufferTooSmall);
    assert!(e.message().contains("status"), "{e}");
}
