use std::path::PathBuf;

/// The one error type of the recorder crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A policy file that cannot be read as a policy. `line` is 1-based, when known.
    #[error("{}{}: {}{message}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default(),
        field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
    Policy {
        file: PathBuf,
        line: Option<usize>,
        field: Option<String>,
        message: String,
    },
    /// The pseudonym key file is missing, malformed or readable by others.
    #[error("key file {}: {message}", path.display())]
    Key { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] uilog::Error),
    /// The X server could not be reached or answered something unusable.
    #[error("X11: {0}")]
    X11(String),
    /// A snapshot that cannot be encoded or read, or OCR (tesseract) that failed.
    #[error("snapshot: {0}")]
    Snapshot(String),
    #[error("signal handling: {0}")]
    Signal(#[source] std::io::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
