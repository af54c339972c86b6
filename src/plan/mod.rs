//! Turns a validated artifact into an immutable execution plan: every column name resolved to
//! a scratch slot, every category vocabulary and encoder table built, the model re-laid. This is
//! the only place that decides layouts and block sizes; scoring never looks at a name again.

use std::collections::HashMap;

use crate::artifact::{Content, ModelSpec, Step, UnknownCategory};
use crate::batch::view::Vocabulary;
use crate::error::{Error, Result};
use crate::model;
use crate::schema::{ColumnType, DefaultValue};
use crate::transform::{self, arith, categorical, date, numeric, text};
use crate::verify::{CategoricalCheck, NumericCheck};

/// Rows per block for a tree ensemble: big enough to amortize per-block work, small enough that
/// a block's scratch and a tree stay in L1/L2 (512 rows walked 14% slower on the 500x8 ensemble,
/// 28% on the leaf-wise one).
pub const BLOCK_ROWS: usize = 128;
/// A linear model's block holds as many rows (a multiple of [`BLOCK_ROWS`], at most
/// [`LINEAR_MAX_BLOCK_ROWS`]) as fit this much scratch. The block's copy out of the batch reads
/// one run per column, and 50 columns of 128 rows (1 KB each) were too many short streams for
/// the prefetcher: on 50 columns imputed and scaled (150 scratch slots), 512 rows scored 19-24%
/// more rows/s than 128, 1024 rows 19-30% (criterion `linear/`, 1M rows, 1 and 2 threads,
/// 2026-12-06), though their scratch no longer fits in L2. A model of many slots (thousands of
/// text terms) keeps 128-row blocks, so its scratch stays near this size.
const LINEAR_BLOCK_BYTES: usize = 1 << 20;
const LINEAR_MAX_BLOCK_ROWS: usize = 1024;
/// A fused linear plan (see [`Plan::fused`]) reads its columns in place and writes no scratch
/// unless a rule applies, so its block is longer: 4096 rows, 32 KB runs of each column, as
/// many as fit this much input scratch. On the peers' 50-column pipeline (C driver, 1M rows, 2
/// threads, alternated, 2026-12-06): 1024 rows 20.6-22.7M rows/s, 2048 31.2-31.7M, 4096
/// 34.0-35.3M, 8192 33.0-35.2M.
const FUSED_BLOCK_BYTES: usize = 4 << 20;
const FUSED_MAX_BLOCK_ROWS: usize = 4096;

/// How one schema column enters the scratch.
#[derive(Debug, Clone)]
pub enum Input {
    Numeric { slot: usize, check: NumericCheck },
    Categorical { slot: usize, vocab: usize, check: CategoricalCheck },
}

/// The prepared, immutable plan of an artifact.
#[derive(Debug, Clone)]
pub struct Plan {
    /// One per schema column, in schema order.
    pub inputs: Vec<Input>,
    pub steps: Vec<transform::Prepared>,
    pub model: model::Prepared,
    pub n_num: usize,
    pub n_cat: usize,
    /// Category vocabularies, one per categorical input column.
    pub vocabs: Vec<Vocabulary>,
    /// Vocabulary of each categorical slot.
    pub cat_vocab: Vec<usize>,
    /// Human name of each reason id: schema columns first, then pipeline steps.
    pub reasons: Vec<String>,
    /// A linear model whose pipeline is only imputes and standard scales, each feature traced
    /// to its input column: scored in one pass over the columns instead of by `steps`.
    pub fused: Option<model::linear::Fused>,
}

#[derive(Clone, Copy)]
enum Slot {
    Num(usize),
    Cat(usize),
}

impl Plan {
    pub fn new(c: &Content) -> Result<Plan> {
        let n_cols = c.schema.columns.len();
        let mut reasons: Vec<String> = c.schema.columns.iter().map(|col| col.name.clone()).collect();
        for (i, s) in c.pipeline.iter().enumerate() {
            reasons.push(format!("step {i} ({} of '{}')", s.op_name(), s.inputs().join("', '")));
        }

        // Pass 1: the vocabulary of each categorical input is its schema categories followed by
        // every category literal a step compares it with, so that encoders map codes by table.
        let mut root_of: HashMap<&str, usize> = HashMap::new();
        let mut vocab_lists: Vec<Vec<String>> = Vec::new();
        for col in &c.schema.columns {
            if col.ty == ColumnType::Categorical {
                root_of.insert(col.name.as_str(), vocab_lists.len());
                vocab_lists.push(col.categories.clone().unwrap_or_default());
            }
        }
        let add = |list: &mut Vec<String>, s: &str| {
            if !list.iter().any(|x| x == s) {
                list.push(s.to_string());
            }
        };
        for step in &c.pipeline {
            match step {
                Step::ImputeCategory { column, value, .. } => {
                    let v = root_of[column.as_str()];
                    add(&mut vocab_lists[v], value);
                    root_of.insert(step.outputs()[0], v);
                }
                Step::OneHot { column, categories, .. } | Step::Ordinal { column, categories, .. } => {
                    let v = root_of[column.as_str()];
                    for cat in categories {
                        add(&mut vocab_lists[v], cat);
                    }
                }
                _ => {}
            }
        }
        for col in &c.schema.columns {
            if let (ColumnType::Categorical, Some(DefaultValue::Category(d))) = (col.ty, &col.default) {
                add(&mut vocab_lists[root_of[col.name.as_str()]], d);
            }
        }
        let vocabs: Vec<Vocabulary> =
            vocab_lists.iter().map(|l| l.iter().enumerate().map(|(i, s)| (s.clone(), i as i64)).collect()).collect();

        // Pass 2: slots. Every step output gets a fresh slot; a name maps to its latest slot.
        let mut names: HashMap<&str, Slot> = HashMap::new();
        let (mut n_num, mut n_cat) = (0usize, 0usize);
        let mut cat_vocab = Vec::new();
        let mut inputs = Vec::with_capacity(n_cols);
        for col in &c.schema.columns {
            if col.ty == ColumnType::Categorical {
                let vocab = root_of[col.name.as_str()];
                let default = match &col.default {
                    Some(DefaultValue::Category(d)) => Some(vocabs[vocab][d.as_str()]),
                    Some(DefaultValue::Number(v)) => {
                        return Err(Error::invalid_model(format!("categorical column '{}' has a numeric default {v}", col.name)));
                    }
                    None => None,
                };
                let check = CategoricalCheck::new(col, default)?;
                names.insert(&col.name, Slot::Cat(n_cat));
                cat_vocab.push(vocab);
                inputs.push(Input::Categorical { slot: n_cat, vocab, check });
                n_cat += 1;
            } else {
                names.insert(&col.name, Slot::Num(n_num));
                inputs.push(Input::Numeric { slot: n_num, check: NumericCheck::new(col)? });
                n_num += 1;
            }
        }
        let mut new_num = || {
            n_num += 1;
            n_num - 1
        };
        let mut steps = Vec::with_capacity(c.pipeline.len());
        for (i, step) in c.pipeline.iter().enumerate() {
            let reason = (n_cols + i) as i32;
            let num = |name: &str| match names.get(name) {
                Some(Slot::Num(s)) => *s,
                _ => unreachable!("validated: '{name}' is numeric here"),
            };
            let cat = |name: &str| match names.get(name) {
                Some(Slot::Cat(s)) => *s,
                _ => unreachable!("validated: '{name}' is categorical here"),
            };
            let prepared = match step {
                Step::ImputeCategory { column, value, .. } => {
                    let src = cat(column);
                    let vocab = cat_vocab[src];
                    let dst = n_cat;
                    n_cat += 1;
                    cat_vocab.push(vocab);
                    names.insert(step.outputs()[0], Slot::Cat(dst));
                    steps.push(transform::Prepared::Categorical(categorical::CategoricalStep::Impute {
                        src,
                        dst,
                        code: vocabs[vocab][value.as_str()],
                    }));
                    continue;
                }
                Step::Impute { column, value, .. } => numeric_step(num(column), numeric::NumericOp::Impute(*value)),
                Step::StandardScale { column, mean, scale, .. } => {
                    numeric_step(num(column), numeric::NumericOp::StandardScale { mean: *mean, scale: *scale })
                }
                Step::MinMaxScale { column, scale, offset, .. } => {
                    numeric_step(num(column), numeric::NumericOp::MinMaxScale { scale: *scale, offset: *offset })
                }
                Step::Clip { column, min, max, .. } => numeric_step(
                    num(column),
                    numeric::NumericOp::Clip { min: min.unwrap_or(f64::NEG_INFINITY), max: max.unwrap_or(f64::INFINITY) },
                ),
                Step::Log1p { column, .. } => numeric_step(num(column), numeric::NumericOp::Log1p),
                Step::Bucketize { column, edges, .. } => numeric_step(num(column), numeric::NumericOp::Bucketize(edges.clone())),
                Step::OneHot { column, categories, unknown, .. } => {
                    let src = cat(column);
                    let vocab = &vocab_lists[cat_vocab[src]];
                    let table = vocab.iter().map(|v| categories.iter().position(|c| c == v).map_or(-1, |p| p as i32)).collect();
                    let outputs = (0..step.outputs().len()).map(|_| new_num()).collect();
                    Pending::Outputs(transform::Prepared::Categorical(categorical::CategoricalStep::OneHot(categorical::OneHot {
                        src,
                        outputs,
                        table,
                        unknown: *unknown,
                        reason,
                    })))
                }
                Step::Ordinal { column, categories, unknown, unknown_value, .. } => {
                    let src = cat(column);
                    let vocab = &vocab_lists[cat_vocab[src]];
                    let table = vocab.iter().map(|v| categories.iter().position(|c| c == v).map_or(-1, |p| p as i32)).collect();
                    Pending::Outputs(transform::Prepared::Categorical(categorical::CategoricalStep::Ordinal(categorical::Ordinal {
                        src,
                        dst: new_num(),
                        table,
                        n_categories: categories.len(),
                        unknown: *unknown,
                        unknown_value: if *unknown == UnknownCategory::Ignore { unknown_value.unwrap_or(f64::NAN) } else { f64::NAN },
                        reason,
                    })))
                }
                Step::Hash { column, n_features, alternate_sign, .. } => {
                    let src = cat(column);
                    let vocab = &vocab_lists[cat_vocab[src]];
                    let table = vocab.iter().map(|v| categorical::hash_bucket(v, *n_features, *alternate_sign)).collect();
                    let outputs = (0..*n_features).map(|_| new_num()).collect();
                    Pending::Outputs(transform::Prepared::Categorical(categorical::CategoricalStep::Hash(categorical::Hash {
                        src,
                        outputs,
                        table,
                        alternate_sign: *alternate_sign,
                    })))
                }
                Step::DateParts { column, parts, .. } => Pending::Outputs(transform::Prepared::Date(date::DateStep::Parts {
                    src: num(column),
                    parts: parts.clone(),
                    outputs: parts.iter().map(|_| new_num()).collect(),
                })),
                Step::Elapsed { column, reference, unit, .. } => Pending::Outputs(transform::Prepared::Date(date::DateStep::Elapsed {
                    src: num(column),
                    dst: new_num(),
                    reference_days: date::parse_iso_date(reference).expect("validated ISO date"),
                    unit: *unit,
                })),
                Step::TextVectorize(spec) => {
                    let src = cat(&spec.column);
                    let outputs = (0..spec.outputs.len()).map(|_| new_num()).collect();
                    let known = &vocab_lists[cat_vocab[src]];
                    Pending::Outputs(transform::Prepared::Text(text::TextVectorize::new(spec, src, outputs, known)))
                }
                Step::Arithmetic { op, left, right, .. } => Pending::Outputs(transform::Prepared::Arith(arith::Arithmetic {
                    op: *op,
                    left: num(left),
                    right: num(right),
                    dst: new_num(),
                })),
            };
            let prepared = match prepared {
                Pending::Unary(src, op) => {
                    let dst = new_num();
                    transform::Prepared::Numeric(numeric::NumericStep { src, dst, op, reason })
                }
                Pending::Outputs(p) => p,
            };
            for (name, slot) in step.outputs().into_iter().zip(output_slots(&prepared)) {
                names.insert(name, Slot::Num(slot));
            }
            steps.push(prepared);
        }
        let feature_slots: Vec<usize> = c
            .model
            .features()
            .iter()
            .map(|f| match names.get(f.as_str()) {
                Some(Slot::Num(s)) => *s,
                _ => unreachable!("validated: feature '{f}' is numeric"),
            })
            .collect();
        let fused = match &c.model {
            ModelSpec::Linear(_) => fuse_linear(&inputs, &steps, &feature_slots),
            ModelSpec::TreeEnsemble(_) => None,
        };
        let model = match &c.model {
            ModelSpec::Linear(m) => model::Prepared::Linear(model::Linear::new(m, feature_slots)),
            ModelSpec::TreeEnsemble(m) => model::Prepared::Trees(Box::new(model::TreeEnsemble::new(m, &feature_slots))),
        };
        Ok(Plan { inputs, steps, model, n_num, n_cat, vocabs, cat_vocab, reasons, fused })
    }

    /// Rows per block for this plan's model. Each row's result depends on that row only, so the
    /// choice changes no score.
    pub fn block_rows(&self) -> usize {
        let (num, cat) = self.scratch_slots();
        let rows = |bytes: usize, max: usize| (bytes / (8 * (num + cat).max(1)) / BLOCK_ROWS * BLOCK_ROWS).clamp(BLOCK_ROWS, max);
        match self.model {
            model::Prepared::Linear(_) if self.fused.is_some() => rows(FUSED_BLOCK_BYTES, FUSED_MAX_BLOCK_ROWS),
            model::Prepared::Linear(_) => rows(LINEAR_BLOCK_BYTES, LINEAR_MAX_BLOCK_ROWS),
            model::Prepared::Trees(_) => BLOCK_ROWS,
        }
    }

    /// Numeric and categorical scratch slots a batch's block needs: a fused plan holds at most
    /// its input columns (numeric inputs take the first slots), any other plan every slot.
    pub fn scratch_slots(&self) -> (usize, usize) {
        if self.fused.is_some() {
            let num = self.inputs.iter().filter(|i| matches!(i, Input::Numeric { .. })).count();
            (num, self.n_cat)
        } else {
            (self.n_num, self.n_cat)
        }
    }

    pub fn n_outputs(&self) -> usize {
        self.model.n_outputs()
    }
}

/// Trace each feature of a linear model back to its input column, when every step is an impute
/// or a standard scale and each feature's chain is at most one impute followed by at most one
/// standard scale (neither flags a row, so every row's outcome is the model's alone).
fn fuse_linear(inputs: &[Input], steps: &[transform::Prepared], features: &[usize]) -> Option<model::linear::Fused> {
    use numeric::NumericOp::{Impute, StandardScale};
    let mut made_by: HashMap<usize, &numeric::NumericStep> = HashMap::new();
    for step in steps {
        match step {
            transform::Prepared::Numeric(s) if matches!(s.op, Impute(_) | StandardScale { .. }) => {
                made_by.insert(s.dst, s);
            }
            _ => return None,
        }
    }
    let input_of: HashMap<usize, usize> = inputs
        .iter()
        .enumerate()
        .filter_map(|(i, input)| match input {
            Input::Numeric { slot, .. } => Some((*slot, i)),
            Input::Categorical { .. } => None,
        })
        .collect();
    let features = features
        .iter()
        .map(|&feature| {
            let (mut slot, mut chain) = (feature, Vec::new());
            while let Some(step) = made_by.get(&slot) {
                chain.push(&step.op);
                slot = step.src;
            }
            let input = *input_of.get(&slot)?;
            let (fill, scale) = match chain.as_slice() {
                [] => (f64::NAN, None),
                [Impute(v)] => (*v, None),
                [StandardScale { mean, scale }] => (f64::NAN, Some((*mean, *scale))),
                // Traced from the feature back: the scale is first.
                [StandardScale { mean, scale }, Impute(v)] => (*v, Some((*mean, *scale))),
                _ => return None,
            };
            let (mean, scale, scaled) = scale.map_or((0.0, 1.0, false), |(m, s)| (m, s, true));
            Some(model::linear::FusedFeature { input, slot, fill, scaled, mean, scale })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(model::linear::Fused { features })
}

enum Pending {
    Unary(usize, numeric::NumericOp),
    Outputs(transform::Prepared),
}

fn numeric_step(src: usize, op: numeric::NumericOp) -> Pending {
    Pending::Unary(src, op)
}

/// The numeric slots a prepared step writes, in the order of the step's output names.
fn output_slots(p: &transform::Prepared) -> Vec<usize> {
    use transform::Prepared as P;
    match p {
        P::Numeric(s) => vec![s.dst],
        P::Arith(s) => vec![s.dst],
        P::Date(date::DateStep::Parts { outputs, .. }) => outputs.clone(),
        P::Date(date::DateStep::Elapsed { dst, .. }) => vec![*dst],
        P::Categorical(categorical::CategoricalStep::OneHot(s)) => s.outputs.clone(),
        P::Categorical(categorical::CategoricalStep::Hash(s)) => s.outputs.clone(),
        P::Categorical(categorical::CategoricalStep::Ordinal(s)) => vec![s.dst],
        P::Categorical(categorical::CategoricalStep::Impute { .. }) => vec![],
        P::Text(s) => s.outputs.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{ImputeStrategy, LinearSpec, Link, OutputSpec, Provenance};
    use crate::model::linear::FusedFeature;
    use crate::schema::{Column, Schema};

    fn plan(pipeline: Vec<Step>, features: &[&str]) -> Plan {
        let columns = vec![
            Column::new("x", ColumnType::Float64),
            Column::new("kind", ColumnType::Categorical),
            Column::new("y", ColumnType::Float64),
        ];
        let content = Content {
            schema: Schema::new(columns),
            pipeline,
            model: ModelSpec::Linear(LinearSpec {
                features: features.iter().map(|f| f.to_string()).collect(),
                coefficients: vec![vec![1.0; features.len()]],
                intercept: vec![0.0],
                link: Link::Identity,
            }),
            outputs: vec![OutputSpec::new("y")],
            provenance: Provenance::default(),
            profile: None,
        };
        let artifact = crate::Artifact::new(content).expect("valid test content");
        Plan::new(&artifact.content).expect("plans")
    }

    fn impute(column: &str, value: f64, output: &str) -> Step {
        Step::Impute { column: column.into(), value, strategy: ImputeStrategy::Mean, output: Some(output.into()) }
    }

    fn scale(column: &str, mean: f64, scale: f64, output: &str) -> Step {
        Step::StandardScale { column: column.into(), mean, scale, output: Some(output.into()) }
    }

    #[test]
    fn imputes_and_scales_fuse_into_the_linear_model() {
        let p = plan(vec![impute("x", 2.0, "xi"), scale("xi", 0.5, 3.0, "xs"), scale("y", -1.0, 0.25, "ys")], &["ys", "xs", "x"]);
        let fused = p.fused.as_ref().expect("fused");
        // x is input 0 (slot 0), y input 2 (numeric slot 1).
        let want = [
            FusedFeature { input: 2, slot: 1, fill: f64::NAN, scaled: true, mean: -1.0, scale: 0.25 },
            FusedFeature { input: 0, slot: 0, fill: 2.0, scaled: true, mean: 0.5, scale: 3.0 },
            FusedFeature { input: 0, slot: 0, fill: f64::NAN, scaled: false, mean: 0.0, scale: 1.0 },
        ];
        // Compared as printed: NaN (no impute) prints as NaN on both sides.
        assert_eq!(format!("{:?}", fused.features), format!("{want:?}"));
        // The block holds only the two numeric inputs and the categorical one.
        assert_eq!(p.scratch_slots(), (2, 1));
        assert_eq!(p.block_rows(), FUSED_MAX_BLOCK_ROWS);
    }

    #[test]
    fn other_steps_or_orders_are_not_fused() {
        let clip = Step::Clip { column: "y".into(), min: None, max: None, output: Some("yc".into()) };
        for (pipeline, features) in [
            // Any step other than impute or standard scale, even on a column no feature uses.
            (vec![impute("x", 2.0, "xi"), clip], vec!["xi"]),
            // Scale before impute, two imputes, two scales.
            (vec![scale("x", 0.5, 3.0, "xs"), impute("xs", 2.0, "xi")], vec!["xi"]),
            (vec![impute("x", 2.0, "xi"), impute("xi", 3.0, "xj")], vec!["xj"]),
            (vec![scale("x", 0.5, 3.0, "xs"), scale("xs", 0.5, 3.0, "xt")], vec!["xt"]),
        ] {
            let p = plan(pipeline, &features);
            assert!(p.fused.is_none());
            assert_eq!(p.scratch_slots(), (p.n_num, p.n_cat));
        }
    }
}
