//! The process page: the latest report `taskmine link` stored (`mining_links`), per process
//! activity: the routines doing its desktop work, desktop minutes per case, the share of cases
//! with desktop work and the hours a bot would save per case. `/process` shows these aggregates to
//! every role; `/process/links` (analysts, audited) lists the instance ↔ case links themselves.
//!
//! Like every page of the server, it shows nothing seen across fewer than k people: an activity
//! whose linked instances come from fewer than k users is withheld, and a routine performed by
//! fewer than k users is not named (the report may come from `taskmine mine --min-users 1`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Html;
use axum::Extension;
use miner::link::stored::StoredLink;
use serde::Serialize;

use crate::access::Identity;
use crate::dashboard::plain_page;
use crate::state::AppState;
use crate::wire::ApiError;

/// How many links `/process/links` lists.
pub const MAX_LINKS: usize = 1000;

/// A routine as an activity row names it.
#[derive(Debug, Clone, Serialize)]
pub struct RoutineCell {
    /// Empty when the routine is performed by fewer than k users.
    pub name: String,
    pub share: String,
}

/// One activity row of the page (figures formatted as `taskmine link` prints them).
#[derive(Debug, Clone, Serialize)]
pub struct ActivityRow {
    pub activity: String,
    pub cases: u64,
    pub cases_with_desktop_work: u64,
    pub share: String,
    pub desktop_minutes_per_case: String,
    pub hours_saved_per_case: String,
    pub routines: Vec<RoutineCell>,
    /// Routines of fewer than k users among them.
    pub routines_withheld: usize,
}

/// What the process page shows.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessView {
    pub process_log: String,
    pub id_field: String,
    pub linked_at: String,
    pub cases: u64,
    pub cases_linked: u64,
    pub instances: u64,
    pub instances_linked: u64,
    pub k: u64,
    pub activities: Vec<ActivityRow>,
    /// Activities whose desktop work comes from fewer than k people.
    pub withheld: usize,
}

/// One link as `/process/links` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkRow {
    pub case_id: String,
    pub id: String,
    pub activity: String,
    pub routine: String,
    pub gap_min: String,
    pub duration_min: String,
}

fn shown(r: &StoredLink, k: u64, routine: u32) -> Option<&str> {
    r.routine(routine)
        .filter(|x| x.users >= k)
        .map(|x| x.name.as_str())
}

/// The aggregates of a stored report under the server's k.
pub fn view(r: &StoredLink, k: u64) -> ProcessView {
    let rep = &r.report;
    let (kept, withheld): (Vec<_>, Vec<_>) = rep.activities.iter().partition(|a| a.users >= k);
    let activities = kept
        .into_iter()
        .map(|a| {
            let routines: Vec<RoutineCell> = a
                .routines
                .iter()
                .filter_map(|x| {
                    shown(r, k, x.routine).map(|name| RoutineCell {
                        name: name.to_owned(),
                        share: format!("{:.0} %", x.share * 100.0),
                    })
                })
                .collect();
            ActivityRow {
                activity: a.activity.clone(),
                cases: a.cases,
                cases_with_desktop_work: a.cases_with_desktop_work,
                share: format!("{:.1} %", a.share_with_desktop_work * 100.0),
                desktop_minutes_per_case: format!("{:.2}", a.desktop_minutes_per_case),
                hours_saved_per_case: format!("{:.3}", a.hours_saved_per_case),
                routines_withheld: a.routines.len() - routines.len(),
                routines,
            }
        })
        .collect();
    ProcessView {
        process_log: rep.process_log.display().to_string(),
        id_field: rep.id_field.clone(),
        linked_at: uilog::format_ts(r.created_at),
        cases: rep.cases,
        cases_linked: rep.cases_linked,
        instances: rep.instances,
        instances_linked: rep.instances_linked,
        k,
        activities,
        withheld: withheld.len(),
    }
}

/// The links of a stored report whose activity and routine are shown under k, at most `max`;
/// and how many were left out (withheld or beyond `max`).
pub fn link_rows(r: &StoredLink, k: u64, max: usize) -> (Vec<LinkRow>, usize) {
    let open: Vec<&str> = r
        .report
        .activities
        .iter()
        .filter(|a| a.users >= k)
        .map(|a| a.activity.as_str())
        .collect();
    let rows: Vec<LinkRow> = r
        .report
        .links
        .iter()
        .filter(|l| open.contains(&l.activity.as_str()))
        .filter_map(|l| {
            shown(r, k, l.routine).map(|routine| LinkRow {
                case_id: l.case_id.clone(),
                id: l.id.clone(),
                activity: l.activity.clone(),
                routine: routine.to_owned(),
                gap_min: format!("{:.1}", l.gap_s / 60.0),
                duration_min: format!("{:.2}", l.duration_s / 60.0),
            })
        })
        .take(max)
        .collect();
    let left = r.report.links.len() - rows.len();
    (rows, left)
}

/// The latest stored link report of the server's database, on either backend.
async fn latest(st: &AppState) -> Result<Option<StoredLink>, ApiError> {
    let db = st.config().db.clone();
    if st.config().is_postgres() {
        return st
            .with_db(|c| Ok(miner::link::stored::load_latest(c.conn())?))
            .await;
    }
    tokio::task::spawn_blocking(move || -> Result<Option<StoredLink>, ApiError> {
        let conn =
            rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(ApiError::internal)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(ApiError::internal)?;
        miner::link::stored::load_latest((&conn).into()).map_err(ApiError::internal)
    })
    .await
    .map_err(ApiError::internal)?
}

/// `GET /process`.
pub(crate) async fn page(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
) -> Result<Html<String>, ApiError> {
    let k = st.config().privacy.k;
    let found = latest(&st).await?;
    plain_page(&st, "dashboard/process.html", Some(&me), |ctx| {
        ctx.insert("k", &k);
        if let Some(r) = &found {
            ctx.insert("process", &view(r, k));
        }
    })
}

/// `GET /process/links`.
pub(crate) async fn links(
    State(st): State<Arc<AppState>>,
    Extension(me): Extension<Identity>,
) -> Result<Html<String>, ApiError> {
    let k = st.config().privacy.k;
    let found = latest(&st).await?;
    plain_page(&st, "dashboard/process_links.html", Some(&me), |ctx| {
        ctx.insert("k", &k);
        if let Some(r) = &found {
            let (rows, left) = link_rows(r, k, MAX_LINKS);
            ctx.insert("process", &view(r, k));
            ctx.insert("links", &rows);
            ctx.insert("left", &left);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use miner::link::stored::LinkedRoutine;
    use miner::link::{ActivityReport, Link, LinkReport, RoutineShare};

    fn activity(name: &str, users: u64, routines: &[u32]) -> ActivityReport {
        ActivityReport {
            activity: name.into(),
            cases: 10,
            cases_with_desktop_work: 4,
            share_with_desktop_work: 0.4,
            desktop_minutes_per_case: 3.25,
            hours_saved_per_case: 0.0125,
            users,
            routines: routines
                .iter()
                .map(|&routine| RoutineShare {
                    routine,
                    instances: 2,
                    share: 1.0 / routines.len() as f64,
                })
                .collect(),
        }
    }

    fn link(activity: &str, routine: u32, case: &str) -> Link {
        Link {
            routine,
            instance: 0,
            case: 0,
            case_id: case.into(),
            id: "48213".into(),
            activity: activity.into(),
            gap_s: 90.0,
            duration_s: 150.0,
        }
    }

    fn stored() -> StoredLink {
        let routine = |id: u32, users: u64| LinkedRoutine {
            id,
            name: format!("Routine {id}"),
            users,
            hours_saved_per_month: 1.0,
        };
        StoredLink {
            id: 1,
            created_at: 1_795_420_800_000_000,
            run_id: Some(3),
            report: LinkReport {
                process_log: "p2p.csv".into(),
                id_field: "invoice".into(),
                cases: 10,
                cases_linked: 5,
                instances: 12,
                instances_linked: 9,
                links: vec![
                    link("Enter invoice", 1, "c1"),
                    link("Enter invoice", 2, "c2"),
                    link("Approve", 1, "c3"),
                ],
                activities: vec![
                    activity("Enter invoice", 3, &[1, 2]),
                    activity("Approve", 2, &[1]),
                ],
            },
            routines: vec![routine(1, 4), routine(2, 1)],
        }
    }

    #[test]
    fn activities_and_routines_of_fewer_than_k_people_are_withheld() {
        let v = view(&stored(), 3);
        assert_eq!(v.activities.len(), 1);
        assert_eq!(v.withheld, 1);
        let a = &v.activities[0];
        assert_eq!(a.activity, "Enter invoice");
        assert_eq!(
            (a.share.as_str(), a.desktop_minutes_per_case.as_str()),
            ("40.0 %", "3.25")
        );
        assert_eq!(a.hours_saved_per_case, "0.013");
        assert_eq!(a.routines.len(), 1);
        assert_eq!(a.routines[0].name, "Routine 1");
        assert_eq!(a.routines_withheld, 1);

        let (rows, left) = link_rows(&stored(), 3, 10);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].case_id, "c1");
        assert_eq!(rows[0].duration_min, "2.50");
        assert_eq!(left, 2);

        // With k = 1 everything shows; the row cap counts as left out.
        assert_eq!(view(&stored(), 1).activities.len(), 2);
        let (rows, left) = link_rows(&stored(), 1, 2);
        assert_eq!((rows.len(), left), (2, 1));
    }
}
