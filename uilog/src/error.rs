use std::path::PathBuf;

/// The one error type of the uilog crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A row or element of an input file that cannot be read. `line` is 1-based and counts physical
    /// lines of the file (a quoted multi-line CSV field counts all of its lines).
    #[error("{}:{line}: field `{field}`: {message}", file.display())]
    Parse {
        file: PathBuf,
        line: u64,
        field: String,
        message: String,
    },
    /// An input file that cannot be read as a whole (empty, not the format it claims, missing a column).
    #[error("{}: {message}", file.display())]
    Input { file: PathBuf, message: String },
    // The cause is the error's `source`, not part of its text, so that a chain printed with `{:#}`
    // does not repeat it.
    #[error("{}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database {}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer taskmine, or is not a taskmine database at all.
    #[error("database {}: {message}", path.display())]
    Schema { path: PathBuf, message: String },
    /// A value that does not fit the event model (for example an event built by a caller).
    #[error("invalid event: {0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn parse(
        file: impl Into<PathBuf>,
        line: u64,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Error {
        Error::Parse {
            file: file.into(),
            line,
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn input(file: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::Input {
            file: file.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
