//! Test support: a private X desktop (Xvfb + openbox + real X apps) driven with enigo, and the
//! recorder binary running against it. Everything started here is killed when its guard drops,
//! also when a test fails.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use enigo::{Button, Coordinate, Direction, Enigo, Key, Keyboard, Mouse, Settings};

/// Tests with a desktop run one at a time: they would otherwise compete for the two cores and make
/// input timing flaky, even though each has a display of its own.
static DESKTOP_LOCK: Mutex<()> = Mutex::new(());

/// A private X display with a window manager.
pub struct Desktop {
    pub display: String,
    procs: Vec<(String, Child)>,
    enigo: Option<Enigo>,
    /// Logs of the processes started here.
    scratch: tempfile::TempDir,
    /// The session bus of [`Desktop::start_accessibility`], which every command here then uses.
    pub session_bus: Option<String>,
    _lock: MutexGuard<'static, ()>,
}

fn wait_until(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Desktop {
    /// Starts Xvfb on a free display and openbox on it.
    pub fn start() -> Desktop {
        let lock = DESKTOP_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let base = 100 + std::process::id() % 200;
        for n in base..base + 100 {
            if Path::new(&format!("/tmp/.X{n}-lock")).exists()
                || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
            {
                continue;
            }
            let display = format!(":{n}");
            let Some(xvfb) = start_xvfb(&display) else {
                continue; // another process took this display number first
            };
            let mut desktop = Desktop {
                display: display.clone(),
                procs: vec![("Xvfb".into(), xvfb)],
                enigo: None,
                scratch: tempfile::tempdir().expect("scratch dir"),
                session_bus: None,
                _lock: lock,
            };
            desktop.start_openbox();
            let enigo = Enigo::new(&Settings {
                x11_display: Some(display),
                ..Settings::default()
            })
            .expect("enigo connects to the test display");
            desktop.enigo = Some(enigo);
            return desktop;
        }
        panic!("no free X display number in {base}..{}", base + 100);
    }

    /// Starts openbox and waits until it manages the screen. On a busy machine openbox has been
    /// seen to exit with status 1 at start-up now and then, so it gets three tries; its stderr goes
    /// into the panic message if all fail.
    fn start_openbox(&mut self) {
        let mut failures = Vec::new();
        for _ in 0..3 {
            let log = self
                .scratch
                .path()
                .join(format!("openbox-{}.log", failures.len()));
            let openbox = self
                .cmd("openbox")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("openbox log file"))
                .spawn()
                .expect("openbox is installed (apt-get install openbox)");
            self.procs.push(("openbox".into(), openbox));
            let start = Instant::now();
            loop {
                let wm = self.output("xprop", &["-root", "_NET_SUPPORTING_WM_CHECK"]);
                if wm.contains("window id") {
                    return;
                }
                let exited = self
                    .procs
                    .last_mut()
                    .and_then(|p| p.1.try_wait().ok().flatten());
                if exited.is_some() || start.elapsed() > Duration::from_secs(30) {
                    let err = std::fs::read_to_string(&log).unwrap_or_default();
                    failures.push(format!("exit {exited:?}: {err}"));
                    let (_, mut child) = self.procs.pop().expect("just pushed");
                    let _ = child.kill();
                    let _ = child.wait();
                    std::thread::sleep(Duration::from_millis(300));
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!("openbox on {} did not come up: {failures:?}", self.display);
    }

    /// Stops what this desktop started, newest first. SIGTERM first, so that Xvfb removes its lock
    /// file and socket; SIGKILL for anything still alive after a second.
    fn kill_all(&mut self) {
        self.enigo = None;
        while let Some((_, mut child)) = self.procs.pop() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let start = Instant::now();
            while child.try_wait().ok().flatten().is_none()
                && start.elapsed() < Duration::from_secs(1)
            {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// A command that talks to this display (and to its session bus, when it has one).
    pub fn cmd(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display);
        if let Some(bus) = &self.session_bus {
            c.env("DBUS_SESSION_BUS_ADDRESS", bus)
                .env_remove("AT_SPI_BUS_ADDRESS");
        }
        c
    }

    /// Gives this desktop a session bus of its own and an accessibility bus on it, as
    /// `dbus-run-session` plus `at-spi-bus-launcher --launch-immediately` would, and returns the
    /// session bus address. Apps started afterwards expose their UI elements there.
    pub fn start_accessibility(&mut self) -> String {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect(
                "dbus-daemon is installed (apt-get install dbus dbus-x11, or scripts/setup.sh)",
            );
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("dbus-daemon prints its address");
        self.procs.push(("dbus-daemon".into(), daemon));
        let address = line.trim().to_owned();
        assert!(
            address.starts_with("unix:"),
            "dbus-daemon address {address:?}"
        );
        self.session_bus = Some(address.clone());
        let launcher = "/usr/libexec/at-spi-bus-launcher";
        assert!(
            Path::new(launcher).exists(),
            "{launcher} is missing: apt-get install at-spi2-core libatk-adaptor (or scripts/setup.sh)"
        );
        self.spawn(launcher, &["--launch-immediately"]);
        wait_until("the accessibility bus", Duration::from_secs(20), || {
            self.output(
                "dbus-send",
                &[
                    "--session",
                    "--print-reply",
                    "--dest=org.a11y.Bus",
                    "/org/a11y/bus",
                    "org.a11y.Bus.GetAddress",
                ],
            )
            .contains("unix:")
        });
        address
    }

    /// Starts the GTK test form (`tests/apps/form.py`) with `args`; it appends what Save saves to
    /// `out`. Waits for its window and returns the window id.
    pub fn gtk_form(&mut self, out: &Path, args: &[&str]) -> String {
        let python = "/usr/bin/python3";
        let ok = Command::new(python)
            .args(["-c", "import gi; gi.require_version('Gtk', '3.0')"])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{python} cannot load GTK 3: apt-get install python3-gi gir1.2-gtk-3.0 (or scripts/setup.sh)"
        );
        let form = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/apps/form.py");
        let form = if form.exists() {
            form
        } else {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../recorder/tests/apps/form.py")
        };
        let mut all = vec![form.to_str().expect("utf-8 path"), "--out"];
        all.push(out.to_str().expect("utf-8 path"));
        all.extend_from_slice(args);
        self.spawn(python, &all);
        self.window("Customer form")
    }

    /// Starts a program on this display with extra environment; it is killed with the desktop.
    pub fn spawn_env(&mut self, program: &str, args: &[&str], env: &[(&str, &str)]) {
        let log = self
            .scratch
            .path()
            .join(format!("{}.log", self.procs.len()));
        let child = self
            .cmd(program)
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        self.procs.push((program.to_owned(), child));
    }

    /// Runs xdotool with `args` on this display and checks that it worked.
    pub fn xdotool(&self, args: &[&str]) {
        let ok = self
            .cmd("xdotool")
            .args(args)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "xdotool {args:?} failed (apt-get install xdotool)");
    }

    pub fn output(&self, program: &str, args: &[&str]) -> String {
        self.cmd(program)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Starts a program on this display; it is killed with the desktop.
    pub fn spawn(&mut self, program: &str, args: &[&str]) {
        let child = self
            .cmd(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        self.procs.push((program.to_owned(), child));
    }

    /// Starts an xterm running `cat` (so typed text goes nowhere; with signal and flow-control
    /// keys off, so that ctrl+c and ctrl+s are just keys) and waits until its window is mapped.
    /// Returns the window id.
    pub fn xterm(&mut self, title: &str, geometry: &str, extra: &[&str]) -> String {
        self.xterm_running(title, geometry, extra, "stty -isig -ixon; exec cat")
    }

    /// Starts an xterm whose typed input goes to `file` as it is typed (raw mode, no echo): a
    /// witness of every key that reaches it. Returns the window id once it is mapped.
    pub fn witness(&mut self, title: &str, geometry: &str, file: &Path) -> String {
        let script = format!("stty raw -echo; exec cat > '{}'", file.display());
        self.xterm_running(title, geometry, &[], &script)
    }

    /// Starts an xterm running a shell in `dir` and returns its window id once it is mapped.
    pub fn shell(&mut self, title: &str, geometry: &str, dir: &Path) -> String {
        let script = format!("cd '{}' && PS1='$ ' exec sh", dir.display());
        self.xterm_running(title, geometry, &[], &script)
    }

    /// Every xterm here runs its program through `sh -c`, so that the tests' scripts can set the tty
    /// up (`stty`) before the program takes over.
    fn xterm_running(
        &mut self,
        title: &str,
        geometry: &str,
        extra: &[&str],
        script: &str,
    ) -> String {
        let mut args = vec!["-T", title, "-geometry", geometry];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["-e", "sh", "-c", script]);
        self.spawn("xterm", &args);
        self.window(title)
    }

    /// Starts xmessage showing `text` under `title` and waits for its window.
    pub fn xmessage(&mut self, title: &str, geometry: &str, text: &str) -> String {
        self.spawn("xmessage", &["-title", title, "-geometry", geometry, text]);
        self.window(title)
    }

    /// Waits for a window with exactly this title and returns its id.
    pub fn window(&self, title: &str) -> String {
        let pattern = format!("^{}$", regex_escape(title));
        let mut id = String::new();
        wait_until(
            &format!("window {title:?}"),
            Duration::from_secs(15),
            || {
                id = self
                    .output("xdotool", &["search", "--onlyvisible", "--name", &pattern])
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned();
                !id.is_empty()
            },
        );
        id
    }

    /// Activates a window through the window manager (a switch without a click).
    pub fn activate(&self, id: &str) {
        let ok = self
            .cmd("xdotool")
            .args(["windowactivate", "--sync", id])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "xdotool windowactivate {id} failed");
        self.settle();
    }

    fn enigo(&mut self) -> &mut Enigo {
        self.enigo.as_mut().expect("desktop started")
    }

    pub fn click(&mut self, x: i32, y: i32) {
        self.enigo()
            .move_mouse(x, y, Coordinate::Abs)
            .expect("move");
        self.enigo()
            .button(Button::Left, Direction::Click)
            .expect("click");
        self.settle();
    }

    /// Types text key by key.
    pub fn type_text(&mut self, text: &str) {
        self.enigo().text(text).expect("type");
        self.settle();
    }

    pub fn key(&mut self, key: Key) {
        self.enigo().key(key, Direction::Click).expect("key");
        self.settle();
    }

    /// Presses `key` with Control held.
    pub fn ctrl(&mut self, c: char) {
        self.enigo()
            .key(Key::Control, Direction::Press)
            .expect("ctrl down");
        self.enigo()
            .key(Key::Unicode(c), Direction::Click)
            .expect("key");
        self.enigo()
            .key(Key::Control, Direction::Release)
            .expect("ctrl up");
        self.settle();
    }

    pub fn scroll(&mut self, notches: i32) {
        self.enigo()
            .scroll(notches, enigo::Axis::Vertical)
            .expect("scroll");
        self.settle();
    }

    /// Lets the X server, the window manager and the recorder catch up.
    pub fn settle(&self) {
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Starts Xvfb and waits until it answers; `None` (with the process reaped) if it did not come up.
fn start_xvfb(display: &str) -> Option<Child> {
    let mut xvfb = Command::new("Xvfb")
        .args([display, "-screen", "0", "1280x1024x24", "-nolisten", "tcp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb is installed (apt-get install xvfb)");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if xvfb.try_wait().ok().flatten().is_some() {
            return None;
        }
        let up = Command::new("xdpyinfo")
            .env("DISPLAY", display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if up {
            return Some(xvfb);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = xvfb.kill();
    let _ = xvfb.wait();
    None
}

impl Drop for Desktop {
    fn drop(&mut self) {
        self.kill_all();
    }
}

fn regex_escape(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// The recorder binary running against a desktop. Killed with SIGKILL when dropped unless stopped.
pub struct Recording {
    child: Option<Child>,
    pub db: PathBuf,
    stderr: Arc<Mutex<String>>,
}

impl Recording {
    /// Starts `taskmine-record` and waits until it captures. `home` becomes HOME and
    /// XDG_CONFIG_HOME's parent, so that the default policy's key is created inside the test's
    /// directory.
    pub fn start(desktop: &Desktop, home: &Path, db: &Path, policy: Option<&Path>) -> Recording {
        let mut cmd = desktop.cmd(recorder_binary());
        cmd.env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .args([
                "--db".as_ref(),
                db.as_os_str(),
                "--session".as_ref(),
                "test".as_ref(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(p) = policy {
            cmd.arg("--policy").arg(p);
        }
        let mut child = cmd.spawn().expect("start taskmine-record");
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().expect("piped");
        let sink = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                s.push_str(&line);
                s.push('\n');
            }
        });
        let mut rec = Recording {
            child: Some(child),
            db: db.to_path_buf(),
            stderr,
        };
        let start = Instant::now();
        loop {
            if rec.stderr().contains("recording:") {
                break;
            }
            if let Some(status) = rec.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                panic!("taskmine-record exited early ({status}): {}", rec.stderr());
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "taskmine-record did not start: {}",
                rec.stderr()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // The status line comes from the main loop; give the listener thread time to enable its
        // XRecord context before input is injected.
        std::thread::sleep(Duration::from_millis(800));
        rec
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Stops with SIGTERM, as Ctrl-C or a service manager would, and checks the exit status.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "TERM");
        let start = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                panic!("taskmine-record did not stop on SIGTERM: {}", self.stderr());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert!(
            status.success(),
            "taskmine-record failed ({status}): {}",
            self.stderr()
        );
    }

    /// Sends a signal (`USR1` pauses or resumes).
    pub fn signal(&self, sig: &str) {
        signal(self.pid(), sig);
        // The loop looks at its flags at least every 100 ms.
        std::thread::sleep(Duration::from_millis(300));
    }

    /// Kills with SIGKILL: no chance to flush.
    pub fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        signal(child.id(), "KILL");
        let _ = child.wait();
    }

    /// The bytes of the database and its WAL (and shared-memory index) as they are on disk now.
    pub fn raw_bytes(&self) -> Vec<(PathBuf, Vec<u8>)> {
        ["", "-wal", "-shm"]
            .iter()
            .map(|suffix| PathBuf::from(format!("{}{suffix}", self.db.display())))
            .filter_map(|p| std::fs::read(&p).ok().map(|b| (p, b)))
            .collect()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The `taskmine-record` binary: cargo names it to integration tests; examples find it beside
/// their own directory (`target/<profile>/examples/..`).
pub fn recorder_binary() -> PathBuf {
    if let Some(p) = option_env!("CARGO_BIN_EXE_taskmine-record") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/examples/<exe>");
    let bin = profile_dir.join("taskmine-record");
    assert!(
        bin.exists(),
        "{} missing: build it first (cargo build -p recorder --bins)",
        bin.display()
    );
    bin
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([format!("-{sig}"), pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{sig} {pid} failed");
}

/// The encodings a string could take in the store's files: UTF-8, and UTF-16 in both byte orders
/// (SQLite's other text encodings).
pub fn encodings(s: &str) -> Vec<Vec<u8>> {
    let utf16le = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf16be = s.encode_utf16().flat_map(u16::to_be_bytes).collect();
    vec![s.as_bytes().to_vec(), utf16le, utf16be]
}

/// Asserts that none of `secrets` appears in any of `files`, in any encoding of [`encodings`].
pub fn assert_absent(files: &[(PathBuf, Vec<u8>)], secrets: &[&str]) {
    assert!(!files.is_empty(), "no database files to search");
    for (path, bytes) in files {
        for secret in secrets {
            for enc in encodings(secret) {
                assert!(
                    !bytes.windows(enc.len()).any(|w| w == enc.as_slice()),
                    "{secret:?} found in {}",
                    path.display()
                );
            }
        }
    }
}

/// Owns the CLIPBOARD selection on a display and hands out `text` as UTF-8 to whoever asks, like
/// an application after a copy. Stops when dropped (or when the display goes away).
pub struct ClipboardOwner {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ClipboardOwner {
    pub fn start(display: &str, text: &str) -> ClipboardOwner {
        ClipboardOwner::start_as(display, text, None)
    }

    /// Like [`ClipboardOwner::start`], with the owner window's `WM_CLASS` instance set, so that the
    /// clipboard looks as if it came from that app.
    pub fn start_as(display: &str, text: &str, app: Option<&str>) -> ClipboardOwner {
        use x11rb::connection::Connection;
        use x11rb::protocol::xproto::{
            AtomEnum, ConnectionExt as _, CreateWindowAux, EventMask, PropMode,
            SelectionNotifyEvent, WindowClass, SELECTION_NOTIFY_EVENT,
        };
        use x11rb::protocol::Event;
        use x11rb::wrapper::ConnectionExt as _;

        let (conn, screen) = x11rb::connect(Some(display)).expect("connect for the clipboard");
        let root = conn.setup().roots[screen].root;
        let atom = |n: &[u8]| conn.intern_atom(false, n).unwrap().reply().unwrap().atom;
        let (clipboard, utf8, targets) =
            (atom(b"CLIPBOARD"), atom(b"UTF8_STRING"), atom(b"TARGETS"));
        let win = conn.generate_id().unwrap();
        conn.create_window(
            0,
            win,
            root,
            0,
            0,
            1,
            1,
            0,
            WindowClass::INPUT_OUTPUT,
            0,
            &CreateWindowAux::new(),
        )
        .unwrap();
        if let Some(app) = app {
            let class = format!("{app}\0{app}\0");
            conn.change_property8(
                PropMode::REPLACE,
                win,
                AtomEnum::WM_CLASS,
                AtomEnum::STRING,
                class.as_bytes(),
            )
            .unwrap();
        }
        conn.set_selection_owner(win, clipboard, x11rb::CURRENT_TIME)
            .unwrap();
        conn.flush().unwrap();
        let owner = conn
            .get_selection_owner(clipboard)
            .unwrap()
            .reply()
            .unwrap()
            .owner;
        assert_eq!(owner, win, "the test owns the clipboard");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let text = text.to_owned();
        let thread = std::thread::spawn(move || {
            while !flag.load(std::sync::atomic::Ordering::SeqCst) {
                let event = match conn.poll_for_event() {
                    Ok(Some(e)) => e,
                    Ok(None) => {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    }
                    Err(_) => return,
                };
                let Event::SelectionRequest(req) = event else {
                    continue;
                };
                let property = if req.target == utf8 || req.target == u32::from(AtomEnum::STRING) {
                    conn.change_property8(
                        PropMode::REPLACE,
                        req.requestor,
                        req.property,
                        req.target,
                        text.as_bytes(),
                    )
                    .unwrap();
                    req.property
                } else if req.target == targets {
                    conn.change_property32(
                        PropMode::REPLACE,
                        req.requestor,
                        req.property,
                        AtomEnum::ATOM,
                        &[utf8],
                    )
                    .unwrap();
                    req.property
                } else {
                    0
                };
                let notify = SelectionNotifyEvent {
                    response_type: SELECTION_NOTIFY_EVENT,
                    sequence: 0,
                    time: req.time,
                    requestor: req.requestor,
                    selection: req.selection,
                    target: req.target,
                    property,
                };
                let _ = conn.send_event(false, req.requestor, EventMask::NO_EVENT, notify);
                let _ = conn.flush();
            }
        });
        ClipboardOwner {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for ClipboardOwner {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
