#!/usr/bin/env bash
# The Apache::Test suite under each MPM, run as an unprivileged user.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
MPMS=${MPMS:-"event prefork"}
pass=0; fail=0
for mpm in $MPMS; do
  echo "== Apache::Test, $mpm MPM"
  perl t/TEST.PL -clean >/dev/null 2>&1 || true
  if LC_MPM=$mpm perl t/TEST.PL -apxs "$(command -v apxs)" -httpd /usr/sbin/apache2 \
       -httpd_conf "$TOP/t/mpm/$mpm.conf" -port select ${TEST_FILES:-}; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); echo "== FAILED under the $mpm MPM (logs: t/logs/error_log)"
    tail -n 40 t/logs/error_log 2>/dev/null || true
  fi
done
perl t/TEST.PL -clean >/dev/null 2>&1 || true
echo "suite: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
