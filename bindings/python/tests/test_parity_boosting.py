"""XGBoost and LightGBM parity: models trained here, with fixed seeds, on data that ships inside
packages (scikit-learn's bundled sets, palmerpenguins, statsmodels' `fair`), plus a generated table
with NaNs and string categories; kiln's scores on held-out rows must be bit-identical to the
library's own `predict` (XGBoost's float32 results compared after widening to float64).

Needs bindings/python/tests/requirements-boosting.txt; skipped where those are not installed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

xgb = pytest.importorskip("xgboost")
lgb = pytest.importorskip("lightgbm")
datasets = pytest.importorskip("sklearn.datasets")

import kiln  # noqa: E402

SEED = 7
ROUNDS = 25


# -- data ------------------------------------------------------------------------------------


def split(X: pd.DataFrame, y: np.ndarray, n_test: int = 40, seed: int = SEED):
    idx = np.random.RandomState(seed).permutation(len(X))
    te, tr = idx[:n_test], idx[n_test:]
    return X.iloc[tr].reset_index(drop=True), y[tr], X.iloc[te].reset_index(drop=True), y[te]


def with_nans(X: pd.DataFrame, frac: float, seed: int) -> pd.DataFrame:
    X = X.copy()
    mask = np.random.RandomState(seed).rand(*X.shape) < frac
    return X.mask(mask)


def add_all_nan_row(X: pd.DataFrame) -> pd.DataFrame:
    """Held-out rows plus one with every value missing: each split takes its default way."""
    row = pd.DataFrame({c: pd.Series([None], dtype=X[c].dtype) for c in X.columns})
    return pd.concat([X, row], ignore_index=True)


def sk(name: str):
    d = getattr(datasets, f"load_{name}")()
    cols = [f"x{j}" for j in range(d.data.shape[1])]
    return pd.DataFrame(d.data, columns=cols), d.target


def fair():
    """statsmodels' bundled `fair` (affairs) data: a non-negative, zero-heavy target."""
    sm_data = pytest.importorskip("statsmodels.datasets.fair")
    df = sm_data.load_pandas().data
    y = df["affairs"].to_numpy()
    return df.drop(columns=["affairs"]).astype(float), y


def penguins():
    """palmerpenguins: missing numbers and sexes, string categories (island, sex)."""
    pp = pytest.importorskip("palmerpenguins")
    df = pp.load_penguins()
    y = df["species"].map({"Adelie": 0, "Chinstrap": 1, "Gentoo": 2}).to_numpy()
    X = df.drop(columns=["species"])
    for c in ("island", "sex"):
        X[c] = X[c].astype("category")
    X["year"] = X["year"].astype(float)
    return X, y


SHOPS = ["north", "south", "", "east", "west", "centre"]


def generated(n: int = 1500, seed: int = SEED):
    """Numbers with NaNs and a string category column that includes the empty string."""
    rng = np.random.RandomState(seed)
    s = rng.randint(0, len(SHOPS), n)
    X = pd.DataFrame({
        "a": rng.randn(n),
        "b": rng.exponential(2.0, n),
        "shop": pd.Categorical(np.array(SHOPS)[s], categories=SHOPS),
    })
    y = X["a"] + np.cos(s * 1.3) * 2 + np.log1p(X["b"]) + rng.randn(n) * 0.1
    X.loc[rng.rand(n) < 0.08, "a"] = np.nan
    X.loc[rng.rand(n) < 0.05, "shop"] = np.nan
    return X, y.to_numpy()


# -- comparison ------------------------------------------------------------------------------


def kiln_scores(model: "kiln.Model", X: pd.DataFrame) -> np.ndarray:
    out = model.score(X)
    assert (out["status"] == 0).all(), out.loc[out["status"] != 0, "reason"].tolist()
    return np.column_stack([out[o].to_numpy(dtype=np.float64) for o in model.outputs])


def assert_bits(got: np.ndarray, want: np.ndarray, what: str) -> None:
    want = np.asarray(want)
    if want.ndim == 1:
        want = want[:, None]
    want64 = want.astype(np.float64)  # float32 → float64 is exact
    assert got.shape == want64.shape, (what, got.shape, want64.shape)
    diff = got.view(np.uint64) != want64.view(np.uint64)
    if diff.any():
        i, j = np.argwhere(diff)[0]
        pytest.fail(f"{what}: {diff.sum()} of {diff.size} values differ; first row {i} output {j}: "
                    f"kiln {got[i, j]!r}, library {want64[i, j]!r}")


def check_batches(model: "kiln.Model", X: pd.DataFrame, want: np.ndarray, what: str) -> None:
    """The whole batch, a single row and a 0-row batch."""
    assert_bits(kiln_scores(model, X), want, what)
    want2 = np.asarray(want).reshape(len(X), -1)
    assert_bits(kiln_scores(model, X.iloc[[len(X) - 1]]), want2[[len(X) - 1]], what + " (single row)")
    empty = model.score(X.iloc[:0])
    assert len(empty) == 0 and list(empty.columns[: len(model.outputs)]) == model.outputs


# -- XGBoost ---------------------------------------------------------------------------------


def xgb_train(params, X, y, rounds=ROUNDS, categorical=False):
    p = {"max_depth": 4, "eta": 0.3, "seed": SEED, "nthread": 2, **params}
    return xgb.train(p, xgb.DMatrix(X, y, enable_categorical=categorical), rounds)


def xgb_predict(b, X, **kw):
    return b.predict(xgb.DMatrix(X, enable_categorical=True), **kw)


def xgb_cases():
    Xb, yb = sk("breast_cancer")
    Xb = with_nans(Xb, 0.05, 1)
    Xd, yd = sk("diabetes")
    Xf, yf = fair()
    censored = np.where(np.random.RandomState(3).rand(len(yd)) < 0.3, -yd, yd)
    return {
        "reg:squarederror": ({"objective": "reg:squarederror"}, Xd, yd),
        "reg:logistic": ({"objective": "reg:logistic"}, Xb, yb.astype(float)),
        "binary:logistic": ({"objective": "binary:logistic"}, Xb, yb),
        "binary:logitraw": ({"objective": "binary:logitraw"}, Xb, yb),
        "multi:softprob": ({"objective": "multi:softprob", "num_class": 10, "max_depth": 3}, *sk("digits")),
        "count:poisson": ({"objective": "count:poisson"}, Xf, np.round(yf)),
        "reg:tweedie": ({"objective": "reg:tweedie", "tweedie_variance_power": 1.4}, Xf, yf),
        "reg:gamma": ({"objective": "reg:gamma"}, Xd, yd),
        "survival:cox": ({"objective": "survival:cox", "eta": 0.1}, Xd, censored),
    }


@pytest.mark.parametrize("objective", list(xgb_cases().keys()))
def test_xgboost_objectives(objective):
    params, X, y = xgb_cases()[objective]
    Xtr, ytr, Xte, _ = split(X, y)
    b = xgb_train(params, Xtr, ytr, rounds=20 if objective == "multi:softprob" else ROUNDS)
    Xte = add_all_nan_row(Xte)
    with kiln.from_xgboost(b) as m:
        assert m.provenance["library"] == "xgboost" and m.provenance["library_version"] == xgb.__version__
        assert m.provenance["params"]["objective"]["name"] == objective
        check_batches(m, Xte, xgb_predict(b, Xte), objective)
        # inplace_predict gives the same bits.
        assert_bits(kiln_scores(m, Xte), b.inplace_predict(Xte.to_numpy()), objective + " inplace")


def test_xgboost_softmax_class_is_the_first_argmax():
    X, y = sk("wine")
    Xtr, ytr, Xte, _ = split(X, y, 30)
    b = xgb_train({"objective": "multi:softmax", "num_class": 3, "max_depth": 2}, Xtr, ytr)
    soft = b.copy()
    soft.set_param({"objective": "multi:softprob"})
    with kiln.from_xgboost(b) as m:
        probs = kiln_scores(m, Xte)
        assert_bits(probs, xgb_predict(soft, Xte), "multi:softmax probabilities")
        assert (probs.argmax(axis=1) == xgb_predict(b, Xte)).all()


def test_xgboost_sklearn_wrapper_dart_ubjson_and_iteration_ranges(tmp_path):
    X, y = sk("iris")
    X = with_nans(X, 0.1, 2)
    Xtr, ytr, Xte, _ = split(X, y, 30)
    clf = xgb.XGBClassifier(n_estimators=20, max_depth=3, random_state=SEED, n_jobs=2).fit(Xtr, ytr)
    Xte = add_all_nan_row(Xte)
    with kiln.from_xgboost(clf) as m:
        check_batches(m, Xte, clf.predict_proba(Xte), "XGBClassifier")
    b = clf.get_booster()
    with kiln.from_xgboost(b, iteration_range=(3, 12)) as m:
        assert_bits(kiln_scores(m, Xte), xgb_predict(b, Xte, iteration_range=(3, 12)), "iteration_range")
    # UBJSON (XGBoost 3's default file format) and JSON files, and bytes.
    b.save_model(tmp_path / "m.ubj")
    b.save_model(tmp_path / "m.json")
    with kiln.from_xgboost(tmp_path / "m.ubj") as u, kiln.from_xgboost(str(tmp_path / "m.json")) as j, \
            kiln.from_xgboost((tmp_path / "m.ubj").read_bytes()) as ub:
        assert u.fingerprint == j.fingerprint == ub.fingerprint
        check_batches(u, Xte, xgb_predict(b, Xte), "ubj")

    Xd, yd = sk("diabetes")
    Xtr, ytr, Xte, _ = split(Xd, yd)
    dart = xgb_train({"booster": "dart", "rate_drop": 0.3, "skip_drop": 0.0, "objective": "reg:squarederror"}, Xtr, ytr, 15)
    with kiln.from_xgboost(dart) as m:
        check_batches(m, add_all_nan_row(Xte), xgb_predict(dart, add_all_nan_row(Xte)), "dart")

    # Early stopping: best_iteration, as predict(iteration_range=(0, best + 1)).
    Xb, yb = sk("breast_cancer")
    Xtr, ytr, Xte, _ = split(Xb, yb)
    es = xgb.train({"objective": "binary:logistic", "eta": 0.8, "seed": SEED, "nthread": 2}, xgb.DMatrix(Xtr[100:], ytr[100:]), 80,
                   evals=[(xgb.DMatrix(Xtr[:100], ytr[:100]), "va")], early_stopping_rounds=4, verbose_eval=False)
    assert es.num_boosted_rounds() > es.best_iteration + 1
    with kiln.from_xgboost(es, best_iteration=True) as m:
        assert_bits(kiln_scores(m, Xte), xgb_predict(es, Xte, iteration_range=(0, es.best_iteration + 1)), "best_iteration")


def test_xgboost_pandas_categories_penguins_and_generated():
    X, y = penguins()
    Xtr, ytr, Xte, _ = split(X, y, 60)
    b = xgb_train({"objective": "multi:softprob", "num_class": 3, "max_cat_to_onehot": 1}, Xtr, ytr, 15, categorical=True)
    Xte = add_all_nan_row(Xte)
    with kiln.from_xgboost(b) as m:
        assert m.schema["island"] == "categorical" and m.schema["sex"] == "categorical"
        check_batches(m, Xte, b.inplace_predict(Xte), "penguins")

    X, y = generated()
    Xtr, ytr, Xte, _ = split(X, y, 200)
    b = xgb_train({"objective": "reg:squarederror", "max_cat_to_onehot": 1}, Xtr, ytr, categorical=True)
    with kiln.from_xgboost(b) as m:
        # Scoring frames list categories in their own order; XGBoost re-codes by name.
        te = add_all_nan_row(Xte)
        te["shop"] = te["shop"].cat.reorder_categories(list(reversed(SHOPS)))
        assert (te["shop"] == "").any()
        check_batches(m, te, b.inplace_predict(te), "generated")
        # A category seen only at scoring: XGBoost 3.2 silently re-codes it to a neighbouring
        # training category (or raises, past the last); kiln gives the row a status instead.
        novel = te.head(3).copy()
        novel["shop"] = pd.Categorical(["nowhere", "north", "zz-top"], categories=["nowhere", "north", "zz-top"])
        out = m.score(novel)
        assert out["status"].tolist() == [2, 0, 2]
        assert out["reason"][0] == "unknown_category: shop"
        with pytest.raises(xgb.core.XGBoostError, match="not in the training set"):
            b.inplace_predict(novel)
        known = novel.iloc[[1]].assign(shop=pd.Categorical(["north"], categories=SHOPS))
        assert_bits(kiln_scores(m, novel.iloc[[1]]), b.inplace_predict(known), "known category beside unseen ones")


def test_xgboost_refusals_name_the_problem():
    X, y = sk("diabetes")
    lin = xgb.train({"booster": "gblinear", "nthread": 2}, xgb.DMatrix(X, y), 3)
    with pytest.raises(kiln.InvalidModelError, match="gblinear"):
        kiln.from_xgboost(lin)
    quantile = xgb.train({"objective": "reg:quantileerror", "quantile_alpha": 0.5, "nthread": 2}, xgb.DMatrix(X, y), 3)
    with pytest.raises(kiln.InvalidModelError, match="reg:quantileerror"):
        kiln.from_xgboost(quantile)
    ok = xgb.train({"objective": "reg:squarederror", "nthread": 2}, xgb.DMatrix(X, y), 3)
    with pytest.raises(kiln.InvalidArgumentError, match="outside"):
        kiln.from_xgboost(ok, iteration_range=(0, 99))
    with pytest.raises(kiln.InvalidArgumentError, match="from_xgboost takes"):
        kiln.from_xgboost(42)
    with pytest.raises(kiln.MalformedArtifactError):
        kiln.from_xgboost(b"{\"learner\": ")


# -- LightGBM --------------------------------------------------------------------------------


def lgb_train(params, X, y, rounds=ROUNDS, **kw):
    p = {"num_leaves": 15, "seed": SEED, "deterministic": True, "num_threads": 2, "verbose": -1, **params}
    return lgb.train(p, lgb.Dataset(X, y, **kw), rounds)


def lgb_cases():
    Xb, yb = sk("breast_cancer")
    Xb = with_nans(Xb, 0.05, 1)
    Xd, yd = sk("diabetes")
    Xf, yf = fair()
    frac = np.clip(yb * 0.8 + np.random.RandomState(4).rand(len(yb)) * 0.2, 0, 1)
    return {
        "regression": ({"objective": "regression"}, Xd, yd),
        "binary": ({"objective": "binary"}, Xb, yb),
        "multiclass": ({"objective": "multiclass", "num_class": 10, "num_leaves": 7, "max_bin": 16}, *sk("digits")),
        "multiclassova": ({"objective": "multiclassova", "num_class": 3}, *sk("wine")),
        "poisson": ({"objective": "poisson"}, Xf, yf),
        "gamma": ({"objective": "gamma"}, Xd, yd),
        "tweedie": ({"objective": "tweedie", "tweedie_variance_power": 1.3}, Xf, yf),
        "cross_entropy": ({"objective": "cross_entropy"}, Xb, frac),
    }


@pytest.mark.parametrize("objective", list(lgb_cases().keys()))
def test_lightgbm_objectives(objective):
    params, X, y = lgb_cases()[objective]
    Xtr, ytr, Xte, _ = split(X, y)
    b = lgb_train(params, Xtr, ytr, rounds=10 if objective == "multiclass" else ROUNDS)
    Xte = add_all_nan_row(Xte)
    with kiln.from_lightgbm(b) as m:
        assert m.provenance["library"] == "lightgbm"
        assert m.provenance["params"]["objective"] == objective
        check_batches(m, Xte, b.predict(Xte), objective)


def test_lightgbm_wrapper_files_and_num_iteration(tmp_path):
    X, y = sk("iris")
    X = with_nans(X, 0.1, 2)
    Xtr, ytr, Xte, _ = split(X, y, 30)
    clf = lgb.LGBMClassifier(n_estimators=20, num_leaves=7, random_state=SEED, n_jobs=2, verbose=-1).fit(Xtr, ytr)
    Xte = add_all_nan_row(Xte)
    with kiln.from_lightgbm(clf) as m:
        check_batches(m, Xte, clf.predict_proba(Xte), "LGBMClassifier")
    b = clf.booster_
    with kiln.from_lightgbm(b, num_iteration=7) as m:
        assert_bits(kiln_scores(m, Xte), b.predict(Xte, num_iteration=7), "num_iteration")
    b.save_model(tmp_path / "m.txt")
    with kiln.from_lightgbm(tmp_path / "m.txt") as f, kiln.from_lightgbm((tmp_path / "m.txt").read_bytes()) as fb:
        assert f.fingerprint == fb.fingerprint
        check_batches(f, Xte, b.predict(Xte), "text file")
    # Early stopping: predict's default is best_iteration, and so is from_lightgbm's.
    Xb, yb = sk("breast_cancer")
    Xtr, ytr, Xte, _ = split(Xb, yb)
    es = lgb.train({"objective": "binary", "learning_rate": 0.5, "verbose": -1, "seed": SEED, "num_threads": 2},
                   lgb.Dataset(Xtr[100:], ytr[100:]), 200, valid_sets=[lgb.Dataset(Xtr[:100], ytr[:100])],
                   callbacks=[lgb.early_stopping(3, verbose=False)], keep_training_booster=True)
    assert 0 < es.best_iteration < es.current_iteration()
    with kiln.from_lightgbm(es) as m:
        assert_bits(kiln_scores(m, Xte), es.predict(Xte), "best_iteration default")


def test_lightgbm_pandas_categories_penguins_and_generated():
    X, y = penguins()
    Xtr, ytr, Xte, _ = split(X, y, 60)
    b = lgb_train({"objective": "multiclass", "num_class": 3, "min_data_per_group": 5, "cat_smooth": 1.0}, Xtr, ytr, 15)
    Xte = add_all_nan_row(Xte)
    with kiln.from_lightgbm(b) as m:
        assert m.schema["island"] == "categorical"
        check_batches(m, Xte, b.predict(Xte), "penguins")

    X, y = generated()
    Xtr, ytr, Xte, _ = split(X, y, 200)
    b = lgb_train({"objective": "regression", "min_data_per_group": 5, "cat_smooth": 1.0, "max_cat_to_onehot": 2}, Xtr, ytr)
    with kiln.from_lightgbm(b) as m:
        te = add_all_nan_row(Xte)
        assert (te["shop"] == "").any()
        check_batches(m, te, b.predict(te), "generated")
        # Other category orders, a category seen only at scoring, and plain strings: LightGBM maps
        # unseen names to NaN (right at every categorical split), and so does kiln.
        novel = te.copy()
        novel["shop"] = pd.Categorical(
            ["nowhere" if i % 4 == 0 else v for i, v in enumerate(te["shop"].astype(object))],
            categories=["nowhere"] + list(reversed(SHOPS)),
        )
        check_batches(m, novel, b.predict(novel), "unseen categories")
        as_strings = novel.assign(shop=novel["shop"].astype(object))
        assert_bits(kiln_scores(m, as_strings), b.predict(novel), "strings for a category column")


def test_lightgbm_refusals_name_the_problem():
    X, y = sk("diabetes")
    lin = lgb_train({"objective": "regression", "linear_tree": True}, X, y, 3)
    with pytest.raises(kiln.InvalidModelError, match="linear trees"):
        kiln.from_lightgbm(lin)
    sq = lgb_train({"objective": "regression", "reg_sqrt": True}, X, y, 3)
    with pytest.raises(kiln.InvalidModelError, match="reg_sqrt"):
        kiln.from_lightgbm(sq)
    ok = lgb_train({"objective": "regression"}, X, y, 3)
    with pytest.raises(kiln.InvalidArgumentError, match="more than"):
        kiln.from_lightgbm(ok, num_iteration=50)
    with pytest.raises(kiln.InvalidArgumentError, match="not fitted"):
        kiln.from_lightgbm(lgb.LGBMRegressor())
    with pytest.raises(kiln.InvalidModelError, match="not a LightGBM text model"):
        kiln.from_lightgbm(b"hello")


def test_imported_models_save_and_load_with_the_same_fingerprint(tmp_path):
    X, y = sk("breast_cancer")
    b = xgb_train({"objective": "binary:logistic"}, X, y, 5)
    with kiln.from_xgboost(b) as m:
        m.save(tmp_path / "m.kiln")
        with kiln.load(tmp_path / "m.kiln") as again:
            assert again.fingerprint == m.fingerprint
            assert_bits(kiln_scores(again, X.head(10)), xgb_predict(b, X.head(10)), "saved")


def test_sample_becomes_the_reference_profile_and_scores_do_not_change():
    X, y = sk("breast_cancer")
    b = xgb_train({"objective": "binary:logistic"}, X, y, 5)
    with kiln.from_xgboost(b, sample=X) as m, kiln.from_xgboost(b) as plain:
        assert m.has_reference_profile and not plain.has_reference_profile
        assert m.fingerprint != plain.fingerprint
        assert_bits(kiln_scores(m, X.head(50)), xgb_predict(b, X.head(50)), "profiled")
        assert m.drift(X).ok
