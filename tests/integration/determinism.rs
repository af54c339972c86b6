//! Same numbers whatever the thread count or batch split: random tree ensembles and random
//! linear models behind random pipelines, on NaN-heavy random data, scored with 1, 2, 3 and 8
//! threads and as random consecutive batches (slices of one batch, and separately built
//! batches), must give bit-identical scores, statuses and reasons.

use crate::common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Date32Array, Float64Array, StringArray};
use common::*;
use kiln::artifact::*;
use kiln::schema::{Column, ColumnType, DefaultValue, Policy};
use kiln::{Batch, ScoreOptions, Scorer};
use proptest::prelude::*;

/// A small deterministic generator (xorshift64*), so one proptest seed builds a whole case.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * ((self.next() >> 11) as f64 / (1u64 << 53) as f64)
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// Values that hit thresholds exactly, small integers (category codes), negatives, and
/// numbers that round across float32 boundaries; `null_rate` of them null.
fn random_values(rng: &mut Rng, n: usize, null_rate: f64) -> Vec<Option<f64>> {
    (0..n)
        .map(|_| {
            if rng.chance(null_rate) {
                return None;
            }
            Some(match rng.below(5) {
                0 => rng.below(8) as f64,
                1 => rng.pick(&[0.0, -0.0, 0.5, 1.0, 0.1, -1.0, 1e-36, 2.5]),
                2 => rng.uniform(-3.0, 3.0),
                3 => (rng.uniform(-3.0, 3.0) as f32) as f64 + rng.pick(&[0.0, 1e-9, -1e-9]),
                _ => rng.uniform(-100.0, 100.0).round() / 4.0,
            })
        })
        .collect()
}

fn random_tree(rng: &mut Rng, n_features: usize, n_targets: usize) -> TreeSpec {
    let width = if n_targets > 1 && rng.chance(0.3) { n_targets } else { 1 };
    let target = if width == n_targets { 0 } else { rng.below(n_targets - width + 1) } as u32;
    let max_depth = rng.below(6);
    let mut t = empty_tree(target, width as u32);
    // Depth-first construction; children are appended after their parent.
    fn grow(t: &mut TreeSpec, rng: &mut Rng, depth: usize, max_depth: usize, n_features: usize, width: usize) -> i32 {
        let id = t.feature.len();
        t.feature.push(-1);
        t.threshold.push(0.0);
        t.left.push(-1);
        t.right.push(-1);
        t.default_left.push(rng.chance(0.5));
        t.missing.push(rng.pick(&[Missing::Nan, Missing::Nan, Missing::Zero, Missing::AsZero]));
        for _ in 0..width {
            t.value.push(rng.uniform(-1.0, 1.0));
        }
        if depth < max_depth && rng.chance(0.8) {
            t.feature[id] = rng.below(n_features) as i32;
            t.threshold[id] = rng.pick(&[0.0, 0.5, 1.0, 0.1, -1.0, 2.5, 0.1f32 as f64]);
            if rng.chance(0.2) {
                let cats = (0..rng.below(5)).map(|_| rng.below(40) as u32).collect::<std::collections::BTreeSet<_>>();
                t.category_splits.push(CategorySplit {
                    node: id as u32,
                    categories: cats.into_iter().collect(),
                    goes: if rng.chance(0.5) { SetGoes::Left } else { SetGoes::Right },
                });
            }
            let l = grow(t, rng, depth + 1, max_depth, n_features, width);
            let r = grow(t, rng, depth + 1, max_depth, n_features, width);
            t.left[id] = l;
            t.right[id] = r;
        }
        id as i32
    }
    grow(&mut t, rng, 0, max_depth, n_features, width);
    t
}

/// Named float64 columns with nulls.
type Columns = Vec<(String, Vec<Option<f64>>)>;

/// A random ensemble over `n_features` float64 columns f0.., and its input data.
fn random_ensemble_case(seed: u64, n_rows: usize) -> (Scorer, Columns) {
    let mut rng = Rng::new(seed);
    let n_features = 1 + rng.below(5);
    let n_targets = 1 + rng.below(3);
    let trees = (0..1 + rng.below(6)).map(|_| random_tree(&mut rng, n_features, n_targets)).collect();
    let transform = if n_targets > 1 && rng.chance(0.5) {
        OutputTransform::Softmax
    } else {
        rng.pick(&[OutputTransform::Identity, OutputTransform::Sigmoid, OutputTransform::Exp])
    };
    let f32_mode = rng.chance(0.5);
    let spec = TreeEnsembleSpec {
        features: (0..n_features).map(|j| format!("f{j}")).collect(),
        n_targets,
        base_score: if rng.chance(0.5) { (0..n_targets).map(|_| rng.uniform(-1.0, 1.0)).collect() } else { vec![] },
        aggregate: if rng.chance(0.5) { Aggregate::Sum } else { Aggregate::Average },
        decision: if rng.chance(0.5) { Decision::Less } else { Decision::LessEqual },
        input_precision: if f32_mode || rng.chance(0.3) { Precision::Float32 } else { Precision::Float64 },
        accumulate: if f32_mode { Precision::Float32 } else { Precision::Float64 },
        transform,
        trees,
    };
    let columns: Vec<Column> = (0..n_features)
        .map(|j| {
            let mut c = Column::new(format!("f{j}"), ColumnType::Float64);
            if rng.chance(0.3) {
                c = c.with_range(-2.0, 2.0);
                c.policy.out_of_range = rng.pick(&[Policy::Flag, Policy::Default, Policy::Allow]);
            }
            c
        })
        .collect();
    let null_rate = rng.pick(&[0.0, 0.1, 0.5, 0.9]);
    let data = (0..n_features).map(|j| (format!("f{j}"), random_values(&mut rng, n_rows, null_rate))).collect();
    (scorer(content(columns, vec![], ModelSpec::TreeEnsemble(spec))), data)
}

/// Input data of the linear case: numeric x0..x2, categorical `c`, date `d`.
struct LinearData {
    x: Vec<Vec<Option<f64>>>,
    c: Vec<Option<String>>,
    d: Vec<Option<i32>>,
}

fn random_linear_case(seed: u64, n_rows: usize) -> (Scorer, LinearData) {
    let mut rng = Rng::new(seed);
    let mut columns: Vec<Column> = (0..3)
        .map(|j| {
            let mut c = Column::new(format!("x{j}"), ColumnType::Float64);
            c.default = Some(DefaultValue::Number(0.25));
            c.policy.null = Some(rng.pick(&[Policy::Allow, Policy::Flag, Policy::Default]));
            c
        })
        .collect();
    let mut cat = Column::new("c", ColumnType::Categorical).with_categories(["a", "b", "c"]);
    cat.policy.unknown_category = rng.pick(&[Policy::Allow, Policy::Flag, Policy::Default]);
    cat.default = Some(DefaultValue::Category("b".into()));
    columns.push(cat);
    columns.push(Column::new("d", ColumnType::Date));

    let mut pipeline = Vec::new();
    let mut features: Vec<String> = Vec::new();
    for j in 0..3 {
        let x = format!("x{j}");
        for _ in 0..rng.below(3) {
            pipeline.push(match rng.below(6) {
                0 => Step::Impute { column: x.clone(), value: rng.uniform(-1.0, 1.0), strategy: ImputeStrategy::Mean, output: None },
                1 => Step::StandardScale { column: x.clone(), mean: rng.uniform(-1.0, 1.0), scale: rng.uniform(0.1, 3.0), output: None },
                2 => Step::Clip { column: x.clone(), min: Some(-1.5), max: Some(rng.uniform(0.0, 2.0)), output: None },
                3 => Step::Log1p { column: x.clone(), output: None },
                4 => Step::MinMaxScale { column: x.clone(), scale: rng.uniform(0.1, 2.0), offset: rng.uniform(-1.0, 1.0), output: None },
                _ => Step::Bucketize { column: x.clone(), edges: vec![-1.0, 0.0, 0.5, 2.0], output: None },
            });
        }
        features.push(x);
    }
    if rng.chance(0.5) {
        pipeline.push(Step::Arithmetic { op: rng.pick(&[ArithOp::Ratio, ArithOp::Product, ArithOp::Difference]), left: "x0".into(), right: "x1".into(), output: "x01".into() });
        features.push("x01".into());
    }
    if rng.chance(0.5) {
        pipeline.push(Step::ImputeCategory { column: "c".into(), value: "zz_missing".into(), strategy: ImputeStrategy::Constant, output: None });
    }
    match rng.below(3) {
        0 => {
            let unknown = rng.pick(&[UnknownCategory::Ignore, UnknownCategory::Slot, UnknownCategory::Error]);
            let mut outs = vec!["c_a".to_string(), "c_b".into(), "c_q".into()];
            if unknown == UnknownCategory::Slot {
                outs.push("c_other".into());
            }
            features.extend(outs.iter().cloned());
            pipeline.push(Step::OneHot { column: "c".into(), categories: vec!["a".into(), "b".into(), "q".into()], unknown, outputs: outs });
        }
        1 => {
            pipeline.push(Step::Ordinal {
                column: "c".into(),
                categories: vec!["c".into(), "a".into()],
                unknown: rng.pick(&[UnknownCategory::Ignore, UnknownCategory::Slot, UnknownCategory::Error]),
                unknown_value: Some(-1.0),
                output: Some("c_ord".into()),
            });
            features.push("c_ord".into());
        }
        _ => {
            let outs: Vec<String> = (0..4).map(|i| format!("c_h{i}")).collect();
            features.extend(outs.iter().cloned());
            pipeline.push(Step::Hash { column: "c".into(), n_features: 4, alternate_sign: rng.chance(0.5), outputs: outs });
        }
    }
    pipeline.push(Step::DateParts { column: "d".into(), parts: vec![DatePart::Month, DatePart::DayOfWeek, DatePart::DayOfYear], outputs: vec!["d_m".into(), "d_w".into(), "d_y".into()] });
    pipeline.push(Step::Elapsed { column: "d".into(), reference: "2020-02-29".into(), unit: rng.pick(&[ElapsedUnit::Days, ElapsedUnit::Months, ElapsedUnit::Years]), output: Some("d_e".into()) });
    features.extend(["d_m", "d_w", "d_y", "d_e"].map(String::from));

    let link = rng.pick(&[Link::Identity, Link::Logit, Link::Log, Link::Softmax]);
    let n_targets = if link == Link::Softmax { 2 + rng.below(2) } else { 1 + rng.below(2) };
    let coef = (0..n_targets).map(|_| features.iter().map(|_| rng.uniform(-0.5, 0.5)).collect()).collect();
    let intercept = (0..n_targets).map(|_| rng.uniform(-1.0, 1.0)).collect();
    let feature_refs: Vec<&str> = features.iter().map(String::as_str).collect();
    let s = scorer(content(columns, pipeline, linear(&feature_refs, coef, intercept, link)));

    let null_rate = rng.pick(&[0.0, 0.05, 0.3]);
    let data = LinearData {
        x: (0..3).map(|_| random_values(&mut rng, n_rows, null_rate)).collect(),
        c: (0..n_rows)
            .map(|_| if rng.chance(null_rate) { None } else { Some(rng.pick(&["a", "b", "c", "q", "zz", "é", ""]).to_string()) })
            .collect(),
        d: (0..n_rows).map(|_| if rng.chance(null_rate) { None } else { Some(rng.below(40_000) as i32 - 20_000) }).collect(),
    };
    (s, data)
}

/// Builds a batch of rows `[start, start + len)` from the raw data (a separately built batch).
type Build<'a> = dyn Fn(usize, usize) -> Batch + 'a;

/// Random consecutive batch boundaries over `n` rows.
fn random_splits(rng: &mut Rng, n: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < n {
        let len = match rng.below(4) {
            0 => 1 + rng.below(3),
            1 => 1 + rng.below(130),
            _ => 1 + rng.below(n),
        }
        .min(n - start);
        out.push((start, len));
        start += len;
    }
    out
}

fn check_determinism(s: &Scorer, n: usize, build: &Build<'_>, split_seed: u64) -> Result<(), TestCaseError> {
    let full = build(0, n);
    let reference = s.score(&full, &ScoreOptions { n_threads: 1 }).unwrap();
    let k = s.n_outputs();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    prop_assert_eq!(reference.report.scored + reference.report.flagged, n as u64);
    for threads in [2, 3, 8] {
        let r = s.score(&full, &ScoreOptions { n_threads: threads }).unwrap();
        prop_assert_eq!(bits(&r.values), bits(&reference.values), "threads {}", threads);
        prop_assert_eq!(&r.status, &reference.status);
        prop_assert_eq!(&r.reason, &reference.reason);
        prop_assert_eq!(&r.report, &reference.report);
    }
    let mut rng = Rng::new(split_seed);
    for separately_built in [false, true] {
        let mut values = vec![0.0; n * k];
        let mut status = vec![0; n];
        let mut reason = vec![0; n];
        let mut merged = kiln::ScoreReport::default();
        for (start, len) in random_splits(&mut rng, n) {
            let part = if separately_built { build(start, len) } else { full.slice(start, len) };
            let threads = rng.pick(&[1, 2, 8]);
            // Strided writing straight into the full result, as a stream consumer does.
            let rep = s
                .score_into_strided(&part, &ScoreOptions { n_threads: threads }, &mut values[start..], n, &mut status[start..start + len], Some(&mut reason[start..start + len]))
                .unwrap();
            merged.merge(&rep);
        }
        prop_assert_eq!(bits(&values), bits(&reference.values), "split batches (separately built: {})", separately_built);
        prop_assert_eq!(&status, &reference.status);
        prop_assert_eq!(&reason, &reference.reason);
        prop_assert_eq!((merged.rows, merged.scored, merged.flagged), (reference.report.rows, reference.report.scored, reference.report.flagged));
    }
    Ok(())
}

fn f64_array(v: &[Option<f64>]) -> ArrayRef {
    Arc::new(Float64Array::from(v.to_vec()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn tree_ensembles_are_deterministic(seed in any::<u64>(), split_seed in any::<u64>(), n in prop_oneof![0usize..40, 500usize..1300]) {
        let (s, data) = random_ensemble_case(seed, n);
        let build = |start: usize, len: usize| {
            Batch::new(data.iter().map(|(name, v)| (name.clone(), f64_array(&v[start..start + len]))).collect()).unwrap()
        };
        check_determinism(&s, n, &build, split_seed)?;
    }

    #[test]
    fn linear_models_with_pipelines_are_deterministic(seed in any::<u64>(), split_seed in any::<u64>(), n in prop_oneof![0usize..40, 500usize..1300]) {
        let (s, data) = random_linear_case(seed, n);
        let build = |start: usize, len: usize| {
            let mut cols: Vec<(String, ArrayRef)> = (0..3).map(|j| (format!("x{j}"), f64_array(&data.x[j][start..start + len]))).collect();
            cols.push(("c".into(), Arc::new(StringArray::from(data.c[start..start + len].to_vec()))));
            cols.push(("d".into(), Arc::new(Date32Array::from(data.d[start..start + len].to_vec()))));
            Batch::new(cols).unwrap()
        };
        check_determinism(&s, n, &build, split_seed)?;
    }
}

/// The random generators really produce what the properties are about (otherwise the
/// properties above could pass vacuously).
#[test]
fn generators_cover_the_interesting_cases() {
    let (mut cats, mut f32s, mut multi, mut wide, mut flagged, mut nan_rows) = (0, 0, 0, 0, 0, 0);
    for seed in 0..40u64 {
        let (s, data) = random_ensemble_case(seed, 200);
        let artifact = s.artifact().unwrap();
        let ModelSpec::TreeEnsemble(m) = &artifact.content.model else { unreachable!() };
        cats += m.trees.iter().filter(|t| !t.category_splits.is_empty()).count();
        f32s += usize::from(m.accumulate == Precision::Float32);
        multi += usize::from(m.n_targets > 1);
        wide += m.trees.iter().filter(|t| t.leaf_width > 1).count();
        nan_rows += data.iter().map(|(_, v)| v.iter().filter(|x| x.is_none()).count()).sum::<usize>();
        let (ls, _) = random_linear_case(seed, 200);
        let build = Batch::new(vec![
            ("x0".into(), f64_array(&[Some(-5.0), None])),
            ("x1".into(), f64_array(&[Some(0.0), None])),
            ("x2".into(), f64_array(&[None, Some(1.0)])),
            ("c".into(), Arc::new(StringArray::from(vec![Some("zz"), None])) as ArrayRef),
            ("d".into(), Arc::new(Date32Array::from(vec![Some(0), None])) as ArrayRef),
        ])
        .unwrap();
        flagged += ls.score(&build, &ScoreOptions::default()).unwrap().report.flagged as usize;
    }
    assert!(cats > 5 && f32s > 5 && multi > 5 && wide > 2 && nan_rows > 1000 && flagged > 10, "{cats} {f32s} {multi} {wide} {nan_rows} {flagged}");
}

/// A loaded model keeps its trees packed (`artifact/packed.rs`) and gives back, whole, the
/// artifact it was made from: same content bit for bit (the fingerprint hashes every float in
/// shortest round-trip form), written out and read back to the same scores.
#[test]
fn loaded_models_give_back_their_artifact() {
    for seed in 0..40u64 {
        let (s, data) = random_ensemble_case(seed, 50);
        let artifact = s.artifact().unwrap();
        let ModelSpec::TreeEnsemble(m) = &artifact.content.model else { unreachable!() };
        assert!(!m.trees.is_empty(), "seed {seed}: trees unpacked");
        assert_eq!(Artifact::new(artifact.content.clone()).unwrap().fingerprint, s.fingerprint(), "seed {seed}");
        let back = Scorer::from_bytes(&artifact.to_bytes().unwrap(), Some(s.fingerprint())).unwrap();
        assert_eq!(back.artifact().unwrap().content, artifact.content, "seed {seed}");
        let batch = Batch::new(data.iter().map(|(name, v)| (name.clone(), f64_array(v))).collect()).unwrap();
        let (a, b) = (s.score(&batch, &ScoreOptions::default()).unwrap(), back.score(&batch, &ScoreOptions::default()).unwrap());
        assert!(a.values.iter().zip(&b.values).all(|(x, y)| x.to_bits() == y.to_bits()), "seed {seed}");
        let shape = back.tree_shape().unwrap();
        assert_eq!(shape.n_trees, m.trees.len());
        assert_eq!(shape.depth, m.trees.iter().map(TreeSpec::depth).max().unwrap());
    }
}
