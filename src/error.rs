//! Errors and the status codes they map to.
//!
//! Every failure in kiln is an [`Error`]; at the C ABI it becomes a [`KilnStatus`] plus a
//! thread-local message. Status numbers are part of the stable ABI: they never change and a
//! retired number is never reused.

use std::fmt;

/// Result codes returned by every `kiln_*` function. The numbers are fixed forever.
#[repr(i32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KilnStatus {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// An argument had an invalid value (bad UTF-8 name, unknown type code, ...).
    InvalidArgument = 2,
    /// A file could not be read or written.
    Io = 3,
    /// The artifact is not a well-formed kiln artifact (truncated, not JSON, missing fields).
    MalformedArtifact = 4,
    /// The artifact has a major format version newer than this library knows.
    UnsupportedVersion = 5,
    /// The artifact is well-formed but its model or pipeline is structurally invalid.
    InvalidModel = 6,
    /// The artifact's fingerprint differs from the one the caller pinned, or from its content.
    FingerprintMismatch = 7,
    /// A column the model needs is absent from the batch.
    MissingColumn = 8,
    /// A batch column has a type the model cannot accept for that column.
    ColumnType = 9,
    /// Foreign memory failed validation (lengths, offsets, dictionary indices, alignment).
    BadBuffer = 10,
    /// A caller-allocated output buffer is smaller than required.
    BufferTooSmall = 11,
    /// The batch was rejected as a whole by a column policy.
    BatchRejected = 12,
    /// A panic was caught at the ABI boundary (a kiln bug; the handle is still usable).
    Panic = 13,
    /// The caller asked for an ABI version this library does not provide.
    AbiMismatch = 14,
    /// An unexpected internal failure (a kiln bug).
    Internal = 99,
}

impl KilnStatus {
    /// Every status, in numeric order (for tables and tests).
    ///
    /// cbindgen:ignore
    pub const ALL: [KilnStatus; 16] = [
        KilnStatus::Ok,
        KilnStatus::NullArgument,
        KilnStatus::InvalidArgument,
        KilnStatus::Io,
        KilnStatus::MalformedArtifact,
        KilnStatus::UnsupportedVersion,
        KilnStatus::InvalidModel,
        KilnStatus::FingerprintMismatch,
        KilnStatus::MissingColumn,
        KilnStatus::ColumnType,
        KilnStatus::BadBuffer,
        KilnStatus::BufferTooSmall,
        KilnStatus::BatchRejected,
        KilnStatus::Panic,
        KilnStatus::AbiMismatch,
        KilnStatus::Internal,
    ];

    /// Short stable name, e.g. `"missing_column"`.
    pub fn name(self) -> &'static str {
        match self {
            KilnStatus::Ok => "ok",
            KilnStatus::NullArgument => "null_argument",
            KilnStatus::InvalidArgument => "invalid_argument",
            KilnStatus::Io => "io",
            KilnStatus::MalformedArtifact => "malformed_artifact",
            KilnStatus::UnsupportedVersion => "unsupported_version",
            KilnStatus::InvalidModel => "invalid_model",
            KilnStatus::FingerprintMismatch => "fingerprint_mismatch",
            KilnStatus::MissingColumn => "missing_column",
            KilnStatus::ColumnType => "column_type",
            KilnStatus::BadBuffer => "bad_buffer",
            KilnStatus::BufferTooSmall => "buffer_too_small",
            KilnStatus::BatchRejected => "batch_rejected",
            KilnStatus::Panic => "panic",
            KilnStatus::AbiMismatch => "abi_mismatch",
            KilnStatus::Internal => "internal",
        }
    }
}

/// A kiln failure. The message always names what is wrong and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    status: KilnStatus,
    message: String,
}

impl Error {
    pub fn new(status: KilnStatus, message: impl Into<String>) -> Self {
        Error { status, message: message.into() }
    }
    pub fn status(&self) -> KilnStatus {
        self.status
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// Prefix the message with context ("while loading model.kiln: ...").
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }

    pub fn invalid_argument(m: impl Into<String>) -> Self {
        Self::new(KilnStatus::InvalidArgument, m)
    }
    pub fn io(m: impl Into<String>) -> Self {
        Self::new(KilnStatus::Io, m)
    }
    pub fn malformed(m: impl Into<String>) -> Self {
        Self::new(KilnStatus::MalformedArtifact, m)
    }
    pub fn invalid_model(m: impl Into<String>) -> Self {
        Self::new(KilnStatus::InvalidModel, m)
    }
    pub fn missing_column(name: &str) -> Self {
        Self::new(KilnStatus::MissingColumn, format!("missing column '{name}': the model needs it and the batch does not have it"))
    }
    pub fn column_type(name: &str, found: impl fmt::Display, expected: impl fmt::Display) -> Self {
        Self::new(KilnStatus::ColumnType, format!("column '{name}' has type {found}, the model expects {expected}"))
    }
    pub fn bad_buffer(m: impl Into<String>) -> Self {
        Self::new(KilnStatus::BadBuffer, m)
    }
    pub fn buffer_too_small(what: &str, got: usize, need: usize) -> Self {
        Self::new(KilnStatus::BufferTooSmall, format!("{what} has room for {got} values, {need} are needed"))
    }
    pub fn batch_rejected(m: impl Into<String>) -> Self {
        Self::new(KilnStatus::BatchRejected, m)
    }
    pub fn internal(m: impl Into<String>) -> Self {
        Self::new(KilnStatus::Internal, m)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.status.name(), self.message)
    }
}

impl std::error::Error for Error {}

impl From<arrow_schema::ArrowError> for Error {
    fn from(e: arrow_schema::ArrowError) -> Self {
        Error::bad_buffer(format!("arrow: {e}"))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
