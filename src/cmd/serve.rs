//! `taskmine serve`: the ingest API, the read API and the dashboard.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;

use super::DbArg;
use crate::Ui;

/// Serves the ingest API for remote recorders, the read API and the dashboard.
#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    db: DbArg,
    /// The address to listen on. Beyond loopback an admin account is required (`taskmine user add
    /// NAME --role admin`); without any account the dashboard is open, so only loopback is allowed.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Serve without sign-in, on any address: everyone who reaches the port reads everything.
    #[arg(long)]
    insecure_no_auth: bool,
    /// Mark cookies Secure and send HSTS: a TLS proxy in front of the server terminates HTTPS.
    #[arg(long)]
    behind_tls_proxy: bool,
    /// Serve HTTPS (rustls) with this certificate chain (PEM); needs --tls-key.
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM); needs --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The privacy policy in force (YAML); the privacy page shows it and its k (`min_users`).
    #[arg(long)]
    policy: Option<PathBuf>,
    /// A copy of the `templates/` directory to render the dashboard from instead of the built-in pages.
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Where `taskmine bots` wrote its drafts: the replay reports in its subfolders are shown.
    #[arg(long, default_value = "bots")]
    bots: PathBuf,
    /// Seconds a mining result is reused before the store is checked for new batches.
    #[arg(long, default_value_t = 30)]
    remine_after_secs: u64,
    /// Largest request body, in MiB after decompression.
    #[arg(long, default_value_t = 16)]
    max_body_mib: usize,
    /// Most events in one batch.
    #[arg(long, default_value_t = 20_000)]
    max_batch_events: usize,
    /// Sign-in attempts per client address: PER_MINUTE or PER_MINUTE/BURST, or `off`. Over it, 429
    /// with Retry-After. Behind a proxy every client shares the proxy's address.
    #[arg(long, default_value = "10/10")]
    login_rate: String,
    /// Ingest batches per client address: PER_MINUTE or PER_MINUTE/BURST, or `off`.
    #[arg(long, default_value = "600/600")]
    ingest_rate: String,
    /// Also sign in through this OpenID Connect provider (its issuer URL). Its `--oidc-claim` must
    /// name an existing account, whose role applies. An https issuer needs a build with
    /// `--features server/tls`.
    #[arg(long, requires_all = ["oidc_client_id", "oidc_redirect_url"])]
    oidc_issuer: Option<String>,
    #[arg(long)]
    oidc_client_id: Option<String>,
    /// The client secret; better from the environment than the command line.
    #[arg(long, env = "TASKMINE_OIDC_SECRET", hide_env_values = true)]
    oidc_client_secret: Option<String>,
    /// This server's callback as registered with the provider: https://HOST/signin/oidc/callback
    #[arg(long)]
    oidc_redirect_url: Option<String>,
    /// The ID token claim that names the account: preferred_username, email (verified only) or sub.
    #[arg(long, default_value = "preferred_username")]
    oidc_claim: String,
    /// With a PostgreSQL --db: connections that write batches. The server opens three more
    /// (accounts, token look-ups, mining), so the database must allow servers × (pool + 3).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    db_pool: u16,
    /// With a PostgreSQL --db: seconds a statement of the server's may run before PostgreSQL
    /// cancels it and rolls its batch back (the agent sends it again); 0 for no limit. Mining is
    /// not limited.
    #[arg(long, default_value_t = 30)]
    db_statement_timeout: u64,
}

fn rate(flag: &str, value: &str) -> anyhow::Result<Option<server::Rate>> {
    if value == "off" {
        return Ok(None);
    }
    server::Rate::parse(value)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
}

pub fn run(args: ServeArgs, _ui: &Ui) -> anyhow::Result<()> {
    let mut config = server::Config::new(&args.db.db);
    config.db_settings = server::db::DbSettings {
        pool: usize::from(args.db_pool),
        statement_timeout: (args.db_statement_timeout > 0)
            .then(|| std::time::Duration::from_secs(args.db_statement_timeout)),
    };
    config.limits = server::Limits {
        max_body_bytes: args.max_body_mib << 20,
        max_batch_events: args.max_batch_events,
    };
    config.rate = server::RateLimits {
        login: rate("login-rate", &args.login_rate)?,
        ingest: rate("ingest-rate", &args.ingest_rate)?,
    };
    if let Some(issuer) = args.oidc_issuer {
        anyhow::ensure!(
            ["preferred_username", "email", "sub"].contains(&args.oidc_claim.as_str()),
            "--oidc-claim {:?} is none of preferred_username, email, sub",
            args.oidc_claim
        );
        config.oidc = Some(server::OidcConfig {
            issuer,
            client_id: args.oidc_client_id.unwrap_or_default(),
            client_secret: args.oidc_client_secret,
            redirect_url: args.oidc_redirect_url.unwrap_or_default(),
            claim: args.oidc_claim,
        });
    }
    if let Some(policy) = &args.policy {
        config.privacy = server::Privacy::from_file(policy)?;
    }
    config.templates = args.templates;
    config.bots_dir = Some(args.bots);
    config.remine_after = std::time::Duration::from_secs(args.remine_after_secs);
    let users = server::accounts::list(&server::db::Db::open(
        &config.db_str(),
        &config.db_settings.pg("serve"),
    )?)?;
    config.auth = server::AuthMode::for_listening(args.addr, &users, args.insecure_no_auth)
        .map_err(anyhow::Error::msg)?;
    config.secure_cookies = args.behind_tls_proxy;
    config.tls = args.tls_cert.zip(args.tls_key);
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    if config.auth == server::AuthMode::Open {
        eprintln!(
            "warning: no sign-in: anyone who reaches {} reads every page and the API{}",
            args.addr,
            if users.is_empty() {
                " (add an account with `taskmine user add NAME --role admin`)"
            } else {
                ""
            }
        );
    }
    let db = args.db.shown();
    server::run(args.addr, config, |addr| {
        eprintln!("serving {db} on {scheme}://{addr}/ (Ctrl-C stops)");
    })?;
    Ok(())
}
