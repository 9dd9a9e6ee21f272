//! Importers: UI logs from files into the [`Store`], each file in one all-or-nothing batch.
//!
//! Five formats are read, each streamed row by row into [`Store::write_batch`]:
//! - [`Format::Taskmine`]: the CSV that [`crate::export::write_csv`] writes (one column per field of
//!   [`Event`]); export → import → export gives the same bytes.
//! - [`Format::Rpa`]: the robotic-process-mining CSV style of Action Logger and SmartRPA
//!   (`timeStamp, userID, targetApp, eventType, url, content, target.*`), columns in any order, any
//!   of them missing but `timeStamp` and `eventType`.
//! - [`Format::ProcessMining`]: process-mining CSV (`concept:name`, `time:timestamp`,
//!   `case:concept:name`, `org:resource`); it shares the RPA reader, whose column table knows both
//!   vocabularies, because the public logs of the literature (Leno et al.) mix them.
//! - [`Format::Xes`]: IEEE 1849 XES; each trace's `concept:name` becomes the events' `case`.
//! - [`Format::Jsonl`]: one serde-serialized [`Event`] per line.
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
//!
//! What every importer holds to, whatever the file: a file that is not text is refused as such
//! before it is parsed; timestamps lie in the log's range (years 1970–9999); coordinates may be
//! written with a fraction (`812.5`, rounded); an element id that is an XPath or CSS path goes to
//! [`Element::path`](crate::Element::path) (`is_element_path` has the rule); CSV with a stray or
//! unclosed quote, or cut off in its last row, is refused by line (`QuoteCheck`).
//!
//! [`import_with_truth`] imports a labelled log as an unlabelled one plus its
//! [`GroundTruth`](crate::GroundTruth).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::log_store::{EventPush, LogWrite};
use crate::store::{BatchOutcome, EventSink};

mod jsonl;
mod memory;
mod rpa;
pub(crate) mod taskmine;
pub(crate) mod time;
mod truth;
pub(crate) mod xes;

pub use memory::MemoryLog;
pub use truth::{import_with_truth, TruthLabels};

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
    /// One JSON [`Event`] per line.
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
    store: &mut impl LogWrite,
    path: &Path,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ImportSummary> {
    let (format, ctx) = prepare(path, opts)?;
    let key = batch_key(path, format, &ctx, b"")?;
    let origin = format!("import:{format}:{}", path.display());
    let outcome = store.write_events(Some(&key), &origin, |sink| -> Result<()> {
        read_file_piped(format, &ctx, sink, progress)
    })?;
    Ok(ImportSummary {
        path: path.to_path_buf(),
        format,
        outcome,
    })
}

/// What [`import_file`] and [`import_with_truth`] settle before reading: the format, the mapping
/// and the session.
fn prepare(path: &Path, opts: &ImportOptions) -> Result<(Format, Ctx)> {
    let mapping = match &opts.mapping {
        Some(p) => Some(Mapping::load(p)?),
        None => None,
    };
    check_text(path)?;
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
        labels: Vec::new(),
    };
    Ok((format, ctx))
}

/// Opens the file of `ctx` and reads it in `format` into `sink`, reporting progress.
fn read_file(
    format: Format,
    ctx: &Ctx,
    sink: &mut dyn Push,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    let path = ctx.file.as_path();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let input = Progress {
        inner: file,
        read: 0,
        report: progress,
    };
    read_into(format, input, ctx, sink)
}

/// Events handed from the parsing thread to the storing one at a time: large enough that the
/// channel costs nothing per event, small enough that both threads start working at once.
const CHUNK: usize = 4096;

/// [`read_file`] on a thread of its own, feeding `sink` on this one: parsing and the SQLite
/// inserts each take about half of an import, and the store's statements cannot leave the thread
/// that opened the transaction. The same events arrive in the same order, and the error returned
/// is the first one in file order: a failed insert stops the reader, and a reader's error comes
/// after every row it sent.
fn read_file_piped(
    format: Format,
    ctx: &Ctx,
    sink: &mut dyn EventPush,
    progress: &mut dyn FnMut(u64),
) -> Result<()> {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc::{channel, sync_channel};

    let read = AtomicU64::new(0);
    // Full chunks go one way and emptied ones come back, so the events' strings are reused.
    let (full_tx, full_rx) = sync_channel::<Chunk>(4);
    let (empty_tx, empty_rx) = channel::<Chunk>();
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut chunks = Chunks {
                full: full_tx,
                empty: empty_rx,
                chunk: Chunk::default(),
                spare: Chunk::default(),
            };
            read_file(format, ctx, &mut chunks, &mut |n| {
                read.store(n, Ordering::Relaxed)
            })?;
            chunks.send()
        });
        let stored = (|| -> Result<()> {
            for chunk in full_rx.iter() {
                // One check for the whole chunk; write_attrs_json writes UTF-8 only.
                let attrs = std::str::from_utf8(&chunk.attrs).expect("JSON is UTF-8");
                let mut from = 0;
                for (e, &end) in chunk.events.iter().zip(&chunk.attrs_end) {
                    sink.push_encoded(e, &attrs[from..end])?;
                    from = end;
                }
                progress(read.load(Ordering::Relaxed));
                // The reader may be done; then the chunk is simply dropped.
                let _ = empty_tx.send(chunk);
            }
            Ok(())
        })();
        // On an insert error, closing the channel makes the reader's next send fail and stop it.
        drop(full_rx);
        let parsed = match reader.join() {
            Ok(r) => r,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        stored?;
        parsed
    })
}

/// Events on their way from the reading thread to the storing one, with their attributes encoded
/// as the stores keep them (the storing thread spent a fifth of its time encoding them).
#[derive(Default)]
struct Chunk {
    events: Vec<Event>,
    /// The attributes' JSON of every event, one after the other (nothing for an event without).
    attrs: Vec<u8>,
    /// Where the JSON of each event ends in `attrs`.
    attrs_end: Vec<usize>,
}

impl Chunk {
    fn add(&mut self, e: Event) {
        if !e.attrs.is_empty() {
            crate::store::write_attrs_json(&mut self.attrs, &e.attrs);
        }
        self.attrs_end.push(self.attrs.len());
        self.events.push(e);
    }
}

/// The reader's end of [`read_file_piped`].
struct Chunks {
    full: std::sync::mpsc::SyncSender<Chunk>,
    empty: std::sync::mpsc::Receiver<Chunk>,
    chunk: Chunk,
    /// A returned chunk: its events are overwritten in place by the next ones.
    spare: Chunk,
}

/// The error a reader gets when the storing side has stopped; the storing side's own error is the
/// one returned.
fn store_stopped() -> Error {
    Error::Invalid("the import stopped storing events".into())
}

impl Chunks {
    fn send(&mut self) -> Result<()> {
        if self.chunk.events.is_empty() {
            return Ok(());
        }
        // The returned chunk's JSON buffers are the next chunk's; its events are still spares.
        let mut next = Chunk {
            events: Vec::with_capacity(CHUNK),
            attrs: std::mem::take(&mut self.spare.attrs),
            attrs_end: std::mem::take(&mut self.spare.attrs_end),
        };
        next.attrs.clear();
        next.attrs_end.clear();
        let full = std::mem::replace(&mut self.chunk, next);
        self.full.send(full).map_err(|_| store_stopped())?;
        if self.spare.events.is_empty() {
            if let Ok(back) = self.empty.try_recv() {
                self.spare = back;
            }
        }
        Ok(())
    }

    /// An event whose buffers the next one may reuse.
    fn spare_event(&mut self) -> Event {
        self.spare
            .events
            .pop()
            .unwrap_or_else(|| Event::new("", "", 0, crate::EventKind::Other))
    }
}

impl Push for Chunks {
    fn push_refilled(&mut self, e: &mut Event) -> Result<()> {
        if self.chunk.events.len() >= CHUNK {
            self.send()?;
        }
        // The event moves into the chunk without a copy; the reader refills the spare one.
        let spare = self.spare_event();
        self.chunk.add(std::mem::replace(e, spare));
        Ok(())
    }

    fn push(&mut self, e: &Event) -> Result<()> {
        if self.chunk.events.len() >= CHUNK {
            self.send()?;
        }
        let mut old = self.spare_event();
        clone_event_into(&mut old, e);
        self.chunk.add(old);
        Ok(())
    }
}

/// `*dst = src.clone()`, keeping `dst`'s string buffers.
fn clone_event_into(dst: &mut Event, src: &Event) {
    dst.session.clone_from(&src.session);
    dst.user.clone_from(&src.user);
    dst.host.clone_from(&src.host);
    dst.ts = src.ts;
    dst.kind = src.kind;
    dst.app.clone_from(&src.app);
    dst.window.clone_from(&src.window);
    match (&mut dst.element, &src.element) {
        (Some(d), Some(s)) => {
            d.role.clone_from(&s.role);
            d.name.clone_from(&s.name);
            d.id.clone_from(&s.id);
            d.path.clone_from(&s.path);
        }
        (d, s) => d.clone_from(s),
    }
    dst.x = src.x;
    dst.y = src.y;
    dst.wx = src.wx;
    dst.wy = src.wy;
    dst.text.clone_from(&src.text);
    dst.value_hash = src.value_hash;
    dst.case.clone_from(&src.case);
    // BTreeMap's clone_from rebuilds the map; rows mostly share their keys, so keep those.
    dst.attrs.retain(|k, _| src.attrs.contains_key(k));
    for (k, v) in &src.attrs {
        match dst.attrs.get_mut(k) {
            Some(old) => old.clone_from(v),
            None => {
                dst.attrs.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Where a reader puts the events it reads: the store's batch, or a collector (the truth import).
pub(crate) trait Push {
    fn push(&mut self, e: &Event) -> Result<()>;

    /// [`Push::push`] for a reader that sets every field of `e` before each push: `e` may come back
    /// holding any other event, whose buffers the reader then reuses.
    fn push_refilled(&mut self, e: &mut Event) -> Result<()> {
        self.push(e)
    }
}

impl Push for EventSink<'_> {
    fn push(&mut self, e: &Event) -> Result<()> {
        EventSink::push(self, e)
    }
}

/// Reads `input` in `format` into `sink`.
fn read_into(format: Format, input: impl Read, ctx: &Ctx, sink: &mut dyn Push) -> Result<()> {
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
    /// Columns (or keys) that label the log for a ground truth ([`import_with_truth`]): read as
    /// plain attributes under their own name whatever the column table says they mean, so that the
    /// truth import can take them out of every event before it is stored.
    pub labels: Vec<String>,
}

impl Ctx {
    /// The canonical name of a source column or key, after the mapping file.
    pub fn canonical<'a>(&'a self, name: &'a str) -> &'a str {
        match &self.mapping {
            Some(m) => m.0.get(name).map(String::as_str).unwrap_or(name),
            None => name,
        }
    }

    /// Whether a source column or key is a truth label.
    pub fn is_label(&self, name: &str) -> bool {
        self.labels.iter().any(|l| l == name)
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
fn batch_key(path: &Path, format: Format, ctx: &Ctx, extra: &[u8]) -> Result<String> {
    let mut h = blake3::Hasher::new();
    h.update(b"taskmine/import/v1\0");
    // Options only some imports have (the truth labels), empty for a plain import so that its
    // key stays what it was.
    h.update(extra);
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
    // Large reads: io::copy's 8 KiB left blake3 too little to hash in parallel lanes, and this
    // pass over the file comes before any parsing starts.
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(path, e)),
        };
        h.update(&buf[..n]);
    }
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

/// Line breaks in `bytes`: `\n`, `\r\n` and a lone `\r` each count once, as editors show lines.
/// `prev_cr` carries a `\r` at the end of one chunk into the next.
fn count_breaks(bytes: &[u8], prev_cr: &mut bool) -> u64 {
    let mut n = 0;
    for &b in bytes {
        if b == b'\n' || *prev_cr {
            n += 1;
        }
        *prev_cr = b == b'\r';
    }
    n
}

/// The 1-based line of byte `offset` of `file`. Only called for an error, so it re-reads the file
/// rather than counting lines on the fast path. Why not the csv crate's own line numbers: with
/// `\r\n` line ends (every Windows recorder) they stay on line 1.
pub(crate) fn line_at(file: &Path, offset: u64) -> u64 {
    let Ok(f) = File::open(file) else {
        return 0;
    };
    let mut reader = io::BufReader::new(f.take(offset));
    let mut breaks = 0u64;
    let mut prev_cr = false;
    loop {
        let chunk = match io::BufRead::fill_buf(&mut reader) {
            Ok([]) | Err(_) => break,
            Ok(c) => c,
        };
        breaks += count_breaks(chunk, &mut prev_cr);
        let n = chunk.len();
        io::BufRead::consume(&mut reader, n);
    }
    // A `\r` just before `offset` ends a line whether or not a `\n` follows it.
    breaks + u64::from(prev_cr) + 1
}

/// The 1-based physical line of field `index` of a CSV record of `file`: the line the record starts
/// on, pushed down by line breaks inside earlier quoted fields. Error path only.
pub(crate) fn field_line(file: &Path, record: &csv::ByteRecord, index: usize) -> u64 {
    let start = record
        .position()
        .map(|p| line_at(file, p.byte()))
        .unwrap_or(0);
    let mut prev_cr = false;
    let inside: u64 = record
        .iter()
        .take(index)
        .map(|f| {
            prev_cr = false;
            count_breaks(f, &mut prev_cr) + u64::from(prev_cr)
        })
        .sum();
    start + inside
}

/// Turns an error of the csv crate into one naming the file and line.
pub(crate) fn csv_error(file: &Path, e: csv::Error) -> Error {
    let line = e.position().map(|p| line_at(file, p.byte())).unwrap_or(0);
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

/// Refuses a file that is not text, before any reader echoes its bytes back in an error: UTF-16,
/// compressed or archived files, databases, and binary data (NUL bytes in bytes that are not
/// UTF-8, or many of them). A NUL inside a field of valid UTF-8 text is a character a log may hold
/// (our CSV export writes it as it is), so it alone does not make a file binary. Looks at the first
/// 8 KiB only, so it costs nothing on a large log.
fn check_text(path: &Path) -> Result<()> {
    let mut head = Vec::with_capacity(8192);
    File::open(path)
        .and_then(|f| f.take(8192).read_to_end(&mut head))
        .map_err(|e| Error::io(path, e))?;
    let why = if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        "UTF-16 with a byte-order mark; save it as UTF-8"
    } else if head.starts_with(b"\x1F\x8B") {
        "gzip-compressed; decompress it first"
    } else if head.starts_with(b"PK\x03\x04") {
        "a zip archive, perhaps an .xlsx workbook; export it as CSV"
    } else if head.starts_with(b"SQLite format 3\0") {
        "an SQLite database; import reads text logs, `--db` names the database"
    } else if !head.contains(&0) || is_text_with_nuls(&head) {
        return Ok(());
    } else if head.iter().all(|&b| b == 0) {
        "it holds only NUL bytes"
    } else if head.len() >= 4 && looks_like_utf16(&head) {
        "UTF-16 without a byte-order mark; save it as UTF-8"
    } else {
        "binary: it has NUL bytes"
    };
    Err(Error::input(path, format!("not a text log ({why})")))
}

/// Valid UTF-8 (a character cut at the end of the sample aside) in which NUL bytes are rare.
fn is_text_with_nuls(head: &[u8]) -> bool {
    let utf8 = match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    };
    let nuls = head.iter().filter(|&&b| b == 0).count();
    utf8 && nuls * 10 <= head.len()
}

/// ASCII text in UTF-16 has a NUL in every other byte.
fn looks_like_utf16(head: &[u8]) -> bool {
    let even = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    let half = head.len() / 2;
    even.max(odd) * 10 >= half * 9 && even.min(odd) * 10 <= half
}

/// Makes `map` hold exactly `entries` (the last value of a repeated key), reusing the keys and
/// value buffers it already has: the rows of one log mostly have the same keys, and a fresh map
/// cost two allocations per attribute per row. `entries` is sorted in place; `spare` keeps the
/// strings of keys a row dropped, for the next row that brings new ones.
pub(crate) fn set_attrs<'a>(
    map: &mut BTreeMap<String, String>,
    entries: &mut Vec<(&'a str, &'a str)>,
    spare: &mut Vec<String>,
) {
    // Stable, so that of equal keys the last one stays last; then only it is kept.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut kept = 0;
    for i in 0..entries.len() {
        if i + 1 < entries.len() && entries[i + 1].0 == entries[i].0 {
            continue;
        }
        entries[kept] = entries[i];
        kept += 1;
    }
    entries.truncate(kept);
    set_sorted_attrs(map, entries.iter().copied(), spare);
}

/// [`set_attrs`] for entries already sorted by key and without a repeated key. When the keys are
/// the map's (nearly every row of a log, or of a run of rows in one application), only the values
/// are rewritten; otherwise the map is rebuilt from the strings it had.
pub(crate) fn set_sorted_attrs<'a>(
    map: &mut BTreeMap<String, String>,
    entries: impl ExactSizeIterator<Item = (&'a str, &'a str)> + Clone,
    spare: &mut Vec<String>,
) {
    let same_keys =
        map.len() == entries.len() && map.keys().zip(entries.clone()).all(|(k, (e, _))| k == e);
    if same_keys {
        for (old, (_, v)) in map.values_mut().zip(entries) {
            old.clear();
            old.push_str(v);
        }
        return;
    }
    for (k, v) in std::mem::take(map) {
        spare.push(k);
        spare.push(v);
    }
    let mut reuse = |s: &str| match spare.pop() {
        Some(mut old) => {
            old.clear();
            old.push_str(s);
            old
        }
        None => s.to_owned(),
    };
    for (k, v) in entries {
        let (k, v) = (reuse(k), reuse(v));
        map.insert(k, v);
    }
}

/// Sets `slot` to `value`, reusing its buffer: readers refill one [`Event`] row after row.
pub(crate) fn set_opt(slot: &mut Option<String>, value: Option<&str>) {
    match (slot.as_mut(), value) {
        (Some(s), Some(v)) => {
            s.clear();
            s.push_str(v);
        }
        (_, v) => *slot = v.map(str::to_owned),
    }
}

/// Reads a screen coordinate: an integer, or a number with a fraction (web recorders write CSS
/// pixels such as `812.5`), rounded half away from zero. The error says what was wrong.
pub(crate) fn parse_coord(s: &str) -> std::result::Result<i32, String> {
    let t = s.trim();
    if let Ok(v) = t.parse::<i32>() {
        return Ok(v);
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() && (i32::MIN as f64..=i32::MAX as f64).contains(&f.round()) => {
            Ok(f.round() as i32)
        }
        Ok(_) => Err(format!(
            "{s:?} is not a screen coordinate (a number within ±2,147,483,647)"
        )),
        Err(_) => Err(format!("{s:?} is not a number")),
    }
}

/// Whether an element identifier from a source log is a path to the element rather than its own
/// id: an XPath (`/html/body/div[2]/form/input[3]`, `//input[@name='q']`, `(//a)[2]`) or a CSS
/// selector path (`div.form > input:nth-child(2)`, `#form .name input`). Such a value goes to
/// [`Element::path`](crate::Element::path); a plain id (`PhoneNumber`, a cell reference `A51`)
/// stays in `id`.
pub(crate) fn is_element_path(id: &str) -> bool {
    let t = id.trim();
    if t.starts_with('/') || t.starts_with("(/") || t.starts_with("./") {
        return true;
    }
    if t.contains('>') || t.contains(":nth-") || t.contains(":first-") || t.contains(":last-") {
        return true;
    }
    // Descendant selectors: several whitespace-separated steps, one of them with a class, an id
    // or an attribute test, so that a plain id with a space ("First name") is not taken for one.
    let mut steps = 0;
    let mut qualified = false;
    for s in t.split_whitespace() {
        steps += 1;
        qualified |= s.len() > 1 && (s.contains('.') || s.starts_with('#') || s.contains('['));
    }
    steps > 1 && qualified
}

/// Watches the bytes a CSV reader reads for the two defects the csv crate reads past silently:
/// text after the closing quote of a field (`"copy",x` or a stray `"` that swallowed the next
/// rows), and a file that ends inside a quoted field (a truncated file, or a stray opening quote).
/// The same state machine as the csv crate's (RFC 4180; a quote inside an unquoted field is a
/// literal character), one pass over the bytes.
pub(crate) struct QuoteCheck<R> {
    inner: R,
    delimiter: u8,
    state: QuoteState,
    /// The current 1-based physical line.
    line: u64,
    /// Where the quoted field being read began.
    opened: u64,
    /// The first defect seen: its line and what it is.
    problem: Option<(u64, String)>,
    prev_cr: bool,
    /// How many bytes of a leading UTF-8 byte-order mark have been passed (the csv crate skips it,
    /// so a quote right after it opens a quoted field).
    bom: usize,
    /// The last byte read, to tell a file that stops right after a field separator.
    last: u8,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    /// A quote inside a quoted field: the closing one, or the first of a `""` pair.
    QuoteInQuoted,
}

impl<R> QuoteCheck<R> {
    pub(crate) fn new(inner: R, delimiter: u8) -> QuoteCheck<R> {
        QuoteCheck {
            inner,
            delimiter,
            state: QuoteState::FieldStart,
            line: 1,
            opened: 1,
            problem: None,
            prev_cr: false,
            bom: 0,
            last: b'\n',
        }
    }

    /// The first defect seen so far, as an error naming the file and line.
    pub(crate) fn problem(&self, file: &Path) -> Option<Error> {
        self.problem
            .as_ref()
            .map(|(line, message)| Error::parse(file, *line, "row", message.clone()))
    }

    /// Reads the next record of a CSV read through a quote check: `false` at the end. A defect the
    /// check saw (a stray quote, a file ending inside a quoted field) wins over what the csv crate
    /// made of it, since it names the line where the defect is.
    pub(crate) fn next_record(
        reader: &mut csv::Reader<QuoteCheck<R>>,
        record: &mut csv::ByteRecord,
        file: &Path,
    ) -> Result<bool>
    where
        R: Read,
    {
        let more = reader.read_byte_record(record).map_err(|x| {
            reader
                .get_ref()
                .problem(file)
                .unwrap_or_else(|| csv_error(file, x))
        })?;
        match reader.get_ref().problem(file) {
            Some(problem) => Err(problem),
            None => Ok(more),
        }
    }

    fn scan(&mut self, bytes: &[u8]) {
        self.scan_with::<true>(bytes)
    }

    /// [`QuoteCheck::scan`]; without `SKIP` it looks at every byte (the reference the skipping is
    /// tested against).
    fn scan_with<const SKIP: bool>(&mut self, bytes: &[u8]) {
        use QuoteState::*;
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        let mut i = 0;
        while i < bytes.len() {
            // Only a few bytes change anything: jump to the next of them. The bytes skipped would
            // leave the line and `prev_cr` as they are, and the state too but for one case below.
            if SKIP && !self.prev_cr && self.bom >= BOM.len() {
                let rest = &bytes[i..];
                let next = match self.state {
                    Quoted => memchr::memchr3(b'"', b'\n', b'\r', rest),
                    // Outside quotes a separator only matters if a quote follows it, so the search
                    // stops once per line rather than once per field.
                    Unquoted => memchr::memchr3(b'"', b'\n', b'\r', rest),
                    FieldStart | QuoteInQuoted => Some(0),
                };
                match next {
                    Some(k) => i += k,
                    None => return,
                }
                if self.state == Unquoted && bytes[i] == b'"' {
                    let before = if i == 0 { self.last } else { bytes[i - 1] };
                    // A separator skipped just before: the quote opens a field.
                    if before == self.delimiter {
                        self.state = FieldStart;
                    }
                }
            }
            let b = bytes[i];
            i += 1;
            if self.bom < BOM.len() {
                if self.line == 1 && self.state == FieldStart && b == BOM[self.bom] {
                    self.bom += 1;
                    continue;
                }
                self.bom = BOM.len();
            }
            // A lone `\r` ends a line too (old Mac line ends), counted once the next byte shows it
            // is not the first half of `\r\n`.
            if self.prev_cr && b != b'\n' {
                self.line += 1;
            }
            self.prev_cr = b == b'\r';
            self.state = match (self.state, b) {
                (Quoted, b'"') => QuoteInQuoted,
                (Quoted, _) => Quoted,
                (QuoteInQuoted, b'"') => Quoted,
                (FieldStart, b'"') => {
                    self.opened = self.line;
                    Quoted
                }
                (_, b'\n' | b'\r') => FieldStart,
                (_, d) if d == self.delimiter => FieldStart,
                (QuoteInQuoted, _) => {
                    if self.problem.is_none() {
                        self.problem = Some((
                            self.line,
                            format!(
                                "text after the closing quote of a field opened on line {} \
                                 (a stray quote merges fields)",
                                self.opened
                            ),
                        ));
                    }
                    Unquoted
                }
                (FieldStart | Unquoted, _) => Unquoted,
            };
            if b == b'\n' {
                self.line += 1;
            }
        }
    }
}

impl<R: Read> Read for QuoteCheck<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if self.state == QuoteState::Quoted && self.problem.is_none() {
                self.problem = Some((
                    self.opened,
                    "the file ends inside a quoted field that starts here \
                     (a truncated file, or a stray quote)"
                        .to_owned(),
                ));
            } else if self.last == self.delimiter && self.problem.is_none() {
                // A writer ends a row with a line break right after its last field; a file that
                // stops after a separator was cut off in the middle of a row.
                self.problem = Some((
                    self.line,
                    "the file ends right after a field separator, in the middle of a row: \
                     it looks truncated"
                        .to_owned(),
                ));
            }
        } else {
            self.scan(&buf[..n]);
            self.last = buf[n - 1];
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Refilling a map row after row gives each row's entries (the last of a repeated key),
        /// whatever the previous row left in it.
        #[test]
        fn attributes_refilled_in_place_are_the_rows_own(
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    (proptest::sample::select(vec!["a", "b", "url", "type", "z"]), "[a-c]{0,3}"),
                    0..6,
                ),
                1..8,
            ),
        ) {
            let (mut map, mut sorted) = (BTreeMap::new(), BTreeMap::new());
            let mut spare = Vec::new();
            for row in rows.iter().rev().chain(&rows) {
                let want: BTreeMap<String, String> =
                    row.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                let mut entries: Vec<(&str, &str)> =
                    row.iter().map(|(k, v)| (*k, v.as_str())).collect();
                set_attrs(&mut map, &mut entries, &mut spare);
                proptest::prop_assert_eq!(&map, &want);
                // The taskmine CSV's path: entries sorted already, into a map of other rows.
                set_sorted_attrs(
                    &mut sorted,
                    want.iter().map(|(k, v)| (k.as_str(), v.as_str())),
                    &mut spare,
                );
                proptest::prop_assert_eq!(&sorted, &want);
            }
        }

        /// Skipping to the bytes that matter finds what looking at every byte finds, however the
        /// input is split into reads.
        #[test]
        fn the_quote_check_skips_nothing_that_matters(
            text in proptest::collection::vec(
                proptest::sample::select(b"ab,;\"\r\n\xEF\xBB\xBF".to_vec()),
                0..80,
            ),
            cuts in proptest::collection::vec(0usize..80, 0..4),
            delimiter in proptest::sample::select(b",;".to_vec()),
        ) {
            let mut fast = QuoteCheck::new((), delimiter);
            let mut slow = QuoteCheck::new((), delimiter);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(text.len())).collect();
            cuts.push(text.len());
            cuts.sort_unstable();
            let mut from = 0;
            for to in cuts {
                let part = &text[from..to];
                from = to;
                if part.is_empty() {
                    continue;
                }
                fast.scan_with::<true>(part);
                slow.scan_with::<false>(part);
                fast.last = part[part.len() - 1];
                slow.last = part[part.len() - 1];
                // A separator skipped over leaves `Unquoted` where looking at it gives
                // `FieldStart`; the next byte is read the same way after either.
                let state = |q: &QuoteCheck<()>| match q.state {
                    QuoteState::Unquoted if q.last == delimiter => QuoteState::FieldStart,
                    s => s,
                };
                proptest::prop_assert!(state(&fast) == state(&slow));
                proptest::prop_assert_eq!(fast.line, slow.line);
                proptest::prop_assert_eq!(fast.opened, slow.opened);
                proptest::prop_assert_eq!(&fast.problem, &slow.problem);
            }
        }
    }

    #[test]
    fn element_paths_are_told_from_plain_ids() {
        for path in [
            "/html/body/div[2]/form/input[3]",
            "//input[@name='q']",
            "(//a)[2]",
            "div.form > input:nth-child(2)",
            "#form .name input",
            "form input[type=text]",
            "li:first-child",
        ] {
            assert!(is_element_path(path), "{path}");
        }
        for id in [
            "A51",
            "PhoneNumber",
            "Date-date",
            "First name",
            "A1:B2",
            "a.b@c.org",
            "x y",
        ] {
            assert!(!is_element_path(id), "{id}");
        }
    }

    #[test]
    fn an_event_cloned_into_another_equals_its_source() {
        let mut a = Event::new("s", "u", 1, crate::EventKind::Click);
        a.element = Some(crate::Element {
            role: Some("button".into()),
            name: Some("OK".into()),
            id: None,
            path: Some("/a/b".into()),
        });
        a.text = Some("typed".into());
        a.attrs.insert("url".into(), "https://x.example".into());
        a.attrs.insert("event_type".into(), "clickButton".into());
        let mut b = Event::new("s2", "u2", 2, crate::EventKind::Type);
        b.host = "h".into();
        b.element = Some(crate::Element {
            role: None,
            name: Some("Name".into()),
            id: Some("n1".into()),
            path: None,
        });
        b.case = Some("c".into());
        b.attrs.insert("event_type".into(), "editField".into());
        b.attrs.insert("sheet".into(), "S1".into());
        let c = Event::new("s3", "u3", 3, crate::EventKind::Focus);
        for (src, dst) in [(&a, &b), (&b, &a), (&a, &c), (&c, &a), (&b, &c)] {
            let mut d = dst.clone();
            clone_event_into(&mut d, src);
            assert_eq!(&d, src);
        }
    }

    #[test]
    fn coordinates_are_integers_or_rounded_numbers() {
        assert_eq!(parse_coord("6"), Ok(6));
        assert_eq!(parse_coord(" 6.0 "), Ok(6));
        assert_eq!(parse_coord("812.5"), Ok(813));
        assert_eq!(parse_coord("-3.5"), Ok(-4));
        assert_eq!(parse_coord("1e3"), Ok(1000));
        assert_eq!(parse_coord("2147483647.4"), Ok(i32::MAX));
        for bad in ["2147483647.5", "NaN", "inf", "6,5", "", "x"] {
            assert!(parse_coord(bad).is_err(), "{bad}");
        }
    }

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
