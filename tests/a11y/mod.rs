//! A private desktop for tests and benchmarks that need the accessibility tree: Xvfb + openbox
//! with their own session bus (`dbus-daemon`) and accessibility bus (`at-spi-bus-launcher`),
//! driven with xdotool, and read through gi's Atspi (`tests/apps/probe.py`) independently of
//! taskmine's own code. Everything started here is stopped by PID when the session drops, also
//! when a test fails. Used by tests/real_desktop.rs and codegen's replay benchmark.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// One desktop at a time: two would compete for the two cores and make input timing flaky.
static LOCK: Mutex<()> = Mutex::new(());

pub const PYTHON: &str = "/usr/bin/python3";
pub const BUS_LAUNCHER: &str = "/usr/libexec/at-spi-bus-launcher";

/// Fails, naming the package, when a program the tests need is missing.
pub fn require(program: &str, package: &str) {
    let found = if program.starts_with('/') {
        Path::new(program).exists()
    } else {
        Command::new("sh")
            .args(["-c", &format!("command -v {program}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(
        found,
        "{program} is missing: install it with scripts/setup.sh (apt-get install {package})"
    );
}

/// A private desktop with a session bus and an accessibility bus.
pub struct Session {
    pub display: String,
    pub bus: String,
    dir: tempfile::TempDir,
    procs: Vec<(String, Child)>,
    _lock: MutexGuard<'static, ()>,
}

impl Session {
    pub fn start() -> Session {
        let lock = LOCK.lock().unwrap_or_else(|e| e.into_inner());
        require("Xvfb", "xvfb");
        require("openbox", "openbox");
        require("xdotool", "xdotool");
        require("dbus-daemon", "dbus dbus-x11");
        require(BUS_LAUNCHER, "at-spi2-core");
        require(PYTHON, "python3");
        let gi = Command::new(PYTHON)
            .args([
                "-c",
                "import gi; gi.require_version('Gtk', '3.0'); gi.require_version('Atspi', '2.0')",
            ])
            .output()
            .expect("python3 runs");
        assert!(
            gi.status.success(),
            "python3-gi with GTK 3 and Atspi is missing: install it with scripts/setup.sh \
             (apt-get install python3-gi gir1.2-gtk-3.0 gir1.2-atspi-2.0 libatk-adaptor)"
        );
        let dir = tempfile::tempdir().expect("scratch dir");
        let mut s = Session {
            display: String::new(),
            bus: String::new(),
            dir,
            procs: Vec::new(),
            _lock: lock,
        };
        // The session bus first: everything after it, the accessibility bus included, finds it
        // through DBUS_SESSION_BUS_ADDRESS.
        let mut dbus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut line = String::new();
        BufReader::new(dbus.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("dbus-daemon prints its address");
        s.bus = line.trim().to_owned();
        s.procs.push(("dbus-daemon".into(), dbus));
        assert!(!s.bus.is_empty(), "dbus-daemon printed no address");

        let base = 300 + std::process::id() % 200;
        for n in base..base + 100 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let xvfb = Command::new("Xvfb")
                .args([
                    display.as_str(),
                    "-screen",
                    "0",
                    "1280x1024x24",
                    "-nolisten",
                    "tcp",
                ])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb starts");
            s.procs.push(("Xvfb".into(), xvfb));
            s.display = display;
            if s.wait(Duration::from_secs(10), || {
                s.output("xdotool", &["getdisplaygeometry"])
                    .contains("1280")
            }) {
                break;
            }
            let (_, mut x) = s.procs.pop().expect("just pushed");
            let _ = x.kill();
            let _ = x.wait();
            s.display.clear();
        }
        assert!(!s.display.is_empty(), "no free X display");
        // On a busy 2-core machine (a build beside the tests) openbox has taken over 20 s to come up,
        // and now and then exits with status 1 at start-up: it gets three tries.
        let mut failures = Vec::new();
        while failures.len() < 3 {
            let log = s.home().join(format!("openbox-{}.log", failures.len()));
            let mut openbox = s.cmd("openbox");
            openbox
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("openbox log file"));
            s.spawn("openbox", openbox);
            let start = Instant::now();
            let up: Result<(), String> = loop {
                if let Some(status) = s
                    .procs
                    .last_mut()
                    .and_then(|p| p.1.try_wait().ok().flatten())
                {
                    break Err(format!("exited with {status}"));
                }
                if s.output("xprop", &["-root", "_NET_SUPPORTING_WM_CHECK"])
                    .contains("window id")
                {
                    break Ok(());
                }
                if start.elapsed() > Duration::from_secs(40) {
                    break Err("not up after 40 s".into());
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            match up {
                Ok(()) => break,
                Err(why) => {
                    let err = std::fs::read_to_string(&log).unwrap_or_default();
                    failures.push(format!("{why}: {err}"));
                    let (_, mut child) = s.procs.pop().expect("just pushed");
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        assert!(failures.len() < 3, "openbox did not come up: {failures:?}");
        let mut launcher = s.cmd(BUS_LAUNCHER);
        launcher.arg("--launch-immediately");
        s.spawn("at-spi-bus-launcher", launcher);
        assert!(
            s.wait(Duration::from_secs(30), || {
                s.output("xprop", &["-root", "AT_SPI_BUS"])
                    .contains("unix:")
            }),
            "the accessibility bus did not come up"
        );
        s
    }

    pub fn wait(&self, timeout: Duration, mut ok: impl FnMut() -> bool) -> bool {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        false
    }

    pub fn home(&self) -> &Path {
        self.dir.path()
    }

    /// A command on this desktop and its buses.
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env_remove("NO_AT_BRIDGE")
            .env_remove("TASKMINE_DB");
        c
    }

    pub fn output(&self, program: &str, args: &[&str]) -> String {
        self.cmd(program)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Starts a process that is stopped with the session; returns its PID.
    pub fn spawn(&mut self, name: &str, mut cmd: Command) -> u32 {
        if cmd.get_program() != "sh" {
            cmd.stdin(Stdio::null());
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let pid = child.id();
        self.procs.push((name.to_owned(), child));
        pid
    }

    /// Stops the process `pid` started with [`Session::spawn`].
    pub fn stop(&mut self, pid: u32) {
        if let Some(k) = self.procs.iter().position(|(_, c)| c.id() == pid) {
            let (_, child) = self.procs.remove(k);
            terminate(child);
        }
    }

    pub fn xdotool(&self, args: &[&str]) -> String {
        let out = self
            .cmd("xdotool")
            .args(args)
            .output()
            .expect("xdotool runs");
        assert!(
            out.status.success(),
            "xdotool {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    pub fn click(&self, (x, y): (i32, i32)) {
        self.xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
    }

    pub fn type_text(&self, text: &str) {
        self.xdotool(&["type", "--delay", "40", "--", text]);
    }

    /// The form's fields and buttons as gi's Atspi sees them, by name.
    pub fn probe(&self, title: &str) -> Vec<Field> {
        let out = self
            .cmd(PYTHON)
            .arg(apps().join("probe.py"))
            .arg(title)
            .output()
            .expect("probe.py runs");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| Field {
                role: v["role"].as_str().unwrap_or_default().to_owned(),
                name: v["name"].as_str().unwrap_or_default().to_owned(),
                centre: (
                    (v["x"].as_i64().unwrap_or(0) + v["width"].as_i64().unwrap_or(0) / 2) as i32,
                    (v["y"].as_i64().unwrap_or(0) + v["height"].as_i64().unwrap_or(0) / 2) as i32,
                ),
                text: v["text"].as_str().map(str::to_owned),
            })
            .collect()
    }

    /// What the HTML form (`form.html`) saved: its read-only "Saved customers" text area, one
    /// `first|last|email` a line.
    pub fn saved_in_page(&self, title: &str) -> Vec<String> {
        self.probe(title)
            .into_iter()
            .find(|f| f.name == "Saved customers")
            .and_then(|f| f.text)
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// Waits until the form shows every field in `names`; returns the fields.
    pub fn form(&self, title: &str, names: &[&str]) -> Vec<Field> {
        let start = Instant::now();
        loop {
            let fields = self.probe(title);
            if names.iter().all(|n| fields.iter().any(|f| f.name == *n)) {
                return fields;
            }
            assert!(
                start.elapsed() < Duration::from_secs(40),
                "the form {title:?} did not show {names:?} through AT-SPI: {fields:?}"
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }
}

fn terminate(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let start = Instant::now();
    while child.try_wait().ok().flatten().is_none() && start.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Session {
    fn drop(&mut self) {
        while let Some((_, child)) = self.procs.pop() {
            terminate(child);
        }
    }
}

#[derive(Debug, Clone)]
pub struct Field {
    pub role: String,
    pub name: String,
    pub centre: (i32, i32),
    pub text: Option<String>,
}

pub fn field<'a>(fields: &'a [Field], name: &str) -> &'a Field {
    fields
        .iter()
        .find(|f| f.name == name && f.role != "label")
        .unwrap_or_else(|| panic!("no field {name:?} in {fields:?}"))
}

/// The test apps' folder (tests/apps of the workspace).
pub fn apps() -> PathBuf {
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    while !dir.join("tests/apps/probe.py").exists() {
        assert!(
            dir.pop(),
            "no tests/apps above {}",
            env!("CARGO_MANIFEST_DIR")
        );
    }
    dir.join("tests/apps")
}
