#!/usr/bin/env bash
# Sets up a fresh Debian machine (scripts/setup.sh) and runs every test of the workspace, including the
# ones that start their own Xvfb and the browser test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace --locked "$@"
