//! `taskmine user`: the accounts that may read a server's dashboard and read API.

use clap::{Args, Subcommand};

use super::DbArg;
use crate::Ui;

#[derive(Args)]
pub struct UserArgs {
    /// The UI log database the server uses (a SQLite file or a postgres:// URL). Accepted before or after the subcommand.
    #[arg(long, default_value = super::DEFAULT_DB, env = "TASKMINE_DB", global = true)]
    db: std::path::PathBuf,
    #[command(subcommand)]
    what: UserWhat,
}

#[derive(Subcommand)]
enum UserWhat {
    /// Add an account. The password is read from TASKMINE_PASSWORD or asked for (twice, no echo).
    Add {
        name: String,
        /// viewer: aggregates; analyst: also routine details, bots, exports; admin: also the audit
        /// trail and the accounts.
        #[arg(long)]
        role: String,
    },
    /// List the accounts.
    List,
    /// Remove an account; its sessions and API token stop working at once.
    Remove { name: String },
    /// Make a new API token for an account (the old one stops working) and print it, once.
    Token { name: String },
    /// Issue a recorded person an access code for their own page (`/me/signin` on the server) and
    /// print it, once; an earlier code stops working. For logs that came in without a recorder
    /// (imports): a person whose recorder sends events has a code already, printed by
    /// `taskmine record --access-code`, of which the server only ever holds a verifier.
    PersonCode {
        /// The person's pseudonym as the log holds it.
        pseudonym: String,
    },
}

pub fn run(args: UserArgs, _ui: &Ui) -> anyhow::Result<()> {
    let arg = DbArg { db: args.db };
    if let UserWhat::PersonCode { pseudonym } = &args.what {
        return person_code(&arg, pseudonym);
    }
    let db = server::db::Db::open(&arg.db.to_string_lossy(), &Default::default())?;
    let c = &db;
    match args.what {
        UserWhat::Add { name, role } => {
            let role: server::accounts::Role = role.parse()?;
            let password = server::accounts::read_new_password()?;
            server::accounts::add(c, &name, role, &password)?;
            eprintln!("account {name} ({role}) added");
        }
        UserWhat::List => {
            for u in server::accounts::list(c)? {
                let token = if u.has_api_token { "api-token" } else { "-" };
                println!(
                    "{}\t{}\t{token}\t{}",
                    u.name,
                    u.role,
                    uilog::format_ts(u.created_at)
                );
            }
        }
        UserWhat::Remove { name } => {
            server::accounts::remove(c, &name)?;
            eprintln!("account {name} removed");
        }
        UserWhat::Token { name } => {
            let token = server::accounts::new_api_token(c, &name)?;
            eprintln!(
                "API token of {name}, shown only now (send it as `Authorization: Bearer ...`):"
            );
            println!("{token}");
        }
        UserWhat::PersonCode { .. } => unreachable!("handled above"),
    }
    Ok(())
}

/// Issues a person access code, kept in the log's database (a SQLite file or PostgreSQL).
fn person_code(arg: &DbArg, pseudonym: &str) -> anyhow::Result<()> {
    use uilog::LogRead;
    let log = arg.open_log_existing()?;
    if !log.dictionary()?.users.iter().any(|u| u == pseudonym) {
        anyhow::bail!(
            "{}: no recorded person with pseudonym {pseudonym:?}",
            arg.shown()
        );
    }
    let db = server::db::Db::open(&arg.db.to_string_lossy(), &Default::default())?;
    let code = server::people::issue_code(&db, pseudonym)?;
    server::audit::append(
        &db,
        &server::audit::cli_actor(),
        "person.code",
        &server::erasure::person_ref(pseudonym),
        "local",
    )?;
    eprintln!(
        "access code of {pseudonym}, shown only now (they sign in at /me/signin with their pseudonym and this code):"
    );
    println!("{code}");
    Ok(())
}
