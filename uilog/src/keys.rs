//! The shortcut grammar of the log: how a key combination is written in the `keys` attribute of
//! `shortcut`, `copy` and `paste` events (`enter`, `ctrl+c`, `ctrl+shift+t`, `alt+f4`).
//!
//! A combination is its modifiers in the order `ctrl`, `alt`, `shift`, `super`, then one key,
//! joined by `+`, all lowercase. The key is a named key ([`Named`]: `enter`, `tab`, `pageup`,
//! `f1`…`f24`, …) or the character it types without shift (`c` in `ctrl+c`, `+` in `ctrl++`). The
//! recorder writes combinations with [`Combo`]'s `Display`; replay and the bot drafter read them
//! with [`parse`], which also takes what a person writes (`Ctrl+Return`, `alt + ctrl + p`).
//! Pure functions, no I/O: each producer and consumer maps its own key codes onto these.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use serde::Serialize;

/// A key that is not a character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Named {
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
    /// A function key; [`parse`] takes `f1`…`f24`.
    F(u8),
}

impl Named {
    /// The key's name in a combination (`pageup`, `f5`).
    pub fn name(self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Named::Enter => "enter",
            Named::Tab => "tab",
            Named::Backspace => "backspace",
            Named::Delete => "delete",
            Named::Escape => "escape",
            Named::Space => "space",
            Named::Up => "up",
            Named::Down => "down",
            Named::Left => "left",
            Named::Right => "right",
            Named::Home => "home",
            Named::End => "end",
            Named::PageUp => "pageup",
            Named::PageDown => "pagedown",
            Named::Insert => "insert",
            Named::F(n) => return Cow::Owned(format!("f{n}")),
        })
    }

    /// The named key a lowercase name stands for, aliases included (`return`, `del`, `esc`).
    pub fn from_name(name: &str) -> Option<Named> {
        Some(match name {
            "enter" | "return" => Named::Enter,
            "tab" => Named::Tab,
            "backspace" => Named::Backspace,
            "delete" | "del" => Named::Delete,
            "escape" | "esc" => Named::Escape,
            "space" => Named::Space,
            "up" => Named::Up,
            "down" => Named::Down,
            "left" => Named::Left,
            "right" => Named::Right,
            "home" => Named::Home,
            "end" => Named::End,
            "pageup" => Named::PageUp,
            "pagedown" => Named::PageDown,
            "insert" => Named::Insert,
            k if k.len() >= 2 && k.starts_with('f') => k[1..]
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=24).contains(n))
                .map(Named::F)?,
            _ => return None,
        })
    }
}

impl fmt::Display for Named {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// The key of a combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyName {
    Named(Named),
    /// Written lowercase, whatever the shift state.
    Char(char),
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyName::Named(n) => n.fmt(f),
            KeyName::Char(c) => c.to_lowercase().try_for_each(|l| f.write_char(l)),
        }
    }
}

/// The modifiers held while a combination's key is pressed. AltGr is none of them: it types
/// characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Modifiers {
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
    /// The Super / Windows / Meta key.
    pub sup: bool,
}

impl Modifiers {
    /// Ctrl, Alt or Super: what makes a character key a shortcut rather than typing.
    pub fn commands(self) -> bool {
        self.ctrl || self.alt || self.sup
    }

    /// The modifier a lowercase name stands for, aliases included (`control`, `meta`, `win`,
    /// `cmd`); false for a name that is none.
    fn set(&mut self, name: &str) -> bool {
        match name {
            "ctrl" | "control" => self.ctrl = true,
            "alt" => self.alt = true,
            "shift" => self.shift = true,
            "super" | "meta" | "win" | "cmd" => self.sup = true,
            _ => return false,
        }
        true
    }

    /// Writes `ctrl+alt+shift+super+`, each only where held.
    fn write_prefix(self, out: &mut impl fmt::Write) -> fmt::Result {
        for (on, name) in [
            (self.ctrl, "ctrl+"),
            (self.alt, "alt+"),
            (self.shift, "shift+"),
            (self.sup, "super+"),
        ] {
            if on {
                out.write_str(name)?;
            }
        }
        Ok(())
    }
}

/// A combination: modifiers held while `key` is pressed. Its `Display` is the log's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Combo {
    pub mods: Modifiers,
    pub key: KeyName,
}

impl fmt::Display for Combo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.mods.write_prefix(f)?;
        self.key.fmt(f)
    }
}

/// Parses `ctrl+shift+c` (case, spaces around `+` and modifier order do not matter); the error
/// names the part it does not know.
pub fn parse(s: &str) -> Result<Combo, String> {
    let parts: Vec<String> = s.split('+').map(|p| p.trim().to_lowercase()).collect();
    // `ctrl++` is ctrl and the plus key.
    let (key, mods) = match parts.as_slice() {
        [.., a, b] if a.is_empty() && b.is_empty() => ("+".to_owned(), &parts[..parts.len() - 2]),
        [mods @ .., key] if !key.is_empty() => (key.clone(), mods),
        _ => return Err(format!("{s:?} is not a key combination")),
    };
    let mut m = Modifiers::default();
    for p in mods {
        if !m.set(p) {
            return Err(format!("unknown modifier {p:?} in {s:?}"));
        }
    }
    let key = match Named::from_name(&key) {
        Some(n) => KeyName::Named(n),
        None => {
            let mut chars = key.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => KeyName::Char(c),
                _ => return Err(format!("unknown key {key:?} in {s:?}")),
            }
        }
    };
    Ok(Combo { mods: m, key })
}

/// A combination as a person writes it (`Ctrl+Alt+P`, `alt + ctrl + return`) in the log's form
/// (`ctrl+alt+p`, `ctrl+alt+enter`), so that it compares equal to what the recorder writes. What
/// [`parse`] refuses is still normalized as far as it goes (known modifiers in order, the last part
/// lowercased as the key, unknown modifiers dropped), since a pause hotkey that never matches is
/// better than a policy that does not load; empty input gives an empty string.
pub fn normalize(s: &str) -> String {
    if let Ok(combo) = parse(s) {
        return combo.to_string();
    }
    let parts: Vec<String> = s
        .split('+')
        .map(|p| p.trim().to_lowercase())
        .filter(|p| !p.is_empty())
        .collect();
    let Some((key, mods)) = parts.split_last() else {
        return String::new();
    };
    let mut m = Modifiers::default();
    for p in mods {
        m.set(p);
    }
    let mut out = String::new();
    m.write_prefix(&mut out).expect("writing to a String");
    out.push_str(key);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_recorders_names() {
        let c = parse("ctrl+shift+c").unwrap();
        assert!(c.mods.ctrl && c.mods.shift && !c.mods.alt);
        assert_eq!(c.key, KeyName::Char('c'));
        assert_eq!(parse("enter").unwrap().key, KeyName::Named(Named::Enter));
        assert_eq!(parse("F5").unwrap().key, KeyName::Named(Named::F(5)));
        assert_eq!(parse("ctrl++").unwrap().key, KeyName::Char('+'));
        assert!(parse("hyper+x").unwrap_err().contains("hyper"));
        assert!(parse("ctrl+nosuchkey").unwrap_err().contains("nosuchkey"));
        assert!(parse("f25").unwrap_err().contains("f25"));
        assert!(parse("").is_err());
        assert!(parse("ctrl+").is_err());
    }

    #[test]
    fn combinations_are_written_in_one_order_and_lowercase() {
        let c = Combo {
            mods: Modifiers {
                ctrl: true,
                alt: false,
                shift: true,
                sup: true,
            },
            key: KeyName::Char('T'),
        };
        assert_eq!(c.to_string(), "ctrl+shift+super+t");
        let tab = Combo {
            mods: Modifiers {
                alt: true,
                ..Modifiers::default()
            },
            key: KeyName::Named(Named::Tab),
        };
        assert_eq!(tab.to_string(), "alt+tab");
        assert_eq!(Named::F(12).to_string(), "f12");
        assert_eq!(Named::PageDown.to_string(), "pagedown");
    }

    #[test]
    fn shortcuts_normalize() {
        assert_eq!(normalize("Alt + Ctrl+P"), "ctrl+alt+p");
        assert_eq!(normalize("super+shift+F5"), "shift+super+f5");
        assert_eq!(normalize("ctrl+Return"), "ctrl+enter");
        assert_eq!(normalize("ctrl++"), "ctrl++");
        // Not a combination parse knows: kept as far as it goes.
        assert_eq!(normalize("hyper+ctrl+x"), "ctrl+x");
        assert_eq!(normalize("ctrl+nosuchkey"), "ctrl+nosuchkey");
        assert_eq!(normalize(""), "");
    }

    fn named() -> impl Strategy<Value = Named> {
        prop_oneof![
            Just(Named::Enter),
            Just(Named::Tab),
            Just(Named::Backspace),
            Just(Named::Delete),
            Just(Named::Escape),
            Just(Named::Space),
            Just(Named::Up),
            Just(Named::Down),
            Just(Named::Left),
            Just(Named::Right),
            Just(Named::Home),
            Just(Named::End),
            Just(Named::PageUp),
            Just(Named::PageDown),
            Just(Named::Insert),
            (1u8..=24).prop_map(Named::F),
        ]
    }

    fn combo() -> impl Strategy<Value = Combo> {
        // Characters as the log holds them: one lowercase character that is not white space
        // (white space around `+` is not part of a key).
        let ch = any::<char>().prop_filter("a lowercase, visible character", |c| {
            !c.is_whitespace() && !c.is_control() && c.to_lowercase().eq(std::iter::once(*c))
        });
        let key = prop_oneof![named().prop_map(KeyName::Named), ch.prop_map(KeyName::Char)];
        (any::<[bool; 4]>(), key).prop_map(|([ctrl, alt, shift, sup], key)| Combo {
            mods: Modifiers {
                ctrl,
                alt,
                shift,
                sup,
            },
            key,
        })
    }

    proptest! {
        #[test]
        fn what_is_written_parses_back(c in combo()) {
            let written = c.to_string();
            prop_assert_eq!(parse(&written), Ok(c));
            prop_assert_eq!(normalize(&written), written);
        }

        #[test]
        fn parsing_ignores_case_spaces_and_modifier_order(c in combo(), seed in any::<u64>()) {
            let mut mods: Vec<&str> = [(c.mods.ctrl, "Control"), (c.mods.alt, "ALT"),
                (c.mods.shift, "Shift"), (c.mods.sup, "Meta")]
                .into_iter()
                .filter_map(|(on, name)| on.then_some(name))
                .collect();
            let turn = (seed % (mods.len().max(1) as u64)) as usize;
            mods.rotate_left(turn);
            let mut written = mods.join(" + ");
            if !written.is_empty() {
                written.push_str(" + ");
            }
            let key = c.key.to_string();
            let upper = key.to_uppercase();
            // Uppercasing may give characters that lowercase to something else (ß → SS → ss);
            // only keys that come back are the property's.
            prop_assume!(upper.to_lowercase() == key);
            written.push_str(&upper);
            prop_assert_eq!(parse(&written), Ok(c));
        }
    }
}
