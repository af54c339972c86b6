//! Files in and out: CSV and Parquet read in chunks of rows, and the scored output written one
//! chunk at a time, so a file of any size runs in bounded memory.
//!
//! A CSV file carries no types, so the model's schema supplies them: each column the schema
//! names is parsed as its logical type (categorical as text, dates as `YYYY-MM-DD`, numbers as
//! numbers) and every other column is kept as text. A value that does not parse is an error
//! naming the file, line, column and value; it is never guessed into something else.

use std::fs::File;
use std::io::{BufWriter, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, DataType, Field, Schema as ArrowSchema, SchemaRef, TimeUnit};
use kiln::KilnStatus;
use kiln::schema::{ColumnType, Schema};
use parquet::arrow::ArrowWriter;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use crate::error::{CliError, CliResult};

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// The format named by `flag`, else by the file's extension.
    pub fn resolve(flag: Option<Format>, path: &Path, role: &str) -> CliResult<Format> {
        if let Some(f) = flag {
            return Ok(f);
        }
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("csv") => Ok(Format::Csv),
            Some("parquet" | "pq") => Ok(Format::Parquet),
            _ => Err(CliError::new(
                KilnStatus::InvalidArgument,
                format!("cannot tell the format of {role} file {} from its extension: name it .csv or .parquet, or pass --{}format", path.display(), if role == "input" { "input-" } else { "" }),
            )),
        }
    }
}

/// An input file opened for chunked reading.
pub struct Input {
    /// Columns as they will arrive in each chunk (only those the model or `--keep` needs).
    pub schema: SchemaRef,
    pub chunks: Box<dyn Iterator<Item = CliResult<RecordBatch>>>,
    /// What progress is measured in, and how much there is.
    pub progress: ProgressSource,
}

pub enum ProgressSource {
    /// Bytes of the file consumed so far (CSV), out of `total`.
    Bytes { read: Arc<AtomicU64>, total: u64 },
    /// Rows (Parquet: known up front from the footer).
    Rows { total: u64 },
}

/// Open `path` as `format`, reading the schema's columns (typed) and the `keep` columns.
pub fn open_input(path: &Path, format: Format, model: &Schema, keep: &[String], chunk_rows: usize) -> CliResult<Input> {
    let file = File::open(path).map_err(|e| CliError::io(format!("cannot open input file {}", path.display()), e))?;
    match format {
        Format::Csv => open_csv(path, file, model, keep, chunk_rows),
        Format::Parquet => open_parquet(path, file, model, keep, chunk_rows),
    }
}

/// The columns to read, checked against what the file has.
fn wanted<'a>(path: &Path, names: &[&str], model: &'a Schema, keep: &'a [String]) -> CliResult<Vec<&'a str>> {
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(CliError::new(KilnStatus::InvalidArgument, format!("{}: column '{n}' appears twice in the header", path.display())));
        }
    }
    let mut want: Vec<&str> = Vec::new();
    for col in &model.columns {
        if !names.contains(&col.name.as_str()) {
            return Err(CliError::new(
                KilnStatus::MissingColumn,
                format!("{}: missing column '{}' ({}), which the model needs; the file has: {}", path.display(), col.name, col.ty, names.join(", ")),
            ));
        }
        want.push(&col.name);
    }
    for k in keep {
        if !names.contains(&k.as_str()) {
            return Err(CliError::new(KilnStatus::MissingColumn, format!("{}: --keep names column '{k}', which the file does not have", path.display())));
        }
        if !want.contains(&k.as_str()) {
            want.push(k);
        }
    }
    Ok(want)
}

/// The Arrow type a CSV column is parsed as, for a column of the model's schema.
fn csv_type(ty: ColumnType) -> DataType {
    match ty {
        ColumnType::Float64 | ColumnType::Float32 => DataType::Float64,
        ColumnType::Int64 | ColumnType::Int32 => DataType::Int64,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Categorical => DataType::Utf8,
        ColumnType::Date => DataType::Date32,
        ColumnType::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
    }
}

/// Counts the bytes the CSV parser has pulled from the file, for the progress bar.
struct CountingReader<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

fn open_csv(path: &Path, mut file: File, model: &Schema, keep: &[String], chunk_rows: usize) -> CliResult<Input> {
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let format = arrow_csv::reader::Format::default().with_header(true);
    let (header, _) = format
        .infer_schema(&mut file, Some(0))
        .map_err(|e| CliError::new(KilnStatus::InvalidArgument, format!("{}: cannot read the CSV header: {e}", path.display())))?;
    let names: Vec<&str> = header.fields().iter().map(|f| f.name().as_str()).collect();
    let want = wanted(path, &names, model, keep)?;
    let fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, model.column(n).map_or(DataType::Utf8, |c| csv_type(c.ty)), true))
        .collect();
    let full = Arc::new(ArrowSchema::new(fields));
    let projection: Vec<usize> = want.iter().map(|w| names.iter().position(|n| n == w).expect("checked by wanted")).collect();
    let projected = Arc::new(full.project(&projection).map_err(|e| CliError::new(KilnStatus::Internal, e.to_string()))?);

    use std::io::Seek;
    file.rewind().map_err(|e| CliError::io(format!("cannot rewind {}", path.display()), e))?;
    let read = Arc::new(AtomicU64::new(0));
    let reader = arrow_csv::ReaderBuilder::new(full.clone())
        .with_header(true)
        .with_batch_size(chunk_rows)
        .with_projection(projection)
        .build(CountingReader { inner: file, read: read.clone() })
        .map_err(|e| CliError::new(KilnStatus::InvalidArgument, format!("{}: {e}", path.display())))?;
    let path = path.to_path_buf();
    let model = model.clone();
    let chunks = reader.map(move |r| r.map_err(|e| csv_error(&path, &full, &model, e)));
    Ok(Input { schema: projected, chunks: Box::new(chunks), progress: ProgressSource::Bytes { read, total } })
}

/// Rewrite arrow-csv's parse error ("Error while parsing value 'x' as type 'Int64' for column 1
/// at line 7. Row data: ...") to name the file line, the column by name, and the schema type
/// that decided how the column is parsed.
fn csv_error(path: &Path, schema: &ArrowSchema, model: &Schema, e: ArrowError) -> CliError {
    let text = e.to_string();
    let parsed = (|| {
        let rest = text.split_once("Error while parsing value '")?.1;
        let (value, rest) = rest.split_once("' as type '")?;
        let (_, rest) = rest.split_once("' for column ")?;
        let (col, rest) = rest.split_once(" at line ")?;
        let line: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some((value.to_string(), col.parse::<usize>().ok()?, line.parse::<u64>().ok()?))
    })();
    let Some((value, col, line)) = parsed else {
        return CliError::new(KilnStatus::InvalidArgument, format!("{}: malformed CSV: {text}", path.display()));
    };
    let name = schema.fields().get(col).map_or_else(|| format!("#{col}"), |f| f.name().clone());
    let (ty, expected) = match model.column(&name).map(|c| c.ty) {
        Some(ColumnType::Int64 | ColumnType::Int32) => ("integer", "an integer"),
        Some(ColumnType::Float64 | ColumnType::Float32) => ("float", "a number"),
        Some(ColumnType::Bool) => ("bool", "true or false"),
        Some(ColumnType::Date) => ("date", "a date YYYY-MM-DD"),
        Some(ColumnType::Timestamp) => ("timestamp", "a timestamp YYYY-MM-DD[THH:MM:SS[.fff][Z|+HH:MM]]"),
        Some(ColumnType::Categorical) | None => ("text", "text"),
    };
    // arrow-csv counts lines from 0 with the header as line 0: one more is the editor's line.
    CliError::new(
        KilnStatus::ColumnType,
        format!(
            "{} line {}, column '{name}': value '{value}' is not {expected} (the model's schema makes '{name}' a {ty} column)",
            path.display(),
            line + 1
        ),
    )
}

fn open_parquet(path: &Path, file: File, model: &Schema, keep: &[String], chunk_rows: usize) -> CliResult<Input> {
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| CliError::new(KilnStatus::InvalidArgument, format!("{}: not a readable Parquet file: {e}", path.display())))?;
    let arrow_schema = builder.schema().clone();
    let names: Vec<&str> = arrow_schema.fields().iter().map(|f| f.name().as_str()).collect();
    let want = wanted(path, &names, model, keep)?;
    let roots: Vec<usize> = want.iter().map(|w| names.iter().position(|n| n == w).expect("checked by wanted")).collect();
    let total = u64::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(chunk_rows)
        .build()
        .map_err(|e| CliError::new(KilnStatus::InvalidArgument, format!("{}: {e}", path.display())))?;
    let schema = reader.schema();
    let path = path.to_path_buf();
    let chunks = reader.map(move |r| r.map_err(|e| CliError::new(KilnStatus::InvalidArgument, format!("{}: reading Parquet: {e}", path.display()))));
    Ok(Input { schema, chunks: Box::new(chunks), progress: ProgressSource::Rows { total } })
}

enum Sink {
    Csv(arrow_csv::Writer<BufWriter<File>>),
    Parquet(ArrowWriter<File>),
}

/// The scored output, written to a temporary name next to the target and renamed into place
/// only when every chunk succeeded: a failed run never leaves a truncated file that looks done.
pub struct Output {
    sink: Option<Sink>,
    partial: PathBuf,
    path: PathBuf,
}

impl Output {
    pub fn create(path: &Path, format: Format, schema: SchemaRef) -> CliResult<Output> {
        let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".partial");
        let partial = path.with_file_name(name);
        let file = File::create(&partial).map_err(|e| CliError::io(format!("cannot create output file {}", partial.display()), e))?;
        let sink = match format {
            Format::Csv => Sink::Csv(arrow_csv::WriterBuilder::new().with_header(true).build(BufWriter::new(file))),
            Format::Parquet => {
                let props = WriterProperties::builder().set_compression(Compression::SNAPPY).build();
                Sink::Parquet(ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| CliError::io("cannot start the Parquet output", e))?)
            }
        };
        Ok(Output { sink: Some(sink), partial, path: path.to_path_buf() })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> CliResult<()> {
        let what = || format!("writing {}", self.partial.display());
        match self.sink.as_mut().expect("written before finish") {
            Sink::Csv(w) => w.write(batch).map_err(|e| CliError::io(what(), e)),
            Sink::Parquet(w) => w.write(batch).map_err(|e| CliError::io(what(), e)),
        }
    }

    pub fn finish(mut self) -> CliResult<()> {
        let what = || format!("finishing {}", self.partial.display());
        match self.sink.take().expect("finished once") {
            Sink::Csv(w) => {
                use std::io::Write;
                w.into_inner().flush().map_err(|e| CliError::io(what(), e))?;
            }
            Sink::Parquet(w) => {
                w.close().map_err(|e| CliError::io(what(), e))?;
            }
        }
        std::fs::rename(&self.partial, &self.path).map_err(|e| CliError::io(format!("moving the output into place at {}", self.path.display()), e))
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if self.sink.is_some() {
            self.sink = None;
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}

/// A schema for profiling a file without a model: every column the file has, numbers as
/// numeric (integers int64, floats float64), text as categorical, booleans, dates and
/// timestamps as such. CSV types are inferred from every row, so a later row cannot contradict
/// them.
pub fn infer_schema(path: &Path, format: Format) -> CliResult<Schema> {
    let arrow_schema: ArrowSchema = match format {
        Format::Csv => {
            let mut file = File::open(path).map_err(|e| CliError::io(format!("cannot open input file {}", path.display()), e))?;
            arrow_csv::reader::Format::default()
                .with_header(true)
                .infer_schema(&mut file, None)
                .map_err(|e| CliError::new(KilnStatus::InvalidArgument, format!("{}: cannot infer the CSV's column types: {e}", path.display())))?
                .0
        }
        Format::Parquet => {
            let file = File::open(path).map_err(|e| CliError::io(format!("cannot open input file {}", path.display()), e))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file)
                .map_err(|e| CliError::new(KilnStatus::InvalidArgument, format!("{}: not a readable Parquet file: {e}", path.display())))?;
            builder.schema().as_ref().clone()
        }
    };
    let mut columns = Vec::new();
    for f in arrow_schema.fields() {
        let ty = match f.data_type() {
            DataType::Float16 | DataType::Float32 | DataType::Float64 | DataType::Decimal128(..) => ColumnType::Float64,
            DataType::Int8 | DataType::Int16 | DataType::Int32 | DataType::Int64 | DataType::UInt8 | DataType::UInt16 | DataType::UInt32 | DataType::UInt64 => ColumnType::Int64,
            DataType::Boolean => ColumnType::Bool,
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(..) => ColumnType::Categorical,
            DataType::Date32 | DataType::Date64 => ColumnType::Date,
            DataType::Timestamp(..) => ColumnType::Timestamp,
            // An all-empty CSV column has no type to infer: profile it as text (all null).
            DataType::Null => ColumnType::Categorical,
            other => {
                return Err(CliError::new(
                    KilnStatus::ColumnType,
                    format!("{}: column '{}' has type {other}, which kiln cannot profile (numbers, text, booleans, dates and timestamps only)", path.display(), f.name()),
                ));
            }
        };
        columns.push(kiln::schema::Column::new(f.name().clone(), ty));
    }
    Ok(Schema::new(columns))
}
