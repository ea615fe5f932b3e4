#!/usr/bin/env bash
# `make run`: lifecycle-runner beside Apache, every command build/runner-demo.sh
# (a second, then success), so that the official clients' waits return.
#   run-runner.sh PORT ISSUER_KEY STORE   starts it in the background; prints its pid
# Its state (since, commands in flight) is build/run/runner-STORE, kept like
# the state of that store (build/run/state, or the database in build/run/pg
# or build/run/ha): remove both together.  One per store, since each store
# numbers its changes from 1: a runner that followed the journal to change
# 95 would otherwise wait on the database's feed for a change 96 it may
# never reach.
set -euo pipefail
PORT=$1 KEY=$2 STORE=$3
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUN=$TOP/build/run
# Its own token: the admin scope only, never shown.
(umask 077; "$TOP/build/lifecycle-token" mint --key "$KEY" --scope lifecycle.admin --ttl 86400 \
   --sub runner > "$RUN/runner.token")
{
  echo "url = http://127.0.0.1:$PORT"
  echo "token_file = $RUN/runner.token"
  echo "state_dir = $RUN/runner-$STORE"
  for a in workstation.launch workstation.stop wrapper.execute wrapper.stop notebook.start \
           notebook.run notebook.stop agent.run agent.stop session.start session.stop \
           pipeline.provision pipeline.initialize pipeline.suspend pipeline.stop \
           pipeline.pause pipeline.resume pipeline.activate pipeline.bootstrap; do
    echo "$a = $TOP/build/runner-demo.sh %action %kind %id"
  done
} > "$RUN/runner.conf"
"$TOP/build/lifecycle-runner" --config "$RUN/runner.conf" --check >/dev/null
"$TOP/build/lifecycle-runner" --config "$RUN/runner.conf" >&2 &
echo $!
