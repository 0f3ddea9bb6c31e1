#!/usr/bin/env bash
# Set up everything sitewatch needs on a Debian 12 machine, idempotently:
# Debian packages (ffmpeg, GStreamer RTSP server, CJK fonts), the virtual environment at
# .venv/ with the project installed (editable, with training and dev extras), and a check
# that PostgreSQL is up when it is installed. Quick when nothing changed.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

debian_packages=(
  ffmpeg
  gstreamer1.0-tools gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav
  fonts-noto-cjk
  chromium  # tests/pages: Playwright drives it (no browser download)
)

install_debian_packages() {
  local missing=() pkg
  for pkg in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq \
    "${missing[@]}" >/dev/null
}

pick_python() {
  local cand
  for cand in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [ -n "$cand" ] || continue
    command -v "$cand" >/dev/null 2>&1 || continue
    if "$cand" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
      echo "$cand"
      return 0
    fi
  done
  echo "sitewatch needs Python >= 3.11 (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

setup_venv() {
  local py stamp want
  if [ ! -x .venv/bin/python ]; then
    py=$(pick_python)
    say "creating .venv with $py"
    "$py" -m venv .venv
  fi
  stamp=.venv/.sitewatch-setup
  want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
  [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] && return 0
  say "installing Python packages into .venv (torch CPU use, ultralytics, onnxruntime, …)"
  local log=.venv/setup.log
  # torch and torchvision are pinned together in every pip call, or pip swaps torch.
  if ! { .venv/bin/python -m pip install --disable-pip-version-check --upgrade pip &&
    .venv/bin/python -m pip install --disable-pip-version-check \
      "torch==2.14.1" "torchvision==0.29.1" -e ".[train,dev]"; } >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "[setup] pip install failed; full log in $log" >&2
    return 1
  fi
  echo "$want" >"$stamp"
}

check_postgres() {
  command -v pg_ctlcluster >/dev/null 2>&1 || return 0
  if ! (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; then
    say "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start \
      >/dev/null 2>&1 || say "PostgreSQL did not start; tests fall back to SQLite"
  fi
}

install_debian_packages
setup_venv
check_postgres
say "ready: .venv/bin/sitewatch"
