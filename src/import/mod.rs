//! Importers: models trained by other libraries, turned into kiln artifact types (never
//! execution types). Each importer reproduces its library's prediction arithmetic exactly.
//!
//! [`import`] is the one entry the C ABI and the command line share: a format name, the model
//! file's bytes and [`ImportOptions`] (which hosts pass as JSON).

pub mod lightgbm;
pub mod ubjson;
pub mod xgboost;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::Artifact;

/// The import format names, as the C ABI and the command line spell them.
pub const FORMATS: [&str; 3] = [xgboost::JSON_FORMAT_NAME, xgboost::UBJ_FORMAT_NAME, lightgbm::FORMAT_NAME];

/// Options common to the importers, as JSON: `{"feature_names": [...], "iteration_range": [a, b],
/// "best_iteration": true, "num_iteration": n}`. Unknown keys, and keys that do not apply to the
/// format, are errors rather than silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportOptions {
    /// Input column names, one per model feature, replacing the model's own.
    #[serde(default)]
    pub feature_names: Option<Vec<String>>,
    /// XGBoost: keep iterations `a..b` (end exclusive; `b` 0 means the last), like
    /// `Booster.predict(iteration_range=(a, b))`.
    #[serde(default)]
    pub iteration_range: Option<(usize, usize)>,
    /// XGBoost: keep iterations up to the model's `best_iteration` (early stopping).
    #[serde(default)]
    pub best_iteration: bool,
    /// LightGBM: keep the first `n` iterations, like `Booster.predict(num_iteration=n)`; 0 or
    /// absent means all.
    #[serde(default)]
    pub num_iteration: Option<usize>,
}

impl ImportOptions {
    /// Parse options JSON; an empty string means defaults.
    pub fn from_json(text: &str) -> Result<Self> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(text).map_err(|e| Error::invalid_argument(format!("import options: {e}")))
    }
}

/// Import a model file of `format` (one of [`FORMATS`]) into a validated artifact.
pub fn import(format: &str, bytes: &[u8], options: &ImportOptions) -> Result<Artifact> {
    let not_for = |key: &str, lib: &str, instead: &str| {
        Error::invalid_argument(format!("import option '{key}' does not apply to {lib} models ({instead})"))
    };
    match format {
        xgboost::JSON_FORMAT_NAME | xgboost::UBJ_FORMAT_NAME => {
            if options.num_iteration.is_some() {
                return Err(not_for("num_iteration", "XGBoost", "use iteration_range or best_iteration"));
            }
            let iterations = match (options.iteration_range, options.best_iteration) {
                (Some(_), true) => {
                    return Err(Error::invalid_argument("import options: give iteration_range or best_iteration, not both"));
                }
                (Some((begin, end)), false) => xgboost::Iterations::Range { begin, end },
                (None, true) => xgboost::Iterations::Best,
                (None, false) => xgboost::Iterations::All,
            };
            let opts = xgboost::XgbImportOptions { feature_names: options.feature_names.clone(), iterations };
            if format == xgboost::JSON_FORMAT_NAME { xgboost::from_json(bytes, &opts) } else { xgboost::from_ubjson(bytes, &opts) }
        }
        lightgbm::FORMAT_NAME => {
            if options.iteration_range.is_some() || options.best_iteration {
                let key = if options.best_iteration { "best_iteration" } else { "iteration_range" };
                return Err(not_for(key, "LightGBM", "use num_iteration"));
            }
            let text = std::str::from_utf8(bytes).map_err(|e| Error::malformed(format!("LightGBM model text is not UTF-8: {e}")))?;
            let opts = lightgbm::LgbmImportOptions { num_iteration: options.num_iteration, feature_names: options.feature_names.clone() };
            lightgbm::from_text(text, &opts)
        }
        other => Err(Error::invalid_argument(format!(
            "unknown import format '{other}' (known: {})",
            FORMATS.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(", ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_refuse_unknown_keys() {
        assert_eq!(ImportOptions::from_json("").unwrap(), ImportOptions::default());
        let o = ImportOptions::from_json(r#"{"iteration_range": [1, 3], "feature_names": ["a"]}"#).unwrap();
        assert_eq!(o.iteration_range, Some((1, 3)));
        assert_eq!(o.feature_names.as_deref(), Some(&["a".to_string()][..]));
        let e = ImportOptions::from_json(r#"{"num_iterations": 3}"#).unwrap_err();
        assert_eq!(e.status(), crate::KilnStatus::InvalidArgument);
        assert!(e.to_string().contains("num_iterations"), "{e}");
    }

    #[test]
    fn options_that_do_not_apply_to_the_format_are_errors() {
        let lgbm = ImportOptions { iteration_range: Some((0, 2)), ..Default::default() };
        let e = import(lightgbm::FORMAT_NAME, b"tree\n", &lgbm).unwrap_err();
        assert!(e.to_string().contains("'iteration_range' does not apply to LightGBM"), "{e}");
        let xgb = ImportOptions { num_iteration: Some(2), ..Default::default() };
        let e = import(xgboost::JSON_FORMAT_NAME, b"{}", &xgb).unwrap_err();
        assert!(e.to_string().contains("'num_iteration' does not apply to XGBoost"), "{e}");
        let both = ImportOptions { iteration_range: Some((0, 2)), best_iteration: true, ..Default::default() };
        assert!(import(xgboost::UBJ_FORMAT_NAME, b"", &both).unwrap_err().to_string().contains("not both"));
        let e = import("onnx", b"", &ImportOptions::default()).unwrap_err();
        assert!(e.to_string().contains("unknown import format 'onnx'") && e.to_string().contains("xgboost-ubj"), "{e}");
    }
}
