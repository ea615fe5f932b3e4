#!/usr/bin/env bash
# Installs what a target needs when it is missing (Debian 12).  Usage: deps.sh build|test|run|bench|san|fuzz|deb|deb-test
set -euo pipefail
want=(apache2 apache2-dev libjansson-dev libsodium-dev curl)
# LifecycleStore dbd: PostgreSQL (a throw-away cluster of build/pg.sh, never
# the system service) and APR's pgsql driver, which mod_dbd loads.
pg=(postgresql libaprutil1-dbd-pgsql)
# High availability (conf/HA.md, build/pg-ha.sh, t/dbd_autofailover.t): pg_auto_failover.
pgha=(pg-auto-failover-cli postgresql-15-auto-failover)
case "${1:-build}" in
  # groff-base: t/cli.t renders the man pages.
  test)  want+=(libapache2-mod-perl2 libwww-perl wrk groff-base man-db "${pg[@]}" "${pgha[@]}") ;;
  run)   want+=("${pg[@]}" "${pgha[@]}") ;;
  bench) want+=(wrk libwww-perl "${pg[@]}") ;;
  # SANITIZE=1: gcc's ASan and UBSan (libgcc-12-dev links them, libasan8 is
  # preloaded into httpd).
  san)   want+=(gcc libgcc-12-dev libasan8 libubsan1) ;;
  # make fuzz: clang with libFuzzer and its sanitizer runtimes.
  fuzz)  want+=(clang libclang-rt-14-dev) ;;
  # make deb: Debian's packaging tools; make deb-test: a Debian 12 root to install into.
  deb)   want+=(dpkg-dev debhelper fakeroot lintian) ;;
  deb-test) want+=(dpkg-dev debootstrap) ;;
esac
missing=()
# Node and npm mint the third-party tokens of the test suite; they may come
# from another repository than Debian's, so look for the commands.
if [ "${1:-build}" = test ]; then
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
fi
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "deps: missing packages (${missing[*]}) and not root: install them with apt-get" >&2; exit 1
  fi
else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
