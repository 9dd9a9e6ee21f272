//! What this desktop gives the recorder: X11 and its RECORD and XTEST extensions, a window
//! manager, the accessibility bus, and for each running app whether it exposes UI elements, with
//! the usual fix when it does not. `taskmine doctor` prints it.

use std::collections::BTreeMap;

use desktop::{A11y, AppInfo};

use crate::pipeline::WindowInfo;
use crate::x11::X11;

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked (`X11 RECORD extension`, `app chromium`).
    pub what: String,
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// How to fix it, when it is not ok and there is a known fix.
    pub fix: Option<String>,
}

impl Check {
    fn new(what: impl Into<String>, ok: bool, detail: impl Into<String>) -> Check {
        Check {
            what: what.into(),
            ok,
            detail: detail.into(),
            fix: None,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Check {
        if !self.ok {
            self.fix = Some(fix.into());
        }
        self
    }
}

/// Runs every check. Never fails: what cannot be reached is a failed check.
pub fn check() -> Vec<Check> {
    let mut checks = Vec::new();
    let display = std::env::var("DISPLAY").unwrap_or_default();
    let x = match X11::connect() {
        Ok(x) => {
            checks.push(Check::new(
                "X11 display",
                true,
                format!("{display} answers"),
            ));
            Some(x)
        }
        Err(e) => {
            checks.push(
                Check::new("X11 display", false, format!("{display:?}: {e}"))
                    .fix("run inside an X11 session (Wayland-only sessions cannot be recorded), with DISPLAY set"),
            );
            None
        }
    };
    let mut windows = Vec::new();
    if let Some(x) = &x {
        for (ext, why) in [
            ("RECORD", "input capture"),
            ("XTEST", "replay and test input"),
        ] {
            let ok = x.has_extension(ext);
            checks.push(
                Check::new(
                    format!("X11 {ext} extension"),
                    ok,
                    if ok {
                        format!("present ({why})")
                    } else {
                        format!("missing: no {why}")
                    },
                )
                .fix(format!("enable the {ext} extension in the X server (Xorg: `Load \"record\"`; Xvfb has it)")),
            );
        }
        let wm = x.has_window_manager();
        checks.push(
            Check::new(
                "window manager",
                wm,
                if wm {
                    "running (the active window is known)"
                } else {
                    "none: input cannot be tied to the active window"
                },
            )
            .fix("start a window manager (openbox, xfwm4, mutter)"),
        );
        windows = x.clients();
    }
    let a11y = A11y::connect();
    let apps = match &a11y {
        Ok(a) => match a.apps() {
            Ok(apps) => {
                checks.push(Check::new(
                    "accessibility bus",
                    true,
                    format!("reachable, {} apps registered", apps.len()),
                ));
                apps
            }
            Err(e) => {
                checks.push(Check::new("accessibility bus", false, e.to_string()));
                Vec::new()
            }
        },
        Err(e) => {
            checks.push(Check::new("accessibility bus", false, e.to_string()).fix(
                "install at-spi2-core (Debian) and log in to a desktop session, or start \
                     `/usr/libexec/at-spi-bus-launcher --launch-immediately` in the session",
            ));
            Vec::new()
        }
    };
    checks.extend(app_checks(&windows, &apps, a11y.is_ok()));
    checks
}

/// One check per app with a window: whether the accessibility bus has it and it shows elements.
fn app_checks(windows: &[WindowInfo], apps: &[AppInfo], bus: bool) -> Vec<Check> {
    let mut by_app: BTreeMap<String, Vec<&WindowInfo>> = BTreeMap::new();
    for w in windows {
        by_app.entry(w.app()).or_default().push(w);
    }
    let mut out = Vec::new();
    for (name, wins) in by_app {
        let pids: Vec<u32> = wins.iter().filter_map(|w| w.pid).collect();
        let on_bus: Vec<&AppInfo> = apps
            .iter()
            .filter(|a| a.pid.is_some_and(|p| pids.contains(&p)))
            .collect();
        let exposes = on_bus.iter().any(|a| a.exposes_elements());
        let detail = if !bus {
            "unknown: no accessibility bus".to_owned()
        } else if on_bus.is_empty() {
            "not on the accessibility bus: its clicks keep positions only".to_owned()
        } else if exposes {
            let n: usize = on_bus.iter().map(|a| a.elements).sum();
            format!(
                "exposes elements ({}{n} found)",
                if n >= AppInfo::COUNT_CAP { "≥ " } else { "" }
            )
        } else if on_bus.iter().any(|a| a.empty_documents > 0) {
            "on the bus, but its web pages are empty".to_owned()
        } else {
            "on the bus, but shows no elements below its windows".to_owned()
        };
        let toolkit = pids.first().map(|&p| toolkit_of(p)).unwrap_or_default();
        let mut check = Check::new(format!("app {name}"), bus && exposes, detail);
        if bus {
            if let Some(fix) = fix_for(&name, &toolkit) {
                check = check.fix(fix);
            }
        }
        out.push(check);
    }
    out
}

/// The GUI toolkit a process links, from its memory map (`gtk3`, `qt`, `tk`, …), or "".
fn toolkit_of(pid: u32) -> String {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    for (lib, kit) in [
        ("libQt6", "qt"),
        ("libQt5", "qt"),
        ("libgtk-3", "gtk3"),
        ("libgtk-4", "gtk4"),
        ("libtk8", "tk"),
        ("libjvm", "java"),
    ] {
        if maps.contains(lib) {
            return kit.to_owned();
        }
    }
    String::new()
}

/// The usual fix for an app that exposes no elements.
pub fn fix_for(app: &str, toolkit: &str) -> Option<String> {
    let app = app.to_lowercase();
    let chromium = [
        "chromium",
        "chrome",
        "google-chrome",
        "brave",
        "microsoft-edge",
        "electron",
    ];
    if chromium.iter().any(|c| app.contains(c)) {
        return Some(
            "start it with `--force-renderer-accessibility` and `ACCESSIBILITY_ENABLED=1` in its \
             environment"
                .into(),
        );
    }
    Some(
        match toolkit {
            "qt" => "start it with `QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1` in its environment",
            "gtk3" | "gtk4" => {
                "install the at-spi2 bridge (Debian: libatk-adaptor; it is part of GTK 4) and restart it"
            }
            "tk" => "Tk has no accessibility tree: its clicks are told apart by position only",
            "java" => "install the Java ATK wrapper (Debian: libatk-wrapper-java-jni) and restart it",
            _ if app.contains("firefox") => "start it with `GNOME_ACCESSIBILITY=1` in its environment",
            _ => return None,
        }
        .to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(class: &str, pid: u32) -> WindowInfo {
        WindowInfo {
            class: class.into(),
            instance: format!("{} (/home/ann/profile)", class.to_lowercase()),
            pid: Some(pid),
            ..WindowInfo::default()
        }
    }

    fn app(name: &str, pid: u32, elements: usize, empty: usize) -> AppInfo {
        AppInfo {
            name: name.into(),
            pid: Some(pid),
            toolkit: String::new(),
            windows: vec!["w".into()],
            elements,
            empty_documents: empty,
        }
    }

    #[test]
    fn apps_are_matched_to_the_bus_by_pid_and_get_their_fix() {
        let windows = [
            window("Chromium", 10),
            window("Form.py", 20),
            window("Tk", 30),
        ];
        let apps = [app("Chromium", 10, 40, 1), app("form.py", 20, 12, 0)];
        let checks = app_checks(&windows, &apps, true);
        let by = |n: &str| checks.iter().find(|c| c.what == n).unwrap();
        let chromium = by("app chromium");
        assert!(!chromium.ok);
        assert!(chromium.detail.contains("web pages are empty"));
        assert!(chromium
            .fix
            .as_deref()
            .unwrap()
            .contains("--force-renderer-accessibility"));
        let form = by("app form.py");
        assert!(form.ok && form.fix.is_none(), "{form:?}");
        let tk = by("app tk");
        assert!(!tk.ok && tk.detail.contains("not on the accessibility bus"));
        assert!(checks.iter().all(|c| !c.what.contains("/home")));
    }

    #[test]
    fn fixes_name_the_usual_switches() {
        assert!(fix_for("kcalc", "qt")
            .unwrap()
            .contains("QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1"));
        assert!(fix_for("gedit", "gtk3").unwrap().contains("libatk-adaptor"));
        assert!(fix_for("google-chrome", "")
            .unwrap()
            .contains("ACCESSIBILITY_ENABLED=1"));
        assert_eq!(fix_for("xterm", ""), None);
    }
}
