//! Replay reports: `taskmine replay` writes `replay-report.json` beside each bot file; the server
//! lists those under its bots directory.

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// One replay report as the API and the routine page show it.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayEntry {
    /// The report file, relative to the bots directory.
    pub file: String,
    pub bot: String,
    pub routine: u64,
    pub passed: bool,
    pub runs: usize,
    pub runs_passed: usize,
    /// Why the file could not be read, when it could not (the other fields are then empty).
    pub error: Option<String>,
    /// The report as written.
    pub report: Value,
}

const FILE: &str = "replay-report.json";

/// The reports in `dir/*/replay-report.json`, by file name. A missing directory has none.
pub fn load(dir: &Path) -> Vec<ReplayEntry> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path().join(FILE))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let file = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .display()
                .to_string();
            read(&path, file)
        })
        .collect()
}

fn read(path: &Path, file: String) -> ReplayEntry {
    let failed = |error: String| ReplayEntry {
        file: file.clone(),
        bot: String::new(),
        routine: 0,
        passed: false,
        runs: 0,
        runs_passed: 0,
        error: Some(error),
        report: Value::Null,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return failed(format!("{}: {e}", path.display())),
    };
    let report: Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => return failed(format!("{}, line {}: {e}", path.display(), e.line())),
    };
    let (Some(bot), Some(routine), Some(passed), Some(runs)) = (
        report["bot"].as_str(),
        report["routine"].as_u64(),
        report["passed"].as_bool(),
        report["runs"].as_array(),
    ) else {
        return failed(format!(
            "{}: not a replay report (needs bot, routine, passed and runs)",
            path.display()
        ));
    };
    ReplayEntry {
        bot: bot.to_owned(),
        routine,
        passed,
        runs: runs.len(),
        runs_passed: runs.iter().filter(|r| r["passed"] == true).count(),
        error: None,
        file,
        report,
    }
}
