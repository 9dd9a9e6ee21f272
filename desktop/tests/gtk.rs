//! The accessibility client against a real GTK3 app: the recorder's test form
//! (`recorder/tests/apps/form.py`) on a private Xvfb with its own session and accessibility bus.
//! Everything started here is stopped by PID when the test ends, also when it fails.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use desktop::{A11y, Error, WindowQuery};

/// The processes a test started, killed newest first when it ends.
struct Procs {
    display: String,
    bus: String,
    children: Vec<Child>,
}

impl Drop for Procs {
    fn drop(&mut self) {
        for c in self.children.iter_mut().rev() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let start = Instant::now();
            while c.try_wait().ok().flatten().is_none() {
                if start.elapsed() > Duration::from_secs(2) {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Procs {
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env_remove("AT_SPI_BUS_ADDRESS")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        c
    }

    fn spawn(&mut self, program: &str, args: &[&str], hint: &str) {
        let child = self
            .cmd(program)
            .args(args)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} ({e}): {hint}"));
        self.children.push(child);
    }

    fn xdotool(&self, args: &[&str]) {
        let ok = self
            .cmd("xdotool")
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "xdotool {args:?} failed (apt-get install xdotool)");
    }
}

fn wait_until<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Xvfb on a free display, openbox, a session bus, the accessibility bus and the GTK form.
fn desktop(saved: &Path) -> Procs {
    let mut procs = Procs {
        display: String::new(),
        bus: String::new(),
        children: Vec::new(),
    };
    let base = 300 + std::process::id() % 300;
    let n = (base..base + 100)
        .find(|n| {
            !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        })
        .expect("a free display number");
    procs.display = format!(":{n}");
    let xvfb = Command::new("Xvfb")
        .args([
            procs.display.as_str(),
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
        .expect("Xvfb is installed (apt-get install xvfb, or scripts/setup.sh)");
    procs.children.push(xvfb);
    wait_until("the X display", Duration::from_secs(20), || {
        Path::new(&format!("/tmp/.X11-unix/X{n}"))
            .exists()
            .then_some(())
    });
    let mut daemon = Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon is installed (apt-get install dbus dbus-x11, or scripts/setup.sh)");
    let mut line = String::new();
    BufReader::new(daemon.stdout.take().expect("piped"))
        .read_line(&mut line)
        .expect("dbus-daemon prints its address");
    procs.children.push(daemon);
    procs.bus = line.trim().to_owned();
    procs.spawn("openbox", &[], "apt-get install openbox");
    procs.spawn(
        "/usr/libexec/at-spi-bus-launcher",
        &["--launch-immediately"],
        "apt-get install at-spi2-core libatk-adaptor",
    );
    let form = Path::new(env!("CARGO_MANIFEST_DIR")).join("../recorder/tests/apps/form.py");
    let gtk = Command::new("/usr/bin/python3")
        .args(["-c", "import gi; gi.require_version('Gtk', '3.0')"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        gtk,
        "/usr/bin/python3 cannot load GTK 3: apt-get install python3-gi gir1.2-gtk-3.0"
    );
    procs.spawn(
        "/usr/bin/python3",
        &[form.to_str().unwrap(), "--out", saved.to_str().unwrap()],
        "python3 is Debian's /usr/bin/python3",
    );
    procs
}

#[test]
fn find_read_text_focus_and_hit_tests_on_the_gtk_form() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.jsonl");
    let procs = desktop(&saved);
    let a11y = wait_until("the accessibility bus", Duration::from_secs(20), || {
        A11y::connect_session(&procs.bus).ok()
    });
    let window = WindowQuery {
        pid: None,
        title: Some("Customer form".into()),
    };
    let entry = |name: &'static str| {
        let hits = wait_until(name, Duration::from_secs(20), || {
            let hits = a11y
                .find(
                    &window,
                    &|e| e.role.as_deref() == Some("text") && e.name.as_deref() == Some(name),
                    Duration::from_secs(5),
                )
                .ok()?;
            (!hits.is_empty() && hits[0].extents.width > 0).then_some(hits)
        });
        assert_eq!(hits.len(), 1, "one entry named {name}: {hits:#?}");
        hits.into_iter().next().unwrap()
    };
    let first = entry("First name");
    let last = entry("Last name");
    assert!(first
        .element
        .path
        .as_deref()
        .unwrap()
        .starts_with("frame 'Customer form' / "));
    assert!(
        first.extents.y < last.extents.y,
        "First name is above Last name"
    );
    assert!(!first.password);

    // Focus changes are announced once someone listens.
    a11y.watch_focus().unwrap();

    // Typed text reads back through the Text interface.
    let (x, y) = first.extents.center();
    procs.xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);
    procs.xdotool(&["type", "--delay", "20", "Quist"]);
    let text = wait_until("the typed text", Duration::from_secs(5), || {
        a11y.read_text(&first)
            .ok()
            .flatten()
            .filter(|t| t == "Quist")
    });
    assert_eq!(text, "Quist");
    assert_eq!(a11y.read_text(&last).unwrap().as_deref(), Some(""));

    // The focused element is the entry typed into.
    let focused = a11y
        .focused(Duration::from_secs(1))
        .unwrap()
        .expect("a focused element");
    assert_eq!(focused.element, first.element);
    assert!(focused.focused);
    // A click on another field moves the focus, and it is announced (the first field had the
    // focus from the start, before anyone listened).
    let (lx, ly) = last.extents.center();
    procs.xdotool(&["mousemove", &lx.to_string(), &ly.to_string(), "click", "1"]);
    wait_until(
        "the click's focus announcement",
        Duration::from_secs(5),
        || (a11y.announced_focus()? == last.handle).then_some(()),
    );
    // Tab moves it on without a click: the announcement, not the last click, says where.
    procs.xdotool(&["key", "Tab"]);
    let next = wait_until("the focus to move on", Duration::from_secs(5), || {
        a11y.announced_focus().filter(|h| *h != last.handle)
    });
    // The lookup asks the app (the object was never described), which may lag behind its own
    // announcement on a busy machine: it must come to agree.
    let focused = wait_until(
        "the focus lookup to agree with the announcement",
        Duration::from_secs(5),
        || {
            a11y.focused(Duration::from_secs(1))
                .ok()
                .flatten()
                .filter(|f| f.handle == next)
        },
    );
    assert_ne!(focused.element, last.element, "Tab moved the focus on");
    // Back with Shift+Tab: the field was described moments ago, so the answer comes from the
    // announcement, and it must name the field, not where the last lookup found the focus.
    procs.xdotool(&["key", "shift+Tab"]);
    wait_until("the focus to come back", Duration::from_secs(5), || {
        (a11y.announced_focus()? == last.handle).then_some(())
    });
    let again = a11y.focused(Duration::from_secs(1)).unwrap().unwrap();
    assert_eq!(again.element, last.element);
    assert_eq!(again.handle, last.handle);
    procs.xdotool(&["mousemove", &x.to_string(), &y.to_string(), "click", "1"]);

    // Hit-tests: a field, the Save button (not its label), a field's label, empty screen.
    let hit = a11y
        .element_at(x, y, Duration::from_secs(1))
        .unwrap()
        .unwrap();
    assert_eq!(hit.element, first.element);
    let save = a11y
        .find(
            &window,
            &|e| e.name.as_deref() == Some("Save"),
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(save.len(), 1, "{save:#?}");
    let (sx, sy) = save[0].extents.center();
    let hit = a11y
        .element_at(sx, sy, Duration::from_secs(1))
        .unwrap()
        .unwrap();
    assert_eq!(hit.element.role.as_deref(), Some("push button"));
    assert_eq!(hit.element.name.as_deref(), Some("Save"));
    let label = a11y
        .find(
            &window,
            &|e| e.role.as_deref() == Some("label") && e.name.as_deref() == Some("Last name"),
            Duration::from_secs(5),
        )
        .unwrap();
    let (lx, ly) = label[0].extents.center();
    let hit = a11y
        .element_at(lx, ly, Duration::from_secs(1))
        .unwrap()
        .unwrap();
    assert_eq!(
        hit.element.role.as_deref(),
        Some("label"),
        "a label with no control above it stays itself"
    );
    assert_eq!(
        a11y.element_at(1279, 1023, Duration::from_secs(1)).unwrap(),
        None
    );
    assert!(matches!(
        a11y.element_at(x, y, Duration::ZERO),
        Err(Error::Timeout { .. })
    ));

    // The Save button's action saves what was typed.
    assert!(a11y
        .actions(&hit_save(&a11y, &window))
        .unwrap()
        .iter()
        .any(|a| a == "click"));
    assert!(a11y.do_action(&hit_save(&a11y, &window), "click").unwrap());
    let line = wait_until("the saved record", Duration::from_secs(5), || {
        std::fs::read_to_string(&saved)
            .ok()
            .filter(|s| !s.is_empty())
    });
    assert!(line.contains("\"first_name\": \"Quist\""), "{line}");

    // Doctor's view: the form's app exposes elements.
    let apps = a11y.apps().unwrap();
    let form = apps
        .iter()
        .find(|a| a.windows.iter().any(|w| w == "Customer form"));
    let form = form.unwrap_or_else(|| panic!("{apps:#?}"));
    assert!(form.exposes_elements() && form.pid.is_some(), "{form:?}");
    drop(procs);
}

fn hit_save(a11y: &A11y, window: &WindowQuery) -> desktop::Found {
    let mut hits = a11y
        .find(
            window,
            &|e| e.role.as_deref() == Some("push button") && e.name.as_deref() == Some("Save"),
            Duration::from_secs(5),
        )
        .unwrap();
    assert_eq!(hits.len(), 1);
    hits.remove(0)
}

#[test]
fn no_bus_is_an_error_that_says_why() {
    let err = A11y::connect_session("unix:path=/nonexistent/taskmine-test-bus").unwrap_err();
    assert!(matches!(err, Error::NoBus { .. }), "{err:?}");
    assert!(err.to_string().contains("no accessibility bus"), "{err}");
}
