//! Every transform family against hand-computed values, through `Scorer` (so plan/name
//! resolution is exercised too), and every input type kiln reads, including nulls and sliced
//! arrays. A "probe" model returns the pipeline's columns unchanged (see `common::probe`).

use crate::common;

use std::sync::Arc;

use arrow_array::builder::StringDictionaryBuilder;
use arrow_array::types::{Int8Type, Int32Type, UInt8Type};
use arrow_array::*;
use arrow_buffer::NullBuffer;
use common::*;
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Policy};

fn num(name: &str) -> Column {
    let mut c = Column::new(name, ColumnType::Float64);
    // Let infinities reach the transforms: these tests are about the steps, not the edge.
    c.policy.non_finite = Policy::Allow;
    c
}

fn f64s(v: &[Option<f64>]) -> ArrayRef {
    arr(Float64Array::from(v.to_vec()))
}

/// Run one numeric step over column `x` and return the probe of `out` plus statuses.
fn run_numeric(step: Step, out: &str, x: &[Option<f64>]) -> kiln::Scores {
    let s = scorer(content(vec![num("x")], vec![step], probe(&[out])));
    score(&s, &batch(vec![("x", f64s(x))]))
}

#[test]
fn impute_numeric_replaces_nulls_and_nans_only() {
    let r = run_numeric(
        Step::Impute { column: "x".into(), value: 7.25, strategy: ImputeStrategy::Mean, output: Some("y".into()) },
        "y",
        &[Some(1.5), None, Some(f64::NAN), Some(-2.0), Some(f64::INFINITY)],
    );
    assert_values(&col(&r, 0), &[Some(1.5), Some(7.25), Some(7.25), Some(-2.0), None]);
    // Infinity is not a null: it passes through (and a linear model gives it no finite score).
    assert_eq!(statuses(&r), ["ok", "ok", "ok", "ok", "no_score"]);
}

#[test]
fn impute_in_place_keeps_the_name_for_later_steps() {
    let s = scorer(content(
        vec![num("x")],
        vec![
            Step::Impute { column: "x".into(), value: 3.0, strategy: ImputeStrategy::Constant, output: None },
            Step::StandardScale { column: "x".into(), mean: 1.0, scale: 4.0, output: None },
        ],
        probe(&["x"]),
    ));
    let r = score(&s, &batch(vec![("x", f64s(&[None, Some(9.0)]))]));
    assert_values(&col(&r, 0), &[Some(0.5), Some(2.0)]);
}

#[test]
fn standard_scale_subtracts_then_divides() {
    let r = run_numeric(
        Step::StandardScale { column: "x".into(), mean: 0.1, scale: 0.2, output: Some("z".into()) },
        "z",
        &[Some(0.3), Some(0.1), Some(-0.9), None],
    );
    // (0.3 - 0.1) / 0.2 in that order is 0.9999999999999999, not 1 (x/scale - mean/scale would give 1).
    assert_values(&col(&r, 0), &[Some(0.9999999999999999), Some(0.0), Some(-5.0), None]);
    assert_eq!(statuses(&r), ["ok", "ok", "ok", "no_score"]);
}

#[test]
fn min_max_scale_multiplies_then_adds() {
    let r = run_numeric(
        Step::MinMaxScale { column: "x".into(), scale: 0.5, offset: 1.0, output: Some("m".into()) },
        "m",
        &[Some(3.0), Some(-2.0), Some(0.0), None],
    );
    assert_values(&col(&r, 0), &[Some(2.5), Some(0.0), Some(1.0), None]);
}

#[test]
fn clip_bounds_values_and_keeps_nulls() {
    let both = run_numeric(
        Step::Clip { column: "x".into(), min: Some(-1.0), max: Some(2.0), output: Some("c".into()) },
        "c",
        &[Some(-5.0), Some(-1.0), Some(0.5), Some(2.0), Some(9.0), None, Some(f64::INFINITY), Some(f64::NEG_INFINITY)],
    );
    assert_values(&col(&both, 0), &[Some(-1.0), Some(-1.0), Some(0.5), Some(2.0), Some(2.0), None, Some(2.0), Some(-1.0)]);
    let lower = run_numeric(Step::Clip { column: "x".into(), min: Some(0.0), max: None, output: None }, "x", &[Some(-3.0), Some(1e300)]);
    assert_values(&col(&lower, 0), &[Some(0.0), Some(1e300)]);
    let upper = run_numeric(Step::Clip { column: "x".into(), min: None, max: Some(0.0), output: None }, "x", &[Some(-3.0), Some(1e300)]);
    assert_values(&col(&upper, 0), &[Some(-3.0), Some(0.0)]);
}

#[test]
fn log1p_values_and_domain_errors() {
    let s = scorer(content(vec![num("x")], vec![Step::Log1p { column: "x".into(), output: Some("l".into()) }], probe(&["l"])));
    let r = score(&s, &batch(vec![("x", f64s(&[Some(0.0), Some(1e-10), Some(-0.5), Some(-1.0), Some(-2.0), None, Some(f64::NEG_INFINITY)]))]));
    // ln_1p keeps precision near 0: ln(1 + 1e-10) computed naively would be 1.000000082690371e-10.
    assert_values(&col(&r, 0), &[Some(0.0), Some(9.999999999500001e-11), Some(-std::f64::consts::LN_2), None, None, None, None]);
    assert_eq!(statuses(&r), ["ok", "ok", "ok", "domain_error", "domain_error", "no_score", "domain_error"]);
    let src = sources(&s, &r);
    assert_eq!(src[3], Some("step 0 (log1p of 'x')"));
    assert_eq!(src[5], Some("model"), "a null is not a domain error: it reaches the model as NaN");
}

#[test]
fn bucketize_counts_edges_at_or_below() {
    let r = run_numeric(
        Step::Bucketize { column: "x".into(), edges: vec![0.0, 1.0, 5.0], output: Some("b".into()) },
        "b",
        &[Some(-1.0), Some(0.0), Some(0.5), Some(1.0), Some(4.999), Some(5.0), Some(100.0), None, Some(f64::NEG_INFINITY), Some(f64::INFINITY), Some(-0.0)],
    );
    assert_values(
        &col(&r, 0),
        &[Some(0.0), Some(1.0), Some(1.0), Some(2.0), Some(2.0), Some(3.0), Some(3.0), None, Some(0.0), Some(3.0), Some(1.0)],
    );
}

fn open_cat(name: &str) -> Column {
    Column::new(name, ColumnType::Categorical)
}

fn strs(v: &[Option<&str>]) -> ArrayRef {
    arr(StringArray::from(v.to_vec()))
}

fn one_hot(unknown: UnknownCategory) -> (kiln::Scorer, kiln::Scores) {
    let mut outputs = vec!["is_a".to_string(), "is_b".to_string()];
    if unknown == UnknownCategory::Slot {
        outputs.push("other".into());
    }
    let names: Vec<&str> = outputs.iter().map(String::as_str).collect();
    let s = scorer(content(
        vec![open_cat("c")],
        vec![Step::OneHot { column: "c".into(), categories: vec!["a".into(), "b".into()], unknown, outputs: outputs.clone() }],
        probe(&names),
    ));
    let r = score(&s, &batch(vec![("c", strs(&[Some("a"), Some("b"), Some("zz"), None, Some("A")]))]));
    (s, r)
}

#[test]
fn one_hot_ignore_gives_zeros_for_unknown_and_null() {
    let (_, r) = one_hot(UnknownCategory::Ignore);
    assert_values(&col(&r, 0), &[Some(1.0), Some(0.0), Some(0.0), Some(0.0), Some(0.0)]);
    assert_values(&col(&r, 1), &[Some(0.0), Some(1.0), Some(0.0), Some(0.0), Some(0.0)]);
    assert_eq!(r.report.flagged, 0);
}

#[test]
fn one_hot_slot_puts_unknown_and_null_in_the_last_output() {
    let (_, r) = one_hot(UnknownCategory::Slot);
    assert_values(&col(&r, 0), &[Some(1.0), Some(0.0), Some(0.0), Some(0.0), Some(0.0)]);
    assert_values(&col(&r, 1), &[Some(0.0), Some(1.0), Some(0.0), Some(0.0), Some(0.0)]);
    assert_values(&col(&r, 2), &[Some(0.0), Some(0.0), Some(1.0), Some(1.0), Some(1.0)]);
}

#[test]
fn one_hot_error_flags_unknown_and_null_rows() {
    let (s, r) = one_hot(UnknownCategory::Error);
    assert_eq!(statuses(&r), ["ok", "ok", "unknown_category", "null", "unknown_category"]);
    assert_values(&col(&r, 0), &[Some(1.0), Some(0.0), None, None, None]);
    let step = "step 0 (one_hot of 'c')";
    assert_eq!(sources(&s, &r), [None, None, Some(step), Some(step), Some(step)]);
}

fn ordinal(unknown: UnknownCategory, unknown_value: Option<f64>) -> kiln::Scores {
    let s = scorer(content(
        vec![open_cat("c")],
        vec![Step::Ordinal {
            column: "c".into(),
            categories: vec!["x".into(), "y".into(), "z".into()],
            unknown,
            unknown_value,
            output: Some("o".into()),
        }],
        probe(&["o"]),
    ));
    score(&s, &batch(vec![("c", strs(&[Some("z"), Some("x"), Some("y"), Some("w"), None]))]))
}

#[test]
fn ordinal_positions_and_unknown_policies() {
    let r = ordinal(UnknownCategory::Ignore, Some(-1.0));
    assert_values(&col(&r, 0), &[Some(2.0), Some(0.0), Some(1.0), Some(-1.0), None]);
    assert_eq!(statuses(&r), ["ok", "ok", "ok", "ok", "no_score"]);

    let r = ordinal(UnknownCategory::Ignore, None);
    assert_values(&col(&r, 0), &[Some(2.0), Some(0.0), Some(1.0), None, None]);

    let r = ordinal(UnknownCategory::Slot, Some(-1.0));
    assert_values(&col(&r, 0), &[Some(2.0), Some(0.0), Some(1.0), Some(3.0), None]);

    let r = ordinal(UnknownCategory::Error, None);
    assert_eq!(statuses(&r), ["ok", "ok", "ok", "unknown_category", "no_score"]);
}

#[test]
fn hash_buckets_and_signs_match_feature_hasher() {
    // murmur3_x86_32(seed 0): "foo" -> -156908512 (scikit-learn's test value), "" -> 0,
    // "\0\0\0\0" -> 0x2362f9de = 593689054. With 5 buckets: |h| mod 5 = 2, 0, 4.
    for known in [false, true] {
        let mut c = open_cat("c");
        if known {
            // Known categories are hashed at plan time, unknown ones at run time: same answer.
            c = c.with_categories(["foo", "", "\0\0\0\0"]);
        }
        let outs: Vec<String> = (0..5).map(|i| format!("h{i}")).collect();
        let names: Vec<&str> = outs.iter().map(String::as_str).collect();
        let s = scorer(content(
            vec![c],
            vec![Step::Hash { column: "c".into(), n_features: 5, alternate_sign: true, outputs: outs.clone() }],
            probe(&names),
        ));
        let r = score(&s, &batch(vec![("c", strs(&[Some("foo"), Some(""), Some("\0\0\0\0"), None]))]));
        let row = |i: usize| (0..5).map(|j| r.output(j)[i]).collect::<Vec<_>>();
        assert_eq!(row(0), [0.0, 0.0, -1.0, 0.0, 0.0], "foo (known: {known})");
        assert_eq!(row(1), [1.0, 0.0, 0.0, 0.0, 0.0], "empty string");
        assert_eq!(row(2), [0.0, 0.0, 0.0, 0.0, 1.0], "four NULs");
        assert_eq!(row(3), [0.0; 5], "null gives zeros");
    }
}

#[test]
fn hash_without_alternate_sign_is_always_positive() {
    let outs: Vec<String> = (0..5).map(|i| format!("h{i}")).collect();
    let names: Vec<&str> = outs.iter().map(String::as_str).collect();
    let s = scorer(content(
        vec![open_cat("c")],
        vec![Step::Hash { column: "c".into(), n_features: 5, alternate_sign: false, outputs: outs.clone() }],
        probe(&names),
    ));
    let r = score(&s, &batch(vec![("c", strs(&[Some("foo")]))]));
    assert_eq!(r.output(2), [1.0]);
}

fn date_parts_of(array: ArrayRef, ty: ColumnType) -> kiln::Scores {
    let parts = [DatePart::Year, DatePart::Month, DatePart::Day, DatePart::DayOfWeek, DatePart::DayOfYear, DatePart::Quarter];
    let outs: Vec<String> = parts.iter().map(|p| format!("{p:?}")).collect();
    let names: Vec<&str> = outs.iter().map(String::as_str).collect();
    let s = scorer(content(
        vec![Column::new("d", ty)],
        vec![Step::DateParts { column: "d".into(), parts: parts.to_vec(), outputs: outs.clone() }],
        probe(&names),
    ));
    score(&s, &batch(vec![("d", array)]))
}

#[test]
fn date_parts_of_known_calendar_dates() {
    // Day numbers and weekdays from Python's datetime (proleptic Gregorian).
    let days = [19782, -1, -25508, 11322, -135081, 0, 18717];
    let r = date_parts_of(arr(Date32Array::from(days.to_vec())), ColumnType::Date);
    let want: [[f64; 6]; 7] = [
        [2024.0, 2.0, 29.0, 4.0, 60.0, 1.0],  // 2024-02-29, leap day, Thursday
        [1969.0, 12.0, 31.0, 3.0, 365.0, 4.0], // 1969-12-31, Wednesday
        [1900.0, 3.0, 1.0, 4.0, 60.0, 1.0],   // 1900 is not a leap year
        [2000.0, 12.0, 31.0, 7.0, 366.0, 4.0], // 2000 is, Sunday
        [1600.0, 2.0, 29.0, 2.0, 60.0, 1.0],  // 1600-02-29, Tuesday
        [1970.0, 1.0, 1.0, 4.0, 1.0, 1.0],
        [2021.0, 3.0, 31.0, 3.0, 90.0, 1.0],
    ];
    for (i, w) in want.iter().enumerate() {
        let got: Vec<f64> = (0..6).map(|j| r.output(j)[i]).collect();
        assert_eq!(got, w, "day {}", days[i]);
    }
}

#[test]
fn date_parts_of_timestamps_use_the_utc_calendar_day() {
    // 1969-12-31T23:00:00Z is day -1/24: it belongs to Dec 31, not Jan 1.
    let us = vec![Some(-3_600_000_000i64), Some(86_399_999_999), None];
    let r = date_parts_of(arr(TimestampMicrosecondArray::from(us)), ColumnType::Timestamp);
    assert_values(r.output(2), &[Some(31.0), Some(1.0), None]);
    assert_values(r.output(0), &[Some(1969.0), Some(1970.0), None]);
}

fn elapsed(reference: &str, unit: ElapsedUnit, array: ArrayRef, ty: ColumnType) -> kiln::Scores {
    let s = scorer(content(
        vec![Column::new("d", ty)],
        vec![Step::Elapsed { column: "d".into(), reference: reference.into(), unit, output: Some("e".into()) }],
        probe(&["e"]),
    ));
    score(&s, &batch(vec![("d", array)]))
}

#[test]
fn elapsed_days_including_fractional_timestamps() {
    let r = elapsed("2020-01-01", ElapsedUnit::Days, arr(Date32Array::from(vec![Some(18000), Some(18262), Some(18300), None])), ColumnType::Date);
    assert_values(r.output(0), &[Some(262.0), Some(0.0), Some(-38.0), None]);
    // 2019-12-31T12:00:00Z is half a day before the reference.
    let r = elapsed("2020-01-01", ElapsedUnit::Days, arr(TimestampSecondArray::from(vec![18261 * 86_400 + 43_200])), ColumnType::Timestamp);
    assert_values(r.output(0), &[Some(0.5)]);
}

#[test]
fn elapsed_months_at_month_ends() {
    let months = |reference: &str, d: i32| elapsed(reference, ElapsedUnit::Months, arr(Date32Array::from(vec![d])), ColumnType::Date).output(0)[0];
    // Whole months completed (as java.time's ChronoUnit.MONTHS.between and dateutil's relativedelta):
    assert_eq!(months("2021-02-28", 18658), 0.0, "Jan 31 -> Feb 28: the 31st was not reached");
    assert_eq!(months("2021-03-01", 18658), 1.0, "Jan 31 -> Mar 1");
    assert_eq!(months("2021-03-31", 18658), 2.0, "Jan 31 -> Mar 31");
    assert_eq!(months("2020-02-29", 18292), 0.0, "Jan 31 -> Feb 29 (leap)");
    assert_eq!(months("2021-02-28", 18321), 11.0, "Feb 29 2020 -> Feb 28 2021");
    assert_eq!(months("2021-03-01", 18321), 12.0, "Feb 29 2020 -> Mar 1 2021");
    // A date after the reference counts negative, symmetric to the other direction.
    assert_eq!(months("2021-01-31", 18717), -2.0, "Mar 31 -> Jan 31");
    assert_eq!(months("2021-01-31", 18658).to_bits(), 0.0f64.to_bits());
    assert_eq!(months("1969-01-01", -1), -11.0, "pre-1970: Dec 31 1969 is 11 whole months after Jan 1 1969");
}

#[test]
fn elapsed_years_counts_whole_years() {
    let years = |reference: &str, d: i32| elapsed(reference, ElapsedUnit::Years, arr(Date32Array::from(vec![d])), ColumnType::Date).output(0)[0];
    assert_eq!(years("2020-06-14", 11123), 19.0, "2000-06-15 -> 2020-06-14: one day short of 20");
    assert_eq!(years("2020-06-15", 11123), 20.0);
    assert_eq!(years("2021-02-28", 18321), 0.0, "Feb 29 -> Feb 28 next year is not a whole year");
    assert_eq!(years("2000-06-15", 18428), -20.0);
}

fn arith(op: ArithOp, a: &[Option<f64>], b: &[Option<f64>]) -> kiln::Scores {
    let s = scorer(content(
        vec![num("a"), num("b")],
        vec![Step::Arithmetic { op, left: "a".into(), right: "b".into(), output: "r".into() }],
        probe(&["r"]),
    ));
    score(&s, &batch(vec![("a", f64s(a)), ("b", f64s(b))]))
}

#[test]
fn arithmetic_ops_and_zero_denominator() {
    let a = [Some(6.0), Some(1.0), Some(0.0), Some(-1.0), None, Some(1.0)];
    let b = [Some(3.0), Some(0.0), Some(0.0), Some(-0.0), Some(2.0), None];
    let r = arith(ArithOp::Ratio, &a, &b);
    assert_values(r.output(0), &[Some(2.0), None, None, None, None, None]);
    assert_eq!(statuses(&r), ["ok", "no_score", "no_score", "no_score", "no_score", "no_score"]);
    assert_values(arith(ArithOp::Difference, &a, &b).output(0), &[Some(3.0), Some(1.0), Some(0.0), Some(-1.0), None, None]);
    assert_values(arith(ArithOp::Product, &a, &b).output(0), &[Some(18.0), Some(0.0), Some(0.0), Some(0.0), None, None]);
    assert_values(arith(ArithOp::Sum, &a, &b).output(0), &[Some(9.0), Some(1.0), Some(0.0), Some(-1.0), None, None]);
}

// --- input types -------------------------------------------------------------------------

/// Score a float64 schema column handed over as `array`, returning the probed values.
fn numeric_input(ty: ColumnType, array: ArrayRef) -> Vec<f64> {
    let mut c = Column::new("x", ty);
    c.policy.non_finite = Policy::Allow;
    let s = scorer(content(vec![c], vec![], probe(&["x"])));
    col(&score(&s, &batch(vec![("x", array)])), 0)
}

#[test]
fn numeric_physical_types_widen_exactly_and_nulls_become_nan() {
    assert_values(&numeric_input(ColumnType::Float64, f64s(&[Some(0.1), None, Some(-3.5)])), &[Some(0.1), None, Some(-3.5)]);
    // float32 0.1 widens to its exact value, not to the double nearest 0.1.
    assert_values(&numeric_input(ColumnType::Float32, arr(Float32Array::from(vec![Some(0.1f32), None]))), &[Some(0.10000000149011612), None]);
    assert_values(
        &numeric_input(ColumnType::Int64, arr(Int64Array::from(vec![Some(-9_007_199_254_740_992i64), None, Some(7)]))),
        &[Some(-9_007_199_254_740_992.0), None, Some(7.0)],
    );
    assert_values(&numeric_input(ColumnType::Int32, arr(Int32Array::from(vec![Some(i32::MIN), None]))), &[Some(-2147483648.0), None]);
    assert_values(&numeric_input(ColumnType::Int32, arr(Int16Array::from(vec![Some(-7i16), None]))), &[Some(-7.0), None]);
    assert_values(&numeric_input(ColumnType::Int32, arr(Int8Array::from(vec![Some(-128i8)]))), &[Some(-128.0)]);
    assert_values(&numeric_input(ColumnType::Int64, arr(UInt64Array::from(vec![Some(u32::MAX as u64 + 1)]))), &[Some(4294967296.0)]);
    assert_values(&numeric_input(ColumnType::Int32, arr(UInt8Array::from(vec![Some(255u8), None]))), &[Some(255.0), None]);
    assert_values(&numeric_input(ColumnType::Bool, arr(BooleanArray::from(vec![Some(true), None, Some(false)]))), &[Some(1.0), None, Some(0.0)]);
    assert_values(&numeric_input(ColumnType::Date, arr(Date32Array::from(vec![Some(-1), None, Some(19782)]))), &[Some(-1.0), None, Some(19782.0)]);
    assert_values(&numeric_input(ColumnType::Date, arr(Date64Array::from(vec![Some(-86_400_000i64), Some(43_200_000)]))), &[Some(-1.0), Some(0.5)]);
    for (array, want) in [
        (arr(TimestampSecondArray::from(vec![Some(-43_200i64), None])), [Some(-0.5), None]),
        (arr(TimestampMillisecondArray::from(vec![Some(86_400_000i64), None])), [Some(1.0), None]),
        (arr(TimestampMicrosecondArray::from(vec![Some(21_600_000_000i64), None])), [Some(0.25), None]),
        (arr(TimestampNanosecondArray::from(vec![Some(-86_400_000_000_000i64 * 3), None]).with_timezone("UTC")), [Some(-3.0), None]),
    ] {
        assert_values(&numeric_input(ColumnType::Timestamp, array), &want);
    }
}

#[test]
fn sliced_numeric_arrays_read_from_their_offset() {
    let full = Float64Array::from(vec![Some(1.0), None, Some(3.0), Some(4.0), None, Some(6.0)]);
    assert_values(&numeric_input(ColumnType::Float64, arr(full.slice(1, 4))), &[None, Some(3.0), Some(4.0), None]);
    let bools = BooleanArray::from(vec![Some(true), Some(false), None, Some(true), Some(true), Some(false), Some(false), Some(true), None, Some(true)]);
    // An offset that is not a multiple of 8 checks the bit-level slicing of values and validity.
    assert_values(&numeric_input(ColumnType::Bool, arr(bools.slice(3, 6))), &[Some(1.0), Some(1.0), Some(0.0), Some(0.0), Some(1.0), None]);
    let dates = Date32Array::from(vec![Some(10), Some(-20), None, Some(30)]);
    assert_values(&numeric_input(ColumnType::Date, arr(dates.slice(1, 3))), &[Some(-20.0), None, Some(30.0)]);
    let ints = Int32Array::from(vec![Some(5), None, Some(-5)]);
    assert_values(&numeric_input(ColumnType::Int32, arr(ints.slice(2, 1))), &[Some(-5.0)]);
}

/// One-hot (a, b, other) of a categorical column handed over as `array`: per row, the index of
/// the hot output, or 3 for none.
fn categorical_input(array: ArrayRef) -> Vec<usize> {
    let s = scorer(content(
        vec![open_cat("c").with_categories(["a", "b", "q"])].into_iter().map(|mut c| {
            c.policy.unknown_category = Policy::Allow;
            c
        }).collect(),
        vec![
            Step::ImputeCategory { column: "c".into(), value: "b".into(), strategy: ImputeStrategy::MostFrequent, output: Some("ci".into()) },
            Step::OneHot {
                column: "ci".into(),
                categories: vec!["a".into(), "b".into()],
                unknown: UnknownCategory::Slot,
                outputs: vec!["is_a".into(), "is_b".into(), "other".into()],
            },
        ],
        probe(&["is_a", "is_b", "other"]),
    ));
    let r = score(&s, &batch(vec![("c", array)]));
    assert!(r.status.iter().all(|&x| x == 0), "every row scores: {:?}", statuses(&r));
    (0..r.n_rows).map(|i| (0..3).find(|&j| r.output(j)[i] == 1.0).unwrap_or(3)).collect()
}

#[test]
fn categorical_physical_types_agree() {
    // Rows: a, null (imputed to b), b, unknown "zz" (other slot), q (known to the schema, not to
    // the encoder: other slot), a.
    let values = [Some("a"), None, Some("b"), Some("zz"), Some("q"), Some("a")];
    let want = vec![0, 1, 1, 2, 2, 0];
    assert_eq!(categorical_input(strs(&values)), want, "utf8");
    assert_eq!(categorical_input(arr(LargeStringArray::from(values.to_vec()))), want, "large utf8");
    assert_eq!(categorical_input(arr(StringViewArray::from(values.to_vec()))), want, "utf8 view");
    let dict32: DictionaryArray<Int32Type> = values.iter().copied().collect();
    assert_eq!(categorical_input(arr(dict32)), want, "dictionary<int32, utf8>");
    let dict8: DictionaryArray<Int8Type> = values.iter().copied().collect();
    assert_eq!(categorical_input(arr(dict8)), want, "dictionary<int8, utf8>");
    let mut b = StringDictionaryBuilder::<UInt8Type>::new();
    for v in values {
        b.append_option(v);
    }
    assert_eq!(categorical_input(arr(b.finish())), want, "dictionary<uint8, utf8>");
}

#[test]
fn sliced_categorical_arrays_read_from_their_offset() {
    let values = [Some("zz"), Some("b"), None, Some("a"), Some("q"), Some("b"), Some("a")];
    let want = vec![1, 1, 0, 2];
    assert_eq!(categorical_input(arr(StringArray::from(values.to_vec()).slice(1, 4))), want, "utf8");
    assert_eq!(categorical_input(arr(LargeStringArray::from(values.to_vec()).slice(1, 4))), want, "large utf8");
    let dict: DictionaryArray<Int32Type> = values.iter().copied().collect();
    assert_eq!(categorical_input(arr(dict.slice(1, 4))), want, "dictionary");
}

#[test]
fn dictionary_with_null_values_and_arbitrary_keys_under_nulls() {
    // Arrow lets a null slot's key hold anything (here out of range and negative); a null
    // dictionary value is a null too. Neither may be read as a category, nor panic.
    let dict_values = Arc::new(StringArray::from(vec![Some("a"), None, Some("zz")]));
    let keys = Int8Array::new(vec![0i8, 99, 1, 2, -5, 0].into(), Some(NullBuffer::from(vec![true, false, true, true, false, true])));
    let d = DictionaryArray::<Int8Type>::try_new(keys, dict_values).unwrap();
    assert_eq!(categorical_input(arr(d.clone())), vec![0, 1, 1, 2, 1, 0]);
    assert_eq!(categorical_input(arr(d.slice(1, 4))), vec![1, 1, 2, 1]);
}
