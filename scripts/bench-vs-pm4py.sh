#!/usr/bin/env bash
# taskmine against PM4Py on the same generated Action Logger CSV, in one run (issue 15).
#
#   scripts/bench-vs-pm4py.sh [--install] [--rows N] [--dir DIR] [--venv DIR] [--no-build]
#
# Generates a recorder CSV of about N rows (default 1,100,000: 3 users, 3 routines, 10 % noise),
# then times
#   taskmine: `taskmine mine FILE` (CSV to ranked candidates in memory, nothing stored), and
#             `taskmine import` + `taskmine mine` (the same, kept in SQLite);
#   PM4Py:    pandas.read_csv + pm4py.format_dataframe + pm4py.discover_dfg + pm4py.get_variants.
# and prints wall times, peak resident memory (GNU time's "Maximum resident set size") and the
# ratios. PM4Py's case is user + day (a UI log has no case column; this is what a PM4Py user
# would choose), its activity the eventType column, its timestamp timeStamp.
#
# PM4Py is AGPL: it is only ever run as a separate program, from a virtual environment that
# `--install` creates under DIR (default target/bench-pm4py; target/pm4py-venv is used when that
# one does not exist, or --venv names another); taskmine never links or imports it.
set -euo pipefail

cd "$(dirname "$0")/.."
rows=1100000
install=0
build=1
dir=target/bench-pm4py
venv=
while [[ $# -gt 0 ]]; do
    case "$1" in
        --install) install=1 ;;
        --no-build) build=0 ;;  # use the release binaries already built
        --rows) rows="$2"; shift ;;
        --dir) dir="$2"; shift ;;
        --venv) venv="$2"; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$dir"
if [[ -z $venv ]]; then
    venv="$dir/venv"
    [[ $install == 0 && ! -d $venv && -d target/pm4py-venv ]] && venv=target/pm4py-venv
fi
py="$venv/bin/python"

if [[ $install == 1 ]]; then
    python3 -m venv "$venv"
    "$py" -m pip install --quiet --upgrade pip
    "$py" -m pip install --quiet 'pm4py>=2.7' pandas
fi
if [[ ! -x $py ]] || ! "$py" -c 'import pm4py' 2>/dev/null; then
    echo "no PM4Py in $venv: run with --install once" >&2
    exit 1
fi

[[ -x /usr/bin/time ]] || { echo "GNU time (/usr/bin/time) is needed for peak memory" >&2; exit 1; }

if [[ $build == 1 ]]; then
    cargo build --release --quiet --bin taskmine
    cargo build --release --quiet -p uilog --example recorder_csv
fi
csv="$dir/log.csv"
target/release/examples/recorder_csv "$csv" "$rows"
n=$(($(wc -l < "$csv") - 1))
mb=$(( $(stat -c %s "$csv") / 1000000 ))
echo "file: $csv, $n rows, $mb MB; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"

# Runs a command under GNU time; prints "seconds peak_kib".
measure() {
    local log="$dir/time.log"
    /usr/bin/time -v -o "$log" "$@" > "$dir/last.out" 2>&1 || {
        cat "$dir/last.out" >&2
        return 1
    }
    local wall peak
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" |
        awk -F: '{ if (NF == 3) print $1 * 3600 + $2 * 60 + $3; else print $1 * 60 + $2 }')
    peak=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    echo "$wall $peak"
}

r=$(measure target/release/taskmine mine -q "$csv"); read -r t_file m_file <<< "$r"
db="$dir/bench.db"
rm -f "$db" "$db-wal" "$db-shm"
r=$(measure target/release/taskmine import -q --db "$db" "$csv"); read -r t_import m_import <<< "$r"
r=$(measure target/release/taskmine mine --db "$db"); read -r t_mine m_mine <<< "$r"
grep -m1 -i "routine\|candidate" "$dir/last.out" || true

cat > "$dir/pm4py_run.py" <<'EOF'
import sys, time
import pandas as pd
import pm4py

path = sys.argv[1]
t0 = time.perf_counter()
df = pd.read_csv(path, dtype=str, keep_default_na=False)
# A UI log has no case column: one case per user and day.
df["case"] = df["userID"] + "/" + df["timeStamp"].str[:10]
df = pm4py.format_dataframe(df, case_id="case", activity_key="eventType", timestamp_key="timeStamp")
t1 = time.perf_counter()
dfg, start, end = pm4py.discover_dfg(df)
t2 = time.perf_counter()
variants = pm4py.get_variants(df)
t3 = time.perf_counter()
print(f"pm4py {pm4py.__version__}: load {t1 - t0:.2f} s, discover_dfg {t2 - t1:.2f} s, "
      f"get_variants {t3 - t2:.2f} s; {len(df)} events, {len(dfg)} DFG edges, {len(variants)} variants")
EOF
r=$(measure "$py" "$dir/pm4py_run.py" "$csv"); read -r t_pm m_pm <<< "$r"
cat "$dir/last.out"

awk -v tf="$t_file" -v mf="$m_file" -v ti="$t_import" -v tm="$t_mine" -v mi="$m_import" -v mm="$m_mine" -v tp="$t_pm" -v mp="$m_pm" 'BEGIN {
    tt = ti + tm; mt = (mi > mm ? mi : mm)
    printf "taskmine mine FILE (in memory) = %.2f s, %.0f MiB peak\n", tf, mf / 1024
    printf "taskmine import %.2f s (%.0f MiB peak) + mine %.2f s (%.0f MiB peak) = %.2f s, %.0f MiB peak\n", ti, mi / 1024, tm, mm / 1024, tt, mt / 1024
    printf "PM4Py    read_csv + format_dataframe + discover_dfg + get_variants = %.2f s, %.0f MiB peak\n", tp, mp / 1024
    printf "ratio    mine FILE is %.2fx faster than PM4Py, peak memory %.0f %% of PM4Py'"'"'s\n", tp / tf, 100 * mf / mp
    printf "ratio    import + mine is %.2fx faster than PM4Py, peak memory %.0f %% of PM4Py'"'"'s\n", tp / tt, 100 * mt / mp
}'
