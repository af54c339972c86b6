//! XGBoost JSON import: every fixture under tests/data/xgboost (made by
//! tests/import/make_xgboost_fixtures.py with XGBoost itself) must score bit-identically to
//! `Booster.predict`, over the whole held-out batch and row by row (single-row batches); and
//! unsupported or broken models must be refused with a message naming the problem.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, StringArray};
use kiln::artifact::{ModelSpec, OutputTransform, Step, UnknownCategory};
use kiln::import::xgboost::{Iterations, XgbImportOptions, from_json, from_ubjson};
use kiln::schema::ColumnType;
use kiln::{Artifact, Batch, KilnStatus, ScoreOptions, Scorer};
use serde_json::Value;

fn dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/xgboost").join(case)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

/// The input columns, in the model's feature order, nulls as None.
fn input(case: &str, features: &[String]) -> Vec<(String, Vec<Option<f64>>)> {
    let v = read_json(&dir(case).join("input.json"));
    features
        .iter()
        .map(|f| {
            let col = v["columns"][f].as_array().unwrap_or_else(|| panic!("{case}: input has no column '{f}'"));
            (f.clone(), col.iter().map(Value::as_f64).collect())
        })
        .collect()
}

fn batch_of(cols: &[(String, Vec<Option<f64>>)], rows: std::ops::Range<usize>) -> Batch {
    Batch::new(
        cols.iter()
            .map(|(n, v)| (n.clone(), Arc::new(Float64Array::from(v[rows.clone()].to_vec())) as ArrayRef))
            .collect(),
    )
    .unwrap()
}

fn import(case: &str, opts: &XgbImportOptions) -> Artifact {
    let bytes = std::fs::read(dir(case).join("model.json")).unwrap();
    from_json(&bytes, opts).unwrap_or_else(|e| panic!("{case}: import failed: {}", e.message()))
}

/// Import, round-trip through bytes, score, and compare bit for bit with XGBoost's outputs.
fn check_case(case: &str) -> Scorer {
    let expected = read_json(&dir(case).join("expected.json"));
    let iterations = match &expected["iterations"] {
        Value::String(s) if s == "best" => Iterations::Best,
        Value::Array(r) => Iterations::Range { begin: r[0].as_u64().unwrap() as usize, end: r[1].as_u64().unwrap() as usize },
        _ => Iterations::All,
    };
    let artifact = import(case, &XgbImportOptions { feature_names: None, iterations });
    assert_eq!(artifact.content.provenance.library, "xgboost");
    let version = expected["xgboost"].as_str().unwrap();
    assert!(version.starts_with(&artifact.content.provenance.library_version), "{case}: version {} vs {version}", artifact.content.provenance.library_version);
    let scorer = Scorer::from_bytes(&artifact.to_bytes().unwrap(), Some(&artifact.fingerprint)).unwrap();
    let features = artifact.content.model.features().to_vec();
    let cols = input(case, &features);
    let n = cols[0].1.len();
    let want: Vec<Vec<u64>> = expected["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_array().unwrap().iter().map(|h| u64::from_str_radix(h.as_str().unwrap(), 16).unwrap()).collect())
        .collect();
    assert_eq!(scorer.n_outputs(), want.len(), "{case}: output count");
    let scores = scorer.score(&batch_of(&cols, 0..n), &ScoreOptions::default()).unwrap();
    let mut mismatches = Vec::new();
    for (k, w) in want.iter().enumerate() {
        assert_eq!(w.len(), n, "{case}: expected rows");
        for (i, &bits) in w.iter().enumerate() {
            let got = scores.output(k)[i];
            if got.to_bits() != bits {
                mismatches.push(format!("row {i} output {k}: kiln {got:e} ({:016x}) xgboost {:e} ({bits:016x})", got.to_bits(), f64::from_bits(bits)));
            }
        }
    }
    assert!(mismatches.is_empty(), "{case}: {} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
    assert!(scores.status.iter().all(|&s| s == 0), "{case}: every row scores");
    let empty = scorer.score(&batch_of(&cols, 0..0), &ScoreOptions::default()).unwrap();
    assert!(empty.values.is_empty() && empty.status.is_empty(), "{case}: a 0-row batch gives no scores");
    // Single-row batches (including the last, all-NaN row) give the same bits.
    for i in [0, n - 1] {
        let one = scorer.score(&batch_of(&cols, i..i + 1), &ScoreOptions::default()).unwrap();
        for (k, w) in want.iter().enumerate() {
            assert_eq!(one.output(k)[0].to_bits(), w[i], "{case}: single-row batch, row {i} output {k}");
        }
    }
    scorer
}

#[test]
fn binary_logistic_with_nans() {
    check_case("binary_logistic");
}

#[test]
fn binary_logitraw() {
    check_case("binary_logitraw");
}

#[test]
fn regression_squarederror_default_feature_names() {
    let s = check_case("regression");
    assert_eq!(s.artifact().unwrap().content.model.features()[0], "f0");
}

#[test]
fn other_identity_regressions() {
    for case in ["pseudohubererror", "absoluteerror", "squaredlogerror"] {
        check_case(case);
    }
}

#[test]
fn parallel_trees_over_an_iteration_range() {
    let s = check_case("forest_range");
    match &s.artifact().unwrap().content.model {
        ModelSpec::TreeEnsemble(t) => assert_eq!(t.trees.len(), 8, "iterations 1..3 of 4 parallel trees each"),
        _ => unreachable!("xgboost imports are tree ensembles"),
    }
}

#[test]
fn poisson() {
    check_case("poisson");
}

#[test]
fn gamma() {
    check_case("gamma");
}

#[test]
fn tweedie() {
    check_case("tweedie");
}

#[test]
fn dart_scales_leaves_by_weight_drop() {
    check_case("dart");
}

#[test]
fn multi_softprob() {
    check_case("multi_softprob");
}

#[test]
fn multi_softmax_probabilities_and_classes() {
    let case = "multi_softmax";
    let s = check_case(case);
    // Booster.predict returns the class: the first maximum of the probabilities kiln returns.
    let expected = read_json(&dir(case).join("expected.json"));
    let classes: Vec<u64> = expected["classes"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
    let features = s.artifact().unwrap().content.model.features().to_vec();
    let cols = input(case, &features);
    let scores = s.score(&batch_of(&cols, 0..classes.len()), &ScoreOptions::default()).unwrap();
    for (i, &c) in classes.iter().enumerate() {
        let probs: Vec<f64> = (0..s.n_outputs()).map(|k| scores.output(k)[i]).collect();
        let argmax = (0..probs.len()).fold(0, |best, k| if probs[k] > probs[best] { k } else { best });
        assert_eq!(argmax as u64, c, "row {i}: {probs:?}");
    }
}

#[test]
fn early_stopping_best_iteration() {
    check_case("early_stopping");
    // All iterations is a different (longer) model than the best-iteration slice.
    let all = import("early_stopping", &XgbImportOptions::default());
    let best = import("early_stopping", &XgbImportOptions { feature_names: None, iterations: Iterations::Best });
    let n_trees = |a: &Artifact| match &a.content.model {
        ModelSpec::TreeEnsemble(t) => t.trees.len(),
        _ => unreachable!("xgboost imports are tree ensembles"),
    };
    assert_eq!(n_trees(&best), 10, "best_iteration 9 keeps iterations 0..=9");
    assert!(n_trees(&all) > n_trees(&best));
    let range = import("early_stopping", &XgbImportOptions { feature_names: None, iterations: Iterations::Range { begin: 0, end: 10 } });
    assert_eq!(range.content.model, best.content.model);
}

#[test]
fn categorical_splits() {
    let s = check_case("categorical");
    match &s.artifact().unwrap().content.model {
        ModelSpec::TreeEnsemble(t) => assert!(t.trees.iter().any(|t| !t.category_splits.is_empty()), "fixture has categorical splits"),
        _ => unreachable!("xgboost imports are tree ensembles"),
    }
}

#[test]
fn feature_names_override() {
    let names: Vec<String> = (0..10).map(|i| format!("x{i}")).collect();
    let a = import("regression", &XgbImportOptions { feature_names: Some(names.clone()), iterations: Iterations::All });
    assert_eq!(a.content.model.features(), &names[..]);
    let e = from_json(&std::fs::read(dir("regression").join("model.json")).unwrap(), &XgbImportOptions { feature_names: Some(names[..3].to_vec()), iterations: Iterations::All })
        .unwrap_err();
    assert_eq!(e.status(), KilnStatus::InvalidArgument);
    assert!(e.message().contains("3 feature names"), "{}", e.message());
}

#[test]
fn transforms_follow_objective() {
    let t = |case: &str| match import(case, &XgbImportOptions::default()).content.model {
        ModelSpec::TreeEnsemble(t) => t.transform,
        _ => unreachable!("xgboost imports are tree ensembles"),
    };
    assert_eq!(t("binary_logistic"), OutputTransform::Sigmoid);
    assert_eq!(t("binary_logitraw"), OutputTransform::Identity);
    assert_eq!(t("poisson"), OutputTransform::Exp);
    assert_eq!(t("multi_softprob"), OutputTransform::Softmax);
}

/// The binary fixture's JSON with `edit` applied.
fn edited(edit: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v = read_json(&dir("binary_logistic").join("model.json"));
    edit(&mut v);
    serde_json::to_vec(&v).unwrap()
}

fn refused(bytes: &[u8]) -> kiln::Error {
    from_json(bytes, &XgbImportOptions::default()).expect_err("import must refuse")
}

#[test]
fn refuses_unknown_objective() {
    let e = refused(&edited(|v| v["learner"]["objective"]["name"] = "survival:aft".into()));
    assert_eq!(e.status(), KilnStatus::InvalidModel);
    assert!(e.message().contains("objective 'survival:aft'"), "{}", e.message());
}

#[test]
fn refuses_gblinear() {
    let e = refused(&edited(|v| v["learner"]["gradient_booster"]["name"] = "gblinear".into()));
    assert_eq!(e.status(), KilnStatus::InvalidModel);
    assert!(e.message().contains("booster 'gblinear'"), "{}", e.message());
}

#[test]
fn refuses_dart_with_mismatched_weights() {
    let mut v = read_json(&dir("dart").join("model.json"));
    v["learner"]["gradient_booster"]["weight_drop"].as_array_mut().unwrap().pop();
    let e = refused(&serde_json::to_vec(&v).unwrap());
    assert!(e.message().contains("weight_drop has 11 weights for 12 trees"), "{}", e.message());
}

#[test]
fn refuses_malformed_json() {
    let e = refused(b"{\"learner\": [1, 2");
    assert_eq!(e.status(), KilnStatus::MalformedArtifact);
    assert!(e.message().contains("not valid JSON"), "{}", e.message());
    let e = refused(b"{\"version\": [3, 2, 0]}");
    assert_eq!(e.status(), KilnStatus::InvalidModel);
    assert!(e.message().contains("'learner'"), "{}", e.message());
}

#[test]
fn refuses_broken_trees() {
    let e = refused(&edited(|v| v["learner"]["gradient_booster"]["model"]["trees"][3]["left_children"][0] = 100000.into()));
    assert!(e.message().contains("tree 3") && e.message().contains("left child 100000"), "{}", e.message());
    let e = refused(&edited(|v| v["learner"]["gradient_booster"]["model"]["trees"][0]["split_indices"][0] = 99.into()));
    assert!(e.message().contains("feature 99"), "{}", e.message());
    let e = refused(&edited(|v| {
        v["learner"]["gradient_booster"]["model"]["trees"][1]["split_conditions"].as_array_mut().unwrap().pop();
    }));
    assert!(e.message().contains("'split_conditions'"), "{}", e.message());
    let e = refused(&edited(|v| v["learner"]["learner_model_param"]["base_score"] = "[half]".into()));
    assert!(e.message().contains("base_score '[half]'"), "{}", e.message());
    let e = refused(&edited(|v| v["learner"]["learner_model_param"]["base_score"] = "[5E-1,5E-1]".into()));
    assert!(e.message().contains("base_score has 2 values for 1 output groups"), "{}", e.message());
}

#[test]
fn refuses_best_iteration_when_absent() {
    let bytes = std::fs::read(dir("binary_logistic").join("model.json")).unwrap();
    let e = from_json(&bytes, &XgbImportOptions { feature_names: None, iterations: Iterations::Best }).unwrap_err();
    assert!(e.message().contains("best_iteration"), "{}", e.message());
    let e = from_json(&bytes, &XgbImportOptions { feature_names: None, iterations: Iterations::Range { begin: 0, end: 21 } }).unwrap_err();
    assert!(e.message().contains("0..21"), "{}", e.message());
}

fn c_last_error() -> String {
    let p = kiln::ffi::kiln_last_error();
    if p.is_null() {
        return String::new();
    }
    // SAFETY: kiln_last_error returns NULL or a NUL-terminated thread-local string.
    unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

#[test]
fn c_abi_import() {
    use kiln::ffi::*;
    use std::ffi::CStr;
    let bytes = std::fs::read(dir("multi_softprob").join("model.json")).unwrap();
    let expected = from_json(&bytes, &XgbImportOptions::default()).unwrap();
    let mut model: *const KilnModel = std::ptr::null();
    // SAFETY: valid string, buffer and out-pointer.
    let s = unsafe { kiln_model_import(c"xgboost-json".as_ptr(), bytes.as_ptr(), bytes.len(), &mut model) };
    assert_eq!(s, KilnStatus::Ok, "{}", c_last_error());
    let mut n = 0usize;
    let mut fp: *const std::ffi::c_char = std::ptr::null();
    // SAFETY: `model` is live; out-pointers are valid.
    unsafe {
        assert_eq!(kiln_model_num_outputs(model, &mut n), KilnStatus::Ok);
        assert_eq!(kiln_model_fingerprint(model, &mut fp), KilnStatus::Ok);
        // The same content as the Rust import, hence the same (bit-exact) model.
        assert_eq!(CStr::from_ptr(fp).to_str().unwrap(), expected.fingerprint);
        kiln_model_free(model);
    }
    assert_eq!(n, 3);

    let mut out: *const KilnModel = std::ptr::null();
    // SAFETY: as above; failures leave `out` untouched.
    unsafe {
        assert_eq!(kiln_model_import(c"lightgbm-zip".as_ptr(), bytes.as_ptr(), bytes.len(), &mut out), KilnStatus::InvalidArgument);
        assert!(c_last_error().contains("'lightgbm-zip'"), "{}", c_last_error());
        assert_eq!(kiln_model_import(c"xgboost-json".as_ptr(), b"{not json".as_ptr(), 9, &mut out), KilnStatus::MalformedArtifact);
        assert!(c_last_error().contains("not valid JSON"), "{}", c_last_error());
        let gblinear = edited(|v| v["learner"]["gradient_booster"]["name"] = "gblinear".into());
        assert_eq!(kiln_model_import(c"xgboost-json".as_ptr(), gblinear.as_ptr(), gblinear.len(), &mut out), KilnStatus::InvalidModel);
        assert!(c_last_error().contains("gblinear"), "{}", c_last_error());
        assert_eq!(kiln_model_import(std::ptr::null(), bytes.as_ptr(), bytes.len(), &mut out), KilnStatus::NullArgument);
        assert_eq!(kiln_model_import(c"xgboost-json".as_ptr(), std::ptr::null(), 5, &mut out), KilnStatus::NullArgument);
    }
    assert!(out.is_null());
}

#[test]
fn binary_margins_beyond_the_sigmoid_cap() {
    check_case("binary_extreme_margins");
}

#[test]
fn survival_cox_predicts_the_hazard_ratio() {
    let s = check_case("cox");
    let artifact = s.artifact().unwrap();
    let ModelSpec::TreeEnsemble(t) = &artifact.content.model else { panic!("trees") };
    assert_eq!(t.transform, OutputTransform::Exp);
    assert_eq!(s.artifact().unwrap().content.outputs[0].name, "hazard_ratio");
}

/// The fixture's columns as Arrow arrays: strings where the input holds strings.
fn mixed_batch(case: &str, rows: std::ops::Range<usize>) -> Batch {
    let v = read_json(&dir(case).join("input.json"));
    let cols = v["columns"].as_object().unwrap();
    Batch::new(
        cols.iter()
            .map(|(name, col)| {
                let col = &col.as_array().unwrap()[rows.clone()];
                let array: ArrayRef = if col.iter().any(Value::is_string) {
                    Arc::new(StringArray::from(col.iter().map(Value::as_str).collect::<Vec<_>>()))
                } else {
                    Arc::new(Float64Array::from(col.iter().map(Value::as_f64).collect::<Vec<_>>()))
                };
                (name.clone(), array)
            })
            .collect(),
    )
    .unwrap()
}

fn expected_bits(case: &str) -> Vec<Vec<u64>> {
    read_json(&dir(case).join("expected.json"))["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_array().unwrap().iter().map(|h| u64::from_str_radix(h.as_str().unwrap(), 16).unwrap()).collect())
        .collect()
}

#[test]
fn string_categories_recorded_in_the_model_score_by_name() {
    // Training categories north, south, "", east, west, centre; the scoring frame lists them in
    // another order plus "nowhere" (never seen in training), holds empty strings and missing
    // values. XGBoost 3.2 re-codes "nowhere" to "south" (its binary search lands there; it
    // raises only for names after every training category): kiln flags such rows instead.
    let case = "categorical_strings";
    let a = import(case, &XgbImportOptions::default());
    let shop = a.content.schema.column("shop").unwrap();
    assert_eq!(shop.ty, ColumnType::Categorical);
    assert_eq!(shop.categories.as_deref().unwrap(), ["north", "south", "", "east", "west", "centre"].map(String::from).as_slice());
    assert_eq!(shop.policy.unknown_category, kiln::schema::Policy::Flag);
    assert!(matches!(&a.content.pipeline[..], [Step::Ordinal { column, unknown: UnknownCategory::Slot, .. }] if column == "shop"));
    let scorer = Scorer::new(a).unwrap();
    let want = expected_bits(case);
    let n = want[0].len();
    let shops = read_json(&dir(case).join("input.json"))["columns"]["shop"].clone();
    let unseen: Vec<bool> = shops.as_array().unwrap().iter().map(|s| s.as_str() == Some("nowhere")).collect();
    assert_eq!(unseen.iter().filter(|&&u| u).count(), 2);
    let scores = scorer.score(&mixed_batch(case, 0..n), &ScoreOptions::default()).unwrap();
    let mut compared = 0;
    for (i, &w) in want[0].iter().enumerate() {
        if unseen[i] {
            assert_eq!(scores.status[i], kiln::RowStatus::UnknownCategory as i32, "row {i}");
            continue;
        }
        assert_eq!(scores.status[i], 0, "row {i}: {:?}", scores.report);
        let got = scores.output(0)[i];
        assert_eq!(got.to_bits(), w, "row {i}: kiln {got:e}, xgboost {:e}", f64::from_bits(w));
        compared += 1;
    }
    assert_eq!(compared, n - 2);
    for i in [0, n - 2] {
        let one = scorer.score(&mixed_batch(case, i..i + 1), &ScoreOptions::default()).unwrap();
        assert_eq!(one.output(0)[0].to_bits(), want[0][i], "single row {i}");
    }
}

#[test]
fn ubjson_models_import_to_the_same_artifact_as_json() {
    for case in ["binary_logistic", "multi_softprob", "dart", "categorical", "cox", "categorical_strings"] {
        let ubj = std::fs::read(dir(case).join("model.ubj")).unwrap();
        let json = std::fs::read(dir(case).join("model.json")).unwrap();
        let from_ubj = from_ubjson(&ubj, &XgbImportOptions::default()).unwrap_or_else(|e| panic!("{case}: {e}"));
        let from_json = from_json(&json, &XgbImportOptions::default()).unwrap();
        // Same content (thresholds and leaves are float32 in both), hence the same fingerprint
        // and the same predictions, which check_case compares with XGBoost's for the JSON file.
        assert_eq!(from_ubj.fingerprint, from_json.fingerprint, "{case}");
        assert_eq!(from_ubj.content, from_json.content, "{case}");
    }
    check_case("dart");
}

#[test]
fn refuses_damaged_ubjson() {
    let ubj = std::fs::read(dir("binary_logistic").join("model.ubj")).unwrap();
    for cut in [0, 1, 10, ubj.len() / 2, ubj.len() - 1] {
        let e = from_ubjson(&ubj[..cut], &XgbImportOptions::default()).unwrap_err();
        assert_eq!(e.status(), KilnStatus::MalformedArtifact, "cut at {cut}: {e}");
        assert!(e.message().contains("UBJSON"), "{e}");
    }
    // A JSON file given as UBJSON names the problem instead of guessing.
    let json = std::fs::read(dir("binary_logistic").join("model.json")).unwrap();
    let e = from_ubjson(&json, &XgbImportOptions::default()).unwrap_err();
    assert_eq!(e.status(), KilnStatus::MalformedArtifact, "{e}");
}

#[test]
fn c_abi_import_with_options_and_ubjson() {
    use kiln::ffi::*;
    use std::ffi::CStr;
    let fingerprint_of = |format: &std::ffi::CStr, bytes: &[u8], options: Option<&std::ffi::CStr>| -> Result<String, (KilnStatus, String)> {
        let mut model: *const KilnModel = std::ptr::null();
        let opts = options.map_or(std::ptr::null(), |o| o.as_ptr());
        // SAFETY: valid strings, buffer and out-pointer; the model is freed below.
        unsafe {
            let s = kiln_model_import_with(format.as_ptr(), bytes.as_ptr(), bytes.len(), opts, &mut model);
            if s != KilnStatus::Ok {
                assert!(model.is_null());
                return Err((s, c_last_error()));
            }
            let mut fp: *const std::ffi::c_char = std::ptr::null();
            assert_eq!(kiln_model_fingerprint(model, &mut fp), KilnStatus::Ok);
            let fp = CStr::from_ptr(fp).to_str().unwrap().to_owned();
            kiln_model_free(model);
            Ok(fp)
        }
    };
    let json = std::fs::read(dir("forest_range").join("model.json")).unwrap();
    let ranged = from_json(&json, &XgbImportOptions { feature_names: None, iterations: Iterations::Range { begin: 1, end: 3 } }).unwrap();
    assert_eq!(fingerprint_of(c"xgboost-json", &json, Some(c"{\"iteration_range\": [1, 3]}")).unwrap(), ranged.fingerprint);
    let all = from_json(&json, &XgbImportOptions::default()).unwrap();
    assert_eq!(fingerprint_of(c"xgboost-json", &json, None).unwrap(), all.fingerprint);
    assert_eq!(fingerprint_of(c"xgboost-json", &json, Some(c"")).unwrap(), all.fingerprint);
    let ubj = std::fs::read(dir("cox").join("model.ubj")).unwrap();
    let cox = from_json(&std::fs::read(dir("cox").join("model.json")).unwrap(), &XgbImportOptions::default()).unwrap();
    assert_eq!(fingerprint_of(c"xgboost-ubj", &ubj, None).unwrap(), cox.fingerprint);
    // The default-options entry reads UBJSON too.
    let mut model: *const KilnModel = std::ptr::null();
    // SAFETY: valid arguments; the model is freed.
    unsafe {
        assert_eq!(kiln_model_import(c"xgboost-ubj".as_ptr(), ubj.as_ptr(), ubj.len(), &mut model), KilnStatus::Ok, "{}", c_last_error());
        kiln_model_free(model);
    }
    let (s, msg) = fingerprint_of(c"xgboost-json", &json, Some(c"{\"num_iteration\": 2}")).unwrap_err();
    assert_eq!(s, KilnStatus::InvalidArgument);
    assert!(msg.contains("num_iteration"), "{msg}");
    let (s, msg) = fingerprint_of(c"xgboost-json", &json, Some(c"{\"iteration_range\": [0, 99]}")).unwrap_err();
    assert_eq!(s, KilnStatus::InvalidArgument);
    assert!(msg.contains("outside the model's 4 iterations"), "{msg}");
    let (s, msg) = fingerprint_of(c"xgboost-json", &json, Some(c"{\"iteration_range\": 3")).unwrap_err();
    assert_eq!(s, KilnStatus::InvalidArgument);
    assert!(msg.contains("import options"), "{msg}");
}
