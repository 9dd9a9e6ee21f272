//! Importers and exporters end to end: round trips, idempotent imports, the real Leno logs, and
//! every importer's error paths (each must name file, line and field and leave the store as it was).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use uilog::export::{write_csv, write_jsonl, write_xes, TraceBy};
use uilog::import::{import_file, Format, ImportOptions};
use uilog::{BatchOutcome, Element, Error, Event, EventKind, Store, ValueHash};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn opts(format: Format) -> ImportOptions {
    ImportOptions {
        format,
        ..ImportOptions::default()
    }
}

fn import(store: &mut Store, path: &Path, format: Format) -> uilog::Result<uilog::ImportSummary> {
    import_file(store, path, &opts(format), &mut |_| {})
}

/// Events with every field used, awkward strings included, across sessions, users and hosts.
fn varied_events(n: usize) -> Vec<Event> {
    let kinds = EventKind::ALL;
    (0..n)
        .map(|i| {
            let session = ["monday", "tuesday, late", "wed\"nesday"][i % 3];
            let user = ["u1", "ü2"][i % 2];
            // Ties in time are kept in insertion order.
            let ts = 1_700_000_000_000_000 + (i as i64 / 2) * 1_000_001;
            let mut e = Event::new(session, user, ts, kinds[i % kinds.len()]);
            e.host = if i % 5 == 0 {
                String::new()
            } else {
                "host-a".into()
            };
            e.app = ["xterm", "firefox", "soffice,calc"][i % 3].into();
            e.window = match i % 4 {
                0 => format!("Invoice {i} – Calc"),
                1 => "line one\nline two".into(),
                2 => String::new(),
                _ => "quote \" and , comma".into(),
            };
            e.element = match i % 3 {
                0 => None,
                1 => Some(Element {
                    role: Some("button".into()),
                    name: Some("OK".into()),
                    id: None,
                    path: Some("frame 'x' / push button 'OK'[2]".into()),
                }),
                _ => Some(Element {
                    role: None,
                    name: None,
                    id: Some(format!("cell-{i}")),
                    path: None,
                }),
            };
            if i % 2 == 0 {
                e.x = Some(i as i32 - 5);
                e.y = Some(-(i as i32));
                e.wx = Some(0);
                e.wy = Some(i32::MAX);
            }
            if i % 3 == 1 {
                e.text = Some(format!("typed <{i}> & \"quoted\"\r\n\ttab"));
                e.value_hash = Some(ValueHash::keyed(&[7; 32], &i.to_string()));
            }
            if i % 4 != 0 {
                e.case = Some(format!("case {}", i / 4));
            }
            if i % 2 == 1 {
                e.attrs
                    .insert("url".into(), format!("https://example.org/?q={i}&x=<y>"));
                e.attrs.insert("event_type".into(), "clickButton".into());
                e.attrs.insert("app".into(), "shadows a field".into());
            }
            e
        })
        .collect()
}

fn store_with(events: &[Event]) -> Store {
    let mut store = Store::open_in_memory().unwrap();
    store
        .write_batch(None, "test", |sink| -> uilog::Result<()> {
            for e in events {
                sink.push(e)?;
            }
            Ok(())
        })
        .unwrap();
    store
}

fn csv_of(store: &Store) -> Vec<u8> {
    let mut out = Vec::new();
    write_csv(store, &mut out).unwrap();
    out
}

#[test]
fn csv_round_trip_is_byte_identical_and_keeps_every_field() {
    let a = store_with(&varied_events(500));
    let first = csv_of(&a);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    std::fs::write(&path, &first).unwrap();

    let mut b = Store::open_in_memory().unwrap();
    let mut last_progress = 0;
    let summary = import_file(&mut b, &path, &opts(Format::Auto), &mut |n| {
        last_progress = n
    })
    .unwrap();
    assert_eq!(summary.format, Format::Taskmine);
    assert_eq!(summary.outcome, BatchOutcome::Written { events: 500 });
    assert_eq!(last_progress, first.len() as u64);
    assert_eq!(b.events().unwrap(), a.events().unwrap());
    assert_eq!(b.stats().unwrap(), a.stats().unwrap());
    let second = csv_of(&b);
    assert!(first == second, "the second export differs from the first");
}

#[test]
fn jsonl_round_trip_keeps_every_field() {
    let a = store_with(&varied_events(200));
    let mut out = Vec::new();
    assert_eq!(write_jsonl(&a, &mut out).unwrap(), 200);
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    std::fs::write(&path, &out).unwrap();
    let mut b = Store::open_in_memory().unwrap();
    import(&mut b, &path, Format::Auto).unwrap();
    assert_eq!(b.events().unwrap(), a.events().unwrap());
}

#[test]
fn importing_the_same_file_twice_writes_it_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.csv");
    std::fs::write(&path, csv_of(&store_with(&varied_events(30)))).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let first = import(&mut store, &path, Format::Auto).unwrap();
    assert_eq!(first.outcome, BatchOutcome::Written { events: 30 });
    let stats = store.stats().unwrap();
    let again = import(&mut store, &path, Format::Taskmine).unwrap();
    assert_eq!(again.outcome, BatchOutcome::AlreadyWritten);
    assert_eq!(store.stats().unwrap(), stats);
    // Options that change the result make it a different batch.
    let renamed = ImportOptions {
        session: Some("other".into()),
        ..opts(Format::Taskmine)
    };
    let third = import_file(&mut store, &path, &renamed, &mut |_| {}).unwrap();
    assert_eq!(third.outcome, BatchOutcome::Written { events: 30 });
    assert_eq!(store.stats().unwrap().events, 60);
}

// ---------------------------------------------------------------------------------------------
// The real logs of Leno et al. (tests/data/leno-rpm, Apache-2.0).

fn count_by<K: Ord>(events: &[Event], key: impl Fn(&Event) -> K) -> BTreeMap<K, usize> {
    let mut m = BTreeMap::new();
    for e in events {
        *m.entry(key(e)).or_default() += 1;
    }
    m
}

#[test]
fn the_action_logger_recording_imports_with_every_row() {
    let path = data("leno-rpm/StudentRecord.csv");
    let mut store = Store::open_in_memory().unwrap();
    let summary = import(&mut store, &path, Format::Auto).unwrap();
    assert_eq!(summary.format, Format::Rpa);
    assert_eq!(summary.outcome, BatchOutcome::Written { events: 2409 });
    let events = store.events().unwrap();
    assert_eq!(events.len(), 2409);
    assert!(events.iter().all(|e| e.session == "StudentRecord"));

    // The clipboard rows have no userID and take the user of the row before them.
    let clipboard: Vec<_> = events.iter().filter(|e| e.app == "OS-Clipboard").collect();
    assert!(!clipboard.is_empty());
    assert!(
        events.iter().all(|e| e.user == "vleno"),
        "{:?}",
        count_by(&events, |e| e.user.clone())
    );

    let types = count_by(&events, |e| e.attrs["event_type"].clone());
    let kinds = count_by(&events, |e| e.kind);
    assert_eq!(kinds[&EventKind::Copy], types["copy"]);
    assert_eq!(kinds[&EventKind::Paste], types["paste"]);
    assert_eq!(kinds[&EventKind::Type], types["editField"]);
    assert_eq!(
        kinds[&EventKind::Click],
        types["clickTextField"]
            + types["clickButton"]
            + types["clickLink"]
            + types["clickCheckbox"]
    );
    assert_eq!(kinds[&EventKind::Other], types["getCell"]);

    // The HTML of clicked elements is kept as it was, quotes and escapes included.
    let link = events
        .iter()
        .find(|e| e.attrs.get("event_type").map(String::as_str) == Some("clickLink"))
        .unwrap();
    assert!(
        link.attrs["inner_html"].contains("<b>Add another response.</b>"),
        "{link:?}"
    );
    assert_eq!(link.element.as_ref().unwrap().role.as_deref(), Some("A"));

    // Data flow: a copied value and the paste of it carry the same value hash.
    let copied = events.iter().find(|e| e.kind == EventKind::Copy).unwrap();
    assert_eq!(copied.text.as_deref(), Some("John"));
    let pasted = events
        .iter()
        .find(|e| e.kind == EventKind::Paste && e.text.as_deref() == Some("John"))
        .unwrap();
    assert_eq!(pasted.value_hash, copied.value_hash);
    assert_eq!(
        pasted.value_hash,
        Some(ValueHash::keyed(&ValueHash::IMPORT_KEY, "John"))
    );
    assert_eq!(
        pasted.window,
        "https://forms.zoho.com/universityofmelbourne/form/NewRecord"
    );
    let cell = events.iter().find(|e| e.app == "Excel").unwrap();
    assert_eq!(cell.window, "StudentRecords.xlsx/Sheet1");
    assert_eq!(
        cell.attrs["cell"],
        cell.element.as_ref().unwrap().id.clone().unwrap()
    );

    // Timestamps out of order in the file come back in time order.
    assert!(events.windows(2).all(|w| w[0].ts <= w[1].ts));
}

#[test]
fn the_segmented_recording_keeps_its_cases() {
    let mut store = Store::open_in_memory().unwrap();
    let s = import(
        &mut store,
        &data("leno-rpm/StudentRecord_segmented.csv"),
        Format::Auto,
    )
    .unwrap();
    assert_eq!(s.outcome, BatchOutcome::Written { events: 1539 });
    let events = store.events().unwrap();
    let cases = count_by(&events, |e| e.case.clone().expect("every row has a caseID"));
    assert_eq!(cases.len(), 50);
}

#[test]
fn the_synthetic_log_reads_the_same_from_xes_and_from_csv() {
    let mut xes = Store::open_in_memory().unwrap();
    let s = import(&mut xes, &data("leno-rpm/log1.xes"), Format::Auto).unwrap();
    assert_eq!(
        (s.format, s.outcome),
        (Format::Xes, BatchOutcome::Written { events: 1400 })
    );
    let mut csv = Store::open_in_memory().unwrap();
    let s = import(&mut csv, &data("leno-rpm/log1_segmented.csv"), Format::Auto).unwrap();
    assert_eq!(s.outcome, BatchOutcome::Written { events: 1400 });

    let from_xes = xes.events().unwrap();
    let from_csv = csv.events().unwrap();
    assert_eq!(count_by(&from_xes, |e| e.case.clone().unwrap()).len(), 100);
    assert_eq!(count_by(&from_csv, |e| e.case.clone().unwrap()).len(), 100);
    let label = |e: &Event| (e.attrs["event_type"].clone(), e.kind, e.app.clone());
    assert_eq!(count_by(&from_xes, label), count_by(&from_csv, label));
    let typed = from_xes
        .iter()
        .find(|e| e.attrs["event_type"] == "insertValue")
        .unwrap();
    assert_eq!(typed.kind, EventKind::Type);
    assert_eq!(typed.app, "Web");
    assert!(
        typed.text.is_some() && typed.value_hash.is_some(),
        "{typed:?}"
    );
    assert_eq!(typed.attrs["lifecycle:transition"], "complete");
}

// ---------------------------------------------------------------------------------------------
// Process-mining CSV and mapping files.

#[test]
fn process_mining_columns_become_case_user_and_attrs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claims.csv");
    std::fs::write(
        &path,
        "case:concept:name,concept:name,time:timestamp,org:resource,lifecycle:transition,cost\n\
         c1,Register request,2024-01-02 09:00:00,Pete,complete,50\n\
         c1,copyCell,2024-01-02T09:05:00+01:00,Pete,complete,\n\
         c2,Register request,2024-01-02T10:00:00Z,Sue,start,20\n",
    )
    .unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let s = import(&mut store, &path, Format::Auto).unwrap();
    assert_eq!(s.format, Format::ProcessMining);
    let events = store.events().unwrap();
    assert_eq!(events.len(), 3);
    let reg = events.iter().find(|e| e.user == "Sue").unwrap();
    assert_eq!(reg.case.as_deref(), Some("c2"));
    assert_eq!(reg.kind, EventKind::Other);
    assert_eq!(reg.attrs["event_type"], "Register request");
    assert_eq!(reg.attrs["lifecycle:transition"], "start");
    assert_eq!(reg.attrs["cost"], "20");
    let copy = events.iter().find(|e| e.kind == EventKind::Copy).unwrap();
    assert_eq!(copy.ts, uilog::parse_ts("2024-01-02T08:05:00Z").unwrap());
    assert!(!copy.attrs.contains_key("cost"));
}

#[test]
fn smartrpa_logs_and_semicolon_csv_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let smart = dir.path().join("2020-02-25_23-21-57.csv");
    std::fs::write(
        &smart,
        "timestamp,user,category,application,event_type,clipboard_content,workbook,current_worksheet,cell_content,cell_range,browser_url,tag_category,tag_name,tag_value\n\
         2020-02-12 17:11:14:465,marco,MicrosoftOffice,Microsoft Excel,editCellSheet,,Book1,Sheet1,42,A1,,,,\n\
         2020-02-12 17:11:15:001,,OperatingSystem,,copy,42,,,,,,,,\n\
         2020-02-12 17:11:16:250,marco,Browser,Chrome,changeField,,,,,,https://erp.example/new,INPUT,amount,42\n",
    )
    .unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let s = import(&mut store, &smart, Format::Auto).unwrap();
    assert_eq!(
        (s.format, s.outcome),
        (Format::Rpa, BatchOutcome::Written { events: 3 })
    );
    let events = store.events().unwrap();
    assert_eq!(
        events[0].ts,
        uilog::parse_ts("2020-02-12T17:11:14.465Z").unwrap()
    );
    assert!(events.iter().all(|e| e.user == "marco"));
    assert_eq!(
        count_by(&events, |e| e.kind),
        BTreeMap::from([(EventKind::Type, 2), (EventKind::Copy, 1)])
    );
    // The cell edit, the copy and the field change all carry the same value: data flow is visible.
    let hashes: std::collections::BTreeSet<_> =
        events.iter().map(|e| e.value_hash.unwrap()).collect();
    assert_eq!(hashes.len(), 1);
    assert_eq!(events[0].window, "Book1/Sheet1");
    assert_eq!(events[2].window, "https://erp.example/new");

    let semi = dir.path().join("semi.csv");
    std::fs::write(&semi, "case:concept:name;concept:name;time:timestamp\nc1;Approve, then pay;2024-01-02T09:00:00Z\n").unwrap();
    let s = import(&mut store, &semi, Format::Auto).unwrap();
    assert_eq!(s.format, Format::ProcessMining);
    let e = store
        .events()
        .unwrap()
        .into_iter()
        .find(|e| e.session == "semi")
        .unwrap();
    assert_eq!(e.attrs["event_type"], "Approve, then pay");
}

#[test]
fn a_mapping_file_renames_source_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custom.csv");
    std::fs::write(
        &path,
        "When,Who,What,Program,Field\n2024-01-02T09:00:00Z,ann,clickButton,Calc,Save\n",
    )
    .unwrap();
    let mapping = dir.path().join("map.yaml");
    std::fs::write(
        &mapping,
        "When: timeStamp\nWho: userID\nWhat: eventType\nProgram: targetApp\nField: target.name\n",
    )
    .unwrap();
    let mut store = Store::open_in_memory().unwrap();
    // Without the mapping the header says nothing the importer knows.
    assert!(import(&mut store, &path, Format::Auto).is_err());
    let with = ImportOptions {
        mapping: Some(mapping),
        ..ImportOptions::default()
    };
    let s = import_file(&mut store, &path, &with, &mut |_| {}).unwrap();
    assert_eq!(s.format, Format::Rpa);
    let e = &store.events().unwrap()[0];
    assert_eq!(
        (e.user.as_str(), e.app.as_str(), e.kind),
        ("ann", "Calc", EventKind::Click)
    );
    assert_eq!(e.element.as_ref().unwrap().name.as_deref(), Some("Save"));
}

// ---------------------------------------------------------------------------------------------
// XES export.

fn count_xes_events(xml: &[u8]) -> (usize, usize) {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut buf = Vec::new();
    let (mut events, mut traces) = (0, 0);
    loop {
        match reader.read_event_into(&mut buf).expect("well-formed XML") {
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"event" => events += 1,
            quick_xml::events::Event::Start(e) if e.name().as_ref() == b"trace" => traces += 1,
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                for a in e.attributes() {
                    a.expect("well-formed attribute")
                        .decode_and_unescape_value(reader.decoder())
                        .expect("valid escapes");
                }
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    (events, traces)
}

#[test]
fn xes_export_of_ten_thousand_events_is_well_formed_with_one_event_element_each() {
    let events = varied_events(10_000);
    let store = store_with(&events);
    let sessions = count_by(&events, |e| {
        (e.session.clone(), e.user.clone(), e.host.clone())
    })
    .len();
    let mut out = Vec::new();
    assert_eq!(
        write_xes(&store, &mut out, TraceBy::Session).unwrap(),
        10_000
    );
    assert_eq!(count_xes_events(&out), (10_000, sessions));

    let mut by_case = Vec::new();
    assert_eq!(
        write_xes(&store, &mut by_case, TraceBy::Case).unwrap(),
        10_000
    );
    let cased: std::collections::BTreeSet<_> = store
        .events()
        .unwrap()
        .into_iter()
        .map(|e| (e.session, e.user, e.host, e.case))
        .collect();
    assert_eq!(count_xes_events(&by_case), (10_000, cased.len()));
}

#[test]
fn exported_xes_reads_back_with_values_unescaped() {
    let events = varied_events(60);
    let store = store_with(&events);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xes");
    let mut out = Vec::new();
    write_xes(&store, &mut out, TraceBy::Session).unwrap();
    std::fs::write(&path, &out).unwrap();
    let mut back = Store::open_in_memory().unwrap();
    import(&mut back, &path, Format::Auto).unwrap();
    let original = store.events().unwrap();
    let read = back.events().unwrap();
    assert_eq!(read.len(), original.len());
    let key = |e: &Event| {
        (
            e.ts,
            e.kind,
            e.app.clone(),
            e.window.clone(),
            e.text.clone(),
            e.case.clone(),
        )
    };
    let mut a: Vec<_> = original.iter().map(key).collect();
    let mut b: Vec<_> = read.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

#[test]
fn ocel_export_is_json_whose_references_all_resolve() {
    let events = varied_events(300);
    let store = store_with(&events);
    let mut out = Vec::new();
    assert_eq!(uilog::export::write_ocel(&store, &mut out).unwrap(), 300);
    let ocel: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    let objects: std::collections::HashSet<&str> = ocel["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    let mut declared: BTreeMap<&str, std::collections::HashSet<&str>> = BTreeMap::new();
    for t in ocel["eventTypes"].as_array().unwrap() {
        let attrs = t["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap());
        declared.insert(t["name"].as_str().unwrap(), attrs.collect());
    }
    let out_events = ocel["events"].as_array().unwrap();
    assert_eq!(out_events.len(), 300);
    let mut cases = 0;
    for e in out_events {
        let ty = e["type"].as_str().unwrap();
        let attrs = &declared[ty];
        for a in e["attributes"].as_array().unwrap() {
            assert!(
                attrs.contains(a["name"].as_str().unwrap()),
                "{a} not declared for {ty}"
            );
        }
        for r in e["relationships"].as_array().unwrap() {
            assert!(objects.contains(r["objectId"].as_str().unwrap()), "{r}");
            cases += usize::from(r["qualifier"] == "case");
        }
        assert!(uilog::parse_ts(e["time"].as_str().unwrap()).is_ok());
    }
    assert_eq!(cases, events.iter().filter(|e| e.case.is_some()).count());
}

// ---------------------------------------------------------------------------------------------
// Bad input: each importer's error paths.

/// Imports `body` as `name` into a store that already holds events and checks that it fails with
/// an error whose message contains every one of `want`, leaving the store exactly as it was.
fn fails_cleanly(name: &str, body: &[u8], format: Format, want: &[&str]) -> Error {
    let mut store = store_with(&varied_events(12));
    let before = (store.events().unwrap(), store.stats().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, body).unwrap();
    let err = import(&mut store, &path, format).expect_err("the import must fail");
    let msg = err.to_string();
    assert!(msg.contains(name), "no file name in {msg:?}");
    for w in want {
        assert!(msg.contains(w), "{w:?} not in {msg:?}");
    }
    assert_eq!((store.events().unwrap(), store.stats().unwrap()), before);
    // The failed batch must not block the key: a fixed file imports.
    err
}

fn parse_at(err: &Error) -> (u64, String) {
    match err {
        Error::Parse { line, field, .. } => (*line, field.clone()),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

const TM_HEADER: &str = "session,user,host,ts,kind,app,window,element_role,element_name,element_id,x,y,wx,wy,text,value_hash,case,attrs\n";

#[test]
fn taskmine_csv_errors_name_line_and_field() {
    let ok = "s,u,h,2024-01-02T09:00:00.000000Z,click,app,\"two\nlines\",,,,,,,,,,,\n";
    let bad_ts = format!("{TM_HEADER}{ok}s,u,h,yesterday,click,app,w,,,,,,,,,,,\n");
    let err = fails_cleanly(
        "bad_ts.csv",
        bad_ts.as_bytes(),
        Format::Taskmine,
        &[":4:", "`ts`", "yesterday"],
    );
    assert_eq!(parse_at(&err), (4, "ts".into()));

    let bad_kind =
        format!("{TM_HEADER}{ok}{ok}s,u,h,2024-01-02T09:00:00Z,keypress,app,w,,,,,,,,,,,\n");
    assert_eq!(
        parse_at(&fails_cleanly(
            "kind.csv",
            bad_kind.as_bytes(),
            Format::Taskmine,
            &["keypress"]
        )),
        (6, "kind".into())
    );

    // A field after a multi-line field of the same record is on a later line.
    let late =
        format!("{TM_HEADER}s,u,h,2024-01-02T09:00:00Z,click,app,\"a\nb\nc\",,,,x1,,,,,,,\n");
    assert_eq!(
        parse_at(&fails_cleanly(
            "late.csv",
            late.as_bytes(),
            Format::Taskmine,
            &["x1"]
        )),
        (4, "x".into())
    );

    let missing = "session,user,host,ts,app\ns,u,h,2024-01-02T09:00:00Z,a\n";
    assert_eq!(
        parse_at(&fails_cleanly(
            "missing.csv",
            missing.as_bytes(),
            Format::Taskmine,
            &[":1:", "kind"]
        )),
        (1, "kind".into())
    );

    let mut utf8 = format!("{TM_HEADER}{ok}").into_bytes();
    utf8.extend_from_slice(b"s,u,h,2024-01-02T09:00:00Z,click,bad\xff\xfeapp,w,,,,,,,,,,,\n");
    assert_eq!(
        parse_at(&fails_cleanly(
            "utf8.csv",
            &utf8,
            Format::Taskmine,
            &["UTF-8"]
        )),
        (4, "app".into())
    );

    let err = fails_cleanly("empty.csv", b"", Format::Taskmine, &["empty"]);
    assert!(matches!(err, Error::Input { .. }), "{err:?}");
    fails_cleanly("empty2.csv", b"", Format::Auto, &["empty"]);

    let short = format!("{TM_HEADER}s,u,h,2024-01-02T09:00:00Z,click\n");
    assert_eq!(
        parse_at(&fails_cleanly(
            "short.csv",
            short.as_bytes(),
            Format::Taskmine,
            &["fields"]
        ))
        .0,
        2
    );
}

const RPA_HEADER: &str = "\"timeStamp\",\"userID\",\"targetApp\",\"eventType\",\"url\",\"content\",\"target.innerHTML\"\n";

#[test]
fn rpa_csv_errors_name_line_and_field() {
    // A quoted multi-line HTML field spans lines 2-4; the bad timestamp is on line 5.
    let body = format!(
        "{RPA_HEADER}\"2019-10-21T00:10:08.994Z\",\"vleno\",\"Chrome\",\"clickButton\",,,\"<div>\n<em>Submit</em>\n</div>\"\n\
         \"21/10/2019 00:10\",\"vleno\",\"Chrome\",\"clickButton\",,,\n"
    );
    let err = fails_cleanly(
        "bad_ts.csv",
        body.as_bytes(),
        Format::Rpa,
        &[":5:", "timeStamp", "21/10/2019"],
    );
    assert_eq!(parse_at(&err), (5, "timeStamp".into()));

    let no_type = "timeStamp,userID,targetApp\n2019-10-21T00:10:08.994Z,vleno,Excel\n";
    assert_eq!(
        parse_at(&fails_cleanly(
            "no_type.csv",
            no_type.as_bytes(),
            Format::Rpa,
            &["eventType"]
        )),
        (1, "eventType".into())
    );
    let no_ts = "userID,eventType\nvleno,copy\n";
    assert_eq!(
        parse_at(&fails_cleanly(
            "no_ts.csv",
            no_ts.as_bytes(),
            Format::Rpa,
            &["timeStamp"]
        )),
        (1, "timeStamp".into())
    );

    let mut utf8 = RPA_HEADER.as_bytes().to_vec();
    utf8.extend_from_slice(
        b"\"2019-10-21T00:10:08.994Z\",,\"OS-Clipboard\",\"copy\",,\"Jo\xc3\x28hn\",\n",
    );
    assert_eq!(
        parse_at(&fails_cleanly("utf8.csv", &utf8, Format::Rpa, &["UTF-8"])),
        (2, "content".into())
    );

    let empty_type = format!("{RPA_HEADER}\"2019-10-21T00:10:08.994Z\",\"vleno\",\"Excel\",,,,\n");
    assert_eq!(
        parse_at(&fails_cleanly(
            "empty_type.csv",
            empty_type.as_bytes(),
            Format::Rpa,
            &["event type"]
        )),
        (2, "eventType".into())
    );

    assert!(matches!(
        fails_cleanly("empty.csv", b"", Format::Rpa, &["empty"]),
        Error::Input { .. }
    ));
}

#[test]
fn rpa_rows_without_a_user_take_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clip.csv");
    std::fs::write(
        &path,
        format!(
            // With the byte-order mark Excel writes.
            "\u{feff}{RPA_HEADER}\"2019-10-21T00:10:07Z\",,\"OS-Clipboard\",\"copy\",,\"first\",\n\
             \"2019-10-21T00:10:08Z\",\"ann\",\"Excel\",\"copyCell\",,\"x\",\"<p>\nmulti\n</p>\"\n\
             \"2019-10-21T00:10:09Z\",,\"OS-Clipboard\",\"copy\",,\"x\",\n"
        ),
    )
    .unwrap();
    let mut store = Store::open_in_memory().unwrap();
    import(&mut store, &path, Format::Rpa).unwrap();
    let users: Vec<_> = store
        .events()
        .unwrap()
        .into_iter()
        .map(|e| e.user)
        .collect();
    assert_eq!(users.len(), 3);
    // Sessions are (name, user): the unknown user's event sorts into its own session.
    assert_eq!(users.iter().filter(|u| *u == "unknown").count(), 1);
    assert_eq!(users.iter().filter(|u| *u == "ann").count(), 2);
    let html = store
        .events()
        .unwrap()
        .into_iter()
        .find(|e| e.app == "Excel")
        .unwrap();
    assert_eq!(html.attrs["inner_html"], "<p>\nmulti\n</p>");
}

#[test]
fn process_mining_csv_errors_name_line_and_field() {
    let header = "case:concept:name,concept:name,time:timestamp,org:resource\n";
    let body = format!("{header}c1,A,2024-01-02T09:00:00Z,Pete\nc1,B,2024-13-02T09:00:00Z,Pete\n");
    let err = fails_cleanly(
        "pm.csv",
        body.as_bytes(),
        Format::ProcessMining,
        &["time:timestamp", ":3:"],
    );
    assert_eq!(parse_at(&err), (3, "time:timestamp".into()));
    let missing = "case:concept:name,time:timestamp\nc1,2024-01-02T09:00:00Z\n";
    assert_eq!(
        parse_at(&fails_cleanly(
            "pm_missing.csv",
            missing.as_bytes(),
            Format::ProcessMining,
            &["concept:name"]
        ))
        .0,
        1
    );
    let mut utf8 = header.as_bytes().to_vec();
    utf8.extend_from_slice(b"c1,A,2024-01-02T09:00:00Z,P\xffete\n");
    assert_eq!(
        parse_at(&fails_cleanly(
            "pm_utf8.csv",
            &utf8,
            Format::ProcessMining,
            &["UTF-8"]
        )),
        (2, "org:resource".into())
    );
    fails_cleanly("pm_empty.csv", b"", Format::ProcessMining, &["empty"]);
}

const XES_HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<log xes.version=\"1.0\">\n";

fn xes_event(name: &str, ts: &str) -> String {
    format!(
        "    <event>\n      <string key=\"concept:name\" value=\"{name}\"/>\n      <date key=\"time:timestamp\" value=\"{ts}\"/>\n    </event>\n"
    )
}

#[test]
fn xes_errors_name_line_and_field() {
    let body = format!(
        "{XES_HEAD}  <trace>\n    <string key=\"concept:name\" value=\"1\"/>\n{}{}  </trace>\n</log>\n",
        xes_event("openFile", "2019-02-19T03:38:31.823+11:00"),
        xes_event("copy", "not a date")
    );
    // Lines: 1 decl, 2 log, 3 trace, 4 name, 5-8 first event, 9 <event>, 10 name, 11 the bad date.
    let err = fails_cleanly(
        "bad.xes",
        body.as_bytes(),
        Format::Xes,
        &[":11:", "time:timestamp", "not a date"],
    );
    assert_eq!(parse_at(&err), (11, "time:timestamp".into()));

    let no_ts = format!(
        "{XES_HEAD}  <trace>\n    <event>\n      <string key=\"concept:name\" value=\"copy\"/>\n    </event>\n  </trace>\n</log>\n"
    );
    assert_eq!(
        parse_at(&fails_cleanly(
            "no_ts.xes",
            no_ts.as_bytes(),
            Format::Xes,
            &["time:timestamp"]
        )),
        (4, "time:timestamp".into())
    );

    let mut utf8 = format!("{XES_HEAD}  <trace>\n    <event>\n").into_bytes();
    utf8.extend_from_slice(b"      <string key=\"concept:name\" value=\"co\xffpy\"/>\n    </event>\n  </trace>\n</log>\n");
    assert_eq!(
        parse_at(&fails_cleanly("utf8.xes", &utf8, Format::Xes, &["UTF-8"])),
        (5, "concept:name".into())
    );

    let broken = format!("{XES_HEAD}  <trace>\n    <event>\n  </trace>\n</log>\n");
    assert_eq!(
        parse_at(&fails_cleanly(
            "broken.xes",
            broken.as_bytes(),
            Format::Xes,
            &["trace"]
        ))
        .0,
        5
    );

    let unclosed = format!(
        "{XES_HEAD}  <trace>\n{}",
        xes_event("copy", "2019-02-19T03:38:31Z")
    );
    assert_eq!(
        parse_at(&fails_cleanly(
            "unclosed.xes",
            unclosed.as_bytes(),
            Format::Xes,
            &["ends inside"]
        ))
        .1,
        "trace"
    );

    assert!(matches!(
        fails_cleanly("empty.xes", b"", Format::Xes, &["empty"]),
        Error::Input { .. }
    ));
    fails_cleanly("empty2.xes", b"  \n", Format::Auto, &["empty"]);
}

#[test]
fn jsonl_errors_name_line_and_field() {
    let good = r#"{"session":"s","user":"u","ts":1700000000000000,"kind":"click"}"#;
    let bad_ts = format!(
        "{good}\n\n{}\n",
        r#"{"session":"s","user":"u","ts":"yesterday","kind":"click"}"#
    );
    let err = fails_cleanly(
        "bad.jsonl",
        bad_ts.as_bytes(),
        Format::Jsonl,
        &[":3:", "`ts`"],
    );
    assert_eq!(parse_at(&err), (3, "ts".into()));

    let missing = format!("{good}\n{}\n", r#"{"session":"s","user":"u","ts":1}"#);
    assert_eq!(
        parse_at(&fails_cleanly(
            "missing.jsonl",
            missing.as_bytes(),
            Format::Jsonl,
            &["kind"]
        )),
        (2, "kind".into())
    );

    let bad_kind = format!(
        "{}\n",
        r#"{"session":"s","user":"u","ts":1,"kind":"keypress"}"#
    );
    assert_eq!(
        parse_at(&fails_cleanly(
            "kind.jsonl",
            bad_kind.as_bytes(),
            Format::Jsonl,
            &["keypress"]
        )),
        (1, "kind".into())
    );

    let mut utf8 = format!("{good}\n").into_bytes();
    utf8.extend_from_slice(b"{\"session\":\"s\xff\",\"user\":\"u\",\"ts\":1,\"kind\":\"click\"}\n");
    assert_eq!(
        parse_at(&fails_cleanly(
            "utf8.jsonl",
            &utf8,
            Format::Jsonl,
            &["UTF-8"]
        ))
        .0,
        2
    );

    let broken = format!("{good}\n{{\"session\": \n");
    assert_eq!(
        parse_at(&fails_cleanly(
            "broken.jsonl",
            broken.as_bytes(),
            Format::Jsonl,
            &[]
        ))
        .0,
        2
    );

    assert!(matches!(
        fails_cleanly("empty.jsonl", b"\n\n", Format::Jsonl, &["empty"]),
        Error::Input { .. }
    ));
}

#[test]
fn a_failed_import_can_be_retried_once_the_file_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fix.csv");
    std::fs::write(
        &path,
        format!("{TM_HEADER}s,u,h,never,click,,,,,,,,,,,,,\n"),
    )
    .unwrap();
    let mut store = Store::open_in_memory().unwrap();
    assert!(import(&mut store, &path, Format::Taskmine).is_err());
    std::fs::write(
        &path,
        format!("{TM_HEADER}s,u,h,2024-01-02T09:00:00Z,click,,,,,,,,,,,,,\n"),
    )
    .unwrap();
    let s = import(&mut store, &path, Format::Taskmine).unwrap();
    assert_eq!(s.outcome, BatchOutcome::Written { events: 1 });
}

// ---------------------------------------------------------------------------------------------
// Round trips of arbitrary events.

mod arbitrary {
    use super::*;
    use proptest::prelude::*;

    /// Any text, with the characters CSV and JSON must quote or escape made likely.
    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z]{1,8}",
            "[ ,\"\r\n\t;a-zé–😀]{1,12}",
            any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
        ]
    }

    fn event() -> impl Strategy<Value = Event> {
        (
            (
                text(),
                text(),
                prop::option::of(text()),
                uilog::TS_MIN..=uilog::TS_MAX,
            ),
            (0..EventKind::ALL.len(), text(), prop::option::of(text())),
            (
                prop::option::of(text()),
                prop::option::of(text()),
                prop::option::of(text()),
            ),
            prop::array::uniform4(prop::option::of(any::<i32>())),
            (
                prop::option::of(text()),
                prop::option::of(any::<u64>()),
                prop::option::of(text()),
            ),
            prop::collection::btree_map(text(), any::<String>(), 0..3),
        )
            .prop_map(
                |(
                    (session, user, host, ts),
                    (kind, app, window),
                    (role, name, id),
                    xy,
                    (t, h, case),
                    attrs,
                )| {
                    let mut e = Event::new(&session, &user, ts, EventKind::ALL[kind]);
                    e.host = host.unwrap_or_default();
                    e.app = app;
                    e.window = window.unwrap_or_default();
                    let el = Element {
                        role,
                        name,
                        id,
                        path: None,
                    };
                    e.element = (!el.is_empty()).then_some(el);
                    [e.x, e.y, e.wx, e.wy] = xy;
                    e.text = t;
                    e.value_hash = h.map(ValueHash);
                    e.case = case;
                    e.attrs = attrs;
                    e
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        #[test]
        fn csv_and_jsonl_round_trips_are_exact(events in prop::collection::vec(event(), 1..20)) {
            let a = store_with(&events);
            let first = csv_of(&a);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.csv");
            std::fs::write(&path, &first).unwrap();
            let mut b = Store::open_in_memory().unwrap();
            import(&mut b, &path, Format::Taskmine).unwrap();
            prop_assert_eq!(b.events().unwrap(), a.events().unwrap());
            prop_assert!(csv_of(&b) == first);

            let mut jsonl = Vec::new();
            write_jsonl(&a, &mut jsonl).unwrap();
            let path = dir.path().join("p.jsonl");
            std::fs::write(&path, &jsonl).unwrap();
            let mut c = Store::open_in_memory().unwrap();
            import(&mut c, &path, Format::Jsonl).unwrap();
            prop_assert_eq!(c.events().unwrap(), a.events().unwrap());

            let mut xes = Vec::new();
            write_xes(&a, &mut xes, TraceBy::Case).unwrap();
            prop_assert_eq!(count_xes_events(&xes).0, events.len());
        }
    }
}
