#!/usr/bin/env bash
# `make bench`: wrk on loopback, 64 connections, event MPM (the shm cycles at
# 64 and at 256: BENCH_CONNS).  Each scenario is
# reported as req/s and p99 and as a ratio to a trivial handler
# (SetHandler lifecycle-baseline, no token) served by the same Apache in the
# same run.  A memory-only server and one with the journal (LifecycleStateDir,
# every change fdatasync'd before its 2xx) side by side, their runs
# interleaved (shm_round), with each one's CPU a request; then
# LifecycleStore dbd on a local PostgreSQL (build/pg.sh, fsync on, on the
# same cores): GET and the cycle against the trivial handler and against shm,
# then two Apache servers on that one database against one, with
# PostgreSQL's CPU time per transition.  Then the start-up replay of
# 1,000,000 journal records.  BENCH_DBD=0 leaves the dbd part out,
# BENCH_SHM=0 the shm servers and the replay (then dbd is not set against shm),
# BENCH_REPLAY=0 the replay alone.
# Then BENCH_WATCHERS (default 1000; 0 leaves it out) Notte agent WebSocket
# watchers open at once (build/bench_watchers.mjs, build/BENCH.md).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUN=$TOP/build/bench
PORT=${BENCH_PORT:-8099}
DUR=${BENCH_SECONDS:-10}
CONNS=64
export LC_BENCH_N=${LC_BENCH_N:-1024}
BENCH_N0=$LC_BENCH_N
# The event MPM's threads for a round of N connections (conf/bench.conf.in):
# four children, each with 64 threads, or 128 past 64 connections.
workers() { export LC_BENCH_TPC=$(( $1 > 64 ? 128 : 64 )); export LC_BENCH_MRW=$(( LC_BENCH_TPC * 4 )); }
workers 64
rm -rf "$RUN"; mkdir -p "$RUN"
tok=$TOP/build/lifecycle-token
"$tok" keygen --out "$RUN/keys" >/dev/null
export LC_TOKEN=$("$tok" mint --key "$RUN/keys/issuer.key" --ttl 7200 --sub bench \
                  --scope "workstations.read workstations.write lifecycle.admin")
export LC_TOKENS_FILE=$RUN/tokens.txt
for i in $(seq 2000); do
  "$tok" mint --key "$RUN/keys/issuer.key" --ttl 7200 --sub "bench$i" --scope workstations.read
done > "$LC_TOKENS_FILE"
user=""
if [ "$(id -u)" -eq 0 ]; then
  user=$'User www-data\nGroup www-data'
  chmod -R a+rX "$RUN"
fi
PORT2=$((PORT + 1))
for n in "" 2; do
  p=$PORT; [ -n "$n" ] && p=$PORT2
  mkdir -p "$RUN/rt$n"
  sed -e "s|@RUN@|$RUN|g" -e "s|@TOP@|$TOP|g" -e "s|@PORT@|$p|g" -e "s|@SERVER@|$n|g" \
      -e "s|@USER@|${user//$'\n'/\\n}|" "$TOP/conf/bench.conf.in" > "$RUN/httpd$n.conf"
done
[ -n "$user" ] && chown www-data: "$RUN/rt" "$RUN/rt2"
base=http://127.0.0.1:$PORT
base2=http://127.0.0.1:$PORT2
auth="Authorization: Bearer $LC_TOKEN"

start() { # [-2] [defines]: the first server, or (-2) the second one
  local n="" b=$base
  if [ "${1:-}" = -2 ]; then n=2; b=$base2; shift; fi
  /usr/sbin/apache2 -f "$RUN/httpd$n.conf" "$@" -k start
  for _ in $(seq 150); do curl -fs -o /dev/null "$b/baseline" && return 0; sleep 0.1; done
  echo "bench: the server did not start (see $RUN/error_log$n)" >&2; exit 1
}
stop() {
  local n
  for n in "" 2; do
    [ -f "$RUN/httpd$n.pid" ] || continue
    /usr/sbin/apache2 -f "$RUN/httpd$n.conf" -k stop 2>/dev/null || true
    for _ in $(seq 100); do [ -f "$RUN/httpd$n.pid" ] || break; sleep 0.1; done
  done
}
pgdir=$RUN/pg
pgstop() { [ -d "$pgdir" ] && bash "$TOP/build/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true; }
trap 'stop; pgstop' EXIT

seed() { # [-2] [prefixes]: on the first server or (-2) the second: one workstation
         # to GET, and LC_BENCH_N per wrk thread (bench-<prefix><thread>-<k>)
         # for the cycle, for each prefix.
  local b=$base
  if [ "${1:-}" = -2 ]; then b=$base2; shift; fi
  perl -MLWP::UserAgent -e '
    my ($base, $n, $auth, @pfx) = @ARGV; my $ua = LWP::UserAgent->new(keep_alive => 1);
    my $put = sub { my ($id, $st) = @_;
      my $r = $ua->put("$base/lifecycle/v1/resources/workstation/$id",
        "Content-Type" => "application/json", Authorization => $auth,
        Content => qq({"id":"$id","name":"bench","status":"$st","configuration":{"cpuCores":1,"memoryGB":1,"gpu":null,"storageGB":1,"region":"r"}}));
      die "seed $id: " . $r->status_line unless $r->is_success };
    $put->("ws-bench", "running");
    @pfx = ("") unless @pfx;
    for my $p (@pfx) { for my $t (0, 1) { $put->("bench-$p$t-$_", "stopped") for 0 .. $n - 1 } }' \
    "$b" "$LC_BENCH_N" "Bearer $LC_TOKEN" "$@"
}

# CPU time (clock ticks) of a process tree: the parent's own and its reaped
# children's, plus its live children's own (PostgreSQL's postmaster and
# backends; httpd's parent and children).
cpu_ticks() { # parent pid
  local pp=$1 t=0 c
  [ -n "$pp" ] && [ -r "/proc/$pp/stat" ] || { echo 0; return; }
  t=$(sed -E 's/^.*\) //' "/proc/$pp/stat" | awk '{print $12 + $13 + $14 + $15}')
  for c in $(pgrep -P "$pp"); do
    t=$((t + $(sed -E 's/^.*\) //' "/proc/$c/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0)))
  done
  echo "$t"
}
pg_pid() { head -n 1 "$pgdir/data/postmaster.pid" 2>/dev/null; }
httpd_pid() { cat "$RUN/httpd$1.pid" 2>/dev/null; }
all_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $5 + $6 + $7 + $8}' /proc/stat; }
httpd_ticks() { echo $(( $(cpu_ticks "$(httpd_pid "")") + $(cpu_ticks "$(httpd_pid 2)") )); }
idle_ticks() { awk '/^cpu / {print $5 + $6}' /proc/stat; }
requests() { awk '/requests in/ {n = $1} END {print n + 0}' "$RUN/$1.txt"; }

run() { # name, wrk args...
  local name=$1; shift
  # BENCH_PERF=1: a system-wide profile of each cycle's run (build/BENCH.md).
  local perf_pid=""
  if [ "${BENCH_PERF:-0}" != 0 ] && [[ $name == cycle-* ]]; then
    perf record -q -a ${BENCH_PERF_ARGS:--g} -o "$RUN/$name.perf" -- sleep "$((DUR - 1))" \
      >"$RUN/$name.perf.log" 2>&1 &
    perf_pid=$!
  fi
  # The Apache servers' CPU, the machine's idle and all CPU time (clock
  # ticks) and the requests over the run, into $name.cpu (cpu_figures).
  local a0 i0 t0
  a0=$(httpd_ticks) i0=$(idle_ticks) t0=$(all_ticks)
  wrk -t2 -c$CONNS -d${DUR}s --latency "$@" > "$RUN/$name.txt" 2>&1
  echo "$(( $(httpd_ticks) - a0 )) $(( $(idle_ticks) - i0 )) $(( $(all_ticks) - t0 ))" \
       "$(requests "$name")" > "$RUN/$name.cpu"
  if [ -n "$perf_pid" ] && ! wait "$perf_pid"; then
    echo "bench: perf record failed for $name (see $RUN/$name.perf.log)" >&2
  fi
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$RUN/$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$RUN/$name.txt")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$RUN/$name.txt")
  echo "$rps $p99 ${non2xx:-0}"
}

report() { # label, result, baseline req/s
  echo "$2" | awk -v label="$1" -v b="$3" \
    '{printf "%-44s %10.1f %15s %8.2fx %8d\n", label, $1, $2, $1 / b, $3}'
}

echo "make bench: wrk -t2 -c$CONNS -d${DUR}s on $base (event MPM), $(nproc) cores"
echo "(wrk and Apache share the cores: read the ratios, not the absolute numbers)"

get="0 0 0" cyc_j="0 0 0" cyc_mem="0 0 0"
# The store mutex and the journal as the server saw them, from its metrics
# (counters: "changes flushes acquisitions wait-seconds hold-seconds
# ring-full"), and over a server's cycle runs, the difference of two such samples:
# "changes, changes per flush, average mutex wait (us), average hold (us),
# changes that waited for room in the journal's ring".  The difference leaves
# out the seeding, whose changes come one at a time.
counters() { # server URL
  curl -s -H "$auth" "$1/lifecycle/v1/metrics" | awk '
    /^lifecycle_journal_flushes_total/ {f = $2} /^lifecycle_journal_durable_seq/ {c = $2}
    /^lifecycle_mutex_acquisitions_total/ {l = $2} /^lifecycle_mutex_wait_seconds_total/ {w = $2}
    /^lifecycle_mutex_hold_seconds_total/ {h = $2} /^lifecycle_journal_ring_full_total/ {r = $2}
    END {printf "%d %d %d %.6f %.6f %d\n", c, f, l, w, h, r}'
}
mutex_figures() { # counters before, counters after
  echo "$1 $2" | awk '{c = $7 - $1; f = $8 - $2; l = $9 - $3
    printf "%d %.1f %.1f %.1f %d\n", c, f ? c / f : 0, l ? ($10 - $4) * 1e6 / l : 0,
           l ? ($11 - $5) * 1e6 / l : 0, $12 - $6}'
}
# Two runs of equal length as one: mean req/s, both p99s, non-2xx summed.
merge() { echo "$1 $2" | awk '{printf "%.1f %s/%s %d\n", ($1 + $4) / 2, $2, $5, $3 + $6}'; }
# From the .cpu files of runs: Apache CPU a request (us), machine idle (%).
cpu_figures() { # run names
  local n
  for n in "$@"; do cat "$RUN/$n.cpu"; done | awk -v hz="$(getconf CLK_TCK)" '
    {a += $1; i += $2; t += $3; r += $4}
    END {printf "%.0f %.0f\n", r ? a / hz * 1e6 / r : 0, t ? 100 * i / t : 0}'
}
# One round at N connections: the memory-only server (the first) and the
# journaled one (the second, LifecycleStateDir) up side by side, their runs
# interleaved so that a drift of the shared machine's load falls on both:
# baseline, cycle on the memory-only server; baseline, cycle, cycle,
# baseline on the journaled one; cycle, baseline on the memory-only one.
# Each cycle run goes over workstations of its own (LC_BENCH_PREFIX), all
# stopped when it starts.
shm_round() { # connections
  CONNS=$1
  # A workstation's next step comes LC_BENCH_N requests after its last one,
  # on the same wrk thread: at least 4096 (about half a second of one
  # thread's requests here), more with more connections in flight.  1024
  # (110 ms at 64 connections) let a step that took longer, 167 ms at the
  # worst seen, be overtaken by the next and answer 400.
  local floor=$(( BENCH_N0 > 4096 ? BENCH_N0 : 4096 ))
  export LC_BENCH_N=$(( CONNS * 16 > floor ? CONNS * 16 : floor ))
  workers "$CONNS"
  start
  start -2 -D LC_JOURNAL
  seed m1 m2
  seed -2 j1 j2
  local b1 b2 b3 b4 m_mem m_j c1 c2 lua=$TOP/build/bench.lua
  b1=$(run baseline-a-$CONNS "$base/baseline")
  if [ "$CONNS" = 64 ]; then
    get=$(run get "$base/workstations/ws-bench" -H "$auth")
    fresh=$(run get-fresh-tokens -s "$TOP/build/bench_tokens.lua" "$base")
  fi
  m_mem=$(counters "$base")
  c1=$(LC_BENCH_PREFIX=m1 run cycle-mem-$CONNS-1 -s "$lua" "$base")
  b3=$(run baseline-b-$CONNS "$base2/baseline")
  m_j=$(counters "$base2")
  cyc_j=$(LC_BENCH_PREFIX=j1 run cycle-journal-$CONNS-1 -s "$lua" "$base2")
  cyc_j=$(merge "$cyc_j" "$(LC_BENCH_PREFIX=j2 run cycle-journal-$CONNS-2 -s "$lua" "$base2")")
  m_j=$(mutex_figures "$m_j" "$(counters "$base2")")
  b4=$(run baseline-b2-$CONNS "$base2/baseline")
  c2=$(LC_BENCH_PREFIX=m2 run cycle-mem-$CONNS-2 -s "$lua" "$base")
  m_mem=$(mutex_figures "$m_mem" "$(counters "$base")")
  cyc_mem=$(merge "$c1" "$c2")
  b2=$(run baseline-a2-$CONNS "$base/baseline")
  stop
  base_a=$(echo "$b1 $b2" | awk '{printf "%.1f", ($1 + $4) / 2}')
  base_b=$(echo "$b3 $b4" | awk '{printf "%.1f", ($1 + $4) / 2}')

  printf '\n%-44s %10s %15s %9s %8s\n' "memory-only server, $CONNS connections" req/s p99 ratio non-2xx
  report "baseline (trivial handler, no token)" "$b1" "$base_a"
  if [ "$CONNS" = 64 ]; then
    report "GET /workstations/{id} (token, cached)" "$get" "$base_a"
    report "GET, a new token each time (Ed25519)" "$fresh" "$base_a"
  fi
  report "launch / runner report / stop cycle (2 runs)" "$cyc_mem" "$base_a"
  report "baseline again" "$b2" "$base_a"
  printf '%-44s %10s %15s %9s %8s\n' "journaled server, $CONNS connections" req/s p99 ratio non-2xx
  report "baseline (trivial handler, no token)" "$b3" "$base_b"
  report "launch / runner report / stop cycle (2 runs)" "$cyc_j" "$base_b"
  report "baseline again" "$b4" "$base_b"
  echo "$cyc_j $cyc_mem" | awk -v c=$CONNS '{printf "%d connections: journaled cycle / memory-only cycle %.2fx\n", c, $1 / $4}'
  echo "$m_mem $(cpu_figures cycle-mem-$CONNS-1 cycle-mem-$CONNS-2)" | awk '{printf "  memory-only: store mutex average wait %.1f us, hold %.1f us; Apache CPU %d us a request, machine idle %d%%\n", $3, $4, $6, $7}'
  echo "$m_j $(cpu_figures cycle-journal-$CONNS-1 cycle-journal-$CONNS-2)" | awk '{printf "  journaled:   %d changes, %.1f changes per fdatasync, store mutex average wait %.1f us, hold %.1f us, %d waits for room in the ring; Apache CPU %d us a request, machine idle %d%%\n", $1, $2, $3, $4, $5, $6, $7}'
}
if [ "${BENCH_SHM:-1}" != 0 ]; then
  for c in ${BENCH_CONNS:-64 256}; do
    shm_round "$c"
    [ "$c" = 64 ] && cyc_j64=$cyc_j cyc_mem64=$cyc_mem
  done
  # The dbd part compares with the 64-connection figures.
  cyc_j=${cyc_j64:-$cyc_j} cyc_mem=${cyc_mem64:-$cyc_mem}
  CONNS=64
fi

# LifecycleStore dbd: a local PostgreSQL on the same two cores, fsync and
# synchronous_commit on (a 2xx means committed and flushed).
if [ "${BENCH_DBD:-1}" != 0 ]; then
  rm -rf "$pgdir"
  LC_DBD_PARAMS=$(PG_OPTS="-c shared_preload_libraries=pg_stat_statements -c max_connections=300" \
                  bash "$TOP/build/pg.sh" start "$pgdir")
  export LC_DBD_PARAMS
  psql() { bash "$TOP/build/pg.sh" psql "$pgdir" -Atq "$@"; }
  psql -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements'
  start -D LC_DBD
  export LC_BENCH_N=$BENCH_N0          # the dbd cycles run at 64 connections
  workers 64
  seed "" a b
  psql -c 'VACUUM ANALYZE' 2>/dev/null || true
  b5=$(run baseline-dbd "$base/baseline")
  get_d=$(run get-dbd "$base/workstations/ws-bench" -H "$auth")
  psql -c 'SELECT pg_stat_statements_reset()' >/dev/null
  pg0=$(cpu_ticks "$(pg_pid)"); ap0=$(cpu_ticks "$(httpd_pid "")"); all0=$(all_ticks)
  cyc_d=$(run cycle-dbd -s "$TOP/build/bench.lua" "$base")
  pg1=$(cpu_ticks "$(pg_pid)"); ap1=$(cpu_ticks "$(httpd_pid "")"); all1=$(all_ticks)
  # How the server saw it: answers that were not 2xx, lost races, 503s, batches.
  dbd_metrics=$(curl -s -H "$auth" "$base/lifecycle/v1/metrics" \
    | awk '/^lifecycle_requests_total/ && $1 !~ /2xx/ && $2 > 0 {print} /^lifecycle_dbd_(retries|unavailable|batches|batched)_total/ {print}')
  top_statements=$(psql -F ' | ' -c "SELECT calls, round((total_exec_time / calls)::numeric, 3),
      round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1),
      left(regexp_replace(query, '\s+', ' ', 'g'), 90)
      FROM pg_stat_statements WHERE calls > 100 ORDER BY total_exec_time DESC LIMIT 8")
  # Two servers on the one database, 32 connections each, each on its own
  # workstations; the same 64 connections on the first server alone before.
  start -2 -D LC_DBD
  b6=$(run baseline-dbd2 "$base/baseline")
  pg2=$(cpu_ticks "$(pg_pid)"); all2=$(all_ticks)
  LC_BENCH_PREFIX=a wrk -t2 -c$((CONNS / 2)) -d${DUR}s --latency -s "$TOP/build/bench.lua" "$base" \
      > "$RUN/cycle-two-a.txt" 2>&1 &
  wa=$!
  LC_BENCH_PREFIX=b wrk -t2 -c$((CONNS / 2)) -d${DUR}s --latency -s "$TOP/build/bench.lua" "$base2" \
      > "$RUN/cycle-two-b.txt" 2>&1
  wait $wa
  pg3=$(cpu_ticks "$(pg_pid)"); all3=$(all_ticks)
  two=$(for f in a b; do
          awk '/^Requests\/sec:/ {r = $2} $1 == "99%" {p = $2} /Non-2xx or 3xx responses:/ {n = $5}
               END {print r, p, n + 0}' "$RUN/cycle-two-$f.txt"
        done | awk '{r += $1; n += $3; p = p (p ? "/" : "") $2} END {printf "%.1f %s %d\n", r, p, n}')
  stop
  n_one=$(( $(requests cycle-dbd) - $(echo "$cyc_d" | awk '{print $3}') ))
  n_two=$(( $(requests cycle-two-a) + $(requests cycle-two-b) - $(echo "$two" | awk '{print $3}') ))
  hz=$(getconf CLK_TCK)
  base_d=$(echo "$b5 $b6" | awk '{printf "%.1f", ($1 + $4) / 2}')

  printf '\n%-44s %10s %15s %9s %8s\n' "LifecycleStore dbd (PostgreSQL, same cores)" req/s p99 ratio non-2xx
  report "baseline (trivial handler, no token)" "$b5" "$base_d"
  report "GET /workstations/{id} (token, cached)" "$get_d" "$base_d"
  report "launch / runner report / stop cycle" "$cyc_d" "$base_d"
  report "the cycle, two Apache servers, one database" "$two" "$base_d"
  report "baseline again (second server up)" "$b6" "$base_d"
  echo "$get_d $get $cyc_d $cyc_j $cyc_mem $two" | awk '{
    if ($4 && $10 && $13) printf "\ndbd against shm: GET %.2fx, cycle %.2fx the journaled one, %.2fx the memory-only one\n", $1 / $4, $7 / $10, $7 / $13
    printf "two servers against one, same database and cores: %.2fx\n", $16 / $7 }'
  echo "$((pg1 - pg0)) $((ap1 - ap0)) $((all1 - all0)) $n_one $((pg3 - pg2)) $((all3 - all2)) $n_two $hz" | awk '{
    hz = $8
    printf "one server, %d transitions: PostgreSQL %.1f s CPU = %.0f us a transition, Apache %.1f s = %.0f us; of the machine (%.1f CPU s): PostgreSQL %.0f%%, Apache %.0f%%, wrk and the rest %.0f%%\n",
      $4, $1 / hz, $4 ? $1 / hz * 1e6 / $4 : 0, $2 / hz, $4 ? $2 / hz * 1e6 / $4 : 0, $3 / hz,
      $3 ? 100 * $1 / $3 : 0, $3 ? 100 * $2 / $3 : 0, $3 ? 100 * ($3 - $1 - $2) / $3 : 0
    printf "two servers, %d transitions: PostgreSQL %.0f us CPU a transition\n", $7, $7 ? $5 / hz * 1e6 / $7 : 0
    if ($4 && $1) printf "ceiling one database sets: %.0f transitions/s per PostgreSQL core, so N hosts at R transitions/s each need N x R / %.0f of its cores\n",
      $4 * hz / $1, $4 * hz / $1 }'
  echo "$dbd_metrics" | awk '/batches_total/ {b = $2} /batched_total/ {n = $2} {print "  " $0}
    END {if (b) printf "  (%.1f transitions a batched statement)\n", n / b}'
  echo "where PostgreSQL's time went (pg_stat_statements, one-server cycle): calls | mean ms | % of time | statement"
  echo "$top_statements" | sed 's/^/  /'
  pgstop
fi

# WebSocket watchers: BENCH_WATCHERS (default 1000; 0 leaves it
# out) Notte agent watchers open at once on a memory-only server, each
# holding a worker thread (LifecycleWatchersPerChild): four children, the
# bound and the threads set from N.  build/bench_watchers.mjs opens them
# (npm's ws, installed into $RUN/ws) and times the opening and one reported
# step; Apache's threads and memory from /proc, GET /agents/{id} with them
# open against without (wrk, same run).
NW=${BENCH_WATCHERS:-1000}
if [ "$NW" != 0 ] && ! command -v npm >/dev/null; then
  echo; echo "watchers: no node/npm here, left out"
elif [ "$NW" != 0 ]; then
  wsdir=$RUN/ws
  mkdir -p "$wsdir"
  cp "$TOP/t/ws/package.json" "$TOP/build/bench_watchers.mjs" "$wsdir/"
  (cd "$wsdir" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1) \
    || { echo "bench: npm install of ws failed" >&2; exit 1; }
  export LC_WS_NODE_DIR=$wsdir
  export LC_WATCH_BOUND=$(( (NW + 3) / 4 + NW / 20 + 1 ))
  export LC_WATCH_THREADS=$((LC_WATCH_BOUND + 32)) LC_WATCH_ALL=$(( 4 * (LC_WATCH_BOUND + 32) ))
  export LC_AGENT_TOKEN=$("$tok" mint --key "$RUN/keys/issuer.key" --ttl 7200 --sub bench-agents \
                          --scope "agents.read agents.write")
  start -D LC_WATCH
  # Threads, RSS and PSS (kB) of the httpd parent and its children.
  httpd_mem() {
    local pp; pp=$(httpd_pid "")
    for p in $pp $(pgrep -P "$pp"); do
      awk '/^Threads:/ {t = $2} /^VmRSS:/ {r = $2} END {printf "%d %d ", t, r}' "/proc/$p/status"
      awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || echo 0
    done | awk '{t += $1; r += $2; s += $3; n++} END {print t, r, s, n}'
  }
  watchers_open() {
    curl -s -H "$auth" "$base/lifecycle/v1/metrics" | awk '/^lifecycle_watchers_open/ {print $2}'
  }
  wait_line() { # word: the helper's answer line starting with it
    local l
    for _ in $(seq 1200); do
      l=$(grep -m1 "^$1 " "$RUN/watchers.out" 2>/dev/null) && { echo "$l"; return 0; }
      kill -0 "$wpid" 2>/dev/null || break
      sleep 0.1
    done
    echo "bench: the watchers' helper gave no '$1' (see $RUN/watchers.out, $RUN/watchers.err)" >&2
    exit 1
  }
  mkfifo "$RUN/watchers.ctl"
  node "$wsdir/bench_watchers.mjs" "$base" "$NW" < "$RUN/watchers.ctl" \
       > "$RUN/watchers.out" 2> "$RUN/watchers.err" &
  wpid=$!
  exec 3> "$RUN/watchers.ctl"
  l=$(wait_line agent); read -r _ aid _ <<< "$l"
  mem0=$(httpd_mem)
  # Apache's CPU while idle, for BENCH_SECONDS, without and with the watchers
  # (each looks at its agent every 150 ms).
  c0=$(cpu_ticks "$(httpd_pid "")"); sleep "$DUR"; c1=$(cpu_ticks "$(httpd_pid "")")
  get0=$(run watch-get-without "$base/agents/$aid" -H "Authorization: Bearer $LC_AGENT_TOKEN")
  echo open >&3
  l=$(wait_line open); read -r _ t_open retries <<< "$l"
  n_open=$(watchers_open)
  mem1=$(httpd_mem)
  c2=$(cpu_ticks "$(httpd_pid "")"); sleep "$DUR"; c3=$(cpu_ticks "$(httpd_pid "")")
  get1=$(run watch-get-with "$base/agents/$aid" -H "Authorization: Bearer $LC_AGENT_TOKEN")
  echo step >&3
  l=$(wait_line step); read -r _ t_step got <<< "$l"
  echo close >&3
  l=$(wait_line closed); read -r _ t_close codes <<< "$l"
  exec 3>&-
  wait "$wpid" || true
  sleep 0.5
  n_after=$(watchers_open)
  stop
  printf '\n%-44s %10s %15s %9s %8s\n' "$NW WebSocket watchers, memory-only server" req/s p99 ratio non-2xx
  report "GET /agents/{id}, no watchers open" "$get0" "$(echo "$get0" | awk '{print $1}')"
  report "GET /agents/{id}, $NW watchers open" "$get1" "$(echo "$get0" | awk '{print $1}')"
  echo "$mem0 $mem1 $n_open $NW" | awk '{
    printf "  watchers open (lifecycle_watchers_open): %d of %d\n", $9, $10
    printf "  Apache (%d processes): threads %d -> %d, RSS %.1f -> %.1f MB, PSS %.1f -> %.1f MB\n",
      $8, $1, $5, $2 / 1024, $6 / 1024, $3 / 1024, $7 / 1024
    if ($9) printf "  per watcher: RSS %.1f kB, PSS %.1f kB\n", ($6 - $2) / $9, ($7 - $3) / $9 }'
  echo "$get0 $get1" | awk '{printf "  with / without: req/s %.2fx, p99 %s against %s\n", $4 / $1, $5, $2}'
  echo "$((c1 - c0)) $((c3 - c2)) $DUR $(getconf CLK_TCK)" | awk '{
    printf "  Apache idle CPU: %.1f%% of a core without, %.1f%% with them open\n", 100 * $1 / $4 / $3, 100 * $2 / $4 / $3 }'
  echo "  all $NW open in $t_open ms ($retries refused 503 and retried: a child at its bound of $LC_WATCH_BOUND)"
  echo "  one reported step reached $got of $NW watchers in $t_step ms"
  echo "  closed by the clients in $t_close ms, close codes $codes; open after: ${n_after:-?}"
  echo "  (LifecycleWatchersPerChild $LC_WATCH_BOUND, ThreadsPerChild $LC_WATCH_THREADS, 4 children; load: $(cut -d' ' -f1-3 /proc/loadavg))"
fi
echo
[ "${BENCH_SHM:-1}" = 0 ] || [ "${BENCH_REPLAY:-1}" = 0 ] || "$TOP/build/unit/bench_replay" "$RUN/replay"
