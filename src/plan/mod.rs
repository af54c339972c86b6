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
        let model = match &c.model {
            ModelSpec::Linear(m) => model::Prepared::Linear(model::Linear::new(m, feature_slots)),
            ModelSpec::TreeEnsemble(m) => model::Prepared::Trees(Box::new(model::TreeEnsemble::new(m, &feature_slots))),
        };
        Ok(Plan { inputs, steps, model, n_num, n_cat, vocabs, cat_vocab, reasons })
    }

    /// Rows per block for this plan's model. Each row's result depends on that row only, so the
    /// choice changes no score.
    pub fn block_rows(&self) -> usize {
        match self.model {
            model::Prepared::Linear(_) => {
                let fit = LINEAR_BLOCK_BYTES / (8 * (self.n_num + self.n_cat).max(1));
                (fit / BLOCK_ROWS * BLOCK_ROWS).clamp(BLOCK_ROWS, LINEAR_MAX_BLOCK_ROWS)
            }
            model::Prepared::Trees(_) => BLOCK_ROWS,
        }
    }

    pub fn n_outputs(&self) -> usize {
        self.model.n_outputs()
    }
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
