//! `kiln`: the command-line face of the engine.
//!
//! `kiln score` streams a CSV or Parquet file through a model in chunks and writes scores with a
//! per-row status and reason; `kiln inspect` shows what an artifact holds; `kiln import` turns an
//! XGBoost or LightGBM model file into an artifact; `kiln profile`, `kiln verify` and
//! `kiln drift` profile a file, check it against a model's rules and reference profile, and
//! measure its drift. Every failure prints
//! `error: <message>` to stderr and exits with a code derived from the kiln status (see
//! [`EXIT_CODES`]); nothing panics at the user.

mod checks;
mod error;
mod import;
mod inspect;
mod io;
mod score;
mod summary;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;
use crate::io::Format;

const EXIT_CODES: &str = "\
Exit codes:
  0   success (rows refused by the model's rules are reported, not an error)
  1   unexpected failure
  2   bad command line
  3   findings asked to fail on: kiln verify --strict (a broken batch-level rule),
      kiln drift --fail-on-drift (something drifted)
  10+ a kiln status: 12 invalid argument, 13 io, 14 malformed artifact, 15 unsupported
      version, 16 invalid model, 17 fingerprint mismatch, 18 missing column, 19 column type
      (including a CSV value that does not parse as its column's type), 22 batch rejected";

#[derive(Parser, Debug)]
#[command(name = "kiln", version, about = "Score tabular data with a kiln model artifact, inspect artifacts, and profile, verify and measure the drift of data.", after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Score a CSV or Parquet file; write kept columns, one column per model output, status, reason.
    #[command(after_help = EXIT_CODES)]
    Score(ScoreArgs),
    /// Print what an artifact holds: version, fingerprint, schema, pipeline, model, provenance.
    #[command(after_help = EXIT_CODES)]
    Inspect(InspectArgs),
    /// Profile a data file (JSON sketches per column), or attach the profile to a model as its reference.
    #[command(after_help = EXIT_CODES)]
    Profile(checks::ProfileArgs),
    /// Check a data file against a model's rules and reference profile: rows refused per reason, batch-level findings.
    #[command(after_help = EXIT_CODES)]
    Verify(checks::VerifyArgs),
    /// Measure a data file's drift against a model's reference profile (or a profile file).
    #[command(after_help = EXIT_CODES)]
    Drift(checks::DriftArgs),
    /// Import an XGBoost (.json, .ubj) or LightGBM (.txt) model file into a kiln artifact.
    #[command(after_help = EXIT_CODES)]
    Import(ImportArgs),
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Library {
    Xgboost,
    Lightgbm,
}

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The library that trained the model.
    #[arg(long = "from", value_enum)]
    pub from: Library,
    /// The model file: XGBoost `save_model("m.json")` or `("m.ubj")`, LightGBM `save_model("m.txt")`.
    pub model_file: PathBuf,
    /// Where to write the artifact (.kiln).
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Keep boosting iterations BEGIN:END only (END exclusive, empty = the last), as XGBoost's
    /// `iteration_range`; for LightGBM only 0:N, as `num_iteration=N`.
    #[arg(long, value_name = "BEGIN:END")]
    pub iterations: Option<String>,
    /// XGBoost: keep iterations up to the model's best_iteration (early stopping).
    #[arg(long, conflicts_with = "iterations")]
    pub best_iteration: bool,
    /// Input column names to use instead of the model's, comma-separated, one per feature.
    #[arg(long, value_delimiter = ',')]
    pub feature_names: Option<Vec<String>>,
    /// Print what the artifact holds (as `kiln inspect` does) after writing it.
    #[arg(long)]
    pub inspect: bool,
}

#[derive(clap::Args, Debug)]
pub struct ScoreArgs {
    /// The model artifact (.kiln).
    #[arg(long, short = 'm')]
    pub model: PathBuf,
    /// Input file: CSV (with a header row) or Parquet.
    #[arg(long, short = 'i')]
    pub input: PathBuf,
    /// Output file: CSV or Parquet.
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Threads for scoring (0 = all cores).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Input columns to copy into the output (e.g. an id), comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub keep: Vec<String>,
    /// Refuse to score unless the artifact's fingerprint is this one ("sha256:<hex>").
    #[arg(long)]
    pub expect_fingerprint: Option<String>,
    /// Output format (default: from the output file's extension).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Input format (default: from the input file's extension).
    #[arg(long, value_enum)]
    pub input_format: Option<Format>,
    /// Rows per chunk: the input is read, scored and written one chunk at a time.
    #[arg(long, default_value_t = 65_536, value_parser = clap::value_parser!(u32).range(1..))]
    pub chunk_rows: u32,
    /// Progress bar: shown by default only when stderr is a terminal and the input is large.
    #[arg(long, value_enum, default_value_t = ProgressMode::Auto)]
    pub progress: ProgressMode,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    Auto,
    Always,
    Never,
}

#[derive(clap::Args, Debug)]
pub struct InspectArgs {
    /// The model artifact (.kiln).
    pub model: PathBuf,
    /// Machine-readable JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Fail unless the artifact's fingerprint is this one.
    #[arg(long)]
    pub expect_fingerprint: Option<String>,
}

fn main() -> ExitCode {
    // A panic would be a kiln bug; say so in one line instead of a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error (a kiln bug, please report it): {info}");
    }));
    let cli = Cli::parse();
    let result = std::panic::catch_unwind(|| match cli.command {
        Command::Score(args) => score::run(&args).map(|()| 0),
        Command::Inspect(args) => inspect::run(&args).map(|()| 0),
        Command::Profile(args) => checks::profile(&args),
        Command::Verify(args) => checks::verify(&args),
        Command::Drift(args) => checks::drift(&args),
        Command::Import(args) => import::run(&args).map(|()| 0),
    });
    match result {
        Ok(Ok(code)) => ExitCode::from(code),
        Ok(Err(e)) => {
            eprintln!("error: {}", e.message());
            ExitCode::from(e.exit_code())
        }
        Err(_) => ExitCode::from(CliError::PANIC_EXIT),
    }
}

/// Write to stdout, ignoring a closed pipe (`kiln inspect m | head` must not fail).
pub fn print(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
