"""Parity of kiln's `text_vectorize` step with scikit-learn 1.9.1's CountVectorizer /
TfidfVectorizer, alone and in front of a LogisticRegression.

Tolerances (also in the README):
- the transform itself is bit-identical (max ulp difference 0), except with sublinear_tf, whose
  `ln` may differ from numpy's SIMD log in the last bit: relative 1e-12 there;
- Pipeline(vectorizer, LogisticRegression).predict_proba: relative 1e-12 (the sigmoid/softmax
  is kiln's own, not scipy's).

Data: generated sentences (fixed seed) with punctuation, capitals, accents, CJK, numbers, empty
strings and None; random Unicode strings stressing the tokenizer; and the dataset descriptions
that ship inside scikit-learn (sklearn/datasets/descr/*.rst) as real English text. Nothing is
downloaded. scikit-learn refuses None documents: it is given "" where kiln gets a null.
"""

from __future__ import annotations

import json
import warnings
from importlib import resources
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import pytest

import kiln
from kiln._sklearn_text import export_text_vectorizer

sklearn = pytest.importorskip("sklearn")
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

REL = 1e-12
COLUMN = "text"

WORDS = [
    "the", "cat", "dog", "sat", "on", "mat", "Café", "crème", "naïve", "ÉCOLE", "straße", "東京",
    "über", "x²", "data_science", "2024", "a", "I", "Run", "running", "ΟΔΟΣ", "Ωmega", "it's",
    "e-mail", "C++", "ß", "İstanbul", "résumé", "Ⅻ", "½½", "quick", "brown", "fox",
]
PUNCT = ["", "", "", ",", ".", "!", "?", " -", "...", ":", ";", "\n", "  "]


def sentences(n: int, seed: int, extra_words: Sequence[str] = ()) -> List[Optional[str]]:
    rng = np.random.default_rng(seed)
    words = WORDS + list(extra_words)
    out: List[Optional[str]] = []
    for _ in range(n):
        r = rng.random()
        if r < 0.05:
            out.append(None)
            continue
        if r < 0.10:
            out.append("")
            continue
        parts = []
        for _ in range(int(rng.integers(1, 14))):
            w = words[int(rng.integers(len(words)))]
            case = rng.random()
            w = w.upper() if case < 0.1 else w.capitalize() if case < 0.25 else w
            parts.append(w + PUNCT[int(rng.integers(len(PUNCT)))])
        out.append(" ".join(parts))
    return out


# Code points covering what tokenizers disagree on: ASCII, Latin-1 and extended Latin, Greek
# (final sigma), Cyrillic, combining marks (not Python \w), CJK, kana, Devanagari (vowel signs
# are marks), digits of other scripts, No/Nl numbers, connector punctuation, emoji, spaces.
UNICODE_POOL = (
    list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_ -.,'")
    + [chr(c) for c in range(0xC0, 0x180, 3)]
    + [chr(c) for c in range(0x391, 0x3CA)]
    + ["Σ"] * 8
    + [chr(c) for c in range(0x410, 0x450, 2)]
    + [chr(c) for c in range(0x300, 0x370, 7)]
    + [chr(c) for c in range(0x4E00, 0x4E40)]
    + [chr(c) for c in range(0x3041, 0x3060, 3)]
    + [chr(c) for c in range(0x905, 0x950, 2)]
    + [chr(c) for c in range(0x660, 0x66A)]
    + list("²³¹¼½¾ⅠⅡⅫⅻ①②") + ["\u203f", "\u2040", "\ufe4f", "\u0130", "\u1e9e", "\u00b5"]
    + ["😀", "🎉", "\u200d", "\t", "\u00a0", "\u3000"]
)


def unicode_docs(n: int, seed: int) -> List[str]:
    rng = np.random.default_rng(seed)
    return ["".join(UNICODE_POOL[int(i)] for i in rng.integers(len(UNICODE_POOL), size=int(rng.integers(0, 40)))) for _ in range(n)]


def descr_paragraphs() -> List[str]:
    """Paragraphs of the dataset descriptions bundled with scikit-learn."""
    out = []
    for entry in sorted(resources.files("sklearn.datasets.descr").iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".rst"):
            out.extend(p.strip() for p in entry.read_text(encoding="utf-8").split("\n\n") if p.strip())
    return out


def for_sklearn(docs: Sequence[Optional[str]]) -> List[str]:
    return ["" if d is None else d for d in docs]


def load(steps: List[Dict[str, Any]], features: List[str], coefficients: List[List[float]], intercept: List[float], link: str) -> kiln.Model:
    content = {
        "schema": {"columns": [{"name": COLUMN, "type": "categorical"}]},
        "pipeline": steps,
        "model": {"kind": "linear", "features": features, "coefficients": coefficients, "intercept": intercept, "link": link},
        "outputs": [{"name": f"out{k}"} for k in range(len(intercept))],
    }
    return kiln.load(json.dumps({"format": "kiln", "format_version": "1.0", "content": content}).encode())


def score(model: kiln.Model, docs: Sequence[Optional[str]]) -> np.ndarray:
    """(rows, outputs) scores; every row must be scored."""
    result = model.score({COLUMN: np.array(list(docs), dtype=object)})
    assert (result["status"] == 0).all(), result["reason"][result["status"] != 0][:5]
    k = len([name for name in result if name.startswith("out")])
    return np.stack([result[f"out{j}"] for j in range(k)], axis=1) if len(docs) else np.empty((0, k))


def kiln_transform(vectorizer: Any, docs: Sequence[Optional[str]], chunk: int = 256) -> np.ndarray:
    """kiln's weights for `docs`: the exported step in front of identity linear models, one
    output per term, `chunk` terms per artifact (the step always writes every term)."""
    steps, names = export_text_vectorizer(vectorizer, COLUMN, "tf__")
    n = len(names)
    out = np.empty((len(docs), n))
    for lo in range(0, n, chunk):
        part = names[lo : lo + chunk]
        eye = np.eye(len(part)).tolist()
        with load(steps, part, eye, [0.0] * len(part), "identity") as model:
            out[:, lo : lo + len(part)] = score(model, docs)
    return out


def assert_same(got: np.ndarray, want: np.ndarray, exact: bool) -> None:
    assert got.shape == want.shape
    # CountVectorizer's counts are int64: as float64 they are exact.
    want = np.asarray(want, dtype=np.float64)
    if exact:
        diff = np.flatnonzero(got.view(np.int64) != want.view(np.int64))
        assert diff.size == 0, f"{diff.size} values differ in bits, first at {np.unravel_index(diff[0], got.shape)}: {got.flat[diff[0]]!r} vs {want.flat[diff[0]]!r}"
    else:
        assert np.array_equal(got == 0, want == 0)
        rel = np.abs(got - want) / np.maximum(np.abs(want), np.finfo(float).tiny)
        assert rel.max(initial=0.0) <= REL, f"max relative difference {rel.max()}"


CONFIGS = [
    ("count", lambda: CountVectorizer()),
    ("count_bigrams_binary", lambda: CountVectorizer(ngram_range=(1, 2), binary=True)),
    ("count_english_stop_trigrams", lambda: CountVectorizer(stop_words="english", ngram_range=(2, 3))),
    ("count_single_char_tokens_keep_case", lambda: CountVectorizer(token_pattern=r"\b\w+\b", lowercase=False)),
    ("count_float64_min_df", lambda: CountVectorizer(dtype=np.float64, min_df=2, max_features=300)),
    ("tfidf", lambda: TfidfVectorizer()),
    ("tfidf_l1_bigrams_stop_list", lambda: TfidfVectorizer(norm="l1", ngram_range=(1, 2), stop_words=["the", "on", "a", "of", "and"])),
    ("tfidf_no_idf", lambda: TfidfVectorizer(use_idf=False)),
    ("tfidf_raw_idf_no_smooth", lambda: TfidfVectorizer(norm=None, smooth_idf=False, binary=True)),
    ("tfidf_sublinear", lambda: TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 3), max_df=0.9)),
]


@pytest.mark.parametrize("name,make", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_transform_matches_sklearn_on_generated_sentences(name: str, make: Any) -> None:
    train = sentences(400, seed=1)
    # Scoring rows include words never seen in training ("zebra", "Ünseen") and every hard case.
    test = sentences(300, seed=2, extra_words=["zebra", "Ünseen", "qux"]) + ["", None, "zebra only", "!!!", "THE CAT"]
    vec = make().fit(for_sklearn(train))
    want = vec.transform(for_sklearn(test)).toarray()
    got = kiln_transform(vec, test)
    assert_same(got, want, exact="sublinear" not in name)
    assert np.count_nonzero(want) > len(test), "the data exercises the vocabulary"


@pytest.mark.parametrize("pattern", [r"(?u)\b\w\w+\b", r"\b\w+\b"])
def test_tokenizer_matches_python_on_random_unicode(pattern: str) -> None:
    # Random strings rarely share tokens, so the training documents themselves are scored:
    # each of their tokens is a term, and any disagreement on where a token starts or ends, or
    # how it is lowercased, shows as a different count. New documents check unknown tokens.
    train = unicode_docs(1200, seed=3)
    vec = CountVectorizer(token_pattern=pattern).fit(train)
    assert len(vec.vocabulary_) > 1000
    docs = train[:600] + unicode_docs(200, seed=4)
    want = vec.transform(docs).toarray()
    assert np.count_nonzero(want) > 1000
    assert_same(kiln_transform(vec, docs, chunk=512), want, exact=True)


def test_tfidf_matches_sklearn_on_bundled_dataset_descriptions() -> None:
    docs = descr_paragraphs()
    assert len(docs) > 200
    train, test = docs[::2], docs[1::2]
    for vec in (TfidfVectorizer(ngram_range=(1, 2), min_df=2), CountVectorizer(stop_words="english")):
        vec.fit(train)
        assert_same(kiln_transform(vec, test, chunk=512), vec.transform(test).toarray(), exact=True)


def fit_pipeline(vec: Any, docs: List[Optional[str]], y: np.ndarray) -> Pipeline:
    pipe = Pipeline([("vec", vec), ("clf", LogisticRegression(C=10.0, max_iter=2000))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(for_sklearn(docs), y)
    return pipe


def export_pipeline(pipe: Pipeline) -> kiln.Model:
    steps, names = export_text_vectorizer(pipe.named_steps["vec"], COLUMN, "vec__")
    clf = pipe.named_steps["clf"]
    coef, intercept = clf.coef_.tolist(), clf.intercept_.tolist()
    return load(steps, names, coef, intercept, "logit" if len(clf.classes_) == 2 else "softmax")


def labels(docs: Sequence[Optional[str]], n_classes: int) -> np.ndarray:
    """A label the text predicts: which of a few cue words comes first (else class 0)."""
    cues = ["cat", "dog", "café", "東京", "fox"][: n_classes - 1]
    out = []
    for d in for_sklearn(docs):
        low = d.lower()
        hits = [(low.find(c), k + 1) for k, c in enumerate(cues) if c in low]
        out.append(min(hits)[1] if hits else 0)
    return np.array(out)


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("make", [lambda: TfidfVectorizer(ngram_range=(1, 2)), lambda: CountVectorizer(binary=True)], ids=["tfidf", "count"])
def test_pipeline_predict_proba_matches_sklearn(n_classes: int, make: Any) -> None:
    train = sentences(600, seed=5)
    test = sentences(300, seed=6, extra_words=["zebra"]) + ["", None, "zebra", "Cat"]
    pipe = fit_pipeline(make(), train, labels(train, n_classes))
    want = pipe.predict_proba(for_sklearn(test))
    with export_pipeline(pipe) as model:
        got = score(model, test)
        if n_classes == 2:
            want = want[:, 1:]
        assert_same(got, want, exact=False)
        # One row, and zero rows.
        one = score(model, ["The cat sat on the mat."])
        assert_same(one, pipe.predict_proba(["The cat sat on the mat."])[:, -one.shape[1] :], exact=False)
        assert score(model, []).shape == (0, got.shape[1])


def test_pipeline_on_bundled_text_multiclass() -> None:
    # Paragraphs labelled by the description they come from: a real multiclass text task.
    files = sorted(p for p in resources.files("sklearn.datasets.descr").iterdir() if p.name.endswith(".rst"))[:6]
    docs, y = [], []
    for k, f in enumerate(files):
        for p in f.read_text(encoding="utf-8").split("\n\n"):
            if p.strip():
                docs.append(p)
                y.append(k)
    y_arr = np.array(y)
    pipe = fit_pipeline(TfidfVectorizer(sublinear_tf=True, stop_words="english"), docs, y_arr)
    with export_pipeline(pipe) as model:
        assert_same(score(model, docs), pipe.predict_proba(docs), exact=False)


def test_export_refuses_what_kiln_cannot_reproduce() -> None:
    docs = ["the cat sat", "the dog ran"]
    cases = [
        (CountVectorizer(analyzer="char"), "analyzer='char'"),
        (CountVectorizer(analyzer=str.split), "analyzer=<callable>"),
        (CountVectorizer(tokenizer=str.split, token_pattern=None), "tokenizer=<callable>"),
        (CountVectorizer(preprocessor=str.upper), "preprocessor=<callable>"),
        (CountVectorizer(strip_accents="unicode"), "strip_accents='unicode'"),
        (CountVectorizer(token_pattern=r"(?u)\b\w\w\w+\b"), "token_pattern="),
        (TfidfVectorizer(dtype=np.float32), "dtype=float32"),
    ]
    for vec, needle in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            vec.fit(docs)
        with pytest.raises(kiln.InvalidArgumentError, match=needle.replace("(", r"\(").replace("*", r"\*").replace("+", r"\+").replace("?", r"\?")):
            export_text_vectorizer(vec, COLUMN, "")
    with pytest.raises(kiln.InvalidArgumentError, match="not fitted"):
        export_text_vectorizer(CountVectorizer(), COLUMN, "")
    with pytest.raises(kiln.InvalidArgumentError, match="not a CountVectorizer"):
        export_text_vectorizer(LogisticRegression(), COLUMN, "")


def test_export_shape_and_names() -> None:
    vec = TfidfVectorizer(ngram_range=(1, 2), stop_words=["on"]).fit(["the cat sat on the mat", "the dog"])
    steps, names = export_text_vectorizer(vec, "review", "review__")
    assert names == ["review__" + t for t in vec.get_feature_names_out()]
    (step,) = steps
    assert step["step"] == "text_vectorize" and step["column"] == "review" and step["norm"] == "l2"
    assert step["stop_words"] == ["on"] and step["ngram_range"] == [1, 2]
    assert step["idf"] == vec.idf_.tolist()
    json.dumps(step)  # plain JSON types only
    # A vocabulary given up front needs no fit for CountVectorizer.
    fixed = CountVectorizer(vocabulary=["cat", "dog"])
    steps, names = export_text_vectorizer(fixed, "t", "")
    assert steps[0]["vocabulary"] == {"cat": 0, "dog": 1} and names == ["cat", "dog"]
    # bool counts are exactly binary counts.
    steps, _ = export_text_vectorizer(CountVectorizer(dtype=bool).fit(["a1 a1 b2"]), "t", "")
    assert steps[0]["binary"] is True
