//! The text step (`text_vectorize`): tokenization as scikit-learn's default word analyzer,
//! n-grams, stop words, count and tf-idf weighting, nulls, validation.
//!
//! Expected tokens and weights marked "sklearn" were printed by scikit-learn 1.9.1 on Python
//! 3.11 (`TfidfVectorizer(...).fit(DOCS).transform(...)`, `re.findall(r"(?u)\b\w\w+\b", s.lower())`).

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Float64Array, StringArray};
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Policy, Schema};
use kiln::transform::text::{PYTHON_UNICODE_VERSION, TextVectorize, is_python_word_char};
use kiln::{Artifact, Batch, ScoreOptions, Scorer};

fn spec(terms: &[&str]) -> TextVectorizeSpec {
    TextVectorizeSpec {
        column: "doc".into(),
        lowercase: true,
        token_pattern: DEFAULT_TOKEN_PATTERN.into(),
        ngram_range: [1, 1],
        stop_words: vec![],
        vocabulary: terms.iter().enumerate().map(|(i, t)| (t.to_string(), i as u32)).collect(),
        binary: false,
        sublinear_tf: false,
        idf: None,
        norm: TextNorm::None,
        outputs: (0..terms.len()).map(|i| format!("t{i}")).collect(),
    }
}

fn prepared(s: &TextVectorizeSpec) -> TextVectorize {
    TextVectorize::new(s, 0, (0..s.outputs.len()).collect(), &[])
}

fn tokens(doc: &str) -> Vec<String> {
    prepared(&spec(&["x"])).analyze(doc)
}

fn content(schema_col: Column, s: TextVectorizeSpec) -> Content {
    let n = s.outputs.len();
    // One identity output per term: output j is exactly term j's weight (0 * w adds +-0).
    let coefficients = (0..n).map(|j| (0..n).map(|k| if j == k { 1.0 } else { 0.0 }).collect()).collect();
    Content {
        schema: Schema::new(vec![schema_col]),
        model: ModelSpec::Linear(LinearSpec { features: s.outputs.clone(), coefficients, intercept: vec![0.0; n], link: Link::Identity }),
        outputs: (0..n).map(|j| OutputSpec::new(format!("w{j}"))).collect(),
        pipeline: vec![Step::TextVectorize(s)],
        provenance: Provenance::default(),
        profile: None,
    }
}

fn scorer(s: TextVectorizeSpec) -> Scorer {
    Scorer::new(Artifact::new(content(Column::new("doc", ColumnType::Categorical), s)).unwrap()).unwrap()
}

/// Per row, the dense weights kiln scores for `docs`.
fn weights(scorer: &Scorer, docs: ArrayRef) -> Vec<Vec<f64>> {
    let batch = Batch::new(vec![("doc".into(), docs)]).unwrap();
    let out = scorer.score(&batch, &ScoreOptions::default()).unwrap();
    assert!(out.status.iter().all(|&s| s == 0), "statuses {:?}", out.status);
    (0..out.n_rows).map(|i| (0..scorer.n_outputs()).map(|j| out.output(j)[i]).collect()).collect()
}

fn strings(docs: &[Option<&str>]) -> ArrayRef {
    Arc::new(StringArray::from(docs.to_vec()))
}

#[test]
fn tokens_are_maximal_runs_of_python_word_characters_of_two_or_more() {
    // sklearn: punctuation splits, "'s" leaves a single character that is dropped, digits and
    // underscores are word characters.
    assert_eq!(tokens("Hello, World! It's a test_case 42 x1 a b"), ["hello", "world", "it", "test_case", "42", "x1"]);
    assert_eq!(tokens("2024-01-05"), ["2024", "01", "05"]);
    assert_eq!(tokens("__init__ _a"), ["__init__", "_a"]);
    assert_eq!(tokens(""), Vec::<String>::new());
    assert_eq!(tokens("a b c ! ?"), Vec::<String>::new());
    assert_eq!(tokens("😀😀 ok"), ["ok"]);
}

#[test]
fn unicode_tokens_follow_python_not_uts18() {
    // Precomposed accents are letters.
    assert_eq!(tokens("Café crème brûlée"), ["café", "crème", "brûlée"]);
    // A combining accent (U+0301, Mn) is not Python \w: "cafe" + mark splits (sklearn too).
    assert_eq!(tokens("Cafe\u{301} noir"), ["cafe", "noir"]);
    // CJK ideographs and kana are letters; single ideographs are dropped.
    assert_eq!(tokens("東京は晴れ 中 文"), ["東京は晴れ"]);
    // Final sigma: Python's str.lower and Rust's to_lowercase agree.
    assert_eq!(tokens("ÉCOLE ΟΔΟΣ ΣΑΣ"), ["école", "οδος", "σας"]);
    assert_eq!(tokens("ΣΑΣ."), ["σας"]);
    // 'İ' lowercases to 'i' + U+0307 (a mark): the lone 'i' is too short.
    assert_eq!(tokens("İstanbul"), ["stanbul"]);
    // No numbers ('²', '½') and Nl numbers ('Ⅻ') are Python \w (isnumeric).
    assert_eq!(tokens("x² ½½ ½"), ["x²", "½½"]);
    assert_eq!(tokens("ⅫⅫ"), ["ⅻⅻ"]);
    // Connector punctuation other than '_' (U+203F) is not Python \w.
    assert_eq!(tokens("a\u{203f}b ab\u{203f}cd"), ["ab", "cd"]);
    // Devanagari vowel signs are marks (Mc/Mn): every run is one letter long.
    assert_eq!(tokens("हिन्दी भाषा"), Vec::<String>::new());
    assert!(is_python_word_char('_') && is_python_word_char('9') && is_python_word_char('ß'));
    assert!(!is_python_word_char('\u{301}') && !is_python_word_char('-') && !is_python_word_char('\u{203f}'));
    assert_eq!(PYTHON_UNICODE_VERSION, "14.0.0");
}

#[test]
fn lowercase_false_keeps_case_and_single_character_pattern_keeps_short_tokens() {
    let mut s = spec(&["x"]);
    s.lowercase = false;
    assert_eq!(prepared(&s).analyze("Hello WORLD"), ["Hello", "WORLD"]);
    let mut s = spec(&["x"]);
    s.token_pattern = r"(?u)\b\w+\b".into();
    assert_eq!(prepared(&s).analyze("a b cd"), ["a", "b", "cd"]);
}

#[test]
fn ngrams_join_tokens_with_one_space_smallest_n_first() {
    let mut s = spec(&["x"]);
    s.ngram_range = [1, 2];
    let p = prepared(&s);
    assert_eq!(p.analyze("The quick brown fox"), ["the", "quick", "brown", "fox", "the quick", "quick brown", "brown fox"]);
    // Whatever separates tokens, the n-gram has one space.
    assert_eq!(p.analyze("quick,  brown"), ["quick", "brown", "quick brown"]);
    s.ngram_range = [2, 3];
    let p = prepared(&s);
    assert_eq!(p.analyze("a1 b2 c3 d4"), ["a1 b2", "b2 c3", "c3 d4", "a1 b2 c3", "b2 c3 d4"]);
    // n beyond the token count gives nothing for that n.
    assert_eq!(p.analyze("one"), Vec::<String>::new());
    s.ngram_range = [1, 3];
    assert_eq!(prepared(&s).analyze("one two"), ["one", "two", "one two"]);
}

#[test]
fn stop_words_go_before_ngrams_and_compare_with_lowercased_tokens() {
    let mut s = spec(&["x"]);
    s.ngram_range = [1, 2];
    s.stop_words = vec!["the".into(), "and".into(), "Hat".into()];
    // "The" is lowercased before the comparison; the stop list itself is not lowercased, so
    // "Hat" never matches (as in scikit-learn).
    assert_eq!(prepared(&s).analyze("The cat and the HAT"), ["cat", "hat", "cat hat"]);
}

#[test]
fn counts_binary_and_unknown_terms() {
    let s = spec(&["cat", "sat", "the", "cat sat"]);
    let sc = scorer(s.clone());
    let w = weights(&sc, strings(&[Some("the cat sat on the cat"), Some("zebra unicorn"), Some("Cat CAT cat")]));
    assert_eq!(w[0], [2.0, 1.0, 2.0, 0.0]);
    assert_eq!(w[1], [0.0; 4]);
    assert_eq!(w[2], [3.0, 0.0, 0.0, 0.0]);
    let mut s = s;
    s.binary = true;
    s.ngram_range = [1, 2];
    let w = weights(&scorer(s), strings(&[Some("the cat sat on the cat sat")]));
    assert_eq!(w[0], [1.0, 1.0, 1.0, 1.0]);
}

const IDF: [f64; 9] = [
    1.916290731874155,
    1.5108256237659907,
    1.916290731874155,
    1.916290731874155,
    1.916290731874155,
    1.916290731874155,
    1.916290731874155,
    1.5108256237659907,
    1.2231435513142097,
];
const TERMS: [&str; 9] = ["and", "cat", "cats", "dog", "dogs", "mat", "on", "sat", "the"];

fn tfidf(norm: TextNorm, sublinear_tf: bool, idf: Option<&[f64]>) -> Vec<Vec<f64>> {
    let mut s = spec(&TERMS);
    s.norm = norm;
    s.sublinear_tf = sublinear_tf;
    s.idf = idf.map(<[f64]>::to_vec);
    weights(&scorer(s), strings(&[Some("the cat sat on the cat mat"), Some("dog dog zebra")]))
}

fn sparse(row: &[f64]) -> Vec<(usize, f64)> {
    row.iter().enumerate().filter(|(_, v)| **v != 0.0).map(|(j, v)| (j, *v)).collect()
}

#[test]
fn tfidf_l2_is_bit_identical_to_sklearn() {
    let w = tfidf(TextNorm::L2, false, Some(&IDF));
    // sklearn: TfidfVectorizer().fit(DOCS)
    assert_eq!(
        sparse(&w[0]),
        [(1, 0.60747746587273), (5, 0.3852540688225105), (6, 0.3852540688225105), (7, 0.303738732936365), (8, 0.4918053634136765)]
    );
    assert_eq!(sparse(&w[1]), [(3, 1.0)]);
}

#[test]
fn tfidf_l1_is_bit_identical_to_sklearn() {
    let w = tfidf(TextNorm::L1, false, Some(&IDF));
    assert_eq!(
        sparse(&w[0]),
        [(1, 0.2794889188354226), (5, 0.17724812724939715), (6, 0.17724812724939715), (7, 0.1397444594177113), (8, 0.2262703672480717)]
    );
    assert_eq!(sparse(&w[1]), [(3, 1.0)]);
}

#[test]
fn tfidf_sublinear_matches_sklearn() {
    let w = tfidf(TextNorm::L2, true, Some(&IDF));
    let want = [(1, 0.5655385257551616), (5, 0.4236571505281743), (6, 0.4236571505281743), (7, 0.3340161636557377), (8, 0.4578521769262187)];
    // ln may differ from numpy's SIMD log in the last bit: relative 1e-15 here.
    for ((j, got), (k, expect)) in sparse(&w[0]).into_iter().zip(want) {
        assert_eq!(j, k);
        assert!(((got - expect) / expect).abs() <= 1e-15, "term {j}: {got} vs {expect}");
    }
    assert_eq!(sparse(&w[1]), [(3, 1.0)]);
}

#[test]
fn tf_without_idf_and_idf_without_norm_match_sklearn() {
    // use_idf=False
    let w = tfidf(TextNorm::L2, false, None);
    assert_eq!(
        sparse(&w[0]),
        [(1, 0.6030226891555273), (5, 0.30151134457776363), (6, 0.30151134457776363), (7, 0.30151134457776363), (8, 0.6030226891555273)]
    );
    // norm=None, smooth_idf=False
    let idf = [
        2.386294361119891,
        1.6931471805599454,
        2.386294361119891,
        2.386294361119891,
        2.386294361119891,
        2.386294361119891,
        2.386294361119891,
        1.6931471805599454,
        1.2876820724517808,
    ];
    let w = tfidf(TextNorm::None, false, Some(&idf));
    assert_eq!(
        sparse(&w[0]),
        [(1, 3.386294361119891), (5, 2.386294361119891), (6, 2.386294361119891), (7, 1.6931471805599454), (8, 2.5753641449035616)]
    );
    assert_eq!(sparse(&w[1]), [(3, 4.772588722239782)]);
}

#[test]
fn nulls_empty_strings_and_rows_without_terms_are_all_zeros() {
    let mut s = spec(&TERMS);
    s.idf = Some(IDF.to_vec());
    s.norm = TextNorm::L2;
    let w = weights(&scorer(s), strings(&[Some("cat"), None, Some(""), Some("!!! ? -"), Some("zebra"), Some("cat")]));
    assert_eq!(sparse(&w[0]), [(1, 1.0)]);
    for row in &w[1..5] {
        assert_eq!(row, &[0.0; 9]);
    }
    assert_eq!(w[5], w[0]);
}

#[test]
fn a_non_nullable_text_column_flags_nulls() {
    let col = Column::new("doc", ColumnType::Categorical).not_null();
    let sc = Scorer::new(Artifact::new(content(col, spec(&["cat"]))).unwrap()).unwrap();
    let batch = Batch::new(vec![("doc".into(), strings(&[Some("cat"), None]))]).unwrap();
    let out = sc.score(&batch, &ScoreOptions::default()).unwrap();
    assert_eq!(out.status, [0, 1]);
    assert_eq!(out.output(0)[0], 1.0);
}

#[test]
fn many_blocks_and_threads_give_the_same_rows() {
    // Rows alternate between documents with and without terms, across several 128-row
    // blocks, so a block that forgot to clear the previous block's weights would show.
    let docs: Vec<Option<String>> = (0..1000)
        .map(|i| match i % 4 {
            0 => Some(format!("the cat sat {}", "on the mat ".repeat(i % 7))),
            1 => None,
            2 => Some(String::new()),
            _ => Some("dog and dogs".into()),
        })
        .collect();
    let mut s = spec(&TERMS);
    s.idf = Some(IDF.to_vec());
    s.norm = TextNorm::L2;
    s.ngram_range = [1, 1];
    let sc = scorer(s.clone());
    let array: ArrayRef = Arc::new(StringArray::from(docs.clone()));
    let batch = Batch::new(vec![("doc".into(), array)]).unwrap();
    let one = sc.score(&batch, &ScoreOptions { n_threads: 1 }).unwrap();
    let many = sc.score(&batch, &ScoreOptions { n_threads: 4 }).unwrap();
    assert_eq!(one.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), many.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
    let p = prepared(&s);
    for (i, doc) in docs.iter().enumerate() {
        let mut want = vec![0.0; 9];
        for (j, v) in p.weights(doc.as_deref().unwrap_or("")) {
            want[j as usize] = v;
        }
        let got: Vec<f64> = (0..9).map(|j| one.output(j)[i]).collect();
        assert_eq!(got, want, "row {i}");
    }
}

#[test]
fn known_categories_and_dictionary_arrays_score_like_plain_strings() {
    let mut s = spec(&TERMS);
    s.idf = Some(IDF.to_vec());
    s.norm = TextNorm::L2;
    s.ngram_range = [1, 2];
    s.vocabulary.insert("the cat".into(), 9);
    s.outputs.push("t9".into());
    s.idf.as_mut().unwrap().push(1.75);
    // The schema lists two documents: their rows are analyzed once at plan time.
    let mut col = Column::new("doc", ColumnType::Categorical).with_categories(["the cat sat", "Dogs and CATS"]);
    col.policy.unknown_category = Policy::Allow;
    let with_known = Scorer::new(Artifact::new(content(col, s.clone())).unwrap()).unwrap();
    let plain = scorer(s);
    let docs = [Some("the cat sat"), Some("Dogs and CATS"), Some("the cat the cat mat"), None, Some("")];
    let want = weights(&plain, strings(&docs));
    assert_eq!(weights(&with_known, strings(&docs)), want);
    let dict: DictionaryArray<Int32Type> = docs.iter().copied().collect();
    assert_eq!(weights(&with_known, Arc::new(dict.clone())), want);
    assert_eq!(weights(&plain, Arc::new(dict)), want);
    assert!(want[0][9] > 0.0 && want[2][9] > 0.0, "the bigram 'the cat' is counted");
}

#[test]
fn one_row_and_zero_row_batches() {
    let sc = scorer(spec(&["cat"]));
    assert_eq!(weights(&sc, strings(&[Some("cat cat")])), [[2.0]]);
    assert!(weights(&sc, strings(&[])).is_empty());
}

#[test]
fn the_step_round_trips_through_json_with_sklearn_names() {
    let mut s = spec(&["cat", "the cat"]);
    s.ngram_range = [1, 2];
    s.idf = Some(vec![1.5, 2.25]);
    s.norm = TextNorm::L2;
    s.stop_words = vec!["a".into()];
    let a = Artifact::new(content(Column::new("doc", ColumnType::Categorical), s.clone())).unwrap();
    let bytes = a.to_bytes().unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.contains(r#""step":"text_vectorize""#), "{text}");
    assert!(text.contains(r#""vocabulary":{"cat":0,"the cat":1}"#), "{text}");
    assert!(text.contains(r#""norm":"l2""#) && text.contains(r#""ngram_range":[1,2]"#), "{text}");
    let back = Artifact::from_bytes(&bytes, Some(&a.fingerprint)).unwrap();
    assert_eq!(back.content.pipeline, vec![Step::TextVectorize(s)]);
    // Omitted settings take scikit-learn's defaults.
    let minimal = r#"{"step":"text_vectorize","column":"doc","vocabulary":{"cat":0},"outputs":["c"]}"#;
    let step: Step = serde_json::from_str(minimal).unwrap();
    let Step::TextVectorize(t) = step else { panic!("parsed as {step:?}") };
    assert!(t.lowercase && t.token_pattern == DEFAULT_TOKEN_PATTERN && t.ngram_range == [1, 1] && t.norm == TextNorm::None);
    assert!(t.idf.is_none() && !t.binary && !t.sublinear_tf && t.stop_words.is_empty());
    let unknown_field = r#"{"step":"text_vectorize","column":"doc","vocabulary":{"cat":0},"outputs":["c"],"analyzer":"char"}"#;
    assert!(serde_json::from_str::<Step>(unknown_field).unwrap_err().to_string().contains("analyzer"));
}

fn invalid(s: TextVectorizeSpec) -> String {
    let e = Artifact::new(content(Column::new("doc", ColumnType::Categorical), s)).unwrap_err();
    e.to_string()
}

#[test]
fn validation_names_what_is_wrong() {
    let mut s = spec(&["a1", "b2", "c3"]);
    s.vocabulary.insert("c3".into(), 5);
    let e = invalid(s);
    assert!(e.contains("step 0 (text_vectorize)") && e.contains("'c3' has index 5") && e.contains("0..3"), "{e}");

    let mut s = spec(&["a1", "b2", "c3"]);
    s.vocabulary.insert("c3".into(), 1);
    let e = invalid(s);
    assert!(e.contains("'b2' and 'c3' share index 1"), "{e}");

    let mut s = spec(&["a1", "b2"]);
    s.idf = Some(vec![1.0]);
    assert!(invalid(s).contains("idf has 1 weights for 2 vocabulary terms"));

    let mut s = spec(&["a1", "b2"]);
    s.idf = Some(vec![1.0, f64::NAN]);
    assert!(invalid(s).contains("idf weight 1 is NaN"));

    let mut s = spec(&["a1", "b2"]);
    s.outputs.pop();
    let mut c = content(Column::new("doc", ColumnType::Categorical), spec(&["a1", "b2"]));
    c.pipeline = vec![Step::TextVectorize(s)];
    assert!(Artifact::new(c).unwrap_err().to_string().contains("2 vocabulary terms need 2 outputs, 1 given"));

    let mut s = spec(&["a1"]);
    s.token_pattern = r"(?u)\b\w\w\w+\b".into();
    let e = invalid(s);
    assert!(e.contains("token_pattern") && e.contains("not supported") && e.contains(DEFAULT_TOKEN_PATTERN), "{e}");

    for range in [[0, 1], [2, 1], [1, 33]] {
        let mut s = spec(&["a1"]);
        s.ngram_range = range;
        let e = invalid(s);
        assert!(e.contains(&format!("ngram_range [{}, {}]", range[0], range[1])), "{e}");
    }

    let mut s = spec(&["a1"]);
    s.vocabulary = BTreeMap::new();
    s.outputs.clear();
    let mut c = content(Column::new("doc", ColumnType::Categorical), spec(&["a1"]));
    c.pipeline = vec![Step::TextVectorize(s)];
    assert!(Artifact::new(c).unwrap_err().to_string().contains("the vocabulary is empty"));

    let c = content(Column::new("doc", ColumnType::Float64), spec(&["a1"]));
    let e = Artifact::new(c).unwrap_err().to_string();
    assert!(e.contains("needs a categorical column but 'doc' is numeric"), "{e}");
}

#[test]
fn a_numeric_column_is_refused_at_scoring_too() {
    let sc = scorer(spec(&["cat"]));
    let batch = Batch::new(vec![("doc".into(), Arc::new(Float64Array::from(vec![1.0])) as ArrayRef)]).unwrap();
    let e = sc.score(&batch, &ScoreOptions::default()).unwrap_err().to_string();
    assert!(e.contains("doc"), "{e}");
}
