#!/usr/bin/env bash
# Installs what taskmine needs on a fresh Debian machine: the X11 libraries that live capture links,
# Xvfb, a window manager and X applications for the capture and replay tests, and Chromium for the
# dashboard test. Idempotent: it installs only what is missing, so it is cheap to run every time.
set -euo pipefail

packages=(
  build-essential pkg-config
  libx11-dev libxtst-dev libxi-dev
  xvfb x11-utils xdotool openbox xterm
  chromium
  # The server's HTTPS test makes its certificate with openssl and talks to it with curl.
  openssl curl
  # UI elements through the accessibility bus: a session bus per test desktop (dbus-daemon,
  # dbus-send), the AT-SPI bus and registry, the GTK bridge, and the GTK test form's Python.
  dbus-daemon dbus-bin dbus-x11
  at-spi2-core libatk-adaptor libatk-bridge2.0-0 python3-gi gir1.2-gtk-3.0 gir1.2-atspi-2.0 python3-pyatspi
  # The fleet store's PostgreSQL tests start their own server (initdb, pg_ctl).
  postgresql
  # Snapshots: OCR (taskmine ocr, its tests) and the Tk form that stands in for an app without AT-SPI.
  tesseract-ocr tesseract-ocr-eng python3-tk
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

sudo_cmd=""
[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The bot tests run the rendered Robot Framework and Python (pyautogui) scripts with the real tools.
if ! command -v python3 >/dev/null 2>&1; then
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends python3 python3-pip python3-venv python3-tk >/dev/null
fi
if ! python3 -m pip show -q robotframework pyautogui >/dev/null 2>&1; then
  echo "setup: installing robotframework and pyautogui from PyPI" >&2
  python3 -m pip install -q robotframework pyautogui 2>/dev/null ||
    python3 -m pip install -q --break-system-packages robotframework pyautogui
fi

# PM4Py reads taskmine's OCEL 2.0 export back in a test (miner/tests/link.rs, through
# TASKMINE_PYTHON, which scripts/test.sh sets). PM4Py is AGPL: it only ever runs as a separate
# program, from its own virtual environment under target/. About a minute the first time.
pm4py_venv=target/pm4py-venv
if ! "$pm4py_venv/bin/python" -c 'import pm4py' >/dev/null 2>&1; then
  echo "setup: installing PM4Py into $pm4py_venv from PyPI" >&2
  rm -rf "$pm4py_venv"
  python3 -m venv "$pm4py_venv"
  "$pm4py_venv/bin/python" -m pip install -q pm4py
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install a Rust toolchain (1.85 or newer), for example with rustup" >&2
  exit 1
fi
