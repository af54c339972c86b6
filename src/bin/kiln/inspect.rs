//! `kiln inspect`: what an artifact holds, for a person (text) or a program (`--json`).

use std::fmt::Write;

use kiln::artifact::{ModelSpec, Step, TreeSpec};
use kiln::schema::{Column, ColumnType, DefaultValue, Policy};
use kiln::transform::date::civil_from_days;
use kiln::{Artifact, KilnStatus};
use serde_json::{Value, json};

use crate::InspectArgs;
use crate::error::{CliError, CliResult};

/// Categories shown per column in text mode; `--json` lists them all.
const SHOWN_CATEGORIES: usize = 5;

pub fn run(args: &InspectArgs) -> CliResult<()> {
    let bytes = std::fs::read(&args.model).map_err(|e| CliError::io(format!("cannot read artifact {}", args.model.display()), e))?;
    let artifact = Artifact::from_bytes(&bytes, args.expect_fingerprint.as_deref())
        .map_err(|e| CliError::from(e).context(format!("artifact {}", args.model.display())))?;
    // The loaded artifact does not keep the version it was read from; the envelope does, and
    // it parsed once already, so this cannot fail in practice.
    let format_version = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("format_version").and_then(Value::as_str).map(str::to_string))
        .ok_or_else(|| CliError::new(KilnStatus::MalformedArtifact, "artifact has no format_version"))?;
    let report = describe(&artifact, &format_version);
    if args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| CliError::new(KilnStatus::Internal, e.to_string()))?;
        crate::print(&format!("{text}\n"));
    } else {
        crate::print(&render_text(&artifact, &format_version));
    }
    Ok(())
}

fn policy_name(p: Policy) -> &'static str {
    match p {
        Policy::Reject => "reject",
        Policy::Flag => "flag",
        Policy::Default => "default",
        Policy::Allow => "allow",
    }
}

fn number(x: f64) -> String {
    // Shortest round-trip form, so what is printed is what is stored.
    let s = format!("{x}");
    if s.ends_with(".0") { s[..s.len() - 2].to_string() } else { s }
}

/// The rules of a column as short phrases: `range [18, 100]`, `null: flag`, ...
fn column_rules(c: &Column) -> Vec<String> {
    let mut rules = Vec::new();
    // Dates and timestamps are stored as days since 1970-01-01; show them as dates.
    let bound = |x: f64| match c.ty {
        ColumnType::Date | ColumnType::Timestamp if x.fract() == 0.0 => {
            let (y, m, d) = civil_from_days(x as i64);
            format!("{y:04}-{m:02}-{d:02}")
        }
        _ => number(x),
    };
    match (c.min, c.max) {
        (Some(lo), Some(hi)) => rules.push(format!("range [{}, {}]", bound(lo), bound(hi))),
        (Some(lo), None) => rules.push(format!("min {}", bound(lo))),
        (None, Some(hi)) => rules.push(format!("max {}", bound(hi))),
        (None, None) => {}
    }
    if let Some(d) = &c.default {
        rules.push(match d {
            DefaultValue::Number(x) => format!("default {}", number(*x)),
            DefaultValue::Category(s) => format!("default '{s}'"),
        });
    }
    rules.push(format!("null: {}", policy_name(c.null_policy())));
    if c.categories.is_some() {
        rules.push(format!("unknown: {}", policy_name(c.policy.unknown_category)));
    }
    if c.min.is_some() || c.max.is_some() {
        rules.push(format!("out of range: {}", policy_name(c.policy.out_of_range)));
    }
    if c.ty.is_numeric() && c.policy.non_finite != Policy::Flag {
        rules.push(format!("non-finite: {}", policy_name(c.policy.non_finite)));
    }
    rules
}

/// The name an enum value has in the artifact file (`most_frequent`, `logit`, ...).
fn lower<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        other => format!("{other:?}"),
    }
}

fn out_name(column: &str, output: &Option<String>) -> String {
    match output {
        Some(o) if o != column => format!("{column} -> {o}"),
        _ => column.to_string(),
    }
}

fn list(items: &[String], max: usize) -> String {
    let shown: Vec<&str> = items.iter().take(max).map(String::as_str).collect();
    let more = items.len().saturating_sub(max);
    if more > 0 { format!("{}, ... (+{more})", shown.join(", ")) } else { shown.join(", ") }
}

/// One line per step: what it reads, what it writes, its fitted values.
pub fn describe_step(step: &Step) -> String {
    match step {
        Step::Impute { column, value, strategy, output } => {
            format!("impute {}: null -> {} ({})", out_name(column, output), number(*value), lower(strategy))
        }
        Step::ImputeCategory { column, value, strategy, output } => {
            format!("impute_category {}: null -> '{value}' ({})", out_name(column, output), lower(strategy))
        }
        Step::StandardScale { column, mean, scale, output } => {
            format!("standard_scale {}: (x - {}) / {}", out_name(column, output), number(*mean), number(*scale))
        }
        Step::MinMaxScale { column, scale, offset, output } => {
            format!("min_max_scale {}: x * {} + {}", out_name(column, output), number(*scale), number(*offset))
        }
        Step::Clip { column, min, max, output } => format!(
            "clip {}: [{}, {}]",
            out_name(column, output),
            min.map_or("-inf".into(), number),
            max.map_or("inf".into(), number)
        ),
        Step::Log1p { column, output } => format!("log1p {}", out_name(column, output)),
        Step::Bucketize { column, edges, output } => {
            format!("bucketize {}: {} edges", out_name(column, output), edges.len())
        }
        Step::OneHot { column, categories, unknown, outputs } => {
            format!("one_hot {column} -> {} outputs ({} categories, unknown: {})", outputs.len(), categories.len(), lower(unknown))
        }
        Step::Ordinal { column, categories, unknown, output, .. } => {
            format!("ordinal {}: {} categories, unknown: {}", out_name(column, output), categories.len(), lower(unknown))
        }
        Step::Hash { column, n_features, alternate_sign, .. } => {
            format!("hash {column} -> {n_features} outputs{}", if *alternate_sign { " (alternate sign)" } else { "" })
        }
        Step::DateParts { column, parts, outputs } => {
            let parts: Vec<String> = parts.iter().map(lower).collect();
            format!("date_parts {column} -> {} ({})", outputs.join(", "), parts.join(", "))
        }
        Step::Elapsed { column, reference, unit, output } => {
            format!("elapsed {}: {} to {reference}", out_name(column, output), lower(unit))
        }
        Step::Arithmetic { op, left, right, output } => {
            let sym = match op {
                kiln::artifact::ArithOp::Ratio => "/",
                kiln::artifact::ArithOp::Difference => "-",
                kiln::artifact::ArithOp::Product => "*",
                kiln::artifact::ArithOp::Sum => "+",
            };
            format!("arithmetic {output} = {left} {sym} {right}")
        }
        Step::TextVectorize(t) => {
            let [lo, hi] = t.ngram_range;
            let weighting = match (&t.idf, t.norm) {
                (None, kiln::artifact::TextNorm::None) => "counts".to_string(),
                (idf, norm) => format!("{}norm {}", if idf.is_some() { "tf-idf, " } else { "" }, lower(&norm)),
            };
            format!("text_vectorize {} -> {} terms, {lo}..{hi}-grams, {weighting}", t.column, t.outputs.len())
        }
    }
}

/// The model's summary as JSON (text mode renders the same fields).
fn model_summary(m: &ModelSpec) -> Value {
    match m {
        ModelSpec::Linear(l) => json!({
            "kind": m.kind_name(),
            "n_features": l.features.len(),
            "features": l.features,
            "n_outputs": m.n_outputs(),
            "link": lower(&l.link),
        }),
        ModelSpec::TreeEnsemble(t) => json!({
            "kind": m.kind_name(),
            "n_features": t.features.len(),
            "features": t.features,
            "n_outputs": m.n_outputs(),
            "n_trees": t.trees.len(),
            "max_depth": t.trees.iter().map(TreeSpec::depth).max().unwrap_or(0),
            "aggregate": lower(&t.aggregate),
            "decision": lower(&t.decision),
            "transform": lower(&t.transform),
        }),
    }
}

pub fn describe(a: &Artifact, format_version: &str) -> Value {
    let c = &a.content;
    let schema: Vec<Value> = c
        .schema
        .columns
        .iter()
        .map(|col| {
            json!({
                "name": col.name,
                "type": col.ty.name(),
                "nullable": col.nullable,
                "categories": col.categories,
                "min": col.min,
                "max": col.max,
                "default": col.default,
                "policy": {
                    "null": policy_name(col.null_policy()),
                    "unknown_category": policy_name(col.policy.unknown_category),
                    "out_of_range": policy_name(col.policy.out_of_range),
                    "non_finite": policy_name(col.policy.non_finite),
                },
            })
        })
        .collect();
    json!({
        "format_version": format_version,
        "fingerprint": a.fingerprint,
        "created_at": a.created_at,
        "schema": schema,
        "pipeline": c.pipeline.iter().map(describe_step).collect::<Vec<_>>(),
        "model": model_summary(&c.model),
        "outputs": c.outputs,
        "provenance": c.provenance,
        "has_profile": c.profile.is_some(),
    })
}

pub fn render_text(a: &Artifact, format_version: &str) -> String {
    let c = &a.content;
    let mut s = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(s, "format      kiln {format_version}");
    let _ = writeln!(s, "fingerprint {}", a.fingerprint);
    let _ = writeln!(s, "created_at  {}", a.created_at.as_deref().unwrap_or("(not recorded)"));

    let _ = writeln!(s, "\nschema ({} columns)", c.schema.columns.len());
    let width = c.schema.columns.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for col in &c.schema.columns {
        let nullable = if col.nullable { "nullable" } else { "not null" };
        let mut line = format!("  {:<width$}  {:<11} {:<8}", col.name, col.ty.name(), nullable);
        if let Some(cats) = &col.categories {
            let _ = write!(line, "  {} categories: {}", cats.len(), list(cats, SHOWN_CATEGORIES));
        }
        let _ = writeln!(s, "{line}  [{}]", column_rules(col).join("; "));
    }

    let _ = writeln!(s, "\npipeline ({} steps)", c.pipeline.len());
    for (i, step) in c.pipeline.iter().enumerate() {
        let _ = writeln!(s, "  {i:>2}  {}", describe_step(step));
    }

    let m = model_summary(&c.model);
    let _ = writeln!(s, "\nmodel");
    let _ = writeln!(s, "  kind        {}", m["kind"].as_str().unwrap_or(""));
    let features: Vec<String> = c.model.features().to_vec();
    let _ = writeln!(s, "  features    {}: {}", features.len(), list(&features, 8));
    let _ = writeln!(s, "  n_outputs   {}", c.model.n_outputs());
    for key in ["link", "n_trees", "max_depth", "aggregate", "decision", "transform"] {
        if let Some(v) = m.get(key) {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            let _ = writeln!(s, "  {key:<11} {v}");
        }
    }

    let _ = writeln!(s, "\noutputs");
    for o in &c.outputs {
        if o.description.is_empty() {
            let _ = writeln!(s, "  {}", o.name);
        } else {
            let _ = writeln!(s, "  {}: {}", o.name, o.description);
        }
    }

    let p = &c.provenance;
    let _ = writeln!(s, "\nprovenance");
    let lib = if p.library_version.is_empty() { p.library.clone() } else { format!("{} {}", p.library, p.library_version) };
    let _ = writeln!(s, "  library     {lib}");
    let _ = writeln!(s, "  kiln        {}", p.kiln_version);
    if let Some(seed) = p.seed {
        let _ = writeln!(s, "  seed        {seed}");
    }
    if let Some(fp) = &p.data_fingerprint {
        let _ = writeln!(s, "  data        {fp}");
    }
    for (k, v) in &p.params {
        let _ = writeln!(s, "  param       {k} = {v}");
    }
    let _ = writeln!(s, "  profile     {}", if c.profile.is_some() { "yes" } else { "none" });
    s
}
