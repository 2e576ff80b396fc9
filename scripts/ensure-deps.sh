#!/usr/bin/env bash
# Installs the system packages the build needs when they are missing (Debian/Ubuntu).
set -euo pipefail
if ! { [ -f /usr/include/sqlite3.h ] || dpkg -s libsqlite3-dev >/dev/null 2>&1; }; then
  echo "installing libsqlite3-dev" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq libsqlite3-dev >/dev/null
fi
