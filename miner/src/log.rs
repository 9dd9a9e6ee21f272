//! The log as the miner holds it: one flat, compact row per event, ordered per user by time.

use uilog::{Dictionary, EventKind, LogRead, Micros};

use crate::abstraction::{
    click_spots, template_elements, template_titles, Action, LabelKey, Labeler, Rules,
    TitleTemplates,
};
use crate::error::Result;
use crate::progress::Progress;

/// One event as the miner needs it: 40 bytes, no strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ev {
    /// The store's event id.
    pub id: i64,
    pub ts: Micros,
    /// The value hash, 0 when the event has none.
    pub value: u64,
    /// Session id of the store's dictionary.
    pub session: u32,
    /// Action id.
    pub action: u32,
    pub kind: EventKind,
    /// An idle period (idle_start/idle_end, which are not actions) came right before this event.
    pub after_idle: bool,
}

/// How events become actions.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AbstractionOptions {
    pub rules: Rules,
    /// How many different values a title part must take before it becomes a placeholder.
    pub min_distinct: usize,
}

impl Default for AbstractionOptions {
    fn default() -> Self {
        AbstractionOptions {
            rules: Rules::default(),
            min_distinct: 3,
        }
    }
}

/// A loaded, abstracted log.
#[derive(Debug)]
pub struct Log {
    pub dict: Dictionary,
    pub titles: TitleTemplates,
    /// Element templates, indexed like the dictionary's elements.
    pub elements: TitleTemplates,
    pub actions: Vec<Action>,
    /// The centre of each click spot (window-relative), indexed by `LabelKey::spot - 1`.
    pub spots: Vec<(i32, i32)>,
    /// Events ordered by (user, ts, session, id). Idle markers are not here.
    pub events: Vec<Ev>,
    /// The user of each session id.
    pub session_user: Vec<u32>,
}

/// Gives each click without an element its spot action (see [`click_spots`]); returns the spots'
/// centres. Clicks are clustered per window (kind, app, title template).
fn place_clicks(
    labeler: &mut Labeler,
    events: &mut [Ev],
    unplaced: &mut [(u32, LabelKey, i32, i32)],
) -> Vec<(i32, i32)> {
    unplaced.sort_unstable_by_key(|&(i, k, _, _)| (k, i));
    let mut centres: Vec<(i32, i32)> = Vec::new();
    let mut points: Vec<(i32, i32)> = Vec::new();
    for group in unplaced.chunk_by(|a, b| a.1 == b.1) {
        points.clear();
        points.extend(group.iter().map(|&(_, _, x, y)| (x, y)));
        let clusters = click_spots(&points);
        let first_spot = centres.len() as u32;
        let mut sums: Vec<(i64, i64, i64)> = Vec::new();
        for (&(i, key, x, y), c) in group.iter().zip(&clusters) {
            let mut key = key;
            if let Some(c) = *c {
                if c as usize >= sums.len() {
                    sums.resize(c as usize + 1, (0, 0, 0));
                }
                let s = &mut sums[c as usize];
                *s = (s.0 + x as i64, s.1 + y as i64, s.2 + 1);
                key.spot = first_spot + c + 1;
            }
            events[i as usize].action = labeler.intern(key);
        }
        centres.extend(
            sums.iter()
                .map(|&(x, y, n)| ((x / n.max(1)) as i32, (y / n.max(1)) as i32)),
        );
    }
    centres
}

impl Log {
    /// The event attributes [`Log::load`] reads (a shortcut's `keys`, see
    /// [`Labeler::shortcut`]): a log held only for mining may keep these alone.
    pub const ATTRIBUTES_READ: &'static [&'static str] = &["keys"];

    /// Reads every event of the store once, abstracting as it goes. Any backend: the rows are
    /// streamed through [`LogRead::visit_rows`], so memory holds the compact [`Ev`]s only.
    pub fn load(
        store: &dyn LogRead,
        opts: &AbstractionOptions,
        progress: &mut dyn Progress,
    ) -> Result<Log> {
        let dict = store.dictionary()?;
        // Titles and elements are templated independently: one core each.
        let (titles, elements) = std::thread::scope(|scope| {
            let titles =
                scope.spawn(|| template_titles(&dict.windows, &opts.rules, opts.min_distinct));
            let elements = template_elements(&dict.elements, opts.min_distinct);
            (titles.join().expect("templating titles panicked"), elements)
        });
        let total = store.event_count()?;
        progress.stage("load", total);
        let mut labeler = Labeler::default();
        let mut events: Vec<Ev> = Vec::with_capacity(total as usize);
        let mut idle_pending = false;
        let mut last_session = u32::MAX;
        let mut n = 0u64;
        let of_window = &titles.of_window;
        let of_element = &elements.of_window;
        // Clicks without an element wait for their spot: (event index, key, wx, wy).
        let mut unplaced: Vec<(u32, LabelKey, i32, i32)> = Vec::new();
        store.visit_rows(&mut |row| -> uilog::Result<()> {
            n += 1;
            if n % 65_536 == 0 {
                progress.advance(65_536);
            }
            if row.session != last_session {
                idle_pending = false;
                last_session = row.session;
            }
            if matches!(row.kind, EventKind::IdleStart | EventKind::IdleEnd) {
                idle_pending = true;
                return Ok(());
            }
            let key = LabelKey {
                kind: row.kind,
                app: row.app,
                title: of_window.get(row.window as usize).copied().unwrap_or(0),
                element: of_element.get(row.element as usize).copied().unwrap_or(0),
                spot: 0,
                keys: match row.kind {
                    EventKind::Shortcut => labeler.shortcut(row.attrs),
                    _ => 0,
                },
            };
            let action = match (row.wx, row.wy) {
                (Some(wx), Some(wy))
                    if key.element == 0
                        && matches!(
                            row.kind,
                            EventKind::Click | EventKind::DoubleClick | EventKind::RightClick
                        ) =>
                {
                    unplaced.push((events.len() as u32, key, wx, wy));
                    u32::MAX
                }
                _ => labeler.intern(key),
            };
            events.push(Ev {
                id: row.id,
                ts: row.ts,
                value: row.value_hash.map_or(0, |v| v.0),
                session: row.session,
                action,
                kind: row.kind,
                after_idle: std::mem::take(&mut idle_pending),
            });
            Ok(())
        })?;
        progress.advance(n % 65_536);
        progress.finish();
        let spots = place_clicks(&mut labeler, &mut events, &mut unplaced);
        let session_user: Vec<u32> = dict.sessions.iter().map(|s| s.user).collect();
        Ok(Log::assemble(
            dict,
            titles,
            elements,
            labeler,
            events,
            session_user,
            spots,
        ))
    }

    /// Builds a log from events already abstracted (used by [`Log::load`] and by tests).
    pub fn assemble(
        dict: Dictionary,
        titles: TitleTemplates,
        elements: TitleTemplates,
        mut labeler: Labeler,
        mut events: Vec<Ev>,
        session_user: Vec<u32>,
        spots: Vec<(i32, i32)>,
    ) -> Log {
        let remap = labeler.canonical_order();
        for e in &mut events {
            e.action = remap[e.action as usize];
        }
        let user = |s: u32| session_user.get(s as usize).copied().unwrap_or(0);
        // The store gives (session, ts) order; a user's sessions may interleave in time (two hosts),
        // so the per-user stream is a sort, skipped when the order already holds.
        let key = |e: &Ev| (user(e.session), e.ts, e.session, e.id);
        if !events.is_sorted_by_key(key) {
            events.sort_by_key(key);
        }
        let actions = labeler.actions(&dict, &titles, &elements, &spots);
        Log {
            dict,
            titles,
            elements,
            actions,
            spots,
            events,
            session_user,
        }
    }

    pub fn user_of(&self, e: &Ev) -> u32 {
        self.session_user
            .get(e.session as usize)
            .copied()
            .unwrap_or(0)
    }

    pub fn user_name(&self, user: u32) -> &str {
        self.dict
            .users
            .get(user as usize)
            .map_or("", |s| s.as_str())
    }

    pub fn session_name(&self, session: u32) -> &str {
        self.dict
            .sessions
            .get(session as usize)
            .map_or("", |s| s.name.as_str())
    }
}
