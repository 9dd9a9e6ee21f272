//! Task mining meets process mining: routine instances linked to the cases of a business process
//! log (an ERP's or CRM's own event log) by the identifiers they share and by time.
//!
//! A [`ProcessLog`] is read from CSV, XES or OCEL 2.0 JSON; every case names its business
//! object(s) by an identifier attribute (`--id-attr`, or the case id itself). [`link`] looks each
//! identifier up in the instances' [`InstanceObjects`] — as plain text, or hashed with the
//! recorder's value key where the policy kept only hashes — and keeps, of the cases that match, the
//! one whose span holds the instance and has an activity nearest to it. The [`LinkReport`] says per
//! process activity which routines do its desktop work, how many desktop minutes a case takes, the
//! share of cases with desktop work and the hours automation would save per case.
//!
//! [`ocel`] writes the instances as an OCEL 2.0 log (JSON or SQLite); [`stored`] keeps reports in
//! the log's database for the server's process page.

pub mod ocel;
pub mod stored;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uilog::{Micros, ValueHash};

use crate::error::{Error, Result};
use crate::mining::Mining;
use crate::objects::InstanceObjects;

/// One event of a process log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessEvent {
    pub activity: String,
    pub ts: Micros,
    pub resource: Option<String>,
    /// 1-based line of the file (0 where the format has no lines worth naming, OCEL JSON).
    pub line: u64,
}

/// One case (or, from OCEL, one object) of a process log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Case {
    pub id: String,
    /// The business identifiers the case names (values of the id attribute).
    pub ids: Vec<String>,
    /// In time order.
    pub events: Vec<ProcessEvent>,
}

impl Case {
    pub fn first_ts(&self) -> Micros {
        self.events.first().map_or(0, |e| e.ts)
    }
    pub fn last_ts(&self) -> Micros {
        self.events.last().map_or(0, |e| e.ts)
    }
    fn first_line(&self) -> u64 {
        self.events.iter().map(|e| e.line).min().unwrap_or(0)
    }
}

/// A process log: cases with their activities and identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProcessLog {
    pub file: PathBuf,
    /// The attribute the identifiers came from (`case` when the case id is the identifier).
    pub id_field: String,
    pub cases: Vec<Case>,
}

fn parse_err(file: &Path, line: u64, field: &str, message: impl Into<String>) -> Error {
    Error::Parse {
        file: file.to_path_buf(),
        line,
        field: field.to_owned(),
        message: message.into(),
    }
}

impl ProcessLog {
    /// Reads a process log, by extension: `.csv`, `.xes`, `.jsonocel`/`.json` (OCEL 2.0). `id_attr`
    /// names the identifier attribute (a column, an event attribute, or an OCEL object type);
    /// without it the case id is the identifier.
    pub fn read(path: &Path, id_attr: Option<&str>) -> Result<ProcessLog> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let log = match ext.as_str() {
            "csv" => read_csv(path, id_attr)?,
            "xes" => read_xes(path, id_attr)?,
            "jsonocel" | "json" => read_ocel(path, id_attr)?,
            _ => {
                return Err(parse_err(
                    path,
                    0,
                    "file",
                    format!(
                        "unknown process log format {ext:?} (expected .csv, .xes or .jsonocel)"
                    ),
                ))
            }
        };
        log.check()?;
        Ok(log)
    }

    /// Refuses a log whose identifiers cannot link unambiguously: no identifier at all, or two
    /// cases naming the same identifier over overlapping spans.
    fn check(&self) -> Result<()> {
        if self.cases.iter().all(|c| c.ids.is_empty()) {
            return Err(parse_err(
                &self.file,
                0,
                &self.id_field,
                "no case has a value for this attribute",
            ));
        }
        let mut by_id: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, c) in self.cases.iter().enumerate() {
            for id in &c.ids {
                by_id.entry(id.as_str()).or_default().push(i);
            }
        }
        let mut ids: Vec<_> = by_id.into_iter().filter(|(_, v)| v.len() > 1).collect();
        ids.sort_unstable();
        for (id, mut cases) in ids {
            cases.sort_unstable_by_key(|&i| self.cases[i].first_ts());
            for w in cases.windows(2) {
                let (a, b) = (&self.cases[w[0]], &self.cases[w[1]]);
                if b.first_ts() <= a.last_ts() {
                    return Err(parse_err(
                        &self.file,
                        b.first_line(),
                        &self.id_field,
                        format!(
                            "cases {:?} and {:?} both name {id:?} and overlap in time (from line {}), so an instance cannot tell them apart",
                            a.id, b.id, a.first_line()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

impl ProcessLog {
    /// The simulator's process log ([`uilog::simulate::ProcessLog`]) with `object_id` as the
    /// identifier, as [`ProcessLog::read`] would read its CSV.
    pub fn from_simulated(sim: &uilog::simulate::ProcessLog, file: &Path) -> ProcessLog {
        ProcessLog {
            file: file.to_path_buf(),
            id_field: "object_id".into(),
            cases: sim
                .cases
                .iter()
                .map(|c| Case {
                    id: c.id.clone(),
                    ids: vec![c.object_id.clone()],
                    events: c
                        .events
                        .iter()
                        .map(|e| ProcessEvent {
                            activity: e.activity.to_owned(),
                            ts: e.ts,
                            resource: (!e.resource.is_empty()).then(|| e.resource.clone()),
                            line: 0,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// Collects events into cases, in first-seen order; events sorted by time.
#[derive(Default)]
struct Builder {
    cases: Vec<Case>,
    index: HashMap<String, usize>,
}

impl Builder {
    fn push(&mut self, case: &str, id: Option<&str>, ev: impl Into<Option<ProcessEvent>>) {
        let at = *self.index.entry(case.to_owned()).or_insert_with(|| {
            self.cases.push(Case {
                id: case.to_owned(),
                ids: Vec::new(),
                events: Vec::new(),
            });
            self.cases.len() - 1
        });
        let c = &mut self.cases[at];
        if let Some(id) = id.map(str::trim).filter(|s| !s.is_empty()) {
            if !c.ids.iter().any(|x| x == id) {
                c.ids.push(id.to_owned());
            }
        }
        if let Some(ev) = ev.into() {
            c.events.push(ev);
        }
    }

    fn finish(mut self, file: &Path, id_field: &str) -> ProcessLog {
        for c in &mut self.cases {
            c.events.sort_by_key(|e| (e.ts, e.line));
        }
        ProcessLog {
            file: file.to_path_buf(),
            id_field: id_field.to_owned(),
            cases: self.cases,
        }
    }
}

const CASE_COLUMNS: &[&str] = &["case:concept:name", "case", "case_id", "caseid", "case id"];
const ACTIVITY_COLUMNS: &[&str] = &["concept:name", "activity", "activity name", "event"];
const TIME_COLUMNS: &[&str] = &["time:timestamp", "timestamp", "time", "start_timestamp"];
const RESOURCE_COLUMNS: &[&str] = &["org:resource", "resource", "user"];

fn read_csv(path: &Path, id_attr: Option<&str>) -> Result<ProcessLog> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut rd = csv::ReaderBuilder::new().flexible(false).from_reader(file);
    let csv_err = |e: csv::Error| {
        let line = e.position().map_or(0, |p| p.line());
        parse_err(path, line, "row", e.to_string())
    };
    let header: Vec<String> = rd
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let find = |names: &[&str]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    };
    let need = |names: &[&str], what: &str| {
        find(names).ok_or_else(|| {
            parse_err(
                path,
                1,
                what,
                format!(
                    "no {what} column (expected one of {}; the header has {})",
                    names.join(", "),
                    header.join(", ")
                ),
            )
        })
    };
    let case = need(CASE_COLUMNS, "case")?;
    let activity = need(ACTIVITY_COLUMNS, "activity")?;
    let time = need(TIME_COLUMNS, "timestamp")?;
    let resource = find(RESOURCE_COLUMNS);
    let (id_col, id_field) = match id_attr {
        None => (case, "case".to_owned()),
        Some(a) => {
            let col = header
                .iter()
                .position(|h| h == a || h == &format!("case:{a}"))
                .ok_or_else(|| {
                    parse_err(
                        path,
                        1,
                        a,
                        format!("no such column (the header has {})", header.join(", ")),
                    )
                })?;
            (col, a.to_owned())
        }
    };
    let mut b = Builder::default();
    let mut rec = csv::StringRecord::new();
    while rd.read_record(&mut rec).map_err(csv_err)? {
        let line = rec.position().map_or(0, |p| p.line());
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let case_id = get(case);
        if case_id.is_empty() {
            return Err(parse_err(path, line, &header[case], "is empty"));
        }
        let ts = uilog::parse_ts(get(time))
            .and_then(uilog::check_ts)
            .map_err(|m| parse_err(path, line, &header[time], m))?;
        let act = get(activity);
        if act.is_empty() {
            return Err(parse_err(path, line, &header[activity], "is empty"));
        }
        let ev = ProcessEvent {
            activity: act.to_owned(),
            ts,
            resource: resource
                .map(get)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
            line,
        };
        b.push(case_id, Some(get(id_col)), ev);
    }
    Ok(b.finish(path, &id_field))
}

fn read_xes(path: &Path, id_attr: Option<&str>) -> Result<ProcessLog> {
    // uilog's XES reader is hardened against hostile files; an in-memory store is its output.
    let mut store = uilog::Store::open_in_memory()?;
    let opts = uilog::ImportOptions {
        format: uilog::Format::Xes,
        ..uilog::ImportOptions::default()
    };
    uilog::import_file(&mut store, path, &opts, &mut |_| {})?;
    let mut b = Builder::default();
    let id_field = id_attr.unwrap_or("case").to_owned();
    let mut seen_attr = id_attr.is_none();
    let mut n = 0u64;
    store.for_each_event(|e| -> Result<()> {
        n += 1;
        let Some(case) = &e.case else {
            return Err(parse_err(
                path,
                0,
                "trace",
                format!("event {n} is in a trace without concept:name"),
            ));
        };
        let id = match id_attr {
            None => Some(case.as_str()),
            Some(a) => {
                let v = e.attrs.get(a).map(String::as_str);
                seen_attr |= v.is_some();
                v
            }
        };
        let ev = ProcessEvent {
            activity: e.attrs.get("event_type").cloned().unwrap_or_default(),
            ts: e.ts,
            resource: (!e.user.is_empty()).then(|| e.user.clone()),
            line: 0,
        };
        b.push(case, id, ev);
        Ok(())
    })?;
    if !seen_attr {
        return Err(parse_err(
            path,
            0,
            &id_field,
            "no event has this attribute (trace-level attributes other than concept:name are not read)",
        ));
    }
    Ok(b.finish(path, &id_field))
}

#[derive(Deserialize)]
struct OcelIn {
    #[serde(default)]
    objects: Vec<OcelObjectIn>,
    #[serde(default)]
    events: Vec<OcelEventIn>,
}

#[derive(Deserialize)]
struct OcelObjectIn {
    id: String,
    #[serde(rename = "type")]
    ty: String,
}

#[derive(Deserialize)]
struct OcelEventIn {
    id: String,
    #[serde(rename = "type")]
    ty: String,
    time: String,
    #[serde(default)]
    relationships: Vec<OcelRelIn>,
}

#[derive(Deserialize)]
struct OcelRelIn {
    #[serde(rename = "objectId")]
    object_id: String,
}

/// OCEL 2.0 JSON: every object of the type `id_attr` (every object, without it) is a case, its
/// events those related to it, its identifier its id.
fn read_ocel(path: &Path, id_attr: Option<&str>) -> Result<ProcessLog> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let log: OcelIn = serde_json::from_str(&text)
        .map_err(|e| parse_err(path, e.line() as u64, "ocel", e.to_string()))?;
    let id_field = id_attr.unwrap_or("object").to_owned();
    let types: HashMap<&str, &str> = log
        .objects
        .iter()
        .map(|o| (o.id.as_str(), o.ty.as_str()))
        .collect();
    if let Some(t) = id_attr {
        if !types.values().any(|&x| x == t) {
            let mut all: Vec<&str> = types.values().copied().collect();
            all.sort_unstable();
            all.dedup();
            return Err(parse_err(
                path,
                0,
                t,
                format!("no object of this type (the log has {})", all.join(", ")),
            ));
        }
    }
    let mut b = Builder::default();
    for e in &log.events {
        let ts = uilog::parse_ts(&e.time)
            .and_then(uilog::check_ts)
            .map_err(|m| parse_err(path, 0, &format!("events[{}].time", e.id), m))?;
        for r in &e.relationships {
            let Some(&ty) = types.get(r.object_id.as_str()) else {
                continue;
            };
            if id_attr.is_some_and(|t| t != ty) {
                continue;
            }
            let ev = ProcessEvent {
                activity: e.ty.clone(),
                ts,
                resource: None,
                line: 0,
            };
            b.push(&r.object_id, Some(&r.object_id), ev);
            // Ids written as `type:identifier` (taskmine's own export) name the identifier too.
            if let Some(bare) = r
                .object_id
                .strip_prefix(ty)
                .and_then(|x| x.strip_prefix(':'))
            {
                b.push(&r.object_id, Some(bare), None);
            }
        }
    }
    Ok(b.finish(path, &id_field))
}

/// How instances and cases are matched.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkOptions {
    /// Keys the identifiers are hashed with to meet value hashes: the recorder's value key
    /// ([`crate::objects::load_value_key`]) and [`ValueHash::IMPORT_KEY`] (imported and simulated
    /// logs) by default.
    pub keys: Vec<[u8; 32]>,
    /// How far before a case's first or after its last event an instance may lie, in seconds.
    pub slack_s: f64,
    /// The largest distance between an instance and the case's nearest activity, in seconds.
    pub max_gap_s: f64,
}

impl Default for LinkOptions {
    fn default() -> Self {
        LinkOptions {
            keys: vec![ValueHash::IMPORT_KEY],
            slack_s: 900.0,
            max_gap_s: 8.0 * 3600.0,
        }
    }
}

/// One routine instance linked to one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Link {
    pub routine: u32,
    /// Index into the routine's instances.
    pub instance: u32,
    /// Index into [`ProcessLog::cases`].
    pub case: usize,
    pub case_id: String,
    /// The identifier they share.
    pub id: String,
    /// The case's activity nearest to the instance.
    pub activity: String,
    /// Seconds between the instance and that activity (0 when it lies inside the instance).
    pub gap_s: f64,
    pub duration_s: f64,
}

/// A routine's part in an activity's desktop work.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutineShare {
    pub routine: u32,
    pub instances: u64,
    /// Share of the activity's linked instances (0–1).
    pub share: f64,
}

/// What the link says about one process activity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityReport {
    pub activity: String,
    /// Cases with this activity.
    pub cases: u64,
    /// Of them, cases with a routine instance linked at this activity.
    pub cases_with_desktop_work: u64,
    pub share_with_desktop_work: f64,
    /// Desktop minutes per case with desktop work.
    pub desktop_minutes_per_case: f64,
    /// Hours a bot would save per case with desktop work: each linked instance's routine's
    /// median duration × automatability.
    pub hours_saved_per_case: f64,
    /// People whose instances are linked at this activity (the server shows its figures only when
    /// they are k or more).
    #[serde(default)]
    pub users: u64,
    pub routines: Vec<RoutineShare>,
}

/// The result of [`link`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkReport {
    pub process_log: PathBuf,
    pub id_field: String,
    pub cases: u64,
    pub cases_linked: u64,
    pub instances: u64,
    pub instances_linked: u64,
    pub links: Vec<Link>,
    /// Ordered by desktop minutes per case, most first.
    pub activities: Vec<ActivityReport>,
}

/// Links routine instances (with their objects, [`crate::objects::extract`]) to the cases of a
/// process log. Fails, naming the file and the field, when no identifier of the log occurs in
/// any instance.
pub fn link(
    mining: &Mining,
    objects: &[InstanceObjects],
    log: &ProcessLog,
    opts: &LinkOptions,
) -> Result<LinkReport> {
    // Identifier (and its hash under each key) → cases naming it.
    let mut by_text: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut by_hash: HashMap<ValueHash, Vec<(usize, usize)>> = HashMap::new();
    for (ci, c) in log.cases.iter().enumerate() {
        for (ii, id) in c.ids.iter().enumerate() {
            by_text.entry(id.as_str()).or_default().push(ci);
            for k in &opts.keys {
                by_hash
                    .entry(ValueHash::keyed(k, id))
                    .or_default()
                    .push((ci, ii));
            }
        }
    }
    let slack = (opts.slack_s * 1e6) as Micros;
    let max_gap = (opts.max_gap_s * 1e6) as Micros;
    let mut links = Vec::new();
    let mut cand: Vec<(usize, String)> = Vec::new();
    for inst in objects {
        cand.clear();
        for t in inst.tokens.iter().chain(inst.objects.iter().map(|o| &o.id)) {
            if let Some(cs) = by_text.get(t.as_str()) {
                cand.extend(cs.iter().map(|&c| (c, t.clone())));
            }
        }
        for h in &inst.hashes {
            if let Some(cs) = by_hash.get(h) {
                cand.extend(cs.iter().map(|&(c, i)| (c, log.cases[c].ids[i].clone())));
            }
        }
        cand.sort_unstable();
        cand.dedup_by_key(|x| x.0);
        let mut best: Option<(Micros, usize, &str, &String)> = None;
        for (c, id) in &cand {
            let case = &log.cases[*c];
            if inst.start_ts < case.first_ts() - slack || inst.end_ts > case.last_ts() + slack {
                continue;
            }
            for e in &case.events {
                let gap = if e.ts < inst.start_ts {
                    inst.start_ts - e.ts
                } else {
                    (e.ts - inst.end_ts).max(0)
                };
                if gap <= max_gap && best.is_none_or(|b| gap < b.0) {
                    best = Some((gap, *c, e.activity.as_str(), id));
                }
            }
        }
        if let Some((gap, c, activity, id)) = best {
            links.push(Link {
                routine: inst.routine,
                instance: inst.instance,
                case: c,
                case_id: log.cases[c].id.clone(),
                id: id.clone(),
                activity: activity.to_owned(),
                gap_s: gap as f64 / 1e6,
                duration_s: (inst.end_ts - inst.start_ts) as f64 / 1e6,
            });
        }
    }
    if links.is_empty() {
        let n: usize = log.cases.iter().map(|c| c.ids.len()).sum();
        let example = log
            .cases
            .iter()
            .find_map(|c| c.ids.first().map(|id| (id, c.first_line())))
            .map(|(id, line)| match line {
                0 => format!(" (the first: {id:?})"),
                _ => format!(" (the first, {id:?}, at line {line})"),
            })
            .unwrap_or_default();
        return Err(parse_err(
            &log.file,
            0,
            &log.id_field,
            format!(
                "none of its {n} identifiers{example} occurs in a routine instance, as text or hashed with the given keys, within a case's time span; is the id attribute right, and is the recorder's key given (--key) when text was hashed?"
            ),
        ));
    }
    let activities = report_activities(mining, log, &links);
    let mut linked_cases: Vec<usize> = links.iter().map(|l| l.case).collect();
    linked_cases.sort_unstable();
    linked_cases.dedup();
    Ok(LinkReport {
        process_log: log.file.clone(),
        id_field: log.id_field.clone(),
        cases: log.cases.len() as u64,
        cases_linked: linked_cases.len() as u64,
        instances: objects.len() as u64,
        instances_linked: links.len() as u64,
        links,
        activities,
    })
}

fn report_activities(mining: &Mining, log: &ProcessLog, links: &[Link]) -> Vec<ActivityReport> {
    let saved_h: HashMap<u32, f64> = mining
        .routines
        .iter()
        .map(|r| {
            (
                r.id,
                r.score.median_duration_s * r.score.automatability / 3600.0,
            )
        })
        .collect();
    let mut cases_with: BTreeMap<&str, u64> = BTreeMap::new();
    for c in &log.cases {
        let mut acts: Vec<&str> = c.events.iter().map(|e| e.activity.as_str()).collect();
        acts.sort_unstable();
        acts.dedup();
        for a in acts {
            *cases_with.entry(a).or_default() += 1;
        }
    }
    let routines: HashMap<u32, &crate::Routine> =
        mining.routines.iter().map(|r| (r.id, r)).collect();
    let user_of = |l: &Link| {
        routines
            .get(&l.routine)
            .and_then(|r| r.instances.get(l.instance as usize))
            .map(|i| i.user.as_str())
    };
    let mut by_activity: BTreeMap<&str, Vec<&Link>> = BTreeMap::new();
    for l in links {
        by_activity.entry(l.activity.as_str()).or_default().push(l);
    }
    let mut out: Vec<ActivityReport> = by_activity
        .into_iter()
        .map(|(activity, ls)| {
            let mut cases: Vec<usize> = ls.iter().map(|l| l.case).collect();
            cases.sort_unstable();
            cases.dedup();
            let with = cases.len() as u64;
            let total = cases_with.get(activity).copied().unwrap_or(with).max(with);
            let mut per_routine: BTreeMap<u32, u64> = BTreeMap::new();
            for l in &ls {
                *per_routine.entry(l.routine).or_default() += 1;
            }
            let mut routines: Vec<RoutineShare> = per_routine
                .into_iter()
                .map(|(routine, n)| RoutineShare {
                    routine,
                    instances: n,
                    share: n as f64 / ls.len() as f64,
                })
                .collect();
            routines.sort_by(|a, b| {
                b.instances
                    .cmp(&a.instances)
                    .then(a.routine.cmp(&b.routine))
            });
            let mut users: Vec<&str> = ls.iter().filter_map(|l| user_of(l)).collect();
            users.sort_unstable();
            users.dedup();
            let minutes: f64 = ls.iter().map(|l| l.duration_s).sum::<f64>() / 60.0;
            let saved: f64 = ls
                .iter()
                .map(|l| saved_h.get(&l.routine).copied().unwrap_or(0.0))
                .sum();
            ActivityReport {
                activity: activity.to_owned(),
                cases: total,
                cases_with_desktop_work: with,
                share_with_desktop_work: with as f64 / total.max(1) as f64,
                desktop_minutes_per_case: minutes / with.max(1) as f64,
                hours_saved_per_case: saved / with.max(1) as f64,
                users: users.len() as u64,
                routines,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.desktop_minutes_per_case
            .total_cmp(&a.desktop_minutes_per_case)
            .then_with(|| a.activity.cmp(&b.activity))
    });
    out
}

/// Precision and recall of instance ↔ case links against a ground truth.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkScore {
    /// Links found (discovered instance → case).
    pub found: u64,
    /// Of them, links whose instance overlaps a true instance of that case.
    pub correct: u64,
    /// True (instance, case) pairs.
    pub truth: u64,
    /// True pairs recovered by at least one correct link.
    pub recovered: u64,
    /// True pairs whose instance some discovered routine instance overlaps (what linking could
    /// reach at most given mining).
    pub reachable: u64,
    pub precision: f64,
    pub recall: f64,
}

/// Scores `links` against true links (`(truth instance id, case id)`, as the simulator's process
/// log knows them). A discovered instance stands for the true instance it overlaps most (events of
/// the truth inside its span, same session). Links of instances that stand for a true instance in
/// `ignore` (one whose identifier the truth cannot place) are not counted.
pub fn score_links(
    mining: &Mining,
    report: &LinkReport,
    truth: &uilog::GroundTruth,
    true_links: &[(u64, String)],
    ignore: &[u64],
) -> LinkScore {
    // Per session: truth instances as (first, last, id).
    let mut spans: HashMap<&str, Vec<(Micros, Micros, u64)>> = HashMap::new();
    for t in &truth.instances {
        if let (Some(&a), Some(&b)) = (t.events.first(), t.events.last()) {
            spans
                .entry(t.session.as_str())
                .or_default()
                .push((a, b, t.id));
        }
    }
    for v in spans.values_mut() {
        v.sort_unstable();
    }
    let by_id: HashMap<u64, &uilog::TruthInstance> =
        truth.instances.iter().map(|t| (t.id, t)).collect();
    let matched = |session: &str, s: Micros, e: Micros| -> Option<u64> {
        let v = spans.get(session)?;
        let from = v.partition_point(|x| x.1 < s);
        v[from..]
            .iter()
            .take_while(|x| x.0 <= e)
            .map(|x| {
                let inside = by_id[&x.2]
                    .events
                    .iter()
                    .filter(|&&t| t >= s && t <= e)
                    .count();
                (inside, std::cmp::Reverse(x.2))
            })
            .max()
            .filter(|m| m.0 > 0)
            .map(|m| m.1 .0)
    };
    let truth_set: HashMap<(u64, &str), ()> = true_links
        .iter()
        .map(|(i, c)| ((*i, c.as_str()), ()))
        .collect();
    let mut recovered: Vec<(u64, &str)> = Vec::new();
    let mut correct = 0u64;
    let mut found = 0u64;
    for l in &report.links {
        let Some(inst) = mining
            .routines
            .iter()
            .find(|r| r.id == l.routine)
            .and_then(|r| r.instances.get(l.instance as usize))
        else {
            continue;
        };
        let t = matched(&inst.session, inst.start_ts, inst.end_ts);
        if t.is_some_and(|t| ignore.contains(&t)) {
            continue;
        }
        found += 1;
        if let Some(t) = t {
            if truth_set.contains_key(&(t, l.case_id.as_str())) {
                correct += 1;
                recovered.push((t, l.case_id.as_str()));
            }
        }
    }
    recovered.sort_unstable();
    recovered.dedup();
    let mut covered: Vec<u64> = mining
        .routines
        .iter()
        .flat_map(|r| &r.instances)
        .filter_map(|i| matched(&i.session, i.start_ts, i.end_ts))
        .collect();
    covered.sort_unstable();
    covered.dedup();
    let reachable = true_links
        .iter()
        .filter(|(i, _)| covered.binary_search(i).is_ok())
        .count() as u64;
    LinkScore {
        found,
        correct,
        truth: true_links.len() as u64,
        recovered: recovered.len() as u64,
        reachable,
        precision: correct as f64 / found.max(1) as f64,
        recall: recovered.len() as f64 / (true_links.len().max(1)) as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn csv_cases_collect_their_ids_and_activities_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "p2p.csv",
            "case:concept:name,concept:name,time:timestamp,org:resource,invoice\n\
             c1,Enter invoice,2026-11-23T09:10:00Z,u01,48213\n\
             c1,Receive invoice,2026-11-23T08:00:00Z,,48213\n\
             c2,Receive invoice,2026-11-23T08:30:00Z,,51234\n",
        );
        let log = ProcessLog::read(&p, Some("invoice")).unwrap();
        assert_eq!(log.cases.len(), 2);
        assert_eq!(log.cases[0].ids, vec!["48213"]);
        assert_eq!(log.cases[0].events[0].activity, "Receive invoice");
        assert_eq!(log.cases[0].events[0].line, 3);
        assert_eq!(log.cases[0].events[1].resource.as_deref(), Some("u01"));
    }

    #[test]
    fn xes_and_ocel_process_logs_give_cases_with_ids() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "p2p.xes",
            r#"<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1.0">
  <trace><string key="concept:name" value="c1"/>
    <event><string key="concept:name" value="Receive invoice"/><date key="time:timestamp" value="2026-11-23T08:00:00Z"/><string key="invoice" value="48213"/></event>
    <event><string key="concept:name" value="Enter invoice"/><date key="time:timestamp" value="2026-11-23T09:00:00Z"/><string key="org:resource" value="u01"/><string key="invoice" value="48213"/></event>
  </trace>
</log>"#,
        );
        let log = ProcessLog::read(&p, Some("invoice")).unwrap();
        assert_eq!(log.cases.len(), 1);
        assert_eq!(log.cases[0].ids, vec!["48213"]);
        assert_eq!(log.cases[0].events[1].activity, "Enter invoice");
        let e = ProcessLog::read(&p, Some("order")).unwrap_err().to_string();
        assert!(e.contains("p2p.xes") && e.contains("field `order`"), "{e}");

        let p = write(
            dir.path(),
            "o.jsonocel",
            r#"{"objectTypes": [], "eventTypes": [], "objects": [{"id": "invoice:48213", "type": "invoice"}, {"id": "u1", "type": "user"}],
               "events": [{"id": "e1", "type": "Enter invoice", "time": "2026-11-23T09:00:00Z",
                           "relationships": [{"objectId": "invoice:48213", "qualifier": "typed"}, {"objectId": "u1", "qualifier": "by"}]}]}"#,
        );
        let log = ProcessLog::read(&p, Some("invoice")).unwrap();
        assert_eq!(log.cases.len(), 1);
        assert_eq!(log.cases[0].ids, vec!["invoice:48213", "48213"]);
        let e = ProcessLog::read(&p, Some("order")).unwrap_err().to_string();
        assert!(e.contains("field `order`: no object of this type"), "{e}");
    }

    #[test]
    fn bad_process_logs_name_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "p.csv",
            "case,activity,timestamp\nc1,A,2026-11-23T09:10:00Z\n",
        );
        let e = ProcessLog::read(&p, Some("invoice"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("p.csv:1: field `invoice`: no such column"),
            "{e}"
        );

        let p = write(
            dir.path(),
            "overlap.csv",
            "case,activity,timestamp,invoice\n\
             c1,A,2026-11-23T09:00:00Z,7\nc1,B,2026-11-23T12:00:00Z,7\n\
             c2,A,2026-11-23T10:00:00Z,7\n",
        );
        let e = ProcessLog::read(&p, Some("invoice"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("overlap.csv:4: field `invoice`") && e.contains("overlap in time"),
            "{e}"
        );

        let p = write(
            dir.path(),
            "time.csv",
            "case,activity,timestamp,invoice\nc1,A,yesterday,7\n",
        );
        let e = ProcessLog::read(&p, Some("invoice"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("time.csv:2: field `timestamp`"), "{e}");

        let p = write(
            dir.path(),
            "empty.csv",
            "case,activity,timestamp,invoice\nc1,A,2026-11-23T09:00:00Z,\n",
        );
        let e = ProcessLog::read(&p, Some("invoice"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("field `invoice`: no case has a value"), "{e}");
    }

    #[test]
    fn an_instance_links_to_the_case_whose_span_holds_it_and_whose_activity_is_nearest() {
        let h = |hh: i64, mm: i64| 1_795_420_800_000_000 + (hh * 3600 + mm * 60) * 1_000_000;
        let ev = |a: &str, ts| ProcessEvent {
            activity: a.into(),
            ts,
            resource: None,
            line: 2,
        };
        let log = ProcessLog {
            file: "p.csv".into(),
            id_field: "invoice".into(),
            cases: vec![
                Case {
                    id: "old".into(),
                    ids: vec!["48213".into()],
                    events: vec![ev("Receive", h(0, 0)), ev("Enter", h(0, 30))],
                },
                Case {
                    id: "new".into(),
                    ids: vec!["48213".into()],
                    events: vec![
                        ev("Receive", h(5, 0)),
                        ev("Enter", h(6, 2)),
                        ev("Pay", h(9, 0)),
                    ],
                },
            ],
        };
        let inst = InstanceObjects {
            routine: 1,
            instance: 0,
            start_ts: h(6, 0),
            end_ts: h(6, 2),
            tokens: vec!["48213".into()],
            ..InstanceObjects::default()
        };
        let mining = Mining {
            summary: Default::default(),
            options: Default::default(),
            actions: Vec::new(),
            start_actions: Vec::new(),
            routines: Vec::new(),
            withheld: 0,
            timings_ms: Vec::new(),
        };
        let r = link(
            &mining,
            std::slice::from_ref(&inst),
            &log,
            &LinkOptions::default(),
        )
        .unwrap();
        assert_eq!(r.links.len(), 1);
        assert_eq!(r.links[0].case_id, "new");
        assert_eq!(r.links[0].activity, "Enter");
        assert_eq!(r.activities[0].cases_with_desktop_work, 1);
        assert!((r.activities[0].share_with_desktop_work - 0.5).abs() < 1e-9);
        assert!((r.activities[0].desktop_minutes_per_case - 2.0).abs() < 1e-9);

        let stranger = InstanceObjects {
            tokens: vec!["99999".into()],
            ..inst
        };
        let e = link(&mining, &[stranger], &log, &LinkOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("p.csv:0: field `invoice`: none of its 2 identifiers"),
            "{e}"
        );
    }
}
