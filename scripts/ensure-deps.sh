#!/usr/bin/env bash
# Installs the system packages the build and the tests need when they are missing (Debian/Ubuntu):
# libsqlite3-dev for the build; chromium and chromium-driver for the console's browser test.
set -euo pipefail
missing=()
{ [ -f /usr/include/sqlite3.h ] || dpkg -s libsqlite3-dev >/dev/null 2>&1; } || missing+=(libsqlite3-dev)
if [ "${1:-}" = "--browser" ]; then
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
