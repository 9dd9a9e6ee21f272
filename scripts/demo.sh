#!/usr/bin/env bash
# Sets up a fresh Debian machine (scripts/setup.sh) and runs the main job on the bundled example:
# a simulated week of a 10-person team goes into the embedded SQLite database, and its stats are printed.
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
