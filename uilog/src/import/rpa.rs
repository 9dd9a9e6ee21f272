//! The robotic-process-mining CSV style (Action Logger, SmartRPA) and process-mining CSV.
//!
//! Both go through one column table ([`role_of`]) because the public logs mix the vocabularies:
//! Action Logger writes `timeStamp, userID, targetApp, eventType, url, content, target.*`, the
//! segmented Leno logs add `caseID` or use `source, Sheet, FileName, Url, Label, Value`, and
//! process-mining tools write `concept:name, time:timestamp, case:concept:name, org:resource`.
//! SmartRPA's own columns (`timestamp, user, application, event_type, clipboard_content,
//! current_worksheet, cell_range, cell_content, browser_url, tag_*`) and its timestamps
//! (`2020-02-12 17:11:14:465`) are known too. A file whose header has no comma but semicolons or
//! tabs is read with that delimiter.
//! The XES reader feeds its event attributes through the same table, so a key means the same in
//! every format.
//!
//! How a row becomes an [`Event`]: the source's event type (or activity) is kept in the attribute
//! `event_type` and mapped to an [`EventKind`] by [`kind_for`]; `app` is `targetApp`; `window` is
//! `workbook/sheet` or the url; the element is (`tagName` or `type`, `name` or `title` or
//! `innerText`, `id`); `text` is the copied/pasted `content` for copy and paste and the field's
//! `value` otherwise; typed, copied and pasted text also gets a [`ValueHash`] under
//! [`ValueHash::IMPORT_KEY`] so that data flow between steps can be found. Rows without a user (the
//! clipboard rows of Action Logger) take the user of the nearest earlier row, else `unknown`.
//! Every other non-empty column is kept in `attrs`.

use std::io::{BufRead, BufReader, Read};

use crate::error::{Error, Result};
use crate::event::{Event, EventKind, ValueHash};

use super::time::parse_log_ts;
use super::{
    csv_header, csv_reader, field_line, is_element_path, parse_coord, set_attrs, set_opt,
    sniff_delimiter, Ctx, Push, QuoteCheck,
};

/// What a source column (or XES key) means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Timestamp,
    User,
    App,
    /// The source's own event type (`eventType`).
    EventType,
    /// A process-mining activity (`concept:name`); used when there is no `eventType`.
    Activity,
    Case,
    /// taskmine's own kind name, when a log carries it (our XES export does).
    Kind,
    Host,
    Window,
    Text,
    Url,
    Content,
    Workbook,
    Sheet,
    TargetId,
    Tag,
    Type,
    Name,
    Value,
    Title,
    InnerText,
    X,
    Y,
    Wx,
    Wy,
    ValueHashHex,
    /// Where the element sits: an XPath or CSS selector path, or an AT-SPI path.
    Path,
    /// Kept in `attrs` under its key.
    Attr,
}

const N_ROLES: usize = Role::Attr as usize;

/// The role of a canonical column name and the `attrs` key it is kept under when it is kept.
pub(super) fn role_of(name: &str) -> (Role, String) {
    let lower = name.to_ascii_lowercase();
    let role = match lower.as_str() {
        "timestamp" | "time:timestamp" => Role::Timestamp,
        "userid" | "user" | "org:resource" => Role::User,
        "targetapp" | "source" | "app" | "application" => Role::App,
        "eventtype" | "event_type" => Role::EventType,
        "concept:name" | "activity" => Role::Activity,
        "caseid" | "case:concept:name" | "case" => Role::Case,
        "kind" => Role::Kind,
        "host" => Role::Host,
        "window" => Role::Window,
        "text" => Role::Text,
        "url" | "browser_url" => Role::Url,
        "content" | "clipboard_content" => Role::Content,
        "target.workbookname" | "filename" | "workbook" => Role::Workbook,
        "target.sheetname" | "sheet" | "current_worksheet" => Role::Sheet,
        "target.id" | "element_id" | "cell_range" => Role::TargetId,
        "target.tagname" | "element_role" | "tag_category" => Role::Tag,
        "target.type" | "type" | "tag_type" => Role::Type,
        "target.name" | "label" | "element_name" | "tag_name" => Role::Name,
        "target.value" | "value" | "tag_value" | "cell_content" => Role::Value,
        "target.title" | "title" | "tag_title" => Role::Title,
        "target.innertext" | "inner_text" | "tag_innertext" => Role::InnerText,
        "x" => Role::X,
        "y" => Role::Y,
        "wx" => Role::Wx,
        "wy" => Role::Wy,
        "value_hash" => Role::ValueHashHex,
        "element_path" | "target.xpath" | "xpath" | "target.path" | "target.selector"
        | "selector" | "css_selector" => Role::Path,
        _ => Role::Attr,
    };
    let key = match lower.as_str() {
        "target.class" | "target.classname" => "class".to_owned(),
        "target.innerhtml" | "tag_html" => "inner_html".to_owned(),
        "target.innertext" => "inner_text".to_owned(),
        _ => match role {
            Role::Url => "url".to_owned(),
            Role::Workbook => "workbook".to_owned(),
            Role::Sheet => "sheet".to_owned(),
            Role::Type => "type".to_owned(),
            Role::Title => "title".to_owned(),
            Role::Value => "value".to_owned(),
            Role::Content => "content".to_owned(),
            _ => name.strip_prefix("target.").unwrap_or(name).to_owned(),
        },
    };
    (role, key)
}

/// Maps a source event type (Action Logger, SmartRPA, process-mining activity, or one of our own
/// kind names) to an [`EventKind`]. Anything it does not know is [`EventKind::Other`]; the importers
/// keep the source name in the `event_type` attribute either way.
pub fn kind_for(event_type: &str) -> EventKind {
    let n: String = event_type
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let n = n.as_str();
    match n {
        _ if n.starts_with("doubleclick") => EventKind::DoubleClick,
        _ if n.starts_with("rightclick") || n == "contextmenu" => EventKind::RightClick,
        _ if n.starts_with("click") || n == "mouseclick" => EventKind::Click,
        "editfield" | "editcell" | "editcellsheet" | "typed" | "editrange" | "insertvalue"
        | "inserttext" | "type" | "typing" | "typetext" | "changefield" | "input" => {
            EventKind::Type
        }
        _ if n.starts_with("copy") => EventKind::Copy,
        _ if n.starts_with("paste") => EventKind::Paste,
        "selecttab" | "changewindow" | "openwindow" | "switchwindow" | "activatewindow"
        | "focus" | "newtab" | "selectwindow" => EventKind::Focus,
        _ if n.starts_with("scroll") => EventKind::Scroll,
        _ if n.starts_with("drag") => EventKind::Drag,
        "shortcut" | "hotkey" | "keyboardshortcut" => EventKind::Shortcut,
        "idlestart" => EventKind::IdleStart,
        "idleend" => EventKind::IdleEnd,
        _ => EventKind::Other,
    }
}

/// Parses a timestamp as the RPA tools write it: RFC 3339 / ISO 8601, or SmartRPA's
/// `2020-02-12 17:11:14:465` with a colon before the milliseconds; either must lie in the log's
/// range (years 1970–9999).
fn parse_source_ts(s: &str) -> Result<crate::event::Micros, String> {
    let t = s.trim();
    let b = t.as_bytes();
    // SmartRPA's shape is tested first: a log has one shape throughout, and letting every row of
    // a SmartRPA log fail RFC 3339 parsing first made its import three times slower.
    if b.len() > 20
        && t.is_char_boundary(19)
        && b[19] == b':'
        && b[20..].iter().all(u8::is_ascii_digit)
    {
        if let Ok(ts) = parse_log_ts(&format!("{}.{}", &t[..19], &t[20..])) {
            return Ok(ts);
        }
    }
    parse_log_ts(t)
}

/// One non-empty value of a row, with where it came from. `loc` is the reader's own locator (a
/// column index for CSV, a byte offset for XES), turned into a line only when an error is reported.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cell<'a> {
    pub value: &'a str,
    pub field: &'a str,
    pub loc: u64,
}

/// A row's values sorted by role; the first non-empty value of a role wins.
#[derive(Default)]
pub(super) struct Slots<'a> {
    cells: [Option<Cell<'a>>; N_ROLES],
    attrs: Vec<(&'a str, &'a str)>,
}

impl<'a> Slots<'a> {
    pub fn put(&mut self, role: Role, attr_key: &'a str, cell: Cell<'a>) {
        if cell.value.is_empty() {
            return;
        }
        if role == Role::Attr {
            self.attrs.push((attr_key, cell.value));
        } else if self.cells[role as usize].is_none() {
            self.cells[role as usize] = Some(cell);
        }
    }

    fn get(&self, role: Role) -> Option<Cell<'a>> {
        self.cells[role as usize]
    }

    fn str(&self, role: Role) -> Option<&'a str> {
        self.get(role).map(|c| c.value)
    }
}

/// Why a row could not be read; `loc` as in [`Cell`], `None` for the row as a whole.
#[derive(Debug)]
pub(super) struct RowError {
    pub loc: Option<u64>,
    pub field: String,
    pub message: String,
}

/// What carries over from row to row.
#[derive(Default)]
pub(super) struct State {
    last_user: Option<String>,
    /// [`kind_for`] of the event types seen so far: a log has a few dozen, and mapping one
    /// allocates.
    kinds: std::collections::HashMap<String, EventKind>,
    /// Strings of attributes a row dropped, for [`set_attrs`] to reuse.
    spare: Vec<String>,
}

impl State {
    fn kind_for(&mut self, event_type: &str) -> EventKind {
        if let Some(&k) = self.kinds.get(event_type) {
            return k;
        }
        let k = kind_for(event_type);
        self.kinds.insert(event_type.to_owned(), k);
        k
    }
}

/// A row error at one cell.
fn bad(c: Cell<'_>, message: String) -> RowError {
    RowError {
        loc: Some(c.loc),
        field: c.field.to_owned(),
        message,
    }
}

/// Fills `e` from a row's slots. `case` is the trace's case for XES (a `caseID` cell overrides it).
pub(super) fn build(
    slots: &Slots<'_>,
    ctx: &Ctx,
    case: Option<&str>,
    state: &mut State,
    e: &mut Event,
) -> Result<(), RowError> {
    let event_type = time_and_kind(slots, state, e)?;
    who_and_where(slots, ctx, state, e);
    let id = element(slots, e);
    coordinates(slots, e)?;
    let other = text_and_case(slots, case, e)?;
    attributes(slots, event_type, id, other, e, &mut state.spare);
    Ok(())
}

/// The time and the kind; returns the event type cell, which the attributes keep.
fn time_and_kind<'a>(
    slots: &Slots<'a>,
    state: &mut State,
    e: &mut Event,
) -> Result<Cell<'a>, RowError> {
    let ts = slots.get(Role::Timestamp).ok_or_else(|| RowError {
        loc: None,
        field: "timeStamp".into(),
        message: "no timestamp".into(),
    })?;
    e.ts = parse_source_ts(ts.value).map_err(|m| bad(ts, m))?;
    let event_type = slots
        .get(Role::EventType)
        .or(slots.get(Role::Activity))
        .ok_or_else(|| RowError {
            loc: None,
            field: "eventType".into(),
            message: "no event type".into(),
        })?;
    e.kind = match slots.get(Role::Kind) {
        Some(k) => k.value.parse().map_err(|m| bad(k, m))?,
        None => state.kind_for(event_type.value),
    };
    Ok(event_type)
}

/// Session, user, host, app and window.
fn who_and_where(slots: &Slots<'_>, ctx: &Ctx, state: &mut State, e: &mut Event) {
    e.session.clear();
    e.session.push_str(&ctx.session);
    e.user.clear();
    match slots.str(Role::User) {
        Some(u) => {
            e.user.push_str(u);
            if state.last_user.as_deref() != Some(u) {
                state.last_user = Some(u.to_owned());
            }
        }
        None => e
            .user
            .push_str(state.last_user.as_deref().unwrap_or("unknown")),
    }
    e.host.clear();
    e.host.push_str(slots.str(Role::Host).unwrap_or(""));
    e.app.clear();
    e.app.push_str(slots.str(Role::App).unwrap_or(""));

    e.window.clear();
    match (
        slots.str(Role::Window),
        slots.str(Role::Workbook),
        slots.str(Role::Sheet),
    ) {
        (Some(w), _, _) => e.window.push_str(w),
        (None, Some(b), Some(s)) => {
            e.window.push_str(b);
            e.window.push('/');
            e.window.push_str(s);
        }
        (None, Some(one), None) | (None, None, Some(one)) => e.window.push_str(one),
        (None, None, None) => e.window.push_str(slots.str(Role::Url).unwrap_or("")),
    }
}

/// The element; returns its id (a cell reference in a spreadsheet, which the attributes keep).
fn element<'a>(slots: &Slots<'a>, e: &mut Event) -> Option<&'a str> {
    let in_sheet = slots.str(Role::Workbook).is_some() || slots.str(Role::Sheet).is_some();
    // A recorder that identifies web elements by their XPath or CSS path writes it where others
    // write an id; it is a path, and the element has no id of its own.
    // taskmine's own `element_id` (our XES export) is an id whatever it looks like; it has its
    // own `element_path`.
    let (id, id_path) = match slots.get(Role::TargetId) {
        Some(t) if t.field != "element_id" && is_element_path(t.value) => (None, Some(t.value)),
        other => (other.map(|c| c.value), None),
    };
    // The previous row's element is refilled in place: its strings are this row's buffers.
    let mut element = e.element.take().unwrap_or_default();
    set_opt(
        &mut element.role,
        slots
            .str(Role::Tag)
            .or(slots.str(Role::Type))
            .or((id.is_some() && in_sheet).then_some("cell")),
    );
    set_opt(
        &mut element.name,
        slots.str(Role::Name).or(slots.str(Role::Title)).or(slots
            .str(Role::InnerText)
            .map(str::trim)
            .filter(|s| !s.is_empty())),
    );
    set_opt(&mut element.id, id);
    set_opt(&mut element.path, slots.str(Role::Path).or(id_path));
    e.element = (!element.is_empty()).then_some(element);
    id
}

/// Screen and window coordinates.
fn coordinates(slots: &Slots<'_>, e: &mut Event) -> Result<(), RowError> {
    let int = |role: Role| -> Result<Option<i32>, RowError> {
        match slots.get(role) {
            None => Ok(None),
            Some(c) => parse_coord(c.value).map(Some).map_err(|m| bad(c, m)),
        }
    };
    e.x = int(Role::X)?;
    e.y = int(Role::Y)?;
    e.wx = int(Role::Wx)?;
    e.wy = int(Role::Wy)?;
    Ok(())
}

/// The text, its value hash and the case. Returns the one of `value` and `content` that did not
/// become the text, when both are there, to be kept as an attribute.
fn text_and_case<'a>(
    slots: &Slots<'a>,
    case: Option<&str>,
    e: &mut Event,
) -> Result<Option<(&'static str, &'a str)>, RowError> {
    let value = slots.str(Role::Value);
    let content = slots.str(Role::Content);
    let clipboard = matches!(e.kind, EventKind::Copy | EventKind::Paste);
    let (text, other) = match slots.str(Role::Text) {
        Some(t) => (Some(t), None),
        None if clipboard => (content.or(value), content.and(value).map(|v| ("value", v))),
        None => (
            value.or(content),
            value.and(content).map(|c| ("content", c)),
        ),
    };
    set_opt(&mut e.text, text);
    e.value_hash = match slots.get(Role::ValueHashHex) {
        Some(h) => Some(h.value.parse::<ValueHash>().map_err(|m| bad(h, m))?),
        None => match (e.kind, text) {
            (EventKind::Copy | EventKind::Paste | EventKind::Type, Some(t)) => {
                Some(ValueHash::keyed(&ValueHash::IMPORT_KEY, t))
            }
            _ => None,
        },
    };
    set_opt(&mut e.case, slots.str(Role::Case).or(case));
    Ok(other)
}

/// The attributes: every other column, and the source's own names of what went into fields.
fn attributes<'a>(
    slots: &Slots<'a>,
    event_type: Cell<'a>,
    id: Option<&'a str>,
    other: Option<(&'static str, &'a str)>,
    e: &mut Event,
    spare: &mut Vec<String>,
) {
    let workbook = slots.str(Role::Workbook);
    let sheet = slots.str(Role::Sheet);
    // Later entries overwrite earlier ones of the same key, as inserting them in turn would.
    let mut attrs: Vec<(&str, &str)> = Vec::with_capacity(slots.attrs.len() + 8);
    attrs.extend(slots.attrs.iter().copied());
    let mut keep = |key: &'static str, v: Option<&'a str>| {
        if let Some(v) = v {
            attrs.push((key, v));
        }
    };
    keep("event_type", Some(event_type.value));
    keep("url", slots.str(Role::Url));
    keep("workbook", workbook);
    keep("sheet", sheet);
    if workbook.is_some() || sheet.is_some() {
        keep("cell", id);
    }
    keep("type", slots.str(Role::Type));
    keep("title", slots.str(Role::Title));
    keep("inner_text", slots.str(Role::InnerText));
    if let Some((key, v)) = other {
        keep(key, Some(v));
    }
    set_attrs(&mut e.attrs, &mut attrs, spare);
}

pub(super) fn read(input: impl Read, ctx: &Ctx, sink: &mut dyn Push) -> Result<()> {
    let file = ctx.file.as_path();
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let delimiter = sniff_delimiter(input.fill_buf().map_err(|e| Error::io(file, e))?);
    let mut reader = csv_reader(QuoteCheck::new(input, delimiter), true, delimiter);
    let header = csv_header(&mut reader, file)?;
    // Two columns of one name would leave it to chance which one a row's value comes from.
    let mut seen = std::collections::HashSet::new();
    for name in &header {
        if !name.is_empty() && !seen.insert(name.as_str()) {
            return Err(Error::parse(file, 1, name.as_str(), "column appears twice"));
        }
    }
    let roles: Vec<(Role, String)> = header
        .iter()
        .map(|h| {
            let canonical = ctx.canonical(h);
            if ctx.is_label(h) || ctx.is_label(canonical) {
                (Role::Attr, h.clone())
            } else {
                role_of(canonical)
            }
        })
        .collect();
    let has = |want: &[Role]| roles.iter().any(|(r, _)| want.contains(r));
    if !has(&[Role::Timestamp]) {
        return Err(Error::parse(
            file,
            1,
            "timeStamp",
            format!(
                "required column is missing (the header has {}; a mapping file can rename columns)",
                header.join(",")
            ),
        ));
    }
    if !has(&[Role::EventType, Role::Activity]) {
        return Err(Error::parse(
            file,
            1,
            "eventType",
            format!(
                "required column is missing: eventType or concept:name (the header has {})",
                header.join(",")
            ),
        ));
    }

    // The record as text when all of it is UTF-8 (checked once per row, nearly always ASCII), else
    // as bytes, whose cells are checked one by one to name the bad one.
    let mut checked: std::result::Result<csv::StringRecord, csv::ByteRecord> =
        Err(csv::ByteRecord::new());
    let mut e = Event::new("", "", 0, EventKind::Other);
    let mut state = State::default();
    // Where the last record starts and its length, to tell a truncated last row.
    let mut last: Option<(u64, usize)> = None;
    loop {
        let mut raw = match checked {
            Ok(text) => text.into_byte_record(),
            Err(raw) => raw,
        };
        if !QuoteCheck::next_record(&mut reader, &mut raw, file)? {
            break;
        }
        checked = csv::StringRecord::from_byte_record(raw).map_err(|x| x.into_byte_record());
        let record = match &checked {
            Ok(text) => text.as_byte_record(),
            Err(raw) => raw,
        };
        if record.len() > header.len() {
            return Err(Error::parse(
                file,
                field_line(file, record, 0),
                "row",
                format!(
                    "{} fields where the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
        }
        // An all-empty line (a trailing comma line some exporters write) is not an event.
        if record.iter().all(|f| f.is_empty()) {
            continue;
        }
        last = Some((record.position().map_or(0, |p| p.byte()), record.len()));
        let mut slots = Slots::default();
        for (i, raw) in record.iter().enumerate() {
            let value = match &checked {
                Ok(text) => Ok(&text[i]),
                Err(_) => std::str::from_utf8(raw),
            };
            let value = value.map_err(|x| {
                Error::parse(
                    file,
                    field_line(file, record, i),
                    header[i].as_str(),
                    format!(
                        "not valid UTF-8 (after byte {} of the field)",
                        x.valid_up_to()
                    ),
                )
            })?;
            let (role, key) = &roles[i];
            slots.put(
                *role,
                key,
                Cell {
                    value,
                    field: &header[i],
                    loc: i as u64,
                },
            );
        }
        build(&slots, ctx, None, &mut state, &mut e).map_err(|x| {
            let at = field_line(file, record, x.loc.unwrap_or(0) as usize);
            let mut message = x.message;
            if record.len() < header.len() {
                // A row cut short is most often why a value is missing or malformed.
                message = format!(
                    "{message} (the row has {} of the header's {} fields: a truncated file?)",
                    record.len(),
                    header.len()
                );
            }
            Error::parse(file, at, x.field, message)
        })?;
        sink.push_refilled(&mut e)?;
    }
    // Short rows are accepted inside the file (some tools leave trailing empty cells out), but a
    // short last row is what a file cut off mid-row looks like.
    if let Some((byte, len)) = last {
        if len < header.len() {
            return Err(Error::parse(
                file,
                super::line_at(file, byte),
                "row",
                format!(
                    "the last row has {len} fields where the header has {}: the file looks truncated",
                    header.len()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn action_logger_event_types_map_to_kinds() {
        let cases = [
            ("clickButton", EventKind::Click),
            ("clickLink", EventKind::Click),
            ("clickTextField", EventKind::Click),
            ("clickCheckbox", EventKind::Click),
            ("doubleClickCell", EventKind::DoubleClick),
            ("editField", EventKind::Type),
            ("editCell", EventKind::Type),
            ("editCellSheet", EventKind::Type),
            ("insertValue", EventKind::Type),
            ("copy", EventKind::Copy),
            ("copyCell", EventKind::Copy),
            ("paste", EventKind::Paste),
            ("pasteIntoCell", EventKind::Paste),
            ("selectTab", EventKind::Focus),
            ("changeWindow", EventKind::Focus),
            ("openWindow", EventKind::Focus),
            ("getCell", EventKind::Other),
            ("openFile", EventKind::Other),
            ("Register request", EventKind::Other),
            ("double_click", EventKind::DoubleClick),
            ("idle_end", EventKind::IdleEnd),
        ];
        for (name, want) in cases {
            assert_eq!(kind_for(name), want, "{name}");
        }
    }

    #[test]
    fn smartrpa_timestamps_have_a_colon_before_the_milliseconds() {
        assert_eq!(
            parse_source_ts("2020-02-12 17:11:14:465").unwrap(),
            crate::event::parse_ts("2020-02-12T17:11:14.465Z").unwrap()
        );
        assert!(parse_source_ts("2020-02-12 17:11:14:4x5").is_err());
        assert!(parse_source_ts("yesterday")
            .unwrap_err()
            .contains("yesterday"));
    }

    #[test]
    fn column_names_of_both_vocabularies_share_roles() {
        for (name, role) in [
            ("timeStamp", Role::Timestamp),
            ("time:timestamp", Role::Timestamp),
            ("org:resource", Role::User),
            ("userID", Role::User),
            ("case:concept:name", Role::Case),
            ("caseID", Role::Case),
            ("target.className", Role::Attr),
            ("Label", Role::Name),
        ] {
            assert_eq!(role_of(name).0, role, "{name}");
        }
        assert_eq!(role_of("target.class").1, "class");
        assert_eq!(role_of("target.className").1, "class");
        assert_eq!(role_of("lifecycle:transition").1, "lifecycle:transition");
    }
}
