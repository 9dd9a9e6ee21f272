//! How UI elements appear in the log: which applications have none
//! ([`Config::apps_without_elements`]), and what an element looks like in each [`ElementStyle`].

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{Config, ElementStyle};
use super::model::App;
use super::routine::{compile_catalogue, Routine};
use super::run::mix;
use crate::error::Result;
use crate::event::Element;

/// The applications (as the log names them) whose events carry no element in the log `cfg`
/// generates (see [`Config::apps_without_elements`]).
pub fn apps_without_elements(cfg: &Config) -> Result<Vec<&'static str>> {
    cfg.validate()?;
    let bare = without_elements(cfg, &cfg.select(compile_catalogue()));
    Ok(App::ALL
        .into_iter()
        .filter(|&app| bare[app as usize])
        .map(App::name)
        .collect())
}

/// Which applications expose no elements: of the apps the routines use, `share × count` rounded at
/// random (so the share holds on average even for a routine of two apps); every other app with
/// probability `share`. Drawn from its own generator, so that the rest of the log stays the same.
pub(super) fn without_elements(cfg: &Config, routines: &[Routine]) -> [bool; App::COUNT] {
    let mut out = [false; App::COUNT];
    // xterm has no accessibility support at all; the catalogue's `terminal` element is its own
    // shorthand, which only the catalogue style keeps.
    out[App::Terminal as usize] = cfg.elements != ElementStyle::Catalogue;
    if cfg.apps_without_elements <= 0.0 {
        return out;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(mix(&[cfg.seed, 0xA11_E1E5]));
    let mut used: Vec<App> = Vec::new();
    for r in routines {
        for s in r.all_steps() {
            if !used.contains(&s.app) && !out[s.app as usize] {
                used.push(s.app);
            }
        }
    }
    let exact = cfg.apps_without_elements * used.len() as f64;
    let mut k = exact.floor() as usize + usize::from(rng.random_bool(exact.fract()));
    while k > 0 {
        let at = rng.random_range(0..used.len());
        out[used.swap_remove(at) as usize] = true;
        k -= 1;
    }
    for app in App::ALL {
        if !out[app as usize] && !routines.iter().any(|r| r.all_steps().any(|s| s.app == app)) {
            out[app as usize] = rng.random_bool(cfg.apps_without_elements);
        }
    }
    out
}

/// What shifts element paths between instances: a notification bar above a form, banners above a
/// web page's content.
#[derive(Debug, Clone, Copy)]
pub(super) struct Layout {
    /// Added to the last index of a path.
    pub(super) shift: u32,
    /// The index of the web page's content `div`, 1-based.
    pub(super) banner: u32,
}

pub(super) fn element(role: &str, name: &str, id: &str) -> Element {
    let part = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    Element {
        role: part(role),
        name: part(name),
        id: part(id),
        path: None,
    }
}

/// An element as the recorder (`Atspi`) or a web recorder (`Web`) captures it, from the catalogue's
/// role, name and id. The catalogue's roles are its own shorthand (upper case for HTML tags); see
/// [`ElementStyle`] for what each style keeps.
#[allow(clippy::too_many_arguments)]
pub(super) fn captured(
    style: ElementStyle,
    app: App,
    role: &str,
    name: Option<String>,
    id: Option<String>,
    window: &str,
    index: u32,
    layout: Layout,
) -> Element {
    let html = role.chars().next().is_some_and(|c| c.is_ascii_uppercase());
    if style == ElementStyle::Web && app == App::Browser && html {
        let tag = role.to_ascii_lowercase();
        let path = match tag.as_str() {
            "input" | "select" | "option" | "button" | "textarea" => format!(
                "/html/body/div[{}]/div[2]/main/form/div[{}]/{tag}",
                layout.banner,
                index + 1 + layout.shift
            ),
            _ => format!(
                "/html/body/div[{}]/div[2]/main/{tag}[{}]",
                layout.banner,
                index + 1
            ),
        };
        return Element {
            role: Some(tag),
            name,
            id: None,
            path: Some(path),
        };
    }
    let atspi = match role {
        "button" | "BUTTON" => "push button",
        "textbox" | "INPUT" => "entry",
        "combobox" | "SELECT" => "combo box",
        "menuitem" | "OPTION" => "menu item",
        "menu" => "menu",
        "tab" => "page tab",
        "cell" | "row" => "table cell",
        "treeitem" => "tree item",
        "listitem" => "list item",
        "text" => "paragraph",
        "document" => "document web",
        "terminal" => "terminal",
        "A" => "link",
        "H1" => "heading",
        "IMG" => "image",
        _ => "unknown",
    };
    // A spreadsheet cell is named by its reference; a paragraph and a terminal have no name of
    // their own (their text is content, not a label).
    let name = match role {
        "cell" => id.clone(),
        "text" | "terminal" => None,
        _ => name,
    };
    // Gecko (Firefox, Thunderbird) exposes DOM ids as the object attribute `id`; GTK 3, VCL and
    // VTE give none.
    let id = match (app, role) {
        (_, "cell") => None,
        (App::Browser | App::Mail, _) => id,
        _ => None,
    };
    let title = |sep: &str| window.split(sep).next().unwrap_or(window).to_owned();
    let container = match app {
        App::Browser => format!(
            "internal frame[0] / document web '{}'[0] / section[{}] / form[0]",
            title(" — "),
            layout.banner - 1
        ),
        App::Mail => "section[0]".to_owned(),
        App::Calc => format!(
            "panel[0] / document spreadsheet '{}'[0] / table[0]",
            title(" - ")
        ),
        App::Erp => "filler[0] / panel[1]".to_owned(),
        App::Editor => "filler[0] / scroll pane[0]".to_owned(),
        App::Terminal | App::Chat | App::Files | App::Calculator => "filler[0]".to_owned(),
    };
    let leaf = match &name {
        Some(n) => format!("{atspi} '{n}'[{}]", index + layout.shift),
        None => format!("{atspi}[{}]", index + layout.shift),
    };
    Element {
        role: Some(atspi.to_owned()),
        name,
        id,
        path: Some(format!("frame '{window}' / {container} / {leaf}")),
    }
}
