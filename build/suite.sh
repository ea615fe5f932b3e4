#!/usr/bin/env bash
# The Apache::Test suite under each MPM, run as an unprivileged user; then once
# more against `LifecycleStore dbd` (DBD_MPM, default event) with a throw-away
# PostgreSQL of build/pg.sh, started before that run and stopped after it.
#   MPMS     the shm runs (default "event prefork"; "none": no shm run)
#   DBD_MPM  the MPM of the dbd run (default event; empty: no dbd run; default
#            empty under SANITIZE=1, which CI runs with one MPM to stay in budget)
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
MPMS=${MPMS:-"event prefork"}
[ "$MPMS" = none ] && MPMS=
if [ -z "${DBD_MPM+set}" ]; then
  if [ -n "${SANITIZE:-}" ]; then DBD_MPM=; else DBD_MPM=event; fi
fi
pass=0; fail=0; skipped=""
# SANITIZE=1: httpd runs through build/san-httpd.sh (libasan preloaded, the
# sanitized module loaded, reports written to t/logs/sanitizer.<pid>).
httpd=/usr/sbin/apache2
if [ -n "${SANITIZE:-}" ]; then
  httpd="$TOP/build/san-httpd.sh"
  export LC_SANITIZE=1
fi
# Any sanitizer report in t/logs (its own files, or stderr in the error_log).
san_reports() {
  grep -rlaE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: [A-Za-z]+Sanitizer|exit signal Abort' t/logs 2>/dev/null
}

# Keys and tokens for the suite: an issuer key (configured), a second key
# (configured, for rotation), and a stranger's key (not configured).
keys=t/conf/keys
rm -rf "$keys"; mkdir -p "$keys"
tok=build/lifecycle-token
for k in issuer issuer2 stranger; do
  "$tok" keygen --out "$keys/$k.d" >/dev/null
  for f in key pub jwk; do mv "$keys/$k.d/issuer.$f" "$keys/$k.$f"; done
  rmdir "$keys/$k.d"
done
# Every dialect's default scopes (from the registry), and the LifecycleScope
# of t/conf's /scoped location.
all="$(bash build/scopes.sh) ops.read ops.write" || exit 1
"$tok" mint --key "$keys/issuer.key" --scope "$all" --ttl 86400 --sub suite --aud lifecycle-test \
  --iss https://issuer.test > "$keys/all.token"
# npm_here DIR WHAT FILE...: FILEs of t/ copied into DIR and their
# package.json's packages installed there (test only; the network may blink).
npm_here() {
  local dir=$1 what=$2 attempt; shift 2
  mkdir -p "$dir" && cp "$@" "$dir/" || { echo "suite: cannot copy $* into $dir" >&2; exit 1; }
  for attempt in 1 2 3; do
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1) && return 0
    sleep 5
  done
  echo "suite: npm install of $what failed" >&2; exit 1
}
# Tokens from third-party libraries (jose, paseto from npm).
tp=build/thirdparty
npm_here "$tp" "jose and paseto" t/thirdparty/package.json t/thirdparty/mint.mjs
node "$tp/mint.mjs" "$keys"
# A real WebSocket client (ws, from npm) for t/notte_ws.t.
wsdir=build/ws
npm_here "$wsdir" ws t/ws/package.json t/ws/watch.mjs
export LC_WS_NODE_DIR="$TOP/$wsdir"
export PERL5OPT="-I$TOP/t/lib -MLcAuth"
export LC_TEST_KEYS="$TOP/$keys"
# A port nobody listens on: Apache::Test's own "-port select" starts at 8529
# and takes a server there for a stale one of its own.  The scan starts at a
# random multiple of 10 (a server takes a few ports): suites running at once
# on one machine would otherwise pick neighbouring ports, and one could take
# another's while a test restarts its server (durability.t, crash.t).
free_port() {
  local p k start=$((8529 + 10 * (RANDOM % 47)))
  for k in $(seq 0 470); do
    p=$((8529 + (start - 8529 + k) % 471))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  echo 8529
}

# The throw-away PostgreSQL of the dbd run: a short path (the socket's name
# must stay under 107 bytes), stopped and removed however the suite ends.
pgdir=""
pg_cleanup() {
  if [ -n "$pgdir" ]; then
    bash build/pg.sh stop "$pgdir" immediate >/dev/null 2>&1 || true
    rm -rf "$pgdir"; pgdir=""
  fi
}
trap pg_cleanup EXIT
trap 'pg_cleanup; exit 130' INT TERM
# Does this module have `LifecycleStore dbd` at all?  (Not before the dbd
# backend is merged: then the dbd run is skipped, loudly.)
dbd_refusal() {
  local conf
  conf=$(mktemp /tmp/lc-dbd-probe.XXXXXX)
  printf 'ServerRoot /tmp\nLoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\nLoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\nLoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so\nLoadModule lifecycle_module %s\nLifecycleStore dbd\n' \
    "$TOP/build/${SANITIZE:+san/}mod_lifecycle.so" > "$conf"
  local said
  said=$("$httpd" -t -f "$conf" 2>&1 | grep -a 'is not a store this module has')
  rm -f "$conf"
  [ -n "$said" ] && echo "$said"
}

runs=""
for mpm in $MPMS; do runs="$runs $mpm:shm"; done
if [ -n "$DBD_MPM" ]; then
  if refusal=$(dbd_refusal); then
    echo "== SKIPPED: the run against LifecycleStore dbd: this module has no dbd backend:"
    echo "   $refusal"
    skipped=" (the dbd run skipped: no dbd backend)"
  else
    runs="$runs $DBD_MPM:dbd"
  fi
fi

for run in $runs; do
  mpm=${run%%:*}; store=${run#*:}
  defines=(); label="$mpm MPM"
  unset LC_STORE LC_PG_DIR LC_DBD_PARAMS PG_OPTS
  if [ "$store" = dbd ]; then
    label="$mpm MPM, LifecycleStore dbd"
    pgdir=$(mktemp -d /tmp/lcpg.XXXXXX)
    # fsync off: nothing here survives the machine, and a process killed
    # (httpd, or PostgreSQL by t/dbd_outage.t) loses nothing the kernel has.
    SECONDS=0
    # Exported: t/dbd_outage.t stops and starts the cluster with build/pg.sh.
    export PG_OPTS="-c fsync=off -c full_page_writes=off -c max_connections=200"
    if ! params=$(bash build/pg.sh start "$pgdir"); then
      echo "== FAILED: PostgreSQL for the dbd run did not start"
      fail=$((fail + 1)); pg_cleanup; continue
    fi
    echo "== PostgreSQL for the dbd run: $params (${SECONDS} s)"
    # The dbd backend's unit tests against it, on a database of their own
    # (they drop and make the tables): the store contract without httpd.
    unit_dbd=build/${SANITIZE:+san/}unit/test_dbd
    if [ -z "${SKIP_UNIT:-}" ] && [ -x "$unit_dbd" ]; then
      echo "== $unit_dbd against PostgreSQL"
      bash build/pg.sh psql "$pgdir" -qc 'CREATE DATABASE lc_unit' >/dev/null
      if ! LC_TEST_DBD_PARAMS=${params/dbname=lifecycle/dbname=lc_unit} "$unit_dbd"; then
        echo "== FAILED: $unit_dbd against PostgreSQL"
        fail=$((fail + 1))
      fi
    fi
    export LC_STORE=dbd LC_PG_DIR=$pgdir LC_DBD_PARAMS=$params
    defines=(-defines LC_DBD)
  fi
  echo "== Apache::Test, $label"
  SECONDS=0
  perl t/TEST.PL -clean >/dev/null 2>&1 || true
  rm -f t/logs/sanitizer.*
  LC_MPM=$mpm perl t/TEST.PL -apxs "$(command -v apxs)" -httpd "$httpd" \
       -httpd_conf "$TOP/t/mpm/$mpm.conf" "${defines[@]}" -port "$(free_port)" ${TEST_FILES:-}
  rc=$?
  echo "== $label: ${SECONDS} s"
  tag=$mpm; [ "$store" = dbd ] && tag=$mpm-dbd
  if [ -n "${SANITIZE:-}" ] && reports=$(san_reports); then
    echo "== sanitizer reports under the $label:"
    for f in $(echo "$reports" | head -n 3); do echo "-- $f"; grep -aE -m1 -A 30 'ERROR: |runtime error:|exit signal Abort' "$f"; done
    rm -rf build/sanitizer.$tag; mkdir -p build/sanitizer.$tag && cp $reports build/sanitizer.$tag/ 2>/dev/null
    rc=1
  fi
  if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    cp t/logs/error_log "build/error_log.$tag" 2>/dev/null || true
    echo "== FAILED under the $label; the server's last words (audit lines left out):"
    grep -av ' audit kind=' t/logs/error_log 2>/dev/null | tail -n 40 || true
    if [ "$store" = dbd ]; then
      cp "$pgdir/postgresql.log" build/postgresql.log.dbd 2>/dev/null || true
      echo "== PostgreSQL's last words (build/postgresql.log.dbd):"
      tail -n 15 "$pgdir/postgresql.log" 2>/dev/null || true
    fi
  fi
  [ "$store" = dbd ] && pg_cleanup
done
perl t/TEST.PL -clean >/dev/null 2>&1 || true
echo "suite: $pass passed, $fail failed$skipped"
[ "$fail" -eq 0 ]
