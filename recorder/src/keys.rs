//! Keystroke aggregation: key presses become `type` runs per field and `shortcut`s, so that no raw
//! key-by-key event ever leaves the recorder.
//!
//! A pure state machine: it knows nothing of X11, windows or the policy. A run ends at Enter, Tab, a
//! shortcut or another special key, or when the caller says the field changed (focus change, click).
//! Shortcuts are named in the log's grammar, which [`uilog::keys`] owns.

use uilog::keys::{Combo, KeyName, Modifiers, Named};
use uilog::Micros;

// The pause hotkey is written by a person; the pipeline compares it in the log's form.
pub(crate) use uilog::keys::normalize as normalize_shortcut;

/// A key as the aggregation needs it. The capture layer maps its library's key codes onto this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Shift,
    Ctrl,
    Alt,
    /// The Super / Windows / Meta key.
    Super,
    /// AltGr types characters (`@` on many layouts), so it is not a shortcut modifier.
    AltGr,
    CapsLock,
    Enter,
    Tab,
    Backspace,
    Delete,
    Escape,
    Space,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Insert,
    F(u8),
    /// A key that types a character. The char names it in shortcuts (`c` in `ctrl+c`) whatever the
    /// shift state; the typed text itself comes with the press.
    Char(char),
    /// Anything else (media keys, unknown codes): ends a run and is otherwise ignored.
    Other,
}

impl Key {
    fn is_modifier(self) -> bool {
        matches!(
            self,
            Key::Shift | Key::Ctrl | Key::Alt | Key::Super | Key::AltGr | Key::CapsLock
        )
    }

    /// The key as the log's shortcut grammar names it (`c` in `ctrl+c`, `enter`); none for
    /// modifiers and unknown keys.
    fn name(self) -> Option<KeyName> {
        Some(KeyName::Named(match self {
            Key::Enter => Named::Enter,
            Key::Tab => Named::Tab,
            Key::Backspace => Named::Backspace,
            Key::Delete => Named::Delete,
            Key::Escape => Named::Escape,
            Key::Space => Named::Space,
            Key::Up => Named::Up,
            Key::Down => Named::Down,
            Key::Left => Named::Left,
            Key::Right => Named::Right,
            Key::Home => Named::Home,
            Key::End => Named::End,
            Key::PageUp => Named::PageUp,
            Key::PageDown => Named::PageDown,
            Key::Insert => Named::Insert,
            Key::F(n) => Named::F(n),
            Key::Char(c) => return Some(KeyName::Char(c)),
            _ => return None,
        }))
    }
}

/// What the aggregation emits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOutput {
    /// A run of text typed into one field; `ts` is its first key press, `end` its last.
    Type {
        ts: Micros,
        end: Micros,
        text: String,
    },
    /// A modifier combination or special key, named like `ctrl+shift+t`, `alt+tab`, `enter`.
    Shortcut { ts: Micros, name: String },
}

#[derive(Debug, Default)]
struct Run {
    start: Micros,
    last: Micros,
    text: String,
}

/// The keystroke state machine. Feed it presses and releases in order; it appends what they amount
/// to to `out`.
#[derive(Debug, Default)]
pub struct KeyAggregator {
    mods: Modifiers,
    run: Option<Run>,
}

impl KeyAggregator {
    pub fn new() -> KeyAggregator {
        KeyAggregator::default()
    }

    /// Whether pressing `key` now may move the keyboard focus to another element: Tab, Enter,
    /// Escape, a function key, or any key with Ctrl, Alt or Super held (`alt+tab`, `ctrl+l`).
    /// Typing, editing and arrow keys keep it where it is (arrows move it only among controls
    /// nobody types into).
    pub fn may_move_focus(&self, key: Key) -> bool {
        match key {
            Key::Tab | Key::Enter | Key::Escape | Key::F(_) => true,
            _ if key.is_modifier() => false,
            _ => self.mods.ctrl || self.mods.alt || self.mods.sup,
        }
    }

    /// A key press. `text` is what the key typed with the current modifiers (from XLookupString or
    /// the like), if anything.
    pub fn press(&mut self, ts: Micros, key: Key, text: Option<&str>, out: &mut Vec<KeyOutput>) {
        self.set_modifier(key, true);
        if key.is_modifier() {
            return;
        }
        let m = self.mods;
        if m.commands() {
            self.end_run(out);
            if let Some(key) = key.name() {
                out.push(KeyOutput::Shortcut {
                    ts,
                    name: Combo { mods: m, key }.to_string(),
                });
            }
            return;
        }
        let printable = text.filter(|t| !t.is_empty() && t.chars().all(|c| !c.is_control()));
        match (key, printable) {
            (Key::Backspace, _) => {
                if let Some(run) = self.run.as_mut().filter(|r| !r.text.is_empty()) {
                    run.text.pop();
                    run.last = ts;
                } else {
                    self.end_run(out);
                    out.push(KeyOutput::Shortcut {
                        ts,
                        name: Combo {
                            mods: m,
                            key: KeyName::Named(Named::Backspace),
                        }
                        .to_string(),
                    });
                }
            }
            (Key::Char(_) | Key::Space, Some(t)) => {
                let run = self.run.get_or_insert_with(|| Run {
                    start: ts,
                    last: ts,
                    text: String::new(),
                });
                run.text.push_str(t);
                run.last = ts;
            }
            (Key::Space, None) => {
                let run = self.run.get_or_insert_with(|| Run {
                    start: ts,
                    last: ts,
                    text: String::new(),
                });
                run.text.push(' ');
                run.last = ts;
            }
            _ => {
                self.end_run(out);
                if let Some(key) = key.name() {
                    out.push(KeyOutput::Shortcut {
                        ts,
                        name: Combo { mods: m, key }.to_string(),
                    });
                }
            }
        }
    }

    pub fn release(&mut self, key: Key) {
        self.set_modifier(key, false);
    }

    /// Ends the current run, if any (focus change, click, pause).
    pub fn end_run(&mut self, out: &mut Vec<KeyOutput>) {
        if let Some(run) = self.run.take() {
            if !run.text.is_empty() {
                out.push(KeyOutput::Type {
                    ts: run.start,
                    end: run.last,
                    text: run.text,
                });
            }
        }
    }

    /// Forgets the current run without emitting it (the user entered an app the policy does not
    /// record, or paused).
    pub fn discard_run(&mut self) {
        self.run = None;
    }

    /// Whether a run is in progress.
    pub fn in_run(&self) -> bool {
        self.run.is_some()
    }

    fn set_modifier(&mut self, key: Key, down: bool) {
        match key {
            Key::Shift => self.mods.shift = down,
            Key::Ctrl => self.mods.ctrl = down,
            Key::Alt => self.mods.alt = down,
            Key::Super => self.mods.sup = down,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn type_str(agg: &mut KeyAggregator, ts: &mut Micros, s: &str, out: &mut Vec<KeyOutput>) {
        for c in s.chars() {
            *ts += 100;
            let key = if c == ' ' {
                Key::Space
            } else {
                Key::Char(c.to_ascii_lowercase())
            };
            agg.press(*ts, key, Some(&c.to_string()), out);
            agg.release(key);
        }
    }

    #[test]
    fn typing_then_enter_is_one_run_and_a_shortcut() {
        let mut agg = KeyAggregator::new();
        let mut out = Vec::new();
        let mut ts = 1000;
        type_str(&mut agg, &mut ts, "hello you", &mut out);
        assert!(out.is_empty(), "nothing is emitted while the run goes on");
        agg.press(5000, Key::Enter, Some("\r"), &mut out);
        assert_eq!(
            out,
            vec![
                KeyOutput::Type {
                    ts: 1100,
                    end: 1900,
                    text: "hello you".into()
                },
                KeyOutput::Shortcut {
                    ts: 5000,
                    name: "enter".into()
                },
            ]
        );
    }

    #[test]
    fn focus_moving_keys_are_tab_enter_escape_and_shortcuts() {
        let mut agg = KeyAggregator::new();
        let mut out = Vec::new();
        for k in [Key::Tab, Key::Enter, Key::Escape, Key::F(6)] {
            assert!(agg.may_move_focus(k), "{k:?}");
        }
        for k in [
            Key::Char('a'),
            Key::Backspace,
            Key::Left,
            Key::Shift,
            Key::Ctrl,
        ] {
            assert!(!agg.may_move_focus(k), "{k:?}");
        }
        agg.press(1, Key::Shift, None, &mut out);
        assert!(
            !agg.may_move_focus(Key::Char('a')),
            "shift only types capitals"
        );
        agg.release(Key::Shift);
        agg.press(2, Key::Ctrl, None, &mut out);
        assert!(
            agg.may_move_focus(Key::Char('l')),
            "ctrl+l moves to the address bar"
        );
        agg.release(Key::Ctrl);
        assert!(!agg.may_move_focus(Key::Char('l')));
    }

    #[test]
    fn shift_types_capitals_without_ending_the_run() {
        let mut agg = KeyAggregator::new();
        let mut out = Vec::new();
        agg.press(1, Key::Shift, None, &mut out);
        agg.press(2, Key::Char('a'), Some("A"), &mut out);
        agg.release(Key::Shift);
        agg.press(3, Key::Char('b'), Some("b"), &mut out);
        agg.press(4, Key::Tab, Some("\t"), &mut out);
        assert_eq!(
            out,
            vec![
                KeyOutput::Type {
                    ts: 2,
                    end: 3,
                    text: "Ab".into()
                },
                KeyOutput::Shortcut {
                    ts: 4,
                    name: "tab".into()
                },
            ]
        );
    }

    #[test]
    fn modifier_combinations_are_shortcuts_and_end_the_run() {
        let mut agg = KeyAggregator::new();
        let mut out = Vec::new();
        agg.press(1, Key::Char('x'), Some("x"), &mut out);
        agg.press(2, Key::Ctrl, None, &mut out);
        agg.press(3, Key::Shift, None, &mut out);
        agg.press(4, Key::Char('t'), Some("\u{14}"), &mut out);
        agg.release(Key::Shift);
        agg.release(Key::Ctrl);
        agg.press(5, Key::Alt, None, &mut out);
        agg.press(6, Key::Tab, None, &mut out);
        agg.release(Key::Alt);
        agg.press(7, Key::F(5), None, &mut out);
        assert_eq!(
            out,
            vec![
                KeyOutput::Type {
                    ts: 1,
                    end: 1,
                    text: "x".into()
                },
                KeyOutput::Shortcut {
                    ts: 4,
                    name: "ctrl+shift+t".into()
                },
                KeyOutput::Shortcut {
                    ts: 6,
                    name: "alt+tab".into()
                },
                KeyOutput::Shortcut {
                    ts: 7,
                    name: "f5".into()
                },
            ]
        );
    }

    #[test]
    fn backspace_edits_the_run_or_is_a_shortcut_outside_one() {
        let mut agg = KeyAggregator::new();
        let mut out = Vec::new();
        agg.press(1, Key::Backspace, None, &mut out);
        let mut ts = 10;
        type_str(&mut agg, &mut ts, "abx", &mut out);
        agg.press(50, Key::Backspace, Some("\u{8}"), &mut out);
        type_str(&mut agg, &mut ts, "c", &mut out);
        agg.end_run(&mut out);
        assert_eq!(
            out,
            vec![
                KeyOutput::Shortcut {
                    ts: 1,
                    name: "backspace".into()
                },
                KeyOutput::Type {
                    ts: 110,
                    end: 410,
                    text: "abc".into()
                },
            ]
        );
    }

    #[test]
    fn a_run_deleted_to_nothing_emits_no_type_event() {
        let mut agg = KeyAggregator::new();
        let mut out = Vec::new();
        agg.press(1, Key::Char('a'), Some("a"), &mut out);
        agg.press(2, Key::Backspace, None, &mut out);
        agg.end_run(&mut out);
        assert!(out.is_empty(), "{out:?}");
        assert!(!agg.in_run());
    }

    #[test]
    fn discarded_runs_leave_nothing() {
        let mut agg = KeyAggregator::new();
        let mut out = Vec::new();
        agg.press(1, Key::Char('s'), Some("s"), &mut out);
        agg.discard_run();
        agg.press(2, Key::Enter, None, &mut out);
        assert_eq!(
            out,
            vec![KeyOutput::Shortcut {
                ts: 2,
                name: "enter".into()
            }]
        );
    }

    #[test]
    fn altgr_types_characters() {
        let mut agg = KeyAggregator::new();
        let mut out = Vec::new();
        agg.press(1, Key::AltGr, None, &mut out);
        agg.press(2, Key::Char('q'), Some("@"), &mut out);
        agg.release(Key::AltGr);
        agg.end_run(&mut out);
        assert_eq!(
            out,
            vec![KeyOutput::Type {
                ts: 2,
                end: 2,
                text: "@".into()
            }]
        );
    }
}
