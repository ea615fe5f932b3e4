#!/usr/bin/env bash
# `make test`.  Apache::Test refuses to run as root: as root, copy the tree
# into a folder an unprivileged user owns (CI's checkout may sit under a
# mode-700 parent) and run the suite as that user.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
  exec make -C "$TOP" --no-print-directory suite
fi
user=lctest
id -u "$user" >/dev/null 2>&1 || useradd --system --create-home --shell /bin/bash "$user"
work=$(mktemp -d /tmp/lifecycle-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
tar -C "$TOP" --exclude=./build/obj --exclude=./build/unit --exclude=./build/run --exclude=./build/bench \
    --exclude=./build/san --exclude=./build/fuzz --exclude=./t/logs --exclude=./.git -cf - . | tar -C "$work" -xf -
chown -R "$user:" "$work"
echo "test: running the suite as '$user' in $work"
# DBD_MPM passes through only when set (unset: build/suite.sh's default).
runuser -u "$user" -- env SANITIZE="${SANITIZE:-}" SKIP_UNIT="${SKIP_UNIT:-}" MPMS="${MPMS:-event prefork}" \
    ${DBD_MPM+"DBD_MPM=$DBD_MPM"} TEST_FILES="${TEST_FILES:-}" make -C "$work" --no-print-directory suite
