//! LightGBM text-model import: parity with `Booster.predict`, bit for bit, on the fixtures made by
//! `tests/import/make_lightgbm_fixtures.py` (LightGBM's own predictions are stored as f64 bit
//! patterns; nothing here needs LightGBM), and the refusals.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, StringArray};
use kiln::artifact::{Aggregate, Missing, ModelSpec, OutputTransform, Step, UnknownCategory};
use kiln::error::KilnStatus;
use kiln::schema::{ColumnType, Policy};
use kiln::import::lightgbm::{from_text, LgbmImportOptions, FORMAT_NAME};
use kiln::{Artifact, Batch, ScoreOptions, Scorer};
use serde_json::Value;

const CASES: &[&str] = &[
    "binary_nan",
    "binary_sigmoid_half",
    "binary_sigmoid_07",
    "cross_entropy",
    "rf_binary",
    "regression_l2",
    "regression_huber",
    "constant_tree",
    "regression_zero_as_missing",
    "regression_no_missing",
    "poisson",
    "gamma",
    "tweedie",
    "multiclass_wine",
    "multiclassova_wine",
    "categorical_pandas",
];

fn dir(case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lightgbm").join(case)
}

fn read(case: &str, file: &str) -> String {
    let p = dir(case).join(file);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn bits(v: &Value) -> f64 {
    f64::from_bits(u64::from_str_radix(v.as_str().expect("hex string"), 16).expect("hex u64"))
}

/// The fixture's input rows as a batch: (name, values), `None` for a missing value.
fn input(case: &str) -> Vec<(String, Vec<Option<f64>>)> {
    let v: Value = serde_json::from_str(&read(case, "input.json")).unwrap();
    v["columns"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(name, col)| (name.clone(), col.as_array().unwrap().iter().map(|x| if x.is_null() { None } else { Some(bits(x)) }).collect()))
        .collect()
}

/// `categorical_pandas`'s category column, as the training DataFrame listed its categories.
const COLOURS: [&str; 8] = ["red", "green", "blue", "amber", "violet", "teal", "grey", "pink"];

/// The fixture stores the `colour` codes LightGBM split on; a pandas host passes the strings, so
/// each code becomes its category's name, and a code outside the list (-1, 40) a name LightGBM
/// never saw, which it and kiln both send right at every categorical split.
fn colour_names(codes: &[Option<f64>]) -> ArrayRef {
    let names: Vec<Option<&str>> = codes
        .iter()
        .map(|c| c.map(|c| if c >= 0.0 && (c as usize) < COLOURS.len() { COLOURS[c as usize] } else { "never-seen" }))
        .collect();
    Arc::new(StringArray::from(names))
}

fn batch(cols: &[(String, Vec<Option<f64>>)], rows: std::ops::Range<usize>) -> Batch {
    let arrays: Vec<(String, ArrayRef)> = cols
        .iter()
        .map(|(n, v)| {
            let values = &v[rows.clone()];
            let array = if n == "colour" { colour_names(values) } else { Arc::new(Float64Array::from(values.to_vec())) as ArrayRef };
            (n.clone(), array)
        })
        .collect();
    Batch::new(arrays).unwrap()
}

/// Import, save and reload through the artifact bytes (what a host loads), and score.
fn score(text: &str, opts: &LgbmImportOptions, batch: &Batch) -> (Artifact, kiln::Scores) {
    let artifact = from_text(text, opts).unwrap_or_else(|e| panic!("import: {e}"));
    let bytes = artifact.to_bytes().unwrap();
    let scorer = Scorer::from_bytes(&bytes, Some(&artifact.fingerprint)).unwrap();
    let scores = scorer.score(batch, &ScoreOptions { n_threads: 2 }).unwrap();
    (artifact, scores)
}

#[test]
fn predictions_are_bit_identical_to_lightgbm() {
    let mut compared = 0;
    let mut flagged = 0;
    for case in CASES {
        let text = read(case, "model.txt");
        let expected: Value = serde_json::from_str(&read(case, "expected.json")).unwrap();
        let cols = input(case);
        let n = cols[0].1.len();
        let full = batch(&cols, 0..n);
        for run in expected["runs"].as_array().unwrap() {
            let k = run["num_iteration"].as_u64().unwrap() as usize;
            let opts = LgbmImportOptions { num_iteration: Some(k), ..Default::default() };
            let (artifact, scores) = score(&text, &opts, &full);
            let rows = run["outputs"].as_array().unwrap();
            assert_eq!(rows.len(), n, "{case}");
            let n_out = rows[0].as_array().unwrap().len();
            assert_eq!(artifact.content.model.n_outputs(), n_out, "{case}");
            let flags_infinities = artifact.content.schema.columns.iter().any(|c| c.policy.non_finite != Policy::Allow);
            for (i, row) in rows.iter().enumerate() {
                let has_infinity = cols.iter().any(|(_, v)| v[i].is_some_and(f64::is_infinite));
                if flags_infinities && has_infinity {
                    // A split moved from an infinite threshold to f64::MAX: infinite inputs get a
                    // row status instead of a score that could differ from LightGBM's.
                    assert_ne!(scores.status[i], 0, "{case} row {i}: an infinite input was scored");
                    flagged += 1;
                    continue;
                }
                assert_eq!(scores.status[i], 0, "{case} row {i} was not scored: {:?}", scores.report);
                for (j, want) in row.as_array().unwrap().iter().enumerate() {
                    let want = bits(want);
                    let got = scores.output(j)[i];
                    assert_eq!(got.to_bits(), want.to_bits(), "{case} num_iteration={k} row {i} output {j}: kiln {got:e}, LightGBM {want:e}");
                    compared += 1;
                }
            }
            // A single-row batch takes the same path and gives the same bits.
            let (_, one) = score(&text, &opts, &batch(&cols, n - 1..n));
            for j in 0..n_out {
                assert_eq!(one.output(j)[0].to_bits(), scores.output(j)[n - 1].to_bits(), "{case} single row, output {j}");
            }
        }
    }
    eprintln!("{compared} values compared, all bit-identical; {flagged} rows with infinities flagged");
    assert!(flagged > 0 && flagged < 5, "{flagged} rows flagged");
    assert!(compared > 500, "only {compared} values compared");
}

#[test]
fn fixtures_exercise_every_missing_type_categories_and_average() {
    let spec = |case: &str| match from_text(&read(case, "model.txt"), &LgbmImportOptions::default()).unwrap().content.model {
        ModelSpec::TreeEnsemble(t) => t,
        other => panic!("{case}: {other:?}"),
    };
    let has = |case: &str, m: Missing| spec(case).trees.iter().any(|t| t.feature.iter().zip(&t.missing).any(|(f, x)| *f >= 0 && *x == m));
    assert!(has("binary_nan", Missing::Nan));
    assert!(has("regression_zero_as_missing", Missing::Zero));
    assert!(has("regression_no_missing", Missing::AsZero));
    assert!(spec("binary_nan").trees.iter().any(|t| t.default_left.iter().any(|d| *d)));
    assert!(spec("categorical_pandas").trees.iter().any(|t| !t.category_splits.is_empty()));
    assert_eq!(spec("rf_binary").aggregate, Aggregate::Average);
    assert_eq!(spec("multiclass_wine").transform, OutputTransform::Softmax);
    assert_eq!(spec("multiclassova_wine").transform, OutputTransform::ScaledSigmoid { scale: 1.5 });
    assert_eq!(spec("binary_sigmoid_07").transform, OutputTransform::ScaledSigmoid { scale: 0.7 });
    assert_eq!(spec("binary_nan").transform, OutputTransform::Sigmoid);
    assert_eq!(spec("poisson").transform, OutputTransform::Exp);
    let mc = spec("multiclass_wine");
    assert_eq!(mc.n_targets, 3);
    assert!(mc.trees.iter().enumerate().all(|(i, t)| t.target as usize == i % 3));
}

#[test]
fn provenance_records_library_version_params_and_pandas_categories() {
    let a = from_text(&read("categorical_pandas", "model.txt"), &LgbmImportOptions::default()).unwrap();
    let p = &a.content.provenance;
    assert_eq!(p.library, "lightgbm");
    assert_eq!(p.library_version, "v4");
    assert_eq!(p.params["objective"], "binary");
    assert_eq!(p.params["pandas_categorical"][0][0], "red");
    assert_eq!(p.params["pandas_categorical"][0].as_array().unwrap().len(), 8);
    assert_eq!(a.content.schema.columns.len(), 7);
    assert_eq!(a.content.schema.columns[6].name, "colour");
    assert_eq!(FORMAT_NAME, "lightgbm-text");
}

#[test]
fn pandas_categories_become_a_string_column_with_an_ordinal_step() {
    let a = from_text(&read("categorical_pandas", "model.txt"), &LgbmImportOptions::default()).unwrap();
    let colour = a.content.schema.column("colour").unwrap();
    assert_eq!(colour.ty, ColumnType::Categorical);
    assert_eq!(colour.categories.as_deref().unwrap(), COLOURS.map(String::from).as_slice());
    // An unseen category is scored (as LightGBM scores it), not flagged.
    assert_eq!(colour.policy.unknown_category, Policy::Allow);
    assert!(matches!(
        a.content.pipeline.as_slice(),
        [Step::Ordinal { column, unknown: UnknownCategory::Ignore, unknown_value: None, output: None, .. }] if column == "colour"
    ));
    // The other features stay numeric.
    assert!(a.content.schema.columns.iter().filter(|c| c.name != "colour").all(|c| c.ty == ColumnType::Float64));
    // Codes where strings are expected: a clear error naming the column, not a guess.
    let cols = input("categorical_pandas");
    let codes: Vec<(String, ArrayRef)> =
        cols.iter().map(|(n, v)| (n.clone(), Arc::new(Float64Array::from(v.clone())) as ArrayRef)).collect();
    let scorer = Scorer::new(a).unwrap();
    let e = scorer.score(&Batch::new(codes).unwrap(), &ScoreOptions { n_threads: 1 }).unwrap_err();
    assert_eq!(e.status(), KilnStatus::ColumnType, "{e}");
    assert!(e.to_string().contains("colour"), "{e}");
}

#[test]
fn pandas_categorical_that_matches_no_categorical_features_is_refused() {
    let text = read("categorical_pandas", "model.txt");
    // Two category lists for the model's one categorical feature.
    let mangled = text.replace("pandas_categorical:[[", "pandas_categorical:[[\"a\"], [");
    assert_ne!(mangled, text);
    let e = from_text(&mangled, &LgbmImportOptions::default()).unwrap_err();
    assert_eq!(e.status(), KilnStatus::InvalidModel);
    assert!(e.to_string().contains("pandas_categorical lists 2"), "{e}");
}

#[test]
fn feature_names_option_renames_the_input_columns() {
    let case = "regression_l2";
    let text = read(case, "model.txt");
    let cols = input(case);
    let original = from_text(&text, &LgbmImportOptions::default()).unwrap();
    let model_names = original.content.model.features();
    let names: Vec<String> = (0..model_names.len()).map(|i| format!("x{i}")).collect();
    // Columns are matched by name: rename each input column after its feature's position.
    let renamed: Vec<(String, Vec<Option<f64>>)> =
        cols.iter().map(|(n, v)| (names[model_names.iter().position(|m| m == n).unwrap()].clone(), v.clone())).collect();
    let n = cols[0].1.len();
    let (_, a) = score(&text, &LgbmImportOptions::default(), &batch(&cols, 0..n));
    let opts = LgbmImportOptions { feature_names: Some(names.clone()), ..Default::default() };
    let (art, b) = score(&text, &opts, &batch(&renamed, 0..n));
    assert_eq!(art.content.model.features(), names.as_slice());
    assert_eq!(a.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), b.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>());

    let err = from_text(&text, &LgbmImportOptions { feature_names: Some(vec!["a".into()]), ..Default::default() }).unwrap_err();
    assert!(err.message().contains("1 name(s)") && err.message().contains("10 features"), "{err}");
}

fn refusal(text: &str, opts: &LgbmImportOptions) -> kiln::Error {
    from_text(text, opts).expect_err("the importer accepted a model it must refuse")
}

#[test]
fn refusals_name_the_problem() {
    let reg = read("regression_l2", "model.txt");
    let bin = read("binary_nan", "model.txt");

    let e = refusal(&read("linear_tree", "model.txt"), &LgbmImportOptions::default());
    assert_eq!(e.status(), KilnStatus::InvalidModel);
    assert!(e.message().contains("linear trees") && e.message().contains("is_linear=1"), "{e}");

    let e = refusal(&reg.replacen("objective=regression", "objective=frobnicate", 1), &LgbmImportOptions::default());
    assert_eq!(e.status(), KilnStatus::InvalidModel);
    assert!(e.message().contains("objective 'frobnicate'"), "{e}");

    let e = refusal(&reg.replacen("objective=regression", "objective=cross_entropy_lambda", 1), &LgbmImportOptions::default());
    assert!(e.message().contains("cross_entropy_lambda"), "{e}");

    let e = refusal(&reg.replacen("objective=regression", "objective=regression sqrt", 1), &LgbmImportOptions::default());
    assert!(e.message().contains("reg_sqrt"), "{e}");

    let e = refusal(&bin.replacen("sigmoid:1", "sigmoid:-1", 1), &LgbmImportOptions::default());
    assert!(e.message().contains("sigmoid '-1' is not a positive number"), "{e}");

    let cut = bin.find("Tree=10").unwrap();
    let e = refusal(&bin[..cut], &LgbmImportOptions::default());
    assert_eq!(e.status(), KilnStatus::InvalidModel);
    assert!(e.message().contains("truncated"), "{e}");

    let e = refusal("{\"learner\": {}}", &LgbmImportOptions::default());
    assert!(e.message().contains("not a LightGBM text model"), "{e}");

    let e = refusal(&reg.replacen("left_child=", "left_child=99 ", 1), &LgbmImportOptions::default());
    assert!(e.message().contains("tree 0") && e.message().contains("left_child"), "{e}");

    let mc = read("multiclass_wine", "model.txt");
    let e = refusal(&mc.replacen("feature_names=", "average_output\nfeature_names=", 1), &LgbmImportOptions::default());
    assert!(e.message().contains("average_output") && e.message().contains("3 trees per iteration"), "{e}");

    let e = refusal(&reg, &LgbmImportOptions { num_iteration: Some(31), ..Default::default() });
    assert!(e.message().contains("num_iteration 31") && e.message().contains("30 iterations"), "{e}");
}

/// Damaged files (cut anywhere, or with bytes overwritten) give an error or a valid artifact,
/// never a panic: the importer sits behind the C ABI.
#[test]
fn damaged_files_never_panic() {
    let text = read("categorical_pandas", "model.txt");
    let opts = LgbmImportOptions::default();
    let mut cuts = 0;
    let trees_end = text.find("end of trees").unwrap();
    for (i, _) in text.char_indices().step_by(97) {
        let r = from_text(&text[..i], &opts);
        // After the trees only provenance can be lost; a cut parameters block is still refused.
        let params_cut = i > text.find("parameters:").unwrap() + "parameters:\n".len() && i < text.find("end of parameters").unwrap();
        if i <= trees_end || params_cut {
            assert!(r.is_err(), "a file cut at byte {i} was accepted");
        }
        cuts += 1;
    }
    assert!(cuts > 300);
    let junk = ["-1", "99999999999999999999", "nan", "inf", "", " ", "=", "\n", "Tree=0", "end of trees", "-0", "1e400"];
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let tokens: Vec<&str> = text.split(' ').collect();
    for _ in 0..400 {
        let mut t = tokens.clone();
        for _ in 0..3 {
            let at = next(t.len());
            t[at] = junk[next(junk.len())];
        }
        let _ = from_text(&t.join(" "), &opts);
    }
}

/// Found through LightGBM's `inf` thresholds: JSON cannot hold a non-finite number, so an
/// artifact with one must be refused when built, not written as an unloadable file.
#[test]
fn artifacts_refuse_non_finite_tree_numbers() {
    let mut a = from_text(&read("gamma", "model.txt"), &LgbmImportOptions::default()).unwrap();
    let ModelSpec::TreeEnsemble(spec) = &mut a.content.model else { panic!() };
    spec.trees[0].threshold[0] = f64::INFINITY;
    let e = Artifact::new(a.content.clone()).unwrap_err();
    assert!(e.message().contains("node 0 has threshold inf; thresholds must be finite"), "{e}");
    let ModelSpec::TreeEnsemble(spec) = &mut a.content.model else { panic!() };
    spec.trees[0].threshold[0] = 0.5;
    spec.trees[0].value[3] = f64::NAN;
    let e = Artifact::new(a.content.clone()).unwrap_err();
    assert!(e.message().contains("values must be finite"), "{e}");
}

/// Blocking and threads never change a bit: the fixture rows repeated into a batch large enough
/// to be split across workers score exactly as LightGBM scored each row.
#[test]
fn large_batches_on_many_threads_stay_bit_identical() {
    for case in ["multiclass_wine", "categorical_pandas", "regression_zero_as_missing"] {
        let text = read(case, "model.txt");
        let expected: Value = serde_json::from_str(&read(case, "expected.json")).unwrap();
        let rows = expected["runs"][0]["outputs"].as_array().unwrap();
        let cols = input(case);
        let n = cols[0].1.len();
        let reps = 20_000 / n + 1;
        let big: Vec<(String, Vec<Option<f64>>)> = cols.iter().map(|(name, v)| (name.clone(), v.iter().cycle().take(n * reps).copied().collect())).collect();
        let scorer = Scorer::new(from_text(&text, &LgbmImportOptions::default()).unwrap()).unwrap();
        let b = batch(&big, 0..n * reps);
        for threads in [1, 4] {
            let s = scorer.score(&b, &ScoreOptions { n_threads: threads }).unwrap();
            let flags_infinities = scorer.schema().columns.iter().any(|c| c.policy.non_finite != Policy::Allow);
            for i in 0..n * reps {
                if flags_infinities && big.iter().any(|(_, v)| v[i].is_some_and(f64::is_infinite)) {
                    assert_ne!(s.status[i], 0, "{case} row {i}: an infinite input was scored");
                    continue;
                }
                assert_eq!(s.status[i], 0, "{case} row {i}");
                for (j, want) in rows[i % n].as_array().unwrap().iter().enumerate() {
                    assert_eq!(s.output(j)[i].to_bits(), bits(want).to_bits(), "{case} threads={threads} row {i} output {j}");
                }
            }
        }
    }
}

#[test]
fn c_abi_import_of_lightgbm_text() {
    use kiln::ffi::*;
    use std::ffi::CStr;
    let text = read("multiclass_wine", "model.txt");
    let expected = from_text(&text, &LgbmImportOptions::default()).unwrap();
    let last_error = || {
        // SAFETY: kiln_last_error returns a valid NUL-terminated string.
        unsafe { CStr::from_ptr(kiln_last_error()) }.to_string_lossy().into_owned()
    };
    let mut model: *const KilnModel = std::ptr::null();
    // SAFETY: valid string, buffer and out-pointer.
    let s = unsafe { kiln_model_import(c"lightgbm-text".as_ptr(), text.as_ptr(), text.len(), &mut model) };
    assert_eq!(s, KilnStatus::Ok, "{}", last_error());
    let mut fp: *const std::ffi::c_char = std::ptr::null();
    let mut n = 0usize;
    // SAFETY: `model` is live; out-pointers are valid.
    unsafe {
        assert_eq!(kiln_model_num_outputs(model, &mut n), KilnStatus::Ok);
        assert_eq!(kiln_model_fingerprint(model, &mut fp), KilnStatus::Ok);
        // Same content as the Rust import, hence the same bit-exact model.
        assert_eq!(CStr::from_ptr(fp).to_str().unwrap(), expected.fingerprint);
        kiln_model_free(model);
    }
    assert_eq!(n, 3);
    let mut out: *const KilnModel = std::ptr::null();
    let not_utf8 = [0xffu8, 0xfe, 0x00];
    // SAFETY: as above; failures leave `out` untouched.
    unsafe {
        assert_eq!(kiln_model_import(c"lightgbm-text".as_ptr(), not_utf8.as_ptr(), not_utf8.len(), &mut out), KilnStatus::MalformedArtifact);
        assert!(last_error().contains("not UTF-8"), "{}", last_error());
        let cut = &text[..text.len() / 2];
        assert_ne!(kiln_model_import(c"lightgbm-text".as_ptr(), cut.as_ptr(), cut.len(), &mut out), KilnStatus::Ok);
    }
    assert!(out.is_null());
}
