//! Key combinations as the log writes them (`enter`, `ctrl+l`, `ctrl+shift+c`), parsed into what a
//! replay presses. Names follow the recorder's shortcut names.

use serde::Serialize;

/// A key that is not a character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
    F(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyName {
    Named(Named),
    Char(char),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Modifiers {
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
    pub sup: bool,
}

/// A parsed combination: modifiers held while `key` is pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Combo {
    pub mods: Modifiers,
    pub key: KeyName,
}

/// Parses `ctrl+shift+c`; the error names the part it does not know.
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
        match p.as_str() {
            "ctrl" | "control" => m.ctrl = true,
            "alt" => m.alt = true,
            "shift" => m.shift = true,
            "super" | "meta" | "win" | "cmd" => m.sup = true,
            other => return Err(format!("unknown modifier {other:?} in {s:?}")),
        }
    }
    let named = match key.as_str() {
        "enter" | "return" => Some(Named::Enter),
        "tab" => Some(Named::Tab),
        "backspace" => Some(Named::Backspace),
        "delete" | "del" => Some(Named::Delete),
        "escape" | "esc" => Some(Named::Escape),
        "space" => Some(Named::Space),
        "up" => Some(Named::Up),
        "down" => Some(Named::Down),
        "left" => Some(Named::Left),
        "right" => Some(Named::Right),
        "home" => Some(Named::Home),
        "end" => Some(Named::End),
        "pageup" => Some(Named::PageUp),
        "pagedown" => Some(Named::PageDown),
        "insert" => Some(Named::Insert),
        k if k.len() >= 2 && k.starts_with('f') => k[1..]
            .parse::<u8>()
            .ok()
            .filter(|n| (1..=24).contains(n))
            .map(Named::F),
        _ => None,
    };
    let key = match named {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(parse("").is_err());
    }
}
