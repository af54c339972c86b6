//! Throughput of the text step (`text_vectorize`, tf-idf over word 1- and 2-grams, l2 norm) on
//! one thread: generated documents of about 20 words, some capitalized, some accented, with
//! punctuation, scored through a linear model over every term. With 200 terms the figure is
//! mostly the per-document work (lowercase, tokenize, n-grams, vocabulary lookups, weights);
//! with 2,000 the dense outputs (one scratch slot per term, cleared per block) and the model's
//! pass over every term weigh in.
//!
//! Run: `cargo bench -- text`

use crate::common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use arrow_array::{ArrayRef, StringArray};
use common::{Outputs, Rng};
use criterion::{Criterion, Throughput, criterion_group};
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Schema};
use kiln::{Artifact, Batch, Scorer};

const ROWS: usize = 100_000;
const WORDS: usize = 3_000;

fn word(i: usize) -> String {
    // Distinct words: i + 1 in base 12, one syllable per digit (some accented).
    const SYL: [&str; 12] = ["ka", "lo", "mi", "re", "tu", "sa", "ne", "vo", "qui", "dé", "ro", "ba"];
    let mut w = String::new();
    let mut n = i + 1;
    while n > 0 {
        w.push_str(SYL[n % 12]);
        n /= 12;
    }
    w
}

fn documents(rng: &mut Rng) -> Vec<String> {
    let words: Vec<String> = (0..WORDS).map(word).collect();
    (0..ROWS)
        .map(|_| {
            let mut d = String::new();
            for k in 0..(10 + rng.below(20)) {
                // Zipf-ish: small indices far more often.
                let w = &words[(rng.unit() * rng.unit() * WORDS as f64) as usize];
                if k > 0 {
                    d.push_str(if rng.below(8) == 0 { ", " } else { " " });
                }
                if rng.below(10) == 0 { d.push_str(&w.to_uppercase()) } else { d.push_str(w) }
            }
            d.push('.');
            d
        })
        .collect()
}

fn spec(n_terms: usize) -> TextVectorizeSpec {
    let words: Vec<String> = (0..WORDS).map(word).collect();
    let mut vocabulary = BTreeMap::new();
    for (i, w) in words.iter().take(n_terms / 2).enumerate() {
        vocabulary.insert(w.clone(), i as u32);
    }
    let mut i = vocabulary.len();
    'bigrams: for a in &words[..40] {
        for b in &words[..40] {
            if i == n_terms {
                break 'bigrams;
            }
            vocabulary.insert(format!("{a} {b}"), i as u32);
            i += 1;
        }
    }
    let n = vocabulary.len();
    TextVectorizeSpec {
        column: "doc".into(),
        lowercase: true,
        token_pattern: DEFAULT_TOKEN_PATTERN.into(),
        ngram_range: [1, 2],
        stop_words: vec![],
        vocabulary,
        binary: false,
        sublinear_tf: false,
        idf: Some((0..n).map(|j| 1.0 + (j % 17) as f64 * 0.1).collect()),
        norm: TextNorm::L2,
        outputs: (0..n).map(|j| format!("t{j}")).collect(),
    }
}

fn text(c: &mut Criterion) {
    let docs = documents(&mut Rng::new(5));
    let array: ArrayRef = Arc::new(StringArray::from(docs.iter().map(String::as_str).collect::<Vec<_>>()));
    let batch = Batch::new(vec![("doc".into(), array)]).expect("batch");
    let mut group = c.benchmark_group("text");
    group.sample_size(10).measurement_time(Duration::from_secs(3)).throughput(Throughput::Elements(ROWS as u64));
    for n_terms in [200, 2000] {
        let spec = spec(n_terms);
        let features = spec.outputs.clone();
        let content = Content {
            schema: Schema::new(vec![Column::new("doc", ColumnType::Categorical)]),
            pipeline: vec![Step::TextVectorize(spec)],
            model: ModelSpec::Linear(LinearSpec {
                coefficients: vec![(0..features.len()).map(|j| 0.1 + j as f64 * 0.01).collect()],
                features,
                intercept: vec![0.0],
                link: Link::Identity,
            }),
            outputs: vec![OutputSpec::new("score")],
            provenance: Provenance::default(),
            profile: None,
        };
        let scorer = Scorer::new(Artifact::new(content).expect("valid")).expect("plan");
        let mut out = Outputs::new(&scorer, ROWS);
        group.bench_function(format!("score/terms={n_terms}/rows={ROWS}"), |b| b.iter(|| out.score(&scorer, &batch, 1)));
    }
    group.finish();
}

criterion_group!(benches, text);
