//! `taskmine agent`: the remote recorders a server accepts batches from.

use clap::{Args, Subcommand};

use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct AgentArgs {
    #[command(flatten)]
    db: DbArg,
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
}

pub fn run(args: AgentArgs, _ui: &Ui) -> anyhow::Result<()> {
    let store = args.db.open()?;
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
    }
    Ok(())
}
