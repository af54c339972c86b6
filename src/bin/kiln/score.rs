//! `kiln score`: read a chunk, score it, write it, repeat; then print the summary.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, Field, Schema as ArrowSchema, SchemaRef};
use indicatif::{ProgressBar, ProgressStyle};
use kiln::profile::check::{NullRateRule, null_rate_findings};
use kiln::profile::{BatchProfile, ProfileOptions, profile_batch_with};
use kiln::{Batch, KilnStatus, RowStatus, ScoreOptions, ScoreReport, Scorer, Scores};

use crate::error::{CliError, CliResult};
use crate::io::{self, Format, ProgressSource};
use crate::summary::Summary;
use crate::{ProgressMode, ScoreArgs};

/// Inputs at least this big get a progress bar (when stderr is a terminal): smaller ones finish
/// before a bar would be readable.
const LARGE_INPUT_BYTES: u64 = 64 << 20;
const LARGE_INPUT_ROWS: u64 = 1_000_000;

pub fn run(args: &ScoreArgs) -> CliResult<()> {
    let started = Instant::now();
    let in_format = Format::resolve(args.input_format, &args.input, "input")?;
    let out_format = Format::resolve(args.format, &args.output, "output")?;
    let scorer = Scorer::load(&args.model, args.expect_fingerprint.as_deref())?;
    let output_names: Vec<String> = scorer.output_names().iter().map(|s| s.to_string()).collect();
    check_output_names(&args.keep, &output_names)?;

    let input = io::open_input(&args.input, in_format, scorer.schema(), &args.keep, args.chunk_rows as usize)?;
    let out_schema = output_schema(&input.schema, &args.keep, &output_names);
    let mut output = io::Output::create(&args.output, out_format, out_schema.clone())?;
    let progress = progress_bar(args.progress, &input.progress);

    let opts = ScoreOptions { n_threads: args.threads };
    let mut report = ScoreReport::default();
    // With a reference profile, the file's input profile is kept for the null-rate rule.
    let reference = scorer.reference_profile();
    let mut profile = BatchProfile::with_output_names(scorer.schema(), scorer.output_names());
    let mut rows_done: u64 = 0;
    for chunk in input.chunks {
        let chunk = chunk?;
        let n = chunk.num_rows() as u64;
        let at_rows = |e: CliError| e.context(format!("{} rows {}..{}", args.input.display(), rows_done + 1, rows_done + n));
        let batch = Batch::from_record_batch(&chunk).map_err(|e| at_rows(e.into()))?;
        if reference.is_some() {
            let p = profile_batch_with(&scorer, &batch, &ProfileOptions { n_threads: args.threads }).map_err(|e| at_rows(e.into()))?;
            profile.merge(&p)?;
        }
        let scores = scorer.score(&batch, &opts).map_err(|e| at_rows(e.into()))?;
        report.merge(&scores.report);
        output.write(&scored_batch(&out_schema, &chunk, &args.keep, &scorer, &scores)?)?;
        rows_done += n;
        if let Some(bar) = &progress {
            match &input.progress {
                ProgressSource::Bytes { read, .. } => bar.set_position(read.load(Ordering::Relaxed)),
                ProgressSource::Rows { .. } => bar.set_position(rows_done),
            }
        }
    }
    output.finish()?;
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    let summary = Summary {
        model_fingerprint: scorer.fingerprint().to_string(),
        input: format!("{} ({})", args.input.display(), in_format.name()),
        output: format!("{} ({})", args.output.display(), out_format.name()),
        rows_read: rows_done,
        report,
        findings: reference.map(|r| null_rate_findings(r, &profile, &NullRateRule::default())).transpose()?,
        elapsed: started.elapsed(),
    };
    crate::print(&summary.render());
    Ok(())
}

fn check_output_names(keep: &[String], outputs: &[String]) -> CliResult<()> {
    for (i, k) in keep.iter().enumerate() {
        if keep[..i].contains(k) {
            return Err(CliError::new(KilnStatus::InvalidArgument, format!("--keep names column '{k}' twice")));
        }
        if outputs.contains(k) || k == "status" || k == "reason" {
            return Err(CliError::new(
                KilnStatus::InvalidArgument,
                format!("--keep column '{k}' would collide with an output column of the same name (outputs: {}, status, reason)", outputs.join(", ")),
            ));
        }
    }
    Ok(())
}

/// Kept columns (with their input types), one float64 per model output (null where the row was
/// refused), then `status` and `reason`.
fn output_schema(input: &ArrowSchema, keep: &[String], outputs: &[String]) -> SchemaRef {
    let mut fields: Vec<Field> = keep
        .iter()
        .map(|k| input.field_with_name(k).expect("kept columns were checked against the input").clone())
        .collect();
    fields.extend(outputs.iter().map(|o| Field::new(o, DataType::Float64, true)));
    fields.push(Field::new("status", DataType::Utf8, false));
    fields.push(Field::new("reason", DataType::Utf8, true));
    Arc::new(ArrowSchema::new(fields))
}

fn scored_batch(schema: &SchemaRef, chunk: &RecordBatch, keep: &[String], scorer: &Scorer, scores: &Scores) -> CliResult<RecordBatch> {
    let mut columns: Vec<ArrayRef> = keep.iter().map(|k| chunk.column_by_name(k).expect("kept columns were checked").clone()).collect();
    let scored = NullBuffer::from(scores.status.iter().map(|s| *s == 0).collect::<Vec<bool>>());
    for j in 0..scorer.n_outputs() {
        let values = Float64Array::new(scores.output(j).to_vec().into(), Some(scored.clone()));
        columns.push(Arc::new(values));
    }
    let status: StringArray = scores.status.iter().map(|&s| Some(RowStatus::from_code(s).map_or("unknown", RowStatus::name))).collect();
    let reason: StringArray = scores
        .status
        .iter()
        .zip(&scores.reason)
        .map(|(&s, &r)| (s != 0).then(|| scorer.reason_source(r).unwrap_or("model")))
        .collect();
    columns.push(Arc::new(status));
    columns.push(Arc::new(reason));
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| CliError::new(KilnStatus::Internal, format!("assembling output rows: {e}")))
}

fn progress_bar(mode: ProgressMode, source: &ProgressSource) -> Option<ProgressBar> {
    let (total, large, template) = match source {
        ProgressSource::Bytes { total, .. } => (*total, *total >= LARGE_INPUT_BYTES, "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}"),
        ProgressSource::Rows { total } => (*total, *total >= LARGE_INPUT_ROWS, "{bar:40} {human_pos}/{human_len} rows {per_sec} eta {eta}"),
    };
    let show = match mode {
        ProgressMode::Never => false,
        ProgressMode::Always => true,
        ProgressMode::Auto => large && std::io::stderr().is_terminal(),
    };
    if !show {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}
