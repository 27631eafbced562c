#!/usr/bin/env bash
# Checks (and, as root, installs) the Debian/Ubuntu packages ModelGate needs.
#   system-deps.sh ensure GROUP...   install what is missing (root) or print the command
#   system-deps.sh list GROUP...     print the package names
# Groups: base (Python venv); gui (the libraries Qt and QtWebEngine load, on a screen and
# offscreen, and fonts: without fonts every widget draws empty boxes); test (what the test
# suite needs: a PostgreSQL server for the registry tests, SoftHSM2 (a PKCS#11 token in a folder)
# for the hardware-key signing tests, the CNCF distribution registry (docker-registry) and
# skopeo for the OCI store tests, and the gui libraries, since the
# desktop app's tests run offscreen); xvfb (optional: a virtual X screen, to watch the
# app under QT_QPA_PLATFORM=xcb on a machine without a display); dist (`make dist`: PyInstaller
# reads binaries with objdump from binutils, and collects the Qt libraries' system libraries,
# which must be installed to be found).
set -euo pipefail

QT_OFFSCREEN="libgl1 libegl1 libxkbcommon0 libglib2.0-0 libfreetype6 libfontconfig1 libdbus-1-3 fonts-dejavu-core"
QT_WEBENGINE="libnss3 libnspr4 libxcomposite1 libxdamage1 libxrandr2 libxtst6 libasound2 libxkbfile1"
QT_XCB="libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0"

declare -A GROUP
GROUP[base]="python3-venv"
GROUP[gui]="$QT_OFFSCREEN $QT_WEBENGINE $QT_XCB"
GROUP[test]="python3-venv postgresql softhsm2 docker-registry skopeo $QT_OFFSCREEN $QT_WEBENGINE"
GROUP[xvfb]="xvfb $QT_XCB"
GROUP[dist]="binutils $QT_OFFSCREEN $QT_XCB"

packages() {
  local g out=""
  for g in "$@"; do
    [[ -n "${GROUP[$g]+x}" ]] || { echo "system-deps: unknown group '$g'" >&2; exit 2; }
    out+=" ${GROUP[$g]}"
  done
  echo $out | tr ' ' '\n' | sort -u | tr '\n' ' '
}

missing() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
  done
}

cmd=${1:-}; shift || true
case "$cmd" in
  list) packages "$@"; echo ;;
  ensure)
    if ! command -v dpkg-query >/dev/null 2>&1; then
      # Not Debian: trust that the README's list was followed.
      exit 0
    fi
    if python3 -c 'import ensurepip, venv' 2>/dev/null; then
      # A Python with a working venv (e.g. from pyenv) does not need python3-venv.
      wanted=$(packages "$@" | tr ' ' '\n' | grep -v '^python3-venv$' || true)
    else
      wanted=$(packages "$@")
    fi
    need=$(missing $wanted | tr '\n' ' ')
    [[ -z "${need// /}" ]] && exit 0
    if [[ $(id -u) -eq 0 ]]; then
      echo "Installing system packages: $need"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends $need
    else
      echo "ModelGate needs these system packages:" >&2
      echo "  sudo apt-get install -y $need" >&2
      exit 1
    fi
    ;;
  *) echo "usage: system-deps.sh ensure|list GROUP..." >&2; exit 2 ;;
esac
