#!/usr/bin/env bash
# make deb-test: installs the package into a clean Debian 12 root and walks the
# conf/GUIDE.md's "Installing the Debian package" steps in it.  Usage: deb-test.sh PKG.deb
#
# The root is made by debootstrap (minbase, from the mirror of DEB_TEST_MIRROR,
# default deb.debian.org) once and kept as build/deb-test/bookworm.tar; each run
# unpacks a fresh copy under /var/tmp, chroots into it (proc and dev mounted),
# and removes it at the end.  Needs root and the mirror (apt installs apache2 and
# the package's dependencies from it).  Services do not start by themselves in
# the root (policy-rc.d); Apache is started with apache2ctl on 127.0.0.1:PORT
# (DEB_TEST_PORT, default a free port from 18080), sharing the host's network.
set -euo pipefail
deb=$(readlink -f "${1:?usage: deb-test.sh PKG.deb}")
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "deb-test: needs root (debootstrap, chroot)" >&2; exit 1; }
mirror=${DEB_TEST_MIRROR:-http://deb.debian.org/debian}
cache=build/deb-test/bookworm.tar
pkg=$(dpkg-deb -f "$deb" Package)

if [ ! -s "$cache" ]; then
  echo "deb-test: debootstrap bookworm (minbase) from $mirror"
  mkdir -p build/deb-test
  boot=$(mktemp -d /var/tmp/lc-debootstrap.XXXXXX)
  debootstrap --variant=minbase bookworm "$boot" "$mirror" >build/deb-test/debootstrap.log 2>&1 || {
    tail -n 20 build/deb-test/debootstrap.log; rm -rf "$boot"
    echo "deb-test: debootstrap failed (no mirror?): see build/deb-test/debootstrap.log" >&2; exit 1; }
  tar -C "$boot" -cf "$cache.tmp" . && mv "$cache.tmp" "$cache"
  rm -rf "$boot"
fi

root=$(mktemp -d /var/tmp/lc-deb-root.XXXXXX)
cleanup() {
  set +e
  chroot "$root" apache2ctl stop >/dev/null 2>&1
  sleep 1
  for m in dev proc; do mountpoint -q "$root/$m" && umount -R "$root/$m"; done
  if mountpoint -q "$root/proc" || mountpoint -q "$root/dev"; then
    echo "deb-test: $root still has mounts: not removed" >&2
  else
    rm -rf "$root"
  fi
}
trap cleanup EXIT
tar -C "$root" -xf "$cache"
# It is the root's "/": the server's User (www-data) must be able to search
# it, as on a real machine (mktemp made it, and the tar's ".", 0700).
chmod 755 "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"; chmod 755 "$root/usr/sbin/policy-rc.d"
cp "$deb" "$root/tmp/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
                   DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
fail() {
  echo "deb-test: FAIL: $*" >&2
  if [ -s "$root/var/log/apache2/error.log" ]; then
    echo "deb-test: the root's Apache error log, last lines:" >&2
    tail -n 25 "$root/var/log/apache2/error.log" >&2
  fi
  exit 1
}
ok() { echo "deb-test: ok: $*"; }
# A request that fails prints 000 and goes on to the check that names it
# (and shows the log), instead of ending the script under `set -e`.
curl() { command curl "$@" || true; }

port=${DEB_TEST_PORT:-}
if [ -z "$port" ]; then
  for port in $(seq 18080 18180); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || break; done
fi

# 1. apt install ./PKG.deb: apache2 and the dependencies come from the mirror.
echo "deb-test: apt install ./$(basename "$deb") in a fresh bookworm root ($root)"
in_root apt-get update -qq
in_root apt-get install -y -qq "/tmp/$(basename "$deb")" curl >"$root/tmp/install.log" 2>&1 ||
  { tail -n 30 "$root/tmp/install.log"; fail "apt install"; }
in_root dpkg-query -W -f='${Status}\n' "$pkg" | grep -qx 'install ok installed' || fail "$pkg not installed"
for f in /usr/lib/apache2/modules/mod_lifecycle.so /etc/apache2/mods-available/lifecycle.load \
         /etc/apache2/mods-available/lifecycle.conf /usr/bin/lifecycle-token /usr/bin/lifecycle-journal \
         /usr/bin/lifecycle-runner /usr/share/man/man1/lifecycle-runner.1.gz \
         /lib/systemd/system/lifecycle-runner.service /etc/lifecycle-runner/lifecycle-runner.conf; do
  [ -e "$root$f" ] || fail "$f missing"
done
[ "$(in_root stat -c %U:%G:%a /var/lib/lifecycle)" = www-data:www-data:750 ] || fail "/var/lib/lifecycle not www-data 0750"
in_root getent passwd lifecycle-runner >/dev/null || fail "no lifecycle-runner user"
[ ! -e "$root/etc/apache2/mods-enabled/lifecycle.load" ] || fail "module enabled by the install"
ok "installed: files, /var/lib/lifecycle www-data 0750, user lifecycle-runner, module not enabled"

# 2. a2enmod lifecycle; Apache starts without a key (warns, refuses with 401).
echo "Listen 127.0.0.1:$port" >"$root/etc/apache2/ports.conf"
echo "ServerName 127.0.0.1" >>"$root/etc/apache2/apache2.conf"
sed -i "s/<VirtualHost \*:80>/<VirtualHost *:$port>/" "$root/etc/apache2/sites-available/000-default.conf"
in_root a2enmod -q lifecycle
in_root apache2ctl configtest 2>&1 | grep -q 'Syntax OK' || { in_root apache2ctl configtest; fail configtest; }
in_root apache2ctl start
base=http://127.0.0.1:$port
for _ in $(seq 50); do curl -s -o /dev/null "$base/" && break; sleep 0.1; done
in_root apache2ctl -M 2>/dev/null | grep -q lifecycle_module || fail "lifecycle_module not loaded"
code=$(curl -s -o /dev/null -w '%{http_code}' "$base/workstations/ws-1")
[ "$code" = 401 ] || fail "no key: $code, not 401"
grep -qi 'LifecycleTokenKey' "$root/var/log/apache2/error.log" || fail "no warning about the missing key"
ok "a2enmod, configtest, start with no key: 401 and a warning"

# 3. conf/GUIDE.md's key steps: keygen (the secret key stays out of Apache's tree),
#    the public key to /etc/apache2/lifecycle/issuer.pub, reload, a minted token.
in_root lifecycle-token keygen --out /root/lifecycle-issuer >/dev/null
in_root install -D -m 644 /root/lifecycle-issuer/issuer.pub /etc/apache2/lifecycle/issuer.pub
in_root apache2ctl graceful
sleep 2
token=$(in_root lifecycle-token mint --key /root/lifecycle-issuer/issuer.key \
        --scope "lifecycle.admin workstations.read workstations.write" --ttl 600 --sub deb-test)
auth="Authorization: Bearer $token"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "$auth" -H 'Content-Type: application/json' \
       --data '{"id":"ws-1","name":"deb-test","status":"running","configuration":{"cpuCores":2,"memoryGB":4,"gpu":null,"storageGB":20,"region":"eu-west-1"}}' \
       "$base/lifecycle/v1/resources/workstation/ws-1")
[ "$code" = 201 ] || fail "admin PUT: $code"
body=$(curl -s -H "$auth" "$base/workstations/ws-1")
echo "$body" | grep -q '"status":"running"' || fail "GET workstation: $body"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "$auth" "$base/workstations/ws-1/stop")
case $code in 200|202) ;; *) fail "POST stop: $code" ;; esac
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/workstations/ws-1")" = 401 ] || fail "no token: not 401"
ok "key installed, reload: a minted token creates, reads and stops a workstation; no token is 401"

# 4. Journaled: the state survives a full stop and start of Apache.
sleep 3   # LifecycleAutoAdvance 2s: stopping -> stopped
before=$(curl -s -H "$auth" "$base/workstations/ws-1")
in_root apache2ctl stop; sleep 2
ls "$root/var/lib/lifecycle" | grep -q . || fail "nothing in /var/lib/lifecycle"
in_root runuser -u www-data -- lifecycle-journal check /var/lib/lifecycle >/dev/null || fail "lifecycle-journal check"
[ -z "$(find "$root/var/lib/lifecycle" ! -user www-data)" ] || fail "a file in /var/lib/lifecycle not www-data's"
in_root apache2ctl start
for _ in $(seq 50); do curl -s -o /dev/null "$base/" && break; sleep 0.1; done
after=$(curl -s -H "$auth" "$base/workstations/ws-1")
[ "$before" = "$after" ] && echo "$after" | grep -q '"status":"stopped"' || fail "after restart: $after (before: $before)"
ok "journal in /var/lib/lifecycle (www-data's) keeps the workstation across a stop and start; lifecycle-journal check passes"

# 5. The runner: its packaged configuration and a token checked as its user.
in_root lifecycle-token mint --key /root/lifecycle-issuer/issuer.key --scope lifecycle.admin \
        --ttl 600 --sub runner >"$root/etc/lifecycle-runner/token"
in_root chown lifecycle-runner: /etc/lifecycle-runner/token; chmod 600 "$root/etc/lifecycle-runner/token"
sed -i "s|^url = .*|url = $base|" "$root/etc/lifecycle-runner/lifecycle-runner.conf"
in_root runuser -u lifecycle-runner -- lifecycle-runner --config /etc/lifecycle-runner/lifecycle-runner.conf --check \
  >/dev/null || fail "lifecycle-runner --check as lifecycle-runner"
ok "lifecycle-runner --check as user lifecycle-runner with the packaged configuration"

# 6. Remove, then purge: the module is disabled by the helper, Apache still
#    starts, and nothing of the package is left but the operator's public key.
in_root apache2ctl stop; sleep 1
in_root apt-get remove -y -qq "$pkg" >/dev/null 2>&1 || fail "apt remove"
[ ! -e "$root/etc/apache2/mods-enabled/lifecycle.load" ] || fail "module still enabled after remove"
in_root apache2ctl configtest 2>&1 | grep -q 'Syntax OK' || fail "configtest after remove"
in_root apt-get purge -y -qq "$pkg" >/dev/null 2>&1 || fail "apt purge"
in_root dpkg-query -W -f='${Status}\n' "$pkg" 2>/dev/null | grep -q 'ok installed\|config-files' && fail "still installed"
for f in /var/lib/lifecycle /var/lib/lifecycle-runner /etc/lifecycle-runner /etc/apache2/mods-available/lifecycle.conf \
         /etc/apache2/mods-available/lifecycle.load /usr/lib/apache2/modules/mod_lifecycle.so /usr/bin/lifecycle-token; do
  [ ! -e "$root$f" ] || fail "$f left after purge"
done
in_root dpkg-statoverride --list /var/lib/lifecycle >/dev/null && fail "statoverride left after purge"
[ -e "$root/etc/apache2/lifecycle/issuer.pub" ] || fail "the operator's public key was removed"
in_root apache2ctl start && sleep 1 && curl -s -o /dev/null "$base/" || fail "Apache does not start after purge"
ok "remove disables the module, purge leaves no state, conffile or statoverride (the operator's issuer.pub stays); Apache starts"
echo "deb-test: PASS ($pkg $(dpkg-deb -f "$deb" Version) in a clean Debian 12 root)"
