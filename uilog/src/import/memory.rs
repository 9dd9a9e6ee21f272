//! [`MemoryLog`]: the log of imported files held in memory, for a first look at them
//! (`taskmine mine FILE…`) without a database.
//!
//! It takes batches like the [`Store`](crate::Store) ([`LogWrite`]) and is read like it
//! ([`LogRead`]): strings are interned in the order the store would intern them, so ids, the
//! dictionary, statistics and the rows of a scan are the ones an import into a fresh SQLite store
//! gives (tested below), while nothing pays for SQL, pages or a journal.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;

use crate::error::{Error, Result};
use crate::event::{check_ts, Element, Event, EventKind, Micros, ValueHash};
use crate::log_store::{EventPush, LogRead, LogWrite};
use crate::store::{
    write_attrs_json, write_attrs_json_of, BatchOutcome, Dictionary, EventRow, SessionInfo, Stats,
};

/// String keys of the interning maps: the log's own strings, so foldhash (as the store's cache).
type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// One event: interned ids, and where its text is in the arena. 72 bytes: the options are flags
/// beside plain values (with `Option`s it was 96, a quarter more memory for a log in memory).
#[derive(Debug, Clone, Copy)]
struct Row {
    ts: Micros,
    value_hash: u64,
    /// Start of the text in [`MemoryLog::text`]; `text_len == u32::MAX` means no text.
    text_at: u64,
    text_len: u32,
    session: u32,
    app: u32,
    window: u32,
    element: u32,
    case: u32,
    /// Id of the attribute object in [`MemoryLog::attrs_end`] (0: none).
    attrs: u32,
    /// x, y, wx, wy; each only where its bit of `has` is set.
    coords: [i32; 4],
    /// Bit i (0..4): `coords[i]` is there; bit 4: `value_hash` is.
    has: u8,
    kind: EventKind,
}

const HAS_VALUE_HASH: u8 = 1 << 4;
const _: () = assert!(std::mem::size_of::<Row>() == 72);

/// The log of imported files, in memory. Event ids are 1, 2, … in the order events were pushed.
#[derive(Default)]
pub struct MemoryLog {
    dict: Dictionary,
    users: Map<String, u32>,
    hosts: Map<String, u32>,
    sessions: Map<(u32, u32, String), u32>,
    apps: Map<String, u32>,
    windows: Map<String, u32>,
    elements: Map<Element, u32>,
    cases: Map<(u32, String), u32>,
    rows: Vec<Row>,
    text: String,
    /// Distinct attribute objects as JSON (the store's encoding), one after the other: rows share
    /// them (a recorder's log of 1.1M rows has 490,000), so each is kept once, in one allocation.
    attrs: String,
    /// Where the object of each id ends in `attrs` (it starts where the previous one ends); id 0,
    /// no attributes, is empty.
    attrs_end: Vec<u64>,
    /// Objects by the hash of their JSON, to find a row's among them without keeping the text a
    /// second time as a key; a hash shared by two objects sends the second to `attrs_collided`.
    attrs_ids: Map<u64, u32>,
    attrs_collided: Map<Box<str>, u32>,
    attrs_hash: foldhash::fast::RandomState,
    batches: HashSet<String>,
    batch_count: i64,
    /// With [`MemoryLog::keeping_attrs`]: the only attributes kept.
    kept_attrs: Option<Vec<String>>,
}

impl MemoryLog {
    pub fn new() -> MemoryLog {
        MemoryLog {
            attrs_end: vec![0],
            ..MemoryLog::default()
        }
    }

    /// A log that keeps only the attributes named (an event with none of them has none), for a
    /// reader that needs no others: the miner reads one (`miner::Log::ATTRIBUTES_READ`), while a
    /// recorder's log of 1.1M rows has 490,000 distinct attribute objects taking 65 MB, a fifth of
    /// `taskmine mine FILE`'s peak memory. Everything else is as [`MemoryLog::new`] keeps it.
    pub fn keeping_attrs(mut self, names: &[&str]) -> MemoryLog {
        self.kept_attrs = Some(names.iter().map(|&n| n.to_owned()).collect());
        self
    }

    /// How many events the log holds.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The JSON of attribute object `id` (not 0).
    fn attrs_json(&self, id: u32) -> &str {
        let id = id as usize;
        &self.attrs[self.attrs_end[id - 1] as usize..self.attrs_end[id] as usize]
    }

    /// The id of the attribute object `json`, added when new.
    fn attrs_id(&mut self, json: &str) -> u32 {
        let hash = self.attrs_hash.hash_one(json.as_bytes());
        match self.attrs_ids.get(&hash) {
            Some(&id) if self.attrs_json(id) == json => return id,
            Some(_) => {
                if let Some(&id) = self.attrs_collided.get(json) {
                    return id;
                }
            }
            None => {}
        }
        let id = self.attrs_end.len() as u32;
        self.attrs.push_str(json);
        self.attrs_end.push(self.attrs.len() as u64);
        match self.attrs_ids.entry(hash) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(id);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.attrs_collided.insert(json.into(), id);
            }
        }
        id
    }

    fn row(&self, index: usize) -> EventRow<'_> {
        let r = &self.rows[index];
        let text = (r.text_len != u32::MAX).then(|| {
            let at = r.text_at as usize;
            &self.text[at..at + r.text_len as usize]
        });
        let coord = |i: usize| (r.has & (1 << i) != 0).then_some(r.coords[i]);
        EventRow {
            id: index as i64 + 1,
            session: r.session,
            ts: r.ts,
            kind: r.kind,
            app: r.app,
            window: r.window,
            element: r.element,
            x: coord(0),
            y: coord(1),
            wx: coord(2),
            wy: coord(3),
            text,
            value_hash: (r.has & HAS_VALUE_HASH != 0).then_some(ValueHash(r.value_hash)),
            case: r.case,
            attrs: (r.attrs != 0).then(|| self.attrs_json(r.attrs)),
        }
    }
}

/// The id of `value` in a table of names, added at the end when new (ids start at 1, as SQLite's).
fn intern(map: &mut Map<String, u32>, names: &mut Vec<String>, value: &str) -> u32 {
    if let Some(&id) = map.get(value) {
        return id;
    }
    if names.is_empty() {
        names.push(String::new());
    }
    let id = names.len() as u32;
    names.push(value.to_owned());
    map.insert(value.to_owned(), id);
    id
}

/// The sink of one batch of a [`MemoryLog`].
struct MemorySink<'a> {
    log: &'a mut MemoryLog,
    count: u64,
    /// The session of the previous event: consecutive events nearly always share it.
    last: Option<(String, String, String, u32)>,
    json: Vec<u8>,
}

impl MemorySink<'_> {
    fn session(&mut self, e: &Event) -> u32 {
        if let Some((name, user, host, id)) = &self.last {
            if *name == e.session && *user == e.user && *host == e.host {
                return *id;
            }
        }
        let log = &mut *self.log;
        let user = intern(&mut log.users, &mut log.dict.users, &e.user);
        let host = intern(&mut log.hosts, &mut log.dict.hosts, &e.host);
        let key = (user, host, e.session.clone());
        let id = match log.sessions.get(&key) {
            Some(&id) => id,
            None => {
                if log.dict.sessions.is_empty() {
                    log.dict.sessions.push(SessionInfo::default());
                }
                let id = log.dict.sessions.len() as u32;
                log.dict.sessions.push(SessionInfo {
                    name: e.session.clone(),
                    user,
                    host,
                });
                log.sessions.insert(key, id);
                id
            }
        };
        self.last = Some((e.session.clone(), e.user.clone(), e.host.clone(), id));
        id
    }

    fn element(&mut self, el: &Element) -> u32 {
        let log = &mut *self.log;
        if let Some(&id) = log.elements.get(el) {
            return id;
        }
        // The store keeps an absent part as '' and reads '' back as absent: an empty part and a
        // missing one are the same element.
        let part = |p: &Option<String>| p.clone().filter(|s| !s.is_empty());
        let stored = Element {
            role: part(&el.role),
            name: part(&el.name),
            id: part(&el.id),
            path: part(&el.path),
        };
        let id = match log.elements.get(&stored) {
            Some(&id) => id,
            None => {
                if log.dict.elements.is_empty() {
                    log.dict.elements.push(None);
                }
                let id = log.dict.elements.len() as u32;
                log.dict.elements.push(Some(stored.clone()));
                log.elements.insert(stored, id);
                id
            }
        };
        log.elements.insert(el.clone(), id);
        id
    }

    fn case(&mut self, session: u32, name: &str) -> u32 {
        let log = &mut *self.log;
        let key = (session, name.to_owned());
        if let Some(&id) = log.cases.get(&key) {
            return id;
        }
        if log.dict.cases.is_empty() {
            log.dict.cases.push(String::new());
        }
        let id = log.dict.cases.len() as u32;
        log.dict.cases.push(name.to_owned());
        log.cases.insert(key, id);
        id
    }
}

impl EventPush for MemorySink<'_> {
    fn push(&mut self, e: &Event) -> Result<()> {
        self.push_with(e, None)
    }

    fn push_encoded(&mut self, e: &Event, attrs_json: &str) -> Result<()> {
        self.push_with(e, Some(attrs_json))
    }

    fn count(&self) -> u64 {
        self.count
    }
}

impl MemorySink<'_> {
    /// [`EventPush::push`], with the attributes' JSON when the caller has it.
    fn push_with(&mut self, e: &Event, attrs_json: Option<&str>) -> Result<()> {
        if e.session.is_empty() {
            return Err(Error::Invalid("an event needs a session".into()));
        }
        check_ts(e.ts).map_err(|m| Error::Invalid(format!("event time: {m}")))?;
        let session = self.session(e);
        let log = &mut *self.log;
        let app = intern(&mut log.apps, &mut log.dict.apps, &e.app);
        let window = intern(&mut log.windows, &mut log.dict.windows, &e.window);
        let element = match &e.element {
            Some(el) if !el.is_empty() => self.element(el),
            _ => 0,
        };
        let case = match &e.case {
            Some(c) => self.case(session, c),
            None => 0,
        };
        let log = &mut *self.log;
        let attrs = match (&log.kept_attrs, attrs_json) {
            _ if e.attrs.is_empty() => 0,
            (Some(kept), _) => {
                let mut kept = e.attrs.iter().filter(|(k, _)| kept.contains(k)).peekable();
                if kept.peek().is_none() {
                    0
                } else {
                    self.json.clear();
                    write_attrs_json_of(&mut self.json, kept);
                    log.attrs_id(std::str::from_utf8(&self.json).expect("JSON is UTF-8"))
                }
            }
            (None, Some(json)) => log.attrs_id(json),
            (None, None) => {
                self.json.clear();
                write_attrs_json(&mut self.json, &e.attrs);
                log.attrs_id(std::str::from_utf8(&self.json).expect("JSON is UTF-8"))
            }
        };
        let (text_at, text_len) = match &e.text {
            Some(t) => {
                let len = u32::try_from(t.len())
                    .ok()
                    .filter(|&n| n != u32::MAX)
                    .ok_or_else(|| Error::Invalid("an event's text is 4 GiB or longer".into()))?;
                let at = log.text.len() as u64;
                log.text.push_str(t);
                (at, len)
            }
            None => (0, u32::MAX),
        };
        let mut has = 0;
        let mut coords = [0; 4];
        for (i, c) in [e.x, e.y, e.wx, e.wy].into_iter().enumerate() {
            if let Some(c) = c {
                coords[i] = c;
                has |= 1 << i;
            }
        }
        if e.value_hash.is_some() {
            has |= HAS_VALUE_HASH;
        }
        log.rows.push(Row {
            ts: e.ts,
            value_hash: e.value_hash.map_or(0, |v| v.0),
            text_at,
            text_len,
            session,
            app,
            window,
            element,
            case,
            attrs,
            coords,
            has,
            kind: e.kind,
        });
        self.count += 1;
        Ok(())
    }
}

impl LogWrite for MemoryLog {
    /// A failed batch leaves none of its events, as in the store; strings it interned stay in
    /// the dictionary (unused), which the store would have rolled back.
    fn write_events<E, F>(
        &mut self,
        key: Option<&str>,
        _origin: &str,
        fill: F,
    ) -> Result<BatchOutcome, E>
    where
        E: From<Error>,
        F: FnOnce(&mut dyn EventPush) -> Result<(), E>,
    {
        if key.is_some_and(|k| self.batches.contains(k)) {
            return Ok(BatchOutcome::AlreadyWritten);
        }
        let (rows, text) = (self.rows.len(), self.text.len());
        let mut sink = MemorySink {
            log: self,
            count: 0,
            last: None,
            json: Vec::new(),
        };
        if let Err(e) = fill(&mut sink) {
            self.rows.truncate(rows);
            self.text.truncate(text);
            return Err(e);
        }
        let events = sink.count;
        if let Some(k) = key {
            self.batches.insert(k.to_owned());
        }
        self.batch_count += 1;
        Ok(BatchOutcome::Written { events })
    }
}

impl LogRead for MemoryLog {
    fn dictionary(&self) -> Result<Dictionary> {
        let mut d = self.dict.clone();
        // The store's dictionary has the placeholder at 0 even for an empty table.
        for names in [
            &mut d.users,
            &mut d.hosts,
            &mut d.apps,
            &mut d.windows,
            &mut d.cases,
        ] {
            if names.is_empty() {
                names.push(String::new());
            }
        }
        if d.elements.is_empty() {
            d.elements.push(None);
        }
        Ok(d)
    }

    fn stats(&self) -> Result<Stats> {
        let mut stats = Stats::default();
        let (mut sessions, mut apps, mut windows) = (
            vec![false; self.dict.sessions.len()],
            vec![false; self.dict.apps.len()],
            vec![false; self.dict.windows.len()],
        );
        let mut kinds = BTreeMap::<i64, u64>::new();
        for r in &self.rows {
            stats.events += 1;
            stats.first_ts = Some(stats.first_ts.map_or(r.ts, |t| t.min(r.ts)));
            stats.last_ts = Some(stats.last_ts.map_or(r.ts, |t| t.max(r.ts)));
            *kinds.entry(i64::from(r.kind.code())).or_default() += 1;
            sessions[r.session as usize] = true;
            apps[r.app as usize] = true;
            windows[r.window as usize] = true;
        }
        let used: Vec<&SessionInfo> = self
            .dict
            .sessions
            .iter()
            .zip(&sessions)
            .filter(|(_, &used)| used)
            .map(|(s, _)| s)
            .collect();
        let distinct = |of: fn(&SessionInfo) -> u32| {
            used.iter().map(|s| of(s)).collect::<HashSet<_>>().len() as u64
        };
        stats.users = distinct(|s| s.user);
        stats.hosts = distinct(|s| s.host);
        stats.sessions = used.len() as u64;
        stats.apps = apps.iter().filter(|&&s| s).count() as u64;
        stats.windows = windows.iter().filter(|&&s| s).count() as u64;
        for (code, n) in kinds {
            stats.count_kind(code, n);
        }
        Ok(stats)
    }

    fn event_count(&self) -> Result<u64> {
        Ok(self.rows.len() as u64)
    }

    fn visit_rows(&self, visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>) -> Result<()> {
        // The store's scan order: session, time, id.
        let mut order: Vec<u32> = (0..self.rows.len() as u32).collect();
        let key = |&i: &u32| {
            let r = &self.rows[i as usize];
            (r.session, r.ts, i)
        };
        if !order.is_sorted_by_key(key) {
            order.sort_unstable_by_key(key);
        }
        order
            .into_iter()
            .try_for_each(|i| visit(self.row(i as usize)))
    }

    fn visit_rows_after(
        &self,
        after: i64,
        upto: i64,
        limit: usize,
        visit: &mut dyn FnMut(EventRow<'_>) -> Result<()>,
    ) -> Result<()> {
        let from = after.max(0) as usize;
        let to = (upto.max(0) as usize).min(self.rows.len());
        (from..to.max(from))
            .take(limit)
            .try_for_each(|i| visit(self.row(i)))
    }

    fn last_event_id(&self) -> Result<i64> {
        Ok(self.rows.len() as i64)
    }

    fn version(&self) -> Result<(i64, i64)> {
        Ok((self.batch_count, self.rows.len() as i64))
    }

    fn location(&self) -> String {
        "memory".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::{import_file, ImportOptions};
    use crate::Store;

    /// An owned copy of a row, to compare two backends' scans.
    fn owned(r: EventRow<'_>) -> String {
        format!("{r:?}")
    }

    fn rows(log: &dyn LogRead) -> Vec<String> {
        let mut out = Vec::new();
        log.visit_rows(&mut |r| {
            out.push(owned(r));
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn files_read_into_memory_equal_a_fresh_store() {
        let dir = tempfile::tempdir().unwrap();
        let rpa = dir.path().join("rpa.csv");
        std::fs::write(
            &rpa,
            "timeStamp,userID,targetApp,eventType,url,content,target.workbookName,target.sheetName,target.id,target.tagName,target.name,target.value,caseID\n\
             2026-03-01T09:00:02Z,ann,Chrome,clickButton,https://a.example/form,,,,/html/body/div[2]/input,INPUT,Save,,c1\n\
             2026-03-01T09:00:01Z,ann,Excel,editCell,,,Book.xlsx,Sheet1,A2,,,42,c1\n\
             2026-03-01T09:00:03Z,,Excel,copyCell,,42,Book.xlsx,Sheet1,A2,,,,c2\n\
             2026-03-01T09:00:04Z,bob,Chrome,paste,https://a.example/form,42,,,,INPUT,,,\n\
             2026-03-01T09:00:04Z,bob,Chrome,clickButton,https://a.example/form,,,,,,,,\n",
        )
        .unwrap();
        let jsonl = dir.path().join("more.jsonl");
        let mut e = Event::new("s2", "bob", 1_772_355_605_000_000, EventKind::Type);
        e.host = "h1".into();
        e.app = "Chrome".into();
        e.window = "https://a.example/form".into();
        e.text = Some("typed \"text\"".into());
        e.element = Some(Element {
            role: Some(String::new()),
            name: Some("Name".into()),
            id: None,
            path: None,
        });
        e.attrs.insert("k".into(), "v\n".into());
        let mut lines = serde_json::to_string(&e).unwrap() + "\n";
        e.ts -= 1_000_000;
        e.element = Some(Element {
            role: None,
            name: Some("Name".into()),
            id: None,
            path: None,
        });
        lines += &(serde_json::to_string(&e).unwrap() + "\n");
        std::fs::write(&jsonl, lines).unwrap();

        let mut store = Store::open_in_memory().unwrap();
        let mut memory = MemoryLog::new();
        let opts = ImportOptions::default();
        for file in [&rpa, &jsonl] {
            import_file(&mut store, file, &opts, &mut |_| {}).unwrap();
            import_file(&mut memory, file, &opts, &mut |_| {}).unwrap();
        }
        // A file read again is one batch already written, in memory too.
        let again = import_file(&mut memory, &rpa, &opts, &mut |_| {}).unwrap();
        assert_eq!(again.outcome, BatchOutcome::AlreadyWritten);

        assert_eq!(memory.len(), 7);
        assert_eq!(rows(&memory), rows(&store));
        assert_eq!(
            format!("{:?}", memory.dictionary().unwrap()),
            format!("{:?}", store.dictionary().unwrap())
        );
        assert_eq!(memory.stats().unwrap(), store.stats().unwrap());
        assert_eq!(
            LogRead::event_count(&memory).unwrap(),
            LogRead::event_count(&store).unwrap()
        );
        assert_eq!(
            memory.last_event_id().unwrap(),
            store.last_event_id().unwrap()
        );
        let after = |log: &dyn LogRead| {
            let mut out = Vec::new();
            log.visit_rows_after(2, 6, 3, &mut |r| {
                out.push(owned(r));
                Ok(())
            })
            .unwrap();
            out
        };
        assert_eq!(after(&memory).len(), 3);
        assert_eq!(after(&memory), after(&store));

        // The attributes an import encodes on its reading thread are the ones a plain push
        // encodes.
        let mut plain = Store::open_in_memory().unwrap();
        let events = store.events().unwrap();
        plain
            .write_batch(None, "test", |sink| -> Result<()> {
                events.iter().try_for_each(|e| sink.push(e))
            })
            .unwrap();
        let attrs = |log: &dyn LogRead| {
            let mut all = Vec::new();
            log.visit_rows(&mut |r| {
                all.push(r.attrs.map(str::to_owned));
                Ok(())
            })
            .unwrap();
            all.sort();
            all
        };
        assert!(attrs(&store).iter().flatten().count() >= 5);
        assert_eq!(attrs(&plain), attrs(&store));
    }

    #[test]
    fn a_log_keeping_some_attributes_drops_only_the_others() {
        let mut e = Event::new("s", "u", 1_772_355_605_000_000, EventKind::Shortcut);
        e.attrs.insert("keys".into(), "ctrl+s".into());
        e.attrs.insert("url".into(), "https://a.example/".into());
        let mut bare = Event::new("s", "u", 1_772_355_606_000_000, EventKind::Click);
        bare.attrs.insert("url".into(), "https://a.example/".into());
        let mut all = MemoryLog::new();
        let mut some = MemoryLog::new().keeping_attrs(&["keys"]);
        for log in [&mut all, &mut some] {
            log.write_events(None, "test", |sink| -> Result<()> {
                sink.push(&e)?;
                sink.push(&bare)
            })
            .unwrap();
        }
        let rows = |log: &MemoryLog| {
            let mut out = Vec::new();
            log.visit_rows(&mut |r| {
                out.push((r.kind, r.ts, r.session, r.attrs.map(str::to_owned)));
                Ok(())
            })
            .unwrap();
            out
        };
        let (all, some) = (rows(&all), rows(&some));
        assert_eq!(
            all[0].3.as_deref(),
            Some(r#"{"keys":"ctrl+s","url":"https://a.example/"}"#)
        );
        assert_eq!(some[0].3.as_deref(), Some(r#"{"keys":"ctrl+s"}"#));
        assert_eq!(some[1].3, None, "nothing kept is no attributes");
        let strip = |r: &[(EventKind, Micros, u32, Option<String>)]| {
            r.iter().map(|x| (x.0, x.1, x.2)).collect::<Vec<_>>()
        };
        assert_eq!(strip(&all), strip(&some));
    }

    #[test]
    fn a_failed_batch_leaves_no_events() {
        let mut memory = MemoryLog::new();
        let e = Event::new("s", "u", 1_772_355_605_000_000, EventKind::Click);
        let err = memory
            .write_events(Some("k"), "test", |sink| -> Result<()> {
                sink.push(&e)?;
                sink.push(&Event::new("", "u", 1, EventKind::Click))
            })
            .unwrap_err();
        assert!(err.to_string().contains("session"), "{err}");
        assert!(memory.is_empty());
        // The key of a failed batch is not taken.
        let ok = memory
            .write_events(Some("k"), "test", |sink| -> Result<()> { sink.push(&e) })
            .unwrap();
        assert_eq!(ok, BatchOutcome::Written { events: 1 });
        assert_eq!(memory.len(), 1);
    }
}
