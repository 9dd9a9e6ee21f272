use std::path::PathBuf;

/// Everything that can go wrong in codegen. Messages name the file, the step or the field.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A bot file that is not valid YAML or does not fit the bot model.
    #[error("{path}: {message}")]
    BotFile { path: PathBuf, message: String },
    /// A bot that parses but is inconsistent (a step without the field its action needs, …).
    #[error("bot {bot:?}, {location}: {message}")]
    Invalid {
        bot: String,
        location: String,
        message: String,
    },
    #[error("{path}, line {line}: {message}")]
    Params {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("template {name}: {message}")]
    Template { name: String, message: String },
    #[error(transparent)]
    Store(#[from] uilog::Error),
    #[error(transparent)]
    Miner(#[from] miner::Error),
    /// The desktop could not be reached or driven (X connection, input injection).
    #[error("desktop: {0}")]
    Desktop(String),
    /// The trace recorder could not be started or stopped.
    #[error("recorder: {0}")]
    Recorder(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
