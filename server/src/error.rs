use std::path::PathBuf;

/// Everything that can go wrong in the server crate: the store, mining, agents, templates, uploads.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Store(#[from] uilog::Error),
    #[error(transparent)]
    Miner(#[from] miner::Error),
    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("an agent named {0:?} already exists")]
    AgentExists(String),
    #[error("no agent named {0:?}")]
    NoAgent(String),
    #[error("agent name {0:?} must be 1 to 64 letters, digits, '.', '_' or '-'")]
    AgentName(String),
    #[error("an account named {0:?} already exists")]
    UserExists(String),
    #[error("no account named {0:?}")]
    NoUser(String),
    #[error("account name {0:?} must be 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    UserName(String),
    #[error("role {0:?} is none of admin, analyst, viewer")]
    Role(String),
    #[error("{0}")]
    Password(String),
    #[error("no recorded person with pseudonym {0:?} in the log")]
    NoPerson(String),
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error("policy {path}: {message}")]
    Policy { path: PathBuf, message: String },
    /// The server could not be reached or answered with a transient failure; the batch stays spooled.
    #[error("server {url} unreachable: {message}")]
    Unreachable { url: String, message: String },
    /// The server refused a batch for good (bad token, malformed batch).
    #[error("server {url} refused batch {batch_id} with {status}: {message}")]
    Refused {
        url: String,
        batch_id: String,
        status: u16,
        message: String,
    },
    #[error("spool {path}, line {line}: {message}")]
    Spool {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Server(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn sqlite(path: impl Into<PathBuf>) -> impl FnOnce(rusqlite::Error) -> Error {
        let path = path.into();
        move |source| Error::Sqlite { path, source }
    }
}
