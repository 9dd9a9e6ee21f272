//! Drafting bots from a mining result: the dominant variant's steps become bot steps, and typed
//! values that differ between its instances become inputs.

use std::collections::{BTreeMap, HashMap, HashSet};

use miner::{Log, Mining, Routine};
use uilog::{Element, Event, EventKind, LogRead, Store};

use crate::bot::{
    exact, path_without_indices, Action, Bot, Evidence, ExpectedAction, Fallback, Input, InputType,
    MouseButton, Params, PostCondition, Selector, Source, Step, Target, WindowMatch, API_VERSION,
    PATH_SEP,
};
use crate::error::Result;

/// Sample values kept per input in the bot file.
pub const MAX_SAMPLES: usize = 5;
/// Rows of the drafted parameter file (distinct rows, in the order of the instances).
pub const MAX_ROWS: usize = 50;

/// A drafted bot and the parameter rows taken from the log (one per instance whose values the
/// policy kept; a single row of placeholders otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub bot: Bot,
    pub rows: Vec<Params>,
}

/// Drafts a bot for each of the first `top` routines of `mining`, named after the routines' names
/// as the miner makes them. `log` must be the log `mining` was mined from (its instances point
/// into it) and `store` the store it was loaded from.
pub fn draft_bots(store: &Store, log: &Log, mining: &Mining, top: usize) -> Result<Vec<Draft>> {
    let names = mining
        .routines
        .iter()
        .map(|r| r.id)
        .zip(miner::naming::routine_names(mining))
        .collect();
    draft_bots_from(store, Some(store), log, mining, &names, top)
}

/// [`draft_bots`] from a log on either backend (`store`, which `log` was loaded from), with the
/// routines' names by id (the analysts' where they gave some, `taskmine name`; a routine missing
/// from `names` gets the miner's). Clicks are anchored by the screen snapshots of `snapshots`, the
/// SQLite store that keeps them (none on PostgreSQL, where the steps keep their selectors and
/// positions only).
pub fn draft_bots_from(
    store: &dyn LogRead,
    snapshots: Option<&Store>,
    log: &Log,
    mining: &Mining,
    names: &BTreeMap<u32, String>,
    top: usize,
) -> Result<Vec<Draft>> {
    let routines: Vec<&Routine> = mining
        .routines
        .iter()
        .filter(|r| !r.variants.is_empty())
        .take(top)
        .collect();
    // Per routine, per dominant instance: the store id of the event at each variant step.
    let aligned: Vec<Vec<Vec<Option<i64>>>> = routines.iter().map(|r| align(log, r)).collect();
    let wanted: HashSet<i64> = aligned
        .iter()
        .flatten()
        .flatten()
        .flatten()
        .copied()
        .collect();
    let events = fetch(store, &wanted)?;
    routines
        .iter()
        .zip(&aligned)
        .map(|(r, inst)| {
            let name = names
                .get(&r.id)
                .cloned()
                .unwrap_or_else(|| miner::naming::routine_name(mining, r));
            draft(snapshots, mining, r, &name, inst, &events)
        })
        .collect()
}

/// Drafting compares the values of every instance with those of the others (inputs, constants,
/// data flows, samples), so it works on an evenly spread sample of at most this many instances;
/// the evidence a bot cites (instances, users, hours) comes from the whole routine. A fleet's top
/// routine has tens of thousands of instances; a few hundred show every input just as well.
pub const MAX_DRAFT_INSTANCES: usize = 300;

/// At most `max` items, evenly spread over `items` (first and order kept).
fn evenly_spread<T>(items: Vec<T>, max: usize) -> Vec<T> {
    let n = items.len();
    if n <= max || max == 0 {
        return items;
    }
    let mut keep = (0..max).map(|k| k * n / max).peekable();
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| {
            (keep.peek() == Some(&i)).then(|| {
                keep.next();
                item
            })
        })
        .collect()
}

/// For each instance that follows the dominant variant, the event of each of its steps (in order,
/// skipping noise inside the span); at most [`MAX_DRAFT_INSTANCES`], evenly spread.
fn align(log: &Log, r: &Routine) -> Vec<Vec<Option<i64>>> {
    evenly_spread(aligned(log, r).collect(), MAX_DRAFT_INSTANCES)
}

/// For each instance that follows the dominant variant, in the routine's order, the event of each
/// of its steps (in order, skipping noise inside the span). A routine without variants has none.
pub(crate) fn aligned<'a>(
    log: &'a Log,
    r: &'a Routine,
) -> impl Iterator<Item = Vec<Option<i64>>> + 'a {
    let steps = r.variants.first().map(|v| v.steps.as_slice());
    r.instances
        .iter()
        .filter(|i| i.variant == 0)
        .filter_map(move |i| {
            let steps = steps?;
            let span = log.events.get(i.span.0 as usize..=i.span.1 as usize)?;
            let mut out = vec![None; steps.len()];
            let mut k = 0;
            for e in span {
                if k < steps.len() && e.action == steps[k] {
                    out[k] = Some(e.id);
                    k += 1;
                }
            }
            (k == steps.len()).then_some(out)
        })
}

/// Ids at most this far apart are read in one range: an instance's steps lie close together.
const FETCH_GAP: i64 = 32;

/// The events `ids`, read by id ranges of the primary key instead of a scan of the whole log:
/// drafting wants a few thousand events of a log of millions (a scan of 10M events took seconds).
pub(crate) fn fetch(store: &dyn LogRead, ids: &HashSet<i64>) -> Result<HashMap<i64, Event>> {
    let dict = store.dictionary()?;
    let mut sorted: Vec<i64> = ids.iter().copied().collect();
    sorted.sort_unstable();
    let mut out = HashMap::with_capacity(ids.len());
    let mut k = 0;
    while k < sorted.len() {
        let (start, mut end) = (sorted[k], sorted[k]);
        while k + 1 < sorted.len() && sorted[k + 1] - end <= FETCH_GAP {
            k += 1;
            end = sorted[k];
        }
        k += 1;
        let limit = usize::try_from(end - start + 1).unwrap_or(usize::MAX);
        store.visit_rows_after(start - 1, end, limit, &mut |row| {
            if ids.contains(&row.id) {
                out.insert(row.id, dict.resolve(&row));
            }
            Ok(())
        })?;
    }
    Ok(out)
}

/// A title template (`Invoice <id> - Editor`) as an anchored pattern: `<…>` parts (the miner's
/// placeholders and the recorder's redaction tags) match any text.
pub fn title_pattern(template: &str) -> String {
    let mut out = String::from("^");
    let mut rest = template;
    while let Some(start) = rest.find('<') {
        match rest[start..].find('>') {
            Some(len) if !rest[start + 1..start + len].contains('<') => {
                out.push_str(&regex::escape(&rest[..start]));
                out.push_str(".*");
                rest = &rest[start + len + 1..];
            }
            _ => {
                out.push_str(&regex::escape(&rest[..=start]));
                rest = &rest[start + 1..];
            }
        }
    }
    out.push_str(&regex::escape(rest));
    out.push('$');
    out
}

/// Whether the policy kept a typed value: not absent, not masked, no detector tag in it.
fn kept(text: Option<&str>) -> Option<&str> {
    let t = text?;
    let masked = !t.is_empty() && t.chars().all(|c| c == '*' || c.is_whitespace());
    let tagged = regex_lite_tag(t);
    (!masked && !tagged).then_some(t)
}

fn regex_lite_tag(t: &str) -> bool {
    static TAG: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(r"<[a-z][a-z0-9_-]*>").expect("tag regex"));
    TAG.is_match(t)
}

fn most_common<T: Ord + Clone>(items: impl IntoIterator<Item = T>) -> Option<T> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i).or_insert(0) += 1;
    }
    let best = counts.values().copied().max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(t, _)| t)
}

fn median_i32(mut v: Vec<i32>) -> Option<i32> {
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

/// The inputs found so far, with their value in each instance (`None` where the policy kept none).
struct Inputs {
    names: Vec<String>,
    values: Vec<Vec<Option<String>>>,
    /// A name for the next new input, from the element typed into (`Amount` → `amount`).
    hint: Option<String>,
}

impl Inputs {
    /// An existing input whose value equals `vals` in every instance, or a new one.
    fn get_or_add(&mut self, vals: Vec<Option<String>>) -> String {
        if vals.iter().all(Option::is_some) {
            if let Some(k) = self.values.iter().position(|v| *v == vals) {
                return self.names[k].clone();
            }
        }
        let name = match self.hint.as_deref().map(name_from) {
            Some(base) if !base.is_empty() => {
                let mut name = base.clone();
                let mut n = 1;
                while self.names.contains(&name) {
                    n += 1;
                    name = format!("{base}_{n}");
                }
                name
            }
            _ => format!("value_{}", self.names.len() + 1),
        };
        self.names.push(name.clone());
        self.values.push(vals);
        name
    }
}

/// An input name from an element's name: lower case, words joined with `_`.
fn name_from(hint: &str) -> String {
    let words: Vec<String> = hint
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let name = words.join("_");
    match name.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("v_{name}"),
        _ => name,
    }
}

/// The text of a type step across instances, as a literal with `{{ name }}` slots.
fn type_text(texts: &[Option<&str>], inputs: &mut Inputs) -> String {
    let all_kept = texts.iter().all(Option::is_some);
    if all_kept && texts.windows(2).all(|w| w[0] == w[1]) {
        return texts[0].unwrap_or_default().to_owned();
    }
    if !all_kept {
        let vals = texts.iter().map(|t| t.map(str::to_owned)).collect();
        return format!("{{{{ {} }}}}", inputs.get_or_add(vals));
    }
    let texts: Vec<&str> = texts.iter().map(|t| t.unwrap_or_default()).collect();
    let tokens: Vec<Vec<&str>> = texts.iter().map(|t| t.split(' ').collect()).collect();
    if tokens.windows(2).any(|w| w[0].len() != w[1].len()) {
        let vals = texts.iter().map(|t| Some((*t).to_owned())).collect();
        return format!("{{{{ {} }}}}", inputs.get_or_add(vals));
    }
    // Whole tokens that differ first, so that a value reused inside a longer token (a file
    // name) is recognised as the same input.
    let n = tokens[0].len();
    let mut out: Vec<Option<String>> = vec![None; n];
    for j in 0..n {
        let col: Vec<&str> = tokens.iter().map(|t| t[j]).collect();
        if col.windows(2).all(|w| w[0] == w[1]) {
            out[j] = Some(col[0].to_owned());
        } else if !col.iter().any(|t| inputs_contain(inputs, t)) {
            out[j] = Some(embed_new(&col, inputs));
        }
    }
    for j in 0..n {
        if out[j].is_some() {
            continue;
        }
        let col: Vec<&str> = tokens.iter().map(|t| t[j]).collect();
        out[j] = Some(embed_known(&col, inputs).unwrap_or_else(|| embed_new(&col, inputs)));
    }
    out.into_iter()
        .map(Option::unwrap_or_default)
        .collect::<Vec<_>>()
        .join(" ")
}

fn inputs_contain(inputs: &Inputs, token: &str) -> bool {
    inputs.values.iter().any(|v| {
        v.iter()
            .flatten()
            .any(|x| !x.is_empty() && token.contains(x.as_str()) && token != x)
    })
}

/// A token that holds an input's value inside it, the same way in every instance.
fn embed_known(col: &[&str], inputs: &Inputs) -> Option<String> {
    let mut order: Vec<usize> = (0..inputs.names.len()).collect();
    order.sort_by_key(|&k| {
        std::cmp::Reverse(inputs.values[k].iter().flatten().map(String::len).min())
    });
    for k in order {
        let vals = &inputs.values[k];
        if vals.len() != col.len() || vals.iter().any(Option::is_none) {
            continue;
        }
        let slot = format!("{{{{ {} }}}}", inputs.names[k]);
        let templ: Vec<String> = col
            .iter()
            .zip(vals)
            .map(|(t, v)| t.replace(v.as_deref().unwrap_or_default(), &slot))
            .collect();
        if templ[0].contains(&slot) && templ.windows(2).all(|w| w[0] == w[1]) {
            return Some(templ[0].clone());
        }
    }
    None
}

/// A token whose middle varies: common prefix and suffix stay, the middle becomes an input.
fn embed_new(col: &[&str], inputs: &mut Inputs) -> String {
    let first = col[0];
    let mut pre = first.len();
    let mut suf = first.len();
    for t in &col[1..] {
        pre = pre.min(common_prefix(first, t));
        suf = suf.min(common_suffix(first, t));
    }
    let min_len = col.iter().map(|t| t.len()).min().unwrap_or(0);
    if pre + suf > min_len {
        suf = min_len - pre;
    }
    // A cut inside a run of letters and digits (4711 vs 4712) would split a value: back off to
    // the run's edge.
    let alnum = |t: &str, i: usize| t[i..].chars().next().is_some_and(char::is_alphanumeric);
    let before = |t: &str, i: usize| {
        t[..i]
            .chars()
            .next_back()
            .is_some_and(char::is_alphanumeric)
    };
    while pre > 0 && before(first, pre) && col.iter().any(|t| alnum(t, pre)) {
        pre -= first[..pre].chars().next_back().map_or(1, char::len_utf8);
    }
    while suf > 0 && alnum(first, first.len() - suf) && col.iter().any(|t| before(t, t.len() - suf))
    {
        suf -= first[first.len() - suf..]
            .chars()
            .next()
            .map_or(1, char::len_utf8);
    }
    let vals = col
        .iter()
        .map(|t| Some(t[pre..t.len() - suf].to_owned()))
        .collect();
    format!(
        "{}{{{{ {} }}}}{}",
        &first[..pre],
        inputs.get_or_add(vals),
        &first[first.len() - suf..]
    )
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

fn common_suffix(a: &str, b: &str) -> usize {
    let n = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum::<usize>();
    n.min(a.len()).min(b.len())
}

/// The bot's name, which is also its folder's: `routine-ID-` and the routine's name in lower-case
/// ASCII words joined by `-` (`routine-1-copy-from-mail-new-hire-to-hr-portal`), at most
/// [`BOT_NAME_WORDS_CHARS`] characters of words, cut at a word; `routine-ID` when no word is left.
pub fn bot_name(routine: u32, name: &str) -> String {
    let mut words = String::new();
    for w in name
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if words.len() + usize::from(!words.is_empty()) + w.len() > BOT_NAME_WORDS_CHARS {
            break;
        }
        if !words.is_empty() {
            words.push('-');
        }
        words.push_str(&w.to_ascii_lowercase());
    }
    if words.is_empty() {
        format!("routine-{routine}")
    } else {
        format!("routine-{routine}-{words}")
    }
}

/// The longest part of a bot name after `routine-ID-`: folder names stay short enough to read in a
/// listing.
pub const BOT_NAME_WORDS_CHARS: usize = 40;

/// A selector learned from the elements a step's instances acted on: parts that agree in every
/// instance stay exact, a name or id that varies keeps its common prefix and suffix around `.*`
/// (or is dropped), and the path is compared without indices, level by level. `None` when fewer
/// than half of the instances knew their element, or nothing is left to tell it apart.
pub fn learn_selector(elements: &[Option<&Element>]) -> Option<Selector> {
    let known: Vec<&Element> = elements.iter().flatten().copied().collect();
    if known.is_empty() || known.len() * 2 < elements.len() {
        return None;
    }
    let part = |get: fn(&Element) -> Option<&str>| -> Option<String> {
        let vals: Vec<&str> = known.iter().map(|e| get(e).unwrap_or("")).collect();
        vary(&vals)
    };
    let role = part(|e| e.role.as_deref());
    let name = part(|e| e.name.as_deref());
    let id = part(|e| e.id.as_deref().filter(|i| !i.is_empty()));
    let paths: Vec<String> = known
        .iter()
        .map(|e| {
            e.path
                .as_deref()
                .map(path_without_indices)
                .unwrap_or_default()
        })
        .collect();
    let path = if paths.iter().any(String::is_empty) {
        None
    } else {
        let levels: Vec<Vec<&str>> = paths.iter().map(|p| p.split(PATH_SEP).collect()).collect();
        let depth = levels[0].len();
        if levels.iter().all(|l| l.len() == depth) {
            let mut out: Vec<String> = Vec::with_capacity(depth);
            for k in 0..depth {
                let col: Vec<&str> = levels.iter().map(|l| l[k]).collect();
                let lit = exact(col[0]);
                out.push(if col.iter().all(|c| *c == col[0]) {
                    lit[1..lit.len() - 1].to_owned()
                } else {
                    ".*".to_owned()
                });
            }
            Some(format!("^{}$", out.join(PATH_SEP)))
        } else {
            None
        }
    };
    let sel = Selector {
        role: role.filter(|r| r != "^$"),
        // An empty name or id in every instance says nothing that tells elements apart.
        name: name.filter(|n| n != "^$"),
        id: id.filter(|i| i != "^$"),
        path,
    };
    // A role alone names every element of its kind: not a selector worth trusting.
    (sel.name.is_some() || sel.id.is_some() || sel.path.is_some()).then_some(sel)
}

/// A pattern for a part seen as `vals`: exact when it never varies, prefix `.*` suffix when it
/// does and they keep something, `None` otherwise.
fn vary(vals: &[&str]) -> Option<String> {
    let first = vals[0];
    if vals.iter().all(|v| *v == first) {
        return Some(exact(first));
    }
    let mut pre = first.len();
    let mut suf = first.len();
    for v in &vals[1..] {
        pre = pre.min(common_prefix(first, v));
        suf = suf.min(common_suffix(first, v));
    }
    let min_len = vals.iter().map(|v| v.len()).min().unwrap_or(0);
    if pre + suf > min_len {
        suf = min_len - pre;
    }
    if pre + suf == 0 {
        return None;
    }
    let head = exact(&first[..pre]);
    let tail = exact(&first[first.len() - suf..]);
    Some(format!("{}.*{}", &head[..head.len() - 1], &tail[1..]))
}

/// The window a step is in: a title that is the same in every instance stays literal (the miner
/// may have templated it by its shape, `customers.txt` → `<file>`), else the miner's template.
fn window_of(app: &str, template: &str, evs: &[&Event]) -> WindowMatch {
    let title = match evs.first() {
        Some(e0) if evs.iter().all(|e| e.window == e0.window) => exact(&e0.window),
        _ => title_pattern(template),
    };
    WindowMatch {
        app: app.to_owned(),
        title,
    }
}

/// A bot drafted from routine `r`: its dominant variant's steps, the inputs its typed values
/// vary by, the parameter rows of its instances, and the evidence it was drafted from.
fn draft(
    snapshots: Option<&Store>,
    mining: &Mining,
    r: &Routine,
    name: &str,
    instances: &[Vec<Option<i64>>],
    events: &HashMap<i64, Event>,
) -> Result<Draft> {
    let mut inputs = Inputs {
        names: Vec::new(),
        values: Vec::new(),
        hint: None,
    };
    let drafted = bot_steps(
        snapshots,
        mining,
        &r.variants[0].steps,
        instances,
        events,
        &mut inputs,
    )?;
    let bot_inputs = bot_inputs(&inputs);
    let rows = param_rows(&inputs, instances.len(), &bot_inputs);
    let postconditions = final_window(&drafted.steps);
    Ok(Draft {
        bot: Bot {
            api_version: API_VERSION.into(),
            name: bot_name(r.id, name),
            description: description(r, name, &drafted.skipped),
            source: Source {
                routine: r.id,
                evidence: Evidence {
                    instances: r.score.instances,
                    users: r.score.users,
                    standardization: round3(r.score.standardization),
                    hours_per_month: round3(r.score.hours_saved_per_month),
                    median_duration_s: round3(r.score.median_duration_s),
                },
                variant: drafted.expected,
            },
            inputs: bot_inputs,
            steps: drafted.steps,
            postconditions,
        },
        rows,
    })
}

/// The steps drafted from a variant, what the replay expects each variant step to be, and the
/// variant steps left out (with why).
struct BotSteps {
    steps: Vec<Step>,
    expected: Vec<ExpectedAction>,
    skipped: Vec<String>,
}

/// One variant step as its instances performed it.
struct Performed<'a> {
    /// The step's place in the variant.
    k: usize,
    /// Per instance, the store id of its event at each variant step.
    instances: &'a [Vec<Option<i64>>],
    /// The step's events, one per instance that has it (and whose event was fetched).
    evs: Vec<&'a Event>,
    events: &'a HashMap<i64, Event>,
}

/// A variant step drafted: a bot step, or why it was left out.
// One value per step, moved at once into the steps: boxing the step would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Drafted {
    Step(Step),
    Skipped(String),
}

/// The bot steps of `variant`, each with the window it works in brought to the front or waited
/// for; the inputs its typed values vary by go into `inputs`.
///
/// Every variant step is also recorded as the action the replay expects, replayable or not, so
/// that a replay's verdict can be checked against the routine as it was mined.
fn bot_steps(
    snapshots: Option<&Store>,
    mining: &Mining,
    variant: &[u32],
    instances: &[Vec<Option<i64>>],
    events: &HashMap<i64, Event>,
    inputs: &mut Inputs,
) -> Result<BotSteps> {
    let mut out = BotSteps {
        steps: Vec::new(),
        expected: Vec::new(),
        skipped: Vec::new(),
    };
    for (k, &a) in variant.iter().enumerate() {
        let Some(action) = mining.actions.get(a as usize) else {
            continue;
        };
        let seen = Performed {
            k,
            instances,
            evs: instances
                .iter()
                .filter_map(|i| i[k].and_then(|id| events.get(&id)))
                .collect(),
            events,
        };
        let selector = selector_of(action, &seen.evs);
        out.expected.push(ExpectedAction {
            kind: action.kind,
            app: action.app.clone(),
            title: action.title.clone(),
            element: action.element.clone(),
            selector: selector.clone(),
        });
        let window = window_of(&action.app, &action.title, &seen.evs);
        match step_for(snapshots, action, &seen, selector, window.clone(), inputs)? {
            Drafted::Step(step) => push_in_window(&mut out.steps, step, window),
            Drafted::Skipped(why) => out.skipped.push(why),
        }
    }
    Ok(out)
}

/// The selector of a step that clicks or types into an element, learned from its instances'
/// elements; `None` for other steps, or when they have no element in common.
///
/// An element OCR named (`text 'Save'`) is no accessibility element: no selector finds it, so it
/// becomes the step's target text instead.
fn selector_of(action: &miner::Action, evs: &[&Event]) -> Option<Selector> {
    let elements: Vec<Option<&Element>> = evs
        .iter()
        .map(|e| {
            e.element
                .as_ref()
                .filter(|el| !el.is_empty() && ocr_text(el).is_none())
        })
        .collect();
    matches!(
        action.kind,
        EventKind::Click | EventKind::DoubleClick | EventKind::RightClick | EventKind::Type
    )
    .then(|| learn_selector(&elements))
    .flatten()
}

/// The bot step of one variant step, by its kind: a click by its selector, else the look of its
/// target in the snapshots, else its median position; typing with its text made of inputs and
/// constants; a shortcut, copy or paste with its keys.
///
/// A step nothing can replay (a click with neither element nor position, a shortcut whose keys
/// are unknown, a kind a bot does not perform) is left out and named in the description.
fn step_for(
    snapshots: Option<&Store>,
    action: &miner::Action,
    seen: &Performed,
    selector: Option<Selector>,
    window: WindowMatch,
    inputs: &mut Inputs,
) -> Result<Drafted> {
    let evs = &seen.evs;
    let keys = || most_common(evs.iter().filter_map(|e| e.attrs.get("keys").cloned()));
    let step = match action.kind {
        EventKind::Focus => Step::new(Action::FocusWindow, window),
        EventKind::Click | EventKind::DoubleClick | EventKind::RightClick => {
            let mut s = Step::new(Action::Click, window);
            s.x = median_i32(evs.iter().filter_map(|e| e.wx).collect());
            s.y = median_i32(evs.iter().filter_map(|e| e.wy).collect());
            s.selector = selector;
            if s.selector.is_none() {
                let ids: Vec<i64> = seen.instances.iter().filter_map(|i| i[seen.k]).collect();
                s.target = look_of(snapshots, &ids, seen.events)?;
            }
            if s.selector.is_none() && s.target.is_none() {
                // No element in the log: the position is all there is, and the file says so.
                s.fallback = Some(Fallback::Position);
            }
            if action.kind == EventKind::RightClick {
                s.button = Some(MouseButton::Right);
            }
            if action.kind == EventKind::DoubleClick {
                s.clicks = Some(2);
            }
            if s.selector.is_none() && (s.x.is_none() || s.y.is_none()) {
                return Ok(Drafted::Skipped(format!(
                    "{} (no element and no position in the log)",
                    action.label()
                )));
            }
            s
        }
        EventKind::Type => {
            let texts: Vec<Option<&str>> = evs.iter().map(|e| kept(e.text.as_deref())).collect();
            inputs.hint = most_common(evs.iter().filter_map(|e| {
                let el = e.element.as_ref()?;
                // An OCR name reads `text 'First name'`: the words are the hint.
                ocr_text(el)
                    .map(str::to_owned)
                    .or_else(|| el.name.clone())
                    .or_else(|| el.id.clone())
            }));
            let mut s = Step::new(Action::Type, window);
            s.selector = selector;
            s.text = Some(if texts.is_empty() {
                let vals = vec![None];
                format!("{{{{ {} }}}}", inputs.get_or_add(vals))
            } else {
                type_text(&texts, inputs)
            });
            s
        }
        EventKind::Shortcut => {
            let Some(k) = keys().filter(|k| crate::keys::parse(k).is_ok()) else {
                return Ok(Drafted::Skipped(format!(
                    "{} (keys unknown)",
                    action.label()
                )));
            };
            let mut s = Step::new(Action::Key, window);
            s.keys = Some(k);
            s
        }
        EventKind::Copy | EventKind::Paste => {
            let act = if action.kind == EventKind::Copy {
                Action::Copy
            } else {
                Action::Paste
            };
            let mut s = Step::new(act, window);
            s.keys = keys().filter(|k| crate::keys::parse(k).is_ok());
            s
        }
        _ => return Ok(Drafted::Skipped(action.label())),
    };
    Ok(Drafted::Step(step))
}

/// Appends `step`, preceded by a step that makes its window current when the step before worked
/// in another one.
///
/// A step in a window other than the last one's needs that window first: brought to the front at
/// the start, waited for after a step (which opened it or changed its title; a switch the user
/// made is a focus action of the variant itself).
fn push_in_window(steps: &mut Vec<Step>, step: Step, window: WindowMatch) {
    let same_window = steps.last().is_some_and(|p: &Step| p.window == window);
    if step.action != Action::FocusWindow && !same_window {
        let action = if steps.is_empty() {
            Action::FocusWindow
        } else {
            Action::WaitForWindow
        };
        steps.push(Step::new(action, window));
    }
    steps.push(step);
}

/// The bot's inputs, each with a few distinct sample values and its type.
///
/// A few samples show a developer what goes in (the parameter file has up to [`MAX_ROWS`] of
/// them); an input with no sample the policy kept is required, and one whose values are all
/// numbers is a number.
fn bot_inputs(inputs: &Inputs) -> Vec<Input> {
    inputs
        .names
        .iter()
        .zip(&inputs.values)
        .map(|(name, vals)| {
            let mut samples: Vec<String> = Vec::new();
            for v in vals.iter().flatten() {
                if samples.len() < MAX_SAMPLES && !samples.contains(v) {
                    samples.push(v.clone());
                }
            }
            let numeric = !samples.is_empty()
                && vals
                    .iter()
                    .flatten()
                    .all(|s| s.trim().parse::<f64>().is_ok());
            Input {
                name: name.clone(),
                kind: if numeric {
                    InputType::Number
                } else {
                    InputType::Text
                },
                required: samples.is_empty(),
                samples,
            }
        })
        .collect()
}

/// The parameter rows: per instance whose every value the policy kept, its values (distinct
/// rows, in the order of the instances, at most [`MAX_ROWS`]).
///
/// A bot file with nothing to run it on is no use, so without such rows (or inputs) there is one
/// row of the first samples, where a required input's cell stays empty: a masked sample is never
/// a value to type.
fn param_rows(inputs: &Inputs, instances: usize, bot_inputs: &[Input]) -> Vec<Params> {
    let mut rows: Vec<Params> = (0..instances)
        .filter(|&i| {
            inputs
                .values
                .iter()
                .all(|v| v.get(i).is_some_and(Option::is_some))
        })
        .map(|i| {
            inputs
                .names
                .iter()
                .zip(&inputs.values)
                .map(|(n, v)| (n.clone(), v[i].clone().unwrap_or_default()))
                .collect()
        })
        .collect();
    let mut seen = HashSet::new();
    rows.retain(|r| seen.insert(r.clone()));
    rows.truncate(MAX_ROWS);
    if rows.is_empty() || inputs.names.is_empty() {
        rows = vec![bot_inputs
            .iter()
            .map(|i| {
                (
                    i.name.clone(),
                    i.samples.first().cloned().unwrap_or_default(),
                )
            })
            .collect()];
    }
    rows
}

/// The bot's postcondition: the window its last step works in is there at the end, which is how
/// a replay tells it finished where the routine did.
fn final_window(steps: &[Step]) -> Vec<PostCondition> {
    steps
        .last()
        .map(|s| PostCondition::Window {
            app: s.window.app.clone(),
            title: s.window.title.clone(),
            timeout_ms: crate::bot::DEFAULT_TIMEOUT_MS,
        })
        .into_iter()
        .collect()
}

/// The bot's description: the routine it was drafted from with its evidence, and the variant
/// steps left out, so that a developer sees at once what the bot does not do.
fn description(r: &Routine, name: &str, skipped: &[String]) -> String {
    let mut description = format!(
        "{name}. Drafted from routine {} ({} instances by {} users, {:.2} hours/month to save).",
        r.id, r.score.instances, r.score.users, r.score.hours_saved_per_month
    );
    if !skipped.is_empty() {
        description.push_str(&format!(
            " Not replayable, left out: {}.",
            skipped.join("; ")
        ));
    }
    description
}

/// The words of an element the OCR pass named (`text 'Save'` → `Save`); `None` for any other.
pub fn ocr_text(e: &Element) -> Option<&str> {
    if e.role.as_deref() != Some("ocr") {
        return None;
    }
    e.name
        .as_deref()?
        .strip_prefix("text '")?
        .strip_suffix('\'')
        .filter(|t| !t.trim().is_empty())
}

/// Snapshots read per step to find the text it is anchored by.
const LOOK_SNAPSHOTS: usize = 3;

/// A click's target as it looked, from the events `ids` of its instances: the anchor text their
/// snapshots agree on (see [`crate::vision::agreed_anchor`]: a label or caption at the same offset
/// from the target in each, preferring the words the OCR pass named the events by), and the first
/// of those snapshots as its image. Without an agreed anchor (or where Tesseract cannot run) the
/// image alone. `None` when no instance has a snapshot.
fn look_of(
    snapshots: Option<&Store>,
    ids: &[i64],
    events: &HashMap<i64, Event>,
) -> Result<Option<Target>> {
    let Some(store) = snapshots else {
        return Ok(None);
    };
    let hint = most_common(ids.iter().filter_map(|id| {
        let t = ocr_text(events.get(id)?.element.as_ref()?)?;
        (!regex_lite_tag(t)).then(|| t.to_owned())
    }));
    let mut snaps = Vec::new();
    for &id in ids {
        if snaps.len() >= LOOK_SNAPSHOTS {
            break;
        }
        if let Some(snap) = store.snapshot(id)? {
            snaps.push(snap);
        }
    }
    let Some(first) = snaps.first() else {
        return Ok(None);
    };
    let per_snapshot: Vec<Vec<crate::vision::Anchor>> = snaps
        .iter()
        .map(|s| {
            crate::vision::read_png(&s.png)
                .map(|words| crate::vision::anchors(&words, s.width, s.height))
                .unwrap_or_default()
        })
        .collect();
    let anchor = crate::vision::agreed_anchor(&per_snapshot, hint.as_deref())
        .filter(|a| !regex_lite_tag(&a.text));
    Ok(Some(Target {
        dx: anchor.as_ref().map_or(0, |a| a.dx),
        dy: anchor.as_ref().map_or(0, |a| a.dy),
        text: anchor.map(|a| a.text),
        image: Some(crate::vision::to_data_uri(&first.png)),
    }))
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            names: Vec::new(),
            values: Vec::new(),
            hint: None,
        }
    }

    fn el(role: &str, name: &str, path: &str) -> Element {
        Element {
            role: Some(role.into()),
            name: Some(name.into()),
            id: None,
            path: Some(path.into()),
        }
    }

    #[test]
    fn selectors_keep_what_never_varies_and_pattern_the_rest() {
        let a = el(
            "table cell",
            "Invoice 4711",
            "frame 'Inbox (3)' / table[0] / table cell 'Invoice 4711'[7]",
        );
        let b = el(
            "table cell",
            "Invoice 815",
            "frame 'Inbox (5)' / table[0] / table cell 'Invoice 815'[2]",
        );
        let sel = learn_selector(&[Some(&a), Some(&b)]).unwrap();
        assert_eq!(sel.role.as_deref(), Some("^table cell$"));
        assert_eq!(sel.name.as_deref(), Some("^Invoice .*$"));
        assert_eq!(sel.path.as_deref(), Some("^.* / table / .*$"));
        let m = sel.matcher().unwrap();
        let c = el(
            "table cell",
            "Invoice 99",
            "frame 'Inbox (1)' / table[0] / table cell 'Invoice 99'[0]",
        );
        assert!(m.matches(&c));
        assert!(!m.matches(&el(
            "table cell",
            "Memo 1",
            "frame 'Inbox' / table[0] / table cell 'Memo 1'[0]"
        )));

        let role_only = Element {
            role: Some("terminal".into()),
            ..Element::default()
        };
        assert_eq!(
            learn_selector(&[Some(&role_only)]),
            None,
            "a role alone names no element"
        );
        assert_eq!(
            learn_selector(&[Some(&a), None, None]),
            None,
            "too few instances knew it"
        );
        // Names with nothing in common and paths of different depths are dropped; the role
        // alone is left, which is no selector.
        let memo = el("table cell", "Memo", "frame 'Inbox' / table cell 'Memo'[1]");
        assert_eq!(learn_selector(&[Some(&a), Some(&memo)]), None);
        let with_id = |e: &Element, id: &str| Element {
            id: Some(id.into()),
            ..e.clone()
        };
        let by_id = learn_selector(&[Some(&with_id(&a, "inv")), Some(&with_id(&memo, "inv"))]);
        let by_id = by_id.expect("a common id is enough");
        assert_eq!((by_id.name, by_id.path), (None, None));
        assert_eq!(by_id.id.as_deref(), Some("^inv$"));
    }

    #[test]
    fn bot_names_are_the_routine_name_in_short_file_name_safe_words() {
        assert_eq!(
            bot_name(
                1,
                r#"Copy from mail "New hire" to HR Portal "New employee", Save"#
            ),
            "routine-1-copy-from-mail-new-hire-to-hr-portal-new"
        );
        assert_eq!(
            bot_name(2, "In chromium (/home/ann/.config/chromium)"),
            "routine-2-in-chromium-home-ann-config-chromium"
        );
        assert_eq!(bot_name(3, "“…” — ?"), "routine-3");
        assert_eq!(bot_name(4, ""), "routine-4");
        let long = bot_name(5, &"word ".repeat(30));
        assert!(long.len() <= "routine-5-".len() + BOT_NAME_WORDS_CHARS);
        assert!(long.ends_with("-word"), "{long}");
    }

    #[test]
    fn title_templates_become_anchored_patterns() {
        assert_eq!(
            title_pattern("Invoice <id> - Editor (1)"),
            r"^Invoice .* \- Editor \(1\)$"
        );
        let re = regex::Regex::new(&title_pattern("mail <email> now")).unwrap();
        assert!(re.is_match("mail bob@example.com now"));
        assert!(!re.is_match("xmail bob now"));
        assert_eq!(title_pattern("a < b"), r"^a < b$");
    }

    #[test]
    fn a_value_reused_in_a_file_name_is_one_input() {
        let mut inp = inputs();
        let texts = [
            Some("echo 4711 > out-4711.txt"),
            Some("echo 4712 > out-4712.txt"),
            Some("echo 99 > out-99.txt"),
        ];
        let t = type_text(&texts, &mut inp);
        assert_eq!(t, "echo {{ value_1 }} > out-{{ value_1 }}.txt");
        assert_eq!(inp.names, vec!["value_1"]);
        assert_eq!(inp.values[0][2].as_deref(), Some("99"));
    }

    #[test]
    fn values_the_policy_removed_become_placeholders_and_constants_stay_literal() {
        let mut inp = inputs();
        assert_eq!(type_text(&[Some("ls"), Some("ls")], &mut inp), "ls");
        assert!(inp.names.is_empty());
        assert_eq!(type_text(&[None, None], &mut inp), "{{ value_1 }}");
        assert_eq!(kept(Some("****")), None);
        assert_eq!(kept(Some("mail <email>")), None);
        assert_eq!(kept(Some("4711")), Some("4711"));
    }

    #[test]
    fn inputs_are_named_after_the_element_typed_into() {
        let mut inp = inputs();
        inp.hint = Some("Due Date".into());
        assert_eq!(
            type_text(&[Some("1"), Some("2")], &mut inp),
            "{{ due_date }}"
        );
        assert_eq!(
            type_text(&[Some("a 3"), Some("b 4")], &mut inp),
            "{{ due_date_2 }} {{ due_date_3 }}"
        );
        inp.hint = Some("2nd".into());
        assert_eq!(type_text(&[Some("5"), Some("6")], &mut inp), "{{ v_2nd }}");
    }

    #[test]
    fn a_varying_middle_of_a_token_is_the_input() {
        let mut inp = inputs();
        let t = type_text(&[Some("id=A1;"), Some("id=B22;"), Some("id=C3;")], &mut inp);
        assert_eq!(t, "id={{ value_1 }};");
        assert_eq!(inp.values[0][1].as_deref(), Some("B22"));
        let mut inp = inputs();
        let t = type_text(&[Some("n 4711"), Some("n 4712")], &mut inp);
        assert_eq!(t, "n {{ value_1 }}", "numbers sharing digits stay whole");
        assert_eq!(inp.values[0][0].as_deref(), Some("4711"));
    }
}

#[cfg(test)]
mod sample_tests {
    use super::evenly_spread;

    #[test]
    fn a_sample_is_bounded_evenly_spread_and_in_order() {
        let all: Vec<usize> = (0..1000).collect();
        let s = evenly_spread(all.clone(), 300);
        assert_eq!(s.len(), 300);
        assert_eq!(s[0], 0);
        assert!(s.windows(2).all(|w| w[0] < w[1] && w[1] - w[0] <= 4));
        assert!(
            *s.last().unwrap() >= 990,
            "the sample reaches the end: {:?}",
            s.last()
        );
        assert_eq!(evenly_spread(all[..200].to_vec(), 300), all[..200].to_vec());
    }
}
