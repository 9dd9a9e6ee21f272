//! The recorder's own X11: the clipboard, watching the active window and titles for changes, the
//! pointer and the keyboard mapping. Connection, atoms and window look-ups (which window is
//! active, what it is called, which app and process it belongs to) are [`desktop::x11`]'s, shared
//! with replay.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use desktop::x11::XConn;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    Atom, AtomEnum, ChangeWindowAttributesAux, ConnectionExt as _, CreateWindowAux, EventMask,
    Window, WindowClass,
};
use x11rb::protocol::Event as XEvent;

use crate::error::{Error, Result};
use crate::pipeline::{Point, WindowInfo};

fn x_err(e: impl std::fmt::Display) -> Error {
    Error::X11(e.to_string())
}

/// desktop's X11 errors carry x11rb's message alone; it reads as before under the recorder's.
fn desktop_err(e: desktop::Error) -> Error {
    match e {
        desktop::Error::X11(m) => Error::X11(m),
        other => Error::X11(other.to_string()),
    }
}

/// The atoms only the clipboard needs.
struct ClipAtoms {
    clipboard: Atom,
    incr: Atom,
    target_property: Atom,
}

/// What changed on the X server since the last poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `_NET_ACTIVE_WINDOW` changed.
    ActiveWindow,
    /// The title of a watched window changed.
    Title(Window),
}

/// One connection to the X server, for context queries (input itself comes through rdev).
pub struct X11 {
    x: XConn,
    atoms: ClipAtoms,
    /// A 1×1 window that never maps: the requestor of clipboard conversions.
    clip_window: Window,
    /// Events read while waiting for a clipboard reply, handed out by the next poll.
    queued: VecDeque<XEvent>,
    watched: Option<Window>,
}

/// Clipboard text longer than this is not read (the policy would hash it anyway, and a huge
/// selection would stall capture).
const CLIPBOARD_MAX_BYTES: u32 = 256 * 1024;

impl X11 {
    /// Connects to `$DISPLAY` and subscribes to changes of the active window.
    pub fn connect() -> Result<X11> {
        let x = XConn::connect(None).map_err(desktop_err)?;
        let [clipboard, incr, target_property] = x
            .intern([b"CLIPBOARD".as_slice(), b"INCR", b"TASKMINE_CLIPBOARD"])
            .map_err(desktop_err)?;
        let conn = x.conn();
        let root = x.root();
        conn.change_window_attributes(
            root,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::PROPERTY_CHANGE),
        )
        .map_err(x_err)?;
        let clip_window = conn.generate_id().map_err(x_err)?;
        conn.create_window(
            x11rb::COPY_DEPTH_FROM_PARENT,
            clip_window,
            root,
            -10,
            -10,
            1,
            1,
            0,
            WindowClass::INPUT_OUTPUT,
            0,
            &CreateWindowAux::new().event_mask(EventMask::PROPERTY_CHANGE),
        )
        .map_err(x_err)?;
        conn.flush().map_err(x_err)?;
        Ok(X11 {
            x,
            atoms: ClipAtoms {
                clipboard,
                incr,
                target_property,
            },
            clip_window,
            queued: VecDeque::new(),
            watched: None,
        })
    }

    /// Whether the X server has an extension (`RECORD`, `XTEST`).
    pub fn has_extension(&self, name: &str) -> bool {
        self.x.has_extension(name)
    }

    /// Whether a window manager runs.
    pub fn has_window_manager(&self) -> bool {
        self.x.has_window_manager()
    }

    /// The top-level windows the window manager lists (`_NET_CLIENT_LIST`), read as for events.
    pub fn clients(&self) -> Vec<WindowInfo> {
        self.x
            .clients()
            .into_iter()
            .map(|w| self.x.window_info(w))
            .collect()
    }

    /// The active top-level client window, per `_NET_ACTIVE_WINDOW` (needs a window manager).
    pub fn active_window(&self) -> Result<Option<Window>> {
        self.x.active_window().map_err(desktop_err)
    }

    /// Reads a window's class, title and process. Missing properties are left empty: a window that
    /// just closed must not stop the recording.
    pub fn window_info(&self, window: Window) -> WindowInfo {
        self.x.window_info(window)
    }

    /// `_NET_WM_NAME` (UTF-8), else `WM_NAME`.
    pub fn title(&self, window: Window) -> String {
        self.x.title(window)
    }

    /// Watches `window` for title changes (and stops watching the previous one).
    pub fn watch(&mut self, window: Window) {
        if self.watched == Some(window) {
            return;
        }
        if let Some(old) = self.watched.take() {
            // The window may be gone already; that is fine.
            let _ = self.x.conn().change_window_attributes(
                old,
                &ChangeWindowAttributesAux::new().event_mask(EventMask::NO_EVENT),
            );
        }
        let _ = self.x.conn().change_window_attributes(
            window,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::PROPERTY_CHANGE),
        );
        let _ = self.x.conn().flush();
        self.watched = Some(window);
    }

    /// The pointer position, the client window under it (if any) and the position relative to it.
    pub fn pointer(&self) -> Result<(Point, Option<Window>)> {
        let p = self
            .x
            .conn()
            .query_pointer(self.x.root())
            .map_err(x_err)?
            .reply()
            .map_err(x_err)?;
        let mut at = Point {
            x: p.root_x.into(),
            y: p.root_y.into(),
            wx: None,
            wy: None,
        };
        let client = if p.child == 0 {
            None
        } else {
            self.x.client_of(p.child)
        };
        if let Some(w) = client {
            if let Some((wx, wy)) = self.relative(w, at.x, at.y) {
                at.wx = Some(wx);
                at.wy = Some(wy);
            }
        }
        Ok((at, client))
    }

    /// Root coordinates relative to `window`'s top-left corner.
    pub fn relative(&self, window: Window, x: i32, y: i32) -> Option<(i32, i32)> {
        self.x.relative(window, x, y)
    }

    /// The character a key code types now, from the server's current keyboard mapping. Needed for
    /// key codes that input tools (enigo, xdotool) remap on the fly: the listener's cached mapping
    /// does not know them yet, and a character missing from a run would hide PII from the detectors.
    pub fn key_char(&self, keycode: u32, shifted: bool) -> Option<char> {
        let code = u8::try_from(keycode).ok()?;
        let m = self
            .x
            .conn()
            .get_keyboard_mapping(code, 1)
            .ok()?
            .reply()
            .ok()?;
        let per = usize::from(m.keysyms_per_keycode);
        let syms = m.keysyms.get(..per)?;
        let sym = match (shifted, syms.get(1)) {
            (true, Some(&s)) if s != 0 => s,
            _ => *syms.first()?,
        };
        keysym_char(sym)
    }

    /// What changed since the last call (never blocks).
    pub fn poll(&mut self) -> Result<Vec<Change>> {
        let mut changes = Vec::new();
        loop {
            let event = match self.queued.pop_front() {
                Some(e) => e,
                None => match self.x.conn().poll_for_event().map_err(x_err)? {
                    Some(e) => e,
                    None => break,
                },
            };
            if let XEvent::PropertyNotify(p) = event {
                if p.window == self.x.root() && p.atom == self.x.atoms().net_active_window {
                    changes.push(Change::ActiveWindow);
                } else if Some(p.window) == self.watched
                    && (p.atom == self.x.atoms().net_wm_name
                        || p.atom == u32::from(AtomEnum::WM_NAME))
                {
                    changes.push(Change::Title(p.window));
                }
            }
        }
        Ok(changes)
    }

    /// The window of the app that owns the CLIPBOARD: the owner itself or the nearest ancestor
    /// with a `WM_CLASS` (toolkits often own selections with an inner or hidden window).
    pub fn clipboard_owner(&self) -> Option<Window> {
        let owner = self
            .x
            .conn()
            .get_selection_owner(self.atoms.clipboard)
            .ok()?
            .reply()
            .ok()?
            .owner;
        let mut w = owner;
        for _ in 0..8 {
            if w == 0 || w == self.x.root() {
                return None;
            }
            if self.x.has_property(w, AtomEnum::WM_CLASS.into()) {
                return Some(w);
            }
            w = self.x.conn().query_tree(w).ok()?.reply().ok()?.parent;
        }
        None
    }

    /// The CLIPBOARD selection as UTF-8 text, waiting at most `timeout` for its owner to answer.
    /// `None` when there is no owner, it does not answer, or it offers no text.
    pub fn read_clipboard(&mut self, timeout: Duration) -> Option<String> {
        let a = &self.atoms;
        let utf8_string = self.x.atoms().utf8_string;
        self.x
            .conn()
            .convert_selection(
                self.clip_window,
                a.clipboard,
                utf8_string,
                a.target_property,
                x11rb::CURRENT_TIME,
            )
            .ok()?;
        self.x.conn().flush().ok()?;
        let deadline = Instant::now() + timeout;
        loop {
            match self.x.conn().poll_for_event().ok()? {
                Some(XEvent::SelectionNotify(n)) if n.requestor == self.clip_window => {
                    if n.property == 0 {
                        return None;
                    }
                    let reply = self
                        .x
                        .conn()
                        .get_property(
                            true,
                            self.clip_window,
                            a.target_property,
                            AtomEnum::ANY,
                            0,
                            CLIPBOARD_MAX_BYTES / 4,
                        )
                        .ok()?
                        .reply()
                        .ok()?;
                    // Incremental transfers are for large selections; those are skipped.
                    if reply.type_ == a.incr || reply.bytes_after > 0 {
                        return None;
                    }
                    return Some(String::from_utf8_lossy(&reply.value).into_owned());
                }
                Some(other) => self.queued.push_back(other),
                None => {
                    if Instant::now() >= deadline {
                        return None;
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        }
    }
}

/// The character of a keysym: Latin-1 keysyms are their code point, Unicode keysyms carry it with
/// the 0x0100_0000 flag.
fn keysym_char(sym: u32) -> Option<char> {
    match sym {
        0x20..=0x7e | 0xa0..=0xff => char::from_u32(sym),
        0x0100_0000..=0x0110_ffff => char::from_u32(sym - 0x0100_0000).filter(|c| !c.is_control()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::keysym_char;

    #[test]
    fn keysyms_map_to_characters() {
        assert_eq!(keysym_char(0x40), Some('@'));
        assert_eq!(keysym_char(0xe9), Some('é'));
        assert_eq!(keysym_char(0x0100_20ac), Some('€'));
        assert_eq!(keysym_char(0xff0d), None, "Return is not a character");
    }
}
