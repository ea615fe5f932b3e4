#!/usr/bin/env bash
# The default scopes of every dialect of mod_lifecycle/core/lc_registry.h, on one
# line: what the all-scopes tokens of build/suite.sh and build/run.sh carry.
# Read from each dialect's descriptor (`const lc_dialect_t lc_dialect_<name>
# = { ... };` in lc_dialect_<name>.c), where scope_read and scope_write are
# the only quoted strings shaped word.word.  Each scope once, in list order.
set -euo pipefail
src=$(cd "$(dirname "$0")/../mod_lifecycle" && pwd)
names=$(sed -n 's/^LC_REG_DIALECT(\([a-z0-9_]*\)).*/\1/p' "$src/core/lc_registry.h")
[ -n "$names" ] || { echo "scopes.sh: no LC_REG_DIALECT line in lc_registry.h" >&2; exit 1; }
for d in $names; do
  file=$(find "$src/dialects" -name "lc_dialect_$d.c" | head -n 1)
  found=$(sed -n "/^const lc_dialect_t lc_dialect_$d = {/,/^};/p" "${file:-/dev/null}" \
          | grep -oE '"[a-z0-9_-]+\.[a-z0-9_-]+"' | tr -d '"' || true)
  [ -n "$found" ] || { echo "scopes.sh: no scope in lc_dialect_$d's descriptor" >&2; exit 1; }
  echo "$found"
done | awk '!seen[$0]++' | paste -sd' '
