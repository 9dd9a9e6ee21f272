//! XES (IEEE 1849) event logs: each `<trace>`'s `concept:name` becomes the `case` of its events, and
//! each `<event>`'s attributes go through the RPA column table (`concept:name` → `event_type` and
//! kind, `time:timestamp`, `org:resource` → user, `lifecycle:transition` and the rest → `attrs`).
//!
//! Why a small quick-xml reader and not the `process_mining` crate: `process_mining` builds the whole
//! log in memory and pulls chrono, rayon, a second quick-xml and more even with its default features
//! off, while this reader streams events straight into the store batch with the crate's existing
//! quick-xml. It also knows the byte offset of every element, so a bad timestamp is reported with
//! its file line, which the crate's errors do not give.
//!
//! Nested attributes are flattened to `parent/child` keys; `<global>`, `<extension>`, `<classifier>`
//! and log-level attributes are read past. The key of a nested attribute is kept as one running
//! string that grows by a step when an attribute element opens and is cut back when it closes, so
//! reading is linear in the file; nesting deeper than [`MAX_NESTING`] levels or a key longer than
//! [`MAX_KEY_LEN`] bytes is refused (real logs nest a few levels; a hostile file could otherwise
//! make each of 40,000 levels store a 40,000-step key).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use quick_xml::events::{BytesStart, Event as Xml};
use quick_xml::Reader;

use crate::error::{Error, Result};
use crate::event::{Event, EventKind};

use super::rpa::{build, role_of, Cell, Role, Slots, State};
use super::{Ctx, Push};

/// What an open element is, as far as this reader cares.
enum Open {
    Log,
    Trace,
    Event,
    /// An attribute element; `prefix_len` is the length the running key prefix had before this
    /// element's key was appended (children of it are nested attributes).
    Attr {
        prefix_len: usize,
    },
    Other,
}

/// The trace-level attribute with which taskmine's XES export says what its traces are
/// (`session`, `uncased` or `case`); only `case` traces name the events' case.
pub(crate) const TRACE_KIND_KEY: &str = "taskmine:trace";

/// The deepest nesting of attribute elements inside an event that is read.
pub(crate) const MAX_NESTING: usize = 64;
/// The longest flattened attribute key (`parent/child/…`), in bytes.
pub(crate) const MAX_KEY_LEN: usize = 4096;

/// Where the reader is: the open elements and what the stack would otherwise be searched for.
#[derive(Default)]
struct Nesting {
    stack: Vec<Open>,
    /// Open `<event>` elements (at most one in a well-formed file).
    events: usize,
    /// Open attribute elements.
    attrs: usize,
    /// The keys of the open attribute elements of the event, each followed by `/`.
    prefix: String,
}

impl Nesting {
    fn push(&mut self, open: Open) {
        match open {
            Open::Event => self.events += 1,
            Open::Attr { .. } => self.attrs += 1,
            _ => {}
        }
        self.stack.push(open);
    }

    fn pop(&mut self) -> Option<Open> {
        let open = self.stack.pop()?;
        match open {
            Open::Event => self.events -= 1,
            Open::Attr { prefix_len } => {
                self.attrs -= 1;
                self.prefix.truncate(prefix_len);
            }
            _ => {}
        }
        Some(open)
    }
}

/// What the open trace says about its events.
struct Trace {
    case: Option<String>,
    name_is_case: bool,
}

impl Default for Trace {
    fn default() -> Self {
        Trace {
            case: None,
            name_is_case: true,
        }
    }
}

/// The attributes of the event being read: key, value, byte offset of the element.
struct Pending {
    pos: u64,
    attrs: Vec<(String, String, u64)>,
}

pub(super) fn read(input: impl Read, ctx: &Ctx, sink: &mut dyn Push) -> Result<()> {
    let mut reader = Reader::from_reader(BufReader::with_capacity(256 * 1024, input));
    reader.config_mut().trim_text(false);
    let mut buf = Vec::new();
    let mut nest = Nesting::default();
    let mut trace = Trace::default();
    let mut pending: Option<Pending> = None;
    let mut seen_log = false;
    let mut seen_content = false;
    let mut state = State::default();
    let mut e = Event::new("", "", 0, EventKind::Other);
    // Keys repeat in every event; their roles are looked up once.
    let mut roles: HashMap<String, (Role, String)> = HashMap::new();
    loop {
        // Whitespace between tags is read as text (trim_text off), so this is where the next tag starts.
        let pos = reader.buffer_position();
        let ev = reader.read_event_into(&mut buf).map_err(|x| {
            Error::parse(
                &ctx.file,
                line_at(ctx, reader.error_position()),
                "xml",
                x.to_string(),
            )
        })?;
        match ev {
            Xml::Start(ref el) | Xml::Empty(ref el) => {
                seen_content = true;
                let empty = matches!(ev, Xml::Empty(_));
                let open = element(
                    &reader,
                    el,
                    pos,
                    ctx,
                    &mut nest,
                    empty,
                    &mut seen_log,
                    &mut trace,
                    &mut pending,
                )?;
                if empty {
                    if matches!(open, Open::Event) {
                        finish(
                            pending.take(),
                            ctx,
                            &mut roles,
                            trace.case.as_deref(),
                            &mut state,
                            &mut e,
                            sink,
                        )?;
                    }
                } else {
                    nest.push(open);
                }
            }
            Xml::End(_) => match nest.pop() {
                Some(Open::Event) => finish(
                    pending.take(),
                    ctx,
                    &mut roles,
                    trace.case.as_deref(),
                    &mut state,
                    &mut e,
                    sink,
                )?,
                Some(Open::Trace) => trace = Trace::default(),
                _ => {}
            },
            Xml::Text(ref t) => {
                if !t.iter().all(u8::is_ascii_whitespace) {
                    seen_content = true;
                }
            }
            Xml::Eof => break,
            _ => seen_content = true,
        }
        buf.clear();
    }
    if !seen_content {
        return Err(Error::input(
            &ctx.file,
            "the file is empty (expected an XES <log>)",
        ));
    }
    if !seen_log {
        return Err(Error::parse(
            &ctx.file,
            1,
            "log",
            "no <log> element: not an XES file",
        ));
    }
    if let Some(open) = nest.stack.last() {
        let what = match open {
            Open::Log => "log",
            Open::Trace => "trace",
            Open::Event => "event",
            _ => "element",
        };
        let end = reader.buffer_position();
        return Err(Error::parse(
            &ctx.file,
            line_at(ctx, end),
            what,
            format!("the file ends inside <{what}>"),
        ));
    }
    Ok(())
}

/// Handles an opening (or empty) element and says what it is.
#[allow(clippy::too_many_arguments)]
fn element<R: BufRead>(
    reader: &Reader<R>,
    el: &BytesStart<'_>,
    pos: u64,
    ctx: &Ctx,
    nest: &mut Nesting,
    empty: bool,
    seen_log: &mut bool,
    trace: &mut Trace,
    pending: &mut Option<Pending>,
) -> Result<Open> {
    let name = el.local_name();
    let open = match name.as_ref() {
        b"log" if nest.stack.is_empty() => {
            *seen_log = true;
            Open::Log
        }
        b"trace" if matches!(nest.stack.last(), Some(Open::Log)) => {
            *trace = Trace::default();
            Open::Trace
        }
        b"event" if matches!(nest.stack.last(), Some(Open::Log | Open::Trace)) => {
            *pending = Some(Pending {
                pos,
                attrs: Vec::new(),
            });
            Open::Event
        }
        b"string" | b"date" | b"int" | b"float" | b"boolean" | b"id" | b"list" | b"container" => {
            let in_event = nest.events > 0;
            let under_trace = matches!(nest.stack.last(), Some(Open::Trace));
            if !in_event && !under_trace {
                return Ok(Open::Other);
            }
            let (key, value) = key_value(reader, el, pos, ctx)?;
            let Some(key) = key else {
                return Err(Error::parse(
                    &ctx.file,
                    line_at(ctx, pos),
                    String::from_utf8_lossy(name.as_ref()),
                    "attribute element without a `key`",
                ));
            };
            if under_trace {
                match key.as_str() {
                    "concept:name" if trace.name_is_case => trace.case = value,
                    // taskmine's own export marks traces that are sessions, not cases.
                    TRACE_KIND_KEY if value.as_deref() != Some("case") => {
                        trace.name_is_case = false;
                        trace.case = None;
                    }
                    _ => {}
                }
                // Its children are not read (they are not under a trace), so it adds no key step.
                return Ok(Open::Attr {
                    prefix_len: nest.prefix.len(),
                });
            }
            if nest.attrs >= MAX_NESTING {
                return Err(Error::parse(
                    &ctx.file,
                    line_at(ctx, pos),
                    key,
                    format!(
                        "attributes nested more than {MAX_NESTING} levels deep; \
                         an XES log nests a few"
                    ),
                ));
            }
            // Nested attributes: the keys of the enclosing attribute elements prefix this one.
            if nest.prefix.len() + key.len() > MAX_KEY_LEN {
                return Err(Error::parse(
                    &ctx.file,
                    line_at(ctx, pos),
                    key,
                    format!("attribute key longer than {MAX_KEY_LEN} bytes with its parents' keys"),
                ));
            }
            let prefix_len = nest.prefix.len();
            if !empty {
                nest.prefix.push_str(&key);
                nest.prefix.push('/');
            }
            if let (Some(p), Some(v)) = (pending.as_mut(), value) {
                // Most attributes sit at the top of the event and keep their key as it is.
                let path = if prefix_len == 0 {
                    key
                } else {
                    format!("{}{key}", &nest.prefix[..prefix_len])
                };
                p.attrs.push((path, v, pos));
            }
            Open::Attr { prefix_len }
        }
        _ => Open::Other,
    };
    Ok(open)
}

/// The `key` and `value` attributes of an XES attribute element.
fn key_value<R: BufRead>(
    reader: &Reader<R>,
    el: &BytesStart<'_>,
    pos: u64,
    ctx: &Ctx,
) -> Result<(Option<String>, Option<String>)> {
    let mut key = None;
    let mut value = None;
    for attr in el.attributes() {
        let attr =
            attr.map_err(|x| Error::parse(&ctx.file, line_at(ctx, pos), "xml", x.to_string()))?;
        let is_key = match attr.key.as_ref() {
            b"key" => true,
            b"value" => false,
            _ => continue,
        };
        let text: Cow<'_, str> = attr
            .decode_and_unescape_value(reader.decoder())
            .map_err(|x| {
                let field = key.clone().unwrap_or_else(|| "value".to_owned());
                Error::parse(
                    &ctx.file,
                    line_at(ctx, pos),
                    field,
                    format!("{x} (not valid UTF-8 or a bad escape)"),
                )
            })?;
        if is_key {
            key = Some(text.into_owned());
        } else {
            value = Some(text.into_owned());
        }
    }
    Ok((key, value))
}

/// Turns a finished `<event>` into an [`Event`] and pushes it.
fn finish(
    pending: Option<Pending>,
    ctx: &Ctx,
    roles: &mut HashMap<String, (Role, String)>,
    case: Option<&str>,
    state: &mut State,
    e: &mut Event,
    sink: &mut dyn Push,
) -> Result<()> {
    let Some(p) = pending else { return Ok(()) };
    for (k, _, _) in &p.attrs {
        if !roles.contains_key(k) {
            let canonical = ctx.canonical(k);
            let role = if ctx.is_label(k) || ctx.is_label(canonical) {
                (Role::Attr, k.clone())
            } else {
                role_of(canonical)
            };
            roles.insert(k.clone(), role);
        }
    }
    let mut slots = Slots::default();
    for (key, value, pos) in &p.attrs {
        let (role, attr_key) = &roles[key];
        slots.put(
            *role,
            attr_key,
            Cell {
                value,
                field: key,
                loc: *pos,
            },
        );
    }
    build(&slots, ctx, case, state, e).map_err(|x| {
        let field = match x.field.as_str() {
            "timeStamp" if x.loc.is_none() => "time:timestamp".to_owned(),
            "eventType" if x.loc.is_none() => "concept:name".to_owned(),
            _ => x.field,
        };
        Error::parse(
            &ctx.file,
            line_at(ctx, x.loc.unwrap_or(p.pos)),
            field,
            x.message,
        )
    })?;
    sink.push(e)
}

/// The 1-based line of a byte offset of the file (error path only).
fn line_at(ctx: &Ctx, offset: u64) -> u64 {
    super::line_at(&ctx.file, offset)
}
