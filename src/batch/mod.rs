//! Columnar batches: the two doors (the Arrow C Data Interface and raw typed columns), the
//! validation of foreign memory, and the typed read-only views the engine reads rows through.
//!
//! Every column is held as an arrow-rs array. Foreign memory is wrapped, never copied (except a
//! bit-packed validity map built from a host's byte mask, or a host's one-byte booleans), and it
//! is validated in full (lengths, offsets, UTF-8, dictionary keys) before anything reads it.

pub mod arrow;
pub mod raw;
pub mod view;

use arrow_array::{Array, ArrayRef, RecordBatch, StructArray};

use crate::error::{Error, Result};

pub use view::{CategoricalView, NumericView};

/// A batch of named columns of equal length. Columns are matched to the schema by name.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    columns: Vec<(String, ArrayRef)>,
    n_rows: usize,
}

impl Batch {
    /// An empty batch with `n_rows` rows and no columns yet.
    pub fn with_rows(n_rows: usize) -> Self {
        Batch { columns: Vec::new(), n_rows }
    }

    /// A batch from named arrays; lengths must agree and names must be unique.
    pub fn new(columns: Vec<(String, ArrayRef)>) -> Result<Self> {
        let n_rows = columns.first().map_or(0, |(_, a)| a.len());
        let mut b = Batch::with_rows(n_rows);
        for (name, array) in columns {
            b.push(name, array)?;
        }
        Ok(b)
    }

    /// Add a column, validating its buffers in full.
    pub fn push(&mut self, name: impl Into<String>, array: ArrayRef) -> Result<()> {
        let name = name.into();
        if self.columns.is_empty() && self.n_rows == 0 {
            self.n_rows = array.len();
        }
        if array.len() != self.n_rows {
            return Err(Error::bad_buffer(format!(
                "column '{name}' has {} rows, the batch has {}",
                array.len(),
                self.n_rows
            )));
        }
        if self.columns.iter().any(|(n, _)| *n == name) {
            return Err(Error::invalid_argument(format!("column '{name}' appears twice in the batch")));
        }
        array
            .to_data()
            .validate_full()
            .map_err(|e| Error::bad_buffer(format!("column '{name}': {e}")))?;
        self.columns.push((name, array));
        Ok(())
    }

    /// Wrap an arrow-rs record batch (zero-copy).
    pub fn from_record_batch(rb: &RecordBatch) -> Result<Self> {
        let mut b = Batch::with_rows(rb.num_rows());
        for (field, col) in rb.schema().fields().iter().zip(rb.columns()) {
            b.push(field.name().clone(), col.clone())?;
        }
        Ok(b)
    }

    /// Wrap a struct array whose children are the columns (the Arrow C Data Interface's form of
    /// a record batch). The struct's own validity must be absent or all-valid.
    pub fn from_struct_array(array: &StructArray) -> Result<Self> {
        if array.null_count() > 0 {
            return Err(Error::bad_buffer("the top-level struct array has null rows; a record batch cannot"));
        }
        let mut b = Batch::with_rows(array.len());
        for (field, col) in array.fields().iter().zip(array.columns()) {
            b.push(field.name().clone(), col.clone())?;
        }
        Ok(b)
    }

    pub fn num_rows(&self) -> usize {
        self.n_rows
    }
    pub fn num_columns(&self) -> usize {
        self.columns.len()
    }
    pub fn column(&self, name: &str) -> Option<&ArrayRef> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }
    pub fn columns(&self) -> impl Iterator<Item = (&str, &ArrayRef)> {
        self.columns.iter().map(|(n, a)| (n.as_str(), a))
    }
    /// Rows `[offset, offset + len)` as a new batch sharing the same memory.
    pub fn slice(&self, offset: usize, len: usize) -> Batch {
        Batch {
            columns: self.columns.iter().map(|(n, a)| (n.clone(), a.slice(offset, len))).collect(),
            n_rows: len,
        }
    }
}
