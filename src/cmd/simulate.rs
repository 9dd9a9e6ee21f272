use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use uilog::simulate::{self, Config};
use uilog::Event;

use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct SimulateArgs {
    /// A YAML file with the simulator's settings (see examples/team-week.yaml); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long)]
    seed: Option<u64>,
    /// How many people are recorded.
    #[arg(long)]
    users: Option<u32>,
    /// How many working days.
    #[arg(long)]
    days: Option<u32>,
    /// How many different routines, from the built-in catalogue.
    #[arg(long)]
    routines: Option<usize>,
    /// Share of noise events (stray clicks, detours), 0.0 to 0.9; the default is 0.05.
    #[arg(long)]
    noise: Option<f64>,
    /// Probability that an instance deviates from its routine's dominant variant.
    #[arg(long)]
    variant_steps: Option<f64>,
    /// Ask for about this many events instead of a number of users.
    #[arg(long)]
    events: Option<u64>,
    #[command(flatten)]
    db: DbArg,
    /// Write the log as taskmine CSV to this file instead of into the database.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the ground truth (routines, and the instance of every event) as JSON to this file.
    #[arg(long)]
    truth: Option<PathBuf>,
    /// Write the process log of the business cases the routines worked on (invoices, tickets,
    /// orders) as process-mining CSV to this file; its identifier column is `object_id`.
    #[arg(long)]
    process_log: Option<PathBuf>,
}

impl SimulateArgs {
    fn config(&self) -> anyhow::Result<Config> {
        let mut cfg = match &self.config {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
                serde_norway::from_str::<Config>(&text)
                    .with_context(|| format!("{}: not a simulator configuration", path.display()))?
            }
            None => Config::default(),
        };
        if let Some(v) = self.seed {
            cfg.seed = v;
        }
        if let Some(v) = self.users {
            cfg.users = v;
        }
        if let Some(v) = self.days {
            cfg.days = v;
        }
        if let Some(v) = self.routines {
            cfg.routines = v;
        }
        if let Some(v) = self.noise {
            cfg.noise = v;
        }
        if let Some(v) = self.variant_steps {
            cfg.variant_steps = v;
        }
        if self.events.is_some() {
            cfg.events_target = self.events;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

pub fn run(args: SimulateArgs, ui: &Ui) -> anyhow::Result<()> {
    let cfg = args.config()?;
    let bar = ui.spinner("simulating");
    // The CSV goes through an in-memory store, so that it is exactly what `taskmine export` writes.
    let mut store = match &args.csv {
        Some(_) => uilog::LogStore::Sqlite(uilog::Store::open_in_memory()?),
        None => args.db.open_log()?,
    };
    let mut truth = None;
    let mut process_log = None;
    store.write_batch(None, "simulator", |sink| -> uilog::Result<()> {
        let emit = |e: &Event| {
            bar.inc(1);
            sink.push(e)
        };
        truth = Some(match &args.process_log {
            None => simulate::simulate(&cfg, emit)?,
            Some(_) => {
                let (truth, log) = simulate::simulate_with_process_log(&cfg, emit)?;
                process_log = Some(log);
                truth
            }
        });
        Ok(())
    })?;
    let truth = truth.expect("the batch ran the simulation");
    if let (Some(path), Some(log)) = (&args.process_log, &process_log) {
        let mut file =
            File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
        let rows = log.write_csv(&mut file)?;
        println!(
            "process log of {} cases ({rows} events) written to {}",
            log.cases.len(),
            path.display()
        );
    }
    if let Some(path) = &args.csv {
        let file =
            File::create(path).with_context(|| format!("{}: cannot create", path.display()))?;
        uilog::export::write_csv(store.reader(), &mut BufWriter::new(file))?;
    }
    bar.finish_and_clear();
    let target = match &args.csv {
        Some(path) => path.display().to_string(),
        None => args.db.shown(),
    };
    println!(
        "simulated {} events ({} routine instances of {} routines, {} noise events) for {} users over {} days into {target}",
        truth.total_events,
        truth.instances.len(),
        truth.routines.len(),
        truth.noise_events,
        cfg.effective_users(),
        cfg.days
    );
    if let Some(path) = &args.truth {
        truth.write(path)?;
        println!("ground truth written to {}", path.display());
    }
    Ok(())
}
