//! `kiln profile`, `kiln verify` and `kiln drift`: a file is one batch, read in chunks whose
//! profiles and reports are merged, so the batch-level rules and the drift report see the whole
//! file in bounded memory.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use kiln::profile::check::{BatchFinding, BatchPolicy, NullRateRule, null_rate_findings, reference_profile};
use kiln::profile::drift::{Check, Statistic, Target};
use kiln::profile::{BatchProfile, DriftOptions, DriftReport, ProfileOptions, profile_batch_with};
use kiln::schema::{Column, Schema};
use kiln::{Batch, KilnStatus, ScoreOptions, ScoreReport, Scorer};

use crate::error::{CliError, CliResult};
use crate::io::{self, Format};

#[derive(clap::Args, Debug)]
pub struct ProfileArgs {
    /// Data to profile: CSV (with a header row) or Parquet.
    pub data: PathBuf,
    /// Where to write: the profile JSON, or with --attach the new model artifact. Without it
    /// the profile JSON goes to stdout.
    #[arg(long, short = 'o')]
    pub output: Option<PathBuf>,
    /// Profile the model's input columns (and score the data to profile its outputs). Without
    /// it every column of the file is profiled: numbers as numeric, text as categorical.
    #[arg(long, short = 'm')]
    pub model: Option<PathBuf>,
    /// Write the model with this profile recorded as its reference (a new artifact with a new
    /// fingerprint) to --output, instead of the profile.
    #[arg(long, requires = "model", requires = "output")]
    pub attach: bool,
    /// Threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Input format (default: from the file's extension).
    #[arg(long, value_enum)]
    pub input_format: Option<Format>,
    /// Rows per chunk.
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_rows: u32,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The data to verify: CSV (with a header row) or Parquet.
    pub data: PathBuf,
    /// The model artifact (.kiln).
    #[arg(long, short = 'm')]
    pub model: PathBuf,
    /// Refuse the file (exit 22) when a column's null rate breaks the null-rate rule, as a
    /// reject policy would.
    #[arg(long)]
    pub reject_null_rate: bool,
    /// Proportional tolerance of the null-rate rule around the training rate.
    #[arg(long, default_value_t = 0.5)]
    pub null_tolerance: f64,
    /// Exit 3 when a batch-level rule is broken (and the file is not rejected).
    #[arg(long)]
    pub strict: bool,
    /// Machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    #[arg(long, value_enum)]
    pub input_format: Option<Format>,
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_rows: u32,
}

#[derive(clap::Args, Debug)]
pub struct DriftArgs {
    /// The data to compare: CSV (with a header row) or Parquet.
    pub data: PathBuf,
    /// The model artifact: its reference profile is the reference, and its outputs are
    /// compared too.
    #[arg(long, short = 'm')]
    pub model: Option<PathBuf>,
    /// A profile JSON (from `kiln profile`) to compare against instead of the model's.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// The full drift report as JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Family-wise false-alarm rate of the report (Holm-corrected over every test).
    #[arg(long, default_value_t = 0.01)]
    pub alpha: f64,
    /// Exit 3 when something drifted.
    #[arg(long)]
    pub fail_on_drift: bool,
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    #[arg(long, value_enum)]
    pub input_format: Option<Format>,
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_rows: u32,
}

/// Exit code of a run that found what `--strict` / `--fail-on-drift` asked about.
pub const FINDINGS_EXIT: u8 = 3;

/// Every chunk of `data` as a batch, with the rows it covers for error messages.
fn for_each_chunk(
    data: &Path,
    format: Option<Format>,
    schema: &Schema,
    chunk_rows: u32,
    mut f: impl FnMut(&Batch) -> CliResult<()>,
) -> CliResult<u64> {
    let format = Format::resolve(format, data, "input")?;
    let input = io::open_input(data, format, schema, &[], chunk_rows as usize)?;
    let mut rows: u64 = 0;
    for chunk in input.chunks {
        let chunk = chunk?;
        let n = chunk.num_rows() as u64;
        let at = |e: CliError| e.context(format!("{} rows {}..{}", data.display(), rows + 1, rows + n));
        let batch = Batch::from_record_batch(&chunk).map_err(|e| at(e.into()))?;
        f(&batch).map_err(at)?;
        rows += n;
    }
    Ok(rows)
}

fn write_file(path: &Path, bytes: &[u8]) -> CliResult<()> {
    std::fs::write(path, bytes).map_err(|e| CliError::io(format!("writing {}", path.display()), e))
}

pub fn profile(args: &ProfileArgs) -> CliResult<u8> {
    let scorer = args.model.as_ref().map(|m| Scorer::load(m, None)).transpose()?;
    let format = Format::resolve(args.input_format, &args.data, "input")?;
    let (schema, inferred) = match &scorer {
        Some(s) => (s.schema().clone(), false),
        None => (io::infer_schema(&args.data, format)?, true),
    };
    let mut profile = match &scorer {
        Some(s) => BatchProfile::with_output_names(&schema, s.output_names()),
        None => BatchProfile::new(&schema, 0),
    };
    let opts = ScoreOptions { n_threads: args.threads };
    let rows = for_each_chunk(&args.data, Some(format), &schema, args.chunk_rows, |batch| {
        let p = match &scorer {
            Some(s) => reference_profile(s, batch, &opts)?,
            None => profile_batch_with(&schema, batch, &ProfileOptions { n_threads: args.threads })?,
        };
        profile.merge(&p)?;
        Ok(())
    })?;
    if args.attach {
        let (scorer, out) = (scorer.expect("clap requires --model"), args.output.as_ref().expect("clap requires --output"));
        let with = scorer.with_reference_profile(&profile)?;
        with.artifact()?.save(out)?;
        crate::print(&format!(
            "profiled {rows} rows of {}\nwrote {} with the reference profile\nfingerprint {} (was {})\n",
            args.data.display(),
            out.display(),
            with.fingerprint(),
            scorer.fingerprint()
        ));
        return Ok(0);
    }
    let json = profile.to_json();
    match &args.output {
        Some(out) => {
            write_file(out, json.as_bytes())?;
            let how = if inferred { " (schema inferred from the data: numbers numeric, text categorical)" } else { "" };
            crate::print(&format!("profiled {rows} rows x {} columns of {}{how}\nwrote {}\n", schema.columns.len(), args.data.display(), out.display()));
        }
        None => crate::print(&format!("{json}\n")),
    }
    Ok(0)
}

/// What `kiln verify` found in a file.
#[derive(serde::Serialize)]
struct Verification {
    model_fingerprint: String,
    input: String,
    rows: u64,
    scored: u64,
    refused: u64,
    /// Why the whole file was refused, when it was: every row is then refused.
    rejected: Option<String>,
    /// Rows refused per (status, column) while scoring; empty for a rejected file.
    reasons: Vec<kiln::ReasonCount>,
    defaults_applied: std::collections::BTreeMap<String, u64>,
    #[serde(skip)]
    report: ScoreReport,
    findings: Vec<BatchFinding>,
    /// Whether the model has a reference profile (without one, only the schema's rules ran).
    reference_profile: bool,
}

pub fn verify(args: &VerifyArgs) -> CliResult<u8> {
    let scorer = Scorer::load(&args.model, None)?;
    let reference = scorer.reference_profile();
    let schema = scorer.schema().clone();
    let mut profile = BatchProfile::with_output_names(&schema, scorer.output_names());
    let mut report = ScoreReport::default();
    let mut rejected: Option<String> = None;
    let opts = ScoreOptions { n_threads: args.threads };
    let rows = for_each_chunk(&args.data, args.input_format, &schema, args.chunk_rows, |batch| {
        if rejected.is_some() {
            // The file is refused as a whole; the rest is only counted.
            return Ok(());
        }
        if reference.is_some() {
            profile.merge(&profile_batch_with(&scorer, batch, &ProfileOptions { n_threads: args.threads })?)?;
        }
        match scorer.score(batch, &opts) {
            Ok(s) => report.merge(&s.report),
            Err(e) if e.status() == KilnStatus::BatchRejected => rejected = Some(e.message().to_string()),
            Err(e) => return Err(e.into()),
        }
        Ok(())
    })?;
    let rule = NullRateRule {
        tolerance: args.null_tolerance,
        policy: if args.reject_null_rate { BatchPolicy::Reject } else { BatchPolicy::Report },
        ..NullRateRule::default()
    };
    let findings = match reference {
        Some(r) if rejected.is_none() => null_rate_findings(r, &profile, &rule)?,
        _ => Vec::new(),
    };
    if rejected.is_none() {
        rejected = findings.iter().find(|f| f.policy == BatchPolicy::Reject).map(|f| format!("{} (null-rate policy: reject)", f.message));
    }
    let (scored, refused) = if rejected.is_some() { (0, rows) } else { (report.scored, report.flagged) };
    let (reasons, defaults_applied) = if rejected.is_some() { Default::default() } else { (report.reasons.clone(), report.defaults_applied.clone()) };
    let v = Verification {
        model_fingerprint: scorer.fingerprint().to_string(),
        input: args.data.display().to_string(),
        rows,
        scored,
        refused,
        rejected,
        reasons,
        defaults_applied,
        report,
        findings,
        reference_profile: reference.is_some(),
    };
    if args.json {
        crate::print(&format!("{}\n", serde_json::to_string_pretty(&v).expect("a report serializes")));
    } else {
        crate::print(&render_verification(&v));
    }
    if v.rejected.is_some() {
        return Err(CliError::new(KilnStatus::BatchRejected, format!("{} rejected: {}", args.data.display(), v.rejected.unwrap_or_default())));
    }
    Ok(if args.strict && !v.findings.is_empty() { FINDINGS_EXIT } else { 0 })
}

fn render_verification(v: &Verification) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "model      {}", v.model_fingerprint);
    let _ = writeln!(s, "input      {}", v.input);
    let _ = writeln!(s, "rows       {:>10}", v.rows);
    let _ = writeln!(s, "scored     {:>10}", v.scored);
    let _ = writeln!(s, "refused    {:>10}", v.refused);
    if let Some(why) = &v.rejected {
        let _ = writeln!(s, "  {:<17} {:>8}  ({why})", "batch_rejected", v.rows);
    } else {
        s.push_str(&crate::summary::render_reasons(&v.report));
    }
    s.push_str(&render_findings(&v.findings, v.reference_profile));
    s
}

/// The batch-level section of `kiln verify` and `kiln score`.
pub fn render_findings(findings: &[BatchFinding], has_reference: bool) -> String {
    let mut s = String::new();
    if !has_reference {
        let _ = writeln!(s, "batch      no reference profile: null rates not checked (attach one with kiln profile --model M DATA --attach)");
        return s;
    }
    let _ = writeln!(s, "batch      {:>10}  (broken batch-level rules)", findings.len());
    for f in findings {
        let _ = writeln!(
            s,
            "  {:<17} {:<17} training {:.4}, observed {:.4}, allowed [{:.4}, {:.4}] (tolerance {}% of the training rate)",
            f.rule,
            f.column,
            f.training_rate,
            f.observed_rate,
            f.allowed_low,
            f.allowed_high,
            f.tolerance * 100.0
        );
    }
    s
}

pub fn drift(args: &DriftArgs) -> CliResult<u8> {
    let scorer = args.model.as_ref().map(|m| Scorer::load(m, None)).transpose()?;
    let reference: BatchProfile = match (&args.reference, &scorer) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path).map_err(|e| CliError::io(format!("reading {}", path.display()), e))?;
            BatchProfile::from_json(&text).map_err(|e| CliError::from(e).context(path.display()))?
        }
        (None, Some(s)) => s.reference_profile().cloned().ok_or_else(|| CliError::from(kiln::profile::check::no_reference()))?,
        (None, None) => return Err(CliError::new(KilnStatus::InvalidArgument, "name the reference: --model M (its reference profile) or --reference profile.json")),
    };
    // Profile the data as the reference was profiled: its columns, and the model's outputs when
    // the reference has them.
    let schema = Schema::new(reference.columns().iter().map(|c| Column::new(c.name.clone(), c.ty)).collect());
    let scored = scorer.as_ref().filter(|s| {
        let cols = |p: &Schema| p.columns.iter().map(|c| (c.name.clone(), c.ty)).collect::<Vec<_>>();
        cols(s.schema()) == cols(&schema) && reference.outputs().iter().map(|o| o.name.as_str()).eq(s.output_names())
    });
    let mut current = match scored {
        Some(s) => BatchProfile::with_output_names(&schema, s.output_names()),
        None => BatchProfile::new(&schema, 0),
    };
    let opts = ScoreOptions { n_threads: args.threads };
    for_each_chunk(&args.data, args.input_format, &schema, args.chunk_rows, |batch| {
        let p = match scored {
            Some(s) => reference_profile(s, batch, &opts)?,
            None => profile_batch_with(&schema, batch, &ProfileOptions { n_threads: args.threads })?,
        };
        current.merge(&p)?;
        Ok(())
    })?;
    let report = DriftReport::compare(&reference, &current, &DriftOptions { alpha: args.alpha, ..DriftOptions::default() })?;
    if args.json {
        crate::print(&format!("{}\n", serde_json::to_string_pretty(&report).expect("a report serializes")));
    } else {
        crate::print(&render_drift(&report, &args.data));
    }
    Ok(if args.fail_on_drift && !report.findings.is_empty() { FINDINGS_EXIT } else { 0 })
}

fn render_drift(r: &DriftReport, data: &Path) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "drift of {} ({} rows) against the reference ({} rows)", data.display(), r.current_rows, r.reference_rows);
    let _ = writeln!(s, "{} tests, family-wise alpha {} ({}-corrected); {} skipped", r.tests, r.options.alpha, r.correction, r.skipped.len());
    if r.findings.is_empty() {
        let _ = writeln!(s, "no drift: every statistic is within its expected band");
        return s;
    }
    let _ = writeln!(s, "drifted: {}", r.drifted.join(", "));
    for f in &r.findings {
        s.push_str(&render_check(f));
    }
    s
}

fn render_check(f: &Check) -> String {
    let mut s = String::new();
    let what = match f.target {
        Target::Input => "column",
        Target::Output => "output",
    };
    let stat = serde_json::to_value(f.statistic).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
    let _ = writeln!(
        s,
        "  {what} {}: {stat} {:.4} outside the expected band [{:.4}, {:.4}] (p {:.2e}, level {:.2e}; {})",
        f.column, f.observed, f.expected.low, f.expected.high, f.p_value, f.level, f.detail
    );
    for m in &f.movers {
        match (f.statistic, m.lower, m.upper) {
            // Wasserstein movers are quantiles: the reference's value, the batch's, the shift.
            (Statistic::Wasserstein, Some(r), Some(c)) => {
                let _ = writeln!(s, "      {:<32} reference {r:.6} -> batch {c:.6}  (shift {:+.4} in normalized units)", m.label, m.contribution);
            }
            _ => {
                let _ = writeln!(s, "      {:<32} share reference {:.4} -> batch {:.4}  (contribution {:+.4})", m.label, m.reference_share, m.current_share, m.contribution);
            }
        }
    }
    s
}
