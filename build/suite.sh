#!/usr/bin/env bash
# The Apache::Test suite under each MPM, run as an unprivileged user.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
MPMS=${MPMS:-"event prefork"}
pass=0; fail=0
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
# Tokens from third-party libraries (jose, paseto from npm), test only.
tp=build/thirdparty
mkdir -p "$tp"
cp t/thirdparty/package.json t/thirdparty/mint.mjs "$tp/"
for attempt in 1 2 3; do
  (cd "$tp" && npm install --no-audit --no-fund --loglevel=error >/dev/null 2>&1) && break
  [ "$attempt" = 3 ] && { echo "suite: npm install of jose and paseto failed" >&2; exit 1; }
  sleep 5
done
node "$tp/mint.mjs" "$keys"
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

for mpm in $MPMS; do
  echo "== Apache::Test, $mpm MPM"
  perl t/TEST.PL -clean >/dev/null 2>&1 || true
  rm -f t/logs/sanitizer.*
  LC_MPM=$mpm perl t/TEST.PL -apxs "$(command -v apxs)" -httpd "$httpd" \
       -httpd_conf "$TOP/t/mpm/$mpm.conf" -port "$(free_port)" ${TEST_FILES:-}
  rc=$?
  if [ -n "${SANITIZE:-}" ] && reports=$(san_reports); then
    echo "== sanitizer reports under the $mpm MPM:"
    for f in $(echo "$reports" | head -n 3); do echo "-- $f"; grep -aE -m1 -A 30 'ERROR: |runtime error:|exit signal Abort' "$f"; done
    rm -rf build/sanitizer.$mpm; mkdir -p build/sanitizer.$mpm && cp $reports build/sanitizer.$mpm/ 2>/dev/null
    rc=1
  fi
  if [ "$rc" -eq 0 ]; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1))
    cp t/logs/error_log "build/error_log.$mpm" 2>/dev/null || true
    echo "== FAILED under the $mpm MPM; the server's last words (audit lines left out):"
    grep -av ' audit kind=' t/logs/error_log 2>/dev/null | tail -n 40 || true
  fi
done
perl t/TEST.PL -clean >/dev/null 2>&1 || true
echo "suite: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
