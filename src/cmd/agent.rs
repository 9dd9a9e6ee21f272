//! `taskmine agent`: the remote recorders a server accepts batches from.

use clap::{Args, Subcommand};

use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct AgentArgs {
    /// The UI log database (a SQLite file or a postgres:// URL). Accepted before or after the subcommand
    /// (`taskmine agent add desk-1 --db D` as well as `taskmine agent --db D add desk-1`).
    #[arg(long, default_value = super::DEFAULT_DB, env = "TASKMINE_DB", global = true)]
    db: std::path::PathBuf,
    #[command(subcommand)]
    what: AgentWhat,
}

#[derive(Subcommand)]
enum AgentWhat {
    /// Register an agent and print its token (shown once; only its hash is stored).
    Add { name: String },
    /// List the registered agents.
    List,
    /// Remove an agent; its token stops working. The events it sent stay.
    Remove { name: String },
    /// Send the local UI log (`--db`) to a server: what is new since the last push, and whatever
    /// earlier pushes or `record --server` left in the spool.
    Push(PushArgs),
}

#[derive(Args)]
pub struct PushArgs {
    /// The server's base URL, e.g. http://10.0.0.5:8080.
    #[arg(long, env = "TASKMINE_SERVER")]
    server: String,
    /// The agent's token (from `taskmine agent add` on the server). Prefer the environment
    /// variable TASKMINE_TOKEN: a value on the command line is visible to every user through `ps`.
    #[arg(long, env = "TASKMINE_TOKEN", hide_env_values = true)]
    token: String,
    /// The spool directory. Default: the database's path with `.spool` appended.
    #[arg(long)]
    spool: Option<std::path::PathBuf>,
    /// Give up after this many seconds of the server being unreachable.
    #[arg(long, default_value_t = 60)]
    wait_secs: u64,
    /// The policy the events were recorded under (as given to `record --policy`; the built-in one
    /// when absent): batches carry the verifier of your personal access code derived from it, as
    /// `record --server` sends, so that you can open your own page on the server.
    #[arg(long)]
    policy: Option<std::path::PathBuf>,
}

/// The spool directory beside a database: `taskmine.db` → `taskmine.db.spool`.
pub fn default_spool(db: &std::path::Path) -> std::path::PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".spool");
    s.into()
}

pub fn run(args: AgentArgs, ui: &Ui) -> anyhow::Result<()> {
    if let AgentWhat::Push(push) = args.what {
        return run_push(&args.db, push, ui);
    }
    let arg = DbArg { db: args.db };
    if !arg.is_postgres() {
        arg.open()?;
    }
    let store = server::db::Db::open(&arg.db.to_string_lossy(), &Default::default())?;
    match args.what {
        AgentWhat::Add { name } => {
            let token = server::agents::add(&store, &name)?;
            eprintln!("agent {name} added; its token is shown only now:");
            println!("{token}");
        }
        AgentWhat::List => {
            for a in server::agents::list(&store)? {
                println!("{}\t{}", a.name, uilog::format_ts(a.created_at));
            }
        }
        AgentWhat::Remove { name } => {
            server::agents::remove(&store, &name)?;
            eprintln!("agent {name} removed");
        }
        AgentWhat::Push(_) => unreachable!("handled above"),
    }
    Ok(())
}

/// Warns when a secret came on the command line, where `ps` shows it to every user of the machine.
pub fn warn_if_token_on_command_line() {
    if std::env::args_os().any(|a| a == "--token" || a.to_string_lossy().starts_with("--token=")) {
        eprintln!(
            "warning: --token on the command line is visible to other users (ps); set TASKMINE_TOKEN instead"
        );
    }
}

fn run_push(db: &std::path::Path, args: PushArgs, ui: &Ui) -> anyhow::Result<()> {
    warn_if_token_on_command_line();
    use std::time::{Duration, Instant};

    anyhow::ensure!(db.is_file(), "{}: no such database", db.display());
    let spool = args.spool.unwrap_or_else(|| default_spool(db));
    let mut cfg = server::client::UploaderConfig::new(&args.server, &args.token, &spool);
    // The server keeps a verifier only for a pseudonym that has events in the same batch, so
    // pushing someone else's log sends nothing that lets the pusher into their page.
    let access =
        super::record::person_access(args.policy.as_deref(), &recorder::capture::user_name())?;
    cfg.access = vec![server::wire::PersonVerifier {
        pseudonym: access.pseudonym,
        verifier: access.verifier,
    }];
    let mut fwd = server::client::Forwarder::open(db, cfg)?;
    let spooled = fwd.collect()?;
    let status = ui.spinner("sending");
    let start = Instant::now();
    let mut total = server::client::Flush::default();
    let mut delay = Duration::from_millis(500);
    loop {
        let f = fwd.uploader().flush()?;
        total.batches_sent += f.batches_sent;
        total.events_written += f.events_written;
        total.duplicates += f.duplicates;
        total.rejected.extend(f.rejected);
        total.pending = f.pending;
        status.set_message(format!("sending · {} events written", total.events_written));
        match f.unreachable {
            None => break,
            Some(why) if start.elapsed() + delay > Duration::from_secs(args.wait_secs) => {
                status.finish_and_clear();
                anyhow::bail!(
                    "{} unreachable ({why}); {} batches stay in {} for the next push",
                    args.server,
                    f.pending,
                    spool.display()
                );
            }
            Some(_) => {
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_secs(10));
            }
        }
    }
    status.finish_and_clear();
    eprintln!(
        "spooled {spooled} new events; sent {} batches, {} events written, {} duplicates ignored",
        total.batches_sent, total.events_written, total.duplicates
    );
    for r in &total.rejected {
        eprintln!(
            "refused: {r} (kept in {})",
            spool.join("rejected").display()
        );
    }
    anyhow::ensure!(
        total.rejected.is_empty(),
        "{} batches were refused",
        total.rejected.len()
    );
    Ok(())
}
