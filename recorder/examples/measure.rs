//! Measures the recorder's cost: CPU share of one core and resident memory of `taskmine-record`
//! while input is injected at a steady rate on a private Xvfb desktop.
//!
//! ```text
//! cargo build --release -p recorder --bins --examples
//! target/release/examples/measure [--rate 50] [--secs 30]
//! ```
//! The acceptance target is under 2 % of one core and under 40 MB at 50 input events/s for 30 s.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

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
            other => panic!("unknown argument {other:?} (expected --rate N, --secs N)"),
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let mut desk = Desktop::start();
    desk.xterm("measure", "100x30+0+0", &[]);
    let db = dir.path().join("measure.db");
    let rec = Recording::start(&desk, dir.path(), &db, None);
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
            b'm' => enigo
                .move_mouse(
                    40 + (n % 400) as i32,
                    100 + (n % 200) as i32,
                    Coordinate::Abs,
                )
                .unwrap(),
            b'k' if key_down => {
                enigo.key(key, Direction::Release).unwrap();
                key_down = false;
                char_i += 1;
            }
            b'k' => {
                enigo.key(key, Direction::Press).unwrap();
                key_down = true;
            }
            _ if button_down => {
                enigo.button(Button::Left, Direction::Release).unwrap();
                button_down = false;
            }
            _ => {
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
    let rss = status_mb(pid, "VmRSS:");
    let hwm = status_mb(pid, "VmHWM:");
    std::thread::sleep(Duration::from_millis(600));
    let mut rec = rec;
    rec.stop();
    let stats = uilog::Store::open(&db).unwrap().stats().unwrap();
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
    drop(desk);
}
