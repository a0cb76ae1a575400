# shellcheck shell=bash
# The benchmarks' own PostgreSQL, sourced by every bench script: a throwaway cluster initdb'd
# into a temporary folder, on a free port, with the settings docker-compose.yml gives the
# deployed PostgreSQL (its `command:` list of `--name=value`, read from there so the two cannot
# drift). The figures then describe production, not this machine's server (which runs with
# autovacuum off for CI). As root, initdb and postgres run as the postgres user (runuser).
#
#   bench_pg_start   starts it; sets PG (a URL without database) and prints the version and the
#                    settings in effect. The caller's EXIT trap must call bench_pg_stop.
#   bench_pg_stop    stops it and removes the folder (safe to call twice, or before a start).
#   bench_pg_ctl     stop|start: a restart of the same cluster (bench/outage).
#
# BENCH_PG_URL=postgres://user@host:port runs against that server instead (nothing is started
# or removed; its version and settings are printed all the same). BENCH_PG_BIN names the folder
# of initdb/pg_ctl when neither `pg_config --bindir` nor /usr/lib/postgresql/*/bin has them.

# shellcheck source=bench/lib/ports.sh
source "$(dirname "${BASH_SOURCE[0]}")/ports.sh"

BENCH_PG_DIR=""
BENCH_PG_PORT=""
BENCH_PG_TMP=${TMPDIR:-/tmp}

# As the postgres user when root (initdb and postgres refuse to run as root).
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# The folder holding initdb and pg_ctl: the newest installed version.
bench_pg_bindir() {
  local d
  for d in "${BENCH_PG_BIN:-}" "$(pg_config --bindir 2>/dev/null)" \
    $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  return 1
}

# The `--name=value` items of the postgres service's `command:` in docker-compose.yml, one
# `name=value` a line (quotes and trailing comments dropped).
bench_pg_settings() {
  awk '/^  [a-z_-]+:/ { in_pg = ($1 == "postgres:") }
       in_pg && /^ +- +"?--[a-z_]+=/ {
         sub(/^ +- +"?--/, ""); sub(/ +#.*$/, ""); sub(/"$/, ""); print }' docker-compose.yml
}

# Folders left by a run that died without its clean-up (kill -9): their owner is gone.
bench_pg_sweep() {
  local d
  for d in "$BENCH_PG_TMP"/capi-bench-pg.*; do
    [ -f "$d/owner" ] || continue
    kill -0 "$(cat "$d/owner")" 2>/dev/null && continue
    echo "bench: removing $d, left by a run that did not clean up" >&2
    bench_pg_kill "$d"
  done
}

# Stops the cluster in folder $1 at once (nothing in it is kept) and removes the folder.
bench_pg_kill() {
  local dir=$1 pid
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$(bench_pg_bindir)/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || {
      pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null) && [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
      sleep 0.5
    }
  fi
  rm -rf "$dir"
}

bench_pg_start() {
  if [ -n "${BENCH_PG_URL:-}" ]; then
    PG=$BENCH_PG_URL
    bench_pg_describe "$PG (BENCH_PG_URL)"
    return 0
  fi
  local bin
  bin=$(bench_pg_bindir) || {
    echo "bench: no initdb/pg_ctl found; install PostgreSQL, set BENCH_PG_BIN, or BENCH_PG_URL" >&2
    exit 1
  }
  bench_pg_sweep
  BENCH_PG_DIR=$(mktemp -d "$BENCH_PG_TMP/capi-bench-pg.XXXXXX")
  echo "$$" > "$BENCH_PG_DIR/owner"
  [ "$(id -u)" = 0 ] && chown postgres: "$BENCH_PG_DIR"
  # --no-sync: a throwaway cluster; the server itself runs with fsync as configured.
  as_pg "$bin/initdb" -D "$BENCH_PG_DIR/data" -U postgres -A trust -E UTF8 --no-locale --no-sync \
    > "$BENCH_PG_DIR/initdb.log" 2>&1 ||
    { cat "$BENCH_PG_DIR/initdb.log" >&2; echo "bench: initdb failed" >&2; exit 1; }
  local try
  for try in 1 2 3 4 5; do
    # Another run may take the port between the check and the bind: then the next one.
    BENCH_PG_PORT=$(free_port $((15432 + RANDOM % 2000)))
    bench_pg_ctl start && break
    [ "$try" = 5 ] && { cat "$BENCH_PG_DIR/postgres.log" >&2; echo "bench: PostgreSQL did not start" >&2; exit 1; }
  done
  PG=postgres://postgres@127.0.0.1:$BENCH_PG_PORT
  bench_pg_describe "$PG (throwaway, in $BENCH_PG_DIR)"
}

# bench_pg_ctl start|stop: the throwaway cluster with the compose file's settings.
bench_pg_ctl() {
  local opts
  opts="-p $BENCH_PG_PORT -k $BENCH_PG_DIR -c listen_addresses=127.0.0.1"
  opts+=$(bench_pg_settings | sed 's/^/ --/' | tr -d '\n')
  case $1 in
    start) as_pg "$(bench_pg_bindir)/pg_ctl" -D "$BENCH_PG_DIR/data" -l "$BENCH_PG_DIR/postgres.log" \
             -o "$opts" -w -t 60 start >/dev/null ;;
    stop) as_pg "$(bench_pg_bindir)/pg_ctl" -D "$BENCH_PG_DIR/data" -m fast -w -t 300 stop >/dev/null ;;
    *) echo "bench_pg_ctl start|stop" >&2; return 2 ;;
  esac
}

bench_pg_stop() {
  [ -n "$BENCH_PG_DIR" ] || return 0
  bench_pg_kill "$BENCH_PG_DIR"
  BENCH_PG_DIR=""
}

# Prints "PostgreSQL <version> at <where>" and the settings in effect: the compose file's, and
# those the figures depend on whichever server it is.
bench_pg_describe() {
  local names
  names=$( { bench_pg_settings | cut -d= -f1; printf '%s\n' autovacuum jit fsync synchronous_commit; } |
    awk '!seen[$0]++' | paste -sd, -)
  BENCH_PG_VERSION=$(psql "$PG/postgres" -Atqc "SHOW server_version")
  BENCH_PG_SETTINGS=$(psql "$PG/postgres" -Atqc \
    "SELECT string_agg(n || '=' || current_setting(n), ' ' ORDER BY o)
       FROM unnest(string_to_array('$names', ',')) WITH ORDINALITY AS s(n, o)")
  echo "PostgreSQL $BENCH_PG_VERSION at $1"
  echo "settings: $BENCH_PG_SETTINGS"
}

# The processes of the server measured: the throwaway cluster's postmaster and its children,
# or every process of the postgres user when BENCH_PG_URL names another server.
bench_pg_pids() {
  local pm
  if [ -n "$BENCH_PG_DIR" ] && pm=$(head -1 "$BENCH_PG_DIR/data/postmaster.pid" 2>/dev/null); then
    echo "$pm"; pgrep -P "$pm" || true
  else
    pgrep -u postgres || true
  fi
}
