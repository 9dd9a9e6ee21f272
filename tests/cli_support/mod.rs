//! What the CLI tests share: running the `taskmine` binary as a user would, and a `taskmine serve`
//! on a free loopback port. One copy, declared by each test file as `mod cli_support;`.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `taskmine ARGS --quiet` with no `TASKMINE_DB` from the caller's environment.
pub fn taskmine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskmine"))
        .args(args)
        .arg("--quiet")
        .env_remove("TASKMINE_DB")
        .output()
        .expect("taskmine runs")
}

/// Runs `taskmine ARGS`, asserts that it succeeded and returns its standard output.
pub fn ok(args: &[&str]) -> String {
    let out = taskmine(args);
    assert!(
        out.status.success(),
        "taskmine {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// Runs `taskmine ARGS`, asserts that it succeeded and returns its standard output and error (for
/// the commands whose stderr says something a test checks).
pub fn ok_with_stderr(args: &[&str]) -> (String, String) {
    let out = taskmine(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "taskmine {args:?} failed: {err}");
    (String::from_utf8(out.stdout).expect("UTF-8 output"), err)
}

/// Runs `taskmine ARGS`, asserts that it failed and returns its standard error.
pub fn fails(args: &[&str]) -> String {
    let out = taskmine(args);
    assert!(!out.status.success(), "taskmine {args:?} succeeded");
    String::from_utf8(out.stderr).expect("UTF-8 output")
}

pub fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temp path")
}

/// `taskmine serve` on a free loopback port, stopped (by its own handle) when dropped.
pub struct Served {
    child: std::process::Child,
    pub addr: String,
}

impl Served {
    pub fn start(db: &Path) -> Served {
        use std::io::BufRead;
        let mut child = Command::new(env!("CARGO_BIN_EXE_taskmine"))
            .args(["serve", "--db", p(db), "--addr", "127.0.0.1:0"])
            .env_remove("TASKMINE_DB")
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("taskmine serve starts");
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let addr = loop {
            let line = lines.next().expect("serve said where it listens").unwrap();
            if let Some(rest) = line.split("http://").nth(1) {
                break rest.split('/').next().unwrap().to_owned();
            }
        };
        // The rest of its output is not read; a thread keeps the pipe from filling.
        std::thread::spawn(move || lines.for_each(drop));
        Served { child, addr }
    }

    /// GET over a plain HTTP/1.1 connection: (status, Location, body).
    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, String, String) {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{auth}\r\n",
            self.addr
        )
        .unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let location = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .starts_with("location:")
                    .then(|| l[9..].trim().to_owned())
            })
            .unwrap_or_default();
        (status, location, body.to_owned())
    }

    /// Stops the server and waits for it, so that its database is closed.
    pub fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
