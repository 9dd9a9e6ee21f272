//! Prints the miner's accuracy on logs with known routines, one row per seed, and a summary with the
//! targets of issues 10 and 11: `cargo run --release -p miner --example accuracy`.
//!
//! Settings (each with seeds 1 to `SEEDS`, default 10; `SEEDS=6-7` runs seeds 6 and 7):
//! - `default`: the simulator's default team week (10 users × 5 days, 6 routines), clean and with
//!   10 % noise and 10 % variants. `-- [SEEDS] [USERS] [DAYS]` and `ROUTINES=10` change its size.
//! - `captured`: `examples/sim-short-recording.yaml`: one user, one day, 12 instances of one routine
//!   (seed 1 the catalogue's last, seed 2 the one before, …), 3–8 s between instances, elements as
//!   the AT-SPI recorder captures them and 30 % of the apps without any.
//! - `long`: `examples/sim-long-form.yaml`: the 64-step form-filling routine, no pauses between
//!   instances, 10 % noise.
//! - `stream`: `examples/sim-task-stream.yaml`: 4 task types in one stream without pauses.
//! - `web`: `examples/sim-web-paths.yaml`: a stream of web-form tasks whose elements are XPaths with
//!   varying indices, written as a browser-extension recorder's CSV (float coordinates, the truth in
//!   label columns) and imported back with the labels held out, as a real log would be; and the same
//!   logs mined straight from the simulator.
//! - `leno`: `uilog/tests/data/leno-rpm/merged2.csv` (StudentRecord + log1 merged as in the published
//!   benchmark), imported with its `task` and `instance` columns held out as the truth. One run.
//!
//! `ONLY=captured,long` runs only those settings; `VERBOSE=1` lists each run's routines (`STEPS=1`
//! adds their first and last steps); `BOUNDS=1` prints every missed and spurious boundary with the
//! events around it (`t` the true instance, `d` the discovered one, 0 none). `FILES=a.csv,b.csv`
//! adds one run per labelled stream, for example one written by `../shared/tools/merge-stream` (label columns `task` and `instance`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use miner::eval::{evaluate, Evaluation};
use miner::{mine, NoProgress, Options};
use uilog::import::{import_with_truth, TruthLabels};
use uilog::simulate::{
    apps_without_elements, catalogue_len, simulate_into_store, simulate_to_vec, write_recorder_csv,
    Config,
};
use uilog::truth::GroundTruth;
use uilog::{ImportOptions, Store};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The figures one setting collected, for the summary.
struct Setting {
    name: String,
    target: &'static str,
    routine_f1: Vec<f64>,
    boundary_f1: Vec<f64>,
    event_f1: Vec<f64>,
    secs: f64,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A simulator configuration bundled in `examples/`.
fn bundled(file: &str) -> Res<Config> {
    let path = root().join("examples").join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let cfg: Config =
        serde_norway::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(cfg)
}

fn main() -> Res<()> {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse())
        .collect::<Result<_, _>>()?;
    let seeds: std::ops::RangeInclusive<u64> = match std::env::var("SEEDS") {
        Ok(s) => match s.split_once('-') {
            Some((a, b)) => a.parse()?..=b.parse()?,
            None => 1..=s.parse()?,
        },
        Err(_) => 1..=args.first().copied().unwrap_or(10),
    };
    let users = args.get(1).copied().unwrap_or(10) as u32;
    let days = args.get(2).copied().unwrap_or(5) as u32;
    let routines: usize = std::env::var("ROUTINES").map_or(Ok(6), |r| r.parse())?;
    let only = std::env::var("ONLY").ok();
    const SETTINGS: [&str; 6] = ["default", "captured", "long", "stream", "web", "leno"];
    if let Some(bad) = only
        .iter()
        .flat_map(|o| o.split(','))
        .find(|x| !SETTINGS.contains(x))
    {
        return Err(format!("ONLY: unknown setting {bad:?}; the settings are {SETTINGS:?}").into());
    }
    let want = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|x| x == name))
    };
    let verbose = std::env::var_os("VERBOSE").is_some();

    println!("| setting | seed | events | routines found/true | routine P | routine R | routine F1 | boundary P | boundary R | boundary F1 | event-level F1 |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut done: Vec<Setting> = Vec::new();
    let mut run_seeds =
        |name: &str, target: &'static str, cfg_of: &dyn Fn(u64) -> Config| -> Res<()> {
            let start = Instant::now();
            let mut s = Setting {
                name: name.to_owned(),
                target,
                routine_f1: Vec::new(),
                boundary_f1: Vec::new(),
                event_f1: Vec::new(),
                secs: 0.0,
            };
            for seed in seeds.clone() {
                let cfg = cfg_of(seed);
                let mut store = Store::open_in_memory()?;
                let truth = simulate_into_store(&cfg, &mut store)?;
                if verbose && cfg.apps_without_elements > 0.0 {
                    println!(
                        "    apps without elements: {:?}",
                        apps_without_elements(&cfg)?
                    );
                }
                let e = mine_and_score(&store, &truth, name, &seed.to_string(), verbose)?;
                s.routine_f1.push(e.routines.f1);
                s.boundary_f1.push(e.boundaries.f1);
                s.event_f1.push(e.event_tasks.f1);
            }
            s.secs = start.elapsed().as_secs_f64();
            summary_row(&s);
            done.push(s);
            Ok(())
        };

    if want("default") {
        for (name, noise, variants) in [
            ("default, clean", 0.0, 0.0),
            ("default, 10% noise, 10% variants", 0.1, 0.1),
        ] {
            let cfg_of = |seed| Config {
                seed,
                users,
                days,
                noise,
                variant_steps: variants,
                routines,
                ..Config::default()
            };
            let target = if noise == 0.0 {
                "routine 1.000, boundary ≥ 0.96"
            } else {
                "—"
            };
            run_seeds(name, target, &cfg_of)?;
        }
    }
    if want("captured") {
        let base = bundled("sim-short-recording.yaml")?;
        let n = catalogue_len() as u64;
        let cfg_of = |seed: u64| Config {
            seed,
            // One routine per log, a different one per seed, from the last of the catalogue (issue
            // 10's form typed from a terminal list, then the 64-step form) down.
            routine_ids: vec![(n - (seed - 1) % n) as u32],
            ..base.clone()
        };
        run_seeds(
            "captured: 12 instances, 1 user, AT-SPI elements, 30% apps without",
            "routine ≥ 0.95, boundary ≥ 0.90",
            &cfg_of,
        )?;
    }
    if want("long") {
        let base = bundled("sim-long-form.yaml")?;
        let cfg_of = |seed| Config {
            seed,
            ..base.clone()
        };
        run_seeds(
            "long: 64-step routine, no pauses, 10% noise",
            "routine ≥ 0.95, boundary ≥ 0.90",
            &cfg_of,
        )?;
    }
    if want("stream") {
        let base = bundled("sim-task-stream.yaml")?;
        let cfg_of = |seed| Config {
            seed,
            ..base.clone()
        };
        run_seeds(
            "stream: 4 task types, no pauses",
            "event-level ≥ 0.98",
            &cfg_of,
        )?;
    }
    if want("web") {
        // The same logs straight from the simulator, to tell what the recorder's CSV loses from
        // what the XPaths and the stream cost.
        let base = bundled("sim-web-paths.yaml")?;
        let cfg_of = |seed| Config {
            seed,
            ..base.clone()
        };
        run_seeds("web: the same logs, not through the CSV", "—", &cfg_of)?;
    }
    if want("web") {
        let base = bundled("sim-web-paths.yaml")?;
        let start = Instant::now();
        let mut s = Setting {
            name: "web: recorder CSV, XPaths with varying indices, no pauses".into(),
            target: "—",
            routine_f1: Vec::new(),
            boundary_f1: Vec::new(),
            event_f1: Vec::new(),
            secs: 0.0,
        };
        let dir = tempfile::tempdir()?;
        for seed in seeds.clone() {
            let cfg = Config {
                seed,
                ..base.clone()
            };
            let (events, truth) = simulate_to_vec(&cfg)?;
            let path = dir.path().join(format!("web-recorder-{seed}.csv"));
            let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
            write_recorder_csv(&events, &truth, &mut file, &path)?;
            drop(file);
            let mut store = Store::open_in_memory()?;
            let (_, truth) = import_with_truth(
                &mut store,
                &path,
                &ImportOptions::default(),
                &leno_labels(),
                &mut |_| {},
            )?;
            let e = mine_and_score(&store, &truth, "web", &seed.to_string(), verbose)?;
            s.routine_f1.push(e.routines.f1);
            s.boundary_f1.push(e.boundaries.f1);
            s.event_f1.push(e.event_tasks.f1);
        }
        s.secs = start.elapsed().as_secs_f64();
        summary_row(&s);
        done.push(s);
    }
    if want("leno") {
        let start = Instant::now();
        let path = root().join("uilog/tests/data/leno-rpm/merged2.csv");
        let mut store = Store::open_in_memory()?;
        let imported = import_with_truth(
            &mut store,
            &path,
            &ImportOptions::default(),
            &leno_labels(),
            &mut |_| {},
        );
        let name = "leno: merged2.csv (StudentRecord + log1)";
        let target = "event-level ≥ 0.99, boundary ≥ 0.95, routine 1.0";
        let s = match imported {
            Ok((_, truth)) => {
                let e = mine_and_score(&store, &truth, "leno merged2.csv", "—", verbose)?;
                Setting {
                    name: name.into(),
                    target,
                    routine_f1: vec![e.routines.f1],
                    boundary_f1: vec![e.boundaries.f1],
                    event_f1: vec![e.event_tasks.f1],
                    secs: start.elapsed().as_secs_f64(),
                }
            }
            Err(err) => {
                // The other settings' figures are still worth printing.
                println!("| leno merged2.csv | — | import failed: {err} | | | | | | | | |");
                Setting {
                    name: format!("{name}: import failed"),
                    target,
                    routine_f1: Vec::new(),
                    boundary_f1: Vec::new(),
                    event_f1: Vec::new(),
                    secs: start.elapsed().as_secs_f64(),
                }
            }
        };
        summary_row(&s);
        done.push(s);
    }

    for file in std::env::var("FILES")
        .ok()
        .iter()
        .flat_map(|f| f.split(','))
        .filter(|f| !f.is_empty())
    {
        let start = Instant::now();
        let mut store = Store::open_in_memory()?;
        let (_, truth) = import_with_truth(
            &mut store,
            Path::new(file),
            &ImportOptions::default(),
            &leno_labels(),
            &mut |_| {},
        )?;
        let e = mine_and_score(&store, &truth, file, "—", verbose)?;
        let s = Setting {
            name: file.to_owned(),
            target: "—",
            routine_f1: vec![e.routines.f1],
            boundary_f1: vec![e.boundaries.f1],
            event_f1: vec![e.event_tasks.f1],
            secs: start.elapsed().as_secs_f64(),
        };
        done.push(s);
    }

    println!();
    println!("| setting | runs | routine F1 mean (min) | boundary F1 mean (min) | event-level F1 mean (min) | target | time |");
    println!("|---|---|---|---|---|---|---|");
    for s in &done {
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} s |",
            s.name,
            s.routine_f1.len(),
            mean_min(&s.routine_f1),
            mean_min(&s.boundary_f1),
            mean_min(&s.event_f1),
            s.target,
            s.secs
        );
    }
    Ok(())
}

/// The label columns of the merged public logs (and of the simulator's recorder CSV): `task` and
/// `instance`, in a stream whose row order is the instances' order.
fn leno_labels() -> TruthLabels {
    TruthLabels {
        case: "instance".into(),
        routine: Some("task".into()),
        stream: true,
    }
}

/// Mines the store, scores it against the truth and prints the row.
fn mine_and_score(
    store: &Store,
    truth: &GroundTruth,
    name: &str,
    seed: &str,
    verbose: bool,
) -> Res<Evaluation> {
    let (log, m) = mine(store, &Options::default(), &mut NoProgress)?;
    let e = evaluate(&log, &m, truth);
    println!(
        "| {name} | {seed} | {} | {}/{} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
        m.summary.events,
        e.routines.found,
        e.routines.truth,
        e.routines.precision,
        e.routines.recall,
        e.routines.f1,
        e.boundaries.precision,
        e.boundaries.recall,
        e.boundaries.f1,
        e.event_tasks.f1,
    );
    if std::env::var_os("BOUNDS").is_some() {
        print_boundary_errors(&log, &m, truth);
    }
    if verbose {
        for r in &m.routines {
            let matched = e.matches.iter().find(|x| x.discovered == r.id);
            println!(
                "    #{} steps {} inst {} var {} -> {:?}",
                r.id,
                r.steps.len(),
                r.instances.len(),
                r.variants.len(),
                matched.map(|x| (x.truth, x.jaccard))
            );
            if std::env::var_os("STEPS").is_some() {
                let n = r.labels.len();
                println!("      first {:?}", &r.labels[..n.min(2)]);
                println!("      last {:?}", &r.labels[n.saturating_sub(2)..]);
            }
        }
    }
    Ok(e)
}

/// Prints each missed and spurious boundary with the events around it (`BOUNDS=1`): where the
/// boundary errors come from.
fn print_boundary_errors(log: &miner::Log, m: &miner::Mining, truth: &GroundTruth) {
    use std::collections::{BTreeSet, HashMap};
    let mut sid: HashMap<(&str, &str), u32> = HashMap::new();
    for (id, s) in log.dict.sessions.iter().enumerate() {
        let user = log
            .dict
            .users
            .get(s.user as usize)
            .map_or("", |u| u.as_str());
        sid.insert((s.name.as_str(), user), id as u32);
    }
    let at: HashMap<(u32, i64), usize> = log
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| ((e.session, e.ts), i))
        .collect();
    let n = log.events.len();
    let mut t_inst = vec![0u32; n];
    let mut t_b: BTreeSet<(usize, bool)> = BTreeSet::new();
    for (k, inst) in truth.instances.iter().enumerate() {
        let s = sid
            .get(&(inst.session.as_str(), inst.user.as_str()))
            .copied();
        let idx: Vec<usize> = inst
            .events
            .iter()
            .filter_map(|&ts| s.and_then(|s| at.get(&(s, ts)).copied()))
            .collect();
        for &i in &idx {
            t_inst[i] = k as u32 + 1;
        }
        if let (Some(&a), Some(&b)) = (idx.first(), idx.last()) {
            t_b.insert((a, false));
            t_b.insert((b, true));
        }
    }
    let mut d_inst = vec![0u32; n];
    let mut d_b: BTreeSet<(usize, bool)> = BTreeSet::new();
    let mut k = 0u32;
    for r in &m.routines {
        for inst in &r.instances {
            k += 1;
            let (a, b) = (inst.span.0 as usize, inst.span.1 as usize);
            for d in &mut d_inst[a..=b] {
                *d = k;
            }
            d_b.insert((a, false));
            d_b.insert((b, true));
        }
    }
    let show = |i: usize, what: &str| {
        println!("    -- {what} at event {i}");
        for j in i.saturating_sub(3)..(i + 4).min(n) {
            let e = &log.events[j];
            println!(
                "      {}{:5} t{:<4} d{:<4} {}",
                if j == i { '>' } else { ' ' },
                j,
                t_inst[j],
                d_inst[j],
                log.actions[e.action as usize].label()
            );
        }
    };
    for b in t_b.difference(&d_b) {
        show(b.0, if b.1 { "missed end" } else { "missed start" });
    }
    for b in d_b.difference(&t_b) {
        show(
            b.0,
            if b.1 {
                "spurious end"
            } else {
                "spurious start"
            },
        );
    }
}

fn summary_row(s: &Setting) {
    println!(
        "| **{}: mean (min)** | | | | | | **{}** | | | **{}** | **{}** |",
        s.name,
        mean_min(&s.routine_f1),
        mean_min(&s.boundary_f1),
        mean_min(&s.event_f1)
    );
}

fn mean_min(v: &[f64]) -> String {
    if v.is_empty() {
        return "—".into();
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    format!("{mean:.3} ({min:.3})")
}
