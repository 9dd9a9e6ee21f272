use std::path::{Path, PathBuf};

use clap::Args;

use super::DbArg;
use crate::Ui;

/// Records desktop work until Ctrl-C or SIGTERM; SIGUSR1 or the policy's hotkey pauses and resumes.
#[derive(Args)]
pub struct RecordArgs {
    #[command(flatten)]
    db: DbArg,
    /// The privacy policy (YAML, see examples/policy.yaml); its key is kept beside it. Default: the
    /// built-in safe policy (text hashed, users pseudonymized), key in ~/.config/taskmine.
    #[arg(long)]
    policy: Option<PathBuf>,
    /// The session name. Default: `record-` and the start time (UTC).
    #[arg(long)]
    session: Option<String>,
    /// Also send the events to a taskmine server (`taskmine serve`), e.g. http://10.0.0.5:8080. They
    /// are written to --db first; while the server is unreachable they wait in a spool beside it.
    #[arg(long, requires = "token", env = "TASKMINE_SERVER")]
    server: Option<String>,
    /// This desktop's agent token (from `taskmine agent add NAME` on the server). Prefer the
    /// environment variable TASKMINE_TOKEN: a value on the command line shows in `ps`.
    #[arg(
        long,
        requires = "server",
        env = "TASKMINE_TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
    /// The spool directory for --server. Default: the database's path with `.spool` appended.
    #[arg(long, requires = "server")]
    spool: Option<PathBuf>,
    /// Print your personal access code to your own page on a taskmine server (`/me/signin`), and
    /// your pseudonym, then exit without recording. The code comes from the policy's key and your
    /// login name; the server only ever gets a verifier of it, sent with your events.
    #[arg(long)]
    access_code: bool,
}

/// What lets the recorded person open their own page on a server: their pseudonym as the log
/// holds it, the code the recorder derives (shown to them only) and its verifier (sent with their
/// events).
pub struct PersonAccess {
    pub pseudonym: String,
    pub code: String,
    pub verifier: String,
}

#[cfg_attr(not(feature = "x11"), allow(dead_code))]
/// The access of the person `login` under the policy at `policy` (the built-in one when `None`),
/// with the same key the recorder pseudonymizes with (created when missing, as recording would).
/// The recorder derives the code; the server's `people` module, which checks it, owns the verifier.
pub fn person_access(policy: Option<&Path>, login: &str) -> anyhow::Result<PersonAccess> {
    let privacy = recorder::Privacy::load(policy)?;
    let pseudonym = privacy.user(login);
    let code = privacy.access_code(login);
    let verifier = server::people::verifier(&pseudonym, &code).ok_or_else(|| {
        anyhow::anyhow!("the recorder's access code {code:?} is not one the server reads")
    })?;
    Ok(PersonAccess {
        pseudonym,
        code,
        verifier,
    })
}

#[cfg(feature = "x11")]
pub fn run(args: RecordArgs, ui: &Ui) -> anyhow::Result<()> {
    use recorder::capture::{record, Controls, RecordConfig};

    let access = person_access(args.policy.as_deref(), &recorder::capture::user_name())?;
    if args.access_code {
        eprintln!(
            "your pseudonym is {}; with this access code you see what was recorded about you, and can ask for its erasure, at /me/signin on the taskmine server your events go to (keep it to yourself):",
            access.pseudonym
        );
        println!("{}", access.code);
        return Ok(());
    }
    let config = RecordConfig {
        db: args.db.db.clone(),
        policy: args.policy,
        session: args.session,
    };
    if args.token.is_some() {
        super::agent::warn_if_token_on_command_line();
    }
    let upload = match (&args.server, &args.token) {
        (Some(server), Some(token)) => Some(upload::start(
            &args.db.db,
            server,
            token,
            args.spool.clone(),
            vec![server::wire::PersonVerifier {
                pseudonym: access.pseudonym.clone(),
                verifier: access.verifier.clone(),
            }],
        )?),
        _ => None,
    };
    eprintln!(
        "to see what is recorded about you{}: `taskmine record --access-code` prints your access code",
        args.server
            .as_deref()
            .map(|s| format!(" (at {}/me/signin)", s.trim_end_matches('/')))
            .unwrap_or_default()
    );
    let controls = Controls::from_signals()?;
    let status = ui.spinner("starting");
    let summary = record(&config, &controls, |s| {
        for n in &s.notices {
            status.suspend(|| eprintln!("{n}"));
        }
        let state = if s.paused { "paused" } else { "recording" };
        let app = if s.app.is_empty() {
            "-"
        } else {
            s.app.as_str()
        };
        status.set_message(format!("{state} (app {app}) · events"));
        status.set_position(s.events);
    });
    status.finish_and_clear();
    if let Some(upload) = upload {
        upload.finish();
    }
    let summary = summary?;
    eprintln!(
        "recorded {} events in session {} into {}{}",
        summary.events,
        summary.session,
        args.db.db.display(),
        if summary.expired > 0 {
            format!(
                " ({} events past the policy's retention deleted)",
                summary.expired
            )
        } else {
            String::new()
        }
    );
    let e = summary.elements;
    eprintln!(
        "UI elements on {} of {} clicks and {} of {} typed runs; lookups took {:.1} ms (p50), {:.1} ms (p95) over {} lookups ({} failed)",
        e.clicks_with_element,
        e.clicks,
        e.runs_with_element,
        e.runs,
        summary.lookups.p50_ms,
        summary.lookups.p95_ms,
        summary.lookups.count,
        summary.lookups.failed
    );
    Ok(())
}

/// Sending what the recorder writes to a server, from a thread of its own, so recording never waits
/// for the network.
#[cfg(feature = "x11")]
mod upload {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::{Duration, Instant};

    use server::client::{Forwarder, UploaderConfig};

    pub struct Upload {
        done: Arc<AtomicBool>,
        thread: JoinHandle<()>,
    }

    /// How often new events are sent, and how long the last round may wait for the server.
    const EVERY: Duration = Duration::from_secs(2);
    const LAST_ROUND: Duration = Duration::from_secs(10);

    pub fn start(
        db: &Path,
        server: &str,
        token: &str,
        spool: Option<PathBuf>,
        access: Vec<server::wire::PersonVerifier>,
    ) -> anyhow::Result<Upload> {
        // Create and migrate the database before the recorder and this thread open it at once (two
        // first-time migrations would race).
        uilog::Store::open(db)?;
        let spool = spool.unwrap_or_else(|| crate::cmd::agent::default_spool(db));
        let mut cfg = UploaderConfig::new(server, token, &spool);
        cfg.access = access;
        let mut fwd = Forwarder::open(db, cfg)?;
        let done = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&done);
        let server = server.to_owned();
        let thread = std::thread::spawn(move || {
            let mut reported = false;
            loop {
                let last = flag.load(Ordering::SeqCst);
                let deadline = Instant::now() + if last { LAST_ROUND } else { EVERY };
                loop {
                    match fwd.sync() {
                        Ok(f) if f.unreachable.is_none() => {
                            reported = false;
                            break;
                        }
                        Ok(f) => {
                            if !reported {
                                tracing::warn!(
                                    "{server} unreachable ({}); events wait in {}",
                                    f.unreachable.unwrap_or_default(),
                                    spool.display()
                                );
                                reported = true;
                            }
                            if !last || Instant::now() >= deadline {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(500));
                        }
                        Err(e) => {
                            tracing::error!("sending to {server}: {e}");
                            break;
                        }
                    }
                }
                if last {
                    let left = fwd.uploader().pending().map(|p| p.len()).unwrap_or(0);
                    if left > 0 {
                        eprintln!(
                            "{left} batches wait in {} for the server; `taskmine agent push` sends them",
                            spool.display()
                        );
                    }
                    return;
                }
                std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            }
        });
        Ok(Upload { done, thread })
    }

    impl Upload {
        /// Sends what is left (waiting up to 10 s for the server) and stops.
        pub fn finish(self) {
            self.done.store(true, Ordering::SeqCst);
            let _ = self.thread.join();
        }
    }
}

#[cfg(not(feature = "x11"))]
pub fn run(_args: RecordArgs, _ui: &Ui) -> anyhow::Result<()> {
    anyhow::bail!("this taskmine was built without the `x11` feature, so it cannot record")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorders_code_signs_in_once_its_verifier_is_kept_and_a_wrong_one_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let policy = dir.path().join("policy.yaml");
        std::fs::write(&policy, "text: hash\n").unwrap();
        let alice = person_access(Some(&policy), "alice").unwrap();
        // The same key (kept beside the policy) gives the same code; the pseudonym is the log's.
        let again = person_access(Some(&policy), "alice").unwrap();
        assert_eq!(alice.code, again.code);
        let privacy = recorder::Privacy::load(Some(&policy)).unwrap();
        assert_eq!(alice.pseudonym, privacy.user("alice"));
        assert_eq!(
            alice.code.chars().filter(|c| *c != '-').count(),
            recorder::privacy::ACCESS_CODE_SYMBOLS
        );
        assert_eq!(
            recorder::privacy::ACCESS_CODE_SYMBOLS,
            server::people::RECORDER_CODE_SYMBOLS
        );
        let bob = person_access(Some(&policy), "bob").unwrap();

        let store = uilog::Store::open_in_memory().unwrap();
        let c = store.connection();
        use server::people::{register_verifier, sign_in, PersonSignIn};
        assert_eq!(sign_in(c, "", &alice.code).unwrap(), PersonSignIn::Wrong);
        register_verifier(c, &alice.pseudonym, &alice.verifier, "desk").unwrap();
        register_verifier(c, &bob.pseudonym, &bob.verifier, "desk").unwrap();
        assert_eq!(
            sign_in(c, "", &alice.code).unwrap(),
            PersonSignIn::Ok {
                pseudonym: alice.pseudonym.clone()
            }
        );
        assert_eq!(
            sign_in(c, "", &bob.code.to_lowercase()).unwrap(),
            PersonSignIn::Ok {
                pseudonym: bob.pseudonym.clone()
            }
        );
        // Bob's code with Alice's pseudonym, and Alice's code under another key, open nothing.
        assert_eq!(
            sign_in(c, &alice.pseudonym, &bob.code).unwrap(),
            PersonSignIn::Wrong
        );
        let other = tempfile::tempdir().unwrap();
        let other_policy = other.path().join("policy.yaml");
        std::fs::write(&other_policy, "text: hash\n").unwrap();
        let elsewhere = person_access(Some(&other_policy), "alice").unwrap();
        assert_ne!(elsewhere.code, alice.code);
        assert_eq!(
            sign_in(c, "", &elsewhere.code).unwrap(),
            PersonSignIn::Wrong
        );
    }
}
