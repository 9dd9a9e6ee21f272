//! OCEL 2.0 JSON (object-centric event log) for tools such as PM4Py and OCPM.
//!
//! Objects are the log's users, sessions, applications and cases (ids `user:N`, `session:N`,
//! `app:N`, `case:N`, named by a `name` attribute; a session relates to its user). Each event has
//! its label ([`event_label`]) as type, its time, its other fields and `attrs` as attributes, and
//! relates to its session, user, application and case. Event types declare the attributes their
//! events carry, which takes a first pass over the log to collect.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;

use crate::error::Result;
use crate::store::{Dictionary, EventRow, Store};

use super::xes::{event_label, RESERVED};
use super::{buffered, finish, out_err, ts_text};

/// Writes the log as OCEL 2.0 JSON. Returns the number of events written.
pub fn write_ocel(store: &Store, out: &mut dyn Write) -> Result<u64> {
    let d = store.dictionary()?;
    // Pass 1: the attributes each event type carries.
    let mut types: BTreeMap<String, BTreeSet<(String, &'static str)>> = BTreeMap::new();
    store.scan(|row| -> Result<()> {
        let (label, attrs) = attributes(&d, &row);
        let set = types.entry(label).or_default();
        for a in attrs {
            set.insert((a.name, a.ty));
        }
        Ok(())
    })?;

    let mut w = buffered(out);
    let mut n = 0u64;
    (|| -> std::io::Result<()> {
        w.write_all(b"{\n\"objectTypes\": [\n")?;
        let named = br#"[{"name": "name", "type": "string"}]"#;
        for (i, ty) in ["user", "session", "application", "case"].iter().enumerate() {
            write!(w, "{}{{\"name\": \"{ty}\", \"attributes\": ", if i > 0 { ",\n" } else { "" })?;
            w.write_all(named)?;
            w.write_all(b"}")?;
        }
        w.write_all(b"\n],\n\"eventTypes\": [\n")?;
        for (i, (label, attrs)) in types.iter().enumerate() {
            w.write_all(if i > 0 { b",\n{\"name\": " } else { b"{\"name\": " })?;
            json_str(&mut w, label)?;
            w.write_all(b", \"attributes\": [")?;
            for (j, (name, ty)) in attrs.iter().enumerate() {
                w.write_all(if j > 0 { b", {\"name\": " } else { b"{\"name\": " })?;
                json_str(&mut w, name)?;
                write!(w, ", \"type\": \"{ty}\"}}")?;
            }
            w.write_all(b"]}")?;
        }
        w.write_all(b"\n],\n\"objects\": [\n")?;
        let mut first = true;
        let mut object = |w: &mut dyn Write, id: String, ty: &str, name: &str, rel: Option<(String, &str)>| {
            let sep: &[u8] = if first { b"" } else { b",\n" };
            first = false;
            w.write_all(sep)?;
            write!(w, "{{\"id\": \"{id}\", \"type\": \"{ty}\", \"attributes\": [{{\"name\": \"name\", \"time\": \"1970-01-01T00:00:00Z\", \"value\": ")?;
            json_str(w, name)?;
            w.write_all(b"}], \"relationships\": [")?;
            if let Some((to, q)) = rel {
                write!(w, "{{\"objectId\": \"{to}\", \"qualifier\": \"{q}\"}}")?;
            }
            w.write_all(b"]}")
        };
        for (i, u) in d.users.iter().enumerate().skip(1) {
            object(&mut w, format!("user:{i}"), "user", u, None)?;
        }
        for (i, s) in d.sessions.iter().enumerate().skip(1) {
            let rel = (s.user != 0).then(|| (format!("user:{}", s.user), "recorded by"));
            object(&mut w, format!("session:{i}"), "session", &s.name, rel)?;
        }
        for (i, a) in d.apps.iter().enumerate().skip(1) {
            object(&mut w, format!("app:{i}"), "application", a, None)?;
        }
        for (i, c) in d.cases.iter().enumerate().skip(1) {
            object(&mut w, format!("case:{i}"), "case", c, None)?;
        }
        w.write_all(b"\n],\n\"events\": [\n")?;
        Ok(())
    })()
    .map_err(out_err)?;

    // Pass 2: the events.
    store.scan(|row| -> Result<()> {
        let (label, attrs) = attributes(&d, &row);
        let time = ts_text(row.ts)?;
        let user = d.sessions.get(row.session as usize).map(|s| s.user).unwrap_or(0);
        (|| -> std::io::Result<()> {
            if n > 0 {
                w.write_all(b",\n")?;
            }
            write!(w, "{{\"id\": \"e{}\", \"type\": ", row.id)?;
            json_str(&mut w, &label)?;
            write!(w, ", \"time\": \"{}\", \"attributes\": [", time)?;
            for (i, a) in attrs.iter().enumerate() {
                w.write_all(if i > 0 { b", {\"name\": " } else { b"{\"name\": " })?;
                json_str(&mut w, &a.name)?;
                w.write_all(b", \"value\": ")?;
                // The OCEL 2.0 JSON schema (the specification's section 8.2) types every value
                // as a string; the declared attribute type says how to read it.
                match a.int {
                    Some(v) => write!(w, "\"{v}\"")?,
                    None => json_str(&mut w, &a.value)?,
                }
                w.write_all(b"}")?;
            }
            write!(w, "], \"relationships\": [{{\"objectId\": \"session:{}\", \"qualifier\": \"session\"}}", row.session)?;
            if user != 0 {
                write!(w, ", {{\"objectId\": \"user:{user}\", \"qualifier\": \"user\"}}")?;
            }
            if row.app != 0 && d.apps.get(row.app as usize).is_some_and(|a| !a.is_empty()) {
                write!(w, ", {{\"objectId\": \"app:{}\", \"qualifier\": \"application\"}}", row.app)?;
            }
            if row.case != 0 {
                write!(w, ", {{\"objectId\": \"case:{}\", \"qualifier\": \"case\"}}", row.case)?;
            }
            w.write_all(b"]}")
        })()
        .map_err(out_err)?;
        n += 1;
        Ok(())
    })?;
    w.write_all(b"\n]\n}\n").map_err(out_err)?;
    finish(w)?;
    Ok(n)
}

struct Attr {
    name: String,
    ty: &'static str,
    value: String,
    int: Option<i32>,
}

/// An event's label and attributes, the same in both passes.
fn attributes(d: &Dictionary, row: &EventRow<'_>) -> (String, Vec<Attr>) {
    let attrs: BTreeMap<String, String> = row
        .attrs
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let name = |v: &[String], i: u32| v.get(i as usize).cloned().unwrap_or_default();
    let app = name(&d.apps, row.app);
    let label = event_label(row.kind, &app, &attrs);
    let mut out = Vec::new();
    let mut text = |key: &str, value: String| {
        if !value.is_empty() {
            out.push(Attr {
                name: key.to_owned(),
                ty: "string",
                value,
                int: None,
            });
        }
    };
    text("kind", row.kind.as_str().to_owned());
    text("window", name(&d.windows, row.window));
    if let Some(Some(el)) = d.elements.get(row.element as usize) {
        text("element_role", el.role.clone().unwrap_or_default());
        text("element_name", el.name.clone().unwrap_or_default());
        text("element_id", el.id.clone().unwrap_or_default());
        text("element_path", el.path.clone().unwrap_or_default());
    }
    text("text", row.text.unwrap_or("").to_owned());
    text(
        "value_hash",
        row.value_hash.map(|h| h.to_string()).unwrap_or_default(),
    );
    if let Some(s) = d.sessions.get(row.session as usize) {
        text("host", name(&d.hosts, s.host));
    }
    for (k, v) in attrs {
        if RESERVED.contains(&k.as_str()) {
            text(&format!("attr:{k}"), v);
        } else {
            text(&k, v);
        }
    }
    for (key, v) in [("x", row.x), ("y", row.y), ("wx", row.wx), ("wy", row.wy)] {
        if let Some(v) = v {
            out.push(Attr {
                name: key.to_owned(),
                ty: "integer",
                value: String::new(),
                int: Some(v),
            });
        }
    }
    (label, out)
}

fn json_str(w: &mut dyn Write, s: &str) -> std::io::Result<()> {
    serde_json::to_writer(w, s).map_err(std::io::Error::from)
}
