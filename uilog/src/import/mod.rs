//! Importers: UI logs from files into the [`Store`], each file in one all-or-nothing batch.
//!
//! Five formats are read, each streamed row by row into [`Store::write_batch`]:
//! - [`Format::Taskmine`]: the CSV that [`crate::export::write_csv`] writes (one column per field of
//!   [`Event`](crate::Event)); export → import → export gives the same bytes.
//! - [`Format::Rpa`]: the robotic-process-mining CSV style of Action Logger and SmartRPA
//!   (`timeStamp, userID, targetApp, eventType, url, content, target.*`), columns in any order, any
//!   of them missing but `timeStamp` and `eventType`.
//! - [`Format::ProcessMining`]: process-mining CSV (`concept:name`, `time:timestamp`,
//!   `case:concept:name`, `org:resource`); it shares the RPA reader, whose column table knows both
//!   vocabularies, because the public logs of the literature (Leno et al.) mix them.
//! - [`Format::Xes`]: IEEE 1849 XES; each trace's `concept:name` becomes the events' `case`.
//! - [`Format::Jsonl`]: one serde-serialized [`Event`](crate::Event) per line.
//!
//! [`Format::Auto`] picks one from the extension and the first bytes (the CSV header). A mapping
//! file (YAML or JSON, `{ "source column": "canonical column" }`) renames columns (and XES keys) of
//! the RPA, process-mining and XES formats before they are read.
//!
//! Every import carries a batch key (the hash of the file's bytes and of the options that change the
//! result), so importing the same file twice writes it once: the second import reports
//! [`BatchOutcome::AlreadyWritten`]. A malformed row fails the whole import with
//! [`Error::Parse`] naming the file, the 1-based physical line and the field, and leaves the store
//! as it was.

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::store::{BatchOutcome, EventSink, Store};

mod jsonl;
mod rpa;
pub(crate) mod taskmine;
pub(crate) mod xes;

/// The file formats the importers read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Decide from the extension and the header.
    Auto,
    /// taskmine's own CSV, as [`crate::export::write_csv`] writes it.
    Taskmine,
    /// Action Logger / SmartRPA CSV.
    Rpa,
    /// Process-mining CSV (`concept:name`, `time:timestamp`, `case:concept:name`, `org:resource`).
    ProcessMining,
    /// IEEE 1849 XES.
    Xes,
    /// One JSON [`Event`](crate::Event) per line.
    Jsonl,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Auto,
        Format::Taskmine,
        Format::Rpa,
        Format::ProcessMining,
        Format::Xes,
        Format::Jsonl,
    ];

    /// The name used on the command line (`--format`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Taskmine => "taskmine",
            Format::Rpa => "rpa",
            Format::ProcessMining => "process-mining",
            Format::Xes => "xes",
            Format::Jsonl => "jsonl",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.to_ascii_lowercase();
        match lower.as_str() {
            "pm" | "process_mining" | "processmining" => return Ok(Format::ProcessMining),
            "csv" => return Ok(Format::Taskmine),
            "ndjson" => return Ok(Format::Jsonl),
            _ => {}
        }
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == lower)
            .ok_or_else(|| {
                let names: Vec<_> = Format::ALL.iter().map(|f| f.as_str()).collect();
                format!(
                    "unknown format {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// How to read a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    pub format: Format,
    /// A YAML or JSON file mapping source column names to canonical ones (RPA, process-mining, XES).
    pub mapping: Option<PathBuf>,
    /// The session name for the imported events. Default: the file stem for formats without a
    /// session column; the file's own sessions for the taskmine CSV and JSONL (which this overrides).
    pub session: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            format: Format::Auto,
            mapping: None,
            session: None,
        }
    }
}

/// What [`import_file`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportSummary {
    pub path: PathBuf,
    /// The format the file was read as (never [`Format::Auto`]).
    pub format: Format,
    pub outcome: BatchOutcome,
}

/// Imports one file into `store` in one batch. `progress` receives the number of bytes read so far.
///
/// On any error nothing of the file is stored. A file imported before with the same options is not
/// read again and gives [`BatchOutcome::AlreadyWritten`].
pub fn import_file(
    store: &mut Store,
    path: &Path,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary> {
    let mapping = match &opts.mapping {
        Some(p) => Some(Mapping::load(p)?),
        None => None,
    };
    let format = match opts.format {
        Format::Auto => detect(path, mapping.as_ref())?,
        f => f,
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "import".to_owned());
    let ctx = Ctx {
        file: path.to_path_buf(),
        session: opts.session.clone().unwrap_or(stem),
        session_override: opts.session.is_some(),
        mapping,
    };
    let key = batch_key(path, format, &ctx)?;
    let origin = format!("import:{format}:{}", path.display());
    let outcome = store.write_batch(Some(&key), &origin, |sink| -> Result<()> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let input = Progress {
            inner: file,
            read: 0,
            report: &mut *progress,
        };
        read_into(format, input, &ctx, sink)
    })?;
    Ok(ImportSummary {
        path: path.to_path_buf(),
        format,
        outcome,
    })
}

/// Reads `input` in `format` into `sink`; used by [`import_file`] inside its batch.
fn read_into(format: Format, input: impl Read, ctx: &Ctx, sink: &mut EventSink<'_>) -> Result<()> {
    match format {
        Format::Taskmine => taskmine::read(input, ctx, sink),
        Format::Rpa | Format::ProcessMining => rpa::read(input, ctx, sink),
        Format::Xes => xes::read(input, ctx, sink),
        Format::Jsonl => jsonl::read(input, ctx, sink),
        Format::Auto => unreachable!("the format is resolved before reading"),
    }
}

/// What every reader needs to know besides its input.
pub(crate) struct Ctx {
    /// The file, for error messages.
    pub file: PathBuf,
    pub session: String,
    /// Whether `session` replaces the sessions a taskmine CSV or JSONL file names itself.
    pub session_override: bool,
    pub mapping: Option<Mapping>,
}

impl Ctx {
    /// The canonical name of a source column or key, after the mapping file.
    pub fn canonical<'a>(&'a self, name: &'a str) -> &'a str {
        match &self.mapping {
            Some(m) => m.0.get(name).map(String::as_str).unwrap_or(name),
            None => name,
        }
    }
}

/// Source column → canonical column, read from a YAML or JSON file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Mapping(HashMap<String, String>);

impl Mapping {
    fn load(path: &Path) -> Result<Mapping> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let is_json = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let map: HashMap<String, String> = if is_json {
            serde_json::from_str(&text).map_err(|e| {
                Error::parse(
                    path,
                    e.line() as u64,
                    "mapping",
                    format!("{e} (expected {{ \"source column\": \"canonical column\" }})"),
                )
            })?
        } else {
            serde_norway::from_str(&text).map_err(|e| {
                let line = e.location().map(|l| l.line() as u64).unwrap_or(1);
                Error::parse(
                    path,
                    line,
                    "mapping",
                    format!("{e} (expected `source column: canonical column` lines)"),
                )
            })?
        };
        Ok(Mapping(map))
    }
}

/// Hashes the file and every option that changes what is written, so that a re-import is a no-op
/// but the same file imported under another session name or mapping is not.
fn batch_key(path: &Path, format: Format, ctx: &Ctx) -> Result<String> {
    let mut h = blake3::Hasher::new();
    h.update(b"taskmine/import/v1\0");
    h.update(format.as_str().as_bytes());
    h.update(b"\0");
    h.update(ctx.session.as_bytes());
    h.update(if ctx.session_override {
        b"\0o\0"
    } else {
        b"\0f\0"
    });
    if let Some(m) = &ctx.mapping {
        let mut pairs: Vec<_> = m.0.iter().collect();
        pairs.sort();
        for (k, v) in pairs {
            h.update(k.as_bytes());
            h.update(b"\0");
            h.update(v.as_bytes());
            h.update(b"\0");
        }
    }
    h.update(b"\0file\0");
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    io::copy(&mut file, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(format!("import:{}", h.finalize().to_hex()))
}

/// Decides the format of `path` from its extension and first bytes.
pub fn detect_format(path: &Path) -> Result<Format> {
    detect(path, None)
}

fn detect(path: &Path, mapping: Option<&Mapping>) -> Result<Format> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "xes" => return Ok(Format::Xes),
        "jsonl" | "ndjson" => return Ok(Format::Jsonl),
        _ => {}
    }
    let mut head = Vec::with_capacity(64 * 1024);
    File::open(path)
        .and_then(|f| f.take(64 * 1024).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Err(Error::input(path, "the file is empty")),
        Some(b'<') => return Ok(Format::Xes),
        Some(b'{') => return Ok(Format::Jsonl),
        Some(_) => {}
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .delimiter(sniff_delimiter(body))
        .from_reader(body);
    let mut header = csv::StringRecord::new();
    let _ = reader.read_record(&mut header);
    let names: Vec<&str> = header
        .iter()
        .map(|n| {
            let n = n.trim();
            mapping
                .and_then(|m| m.0.get(n).map(String::as_str))
                .unwrap_or(n)
        })
        .collect();
    let has = |want: &str| names.iter().any(|n| n.eq_ignore_ascii_case(want));
    if has("session") && has("ts") && has("kind") {
        Ok(Format::Taskmine)
    } else if has("concept:name") || has("time:timestamp") || has("case:concept:name") {
        Ok(Format::ProcessMining)
    } else if has("timeStamp") || has("eventType") {
        Ok(Format::Rpa)
    } else {
        Err(Error::input(
            path,
            format!(
                "cannot tell the format from the header ({}); name it with a format option",
                names.join(",")
            ),
        ))
    }
}

/// A reader that reports how many bytes have passed through it.
struct Progress<'p, R> {
    inner: R,
    read: u64,
    report: &'p mut dyn FnMut(u64),
}

impl<R: Read> Read for Progress<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.report)(self.read);
        Ok(n)
    }
}

/// The 1-based physical line of field `index` of a CSV record that starts on `record_line`:
/// newlines inside earlier quoted fields push it down.
pub(crate) fn field_line(record: &csv::ByteRecord, record_line: u64, index: usize) -> u64 {
    let newlines: usize = record
        .iter()
        .take(index)
        .map(|f| f.iter().filter(|&&b| b == b'\n').count())
        .sum();
    record_line + newlines as u64
}

/// Turns an error of the csv crate into one naming the file and line.
pub(crate) fn csv_error(file: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| p.line()).unwrap_or(0);
    match e.into_kind() {
        csv::ErrorKind::Io(e) => Error::io(file, e),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => Error::parse(
            file,
            line,
            "row",
            format!("{len} fields where the header has {expected_len}"),
        ),
        csv::ErrorKind::Utf8 { err, .. } => Error::parse(
            file,
            line,
            format!("column {}", err.field() + 1),
            "not valid UTF-8",
        ),
        other => Error::parse(file, line, "row", format!("{other:?}")),
    }
}

/// Reads the header of a CSV file as UTF-8 names. An empty file is an [`Error::Input`].
pub(crate) fn csv_header<R: Read>(reader: &mut csv::Reader<R>, file: &Path) -> Result<Vec<String>> {
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(file, e))?
        .clone();
    if header.is_empty() || (header.len() == 1 && header[0].iter().all(u8::is_ascii_whitespace)) {
        return Err(Error::input(
            file,
            "the file is empty (expected a header line)",
        ));
    }
    header
        .iter()
        .enumerate()
        .map(|(i, name)| {
            std::str::from_utf8(name)
                .map(|n| n.trim().to_owned())
                .map_err(|_| {
                    Error::parse(
                        file,
                        1,
                        format!("column {}", i + 1),
                        "header name is not valid UTF-8",
                    )
                })
        })
        .collect()
}

/// The delimiter of a CSV file, from its first line: `,` unless that line has none but has `;` or a
/// tab, as spreadsheet and process-mining tools in many locales write.
pub(crate) fn sniff_delimiter(head: &[u8]) -> u8 {
    let line = head.split(|&b| b == b'\n').next().unwrap_or(b"");
    if line.contains(&b',') {
        b','
    } else if line.contains(&b';') {
        b';'
    } else if line.contains(&b'\t') {
        b'\t'
    } else {
        b','
    }
}

/// A CSV reader with the settings every CSV importer uses.
pub(crate) fn csv_reader<R: Read>(input: R, flexible: bool, delimiter: u8) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(flexible)
        .delimiter(delimiter)
        .buffer_capacity(256 * 1024)
        .from_reader(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
        }
        assert_eq!("PM".parse::<Format>().unwrap(), Format::ProcessMining);
        assert!("xlsx".parse::<Format>().unwrap_err().contains("xlsx"));
    }

    #[test]
    fn detection_reads_extension_then_header() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            p
        };
        let cases = [
            ("a.xes", "whatever", Format::Xes),
            ("a.log", "  <?xml version=\"1.0\"?><log/>", Format::Xes),
            ("a.jsonl", "", Format::Jsonl),
            ("a.txt", "{\"session\":\"s\"}\n", Format::Jsonl),
            ("a.csv", "session,user,host,ts,kind\n", Format::Taskmine),
            (
                "b.csv",
                "\u{feff}\"timeStamp\",\"userID\",\"eventType\"\n",
                Format::Rpa,
            ),
            (
                "c.csv",
                "case:concept:name,concept:name,time:timestamp\n",
                Format::ProcessMining,
            ),
            ("d.csv", "caseID,eventType,timeStamp,source\n", Format::Rpa),
        ];
        for (name, body, want) in cases {
            assert_eq!(detect_format(&write(name, body)).unwrap(), want, "{name}");
        }
        let err = detect_format(&write("e.csv", "a,b,c\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("e.csv") && err.contains("a,b,c"), "{err}");
        let err = detect_format(&write("f.csv", "")).unwrap_err().to_string();
        assert!(err.contains("f.csv") && err.contains("empty"), "{err}");
    }

    #[test]
    fn a_mapping_file_renames_columns_for_detection() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("x.csv");
        std::fs::write(&csv, "when,what\n").unwrap();
        let yaml = dir.path().join("m.yaml");
        std::fs::write(&yaml, "when: timeStamp\nwhat: eventType\n").unwrap();
        let m = Mapping::load(&yaml).unwrap();
        assert_eq!(detect(&csv, Some(&m)).unwrap(), Format::Rpa);
        let json = dir.path().join("m.json");
        std::fs::write(&json, "{\"when\": \"time:timestamp\"}").unwrap();
        let m = Mapping::load(&json).unwrap();
        assert_eq!(detect(&csv, Some(&m)).unwrap(), Format::ProcessMining);
        std::fs::write(&json, "{\"when\": [1]}").unwrap();
        let err = Mapping::load(&json).unwrap_err().to_string();
        assert!(err.contains("m.json:1"), "{err}");
    }
}
