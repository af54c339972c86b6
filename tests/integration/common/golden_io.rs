//! Reading and writing the shared golden cases (`tests/golden/<case>/`), used by both the
//! generator (`examples/make_golden.rs`) and the test (`tests/integration/golden.rs`). The file format is
//! documented in `tests/golden/README.md`; keep the two in step.

#![allow(dead_code, reason = "each includer uses a different half of this module")]

use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, BooleanArray, Date32Array, Float64Array, Int32Array, StringArray};
use kiln::{Batch, RowStatus, Scorer, Scores};
use serde_json::{Value, json};

/// Version tag of the golden file format (both `input.json` and `expected.json`).
pub const GOLDEN_FORMAT: &str = "kiln-golden-1";

/// One input column as written in `input.json`.
#[derive(Clone, Debug)]
pub enum GoldenValues {
    Float64(Vec<Option<f64>>),
    Int32(Vec<Option<i32>>),
    Bool(Vec<Option<bool>>),
    Utf8(Vec<Option<String>>),
    /// Days since 1970-01-01.
    Date32(Vec<Option<i32>>),
}

impl GoldenValues {
    fn type_name(&self) -> &'static str {
        match self {
            GoldenValues::Float64(_) => "float64",
            GoldenValues::Int32(_) => "int32",
            GoldenValues::Bool(_) => "bool",
            GoldenValues::Utf8(_) => "utf8",
            GoldenValues::Date32(_) => "date32",
        }
    }
    fn len(&self) -> usize {
        match self {
            GoldenValues::Float64(v) => v.len(),
            GoldenValues::Int32(v) | GoldenValues::Date32(v) => v.len(),
            GoldenValues::Bool(v) => v.len(),
            GoldenValues::Utf8(v) => v.len(),
        }
    }
    fn to_json(&self) -> Value {
        match self {
            GoldenValues::Float64(v) => {
                for x in v.iter().flatten() {
                    assert!(x.is_finite(), "golden inputs hold finite numbers or null only (JSON has no NaN/Inf)");
                }
                json!(v)
            }
            GoldenValues::Int32(v) | GoldenValues::Date32(v) => json!(v),
            GoldenValues::Bool(v) => json!(v),
            GoldenValues::Utf8(v) => json!(v),
        }
    }
    fn to_array(&self) -> ArrayRef {
        match self {
            GoldenValues::Float64(v) => Arc::new(Float64Array::from(v.clone())),
            GoldenValues::Int32(v) => Arc::new(Int32Array::from(v.clone())),
            GoldenValues::Bool(v) => Arc::new(BooleanArray::from(v.clone())),
            GoldenValues::Utf8(v) => Arc::new(StringArray::from(v.clone())),
            GoldenValues::Date32(v) => Arc::new(Date32Array::from(v.clone())),
        }
    }
}

/// `input.json`: named, typed columns of equal length.
pub fn input_to_json(columns: &[(String, GoldenValues)]) -> Value {
    let n_rows = columns.first().map_or(0, |(_, v)| v.len());
    for (name, v) in columns {
        assert_eq!(v.len(), n_rows, "golden column '{name}' has a different length");
    }
    json!({
        "format": GOLDEN_FORMAT,
        "n_rows": n_rows,
        "columns": columns.iter().map(|(name, v)| json!({"name": name, "type": v.type_name(), "values": v.to_json()})).collect::<Vec<_>>(),
    })
}

/// Parse `input.json` back into typed columns (strictly: any deviation is an error).
pub fn input_from_json(doc: &Value) -> Result<Vec<(String, GoldenValues)>, String> {
    if doc["format"] != GOLDEN_FORMAT {
        return Err(format!("input format is {}, expected {GOLDEN_FORMAT}", doc["format"]));
    }
    let n_rows = doc["n_rows"].as_u64().ok_or("input has no n_rows")? as usize;
    let cols = doc["columns"].as_array().ok_or("input has no columns array")?;
    let mut out = Vec::new();
    for c in cols {
        let name = c["name"].as_str().ok_or("column without a name")?.to_string();
        let ty = c["type"].as_str().ok_or_else(|| format!("column '{name}' has no type"))?;
        let values = c["values"].as_array().ok_or_else(|| format!("column '{name}' has no values"))?;
        if values.len() != n_rows {
            return Err(format!("column '{name}' has {} values, n_rows is {n_rows}", values.len()));
        }
        let bad = |v: &Value| format!("column '{name}' ({ty}) has value {v}");
        let each = |f: &dyn Fn(&Value) -> Option<Value>| -> Result<Vec<Value>, String> {
            values.iter().map(|v| if v.is_null() { Ok(Value::Null) } else { f(v).ok_or_else(|| bad(v)) }).collect()
        };
        let parsed = match ty {
            "float64" => GoldenValues::Float64(each(&|v| v.as_f64().map(Value::from))?.iter().map(Value::as_f64).collect()),
            "int32" | "date32" => {
                let ints: Vec<Option<i32>> = each(&|v| v.as_i64().filter(|i| i32::try_from(*i).is_ok()).map(Value::from))?
                    .iter()
                    .map(|v| v.as_i64().map(|i| i as i32))
                    .collect();
                if ty == "int32" { GoldenValues::Int32(ints) } else { GoldenValues::Date32(ints) }
            }
            "bool" => GoldenValues::Bool(each(&|v| v.as_bool().map(Value::from))?.iter().map(Value::as_bool).collect()),
            "utf8" => GoldenValues::Utf8(
                each(&|v| v.as_str().map(Value::from))?.iter().map(|v| v.as_str().map(str::to_string)).collect(),
            ),
            other => return Err(format!("column '{name}' has unknown type '{other}'")),
        };
        out.push((name, parsed));
    }
    Ok(out)
}

pub fn batch_of(columns: &[(String, GoldenValues)]) -> Batch {
    Batch::new(columns.iter().map(|(n, v)| (n.clone(), v.to_array())).collect()).expect("golden input makes a valid batch")
}

/// A score as exactly 17 significant decimal digits (enough to round-trip any f64).
pub fn decimal17(x: f64) -> String {
    format!("{x:.16e}")
}

pub fn bits_hex(x: f64) -> String {
    format!("{:016x}", x.to_bits())
}

/// `expected.json` for a scored batch.
pub fn expected_to_json(scorer: &Scorer, scores: &Scores) -> Value {
    let n = scores.n_rows;
    let outputs: Vec<Value> = scorer
        .output_names()
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let col = scores.output(j);
            let ok = |i: usize| scores.status[i] == 0;
            json!({
                "name": name,
                "values": (0..n).map(|i| ok(i).then(|| decimal17(col[i]))).collect::<Vec<_>>(),
                "bits": (0..n).map(|i| ok(i).then(|| bits_hex(col[i]))).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({
        "format": GOLDEN_FORMAT,
        "fingerprint": scorer.fingerprint(),
        "n_rows": n,
        "outputs": outputs,
        "status": scores.status,
        "status_names": scores.status.iter().map(|&s| RowStatus::from_code(s).expect("known status").name()).collect::<Vec<_>>(),
        "reason_sources": (0..n).map(|i| (scores.status[i] != 0).then(|| scorer.reason_source(scores.reason[i]).unwrap_or("model"))).collect::<Vec<_>>(),
        "scored": scores.report.scored,
        "flagged": scores.report.flagged,
    })
}

pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()))
}

pub fn write_json(path: &Path, v: &Value) {
    let mut text = serde_json::to_string_pretty(v).expect("encoding JSON");
    text.push('\n');
    std::fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
}
