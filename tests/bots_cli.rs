//! Issue 5's acceptance test through the `taskmine` binary: a scripted user performs a routine in
//! real X applications (Xvfb, openbox, xterm) while `taskmine record` records it; `taskmine mine`
//! finds it as the top candidate, `taskmine bots` drafts its bot, and `taskmine replay` runs the
//! bot with new values, records the replay and validates it. The scripted user is the one of
//! codegen/tests/x11.rs (`record_mine_draft_replay_and_validate_end_to_end`), which drives the same
//! stages through the libraries.

#[path = "../recorder/tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use codegen::bot::{Bot, PostCondition};
use codegen::validate::TraceRecorder;
use enigo::Key;
use support::Desktop;

fn taskmine() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskmine"));
    cmd.arg("--quiet").env_remove("TASKMINE_DB");
    cmd
}

/// Runs a finished command and returns its stdout, failing with its stderr when it did not exit 0.
fn ok(cmd: &mut Command) -> String {
    let out: Output = cmd.output().expect("taskmine runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The one folder `taskmine bots --top 1` wrote into `out`.
fn only_bot_dir(out: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(out)
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(
        dirs.len(),
        1,
        "one bot folder in {}: {dirs:?}",
        out.display()
    );
    dirs.into_iter().next().unwrap()
}

#[test]
fn record_mine_bots_and_replay_through_the_cli() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let mut desk = Desktop::start();
    desk.xterm("ledger", "60x10+20+20", &[]);
    desk.xterm("notes", "40x8+700+20", &[]);
    let sh = desk.shell("shell", "80x15+20+300", &work);
    desk.activate(&sh);

    // Plain text keeps the typed numbers as samples of the bot's input. Everything else is the
    // default policy, and `taskmine bots` mines with default options: the task boundaries are the
    // ones the miner learns from the log, as they would be for a user.
    let policy = dir.path().join("policy.yaml");
    std::fs::write(&policy, "text: plain\n").unwrap();
    let db = dir.path().join("user.db");
    let mut record = desk.cmd(env!("CARGO_BIN_EXE_taskmine"));
    record
        .arg("--quiet")
        .arg("record")
        .arg("--db")
        .arg(&db)
        .arg("--policy")
        .arg(&policy)
        .args(["--session", "user"])
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join(".config"));
    // Waits until the recorder captures; `stop` sends SIGTERM and fails unless it exits with 0.
    let mut rec = TraceRecorder::start(record, &db).expect("taskmine record starts");

    // The scripted user: look the number up in the ledger, then write it to a file from the
    // shell; six times, with different numbers and pauses, and a detour to the notes once.
    let numbers = ["4711", "815", "1234", "99", "5150", "2020"];
    for (i, n) in numbers.iter().enumerate() {
        desk.click(150, 80);
        std::thread::sleep(Duration::from_millis(100 + 150 * (i as u64 % 3)));
        if i == 2 {
            desk.click(800, 60);
        }
        desk.click(150, 380);
        desk.type_text(&format!("echo {n} > out-{n}.txt"));
        desk.key(Key::Return);
        std::thread::sleep(Duration::from_millis(2_600 + 300 * (i as u64 % 2)));
    }
    let recorded = rec.stop().expect("taskmine record stops on SIGTERM with 0");
    assert!(
        policy.with_extension("key").exists(),
        "the policy's key is created beside it"
    );
    for n in numbers {
        let got = std::fs::read_to_string(work.join(format!("out-{n}.txt"))).unwrap_or_default();
        assert_eq!(got.trim(), n, "the user's own run wrote its file");
    }
    assert!(
        recorded.len() >= 6 * 6,
        "{} events recorded",
        recorded.len()
    );
    let user_s = started.elapsed().as_secs_f64();

    // Mine: the routine is the top candidate, found in (nearly) every one of the six tasks.
    let mined = ok(taskmine()
        .arg("mine")
        .arg("--db")
        .arg(&db)
        .args(["--json", "--top", "3"]));
    let mining: serde_json::Value = serde_json::from_str(&mined).expect("mine --json is JSON");
    let top = &mining["routines"][0];
    let labels: Vec<&str> = top["labels"]
        .as_array()
        .unwrap_or_else(|| panic!("no routine found: {mined}"))
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        labels.iter().any(|l| l.starts_with("type xterm \"shell\""))
            && labels
                .iter()
                .any(|l| l.starts_with("click xterm \"ledger\"")),
        "the top candidate is the routine: {labels:#?}"
    );
    let instances = top["score"]["instances"].as_u64().unwrap();
    assert!(instances >= 5, "{instances} instances: {}", top["score"]);

    // Draft its bot.
    let bots = dir.path().join("bots");
    let said = ok(taskmine()
        .arg("bots")
        .arg("--db")
        .arg(&db)
        .args(["--top", "1", "--out"])
        .arg(&bots));
    let bot_dir = only_bot_dir(&bots);
    let bot_path = bot_dir.join("bot.yaml");
    assert!(
        said.contains(&bot_dir.display().to_string()),
        "bots names its folder: {said}"
    );
    let mut bot = Bot::load(&bot_path).unwrap_or_else(|e| panic!("{}: {e}", bot_path.display()));
    let yaml = bot.to_yaml().unwrap();
    assert_eq!(
        bot.inputs.len(),
        1,
        "the number is the bot's input:\n{yaml}"
    );
    let input = bot.inputs[0].name.clone();
    assert!(
        bot.inputs[0].samples.iter().any(|s| s == "4711"),
        "the recorded numbers are its samples:\n{yaml}"
    );
    let typed = bot
        .steps
        .iter()
        .find_map(|s| s.text.as_deref())
        .unwrap_or_else(|| panic!("the bot types something:\n{yaml}"));
    assert_eq!(
        typed,
        format!("echo {{{{ {input} }}}} > out-{{{{ {input} }}}}.txt"),
        "{yaml}"
    );

    // The developer declares what the bot must produce, then gives it new values in the columns
    // of the parameter file `bots` wrote.
    bot.postconditions.push(PostCondition::File {
        path: format!("{}/out-{{{{ {input} }}}}.txt", work.display()),
        content: Some(format!("{{{{ {input} }}}}")),
        timeout_ms: 3_000,
    });
    std::fs::write(&bot_path, bot.to_yaml().unwrap()).unwrap();
    let drafted_params = std::fs::read_to_string(bot_dir.join("params.csv")).unwrap();
    let header = drafted_params.lines().next().unwrap_or_default();
    assert_eq!(header, input, "params.csv has a column per input");
    let params = dir.path().join("new.csv");
    std::fs::write(&params, format!("{header}\n31337\n2718\n")).unwrap();

    // Replay; `taskmine replay` records the replay itself and compares it with the routine.
    let report_path = dir.path().join("replay.json");
    let mut replay = desk.cmd(env!("CARGO_BIN_EXE_taskmine"));
    replay
        .arg("--quiet")
        .arg("replay")
        .arg(&bot_path)
        .arg("--params")
        .arg(&params)
        .arg("--report")
        .arg(&report_path)
        .env_remove("TASKMINE_DB")
        .env("HOME", dir.path())
        .env("XDG_CONFIG_HOME", dir.path().join(".config"));
    let replay_started = Instant::now();
    let out = replay.output().expect("taskmine replay runs");
    let replay_s = replay_started.elapsed().as_secs_f64();
    let log = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for n in ["31337", "2718"] {
        let got = std::fs::read_to_string(work.join(format!("out-{n}.txt")))
            .unwrap_or_else(|e| panic!("out-{n}.txt: {e}\n{log}"));
        assert_eq!(got.trim(), n, "{log}");
    }
    assert!(out.status.success(), "taskmine replay failed: {log}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&report_path)
            .unwrap_or_else(|e| panic!("{}: {e}\n{log}", report_path.display())),
    )
    .expect("the report is JSON");
    assert_eq!(report["passed"], true, "{report:#}");
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2, "{report:#}");
    for (run, n) in runs.iter().zip(["31337", "2718"]) {
        assert_eq!(run["passed"], true, "{run:#}");
        assert_eq!(run["params"][&input], n, "{run:#}");
        assert_eq!(run["steps_done"], run["steps"], "{run:#}");
        assert_eq!(run["steps"], bot.steps.len(), "{run:#}");
        let trace = &run["trace"];
        assert!(
            trace["matched"] == true && trace["compared"].as_u64().unwrap_or(0) >= 4,
            "the recorded replay matches the routine: {run:#}"
        );
        let checks = run["postconditions"].as_array().expect("postconditions");
        let file = format!("file {}/out-{n}.txt holds \"{n}\"", work.display());
        assert!(
            checks.iter().all(|c| c["ok"] == true)
                && checks.iter().any(|c| c["condition"] == file.as_str()),
            "every post-condition holds, the file's among them: {run:#}"
        );
    }
    assert_eq!(
        log.lines().filter(|l| l.contains(": pass (")).count(),
        2,
        "replay prints a verdict per run: {log}"
    );
    eprintln!(
        "bots_cli: user {user_s:.1} s, replay {replay_s:.1} s, total {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// A bot file written by hand: one required input (its samples were masked) and no other.
fn masked_bot_yaml(required: bool) -> String {
    let inputs = if required {
        "inputs:\n- name: e_mail\n  type: text\n  required: true\n"
    } else {
        ""
    };
    let text = if required { "'{{ e_mail }}'" } else { "'ls'" };
    format!(
        "apiVersion: taskmine/v1\nname: form\nsource:\n  routine: 1\n  evidence:\n    instances: 12\n    users: 1\n    standardization: 1.0\n    hours_per_month: 0.1\n    median_duration_s: 5.0\n  variant: []\n{inputs}steps:\n- action: focus_window\n  window:\n    app: xterm\n    title: ^form$\n  timeout_ms: 500\n- action: type\n  window:\n    app: xterm\n    title: ^form$\n  selector:\n    role: ^entry$\n    name: ^E-mail$\n  text: {text}\n  timeout_ms: 500\n"
    )
}

#[test]
fn a_bot_without_inputs_replays_its_own_params_file_and_a_masked_input_is_required() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bots");

    // No inputs: the params.csv that `bots` writes is accepted by `replay --params`.
    let plain = dir.path().join("plain.yaml");
    std::fs::write(&plain, masked_bot_yaml(false)).unwrap();
    ok(taskmine()
        .arg("bots")
        .arg("--from")
        .arg(&plain)
        .arg("--out")
        .arg(&out));
    let params = out.join("form/params.csv");
    let said = ok(taskmine()
        .arg("replay")
        .arg(out.join("form/bot.yaml"))
        .arg("--params")
        .arg(&params)
        .arg("--dry-run"));
    assert!(said.contains("run 1 of 1"), "{said}");
    assert!(
        said.contains("into {role: \"^entry$\", name: \"^E-mail$\"}"),
        "{said}"
    );

    // A required input: the dry run says so, params.csv leaves it empty, a real run refuses to
    // start and names the file, the line and the column.
    let masked = dir.path().join("masked.yaml");
    std::fs::write(&masked, masked_bot_yaml(true)).unwrap();
    ok(taskmine()
        .arg("bots")
        .arg("--from")
        .arg(&masked)
        .arg("--out")
        .arg(&out));
    let written = std::fs::read_to_string(&params).unwrap();
    assert_eq!(
        written.lines().collect::<Vec<_>>(),
        ["e_mail", "\"\""],
        "{written}"
    );
    let said = ok(taskmine()
        .arg("replay")
        .arg(out.join("form/bot.yaml"))
        .arg("--dry-run"));
    assert!(
        said.contains("input \"e_mail\" is required") && said.contains("--params"),
        "{said}"
    );
    let run = taskmine()
        .arg("replay")
        .arg(out.join("form/bot.yaml"))
        .arg("--params")
        .arg(&params)
        .arg("--no-record")
        .env("DISPLAY", ":9999")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success());
    assert!(
        err.contains("params.csv, line 2") && err.contains("\"e_mail\" is required"),
        "{err}"
    );
}
