#!/usr/bin/env bash
# A throw-away PostgreSQL for `LifecycleStore dbd` (tests, make run, make bench):
# a cluster of its own in DIR, served on a unix socket in DIR only (no TCP
# port), never the system service.
#
#   pg.sh start DIR     initdb into DIR/data the first time, start it, create the
#                       database `lifecycle` (owner and superuser `lifecycle`,
#                       trust on the socket); prints the DBDParams to use
#   pg.sh stop DIR [fast|immediate]     stop it (default fast); no-op when not running
#   pg.sh env DIR       print the DBDParams for it
#   pg.sh psql DIR ...  psql on the lifecycle database
#   pg.sh running DIR   exit status 0 when it runs
#   pg.sh pids DIR      the server's process ids (postmaster first)
#   pg.sh standby DIR PRIMARY_DIR   make DIR a streaming standby of the cluster
#                       in PRIMARY_DIR (pg_basebackup -R over its socket) and
#                       start it (t/dbd_failover.t, conf/HA.md)
#   pg.sh promote DIR   promote the standby in DIR (pg_ctl promote, waits)
#   pg.sh syncnames DIR NAMES   set synchronous_standby_names to NAMES and
#                       return once commits follow it (see the command below)
#
# PG_OPTS adds server settings (e.g. "-c fsync=off"); PG_BIN overrides where the
# binaries are (default: the newest /usr/lib/postgresql/*/bin).  initdb refuses
# root: as root, the cluster is run by DIR's owner, or by `postgres` (DIR is
# then given to it).  The socket path (DIR/.s.PGSQL.5432) must stay under the
# kernel's 107 bytes.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,20p' "$0" >&2; exit 2; }
if [ -z "${PG_BIN:-}" ]; then
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
fi
[ -x "$PG_BIN/pg_ctl" ] || { echo "pg.sh: no PostgreSQL binaries (pg_ctl) in '${PG_BIN:-/usr/lib/postgresql/*/bin}': build/deps.sh test installs postgresql" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/data
db=lifecycle
sock="$dir/.s.PGSQL.5432"
if [ ${#sock} -gt 107 ]; then
  echo "pg.sh: socket path $sock is longer than 107 bytes: use a shorter DIR" >&2; exit 1
fi

. "$(dirname "$0")/pg-owner.sh"      # sets `as`: run as DIR's owner when root

params="host=$dir dbname=$db user=$db connect_timeout=3"
running() { "${as[@]}" "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; }

case "$cmd" in
  start)
    if [ ! -f "$data/PG_VERSION" ]; then
      rm -rf "$data"
      "${as[@]}" "$PG_BIN/initdb" --no-sync -D "$data" -U "$db" --auth=trust -E UTF8 \
          --locale=C >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; echo "pg.sh: initdb failed" >&2; exit 1; }
    fi
    if ! running; then
      # -w waits until it accepts connections (after crash recovery too).
      "${as[@]}" "$PG_BIN/pg_ctl" -D "$data" -l "$dir/postgresql.log" -w -t 60 \
          -o "-k $dir -c listen_addresses='' -c unix_socket_permissions=0777 ${PG_OPTS:-}" start >/dev/null \
        || { tail -n 20 "$dir/postgresql.log" >&2; echo "pg.sh: PostgreSQL did not start" >&2; exit 1; }
    fi
    if ! "${as[@]}" "$PG_BIN/psql" -h "$dir" -U "$db" -d postgres -Atqc \
         "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
      "${as[@]}" "$PG_BIN/createdb" -h "$dir" -U "$db" "$db"
    fi
    echo "$params"
    ;;
  stop)
    mode=${3:-fast}
    if running; then
      "${as[@]}" "$PG_BIN/pg_ctl" -D "$data" -m "$mode" -w -t 60 stop >/dev/null
    fi
    ;;
  env)
    echo "$params"
    ;;
  psql)
    shift 2
    exec "${as[@]}" "$PG_BIN/psql" -h "$dir" -U "$db" -d "$db" -X -v ON_ERROR_STOP=1 "$@"
    ;;
  running)
    running
    ;;
  pids)
    [ -f "$data/postmaster.pid" ] || exit 1
    pm=$(head -n 1 "$data/postmaster.pid")
    echo "$pm"
    pgrep -P "$pm" || true
    ;;
  standby)
    primary=$(cd "${3:?pg.sh standby DIR PRIMARY_DIR}" && pwd)
    if [ ! -f "$data/PG_VERSION" ]; then
      rm -rf "$data"
      "${as[@]}" "$PG_BIN/pg_basebackup" -h "$primary" -U "$db" -D "$data" -R -X stream \
          -c fast --no-sync >"$dir/basebackup.log" 2>&1 \
        || { cat "$dir/basebackup.log" >&2; echo "pg.sh: pg_basebackup failed" >&2; exit 1; }
      # The primary's socket directory is not the standby's.
      "${as[@]}" chmod 700 "$data"
    fi
    exec bash "$0" start "$dir" >/dev/null
    ;;
  promote)
    "${as[@]}" "$PG_BIN/pg_ctl" -D "$data" -w -t 60 promote >/dev/null
    ;;
  syncnames)
    # Whether a commit waits for a standby is decided by a flag in shared
    # memory that the checkpointer sets when it reloads, not by the session's
    # own setting: pg_reload_conf() returns before either has happened.  A new
    # session seeing NAMES means the postmaster has reloaded and signalled
    # every process; the CHECKPOINT after it cannot start before the
    # checkpointer has handled that signal.
    names=${3?pg.sh syncnames DIR NAMES}
    q() { "${as[@]}" "$PG_BIN/psql" -h "$dir" -U "$db" -d "$db" -X -qAt -v ON_ERROR_STOP=1 -c "$1"; }
    q "ALTER SYSTEM SET synchronous_standby_names = '$names'" >/dev/null
    q "SELECT pg_reload_conf()" >/dev/null
    for _ in $(seq 600); do
      [ "$(q 'SHOW synchronous_standby_names')" = "$names" ] && { q CHECKPOINT >/dev/null; exit 0; }
      sleep 0.1
    done
    echo "pg.sh: synchronous_standby_names = '$names' not in effect after 60 s" >&2; exit 1
    ;;
  *)
    echo "pg.sh: unknown command '$cmd'" >&2; exit 2
    ;;
esac
