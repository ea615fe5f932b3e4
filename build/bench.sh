#!/usr/bin/env bash
# `make bench`: wrk on loopback, 64 connections, event MPM.  Each scenario is
# reported as req/s and p99 and as a ratio to a trivial handler
# (SetHandler lifecycle-baseline) served by the same Apache in the same run.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUN=$TOP/build/bench
PORT=${BENCH_PORT:-8099}
DUR=${BENCH_SECONDS:-10}
CONNS=64
export LC_BENCH_N=${LC_BENCH_N:-1024}
mkdir -p "$RUN"
user=""
if [ "$(id -u)" -eq 0 ]; then user=$'User www-data\nGroup www-data'; fi
sed -e "s|@RUN@|$RUN|g" -e "s|@TOP@|$TOP|g" -e "s|@PORT@|$PORT|g" \
    -e "s|@USER@|${user//$'\n'/\\n}|" "$TOP/conf/bench.conf.in" > "$RUN/httpd.conf"
/usr/sbin/apache2 -f "$RUN/httpd.conf" -k start
trap '/usr/sbin/apache2 -f "$RUN/httpd.conf" -k stop' EXIT
base=http://127.0.0.1:$PORT
for _ in $(seq 50); do curl -fs -o /dev/null "$base/baseline" && break; sleep 0.1; done

# Seed: one workstation to GET, and LC_BENCH_N per wrk thread for the cycle.
perl -MLWP::UserAgent -e '
  my ($base, $n) = @ARGV; my $ua = LWP::UserAgent->new(keep_alive => 1);
  my $put = sub { my ($id, $st) = @_;
    my $r = $ua->put("$base/lifecycle/v1/resources/workstation/$id",
      "Content-Type" => "application/json",
      Content => qq({"id":"$id","name":"bench","status":"$st","configuration":{"cpuCores":1,"memoryGB":1,"gpu":null,"storageGB":1,"region":"r"}}));
    die "seed $id: " . $r->status_line unless $r->is_success };
  $put->("ws-bench", "running");
  for my $t (0, 1) { $put->("bench-$t-$_", "stopped") for 0 .. $n - 1 }' "$base" "$LC_BENCH_N"

run() { # name, wrk args...
  local name=$1; shift
  wrk -t2 -c$CONNS -d${DUR}s --latency "$@" > "$RUN/$name.txt" 2>&1
  local rps p99 non2xx
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$RUN/$name.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$RUN/$name.txt")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $5}' "$RUN/$name.txt")
  echo "$name $rps $p99 ${non2xx:-0}"
}

echo "make bench: wrk -t2 -c$CONNS -d${DUR}s on $base (event MPM), $(nproc) cores"
r_base1=$(run baseline "$base/baseline")
r_get=$(run get "$base/workstations/ws-bench")
r_cycle=$(run cycle -s "$TOP/build/bench.lua" "$base")
r_base2=$(run baseline2 "$base/baseline")

base_rps=$(echo "$r_base1 $r_base2" | awk '{printf "%.1f", ($2 + $6) / 2}')
printf '\n%-34s %12s %10s %9s %8s\n' scenario req/s p99 ratio non-2xx
report() { # label, result line
  echo "$2" | awk -v label="$1" -v b="$base_rps" \
    '{printf "%-34s %12.1f %10s %8.2fx %8d\n", label, $2, $3, $2 / b, $4}'
}
report "baseline (trivial handler, first)" "$r_base1"
report "baseline (trivial handler, last)" "$r_base2"
report "GET /workstations/{id}" "$r_get"
report "launch / runner PUT / stop cycle" "$r_cycle"
echo
echo "ratios are to the mean of the two baseline runs ($base_rps req/s); raw wrk output in build/bench/"
