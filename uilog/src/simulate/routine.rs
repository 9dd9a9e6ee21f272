//! The catalogue compiled: every template parsed, every variation numbered, every element given its
//! index among its window's elements; what a session expands into an instance's steps.

use std::collections::HashMap;

use super::model::{App, Part, RoutineDef, SlotFn, Step};
use super::template::Tpl;
use crate::event::EventKind;
use crate::truth::{TruthRoutine, TruthVariant};

/// The routines of the built-in catalogue, in order; [`Config::routines`](super::Config::routines)
/// takes the first ones.
pub fn catalogue() -> Vec<TruthRoutine> {
    compile_catalogue().iter().map(Routine::truth).collect()
}

/// How many routines the built-in catalogue holds.
pub fn catalogue_len() -> usize {
    super::catalogue::routines().len()
}

pub(super) struct CStep {
    pub(super) kind: EventKind,
    pub(super) app: App,
    pub(super) window: Tpl,
    pub(super) element: Option<[Option<Tpl>; 3]>,
    pub(super) pos: Option<(i32, i32)>,
    pub(super) value: Option<Tpl>,
    pub(super) keys: Option<&'static str>,
    pub(super) attrs: Vec<(&'static str, Tpl)>,
    /// Readable, with the placeholders left in.
    desc: String,
    /// The catalogue's role, which [`ElementStyle`](super::ElementStyle) translates.
    pub(super) role: &'static str,
    /// The window template as written, to number the elements of a window.
    window_src: &'static str,
    /// The element's position among the elements of its window that the routine touches, in the
    /// order it first touches them: the last index of its path.
    pub(super) index: u32,
}

enum CPart {
    Always(CStep),
    /// A variation point: the dominant variant takes `dominant`, variation `variation` takes `instead`.
    Var {
        variation: usize,
        dominant: Vec<CStep>,
        instead: Vec<CStep>,
    },
}

pub(super) struct Routine {
    pub(super) id: u32,
    pub(super) name: &'static str,
    pub(super) weight: f64,
    pub(super) slots: Vec<SlotFn>,
    pub(super) slot_names: Vec<&'static str>,
    parts: Vec<CPart>,
    /// (name, description) of each variation.
    pub(super) variations: Vec<(&'static str, &'static str)>,
}

pub(super) fn compile_catalogue() -> Vec<Routine> {
    super::catalogue::routines()
        .into_iter()
        .enumerate()
        .map(|(i, def)| Routine::compile(i as u32 + 1, def))
        .collect()
}

impl Routine {
    fn compile(id: u32, def: RoutineDef) -> Routine {
        let names: Vec<&str> = def.slots.iter().map(|s| s.0).collect();
        let step = |s: Step| CStep::compile(s, &names, def.name);
        let steps = |v: Vec<Step>| v.into_iter().map(step).collect::<Vec<_>>();
        let mut variations = Vec::new();
        let mut parts = Vec::new();
        for part in def.parts {
            let mut var = |name, why, dominant, instead| {
                variations.push((name, why));
                CPart::Var {
                    variation: variations.len() - 1,
                    dominant,
                    instead,
                }
            };
            parts.push(match part {
                Part::Always(s) => CPart::Always(step(s)),
                Part::Optional {
                    name,
                    why,
                    steps: s,
                } => var(name, why, steps(s), Vec::new()),
                Part::Alt {
                    name,
                    why,
                    dominant,
                    instead,
                } => var(name, why, steps(dominant), steps(instead)),
                Part::Extra {
                    name,
                    why,
                    steps: s,
                } => var(name, why, Vec::new(), steps(s)),
            });
        }
        let mut routine = Routine {
            id,
            name: def.name,
            weight: def.weight,
            slots: def.slots.iter().map(|s| s.1).collect(),
            slot_names: def.slots.iter().map(|s| s.0).collect(),
            parts,
            variations,
        };
        routine.number_elements();
        routine
    }

    /// Every step of every variant, in the order the routine declares them.
    pub(super) fn all_steps(&self) -> impl Iterator<Item = &CStep> {
        self.parts.iter().flat_map(|part| match part {
            CPart::Always(s) => std::slice::from_ref(s)
                .iter()
                .chain(std::slice::Iter::default()),
            CPart::Var {
                dominant, instead, ..
            } => dominant.iter().chain(instead.iter()),
        })
    }

    /// Sets [`CStep::index`]: siblings in one window get 0, 1, 2, … by first use; the same element
    /// (role and name as written) keeps its number across steps and variants.
    fn number_elements(&mut self) {
        let mut seen: HashMap<(&'static str, &'static str, String), u32> = HashMap::new();
        let mut per_window: HashMap<&'static str, u32> = HashMap::new();
        let steps = self.parts.iter_mut().flat_map(|part| match part {
            CPart::Always(s) => std::slice::from_mut(s)
                .iter_mut()
                .chain(std::slice::IterMut::default()),
            CPart::Var {
                dominant, instead, ..
            } => dominant.iter_mut().chain(instead.iter_mut()),
        });
        for s in steps {
            let Some(name) = &s.element else { continue };
            let name = name[1]
                .as_ref()
                .map(|t| format!("{:?}", t.0))
                .unwrap_or_default();
            let next = per_window.entry(s.window_src).or_insert(0);
            s.index = *seen.entry((s.window_src, s.role, name)).or_insert_with(|| {
                *next += 1;
                *next - 1
            });
        }
    }

    /// The steps an instance takes: the dominant variant, or `variation`.
    pub(super) fn expand<'r>(&'r self, variation: Option<usize>, out: &mut Vec<&'r CStep>) {
        out.clear();
        for part in &self.parts {
            match part {
                CPart::Always(s) => out.push(s),
                CPart::Var {
                    variation: v,
                    dominant,
                    instead,
                } => out.extend(if Some(*v) == variation {
                    instead
                } else {
                    dominant
                }),
            }
        }
    }

    fn dominant(&self) -> Vec<&CStep> {
        let mut v = Vec::new();
        self.expand(None, &mut v);
        v
    }

    /// The mean number of events of an instance when a share `p` of instances deviate.
    pub(super) fn expected_len(&self, p: f64) -> f64 {
        let base = self.dominant().len() as f64;
        if self.variations.is_empty() {
            return base;
        }
        let delta: f64 = self
            .parts
            .iter()
            .map(|part| match part {
                CPart::Var {
                    dominant, instead, ..
                } => instead.len() as f64 - dominant.len() as f64,
                CPart::Always(_) => 0.0,
            })
            .sum::<f64>()
            / self.variations.len() as f64;
        base + p * delta
    }

    pub(super) fn truth(&self) -> TruthRoutine {
        TruthRoutine {
            id: self.id,
            name: self.name.to_owned(),
            steps: self.dominant().iter().map(|s| s.desc.clone()).collect(),
            variants: self
                .variations
                .iter()
                .map(|(name, why)| TruthVariant {
                    name: (*name).to_owned(),
                    description: (*why).to_owned(),
                })
                .collect(),
        }
    }
}

impl CStep {
    fn compile(s: Step, slots: &[&str], routine: &str) -> CStep {
        let tpl = |src: &'static str| Tpl::compile(src, slots, routine);
        let opt = |src: &'static str| (!src.is_empty()).then(|| tpl(src));
        let app = s.app.name();
        let w = s.window;
        let el = s.element.map(|(role, name, id)| {
            let mut d = role.to_owned();
            if !name.is_empty() {
                d += &format!(" {name:?}");
            }
            if !id.is_empty() {
                d += &format!(" #{id}");
            }
            d
        });
        let el = el.as_deref().unwrap_or("");
        let value = s.value.unwrap_or("");
        let desc = match s.kind {
            EventKind::Focus => format!("focus {app} [{w}]"),
            EventKind::Type => format!("type {value:?} into {el} in {app} [{w}]"),
            EventKind::Copy => format!("copy {value:?} from {el} in {app} [{w}]"),
            EventKind::Paste => format!("paste {value:?} into {el} in {app} [{w}]"),
            EventKind::Shortcut => format!("press {} in {app} [{w}]", s.keys.unwrap_or("")),
            kind if el.is_empty() => format!("{kind} in {app} [{w}]"),
            kind => format!("{kind} {el} in {app} [{w}]"),
        };
        CStep {
            kind: s.kind,
            app: s.app,
            window: tpl(s.window),
            element: s.element.map(|(r, n, i)| [opt(r), opt(n), opt(i)]),
            pos: s.pos,
            value: s.value.map(tpl),
            keys: s.keys,
            attrs: s.attrs.into_iter().map(|(k, v)| (k, tpl(v))).collect(),
            desc,
            role: s.element.map_or("", |e| e.0),
            window_src: s.window,
            index: 0,
        }
    }
}
