"""XGBoost fixtures added after the first set (same format as make_xgboost_fixtures.py, which
this reuses): survival:cox, string categories recorded in the model (pandas category columns,
XGBoost >= 3.1; an unseen category is one XGBoost mis-codes, see import_xgboost.rs), and UBJSON copies (model.ubj, `save_raw("ubj")`) of a few models, which must
import to the same artifact as their model.json.

Run with the venv of make_xgboost_fixtures.sh:
  /tmp/xgbenv/bin/python tests/import/make_xgboost_extra_fixtures.py
"""
import json
import os

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.datasets import load_diabetes

from make_xgboost_fixtures import OUT, hexbits, inject_nans, split, write


def cox():
    # diabetes as survival times: the target is the time, a random 30% are censored (negative).
    X, y = load_diabetes(return_X_y=True)
    X = inject_nans(X, 0.05, 11)
    rng = np.random.RandomState(11)
    t = y.astype(float)
    t[rng.rand(len(t)) < 0.3] *= -1.0
    Xtr, ytr, Xte, _ = split(X, t, 40, 11)
    names = [f"f{j}" for j in range(X.shape[1])]
    b = xgb.train({"objective": "survival:cox", "max_depth": 3, "eta": 0.1, "seed": 0, "nthread": 1},
                  xgb.DMatrix(Xtr, ytr, feature_names=names), 20)
    write("cox", b, Xte, names)


def categorical_strings():
    # A pandas string category column: XGBoost records the names in the model (cats.enc) and
    # re-codes a scoring frame by name. The scoring frame lists its categories in another order,
    # holds a category never seen in training, an empty string, and missing values.
    rng = np.random.RandomState(12)
    n = 800
    shops = np.array(["north", "south", "", "east", "west", "centre"])
    s = rng.randint(0, len(shops), n)
    x1 = rng.randn(n)
    yv = np.cos(s * 1.1) * 2 + x1 + rng.randn(n) * 0.1
    df = pd.DataFrame({"x1": x1, "shop": pd.Categorical(shops[s], categories=list(shops))})
    df.loc[rng.rand(n) < 0.05, "shop"] = np.nan
    b = xgb.train({"objective": "reg:squarederror", "max_depth": 4, "seed": 0, "nthread": 1, "max_cat_to_onehot": 1},
                  xgb.DMatrix(df, yv, enable_categorical=True), 15)
    names_te = list(shops[rng.randint(0, len(shops), 40)]) + ["nowhere", "", None, "west", "nowhere"]
    x_te = list(rng.randn(len(names_te)))
    x_te[-1] = np.nan
    te = pd.DataFrame({"x1": x_te, "shop": pd.Categorical(names_te, categories=["west", "", "nowhere", "north", "south", "east", "centre"])})
    pred = b.inplace_predict(te)
    d = os.path.join(OUT, "categorical_strings")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.json"), "wb") as f:
        f.write(b.save_raw("json"))
    with open(os.path.join(d, "model.ubj"), "wb") as f:
        f.write(b.save_raw("ubj"))
    cols = {"x1": [None if np.isnan(v) else float(v) for v in te["x1"]], "shop": names_te}
    with open(os.path.join(d, "input.json"), "w") as f:
        json.dump({"columns": cols}, f)
    with open(os.path.join(d, "expected.json"), "w") as f:
        json.dump({"xgboost": xgb.__version__, "iterations": "all", "outputs": [[hexbits(v) for v in pred]]}, f)
    print(f"categorical_strings: {len(te)} rows")


def ubj_copies():
    for case in ["binary_logistic", "multi_softprob", "dart", "categorical", "cox"]:
        d = os.path.join(OUT, case)
        b = xgb.Booster()
        b.load_model(bytearray(open(os.path.join(d, "model.json"), "rb").read()))
        with open(os.path.join(d, "model.ubj"), "wb") as f:
            f.write(b.save_raw("ubj"))


if __name__ == "__main__":
    cox()
    categorical_strings()
    ubj_copies()
