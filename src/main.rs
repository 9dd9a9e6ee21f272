//! The `taskmine` command line: a thin layer that parses arguments and calls the crates.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;
pub(crate) mod ui;

pub use ui::Ui;

#[derive(Parser)]
#[command(
    name = "taskmine",
    version,
    about = "Record desktop work, mine its routines, draft and replay bots"
)]
struct Cli {
    /// Show no progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import a UI log (taskmine CSV, Action Logger/SmartRPA CSV, process-mining CSV, XES, JSONL).
    Import(cmd::import::ImportArgs),
    /// Export the UI log as CSV, JSONL or XES, or routine instances as OCEL 2.0 (JSON, SQLite).
    Export(cmd::export::ExportArgs),
    /// Simulate a team doing routine desktop work, with the ground truth of what they did.
    Simulate(cmd::simulate::SimulateArgs),
    /// Print what the UI log holds: events, users, apps, time span, events per kind.
    Stats(cmd::stats::StatsArgs),
    /// Record desktop work (X11) into the UI log, with the privacy policy applied before disk.
    Record(cmd::record::RecordArgs),
    /// Check what this desktop gives the recorder: X11 (RECORD, XTEST), the accessibility bus, and
    /// which apps expose UI elements, with the fix for those that do not.
    Doctor(cmd::doctor::DoctorArgs),
    /// Serve the ingest API for remote recorders, the read API and the dashboard.
    Serve(cmd::serve::ServeArgs),
    /// Manage the agents (remote recorders) a server accepts: add (prints a token), list, remove.
    Agent(cmd::agent::AgentArgs),
    /// Manage the accounts that may read a server's dashboard and API: add, list, remove, token.
    User(cmd::user::UserArgs),
    /// Erase one recorded person: their events and every title, element and value only they used.
    Erase(cmd::erase::EraseArgs),
    /// Print the server's audit trail (sign-ins, reads of routine details, downloads, changes).
    Audit(cmd::audit::AuditArgs),
    /// Mine the UI log into ranked automation candidates (routines with their evidence), and keep them.
    Mine(cmd::mine::MineArgs),
    /// Give a routine of the latest stored result a name of your own, which `mine` and the
    /// dashboard show from then on.
    Name(cmd::name::NameArgs),
    /// Print the task graph (actions and transitions) of the log or of one routine, as DOT or JSON.
    Graph(cmd::graph::GraphArgs),
    /// Link routine instances to the cases of a process-mining log (CSV, XES, OCEL 2.0) by the
    /// identifiers they share and by time: desktop minutes, share and hours saved per activity.
    Link(cmd::link::LinkArgs),
    /// Score mining against a ground truth: precision, recall and F1 of routines and segment boundaries.
    Eval(cmd::eval::EvalArgs),
    /// Copy a UI log between databases (SQLite file ⇄ PostgreSQL), resumable and idempotent.
    Copy(cmd::copy::CopyArgs),
    /// Measure speed and size: `taskmine bench store`.
    Bench(cmd::bench::BenchArgs),
    /// Draft bots for the top candidates: YAML, Robot Framework, Python, and a parameter file.
    Bots(cmd::bots::BotsArgs),
    /// Replay a bot once per parameter row and report whether each run did what the routine does.
    Replay(cmd::replay::ReplayArgs),
    /// Read the text in stored screen snapshots (Tesseract), naming element-less events by it.
    Ocr(cmd::ocr::OcrArgs),
    /// Write a process definition document of one routine: HTML with snapshots, and PDF.
    Pdd(cmd::pdd::PddArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TASKMINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,enigo=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let ui = Ui::new(cli.quiet);
    let result = match cli.command {
        Command::Import(args) => cmd::import::run(args, &ui),
        Command::Export(args) => cmd::export::run(args, &ui),
        Command::Simulate(args) => cmd::simulate::run(args, &ui),
        Command::Stats(args) => cmd::stats::run(args, &ui),
        Command::Record(args) => cmd::record::run(args, &ui),
        Command::Doctor(args) => cmd::doctor::run(args, &ui),
        Command::Serve(args) => cmd::serve::run(args, &ui),
        Command::Agent(args) => cmd::agent::run(args, &ui),
        Command::User(args) => cmd::user::run(args, &ui),
        Command::Audit(args) => cmd::audit::run(args, &ui),
        Command::Erase(args) => cmd::erase::run(args, &ui),
        Command::Copy(args) => cmd::copy::run(args, &ui),
        Command::Bench(args) => cmd::bench::run(args, &ui),
        Command::Mine(args) => cmd::mine::run(args, &ui),
        Command::Name(args) => cmd::name::run(args, &ui),
        Command::Graph(args) => cmd::graph::run(args, &ui),
        Command::Eval(args) => cmd::eval::run(args, &ui),
        Command::Link(args) => cmd::link::run(args, &ui),
        Command::Bots(args) => cmd::bots::run(args, &ui),
        Command::Replay(args) => cmd::replay::run(args, &ui),
        Command::Ocr(args) => cmd::ocr::run(args, &ui),
        Command::Pdd(args) => cmd::pdd::run(args, &ui),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // `taskmine export | head` closing the pipe early is not a failure.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, with the causes after colons: the user needs what went wrong and where.
            eprintln!("taskmine: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
