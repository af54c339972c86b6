//! The `kiln` command line, run as a user would run it, on the bank example in `examples/bank/`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use kiln::{Artifact, Batch, ScoreOptions, Scorer};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sha2::{Digest, Sha256};

const KILN: &str = env!("CARGO_BIN_EXE_kiln");

/// A file of the bank example (`examples/bank/`).
pub(crate) fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bank").join(name)
}

/// Runs the built `kiln` tool, as a user would.
pub(crate) fn kiln(args: &[&str]) -> Output {
    Command::new(KILN).args(args).output().expect("the kiln binary runs")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn score(input: &Path, output: &Path, extra: &[&str]) -> Output {
    let model = example("model.kiln");
    let mut args = vec!["score", "--model", model.to_str().unwrap(), "--input", input.to_str().unwrap(), "--output", output.to_str().unwrap()];
    args.extend_from_slice(extra);
    kiln(&args)
}

/// The one batch of a whole (small) file.
fn single(mut batches: Vec<RecordBatch>) -> RecordBatch {
    assert_eq!(batches.len(), 1, "read as one batch");
    batches.pop().unwrap()
}

fn read_csv(path: &Path, schema: Schema) -> RecordBatch {
    let reader =
        arrow_csv::ReaderBuilder::new(Arc::new(schema)).with_header(true).with_batch_size(1 << 20).build(File::open(path).unwrap()).unwrap();
    single(reader.map(Result::unwrap).collect())
}

fn read_parquet(path: &Path) -> RecordBatch {
    let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap()).unwrap().with_batch_size(1 << 20).build().unwrap();
    single(reader.map(Result::unwrap).collect())
}

fn scores_schema(kept: &[(&str, DataType)]) -> Schema {
    let mut fields: Vec<Field> = kept.iter().map(|(n, t)| Field::new(*n, t.clone(), true)).collect();
    fields.push(Field::new("p_buys", DataType::Float64, true));
    fields.push(Field::new("status", DataType::Utf8, false));
    fields.push(Field::new("reason", DataType::Utf8, true));
    Schema::new(fields)
}

fn strings(b: &RecordBatch, name: &str) -> Vec<Option<String>> {
    b.column_by_name(name).unwrap().as_string::<i32>().iter().map(|s| s.map(str::to_string)).collect()
}

/// The numbers of the summary's `label` line (`scored      4981` -> 4981).
fn summary_count(summary: &str, label: &str) -> u64 {
    let line = summary.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no '{label}' line in:\n{summary}"));
    line[label.len()..].split_whitespace().next().unwrap().parse().unwrap()
}

/// `(status, column) -> rows` from the indented reason lines under `refused`.
fn summary_reasons(summary: &str) -> BTreeMap<(String, String), u64> {
    summary
        .lines()
        .skip_while(|l| !l.starts_with("refused"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            ((w[0].to_string(), w[1].to_string()), w[2].parse().unwrap())
        })
        .collect()
}

#[test]
fn csv_and_parquet_inputs_give_the_same_scores_as_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let out_csv = dir.path().join("scores.csv");
    let out_pq = dir.path().join("scores.parquet");
    let a = score(&example("customers.csv"), &out_csv, &["--keep", "customer_id,province", "--threads", "1"]);
    assert!(a.status.success(), "{}", stderr(&a));
    // Small chunks and several threads: chunking and threading must not change a number.
    let b = score(&example("customers.parquet"), &out_pq, &["--keep", "customer_id,province", "--threads", "2", "--chunk-rows", "777"]);
    assert!(b.status.success(), "{}", stderr(&b));

    let csv = read_csv(&out_csv, scores_schema(&[("customer_id", DataType::Int64), ("province", DataType::Utf8)]));
    let pq = read_parquet(&out_pq);
    assert_eq!(csv.num_rows(), 5000);
    assert_eq!(pq.num_rows(), 5000);
    let pq_schema = pq.schema();
    let names: Vec<&str> = pq_schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["customer_id", "province", "p_buys", "status", "reason"]);
    assert_eq!(
        csv.column_by_name("customer_id").unwrap().as_primitive::<Int64Type>().values(),
        pq.column_by_name("customer_id").unwrap().as_primitive::<Int64Type>().values()
    );
    for col in ["province", "status", "reason"] {
        assert_eq!(strings(&csv, col), strings(&pq, col), "column {col}");
    }
    let p_csv = csv.column_by_name("p_buys").unwrap().as_primitive::<Float64Type>();
    let p_pq = pq.column_by_name("p_buys").unwrap().as_primitive::<Float64Type>();
    assert_eq!(p_csv.nulls(), p_pq.nulls());

    // The same rows scored in-process by the library: the tool adds no arithmetic of its own.
    let scorer = Scorer::load(example("model.kiln"), None).unwrap();
    let input = read_parquet(&example("customers.parquet"));
    let expected = scorer.score(&Batch::from_record_batch(&input).unwrap(), &ScoreOptions::default()).unwrap();
    let mut compared = 0;
    for i in 0..5000 {
        if expected.status[i] == 0 {
            assert_eq!(p_csv.value(i).to_bits(), expected.values[i].to_bits(), "row {i} (csv)");
            assert_eq!(p_pq.value(i).to_bits(), expected.values[i].to_bits(), "row {i} (parquet)");
            assert!(p_csv.value(i) > 0.0 && p_csv.value(i) < 1.0);
            compared += 1;
        } else {
            assert!(p_csv.is_null(i) && p_pq.is_null(i), "refused row {i} must have no score");
        }
    }
    assert_eq!(compared, 4981);
}

#[test]
fn summary_accounts_for_every_row_and_names_the_bad_rows() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("scores.csv");
    let run = score(&example("customers.csv"), &out, &["--keep", "customer_id,province,age,gross_income", "--chunk-rows", "1000"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let summary = stdout(&run);

    let rows = summary_count(&summary, "rows read");
    let scored = summary_count(&summary, "scored");
    let refused = summary_count(&summary, "refused");
    assert_eq!(rows, 5000);
    assert_eq!(scored + refused, rows, "{summary}");
    let reasons = summary_reasons(&summary);
    let key = |s: &str, c: &str| (s.to_string(), c.to_string());
    // The generator spoils exactly these rows (examples/make_bank.rs, `spoil`).
    let want: BTreeMap<_, _> =
        [(key("null", "age"), 8), (key("unknown_category", "province"), 6), (key("out_of_range", "gross_income"), 5)].into_iter().collect();
    assert_eq!(reasons, want, "{summary}");
    assert_eq!(reasons.values().sum::<u64>(), refused);
    assert_eq!(summary_count(&summary, "defaults"), 4, "four ages outside [18, 100] are clamped:\n{summary}");
    assert!(summary.contains("rows/s"), "{summary}");

    // The output file says the same, row by row, and each refused row shows its bad value.
    let b = read_csv(
        &out,
        scores_schema(&[("customer_id", DataType::Int64), ("province", DataType::Utf8), ("age", DataType::Int64), ("gross_income", DataType::Float64)]),
    );
    let status = strings(&b, "status");
    let reason = strings(&b, "reason");
    let province = strings(&b, "province");
    let age = b.column_by_name("age").unwrap().as_primitive::<Int64Type>();
    let income = b.column_by_name("gross_income").unwrap().as_primitive::<Float64Type>();
    let mut per_reason: BTreeMap<(String, String), u64> = BTreeMap::new();
    for i in 0..b.num_rows() {
        let s = status[i].clone().unwrap();
        if s == "ok" {
            assert_eq!(reason[i], None);
            continue;
        }
        let r = reason[i].clone().unwrap();
        match (s.as_str(), r.as_str()) {
            ("null", "age") => assert!(age.is_null(i)),
            ("unknown_category", "province") => assert_eq!(province[i].as_deref(), Some("ATLANTIDA")),
            ("out_of_range", "gross_income") => assert!(income.value(i) < 0.0),
            other => panic!("unexpected reason {other:?} at row {i}"),
        }
        *per_reason.entry((s, r)).or_default() += 1;
    }
    assert_eq!(per_reason, want);
}

#[test]
fn inspect_prints_the_fingerprint_schema_pipeline_and_provenance() {
    let model = example("model.kiln");
    let artifact = Artifact::load(&model, None).unwrap();
    let text = kiln(&["inspect", model.to_str().unwrap()]);
    assert!(text.status.success(), "{}", stderr(&text));
    let text = stdout(&text);
    assert!(text.contains(&format!("fingerprint {}", artifact.fingerprint)), "{text}");
    assert!(text.contains("format      kiln 1.0"), "{text}");
    assert!(text.contains("province      categorical nullable  30 categories: MADRID, BARCELONA"), "{text}");
    assert!(text.contains("one_hot province -> 31 outputs (30 categories, unknown: slot)"), "{text}");
    assert!(text.contains("elapsed signup_date -> tenure_months: months to 2016-06-28"), "{text}");
    assert!(text.contains("library     kiln-example"), "{text}");
    let steps = text.lines().skip_while(|l| !l.starts_with("pipeline")).skip(1).take_while(|l| !l.is_empty()).count();
    assert_eq!(steps, artifact.content.pipeline.len());

    let json = kiln(&["inspect", "--json", model.to_str().unwrap()]);
    assert!(json.status.success(), "{}", stderr(&json));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["fingerprint"], artifact.fingerprint.as_str());
    assert_eq!(v["format_version"], "1.0");
    assert_eq!(v["model"]["kind"], "linear");
    assert_eq!(v["model"]["link"], "logit");
    assert_eq!(v["model"]["n_features"], 44);
    assert_eq!(v["schema"].as_array().unwrap().len(), 8);
    assert_eq!(v["schema"][1]["policy"]["out_of_range"], "flag");
    // The recorded data fingerprint is the SHA-256 of the committed training file.
    let train = std::fs::read(example("train.csv")).unwrap();
    let digest: String = Sha256::digest(&train).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v["provenance"]["data_fingerprint"], format!("sha256:{digest}").as_str());
    assert_eq!(v["provenance"]["seed"], 20_160_628);

    let pinned = kiln(&["inspect", model.to_str().unwrap(), "--expect-fingerprint", &artifact.fingerprint]);
    assert!(pinned.status.success(), "{}", stderr(&pinned));
}

/// A failure: non-zero exit with this code, one `error:` line naming the problem, no panic,
/// and no output file left behind.
fn assert_fails(o: &Output, code: i32, needles: &[&str], output: &Path) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(code), "stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "'{n}' not in: {err}");
    }
    assert!(!err.contains("panicked") && !err.contains("backtrace"), "{err}");
    assert!(o.stdout.is_empty(), "no summary on failure: {}", stdout(o));
    assert!(!output.exists(), "{} must not exist after a failure", output.display());
    let mut partial = output.as_os_str().to_os_string();
    partial.push(".partial");
    assert!(!Path::new(&partial).exists(), "the partial output must be removed");
}

#[test]
fn bad_inputs_fail_with_a_message_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = d.join("scores.csv");
    let customers = std::fs::read_to_string(example("customers.csv")).unwrap();
    let csv = |name: &str, text: String| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let model = example("model.kiln");
    let with_model = |m: &Path, input: &Path, extra: &[&str]| {
        let mut args = vec!["score", "--model", m.to_str().unwrap(), "--input", input.to_str().unwrap(), "--output", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        kiln(&args)
    };

    // Missing files.
    assert_fails(&with_model(&d.join("absent.kiln"), &example("customers.csv"), &[]), 13, &["absent.kiln", "No such file"], &out);
    assert_fails(&score(&d.join("absent.csv"), &out, &[]), 13, &["absent.csv"], &out);

    // A malformed (truncated) artifact and one whose content was altered.
    let bytes = std::fs::read(&model).unwrap();
    let truncated = d.join("truncated.kiln");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    assert_fails(&with_model(&truncated, &example("customers.csv"), &[]), 14, &["truncated.kiln", "truncated artifact"], &out);
    let altered = d.join("altered.kiln");
    let text = String::from_utf8(bytes.clone()).unwrap().replacen("\"min\":0.0", "\"min\":-1.0", 1);
    assert_ne!(text.as_bytes(), &bytes[..], "the alteration must change the file");
    std::fs::write(&altered, text).unwrap();
    assert_fails(&with_model(&altered, &example("customers.csv"), &[]), 17, &["altered.kiln", "does not match its stored fingerprint"], &out);
    let inspect = kiln(&["inspect", truncated.to_str().unwrap()]);
    assert_fails(&inspect, 14, &["truncated.kiln"], &out);

    // A pinned fingerprint that is not the artifact's.
    let pin = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
    assert_fails(&score(&example("customers.csv"), &out, &["--expect-fingerprint", pin]), 17, &["fingerprint mismatch", pin], &out);

    // A column the model needs is absent (province dropped from every line).
    let no_province: String = customers
        .lines()
        .map(|l| {
            let mut f: Vec<&str> = l.split(',').collect();
            f.remove(3);
            f.join(",") + "\n"
        })
        .collect();
    assert_fails(&score(&csv("no_province.csv", no_province), &out, &[]), 18, &["missing column 'province'"], &out);
    assert_fails(&score(&example("customers.csv"), &out, &["--keep", "email"]), 18, &["--keep", "'email'"], &out);

    // A value that does not parse as its column's schema type, deep in the file so that some
    // chunks were already written: the partial output must still be removed.
    let mut lines: Vec<String> = customers.lines().map(str::to_string).collect();
    lines[3999] = lines[3999].replacen(&format!(",{},", lines[3999].split(',').nth(1).unwrap()), ",forty,", 1);
    let bad_age = csv("bad_age.csv", lines.join("\n") + "\n");
    assert_fails(&score(&bad_age, &out, &["--chunk-rows", "1000"]), 19, &["bad_age.csv line 4000", "column 'age'", "'forty'", "integer"], &out);
    let mut lines: Vec<String> = customers.lines().map(str::to_string).collect();
    let date = lines[10].split(',').nth(5).unwrap().to_string();
    lines[10] = lines[10].replacen(&date, "2016-02-30", 1);
    let bad_date = csv("bad_date.csv", lines.join("\n") + "\n");
    assert_fails(&score(&bad_date, &out, &[]), 19, &["line 11", "column 'signup_date'", "'2016-02-30'", "date"], &out);

    // A Parquet column of the wrong type (age as text).
    let input = read_parquet(&example("customers.parquet")).slice(0, 10);
    let mut fields: Vec<Field> = input.schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    let mut columns = input.columns().to_vec();
    let age = input.schema().index_of("age").unwrap();
    fields[age] = Field::new("age", DataType::Utf8, true);
    columns[age] = Arc::new(StringArray::from(vec!["40"; 10]));
    let wrong = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
    let wrong_path = d.join("wrong_type.parquet");
    let mut w = ArrowWriter::try_new(File::create(&wrong_path).unwrap(), wrong.schema(), None).unwrap();
    w.write(&wrong).unwrap();
    w.close().unwrap();
    assert_fails(&score(&wrong_path, &out, &[]), 19, &["column 'age' has type Utf8", "int64"], &out);

    // A file that is not what its extension says, and an output format nobody asked for.
    assert_fails(&score(&csv("not.parquet", "hello".into()), &out, &[]), 12, &["not.parquet", "Parquet"], &out);
    let txt = d.join("scores.txt");
    assert_fails(&score(&example("customers.csv"), &txt, &[]), 12, &["scores.txt", "--format"], &txt);
}

/// A model whose outputs are its inputs as parsed (identity link): shows how each schema type is
/// read from CSV text, and that columns the schema does not name stay text.
#[test]
fn csv_columns_are_parsed_as_the_schema_types() {
    use kiln::artifact::*;
    use kiln::schema::{Column, ColumnType, Schema as KilnSchema};
    let features = ["ts_days", "flag", "x", "n", "d_days"];
    let content = Content {
        schema: KilnSchema::new(vec![
            Column::new("ts", ColumnType::Timestamp),
            Column::new("flag", ColumnType::Bool),
            Column::new("x", ColumnType::Float32),
            Column::new("n", ColumnType::Int32),
            Column::new("d", ColumnType::Date),
        ]),
        pipeline: vec![
            Step::Elapsed { column: "ts".into(), reference: "2020-01-01".into(), unit: ElapsedUnit::Days, output: Some("ts_days".into()) },
            Step::Elapsed { column: "d".into(), reference: "2020-01-01".into(), unit: ElapsedUnit::Days, output: Some("d_days".into()) },
        ],
        model: ModelSpec::Linear(LinearSpec {
            features: features.iter().map(|s| s.to_string()).collect(),
            coefficients: (0..5).map(|r| (0..5).map(|c| if r == c { 1.0 } else { 0.0 }).collect()).collect(),
            intercept: vec![0.0; 5],
            link: Link::Identity,
        }),
        outputs: features.iter().map(|f| OutputSpec::new(format!("out_{f}"))).collect(),
        provenance: Provenance::default(),
        profile: None,
    };
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("typed.kiln");
    Artifact::new(content).unwrap().save(&model).unwrap();
    let input = dir.path().join("typed.csv");
    std::fs::write(
        &input,
        "id,ts,flag,x,n,d,note\n\
         007,2019-12-31T12:00:00,true,1.5,7,2019-12-01,hello\n\
         8,2019-12-31T00:00:00Z,false,-2.25,-3,2020-01-01,\n",
    )
    .unwrap();
    let out = dir.path().join("typed_scores.csv");
    let o = kiln(&[
        "score", "--model", model.to_str().unwrap(), "--input", input.to_str().unwrap(), "--output", out.to_str().unwrap(), "--keep", "id,note,d",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,note,d,out_ts_days,out_flag,out_x,out_n,out_d_days,status,reason"));
    // `id` is not in the schema: kept as text, leading zeros and all. `d` is: kept as a date.
    assert_eq!(lines.next(), Some("007,hello,2019-12-01,0.5,1.0,1.5,7.0,31.0,ok,"));
    assert_eq!(lines.next(), Some("8,,2020-01-01,1.0,0.0,-2.25,-3.0,0.0,ok,"));
    assert_eq!(lines.next(), None);
}

// -- kiln import ---------------------------------------------------------------------------------

fn import_fixture(library: &str, file: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["import", "--from", library, file.to_str().unwrap(), "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    kiln(&args)
}

fn fixture(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(dir)
}

#[test]
fn import_writes_the_artifact_the_library_importer_makes() {
    use kiln::import::{ImportOptions, import};
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, &str, &[&str], ImportOptions); 5] = [
        ("xgboost", "xgboost/binary_logistic/model.json", "xgboost-json", &[], ImportOptions::default()),
        ("xgboost", "xgboost/cox/model.ubj", "xgboost-ubj", &[], ImportOptions::default()),
        ("xgboost", "xgboost/forest_range/model.json", "xgboost-json", &["--iterations", "1:3"], ImportOptions { iteration_range: Some((1, 3)), ..Default::default() }),
        ("lightgbm", "lightgbm/multiclass_wine/model.txt", "lightgbm-text", &["--iterations", ":4"], ImportOptions { num_iteration: Some(4), ..Default::default() }),
        ("lightgbm", "lightgbm/categorical_pandas/model.txt", "lightgbm-text", &[], ImportOptions::default()),
    ];
    for (i, (library, file, format, extra, options)) in cases.into_iter().enumerate() {
        let out = tmp.path().join(format!("m{i}.kiln"));
        let o = import_fixture(library, &fixture(file), &out, extra);
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        let written = Artifact::load(&out, None).unwrap();
        let want = import(format, &std::fs::read(fixture(file)).unwrap(), &options).unwrap();
        assert_eq!(written.fingerprint, want.fingerprint, "{file}");
        assert!(stdout(&o).contains(&want.fingerprint), "{file}: {}", stdout(&o));
        // The artifact scores: the CLI's output is a model any host loads.
        Scorer::load(&out, Some(&want.fingerprint)).unwrap();
    }
}

#[test]
fn import_inspect_prints_the_artifact() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m.kiln");
    let o = import_fixture("lightgbm", &fixture("lightgbm/categorical_pandas/model.txt"), &out, &["--inspect"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("lightgbm") && text.contains("colour") && text.contains("ordinal"), "{text}");
}

#[test]
fn import_errors_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m.kiln");
    // A LightGBM file read as XGBoost.
    let o = import_fixture("xgboost", &fixture("lightgbm/poisson/model.txt"), &out, &[]);
    assert_eq!(o.status.code(), Some(14), "{}", stderr(&o));
    assert!(stderr(&o).contains("not valid JSON"), "{}", stderr(&o));
    // Linear trees are refused by name.
    let o = import_fixture("lightgbm", &fixture("lightgbm/linear_tree/model.txt"), &out, &[]);
    assert_eq!(o.status.code(), Some(16), "{}", stderr(&o));
    assert!(stderr(&o).contains("linear trees"), "{}", stderr(&o));
    // A range outside the model, and a LightGBM range that does not start at 0.
    let o = import_fixture("xgboost", &fixture("xgboost/forest_range/model.json"), &out, &["--iterations", "0:99"]);
    assert_eq!(o.status.code(), Some(12), "{}", stderr(&o));
    assert!(stderr(&o).contains("outside the model's 4 iterations"), "{}", stderr(&o));
    let o = import_fixture("lightgbm", &fixture("lightgbm/poisson/model.txt"), &out, &["--iterations", "2:4"]);
    assert_eq!(o.status.code(), Some(12), "{}", stderr(&o));
    assert!(stderr(&o).contains("0:n"), "{}", stderr(&o));
    let o = import_fixture("xgboost", &fixture("xgboost/forest_range/model.json"), &out, &["--iterations", "x"]);
    assert_eq!(o.status.code(), Some(12), "{}", stderr(&o));
    assert!(!out.exists(), "nothing written on failure");
    let o = import_fixture("xgboost", &tmp.path().join("absent.json"), &out, &[]);
    assert_eq!(o.status.code(), Some(13), "{}", stderr(&o));
}
