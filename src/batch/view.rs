//! Typed, read-only views over batch columns: how the engine reads a numeric or categorical
//! value of one row without dynamic dispatch per value.

use std::collections::HashMap;

use arrow_array::types::{
    ArrowDictionaryKeyType, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, DictionaryArray, LargeStringArray, StringArray, StringViewArray, cast::AsArray};
use arrow_buffer::{BooleanBuffer, NullBuffer};
use arrow_schema::{DataType, TimeUnit};

use crate::error::{Error, Result};
use crate::schema::{Column, ColumnType};

const MILLIS_PER_DAY: f64 = 86_400_000.0;

/// The physical values behind a numeric view.
#[derive(Clone, Copy, Debug)]
enum Values<'a> {
    F64(&'a [f64]),
    F32(&'a [f32]),
    I64(&'a [i64]),
    I32(&'a [i32]),
    I16(&'a [i16]),
    I8(&'a [i8]),
    U64(&'a [u64]),
    U32(&'a [u32]),
    U16(&'a [u16]),
    U8(&'a [u8]),
    Bool(&'a BooleanBuffer),
    /// Days since the epoch (date32).
    Days(&'a [i32]),
    /// Integer ticks since the epoch, `ticks_per_day` per day (date64, timestamps).
    Ticks(&'a [i64], f64),
}

/// A numeric column read as `f64`, nulls as NaN. Dates and timestamps read as days since
/// 1970-01-01 (fractional for timestamps).
#[derive(Clone, Copy, Debug)]
pub struct NumericView<'a> {
    values: Values<'a>,
    nulls: Option<&'a NullBuffer>,
}

impl<'a> NumericView<'a> {
    /// A view of `array` for schema column `col`, or an error naming the type mismatch.
    pub fn new(col: &Column, array: &'a ArrayRef) -> Result<Self> {
        let dt = array.data_type();
        let mismatch = || Error::column_type(&col.name, dt, col.ty.name());
        let values = match (col.ty, dt) {
            (ColumnType::Bool, DataType::Boolean) => Values::Bool(array.as_boolean().values()),
            (ColumnType::Bool, _) => return Err(mismatch()),
            (ColumnType::Date | ColumnType::Timestamp, DataType::Date32) => Values::Days(array.as_primitive::<arrow_array::types::Date32Type>().values()),
            (ColumnType::Date | ColumnType::Timestamp, DataType::Date64) => {
                Values::Ticks(array.as_primitive::<arrow_array::types::Date64Type>().values(), MILLIS_PER_DAY)
            }
            (ColumnType::Date | ColumnType::Timestamp, DataType::Timestamp(unit, _)) => {
                let per_day = match unit {
                    TimeUnit::Second => 86_400.0,
                    TimeUnit::Millisecond => MILLIS_PER_DAY,
                    TimeUnit::Microsecond => MILLIS_PER_DAY * 1e3,
                    TimeUnit::Nanosecond => MILLIS_PER_DAY * 1e6,
                };
                let v: &'a [i64] = match unit {
                    TimeUnit::Second => array.as_primitive::<arrow_array::types::TimestampSecondType>().values(),
                    TimeUnit::Millisecond => array.as_primitive::<arrow_array::types::TimestampMillisecondType>().values(),
                    TimeUnit::Microsecond => array.as_primitive::<arrow_array::types::TimestampMicrosecondType>().values(),
                    TimeUnit::Nanosecond => array.as_primitive::<arrow_array::types::TimestampNanosecondType>().values(),
                };
                Values::Ticks(v, per_day)
            }
            (ColumnType::Date | ColumnType::Timestamp, _) => return Err(mismatch()),
            (ColumnType::Categorical, _) => return Err(mismatch()),
            // Numeric logical types accept any integer or float physical type: widening to f64
            // is exact for all but integers beyond 2^53, which no feature holds in practice.
            (_, DataType::Float64) => Values::F64(array.as_primitive::<arrow_array::types::Float64Type>().values()),
            (_, DataType::Float32) => Values::F32(array.as_primitive::<arrow_array::types::Float32Type>().values()),
            (_, DataType::Int64) => Values::I64(array.as_primitive::<Int64Type>().values()),
            (_, DataType::Int32) => Values::I32(array.as_primitive::<Int32Type>().values()),
            (_, DataType::Int16) => Values::I16(array.as_primitive::<Int16Type>().values()),
            (_, DataType::Int8) => Values::I8(array.as_primitive::<Int8Type>().values()),
            (_, DataType::UInt64) => Values::U64(array.as_primitive::<UInt64Type>().values()),
            (_, DataType::UInt32) => Values::U32(array.as_primitive::<UInt32Type>().values()),
            (_, DataType::UInt16) => Values::U16(array.as_primitive::<UInt16Type>().values()),
            (_, DataType::UInt8) => Values::U8(array.as_primitive::<UInt8Type>().values()),
            _ => return Err(mismatch()),
        };
        Ok(NumericView { values, nulls: array.nulls() })
    }

    /// The column's values as they are, when they are `f64` with no null slot: what
    /// [`NumericView::fill`] would copy, to be read in place.
    pub fn as_f64(&self) -> Option<&'a [f64]> {
        match self.values {
            Values::F64(v) if self.nulls.is_none_or(|n| n.null_count() == 0) => Some(v),
            _ => None,
        }
    }

    /// Write rows `[start, start + out.len())` into `out`, nulls as NaN.
    pub fn fill(&self, start: usize, out: &mut [f64]) {
        let n = out.len();
        macro_rules! widen {
            ($v:expr) => {
                for (o, x) in out.iter_mut().zip(&$v[start..start + n]) {
                    *o = *x as f64;
                }
            };
        }
        match self.values {
            Values::F64(v) => out.copy_from_slice(&v[start..start + n]),
            Values::F32(v) => widen!(v),
            Values::I64(v) => widen!(v),
            Values::I32(v) => widen!(v),
            Values::I16(v) => widen!(v),
            Values::I8(v) => widen!(v),
            Values::U64(v) => widen!(v),
            Values::U32(v) => widen!(v),
            Values::U16(v) => widen!(v),
            Values::U8(v) => widen!(v),
            Values::Days(v) => widen!(v),
            Values::Bool(b) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = if b.value(start + i) { 1.0 } else { 0.0 };
                }
            }
            Values::Ticks(v, per_day) => {
                for (o, x) in out.iter_mut().zip(&v[start..start + n]) {
                    *o = *x as f64 / per_day;
                }
            }
        }
        if let Some(nulls) = self.nulls {
            if nulls.null_count() > 0 {
                for (i, o) in out.iter_mut().enumerate() {
                    if nulls.is_null(start + i) {
                        *o = f64::NAN;
                    }
                }
            }
        }
    }
}

/// Where a categorical column's strings come from.
#[derive(Debug)]
enum Strings<'a> {
    Utf8(&'a StringArray),
    LargeUtf8(&'a LargeStringArray),
    View(&'a StringViewArray),
    /// Dictionary-encoded: per-row keys (widened) and the dictionary's codes, mapped once per
    /// batch from dictionary index to vocabulary code.
    Dict { keys: Keys<'a>, values: &'a ArrayRef, codes: Vec<i64> },
}

#[derive(Debug, Clone, Copy)]
enum Keys<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

impl Keys<'_> {
    #[inline]
    fn get(&self, i: usize) -> usize {
        match *self {
            Keys::I8(k) => k[i] as usize,
            Keys::I16(k) => k[i] as usize,
            Keys::I32(k) => k[i] as usize,
            Keys::I64(k) => k[i] as usize,
            Keys::U8(k) => k[i] as usize,
            Keys::U16(k) => k[i] as usize,
            Keys::U32(k) => k[i] as usize,
            Keys::U64(k) => k[i] as usize,
        }
    }
}

/// Code of a null categorical value.
pub const NULL_CODE: i64 = -1;

/// A categorical column read as codes into a fixed vocabulary: `0..k` for known categories,
/// [`NULL_CODE`] for nulls, and `k + j` for an unknown string (`j` locates it, see
/// [`CategoricalView::unknown`]).
#[derive(Debug)]
pub struct CategoricalView<'a> {
    strings: Strings<'a>,
    nulls: Option<&'a NullBuffer>,
    vocab_len: i64,
}

/// A category vocabulary: string to code.
pub type Vocabulary = HashMap<String, i64>;

impl<'a> CategoricalView<'a> {
    pub fn new(col: &Column, array: &'a ArrayRef, vocab: &Vocabulary) -> Result<Self> {
        let dt = array.data_type();
        let mismatch = || Error::column_type(&col.name, dt, "categorical (utf8, large_utf8, utf8_view or dictionary of utf8)");
        let vocab_len = vocab.len() as i64;
        let strings = match dt {
            DataType::Utf8 => Strings::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Strings::LargeUtf8(array.as_string::<i64>()),
            DataType::Utf8View => Strings::View(array.as_string_view()),
            DataType::Dictionary(key, value) if matches!(**value, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View) => {
                fn dict<K: ArrowDictionaryKeyType>(a: &ArrayRef) -> &DictionaryArray<K> {
                    a.as_dictionary::<K>()
                }
                let (keys, values) = match **key {
                    DataType::Int8 => (Keys::I8(dict::<Int8Type>(array).keys().values()), dict::<Int8Type>(array).values()),
                    DataType::Int16 => (Keys::I16(dict::<Int16Type>(array).keys().values()), dict::<Int16Type>(array).values()),
                    DataType::Int32 => (Keys::I32(dict::<Int32Type>(array).keys().values()), dict::<Int32Type>(array).values()),
                    DataType::Int64 => (Keys::I64(dict::<Int64Type>(array).keys().values()), dict::<Int64Type>(array).values()),
                    DataType::UInt8 => (Keys::U8(dict::<UInt8Type>(array).keys().values()), dict::<UInt8Type>(array).values()),
                    DataType::UInt16 => (Keys::U16(dict::<UInt16Type>(array).keys().values()), dict::<UInt16Type>(array).values()),
                    DataType::UInt32 => (Keys::U32(dict::<UInt32Type>(array).keys().values()), dict::<UInt32Type>(array).values()),
                    DataType::UInt64 => (Keys::U64(dict::<UInt64Type>(array).keys().values()), dict::<UInt64Type>(array).values()),
                    _ => return Err(mismatch()),
                };
                let codes = (0..values.len())
                    .map(|j| {
                        if values.is_null(j) {
                            NULL_CODE
                        } else {
                            let s = string_at(values, j);
                            vocab.get(s).copied().unwrap_or(vocab_len + j as i64)
                        }
                    })
                    .collect();
                Strings::Dict { keys, values, codes }
            }
            _ => return Err(mismatch()),
        };
        // For dictionaries the logical nulls combine key nulls and null dictionary values; the
        // latter are already NULL_CODE above, so key nulls are enough here.
        Ok(CategoricalView { strings, nulls: array.nulls(), vocab_len })
    }

    /// Write the codes of rows `[start, start + out.len())` into `out`.
    pub fn fill(&self, start: usize, out: &mut [i64], vocab: &Vocabulary) {
        let lookup = |s: &str, row: usize| vocab.get(s).copied().unwrap_or(self.vocab_len + row as i64);
        match &self.strings {
            Strings::Utf8(a) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = lookup(a.value(start + i), start + i);
                }
            }
            Strings::LargeUtf8(a) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = lookup(a.value(start + i), start + i);
                }
            }
            Strings::View(a) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = lookup(a.value(start + i), start + i);
                }
            }
            Strings::Dict { keys, codes, .. } => {
                // Arrow validates only the keys of valid slots: a null slot's key may be anything
                // (negative, beyond the dictionary). Such a slot becomes a null here and is
                // overwritten by the validity pass below either way.
                for (i, o) in out.iter_mut().enumerate() {
                    *o = codes.get(keys.get(start + i)).copied().unwrap_or(NULL_CODE);
                }
            }
        }
        if let Some(nulls) = self.nulls {
            if nulls.null_count() > 0 {
                for (i, o) in out.iter_mut().enumerate() {
                    if nulls.is_null(start + i) {
                        *o = NULL_CODE;
                    }
                }
            }
        }
    }

    /// The string of an unknown code (`code >= vocabulary size`).
    pub fn unknown(&self, code: i64) -> &str {
        let j = (code - self.vocab_len) as usize;
        match &self.strings {
            Strings::Utf8(a) => a.value(j),
            Strings::LargeUtf8(a) => a.value(j),
            Strings::View(a) => a.value(j),
            Strings::Dict { values, .. } => string_at(values, j),
        }
    }
}

fn string_at(values: &ArrayRef, j: usize) -> &str {
    match values.data_type() {
        DataType::LargeUtf8 => values.as_string::<i64>().value(j),
        DataType::Utf8View => values.as_string_view().value(j),
        _ => values.as_string::<i32>().value(j),
    }
}
