//! A real PostgreSQL server for tests: `initdb` into a temporary directory, `pg_ctl start` on a
//! free loopback port (and a unix socket in the same directory), password authentication for
//! the superuser `taskmine`. Started once per test binary, shared by its tests (each takes a
//! database of its own), stopped and removed when the binary exits. As root (CI, this machine)
//! the server runs as the `postgres` user, since PostgreSQL refuses to run as root.
//!
//! A machine without PostgreSQL fails the tests that need it, saying how to install it.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

pub const USER: &str = "taskmine";
pub const PASSWORD: &str = "s3cret-pw";

pub struct Server {
    dir: PathBuf,
    bin: PathBuf,
    pub port: u16,
    run_as: Option<String>,
}

static SERVER: OnceLock<Server> = OnceLock::new();
/// The directory and tools of the running server, for the exit handler.
static STOP: Mutex<Option<(PathBuf, PathBuf, Option<String>)>> = Mutex::new(None);
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

extern "C" {
    fn atexit(callback: extern "C" fn()) -> i32;
}

extern "C" fn stop_at_exit() {
    if let Some((dir, bin, run_as)) = STOP.lock().ok().and_then(|mut s| s.take()) {
        stop(&dir, &bin, run_as.as_deref());
    }
}

fn stop(dir: &Path, bin: &Path, run_as: Option<&str>) {
    let data = dir.join("data");
    let _ = command(bin, "pg_ctl", run_as, dir)
        .args(["-D"])
        .arg(&data)
        .args(["-m", "immediate", "-w", "stop"])
        .output();
    let _ = std::fs::remove_dir_all(dir);
}

/// Where `initdb` and `pg_ctl` are: the newest /usr/lib/postgresql/<version>/bin, else `pg_config
/// --bindir`.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    if let Some((_, bin)) = found.pop() {
        return Some(bin);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let bin = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    bin.join("initdb").exists().then_some(bin)
}

fn command(bin: &Path, tool: &str, run_as: Option<&str>, cwd: &Path) -> Command {
    let mut c = match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(bin.join(tool));
            c
        }
        None => Command::new(bin.join(tool)),
    };
    c.current_dir(cwd);
    c
}

fn run(mut c: Command, what: &str) {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn start() -> Server {
    let bin = find_bin().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or from pg_config): \
             `apt-get install postgresql` (scripts/setup.sh installs it)"
        )
    });
    let root = is_root();
    let run_as = root.then(|| "postgres".to_owned());
    let dir = tempfile::Builder::new()
        .prefix("taskmine-pg-")
        .tempdir()
        .expect("temporary directory")
        .keep();
    if root {
        let ids = |flag: &str| -> u32 {
            let out = Command::new("id")
                .args([flag, "postgres"])
                .output()
                .expect("id postgres");
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse()
                .unwrap_or_else(|_| {
                    panic!("running as root needs the `postgres` user (apt-get install postgresql)")
                })
        };
        std::os::unix::fs::chown(&dir, Some(ids("-u")), Some(ids("-g"))).expect("chown");
    }
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, PASSWORD).unwrap();
    if root {
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&pwfile)
            .status();
    }
    let data = dir.join("data");
    let mut initdb = command(&bin, "initdb", run_as.as_deref(), &dir);
    initdb
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            USER,
            "--auth=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
            "-N",
        ])
        .arg(format!("--pwfile={}", pwfile.display()));
    run(initdb, "initdb");
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut ctl = command(&bin, "pg_ctl", run_as.as_deref(), &dir);
    ctl.arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("server.log"))
        .args(["-w", "-t", "60", "-o"])
        .arg(format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            dir.display()
        ))
        .arg("start");
    // Registered before the start, so that a start that half worked is cleaned up too.
    *STOP.lock().unwrap() = Some((dir.clone(), bin.clone(), run_as.clone()));
    unsafe {
        atexit(stop_at_exit);
    }
    run(ctl, "pg_ctl start");
    Server {
        dir,
        bin,
        port,
        run_as,
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The shared server, started on first use.
pub fn server() -> &'static Server {
    SERVER.get_or_init(start)
}

impl Server {
    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{db}", self.port)
    }

    /// A new, empty database; its URL. Created with the server's own `psql`, so that this file
    /// needs no client crate (the CLI tests share it).
    pub fn fresh_db(&self, name: &str) -> String {
        let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
        let db = format!("{name}_{n}");
        let mut psql = Command::new(self.bin.join("psql"));
        psql.args([
            "-h",
            "127.0.0.1",
            "-U",
            USER,
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
        ])
        .arg("-p")
        .arg(self.port.to_string())
        .arg("-c")
        .arg(format!("CREATE DATABASE {db}"))
        .env("PGPASSWORD", PASSWORD);
        run(psql, "psql CREATE DATABASE");
        self.url(&db)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
