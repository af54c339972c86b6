"""Parity of kiln.from_sklearn with scikit-learn, on held-out rows of data that ships inside
packages (scikit-learn's bundled sets, palmerpenguins, statsmodels) and a generated table.

Tolerances (also in the README):
- trees, forests and gradient boosting: bit-identical (float64 bits compared, max ulp 0);
- multiclass boosting: raw margins bit-identical; probabilities within SOFTMAX_ULPS ulp, because
  scikit-learn's softmax calls numpy's vectorized ``exp`` (SVML on AVX-512 machines, which
  differs from the C library's ``exp`` kiln uses by up to an ulp) and sums 8 or more classes in
  numpy's pairwise order (kiln sums in class order);
- linear models, and pipelines with ``np.log1p`` (same reason): relative difference <= 1e-12.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

sklearn = pytest.importorskip("sklearn")

import kiln  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_iris, load_wine  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer  # noqa: E402
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge  # noqa: E402
from sklearn.pipeline import Pipeline, make_pipeline  # noqa: E402
from sklearn.preprocessing import (  # noqa: E402
    FunctionTransformer,
    KBinsDiscretizer,
    MinMaxScaler,
    OneHotEncoder,
    OrdinalEncoder,
    PolynomialFeatures,
    RobustScaler,
    StandardScaler,
)
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor  # noqa: E402

LINEAR_RTOL = 1e-12
SOFTMAX_ULPS = 4


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread():
    # HistGradientBoosting's OpenMP threads spin-wait; on a small shared CI machine one thread
    # is several times faster than contending ones. Results do not depend on it.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        yield


# -- helpers --------------------------------------------------------------------------------------


def split(X, y, n_test, seed=0):
    idx = np.random.default_rng(seed).permutation(len(X))
    te, tr = idx[:n_test], idx[n_test:]
    def take(a, i):
        return a.iloc[i] if hasattr(a, "iloc") else a[i]

    return take(X, tr), take(X, te), take(y, tr), take(y, te)


def as_batch(X):
    """What kiln scores: the DataFrame itself, or a dict x0..xn for a numpy matrix."""
    if isinstance(X, pd.DataFrame):
        return X
    return {f"x{i}": np.ascontiguousarray(X[:, i]) for i in range(X.shape[1])}


def reference(est, X):
    """scikit-learn's numbers laid out as kiln's outputs."""
    if hasattr(est, "predict_proba"):
        p = est.predict_proba(X)
        return p[:, 1:] if p.shape[1] == 2 and _binary_single(est) else p
    y = est.predict(X)
    return y.reshape(len(y), -1)


def _binary_single(est):
    final = est.steps[-1][1] if isinstance(est, Pipeline) else est
    return isinstance(final, (LogisticRegression, GradientBoostingClassifier, HistGradientBoostingClassifier))


def kiln_scores(model, X):
    r = model.score(as_batch(X))
    status = np.asarray(r["status"])
    assert (status == 0).all(), f"rows not scored: {np.asarray(r['reason'])[status != 0][:5]}"
    return np.column_stack([np.asarray(r[c], dtype=np.float64) for c in model.outputs])


def assert_bits(model, est, X):
    got, want = kiln_scores(model, X), reference(est, X)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint64), np.ascontiguousarray(want, dtype=np.float64).view(np.uint64))


def assert_rel(model, est, X, rtol=LINEAR_RTOL):
    got, want = kiln_scores(model, X), reference(est, X)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0)


def ulps(a, b):
    ia = np.asarray(a, dtype=np.float64).view(np.int64)
    ib = np.asarray(b, dtype=np.float64).view(np.int64)
    return np.abs(ia - ib)


def raw_model(model):
    """The same artifact with the output transform removed: its scores are the raw margins."""
    doc = json.loads(model.to_bytes())
    doc.pop("fingerprint", None)
    doc["content"]["model"]["transform"] = "identity"
    return kiln.load(json.dumps(doc).encode())


def assert_multiclass_boosting(model, est, X):
    """Raw margins bit-identical; probabilities within SOFTMAX_ULPS (numpy's exp, see top)."""
    raw = kiln_scores(raw_model(model), X)
    want_raw = est.decision_function(X) if hasattr(est, "decision_function") else est._raw_predict(X)
    np.testing.assert_array_equal(raw.view(np.uint64), np.ascontiguousarray(want_raw, dtype=np.float64).view(np.uint64))
    got, want = kiln_scores(model, X), est.predict_proba(X)
    assert ulps(got, want).max() <= SOFTMAX_ULPS


# -- data -----------------------------------------------------------------------------------------


def penguins():
    from palmerpenguins import load_penguins

    df = load_penguins()
    y = df.pop("species").astype(str).to_numpy()
    return df, y


def statsmodels_fair():
    import statsmodels.api as sm

    d = sm.datasets.fair.load_pandas().data
    y = (d.pop("affairs") > 0).astype(int).to_numpy()
    return d, y


def generated(n=1500, seed=7):
    """Numeric columns with NaNs, string categoricals with nulls and empty strings."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, n)
    b = rng.exponential(2.0, n)
    c = rng.choice(["red", "green", "blue", "", "violet"], n, p=[0.3, 0.3, 0.2, 0.1, 0.1]).astype(object)
    d = rng.choice(["north", "south", "east"], n).astype(object)
    score = a + 0.5 * np.log1p(b) + (c == "red") * 1.0 - (d == "east") * 0.7 + rng.normal(0, 0.3, n)
    a[rng.random(n) < 0.1] = np.nan
    b[rng.random(n) < 0.1] = np.nan
    c[rng.random(n) < 0.05] = None
    df = pd.DataFrame({"a": a, "b": b, "c": pd.array(c, dtype="str"), "d": pd.array(d, dtype="str")})
    return df, score, (score > np.median(score)).astype(int)


def all_nan_row(df):
    row = {k: [np.nan] if df[k].dtype.kind == "f" else pd.array([None], dtype="str") for k in df.columns}
    return pd.DataFrame(row)


# -- trees and forests: bit-identical -------------------------------------------------------------

TREE_CLASSIFIERS = [
    lambda: DecisionTreeClassifier(max_depth=8, random_state=0),
    lambda: RandomForestClassifier(n_estimators=15, max_depth=10, random_state=0),
    lambda: ExtraTreesClassifier(n_estimators=15, max_depth=10, random_state=0),
    lambda: GradientBoostingClassifier(n_estimators=15, max_depth=3, random_state=0),
    lambda: GradientBoostingClassifier(n_estimators=15, loss="exponential", random_state=0),
    lambda: HistGradientBoostingClassifier(max_iter=15, random_state=0),
]
TREE_REGRESSORS = [
    lambda: DecisionTreeRegressor(max_depth=8, random_state=0),
    lambda: RandomForestRegressor(n_estimators=15, max_depth=10, random_state=0),
    lambda: ExtraTreesRegressor(n_estimators=15, max_depth=10, random_state=0),
    lambda: GradientBoostingRegressor(n_estimators=15, random_state=0),
    lambda: GradientBoostingRegressor(n_estimators=15, loss="huber", random_state=0),
    lambda: HistGradientBoostingRegressor(max_iter=15, random_state=0),
]


@pytest.mark.parametrize("make", TREE_CLASSIFIERS)
def test_sklearn_trees_binary_breast_cancer_bit_identical(make):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    Xtr, Xte, ytr, _ = split(X, y, 150)
    est = make().fit(Xtr, ytr)
    model = kiln.from_sklearn(est)
    assert model.provenance["library"] == "scikit-learn"
    assert_bits(model, est, Xte)
    assert_bits(model, est, Xte.iloc[:1])  # a one-row batch


@pytest.mark.parametrize("make", TREE_REGRESSORS)
def test_sklearn_trees_regression_diabetes_bit_identical(make):
    X, y = load_diabetes(return_X_y=True)  # numpy: inputs are named x0..x9
    Xtr, Xte, ytr, _ = split(X, y, 120)
    est = make().fit(Xtr, ytr)
    model = kiln.from_sklearn(est)
    assert list(model.schema) == [f"x{i}" for i in range(10)]
    assert_bits(model, est, Xte)


@pytest.mark.parametrize(
    "make",
    [
        lambda: DecisionTreeClassifier(random_state=0),
        lambda: RandomForestClassifier(n_estimators=10, random_state=0),
        lambda: ExtraTreesClassifier(n_estimators=10, random_state=0),
    ],
)
@pytest.mark.parametrize("data", ["wine", "digits", "iris"])
def test_sklearn_forests_multiclass_bit_identical(make, data):
    loader = {"wine": load_wine, "digits": load_digits, "iris": load_iris}[data]
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, _ = split(X, y, len(X) // 4)
    est = make().fit(Xtr, ytr)
    model = kiln.from_sklearn(est)
    assert len(model.outputs) == len(np.unique(y))
    assert_bits(model, est, Xte)


@pytest.mark.parametrize(
    "make",
    [
        lambda: GradientBoostingClassifier(n_estimators=8, max_depth=2, random_state=0),
        lambda: HistGradientBoostingClassifier(max_iter=5, max_leaf_nodes=8, max_bins=64, random_state=0),
    ],
)
@pytest.mark.parametrize("data", ["wine", "digits"])
def test_sklearn_boosting_multiclass(make, data):
    X, y = {"wine": load_wine, "digits": load_digits}[data](return_X_y=True)
    Xtr, Xte, ytr, _ = split(X, y, len(X) // 4)
    est = make().fit(Xtr, ytr)
    model = kiln.from_sklearn(est)
    assert model.outputs == [f"proba_{c}" for c in est.classes_]
    assert_multiclass_boosting(model, est, Xte)


def test_sklearn_trees_statsmodels_fair_bit_identical():
    X, y = statsmodels_fair()
    Xtr, Xte, ytr, _ = split(X, y, 1000)
    for est in [RandomForestClassifier(n_estimators=10, max_depth=8, random_state=1), GradientBoostingClassifier(n_estimators=10, random_state=1)]:
        est.fit(Xtr, ytr)
        assert_bits(kiln.from_sklearn(est), est, Xte)


def test_sklearn_trees_learn_and_score_missing_values():
    df, score, label = generated()
    X = df[["a", "b"]]
    Xtr, Xte, ytr, _ = split(X, label, 400)
    Xte = pd.concat([Xte, all_nan_row(X)], ignore_index=True)
    for est in [
        DecisionTreeClassifier(max_depth=6, random_state=0),
        RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0),
        ExtraTreesClassifier(n_estimators=10, max_depth=6, random_state=0),
        HistGradientBoostingClassifier(max_iter=10, random_state=0),
    ]:
        est.fit(Xtr, ytr)
        assert_bits(kiln.from_sklearn(est), est, Xte)


def test_sklearn_hist_gradient_boosting_native_categoricals():
    """String categoricals with nulls and empty strings, an all-NaN row, a category seen only at
    scoring, a one-row and a zero-row batch."""
    df, score, label = generated()
    for col in ("c", "d"):
        df[col] = df[col].astype("category")
    Xtr, Xte, str_, ste = split(df, score, 400)
    Xtr = Xtr[Xtr["c"] != "violet"]  # "violet" is seen only at scoring
    str_ = score[Xtr.index]
    est = HistGradientBoostingRegressor(max_iter=20, random_state=0).fit(Xtr, str_)
    assert est.is_categorical_.tolist() == [False, False, True, True]
    model = kiln.from_sklearn(est)
    odd = pd.DataFrame(
        {"a": [np.nan, 0.3], "b": [np.nan, 1.0], "c": pd.Categorical([None, "never-seen"]), "d": pd.Categorical([None, ""])}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about unknown categories
        for X in (Xte, odd, Xte.iloc[:1]):
            assert (X["c"] == "violet").any() or X is not Xte
            assert_bits(model, est, X)
    empty = model.score(Xte.iloc[:0])
    assert len(empty) == 0 and list(empty.columns[:1]) == ["prediction"]

    clf = HistGradientBoostingClassifier(max_iter=15, random_state=0).fit(Xtr, label[Xtr.index])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_bits(kiln.from_sklearn(clf), clf, Xte)


def test_sklearn_penguins_hist_gradient_boosting_multiclass():
    X, y = penguins()
    X = X.astype({"island": "category", "sex": "category"})
    Xtr, Xte, ytr, _ = split(X, y, 100)
    est = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(Xtr, ytr)
    assert_multiclass_boosting(kiln.from_sklearn(est), est, Xte)


def test_sklearn_penguins_tree_pipeline_with_encoders():
    X, y = penguins()
    Xtr, Xte, ytr, _ = split(X, y, 100)
    num = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year"]
    pre = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), num),
            ("island", OneHotEncoder(handle_unknown="ignore", drop="first"), ["island"]),
            ("sex", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), ["sex"]),
        ]
    )
    est = make_pipeline(pre, RandomForestClassifier(n_estimators=10, random_state=0)).fit(Xtr, ytr)
    model = kiln.from_sklearn(est)
    assert_bits(model, est, Xte)
    odd = Xte.iloc[:3].copy()
    odd["island"] = ["Atlantis", "", None]
    odd["sex"] = ["unknown", "", None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_bits(model, est, odd)


# -- linear models and transformer pipelines: relative 1e-12 --------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: LinearRegression(),
        lambda: Ridge(alpha=0.5),
        lambda: Lasso(alpha=0.05),
        lambda: ElasticNet(alpha=0.05, l1_ratio=0.3),
        lambda: make_pipeline(StandardScaler(), PolynomialFeatures(degree=2), Ridge(alpha=1.0)),
        lambda: make_pipeline(MinMaxScaler(clip=True), PolynomialFeatures(degree=2, interaction_only=True, include_bias=False), LinearRegression()),
        lambda: make_pipeline(RobustScaler(), LinearRegression()),
        lambda: make_pipeline(FunctionTransformer(np.log1p), StandardScaler(), Ridge()),
        lambda: make_pipeline(KBinsDiscretizer(n_bins=4, encode="onehot-dense", quantile_method="averaged_inverted_cdf"), Ridge()),
        lambda: make_pipeline(KBinsDiscretizer(n_bins=5, encode="ordinal", strategy="uniform"), LinearRegression()),
    ],
)
def test_sklearn_linear_regression_diabetes(make):
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    Xtr, Xte, ytr, _ = split(X, y, 120)
    est = make().fit(Xtr, ytr)
    assert_rel(kiln.from_sklearn(est), est, Xte)


def test_sklearn_kbins_and_tree_bit_identical():
    X, y = load_iris(return_X_y=True, as_frame=True)
    Xtr, Xte, ytr, _ = split(X, y, 50)
    est = make_pipeline(KBinsDiscretizer(n_bins=6, encode="ordinal", quantile_method="averaged_inverted_cdf"), DecisionTreeClassifier(random_state=0))
    est.fit(Xtr, ytr)
    assert_bits(kiln.from_sklearn(est), est, Xte)


@pytest.mark.parametrize("data", ["breast_cancer", "wine", "digits"])
def test_sklearn_logistic_regression(data):
    loader = {"breast_cancer": load_breast_cancer, "wine": load_wine, "digits": load_digits}[data]
    X, y = loader(return_X_y=True)
    Xtr, Xte, ytr, _ = split(X, y, len(X) // 4)
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(Xtr, ytr)
    model = kiln.from_sklearn(est)
    assert_rel(model, est, Xte)
    assert_rel(model, est, Xte[:1])


def test_sklearn_penguins_column_transformer_logistic():
    X, y = penguins()
    Xtr, Xte, ytr, _ = split(X, y, 100)
    num = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="mean"), StandardScaler()), num),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")), ["island", "sex"]),
        ],
        remainder="passthrough",  # year
    )
    est = make_pipeline(pre, LogisticRegression(max_iter=2000)).fit(Xtr, ytr)
    model = kiln.from_sklearn(est)
    assert "year" in model.schema
    assert_rel(model, est, Xte)
    odd = Xte.iloc[:4].copy()
    odd["island"] = ["Atlantis", "", None, "Dream"]
    odd[num] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_rel(model, est, odd)


def test_sklearn_statsmodels_grunfeld_one_hot_ridge():
    import statsmodels.api as sm

    d = sm.datasets.grunfeld.load_pandas().data
    y = d.pop("invest").to_numpy()
    Xtr, Xte, ytr, _ = split(d, y, 50)
    pre = ColumnTransformer([("firm", OneHotEncoder(drop="if_binary"), ["firm"])], remainder=StandardScaler())
    est = make_pipeline(pre, Ridge(alpha=0.1)).fit(Xtr, ytr)
    assert_rel(kiln.from_sklearn(est), est, Xte)


def test_sklearn_unknown_category_under_handle_unknown_error_is_flagged():
    X, y = penguins()
    Xtr, Xte, ytr, _ = split(X, y, 50)
    pre = ColumnTransformer([("island", OneHotEncoder(handle_unknown="error", drop="first"), ["island"])], remainder="drop")
    est = make_pipeline(pre, LogisticRegression()).fit(Xtr, ytr)
    model = kiln.from_sklearn(est)
    odd = Xte.iloc[:3].copy()
    odd["island"] = ["Atlantis", "Biscoe", "Dream"]
    r = model.score(odd)
    assert r["status"].tolist()[0] == 2 and "island" in r["reason"].tolist()[0]
    assert r["status"].tolist()[1:] == [0, 0]
    with pytest.raises(ValueError):
        est.predict_proba(odd.iloc[:1])  # scikit-learn refuses it too


def test_sklearn_generated_pipeline_gradient_boosting_bit_identical():
    df, score, label = generated()
    Xtr, Xte, ytr, _ = split(df, label, 300)
    pre = ColumnTransformer(
        [
            ("num", SimpleImputer(strategy="median"), ["a", "b"]),
            ("c", make_pipeline(SimpleImputer(strategy="constant", fill_value="none"), OneHotEncoder(handle_unknown="ignore")), ["c"]),
            ("d", OrdinalEncoder(), ["d"]),
        ]
    )
    est = make_pipeline(pre, GradientBoostingClassifier(n_estimators=10, random_state=0)).fit(Xtr, ytr)
    model = kiln.from_sklearn(est)
    assert_bits(model, est, Xte)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = pd.concat([Xte.iloc[:2], all_nan_row(df).assign(d=pd.array(["north"], dtype="str"))], ignore_index=True)
        assert_bits(model, est, X)


# -- errors and provenance ------------------------------------------------------------------------


def test_sklearn_unsupported_estimators_are_named():
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.preprocessing import Normalizer

    X, y = load_iris(return_X_y=True)
    with pytest.raises(kiln.InvalidModelError, match="KNeighborsClassifier"):
        kiln.from_sklearn(KNeighborsClassifier().fit(X, y))
    with pytest.raises(kiln.InvalidModelError, match="Normalizer"):
        kiln.from_sklearn(make_pipeline(Normalizer(), LogisticRegression()).fit(X, y))
    with pytest.raises(kiln.InvalidModelError, match="FunctionTransformer"):
        kiln.from_sklearn(make_pipeline(FunctionTransformer(np.sqrt), LogisticRegression()).fit(X, y))
    with pytest.raises(kiln.InvalidModelError, match="PolynomialFeatures"):
        kiln.from_sklearn(make_pipeline(PolynomialFeatures(degree=3), LinearRegression()).fit(X, y))


def test_sklearn_text_pipelines_match_within_1e_12():
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

    rng = np.random.default_rng(7)
    words = ["Red", "fox", "blue", "sky", "Zürich", "naïve", "run_fast", "42", "a", "x"]
    docs = [" ".join(rng.choice(words, size=rng.integers(0, 9))) + rng.choice(["", ".", "!"]) for _ in range(300)]
    df = pd.DataFrame({"t": docs, "x": rng.normal(size=300)})
    y = (df["x"] + df["t"].str.contains("fox") > 0.5).astype(int)
    count = make_pipeline(ColumnTransformer([("t", CountVectorizer(), "t"), ("x", "passthrough", ["x"])]), Ridge()).fit(df, y)
    assert_rel(kiln.from_sklearn(count), count, df)
    tfidf = make_pipeline(
        ColumnTransformer([("t", TfidfVectorizer(ngram_range=(1, 2)), "t"), ("x", StandardScaler(), ["x"])]),
        LogisticRegression(max_iter=500),
    ).fit(df, y)
    unseen = pd.DataFrame({"t": ["", "blue whale only at scoring", "FOX fox"], "x": [0.0, 1.0, -1.0]})
    assert_rel(kiln.from_sklearn(tfidf), tfidf, pd.concat([df, unseen], ignore_index=True))


def test_sklearn_model_saves_and_records_provenance(tmp_path):
    X, y = load_iris(return_X_y=True, as_frame=True)
    est = RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y)
    model = kiln.from_sklearn(est, sample=X)
    assert model.has_reference_profile
    assert kiln.from_sklearn(est).has_reference_profile is False
    prov = model.provenance
    assert prov["library_version"] == sklearn.__version__
    assert prov["params"]["estimator"] == "RandomForestClassifier"
    assert prov["params"]["params"]["n_estimators"] == 3
    path = tmp_path / "rf.kiln"
    model.save(path)
    again = kiln.load(path)
    assert again.fingerprint == model.fingerprint
    assert_bits(again, est, X)


def test_sklearn_encoders_with_missing_as_a_category_and_exp_link():
    X, y = penguins()
    Xtr, Xte, _, _ = split(X, y, 100)
    target = Xtr["body_mass_g"].fillna(4000.0).to_numpy() / 1000.0
    pre = ColumnTransformer(
        [
            ("sex", OneHotEncoder(handle_unknown="ignore"), ["sex"]),  # NaN is a fitted category
            ("island", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1, encoded_missing_value=-2), ["island"]),
            ("num", SimpleImputer(), ["bill_length_mm", "flipper_length_mm"]),
        ]
    )
    assert any(isinstance(c, float) for c in pre.fit(Xtr).named_transformers_["sex"].categories_[0])
    odd = Xte.iloc[:4].copy()
    odd["sex"] = [None, "other", "", "male"]
    odd["island"] = [None, "Atlantis", "", "Dream"]
    for final in (Ridge(), HistGradientBoostingRegressor(loss="poisson", max_iter=10, random_state=0)):
        est = make_pipeline(pre, final).fit(Xtr, target)
        model = kiln.from_sklearn(est)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if isinstance(final, Ridge):
                assert_rel(model, est, Xte)
                assert_rel(model, est, odd)
            else:  # exp link: numpy's vectorized exp, within an ulp (see top)
                for X in (Xte, odd):
                    assert ulps(kiln_scores(model, X), reference(est, X)).max() <= 1
