//! The tool's error: a kiln status (which picks the exit code) and a message naming the problem.

use kiln::KilnStatus;

#[derive(Debug)]
pub struct CliError {
    status: KilnStatus,
    message: String,
}

impl CliError {
    /// Exit code after a caught panic (10 + `KilnStatus::Panic`).
    pub const PANIC_EXIT: u8 = 10 + KilnStatus::Panic as u8;

    pub fn new(status: KilnStatus, message: impl Into<String>) -> Self {
        CliError { status, message: message.into() }
    }
    pub fn message(&self) -> &str {
        &self.message
    }
    /// 10 + the kiln status number, so scripts can tell a missing column from a bad artifact
    /// without parsing messages; 0..=2 stay free for success, unexpected failure and clap.
    pub fn exit_code(&self) -> u8 {
        match self.status {
            KilnStatus::Ok => 1,
            s => 10 + s as i32 as u8,
        }
    }
    pub fn context(mut self, ctx: impl std::fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
    pub fn io(what: impl std::fmt::Display, e: impl std::fmt::Display) -> Self {
        CliError::new(KilnStatus::Io, format!("{what}: {e}"))
    }
}

impl From<kiln::Error> for CliError {
    fn from(e: kiln::Error) -> Self {
        CliError { status: e.status(), message: format!("{} ({})", e.message(), e.status().name()) }
    }
}

pub type CliResult<T> = Result<T, CliError>;
