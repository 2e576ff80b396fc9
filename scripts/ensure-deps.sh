#!/usr/bin/env bash
# Installs the system packages the build and the tests need when they are missing (Debian/Ubuntu):
# libsqlite3-dev for the build; with --browser chromium and chromium-driver for the console's
# browser test; with --postgres the PostgreSQL server for the PostgreSQL engine's tests
# (scripts/postgres-cluster.sh starts a throwaway cluster).
set -euo pipefail
missing=()
{ [ -f /usr/include/sqlite3.h ] || dpkg -s libsqlite3-dev >/dev/null 2>&1; } || missing+=(libsqlite3-dev)
for option in "$@"; do
  case $option in
  --browser)
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    [ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
    ;;
  --postgres)
    ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
    ;;
  *) echo "ensure-deps.sh: unknown option $option" >&2; exit 2 ;;
  esac
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
