#!/usr/bin/env bash
# A throw-away pg_auto_failover formation for `LifecycleStore dbd` (make run
# STORE=dbd-ha, t/dbd_autofailover.t): a monitor and two data nodes in DIR,
# on loopback ports, with one synchronous standby (number_sync_standbys 1 is
# pg_auto_failover's default with two nodes) and the monitor's health checks
# tuned for a fast failover (conf/HA.md).  Never the system service.
#
#   pg-ha.sh start DIR    create the formation the first time, run it; prints
#                         the DBDParams to use (multi-host, read-write)
#   pg-ha.sh stop DIR     stop the three keepers and their PostgreSQL
#   pg-ha.sh env DIR      print the DBDParams
#   pg-ha.sh state DIR    pg_autoctl show state
#   pg-ha.sh primary DIR  the data directory of the node that is primary now
#   pg-ha.sh kill DIR N   kill node N (1 or 2): its keeper and PostgreSQL, at once
#   pg-ha.sh psql DIR N ...   psql on node N's lifecycle database
#
# PG_HA_PORT: the first of three ports (default 55431: monitor, node 1,
# node 2).  Needs pg_autoctl (Debian: pg-auto-failover-cli,
# postgresql-15-auto-failover; build/deps.sh test installs them).  As root,
# everything runs as DIR's owner, or as `postgres`, as build/pg.sh does.
set -euo pipefail
cmd=${1:-}; dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,22p' "$0" >&2; exit 2; }
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
command -v pg_autoctl >/dev/null || { echo "pg-ha.sh: no pg_autoctl: build/deps.sh test installs pg-auto-failover-cli" >&2; exit 1; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
port=${PG_HA_PORT:-55431}
pm=$port; p1=$((port + 1)); p2=$((port + 2))
db=lifecycle

. "$(dirname "$0")/pg-owner.sh"      # sets `as`: run as DIR's owner when root
"${as[@]}" mkdir -p -m 700 "$dir/xdg/run"
# pg_autoctl keeps its configuration and state under XDG_*: DIR's own.
ac() { "${as[@]}" env PGHOST="$dir" XDG_CONFIG_HOME="$dir/xdg/config" XDG_DATA_HOME="$dir/xdg/data" XDG_RUNTIME_DIR="$dir/xdg/run" \
         PATH="$PG_BIN:$PATH" PG_CONFIG="$PG_BIN/pg_config" pg_autoctl "$@"; }
monitor_uri="postgres://autoctl_node@127.0.0.1:$pm/pg_auto_failover?sslmode=disable"
params="host=127.0.0.1,127.0.0.1 port=$p1,$p2 dbname=$db user=$db target_session_attrs=read-write connect_timeout=2 keepalives=1 keepalives_idle=2 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=3000"
psql_on() { "${as[@]}" "$PG_BIN/psql" -h 127.0.0.1 -p "$1" -X -v ON_ERROR_STOP=1 -qAt "${@:2}"; }

# The monitor's checks (milliseconds): a dead primary is seen within about
# health_check_period + node_considered_unhealthy_timeout (defaults 5 s, 20 s).
tune() {
  psql_on "$pm" -d pg_auto_failover >/dev/null <<'SQL' || true
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000;
ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1;
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 2000;
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 5000;
SELECT pg_reload_conf();
SQL
}

# Each cluster made here first: its unix socket in DIR (not /var/run/postgresql),
# TCP on loopback only; pg_autoctl takes an existing PGDATA as it is.
cluster() {
  [ -f "$1/PG_VERSION" ] && return 0
  "${as[@]}" "$PG_BIN/initdb" --no-sync -D "$1" --auth=trust -E UTF8 --locale=C >"$1.initdb.log" 2>&1
  printf "unix_socket_directories = '%s'\nlisten_addresses = '127.0.0.1'\nport = %s\n" "$dir" "$2" \
    | "${as[@]}" tee -a "$1/postgresql.conf" >/dev/null
}

# A keeper in a session of its own: pg_autoctl signals its whole process
# group when it stops, which must not be the caller's (make, a test).
keeper() {   # run the keeper of pgdata $1 in the background (its log in $1.log)
  setsid "${as[@]}" env PGHOST="$dir" XDG_CONFIG_HOME="$dir/xdg/config" XDG_DATA_HOME="$dir/xdg/data" XDG_RUNTIME_DIR="$dir/xdg/run" \
    PATH="$PG_BIN:$PATH" pg_autoctl run --pgdata "$1" >>"$1.log" 2>&1 </dev/null &
}
group_kill() {   # SIGKILL to the process group of pid $1, never to our own
  local g; g=$(ps -o pgid= -p "$1" | tr -d ' ')
  [ -n "$g" ] && [ "$g" != "$(ps -o pgid= -p $$ | tr -d ' ')" ] && kill -KILL -- "-$g" 2>/dev/null
  kill -KILL "$1" 2>/dev/null || true
}
keeper_pid() {   # the running keeper of pgdata $1 (pg_autoctl's own pid file)
  local f="$dir/xdg/run/pg_autoctl$1/pg_autoctl.pid" p
  p=$(head -n 1 "$f" 2>/dev/null || true)
  [ -n "$p" ] && kill -0 "$p" 2>/dev/null && echo "$p"
}

up() {       # wait until node on port $1 accepts connections
  local i; for i in $(seq 1 300); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$1" && return 0; sleep 0.2; done
  return 1
}

case "$cmd" in
  start)
    if [ ! -f "$dir/monitor/PG_VERSION" ]; then
      cluster "$dir/monitor" "$pm"
      ac create monitor --pgdata "$dir/monitor" --pgport "$pm" --hostname 127.0.0.1 \
         --auth trust --no-ssl --pgctl "$PG_BIN/pg_ctl" >"$dir/create.log" 2>&1
      keeper "$dir/monitor"; up "$pm"
      sleep 1; tune
      for n in 1 2; do
        p=$((port + n))
        [ "$n" = 1 ] && cluster "$dir/node$n" "$p"
        ac create postgres --pgdata "$dir/node$n" --pgport "$p" --hostname 127.0.0.1 \
           --name "node$n" --auth trust --no-ssl --pgctl "$PG_BIN/pg_ctl" \
           --dbname "$db" --monitor "$monitor_uri" >>"$dir/create.log" 2>&1
        keeper "$dir/node$n"
        # The standby clones the primary once the primary is up.
        [ "$n" = 1 ] && { up "$p1"; ac show state --pgdata "$dir/monitor" >/dev/null 2>&1 || true; }
      done
    else
      for k in monitor node1 node2; do
        keeper_pid "$dir/$k" >/dev/null || keeper "$dir/$k"
      done
      up "$pm"; tune
    fi
    # Service: a primary with a synchronous standby.
    for i in $(seq 1 600); do
      st=$(ac show state --pgdata "$dir/monitor" 2>/dev/null || true)
      if grep -q '| *primary *|' <<<"$st" && grep -q '| *secondary *|' <<<"$st"; then break; fi
      sleep 0.5
    done
    prim=$(bash "$0" primary "$dir")
    pp=$([ "$prim" = "$dir/node1" ] && echo "$p1" || echo "$p2")
    psql_on "$pp" -d "$db" -c "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$db') THEN CREATE ROLE $db LOGIN; END IF; END\$\$" \
      -c "ALTER DATABASE $db OWNER TO $db" -c "GRANT ALL ON SCHEMA public TO $db" >/dev/null
    echo "$params"
    ;;
  stop)
    for k in node1 node2 monitor; do
      [ -f "$dir/$k/PG_VERSION" ] || continue
      ac stop --pgdata "$dir/$k" >/dev/null 2>&1 || true
    done
    for k in node1 node2 monitor; do
      if p=$(keeper_pid "$dir/$k"); then
        for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        group_kill "$p"
      fi
      "${as[@]}" "$PG_BIN/pg_ctl" -D "$dir/$k" -m immediate stop >/dev/null 2>&1 || true
    done
    ;;
  env) echo "$params" ;;
  state) ac show state --pgdata "$dir/monitor" ;;
  primary)
    for n in 1 2; do
      if [ "$(psql_on $((port + n)) -d postgres -c 'SELECT pg_is_in_recovery()' 2>/dev/null)" = f ]; then
        echo "$dir/node$n"; exit 0; fi
    done
    exit 1
    ;;
  kill)
    n=${3:?pg-ha.sh kill DIR N}
    k=$(keeper_pid "$dir/node$n" || true)
    pm_pid=$(head -n 1 "$dir/node$n/postmaster.pid" 2>/dev/null || true)
    # The keeper's whole session (its supervisor and services), then PostgreSQL.
    [ -n "$k" ] && group_kill "$k"
    [ -n "$pm_pid" ] && kill -KILL "$pm_pid" 2>/dev/null || true
    # Its backends die when they see the postmaster gone; the port frees at once.
    [ -n "$pm_pid" ] && pkill -KILL -P "$pm_pid" 2>/dev/null || true
    ;;
  psql)
    n=${3:?pg-ha.sh psql DIR N ...}; shift 3
    psql_on $((port + n)) -d "$db" -U "$db" "$@"
    ;;
  *) echo "pg-ha.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
