//! The catalogue's data model: the applications of the simulated desktop and a routine as
//! `catalogue.rs` writes it, steps of `{slot}` templates in parts that variants skip, replace or
//! add.

use super::values;
use crate::event::EventKind;

/// The applications of the simulated desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum App {
    Mail,
    Browser,
    Calc,
    Terminal,
    Erp,
    Editor,
    Chat,
    Files,
    Calculator,
}

impl App {
    pub(super) const COUNT: usize = 9;
    pub(super) const ALL: [App; App::COUNT] = [
        App::Mail,
        App::Browser,
        App::Calc,
        App::Terminal,
        App::Erp,
        App::Editor,
        App::Chat,
        App::Files,
        App::Calculator,
    ];

    /// The name the recorder logs (the WM_CLASS instance).
    pub(super) fn name(self) -> &'static str {
        match self {
            App::Mail => "thunderbird",
            App::Browser => "firefox",
            App::Calc => "libreoffice-calc",
            App::Terminal => "xterm",
            App::Erp => "tryton",
            App::Editor => "gedit",
            App::Chat => "mattermost",
            App::Files => "nautilus",
            App::Calculator => "gnome-calculator",
        }
    }
}

/// One event template of a routine, as the catalogue writes it.
pub(crate) struct Step {
    pub(super) kind: EventKind,
    pub(super) app: App,
    pub(super) window: &'static str,
    /// (role, name, id); `""` for an absent part.
    pub(super) element: Option<(&'static str, &'static str, &'static str)>,
    /// Window-relative position of a pointer event.
    pub(super) pos: Option<(i32, i32)>,
    /// The typed, copied or pasted value.
    pub(super) value: Option<&'static str>,
    /// The key combination of a shortcut, logged in the `keys` attribute.
    pub(super) keys: Option<&'static str>,
    pub(super) attrs: Vec<(&'static str, &'static str)>,
}

pub(crate) enum Part {
    Always(Step),
    Optional {
        name: &'static str,
        why: &'static str,
        steps: Vec<Step>,
    },
    Alt {
        name: &'static str,
        why: &'static str,
        dominant: Vec<Step>,
        instead: Vec<Step>,
    },
    Extra {
        name: &'static str,
        why: &'static str,
        steps: Vec<Step>,
    },
}

pub(super) type SlotFn = fn(&mut values::Gen<'_>) -> String;

pub(crate) struct RoutineDef {
    pub(super) name: &'static str,
    /// How often, relative to the others, users perform it.
    pub(super) weight: f64,
    pub(super) slots: Vec<(&'static str, SlotFn)>,
    pub(super) parts: Vec<Part>,
}

/// The application the log names `name`.
pub(super) fn app_named(name: &str) -> Option<App> {
    use App::*;
    [
        Mail, Browser, Calc, Terminal, Erp, Editor, Chat, Files, Calculator,
    ]
    .into_iter()
    .find(|a| a.name() == name)
}
