#!/usr/bin/env bash
# `make fuzz`: run each libFuzzer target FUZZ_SECONDS seconds on a scratch
# copy of its seed corpus (t/fuzz/corpus/<name>/ stays as committed), print
# the executions of each, and fail on any crash, leak, timeout or sanitizer
# report.  Usage: fuzz.sh build/fuzz/fuzz_<name>...
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
secs=${FUZZ_SECONDS:-60}
out=build/fuzz/run
rm -rf "$out"; mkdir -p "$out/artifacts"
scratch=$(mktemp -d /tmp/lifecycle-fuzz.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
# UBSan aborts by itself (built without recovery); ASan's leak check is on.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fail=0
for bin in "$@"; do
  name=$(basename "$bin"); name=${name#fuzz_}
  corpus="$scratch/$name"; mkdir -p "$corpus"
  [ -d "t/fuzz/corpus/$name" ] && cp -r "t/fuzz/corpus/$name/." "$corpus/"
  seeds=$(ls "$corpus" | wc -l)
  log="$out/$name.log"
  "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
         -artifact_prefix="$out/artifacts/$name-" "$corpus" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  grown=$(ls "$corpus" | wc -l)
  if [ "$rc" -ne 0 ] || grep -qaE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|^SUMMARY: ' "$log"; then
    fail=$((fail + 1))
    printf 'fuzz: %-12s FAILED after %s executions (exit %s); log %s, input in %s/artifacts/\n' \
      "$name" "${execs:-?}" "$rc" "$log" "$out"
    grep -aE -m1 -A 25 'ERROR: |runtime error:|invariant broken' "$log" | sed 's/^/    /'
  else
    printf 'fuzz: %-12s %10s executions in %s s, corpus %s -> %s inputs\n' \
      "$name" "$execs" "$secs" "$seeds" "$grown"
  fi
done
echo "fuzz: $(( $# - fail )) passed, $fail failed"
[ "$fail" -eq 0 ]
