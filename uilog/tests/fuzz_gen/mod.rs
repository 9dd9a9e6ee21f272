//! Inputs for fuzzing the importers, shared by `tests/fuzz.rs` (a bounded proptest run in CI) and
//! `examples/fuzz.rs` (a timed run that prints figures): per importer a valid file, mutations of
//! it, and arbitrary bytes; and the check every case must pass.

#![allow(dead_code)]

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use uilog::export::{write_csv, write_jsonl, write_xes, TraceBy};
use uilog::import::{import_file, Format, ImportOptions};
use uilog::{Element, Event, EventKind, Store, ValueHash};

/// One importer under test: its name, the format it is asked for, the file extension, and a valid
/// file to mutate.
pub struct Target {
    pub name: &'static str,
    pub format: Format,
    pub ext: &'static str,
    pub valid: Vec<u8>,
}

/// The five importers, each with a valid file that uses what its format has: quoted multi-line
/// fields, every column, nested XES attributes.
pub fn targets() -> Vec<Target> {
    let store = varied_store();
    let mut csv = Vec::new();
    write_csv(&store, &mut csv).unwrap();
    let mut jsonl = Vec::new();
    write_jsonl(&store, &mut jsonl).unwrap();
    let mut xes = Vec::new();
    write_xes(&store, &mut xes, TraceBy::Case).unwrap();
    // A nested attribute, which the export does not write, for the nesting code.
    let nested = "<event>\n\t\t\t<string key=\"concept:name\" value=\"n\"/>\n\t\t\t<date key=\"time:timestamp\" value=\"2024-01-02T09:00:00Z\"/>\n\t\t\t<list key=\"l\"><string key=\"a\" value=\"1\"><int key=\"b\" value=\"2\"/></string></list>\n\t\t</event>\n\t</trace>";
    let xes = String::from_utf8(xes)
        .unwrap()
        .replacen(
            "</event>\n\t</trace>",
            &format!("</event>\n\t\t{nested}"),
            1,
        )
        .into_bytes();
    vec![
        Target {
            name: "taskmine-csv",
            format: Format::Taskmine,
            ext: "csv",
            valid: csv,
        },
        Target {
            name: "action-logger-csv",
            format: Format::Rpa,
            ext: "csv",
            valid: action_logger().into_bytes(),
        },
        Target {
            name: "process-mining-csv",
            format: Format::ProcessMining,
            ext: "csv",
            valid: process_mining().into_bytes(),
        },
        Target {
            name: "xes",
            format: Format::Xes,
            ext: "xes",
            valid: xes,
        },
        Target {
            name: "jsonl",
            format: Format::Jsonl,
            ext: "jsonl",
            valid: jsonl,
        },
    ]
}

fn varied_store() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    let events: Vec<Event> = (0..12)
        .map(|i| {
            let mut e = Event::new(
                ["mon", "tue, late"][i % 2],
                "u1",
                1_700_000_000_000_000 + i as i64 * 1_000_001,
                EventKind::ALL[i % EventKind::ALL.len()],
            );
            e.app = "soffice,calc".into();
            e.window = ["Invoice – Calc", "two\nlines", "q\"uote"][i % 3].into();
            if i % 2 == 0 {
                e.element = Some(Element {
                    role: Some("button".into()),
                    name: Some("OK".into()),
                    id: Some(format!("b{i}")),
                    path: Some("frame 'x' / push button 'OK'[2]".into()),
                });
                e.x = Some(i as i32);
                e.y = Some(-3);
            }
            if i % 3 == 0 {
                e.text = Some(format!("typed <{i}> & \"q\"\r\n"));
                e.value_hash = Some(ValueHash::keyed(&[1; 32], "x"));
                e.case = Some(format!("case {i}"));
            }
            e.attrs
                .insert("url".into(), format!("https://e.org/?q={i}"));
            e
        })
        .collect();
    store
        .write_batch(None, "fuzz", |s| -> uilog::Result<()> {
            events.iter().try_for_each(|e| s.push(e))
        })
        .unwrap();
    store
}

fn action_logger() -> String {
    let mut s = String::from("\u{feff}\"timeStamp\",\"userID\",\"targetApp\",\"eventType\",\"url\",\"content\",\"target.workbookName\",\"target.sheetName\",\"target.id\",\"target.tagName\",\"target.name\",\"target.value\",\"target.innerHTML\",\"x\",\"y\"\n");
    for i in 0..8 {
        s.push_str(&format!(
            "\"2019-10-21T00:10:{:02}.994Z\",\"{}\",\"{}\",\"{}\",\"https://forms.example/{i}\",\"Lucja {i}\",\"S.xlsx\",\"Sheet1\",\"{}\",\"INPUT\",\"First name\",\"v{i}\",\"<div>\n<em>Submit</em>\n</div>\",\"{}.5\",\"{i}\"\n",
            i * 3,
            if i % 3 == 0 { "" } else { "vleno" },
            ["Excel", "Chrome", "OS-Clipboard"][i % 3],
            ["copyCell", "paste", "clickButton", "editField"][i % 4],
            ["A51", "/html/body/div[2]/form/input[3]", "PhoneNumber"][i % 3],
            i * 10,
        ));
    }
    s
}

fn process_mining() -> String {
    let mut s = String::from(
        "case:concept:name;concept:name;time:timestamp;org:resource;lifecycle:transition\n",
    );
    for i in 0..10 {
        s.push_str(&format!(
            "c{};\"Register; request\";2020-02-12 17:11:{:02}:465;r{};complete\n",
            i / 3,
            i,
            i % 2
        ));
    }
    s
}

/// Bytes that matter to the formats' syntax, made likely in mutations.
const SPECIAL: &[u8] = b"\",;\t\r\n<>/=&{}[]:\\\0\xff\xfe\xef\xbb\xbf-.0123456789eE+ ";

/// Values that sit at the edges of what the importers accept, put in place of a field's value.
const EDGE_VALUES: &[&str] = &[
    "10000-01-01T00:00:00Z",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59.999999-01:00",
    "1970-01-01T00:00:00Z",
    "1969-12-31T23:59:59.999999Z",
    "2020-02-12 17:11:14:465",
    "-1",
    "9223372036854775807",
    "-9223372036854775808",
    "253402300800000000",
    "6.5",
    "-2147483648.4",
    "2147483648",
    "1e309",
    "NaN",
    "/html/body/div[2]/form/input[3]",
    "div.form > input:nth-child(2)",
    "",
    "\u{202e}\u{feff}",
    "\u{1b}[2J",
    "😀",
    "click",
    "copy",
    "paste",
    "idle_start",
    "focus",
    "ffffffffffffffff",
    "{\"a\":\"b\"}",
    "{\"a\":1}",
];

/// `valid` changed by `edits` random edits drawn from `seed`: byte flips, inserted and deleted
/// bytes and runs, duplicated and moved chunks, a truncation, a field's value replaced by an edge
/// value (which keeps the file's syntax, so the edits reach the code that reads values).
pub fn mutate(valid: &[u8], seed: u64, edits: usize) -> Vec<u8> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut v = valid.to_vec();
    for _ in 0..edits {
        let len = v.len();
        let at = if len == 0 {
            0
        } else {
            rng.random_range(0..len)
        };
        match rng.random_range(0..10) {
            8 | 9 if len > 0 => {
                // The value around `at`, between the nearest separators.
                let sep = |c: &u8| b",;\t\n\r\"<>=:".contains(c);
                let start = v[..at].iter().rposition(sep).map_or(0, |i| i + 1);
                let end = v[at..].iter().position(sep).map_or(len, |i| at + i);
                let value = EDGE_VALUES[rng.random_range(0..EDGE_VALUES.len())];
                v.splice(start..end, value.bytes());
            }
            0 if len > 0 => v[at] = rng.random(),
            1 if len > 0 => v[at] = SPECIAL[rng.random_range(0..SPECIAL.len())],
            2 => v.insert(at, SPECIAL[rng.random_range(0..SPECIAL.len())]),
            3 if len > 0 => {
                let end = (at + rng.random_range(1..64)).min(len);
                v.drain(at..end);
            }
            4 if len > 0 => {
                let end = (at + rng.random_range(1..256)).min(len);
                let chunk = v[at..end].to_vec();
                let to = rng.random_range(0..=v.len());
                v.splice(to..to, chunk);
            }
            5 if len > 0 => v.truncate(at),
            6 => {
                let n = rng.random_range(1..16);
                let run: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                v.splice(at..at, run);
            }
            _ if len > 0 => {
                // Repeat a chunk many times: deep nesting, long fields, many columns.
                let end = (at + rng.random_range(1..32)).min(len);
                let chunk = v[at..end].to_vec();
                let times = rng.random_range(2..2000);
                let rep: Vec<u8> = chunk
                    .iter()
                    .copied()
                    .cycle()
                    .take(chunk.len() * times)
                    .collect();
                v.splice(at..at, rep);
            }
            _ => {}
        }
    }
    v
}

/// Inputs for one target: arbitrary bytes, or its valid file with 1 to 8 edits.
pub fn inputs(valid: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        1 => prop::collection::vec(any::<u8>(), 0..2048),
        1 => prop::collection::vec(prop::sample::select(SPECIAL.to_vec()), 0..512),
        4 => (any::<u64>(), 1..8usize).prop_map(move |(seed, edits)| mutate(&valid, seed, edits)),
    ]
}

/// What one case did.
pub struct Outcome {
    pub imported: bool,
    pub elapsed: Duration,
    /// The import panicked (the message went to stderr).
    pub panicked: bool,
    /// Why the case broke a rule, if it did (an error without the file name, over one line or too
    /// long, a store changed by a failed import).
    pub violation: Option<String>,
}

/// A store with two events, so that "unchanged on error" means something.
pub fn seeded_store() -> Store {
    let mut store = Store::open_in_memory().unwrap();
    let a = Event::new("seed", "u", 1_700_000_000_000_000, EventKind::Click);
    let b = Event::new("seed", "u", 1_700_000_001_000_000, EventKind::Type);
    store
        .write_batch(None, "seed", |s| -> uilog::Result<()> {
            s.push(&a)?;
            s.push(&b)
        })
        .unwrap();
    store
}

/// The longest error line allowed: the error type caps path, field and message (80 + 40 + 170
/// characters) and adds a few separators.
pub const MAX_ERROR_CHARS: usize = 320;

/// Writes `bytes` to `path`, imports it as `format` into a seeded store and checks the rules.
pub fn run_case(path: &Path, bytes: &[u8], format: Format) -> Outcome {
    std::fs::write(path, bytes).unwrap();
    let mut store = seeded_store();
    let before = store.events().unwrap();
    let opts = ImportOptions {
        format,
        ..ImportOptions::default()
    };
    let start = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| {
        import_file(&mut store, path, &opts, &mut |_| {})
    }));
    let elapsed = start.elapsed();
    let Ok(result) = result else {
        return Outcome {
            imported: false,
            elapsed,
            panicked: true,
            violation: None,
        };
    };
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let violation = match &result {
        Ok(_) => None,
        Err(e) => {
            let text = e.to_string();
            let after = store.events().unwrap();
            if !text.contains(&name) {
                Some(format!("error without the file name: {text:?}"))
            } else if text.contains('\n') || text.contains('\r') {
                Some(format!("error over several lines: {text:?}"))
            } else if text.chars().count() > MAX_ERROR_CHARS {
                Some(format!("error of {} chars", text.chars().count()))
            } else if after != before {
                Some(format!("store changed by a failed import: {text}"))
            } else {
                None
            }
        }
    };
    Outcome {
        imported: result.is_ok(),
        elapsed,
        panicked: false,
        violation,
    }
}
