//! X11 plumbing shared by the recorder and replay: the connection, the atoms both use, and the
//! window look-ups (the active window, a window's `WM_CLASS`, title and process, the managed
//! windows, the client inside a frame, geometry and coordinate translation).
//!
//! What only one side does stays with it: the recorder's clipboard, property watching and key
//! mapping (`recorder::x11`), replay's input, window activation, pointer grabs and screen capture
//! (`codegen::replay`). Both reach the connection through [`XConn::conn`] for those.
//!
//! Look-ups of window properties never fail: a window can close between two requests, and a
//! missing property reads as empty, so that neither a recording nor a replay's focus check stops
//! on a window that just went away.

use std::fmt;

use serde::Serialize;
use x11rb::connection::{Connection, RequestConnection};
use x11rb::cookie::Cookie;
pub use x11rb::protocol::xproto::Window;
use x11rb::protocol::xproto::{Atom, AtomEnum, ConnectionExt as _, InternAtomReply};
use x11rb::rust_connection::RustConnection;

use crate::{Error, Result};

fn x_err(e: impl fmt::Display) -> Error {
    Error::X11(e.to_string())
}

/// A top-level window as X11 describes it, read by the recorder before the policy sees it and by
/// replay to check focus.
///
/// It lives here, not in uilog, because its fields are the X server's, not the log's: the window
/// id and the pid are never stored, and `WM_CLASS` instance and class are what the recorder turns
/// into the log's app name ([`WindowInfo::app`]) under the privacy policy. The log's vocabulary
/// (app, title as filtered, process) starts after that.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WindowInfo {
    /// The X window id (0 when unknown). Only used to tell windows apart; never stored.
    pub id: u32,
    /// WM_CLASS instance (`xterm`).
    pub instance: String,
    /// WM_CLASS class (`XTerm`).
    pub class: String,
    /// `_NET_WM_NAME`, or `WM_NAME` when that is missing (xterm sets only the latter).
    pub title: String,
    /// The process name from `_NET_WM_PID` (`/proc/PID/comm`).
    pub process: String,
    /// `_NET_WM_PID`: the process whose accessibility tree holds the window's elements. Never
    /// stored.
    pub pid: Option<u32>,
}

impl WindowInfo {
    /// The app name events carry: the WM_CLASS class, normalized, else the instance, else the
    /// process. The class names the program (`Chromium`); the instance may hold a profile
    /// directory (`chromium (/home/ann/.config/x)`), which differs per user and must not leak.
    pub fn app(&self) -> String {
        [&self.class, &self.instance, &self.process]
            .into_iter()
            .map(|s| normalize_app(s))
            .find(|s| !s.is_empty())
            .unwrap_or_default()
    }
}

/// How replay names a window in a failure: `xterm "witness"`.
impl fmt::Display for WindowInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.instance, self.title)
    }
}

/// Lowercase, without a parenthesized suffix (`chromium (/path)` → `chromium`) and without a
/// directory (`/usr/bin/foo` → `foo`).
pub fn normalize_app(name: &str) -> String {
    let base = name.split(" (").next().unwrap_or("").trim();
    let base = base.rsplit('/').next().unwrap_or("");
    base.trim().to_lowercase()
}

/// The atoms both the recorder and replay ask for.
#[derive(Debug, Clone, Copy)]
pub struct Atoms {
    pub net_active_window: Atom,
    pub net_client_list: Atom,
    pub net_wm_name: Atom,
    pub net_wm_pid: Atom,
    pub wm_state: Atom,
    pub utf8_string: Atom,
}

/// One connection to an X display, with the shared atoms interned.
pub struct XConn {
    conn: RustConnection,
    root: Window,
    /// Width and height of the screen, in pixels.
    screen: (i32, i32),
    atoms: Atoms,
}

impl XConn {
    /// Connects to `display` (`None`: `$DISPLAY`). The error holds x11rb's message alone, so that
    /// each caller words it as before.
    pub fn connect(display: Option<&str>) -> Result<XConn> {
        let (conn, screen) = RustConnection::connect(display).map_err(x_err)?;
        let s = &conn.setup().roots[screen];
        let root = s.root;
        let size = (i32::from(s.width_in_pixels), i32::from(s.height_in_pixels));
        let [net_active_window, net_client_list, net_wm_name, net_wm_pid, wm_state, utf8_string] =
            intern_all(
                &conn,
                [
                    b"_NET_ACTIVE_WINDOW".as_slice(),
                    b"_NET_CLIENT_LIST",
                    b"_NET_WM_NAME",
                    b"_NET_WM_PID",
                    b"WM_STATE",
                    b"UTF8_STRING",
                ],
            )?;
        Ok(XConn {
            conn,
            root,
            screen: size,
            atoms: Atoms {
                net_active_window,
                net_client_list,
                net_wm_name,
                net_wm_pid,
                wm_state,
                utf8_string,
            },
        })
    }

    /// The connection, for what only one side does with it.
    pub fn conn(&self) -> &RustConnection {
        &self.conn
    }

    pub fn root(&self) -> Window {
        self.root
    }

    /// Width and height of the screen, in pixels.
    pub fn screen_size(&self) -> (i32, i32) {
        self.screen
    }

    pub fn atoms(&self) -> &Atoms {
        &self.atoms
    }

    /// Interns atoms (created when missing), in one round trip.
    pub fn intern<const N: usize>(&self, names: [&[u8]; N]) -> Result<[Atom; N]> {
        intern_all(&self.conn, names)
    }

    /// Whether the X server has an extension (`RECORD`, `XTEST`).
    pub fn has_extension(&self, name: &str) -> bool {
        self.conn
            .query_extension(name.as_bytes())
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|r| r.present)
    }

    /// Whether a window manager runs (it names itself in `_NET_SUPPORTING_WM_CHECK`).
    pub fn has_window_manager(&self) -> bool {
        let Some(atom) = self
            .conn
            .intern_atom(true, b"_NET_SUPPORTING_WM_CHECK")
            .ok()
            .and_then(|c| c.reply().ok())
        else {
            return false;
        };
        atom.atom != 0 && self.has_property(self.root, atom.atom)
    }

    /// The active top-level client window, per `_NET_ACTIVE_WINDOW` (needs a window manager).
    pub fn active_window(&self) -> Result<Option<Window>> {
        let reply = self
            .conn
            .get_property(
                false,
                self.root,
                self.atoms.net_active_window,
                AtomEnum::WINDOW,
                0,
                1,
            )
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        Ok(reply
            .value32()
            .and_then(|mut v| v.next())
            .filter(|&w| w != 0))
    }

    /// The top-level windows the window manager lists (`_NET_CLIENT_LIST`).
    pub fn clients(&self) -> Vec<Window> {
        self.conn
            .get_property(
                false,
                self.root,
                self.atoms.net_client_list,
                AtomEnum::WINDOW,
                0,
                4096,
            )
            .ok()
            .and_then(|c| c.reply().ok())
            .and_then(|r| r.value32().map(|v| v.collect()))
            .unwrap_or_default()
    }

    /// Reads a window's class, title and process.
    pub fn window_info(&self, window: Window) -> WindowInfo {
        let mut info = WindowInfo {
            id: window,
            ..WindowInfo::default()
        };
        if let Some(class) =
            self.property_bytes(window, AtomEnum::WM_CLASS.into(), AtomEnum::STRING.into())
        {
            let mut parts = class
                .split(|&b| b == 0)
                .map(|p| String::from_utf8_lossy(p).into_owned());
            info.instance = parts.next().unwrap_or_default();
            info.class = parts.next().unwrap_or_default();
        }
        info.title = self.title(window);
        if let Some(pid) = self.property_u32(window, self.atoms.net_wm_pid) {
            info.pid = Some(pid);
            if let Ok(comm) = std::fs::read_to_string(format!("/proc/{pid}/comm")) {
                info.process = comm.trim().to_owned();
            }
        }
        info
    }

    /// `_NET_WM_NAME` (UTF-8), else `WM_NAME`.
    pub fn title(&self, window: Window) -> String {
        self.property_bytes(window, self.atoms.net_wm_name, self.atoms.utf8_string)
            .filter(|b| !b.is_empty())
            .or_else(|| self.property_bytes(window, AtomEnum::WM_NAME.into(), AtomEnum::ANY.into()))
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// The client window inside a top-level frame: the first window in it (breadth first, a few
    /// levels deep) that carries `WM_STATE`, as window managers reparent clients into frames.
    pub fn client_of(&self, top: Window) -> Option<Window> {
        let mut level = vec![top];
        for _ in 0..4 {
            let mut next = Vec::new();
            for w in level {
                if self.has_property(w, self.atoms.wm_state) {
                    return Some(w);
                }
                if let Some(tree) = self.conn.query_tree(w).ok().and_then(|c| c.reply().ok()) {
                    next.extend(tree.children);
                }
            }
            if next.is_empty() {
                return None;
            }
            level = next;
        }
        None
    }

    /// Root coordinates relative to `window`'s top-left corner.
    pub fn relative(&self, window: Window, x: i32, y: i32) -> Option<(i32, i32)> {
        let r = self
            .conn
            .translate_coordinates(self.root, window, x as i16, y as i16)
            .ok()?
            .reply()
            .ok()?;
        Some((r.dst_x.into(), r.dst_y.into()))
    }

    /// The screen position of `window`'s top-left corner.
    pub fn origin(&self, window: Window) -> Result<(i32, i32)> {
        let r = self
            .conn
            .translate_coordinates(window, self.root, 0, 0)
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        Ok((r.dst_x.into(), r.dst_y.into()))
    }

    /// Width and height of `window`, in pixels.
    pub fn size(&self, window: Window) -> Result<(u16, u16)> {
        let g = self
            .conn
            .get_geometry(window)
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        Ok((g.width, g.height))
    }

    /// A property's bytes without trailing NULs (`WM_CLASS` ends in one); `None` when the window
    /// has no such property or is gone.
    pub fn property_bytes(&self, window: Window, property: Atom, kind: Atom) -> Option<Vec<u8>> {
        let reply = self
            .conn
            .get_property(false, window, property, kind, 0, 4096)
            .ok()?
            .reply()
            .ok()?;
        if reply.type_ == 0 {
            return None;
        }
        let mut v = reply.value;
        while v.last() == Some(&0) {
            v.pop();
        }
        Some(v)
    }

    /// The first value of a `CARDINAL` property.
    pub fn property_u32(&self, window: Window, property: Atom) -> Option<u32> {
        let reply = self
            .conn
            .get_property(false, window, property, AtomEnum::CARDINAL, 0, 1)
            .ok()?
            .reply()
            .ok()?;
        reply.value32().and_then(|mut v| v.next())
    }

    pub fn has_property(&self, window: Window, property: Atom) -> bool {
        self.conn
            .get_property(false, window, property, AtomEnum::ANY, 0, 0)
            .ok()
            .and_then(|c| c.reply().ok())
            .is_some_and(|r| r.type_ != 0)
    }
}

/// Sends every request before reading the first reply: one round trip instead of one per atom.
fn intern_all<C: RequestConnection, const N: usize>(
    conn: &C,
    names: [&[u8]; N],
) -> Result<[Atom; N]> {
    let cookies: Vec<Cookie<'_, C, InternAtomReply>> = names
        .into_iter()
        .map(|n| conn.intern_atom(false, n).map_err(x_err))
        .collect::<Result<_>>()?;
    let mut atoms = [0; N];
    for (atom, cookie) in atoms.iter_mut().zip(cookies) {
        *atom = cookie.reply().map_err(x_err)?.atom;
    }
    Ok(atoms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_is_the_normalized_class_never_a_profile_path() {
        let w = WindowInfo {
            instance: "chromium (/home/ann/.config/x)".into(),
            class: "Chromium".into(),
            ..WindowInfo::default()
        };
        assert_eq!(w.app(), "chromium");
        let w = WindowInfo {
            instance: "chromium (/home/ann/.config/x)".into(),
            ..WindowInfo::default()
        };
        assert_eq!(w.app(), "chromium");
        let w = WindowInfo {
            process: "/usr/bin/Foo".into(),
            ..WindowInfo::default()
        };
        assert_eq!(w.app(), "foo");
        assert_eq!(WindowInfo::default().app(), "");
    }

    #[test]
    fn a_window_in_a_failure_is_its_instance_and_quoted_title() {
        let w = WindowInfo {
            instance: "xterm".into(),
            class: "XTerm".into(),
            title: "say \"hi\"".into(),
            ..WindowInfo::default()
        };
        assert_eq!(w.to_string(), r#"xterm "say \"hi\"""#);
    }
}
