//! The process log behind the simulated desktop work: the business cases (invoices, tickets,
//! orders, …) that routine instances worked on, as an ERP or helpdesk would log them, so that
//! linking routine instances to cases has a ground truth.
//!
//! Each instance of a routine that handles a business object opens or continues one case named by
//! the object's identifier, the same value the instance typed, copied or saw in a title: activities
//! before the desktop work (the invoice arrived), one at its end (the system records the save,
//! a few seconds after the last step, by the instance's user) and after it (approval, payment).
//! Routines without a business object (a disk-usage check) have no case. Times outside the desktop
//! work are drawn from a generator of their own, so the UI log is the same with or without this.
//!
//! An identifier drawn twice whose cases would overlap in time cannot be told apart by anyone; the
//! later case is left out and its instance listed in [`ProcessLog::ambiguous`].

use std::collections::HashMap;
use std::io::Write;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::run::mix;
use super::Config;
use crate::error::{Error, Result};
use crate::event::{format_ts, Event, Micros, ValueHash};

/// What the simulator knows of an instance once it is done.
pub(crate) struct Done {
    pub instance: u64,
    pub routine: u32,
    pub user: String,
    pub start: Micros,
    pub end: Micros,
    pub slots: Vec<(&'static str, String)>,
}

/// One event of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEvent {
    pub activity: &'static str,
    pub ts: Micros,
    /// The user (pseudonym) for the activity done at the desktop, empty for the system's own.
    pub resource: String,
}

/// A business case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: String,
    pub process: &'static str,
    pub object_type: &'static str,
    /// The identifier the desktop work shows.
    pub object_id: String,
    /// In time order.
    pub events: Vec<CaseEvent>,
    /// The ground-truth instance (`TruthInstance::id`) that did the case's desktop work.
    pub instance: u64,
}

/// The simulated process log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessLog {
    pub cases: Vec<Case>,
    /// Instances left without a case because their identifier was drawn for an overlapping case.
    pub ambiguous: Vec<u64>,
}

/// A routine's business process: the object it handles and its activities around the desktop work.
struct Process {
    routine: &'static str,
    process: &'static str,
    object_type: &'static str,
    slot: &'static str,
    /// (activity, seconds before the instance's start: min, max).
    before: &'static [(&'static str, f64, f64)],
    at: &'static str,
    /// (activity, seconds after the instance's end: min, max).
    after: &'static [(&'static str, f64, f64)],
}

const H: f64 = 3600.0;
const D: f64 = 86_400.0;

const PROCESSES: &[Process] = &[
    Process {
        routine: "Enter a supplier invoice from a mail into the ERP",
        process: "purchase-to-pay",
        object_type: "invoice",
        slot: "inv",
        before: &[("Receive invoice", 600.0, 4.0 * H)],
        at: "Enter invoice",
        after: &[
            ("Approve invoice", H, 2.0 * D),
            ("Pay invoice", 3.0 * D, 14.0 * D),
        ],
    },
    Process {
        routine: "Create a support ticket from a spreadsheet row",
        process: "issue-to-resolution",
        object_type: "ticket",
        slot: "ticket",
        before: &[],
        at: "Create ticket",
        after: &[
            ("Assign ticket", 600.0, 4.0 * H),
            ("Resolve ticket", D, 5.0 * D),
        ],
    },
    Process {
        routine: "Answer an order status request with the delivery date from the ERP",
        process: "order-to-cash",
        object_type: "order",
        slot: "order",
        before: &[
            ("Create order", 2.0 * D, 10.0 * D),
            ("Receive status request", 300.0, 2.0 * H),
        ],
        at: "Answer status request",
        after: &[("Ship order", D, 7.0 * D)],
    },
    Process {
        routine: "Update a price in the price list from the ERP",
        process: "price-maintenance",
        object_type: "product",
        slot: "sku",
        before: &[("Request price change", H, D)],
        at: "Update price",
        after: &[],
    },
    Process {
        routine: "Approve a purchase request in the ERP",
        process: "purchase-to-pay",
        object_type: "purchase request",
        slot: "pr",
        before: &[("Create purchase request", H, 2.0 * D)],
        at: "Approve purchase request",
        after: &[("Create purchase order", 600.0, D)],
    },
    Process {
        routine: "File a travel expense from a receipt mail",
        process: "travel-expense",
        object_type: "expense",
        slot: "receipt",
        before: &[("Receive receipt", H, 5.0 * D)],
        at: "Submit expense",
        after: &[("Reimburse expense", 2.0 * D, 14.0 * D)],
    },
];

/// The process log of the instances done, in the order they were done (user by user).
pub(crate) fn build(cfg: &Config, done: &[Done]) -> ProcessLog {
    let names: HashMap<u32, &'static str> = super::routine::compile_catalogue()
        .iter()
        .map(|r| (r.id, r.name))
        .collect();
    let mut out = ProcessLog::default();
    // (type, id) → spans of the cases so far.
    let mut spans: HashMap<(&str, String), Vec<(Micros, Micros)>> = HashMap::new();
    for d in done {
        let Some(name) = names.get(&d.routine) else {
            continue;
        };
        let Some(p) = PROCESSES.iter().find(|p| p.routine == *name) else {
            continue;
        };
        let Some((_, object_id)) = d.slots.iter().find(|(s, _)| *s == p.slot) else {
            continue;
        };
        let mut rng = ChaCha8Rng::seed_from_u64(mix(&[cfg.seed, d.instance, 0x9_0C_E5]));
        let mut draw = |lo: f64, hi: f64| (rng.random_range(lo..=hi) * 1e6) as Micros;
        let mut events = Vec::new();
        for &(activity, lo, hi) in p.before {
            events.push(CaseEvent {
                activity,
                ts: d.start - draw(lo, hi),
                resource: String::new(),
            });
        }
        events.push(CaseEvent {
            activity: p.at,
            ts: d.end + draw(2.0, 60.0),
            resource: d.user.clone(),
        });
        let mut t = d.end;
        for &(activity, lo, hi) in p.after {
            t += draw(lo, hi);
            events.push(CaseEvent {
                activity,
                ts: t,
                resource: String::new(),
            });
        }
        events.sort_by_key(|e| e.ts);
        let span = (events[0].ts, events[events.len() - 1].ts);
        let seen = spans.entry((p.object_type, object_id.clone())).or_default();
        if seen.iter().any(|&(a, b)| span.0 <= b && a <= span.1) {
            out.ambiguous.push(d.instance);
            continue;
        }
        seen.push(span);
        out.cases.push(Case {
            id: format!(
                "{}-{:06}",
                p.object_type.replace(' ', "-"),
                out.cases.len() + 1
            ),
            process: p.process,
            object_type: p.object_type,
            object_id: object_id.clone(),
            events,
            instance: d.instance,
        });
    }
    out
}

impl ProcessLog {
    /// The true links: (ground-truth instance id, case id).
    pub fn true_links(&self) -> Vec<(u64, String)> {
        self.cases
            .iter()
            .map(|c| (c.instance, c.id.clone()))
            .collect()
    }

    /// Writes the log as process-mining CSV: `case:concept:name, concept:name, time:timestamp,
    /// org:resource, process, object_type, object_id`, ordered by time. The identifier column is
    /// `object_id` (`taskmine link --id-attr object_id`).
    pub fn write_csv(&self, out: &mut dyn Write) -> Result<u64> {
        let mut rows: Vec<(&Case, &CaseEvent)> = self
            .cases
            .iter()
            .flat_map(|c| c.events.iter().map(move |e| (c, e)))
            .collect();
        rows.sort_by(|a, b| a.1.ts.cmp(&b.1.ts).then_with(|| a.0.id.cmp(&b.0.id)));
        let err = |e: std::io::Error| Error::io("<process log output>", e);
        let mut w = std::io::BufWriter::new(out);
        writeln!(
            w,
            "case:concept:name,concept:name,time:timestamp,org:resource,process,object_type,object_id"
        )
        .map_err(err)?;
        for (c, e) in &rows {
            writeln!(
                w,
                "{},{},{},{},{},{},{}",
                c.id,
                e.activity,
                format_ts(e.ts),
                e.resource,
                c.process,
                c.object_type,
                c.object_id
            )
            .map_err(err)?;
        }
        w.flush().map_err(err)?;
        Ok(rows.len() as u64)
    }
}

/// A recorder key: 64 hex digits.
pub(crate) fn parse_secret(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// The value-hash key the recorder derives from its secret (the recorder's `privacy` module holds
/// the original; the root package's link test checks that both agree).
pub(crate) fn value_key(secret: &[u8; 32]) -> [u8; 32] {
    blake3::derive_key("taskmine recorder 2026 value hash", secret)
}

/// Replaces runs of four or more ASCII digits by `<n>`, as a title redaction would.
fn redact_numbers(s: &mut String) {
    if !s.bytes().any(|b| b.is_ascii_digit()) {
        return;
    }
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 4 {
            out.push_str("<n>");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    *s = out;
}

/// An event as the recorder writes it with `text: hash` and numbers redacted from titles.
pub(crate) fn hash_text(e: &mut Event, key: &[u8; 32]) {
    if let Some(t) = e.text.take() {
        e.value_hash = Some(ValueHash::keyed(key, &t));
    }
    redact_numbers(&mut e.window);
    if let Some(el) = &mut e.element {
        for part in [&mut el.name, &mut el.path, &mut el.id]
            .into_iter()
            .flatten()
        {
            redact_numbers(part);
        }
    }
    if let Some(url) = e.attrs.get_mut("url") {
        redact_numbers(url);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::{simulate_to_vec, simulate_with_process_log};

    #[test]
    fn numbers_of_four_digits_or_more_are_redacted() {
        let mut s = "Invoice 48213 from Acme, row 42 - 2026-11-25".to_owned();
        redact_numbers(&mut s);
        assert_eq!(s, "Invoice <n> from Acme, row 42 - <n>-11-25");
    }

    #[test]
    fn the_process_log_leaves_the_ui_log_as_it_was_and_names_ids_the_ui_shows() {
        let cfg = Config {
            users: 2,
            days: 1,
            ..Config::default()
        };
        let (plain, truth) = simulate_to_vec(&cfg).unwrap();
        let mut events = Vec::new();
        let (truth2, log) = simulate_with_process_log(&cfg, |e| -> Result<()> {
            events.push(e.clone());
            Ok(())
        })
        .unwrap();
        assert_eq!(events, plain);
        assert_eq!(truth2, truth);
        assert!(!log.cases.is_empty());
        for c in &log.cases {
            let inst = truth.instances.iter().find(|t| t.id == c.instance).unwrap();
            let (a, b) = (inst.events[0], *inst.events.last().unwrap());
            let shown = events.iter().any(|e| {
                e.ts >= a
                    && e.ts <= b
                    && (e.text.as_deref() == Some(c.object_id.as_str())
                        || e.window.contains(&c.object_id))
            });
            assert!(
                shown,
                "case {} names {} which its instance never shows",
                c.id, c.object_id
            );
            let at = c.events.iter().find(|e| !e.resource.is_empty()).unwrap();
            assert!(at.ts > b && at.ts - b < 120_000_000);
        }
        let mut csv = Vec::new();
        let rows = log.write_csv(&mut csv).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(text.lines().count() as u64, rows + 1);
    }

    #[test]
    fn hashed_text_keeps_no_text_and_no_long_numbers() {
        let cfg = Config {
            users: 1,
            days: 1,
            text_key: Some("ab".repeat(32)),
            ..Config::default()
        };
        let (events, _) = simulate_to_vec(&cfg).unwrap();
        let key = value_key(&[0xab; 32]);
        assert!(events.iter().all(|e| e.text.is_none()));
        assert!(events.iter().all(|e| !e.window.contains("0000")));
        let (plain, _) = simulate_to_vec(&Config {
            text_key: None,
            ..cfg.clone()
        })
        .unwrap();
        for (h, p) in events.iter().zip(&plain) {
            if let Some(t) = &p.text {
                assert_eq!(h.value_hash, Some(ValueHash::keyed(&key, t)));
            }
        }
        let bad = Config {
            text_key: Some("xyz".into()),
            ..cfg
        };
        assert!(bad.validate().unwrap_err().to_string().contains("text_key"));
    }
}
