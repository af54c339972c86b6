//! Date steps: calendar parts of a date, and elapsed time to a fixed reference date.
//!
//! Dates arrive as (fractional) days since 1970-01-01 UTC. Calendar conversion uses the
//! days-from-civil / civil-from-days algorithms of the proleptic Gregorian calendar described
//! by Howard Hinnant ("chrono-Compatible Low-Level Date Algorithms").

use super::Block;
use crate::artifact::{DatePart, ElapsedUnit};

#[derive(Debug, Clone)]
pub enum DateStep {
    Parts { src: usize, parts: Vec<DatePart>, outputs: Vec<usize> },
    Elapsed { src: usize, dst: usize, reference_days: i64, unit: ElapsedUnit },
}

impl DateStep {
    pub fn apply(&self, block: &mut Block<'_>) {
        match self {
            DateStep::Parts { src, parts, outputs } => {
                for (part, &dst) in parts.iter().zip(outputs) {
                    for d in block.num_into(*src, dst) {
                        if !d.is_nan() {
                            *d = date_part(d.floor() as i64, *part) as f64;
                        }
                    }
                }
                // `num_into` copied src into each output first, so the parts above read the
                // original days: each output slot differs from src (validated by the plan).
            }
            &DateStep::Elapsed { src, dst, reference_days, unit } => {
                for d in block.num_into(src, dst) {
                    if !d.is_nan() {
                        *d = elapsed(*d, reference_days, unit);
                    }
                }
            }
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn date_part(days: i64, part: DatePart) -> i64 {
    let (y, m, d) = civil_from_days(days);
    match part {
        DatePart::Year => y,
        DatePart::Month => m as i64,
        DatePart::Day => d as i64,
        // 1970-01-01 was a Thursday (ISO 4).
        DatePart::DayOfWeek => (days + 3).rem_euclid(7) + 1,
        DatePart::DayOfYear => days - days_from_civil(y, 1, 1) + 1,
        DatePart::Quarter => (m as i64 - 1) / 3 + 1,
    }
}

/// Time from `days` to `reference`, positive when `days` is earlier.
pub fn elapsed(days: f64, reference: i64, unit: ElapsedUnit) -> f64 {
    match unit {
        ElapsedUnit::Days => reference as f64 - days,
        ElapsedUnit::Months | ElapsedUnit::Years => {
            let (early, late, sign) = if days <= reference as f64 {
                (days.floor() as i64, reference, 1.0)
            } else {
                (reference, days.floor() as i64, -1.0)
            };
            let (y0, m0, d0) = civil_from_days(early);
            let (y1, m1, d1) = civil_from_days(late);
            let mut months = (y1 - y0) * 12 + (m1 as i64 - m0 as i64);
            if d1 < d0 {
                months -= 1;
            }
            let whole = if unit == ElapsedUnit::Months { months } else { months.div_euclid(12) };
            // `0.0 * -1.0` would be -0.0: report no elapsed time as plain zero.
            if whole == 0 { 0.0 } else { sign * whole as f64 }
        }
    }
}

/// Parse `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_iso_date(s: &str) -> Option<i64> {
    let mut it = s.trim().splitn(3, '-');
    let y: i64 = it.next()?.parse().ok()?;
    let m: u32 = it.next()?.parse().ok()?;
    let d: u32 = it.next()?.parse().ok()?;
    let month_len = [31, if is_leap(y) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d == 0 || d > month_len[m as usize - 1] {
        return None;
    }
    Some(days_from_civil(y, m, d))
}
