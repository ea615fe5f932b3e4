# Sourced by build/pg.sh and build/pg-ha.sh: PostgreSQL refuses to run as
# root, so as root its commands run as an unprivileged owner of $dir (DIR's
# owner, or `postgres`, which is created when missing and given DIR).  Sets
# the array `as` to the prefix that runs a command as that user (empty when
# not root), and opens $dir to the server's clients (httpd's User).
as=()
if [ "$(id -u)" -eq 0 ]; then
  owner=$(stat -c %U "$dir")
  if [ "$owner" = root ]; then
    owner=postgres
    id -u "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
    chown -R "$owner:" "$dir"
  fi
  as=(runuser -u "$owner" --)
fi
chmod 755 "$dir"
