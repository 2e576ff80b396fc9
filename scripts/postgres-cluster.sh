#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: `start DIR` creates one in DIR (owned by a non-root
# user: `postgres` when run as root), listening on 127.0.0.1 at a free port with password
# (scram-sha-256) authentication, and prints its URL; `stop DIR` stops it and removes DIR;
# `pause DIR` stops the server and `resume DIR` starts it again on the same port (an outage).
# Debian's `postgresql` and `postgresql-contrib` packages provide the binaries (scripts/ensure-deps.sh
# --postgres installs them).
set -euo pipefail
command=${1:?usage: postgres-cluster.sh start|stop|pause|resume DIR}
dir=${2:?usage: postgres-cluster.sh start|stop|pause|resume DIR}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$bin/pg_ctl" ] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql (install postgresql)" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Small and fast: a test cluster holds nothing that must survive a crash of the machine.
# PG_DURABLE=1 (benchmarks) keeps PostgreSQL's defaults instead: fsync, full-page writes and
# synchronous_commit on, as a production server runs.
run_server() {
  local fast="-c fsync=off -c full_page_writes=off"
  [ "$(cat "$dir/durable" 2>/dev/null)" = 1 ] && fast="-c synchronous_commit=on"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -c port=$1 -c unix_socket_directories=$dir -c max_connections=500 $fast" >/dev/null
}

case $command in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  printf '%s\n' "$password" > "$dir/password"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/password"
  as_owner "$bin/initdb" -D "$dir/data" -U inboxlite --pwfile="$dir/password" --auth-local=scram-sha-256 \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >/dev/null
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  echo "$port" > "$dir/port"
  echo "${PG_DURABLE:-0}" > "$dir/durable"
  run_server "$port"
  echo "postgres://inboxlite:$password@127.0.0.1:$port/postgres"
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
pause)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
resume)
  run_server "$(cat "$dir/port")"
  ;;
*)
  echo "usage: postgres-cluster.sh start|stop|pause|resume DIR" >&2; exit 2
  ;;
esac
