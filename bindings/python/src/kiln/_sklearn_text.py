"""Export a fitted scikit-learn ``CountVectorizer`` / ``TfidfVectorizer`` as kiln's
``text_vectorize`` pipeline step (see ``src/artifact/text.rs`` for the step's meaning).

kiln reproduces the ``analyzer='word'`` path of scikit-learn 1.9.1's ``transform``: Python
``str.lower``, the token patterns ``\\b\\w\\w+\\b`` / ``\\b\\w+\\b`` with Python's Unicode ``\\w``,
stop words, word n-grams, ``binary``, ``sublinear_tf``, ``idf_`` and ``norm``. Any setting that
would make scikit-learn compute something else is refused with an error naming it.

Nulls: scikit-learn raises on a ``None`` document; kiln scores a null document (when the
column's null policy lets it through) as an empty one, all zeros.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Dict, List, Tuple

import numpy as np

from ._errors import InvalidArgumentError

#: Token patterns the Rust step reproduces; keep in step with ``TOKEN_PATTERNS`` in
#: src/artifact/text.rs. ``(?u)`` changes nothing for str patterns in Python 3.
TOKEN_PATTERNS = (r"(?u)\b\w\w+\b", r"\b\w\w+\b", r"(?u)\b\w+\b", r"\b\w+\b")

#: Longest n-gram the Rust step accepts (``MAX_NGRAM``).
MAX_NGRAM = 32


def export_text_vectorizer(vectorizer: Any, column: str, prefix: str) -> Tuple[List[Dict[str, Any]], List[str]]:
    """The kiln pipeline steps and output feature names of a fitted ``CountVectorizer`` or
    ``TfidfVectorizer`` reading the text column ``column``.

    Output ``j`` (the vectorizer's column ``j``) is named ``prefix + term``; pass e.g.
    ``"review__"`` to get the names a ``ColumnTransformer`` step called ``review`` gives.
    The schema column ``column`` must be ``categorical`` (any string column).

    Raises :class:`kiln.InvalidArgumentError` naming the setting kiln cannot reproduce.
    """
    try:
        from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    except ImportError as e:  # pragma: no cover - the caller holds a scikit-learn object
        raise InvalidArgumentError("exporting a text vectorizer needs scikit-learn") from e

    cls = type(vectorizer).__name__
    if not isinstance(vectorizer, CountVectorizer):
        raise InvalidArgumentError(f"{cls} is not a CountVectorizer or TfidfVectorizer")
    if not isinstance(column, str) or not column:
        raise InvalidArgumentError(f"{cls}: column must be a non-empty string, got {column!r}")
    if not isinstance(prefix, str):
        raise InvalidArgumentError(f"{cls}: prefix must be a string, got {prefix!r}")

    def refuse(setting: str, why: str) -> None:
        raise InvalidArgumentError(f"{cls}({setting}) is not supported: {why}")

    if vectorizer.input != "content":
        refuse(f"input={vectorizer.input!r}", "kiln scores the documents themselves, passed as a string column")
    if callable(vectorizer.analyzer):
        refuse("analyzer=<callable>", "kiln cannot run Python code; only analyzer='word' is reproduced")
    if vectorizer.analyzer != "word":
        refuse(f"analyzer={vectorizer.analyzer!r}", "only analyzer='word' is reproduced")
    if vectorizer.preprocessor is not None:
        refuse("preprocessor=<callable>", "kiln cannot run Python code; leave preprocessor=None")
    if vectorizer.tokenizer is not None:
        refuse("tokenizer=<callable>", "kiln cannot run Python code; use token_pattern instead")
    if vectorizer.strip_accents:
        refuse(f"strip_accents={vectorizer.strip_accents!r}", "accent stripping is not reproduced; leave strip_accents=None")
    if vectorizer.token_pattern not in TOKEN_PATTERNS:
        refuse(
            f"token_pattern={vectorizer.token_pattern!r}",
            "kiln reproduces only " + ", ".join(repr(p) for p in TOKEN_PATTERNS),
        )
    lo, hi = (int(n) for n in vectorizer.ngram_range)
    if not 1 <= lo <= hi <= MAX_NGRAM:
        refuse(f"ngram_range={tuple(vectorizer.ngram_range)!r}", f"kiln needs 1 <= min_n <= max_n <= {MAX_NGRAM}")

    vocabulary = _fitted_vocabulary(vectorizer, cls)
    terms = [""] * len(vocabulary)
    for term, index in vocabulary.items():
        terms[index] = term

    stop = vectorizer.get_stop_words()
    stop_words = sorted(stop) if stop else []
    if any(not isinstance(w, str) for w in stop_words):
        refuse("stop_words=...", "every stop word must be a string")

    binary = bool(vectorizer.binary)
    is_tfidf = isinstance(vectorizer, TfidfVectorizer)
    dtype = np.dtype(vectorizer.dtype)
    if is_tfidf:
        # TfidfTransformer works in float32 when the counts are float32 (and float16 counts
        # round above 2048 before being widened): kiln computes in float64 throughout.
        if dtype in (np.dtype(np.float32), np.dtype(np.float16)):
            refuse(
                f"dtype={dtype.name}",
                f"scikit-learn then rounds counts or weights to {dtype.name}, kiln computes in float64 "
                "(results would differ from about 1e-7 relative); refit with dtype=np.float64",
            )
        if dtype.kind not in "iuf":
            refuse(f"dtype={dtype.name}", "use dtype=np.float64")
    elif dtype == np.bool_:
        # Counts cast to bool are 1 wherever a term occurs: exactly binary=True.
        binary = True
    elif dtype.kind not in "iu" and dtype not in (np.dtype(np.float64), np.dtype(np.float32)):
        # Integers and float32/float64 hold counts exactly (float32 up to 2**24 per document).
        refuse(f"dtype={dtype.name}", "counts in this type are not exact; use an integer type or float64")

    step: Dict[str, Any] = {
        "step": "text_vectorize",
        "column": column,
        "lowercase": bool(vectorizer.lowercase),
        "token_pattern": vectorizer.token_pattern,
        "ngram_range": [lo, hi],
        "vocabulary": {term: index for index, term in enumerate(terms)},
        "binary": binary,
        "norm": "none",
        "outputs": [prefix + term for term in terms],
    }
    if stop_words:
        step["stop_words"] = stop_words
    if is_tfidf:
        norm = vectorizer.norm
        if norm not in (None, "l1", "l2"):
            refuse(f"norm={norm!r}", "kiln reproduces norm='l1', 'l2' or None")
        step["norm"] = norm or "none"
        step["sublinear_tf"] = bool(vectorizer.sublinear_tf)
        if vectorizer.use_idf:
            try:
                idf = vectorizer.idf_
            except Exception as e:  # NotFittedError
                raise InvalidArgumentError(f"{cls} is not fitted (no idf_): {e}") from None
            weights = [float(w) for w in np.asarray(idf, dtype=np.float64)]
            if len(weights) != len(terms):
                raise InvalidArgumentError(f"{cls}: idf_ has {len(weights)} weights for {len(terms)} vocabulary terms")
            bad = next((i for i, w in enumerate(weights) if not math.isfinite(w)), None)
            if bad is not None:
                raise InvalidArgumentError(f"{cls}: idf_[{bad}] is {weights[bad]}; kiln needs finite weights")
            step["idf"] = weights
    return [step], list(step["outputs"])


def _fitted_vocabulary(vectorizer: Any, cls: str) -> Dict[str, int]:
    """Term → column index, as ``transform`` uses it: ``vocabulary_`` once fitted, else the
    fixed ``vocabulary`` parameter read as scikit-learn's ``_validate_vocabulary`` reads it."""
    vocab = getattr(vectorizer, "vocabulary_", None)
    if vocab is None:
        given = vectorizer.vocabulary
        if given is None:
            raise InvalidArgumentError(f"{cls} is not fitted (no vocabulary_): fit it before exporting")
        if isinstance(given, set):
            given = sorted(given)
        vocab = dict(given) if isinstance(given, Mapping) else {t: i for i, t in enumerate(given)}
    out: Dict[str, int] = {}
    seen: Dict[int, str] = {}
    n = len(vocab)
    if n == 0:
        raise InvalidArgumentError(f"{cls} has an empty vocabulary")
    for term, index in vocab.items():
        if not isinstance(term, str):
            raise InvalidArgumentError(f"{cls}: vocabulary term {term!r} is not a string")
        i = int(index)
        if not 0 <= i < n:
            raise InvalidArgumentError(f"{cls}: vocabulary term {term!r} has index {i}, outside 0..{n}")
        if i in seen:
            raise InvalidArgumentError(f"{cls}: vocabulary terms {seen[i]!r} and {term!r} share index {i}")
        seen[i] = term
        out[term] = i
    return out
