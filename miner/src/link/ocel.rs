//! Routine instances as an OCEL 2.0 object-centric event log, in the standard's JSON and SQLite
//! layouts (<https://www.ocel-standard.org/>), for PM4Py, OCPM and the like.
//!
//! Events are routine instances: the type is the routine's name ([`crate::naming::routine_names`], as
//! `mine` shows it), the time its start, the attributes its routine id, duration, variant and
//! event count. Objects are the users (pseudonyms), the applications and the business objects
//! found in the instances ([`crate::objects`]), typed by the pattern that found them. Event-to-object qualifiers say how
//! the instance touched the object (`performed by`, `uses`, and for business objects where the
//! identifier was seen: `typed`, `pasted`, `title`, …); object-to-object relations say which user
//! handled a business object (`handled by`) and which applications a user works in (`works in`).
//!
//! uilog's own OCEL writer ([`uilog::export::write_ocel`]) exports the raw UI log instead; it
//! cannot know routines, since uilog knows nothing of mining.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::Path;

use rusqlite::{params_from_iter, Connection};
use serde::Serialize;
use uilog::Micros;

use crate::error::{Error, Result};
use crate::mining::Mining;
use crate::objects::InstanceObjects;

/// An attribute value; OCEL types `string`, `integer`, `float`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Str(String),
    Int(i64),
    Float(f64),
}

impl Value {
    /// The OCEL 2.0 JSON schema (the specification's section 8.2) types every attribute value as
    /// a string; the declared attribute type says how to read it.
    fn text(&self) -> String {
        match self {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
        }
    }

    fn ocel_type(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::Int(_) => "integer",
            Value::Float(_) => "float",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub id: String,
    pub ty: String,
    pub attrs: Vec<(String, Value)>,
    /// (target object id, qualifier).
    pub relations: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: String,
    pub ty: String,
    pub time: Micros,
    pub attrs: Vec<(String, Value)>,
    /// (object id, qualifier).
    pub relations: Vec<(String, String)>,
}

/// An OCEL 2.0 log in memory, written by [`write_json`] and [`write_sqlite`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OcelLog {
    pub objects: Vec<Object>,
    pub events: Vec<Event>,
}

/// Builds the instance-level log from a mining result and the objects of its instances. Instances
/// extracted with steps ([`crate::objects::extract_with_steps`]) add one event per UI event
/// (type `paste in tryton`), related to the instance (then also an object, type
/// `routine instance`, qualifier `step of`), its user, its application and the business objects
/// seen in it.
pub fn build(mining: &Mining, objects: &[InstanceObjects]) -> OcelLog {
    let names: HashMap<u32, String> = mining
        .routines
        .iter()
        .map(|r| r.id)
        .zip(crate::naming::routine_names(mining))
        .collect();
    let variants: HashMap<(u32, u32), u32> = mining
        .routines
        .iter()
        .flat_map(|r| {
            r.instances
                .iter()
                .enumerate()
                .map(move |(k, i)| ((r.id, k as u32), i.variant))
        })
        .collect();
    let mut users: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let mut business: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    let mut events = Vec::with_capacity(objects.len());
    for inst in objects {
        let mut relations = vec![(format!("user:{}", inst.user), "performed by".to_owned())];
        let apps = users.entry(inst.user.as_str()).or_default();
        for a in &inst.apps {
            apps.insert(a.as_str());
            relations.push((format!("application:{a}"), "uses".to_owned()));
        }
        for o in &inst.objects {
            business
                .entry((o.object_type.as_str(), o.id.as_str()))
                .or_default()
                .insert(inst.user.as_str());
            let id = format!("{}:{}", o.object_type, o.id);
            if !relations.iter().any(|(r, _)| *r == id) {
                relations.push((id, o.source.as_str().to_owned()));
            }
        }
        let duration = (inst.end_ts - inst.start_ts) as f64 / 1e6;
        events.push(Event {
            id: format!("routine-{}-instance-{}", inst.routine, inst.instance + 1),
            ty: names
                .get(&inst.routine)
                .cloned()
                .unwrap_or_else(|| format!("routine {}", inst.routine)),
            time: inst.start_ts,
            attrs: vec![
                ("routine".into(), Value::Int(inst.routine.into())),
                ("duration_s".into(), Value::Float(duration)),
                (
                    "variant".into(),
                    Value::Int(
                        variants
                            .get(&(inst.routine, inst.instance))
                            .copied()
                            .unwrap_or(0)
                            .into(),
                    ),
                ),
                ("session".into(), Value::Str(inst.session.clone())),
            ],
            relations,
        });
    }
    let mut business_ids: BTreeSet<String> = BTreeSet::new();
    for (ty, id) in business.keys() {
        business_ids.insert(format!("{ty}:{id}"));
    }
    let mut instances: Vec<Object> = Vec::new();
    for inst in objects.iter().filter(|i| !i.steps.is_empty()) {
        // With steps, an instance is also an object, so that its steps can relate to it.
        let instance_id = format!("routine-{}-instance-{}", inst.routine, inst.instance + 1);
        instances.push(Object {
            id: instance_id.clone(),
            ty: "routine instance".into(),
            attrs: vec![("routine".into(), Value::Int(inst.routine.into()))],
            relations: vec![(format!("user:{}", inst.user), "performed by".to_owned())],
        });
        for (n, st) in inst.steps.iter().enumerate() {
            let mut relations = vec![
                (instance_id.clone(), "step of".to_owned()),
                (format!("user:{}", inst.user), "performed by".to_owned()),
            ];
            if !st.app.is_empty() {
                relations.push((format!("application:{}", st.app), "in".to_owned()));
            }
            for o in &st.objects {
                // A generic number that a specific pattern also typed was dropped from the objects.
                if business_ids.contains(o) {
                    relations.push((o.clone(), "seen".to_owned()));
                }
            }
            events.push(Event {
                id: format!("{instance_id}-step-{}", n + 1),
                ty: if st.app.is_empty() {
                    st.kind.as_str().to_owned()
                } else {
                    format!("{} in {}", st.kind, st.app)
                },
                time: st.ts,
                attrs: vec![("routine".into(), Value::Int(inst.routine.into()))],
                relations,
            });
        }
    }
    events.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    let mut out = OcelLog {
        objects: Vec::new(),
        events,
    };
    let mut apps: BTreeSet<&str> = BTreeSet::new();
    for (user, used) in &users {
        apps.extend(used.iter().copied());
        out.objects.push(Object {
            id: format!("user:{user}"),
            ty: "user".into(),
            attrs: vec![("name".into(), Value::Str((*user).to_owned()))],
            relations: used
                .iter()
                .map(|a| (format!("application:{a}"), "works in".to_owned()))
                .collect(),
        });
    }
    for a in apps {
        out.objects.push(Object {
            id: format!("application:{a}"),
            ty: "application".into(),
            attrs: vec![("name".into(), Value::Str(a.to_owned()))],
            relations: Vec::new(),
        });
    }
    for ((ty, id), by) in business {
        out.objects.push(Object {
            id: format!("{ty}:{id}"),
            ty: ty.to_owned(),
            attrs: vec![("identifier".into(), Value::Str(id.to_owned()))],
            relations: by
                .iter()
                .map(|u| (format!("user:{u}"), "handled by".to_owned()))
                .collect(),
        });
    }
    out.objects.extend(instances);
    out
}

/// The attributes each type declares: (type, [(attribute, OCEL type)]), sorted.
fn declared<'a>(
    items: impl Iterator<Item = (&'a str, &'a [(String, Value)])>,
) -> BTreeMap<&'a str, BTreeMap<&'a str, &'static str>> {
    let mut out: BTreeMap<&str, BTreeMap<&str, &'static str>> = BTreeMap::new();
    for (ty, attrs) in items {
        let decl = out.entry(ty).or_default();
        for (name, v) in attrs {
            decl.insert(name.as_str(), v.ocel_type());
        }
    }
    out
}

/// Object attributes carry a time in OCEL 2.0; ours never change, so they hold from the epoch.
const SINCE: &str = "1970-01-01T00:00:00Z";

fn out_err(e: std::io::Error) -> Error {
    Error::Io {
        path: "<ocel output>".into(),
        source: e,
    }
}

/// Writes the log as OCEL 2.0 JSON.
pub fn write_json(log: &OcelLog, out: &mut dyn Write) -> Result<()> {
    #[derive(Serialize)]
    struct TypeDecl<'a> {
        name: &'a str,
        attributes: Vec<AttrDecl<'a>>,
    }
    #[derive(Serialize)]
    struct AttrDecl<'a> {
        name: &'a str,
        #[serde(rename = "type")]
        ty: &'a str,
    }
    #[derive(Serialize)]
    struct Rel<'a> {
        #[serde(rename = "objectId")]
        object_id: &'a str,
        qualifier: &'a str,
    }
    #[derive(Serialize)]
    struct ObjAttr<'a> {
        name: &'a str,
        time: &'a str,
        value: String,
    }
    #[derive(Serialize)]
    struct EvAttr<'a> {
        name: &'a str,
        value: String,
    }
    #[derive(Serialize)]
    struct Obj<'a> {
        id: &'a str,
        #[serde(rename = "type")]
        ty: &'a str,
        attributes: Vec<ObjAttr<'a>>,
        relationships: Vec<Rel<'a>>,
    }
    #[derive(Serialize)]
    struct Ev<'a> {
        id: &'a str,
        #[serde(rename = "type")]
        ty: &'a str,
        time: String,
        attributes: Vec<EvAttr<'a>>,
        relationships: Vec<Rel<'a>>,
    }
    #[derive(Serialize)]
    struct Doc<'a> {
        #[serde(rename = "objectTypes")]
        object_types: Vec<TypeDecl<'a>>,
        #[serde(rename = "eventTypes")]
        event_types: Vec<TypeDecl<'a>>,
        objects: Vec<Obj<'a>>,
        events: Vec<Ev<'a>>,
    }
    fn decls<'a>(m: BTreeMap<&'a str, BTreeMap<&'a str, &'static str>>) -> Vec<TypeDecl<'a>> {
        m.into_iter()
            .map(|(name, attrs)| TypeDecl {
                name,
                attributes: attrs
                    .into_iter()
                    .map(|(name, ty)| AttrDecl { name, ty })
                    .collect(),
            })
            .collect()
    }
    fn rels(r: &[(String, String)]) -> Vec<Rel<'_>> {
        r.iter()
            .map(|(o, q)| Rel {
                object_id: o,
                qualifier: q,
            })
            .collect()
    }
    let doc = Doc {
        object_types: decls(declared(
            log.objects.iter().map(|o| (o.ty.as_str(), &o.attrs[..])),
        )),
        event_types: decls(declared(
            log.events.iter().map(|e| (e.ty.as_str(), &e.attrs[..])),
        )),
        objects: log
            .objects
            .iter()
            .map(|o| Obj {
                id: &o.id,
                ty: &o.ty,
                attributes: o
                    .attrs
                    .iter()
                    .map(|(name, value)| ObjAttr {
                        name,
                        time: SINCE,
                        value: value.text(),
                    })
                    .collect(),
                relationships: rels(&o.relations),
            })
            .collect(),
        events: log
            .events
            .iter()
            .map(|e| Ev {
                id: &e.id,
                ty: &e.ty,
                time: uilog::format_ts(e.time),
                attributes: e
                    .attrs
                    .iter()
                    .map(|(name, value)| EvAttr {
                        name,
                        value: value.text(),
                    })
                    .collect(),
                relationships: rels(&e.relations),
            })
            .collect(),
    };
    let mut w = std::io::BufWriter::with_capacity(256 * 1024, out);
    serde_json::to_writer(&mut w, &doc).map_err(|e| out_err(e.into()))?;
    w.write_all(b"\n").map_err(out_err)?;
    w.flush().map_err(out_err)
}

/// The table-name form of a type (`ocel_type_map`): letters and digits only, made unique.
fn type_maps<'a>(types: impl Iterator<Item = &'a str>) -> BTreeMap<&'a str, String> {
    let mut out = BTreeMap::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    for t in types {
        if out.contains_key(t) {
            continue;
        }
        let base: String = t.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        let base = if base.is_empty() {
            "type".to_owned()
        } else {
            base
        };
        let mut name = base.clone();
        let mut n = 1;
        while !used.insert(name.to_ascii_lowercase()) {
            n += 1;
            name = format!("{base}{n}");
        }
        out.insert(t, name);
    }
    out
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Writes the log as an OCEL 2.0 SQLite database at `path`, which must not exist yet (a file
/// written half is removed).
pub fn write_sqlite(log: &OcelLog, path: &Path) -> Result<()> {
    if path.exists() {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "exists; the OCEL SQLite export writes a new file",
            ),
        });
    }
    let result = write_sqlite_new(log, path);
    if result.is_err() {
        let _ = std::fs::remove_file(path);
    }
    result
}

fn write_sqlite_new(log: &OcelLog, path: &Path) -> Result<()> {
    let sql = |source| Error::Sqlite {
        path: path.to_path_buf(),
        source,
    };
    let mut conn = Connection::open(path).map_err(sql)?;
    let tx = conn.transaction().map_err(sql)?;
    tx.execute_batch(
        "CREATE TABLE event (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
         CREATE TABLE event_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
         CREATE TABLE object (ocel_id TEXT PRIMARY KEY, ocel_type TEXT);
         CREATE TABLE object_map_type (ocel_type TEXT PRIMARY KEY, ocel_type_map TEXT);
         CREATE TABLE event_object (ocel_event_id TEXT, ocel_object_id TEXT, ocel_qualifier TEXT,
             PRIMARY KEY (ocel_event_id, ocel_object_id, ocel_qualifier));
         CREATE TABLE object_object (ocel_source_id TEXT, ocel_target_id TEXT, ocel_qualifier TEXT,
             PRIMARY KEY (ocel_source_id, ocel_target_id, ocel_qualifier));",
    )
    .map_err(sql)?;
    let events = log.events.iter().map(|e| Item {
        id: &e.id,
        ty: &e.ty,
        time: Some(e.time),
        attrs: &e.attrs,
        relations: &e.relations,
    });
    write_typed(&tx, &EVENT_TABLES, events).map_err(sql)?;
    let objects = log.objects.iter().map(|o| Item {
        id: &o.id,
        ty: &o.ty,
        time: None,
        attrs: &o.attrs,
        relations: &o.relations,
    });
    write_typed(&tx, &OBJECT_TABLES, objects).map_err(sql)?;
    tx.commit().map_err(sql)
}

/// Where the OCEL 2.0 SQLite layout keeps events or objects: the list (`event`), the type map, one
/// table per type (`event_<map>`) whose leading columns differ between the two, and the relations.
struct TypedTables {
    kind: &'static str,
    /// The per-type table's leading columns, declared, named, and the values they get.
    head_decl: &'static str,
    head_cols: &'static str,
    head_vals: &'static str,
    relations: &'static str,
}

const EVENT_TABLES: TypedTables = TypedTables {
    kind: "event",
    head_decl: "ocel_id TEXT PRIMARY KEY, ocel_time TIMESTAMP",
    head_cols: "ocel_id, ocel_time",
    head_vals: "?, ?",
    relations: "event_object",
};

const OBJECT_TABLES: TypedTables = TypedTables {
    kind: "object",
    head_decl: "ocel_id TEXT, ocel_time TIMESTAMP, ocel_changed_field TEXT",
    head_cols: "ocel_id, ocel_time, ocel_changed_field",
    head_vals: "?, ?, NULL",
    relations: "object_object",
};

/// An event or object as [`write_typed`] stores it.
struct Item<'a> {
    id: &'a str,
    ty: &'a str,
    /// An event's time; objects' attributes hold [`SINCE`].
    time: Option<Micros>,
    attrs: &'a [(String, Value)],
    relations: &'a [(String, String)],
}

/// Writes events or objects in the OCEL 2.0 SQLite layout `t`.
fn write_typed<'a>(
    tx: &rusqlite::Transaction<'_>,
    t: &TypedTables,
    items: impl Iterator<Item = Item<'a>> + Clone,
) -> rusqlite::Result<()> {
    let sql_type = |ty: &str| match ty {
        "integer" => "INTEGER",
        "float" => "REAL",
        _ => "TEXT",
    };
    let value = |v: &Value| match v {
        Value::Str(s) => rusqlite::types::Value::Text(s.clone()),
        Value::Int(i) => rusqlite::types::Value::Integer(*i),
        Value::Float(f) => rusqlite::types::Value::Real(*f),
    };
    let kind = t.kind;
    let decl = declared(items.clone().map(|i| (i.ty, i.attrs)));
    let maps = type_maps(decl.keys().copied());
    for (ty, attrs) in &decl {
        let map = &maps[ty];
        tx.execute(
            &format!("INSERT INTO {kind}_map_type VALUES (?1, ?2)"),
            [ty, map.as_str()],
        )?;
        let cols: String = attrs
            .iter()
            .map(|(a, ty)| format!(", {} {}", quote(a), sql_type(ty)))
            .collect();
        tx.execute_batch(&format!(
            "CREATE TABLE {} ({}{cols});",
            quote(&format!("{kind}_{map}")),
            t.head_decl
        ))?;
    }
    for item in items {
        tx.prepare_cached(&format!("INSERT INTO {kind} VALUES (?1, ?2)"))?
            .execute([item.id, item.ty])?;
        let attrs = &decl[item.ty];
        let cols: String = attrs.keys().map(|a| format!(", {}", quote(a))).collect();
        let marks: String = attrs.keys().map(|_| ", ?").collect();
        let mut vals = vec![
            rusqlite::types::Value::Text(item.id.to_owned()),
            rusqlite::types::Value::Text(
                item.time.map_or_else(|| SINCE.to_owned(), uilog::format_ts),
            ),
        ];
        for a in attrs.keys() {
            vals.push(
                item.attrs
                    .iter()
                    .find(|(n, _)| n == a)
                    .map_or(rusqlite::types::Value::Null, |(_, v)| value(v)),
            );
        }
        tx.prepare_cached(&format!(
            "INSERT INTO {} ({}{cols}) VALUES ({}{marks})",
            quote(&format!("{kind}_{}", maps[item.ty])),
            t.head_cols,
            t.head_vals
        ))?
        .execute(params_from_iter(vals))?;
        for (other, q) in item.relations {
            tx.prepare_cached(&format!(
                "INSERT OR IGNORE INTO {} VALUES (?1, ?2, ?3)",
                t.relations
            ))?
            .execute([item.id, other, q])?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_maps_are_alphanumeric_and_unique() {
        let m = type_maps(["routine 1: a → b", "routine 1: a - b", "user"].into_iter());
        assert_eq!(m["routine 1: a → b"], "routine1ab");
        assert_eq!(m["routine 1: a - b"], "routine1ab2");
        assert_eq!(m["user"], "user");
    }
}
