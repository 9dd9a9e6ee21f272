//! The log's shortcut grammar (`enter`, `ctrl+l`, `ctrl+shift+c`), which [`uilog::keys`] owns;
//! replay maps its keys onto enigo's (`replay.rs`), the script renderer onto xdotool's and
//! pyautogui's (`render.rs`).

pub(crate) use uilog::keys::{parse, Combo, KeyName, Named};
