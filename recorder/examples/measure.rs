//! Measures the recorder's cost: CPU share of one core and resident memory of `taskmine-record`
//! while input is injected at a steady rate on a private Xvfb desktop.
//!
//! ```text
//! cargo build --release -p recorder --bins --examples
//! target/release/examples/measure [--rate 50] [--secs 30] [--elements]
//! ```
//! The acceptance target is under 2 % of one core and under 40 MB at 50 input events/s for 30 s.
//!
//! With `--elements` the desktop gets its own accessibility bus and the input goes to the GTK test
//! form (`tests/apps/form.py`): every click and typed run then costs an element lookup, and the
//! recorder's lookup times (p50, p95) and element coverage are printed too (target p95 ≤ 20 ms).
//! `--chromium` does the same with the HTML test form in Chromium (`tests/apps/form.html`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use desktop::{A11y, WindowQuery};

use enigo::{Button, Coordinate, Direction, Enigo, Key, Keyboard, Mouse, Settings};
use support::{Desktop, Recording};

/// utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/PID/stat).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("recorder is running");
    // The command name may contain spaces; fields are counted after its closing parenthesis.
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

/// utime + stime of each thread of a process, by thread name.
fn thread_ticks(pid: u32) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
        let Ok(stat) = std::fs::read_to_string(t.path().join("stat")) else {
            continue;
        };
        let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks = f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
            + f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        out.push((comm.trim().to_owned(), ticks));
    }
    out
}

/// A `kB` field of /proc/PID/status, in MB.
fn status_mb(pid: u32, field: &str) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("recorder is running");
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .expect("field present");
    let kb: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024.0
}

fn clock_ticks_per_second() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn main() {
    let mut rate = 50u32;
    let mut secs = 30u64;
    let mut elements = false;
    let mut chromium = false;
    let mut snapshots: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rate" => {
                rate = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--rate N (events/s)")
            }
            "--secs" => secs = args.next().and_then(|v| v.parse().ok()).expect("--secs N"),
            "--elements" => elements = true,
            "--chromium" => (elements, chromium) = (true, true),
            // Snapshots of every click and typed run (`elements` or `on`), plain text.
            "--snapshots" => snapshots = args.next(),
            other => panic!(
                "unknown argument {other:?} (expected --rate N, --secs N, --elements, --chromium)"
            ),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    // Where clicks land: the form's three text fields (with their names), or spots in the xterm.
    let (targets, names): (Vec<(i32, i32)>, Vec<Option<String>>) = if elements {
        let bus = desk.start_accessibility();
        if chromium {
            let form =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/form.html");
            let profile = format!("--user-data-dir={}", dir.path().join("profile").display());
            let url = format!("file://{}", form.display());
            desk.spawn_env(
                "chromium",
                &[
                    "--no-sandbox",
                    &profile,
                    "--no-first-run",
                    "--disable-gpu",
                    "--password-store=basic",
                    "--force-renderer-accessibility",
                    "--window-position=0,0",
                    "--window-size=1000,900",
                    &url,
                ],
                &[("ACCESSIBILITY_ENABLED", "1")],
            );
        } else {
            desk.gtk_form(&dir.path().join("saved.jsonl"), &[]);
        }
        let a11y = A11y::connect_session(&bus).expect("the desktop's accessibility bus");
        let window = WindowQuery {
            pid: None,
            title: Some("Customer form".into()),
        };
        let start = Instant::now();
        loop {
            // The form's own fields, top first (not Chromium's address bar, also an entry).
            let mut fields = a11y
                .find(
                    &window,
                    &|e| {
                        matches!(e.role.as_deref(), Some("text" | "entry"))
                            && matches!(
                                e.name.as_deref(),
                                Some("First name" | "Last name" | "E-mail")
                            )
                    },
                    Duration::from_secs(5),
                )
                .unwrap_or_default();
            fields.sort_by_key(|f| f.extents.y);
            if fields.len() >= 3 && fields.iter().all(|f| f.extents.width > 0) {
                break fields
                    .iter()
                    .map(|f| (f.extents.center(), f.element.name.clone()))
                    .unzip();
            }
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "the form's fields did not appear"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    } else {
        desk.xterm("measure", "100x30+0+0", &[]);
        (vec![(140, 200), (240, 250), (340, 300)], vec![None; 3])
    };
    let db = dir.path().join("measure.db");
    let policy = snapshots.map(|mode| {
        let p = dir.path().join("policy.yaml");
        std::fs::write(&p, format!("screenshots: {mode}\ntext: plain\n")).unwrap();
        p
    });
    let rec = Recording::start(&desk, dir.path(), &db, policy.as_deref());
    let pid = rec.pid();
    let mut enigo = Enigo::new(&Settings {
        x11_display: Some(desk.display.clone()),
        linux_delay: 0,
        ..Settings::default()
    })
    .expect("enigo");

    // One injected X input event per slot: pointer motion, key presses and releases (typing with
    // an Enter now and then), and a click every so often: a mix like real office work.
    let plan: Vec<u8> = b"mkkkkkkkkmkkkkkkkkcc".to_vec();
    let typed = b"abcdefghij";
    let ticks_per_s = clock_ticks_per_second();
    let cpu0 = cpu_ticks(pid);
    let start = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
    let total = u64::from(rate) * secs;
    let mut rss_peak: f64 = 0.0;
    let mut key_down = false;
    let mut char_i = 0usize;
    let mut button_down = false;
    let mut clicks = 0usize;
    // The field each typed run went to, in order: where the last click went, or after Enter
    // where the form put the focus (the HTML form saves and focuses its first field; the GTK
    // form's Enter does nothing).
    let mut field = 0usize;
    let mut in_run = false;
    let mut expected: Vec<usize> = Vec::new();
    for n in 0..total {
        let slot = start + interval * n as u32;
        if let Some(d) = slot.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        let key = if char_i % 12 == 11 {
            Key::Return
        } else {
            Key::Unicode(typed[char_i % typed.len()] as char)
        };
        match plan[n as usize % plan.len()] {
            b'm' => {
                // Small moves around the field the next click goes to.
                let (x, y) = targets[clicks % targets.len()];
                let wiggle = (n % 7) as i32 - 3;
                enigo
                    .move_mouse(x + wiggle * 10, y + wiggle, Coordinate::Abs)
                    .unwrap()
            }
            b'k' if key_down => {
                enigo.key(key, Direction::Release).unwrap();
                key_down = false;
                char_i += 1;
            }
            b'k' => {
                enigo.key(key, Direction::Press).unwrap();
                key_down = true;
                if key == Key::Return {
                    in_run = false;
                    if chromium {
                        field = 0;
                    }
                } else if !in_run && clicks > 0 {
                    // (Before the first click the focus is wherever the app put it.)
                    in_run = true;
                    expected.push(field);
                }
            }
            _ if button_down => {
                enigo.button(Button::Left, Direction::Release).unwrap();
                button_down = false;
                field = clicks % targets.len();
                in_run = false;
                clicks += 1;
            }
            _ => {
                let (x, y) = targets[clicks % targets.len()];
                enigo.move_mouse(x, y, Coordinate::Abs).unwrap();
                enigo.button(Button::Left, Direction::Press).unwrap();
                button_down = true;
            }
        }
        if n % u64::from(rate) == 0 {
            rss_peak = rss_peak.max(status_mb(pid, "VmRSS:"));
        }
    }
    let wall = start.elapsed().as_secs_f64();
    let cpu = (cpu_ticks(pid) - cpu0) as f64 / ticks_per_s;
    let threads = thread_ticks(pid);
    let rss = status_mb(pid, "VmRSS:");
    let hwm = status_mb(pid, "VmHWM:");
    std::thread::sleep(Duration::from_millis(600));
    let mut rec = rec;
    rec.stop();
    let store = uilog::Store::open(&db).unwrap();
    let stats = store.stats().unwrap();
    let runs: Vec<Option<String>> = store
        .events()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == uilog::EventKind::Type)
        .map(|e| e.element.and_then(|el| el.name))
        .collect();
    println!(
        "injected   {total} input events in {wall:.1} s ({:.1} events/s)",
        total as f64 / wall
    );
    println!(
        "recorded   {} events (aggregated: runs, shortcuts, clicks)",
        stats.events
    );
    println!(
        "cpu        {:.2} % of one core ({cpu:.2} s over {wall:.1} s)",
        100.0 * cpu / wall
    );
    println!(
        "rss        {rss:.1} MB at the end, {:.1} MB peak sampled, {hwm:.1} MB high-water mark",
        rss_peak.max(rss)
    );
    // Which threads spent it (whole run, start-up included): capture, element lookups, D-Bus.
    let per_thread: Vec<String> = threads
        .iter()
        .filter(|(_, t)| *t > 0)
        .map(|(name, t)| format!("{name} {:.2} s", *t as f64 / ticks_per_s))
        .collect();
    println!("threads    {}", per_thread.join(", "));
    if elements {
        // Whether each typed run names the field it went to: a fast answer must not be a stale one.
        // The runs typed before the first click are not in `expected`.
        let runs = &runs[runs.len().saturating_sub(expected.len())..];
        let right = runs
            .iter()
            .zip(&expected)
            .filter(|(got, want)| **got == names[**want])
            .count();
        println!(
            "fields     {right}/{} typed runs name the field typed into ({} runs recorded)",
            expected.len(),
            runs.len()
        );
        if std::env::var_os("MEASURE_SHOW_RUNS").is_some() {
            for (got, want) in runs.iter().zip(&expected) {
                println!("  run      {got:?} (typed into {:?})", names[*want]);
            }
        }
    }
    // The recorder's own report of element coverage and lookup times (its last lines).
    for line in rec.stderr().lines().filter(|l| l.contains("snapshots: ")) {
        println!(
            "snapshots  {}",
            line.trim_start_matches("taskmine-record: snapshots: ")
        );
    }
    for line in rec
        .stderr()
        .lines()
        .filter(|l| l.contains("elements on") && !l.contains("snapshots:"))
    {
        println!(
            "elements   {}",
            line.trim_start_matches("taskmine-record: elements on ")
        );
    }
    drop(desk);
}
