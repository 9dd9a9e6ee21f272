//! Sending events to a server from another desktop, with nothing lost or doubled.
//!
//! [`Uploader`] keeps a spool directory: every batch is written there (atomically, with its batch id)
//! before it is sent, and deleted only once the server has answered that it is written or was a
//! duplicate. While the server is unreachable batches wait in the spool; a batch whose answer was
//! lost is sent again with the same id, which the server ignores. [`Forwarder`] feeds an uploader
//! from a local UI log that a recorder writes, so recording never waits for the network.
//!
//! Blocking (ureq), so the recorder needs no async runtime.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use uilog::{Event, LogRead, LogStore};

use crate::error::{Error, Result};
use crate::wire::{Accepted, ApiError, Batch};

/// Where and how an uploader sends.
#[derive(Debug, Clone)]
pub struct UploaderConfig {
    /// The server's base URL, e.g. `http://10.0.0.5:8080`.
    pub server: String,
    /// The agent's token (`taskmine agent add`).
    pub token: String,
    /// The spool directory.
    pub spool: PathBuf,
    /// Events per batch; the server's default limit is 20,000.
    pub max_batch_events: usize,
    /// Time allowed for one request, connecting included.
    pub timeout: Duration,
    /// Sent with every batch: the verifiers of the access codes of the people this desktop records
    /// (the server keeps each beside the events of its pseudonym; see [`crate::people::verifier`]).
    pub access: Vec<crate::wire::PersonVerifier>,
}

impl UploaderConfig {
    pub fn new(server: &str, token: &str, spool: impl Into<PathBuf>) -> UploaderConfig {
        UploaderConfig {
            server: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            spool: spool.into(),
            max_batch_events: 5_000,
            timeout: Duration::from_secs(30),
            access: Vec::new(),
        }
    }
}

/// What a [`Uploader::flush`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flush {
    pub batches_sent: u64,
    pub events_written: u64,
    /// Batches the server had already written (their earlier answer was lost).
    pub duplicates: u64,
    /// Batches the server refused as malformed or too large; moved to `rejected/` in the spool.
    pub rejected: Vec<String>,
    /// Batches still waiting in the spool.
    pub pending: usize,
    /// Why sending stopped early, when the server could not be reached.
    pub unreachable: Option<String>,
}

/// Bodies larger than this are sent gzip-compressed.
const GZIP_ABOVE: usize = 16 << 10;
const SUFFIX: &str = ".batch.json";

pub struct Uploader {
    cfg: UploaderConfig,
    url: String,
    http: ureq::Agent,
}

impl Uploader {
    /// Opens (creating) the spool directory.
    pub fn open(cfg: UploaderConfig) -> Result<Uploader> {
        // The spool holds events as they are on their way: the owner's eyes only, like the database.
        let mut dirs = fs::DirBuilder::new();
        dirs.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dirs, 0o700);
        dirs.create(cfg.spool.join("rejected"))
            .map_err(|source| Error::Io {
                path: cfg.spool.clone(),
                source,
            })?;
        let http: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(cfg.timeout))
            .build()
            .into();
        Ok(Uploader {
            url: format!("{}/api/v1/events", cfg.server),
            cfg,
            http,
        })
    }

    pub fn spool_dir(&self) -> &Path {
        &self.cfg.spool
    }

    /// Writes a batch into the spool under `batch_id` (which must be a valid file name and unique
    /// for this agent). Durable when this returns: written to a temporary file, synced, renamed.
    pub fn spool_batch(&self, batch_id: &str, events: &[Event]) -> Result<()> {
        let path = self.cfg.spool.join(format!("{batch_id}{SUFFIX}"));
        let tmp = self.cfg.spool.join(format!(".{batch_id}.tmp"));
        let io = |source| Error::Io {
            path: tmp.clone(),
            source,
        };
        let body = serde_json::to_vec(&BatchRef {
            batch_id,
            events,
            access: &self.cfg.access,
        })
        .map_err(|e| Error::Server(format!("cannot encode batch {batch_id}: {e}")))?;
        let mut f = create_private(&tmp).map_err(io)?;
        f.write_all(&body).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        fs::rename(&tmp, &path).map_err(io)?;
        Ok(())
    }

    /// The spooled batches, oldest first (batch ids sort by creation).
    pub fn pending(&self) -> Result<Vec<String>> {
        let dir = &self.cfg.spool;
        let mut ids = Vec::new();
        for entry in fs::read_dir(dir).map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })? {
            let entry = entry.map_err(|source| Error::Io {
                path: dir.clone(),
                source,
            })?;
            let name = entry.file_name();
            if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(SUFFIX)) {
                ids.push(id.to_owned());
            }
        }
        ids.sort();
        Ok(ids)
    }

    /// Sends spooled batches, oldest first, until the spool is empty or the server cannot be
    /// reached. A bad token is an error (the batches stay); a batch the server calls malformed
    /// goes to `rejected/` so that it does not block the others.
    pub fn flush(&mut self) -> Result<Flush> {
        let mut out = Flush::default();
        let pending = self.pending()?;
        for (i, id) in pending.iter().enumerate() {
            let path = self.cfg.spool.join(format!("{id}{SUFFIX}"));
            let body = fs::read(&path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let mut answer = self.post(&body);
            // A server older than the `access` field refuses it as unknown; the events matter
            // more than the person's code, so they go again without it.
            if let Ok((400, text)) = &answer {
                if text.contains("unknown field `access`") {
                    if let Some(plain) = without_access(&body) {
                        tracing::warn!(
                            "{} does not take access-code verifiers yet; batches go without them",
                            self.cfg.server
                        );
                        answer = self.post(&plain);
                    }
                }
            }
            match answer {
                Err(message) => {
                    out.pending = pending.len() - i;
                    out.unreachable = Some(message);
                    return Ok(out);
                }
                Ok((200, text)) => {
                    let acc: Accepted = serde_json::from_str(&text).map_err(|e| {
                        Error::Server(format!("{}: unexpected answer {text:?}: {e}", self.url))
                    })?;
                    out.batches_sent += 1;
                    out.events_written += acc.events;
                    if acc.status == "duplicate" {
                        out.duplicates += 1;
                    }
                    fs::remove_file(&path).map_err(|source| Error::Io { path, source })?;
                }
                Ok((status, text)) if status == 408 || status == 429 || status >= 500 => {
                    out.pending = pending.len() - i;
                    out.unreachable = Some(format!("answered {status}: {text}"));
                    return Ok(out);
                }
                Ok((status, text)) if status == 400 || status == 413 || status == 415 => {
                    let to = self
                        .cfg
                        .spool
                        .join("rejected")
                        .join(format!("{id}{SUFFIX}"));
                    fs::rename(&path, &to).map_err(|source| Error::Io { path, source })?;
                    let why = serde_json::from_str::<ApiError>(&text)
                        .map(|e| match e.field {
                            Some(f) if !f.is_empty() => format!("{f}: {}", e.error),
                            _ => e.error,
                        })
                        .unwrap_or(text);
                    tracing::warn!("server refused batch {id} ({status}): {why}");
                    out.rejected.push(format!("{id}: {status} {why}"));
                }
                Ok((status, text)) => {
                    return Err(Error::Refused {
                        url: self.url.clone(),
                        batch_id: id.clone(),
                        status,
                        message: text,
                    })
                }
            }
        }
        Ok(out)
    }

    /// One POST; `Err` when no answer came (connection refused, timeout, reset).
    fn post(&self, body: &[u8]) -> std::result::Result<(u16, String), String> {
        let req = self
            .http
            .post(&self.url)
            .header("Authorization", &format!("Bearer {}", self.cfg.token))
            .header("Content-Type", "application/json");
        let resp = if body.len() > GZIP_ABOVE {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let z = enc
                .write_all(body)
                .and_then(|_| enc.finish())
                .map_err(|e| e.to_string())?;
            req.header("Content-Encoding", "gzip").send(&z[..])
        } else {
            req.send(body)
        };
        let resp = resp.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let text = resp
            .into_body()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        Ok((status, text))
    }
}

/// A spooled batch's body without its `access` list (`None` when it has none).
fn without_access(body: &[u8]) -> Option<Vec<u8>> {
    let mut v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.as_object_mut()?.remove("access")?;
    serde_json::to_vec(&v).ok()
}

#[derive(serde::Serialize)]
struct BatchRef<'a> {
    batch_id: &'a str,
    events: &'a [Event],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    access: &'a [crate::wire::PersonVerifier],
}

/// Reads a spooled batch back (for inspection and tests).
pub fn read_spooled(path: &Path) -> Result<Batch> {
    let text = fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|e| Error::Spool {
        path: path.to_path_buf(),
        line: e.line(),
        message: e.to_string(),
    })
}

/// Feeds an [`Uploader`] from a local UI log: the events written since the last call, in id order.
///
/// The position is kept twice: in `cursor` (the last local event id spooled) and in the names of
/// spooled batches (`<spool id>-<first id>-<last id>`), so a crash between writing a batch and the
/// cursor cannot spool the same events again under another batch id.
pub struct Forwarder {
    uploader: Uploader,
    db: PathBuf,
    /// Random per spool directory: batch ids stay unique when one agent forwards several logs.
    spool_id: String,
    cursor: i64,
}

const CURSOR: &str = "cursor";
const SPOOL_ID: &str = "spool-id";

impl Forwarder {
    pub fn open(db: impl Into<PathBuf>, cfg: UploaderConfig) -> Result<Forwarder> {
        let uploader = Uploader::open(cfg)?;
        let dir = uploader.spool_dir().to_path_buf();
        let id_path = dir.join(SPOOL_ID);
        let spool_id = match fs::read_to_string(&id_path) {
            Ok(s) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => {
                let bytes: [u8; 8] = rand::random();
                let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
                write_atomically(&id_path, id.as_bytes())?;
                id
            }
        };
        let cursor_path = dir.join(CURSOR);
        let mut cursor = match fs::read_to_string(&cursor_path) {
            Ok(s) => s.trim().parse::<i64>().map_err(|e| Error::Spool {
                path: cursor_path.clone(),
                line: 1,
                message: format!("not an event id: {e}"),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
            Err(source) => {
                return Err(Error::Io {
                    path: cursor_path,
                    source,
                })
            }
        };
        let mut f = Forwarder {
            uploader,
            db: db.into(),
            spool_id,
            cursor: 0,
        };
        for id in f.uploader.pending()? {
            if let Some(last) = id.rsplit('-').next().and_then(|s| s.parse::<i64>().ok()) {
                cursor = cursor.max(last);
            }
        }
        f.cursor = cursor;
        Ok(f)
    }

    pub fn uploader(&mut self) -> &mut Uploader {
        &mut self.uploader
    }

    /// Spools the events the local log gained since the last call; returns how many.
    pub fn collect(&mut self) -> Result<u64> {
        // A SQLite file or a postgres:// URL: the local log may be either backend.
        let store = LogStore::open(&self.db.to_string_lossy())?;
        let max = store.last_event_id()?;
        if max < self.cursor {
            tracing::warn!(
                "{} has fewer events than were already forwarded (was it replaced?); the spool's cursor is {}",
                store.location(),
                self.cursor
            );
        }
        if max <= self.cursor {
            return Ok(0);
        }
        // The dictionary is read after `max`: every event up to `max` was committed with its strings
        // before, so the dictionary resolves all of them, even while a recorder keeps writing.
        let dict = store.dictionary()?;
        let limit = self.uploader.cfg.max_batch_events.max(1);
        let mut total = 0u64;
        loop {
            let mut events = Vec::with_capacity(limit);
            let (mut first, mut last) = (0i64, 0i64);
            store.scan_after(self.cursor, max, limit, |row| -> uilog::Result<()> {
                if first == 0 {
                    first = row.id;
                }
                last = row.id;
                events.push(dict.resolve(&row));
                Ok(())
            })?;
            if events.is_empty() {
                break;
            }
            let batch_id = format!("{}-{first:016}-{last:016}", self.spool_id);
            self.uploader.spool_batch(&batch_id, &events)?;
            self.cursor = last;
            write_atomically(
                &self.uploader.spool_dir().join(CURSOR),
                last.to_string().as_bytes(),
            )?;
            total += events.len() as u64;
            if events.len() < limit {
                break;
            }
        }
        Ok(total)
    }

    /// Spools what is new, then sends what is spooled.
    pub fn sync(&mut self) -> Result<Flush> {
        self.collect()?;
        self.uploader.flush()
    }
}

/// Creates (truncating) a file only its owner may read: spooled batches hold work activity.
fn create_private(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = create_private(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    fs::rename(&tmp, path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_for_an_older_server_keeps_its_events_and_drops_only_the_verifiers() {
        let events = vec![Event::new("s", "user-1", 1, uilog::EventKind::Click)];
        let access = vec![crate::wire::PersonVerifier {
            pseudonym: "user-1".into(),
            verifier: "ab".repeat(32),
        }];
        let body = serde_json::to_vec(&BatchRef {
            batch_id: "b1",
            events: &events,
            access: &access,
        })
        .unwrap();
        let full: Batch = serde_json::from_slice(&body).unwrap();
        assert_eq!(full.access, access);
        let plain = without_access(&body).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(
            v.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["batch_id", "events"]
        );
        let back: Batch = serde_json::from_slice(&plain).unwrap();
        assert_eq!((back.events, back.access), (events, Vec::new()));
        assert_eq!(without_access(&plain), None);
    }
}
