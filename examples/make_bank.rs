//! Generates the bank example in `examples/bank/`: a synthetic product-propensity data set in
//! the spirit of a retail bank's product recommendation data, a fitted feature pipeline and a
//! logistic regression, sealed into `model.kiln`, plus a scoring batch with a few bad rows.
//!
//! Everything is deterministic (fixed seed, fixed iteration count, single-threaded sums), so
//! running it again reproduces the committed files byte for byte:
//!
//! ```text
//! cargo run --release --example make_bank            # (re)write examples/bank/
//! cargo run --release --example make_bank -- --check # regenerate in memory, compare with the files
//! ```
//!
//! The pipeline's fitted values (median, means, scales) and the model's coefficients are fitted
//! on features computed by kiln itself: the pipeline is run through a `Scorer` whose model is the
//! identity, so the features the fit sees are exactly the ones scoring will compute.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, Float64Array, Int64Array, RecordBatch, StringArray};
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, Policy, Schema};
use kiln::transform::date::days_from_civil;
use kiln::{Artifact, Batch, ScoreOptions, Scorer};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use sha2::{Digest, Sha256};

const SEED: u64 = 20_160_628;
const N_CUSTOMERS: usize = 20_000;
const N_SCORING: usize = 5_000;
/// Tenure is measured to this date (the last month of the data).
const REFERENCE_DATE: &str = "2016-06-28";
const IRLS_ITERATIONS: usize = 12;
/// Ridge penalty on all coefficients but the intercept: the one-hot blocks are complete (every
/// category has a column), so without it the normal equations would be singular.
const L2: f64 = 1.0;
/// Fixed so that regenerating the example gives identical bytes (`created_at` is outside the
/// fingerprint, but inside the file).
const CREATED_AT: &str = "2016-06-28T00:00:00Z";

const PROVINCES: [&str; 30] = [
    "MADRID", "BARCELONA", "VALENCIA", "SEVILLA", "MALAGA", "MURCIA", "ALICANTE", "CADIZ", "ZARAGOZA", "VIZCAYA",
    "ASTURIAS", "CORUNA", "PONTEVEDRA", "BALEARS", "LAS PALMAS", "TOLEDO", "CORDOBA", "GRANADA", "VALLADOLID",
    "CANTABRIA", "BADAJOZ", "SALAMANCA", "NAVARRA", "GIPUZKOA", "TARRAGONA", "GIRONA", "ALMERIA", "LEON", "HUELVA",
    "JAEN",
];
const CHANNELS: [&str; 5] = ["KAT", "KFC", "KHE", "KHQ", "RED"];
const CHANNEL_WEIGHTS: [f64; 5] = [0.35, 0.15, 0.30, 0.12, 0.08];
const SEGMENTS: [&str; 3] = ["TOP", "PARTICULARES", "UNIVERSITARIO"];
const SEGMENT_WEIGHTS: [f64; 3] = [0.08, 0.62, 0.30];

/// splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1) with 53 random bits.
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Standard normal by Box-Muller (one of the pair; simplicity over speed).
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.uniform() * n as f64) as usize
    }
    fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut u = self.uniform() * total;
        for (i, w) in weights.iter().enumerate() {
            if u < *w {
                return i;
            }
            u -= w;
        }
        weights.len() - 1
    }
}

/// One generated customer, as observed (nullable fields are what the bank's file would show).
#[derive(Clone)]
struct Customer {
    customer_id: i64,
    age: Option<i64>,
    gross_income: Option<f64>,
    province: Option<String>,
    channel: String,
    signup_days: i32,
    segment: Option<String>,
    n_products: i64,
    balance: f64,
    buys_product: bool,
}

/// Amounts are whole euros: exact in both CSV text and Parquet, and they keep the files small.
fn euros(x: f64) -> f64 {
    x.round()
}

fn generate(rng: &mut SplitMix64) -> Vec<Customer> {
    let start = days_from_civil(1995, 1, 1);
    let end = days_from_civil(2016, 5, 31);
    let reference = days_from_civil(2016, 6, 28);
    // Zipf-like province sizes: a few big provinces, a long tail.
    let province_weights: Vec<f64> = (0..PROVINCES.len()).map(|i| 1.0 / (i as f64 + 1.5)).collect();
    (0..N_CUSTOMERS)
        .map(|i| {
            let segment = rng.pick(&SEGMENT_WEIGHTS);
            let age = if segment == 2 { 18.0 + rng.uniform() * 9.0 } else { (45.0 + 13.0 * rng.normal()).clamp(18.0, 95.0) };
            let age = age.floor() as i64;
            let province = rng.pick(&province_weights);
            let channel = rng.pick(&CHANNEL_WEIGHTS);
            let log_income =
                10.9 + 0.5 * f64::from(segment == 0) - 0.4 * f64::from(segment == 2) + 0.2 * f64::from(province == 0) + 0.55 * rng.normal();
            let income = euros(log_income.exp());
            let balance = euros(income * (-1.3 + 0.8 * rng.normal()).exp());
            let signup_days = (start + rng.below((end - start) as usize) as i64) as i32;
            let n_products = (1.0 + (-(1.0 - rng.uniform()).ln()) * 1.2).floor().min(10.0) as i64;

            // The known ground truth the example's model should roughly recover.
            let tenure_years = (reference - i64::from(signup_days)) as f64 / 365.25;
            let eta = -1.6 + 0.9 * (log_income - 10.9) - 0.02 * (age as f64 - 45.0) + 0.05 * tenure_years
                + 0.6 * (balance / income).min(3.0)
                + 0.25 * (n_products as f64 - 1.0)
                + [0.0, -0.2, 0.5, 0.1, -0.4][channel]
                + [0.8, 0.0, -0.5][segment]
                + if province == 0 { 0.3 } else if province == 1 { 0.15 } else { 0.0 };
            let buys_product = rng.uniform() < 1.0 / (1.0 + (-eta).exp());

            let income_missing = rng.uniform() < 0.15;
            let province_missing = rng.uniform() < 0.02;
            let segment_missing = rng.uniform() < 0.01;
            Customer {
                customer_id: 15_000_000 + 37 * i as i64,
                age: Some(age),
                gross_income: (!income_missing).then_some(income),
                province: (!province_missing).then(|| PROVINCES[province].to_string()),
                channel: CHANNELS[channel].to_string(),
                signup_days,
                segment: (!segment_missing).then(|| SEGMENTS[segment].to_string()),
                n_products,
                balance,
                buys_product,
            }
        })
        .collect()
}

/// The deliberately bad rows of the scoring batch: each kind hits a rule with a different policy.
fn spoil(batch: &mut [Customer]) {
    for row in [17, 412, 1203, 2750, 3999, 4321] {
        batch[row].province = Some("ATLANTIDA".into()); // unknown category: flagged
    }
    for row in [88, 1500, 2222, 3141, 4800] {
        batch[row].gross_income = Some(-1200.0); // below min 0: flagged
    }
    for row in [5, 640, 1999, 2600, 3333, 3700, 4095, 4999] {
        batch[row].age = None; // null in a not-null column: flagged
    }
    for (row, age) in [(250, 16), (1750, 104), (2900, 17), (4444, 112)] {
        batch[row].age = Some(age); // out of [18, 100]: clamped to the range (policy default)
    }
}

fn date_text(days: i32) -> String {
    let (y, m, d) = kiln::transform::date::civil_from_days(i64::from(days));
    format!("{y:04}-{m:02}-{d:02}")
}

fn to_csv(rows: &[Customer], with_target: bool) -> Vec<u8> {
    let mut out = String::from("customer_id,age,gross_income,province,channel,signup_date,segment,n_products,balance");
    out.push_str(if with_target { ",buys_product\n" } else { "\n" });
    for c in rows {
        let opt = |s: &Option<String>| s.clone().unwrap_or_default();
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}",
            c.customer_id,
            c.age.map(|a| a.to_string()).unwrap_or_default(),
            c.gross_income.map(|x| x.to_string()).unwrap_or_default(),
            opt(&c.province),
            c.channel,
            date_text(c.signup_days),
            opt(&c.segment),
            c.n_products,
            c.balance
        ));
        if with_target {
            out.push_str(if c.buys_product { ",1" } else { ",0" });
        }
        out.push('\n');
    }
    out.into_bytes()
}

fn to_record_batch(rows: &[Customer]) -> RecordBatch {
    let strings = |f: &dyn Fn(&Customer) -> Option<String>| Arc::new(rows.iter().map(f).collect::<StringArray>()) as ArrayRef;
    RecordBatch::try_from_iter([
        ("customer_id", Arc::new(rows.iter().map(|c| c.customer_id).collect::<Int64Array>()) as ArrayRef),
        ("age", Arc::new(rows.iter().map(|c| c.age).collect::<Int64Array>())),
        ("gross_income", Arc::new(rows.iter().map(|c| c.gross_income).collect::<Float64Array>())),
        ("province", strings(&|c| c.province.clone())),
        ("channel", strings(&|c| Some(c.channel.clone()))),
        ("signup_date", Arc::new(Date32Array::from(rows.iter().map(|c| c.signup_days).collect::<Vec<i32>>()))),
        ("segment", strings(&|c| c.segment.clone())),
        ("n_products", Arc::new(rows.iter().map(|c| c.n_products).collect::<Int64Array>())),
        ("balance", Arc::new(rows.iter().map(|c| c.balance).collect::<Float64Array>())),
    ])
    .expect("columns have equal lengths")
}

fn to_parquet(rows: &[Customer]) -> Vec<u8> {
    let batch = to_record_batch(rows);
    let props = WriterProperties::builder().set_compression(Compression::SNAPPY).set_created_by("kiln make_bank".into()).build();
    let mut out = Vec::new();
    let mut w = ArrowWriter::try_new(&mut out, batch.schema(), Some(props)).expect("parquet writer");
    w.write(&batch).expect("parquet write");
    w.close().expect("parquet close");
    out
}

fn schema() -> Schema {
    let mut age = Column::new("age", ColumnType::Int64).not_null().with_range(18.0, 100.0);
    // An implausible age is more likely a typo than a different customer: clamp it, and count.
    age.policy.out_of_range = Policy::Default;
    let mut income = Column::new("gross_income", ColumnType::Float64);
    income.min = Some(0.0);
    income.policy.out_of_range = Policy::Flag;
    let province = Column::new("province", ColumnType::Categorical).with_categories(PROVINCES);
    let channel = Column::new("channel", ColumnType::Categorical).with_categories(CHANNELS).not_null();
    let mut signup = Column::new("signup_date", ColumnType::Date).not_null();
    // A sign-up after the reference date would give a negative tenure the model never saw.
    signup.max = Some(days_from_civil(2016, 6, 28) as f64);
    let segment = Column::new("segment", ColumnType::Categorical).with_categories(SEGMENTS);
    let n_products = Column::new("n_products", ColumnType::Int64).not_null().with_range(0.0, 50.0);
    let mut balance = Column::new("balance", ColumnType::Float64).not_null();
    balance.min = Some(0.0);
    Schema::new(vec![age, income, province, channel, signup, segment, n_products, balance])
}

/// Mean and standard deviation of each numeric feature, once they are known.
struct Scales {
    median_income: f64,
    /// `(column, mean, scale)` in the order the pipeline scales them.
    standard: Vec<(&'static str, f64, f64)>,
}

const NUMERIC_FEATURES: [&str; 5] = ["gross_income", "balance_to_income", "age", "tenure_months", "n_products"];

fn one_hot_names(prefix: &str, cats: &[&str], slot: bool) -> Vec<String> {
    let mut names: Vec<String> =
        cats.iter().map(|c| format!("{prefix}={}", c.to_ascii_lowercase().replace([' ', '-'], "_").replace("__", "_"))).collect();
    if slot {
        names.push(format!("{prefix}=other"));
    }
    names
}

fn features() -> Vec<String> {
    let mut f: Vec<String> = NUMERIC_FEATURES.iter().map(|s| s.to_string()).collect();
    f.extend(one_hot_names("province", &PROVINCES, true));
    f.extend(one_hot_names("channel", &CHANNELS, false));
    f.extend(one_hot_names("segment", &SEGMENTS, false));
    f
}

fn pipeline(median_income: f64, standard: &[(&'static str, f64, f64)]) -> Vec<Step> {
    let mut steps = vec![
        Step::Impute { column: "gross_income".into(), value: median_income, strategy: ImputeStrategy::Median, output: None },
        Step::Arithmetic { op: ArithOp::Ratio, left: "balance".into(), right: "gross_income".into(), output: "balance_to_income".into() },
        Step::Log1p { column: "gross_income".into(), output: None },
        Step::Clip { column: "age".into(), min: Some(18.0), max: Some(85.0), output: None },
        Step::Elapsed { column: "signup_date".into(), reference: REFERENCE_DATE.into(), unit: ElapsedUnit::Months, output: Some("tenure_months".into()) },
        Step::ImputeCategory { column: "segment".into(), value: SEGMENTS[1].into(), strategy: ImputeStrategy::MostFrequent, output: None },
        Step::OneHot {
            column: "province".into(),
            categories: PROVINCES.iter().map(|s| s.to_string()).collect(),
            unknown: UnknownCategory::Slot,
            outputs: one_hot_names("province", &PROVINCES, true),
        },
        Step::OneHot {
            column: "channel".into(),
            categories: CHANNELS.iter().map(|s| s.to_string()).collect(),
            unknown: UnknownCategory::Ignore,
            outputs: one_hot_names("channel", &CHANNELS, false),
        },
        Step::OneHot {
            column: "segment".into(),
            categories: SEGMENTS.iter().map(|s| s.to_string()).collect(),
            unknown: UnknownCategory::Ignore,
            outputs: one_hot_names("segment", &SEGMENTS, false),
        },
    ];
    for &(column, mean, scale) in standard {
        steps.push(Step::StandardScale { column: column.into(), mean, scale, output: None });
    }
    steps
}

fn content(pipeline: Vec<Step>, model: LinearSpec, outputs: Vec<OutputSpec>, provenance: Provenance) -> Content {
    Content { schema: schema(), pipeline, model: ModelSpec::Linear(model), outputs, provenance, profile: None }
}

/// Run `pipeline` over `batch` and return the named features, column-major, via an identity model.
fn compute_features(pipeline: Vec<Step>, names: &[String], batch: &Batch) -> Vec<Vec<f64>> {
    let k = names.len();
    let identity = LinearSpec {
        features: names.to_vec(),
        coefficients: (0..k).map(|r| (0..k).map(|c| f64::from(u8::from(r == c))).collect()).collect(),
        intercept: vec![0.0; k],
        link: Link::Identity,
    };
    let outputs = names.iter().map(OutputSpec::new).collect();
    let artifact = Artifact::new(content(pipeline, identity, outputs, Provenance::default())).expect("feature artifact is valid");
    let scorer = Scorer::new(artifact).expect("feature plan");
    let scores = scorer.score(batch, &ScoreOptions { n_threads: 1 }).expect("training rows score");
    assert_eq!(scores.report.scored, batch.num_rows() as u64, "training rows must all pass the edge: {:?}", scores.report);
    (0..k).map(|j| scores.output(j).to_vec()).collect()
}

fn mean_std(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    (mean, var.sqrt())
}

fn median(mut x: Vec<f64>) -> f64 {
    x.sort_by(f64::total_cmp);
    let n = x.len();
    if n % 2 == 1 { x[n / 2] } else { 0.5 * (x[n / 2 - 1] + x[n / 2]) }
}

/// Logistic regression by iteratively reweighted least squares (Newton's method on the
/// log-likelihood; see Hastie, Tibshirani and Friedman, "The Elements of Statistical Learning",
/// section 4.4.1), with an L2 penalty on the coefficients and a fixed number of iterations.
/// Returns `(intercept, coefficients)`.
fn fit_logistic(x: &[Vec<f64>], y: &[f64]) -> (f64, Vec<f64>) {
    let p = x.len() + 1;
    let row = |i: usize, out: &mut [f64]| {
        out[0] = 1.0;
        for (j, col) in x.iter().enumerate() {
            out[j + 1] = col[i];
        }
    };
    let mut beta = vec![0.0; p];
    let mut xi = vec![0.0; p];
    for _ in 0..IRLS_ITERATIONS {
        // Newton step: (X'WX + L2·I') delta = X'(y - mu) - L2·I'·beta
        let mut hess = vec![0.0; p * p];
        let mut grad = vec![0.0; p];
        for (i, yi) in y.iter().enumerate() {
            row(i, &mut xi);
            let eta: f64 = xi.iter().zip(&beta).map(|(a, b)| a * b).sum();
            let mu = 1.0 / (1.0 + (-eta).exp());
            let w = mu * (1.0 - mu);
            for a in 0..p {
                grad[a] += xi[a] * (yi - mu);
                let wa = w * xi[a];
                if wa != 0.0 {
                    for b in 0..=a {
                        hess[a * p + b] += wa * xi[b];
                    }
                }
            }
        }
        for a in 1..p {
            hess[a * p + a] += L2;
            grad[a] -= L2 * beta[a];
        }
        let delta = solve_spd(&mut hess, p, grad);
        for (b, d) in beta.iter_mut().zip(delta) {
            *b += d;
        }
    }
    (beta[0], beta[1..].to_vec())
}

/// Solve `A x = b` for a symmetric positive definite `A` given by its lower triangle (Cholesky).
fn solve_spd(a: &mut [f64], p: usize, mut b: Vec<f64>) -> Vec<f64> {
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        assert!(d > 0.0, "normal equations are not positive definite at column {j}");
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
    }
    for i in 0..p {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * p + k] * b[k];
        }
        b[i] = s / a[i * p + i];
    }
    for i in (0..p).rev() {
        let mut s = b[i];
        for k in i + 1..p {
            s -= a[k * p + i] * b[k];
        }
        b[i] = s / a[i * p + i];
    }
    b
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The example's files, by name.
fn build() -> BTreeMap<&'static str, Vec<u8>> {
    let mut rng = SplitMix64(SEED);
    let customers = generate(&mut rng);
    let (train, scoring) = customers.split_at(N_CUSTOMERS - N_SCORING);
    let mut scoring = scoring.to_vec();
    spoil(&mut scoring);

    let train_csv = to_csv(train, true);
    let train_batch = Batch::from_record_batch(&to_record_batch(train)).expect("training batch");
    let y: Vec<f64> = train.iter().map(|c| f64::from(u8::from(c.buys_product))).collect();

    // Pass 1: the unscaled numeric features give the scales; pass 2: the full feature matrix.
    let median_income = median(train.iter().filter_map(|c| c.gross_income).collect());
    let numeric: Vec<String> = NUMERIC_FEATURES.iter().map(|s| s.to_string()).collect();
    let raw = compute_features(pipeline(median_income, &[]), &numeric, &train_batch);
    let standard: Vec<(&'static str, f64, f64)> = NUMERIC_FEATURES
        .iter()
        .zip(&raw)
        .map(|(name, col)| {
            let (m, s) = mean_std(col);
            (*name, m, s)
        })
        .collect();
    let scales = Scales { median_income, standard };
    let names = features();
    let x = compute_features(pipeline(scales.median_income, &scales.standard), &names, &train_batch);
    let (intercept, coefficients) = fit_logistic(&x, &y);

    let mut params = BTreeMap::new();
    params.insert("solver".to_string(), serde_json::json!("irls"));
    params.insert("iterations".to_string(), serde_json::json!(IRLS_ITERATIONS));
    params.insert("l2".to_string(), serde_json::json!(L2));
    params.insert("train_rows".to_string(), serde_json::json!(train.len()));
    params.insert("reference_date".to_string(), serde_json::json!(REFERENCE_DATE));
    let provenance = Provenance {
        library: "kiln-example".into(),
        library_version: kiln::VERSION.into(),
        params,
        data_fingerprint: Some(format!("sha256:{}", hex(&Sha256::digest(&train_csv)))),
        seed: Some(SEED),
        kiln_version: kiln::VERSION.into(),
    };
    let model = LinearSpec { features: names, coefficients: vec![coefficients], intercept: vec![intercept], link: Link::Logit };
    let outputs = vec![OutputSpec { name: "p_buys".into(), description: "probability that the customer buys the product".into() }];
    let artifact = Artifact::new(content(pipeline(scales.median_income, &scales.standard), model, outputs, provenance))
        .expect("bank artifact is valid")
        .with_created_at(CREATED_AT);

    let mut files = BTreeMap::new();
    files.insert("model.kiln", artifact.to_bytes().expect("artifact encodes"));
    files.insert("train.csv", train_csv);
    files.insert("customers.csv", to_csv(&scoring, false));
    files.insert("customers.parquet", to_parquet(&scoring));
    files
}

fn main() {
    let check = std::env::args().any(|a| a == "--check");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bank");
    let files = build();
    if check {
        let mut stale = Vec::new();
        for (name, bytes) in &files {
            if std::fs::read(dir.join(name)).ok().as_ref() != Some(bytes) {
                stale.push(*name);
            }
        }
        if !stale.is_empty() {
            eprintln!("error: examples/bank/ differs from what make_bank generates: {}", stale.join(", "));
            std::process::exit(1);
        }
        println!("examples/bank/ is up to date ({} files)", files.len());
        return;
    }
    std::fs::create_dir_all(&dir).expect("create examples/bank");
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap_or_else(|e| panic!("writing {name}: {e}"));
        println!("wrote examples/bank/{name} ({} bytes)", bytes.len());
    }
}
