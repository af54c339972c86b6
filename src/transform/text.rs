//! Text: word n-gram counts and tf-idf weights of a string column against a fixed vocabulary,
//! reproducing scikit-learn 1.9.1's `CountVectorizer.transform` / `TfidfVectorizer.transform`
//! with `analyzer='word'` (sklearn/feature_extraction/text.py).
//!
//! Per document, in scikit-learn's order:
//! 1. `_preprocess`: `doc.lower()` when `lowercase` (Python's full Unicode lowercasing,
//!    Final_Sigma included, which `str::to_lowercase` also implements);
//! 2. `build_tokenizer`: `re.findall(token_pattern)`. For `\b\w\w+\b` (and `\b\w+\b`) that is
//!    every maximal run of Python `\w` characters at least 2 (1) characters long. Python's `\w`
//!    is `str.isalnum() or '_'`, not Unicode's UTS #18 `\w` (which adds combining marks and all
//!    connector punctuation and drops No numbers like '²'): the non-ASCII part comes from a table
//!    generated from Python (`text_word_table.rs`), so e.g. "café" written with a combining
//!    accent splits exactly as Python splits it;
//! 3. `_word_ngrams`: stop words are removed first, then n-grams for n in `min..=max` (capped at
//!    the token count) are the tokens joined by one space;
//! 4. `_count_vocab`: each n-gram in the vocabulary counts once per occurrence, others are
//!    ignored; the row is a CSR row with sorted column indices (`X.sort_indices()`);
//! 5. `binary`: counts become 1 (`X.data.fill(1)`);
//! 6. `TfidfTransformer.transform`: `sublinear_tf` gives `ln(tf) + 1.0`, then `tf * idf_[j]`,
//!    then `normalize`, which for CSR is `inplace_csr_row_normalize_l2` (sum of squares over the
//!    row's stored values in index order, then `sqrt`, then divide each value; rows summing to
//!    0 are left alone) or `..._l1` (sum of `|v|`, then divide).
//!
//! Every step is done with the same IEEE operations in the same order, so weights are
//! bit-identical to scikit-learn's except where `sublinear_tf` calls `ln` (numpy's SIMD log and
//! the platform's `ln` may differ in the last bit).
//!
//! Nulls: scikit-learn refuses a `None`/NaN document; kiln gives a null row all zeros (the
//! column's null policy decides first whether a null reaches this step at all).

use std::collections::{HashMap, HashSet};

use super::Block;
use super::text_word_table::WORD_RANGES;
/// Unicode version of the Python whose `\w` the tokenizer reproduces.
pub use super::text_word_table::UNICODE_VERSION as PYTHON_UNICODE_VERSION;
use crate::artifact::{TextNorm, TextVectorizeSpec};
use crate::batch::view::NULL_CODE;

/// A prepared text step: the vocabulary as a hash map built once, the weighting, and the
/// analyzed rows of the strings the plan already knows.
#[derive(Debug, Clone)]
pub struct TextVectorize {
    pub src: usize,
    /// Output slot per vocabulary index.
    pub outputs: Vec<usize>,
    analyzer: Analyzer,
    weighting: Weighting,
    /// The weighted row of each vocabulary code the plan knows (schema categories and other
    /// steps' literals), so such rows skip tokenizing.
    known: Vec<Vec<(u32, f64)>>,
}

#[derive(Debug, Clone)]
struct Analyzer {
    lowercase: bool,
    min_token_chars: usize,
    min_n: usize,
    max_n: usize,
    stop_words: HashSet<String>,
    vocabulary: HashMap<String, u32>,
}

#[derive(Debug, Clone)]
struct Weighting {
    binary: bool,
    sublinear_tf: bool,
    idf: Option<Vec<f64>>,
    norm: TextNorm,
}

/// A token's byte span in the (lowercased) document.
#[derive(Debug, Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
    /// The next kept token follows after exactly one space, so an n-gram starting here is a
    /// slice of the document and needs no joining.
    joined: bool,
}

/// Buffers reused across the rows of a block: no allocation per token or per n-gram.
#[derive(Default)]
struct Scratch {
    lower: String,
    tokens: Vec<Token>,
    gram: String,
    hits: Vec<u32>,
    row: Vec<(u32, f64)>,
}

impl TextVectorize {
    /// Prepare `spec` (already validated) reading categorical slot `src`, writing `outputs`;
    /// `known` is the slot's vocabulary, code order.
    pub fn new(spec: &TextVectorizeSpec, src: usize, outputs: Vec<usize>, known: &[String]) -> Self {
        let analyzer = Analyzer {
            lowercase: spec.lowercase,
            min_token_chars: spec.min_token_chars().expect("validated token pattern"),
            min_n: spec.ngram_range[0] as usize,
            max_n: spec.ngram_range[1] as usize,
            stop_words: spec.stop_words.iter().cloned().collect(),
            vocabulary: spec.vocabulary.iter().map(|(t, &i)| (t.clone(), i)).collect(),
        };
        let weighting = Weighting { binary: spec.binary, sublinear_tf: spec.sublinear_tf, idf: spec.idf.clone(), norm: spec.norm };
        let mut step = TextVectorize { src, outputs, analyzer, weighting, known: Vec::new() };
        let mut scratch = Scratch::default();
        step.known = known
            .iter()
            .map(|doc| {
                step.row_of(doc, &mut scratch);
                scratch.row.clone()
            })
            .collect();
        step
    }

    pub fn apply(&self, block: &mut Block<'_>) {
        let source = block.cat_source[self.src];
        let (codes, mut num, _) = block.cat_to_num(self.src);
        for &o in &self.outputs {
            num.slot_mut(o).fill(0.0);
        }
        let mut scratch = Scratch::default();
        for (i, &c) in codes.iter().enumerate() {
            if c == NULL_CODE {
                continue;
            }
            let row: &[(u32, f64)] = match self.known.get(c as usize) {
                Some(row) => row,
                None => {
                    let doc = source.expect("plan: a text slot with unknown codes has a source column").unknown(c);
                    self.row_of(doc, &mut scratch);
                    &scratch.row
                }
            };
            for &(term, v) in row {
                num.set(self.outputs[term as usize], i, v);
            }
        }
    }

    /// The weighted row of one document, as (vocabulary index, value) in index order, into
    /// `scratch.row`.
    fn row_of(&self, doc: &str, scratch: &mut Scratch) {
        self.analyzer.hits(doc, scratch);
        self.weighting.weigh(&mut scratch.hits, &mut scratch.row);
    }

    /// Terms in the vocabulary, for tests and inspection.
    pub fn n_terms(&self) -> usize {
        self.outputs.len()
    }
}

impl Analyzer {
    /// The vocabulary index of every n-gram of `doc` that is in the vocabulary, one entry per
    /// occurrence, into `scratch.hits` (unsorted).
    fn hits(&self, doc: &str, scratch: &mut Scratch) {
        let mut hits = std::mem::take(&mut scratch.hits);
        hits.clear();
        self.for_each_gram(doc, scratch, |term| {
            if let Some(&index) = self.vocabulary.get(term) {
                hits.push(index);
            }
        });
        scratch.hits = hits;
    }

    /// Call `f` with every n-gram of `doc`, in scikit-learn's order (all n-grams of the
    /// smallest n first, left to right).
    fn for_each_gram(&self, doc: &str, scratch: &mut Scratch, mut f: impl FnMut(&str)) {
        let Scratch { lower, tokens, gram, .. } = scratch;
        tokens.clear();
        let text: &str = if !self.lowercase {
            doc
        } else if doc.is_ascii() {
            lower.clear();
            lower.push_str(doc);
            lower.make_ascii_lowercase();
            lower.as_str()
        } else {
            // Full Unicode lowercasing needs the Final_Sigma context, which only
            // `str::to_lowercase` offers: one allocation per non-ASCII document.
            *lower = doc.to_lowercase();
            lower.as_str()
        };

        let mut run: Option<(usize, usize)> = None; // (start byte, characters so far)
        for (at, ch) in text.char_indices() {
            if is_python_word_char(ch) {
                match &mut run {
                    Some((_, n)) => *n += 1,
                    None => run = Some((at, 1)),
                }
            } else if let Some((start, n)) = run.take() {
                if n >= self.min_token_chars {
                    tokens.push(Token { start, end: at, joined: false });
                }
            }
        }
        if let Some((start, n)) = run {
            if n >= self.min_token_chars {
                tokens.push(Token { start, end: text.len(), joined: false });
            }
        }
        if !self.stop_words.is_empty() {
            tokens.retain(|t| !self.stop_words.contains(&text[t.start..t.end]));
        }
        let bytes = text.as_bytes();
        for k in 1..tokens.len() {
            let prev_end = tokens[k - 1].end;
            tokens[k - 1].joined = tokens[k].start == prev_end + 1 && bytes[prev_end] == b' ';
        }

        let n_tokens = tokens.len();
        for n in self.min_n..=self.max_n.min(n_tokens) {
            for first in 0..=n_tokens - n {
                let span = &tokens[first..first + n];
                if span[..n - 1].iter().all(|t| t.joined) {
                    f(&text[span[0].start..span[n - 1].end]);
                } else {
                    gram.clear();
                    for (k, t) in span.iter().enumerate() {
                        if k > 0 {
                            gram.push(' ');
                        }
                        gram.push_str(&text[t.start..t.end]);
                    }
                    f(gram);
                }
            }
        }
    }
}

impl Weighting {
    /// Counts of the (sorted here) `hits`, weighted and normalized, into `row`.
    fn weigh(&self, hits: &mut [u32], row: &mut Vec<(u32, f64)>) {
        row.clear();
        hits.sort_unstable();
        let mut at = 0;
        while at < hits.len() {
            let term = hits[at];
            let mut end = at + 1;
            while end < hits.len() && hits[end] == term {
                end += 1;
            }
            let mut v = if self.binary { 1.0 } else { (end - at) as f64 };
            if self.sublinear_tf {
                v = v.ln() + 1.0;
            }
            if let Some(idf) = &self.idf {
                v *= idf[term as usize];
            }
            row.push((term, v));
            at = end;
        }
        let sum = match self.norm {
            TextNorm::None => return,
            TextNorm::L2 => row.iter().fold(0.0, |s, &(_, v)| s + v * v).sqrt(),
            TextNorm::L1 => row.iter().fold(0.0, |s, &(_, v)| s + v.abs()),
        };
        // scikit-learn skips rows whose sum is 0 (checked before the sqrt; sqrt keeps 0 at 0).
        if sum != 0.0 {
            for (_, v) in row.iter_mut() {
                *v /= sum;
            }
        }
    }
}

/// Python `re`'s `\w` for str patterns: `str.isalnum()` or `'_'`.
#[inline]
pub fn is_python_word_char(ch: char) -> bool {
    if ch.is_ascii() {
        return ch.is_ascii_alphanumeric() || ch == '_';
    }
    let cp = ch as u32;
    // The last range starting at or before cp is the only one that can hold it.
    let after = WORD_RANGES.partition_point(|&(lo, _)| lo <= cp);
    after > 0 && cp <= WORD_RANGES[after - 1].1
}

impl TextVectorize {
    /// The n-grams scikit-learn's analyzer produces for `doc` (lowercased, tokenized, stop words
    /// removed), in its order, whether or not they are in the vocabulary: for tests and
    /// inspection, through the same code that scores.
    pub fn analyze(&self, doc: &str) -> Vec<String> {
        let mut out = Vec::new();
        self.analyzer.for_each_gram(doc, &mut Scratch::default(), |g| out.push(g.to_string()));
        out
    }

    /// The weighted row of `doc`: (vocabulary index, value) for each term present, in index
    /// order, exactly as scoring writes it.
    pub fn weights(&self, doc: &str) -> Vec<(u32, f64)> {
        let mut scratch = Scratch::default();
        self.row_of(doc, &mut scratch);
        scratch.row
    }
}
