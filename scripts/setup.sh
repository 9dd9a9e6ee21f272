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
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install a Rust toolchain (1.85 or newer), for example with rustup" >&2
  exit 1
fi
