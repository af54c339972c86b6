"""Export a fitted scikit-learn estimator or pipeline as a kiln model: :func:`from_sklearn`.

The exporter reads fitted attributes and writes them as kiln artifact content (schema, pipeline
steps, model, outputs, provenance); kiln validates, fingerprints and loads it. It never pickles
and never calls the estimator at scoring time.

Arithmetic is reproduced as scikit-learn 1.9.1 performs it (pointers are to files of that
release, paths relative to the ``sklearn`` package):

- Trees and forests (``tree/_classes.py`` ``_validate_X_predict``: ``dtype=np.float32``;
  ``tree/_tree.pyx`` ``_apply_dense``): inputs are cast to float32 and a row goes left when
  ``x <= threshold`` with the float64 threshold; NaN follows ``missing_go_to_left``. Classifier
  leaves hold normalized class fractions (``tree/_criterion.pyx`` ``node_value``:
  ``sum_total / weighted_n_node_samples``), which ``predict_proba`` returns as they are.
- Forests (``ensemble/_forest.py`` ``predict_proba`` / ``_accumulate_prediction``): per-tree
  outputs are added in float64 into zeros, in estimator order, then divided by the number of
  trees. (With ``n_jobs > 1`` scikit-learn's own order of additions depends on thread timing;
  kiln always adds in estimator order, which is what ``n_jobs=None`` does.)
- GradientBoosting (``ensemble/_gb.py`` ``_raw_predict``; ``ensemble/_gradient_boosting.pyx``
  ``_predict_regression_tree_inplace_fast_dense``): raw = init prediction, then per stage
  ``raw += learning_rate * leaf`` in float64 (the product rounded once, as stored here), float32
  inputs, ``x <= threshold`` and NaN always going right (that loop has no missing-value branch).
  Probabilities: ``expit`` (binary), ``expit(2 * raw)`` (exponential loss), softmax (multiclass).
- HistGradientBoosting (``ensemble/_hist_gradient_boosting/_predictor.pyx``
  ``_predict_one_from_raw_data``; ``gradient_boosting.py`` ``_raw_predict``): float64 inputs
  and thresholds, ``x <= threshold``, NaN per ``missing_go_to_left``; a categorical split sends
  categories in ``raw_left_cat_bitsets`` left, other known categories right, and negative or
  unknown categories the missing-value way; raw = baseline + leaves in iteration order.
- Scalers (``preprocessing/_data.py``): ``X -= mean_; X /= scale_`` (StandardScaler),
  ``X -= center_; X /= scale_`` (RobustScaler), ``X *= scale_; X += min_`` (MinMaxScaler):
  kiln's ``standard_scale`` and ``min_max_scale`` steps do the same two roundings in order.
- KBinsDiscretizer (``preprocessing/_discretization.py`` ``transform``):
  ``searchsorted(bin_edges[1:-1], x, side="right")``, the number of inner edges ``<= x``.
- Linear models: ``X @ coef_.T + intercept_`` goes through BLAS, whose summation order is its
  own; kiln sums in feature order, so these agree to a relative 1e-12, not bit for bit.
- numpy's ``exp``/``log1p`` are vectorized (SVML on AVX-512 machines) and can differ from the C
  library's by an ulp; kiln uses the C library's. This touches sklearn's multiclass softmax and
  ``FunctionTransformer(np.log1p)``; ``scipy.special.expit`` calls the C library and agrees.
"""

from __future__ import annotations

import json
import math
import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ._errors import InvalidModelError

__all__ = ["from_sklearn"]

# A category string standing for "missing" where a scikit-learn encoder learned NaN as a
# category of its own: kiln imputes nulls to it, then encodes it like any other category.
_MISSING_CATEGORY = "\u0000kiln:missing"
# JSON has no infinity: a `x <= +inf` split is written `x <= DBL_MAX`, which decides every
# finite value the same way (infinite inputs are flagged at the edge, see `_numeric_column`).
_DBL_MAX = float(np.finfo(np.float64).max)


class UnsupportedEstimatorError(InvalidModelError):
    """A scikit-learn estimator or step kiln cannot export (the message names it)."""


def _cls(obj: Any) -> str:
    return type(obj).__name__


def _unsupported(obj: Any, why: str = "") -> UnsupportedEstimatorError:
    what = f"{type(obj).__module__}.{_cls(obj)}" if not isinstance(obj, str) else obj
    tail = f": {why}" if why else ""
    return UnsupportedEstimatorError(f"kiln.from_sklearn cannot export {what}{tail}")


# -- features -------------------------------------------------------------------------------------


class _Input:
    """One input column of the schema; its type is decided by the first step that reads it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.kind: Optional[str] = None  # "num" | "cat" | "text"
        self.categories: Optional[List[str]] = None  # closed vocabulary (unknowns flagged)
        self.not_null = False
        self.allow_non_finite = False


class _Feature:
    """A column of the feature matrix as it flows through the pipeline."""

    def __init__(self, name: str, kind: str, source: Optional[_Input] = None) -> None:
        self.name = name
        self.kind = kind  # "num" | "cat" | "any" (an input column not yet typed)
        self.source = source

    def as_kind(self, kind: str, owner: Any) -> "_Feature":
        if self.kind == "any":
            assert self.source is not None
            self.source.kind = kind
            self.kind = kind
        elif self.kind != kind:
            want = "a numeric" if kind == "num" else "a string (categorical)"
            raise _unsupported(owner, f"column '{self.name}' reaches it as {self.kind!r} data but it needs {want} column")
        return self


class _Builder:
    def __init__(self) -> None:
        self.inputs: List[_Input] = []
        self.steps: List[Dict[str, Any]] = []
        self.names: set = set()

    def fresh(self, base: str) -> str:
        name, i = base, 1
        while name in self.names:
            i += 1
            name = f"{base}#{i}"
        self.names.add(name)
        return name

    def input_features(self, names: Sequence[str]) -> List[_Feature]:
        feats = []
        for n in names:
            inp = _Input(str(n))
            if inp.name in self.names:
                raise _unsupported("this estimator", f"its input column name '{inp.name}' appears twice")
            self.names.add(inp.name)
            self.inputs.append(inp)
            feats.append(_Feature(inp.name, "any", inp))
        return feats

    def schema(self) -> Dict[str, Any]:
        columns = []
        for inp in self.inputs:
            if inp.kind is None:
                continue  # dropped by every step: scoring does not need it
            if inp.kind in ("cat", "text"):
                col: Dict[str, Any] = {"name": inp.name, "type": "categorical", "nullable": not inp.not_null}
                policy: Dict[str, Any] = {"unknown_category": "allow"}
                if inp.categories is not None:
                    col["categories"] = inp.categories
                    policy["unknown_category"] = "flag"
                col["policy"] = policy
            else:
                col = {"name": inp.name, "type": "float64", "nullable": True}
                if inp.allow_non_finite:
                    col["policy"] = {"non_finite": "allow"}
            columns.append(col)
        return {"columns": columns}


def _num(v: Any) -> float:
    f = float(v)
    if not math.isfinite(f):
        raise ValueError(f"non-finite value {f}")
    return f


# -- transformers ---------------------------------------------------------------------------------


def _transform(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    """Append the kiln steps of fitted transformer `t` applied to `feats`; return its outputs."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    if t is None or (isinstance(t, str) and t == "passthrough"):
        return feats
    if isinstance(t, Pipeline):
        for _, step in t.steps:
            feats = _transform(b, step, feats)
        return feats
    if isinstance(t, ColumnTransformer):
        return _column_transformer(b, t, feats)
    n_in = getattr(t, "n_features_in_", None)
    if n_in is not None and n_in != len(feats):
        raise _unsupported(t, f"it was fitted on {n_in} columns but receives {len(feats)} here")
    handler = _TRANSFORMERS.get(_cls(t))
    if handler is None or not _is_sklearn(t):
        raise _unsupported(t, f"supported steps are {', '.join(sorted(_TRANSFORMERS))}, Pipeline and ColumnTransformer")
    return handler(b, t, feats)


def _is_sklearn(obj: Any) -> bool:
    return type(obj).__module__.startswith("sklearn.")


def _column_transformer(b: _Builder, ct: Any, feats: List[_Feature]) -> List[_Feature]:
    indices = getattr(ct, "_transformer_to_input_indices", None)
    if indices is None:
        raise _unsupported(ct, "it is not fitted")
    out: List[_Feature] = []
    for name, trans, _cols in ct.transformers_:
        idx = [int(i) for i in indices.get(name, [])]
        if isinstance(trans, str) and trans == "drop":
            continue
        if not idx:
            continue
        sub = [feats[i] for i in idx]
        if _cls(trans) in ("CountVectorizer", "TfidfVectorizer"):
            out.extend(_text(b, trans, sub, name))
            continue
        out.extend(_transform(b, trans, sub))
    return out


def _text(b: _Builder, vec: Any, feats: List[_Feature], prefix: str) -> List[_Feature]:
    try:
        from ._sklearn_text import export_text_vectorizer
    except ImportError:
        raise _unsupported(vec, "this kiln build has no text vectorizer export (kiln._sklearn_text)") from None
    if len(feats) != 1 or feats[0].source is None:
        raise _unsupported(vec, "it must read exactly one input text column (a column name, not a list)")
    f = feats[0]
    if f.kind == "any":
        assert f.source is not None
        f.source.kind = "text"
        f.kind = "text"
    elif f.kind != "text":
        raise _unsupported(vec, f"column '{f.name}' is also used as {f.kind!r} data")
    steps, names = export_text_vectorizer(vec, f.name, b.fresh(prefix))
    b.steps.extend(steps)
    for n in names:
        b.names.add(n)
    return [_Feature(n, "num") for n in names]


def _simple_imputer(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    mv = t.missing_values
    if not (isinstance(mv, float) and math.isnan(mv)) and mv is not None and mv is not np.nan:
        if not (getattr(mv, "__class__", None).__name__ == "NAType"):
            raise _unsupported(t, f"missing_values={mv!r} (only NaN/None/pd.NA are missing values in kiln)")
    if t.add_indicator:
        raise _unsupported(t, "add_indicator=True")
    stats = t.statistics_
    out = []
    for f, v in zip(feats, stats):
        if isinstance(v, str):
            f.as_kind("cat", t)
            name = b.fresh(f.name)
            b.steps.append({"step": "impute_category", "column": f.name, "value": v, "strategy": _strategy(t), "output": name})
            out.append(_Feature(name, "cat"))
            continue
        if v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, np.floating) and np.isnan(v)):
            # An all-missing training column: scikit-learn drops it unless keep_empty_features.
            if t.keep_empty_features:
                raise _unsupported(t, f"keep_empty_features=True on the all-missing column '{f.name}'")
            continue
        if not isinstance(v, numbers.Number):
            raise _unsupported(t, f"fill value {v!r} of type {type(v).__name__}")
        f.as_kind("num", t)
        name = b.fresh(f.name)
        b.steps.append({"step": "impute", "column": f.name, "value": _num(v), "strategy": _strategy(t), "output": name})
        out.append(_Feature(name, "num"))
    return out


def _strategy(t: Any) -> str:
    s = t.strategy
    return {"mean": "mean", "median": "median", "most_frequent": "most_frequent", "constant": "constant"}.get(s, "constant")


def _standard_scaler(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    n = len(feats)
    mean = t.mean_ if t.with_mean else np.zeros(n)
    scale = t.scale_ if t.with_std else np.ones(n)
    return _scale(b, t, feats, mean, scale)


def _robust_scaler(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    n = len(feats)
    center = t.center_ if t.with_centering else np.zeros(n)
    scale = t.scale_ if t.with_scaling else np.ones(n)
    return _scale(b, t, feats, center, scale)


def _scale(b: _Builder, t: Any, feats: List[_Feature], mean: Any, scale: Any) -> List[_Feature]:
    # `x - 0.0` and `x / 1.0` are exact, so a disabled half of the scaler costs no rounding.
    out = []
    for f, m, s in zip(feats, mean, scale):
        f.as_kind("num", t)
        name = b.fresh(f.name)
        b.steps.append({"step": "standard_scale", "column": f.name, "mean": _num(m), "scale": _num(s), "output": name})
        out.append(_Feature(name, "num"))
    return out


def _min_max_scaler(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    lo, hi = t.feature_range
    out = []
    for f, s, o in zip(feats, t.scale_, t.min_):
        f.as_kind("num", t)
        name = b.fresh(f.name)
        b.steps.append({"step": "min_max_scale", "column": f.name, "scale": _num(s), "offset": _num(o), "output": name})
        if t.clip:
            b.steps.append({"step": "clip", "column": name, "min": _num(lo), "max": _num(hi)})
        out.append(_Feature(name, "num"))
    return out


def _string_categories(t: Any, f: _Feature, cats: Any) -> Tuple[List[str], bool]:
    """An encoder's fitted categories as strings, and whether NaN/None was one of them."""
    values = list(cats)
    has_missing = False
    if values and (values[-1] is None or (isinstance(values[-1], float) and math.isnan(values[-1]))):
        values = values[:-1]
        has_missing = True
    if not all(isinstance(v, str) for v in values):
        raise _unsupported(
            t, f"column '{f.name}' has non-string categories {values[:5]!r}: kiln encodes string columns only "
            "(give the column as strings)"
        )
    return [str(v) for v in values], has_missing


def _missing_as_category(b: _Builder, f: _Feature) -> str:
    """Impute nulls of categorical `f` to the missing-category sentinel; the new column's name."""
    name = b.fresh(f.name)
    b.steps.append({"step": "impute_category", "column": f.name, "value": _MISSING_CATEGORY, "output": name})
    return name


def _one_hot_encoder(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    if getattr(t, "_infrequent_enabled", False):
        raise _unsupported(t, "infrequent categories (min_frequency / max_categories)")
    if t.handle_unknown not in ("error", "ignore", "infrequent_if_exist", "warn"):
        raise _unsupported(t, f"handle_unknown={t.handle_unknown!r}")
    drop_idx = getattr(t, "drop_idx_", None)
    out: List[_Feature] = []
    for j, (f, cats) in enumerate(zip(feats, t.categories_)):
        f.as_kind("cat", t)
        values, has_missing = _string_categories(t, f, cats)
        column = f.name
        listed = list(values)
        if has_missing:
            column = _missing_as_category(b, f)
            listed.append(_MISSING_CATEGORY)
        drop = None if drop_idx is None or drop_idx[j] is None else int(drop_idx[j])
        strict = t.handle_unknown == "error"
        if drop is not None:
            # The dropped category encodes as all zeros, like an ignored unknown; an unknown
            # under handle_unknown="error" is then caught at the edge by the closed vocabulary.
            if strict:
                _close_vocabulary(f, values, has_missing)
            kept = [c for i, c in enumerate(listed) if i != drop]
            unknown = "ignore"
        else:
            kept = listed
            unknown = "error" if strict else "ignore"
        names = [b.fresh(f"{f.name}={'<missing>' if c == _MISSING_CATEGORY else c}") for c in kept]
        b.steps.append({"step": "one_hot", "column": column, "categories": kept, "unknown": unknown, "outputs": names})
        out.extend(_Feature(n, "num") for n in names)
    return out


def _close_vocabulary(f: _Feature, values: List[str], has_missing: bool) -> None:
    src = f.source
    if src is None or f.name != src.name:
        raise _unsupported(
            "OneHotEncoder/OrdinalEncoder", f"handle_unknown='error' with drop on the derived column '{f.name}'"
        )
    src.categories = values if src.categories is None else [c for c in src.categories if c in values]
    if not has_missing:
        src.not_null = True


def _ordinal_encoder(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    if getattr(t, "_infrequent_enabled", False):
        raise _unsupported(t, "infrequent categories (min_frequency / max_categories)")
    missing_value = float(t.encoded_missing_value)
    out: List[_Feature] = []
    for f, cats in zip(feats, t.categories_):
        f.as_kind("cat", t)
        values, has_missing = _string_categories(t, f, cats)
        name = b.fresh(f.name)
        step: Dict[str, Any] = {"step": "ordinal", "column": f.name, "categories": values, "output": name}
        if t.handle_unknown == "use_encoded_value":
            step["unknown"] = "ignore"
            uv = float(t.unknown_value)
            if not math.isnan(uv):
                step["unknown_value"] = uv
            elif not math.isnan(missing_value) and has_missing:
                raise _unsupported(t, "unknown_value=NaN together with a numeric encoded_missing_value")
        elif t.handle_unknown == "error":
            step["unknown"] = "error"
            if not has_missing:
                # scikit-learn refuses a missing value it did not see in fit.
                f.source and f.name == f.source.name and setattr(f.source, "not_null", True)
        else:
            raise _unsupported(t, f"handle_unknown={t.handle_unknown!r}")
        b.steps.append(step)
        # A missing value seen in fit encodes as encoded_missing_value; one not seen in fit is an
        # unknown category (scikit-learn's `_transform` with handle_unknown), so it takes
        # unknown_value. kiln's ordinal step gives NaN for a null, which is then filled.
        fill = missing_value if has_missing else float(t.unknown_value) if t.handle_unknown == "use_encoded_value" else math.nan
        if not math.isnan(fill):
            b.steps.append({"step": "impute", "column": name, "value": fill})
        out.append(_Feature(name, "num"))
    return out


def _kbins(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    if t.encode not in ("ordinal", "onehot", "onehot-dense"):
        raise _unsupported(t, f"encode={t.encode!r}")
    out: List[_Feature] = []
    for f, edges in zip(feats, t.bin_edges_):
        f.as_kind("num", t)
        inner = [_num(e) for e in edges[1:-1]]
        if t.encode == "ordinal":
            name = b.fresh(f.name)
            b.steps.append({"step": "bucketize", "column": f.name, "edges": inner, "output": name})
            out.append(_Feature(name, "num"))
            continue
        # One-hot of the bin index k: [k == j] = [x >= e_j] - [x >= e_(j+1)], each indicator a
        # one-edge bucketize (0 or 1), so every output is an exact 0.0 or 1.0.
        ind = []
        for e in [-_DBL_MAX] + inner:
            n = b.fresh(f"{f.name}>={e!r}")
            b.steps.append({"step": "bucketize", "column": f.name, "edges": [e], "output": n})
            ind.append(n)
        for j in range(len(inner) + 1):
            n = b.fresh(f"{f.name}_bin{j}")
            if j == len(inner):
                b.steps.append({"step": "arithmetic", "op": "product", "left": ind[j], "right": ind[0], "output": n})
            else:
                b.steps.append({"step": "arithmetic", "op": "difference", "left": ind[j], "right": ind[j + 1], "output": n})
            out.append(_Feature(n, "num"))
    return out


def _function_transformer(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    if t.func is None:
        return feats
    if t.func is not np.log1p or t.kw_args:
        raise _unsupported(t, f"func={getattr(t.func, '__name__', t.func)!r} (supported: None, numpy.log1p)")
    out = []
    for f in feats:
        f.as_kind("num", t)
        name = b.fresh(f"log1p({f.name})")
        b.steps.append({"step": "log1p", "column": f.name, "output": name})
        out.append(_Feature(name, "num"))
    return out


def _polynomial(b: _Builder, t: Any, feats: List[_Feature]) -> List[_Feature]:
    powers = np.asarray(t.powers_)
    if powers.sum(axis=1).max(initial=0) > 2:
        raise _unsupported(t, f"degree={t.degree!r} (kiln exports degree 2 at most)")
    for f in feats:
        f.as_kind("num", t)
    out = []
    for row in powers:
        idx = [i for i, p in enumerate(row) for _ in range(int(p))]
        if not idx:
            # The bias column: a bucketize against -DBL_MAX is 1 for every finite value.
            name = b.fresh("1")
            b.steps.append({"step": "bucketize", "column": feats[0].name, "edges": [-_DBL_MAX], "output": name})
        elif len(idx) == 1:
            out.append(feats[idx[0]])
            continue
        else:
            i, j = idx
            name = b.fresh(f"{feats[i].name}*{feats[j].name}")
            b.steps.append({"step": "arithmetic", "op": "product", "left": feats[j].name, "right": feats[i].name, "output": name})
        out.append(_Feature(name, "num"))
    return out


_TRANSFORMERS = {
    "SimpleImputer": _simple_imputer,
    "StandardScaler": _standard_scaler,
    "MinMaxScaler": _min_max_scaler,
    "RobustScaler": _robust_scaler,
    "OneHotEncoder": _one_hot_encoder,
    "OrdinalEncoder": _ordinal_encoder,
    "KBinsDiscretizer": _kbins,
    "FunctionTransformer": _function_transformer,
    "PolynomialFeatures": _polynomial,
}


# -- models ---------------------------------------------------------------------------------------


def _numeric_features(est: Any, feats: List[_Feature]) -> List[str]:
    n_in = getattr(est, "n_features_in_", None)
    if n_in is not None and n_in != len(feats):
        raise _unsupported(est, f"it was fitted on {n_in} features but the pipeline gives it {len(feats)}")
    return [f.as_kind("num", est).name for f in feats]


def _class_outputs(est: Any) -> List[str]:
    return [f"proba_{c}" for c in est.classes_]


def _linear(b: _Builder, est: Any, feats: List[_Feature]) -> Tuple[Dict[str, Any], List[str]]:
    names = _numeric_features(est, feats)
    coef = np.atleast_2d(np.asarray(est.coef_, dtype=np.float64))
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=np.float64))
    if intercept.size == 1 and coef.shape[0] > 1:
        intercept = np.repeat(intercept, coef.shape[0])
    if _cls(est) == "LogisticRegression":
        classes = list(est.classes_)
        if len(classes) == 2:
            link, outputs = "logit", [f"proba_{classes[1]}"]
        else:
            link, outputs = "softmax", _class_outputs(est)
    else:
        link = "identity"
        outputs = ["prediction"] if np.ndim(est.coef_) == 1 else [f"prediction_{k}" for k in range(coef.shape[0])]
    model = {
        "kind": "linear",
        "features": names,
        "coefficients": [[_num(c) for c in row] for row in coef],
        "intercept": [_num(c) for c in intercept],
        "link": link,
    }
    return model, outputs


def _sk_tree(tree: Any, est: Any, width: int, scale: Optional[float] = None, missing_left: bool = True) -> Dict[str, Any]:
    """One `sklearn.tree._tree.Tree` as a kiln tree. `scale` multiplies the (single) leaf value,
    rounded once as GradientBoosting's `scale * value` is; `missing_left=False` sends NaN right at
    every node, as GradientBoosting's prediction loop does."""
    t = tree
    if t.n_outputs != 1:
        raise _unsupported(est, "multi-output trees")
    feature = [int(x) if x >= 0 else -1 for x in t.feature]
    left = [int(x) for x in t.children_left]
    right = [int(x) for x in t.children_right]
    thresholds = []
    for i, th in enumerate(t.threshold):
        if feature[i] < 0:
            thresholds.append(0.0)
        elif th == math.inf:
            thresholds.append(_DBL_MAX)
        else:
            thresholds.append(_num(th))
    value = np.asarray(t.value)[:, 0, :width].astype(np.float64)
    if scale is not None:
        value = value * scale
    vals = [0.0 if feature[i] >= 0 else _num(v) for i in range(len(feature)) for v in value[i]]
    default_left = [bool(m) and missing_left for m in t.missing_go_to_left] if missing_left else []
    out = {"leaf_width": width, "feature": feature, "threshold": thresholds, "left": left, "right": right, "value": vals}
    if any(default_left):
        out["default_left"] = default_left
    return out


def _tree_model(features: List[str], n_targets: int, trees: List[Dict[str, Any]], **kw: Any) -> Dict[str, Any]:
    model = {
        "kind": "tree_ensemble",
        "features": features,
        "n_targets": n_targets,
        "aggregate": "sum",
        "decision": "less_equal",
        "input_precision": "float32",
        "accumulate": "float64",
        "transform": "identity",
        "trees": trees,
    }
    model.update(kw)
    return model


def _decision_tree(b: _Builder, est: Any, feats: List[_Feature]) -> Tuple[Dict[str, Any], List[str]]:
    names = _numeric_features(est, feats)
    if getattr(est, "n_outputs_", 1) != 1:
        raise _unsupported(est, "multi-output trees")
    if hasattr(est, "classes_"):
        width = len(est.classes_)
        outputs = _class_outputs(est)
    else:
        width, outputs = 1, ["prediction"]
    # One tree, summed into zeros: `0.0 + v` is `v`.
    return _tree_model(names, width, [_sk_tree(est.tree_, est, width)]), outputs


def _forest(b: _Builder, est: Any, feats: List[_Feature]) -> Tuple[Dict[str, Any], List[str]]:
    names = _numeric_features(est, feats)
    if getattr(est, "n_outputs_", 1) != 1:
        raise _unsupported(est, "multi-output forests")
    if hasattr(est, "classes_"):
        width = len(est.classes_)
        outputs = _class_outputs(est)
    else:
        width, outputs = 1, ["prediction"]
    trees = [_sk_tree(e.tree_, est, width) for e in est.estimators_]
    # Average: zeros + each tree's leaf in estimator order, then one division by n_trees.
    return _tree_model(names, width, trees, aggregate="average"), outputs


def _gradient_boosting(b: _Builder, est: Any, feats: List[_Feature]) -> Tuple[Dict[str, Any], List[str]]:
    names = _numeric_features(est, feats)
    init = est.init_
    if not (init == "zero" or _cls(init) in ("DummyClassifier", "DummyRegressor")):
        raise _unsupported(est, f"init={_cls(init)} (only the default prior/mean init or 'zero')")
    # The init estimator's raw prediction does not depend on X: take it for one all-zero row,
    # through scikit-learn's own code, so that the link function rounds as it does there.
    base = est._raw_predict_init(np.zeros((1, est.n_features_in_), dtype=np.float32))[0]
    k = est.estimators_.shape[1]
    lr = float(est.learning_rate)
    trees = []
    for stage in est.estimators_:
        for target, reg in enumerate(stage):
            t = _sk_tree(reg.tree_, est, 1, scale=lr, missing_left=False)
            t["target"] = target
            trees.append(t)
    transform: Any = "identity"
    outputs = ["prediction"]
    if hasattr(est, "classes_"):
        loss = est.loss
        if k == 1:
            transform = {"scaled_sigmoid": {"scale": 2.0}} if loss == "exponential" else "sigmoid"
            outputs = [f"proba_{est.classes_[1]}"]
        else:
            transform = "softmax"
            outputs = _class_outputs(est)
    return _tree_model(names, k, trees, base_score=[_num(x) for x in base], transform=transform), outputs


def _hist_gradient_boosting(b: _Builder, est: Any, feats: List[_Feature]) -> Tuple[Dict[str, Any], List[str]]:
    n_in = est.n_features_in_
    if n_in != len(feats):
        raise _unsupported(est, f"it was fitted on {n_in} features but the pipeline gives it {len(feats)}")
    is_cat = est.is_categorical_
    cat_values: Dict[int, List[float]] = {}  # model feature index -> value of each category code
    if is_cat is None:
        order = list(range(n_in))
        model_feats = [f.as_kind("num", est).name for f in feats]
    else:
        # The fitted preprocessor puts the categorical columns first (gradient_boosting.py
        # `_preprocess_X`), each ordinal-encoded with unknown and missing values as NaN.
        cat_idx = [int(i) for i in np.flatnonzero(is_cat)]
        num_idx = [int(i) for i in np.flatnonzero(~np.asarray(is_cat))]
        order = cat_idx + num_idx
        encoder = est._preprocessor.named_transformers_["encoder"]
        model_feats = []
        for pos, (i, cats) in enumerate(zip(cat_idx, encoder.categories_)):
            f = feats[i]
            values = list(cats)
            if values and (values[-1] is None or (isinstance(values[-1], float) and math.isnan(values[-1]))):
                values = values[:-1]
            if f.kind != "num" and all(isinstance(v, str) for v in values):
                f.as_kind("cat", est)
                name = b.fresh(f"{f.name}#code")
                b.steps.append({"step": "ordinal", "column": f.name, "categories": [str(v) for v in values], "unknown": "ignore", "output": name})
                model_feats.append(name)
                cat_values[pos] = [float(c) for c in range(len(values))]
            else:
                f.as_kind("num", est)
                nums = [float(v) for v in values]
                if any(not (v >= 0 and v == int(v) and v < 2**32) for v in nums):
                    raise _unsupported(est, f"categorical feature '{f.name}' has categories {nums[:5]} that are not non-negative integers")
                model_feats.append(f.name)
                cat_values[pos] = nums
        model_feats += [feats[i].as_kind("num", est).name for i in num_idx]
    for f in feats:
        if f.source is not None and f.kind == "num" and f.name == f.source.name:
            # HistGradientBoosting takes infinite inputs (ensure_all_finite=False) and compares them.
            f.source.allow_non_finite = True
    known_bitsets, f_idx_map = est._bin_mapper.make_known_categories_bitsets()
    k = est.n_trees_per_iteration_
    trees = []
    for iteration in est._predictors:
        for target, pred in enumerate(iteration):
            trees.append(_hist_tree(est, pred, target, cat_values, known_bitsets, f_idx_map))
    base = np.asarray(est._baseline_prediction, dtype=np.float64).reshape(-1)
    transform: Any = "identity"
    outputs = ["prediction"]
    if hasattr(est, "classes_"):
        if k == 1:
            transform, outputs = "sigmoid", [f"proba_{est.classes_[1]}"]
        else:
            transform, outputs = "softmax", _class_outputs(est)
    elif est.loss in ("poisson", "gamma"):
        transform = "exp"
    elif est.loss not in ("squared_error", "absolute_error", "quantile"):
        raise _unsupported(est, f"loss={est.loss!r}")
    model = _tree_model(model_feats, k, trees, base_score=[_num(x) for x in base], transform=transform, input_precision="float64")
    return model, outputs


def _bits(row: Any) -> List[int]:
    """The members of one scikit-learn bitset (8 uint32 words, category c at bit c % 32 of word c // 32)."""
    return [w * 32 + i for w, word in enumerate(row) for i in range(32) if (int(word) >> i) & 1]


def _hist_tree(est: Any, pred: Any, target: int, cat_values: Dict[int, List[float]], known: Any, f_idx_map: Any) -> Dict[str, Any]:
    nodes = pred.nodes
    n = len(nodes)
    feature, threshold, left, right, value, default_left, splits = [], [], [], [], [], [], []
    for i, node in enumerate(nodes):
        missing_left = bool(node["missing_go_to_left"])
        if node["is_leaf"]:
            feature.append(-1)
            threshold.append(0.0)
            left.append(-1)
            right.append(-1)
            value.append(_num(node["value"]))
            default_left.append(False)
            continue
        fi = int(node["feature_idx"])
        feature.append(fi)
        left.append(int(node["left"]))
        right.append(int(node["right"]))
        value.append(0.0)
        default_left.append(missing_left)
        if node["is_categorical"]:
            threshold.append(0.0)
            codes_left = set(_bits(pred.raw_left_cat_bitsets[int(node["bitset_idx"])]))
            codes_known = set(_bits(known[int(f_idx_map[fi])]))
            to_value = cat_values[fi]
            # kiln sends listed categories one way and everything else (unknown, negative,
            # missing) the other; pick the listed side so "everything else" is the missing side.
            if missing_left:
                listed, goes = codes_known - codes_left, "right"
            else:
                listed, goes = codes_left, "left"
            cats = sorted(int(to_value[c]) for c in listed if c < len(to_value))
            splits.append({"node": i, "categories": cats, "goes": goes})
        else:
            th = float(node["num_threshold"])
            threshold.append(_DBL_MAX if th == math.inf else _num(th))
    tree: Dict[str, Any] = {"target": target, "feature": feature, "threshold": threshold, "left": left, "right": right, "value": value}
    if any(default_left):
        tree["default_left"] = default_left
    if splits:
        tree["category_splits"] = splits
    assert len(feature) == n
    return tree


_MODELS = {
    "LinearRegression": _linear,
    "Ridge": _linear,
    "Lasso": _linear,
    "ElasticNet": _linear,
    "LogisticRegression": _linear,
    "DecisionTreeClassifier": _decision_tree,
    "DecisionTreeRegressor": _decision_tree,
    "ExtraTreeClassifier": _decision_tree,
    "ExtraTreeRegressor": _decision_tree,
    "RandomForestClassifier": _forest,
    "RandomForestRegressor": _forest,
    "ExtraTreesClassifier": _forest,
    "ExtraTreesRegressor": _forest,
    "GradientBoostingClassifier": _gradient_boosting,
    "GradientBoostingRegressor": _gradient_boosting,
    "HistGradientBoostingClassifier": _hist_gradient_boosting,
    "HistGradientBoostingRegressor": _hist_gradient_boosting,
}


# -- entry ----------------------------------------------------------------------------------------


def _json_safe(v: Any, depth: int = 0) -> Any:
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, numbers.Integral):
        return int(v)
    if isinstance(v, numbers.Real):
        f = float(v)
        return f if math.isfinite(f) else repr(f)
    if isinstance(v, (list, tuple)) and depth < 3:
        return [_json_safe(x, depth + 1) for x in v]
    if isinstance(v, dict) and depth < 3:
        return {str(k): _json_safe(x, depth + 1) for k, x in v.items()}
    if hasattr(v, "get_params") and depth < 3:
        return {"class": _cls(v), "params": {k: _json_safe(x, depth + 1) for k, x in v.get_params(deep=False).items()}}
    if callable(v):
        return f"{getattr(v, '__module__', '') or ''}.{getattr(v, '__name__', repr(v))}".lstrip(".")
    return repr(v)


def _params(est: Any) -> Dict[str, Any]:
    from sklearn.pipeline import Pipeline

    if isinstance(est, Pipeline):
        return {"pipeline": [{"name": n, "class": _cls(s), "params": _json_safe(s.get_params(deep=False) if hasattr(s, "get_params") else {})} for n, s in est.steps]}
    return {"estimator": _cls(est), "params": _json_safe(est.get_params(deep=False))}


def export_content(estimator: Any) -> Dict[str, Any]:
    """The kiln artifact content (a JSON-ready dict) for a fitted scikit-learn estimator."""
    try:
        import sklearn
        from sklearn.pipeline import Pipeline
    except ImportError as e:  # pragma: no cover
        raise InvalidModelError("kiln.from_sklearn needs scikit-learn installed") from e

    if isinstance(estimator, Pipeline):
        transformers = [s for _, s in estimator.steps[:-1]]
        final = estimator.steps[-1][1]
        first = estimator.steps[0][1]
    else:
        transformers, final, first = [], estimator, estimator
    if final is None or isinstance(final, str):
        raise _unsupported(f"a Pipeline ending in {final!r}", "the last step must be a supported estimator")
    handler = _MODELS.get(_cls(final))
    if handler is None or not _is_sklearn(final):
        raise _unsupported(final, f"supported estimators are {', '.join(sorted(_MODELS))}")
    names = getattr(first, "feature_names_in_", None)
    if names is None:
        names = getattr(estimator, "feature_names_in_", None)
    if names is None:
        n = getattr(first, "n_features_in_", None) or getattr(estimator, "n_features_in_", None)
        if n is None:
            raise _unsupported(first, "it is not fitted (no n_features_in_)")
        names = [f"x{i}" for i in range(n)]
    b = _Builder()
    feats = b.input_features([str(x) for x in names])
    for t in transformers:
        feats = _transform(b, t, feats)
    model, outputs = handler(b, final, feats)
    return {
        "schema": b.schema(),
        "pipeline": b.steps,
        "model": model,
        "outputs": [{"name": o} for o in outputs],
        "provenance": {"library": "scikit-learn", "library_version": sklearn.__version__, "params": _params(estimator)},
    }


def from_sklearn(estimator: Any, sample: Any = None) -> Any:
    """A :class:`kiln.Model` scoring like the fitted scikit-learn ``estimator`` (an estimator or
    a ``Pipeline``), with its feature pipeline as kiln steps.

    Input columns keep their names (``feature_names_in_`` when fitted on a DataFrame, else
    ``x0``, ``x1``, ...). Outputs: ``prediction`` for regressors; ``proba_<class>`` per class for
    classifiers, except binary logistic and boosting models, which give the positive class's
    probability only. ``sample`` (training rows) becomes the reference profile where this kiln
    supports one. Anything kiln cannot reproduce raises :class:`kiln.InvalidModelError` naming
    the estimator or step.
    """
    from ._model import load

    content = export_content(estimator)
    artifact = {"format": "kiln", "format_version": "1.0", "content": content}
    model = load(json.dumps(artifact, allow_nan=False).encode("utf-8"))
    if sample is not None:
        profiled = model.with_reference_profile(sample)
        model.close()
        model = profiled
    return model
