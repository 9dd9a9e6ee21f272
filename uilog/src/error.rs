use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The one error type of the uilog crate.
///
/// Its text is always one line of bounded length: every part that comes from outside (a file name,
/// a column name, a value quoted in a message) goes through `clean`, which escapes control
/// characters and cuts a long part short with `…`. A hostile or broken input file can therefore
/// neither flood a terminal (a 200,000-column header, 4 KiB of NUL bytes) nor split the error over
/// several lines.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A row or element of an input file that cannot be read. `line` is 1-based and counts physical
    /// lines of the file (a quoted multi-line CSV field counts all of its lines).
    #[error(
        "{}:{line}: field `{}`: {}",
        shown_path(file),
        clean(field, FIELD_MAX),
        clean(message, MESSAGE_MAX)
    )]
    Parse {
        file: PathBuf,
        line: u64,
        field: String,
        message: String,
    },
    /// An input file that cannot be read as a whole (empty, not the format it claims, missing a column).
    #[error("{}: {}", shown_path(file), clean(message, MESSAGE_MAX))]
    Input { file: PathBuf, message: String },
    // The cause is the error's `source`, not part of its text, so that a chain printed with `{:#}`
    // does not repeat it.
    #[error("{}", shown_path(path))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database {}", shown_path(path))]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The database was written by a newer taskmine, or is not a taskmine database at all.
    #[error("database {}: {}", shown_path(path), clean(message, MESSAGE_MAX))]
    Schema { path: PathBuf, message: String },
    /// A PostgreSQL log that cannot be reached or used. `target` is its URL without the password,
    /// `message` the server's or the client's words (never the password either).
    #[error(
        "database {}: {}",
        clean(target, PATH_MAX),
        clean(message, MESSAGE_MAX)
    )]
    Postgres { target: String, message: String },
    /// A value that does not fit the event model (for example an event built by a caller).
    #[error("invalid event: {}", clean(.0, MESSAGE_MAX))]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The longest a path, a field name and a message may be in an error line, in characters. Together
/// with the separators a line stays under about 300 characters.
const PATH_MAX: usize = 80;
const FIELD_MAX: usize = 40;
const MESSAGE_MAX: usize = 170;

/// A path as an error shows it; a long one keeps its end, where the file name is.
fn shown_path(path: &Path) -> String {
    let full = path.display().to_string();
    let n = full.chars().count();
    if n <= PATH_MAX {
        return clean(&full, PATH_MAX);
    }
    let tail: String = full.chars().skip(n - (PATH_MAX - 1)).collect();
    format!("…{}", clean(&tail, PATH_MAX))
}

/// `s` made fit for one line of an error: control characters, other invisible characters and
/// U+FFFD written as Rust escapes (`\n`, `\0`, `\u{feff}`), the result cut at `max` characters
/// with `…`. An escape counts by the characters it prints, so the cap holds whatever the input.
pub(crate) fn clean(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max * 4));
    let mut width = 0usize;
    for c in s.chars() {
        let start = out.len();
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || is_invisible(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
        let added = out[start..].chars().count();
        if width + added > max.saturating_sub(1) {
            out.truncate(start);
            out.push('…');
            return out;
        }
        width += added;
    }
    out
}

/// Characters that print as nothing or confuse a terminal although they are not control codes:
/// byte-order marks, zero-width and direction marks, line and paragraph separators, and U+FFFD
/// (what a lossy decoding of binary bytes turns into).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}' | '\u{feff}' | '\u{fffd}')
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_are_one_line_and_capped_whatever_the_input() {
        let huge_field = "c,".repeat(100_000);
        let nul_message = "\0".repeat(4096);
        let e = Error::parse(
            "/tmp/log\n.csv",
            7,
            huge_field,
            format!("bad value {nul_message}"),
        );
        let text = e.to_string();
        assert!(!text.contains('\n') && !text.contains('\0'), "{text:?}");
        assert!(
            text.chars().count() <= 300,
            "{} chars",
            text.chars().count()
        );
        assert!(text.starts_with("/tmp/log\\n.csv:7: field `c,c,"), "{text}");
        assert!(
            text.contains("bad value \\0\\0") && text.ends_with('…'),
            "{text}"
        );
    }

    #[test]
    fn clean_escapes_invisible_characters_and_keeps_short_text() {
        assert_eq!(clean("plain ü text", 40), "plain ü text");
        assert_eq!(
            clean("a\tb\u{1b}[31m\u{feff}", 40),
            "a\\tb\\u{1b}[31m\\u{feff}"
        );
        assert_eq!(clean("abcdef", 4), "abc…");
        // An escape is never cut in half.
        assert_eq!(clean("ab\0\0", 4), "ab…");
    }

    #[test]
    fn a_long_path_keeps_its_file_name() {
        let long = format!("/{}/events.csv", "d".repeat(500));
        let shown = shown_path(Path::new(&long));
        assert!(
            shown.starts_with('…') && shown.ends_with("/events.csv"),
            "{shown}"
        );
        assert!(shown.chars().count() <= PATH_MAX);
    }
}
