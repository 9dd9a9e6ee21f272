//! Abstraction: an event becomes an action label (kind + app + title template + element).
//!
//! Window titles carry the data a task works on ("Invoice 4711 - Editor", "report-0312.xlsx - Calc"),
//! so two steps of the same routine rarely have the same title. Titles are templated once per distinct
//! title of the log's dictionary (never per event):
//! 1. user rules from a rules file are tried first; the first matching rule decides the template;
//! 2. tokens that are data by their shape become placeholders: dates `<date>`, numbers `<n>`, tokens
//!    mixing letters and digits `<id>`, file names `<file>`;
//! 3. tokens that vary across otherwise-equal titles become `<*>`: titles that share a prefix and a
//!    suffix and differ in a middle of one to three tokens are merged when at least
//!    `min_distinct` different middles occur.
//!
//! Labels are interned: the rest of the miner works on `u32` action ids.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use uilog::{Dictionary, Element, EventKind};

use crate::error::{Error, Result};
use rustc_hash::FxHashMap;

/// User rules for window titles, read from a YAML file:
///
/// ```yaml
/// titles:
///   - pattern: '^Invoice \d+ - (.*)$'   # a regular expression over the whole title
///     template: 'Invoice <id> - $1'     # its replacement ($1… are capture groups)
///   - pattern: '^Inbox - Mail$'         # no template: keep the title as it is
/// ```
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub titles: Vec<TitleRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TitleRule {
    pub pattern: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

impl Rules {
    /// Reads a rules file; errors name the file, the line and the field.
    pub fn from_file(path: &Path) -> Result<Rules> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Rules::parse(&text, path)
    }

    /// Parses rules from YAML text; `file` names the source in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Rules> {
        let rules: Rules = serde_norway::from_str(text).map_err(|e| Error::Parse {
            file: file.to_path_buf(),
            line: e.location().map(|l| l.line() as u64).unwrap_or(0),
            field: "titles".into(),
            message: e.to_string(),
        })?;
        rules.compile(file)?;
        Ok(rules)
    }

    fn compile(&self, file: &Path) -> Result<Vec<(regex::Regex, Option<String>)>> {
        self.titles
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let re = regex::Regex::new(&r.pattern).map_err(|e| Error::Parse {
                    file: file.to_path_buf(),
                    line: 0,
                    field: format!("titles[{i}].pattern"),
                    message: e.to_string(),
                })?;
                Ok((re, r.template.clone()))
            })
            .collect()
    }
}

/// The template of every window title of a log.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TitleTemplates {
    /// Template id → template text. Sorted, so ids do not depend on the order titles were seen.
    pub templates: Vec<String>,
    /// Window id (of the store's dictionary) → template id.
    pub of_window: Vec<u32>,
}

/// Templates every title of `titles` (indexed by window id).
pub fn template_titles(titles: &[String], rules: &Rules, min_distinct: usize) -> TitleTemplates {
    template_texts(titles, &vec![0; titles.len()], rules, min_distinct, false)
}

/// Templates texts of which the first `protected[i]` tokens never vary (they give the context).
fn template_texts(
    titles: &[String],
    protected: &[usize],
    rules: &Rules,
    min_distinct: usize,
    keep_letters: bool,
) -> TitleTemplates {
    let compiled = rules.compile(Path::new("<rules>")).unwrap_or_default();
    let mut fixed: Vec<Option<String>> = vec![None; titles.len()];
    for (i, t) in titles.iter().enumerate() {
        for (re, template) in &compiled {
            if re.is_match(t) {
                fixed[i] = Some(match template {
                    Some(tpl) => re.replace(t, tpl.as_str()).into_owned(),
                    None => t.clone(),
                });
                break;
            }
        }
    }
    // Token vocabulary shared by all titles, so that comparing token sequences compares integers.
    let mut vocab: HashMap<String, u32> = HashMap::new();
    let mut words: Vec<String> = Vec::new();
    let mut intern = |w: String, vocab: &mut HashMap<String, u32>| -> u32 {
        if let Some(&id) = vocab.get(&w) {
            return id;
        }
        let id = words.len() as u32;
        words.push(w.clone());
        vocab.insert(w, id);
        id
    };
    let star = intern("<*>".into(), &mut vocab);
    let mut toks: Vec<Vec<u32>> = Vec::with_capacity(titles.len());
    for (i, t) in titles.iter().enumerate() {
        if fixed[i].is_some() {
            toks.push(Vec::new());
            continue;
        }
        // The first token says how many tokens are protected; it is outside the vocabulary.
        let mut v = vec![u32::MAX - protected[i] as u32];
        v.extend(
            t.split_whitespace()
                .map(|w| intern(shape(w, keep_letters), &mut vocab)),
        );
        toks.push(v);
    }
    // A word is a token with a letter or digit that is not a placeholder: a key needs one to stay
    // fixed, or "<*> - Tryton" and "<*> - Mail" would make "<*> - <*>" of every title.
    let is_word: Vec<bool> = words
        .iter()
        .map(|w| w.chars().any(char::is_alphanumeric) && !(w.starts_with('<') && w.ends_with('>')))
        .collect();
    // Two rounds catch titles with two independent varying parts.
    for _ in 0..2 {
        if !merge_varying_middles(&mut toks, star, min_distinct, &is_word) {
            break;
        }
    }
    let texts: Vec<String> = titles
        .iter()
        .enumerate()
        .map(|(i, _)| match &fixed[i] {
            Some(f) => f.clone(),
            None => toks[i][1..]
                .iter()
                .map(|&w| words[w as usize].as_str())
                .collect::<Vec<_>>()
                .join(" "),
        })
        .collect();
    let mut templates: Vec<String> = texts.clone();
    templates.sort();
    templates.dedup();
    let of_window = texts
        .iter()
        .map(|t| templates.binary_search(t).expect("present") as u32)
        .collect();
    TitleTemplates {
        templates,
        of_window,
    }
}

/// Replaces the varying middle of titles by `star`; returns whether anything changed.
///
/// Each title takes its most specific eligible key (most fixed tokens). A key is eligible while the
/// titles that take it show at least `min_distinct` different middles; keys that fall below are
/// dropped and titles choose again, so a title is not merged into a broad key ("<*> - CRM") only
/// because more specific groups ("Customer <*> - CRM") counted towards it.
fn merge_varying_middles(
    toks: &mut [Vec<u32>],
    star: u32,
    min_distinct: usize,
    is_word: &[bool],
) -> bool {
    let mut unique: Vec<Vec<u32>> = toks.iter().filter(|t| !t.is_empty()).cloned().collect();
    unique.sort();
    unique.dedup();
    // Titles are distinct, so within one key (fixed prefix and suffix) their middles are distinct
    // too: counting titles counts middles, and keys are kept as 64-bit hashes, so that a log with a
    // million different titles costs counters, not copies.
    let keys: Vec<Vec<(u64, usize, usize)>> =
        unique.iter().map(|t| split_keys(t, is_word)).collect();
    let counts_of = |pick: &mut dyn FnMut(usize) -> Option<usize>| -> HashMap<u64, usize> {
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for (i, ks) in keys.iter().enumerate() {
            let Some(j) = pick(i) else { continue };
            let (k, p, m) = ks[j];
            // A middle holding a placeholder already is not data varying again: generalizing it
            // would swallow the fixed words around the first placeholder.
            if !unique[i][p..p + m].contains(&star) {
                *counts.entry(k).or_insert(0) += 1;
            }
        }
        counts
    };
    let mut eligible: HashMap<u64, usize> = HashMap::new();
    for (i, ks) in keys.iter().enumerate() {
        for &(k, p, m) in ks {
            if !unique[i][p..p + m].contains(&star) {
                *eligible.entry(k).or_insert(0) += 1;
            }
        }
    }
    eligible.retain(|_, c| *c >= min_distinct);
    let mut choice: Vec<Option<usize>> = vec![None; unique.len()];
    loop {
        for (i, (t, ks)) in unique.iter().zip(&keys).enumerate() {
            // The most specific key (most fixed tokens) wins, unless a broader one varies far more:
            // in "New hire: Ann Lee" the key "New hire: <*> Lee" is more specific than
            // "New hire: <*>", but only the few Ann, Bob, … with the last name Lee vary in it.
            // Ties go to the key whose varying part comes first: titles put the document before
            // the application ("Invoices - Tryton"), and the application is no data.
            let mut cands: Vec<(usize, usize, usize, u64, usize)> = ks
                .iter()
                .enumerate()
                .filter_map(|(j, &(k, p, m))| eligible.get(&k).map(|&c| (t.len() - m, c, p, k, j)))
                .collect();
            cands.sort_by(|a, b| {
                b.0.cmp(&a.0)
                    .then(b.1.cmp(&a.1))
                    .then(a.2.cmp(&b.2))
                    .then(a.3.cmp(&b.3))
            });
            let mut best: Option<(usize, usize, usize, u64, usize)> = None;
            for c in cands {
                match best {
                    None => best = Some(c),
                    Some(b) if c.1 >= 2 * b.1 => best = Some(c),
                    _ => {}
                }
            }
            choice[i] = best.map(|b| b.4);
        }
        let taken = counts_of(&mut |i| choice[i]);
        let mut dropped = false;
        for (i, c) in choice.iter().enumerate() {
            if let Some(j) = *c {
                let k = keys[i][j].0;
                if taken.get(&k).copied().unwrap_or(0) < min_distinct
                    && eligible.remove(&k).is_some()
                {
                    dropped = true;
                }
            }
        }
        if !dropped {
            break;
        }
    }
    let mut replaced: HashMap<&[u32], Vec<u32>> = HashMap::new();
    for (i, c) in choice.iter().enumerate() {
        if let Some(j) = *c {
            let (_, p, m) = keys[i][j];
            let t = &unique[i];
            let mut out = t[..p].to_vec();
            out.push(star);
            out.extend_from_slice(&t[p + m..]);
            replaced.insert(t.as_slice(), out);
        }
    }
    let mut changed = false;
    for t in toks.iter_mut() {
        if let Some(out) = replaced.get(t.as_slice()) {
            if out != t {
                *t = out.clone();
                changed = true;
            }
        }
    }
    changed
}

/// The keys a title's token sequence can be grouped by: a fixed prefix and suffix around a varying
/// middle of one to three tokens, as (hash of the key, middle start, middle length). The key holds the
/// prefix and suffix lengths so that keys of different shapes never collide. The hash is SipHash with
/// fixed keys, so the same titles give the same keys on every run.
fn split_keys(t: &[u32], is_word: &[bool]) -> Vec<(u64, usize, usize)> {
    use std::hash::{Hash, Hasher};
    let n = t.len();
    let protected = (u32::MAX - t[0]) as usize + 1;
    let mut out = Vec::new();
    for p in protected.min(n)..n {
        for m in 1..=3.min(n - p) {
            let s = n - p - m;
            let word = |&w: &u32| is_word.get(w as usize).copied().unwrap_or(false);
            if !t[1..p].iter().any(word) && !t[p + m..].iter().any(word) {
                continue; // no fixed word left: everything would merge with everything
            }
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (p, s).hash(&mut h);
            t[..p].hash(&mut h);
            t[p + m..].hash(&mut h);
            out.push((h.finish(), p, m));
        }
    }
    out
}

const FILE_EXTENSIONS: &[&str] = &[
    "txt", "csv", "tsv", "xlsx", "xls", "xlsm", "docx", "doc", "pdf", "pptx", "ppt", "odt", "ods",
    "odp", "md", "json", "xml", "html", "htm", "png", "jpg", "jpeg", "gif", "zip", "rs", "py",
    "js", "ts", "log", "eml", "msg", "yaml", "yml", "toml", "sql", "db",
];

/// A title token as data-by-shape placeholder, or itself.
fn shape(w: &str, keep_letters: bool) -> String {
    let core =
        w.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | ',' | ';' | ':' | '"' | '\''));
    if core.is_empty() {
        return w.to_owned();
    }
    if is_date(core) {
        return "<date>".into();
    }
    if let Some((stem, ext)) = core.rsplit_once('.') {
        if !stem.is_empty() && FILE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str()) {
            return "<file>".into();
        }
    }
    let digits = core.chars().filter(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return w.to_owned();
    }
    let numeric = core
        .trim_start_matches(['#', '€', '$', '£', '-', '+'])
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '%'));
    if numeric {
        "<n>".into()
    } else if keep_letters {
        // "B17" → "B<n>", "Button1" → "Button<n>": the letters tell elements apart.
        let mut out = String::new();
        let mut in_digits = false;
        for c in w.chars() {
            if c.is_ascii_digit() {
                if !in_digits {
                    out.push_str("<n>");
                }
                in_digits = true;
            } else {
                out.push(c);
                in_digits = false;
            }
        }
        out
    } else {
        "<id>".into()
    }
}

fn is_date(s: &str) -> bool {
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    if parts.len() != 3
        || !parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        return false;
    }
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    matches!(
        lens.as_slice(),
        [4, 1..=2, 1..=2] | [1..=2, 1..=2, 2] | [1..=2, 1..=2, 4]
    )
}

/// How many trailing steps of an element path identify an element without a name or id (see
/// [`stable_path`]); an element with one keeps [`NAMED_PATH_STEPS`], its own step and its container's.
pub const PATH_STEPS: usize = 3;
pub const NAMED_PATH_STEPS: usize = 2;

/// The stable part of an element's path: what identifies the element across instances.
///
/// Paths come in three shapes, told apart by their separators:
/// - **AT-SPI** (`frame 'Customer form' / panel[0] / entry 'First name'[2]`, steps joined by ` / `):
///   the first step is the window, which the action's title names already, and is dropped;
/// - **XPath** (`/html/body/div[2]/form/input[@id='email']`): steps joined by `/`;
/// - **CSS** (`body > div:nth-child(2) > form > input#email`): steps joined by `>` or spaces.
///
/// Positional parts change from one instance to the next (a row added above, a banner shown, a list
/// grown) and are removed: `[k]` indices, `[last()]`, `:nth-child(k)`, `:nth-of-type(k)`, `:eq(k)`.
/// Attribute predicates (`[@id='email']`, `[@name='q']`) and CSS ids and classes stay. Of what is
/// left, the last `steps` steps are the element's place: the element's own tag or role and name, and
/// its nearest containers; the levels above them are layout that pages and windows rearrange (an info
/// bar shown above a form, a wrapper a new page version adds). [`template_elements`] keeps
/// [`PATH_STEPS`] for an element known only by its path and [`NAMED_PATH_STEPS`] for one that also
/// has a name or id, which identify it already. Steps are joined by `/` and spaces become `_`, so the result is one token. Numbers
/// inside the steps (generated ids such as `__input3-inner`) become `<n>` later, like every element
/// token's digits.
pub fn stable_path(path: &str, steps_kept: usize) -> String {
    let path = path.trim();
    let steps: Vec<String> = if path.contains(" / ") {
        path.split(" / ")
            .skip(1)
            .map(|s| strip_positions(s.trim()))
            .collect()
    } else if path.contains('>') || path.contains(":nth-") || path.contains(":eq(") {
        path.split(|c: char| c == '>' || c.is_whitespace())
            .map(|s| strip_positions(s.trim()))
            .collect()
    } else {
        split_xpath(path)
            .into_iter()
            .map(|s| strip_positions(s.trim()))
            .collect()
    };
    let steps: Vec<String> = steps
        .into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join("_"))
        .collect();
    let from = steps.len().saturating_sub(steps_kept);
    steps[from..].join("/")
}

/// Whether an element id is a path rather than an identifier (older imports of web logs put the
/// XPath or CSS path there).
fn id_is_path(id: &str) -> bool {
    let id = id.trim();
    (id.starts_with('/') && id.len() > 1)
        || id.contains(" / ")
        || (id.contains('/') && id.contains('['))
        || id.contains(" > ")
        || id.contains(":nth-")
}

/// XPath steps: `/` outside predicates and quotes separates them.
fn split_xpath(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0usize);
    for (i, c) in path.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth -= 1,
            (None, '/') if depth <= 0 => {
                out.push(&path[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&path[start..]);
    out
}

/// Removes positional parts from one path step: `[3]`, `[last()]`, `:nth-child(2)`, `:eq(0)`, … and
/// the trailing `[k]` of AT-SPI steps.
fn strip_positions(step: &str) -> String {
    let mut out = String::with_capacity(step.len());
    let mut rest = step;
    while let Some(c) = rest.chars().next() {
        if c == '[' {
            if let Some(end) = rest.find(']') {
                let inner = rest[1..end].trim();
                let positional = inner.chars().all(|c| c.is_ascii_digit())
                    || inner == "last()"
                    || inner.starts_with("position()");
                if positional {
                    rest = &rest[end + 1..];
                    continue;
                }
                out.push_str(&rest[..=end]);
                rest = &rest[end + 1..];
                continue;
            }
        }
        if c == ':' {
            let positional = [":nth-child(", ":nth-of-type(", ":nth-last-child(", ":eq("]
                .iter()
                .find(|p| rest.starts_with(**p));
            if let Some(p) = positional {
                match rest[p.len()..].find(')') {
                    Some(end) => {
                        rest = &rest[p.len() + end + 1..];
                        continue;
                    }
                    None => break,
                }
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Roles (as [`template_elements`] writes them: lowercase HTML tags and AT-SPI role names with `_`
/// for spaces) whose name is a label the application gives the control, never data: a form's
/// fields, buttons, boxes, tabs and menu items. Content elements (paragraphs, cells, list and tree
/// items, links, options) are named by what they show, which can carry data. `ocr` is the role of
/// an element the recorder's OCR pass named after the text at the click (`text 'Save'`) in an app
/// without an accessibility tree: that text is the control's label or caption far more often than
/// data, and templating it would merge every button of such an app into one action.
const CONTROL_ROLES: [&str; 22] = [
    "ocr",
    "input",
    "textarea",
    "select",
    "button",
    "entry",
    "password_text",
    "text_field",
    "textbox",
    "push_button",
    "toggle_button",
    "check_box",
    "checkbox",
    "radio_button",
    "radio",
    "combo_box",
    "combobox",
    "spin_button",
    "menu_item",
    "page_tab",
    "tab",
    "slider",
];

fn is_control(role: &str) -> bool {
    let role = role.to_ascii_lowercase();
    CONTROL_ROLES.contains(&role.as_str())
}

/// Templates of the elements of a log: the name and the id of an element are templated like titles
/// (a tree item named "Invoice 4711 from ACME" or a cell "B17" carry data too); the role is kept.
/// An element's path contributes its [`stable_path`] (an id that is a path is read as the path).
/// Template 0 is the empty element.
pub fn template_elements(elements: &[Option<Element>], min_distinct: usize) -> TitleTemplates {
    // An element reads `role #id @path name…`. Its role, id and path are the context its name varies
    // in: the name of a text span in the message pane may be templated ("text #messagepane <*>"), but
    // the labels of differently named fields never merge. Without an id or a path, a name token must
    // stay fixed too, so that buttons named Save, Cancel and OK stay apart.
    let clean = |s: Option<&str>| {
        s.unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join("_")
    };
    let mut texts = Vec::with_capacity(elements.len());
    let mut protected = Vec::with_capacity(elements.len());
    for e in elements {
        match e {
            None => {
                texts.push(String::new());
                protected.push(0);
            }
            Some(e) => {
                let role = clean(e.role.as_deref());
                let named = e.name.as_deref().is_some_and(|n| !n.trim().is_empty());
                let (id, path) = match (e.id.as_deref(), e.path.as_deref()) {
                    (Some(id), None) if id_is_path(id) => (String::new(), id),
                    (id, Some(p)) => (clean(id.filter(|i| !id_is_path(i))), p),
                    (id, None) => (clean(id), ""),
                };
                let keep = if named || !id.is_empty() {
                    NAMED_PATH_STEPS
                } else {
                    PATH_STEPS
                };
                let path = if path.is_empty() {
                    String::new()
                } else {
                    stable_path(path, keep)
                };
                let name = e.name.as_deref().unwrap_or("");
                texts.push(format!(
                    "{} #{} @{} {}",
                    if role.is_empty() { "-" } else { &role },
                    id,
                    path,
                    name
                ));
                let context = if id.is_empty() && path.is_empty() {
                    4
                } else {
                    3
                };
                // A control's name is its label, which tells the fields of a form apart even where
                // nothing else does (web fields known by a positional path only).
                protected.push(if is_control(&role) {
                    context.max(3 + name.split_whitespace().count())
                } else {
                    context
                });
            }
        }
    }
    let t = template_texts(&texts, &protected, &Rules::default(), min_distinct, true);
    // Show `role "name" #id @path`; the empty element is template 0.
    let pretty = |s: &str| -> String {
        let mut it = s.splitn(4, ' ');
        let (role, id, path, name) = (
            it.next().unwrap_or(""),
            it.next().unwrap_or("#"),
            it.next().unwrap_or("@"),
            it.next().unwrap_or(""),
        );
        let mut parts = Vec::new();
        if role != "-" && !role.is_empty() {
            parts.push(role.to_owned());
        }
        if !name.is_empty() {
            parts.push(format!("{name:?}"));
        }
        if id != "#" {
            parts.push(id.to_owned());
        }
        if path != "@" {
            parts.push(path.to_owned());
        }
        parts.join(" ")
    };
    let mut shown: Vec<String> = t.templates.iter().map(|s| pretty(s)).collect();
    shown.push(String::new());
    let mut templates = shown.clone();
    templates.sort();
    templates.dedup();
    let of_window = t
        .of_window
        .iter()
        .map(|&k| {
            templates
                .binary_search(&shown[k as usize])
                .expect("present") as u32
        })
        .collect();
    TitleTemplates {
        templates,
        of_window,
    }
}

/// Two clicks without an element at most this many pixels apart (window-relative) hit the same spot.
pub const SPOT_RADIUS: i32 = 16;
/// A spot needs this many clicks; rarer positions stay the window's generic click.
pub const MIN_SPOT_CLICKS: usize = 3;

/// Spots of a window that clicks without an element hit, from their window-relative positions.
///
/// Where an application exposes no UI elements, the place of a click in its window is what tells
/// its buttons apart. Positions are clustered by single linkage: two clicks at most [`SPOT_RADIUS`]
/// pixels apart (in x and in y) are on one spot, and so are clicks linked through others. A person's
/// repeated clicks on one control land within a few pixels of each other, while the centres of two
/// controls are rarely closer than twice that; a window that moves or resizes keeps window-relative
/// positions. A cluster of fewer than [`MIN_SPOT_CLICKS`] clicks is no spot: a stray click stays the
/// window's generic click action.
///
/// Returns, per point, its cluster (0-based, numbered in order of first appearance) or `None`.
/// Identical positions are clustered once, and a grid of cells of the radius limits comparisons to
/// neighbouring cells, so the cost is linear in the points for any realistic spread.
pub fn click_spots(points: &[(i32, i32)]) -> Vec<Option<u32>> {
    let mut distinct: Vec<(i32, i32)> = points.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    let index: FxHashMap<(i32, i32), usize> =
        distinct.iter().enumerate().map(|(i, &p)| (p, i)).collect();
    let cell = |(x, y): (i32, i32)| (x.div_euclid(SPOT_RADIUS), y.div_euclid(SPOT_RADIUS));
    let mut grid: FxHashMap<(i32, i32), Vec<usize>> = FxHashMap::default();
    for (i, &p) in distinct.iter().enumerate() {
        grid.entry(cell(p)).or_default().push(i);
    }
    let mut parent: Vec<usize> = (0..distinct.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, &(x, y)) in distinct.iter().enumerate() {
        let (cx, cy) = cell((x, y));
        for dx in -1..=1 {
            for dy in -1..=1 {
                let Some(near) = grid.get(&(cx + dx, cy + dy)) else {
                    continue;
                };
                for &j in near {
                    let (qx, qy) = distinct[j];
                    if j > i && (qx - x).abs() <= SPOT_RADIUS && (qy - y).abs() <= SPOT_RADIUS {
                        let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                        if a != b {
                            parent[a.max(b)] = a.min(b);
                        }
                    }
                }
            }
        }
    }
    let of_point: Vec<usize> = points.iter().map(|p| root(&mut parent, index[p])).collect();
    let mut size: FxHashMap<usize, usize> = FxHashMap::default();
    for &r in &of_point {
        *size.entry(r).or_insert(0) += 1;
    }
    let mut number: FxHashMap<usize, u32> = FxHashMap::default();
    of_point
        .iter()
        .map(|&r| {
            if size[&r] < MIN_SPOT_CLICKS {
                return None;
            }
            let next = number.len() as u32;
            Some(*number.entry(r).or_insert(next))
        })
        .collect()
}

/// What an action label is made of, as interned ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabelKey {
    pub kind: EventKind,
    pub app: u32,
    /// Template id of [`TitleTemplates`].
    pub title: u32,
    /// Element template id (see [`template_elements`]); 0 for none.
    pub element: u32,
    /// For clicks without an element: the spot of the window clicked (see [`click_spots`]), 1-based;
    /// 0 for every other event.
    pub spot: u32,
    /// For shortcuts: the key combination pressed ([`Labeler::shortcut`]), 1-based; 0 for every
    /// other event. Ctrl+S and Ctrl+End in one window are two steps of a routine, not one.
    pub keys: u32,
}

/// An action, as the miner's results name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub id: u32,
    pub kind: EventKind,
    pub app: String,
    pub title: String,
    /// `role "name" #id @path`, as far as known; empty when the event had no element.
    pub element: String,
    /// A shortcut's key combination (`ctrl+s`), as the recorder names it; empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub keys: String,
    /// How many events of the log have this action.
    pub events: u64,
}

impl Action {
    /// One line: `click firefox "Invoice <id> - Editor" button "Save"`.
    pub fn label(&self) -> String {
        let mut s = format!("{} {} \"{}\"", self.kind, self.app, self.title);
        if !self.element.is_empty() {
            s.push(' ');
            s.push_str(&self.element);
        }
        if !self.keys.is_empty() {
            s.push(' ');
            s.push_str(&self.keys);
        }
        s
    }
}

/// Interns label keys to dense action ids as events stream in.
#[derive(Debug, Default)]
pub struct Labeler {
    index: FxHashMap<LabelKey, u32>,
    pub keys: Vec<LabelKey>,
    pub counts: Vec<u64>,
    /// The key combinations of shortcuts, in first-appearance order ([`LabelKey::keys`] - 1).
    pub shortcuts: Vec<String>,
    shortcut_index: FxHashMap<String, u32>,
}

impl Labeler {
    /// The [`LabelKey::keys`] of a shortcut whose event attributes (a JSON object) are `attrs`:
    /// its `keys` attribute, as recorders write it; 0 when it has none.
    pub fn shortcut(&mut self, attrs: Option<&str>) -> u32 {
        let Some(keys) = attrs
            .and_then(|a| serde_json::from_str::<FxHashMap<String, String>>(a).ok())
            .and_then(|mut a| a.remove("keys"))
            .filter(|k| !k.is_empty())
        else {
            return 0;
        };
        let next = self.shortcuts.len() as u32 + 1;
        let id = *self.shortcut_index.entry(keys.clone()).or_insert(next);
        if id == next {
            self.shortcuts.push(keys);
        }
        id
    }

    #[inline]
    pub fn intern(&mut self, key: LabelKey) -> u32 {
        let next = self.keys.len() as u32;
        let id = *self.index.entry(key).or_insert(next);
        if id == next {
            self.keys.push(key);
            self.counts.push(0);
        }
        self.counts[id as usize] += 1;
        id
    }

    /// Renumbers actions in the order of their keys, so that ids do not depend on the order events
    /// were read; returns old id → new id.
    pub fn canonical_order(&mut self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.keys.len() as u32).collect();
        order.sort_by_key(|&i| self.keys[i as usize]);
        let mut remap = vec![0u32; order.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = new as u32;
        }
        self.keys = order.iter().map(|&o| self.keys[o as usize]).collect();
        self.counts = order.iter().map(|&o| self.counts[o as usize]).collect();
        self.index = self
            .keys
            .iter()
            .enumerate()
            .map(|(i, k)| (*k, i as u32))
            .collect();
        remap
    }

    /// The actions, resolved against the dictionary and the title templates.
    pub fn actions(
        &self,
        dict: &Dictionary,
        titles: &TitleTemplates,
        elements: &TitleTemplates,
        spots: &[(i32, i32)],
    ) -> Vec<Action> {
        self.keys
            .iter()
            .zip(&self.counts)
            .enumerate()
            .map(|(i, (k, &n))| Action {
                id: i as u32,
                kind: k.kind,
                app: dict.apps.get(k.app as usize).cloned().unwrap_or_default(),
                title: titles
                    .templates
                    .get(k.title as usize)
                    .cloned()
                    .unwrap_or_default(),
                element: match k.spot {
                    0 => elements
                        .templates
                        .get(k.element as usize)
                        .cloned()
                        .unwrap_or_default(),
                    s => spots
                        .get(s as usize - 1)
                        .map(|(x, y)| format!("near ({x}, {y})"))
                        .unwrap_or_default(),
                },
                keys: match k.keys {
                    0 => String::new(),
                    i => self
                        .shortcuts
                        .get(i as usize - 1)
                        .cloned()
                        .unwrap_or_default(),
                },
                events: n,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn titles(ts: &[&str]) -> Vec<String> {
        ts.iter().map(|s| s.to_string()).collect()
    }

    fn templated(ts: &[&str], rules: &Rules) -> Vec<String> {
        let t = template_titles(&titles(ts), rules, 3);
        t.of_window
            .iter()
            .map(|&i| t.templates[i as usize].clone())
            .collect()
    }

    #[test]
    fn data_shaped_tokens_become_placeholders() {
        let out = templated(
            &[
                "Invoice 4711 - Editor",
                "report-0312.xlsx - Calc",
                "Order A-77b (2024-03-01)",
                "Total: 1,234.50 €",
                "Inbox - Mail",
            ],
            &Rules::default(),
        );
        assert_eq!(
            out,
            [
                "Invoice <n> - Editor",
                "<file> - Calc",
                "Order <id> <date>",
                "Total: <n> €",
                "Inbox - Mail"
            ]
        );
    }

    #[test]
    fn tokens_varying_across_otherwise_equal_titles_become_a_placeholder() {
        let out = templated(
            &[
                "Customer Ann Lee - CRM",
                "Customer Bob - CRM",
                "Customer Carla Diaz Ruiz - CRM",
                "Settings - CRM",
                "Dashboard",
            ],
            &Rules::default(),
        );
        // Three different middles after "Customer" and before "- CRM" make a placeholder; "Settings -
        // CRM" is one of only two titles of its shape ("<x> - CRM" has middles "Settings" and none
        // other of length 1 with that suffix), so it stays.
        assert_eq!(
            out,
            [
                "Customer <*> - CRM",
                "Customer <*> - CRM",
                "Customer <*> - CRM",
                "Settings - CRM",
                "Dashboard"
            ]
        );
    }

    #[test]
    fn a_name_varies_as_a_whole_even_when_a_last_name_repeats() {
        let names = [
            "Ann Lee", "Bob Lee", "Cy Lee", "Dee Moss", "Eve Park", "Fay Ruiz", "Gus Tan", "Hal Wu",
        ];
        let mut ts: Vec<String> = names
            .iter()
            .map(|n| format!("New hire: {n} - Mail"))
            .collect();
        ts.push("Inbox - Mail".into());
        let t = template_titles(&ts, &Rules::default(), 3);
        let out: Vec<&str> = t
            .of_window
            .iter()
            .map(|&i| t.templates[i as usize].as_str())
            .collect();
        assert!(
            out[..8].iter().all(|&o| o == "New hire: <*> - Mail"),
            "{out:?}"
        );
        assert_eq!(out[8], "Inbox - Mail");
    }

    #[test]
    fn element_names_vary_within_their_role_and_id_but_labels_of_fields_do_not_merge() {
        let el = |role: &str, name: &str, id: &str| {
            let part = |s: &str| (!s.is_empty()).then(|| s.to_owned());
            Some(Element {
                role: part(role),
                name: part(name),
                id: part(id),
                path: None,
            })
        };
        let els = vec![
            None,
            el("text", "Ann", "messagepane"),
            el("text", "Bob", "messagepane"),
            el("text", "Cyd", "messagepane"),
            el("INPUT", "First name", "first_name"),
            el("INPUT", "Last name", "last_name"),
            el("INPUT", "E-mail", "email"),
            el("button", "Save", ""),
            el("button", "Cancel", ""),
            el("button", "OK", ""),
            el("cell", "", "B17"),
            el("button", "Button1", ""),
            el("button", "B2", ""),
        ];
        let t = template_elements(&els, 3);
        let out: Vec<&str> = t
            .of_window
            .iter()
            .map(|&i| t.templates[i as usize].as_str())
            .collect();
        assert_eq!(
            out,
            [
                "",
                "text \"<*>\" #messagepane",
                "text \"<*>\" #messagepane",
                "text \"<*>\" #messagepane",
                "INPUT \"First name\" #first_name",
                "INPUT \"Last name\" #last_name",
                "INPUT \"E-mail\" #email",
                "button \"Save\"",
                "button \"Cancel\"",
                "button \"OK\"",
                "cell #B<n>",
                "button \"Button<n>\"",
                "button \"B<n>\"",
            ]
        );
        assert_eq!(t.of_window[0], 0, "the empty element is template 0");
    }

    #[test]
    fn positional_indices_of_xpaths_css_paths_and_atspi_paths_are_not_part_of_an_element() {
        // The same field in three instances, its XPath indices shifted by rows added above it.
        let xpaths = [
            "/html/body/div[2]/div[1]/form/div[3]/input[1]",
            "/html/body/div[2]/div[2]/form/div[4]/input[1]",
            "/html/body/div[3]/div[1]/form/div[7]/input[2]",
        ];
        let stable: Vec<String> = xpaths.iter().map(|p| stable_path(p, 3)).collect();
        assert!(stable.iter().all(|s| s == "form/div/input"), "{stable:?}");
        // Attribute predicates identify and stay; `/` inside them does not split a step.
        assert_eq!(
            stable_path("//*[@id='main']/div[2]/a[@href='/x/y'][1]", 3),
            "*[@id='main']/div/a[@href='/x/y']"
        );
        assert_eq!(
            stable_path(
                "body > div:nth-child(2) > form.customer > input#email:nth-of-type(1)",
                3
            ),
            "div/form.customer/input#email"
        );
        // AT-SPI: the window step goes (the title names the window), the trailing index too.
        assert_eq!(
            stable_path(
                "frame 'Customer 4711' / filler[0] / panel[1] / entry 'First name'[2]",
                3
            ),
            "filler/panel/entry_'First_name'"
        );
        assert_eq!(
            stable_path(
                "frame 'Customer 4712' / filler[0] / panel[3] / entry 'First name'[5]",
                2
            ),
            "panel/entry_'First_name'"
        );
    }

    #[test]
    fn elements_differing_only_in_path_indices_are_one_element_and_other_fields_stay_apart() {
        let web = |id: Option<&str>, path: Option<&str>| {
            Some(Element {
                role: Some("INPUT".into()),
                name: None,
                id: id.map(str::to_owned),
                path: path.map(str::to_owned),
            })
        };
        let els = vec![
            None,
            // An older import: the XPath is the id.
            web(Some("/html/body/div[2]/form/div[3]/input[1]"), None),
            web(Some("/html/body/div[5]/form/div[1]/input[1]"), None),
            web(Some("/html/body/div[2]/form/div[3]/textarea[1]"), None),
            // A newer one: the path is the path, the id identifies.
            web(
                Some("email"),
                Some("/html/body/div[2]/form/div[9]/input[1]"),
            ),
            web(
                Some("email"),
                Some("/html/body/div[4]/form/div[2]/input[1]"),
            ),
            web(
                Some("phone"),
                Some("/html/body/div[4]/form/div[2]/input[1]"),
            ),
            // Generated ids with numbers that change per page load.
            web(
                None,
                Some("/html/body/div[1]/div[@id='__xmlview3--name-inner']/input[1]"),
            ),
            web(
                None,
                Some("/html/body/div[2]/div[@id='__xmlview7--name-inner']/input[2]"),
            ),
        ];
        let t = template_elements(&els, 3);
        let out: Vec<&str> = t
            .of_window
            .iter()
            .map(|&i| t.templates[i as usize].as_str())
            .collect();
        assert_eq!(out[1], out[2], "{out:?}");
        assert_ne!(out[1], out[3], "{out:?}");
        assert_eq!(out[4], out[5], "{out:?}");
        assert_ne!(out[4], out[6], "{out:?}");
        assert_eq!(out[7], out[8], "{out:?}");
        assert_eq!(out[1], "INPUT @form/div/input");
        assert_eq!(out[4], "INPUT #email @div/input");
    }

    /// Web fields known by a positional path only: their labels tell them apart (five fields of a
    /// form would otherwise be one `input "<*>"`), while the text of a paragraph in the same kind of
    /// place is content and is templated.
    #[test]
    fn labels_of_controls_are_never_templated_but_content_is() {
        let el = |role: &str, name: &str, path: &str| {
            Some(Element {
                role: Some(role.into()),
                name: Some(name.into()),
                id: None,
                path: Some(path.into()),
            })
        };
        let labels = ["First name", "Last name", "E-mail", "Phone", "City"];
        let mut els = vec![None];
        for (k, l) in labels.iter().enumerate() {
            els.push(el(
                "input",
                l,
                &format!("/html/body/div[{}]/form/div[{}]/input", k % 2 + 1, k + 3),
            ));
        }
        for text in ["Dear Ann", "Welcome Bob", "Hello Carl", "Hi Dora"] {
            els.push(el("p", text, "/html/body/div[2]/main/p[1]"));
        }
        let t = template_elements(&els, 3);
        let out: Vec<&str> = t
            .of_window
            .iter()
            .map(|&i| t.templates[i as usize].as_str())
            .collect();
        let mut fields: Vec<&str> = out[1..=5].to_vec();
        fields.sort_unstable();
        fields.dedup();
        assert_eq!(fields.len(), 5, "{out:?}");
        assert_eq!(out[1], "input \"First name\" @div/input", "{out:?}");
        assert!(out[6..].iter().all(|&o| o == out[6]), "{out:?}");
        assert!(out[6].contains("<*>"), "{out:?}");
        assert!(is_control("push_button") && is_control("INPUT") && !is_control("paragraph"));
    }

    /// An app without an accessibility tree, its clicks named by the recorder's OCR pass: Save,
    /// Clear and the field labels stay four actions however many there are.
    #[test]
    fn names_the_ocr_pass_gave_are_labels_and_stay_apart() {
        let mut els = vec![None];
        for name in ["Save", "Clear", "First name", "Last name", "Save", "Clear"] {
            els.push(Some(Element {
                role: Some("ocr".into()),
                name: Some(format!("text '{name}'")),
                id: None,
                path: None,
            }));
        }
        let t = template_elements(&els, 3);
        let out: Vec<&str> = t
            .of_window
            .iter()
            .map(|&i| t.templates[i as usize].as_str())
            .collect();
        assert_eq!(out[1], out[5], "{out:?}");
        let mut distinct = out[1..].to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), 4, "{out:?}");
        assert!(out.iter().all(|o| !o.contains("<*>")), "{out:?}");
    }

    /// Two shortcuts in one window are two actions when their keys differ, and the action names
    /// them; a shortcut whose recorder wrote no keys is one action of its own.
    #[test]
    fn shortcuts_are_told_apart_by_their_keys() {
        let mut l = Labeler::default();
        let key = |keys| LabelKey {
            kind: EventKind::Shortcut,
            app: 0,
            title: 0,
            element: 0,
            spot: 0,
            keys,
        };
        let save = l.shortcut(Some(r#"{"keys":"ctrl+s"}"#));
        let end = l.shortcut(Some(r#"{"duration_ms":"3","keys":"ctrl+end"}"#));
        assert_eq!(l.shortcut(Some(r#"{"keys":"ctrl+s"}"#)), save);
        assert_ne!(save, end);
        assert_eq!(l.shortcut(None), 0);
        assert_eq!(l.shortcut(Some("not json")), 0);
        for k in [save, end, save, 0] {
            l.intern(key(k));
        }
        let dict = Dictionary {
            apps: vec!["gedit".into()],
            windows: vec!["notes".into()],
            ..Dictionary::default()
        };
        let titles = TitleTemplates {
            templates: vec!["notes".into()],
            of_window: vec![0],
        };
        let elements = TitleTemplates {
            templates: vec![String::new()],
            of_window: vec![0],
        };
        let actions = l.actions(&dict, &titles, &elements, &[]);
        let labels: Vec<String> = actions.iter().map(Action::label).collect();
        assert_eq!(
            labels,
            [
                "shortcut gedit \"notes\" ctrl+s",
                "shortcut gedit \"notes\" ctrl+end",
                "shortcut gedit \"notes\""
            ]
        );
        assert_eq!(actions[0].events, 2);
    }

    #[test]
    fn clicks_without_elements_are_told_apart_by_the_spot_of_the_window_they_hit() {
        // Twelve clicks each on two buttons 40 px apart, a few pixels of scatter, and one stray click.
        let mut points = Vec::new();
        for k in 0..12 {
            let d = (k % 5) - 2;
            points.push((100 + d, 200 - d));
            points.push((140 - d, 200 + d));
        }
        points.push((400, 30));
        let spots = click_spots(&points);
        let first: Vec<Option<u32>> = spots.iter().step_by(2).take(12).copied().collect();
        let second: Vec<Option<u32>> = spots.iter().skip(1).step_by(2).take(12).copied().collect();
        assert!(first.iter().all(|&s| s == Some(0)), "{spots:?}");
        assert!(second.iter().all(|&s| s == Some(1)), "{spots:?}");
        assert_eq!(spots[24], None, "a stray click is no spot");
        // Clicks chained within the radius are one spot, however far its ends are apart.
        let row: Vec<(i32, i32)> = (0..10).map(|k| (10 * k, 50)).collect();
        assert!(click_spots(&row).iter().all(|&s| s == Some(0)));
    }

    #[test]
    fn the_application_part_of_titles_is_not_generalized_across_applications() {
        let mut ts = Vec::new();
        for app in ["Tryton", "Mail", "Calc", "Editor"] {
            for doc in ["Invoices", "Orders", "Parties", "Reports"] {
                ts.push(format!("{doc} - {app}"));
            }
        }
        let t = template_titles(&ts, &Rules::default(), 3);
        let out: Vec<&str> = t
            .of_window
            .iter()
            .map(|&i| t.templates[i as usize].as_str())
            .collect();
        assert_eq!(&out[..4], ["<*> - Tryton"; 4]);
        assert_eq!(&out[12..], ["<*> - Editor"; 4]);
    }

    #[test]
    fn two_different_titles_are_not_merged() {
        let out = templated(&["Inbox - Mail", "Sent - Mail"], &Rules::default());
        assert_eq!(out, ["Inbox - Mail", "Sent - Mail"]);
    }

    #[test]
    fn user_rules_come_first_and_can_keep_a_title() {
        let rules = Rules::parse(
            "titles:\n  - pattern: '^Ticket (\\w+) - (.*)$'\n    template: 'Ticket <t> - $2'\n  - pattern: 'Build 42'\n",
            Path::new("rules.yaml"),
        )
        .unwrap();
        let out = templated(
            &["Ticket ABC - Jira", "Build 42 log", "Build 43 log"],
            &rules,
        );
        assert_eq!(out, ["Ticket <t> - Jira", "Build 42 log", "Build <n> log"]);
    }

    #[test]
    fn a_bad_rules_file_names_file_line_and_field() {
        let err = Rules::parse("titles:\n  - pattern: '('\n", Path::new("r.yaml")).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("r.yaml:0: field `titles[0].pattern`"),
            "{msg}"
        );
        let err = Rules::parse("titles:\n  - patern: x\n", Path::new("r.yaml")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("r.yaml:2: field `titles`"), "{msg}");
    }

    #[test]
    fn labels_are_interned_and_renumbered_canonically() {
        let mut l = Labeler::default();
        let k = |app| LabelKey {
            kind: EventKind::Click,
            app,
            title: 0,
            element: 0,
            spot: 0,
            keys: 0,
        };
        assert_eq!(l.intern(k(5)), 0);
        assert_eq!(l.intern(k(2)), 1);
        assert_eq!(l.intern(k(5)), 0);
        let remap = l.canonical_order();
        assert_eq!(remap, [1, 0]);
        assert_eq!(l.keys[0].app, 2);
        assert_eq!(l.counts, [1, 2]);
    }
}
