//! A process definition document (PDD) of one routine, for a business analyst: its steps in order
//! with a snapshot of each step's target (where the recorder's `screenshots` policy kept one),
//! the element, typed values as placeholders, the variants, the data flows and the evidence.
//! Rendered as one self-contained HTML file (`templates/pdd.html.tera`, images inline as
//! `data:` URIs) and printed to PDF by headless Chromium.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use miner::{Log, Mining};
use serde::Serialize;
use tera::{Context, Tera};
use uilog::{Event, EventKind, LogRead, Store};

use crate::error::{Error, Result};

/// How many instances of a step are looked at for its snapshot and its typed values.
pub const SAMPLE: usize = 50;

/// The document's content, as the template sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Pdd {
    pub routine: u32,
    pub title: String,
    pub steps: Vec<PddStep>,
    pub variants: Vec<PddVariant>,
    pub data_flows: Vec<String>,
    pub evidence: PddEvidence,
}

#[derive(Debug, Clone, Serialize)]
pub struct PddStep {
    pub number: usize,
    pub kind: String,
    pub app: String,
    pub window: String,
    /// The element as the miner labels it (role, name, id), empty when none was known.
    pub element: String,
    /// A typed step's value: `{{ name }}` when it differs between instances.
    pub input: Option<String>,
    /// `data:image/png;base64,…` of one instance's snapshot.
    pub snapshot: Option<String>,
    pub snapshot_width: u32,
    pub snapshot_height: u32,
    /// Instances of the dominant variant in which this step was found.
    pub seen: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PddVariant {
    pub number: usize,
    pub instances: u64,
    pub share_pct: f64,
    pub steps: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PddEvidence {
    pub instances: u64,
    pub users: u64,
    pub instances_per_week: f64,
    pub median_duration_s: f64,
    pub p90_duration_s: f64,
    pub standardization_pct: f64,
    pub automatability_pct: f64,
    pub hours_saved_per_month: f64,
}

/// Builds the document of routine `id` (its rank in `taskmine mine`) from a mining of `log`,
/// which was loaded from `store` (either backend); steps show the screen snapshots `snapshots`
/// keeps, when the log is a SQLite store.
pub fn build(
    store: &dyn LogRead,
    snapshots: Option<&Store>,
    log: &Log,
    mining: &Mining,
    id: u32,
) -> Result<Pdd> {
    let r = mining
        .routines
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| Error::Invalid {
            bot: format!("routine {id}"),
            location: "routine".into(),
            message: format!(
                "no routine {id}: the log has {} (see `taskmine mine`)",
                mining.routines.len()
            ),
        })?;
    let aligned: Vec<Vec<Option<i64>>> = crate::generate::aligned(log, r).take(SAMPLE).collect();
    let wanted: HashSet<i64> = aligned.iter().flatten().flatten().copied().collect();
    let events = crate::generate::fetch(store, &wanted)?;
    let label = |a: u32| {
        mining
            .actions
            .get(a as usize)
            .map(|a| a.label())
            .unwrap_or_else(|| format!("action {a}"))
    };
    let variant = r
        .variants
        .first()
        .map(|v| v.steps.clone())
        .unwrap_or_default();
    let mut steps = Vec::new();
    for (k, &a) in variant.iter().enumerate() {
        let Some(action) = mining.actions.get(a as usize) else {
            continue;
        };
        let ids: Vec<i64> = aligned.iter().filter_map(|i| i[k]).collect();
        let evs: Vec<&Event> = ids.iter().filter_map(|id| events.get(id)).collect();
        let mut snapshot = None;
        // Snapshots are kept in SQLite files only.
        if let Some(st) = snapshots {
            for &eid in &ids {
                if let Some(s) = st.snapshot(eid)? {
                    snapshot = Some(s);
                    break;
                }
            }
        }
        steps.push(PddStep {
            number: k + 1,
            kind: action.kind.to_string(),
            app: action.app.clone(),
            window: action.title.clone(),
            element: action.element.clone(),
            input: (action.kind == EventKind::Type).then(|| input_of(k, &evs)),
            snapshot_width: snapshot.as_ref().map_or(0, |s| s.width),
            snapshot_height: snapshot.as_ref().map_or(0, |s| s.height),
            snapshot: snapshot.map(|s| format!("data:image/png;base64,{}", base64(&s.png))),
            seen: ids.len(),
        });
    }
    let total: u64 = r.variants.iter().map(|v| v.count).sum::<u64>().max(1);
    let variants = r
        .variants
        .iter()
        .enumerate()
        .map(|(i, v)| PddVariant {
            number: i + 1,
            instances: v.count,
            share_pct: 100.0 * v.count as f64 / total as f64,
            steps: v.steps.iter().map(|&a| label(a)).collect(),
        })
        .collect();
    let data_flows = r
        .data_flows
        .iter()
        .map(|f| {
            format!(
                "{} → {} ({}, {} instances)",
                label(f.from),
                label(f.to),
                f.via.replace('_', " "),
                f.instances
            )
        })
        .collect();
    let s = &r.score;
    Ok(Pdd {
        routine: r.id,
        title: format!(
            "Routine {}: {}",
            r.id,
            steps
                .first()
                .map(|s: &PddStep| format!("{} in {}", s.kind, s.app))
                .unwrap_or_default()
        ),
        steps,
        variants,
        data_flows,
        evidence: PddEvidence {
            instances: s.instances,
            users: s.users,
            instances_per_week: s.instances_per_week,
            median_duration_s: s.median_duration_s,
            p90_duration_s: s.p90_duration_s,
            standardization_pct: 100.0 * s.standardization,
            automatability_pct: 100.0 * s.automatability,
            hours_saved_per_month: s.hours_saved_per_month,
        },
    })
}

/// What a typed step's value is: one placeholder when it differs between instances, the value
/// when it is always the same and the policy kept it.
fn input_of(k: usize, evs: &[&Event]) -> String {
    let name = evs
        .iter()
        .find_map(|e| e.element.as_ref().and_then(|el| el.name.clone()))
        .map(|n| slug(&n))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("input_{}", k + 1));
    let hashes: HashSet<_> = evs.iter().filter_map(|e| e.value_hash).collect();
    let texts: HashSet<_> = evs.iter().filter_map(|e| e.text.as_deref()).collect();
    if hashes.len() > 1 || texts.len() > 1 {
        format!("{{{{ {name} }}}}")
    } else if let Some(t) = texts.iter().next() {
        format!("\"{t}\" (the same each time)")
    } else {
        format!("{{{{ {name} }}}} (the same each time; the policy kept no text)")
    }
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    out.trim_end_matches('_').chars().take(30).collect()
}

/// Standard base64 with padding (RFC 4648), for `data:` URIs.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

const TEMPLATE: &str = include_str!("../../templates/pdd.html.tera");

/// The document as one HTML file; `template` replaces the built-in one.
pub fn render_html(pdd: &Pdd, template: Option<&Path>) -> Result<String> {
    let text = match template {
        Some(p) => std::fs::read_to_string(p).map_err(|e| Error::Io {
            path: p.to_path_buf(),
            source: e,
        })?,
        None => TEMPLATE.to_owned(),
    };
    let mut tera = Tera::default();
    let tpl_err = |e: tera::Error| Error::Template {
        name: "pdd.html".into(),
        message: format!("{e:?}"),
    };
    tera.add_raw_template("pdd.html", &text).map_err(tpl_err)?;
    let ctx = Context::from_serialize(pdd).map_err(tpl_err)?;
    tera.render("pdd.html", &ctx).map_err(tpl_err)
}

/// Prints an HTML file to PDF with headless Chromium (`chromium`, else `chromium-browser`), in a
/// throwaway profile, with no network of its own.
pub fn print_pdf(html: &Path, pdf: &Path) -> Result<()> {
    let html = std::fs::canonicalize(html).map_err(|e| Error::Io {
        path: html.to_path_buf(),
        source: e,
    })?;
    let profile = std::env::temp_dir().join(format!("taskmine-pdd-{}", std::process::id()));
    let browser = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .ok_or_else(|| Error::Desktop("no chromium to print the PDF with".into()))?;
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Desktop(format!("cannot run {browser}: {e}")));
    let _ = std::fs::remove_dir_all(&profile);
    let out = out?;
    let made = std::fs::metadata(pdf).is_ok_and(|m| m.len() > 0);
    if !out.status.success() || !made {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").to_owned();
        return Err(Error::Desktop(format!(
            "{browser} did not print {} ({}): {last}",
            PathBuf::from(pdf).display(),
            out.status
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, coded) in cases {
            assert_eq!(base64(plain.as_bytes()), coded);
        }
        assert_eq!(base64(&[0xff, 0xfe]), "//4=");
    }

    #[test]
    fn typed_values_become_placeholders_named_after_their_field() {
        let ev = |hash: u64, text: Option<&str>| {
            let mut e = Event::new("s", "u", 1, EventKind::Type);
            e.value_hash = Some(uilog::ValueHash(hash));
            e.text = text.map(str::to_owned);
            e.element = Some(uilog::Element {
                name: Some("First name".into()),
                ..Default::default()
            });
            e
        };
        let (a, b) = (ev(1, None), ev(2, None));
        assert_eq!(input_of(0, &[&a, &b]), "{{ first_name }}");
        let (c, d) = (ev(3, Some("Oslo")), ev(3, Some("Oslo")));
        assert_eq!(input_of(0, &[&c, &d]), "\"Oslo\" (the same each time)");
        let mut e = ev(4, None);
        e.element = None;
        assert!(input_of(2, &[&e]).starts_with("{{ input_3 }}"));
    }
}
