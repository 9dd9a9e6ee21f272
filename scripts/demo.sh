#!/usr/bin/env bash
# Sets up a fresh Debian machine (scripts/setup.sh) and runs the main job on the bundled example:
# a simulated week of a 10-person team goes into the embedded SQLite database; its stats are printed;
# it is mined into ranked automation candidates (with an HTML report), checked against the simulator's
# ground truth, and the top candidates become bot drafts (YAML, Robot Framework, Python).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked --quiet
bin=target/release/taskmine
out=${TASKMINE_OUT:-out}
mkdir -p "$out"
db="$out/team-week.db"
rm -f "$db" "$db-wal" "$db-shm"
"$bin" simulate --config examples/team-week.yaml --db "$db" --truth "$out/team-week.truth.json"
"$bin" stats --db "$db"
echo
"$bin" mine --db "$db" --top 6 --report "$out/report.html"
echo
"$bin" eval --db "$db" --truth "$out/team-week.truth.json"
echo
rm -rf "$out/bots"
"$bin" bots --db "$db" --top 3 --out "$out/bots"
echo
echo "report: $out/report.html   bots: $out/bots/   replay one with:"
echo "  $bin replay $out/bots/<routine>/bot.yaml --params $out/bots/<routine>/params.csv --dry-run"
