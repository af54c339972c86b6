//! The hard edge: every input value is checked against the schema's rules as it is read, and
//! each column's policy decides what happens to a row that breaks one (reject the batch, flag
//! the row, apply the fitted default, or allow it through).
//!
//! Row status codes are part of the stable ABI: the numbers never change.

use serde::Serialize;

use crate::batch::view::NULL_CODE;
use crate::error::{Error, Result};
use crate::schema::{Column, DefaultValue, Policy};

/// Per-row outcome. `Ok` rows have scores; every other row has NaN scores and this reason.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum RowStatus {
    /// Scored.
    Ok = 0,
    /// A null/NaN where the column's policy does not allow one.
    Null = 1,
    /// A category outside the column's (or encoder's) known categories.
    UnknownCategory = 2,
    /// A value outside the column's `[min, max]`.
    OutOfRange = 3,
    /// An infinite value.
    NonFinite = 4,
    /// A transform's input is outside its domain (e.g. log1p of a value <= -1).
    DomainError = 5,
    /// The model produced no finite score for the row (e.g. a linear model met a null feature).
    NoScore = 6,
}

impl RowStatus {
    /// Every variant, in numeric order (a Rust-side table, not part of the C ABI).
    ///
    /// cbindgen:ignore
    pub const ALL: [RowStatus; 7] = [
        RowStatus::Ok,
        RowStatus::Null,
        RowStatus::UnknownCategory,
        RowStatus::OutOfRange,
        RowStatus::NonFinite,
        RowStatus::DomainError,
        RowStatus::NoScore,
    ];

    pub fn from_code(code: i32) -> Option<RowStatus> {
        RowStatus::ALL.get(usize::try_from(code).ok()?).copied()
    }

    /// Stable short name, e.g. `"unknown_category"`.
    pub fn name(self) -> &'static str {
        match self {
            RowStatus::Ok => "ok",
            RowStatus::Null => "null",
            RowStatus::UnknownCategory => "unknown_category",
            RowStatus::OutOfRange => "out_of_range",
            RowStatus::NonFinite => "non_finite",
            RowStatus::DomainError => "domain_error",
            RowStatus::NoScore => "no_score",
        }
    }

    /// One-line human description.
    pub fn description(self) -> &'static str {
        match self {
            RowStatus::Ok => "scored",
            RowStatus::Null => "missing value in a column that does not allow one",
            RowStatus::UnknownCategory => "category not seen in training",
            RowStatus::OutOfRange => "value outside the range allowed for the column",
            RowStatus::NonFinite => "infinite value",
            RowStatus::DomainError => "value outside a transform's domain",
            RowStatus::NoScore => "the model produced no finite score",
        }
    }
}

/// The rules of one numeric input column, prepared once.
#[derive(Debug, Clone)]
pub struct NumericCheck {
    pub null: Policy,
    pub non_finite: Policy,
    pub out_of_range: Policy,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    /// True when no rule can ever fire (skip the pass).
    pub trivial: bool,
}

/// The rules of one categorical input column, prepared once.
#[derive(Debug, Clone)]
pub struct CategoricalCheck {
    pub null: Policy,
    pub unknown: Policy,
    /// Codes `>= known` are unknown to the schema (when the schema lists categories).
    pub known: Option<i64>,
    pub default: i64,
    pub trivial: bool,
}

/// What a check found in one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finding {
    Fine,
    /// The row is flagged with this status.
    Flag(RowStatus),
    /// The value was replaced by the column's default.
    Defaulted,
    /// The batch must be rejected.
    Reject(RowStatus),
}

impl NumericCheck {
    pub fn new(col: &Column) -> Result<Self> {
        let default = match &col.default {
            Some(DefaultValue::Number(v)) => *v,
            Some(DefaultValue::Category(c)) => {
                return Err(Error::invalid_model(format!("numeric column '{}' has a category default '{c}'", col.name)));
            }
            None => f64::NAN,
        };
        let null = col.null_policy();
        let (min, max) = (col.min.unwrap_or(f64::NEG_INFINITY), col.max.unwrap_or(f64::INFINITY));
        let check = NumericCheck {
            null,
            non_finite: col.policy.non_finite,
            out_of_range: col.policy.out_of_range,
            min,
            max,
            default,
            trivial: null == Policy::Allow && col.policy.non_finite == Policy::Allow && col.min.is_none() && col.max.is_none(),
        };
        for (rule, p) in [("null", check.null), ("non_finite", check.non_finite)] {
            if p == Policy::Default && default.is_nan() {
                return Err(Error::invalid_model(format!("column '{}' uses the default policy for {rule} values but has no default", col.name)));
            }
        }
        Ok(check)
    }

    /// The check as one interval, where it is one: a value is fine exactly when it is NaN and
    /// `nan_fine`, or lies in `[lo, hi]`. Two compares a value, so a kernel can test a column
    /// while it reads it for something else (the fused linear pipeline). `None` for the rules
    /// no interval expresses (infinities allowed through a finite range) and for NaN bounds.
    pub fn fine_range(&self) -> Option<FineRange> {
        let allowed = |p: Policy| p == Policy::Allow;
        let (infinite, out_of_range) = (allowed(self.non_finite), allowed(self.out_of_range));
        let all = (f64::NEG_INFINITY, f64::INFINITY);
        let (lo, hi) = match (infinite, out_of_range) {
            _ if self.min.is_nan() || self.max.is_nan() => return None,
            (true, true) => all,
            (true, false) if (self.min, self.max) == all => all,
            (true, false) => return None,
            // Every finite value, and none of the infinities.
            (false, true) => (f64::MIN, f64::MAX),
            // Finite and in `[min, max]` (an infinite bound excludes its infinity as well).
            (false, false) => (self.min.max(f64::MIN), self.max.min(f64::MAX)),
        };
        Some(FineRange { lo, hi, nan_fine: allowed(self.null) })
    }

    /// The positions in `xs` where [`NumericCheck::check`] would not find the value fine (a
    /// null, infinite or out-of-range value whose policy is not `allow`), written into `out`
    /// (cleared first) and returned: only they need the check. The usual clean block costs
    /// vector compares instead of a rule walk per value.
    pub fn attention<'o>(&self, xs: &[f64], out: &'o mut Vec<usize>) -> &'o [usize] {
        let allowed = |p: Policy| p == Policy::Allow;
        let rules = Allowed { nan: allowed(self.null), infinite: allowed(self.non_finite), out_of_range: allowed(self.out_of_range) };
        attention_for_cpu(self.min, self.max, rules, xs, out);
        out
    }

    /// Check (and possibly replace) one value.
    pub fn check(&self, x: &mut f64) -> Finding {
        let (policy, status) = if x.is_nan() {
            (self.null, RowStatus::Null)
        } else if x.is_infinite() {
            (self.non_finite, RowStatus::NonFinite)
        } else if *x < self.min || *x > self.max {
            (self.out_of_range, RowStatus::OutOfRange)
        } else {
            return Finding::Fine;
        };
        match policy {
            Policy::Allow => Finding::Fine,
            Policy::Flag => Finding::Flag(status),
            Policy::Reject => Finding::Reject(status),
            Policy::Default => {
                *x = if status == RowStatus::OutOfRange { x.clamp(self.min, self.max) } else { self.default };
                Finding::Defaulted
            }
        }
    }
}

/// A [`NumericCheck`] as an interval (see [`NumericCheck::fine_range`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FineRange {
    pub lo: f64,
    pub hi: f64,
    /// Whether NaN (a null) is fine.
    pub nan_fine: bool,
}

impl FineRange {
    /// The range every value is fine by: a column with no rule to check. (A function, not an
    /// associated constant, which cbindgen would take for ABI and emit into the header.)
    pub const fn any() -> Self {
        FineRange { lo: f64::NEG_INFINITY, hi: f64::INFINITY, nan_fine: true }
    }

    /// Whether [`NumericCheck::check`] finds `x` fine, for a check this range was made from.
    #[inline(always)]
    pub fn fine(self, x: f64) -> bool {
        !if self.nan_fine { self.breaks::<true>(x) } else { self.breaks::<false>(x) }
    }

    /// Whether `x` breaks the range, where `NAN_FINE` is `self.nan_fine`: in as few vector
    /// operations as the NaN rule allows, for a kernel that tests every value of a block.
    /// With NaN fine, `x < lo | x > hi` (false for NaN); else `!(lo <= x <= hi)` (true for NaN).
    #[inline(always)]
    pub fn breaks<const NAN_FINE: bool>(self, x: f64) -> bool {
        if NAN_FINE { (x < self.lo) | (x > self.hi) } else { !((x >= self.lo) & (x <= self.hi)) }
    }
}

/// Which kinds of unusual value a column lets through untouched.
#[derive(Clone, Copy)]
struct Allowed {
    nan: bool,
    infinite: bool,
    out_of_range: bool,
}

crate::exec::for_each_cpu! {
    /// [`NumericCheck::attention`] for each CPU (see `exec::for_each_cpu`). Each chunk of eight
    /// values is tested with one branch (the rule's compares combined with non-short-circuit `&`
    /// and `|`, which vectorize), and only a chunk holding a value that needs the check is walked
    /// value by value. A nullable column's NaNs need no check, so a clean chunk is the common case
    /// even at a few percent missing.
    fn attention_for_cpu(lo: f64, hi: f64, allowed: Allowed, xs: &[f64], out: &mut Vec<usize>) {
        const W: usize = 8;
        out.clear();
        // The same decision as `NumericCheck::check`: NaN, then infinite, then outside `[lo, hi]`.
        let fine = |x: f64| {
            let nan = x.is_nan();
            let infinite = x.abs() == f64::INFINITY;
            let in_range = (x >= lo) & (x <= hi);
            (nan & allowed.nan) | (infinite & allowed.infinite) | (!nan & !infinite & (in_range | allowed.out_of_range))
        };
        let chunks = xs.chunks_exact(W);
        let tail = chunks.remainder();
        for (c, chunk) in chunks.enumerate() {
            if chunk.iter().fold(true, |all, &x| all & fine(x)) {
                continue;
            }
            out.extend(chunk.iter().enumerate().filter(|&(_, &x)| !fine(x)).map(|(j, _)| c * W + j));
        }
        let base = xs.len() - tail.len();
        out.extend(tail.iter().enumerate().filter(|&(_, &x)| !fine(x)).map(|(j, _)| base + j));
    }
}

impl CategoricalCheck {
    /// `default` is the vocabulary code of the column's default category, if it has one.
    pub fn new(col: &Column, default: Option<i64>) -> Result<Self> {
        let null = col.null_policy();
        let unknown = col.policy.unknown_category;
        let known = col.categories.as_ref().map(|c| c.len() as i64);
        for (rule, p) in [("null", null), ("unknown_category", unknown)] {
            if p == Policy::Default && default.is_none() {
                return Err(Error::invalid_model(format!("column '{}' uses the default policy for {rule} values but has no default category", col.name)));
            }
        }
        Ok(CategoricalCheck {
            null,
            unknown,
            known,
            default: default.unwrap_or(NULL_CODE),
            trivial: null == Policy::Allow && (known.is_none() || unknown == Policy::Allow),
        })
    }

    #[inline]
    pub fn check(&self, code: &mut i64) -> Finding {
        let (policy, status) = if *code == NULL_CODE {
            (self.null, RowStatus::Null)
        } else if self.known.is_some_and(|k| *code >= k) {
            (self.unknown, RowStatus::UnknownCategory)
        } else {
            return Finding::Fine;
        };
        match policy {
            Policy::Allow => Finding::Fine,
            Policy::Flag => Finding::Flag(status),
            Policy::Reject => Finding::Reject(status),
            Policy::Default => {
                *code = self.default;
                Finding::Defaulted
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_finds_exactly_the_values_a_rule_may_apply_to() {
        let policies = [Policy::Allow, Policy::Flag, Policy::Reject, Policy::Default];
        let specials = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.5, 2.5, -1.0, 2.0, 0.5, f64::MAX, f64::MIN, -0.0];
        let mut state = 7u64;
        let mut out = Vec::new();
        let combinations = policies.iter().flat_map(|&a| policies.iter().flat_map(move |&b| policies.map(move |c| (a, b, c))));
        for (null, non_finite, out_of_range) in combinations {
            for (min, max) in [(-1.0, 2.0), (f64::NEG_INFINITY, f64::INFINITY), (f64::NEG_INFINITY, 2.0), (-1.0, f64::INFINITY), (f64::INFINITY, f64::INFINITY)] {
                let check = NumericCheck { null, non_finite, out_of_range, min, max, default: 0.0, trivial: false };
                // Every length around the 8-wide chunks, specials anywhere (chunk bodies and tails).
                for len in 0..40 {
                    for _ in 0..5 {
                        let xs: Vec<f64> = (0..len)
                            .map(|_| {
                                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                                specials[(state >> 33) as usize % specials.len()]
                            })
                            .collect();
                        let expected: Vec<usize> = (0..len).filter(|&i| check.check(&mut xs[i].clone()) != Finding::Fine).collect();
                        assert_eq!(check.attention(&xs, &mut out), expected.as_slice(), "{check:?} {xs:?}");
                        if let Some(range) = check.fine_range() {
                            let by_range: Vec<usize> = (0..len).filter(|&i| !range.fine(xs[i])).collect();
                            assert_eq!(by_range, expected, "{check:?} {range:?} {xs:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn fine_range_covers_the_usual_rules_and_only_what_an_interval_expresses() {
        let check = |null, non_finite, out_of_range, min, max| NumericCheck { null, non_finite, out_of_range, min, max, default: 0.0, trivial: false };
        let (allow, flag) = (Policy::Allow, Policy::Flag);
        // Nulls imputed, infinities and out-of-range values flagged: the fused pipeline's case.
        assert_eq!(check(allow, flag, flag, -1.0, 2.0).fine_range(), Some(FineRange { lo: -1.0, hi: 2.0, nan_fine: true }));
        assert_eq!(check(flag, flag, allow, -1.0, 2.0).fine_range(), Some(FineRange { lo: f64::MIN, hi: f64::MAX, nan_fine: false }));
        assert_eq!(
            check(allow, flag, flag, f64::NEG_INFINITY, f64::INFINITY).fine_range(),
            Some(FineRange { lo: f64::MIN, hi: f64::MAX, nan_fine: true })
        );
        // Infinities let through a finite range are two pieces; NaN bounds compare with nothing.
        assert_eq!(check(allow, allow, flag, -1.0, 2.0).fine_range(), None);
        assert_eq!(check(allow, flag, flag, f64::NAN, 2.0).fine_range(), None);
    }
}
