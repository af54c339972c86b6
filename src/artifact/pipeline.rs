//! Fitted pipeline steps as they are stored in an artifact.
//!
//! Each step reads named columns and writes named columns; the model reads its features by name
//! from the columns that exist after the last step. `output: None` replaces the input column.
//! Execution lives in `transform/`; this file only describes and (de)serializes.

use serde::{Deserialize, Serialize};

pub use super::text::{DEFAULT_TOKEN_PATTERN, TextNorm, TextVectorizeSpec};

/// How a fitted value was obtained (recorded for provenance; scoring only uses the value).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ImputeStrategy {
    #[default]
    Constant,
    Mean,
    Median,
    MostFrequent,
}

/// What an encoder does with a category it was not fitted on (and with a null).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum UnknownCategory {
    /// The row gets no score: status `unknown_category`.
    #[default]
    Error,
    /// One-hot: all zeros. Ordinal: `unknown_value`.
    Ignore,
    /// One-hot: an extra last output set to 1. Ordinal: the index `categories.len()`.
    Slot,
}

/// A calendar part of a date or timestamp column.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DatePart {
    Year,
    /// 1..=12
    Month,
    /// 1..=31
    Day,
    /// ISO: Monday = 1 .. Sunday = 7
    DayOfWeek,
    /// 1..=366
    DayOfYear,
    /// 1..=4
    Quarter,
}

/// Unit of an elapsed-time feature.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ElapsedUnit {
    /// Fractional days.
    Days,
    /// Whole calendar months completed.
    Months,
    /// Whole calendar years completed.
    Years,
}

/// Arithmetic between two numeric columns.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ArithOp {
    /// left / right (a zero denominator gives a null, never an infinity).
    Ratio,
    /// left - right
    Difference,
    /// left * right
    Product,
    /// left + right
    Sum,
}

/// One fitted step.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// Nulls of a numeric column become `value`.
    Impute {
        column: String,
        value: f64,
        #[serde(default)]
        strategy: ImputeStrategy,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// Nulls of a categorical column become the category `value`.
    ImputeCategory {
        column: String,
        value: String,
        #[serde(default)]
        strategy: ImputeStrategy,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// `(x - mean) / scale`
    StandardScale {
        column: String,
        mean: f64,
        scale: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// `x * scale + offset` (scale = (hi - lo) / (data_max - data_min), offset = lo - data_min * scale).
    MinMaxScale {
        column: String,
        scale: f64,
        offset: f64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// Values below `min` become `min`, above `max` become `max`; nulls stay null.
    Clip {
        column: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// `ln(1 + x)`; a value below -1 gives the row status `domain_error`.
    Log1p {
        column: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// The bucket index: the number of `edges` that are `<= x` (edges sorted ascending).
    Bucketize {
        column: String,
        edges: Vec<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// One output per category (1.0 where the row has it, else 0.0), plus one for unknowns
    /// when `unknown` is `slot`. Nulls are treated as unknown.
    OneHot {
        column: String,
        categories: Vec<String>,
        #[serde(default)]
        unknown: UnknownCategory,
        outputs: Vec<String>,
    },
    /// The position of the category in `categories`; nulls give a null.
    Ordinal {
        column: String,
        categories: Vec<String>,
        #[serde(default)]
        unknown: UnknownCategory,
        /// Output for an unknown category under the `ignore` policy (default: null).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unknown_value: Option<f64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// Feature hashing: MurmurHash3 (x86, 32-bit, seed 0) of the UTF-8 category, bucket
    /// `|h| mod n_features`, value +1 (or the sign of h when `alternate_sign`). Nulls give zeros.
    Hash {
        column: String,
        n_features: u32,
        #[serde(default)]
        alternate_sign: bool,
        outputs: Vec<String>,
    },
    /// Calendar parts of a date/timestamp column, one output per part.
    DateParts { column: String, parts: Vec<DatePart>, outputs: Vec<String> },
    /// Time from the column's date to a fixed `reference` date (ISO `YYYY-MM-DD`), in `unit`.
    /// Positive when the column's date is before the reference.
    Elapsed {
        column: String,
        reference: String,
        unit: ElapsedUnit,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        output: Option<String>,
    },
    /// `left OP right` into a new column.
    Arithmetic { op: ArithOp, left: String, right: String, output: String },
    /// Word n-gram counts or tf-idf weights of a text column (see [`TextVectorizeSpec`]).
    TextVectorize(TextVectorizeSpec),
}

impl Step {
    /// The step's name as written in the artifact (`"standard_scale"`, ...).
    pub fn op_name(&self) -> &'static str {
        match self {
            Step::Impute { .. } => "impute",
            Step::ImputeCategory { .. } => "impute_category",
            Step::StandardScale { .. } => "standard_scale",
            Step::MinMaxScale { .. } => "min_max_scale",
            Step::Clip { .. } => "clip",
            Step::Log1p { .. } => "log1p",
            Step::Bucketize { .. } => "bucketize",
            Step::OneHot { .. } => "one_hot",
            Step::Ordinal { .. } => "ordinal",
            Step::Hash { .. } => "hash",
            Step::DateParts { .. } => "date_parts",
            Step::Elapsed { .. } => "elapsed",
            Step::Arithmetic { .. } => "arithmetic",
            Step::TextVectorize(_) => "text_vectorize",
        }
    }

    /// Columns the step reads.
    pub fn inputs(&self) -> Vec<&str> {
        match self {
            Step::Arithmetic { left, right, .. } => vec![left.as_str(), right.as_str()],
            Step::Impute { column, .. }
            | Step::ImputeCategory { column, .. }
            | Step::StandardScale { column, .. }
            | Step::MinMaxScale { column, .. }
            | Step::Clip { column, .. }
            | Step::Log1p { column, .. }
            | Step::Bucketize { column, .. }
            | Step::OneHot { column, .. }
            | Step::Ordinal { column, .. }
            | Step::Hash { column, .. }
            | Step::DateParts { column, .. }
            | Step::Elapsed { column, .. } => vec![column.as_str()],
            Step::TextVectorize(t) => vec![t.column.as_str()],
        }
    }

    /// Columns the step writes (an in-place step writes its input's name).
    pub fn outputs(&self) -> Vec<&str> {
        match self {
            Step::Impute { column, output, .. }
            | Step::ImputeCategory { column, output, .. }
            | Step::StandardScale { column, output, .. }
            | Step::MinMaxScale { column, output, .. }
            | Step::Clip { column, output, .. }
            | Step::Log1p { column, output }
            | Step::Bucketize { column, output, .. }
            | Step::Ordinal { column, output, .. }
            | Step::Elapsed { column, output, .. } => vec![output.as_deref().unwrap_or(column)],
            Step::OneHot { outputs, .. } | Step::Hash { outputs, .. } | Step::DateParts { outputs, .. } => {
                outputs.iter().map(String::as_str).collect()
            }
            Step::Arithmetic { output, .. } => vec![output.as_str()],
            Step::TextVectorize(t) => t.outputs.iter().map(String::as_str).collect(),
        }
    }
}
