use std::path::PathBuf;

/// The one error type of the miner.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Log(#[from] uilog::Error),
    /// The miner's own tables in the database could not be read or written.
    #[error("database {}: mining tables: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The mining tables were written by a newer taskmine.
    #[error("database {}: {message}", path.display())]
    Schema { path: PathBuf, message: String },
    /// A rules or ground-truth file that cannot be read or does not mean anything valid. `line` is
    /// 1-based, 0 when the problem is not tied to a line.
    #[error("{}:{line}: field `{field}`: {message}", file.display())]
    Parse {
        file: PathBuf,
        line: u64,
        field: String,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An option with a value that cannot work (for example a minimum support of 0).
    #[error("invalid option `{option}`: {message}")]
    Option { option: String, message: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
