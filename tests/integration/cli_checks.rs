//! `kiln profile`, `kiln verify`, `kiln drift` and the batch section of `kiln score`, run as a
//! user would run them on the bank example: the reference is the first 10,000 training rows,
//! the held-out 5,000 rows are the same distribution, and edited copies of them carry one
//! change each.

use std::path::Path;
use std::process::Output;

use kiln::Scorer;
use kiln::profile::BatchProfile;
use kiln::schema::ColumnType;

use crate::cli::{example, kiln, stdout};

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "exit {:?}\nstdout:\n{}\nstderr:\n{}", o.status.code(), stdout(o), String::from_utf8_lossy(&o.stderr));
    stdout(o)
}

/// The training CSV split into a reference part and a held-out part, and edited copies of the
/// held-out part.
struct Files {
    dir: tempfile::TempDir,
}

impl Files {
    fn new() -> Files {
        let dir = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(example("train.csv")).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap().to_string();
        let rows: Vec<&str> = lines.collect();
        let write = |name: &str, rows: &[&str]| {
            let mut s = header.clone() + "\n";
            for r in rows {
                s.push_str(r);
                s.push('\n');
            }
            std::fs::write(dir.path().join(name), s).unwrap();
        };
        write("reference.csv", &rows[..10_000]);
        write("heldout.csv", &rows[10_000..]);
        Files { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }

    /// A copy of the held-out rows with `edit(column index, value, row number)` applied.
    fn edited(&self, name: &str, edit: impl Fn(usize, &str, usize) -> String) -> String {
        let text = std::fs::read_to_string(self.path("heldout.csv")).unwrap();
        let mut lines = text.lines();
        let mut s = lines.next().unwrap().to_string() + "\n";
        for (i, line) in lines.enumerate() {
            let fields: Vec<String> = line.split(',').enumerate().map(|(j, v)| edit(j, v, i)).collect();
            s.push_str(&fields.join(","));
            s.push('\n');
        }
        let path = self.path(name);
        std::fs::write(&path, s).unwrap();
        path
    }

    /// The example model with the reference part attached.
    fn model(&self) -> String {
        let out = self.path("model.kiln");
        if !Path::new(&out).exists() {
            let text = ok(&kiln(&["profile", "--model", example("model.kiln").to_str().unwrap(), &self.path("reference.csv"), "--attach", "-o", &out]));
            assert!(text.contains("profiled 10000 rows") && text.contains("fingerprint sha256:"), "{text}");
        }
        out
    }
}

// Columns of train.csv.
const AGE: usize = 1;
const GROSS_INCOME: usize = 2;
const SEGMENT: usize = 6;
const BALANCE: usize = 8;

#[test]
fn profile_without_a_model_infers_the_schema_and_is_reproducible() {
    let f = Files::new();
    let (a, b) = (f.path("a.json"), f.path("b.json"));
    let text = ok(&kiln(&["profile", &f.path("reference.csv"), "-o", &a]));
    assert!(text.contains("10000 rows x 10 columns") && text.contains("inferred"), "{text}");
    ok(&kiln(&["profile", &f.path("reference.csv"), "-o", &b, "--chunk-rows", "777", "--threads", "1"]));
    let (ja, jb) = (std::fs::read_to_string(&a).unwrap(), std::fs::read_to_string(&b).unwrap());
    let p = BatchProfile::from_json(&ja).unwrap();
    let types: Vec<(&str, ColumnType)> = p.columns().iter().map(|c| (c.name.as_str(), c.ty)).collect();
    assert_eq!(types[0], ("customer_id", ColumnType::Int64));
    assert_eq!(types[3], ("province", ColumnType::Categorical));
    assert_eq!(types[5], ("signup_date", ColumnType::Date));
    assert_eq!(p.rows(), 10_000);
    assert_eq!(p.column("gross_income").unwrap().summary.nulls(), 1498, "empty CSV fields are nulls");
    // Merged chunks give the same counts; and with the same chunking, the same bytes.
    let q = BatchProfile::from_json(&jb).unwrap();
    assert_eq!(q.column("gross_income").unwrap().summary.nulls(), 1498);
    let c = f.path("c.json");
    ok(&kiln(&["profile", &f.path("reference.csv"), "-o", &c]));
    assert_eq!(std::fs::read_to_string(&c).unwrap(), ja);
    // No -o: the JSON on stdout.
    assert_eq!(ok(&kiln(&["profile", &f.path("reference.csv")])).trim(), ja);
}

#[test]
fn attach_records_the_reference_in_a_new_artifact() {
    let f = Files::new();
    let s = Scorer::load(f.model(), None).unwrap();
    let plain = Scorer::load(example("model.kiln"), None).unwrap();
    assert_ne!(s.fingerprint(), plain.fingerprint());
    let r = s.reference_profile().unwrap();
    assert_eq!(r.rows(), 10_000);
    assert_eq!(r.outputs()[0].name, "p_buys");
    assert_eq!(r.outputs()[0].summary.rows, 10_000);
    let e = kiln(&["profile", &f.path("reference.csv"), "--attach", "-o", &f.path("x.kiln")]);
    assert_eq!(e.status.code(), Some(2), "--attach needs --model");
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn verify_accounts_for_every_row_and_names_batch_findings() {
    let f = Files::new();
    let m = f.model();
    // The held-out rows: same distribution, nothing broken at the batch level.
    let v = json(&kiln(&["verify", "--model", &m, &f.path("heldout.csv"), "--json", "--strict"]));
    assert_eq!(v["rows"], 5000);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["scored"].as_u64().unwrap() + v["refused"].as_u64().unwrap(), 5000);
    // The customers file has nulls in age, which training never had.
    let o = kiln(&["verify", "--model", &m, example("customers.csv").to_str().unwrap()]);
    let text = ok(&o);
    assert!(text.contains("null_rate         age "), "{text}");
    assert!(text.contains("unknown_category  province"), "{text}");
    let v = json(&kiln(&["verify", "--model", &m, example("customers.csv").to_str().unwrap(), "--json"]));
    let (scored, refused) = (v["scored"].as_u64().unwrap(), v["refused"].as_u64().unwrap());
    assert_eq!(scored + refused, 5000);
    assert_eq!(v["reasons"].as_array().unwrap().iter().map(|r| r["rows"].as_u64().unwrap()).sum::<u64>(), refused);
    assert_eq!(v["findings"][0]["column"], "age");
    assert_eq!(v["findings"][0]["training_rate"], 0.0);
    assert_eq!(v["findings"][0]["observed_rate"], 8.0 / 5000.0);
    // --strict turns the finding into exit 3; --reject-null-rate refuses the file (exit 22).
    assert_eq!(kiln(&["verify", "--model", &m, example("customers.csv").to_str().unwrap(), "--strict"]).status.code(), Some(3));
    let o = kiln(&["verify", "--model", &m, example("customers.csv").to_str().unwrap(), "--reject-null-rate", "--json"]);
    assert_eq!(o.status.code(), Some(22));
    let v = json(&o);
    assert_eq!((v["scored"].as_u64(), v["refused"].as_u64()), (Some(0), Some(5000)));
    assert!(v["rejected"].as_str().unwrap().contains("column 'age'"), "{v}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("rejected"));
}

#[test]
fn verify_without_a_reference_says_so_and_a_reject_policy_refuses_every_row() {
    let f = Files::new();
    let text = ok(&kiln(&["verify", "--model", example("model.kiln").to_str().unwrap(), &f.path("heldout.csv")]));
    assert!(text.contains("no reference profile"), "{text}");
    // balance has a min of 0 under a flag policy: a negative balance is refused per row.
    let bad = f.edited("negative.csv", |j, v, i| if j == BALANCE && i % 100 == 0 { format!("-{v}") } else { v.to_string() });
    let v = json(&kiln(&["verify", "--model", &f.model(), &bad, "--json"]));
    let reasons = v["reasons"].as_array().unwrap();
    let out_of_range = reasons.iter().find(|r| r["status"] == "out_of_range" && r["source"] == "balance").unwrap();
    assert!(out_of_range["rows"].as_u64().unwrap() >= 45, "{v}");
    assert_eq!(v["scored"].as_u64().unwrap() + v["refused"].as_u64().unwrap(), 5000);
}

fn drift(f: &Files, data: &str) -> serde_json::Value {
    json(&kiln(&["drift", "--model", &f.model(), data, "--json"]))
}

fn drifted(v: &serde_json::Value) -> Vec<String> {
    v["drifted"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect()
}

fn finding<'a>(v: &'a serde_json::Value, column: &str, statistic: &str) -> &'a serde_json::Value {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["column"] == column && x["statistic"] == statistic)
        .unwrap_or_else(|| panic!("no {statistic} finding for {column}: {}", v["findings"]))
}

#[test]
fn drift_is_quiet_on_the_training_distribution_and_names_each_change() {
    let f = Files::new();
    let quiet = drift(&f, &f.path("heldout.csv"));
    assert_eq!(drifted(&quiet), Vec::<String>::new(), "{}", quiet["findings"]);
    assert_eq!(quiet["correction"], "holm");
    let text = ok(&kiln(&["drift", "--model", &f.model(), &f.path("heldout.csv")]));
    assert!(text.contains("no drift"), "{text}");

    // A unit change: balance in thousandths.
    let unit = f.edited("unit.csv", |j, v, _| if j == BALANCE { format!("{}", v.parse::<f64>().unwrap() * 1000.0) } else { v.to_string() });
    let v = drift(&f, &unit);
    assert!(drifted(&v).contains(&"balance".to_string()), "{:?}", drifted(&v));
    assert!(finding(&v, "balance", "wasserstein")["observed"].as_f64().unwrap() > 100.0);
    let o = kiln(&["drift", "--model", &f.model(), &unit, "--fail-on-drift"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains("column balance: wasserstein"), "{}", stdout(&o));

    // A column turned all-null.
    let nulls = f.edited("nulls.csv", |j, v, _| if j == GROSS_INCOME { String::new() } else { v.to_string() });
    let v = drift(&f, &nulls);
    assert_eq!(finding(&v, "gross_income", "null_rate")["observed"], 1.0);

    // A shifted mean: everyone ten years older.
    let older = f.edited("older.csv", |j, v, _| if j == AGE { format!("{}", v.parse::<i64>().unwrap() + 10) } else { v.to_string() });
    let v = drift(&f, &older);
    assert_eq!(drifted(&v)[0], "age", "{:?}", drifted(&v));
    assert!(finding(&v, "age", "psi")["movers"].as_array().is_some_and(|m| !m.is_empty()));

    // A changed category mix: half of PARTICULARES become TOP.
    let mix = f.edited("mix.csv", |j, v, i| if j == SEGMENT && v == "PARTICULARES" && i % 2 == 0 { "TOP".into() } else { v.to_string() });
    let v = drift(&f, &mix);
    let js = finding(&v, "segment", "js_divergence");
    let movers: Vec<&str> = js["movers"].as_array().unwrap().iter().map(|m| m["label"].as_str().unwrap()).collect();
    assert!(movers[..2].contains(&"TOP") && movers[..2].contains(&"PARTICULARES"), "{movers:?}");
}

#[test]
fn drift_against_a_profile_file_and_bad_references() {
    let f = Files::new();
    // A profile of the model's columns and outputs, kept as a file (not attached).
    let p = f.path("reference.json");
    ok(&kiln(&["profile", "--model", example("model.kiln").to_str().unwrap(), &f.path("reference.csv"), "-o", &p]));
    let v = json(&kiln(&["drift", "--reference", &p, "--model", example("model.kiln").to_str().unwrap(), &f.path("heldout.csv"), "--json"]));
    assert_eq!(drifted(&v), Vec::<String>::new(), "{}", v["findings"]);
    assert!(v["checks"].as_array().unwrap().iter().any(|c| c["column"] == "p_buys"), "the outputs are compared");
    // An inferred profile also covers the columns the model ignores: the customer ids of the
    // held-out rows are all later ones.
    let inferred = f.path("inferred.json");
    ok(&kiln(&["profile", &f.path("reference.csv"), "-o", &inferred]));
    let v = json(&kiln(&["drift", "--reference", &inferred, &f.path("heldout.csv"), "--json"]));
    assert!(drifted(&v).contains(&"customer_id".to_string()), "{:?}", drifted(&v));
    // No reference at all, or a model without one: a clear error.
    let o = kiln(&["drift", &f.path("heldout.csv")]);
    assert_eq!(o.status.code(), Some(12));
    let o = kiln(&["drift", "--model", example("model.kiln").to_str().unwrap(), &f.path("heldout.csv")]);
    assert_eq!(o.status.code(), Some(12));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no reference profile"));
}

#[test]
fn score_prints_the_batch_checks() {
    let f = Files::new();
    let out = f.path("scores.csv");
    let text = ok(&kiln(&["score", "--model", &f.model(), "--input", example("customers.csv").to_str().unwrap(), "--output", &out]));
    assert!(text.contains("batch               1") && text.contains("null_rate         age"), "{text}");
    let text = ok(&kiln(&["score", "--model", example("model.kiln").to_str().unwrap(), "--input", example("customers.csv").to_str().unwrap(), "--output", &out]));
    assert!(text.contains("no reference profile"), "{text}");
}
