//! The text step as stored in an artifact: a bag of word n-grams over a string column, counted
//! against a fixed vocabulary and optionally weighted by tf-idf, as scikit-learn's
//! `CountVectorizer` / `TfidfVectorizer` with `analyzer='word'` do at `transform` time.
//! Execution lives in `transform/text.rs`; this file describes, (de)serializes and validates.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Token patterns kiln reproduces (Python `re` syntax, as scikit-learn's `token_pattern`), with
/// the shortest token each keeps. Both are "maximal runs of Python `\w` characters", which is
/// what `\b\w\w+\b` / `\b\w+\b` find; `(?u)` is a no-op for str patterns in Python 3.
pub const TOKEN_PATTERNS: [(&str, usize); 4] =
    [(r"(?u)\b\w\w+\b", 2), (r"\b\w\w+\b", 2), (r"(?u)\b\w+\b", 1), (r"\b\w+\b", 1)];

/// scikit-learn's default `token_pattern`.
pub const DEFAULT_TOKEN_PATTERN: &str = r"(?u)\b\w\w+\b";

/// Row normalization after weighting (scikit-learn's `norm`).
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TextNorm {
    /// Leave the weights as they are (`CountVectorizer`, or `norm=None`).
    #[default]
    None,
    /// Divide by the sum of absolute values.
    L1,
    /// Divide by the square root of the sum of squares.
    L2,
}

/// Word n-gram counts (or tf-idf weights) of a text column, one output per vocabulary term.
///
/// Per row: lowercase (Python `str.lower`), split into tokens by `token_pattern`, drop
/// `stop_words`, form the n-grams of `ngram_range` (tokens joined by one space), count those in
/// `vocabulary`; then `binary` (counts become 1), `sublinear_tf` (`1 + ln(tf)`), `idf`
/// (multiply), `norm`. A null row and a row without known terms give all zeros.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TextVectorizeSpec {
    pub column: String,
    #[serde(default = "yes")]
    pub lowercase: bool,
    /// One of [`TOKEN_PATTERNS`].
    #[serde(default = "default_token_pattern")]
    pub token_pattern: String,
    /// Smallest and largest n of the word n-grams, `1 <= min <= max`.
    #[serde(default = "unigrams")]
    pub ngram_range: [u32; 2],
    /// Tokens removed before n-grams are formed (compared after lowercasing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_words: Vec<String>,
    /// Term to output index; the indices are exactly `0..len`.
    pub vocabulary: BTreeMap<String, u32>,
    #[serde(default)]
    pub binary: bool,
    #[serde(default)]
    pub sublinear_tf: bool,
    /// Inverse document frequency per output index; absent means no idf weighting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idf: Option<Vec<f64>>,
    #[serde(default)]
    pub norm: TextNorm,
    /// Output column names, one per vocabulary index.
    pub outputs: Vec<String>,
}

fn yes() -> bool {
    true
}
fn default_token_pattern() -> String {
    DEFAULT_TOKEN_PATTERN.to_string()
}
fn unigrams() -> [u32; 2] {
    [1, 1]
}

/// Longest n-gram kiln accepts: far above any useful setting, and it bounds the per-row work a
/// crafted artifact can ask for.
pub const MAX_NGRAM: u32 = 32;

impl TextVectorizeSpec {
    /// The shortest token (in characters) the token pattern keeps, or `None` if kiln does not
    /// reproduce the pattern.
    pub fn min_token_chars(&self) -> Option<usize> {
        TOKEN_PATTERNS.iter().find(|(p, _)| *p == self.token_pattern).map(|&(_, n)| n)
    }

    /// Terms in output order (index 0 first). Call after [`TextVectorizeSpec::check`].
    pub fn terms_by_index(&self) -> Vec<&str> {
        let mut terms = vec![""; self.vocabulary.len()];
        for (term, &i) in &self.vocabulary {
            terms[i as usize] = term;
        }
        terms
    }

    /// Everything scoring relies on, with a message naming what is wrong.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.min_token_chars().is_none() {
            let known: Vec<&str> = TOKEN_PATTERNS.iter().map(|(p, _)| *p).collect();
            return Err(format!("token_pattern {:?} is not supported; kiln reproduces {}", self.token_pattern, known.join(", ")));
        }
        let [lo, hi] = self.ngram_range;
        if lo == 0 || lo > hi || hi > MAX_NGRAM {
            return Err(format!("ngram_range [{lo}, {hi}] must satisfy 1 <= min <= max <= {MAX_NGRAM}"));
        }
        let n = self.vocabulary.len();
        if n == 0 {
            return Err("the vocabulary is empty".into());
        }
        let mut owner: Vec<Option<&str>> = vec![None; n];
        for (term, &i) in &self.vocabulary {
            let Some(slot) = owner.get_mut(i as usize) else {
                return Err(format!("term '{term}' has index {i}, but {n} terms need indices 0..{n}"));
            };
            if let Some(other) = slot {
                return Err(format!("terms '{other}' and '{term}' share index {i}"));
            }
            *slot = Some(term);
        }
        // With n terms, indices all below n and none shared, every index in 0..n is taken.
        if self.outputs.len() != n {
            return Err(format!("{n} vocabulary terms need {n} outputs, {} given", self.outputs.len()));
        }
        if let Some(idf) = &self.idf {
            if idf.len() != n {
                return Err(format!("idf has {} weights for {n} vocabulary terms", idf.len()));
            }
            if let Some((i, w)) = idf.iter().enumerate().find(|(_, w)| !w.is_finite()) {
                return Err(format!("idf weight {i} is {w}; weights must be finite"));
            }
        }
        Ok(())
    }
}
