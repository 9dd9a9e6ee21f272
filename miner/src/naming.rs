//! Readable routine names, made from a routine's own evidence so that an analyst sees what it does:
//! `Copy from mail "New hire" to HR Portal "New employee", Save`.
//!
//! The rule, in order:
//! - **places** are an application (mail clients are `mail`; other apps go by the name they put at
//!   the end of their window titles, such as `LibreOffice Calc`, else by their id) or, in a browser,
//!   the site (`HR Portal`), each with the window or page acted on (`"New employee"`): the title
//!   template up to its first placeholder, so `Invoice <n> from <*>` reads `Invoice`;
//! - with **data flows** (clipboard first, else values retyped), the name is
//!   `Copy from SOURCE to TARGET` (`Retype from …`; `to` rather than `into` keeps the example
//!   below 60 characters): the source is the place of the earliest
//!   flow's source step, named after the item opened there (a tree item, row, list item or link
//!   clicked before the copy) or else its window; the target is the place of the latest flow's
//!   target step; other apps the data passes through are added as `via APP`;
//! - without data flows it is `From FIRST to LAST` (or `In LAST` when the routine stays in one
//!   app), LAST being the place of its decisive step or its last step;
//! - the **decisive final step** is the last click on a button, menu item or link after the target
//!   (`, Save`, `, Send`);
//! - names longer than [`MAX_NAME_CHARS`] drop detail (via, the source item, the target window)
//!   before they are cut at a word; names that repeat within a result get ` (2)`, ` (3)`, … in
//!   rank order.
//!
//! Everything depends on the result alone (actions, steps, flows; ties broken by strings), so the
//! same log gives the same names.

use std::collections::{BTreeMap, BTreeSet};

use uilog::EventKind;

use crate::abstraction::Action;
use crate::mining::{Mining, Routine};

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 60;

/// The longest window, page or item text inside a name, in characters.
const MAX_PART_CHARS: usize = 24;

/// Names for every routine of a result, in the order of `mining.routines`: unique within the
/// result, at most [`MAX_NAME_CHARS`] characters.
pub fn routine_names(mining: &Mining) -> Vec<String> {
    let apps = AppNames::new(&mining.actions);
    let base: Vec<String> = mining
        .routines
        .iter()
        .map(|r| describe_with(&apps, &mining.actions, r))
        .collect();
    unique(base)
}

/// Like [`routine_names`], with names an analyst gave by routine id taking the place of the made
/// ones (cut to [`MAX_NAME_CHARS`]); made names still avoid the given ones.
pub fn routine_names_given(mining: &Mining, given: &BTreeMap<u32, String>) -> Vec<String> {
    let apps = AppNames::new(&mining.actions);
    let base: Vec<(String, bool)> = mining
        .routines
        .iter()
        .map(|r| match given.get(&r.id).map(|g| g.trim()) {
            Some(g) if !g.is_empty() => (cut(g, MAX_NAME_CHARS), true),
            _ => (describe_with(&apps, &mining.actions, r), false),
        })
        .collect();
    unique_given(base)
}

/// The name of one routine of `mining`, as [`routine_names`] gives it; a routine that is not part of
/// the result gets its name before de-duplication.
pub fn routine_name(mining: &Mining, r: &Routine) -> String {
    match mining
        .routines
        .iter()
        .position(|x| x.id == r.id && x.steps == r.steps)
    {
        Some(i) => routine_names(mining).swap_remove(i),
        None => describe(&mining.actions, r),
    }
}

/// A routine's name before it is made unique within a result.
pub fn describe(actions: &[Action], r: &Routine) -> String {
    describe_with(&AppNames::new(actions), actions, r)
}

/// What a name is built from; `render` drops detail until it fits.
#[derive(Debug, Default)]
struct Parts {
    verb: &'static str,
    source: Option<Place>,
    /// The item opened where the data comes from.
    source_item: Option<String>,
    via: Vec<String>,
    target: Option<Place>,
    final_step: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Place {
    app: String,
    window: Option<String>,
}

fn quoted(s: &str) -> String {
    format!("\"{}\"", cut(s, MAX_PART_CHARS))
}

impl Place {
    fn render(&self, window: bool) -> String {
        match &self.window {
            Some(w) if window => format!("{} {}", self.app, quoted(w)),
            _ => self.app.clone(),
        }
    }
}

impl Parts {
    /// Detail levels, richest first: via, the source item or window, the target window.
    fn render(&self, via: bool, source_detail: bool, target_window: bool) -> String {
        let mut s = String::new();
        match (&self.source, &self.target) {
            (Some(src), Some(tgt)) if !self.verb.is_empty() => {
                s.push_str(self.verb);
                s.push_str(" from ");
                match (&self.source_item, source_detail) {
                    (Some(item), true) => {
                        s.push_str(&src.app);
                        s.push(' ');
                        s.push_str(&quoted(item));
                    }
                    _ => s.push_str(&src.render(source_detail)),
                }
                if via && !self.via.is_empty() {
                    s.push_str(" via ");
                    s.push_str(&self.via.join(", "));
                }
                s.push_str(" to ");
                s.push_str(&tgt.render(target_window));
            }
            (Some(src), Some(tgt)) => {
                s.push_str("From ");
                s.push_str(&src.render(source_detail));
                s.push_str(" to ");
                s.push_str(&tgt.render(target_window));
            }
            (None, Some(tgt)) => {
                s.push_str("In ");
                s.push_str(&tgt.render(target_window));
            }
            _ => {}
        }
        if let Some(f) = &self.final_step {
            s.push_str(", ");
            s.push_str(f);
        }
        s
    }
}

fn describe_with(apps: &AppNames, actions: &[Action], r: &Routine) -> String {
    let parts = parts(apps, actions, r);
    let fallback = || format!("Routine {}", r.id);
    // The target's window goes first, then the apps passed through, then the source's item.
    for (via, source_detail, target_window) in [
        (true, true, true),
        (true, true, false),
        (false, true, false),
        (false, false, true),
        (false, false, false),
    ] {
        let s = parts.render(via, source_detail, target_window);
        if s.is_empty() {
            return fallback();
        }
        if s.chars().count() <= MAX_NAME_CHARS {
            return s;
        }
    }
    cut(&parts.render(false, false, false), MAX_NAME_CHARS)
}

fn parts(apps: &AppNames, actions: &[Action], r: &Routine) -> Parts {
    let mut p = Parts::default();
    let steps: Option<Vec<&Action>> = r.steps.iter().map(|&a| actions.get(a as usize)).collect();
    let Some(steps) = steps.filter(|s| !s.is_empty()) else {
        return p;
    };
    let pos = |a: u32| r.steps.iter().position(|&s| s == a);
    // Flows whose both ends are steps of the pattern, as (source step, target step); clipboard
    // flows are the stronger evidence, values retyped count only without them.
    let mut flows: Vec<(usize, usize)> = Vec::new();
    let mut verb = "";
    for (via, v) in [("copy_paste", "Copy"), ("reuse", "Retype")] {
        flows = r
            .data_flows
            .iter()
            .filter(|f| f.via == via)
            .filter_map(|f| Some((pos(f.from)?, pos(f.to)?)))
            .collect();
        if !flows.is_empty() {
            verb = v;
            break;
        }
    }
    flows.sort_unstable();
    let after = if let (Some(&(src, _)), Some(tgt)) =
        (flows.first(), flows.iter().map(|&(_, t)| t).max())
    {
        let source = apps.place(steps[src]);
        let target = apps.place(steps[tgt]);
        p.source_item = opened_item(&steps[..src], &steps[src].app);
        let mut via = Vec::new();
        for &(a, b) in &flows {
            for i in [a, b] {
                let app = apps.place(steps[i]).app;
                if app != source.app && app != target.app && !via.contains(&app) {
                    via.push(app);
                }
            }
        }
        p.verb = verb;
        p.via = via;
        p.source = Some(source);
        p.target = Some(target);
        tgt
    } else {
        0
    };
    let decisive = (after..steps.len()).rev().find_map(|i| {
        let a = steps[i];
        if !matches!(a.kind, EventKind::Click | EventKind::DoubleClick) {
            return None;
        }
        let (role, name) = element(&a.element);
        let name = clean(&name);
        (is_decisive(role) && !name.is_empty()).then_some((i, name))
    });
    if let Some((_, name)) = &decisive {
        p.final_step = Some(cut(name, MAX_PART_CHARS));
    }
    if p.target.is_none() {
        let end = decisive.map_or(steps.len() - 1, |(i, _)| i);
        let last = apps.place(steps[end]);
        let first = apps.place(steps[0]);
        if first.app != last.app {
            p.source = Some(first);
        }
        p.target = Some(last);
    }
    p
}

/// The item opened in `app` just before the data was taken: the last tree item, row, list item or
/// link clicked among the steps before, while the routine stays in that app.
fn opened_item(before: &[&Action], app: &str) -> Option<String> {
    before
        .iter()
        .rev()
        .take_while(|a| a.app == app)
        .filter(|a| matches!(a.kind, EventKind::Click | EventKind::DoubleClick))
        .find_map(|a| {
            let (role, name) = element(&a.element);
            let name = clean(&name);
            (is_item(role) && !name.is_empty()).then_some(name)
        })
}

fn role_key(role: &str) -> String {
    role.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn is_item(role: &str) -> bool {
    matches!(
        role_key(role).as_str(),
        "treeitem" | "row" | "tablerow" | "listitem" | "link" | "a" | "tableitem"
    )
}

fn is_decisive(role: &str) -> bool {
    matches!(
        role_key(role).as_str(),
        "button" | "pushbutton" | "togglebutton" | "menuitem" | "link" | "a" | "submit"
    )
}

/// An action's element `role "name" #id @path` as (role, name); the name is written as a Rust
/// string literal (quotes and backslashes escaped).
fn element(el: &str) -> (&str, String) {
    let el = el.trim();
    let (role, rest) = if el.starts_with(['"', '#', '@']) {
        ("", el)
    } else {
        el.split_once(' ').unwrap_or((el, ""))
    };
    let Some(lit) = rest.trim_start().strip_prefix('"') else {
        return (role, String::new());
    };
    let mut name = String::new();
    let mut chars = lit.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => match chars.next() {
                Some('n' | 't' | 'r') => name.push(' '),
                Some(c) => name.push(c),
                None => break,
            },
            c => name.push(c),
        }
    }
    (role, name)
}

/// Whether a word holds a template placeholder such as `<*>`, `<n>` or `<file>`.
fn has_placeholder(w: &str) -> bool {
    let mut rest = w;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        if let Some(j) = after.find('>') {
            let inner = &after[..j];
            if !inner.is_empty() && inner.chars().all(|c| c == '*' || c.is_ascii_lowercase()) {
                return true;
            }
        }
        rest = after;
    }
    false
}

/// A title or element name up to its first placeholder, without trailing separators; the part
/// of a template that is the same in every instance.
fn clean(s: &str) -> String {
    let mut words: Vec<&str> = Vec::new();
    for w in s.split_whitespace() {
        if has_placeholder(w) {
            break;
        }
        words.push(w);
    }
    words
        .join(" ")
        .trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | '-' | '–' | '—' | ',' | ';' | '|' | '(' | '/')
        })
        .replace('"', "'")
}

/// Title segments: `Page - Site — Mozilla Firefox` is `[Page, Site, Mozilla Firefox]`.
fn segments(title: &str) -> Vec<&str> {
    let mut out = vec![title];
    for sep in [" — ", " – ", " - ", " | "] {
        out = out.iter().flat_map(|s| s.split(sep)).collect();
    }
    out.into_iter().map(str::trim).collect()
}

const MAIL_APPS: &[&str] = &[
    "thunderbird",
    "evolution",
    "geary",
    "outlook",
    "kmail",
    "mailspring",
    "claws-mail",
    "mail",
];
const BROWSERS: &[&str] = &[
    "firefox", "chrom", "brave", "msedge", "safari", "epiphany", "vivaldi",
];

fn is_browser(app: &str) -> bool {
    let app = app.to_ascii_lowercase();
    BROWSERS.iter().any(|b| app.contains(b))
}

/// How applications are called in names, learned once per result.
struct AppNames {
    /// app id → (the title suffix it writes, the name shown).
    known: BTreeMap<String, (Option<String>, String)>,
}

impl AppNames {
    fn new(actions: &[Action]) -> AppNames {
        // The suffix an app writes most often (weighted by events, ties by the string) is its name.
        let mut suffixes: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
        let mut apps: BTreeSet<&str> = BTreeSet::new();
        for a in actions {
            apps.insert(&a.app);
            let seg = segments(&a.title);
            if let [_, .., last] = seg.as_slice() {
                if !last.is_empty() && !has_placeholder(last) {
                    *suffixes.entry(&a.app).or_default().entry(last).or_insert(0) +=
                        a.events.max(1);
                }
            }
        }
        let known = apps
            .into_iter()
            .map(|app| {
                let suffix = suffixes.get(app).and_then(|m| {
                    m.iter()
                        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                        .map(|(s, _)| s.to_string())
                });
                let lower = app.to_ascii_lowercase();
                let shown = if MAIL_APPS.contains(&lower.as_str()) {
                    "mail".to_owned()
                } else {
                    match &suffix {
                        Some(s) if !is_browser(app) => clean(s),
                        _ => app.to_owned(),
                    }
                };
                let shown = if shown.is_empty() {
                    app.to_owned()
                } else {
                    shown
                };
                (app.to_owned(), (suffix, shown))
            })
            .collect();
        AppNames { known }
    }

    fn place(&self, a: &Action) -> Place {
        if let Some(p) = url_place(&a.title) {
            return p;
        }
        let mut seg = segments(&a.title);
        if is_browser(&a.app) {
            // Browsers end their titles with their own name; before it come the page and the site.
            if seg.len() > 1 {
                seg.pop();
            }
            let site = if seg.len() > 1 {
                seg.pop().map(clean).unwrap_or_default()
            } else {
                String::new()
            };
            let page = clean(&seg.join(" - "));
            let app = if site.is_empty() {
                "web".to_owned()
            } else {
                site
            };
            return Place {
                window: (!page.is_empty() && page != app).then_some(page),
                app,
            };
        }
        let (suffix, shown) = self
            .known
            .get(a.app.as_str())
            .cloned()
            .unwrap_or((None, a.app.clone()));
        if seg.len() > 1 && suffix.as_deref() == seg.last().copied() {
            seg.pop();
        }
        let window = clean(&seg.join(" - "));
        Place {
            window: (!window.is_empty() && window != shown).then_some(window),
            app: shown,
        }
    }
}

/// A title that is a URL (logs imported from browser extensions have them) as its host and the
/// last part of its path: `https://forms.zoho.com/x/form/NewRecord` is `forms.zoho.com "NewRecord"`.
fn url_place(title: &str) -> Option<Place> {
    let t = title.trim();
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = clean(host.trim_start_matches("www."));
    let page = path
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .split('/')
        .rfind(|s| !s.is_empty())
        .map(clean)
        .unwrap_or_default();
    let app = if host.is_empty() {
        "web".to_owned()
    } else {
        host
    };
    Some(Place {
        window: (!page.is_empty()).then_some(page),
        app,
    })
}

/// `s` in at most `max` characters, cut at a word with `…` where it is longer.
pub fn cut(s: &str, max: usize) -> String {
    let s = s.trim();
    if s.chars().count() <= max {
        return s.to_owned();
    }
    // Room for the ellipsis and a closing quote.
    let room = max.saturating_sub(2).max(1);
    let head: String = s.chars().take(room).collect();
    let at_word = match head.rfind(' ') {
        Some(i) if head[..i].chars().count() >= room / 2 => &head[..i],
        _ => head.as_str(),
    };
    let mut out = at_word
        .trim_end_matches(|c: char| {
            c.is_whitespace() || matches!(c, ':' | '-' | ',' | ';' | '"' | '(' | '→')
        })
        .to_owned();
    out.push('…');
    if out.matches('"').count() % 2 == 1 {
        out.push('"');
    }
    out
}

fn unique(base: Vec<String>) -> Vec<String> {
    unique_given(base.into_iter().map(|b| (b, false)).collect())
}

/// Keeps each name for its first holder (in rank order; a given name before a made one) and
/// numbers the rest, avoiding every name in the list.
fn unique_given(base: Vec<(String, bool)>) -> Vec<String> {
    let reserved: BTreeSet<&str> = base.iter().map(|(b, _)| b.as_str()).collect();
    let mut used: BTreeSet<String> = BTreeSet::new();
    // A given name keeps its wording even when a made name came first.
    let mut out: Vec<Option<String>> = vec![None; base.len()];
    for pass in [true, false] {
        for (i, (b, given)) in base.iter().enumerate() {
            if *given == pass && !used.contains(b) {
                used.insert(b.clone());
                out[i] = Some(b.clone());
            }
        }
    }
    base.iter()
        .zip(out)
        .map(|((b, _), o)| {
            o.unwrap_or_else(|| {
                (2..)
                    .map(|n| {
                        let suffix = format!(" ({n})");
                        cut(b, MAX_NAME_CHARS - suffix.chars().count()) + &suffix
                    })
                    .find(|c| !reserved.contains(c.as_str()) && !used.contains(c))
                    .inspect(|c| {
                        used.insert(c.clone());
                    })
                    .expect("a free number")
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routine::DataFlow;
    use crate::score::Score;
    use proptest::prelude::*;

    fn action(id: u32, kind: EventKind, app: &str, title: &str, element: &str) -> Action {
        Action {
            id,
            kind,
            app: app.into(),
            title: title.into(),
            element: element.into(),
            keys: String::new(),
            events: 10,
        }
    }

    fn routine(id: u32, steps: Vec<u32>, flows: &[(u32, u32)]) -> Routine {
        Routine {
            id,
            steps,
            labels: Vec::new(),
            support: 3,
            score: Score {
                instances: 3,
                instances_per_week: 1.0,
                median_duration_s: 60.0,
                p90_duration_s: 60.0,
                variants: 1,
                dominant_variant_share: 1.0,
                variant_entropy_standardization: 1.0,
                standardization: 1.0,
                users: 1,
                automatability: 1.0,
                hours_saved_per_month: 1.0,
            },
            variants: Vec::new(),
            users: Vec::new(),
            data_flows: flows
                .iter()
                .map(|&(from, to)| DataFlow {
                    from,
                    to,
                    via: "copy_paste".into(),
                    instances: 3,
                })
                .collect(),
            instances: Vec::new(),
        }
    }

    fn mining(actions: Vec<Action>, routines: Vec<Routine>) -> Mining {
        Mining {
            summary: Default::default(),
            options: Default::default(),
            actions,
            start_actions: Vec::new(),
            routines,
            withheld: 0,
            timings_ms: Vec::new(),
        }
    }

    /// The bundled example's top routine: a new hire's details copied from a mail into a web form.
    fn new_hire() -> Mining {
        use EventKind::*;
        let mail = "<*> - Mozilla Thunderbird";
        let form = "New employee - HR Portal — Mozilla Firefox";
        let actions = vec![
            action(0, Focus, "thunderbird", mail, ""),
            action(
                1,
                DoubleClick,
                "thunderbird",
                mail,
                "treeitem \"New hire: <*>\" #threadTree",
            ),
            action(2, Copy, "thunderbird", mail, "text \"<*>\" #messagepane"),
            action(3, Focus, "firefox", form, ""),
            action(
                4,
                Paste,
                "firefox",
                form,
                "INPUT \"First name\" #first_name",
            ),
            action(5, Type, "firefox", form, "INPUT \"Start date\" #start_date"),
            action(6, Click, "firefox", form, "BUTTON \"Save\" #save"),
            action(7, Focus, "xterm", "<id> ~", ""),
            action(8, Type, "xterm", "<id> ~", "terminal #vt"),
        ];
        let routines = vec![
            routine(1, vec![0, 1, 2, 3, 4, 5, 6], &[(2, 4)]),
            routine(2, vec![7, 8, 7, 8], &[]),
            routine(3, vec![7, 8, 8], &[]),
        ];
        mining(actions, routines)
    }

    #[test]
    fn a_copy_paste_save_routine_is_named_after_its_source_target_and_final_step() {
        let m = new_hire();
        let names = routine_names(&m);
        assert_eq!(
            names[0],
            "Copy from mail \"New hire\" to HR Portal \"New employee\", Save"
        );
        assert_eq!(names[1], "In xterm");
        assert_eq!(names[2], "In xterm (2)");
        assert_eq!(routine_name(&m, &m.routines[2]), names[2]);
    }

    #[test]
    fn without_flows_a_routine_goes_from_its_first_app_to_its_decisive_step() {
        use EventKind::*;
        let actions = vec![
            action(
                0,
                Focus,
                "libreoffice-calc",
                "<file> - LibreOffice Calc",
                "",
            ),
            action(
                1,
                Click,
                "libreoffice-calc",
                "<file> - LibreOffice Calc",
                "menuitem \"Export as PDF...\" #menu-export-pdf",
            ),
            action(2, Focus, "thunderbird", "<*> - Mozilla Thunderbird", ""),
            action(
                3,
                Click,
                "thunderbird",
                "Write: Sales <*> <date> - Mozilla Thunderbird",
                "button \"Send\" #button-send",
            ),
            action(4, Focus, "thunderbird", "<*> - Mozilla Thunderbird", ""),
        ];
        let m = mining(actions, vec![routine(1, vec![0, 1, 2, 3, 4], &[])]);
        assert_eq!(
            routine_names(&m),
            ["From LibreOffice Calc to mail \"Write: Sales\", Send"]
        );
    }

    #[test]
    fn long_names_lose_detail_before_they_are_cut() {
        use EventKind::*;
        let src = "Quarterly supplier reconciliation statement <n> - Mozilla Thunderbird";
        let dst = "Accounts payable reconciliation and approval workflow - Finance Portal — Mozilla Firefox";
        let actions = vec![
            action(0, Copy, "thunderbird", src, "text \"<*>\""),
            action(1, Paste, "firefox", dst, "INPUT \"Amount\""),
            action(
                2,
                Click,
                "firefox",
                dst,
                "BUTTON \"Submit for approval by the department head\"",
            ),
        ];
        let m = mining(actions, vec![routine(1, vec![0, 1, 2], &[(0, 1)])]);
        let name = &routine_names(&m)[0];
        assert!(name.chars().count() <= MAX_NAME_CHARS, "{name}");
        assert!(name.starts_with("Copy from mail"), "{name}");
        assert!(name.contains("Finance Portal"), "{name}");
        assert_eq!(name.matches('"').count() % 2, 0, "{name}");
    }

    #[test]
    fn cutting_stops_at_a_word_and_keeps_quotes_balanced() {
        assert_eq!(cut("short", 10), "short");
        let c = cut("Copy from mail \"a very long subject line here\"", 30);
        assert!(c.chars().count() <= 30, "{c}");
        assert!(c.ends_with("…\""), "{c}");
        assert!(!c.contains("lin"), "cut inside a word: {c}");
    }

    #[test]
    fn elements_and_placeholders_are_read() {
        assert_eq!(
            element("BUTTON \"Save \\\"all\\\"\" #save"),
            ("BUTTON", "Save \"all\"".to_owned())
        );
        assert_eq!(element("\"Name\" @div/input"), ("", "Name".to_owned()));
        assert_eq!(element("terminal #vt"), ("terminal", String::new()));
        assert_eq!(clean("Invoice <n> from <*>"), "Invoice");
        assert_eq!(clean("Order status SO<n>"), "Order status");
        assert_eq!(clean("New hire: <*>"), "New hire");
        assert!(!has_placeholder("a<b") && has_placeholder("x<file>"));
        let p = url_place("https://www.forms.zoho.com/uni/form/NewRecord?x=1").unwrap();
        assert_eq!(p.render(true), "forms.zoho.com \"NewRecord\"");
        assert_eq!(url_place("http://<*>/").unwrap().render(true), "web");
        assert!(url_place("New employee - HR Portal").is_none());
    }

    #[test]
    fn an_analysts_name_replaces_the_made_one_and_made_names_avoid_it() {
        let m = new_hire();
        let given: BTreeMap<u32, String> = [(3, "In xterm".to_owned())].into();
        let names = routine_names_given(&m, &given);
        assert_eq!(names[2], "In xterm");
        assert_eq!(names[1], "In xterm (2)");
    }

    /// Random routines over a small vocabulary of apps, titles and elements, so that names repeat.
    fn arb_mining() -> impl Strategy<Value = Mining> {
        let apps = [
            "thunderbird",
            "firefox",
            "libreoffice-calc",
            "tryton",
            "xterm",
        ];
        let titles = [
            "<*> - Mozilla Thunderbird",
            "New employee - HR Portal — Mozilla Firefox",
            "<file> - LibreOffice Calc",
            "A very long window title that goes on and on <n> - Tryton",
            "<id> ~",
        ];
        let elements = [
            "",
            "BUTTON \"Save\" #save",
            "treeitem \"Invoice <n> from <*>\"",
            "button \"Submit the whole thing to the approval queue\"",
            "text \"<*>\"",
        ];
        let kinds = [
            EventKind::Click,
            EventKind::Copy,
            EventKind::Paste,
            EventKind::Focus,
            EventKind::DoubleClick,
        ];
        let actions: Vec<Action> = (0..125u32)
            .map(|i| {
                let (a, t, e, k) = (i % 5, i / 5 % 5, i / 25 % 5, (i * 7 + i / 5) % 5);
                action(
                    i,
                    kinds[k as usize],
                    apps[a as usize],
                    titles[t as usize],
                    elements[e as usize],
                )
            })
            .collect();
        let one = (
            prop::collection::vec(0..125u32, 1..12),
            prop::collection::vec((0..12usize, 0..12usize), 0..3),
        );
        prop::collection::vec(one, 0..20).prop_map(move |rs| {
            let routines = rs
                .into_iter()
                .enumerate()
                .map(|(i, (steps, flows))| {
                    let flows: Vec<(u32, u32)> = flows
                        .iter()
                        .map(|&(a, b)| (steps[a % steps.len()], steps[b % steps.len()]))
                        .collect();
                    routine(i as u32 + 1, steps, &flows)
                })
                .collect();
            mining(actions.clone(), routines)
        })
    }

    proptest! {
        #[test]
        fn names_are_short_unique_and_stable(m in arb_mining()) {
            let names = routine_names(&m);
            prop_assert_eq!(names.len(), m.routines.len());
            for n in &names {
                prop_assert!(n.chars().count() <= MAX_NAME_CHARS, "{} is too long", n);
                prop_assert!(!n.is_empty());
            }
            let distinct: BTreeSet<&String> = names.iter().collect();
            prop_assert_eq!(distinct.len(), names.len(), "{:?}", names);
            prop_assert_eq!(&routine_names(&m.clone()), &names);
        }
    }
}
