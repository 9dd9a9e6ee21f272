#!/usr/bin/env bash
# Sets up a fresh Debian machine (scripts/setup.sh) and runs every test of the workspace, including the
# ones that start their own Xvfb and the browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The interpreter with PM4Py that setup.sh installed, for the OCEL read-back test.
export TASKMINE_PYTHON="$PWD/target/pm4py-venv/bin/python"
cargo test --workspace --locked "$@"
