//! One user's working day: routine instances with their values, the pauses between them, noise
//! between and inside them, and idle markers, written event by event into one reused buffer.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::{Config, ElementStyle, MAX_TYPING_S, SECOND};
use super::elements::{captured, element, Layout};
use super::model::{app_named, App};
use super::profile::Profile;
use super::routine::{CStep, Routine};
use super::run::mix;
use super::template::{Ctx, Tpl};
use super::{process_log, values};
use crate::error::Error;
use crate::event::{check_ts, Element, Event, EventKind, Micros, ValueHash};
use crate::truth::{GroundTruth, TruthInstance};

/// A session being generated, with what it has written so far.
pub(super) struct SessionGen<'a> {
    cfg: &'a Config,
    profile: &'a Profile,
    routines: &'a [Routine],
    rng: ChaCha8Rng,
    date: jiff::civil::Date,
    date_str: &'a str,
    session: String,
    /// The event handed to `emit`, reused.
    ev: Event,
    last_ts: Option<Micros>,
    /// When the user is done with the last event (a run of typing lasts a while after its timestamp,
    /// which the recorder puts at the run's first key).
    ready: Micros,
    /// The application and window in focus, where noise and idle markers happen.
    cur_app: App,
    cur_window: String,
    slots: Vec<String>,
    pub(super) noise: u64,
    pub(super) idle: u64,
    pub(super) total: u64,
    /// The applications that expose no elements.
    pub(super) no_elements: [bool; App::COUNT],
    /// How the current instance's screens are laid out, for element paths.
    layout: Layout,
    /// The instances done, with their values, when a process log is emitted too.
    pub(super) done: Option<Vec<process_log::Done>>,
}

impl<'a> SessionGen<'a> {
    pub(super) fn new(
        cfg: &'a Config,
        profile: &'a Profile,
        routines: &'a [Routine],
        u: u32,
        d: u32,
        date: &'a str,
    ) -> Self {
        let session = format!("{}-{date}", profile.login);
        let mut ev = Event::new(&session, &profile.user, 0, EventKind::Click);
        ev.host = profile.host.clone();
        SessionGen {
            cfg,
            profile,
            routines,
            rng: ChaCha8Rng::seed_from_u64(mix(&[cfg.seed, u as u64, d as u64])),
            date: date.parse().expect("working_days writes dates"),
            date_str: date,
            session,
            ev,
            last_ts: None,
            ready: 0,
            cur_app: App::Mail,
            cur_window: "Inbox - Mozilla Thunderbird".into(),
            slots: Vec::new(),
            noise: 0,
            idle: 0,
            total: 0,
            no_elements: [false; App::COUNT],
            layout: Layout {
                shift: 0,
                banner: 1,
            },
            done: None,
        }
    }

    pub(super) fn run<E: From<Error>>(
        &mut self,
        day_start: Micros,
        next_instance: &mut u64,
        truth: &mut GroundTruth,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let c = self.cfg.instances_per_day;
        let n = self.rng.random_range(c.min..=c.max) as usize;
        let lunch_before = if n >= 2 { n / 2 } else { usize::MAX };
        let first = day_start + self.profile.offset + self.rng.random_range(0..600) * 1_000_000;
        let noise_ratio = self.cfg.noise / (1.0 - self.cfg.noise);
        let noise_q = noise_ratio / (1.0 + noise_ratio);
        let mut steps: Vec<&CStep> = Vec::new();
        let mut noise_at: Vec<u32> = Vec::new();
        let mut prev_end: Option<Micros> = None;
        for k in 0..n {
            let routine = &self.routines[self.profile.pick_routine(&mut self.rng)];
            let variation = (!routine.variations.is_empty()
                && self.rng.random_bool(self.cfg.variant_steps))
            .then(|| self.rng.random_range(0..routine.variations.len()));
            routine.expand(variation, &mut steps);
            self.fill_slots(routine);
            if self.cfg.elements != ElementStyle::Catalogue {
                // Drawn only here, so that the catalogue style keeps its log draw for draw.
                self.layout = Layout {
                    shift: u32::from(self.rng.random_bool(0.25)),
                    banner: self.rng.random_range(1..=3),
                };
            }

            // Noise: on average `noise_ratio` noise events per routine event, 40% of them in the
            // pause before the instance, the rest between its steps.
            noise_at.clear();
            noise_at.resize(steps.len(), 0);
            if noise_q > 0.0 {
                for _ in 0..steps.len() {
                    while self.rng.random::<f64>() < noise_q {
                        let at = if steps.len() < 2 || self.rng.random_bool(0.4) {
                            0
                        } else {
                            self.rng.random_range(1..steps.len())
                        };
                        noise_at[at] += 1;
                    }
                }
            }

            let mut inst = TruthInstance {
                id: *next_instance,
                routine: routine.id,
                session: self.session.clone(),
                user: self.profile.user.clone(),
                variant: variation.map(|v| routine.variations[v].0.to_owned()),
                events: Vec::with_capacity(steps.len()),
            };
            *next_instance += 1;

            // The pause before the instance, with its noise right after the previous instance, in
            // the middle of the pause, or just before this one, a third of the time each.
            let mut start = match prev_end {
                None => first,
                Some(end) if self.cfg.pauses => end + self.cfg.gap.draw(&mut self.rng),
                Some(end) => end + self.think(),
            };
            if k == lunch_before && self.cfg.pauses && self.cfg.lunch_break {
                start += self.cfg.lunch.draw(&mut self.rng);
            }
            if noise_at[0] > 0 {
                let end = prev_end.unwrap_or(first);
                let from = match self.rng.random_range(0..3) {
                    0 => end,
                    1 => end + ((start - end) as f64 * self.rng.random_range(0.2..0.8)) as Micros,
                    _ => end.max(start - noise_at[0] as Micros * 3_000_000),
                };
                self.noise_run(noise_at[0], from, emit)?;
            }
            for (i, step) in steps.iter().enumerate() {
                let ts = if i == 0 {
                    let after = self.ready + self.think();
                    if self.last_ts.is_some() {
                        start.max(after)
                    } else {
                        start
                    }
                } else {
                    self.noise_run(noise_at[i], self.ready, emit)?;
                    self.ready + self.think()
                };
                let ts = self.emit_step(step, ts, emit)?;
                inst.events.push(ts);
            }
            prev_end = Some(self.ready);
            if let Some(done) = &mut self.done {
                done.push(process_log::Done {
                    instance: inst.id,
                    routine: routine.id,
                    user: self.profile.user.clone(),
                    start: inst.events.first().copied().unwrap_or(self.ready),
                    end: self.ready,
                    slots: routine
                        .slot_names
                        .iter()
                        .copied()
                        .zip(self.slots.iter().cloned())
                        .collect(),
                });
            }
            truth.instances.push(inst);
        }
        Ok(())
    }

    fn fill_slots(&mut self, routine: &Routine) {
        self.slots.clear();
        for generate in &routine.slots {
            let mut g = values::Gen {
                rng: &mut self.rng,
                prev: &self.slots,
                date: self.date,
            };
            let v = generate(&mut g);
            self.slots.push(v);
        }
    }

    /// The pause before an action.
    fn think(&mut self) -> Micros {
        self.cfg.think_time.draw(&mut self.rng).max(1_000)
    }

    /// How long typing `text` takes.
    fn typing(&mut self, text: &str) -> Micros {
        let per_char = self.rng.random_range(0.08..0.2);
        ((text.chars().count() as f64 * per_char).min(MAX_TYPING_S) * SECOND) as Micros
    }

    /// Makes `ts` strictly later than the last event and logs idle markers for a long pause.
    fn place<E: From<Error>>(
        &mut self,
        ts: Micros,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<Micros, E> {
        let Some(last) = self.last_ts else {
            return Ok(ts);
        };
        let ts = ts.max(last + 1);
        if let Err(why) = check_ts(ts) {
            // `validate` leaves a week of slack; only an extreme day (thousands of instances,
            // hour-long pauses) started near the end of the range gets here.
            return Err(Error::Invalid(format!(
                "simulator config, field `start`: the simulated days run past the log's time range ({why})"
            ))
            .into());
        }
        let idle_after = (self.cfg.idle_after_s * SECOND) as Micros;
        let active = self.ready.max(last);
        if ts - active > idle_after + 2_000 {
            // As the recorder logs them: no application or window. The caller fills the event after
            // this, so the buffer can carry the markers.
            self.reset_event(EventKind::IdleStart, active + idle_after);
            self.ev.app.clear();
            self.ev.window.clear();
            emit(&self.ev)?;
            self.ev.kind = EventKind::IdleEnd;
            self.ev.ts = ts - 1_000;
            emit(&self.ev)?;
            self.idle += 2;
            self.total += 2;
        }
        Ok(ts)
    }

    /// Clears the reused event down to session, user, host, and the application in focus.
    fn reset_event(&mut self, kind: EventKind, ts: Micros) {
        let e = &mut self.ev;
        e.kind = kind;
        e.ts = ts;
        e.app.clear();
        e.app.push_str(self.cur_app.name());
        e.window.clear();
        e.window.push_str(&self.cur_window);
        e.element = None;
        e.x = None;
        e.y = None;
        e.wx = None;
        e.wy = None;
        e.text = None;
        e.value_hash = None;
        e.attrs.clear();
    }

    fn set_pos(&mut self, app: App, (wx, wy): (i32, i32), jitter: bool) {
        let (jx, jy) = if jitter {
            (self.rng.random_range(-4..=4), self.rng.random_range(-3..=3))
        } else {
            (0, 0)
        };
        let (ox, oy) = self.profile.origins[app as usize];
        self.ev.wx = Some(wx + jx);
        self.ev.wy = Some(wy + jy);
        self.ev.x = Some(ox + wx + jx);
        self.ev.y = Some(oy + wy + jy);
    }

    fn send<E: From<Error>>(
        &mut self,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<(), E> {
        emit(&self.ev)?;
        self.last_ts = Some(self.ev.ts);
        self.ready = self.ready.max(self.ev.ts);
        self.total += 1;
        if !matches!(self.ev.kind, EventKind::IdleStart | EventKind::IdleEnd) {
            self.cur_window.clear();
            self.cur_window.push_str(&self.ev.window);
            self.cur_app = app_named(&self.ev.app).unwrap_or(self.cur_app);
        }
        Ok(())
    }

    fn emit_step<E: From<Error>>(
        &mut self,
        step: &CStep,
        ts: Micros,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<Micros, E> {
        let ts = self.place(ts, emit)?;
        let ctx = Ctx {
            slots: &self.slots,
            login: &self.profile.login,
            host: &self.profile.host,
            date: self.date_str,
        };
        let e = &mut self.ev;
        e.ts = ts;
        e.kind = step.kind;
        e.app.clear();
        e.app.push_str(step.app.name());
        e.window.clear();
        step.window.render(&mut e.window, &ctx);
        e.element = match &step.element {
            _ if self.no_elements[step.app as usize] => None,
            None => None,
            Some([r, n, i]) => {
                let text = |t: &Option<Tpl>| t.as_ref().map(|t| t.to_string(&ctx));
                let (name, id) = (text(n), text(i));
                Some(match self.cfg.elements {
                    ElementStyle::Catalogue => Element {
                        role: text(r),
                        name,
                        id,
                        path: None,
                    },
                    style => captured(
                        style,
                        step.app,
                        step.role,
                        name,
                        id,
                        &e.window,
                        step.index,
                        self.layout,
                    ),
                })
            }
        };
        e.attrs.clear();
        match &step.value {
            Some(v) => {
                let text = v.to_string(&ctx);
                e.value_hash = Some(ValueHash::keyed(&ValueHash::IMPORT_KEY, &text));
                e.text = Some(text);
            }
            None => {
                e.text = None;
                e.value_hash = None;
            }
        }
        // The attributes the recorder logs: the keys of a shortcut, copy or paste.
        let keys = match step.kind {
            EventKind::Copy => Some("ctrl+c"),
            EventKind::Paste => Some("ctrl+v"),
            _ => step.keys,
        };
        if let Some(keys) = keys {
            e.attrs.insert("keys".into(), keys.into());
        }
        for (k, v) in &step.attrs {
            e.attrs.insert((*k).into(), v.to_string(&ctx));
        }
        match step.pos {
            Some(pos) => self.set_pos(step.app, pos, true),
            None => {
                let e = &mut self.ev;
                (e.x, e.y, e.wx, e.wy) = (None, None, None, None);
            }
        }
        if step.kind == EventKind::Scroll {
            self.ev.attrs.insert("dx".into(), "0".into());
            self.ev.attrs.insert("dy".into(), "3".into());
        }
        if step.kind == EventKind::Drag {
            // A selection drag to the right along the line.
            let len = self.rng.random_range(180..420);
            let e = &mut self.ev;
            for (k, v) in [
                ("to_x", e.x),
                ("to_y", e.y),
                ("to_wx", e.wx),
                ("to_wy", e.wy),
            ] {
                if let Some(v) = v {
                    let v = if k.ends_with('x') { v + len } else { v };
                    e.attrs.insert(k.into(), v.to_string());
                }
            }
        }
        let duration = match (step.kind, self.ev.text.take()) {
            (EventKind::Type, Some(text)) => {
                let d = self.typing(&text);
                self.ev
                    .attrs
                    .insert("duration_ms".into(), (d / 1000).to_string());
                self.ev.text = Some(text);
                d
            }
            (_, text) => {
                self.ev.text = text;
                0
            }
        };
        self.send(emit)?;
        self.ready = ts + duration;
        Ok(ts)
    }

    /// Emits `budget` noise events, one short burst after another, starting after `from`.
    fn noise_run<E: From<Error>>(
        &mut self,
        mut budget: u32,
        from: Micros,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let mut t = from;
        while budget > 0 {
            let detour = budget >= 2 && self.rng.random_bool(0.35);
            if detour {
                let size = budget.min(2 + self.rng.random_range(0..=2));
                self.detour(size, &mut t, emit)?;
                budget -= size;
            } else {
                t += self.cfg.think_time.draw(&mut self.rng);
                let ts = self.place(t, emit)?;
                self.stray(ts);
                self.send(emit)?;
                self.noise += 1;
                t = ts;
                budget -= 1;
            }
        }
        Ok(())
    }

    /// A single noise event in the window in focus: a click on nothing in particular, a scroll, or
    /// a shortcut pressed by habit.
    fn stray(&mut self, ts: Micros) {
        let roll = self.rng.random::<f64>();
        let kind = if roll < 0.45 {
            EventKind::Click
        } else if roll < 0.85 {
            EventKind::Scroll
        } else {
            EventKind::Shortcut
        };
        self.reset_event(kind, ts);
        if kind == EventKind::Shortcut {
            let keys = values::STRAY_KEYS[self.rng.random_range(0..values::STRAY_KEYS.len())];
            self.ev.attrs.insert("keys".into(), keys.into());
            return;
        }
        let pos = (
            self.rng.random_range(40..1200),
            self.rng.random_range(60..760),
        );
        self.set_pos(self.cur_app, pos, false);
        if kind == EventKind::Scroll {
            let dy = if self.rng.random_bool(0.7) { "3" } else { "-3" };
            self.ev.attrs.insert("dx".into(), "0".into());
            self.ev.attrs.insert("dy".into(), dy.into());
        }
    }

    /// A visit to an unrelated application and back: focus, `size - 2` actions there, focus back.
    fn detour<E: From<Error>>(
        &mut self,
        size: u32,
        t: &mut Micros,
        emit: &mut impl FnMut(&Event) -> Result<(), E>,
    ) -> Result<(), E> {
        let (back_app, back_window) = (self.cur_app, self.cur_window.clone());
        let mut place = &values::NOISE_PLACES[self.rng.random_range(0..values::NOISE_PLACES.len())];
        while place.window == self.cur_window {
            place = &values::NOISE_PLACES[self.rng.random_range(0..values::NOISE_PLACES.len())];
        }
        for i in 0..size {
            *t += self.cfg.think_time.draw(&mut self.rng);
            let ts = self.place(*t, emit)?;
            *t = ts;
            if i == 0 {
                self.cur_app = place.app;
                self.cur_window.clear();
                self.cur_window.push_str(place.window);
                self.reset_event(EventKind::Focus, ts);
            } else if i == size - 1 {
                self.cur_app = back_app;
                self.cur_window.clone_from(&back_window);
                self.reset_event(EventKind::Focus, ts);
            } else {
                let (role, name, id) =
                    place.elements[self.rng.random_range(0..place.elements.len())];
                if role == "textbox" {
                    let msg = values::CHAT[self.rng.random_range(0..values::CHAT.len())];
                    self.reset_event(EventKind::Type, ts);
                    self.ev.text = Some(msg.to_owned());
                    self.ev.value_hash = Some(ValueHash::keyed(&ValueHash::IMPORT_KEY, msg));
                } else if self.rng.random_bool(0.25) {
                    self.reset_event(EventKind::Scroll, ts);
                    self.ev.attrs.insert("dx".into(), "0".into());
                    self.ev.attrs.insert("dy".into(), "3".into());
                } else {
                    self.reset_event(EventKind::Click, ts);
                }
                if self.ev.kind != EventKind::Scroll && !self.no_elements[place.app as usize] {
                    let part = |s: &str| (!s.is_empty()).then(|| s.to_owned());
                    self.ev.element = Some(match self.cfg.elements {
                        ElementStyle::Catalogue => element(role, name, id),
                        style => {
                            let index = place.elements.iter().position(|e| e.1 == name);
                            captured(
                                style,
                                place.app,
                                role,
                                part(name),
                                part(id),
                                place.window,
                                index.unwrap_or(0) as u32,
                                self.layout,
                            )
                        }
                    });
                }
                if self.ev.kind != EventKind::Type {
                    let pos = (
                        self.rng.random_range(40..900),
                        self.rng.random_range(60..700),
                    );
                    self.set_pos(place.app, pos, false);
                }
            }
            self.send(emit)?;
            self.noise += 1;
        }
        Ok(())
    }
}
