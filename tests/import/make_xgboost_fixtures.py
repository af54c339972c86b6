"""Generate the XGBoost import fixtures under tests/data/xgboost/<case>/.

Each case trains a small model with fixed seeds on data bundled with scikit-learn (no
downloads) and writes:
  model.json     Booster.save_raw("json")
  input.json     {"columns": {name: [float | null]}}: held-out rows, plus an all-NaN row;
                 null stands for NaN
  expected.json  {"xgboost": version, "outputs": [[hex u64 of float64, ...] per output],
                  "iterations": "all" | "best", optional "classes": [...] for multi:softmax}
                 Outputs are Booster.predict's float32 results widened to float64.

Run with a venv that has xgboost, numpy, scikit-learn and pandas:
  python3 -m venv /tmp/xgbenv && /tmp/xgbenv/bin/pip install xgboost numpy scikit-learn pandas
  /tmp/xgbenv/bin/python tests/import/make_xgboost_fixtures.py
"""
import json
import os
import struct

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris, load_wine

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "xgboost")


def hexbits(x):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(x)))[0]


def split(X, y, n_test, seed):
    rng = np.random.RandomState(seed)
    idx = rng.permutation(len(y))
    return X[idx[n_test:]], y[idx[n_test:]], X[idx[:n_test]], y[idx[:n_test]]


def inject_nans(X, frac, seed):
    X = X.copy()
    rng = np.random.RandomState(seed)
    X[rng.rand(*X.shape) < frac] = np.nan
    return X


def write(case, booster, X_test, names, iteration_range=None, classes=None, softprob_expected=None, iterations_label=None,
          same_inplace=True):
    d = os.path.join(OUT, case)
    os.makedirs(d, exist_ok=True)
    # An all-NaN row: every split takes its default direction.
    X_test = np.vstack([X_test, np.full((1, X_test.shape[1]), np.nan)])
    with open(os.path.join(d, "model.json"), "wb") as f:
        f.write(booster.save_raw("json"))
    cols = {n: [None if np.isnan(v) else float(v) for v in X_test[:, j]] for j, n in enumerate(names)}
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({"columns": cols}, f)
    dm = xgb.DMatrix(X_test, feature_names=names, enable_categorical=False)
    kw = {} if iteration_range is None else {"iteration_range": iteration_range}
    if softprob_expected is not None:
        pred = softprob_expected(dm, kw)
    else:
        pred = booster.predict(dm, **kw)
        # inplace_predict on the float64 array gives the same bits: kiln matches both.
        inplace = booster.inplace_predict(X_test, **kw)
        assert not same_inplace or np.array_equal(np.asarray(inplace).view(np.uint32), np.asarray(pred).view(np.uint32)), case
    pred = np.asarray(pred)
    if pred.ndim == 1:
        pred = pred[:, None]
    exp = {
        "xgboost": xgb.__version__,
        "iterations": iterations_label if iterations_label is not None else ("best" if iteration_range is not None else "all"),
        "outputs": [[hexbits(v) for v in pred[:, k]] for k in range(pred.shape[1])],
    }
    if classes is not None:
        exp["classes"] = [int(c) for c in classes(dm, kw)]
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump(exp, f)
    size = os.path.getsize(os.path.join(d, "model.json"))
    print(f"{case}: {len(X_test)} rows, {pred.shape[1]} outputs, model {size} bytes")


def main():
    # breast_cancer, binary:logistic, NaNs injected into training and test data.
    X, y = load_breast_cancer(return_X_y=True)
    names = [f"c{j}" for j in range(X.shape[1])]
    X = inject_nans(X, 0.1, 1)
    Xtr, ytr, Xte, _ = split(X, y, 40, 0)
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "seed": 0, "nthread": 1}
    b = xgb.train(params, xgb.DMatrix(Xtr, ytr, feature_names=names), 20)
    write("binary_logistic", b, Xte, names)

    # Margins far below -88.7, where XGBoost's Sigmoid caps expf's argument: the first tree's
    # leaves are pushed down by 90 (margins on both sides of -88.7) in the JSON and XGBoost itself predicts the edited model.
    j = json.loads(b.save_raw("json"))
    t0 = j["learner"]["gradient_booster"]["model"]["trees"][0]
    for i, left in enumerate(t0["left_children"]):
        if left == -1:
            t0["split_conditions"][i] = t0["split_conditions"][i] - 90.0
            t0["base_weights"][i] = t0["split_conditions"][i]
    extreme = xgb.Booster()
    extreme.load_model(bytearray(json.dumps(j).encode()))
    write("binary_extreme_margins", extreme, Xte, names)

    params["objective"] = "binary:logitraw"
    b = xgb.train(params, xgb.DMatrix(Xtr, ytr, feature_names=names), 10)
    write("binary_logitraw", b, Xte, names)

    # diabetes, reg:squarederror; no feature names in the model (f0..fN).
    X, y = load_diabetes(return_X_y=True)
    Xtr, ytr, Xte, _ = split(X, y, 40, 1)
    b = xgb.train({"objective": "reg:squarederror", "max_depth": 4, "seed": 0, "nthread": 1}, xgb.DMatrix(Xtr, ytr), 25)
    write("regression", b, Xte, [f"f{j}" for j in range(X.shape[1])])

    for obj in ["pseudohubererror", "absoluteerror", "squaredlogerror"]:
        b = xgb.train({"objective": "reg:" + obj, "max_depth": 3, "seed": 0, "nthread": 1}, xgb.DMatrix(Xtr, ytr), 10)
        write(obj, b, Xte, [f"f{j}" for j in range(X.shape[1])])

    # diabetes target as counts / positive values for the log-link objectives.
    yc = np.round(y / 25.0)
    b = xgb.train({"objective": "count:poisson", "max_depth": 3, "seed": 0, "nthread": 1}, xgb.DMatrix(Xtr, np.round(ytr / 25.0)), 20)
    write("poisson", b, Xte, [f"f{j}" for j in range(X.shape[1])])
    b = xgb.train({"objective": "reg:gamma", "max_depth": 3, "seed": 0, "nthread": 1}, xgb.DMatrix(Xtr, ytr), 15)
    write("gamma", b, Xte, [f"f{j}" for j in range(X.shape[1])])
    b = xgb.train({"objective": "reg:tweedie", "tweedie_variance_power": 1.3, "max_depth": 3, "seed": 0, "nthread": 1},
                  xgb.DMatrix(Xtr, ytr), 15)
    write("tweedie", b, Xte, [f"f{j}" for j in range(X.shape[1])])

    # Boosted random forest (num_parallel_tree 4), scored over iterations 1..3 only.
    b = xgb.train({"objective": "reg:squarederror", "num_parallel_tree": 4, "subsample": 0.7, "colsample_bynode": 0.6,
                   "max_depth": 3, "seed": 0, "nthread": 1}, xgb.DMatrix(Xtr, ytr), 4)
    write("forest_range", b, Xte, [f"f{j}" for j in range(X.shape[1])], iteration_range=(1, 3), iterations_label=[1, 3])

    # DART: leaves scaled by weight_drop at prediction.
    b = xgb.train({"booster": "dart", "rate_drop": 0.3, "skip_drop": 0.0, "objective": "reg:squarederror", "max_depth": 3,
                   "seed": 0, "nthread": 1}, xgb.DMatrix(Xtr, ytr), 12)
    w = json.loads(b.save_raw("json"))["learner"]["gradient_booster"].get("weight_drop", [])
    assert any(x != 1.0 for x in w), "dart fixture should have non-trivial tree weights"
    # DART's inplace_predict adds ((base + leaf) - base) * w, not leaf * w (gbtree.cc), which can
    # differ by an ulp; kiln reproduces predict (DMatrix).
    write("dart", b, Xte, [f"f{j}" for j in range(X.shape[1])], same_inplace=False)

    # iris, multi:softprob with NaNs.
    X, y = load_iris(return_X_y=True)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    X = inject_nans(X, 0.1, 2)
    Xtr, ytr, Xte, _ = split(X, y, 30, 2)
    params = {"objective": "multi:softprob", "num_class": 3, "max_depth": 3, "seed": 0, "nthread": 1}
    b = xgb.train(params, xgb.DMatrix(Xtr, ytr, feature_names=names), 10)
    write("multi_softprob", b, Xte, names)

    # wine, multi:softmax: predict gives the class; the probabilities come from the same trees
    # under multi:softprob.
    X, y = load_wine(return_X_y=True)
    names = [f"w{j}" for j in range(X.shape[1])]
    Xtr, ytr, Xte, _ = split(X, y, 30, 3)
    params = {"objective": "multi:softmax", "num_class": 3, "max_depth": 2, "seed": 0, "nthread": 1}
    b = xgb.train(params, xgb.DMatrix(Xtr, ytr, feature_names=names), 8)

    def softprob(dm, kw):
        c = b.copy()
        c.set_param({"objective": "multi:softprob"})
        return c.predict(dm, **kw)

    write("multi_softmax", b, Xte, names, classes=lambda dm, kw: b.predict(dm, **kw), softprob_expected=softprob)

    # Early stopping: best_iteration, predicted with iteration_range=(0, best + 1).
    X, y = load_breast_cancer(return_X_y=True)
    names = [f"c{j}" for j in range(X.shape[1])]
    Xtr, ytr, Xte, _ = split(X, y, 40, 4)
    Xva, yva = Xtr[:120], ytr[:120]
    Xtr, ytr = Xtr[120:], ytr[120:]
    params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.8, "seed": 0, "nthread": 1, "eval_metric": "logloss"}
    b = xgb.train(params, xgb.DMatrix(Xtr, ytr, feature_names=names), 60,
                  evals=[(xgb.DMatrix(Xva, yva, feature_names=names), "va")], early_stopping_rounds=5, verbose_eval=False)
    assert b.num_boosted_rounds() > b.best_iteration + 1, "early stopping did not cut the model short"
    write("early_stopping", b, Xte, names, iteration_range=(0, b.best_iteration + 1))

    # Native categorical splits on a pandas categorical column (+ NaN categories).
    rng = np.random.RandomState(5)
    n = 600
    cat = rng.randint(0, 12, n)
    x1 = rng.randn(n)
    yv = np.sin(cat * 1.3) * 2 + x1 + rng.randn(n) * 0.1
    df = pd.DataFrame({"shop": pd.Categorical(cat, categories=list(range(12))), "x1": x1})
    df.loc[rng.rand(n) < 0.05, "shop"] = np.nan
    df.loc[rng.rand(n) < 0.05, "x1"] = np.nan
    tr, te = df.iloc[:540], df.iloc[540:]
    b = xgb.train({"objective": "reg:squarederror", "max_depth": 4, "seed": 0, "nthread": 1, "max_cat_to_onehot": 1},
                  xgb.DMatrix(tr, yv[:540], enable_categorical=True), 15)
    d = os.path.join(OUT, "categorical")
    os.makedirs(d, exist_ok=True)
    te = pd.concat([te, pd.DataFrame({"shop": pd.Categorical([np.nan], categories=list(range(12))), "x1": [np.nan]})])
    with open(os.path.join(d, "model.json"), "wb") as f:
        f.write(b.save_raw("json"))
    codes = te["shop"].cat.codes.to_numpy()
    cols = {"shop": [None if c < 0 else float(c) for c in codes], "x1": [None if np.isnan(v) else float(v) for v in te["x1"]]}
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({"columns": cols}, f)
    pred = b.predict(xgb.DMatrix(te, enable_categorical=True))
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"xgboost": xgb.__version__, "iterations": "all", "outputs": [[hexbits(v) for v in pred]]}, f)
    print(f"categorical: {len(te)} rows")


if __name__ == "__main__":
    main()
