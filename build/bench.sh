#!/usr/bin/env bash
# `make bench`: wrk on loopback, 64 connections, event MPM.  Each scenario is
# reported as req/s and p99 and as a ratio to a trivial handler
# (SetHandler lifecycle-baseline, no token) served by the same Apache in the
# same run.  Two servers in turn: memory-only, then with the journal
# (LifecycleStateDir, every change fdatasync'd before its 2xx).  Then the
# start-up replay of 1,000,000 journal records.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUN=$TOP/build/bench
PORT=${BENCH_PORT:-8099}
DUR=${BENCH_SECONDS:-10}
CONNS=64
export LC_BENCH_N=${LC_BENCH_N:-1024}
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
sed -e "s|@RUN@|$RUN|g" -e "s|@TOP@|$TOP|g" -e "s|@PORT@|$PORT|g" \
    -e "s|@USER@|${user//$'\n'/\\n}|" "$TOP/conf/bench.conf.in" > "$RUN/httpd.conf"
base=http://127.0.0.1:$PORT
auth="Authorization: Bearer $LC_TOKEN"

start() { # [defines]
  /usr/sbin/apache2 -f "$RUN/httpd.conf" "$@" -k start
  for _ in $(seq 100); do curl -fs -o /dev/null "$base/baseline" && return 0; sleep 0.1; done
  echo "bench: the server did not start (see $RUN/error_log)" >&2; exit 1
}
stop() {
  /usr/sbin/apache2 -f "$RUN/httpd.conf" -k stop 2>/dev/null || true
  for _ in $(seq 100); do [ -f "$RUN/httpd.pid" ] || return 0; sleep 0.1; done
}
trap stop EXIT

seed() { # One workstation to GET, and LC_BENCH_N per wrk thread for the cycle.
  perl -MLWP::UserAgent -e '
    my ($base, $n, $auth) = @ARGV; my $ua = LWP::UserAgent->new(keep_alive => 1);
    my $put = sub { my ($id, $st) = @_;
      my $r = $ua->put("$base/lifecycle/v1/resources/workstation/$id",
        "Content-Type" => "application/json", Authorization => $auth,
        Content => qq({"id":"$id","name":"bench","status":"$st","configuration":{"cpuCores":1,"memoryGB":1,"gpu":null,"storageGB":1,"region":"r"}}));
      die "seed $id: " . $r->status_line unless $r->is_success };
    $put->("ws-bench", "running");
    for my $t (0, 1) { $put->("bench-$t-$_", "stopped") for 0 .. $n - 1 }' \
    "$base" "$LC_BENCH_N" "Bearer $LC_TOKEN"
}

run() { # name, wrk args...
  local name=$1; shift
  wrk -t2 -c$CONNS -d${DUR}s --latency "$@" > "$RUN/$name.txt" 2>&1
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$RUN/$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$RUN/$name.txt")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$RUN/$name.txt")
  echo "$rps $p99 ${non2xx:-0}"
}

report() { # label, result, baseline req/s
  echo "$2" | awk -v label="$1" -v b="$3" \
    '{printf "%-44s %10.1f %9s %8.2fx %8d\n", label, $1, $2, $1 / b, $3}'
}

echo "make bench: wrk -t2 -c$CONNS -d${DUR}s on $base (event MPM), $(nproc) cores"
echo "(wrk and Apache share the cores: read the ratios, not the absolute numbers)"

# Memory only.
start
seed
b1=$(run baseline-a "$base/baseline")
get=$(run get "$base/workstations/ws-bench" -H "$auth")
fresh=$(run get-fresh-tokens -s "$TOP/build/bench_tokens.lua" "$base")
cyc_mem=$(run cycle-mem -s "$TOP/build/bench.lua" "$base")
b2=$(run baseline-a2 "$base/baseline")
stop
base_a=$(echo "$b1 $b2" | awk '{printf "%.1f", ($1 + $4) / 2}')

# With the journal.
start -D LC_JOURNAL
seed
b3=$(run baseline-b "$base/baseline")
cyc_j=$(run cycle-journal -s "$TOP/build/bench.lua" "$base")
b4=$(run baseline-b2 "$base/baseline")
metrics=$(curl -s -H "$auth" "$base/lifecycle/v1/metrics")
flushes=$(echo "$metrics" | awk '/^lifecycle_journal_flushes_total/ {print $2}')
changes=$(echo "$metrics" | awk '/^lifecycle_journal_durable_seq/ {print $2}')
locks=$(echo "$metrics" | awk '/^lifecycle_mutex_acquisitions_total/ {print $2}')
waited=$(echo "$metrics" | awk '/^lifecycle_mutex_wait_seconds_total/ {print $2}')
stop
base_b=$(echo "$b3 $b4" | awk '{printf "%.1f", ($1 + $4) / 2}')

printf '\n%-44s %10s %9s %9s %8s\n' "memory-only server" req/s p99 ratio non-2xx
report "baseline (trivial handler, no token)" "$b1" "$base_a"
report "GET /workstations/{id} (token, cached)" "$get" "$base_a"
report "GET, a new token each time (Ed25519)" "$fresh" "$base_a"
report "launch / runner report / stop cycle" "$cyc_mem" "$base_a"
report "baseline again" "$b2" "$base_a"
printf '\n%-44s %10s %9s %9s %8s\n' "journaled server (fdatasync per 2xx)" req/s p99 ratio non-2xx
report "baseline (trivial handler, no token)" "$b3" "$base_b"
report "launch / runner report / stop cycle" "$cyc_j" "$base_b"
report "baseline again" "$b4" "$base_b"
echo "$cyc_j $cyc_mem" | awk '{printf "\njournal on / off, same cycle: %.2fx\n", $1 / $4}'
echo "journal: $changes changes made durable by $flushes fdatasync calls (group commit)"
echo "$locks $waited" | awk '{printf "store mutex: %d acquisitions, %.1f us average wait\n", $1, $1 ? $2 * 1e6 / $1 : 0}'
echo
"$TOP/build/unit/bench_replay" "$RUN/replay"
