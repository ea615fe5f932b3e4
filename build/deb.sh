#!/usr/bin/env bash
# make deb: builds build/libapache2-mod-lifecycle_<version>_<arch>.deb with
# dpkg-buildpackage (debhelper, dh_apache2) from a copy of the source tree
# in build/deb/, with build/debian/ as its debian/, then runs lintian on it
# (fails on a lintian error).  The version is build/debian/changelog's, which
# must be the top-level VERSION's (the module's and the tools' too).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bash build/deps.sh deb

pkg=libapache2-mod-lifecycle
ver=$(dpkg-parsechangelog -l build/debian/changelog -S Version)
want=$(cat VERSION)
# A native package (debian/source/format): its version is upstream's, whole.
if [ "${ver%-*}" != "$want" ]; then
  echo "deb: build/debian/changelog's version is $ver, VERSION's is $want:" \
       "add a changelog entry for $want (dch -c build/debian/changelog -v $want)" >&2
  exit 1
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=build/${pkg}_${ver}_${arch}.deb
work=build/deb
src=$work/$pkg-$ver
rm -rf "$work" "$deb"
mkdir -p "$src"

# The tracked and new (not ignored) files, as they are in the working tree:
# no build outputs.  build/debian/ becomes debian/.
if git rev-parse --git-dir >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$src"
else
  tar --exclude=./build/deb --exclude='./build/*.deb' --exclude=./build/obj --exclude=./build/san \
      --exclude=./build/unit --exclude=./build/fuzz --exclude=./t/logs -cf - . | tar -xf - -C "$src"
fi
rm -rf "$src/debian"
mv "$src/build/debian" "$src/debian"

echo "deb: building $pkg $ver for $arch in $src"
( cd "$src" && dpkg-buildpackage -b -us -uc -j2 ) >"$work/build.log" 2>&1 || {
  tail -n 60 "$work/build.log"; echo "deb: dpkg-buildpackage failed, see $work/build.log" >&2; exit 1; }
grep -E '^dpkg-shlibdeps: warning' "$work/build.log" | sort -u | head -n 5 || true
cp "$work/${pkg}_${ver}_${arch}.deb" "$deb"
echo "deb: $deb"
dpkg-deb -I "$deb" | sed -n '/Package:/,$p'

# What was built says the same version: each tool's --version, the module's
# version component.
dpkg-deb -x "$deb" "$work/root"
for t in lifecycle-token lifecycle-journal lifecycle-runner; do
  got=$("$work/root/usr/bin/$t" --version)
  [ "$got" = "$t $want" ] || { echo "deb: $t --version says '$got', not '$t $want'" >&2; exit 1; }
done
grep -qaF "mod_lifecycle/$want" "$work/root/usr/lib/apache2/modules/mod_lifecycle.so" ||
  { echo "deb: mod_lifecycle.so does not say mod_lifecycle/$want" >&2; exit 1; }
echo "deb: the module and the tools say $want"

# Errors fail the build; warnings and info are printed (conf/GUIDE.md, "Installing
# the Debian package", says which remain and why).
echo "deb: lintian $deb"
lintian --fail-on error --display-info "$deb"
