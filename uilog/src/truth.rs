//! Ground truth: which routines a log holds and, for every event, the routine instance it belongs to.
//!
//! The simulator writes it next to the log it generates; a labelled public log (one with a case id per
//! row) can be converted to it. The miner's evaluation reads it and scores discovered routines and
//! segment boundaries against it. The format is specified in `docs/ground-truth.md`.
//!
//! An event is identified by `(session, ts)`: the simulator keeps timestamps strictly increasing within
//! a session, and a converter of a log with tied timestamps must make them distinct the same way the
//! importer does before writing the truth.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::event::{Event, EventKind, Micros};

/// The version written into every ground-truth file; [`GroundTruth::read`] refuses newer ones.
pub const FORMAT_VERSION: u32 = 1;

/// What a log is known to contain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// The format version, [`FORMAT_VERSION`].
    #[serde(default = "format_version")]
    pub version: u32,
    /// Where the log and this truth came from (`taskmine simulator, seed 42`, a file name, …).
    #[serde(default)]
    pub source: String,
    /// The simulator's configuration, so that the log can be generated again; absent for converted logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    pub routines: Vec<TruthRoutine>,
    pub instances: Vec<TruthInstance>,
    /// Events that belong to no instance and are not idle markers: stray clicks, scrolls, visits to
    /// unrelated applications, unlabelled rows of a converted log.
    pub noise_events: u64,
    /// `idle_start` and `idle_end` events. They belong to no instance either.
    #[serde(default)]
    pub idle_events: u64,
    /// Every event of the log: `noise_events + idle_events + Σ instances[i].events.len()`.
    pub total_events: u64,
}

fn format_version() -> u32 {
    FORMAT_VERSION
}

/// A routine: a task that users repeat, possibly in several variants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthRoutine {
    /// Unique within the file. The simulator numbers routines from 1, leaving 0 free for "none".
    pub id: u32,
    pub name: String,
    /// Readable descriptions of the steps of the dominant variant, one per event, in order.
    pub steps: Vec<String>,
    /// The ways an instance may deviate from the dominant variant; each instance's
    /// [`TruthInstance::variant`] names one of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants: Vec<TruthVariant>,
}

/// A named deviation from a routine's dominant variant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthVariant {
    pub name: String,
    pub description: String,
}

/// One performance of a routine by one user, in one session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruthInstance {
    /// Unique within the file. The simulator numbers instances from 1 in log order.
    pub id: u64,
    /// The [`TruthRoutine::id`] this is an instance of.
    pub routine: u32,
    pub session: String,
    pub user: String,
    /// The variant it followed; `None` for the dominant variant (or when the source does not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The timestamps of its events, strictly increasing. With `session` they identify the events.
    /// Noise events that fall between them are not listed: they belong to no instance.
    pub events: Vec<Micros>,
}

impl TruthInstance {
    /// The first and last timestamp: the instance's segment boundaries.
    pub fn span(&self) -> Option<(Micros, Micros)> {
        Some((*self.events.first()?, *self.events.last()?))
    }
}

impl GroundTruth {
    /// An empty truth of the current format version.
    pub fn new(source: impl Into<String>) -> GroundTruth {
        GroundTruth {
            version: FORMAT_VERSION,
            source: source.into(),
            ..GroundTruth::default()
        }
    }

    /// Reads and checks a ground-truth JSON file. Errors name the file, and for malformed JSON the
    /// line and the field.
    pub fn read(path: impl AsRef<Path>) -> Result<GroundTruth> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        GroundTruth::from_json(&text, path)
    }

    /// Parses ground truth from JSON text; `path` is only used to name the source in errors.
    pub fn from_json(text: &str, path: impl AsRef<Path>) -> Result<GroundTruth> {
        let path = path.as_ref();
        let truth: GroundTruth = serde_json::from_str(text).map_err(|e| {
            let line = e.line() as u64;
            // serde_json reports where, not which field; a second, slower pass over the parsed value
            // finds the field for the message.
            let field = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .and_then(|v| failing_field(&v))
                .unwrap_or_else(|| "-".into());
            Error::parse(path, line, field, e.to_string())
        })?;
        if truth.version > FORMAT_VERSION {
            return Err(Error::input(
                path,
                format!(
                    "ground truth format version {} is newer than this taskmine understands ({FORMAT_VERSION})",
                    truth.version
                ),
            ));
        }
        truth
            .validate()
            .map_err(|message| Error::input(path, message))?;
        Ok(truth)
    }

    /// Writes the truth as pretty-printed JSON.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
        let mut out = std::io::BufWriter::new(file);
        serde_json::to_writer_pretty(&mut out, self)
            .map_err(|e| Error::io(path, std::io::Error::other(e)))?;
        std::io::Write::flush(&mut out).map_err(|e| Error::io(path, e))
    }

    /// Checks what the JSON schema cannot: unique ids, known routines, instance events in time order,
    /// no event in two instances, counts that add up. The message names the offending entry.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let mut routine_ids = HashSet::new();
        for (i, r) in self.routines.iter().enumerate() {
            if !routine_ids.insert(r.id) {
                return Err(format!(
                    "routines[{i}].id: routine id {} appears twice",
                    r.id
                ));
            }
        }
        let mut instance_ids = HashSet::new();
        let mut seen: HashSet<(&str, Micros)> = HashSet::new();
        let mut in_instances = 0u64;
        for (i, inst) in self.instances.iter().enumerate() {
            let at = format!("instances[{i}] (instance {})", inst.id);
            if !instance_ids.insert(inst.id) {
                return Err(format!("{at}.id: instance id appears twice"));
            }
            if !routine_ids.contains(&inst.routine) {
                return Err(format!("{at}.routine: no routine with id {}", inst.routine));
            }
            if inst.events.is_empty() {
                return Err(format!("{at}.events: an instance needs at least one event"));
            }
            for (j, w) in inst.events.windows(2).enumerate() {
                if w[1] <= w[0] {
                    return Err(format!(
                        "{at}.events[{}]: timestamp {} is not after the one before it ({})",
                        j + 1,
                        w[1],
                        w[0]
                    ));
                }
            }
            for &ts in &inst.events {
                if !seen.insert((inst.session.as_str(), ts)) {
                    return Err(format!(
                        "{at}.events: event ({:?}, {ts}) already belongs to another instance",
                        inst.session
                    ));
                }
            }
            in_instances += inst.events.len() as u64;
        }
        let sum = in_instances + self.noise_events + self.idle_events;
        if sum != self.total_events {
            return Err(format!(
                "total_events: {} but instances ({in_instances}) + noise_events ({}) + idle_events ({}) = {sum}",
                self.total_events, self.noise_events, self.idle_events
            ));
        }
        Ok(())
    }

    /// Converts a labelled log: moves each event's [`Event::case`] out of the event and into the truth.
    ///
    /// `events` must be grouped by session (as a file or the store gives them). Within a session they
    /// are put in time order (stably), and an event whose timestamp is not later than the one before
    /// it is moved to 1 µs after it, so that `(session, ts)` identifies every event; store `events`
    /// after this call, not before. Each distinct `(session, case)` becomes an instance, numbered
    /// from 1 in order of first event. `routine_of` names the routine of an instance from its first
    /// event (for example from an attribute the source log has); `None` files it under one routine
    /// named after `source`. Routine steps stay empty: a label says which events belong together,
    /// not what the routine's dominant variant is.
    pub fn take_labels(
        events: &mut [Event],
        source: &str,
        routine_of: impl Fn(&Event) -> Option<String>,
    ) -> GroundTruth {
        let mut truth = GroundTruth::new(source);
        let mut start = 0;
        while start < events.len() {
            let end = start
                + events[start..]
                    .iter()
                    .position(|e| e.session != events[start].session)
                    .unwrap_or(events.len() - start);
            let session = &mut events[start..end];
            session.sort_by_key(|e| e.ts);
            for i in 1..session.len() {
                if session[i].ts <= session[i - 1].ts {
                    session[i].ts = session[i - 1].ts + 1;
                }
            }
            start = end;
        }
        let mut routines: HashMap<String, u32> = HashMap::new();
        let mut instances: HashMap<(String, String), usize> = HashMap::new();
        for e in events.iter_mut() {
            truth.total_events += 1;
            let Some(case) = e.case.take() else {
                if matches!(e.kind, EventKind::IdleStart | EventKind::IdleEnd) {
                    truth.idle_events += 1;
                } else {
                    truth.noise_events += 1;
                }
                continue;
            };
            let key = (e.session.clone(), case);
            let at = match instances.get(&key) {
                Some(&at) => at,
                None => {
                    let name = routine_of(e).unwrap_or_else(|| source.to_owned());
                    let next = routines.len() as u32 + 1;
                    let routine = *routines.entry(name.clone()).or_insert_with(|| {
                        truth.routines.push(TruthRoutine {
                            id: next,
                            name,
                            ..TruthRoutine::default()
                        });
                        next
                    });
                    truth.instances.push(TruthInstance {
                        id: truth.instances.len() as u64 + 1,
                        routine,
                        session: e.session.clone(),
                        user: e.user.clone(),
                        variant: None,
                        events: Vec::new(),
                    });
                    instances.insert(key, truth.instances.len() - 1);
                    truth.instances.len() - 1
                }
            };
            truth.instances[at].events.push(e.ts);
        }
        truth
    }

    /// Events that belong to some instance.
    pub fn instance_events(&self) -> u64 {
        self.instances.iter().map(|i| i.events.len() as u64).sum()
    }

    /// The routine with this id.
    pub fn routine(&self, id: u32) -> Option<&TruthRoutine> {
        self.routines.iter().find(|r| r.id == id)
    }

    /// An index from `(session, ts)` to instance, for an evaluator that walks the log.
    pub fn index(&self) -> TruthIndex {
        TruthIndex::new(self)
    }
}

/// Finds the path of the first entry that does not deserialize, for error messages.
fn failing_field(v: &serde_json::Value) -> Option<String> {
    let obj = v.as_object()?;
    for key in ["routines", "instances", "noise_events", "total_events"] {
        if !obj.contains_key(key) {
            return Some(key.to_owned());
        }
    }
    fn first_bad<T: serde::de::DeserializeOwned>(
        name: &str,
        v: &serde_json::Value,
    ) -> Option<String> {
        let items = v.as_array()?;
        items.iter().enumerate().find_map(|(i, item)| {
            let err = serde_json::from_value::<T>(item.clone()).err()?.to_string();
            if let Some(field) = err
                .strip_prefix("missing field `")
                .and_then(|r| r.split('`').next())
            {
                return Some(format!("{name}[{i}].{field}"));
            }
            // A value of the wrong type: find the member that fails on its own.
            let member = item.as_object().and_then(|o| {
                o.iter()
                    .find(|(k, v)| !member_fits(k, v))
                    .map(|(k, _)| k.clone())
            });
            Some(match member {
                Some(field) => format!("{name}[{i}].{field}"),
                None => format!("{name}[{i}]"),
            })
        })
    }
    fn member_fits(key: &str, v: &serde_json::Value) -> bool {
        use serde_json::from_value as de;
        let v = v.clone();
        match key {
            "id" => de::<u64>(v).is_ok(),
            "routine" => de::<u32>(v).is_ok(),
            "name" | "session" | "user" | "description" => de::<String>(v).is_ok(),
            "variant" => de::<Option<String>>(v).is_ok(),
            "steps" => de::<Vec<String>>(v).is_ok(),
            "variants" => de::<Vec<TruthVariant>>(v).is_ok(),
            "events" => de::<Vec<Micros>>(v).is_ok(),
            _ => true,
        }
    }
    if let Some(f) = obj
        .get("routines")
        .and_then(|r| first_bad::<TruthRoutine>("routines", r))
    {
        return Some(f);
    }
    if let Some(f) = obj
        .get("instances")
        .and_then(|r| first_bad::<TruthInstance>("instances", r))
    {
        return Some(f);
    }
    for key in ["version", "noise_events", "idle_events", "total_events"] {
        if let Some(x) = obj.get(key) {
            if !x.is_u64() {
                return Some(key.to_owned());
            }
        }
    }
    None
}

/// Maps `(session, ts)` to the instance an event belongs to. Built by [`GroundTruth::index`].
#[derive(Debug, Clone, Default)]
pub struct TruthIndex {
    /// Per session, `(ts, instance index)` sorted by ts.
    by_session: HashMap<String, Vec<(Micros, u32)>>,
    ids: Vec<(u64, u32)>,
}

impl TruthIndex {
    fn new(truth: &GroundTruth) -> TruthIndex {
        let mut by_session: HashMap<String, Vec<(Micros, u32)>> = HashMap::new();
        for (i, inst) in truth.instances.iter().enumerate() {
            let list = by_session.entry(inst.session.clone()).or_default();
            list.extend(inst.events.iter().map(|&ts| (ts, i as u32)));
        }
        for list in by_session.values_mut() {
            list.sort_unstable();
        }
        TruthIndex {
            by_session,
            ids: truth.instances.iter().map(|i| (i.id, i.routine)).collect(),
        }
    }

    fn find(&self, session: &str, ts: Micros) -> Option<u32> {
        let list = self.by_session.get(session)?;
        let at = list.binary_search_by_key(&ts, |&(t, _)| t).ok()?;
        Some(list[at].1)
    }

    /// The id of the instance the event at `(session, ts)` belongs to; `None` for noise, idle markers
    /// and events the truth does not know.
    pub fn instance_of(&self, session: &str, ts: Micros) -> Option<u64> {
        self.find(session, ts).map(|i| self.ids[i as usize].0)
    }

    /// The routine id of the instance the event belongs to.
    pub fn routine_of(&self, session: &str, ts: Micros) -> Option<u32> {
        self.find(session, ts).map(|i| self.ids[i as usize].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> GroundTruth {
        let mut t = GroundTruth::new("test");
        t.routines.push(TruthRoutine {
            id: 1,
            name: "copy invoice number".into(),
            steps: vec!["focus thunderbird".into(), "copy".into()],
            variants: vec![TruthVariant {
                name: "menu-copy".into(),
                description: "copies with the context menu".into(),
            }],
        });
        t.instances.push(TruthInstance {
            id: 1,
            routine: 1,
            session: "u01-2026-11-23".into(),
            user: "user-01".into(),
            variant: None,
            events: vec![10, 20],
        });
        t.instances.push(TruthInstance {
            id: 2,
            routine: 1,
            session: "u01-2026-11-23".into(),
            user: "user-01".into(),
            variant: Some("menu-copy".into()),
            events: vec![40, 50, 60],
        });
        t.noise_events = 1;
        t.idle_events = 2;
        t.total_events = 8;
        t
    }

    #[test]
    fn truth_round_trips_through_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("truth.json");
        let t = sample();
        t.write(&path).unwrap();
        assert_eq!(GroundTruth::read(&path).unwrap(), t);
    }

    #[test]
    fn the_index_maps_events_to_instances_and_noise_to_none() {
        let t = sample();
        let idx = t.index();
        assert_eq!(idx.instance_of("u01-2026-11-23", 20), Some(1));
        assert_eq!(idx.instance_of("u01-2026-11-23", 50), Some(2));
        assert_eq!(idx.routine_of("u01-2026-11-23", 60), Some(1));
        assert_eq!(idx.instance_of("u01-2026-11-23", 30), None);
        assert_eq!(idx.instance_of("u02-2026-11-23", 20), None);
        assert_eq!(t.instances[1].span(), Some((40, 60)));
    }

    #[test]
    fn malformed_json_names_file_line_and_field() {
        let text = serde_json::to_string_pretty(&sample())
            .unwrap()
            .replace("\"routine\": 1,\n      \"session\": \"u01-2026-11-23\",\n      \"user\": \"user-01\",\n      \"variant\"", "\"routine\": \"one\",\n      \"session\": \"u01-2026-11-23\",\n      \"user\": \"user-01\",\n      \"variant\"");
        let err = GroundTruth::from_json(&text, "t.json")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("t.json:"), "{err}");
        assert!(err.contains("field `instances[1].routine`"), "{err}");
        let line: u64 = err.split(':').nth(1).unwrap().parse().unwrap();
        assert!(
            text.lines()
                .nth(line as usize - 1)
                .unwrap()
                .contains("\"one\""),
            "{err}"
        );

        let missing = r#"{"routines": [], "instances": [{"id": 1, "routine": 1, "session": "s", "user": "u"}], "noise_events": 0, "total_events": 0}"#;
        let err = GroundTruth::from_json(missing, "m.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("m.json:1: field `instances[0].events`"),
            "{err}"
        );
    }

    #[test]
    fn inconsistent_truth_is_refused_with_the_offending_entry() {
        let mut t = sample();
        t.total_events = 9;
        assert!(t.validate().unwrap_err().contains("total_events"));

        let mut t = sample();
        t.instances[1].events = vec![40, 40, 60];
        assert!(t
            .validate()
            .unwrap_err()
            .contains("instances[1] (instance 2).events[1]"));

        let mut t = sample();
        t.instances[1].events = vec![20, 50, 60];
        let err = t.validate().unwrap_err();
        assert!(err.contains("already belongs"), "{err}");

        let mut t = sample();
        t.instances[0].routine = 7;
        assert!(t.validate().unwrap_err().contains("no routine with id 7"));

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        let mut t = sample();
        t.instances[1].id = 1;
        t.write(&path).unwrap();
        let err = GroundTruth::read(&path).unwrap_err().to_string();
        assert!(
            err.contains("bad.json") && err.contains("appears twice"),
            "{err}"
        );
    }

    #[test]
    fn a_newer_format_version_is_refused() {
        let mut t = sample();
        t.version = FORMAT_VERSION + 1;
        let text = serde_json::to_string(&t).unwrap();
        let err = GroundTruth::from_json(&text, "new.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("new.json") && err.contains("newer"), "{err}");
    }

    #[test]
    fn labels_move_from_the_events_into_the_truth_and_ties_are_broken() {
        let ev = |session: &str, ts: Micros, case: Option<&str>| {
            let mut e = Event::new(session, "vleno", ts, EventKind::Click);
            e.case = case.map(str::to_owned);
            e
        };
        // As in the public logs: tied timestamps, one row out of order, an unlabelled row.
        let mut events = vec![
            ev("a", 100, Some("0")),
            ev("a", 100, Some("0")),
            ev("a", 90, Some("0")),
            ev("a", 150, None),
            ev("a", 200, Some("1")),
            ev("b", 100, Some("0")),
        ];
        let truth = GroundTruth::take_labels(&mut events, "log1", |_| None);
        truth.validate().unwrap();
        assert!(events.iter().all(|e| e.case.is_none()));
        let ts: Vec<Micros> = events.iter().map(|e| e.ts).collect();
        assert_eq!(ts, [90, 100, 101, 150, 200, 100]);
        assert_eq!(truth.routines.len(), 1);
        assert_eq!(truth.routines[0].name, "log1");
        assert_eq!(
            truth.instances.len(),
            3,
            "case 0 of session b is another instance"
        );
        assert_eq!(truth.instances[0].events, [90, 100, 101]);
        assert_eq!((truth.noise_events, truth.total_events), (1, 6));
        assert_eq!(truth.index().instance_of("a", 150), None);
        assert_eq!(truth.index().instance_of("b", 100), Some(3));
    }

    #[test]
    fn labelled_public_logs_convert_to_a_valid_truth() {
        // Leno et al.'s segmented logs (Apache-2.0, see tests/data/leno-rpm/README.md): every row has
        // its true instance in `caseID`, and timestamps tie.
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/leno-rpm");
        for (file, instances) in [
            ("log1_segmented.csv", 100),
            ("StudentRecord_segmented.csv", 50),
        ] {
            let mut store = crate::Store::open_in_memory().unwrap();
            crate::import_file(
                &mut store,
                &dir.join(file),
                &Default::default(),
                &mut |_| {},
            )
            .unwrap();
            let mut events = store.events().unwrap();
            let rows = events.len() as u64;
            let labelled = events.iter().filter(|e| e.case.is_some()).count() as u64;
            let truth = GroundTruth::take_labels(&mut events, file, |_| None);
            truth.validate().unwrap();
            assert_eq!(truth.instances.len(), instances, "{file}");
            assert_eq!(truth.total_events, rows);
            assert_eq!(truth.instance_events(), labelled);
            let index = truth.index();
            let found = events
                .iter()
                .filter(|e| index.instance_of(&e.session, e.ts).is_some())
                .count() as u64;
            assert_eq!(
                found, labelled,
                "{file}: every labelled event has its instance"
            );
        }
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = GroundTruth::read("/nonexistent/truth.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/truth.json"), "{err}");
    }
}
