"""Generate the LightGBM import fixtures under tests/data/lightgbm/<case>/.

Each case trains a small LightGBM model with fixed seeds on data bundled with scikit-learn and
writes:
  model.txt      Booster.model_to_string()
  input.json     {"columns": {name: [hex f64 bits | null]}}   null = NaN (missing)
  expected.json  {"lightgbm_version": ..., "runs": [{"num_iteration": k, "outputs":
                 [[hex f64 bits per output] per row]}]}        num_iteration 0 = all
Values travel as hex u64 bit patterns so nothing is lost to decimal printing or parsing.

Run (needs: pip install lightgbm numpy scikit-learn pandas; nothing is downloaded at run time):
  python tests/import/make_lightgbm_fixtures.py [out_dir]
The Rust test tests/integration/import_lightgbm.rs only reads the committed files.
"""
import json
import os
import struct
import sys

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "data", "lightgbm")
SEED = 7


def hexbits(v):
    return "%016x" % struct.unpack("<Q", struct.pack("<d", float(v)))[0]


def names_of(raw):
    return [n.replace(" ", "_") for n in raw]


def held_out(x, rng, n):
    """n held-out rows plus the hard cases: an all-NaN row, an all-zero row, negative zeros,
    values around LightGBM's kZeroThreshold (1e-35f widened to double: inputs with |x| at or
    below it are read as 0.0), and infinities."""
    rows = x[rng.choice(len(x), size=min(n, len(x)), replace=False)].copy()
    d = x.shape[1]
    kzero = float(np.float32(1e-35))
    alt = lambda a, b: [a if i % 2 else b for i in range(d)]
    extra = np.array([
        [np.nan] * d,
        [0.0] * d,
        alt(1e-36, -1e-36),
        [-0.0] * d,
        [kzero] * d,
        [-kzero] * d,
        alt(1.00000001e-35, -1.00000001e-35),  # between 1e-35 and kZeroThreshold
        alt(np.inf, -np.inf),
    ])
    return np.vstack([rows, extra])


def write_case(case, booster, x, names, iterations=(0,), note=""):
    path = os.path.join(OUT, case)
    os.makedirs(path, exist_ok=True)
    text = booster.model_to_string()
    with open(os.path.join(path, "model.txt"), "w") as f:
        f.write(text)
    cols = {n: [None if np.isnan(v) else hexbits(v) for v in x[:, j]] for j, n in enumerate(names)}
    with open(os.path.join(path, "input.json"), "w") as f:
        json.dump({"columns": cols}, f, indent=0)
    runs = []
    for k in iterations:
        p = booster.predict(x, num_iteration=k if k > 0 else None)
        p = np.asarray(p, dtype=np.float64).reshape(len(x), -1)
        runs.append({"num_iteration": k, "outputs": [[hexbits(v) for v in row] for row in p]})
        # The single-row path must agree with the batch path (it is what a host's one-row call
        # is compared against).
        one = np.asarray(booster.predict(x[:1], num_iteration=k if k > 0 else None)).reshape(1, -1)
        assert (one.view(np.uint64) == p[:1].view(np.uint64)).all()
    with open(os.path.join(path, "expected.json"), "w") as f:
        json.dump({"lightgbm_version": lgb.__version__, "note": note, "runs": runs}, f, indent=0)
    size = os.path.getsize(os.path.join(path, "model.txt"))
    assert size < 300_000, (case, size)
    print(case, "model.txt", size, "bytes,", len(x), "rows")


def train(params, x, y, names, rounds, categorical="auto"):
    base = {"verbose": -1, "seed": SEED, "deterministic": True, "num_threads": 1}
    base.update(params)
    ds = lgb.Dataset(x, y, feature_name=names, categorical_feature=categorical, free_raw_data=False)
    return lgb.train(base, ds, num_boost_round=rounds)


def with_gaps(x, rng, nan_rate=0.1, zero_rate=0.05):
    x = x.copy()
    x[rng.random(x.shape) < nan_rate] = np.nan
    x[rng.random(x.shape) < zero_rate] = 0.0
    return x


def main():
    rng = np.random.default_rng(SEED)

    bc = load_breast_cancer()
    bc_names = names_of(bc.feature_names)
    xb = with_gaps(bc.data, rng)
    yb = bc.target.astype(float)
    m = train({"objective": "binary", "num_leaves": 15, "learning_rate": 0.2}, xb, yb, bc_names, 25)
    write_case("binary_nan", m, held_out(xb, rng, 40), bc_names, iterations=(0, 7),
               note="NaNs and zeros injected; missing type NaN")
    m = train({"objective": "binary", "sigmoid": 0.5, "num_leaves": 7}, xb, yb, bc_names, 15)
    write_case("binary_sigmoid_half", m, held_out(xb, rng, 30), bc_names,
               note="sigmoid:0.5")
    m = train({"objective": "binary", "sigmoid": 0.7, "num_leaves": 7}, xb, yb, bc_names, 15)
    write_case("binary_sigmoid_07", m, held_out(xb, rng, 30), bc_names,
               note="sigmoid:0.7: scaled_sigmoid, not foldable into the leaves")
    m = train({"objective": "cross_entropy", "num_leaves": 7}, xb, yb, bc_names, 15)
    write_case("cross_entropy", m, held_out(xb, rng, 30), bc_names)
    m = train({"objective": "binary", "boosting": "rf", "num_leaves": 15, "bagging_fraction": 0.7,
               "bagging_freq": 1, "feature_fraction": 0.8}, xb, yb, bc_names, 20)
    write_case("rf_binary", m, held_out(xb, rng, 30), bc_names, note="average_output")

    db = load_diabetes()
    db_names = names_of(db.feature_names)
    xd = with_gaps(db.data, rng, nan_rate=0.05, zero_rate=0.1)
    yd = db.target.astype(float)
    m = train({"objective": "regression", "num_leaves": 15}, xd, yd, db_names, 30)
    write_case("regression_l2", m, held_out(xd, rng, 40), db_names, iterations=(0, 1, 10))
    m = train({"objective": "huber", "num_leaves": 7}, xd, yd, db_names, 15)
    write_case("regression_huber", m, held_out(xd, rng, 20), db_names)
    m = train({"objective": "regression", "num_leaves": 15, "zero_as_missing": True}, xd, yd, db_names, 20)
    write_case("regression_zero_as_missing", m, held_out(xd, rng, 30), db_names, note="missing type Zero")
    m = train({"objective": "regression", "num_leaves": 15, "use_missing": False}, xd, yd, db_names, 20)
    write_case("regression_no_missing", m, held_out(xd, rng, 30), db_names, note="missing type None")
    m = train({"objective": "poisson", "num_leaves": 15}, xd, yd, db_names, 20)
    write_case("poisson", m, held_out(xd, rng, 30), db_names)
    m = train({"objective": "gamma", "num_leaves": 7}, xd, yd, db_names, 10)
    write_case("gamma", m, held_out(xd, rng, 20), db_names)
    m = train({"objective": "tweedie", "num_leaves": 7, "tweedie_variance_power": 1.3}, xd, yd, db_names, 10)
    write_case("tweedie", m, held_out(xd, rng, 20), db_names)
    m = train({"objective": "regression", "min_data_in_leaf": 250}, xd, yd, db_names, 5)
    assert m.num_trees() == 1  # no split is possible: one single-leaf tree, training stops
    write_case("constant_tree", m, held_out(xd, rng, 5), db_names, note="num_leaves=1")
    m = train({"objective": "regression", "linear_tree": True, "num_leaves": 4}, db.data, yd, db_names, 2)
    write_case("linear_tree", m, held_out(db.data, rng, 5), db_names, note="refused by kiln")

    wn = load_wine()
    wn_names = names_of(wn.feature_names)
    xw = with_gaps(wn.data, rng, nan_rate=0.05, zero_rate=0.02)
    yw = wn.target
    m = train({"objective": "multiclass", "num_class": 3, "num_leaves": 7, "min_data_in_leaf": 5}, xw, yw, wn_names, 15)
    write_case("multiclass_wine", m, held_out(xw, rng, 30), wn_names, iterations=(0, 4))
    m = train({"objective": "multiclassova", "num_class": 3, "num_leaves": 7, "min_data_in_leaf": 5, "sigmoid": 1.5},
              xw, yw, wn_names, 10)
    write_case("multiclassova_wine", m, held_out(xw, rng, 30), wn_names)

    # A pandas categorical feature: LightGBM stores the category list (pandas_categorical) and
    # splits on the integer codes with bitsets. Hosts hand kiln the codes.
    n = len(bc.data)
    colours = np.array(["red", "green", "blue", "amber", "violet", "teal", "grey", "pink"])
    codes = rng.integers(0, len(colours), size=n)
    yb2 = ((yb > 0.5) ^ (np.isin(codes, [1, 4, 6]) & (rng.random(n) < 0.8))).astype(float)
    df = pd.DataFrame(xb[:, :6], columns=bc_names[:6])
    df["colour"] = pd.Categorical(colours[codes], categories=list(colours))
    df.loc[rng.random(n) < 0.05, "colour"] = np.nan
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "seed": SEED, "deterministic": True,
              "num_threads": 1, "min_data_per_group": 5, "cat_smooth": 1.0, "max_cat_to_onehot": 2}
    m = lgb.train(params, lgb.Dataset(df, yb2), num_boost_round=20)
    assert m.pandas_categorical == [list(colours)], m.pandas_categorical
    test = df.sample(40, random_state=SEED).copy()
    x = test.assign(colour=test["colour"].cat.codes.astype(float).replace(-1.0, np.nan)).to_numpy(dtype=float)
    # The pandas path (codes from the stored category list) and the raw-code path agree.
    assert (m.predict(test) == m.predict(x)).all()
    d = x.shape[1]
    hard = np.array([
        [np.nan] * d,                                  # all missing
        list(x[0, :6]) + [np.nan],                     # unseen category: pandas maps it to NaN
        list(x[1, :6]) + [-1.0],                       # a negative code
        list(x[2, :6]) + [40.0],                       # a code beyond every bitset
        list(x[3, :6]) + [0.0],
        list(x[4, :6]) + [7.0],
        [0.0] * d,
    ])
    x = np.vstack([x, hard])
    write_case("categorical_pandas", m, x, list(df.columns),
               note="colour is pandas categorical; inputs are its codes, NaN for unseen/missing")


if __name__ == "__main__":
    main()
