//! The end-of-run summary of `kiln score`: every input row is accounted for, either scored or
//! refused under a (status, column) reason.

use std::fmt::Write;
use std::time::Duration;

use kiln::profile::BatchFinding;
use kiln::{RowStatus, ScoreReport};

pub struct Summary {
    pub model_fingerprint: String,
    pub input: String,
    pub output: String,
    pub rows_read: u64,
    pub report: ScoreReport,
    /// Batch-level rules the file broke; `None` when the model has no reference profile.
    pub findings: Option<Vec<BatchFinding>>,
    pub elapsed: Duration,
}

impl Summary {
    pub fn render(&self) -> String {
        let r = &self.report;
        let mut s = String::new();
        let secs = self.elapsed.as_secs_f64();
        let rate = if secs > 0.0 { self.rows_read as f64 / secs } else { 0.0 };
        // Writing to a String cannot fail.
        let _ = writeln!(s, "model      {}", self.model_fingerprint);
        let _ = writeln!(s, "input      {}", self.input);
        let _ = writeln!(s, "output     {}", self.output);
        let _ = writeln!(s, "rows read  {:>10}", self.rows_read);
        let _ = writeln!(s, "scored     {:>10}", r.scored);
        let _ = writeln!(s, "refused    {:>10}", r.flagged);
        s.push_str(&render_reasons(r));
        match &self.findings {
            Some(f) => s.push_str(&crate::checks::render_findings(f, true)),
            None => s.push_str(&crate::checks::render_findings(&[], false)),
        }
        let _ = writeln!(s, "elapsed    {secs:>10.3} s  ({rate:.0} rows/s)");
        s
    }
}

/// The reasons rows were refused (under the `refused` line), then the defaults applied.
pub fn render_reasons(r: &ScoreReport) -> String {
    let mut s = String::new();
    let width = r.reasons.iter().map(|x| x.source.len()).max().unwrap_or(0);
    for reason in &r.reasons {
        let what = RowStatus::from_code(reason.code).map_or("", RowStatus::description);
        let _ = writeln!(s, "  {:<17} {:<width$} {:>8}  ({what})", reason.status, reason.source, reason.rows);
    }
    let defaults: u64 = r.defaults_applied.values().sum();
    let _ = writeln!(s, "defaults   {defaults:>10}  (values replaced by a column's fitted default or clamped into its range)");
    for (column, n) in &r.defaults_applied {
        let _ = writeln!(s, "  {column:<17} {n:>8}");
    }
    s
}
