//! IEEE 1849 XES for process-mining tools.
//!
//! Each event's `concept:name` is its label ([`event_label`]: the source's `event_type` when it has
//! one, else `kind@app`), with `time:timestamp` (UTC, `+00:00`), `org:resource` (the user) and the
//! other fields as string, int and date attributes; `attrs` follow under their own keys (`attr:`
//! prefixed when a key would shadow a field). Values are escaped, and characters XML 1.0 cannot
//! hold are replaced by U+FFFD, so the output is always well-formed.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write;
use std::str::FromStr;

use crate::error::Result;
use crate::event::EventKind;
use crate::import::xes::TRACE_KIND_KEY;
use crate::log_store::LogRead;
use crate::store::{Dictionary, EventRow};

use super::{buffered, finish, out_err, ts_text};

/// What one XES trace holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TraceBy {
    /// One trace per recording session (and user and host).
    #[default]
    Session,
    /// One trace per known case (a labelled task instance); a session's events without a case go
    /// into one more trace named `<session> (no case)`.
    Case,
}

impl fmt::Display for TraceBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TraceBy::Session => "session",
            TraceBy::Case => "case",
        })
    }
}

impl FromStr for TraceBy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "session" => Ok(TraceBy::Session),
            "case" => Ok(TraceBy::Case),
            _ => Err(format!(
                "unknown trace grouping {s:?} (expected session or case)"
            )),
        }
    }
}

/// The activity name an event gets in XES: the source's own event type when the log has one
/// (imported logs), else `kind@app` (`click@firefox`), or the kind alone without an app.
pub fn event_label(kind: EventKind, app: &str, attrs: &BTreeMap<String, String>) -> String {
    match attrs.get("event_type") {
        Some(t) if !t.is_empty() => t.clone(),
        _ if app.is_empty() => kind.as_str().to_owned(),
        _ => format!("{}@{app}", kind.as_str()),
    }
}

/// Attribute keys the exporter writes itself; an `attrs` key equal to one is written as `attr:<key>`.
pub(super) const RESERVED: [&str; 21] = [
    "concept:name",
    "time:timestamp",
    "org:resource",
    "kind",
    "app",
    "window",
    "element_role",
    "element_name",
    "element_id",
    "element_path",
    "x",
    "y",
    "wx",
    "wy",
    "text",
    "value_hash",
    "case",
    "host",
    "session",
    "user",
    "event_label",
];

/// Writes the log as XES with one trace per session or per case. Returns the number of events.
pub fn write_xes(store: &dyn LogRead, out: &mut dyn Write, by: TraceBy) -> Result<u64> {
    let d = store.dictionary()?;
    let names = TraceNames::new(&d);
    let mut w = buffered(out);
    w.write_all(HEADER.as_bytes()).map_err(out_err)?;

    let mut n = 0u64;
    let mut current: Option<u32> = None;
    let mut ev = Vec::with_capacity(1024);
    // Case mode: the current session's events, rendered, per case in order of first appearance.
    let mut by_case: HashMap<u32, Vec<u8>> = HashMap::new();
    let mut case_order: Vec<u32> = Vec::new();
    store.visit_rows(&mut |row| -> Result<()> {
        if current != Some(row.session) {
            if let Some(s) = current {
                match by {
                    TraceBy::Session => w.write_all(b"\t</trace>\n").map_err(out_err)?,
                    TraceBy::Case => {
                        flush_cases(&mut w, &d, &names, s, &mut by_case, &mut case_order)?
                    }
                }
            }
            current = Some(row.session);
            if by == TraceBy::Session {
                let mut head = Vec::new();
                open_trace(
                    &mut head,
                    "session",
                    &names.session[row.session as usize],
                    &d,
                    row.session,
                );
                w.write_all(&head).map_err(out_err)?;
            }
        }
        ev.clear();
        render_event(&mut ev, &d, &row, by == TraceBy::Session, &ts_text(row.ts)?);
        match by {
            TraceBy::Session => w.write_all(&ev).map_err(out_err)?,
            TraceBy::Case => {
                let buf = by_case.entry(row.case).or_insert_with(|| {
                    case_order.push(row.case);
                    Vec::new()
                });
                buf.extend_from_slice(&ev);
            }
        }
        n += 1;
        Ok(())
    })?;
    if let Some(s) = current {
        match by {
            TraceBy::Session => w.write_all(b"\t</trace>\n").map_err(out_err)?,
            TraceBy::Case => flush_cases(&mut w, &d, &names, s, &mut by_case, &mut case_order)?,
        }
    }
    w.write_all(b"</log>\n").map_err(out_err)?;
    finish(w)?;
    Ok(n)
}

const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="nested-attributes">
	<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
	<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
	<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
	<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
	<global scope="trace">
		<string key="concept:name" value="__INVALID__"/>
	</global>
	<global scope="event">
		<string key="concept:name" value="__INVALID__"/>
		<date key="time:timestamp" value="1970-01-01T00:00:00.000000+00:00"/>
	</global>
	<classifier name="Activity" keys="concept:name"/>
	<string key="concept:name" value="taskmine UI log"/>
"#;

/// Trace names that are unique in the file: a session's name, or `name/user[/host]` where two
/// sessions share a name; a case's name, or `session trace/case` where two sessions share one.
struct TraceNames {
    session: Vec<String>,
    case_shared: Vec<bool>,
}

impl TraceNames {
    fn new(d: &Dictionary) -> TraceNames {
        let mut count: HashMap<&str, usize> = HashMap::new();
        for s in d.sessions.iter().skip(1) {
            *count.entry(&s.name).or_default() += 1;
        }
        let name = |v: &[String], i: u32| v.get(i as usize).cloned().unwrap_or_default();
        let session = d
            .sessions
            .iter()
            .map(|s| {
                if count.get(s.name.as_str()).copied().unwrap_or(0) <= 1 {
                    return s.name.clone();
                }
                let mut n = format!("{}/{}", s.name, name(&d.users, s.user));
                let host = name(&d.hosts, s.host);
                if !host.is_empty() {
                    n.push('/');
                    n.push_str(&host);
                }
                n
            })
            .collect();
        let mut cases: HashMap<&str, usize> = HashMap::new();
        for c in d.cases.iter().skip(1) {
            *cases.entry(c).or_default() += 1;
        }
        let case_shared = d
            .cases
            .iter()
            .map(|c| cases.get(c.as_str()).copied().unwrap_or(0) > 1)
            .collect();
        TraceNames {
            session,
            case_shared,
        }
    }
}

/// `kind` is written as `taskmine:trace` (before the name) so that our XES importer takes only
/// case traces' names as cases.
fn open_trace(out: &mut Vec<u8>, kind: &str, name: &str, d: &Dictionary, session: u32) {
    out.extend_from_slice(b"\t<trace>\n");
    attr(out, 2, "string", TRACE_KIND_KEY, kind);
    attr(out, 2, "string", "concept:name", name);
    if let Some(s) = d.sessions.get(session as usize) {
        attr(out, 2, "string", "session", &s.name);
        if let Some(u) = d.users.get(s.user as usize) {
            attr(out, 2, "string", "org:resource", u);
        }
        if let Some(h) = d.hosts.get(s.host as usize).filter(|h| !h.is_empty()) {
            attr(out, 2, "string", "host", h);
        }
    }
}

fn flush_cases(
    w: &mut impl Write,
    d: &Dictionary,
    names: &TraceNames,
    session: u32,
    by_case: &mut HashMap<u32, Vec<u8>>,
    order: &mut Vec<u32>,
) -> Result<()> {
    let session_name = &names.session[session as usize];
    for case in order.drain(..) {
        let events = by_case.remove(&case).unwrap_or_default();
        let kind = if case == 0 { "uncased" } else { "case" };
        let name = if case == 0 {
            format!("{session_name} (no case)")
        } else {
            let c = d.cases.get(case as usize).map(String::as_str).unwrap_or("");
            if names
                .case_shared
                .get(case as usize)
                .copied()
                .unwrap_or(false)
            {
                format!("{session_name}/{c}")
            } else {
                c.to_owned()
            }
        };
        let mut head = Vec::new();
        open_trace(&mut head, kind, &name, d, session);
        w.write_all(&head).map_err(out_err)?;
        w.write_all(&events).map_err(out_err)?;
        w.write_all(b"\t</trace>\n").map_err(out_err)?;
    }
    Ok(())
}

fn render_event(out: &mut Vec<u8>, d: &Dictionary, row: &EventRow<'_>, with_case: bool, ts: &str) {
    let attrs: BTreeMap<String, String> = row
        .attrs
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or_default();
    let app = name(&d.apps, row.app);
    let session = d.sessions.get(row.session as usize);
    out.extend_from_slice(b"\t\t<event>\n");
    attr(
        out,
        3,
        "string",
        "concept:name",
        &event_label(row.kind, app, &attrs),
    );
    let ts = ts
        .strip_suffix('Z')
        .map(|t| format!("{t}+00:00"))
        .unwrap_or_else(|| ts.to_owned());
    attr(out, 3, "date", "time:timestamp", &ts);
    if let Some(s) = session {
        attr(out, 3, "string", "org:resource", name(&d.users, s.user));
    }
    attr(out, 3, "string", "kind", row.kind.as_str());
    let mut opt = |key: &str, v: &str| {
        if !v.is_empty() {
            attr(out, 3, "string", key, v);
        }
    };
    opt("app", app);
    opt("window", name(&d.windows, row.window));
    if let Some(Some(el)) = d.elements.get(row.element as usize) {
        opt("element_role", el.role.as_deref().unwrap_or(""));
        opt("element_name", el.name.as_deref().unwrap_or(""));
        opt("element_id", el.id.as_deref().unwrap_or(""));
        opt("element_path", el.path.as_deref().unwrap_or(""));
    }
    opt("text", row.text.unwrap_or(""));
    if let Some(h) = row.value_hash {
        opt("value_hash", &h.to_string());
    }
    if with_case && row.case != 0 {
        opt("case", name(&d.cases, row.case));
    }
    for (key, v) in [("x", row.x), ("y", row.y), ("wx", row.wx), ("wy", row.wy)] {
        if let Some(v) = v {
            attr(out, 3, "int", key, &v.to_string());
        }
    }
    for (k, v) in &attrs {
        if RESERVED.contains(&k.as_str()) {
            attr(out, 3, "string", &format!("attr:{k}"), v);
        } else {
            attr(out, 3, "string", k, v);
        }
    }
    out.extend_from_slice(b"\t\t</event>\n");
}

fn name(v: &[String], i: u32) -> &str {
    v.get(i as usize).map(String::as_str).unwrap_or("")
}

/// `<{ty} key="{key}" value="{value}"/>` on its own line, escaped.
fn attr(out: &mut Vec<u8>, indent: usize, ty: &str, key: &str, value: &str) {
    out.extend(std::iter::repeat_n(b'\t', indent));
    out.push(b'<');
    out.extend_from_slice(ty.as_bytes());
    out.extend_from_slice(b" key=\"");
    escape(out, key);
    out.extend_from_slice(b"\" value=\"");
    escape(out, value);
    out.extend_from_slice(b"\"/>\n");
}

/// Escapes an attribute value. Tabs and newlines become character references so that a parser's
/// attribute-value normalization does not turn them into spaces.
fn escape(out: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.extend_from_slice(b"&amp;"),
            '<' => out.extend_from_slice(b"&lt;"),
            '>' => out.extend_from_slice(b"&gt;"),
            '"' => out.extend_from_slice(b"&quot;"),
            '\'' => out.extend_from_slice(b"&apos;"),
            '\t' => out.extend_from_slice(b"&#9;"),
            '\n' => out.extend_from_slice(b"&#10;"),
            '\r' => out.extend_from_slice(b"&#13;"),
            // Not allowed in XML 1.0 at all, not even as character references.
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => {
                out.extend_from_slice("\u{fffd}".as_bytes())
            }
            c => {
                let mut b = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_xml_well_formed() {
        let mut out = Vec::new();
        escape(&mut out, "a<b>&\"c' \t\n\u{1}é");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a&lt;b&gt;&amp;&quot;c&apos; &#9;&#10;\u{fffd}é"
        );
    }

    #[test]
    fn labels_prefer_the_source_event_type() {
        let mut attrs = BTreeMap::new();
        assert_eq!(
            event_label(EventKind::Click, "firefox", &attrs),
            "click@firefox"
        );
        assert_eq!(event_label(EventKind::Focus, "", &attrs), "focus");
        attrs.insert("event_type".into(), "clickButton".into());
        assert_eq!(
            event_label(EventKind::Click, "firefox", &attrs),
            "clickButton"
        );
        assert_eq!("CASE".parse::<TraceBy>().unwrap(), TraceBy::Case);
        assert!("trace".parse::<TraceBy>().is_err());
    }
}
