//! The input schema an artifact was trained on: column names, logical types, nullability,
//! allowed categories and ranges, and the per-column policy applied at the edge.

use serde::{Deserialize, Serialize};

/// Logical type of an input column. Hosts may hand over several physical types for one logical
/// type (see [`ColumnType::accepts`] in `batch`), but never one that would need a lossy guess.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Float64,
    Float32,
    Int64,
    Int32,
    Bool,
    /// Strings (utf8, large utf8, or dictionary-encoded utf8).
    Categorical,
    /// A calendar date; read as days since 1970-01-01.
    Date,
    /// A point in time; read as (fractional) days since 1970-01-01 UTC.
    Timestamp,
}

impl ColumnType {
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Float64 => "float64",
            ColumnType::Float32 => "float32",
            ColumnType::Int64 => "int64",
            ColumnType::Int32 => "int32",
            ColumnType::Bool => "bool",
            ColumnType::Categorical => "categorical",
            ColumnType::Date => "date",
            ColumnType::Timestamp => "timestamp",
        }
    }
    pub fn is_numeric(self) -> bool {
        !matches!(self, ColumnType::Categorical)
    }
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What to do with a row that breaks one of a column's rules.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Refuse the whole batch with an error naming the column and the first offending row.
    Reject,
    /// Give the row no score: a status code and a reason instead.
    #[default]
    Flag,
    /// Replace the value with the column's fitted default and record that it did.
    Default,
    /// Let the value through: the pipeline/model handles it (e.g. a tree's missing direction).
    Allow,
}

/// Per-column policies, one per kind of rule.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ColumnPolicy {
    /// A null (or NaN) value. Defaults to `allow` for nullable columns and `flag` otherwise.
    pub null: Option<Policy>,
    /// A category not in `categories`.
    pub unknown_category: Policy,
    /// A value outside `[min, max]`.
    pub out_of_range: Policy,
    /// An infinite value in a numeric column.
    pub non_finite: Policy,
}

/// One input column.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    #[serde(default = "yes")]
    pub nullable: bool,
    /// Allowed categories (categorical columns). `None` means an open vocabulary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    /// Smallest allowed value (numeric columns), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest allowed value (numeric columns), inclusive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The fitted default used by the `default` policy (a number for numeric columns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultValue>,
    #[serde(default)]
    pub policy: ColumnPolicy,
}

fn yes() -> bool {
    true
}

/// A fitted default value for the `default` policy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum DefaultValue {
    Number(f64),
    Category(String),
}

impl Column {
    /// A nullable column with no rules beyond its type.
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Self {
        Column {
            name: name.into(),
            ty,
            nullable: true,
            categories: None,
            min: None,
            max: None,
            default: None,
            policy: ColumnPolicy::default(),
        }
    }
    pub fn with_categories<S: Into<String>>(mut self, cats: impl IntoIterator<Item = S>) -> Self {
        self.categories = Some(cats.into_iter().map(Into::into).collect());
        self
    }
    pub fn with_range(mut self, min: f64, max: f64) -> Self {
        self.min = Some(min);
        self.max = Some(max);
        self
    }
    pub fn not_null(mut self) -> Self {
        self.nullable = false;
        self
    }
    /// The effective null policy.
    pub fn null_policy(&self) -> Policy {
        self.policy.null.unwrap_or(if self.nullable { Policy::Allow } else { Policy::Flag })
    }
}

/// The input schema: columns are matched by name, never by position.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub columns: Vec<Column>,
}

impl Schema {
    pub fn new(columns: Vec<Column>) -> Self {
        Schema { columns }
    }
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}
