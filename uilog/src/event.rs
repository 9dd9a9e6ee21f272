//! The event model: one row per user interaction, as DESIGN.md "The UI log" lays it out.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Microseconds since the Unix epoch, UTC. The only time type stored in the log; local time never is.
pub type Micros = i64;

/// What the user did. Raw key-by-key events are never part of the log: keystrokes arrive aggregated as
/// [`EventKind::Type`] runs and [`EventKind::Shortcut`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Click,
    DoubleClick,
    RightClick,
    Drag,
    Scroll,
    /// A run of typed text in one field, ended by focus change, click, Enter or Tab.
    Type,
    /// A modifier combination or special key (ctrl+c, alt+tab, enter, …).
    Shortcut,
    Copy,
    Paste,
    /// An application or window switch.
    Focus,
    IdleStart,
    IdleEnd,
    /// An interaction an imported log names in its own vocabulary that none of the kinds above fits
    /// (for example `openFile` or `selectOption`); the source name is kept in the `event_type` attribute.
    Other,
}

impl EventKind {
    pub const ALL: [EventKind; 13] = [
        EventKind::Click,
        EventKind::DoubleClick,
        EventKind::RightClick,
        EventKind::Drag,
        EventKind::Scroll,
        EventKind::Type,
        EventKind::Shortcut,
        EventKind::Copy,
        EventKind::Paste,
        EventKind::Focus,
        EventKind::IdleStart,
        EventKind::IdleEnd,
        EventKind::Other,
    ];

    /// The name used in files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Click => "click",
            EventKind::DoubleClick => "double_click",
            EventKind::RightClick => "right_click",
            EventKind::Drag => "drag",
            EventKind::Scroll => "scroll",
            EventKind::Type => "type",
            EventKind::Shortcut => "shortcut",
            EventKind::Copy => "copy",
            EventKind::Paste => "paste",
            EventKind::Focus => "focus",
            EventKind::IdleStart => "idle_start",
            EventKind::IdleEnd => "idle_end",
            EventKind::Other => "other",
        }
    }

    /// The small integer the store keeps. Stable: part of the on-disk schema.
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: i64) -> Option<EventKind> {
        EventKind::ALL.get(usize::try_from(code).ok()?).copied()
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventKind::ALL
            .iter()
            .copied()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown event kind {s:?} (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

/// The UI element an event targeted, when the desktop or the source log exposes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Element {
    /// The element's role or tag: `button`, `INPUT`, `cell`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Its accessible name or label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A stable identifier: an automation id, an HTML id, a cell reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Where the element sits, from the window down: one `role 'name'[index]` step per level,
    /// joined by ` / ` (AT-SPI capture), or the source's own XPath/CSS path (imported web logs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Element {
    pub fn is_empty(&self) -> bool {
        self.role.is_none() && self.name.is_none() && self.id.is_none() && self.path.is_none()
    }
}

/// A keyed hash of a value (typed text, clipboard content), so that the miner can see that the same
/// value moved between steps without the log holding the value. Written as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ValueHash(pub u64);

impl fmt::Display for ValueHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl FromStr for ValueHash {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 16 {
            return Err(format!("value hash {s:?} is not 16 hex digits"));
        }
        u64::from_str_radix(s, 16)
            .map(ValueHash)
            .map_err(|_| format!("value hash {s:?} is not 16 hex digits"))
    }
}

impl ValueHash {
    /// Hashes a value with a key. The recorder passes the policy's secret key; importers of public
    /// logs, which carry plain values, pass [`ValueHash::IMPORT_KEY`].
    pub fn keyed(key: &[u8; 32], value: &str) -> ValueHash {
        let digest = blake3::keyed_hash(key, value.as_bytes());
        let bytes: [u8; 8] = digest.as_bytes()[..8].try_into().expect("8 bytes");
        ValueHash(u64::from_le_bytes(bytes))
    }

    /// The fixed key used for values that were already plain in an imported log. It hides nothing;
    /// it only lets data flow be found the same way as in recorded logs.
    pub const IMPORT_KEY: [u8; 32] = *b"taskmine/import/value-hash/v1...";
}

impl Serialize for ValueHash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ValueHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One user interaction.
///
/// Strings that repeat (session, user, host, app, window title, element) are interned by the store, so
/// an `Event` is the exchange form, not the storage form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The recording session (or imported source) this event belongs to.
    pub session: String,
    /// The user's pseudonym.
    pub user: String,
    /// The host's pseudonym.
    #[serde(default)]
    pub host: String,
    /// UTC microseconds since the Unix epoch.
    pub ts: Micros,
    pub kind: EventKind,
    /// The active application (for example the WM_CLASS instance or the source log's `targetApp`).
    #[serde(default)]
    pub app: String,
    /// The window title, after redaction.
    #[serde(default)]
    pub window: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element: Option<Element>,
    /// Absolute screen position, where the event has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<i32>,
    /// Position relative to the window's top-left corner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wx: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wy: Option<i32>,
    /// Typed, copied or pasted text as the privacy policy left it: absent, masked, or plain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_hash: Option<ValueHash>,
    /// The task instance this event is known to belong to, when the source log says so
    /// (a process-mining case id, a labelled segment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// Everything else the source knows: url, workbook, sheet, cell, the source's own event type, …
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attrs: BTreeMap<String, String>,
}

impl Event {
    /// An event with the required fields set and everything optional empty.
    pub fn new(session: &str, user: &str, ts: Micros, kind: EventKind) -> Event {
        Event {
            session: session.to_owned(),
            user: user.to_owned(),
            host: String::new(),
            ts,
            kind,
            app: String::new(),
            window: String::new(),
            element: None,
            x: None,
            y: None,
            wx: None,
            wy: None,
            text: None,
            value_hash: None,
            case: None,
            attrs: BTreeMap::new(),
        }
    }
}

/// The earliest time the log holds: 1970-01-01T00:00:00Z. Every entry point (import of every
/// format, ingest, the recorder, the simulator) refuses events outside [`TS_MIN`]..=[`TS_MAX`], so
/// that spans, rates and round trips through the text formats stay meaningful.
pub const TS_MIN: Micros = 0;
/// The latest time the log holds: 9999-12-31T23:59:59.999999Z, the last instant RFC 3339 can write.
pub const TS_MAX: Micros = 253_402_300_799_999_999;

/// Checks that a timestamp lies in the log's range ([`TS_MIN`]..=[`TS_MAX`]); the error says which
/// end it passed, for a message naming the file, line and field.
pub fn check_ts(ts: Micros) -> Result<Micros, String> {
    if ts < TS_MIN {
        Err(format!(
            "{ts} µs is before 1970-01-01T00:00:00Z, the earliest time the log holds"
        ))
    } else if ts > TS_MAX {
        Err(format!(
            "{ts} µs is after 9999-12-31T23:59:59.999999Z, the latest time the log holds"
        ))
    } else {
        Ok(ts)
    }
}

/// Formats UTC microseconds as RFC 3339 with microsecond precision (`2026-11-25T17:09:08.000001Z`).
pub fn format_ts(ts: Micros) -> String {
    match jiff::Timestamp::from_microsecond(ts) {
        Ok(t) => format!("{t:.6}"),
        // `jiff::Timestamp` ends on 9999-12-30T22:00Z (so that any offset applies to it); civil
        // arithmetic writes the log's last day too.
        Err(_) => match EPOCH.checked_add(jiff::SignedDuration::from_micros(ts)) {
            Ok(dt) => format!("{}Z", dt.strftime("%Y-%m-%dT%H:%M:%S%.6f")),
            Err(_) => ts.to_string(),
        },
    }
}

const EPOCH: jiff::civil::DateTime = jiff::civil::DateTime::constant(1970, 1, 1, 0, 0, 0, 0);

/// Reads an RFC 3339 timestamp by civil date-time arithmetic, for the instants of the log's last
/// day that `jiff::Timestamp` cannot hold.
fn parse_full_range(s: &str) -> Option<Micros> {
    use jiff::fmt::temporal::{Pieces, PiecesOffset};
    let pieces = Pieces::parse(s).ok()?;
    let local = pieces.date().to_datetime(pieces.time().unwrap_or_default());
    let offset_s = match pieces.offset() {
        None | Some(PiecesOffset::Zulu) => 0,
        Some(PiecesOffset::Numeric(n)) => i64::from(n.offset().seconds()),
        Some(_) => return None,
    };
    let us = local.duration_since(EPOCH).as_micros() - i128::from(offset_s) * 1_000_000;
    Micros::try_from(us).ok()
}

/// Parses an RFC 3339 / ISO 8601 timestamp. A timestamp without an offset is taken as UTC, as the
/// public logs of the literature write them.
pub fn parse_ts(s: &str) -> Result<Micros, String> {
    let s = s.trim();
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Ok(t.as_microsecond());
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        if let Ok(z) = dt.to_zoned(jiff::tz::TimeZone::UTC) {
            return Ok(z.timestamp().as_microsecond());
        }
    }
    parse_full_range(s).ok_or_else(|| format!("{s:?} is not an RFC 3339 timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_codes_are_dense() {
        for (i, k) in EventKind::ALL.iter().enumerate() {
            assert_eq!(k.as_str().parse::<EventKind>().unwrap(), *k);
            assert_eq!(k.code() as usize, i);
            assert_eq!(EventKind::from_code(i as i64), Some(*k));
        }
        assert!("keypress".parse::<EventKind>().is_err());
        assert_eq!(EventKind::from_code(99), None);
    }

    #[test]
    fn timestamps_keep_microseconds_and_default_to_utc() {
        let ts = parse_ts("2019-10-21T00:10:08.994Z").unwrap();
        assert_eq!(ts, 1_571_616_608_994_000);
        assert_eq!(format_ts(ts + 1), "2019-10-21T00:10:08.994001Z");
        assert_eq!(parse_ts("2019-10-21T00:10:08.994").unwrap(), ts);
        assert_eq!(parse_ts("2019-10-21T02:10:08.994+02:00").unwrap(), ts);
        assert!(parse_ts("21/10/2019").is_err());
    }

    #[test]
    fn the_range_ends_are_the_first_and_last_rfc_3339_instants() {
        assert_eq!(parse_ts("1970-01-01T00:00:00Z").unwrap(), TS_MIN);
        assert_eq!(parse_ts("9999-12-31T23:59:59.999999Z").unwrap(), TS_MAX);
        assert!(check_ts(TS_MIN).is_ok() && check_ts(TS_MAX).is_ok());
        assert!(check_ts(TS_MIN - 1).unwrap_err().contains("before 1970"));
        assert!(check_ts(TS_MAX + 1).unwrap_err().contains("after 9999"));
        assert!(check_ts(i64::MAX).is_err() && check_ts(i64::MIN).is_err());
    }

    #[test]
    fn value_hash_is_keyed_and_prints_as_16_hex_digits() {
        let a = ValueHash::keyed(&[1; 32], "John");
        let b = ValueHash::keyed(&[2; 32], "John");
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), 16);
        assert_eq!(a.to_string().parse::<ValueHash>().unwrap(), a);
        let json = serde_json::to_string(&a).unwrap();
        assert_eq!(serde_json::from_str::<ValueHash>(&json).unwrap(), a);
    }
}
