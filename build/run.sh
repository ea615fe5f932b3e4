#!/usr/bin/env bash
# `make run`: Apache in the foreground on 127.0.0.1:PORT with mod_lifecycle and
# all ten locations, a few demo resources, and the curl lines to try.
# STORE=dbd (`make run STORE=dbd`): LifecycleStore dbd, the state in a local
# PostgreSQL in build/run/pg (build/pg.sh: its own cluster on a unix socket,
# kept across runs like the journal), started before Apache, stopped after it.
# STORE=dbd-ha: the same on a pg_auto_failover formation in build/run/ha
# (build/pg-ha.sh: a monitor and two nodes, one synchronous standby; conf/HA.md).
set -euo pipefail
PORT=${1:-8080}
STORE=${STORE:-shm}
TOP=$(cd "$(dirname "$0")/.." && pwd)
RUN=$TOP/build/run
mkdir -p "$RUN"
case $STORE in shm|dbd|dbd-ha) ;; *) echo "run: STORE is shm (default), dbd or dbd-ha, not '$STORE'" >&2; exit 2 ;; esac
# A dev signing key (kept across runs) and a demo token with every scope.
if [ ! -f "$RUN/keys/issuer.key" ]; then
  "$TOP/build/lifecycle-token" keygen --out "$RUN/keys" >/dev/null
fi
scopes=$(bash "$TOP/build/scopes.sh")      # every dialect's default scopes
TOKEN=$("$TOP/build/lifecycle-token" mint --key "$RUN/keys/issuer.key" --scope "$scopes" \
        --ttl 86400 --sub demo)
user=""
if [ "$(id -u)" -eq 0 ]; then user=$'User www-data\nGroup www-data'; fi
sed -e "s|@RUN@|$RUN|g" -e "s|@TOP@|$TOP|g" -e "s|@PORT@|$PORT|g" \
    -e "s|@USER@|${user//$'\n'/\\n}|" "$TOP/conf/dev.conf.in" > "$RUN/httpd.conf"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "run: port $PORT is taken; try: make run PORT=8081" >&2; exit 1
fi
defines=()
pgdir=$RUN/pg
pgstop() { :; }
if [ "$STORE" = dbd ]; then
  echo "run: starting PostgreSQL in $pgdir (build/pg.sh)"
  LC_DBD_PARAMS=$(bash "$TOP/build/pg.sh" start "$pgdir")
  export LC_DBD_PARAMS
  pgstop() { bash "$TOP/build/pg.sh" stop "$pgdir" >/dev/null 2>&1 || true; }
  defines=(-D LC_DBD)
fi
if [ "$STORE" = dbd-ha ]; then
  pgdir=$RUN/ha
  echo "run: starting a pg_auto_failover formation in $pgdir (build/pg-ha.sh)"
  LC_DBD_PARAMS=$(bash "$TOP/build/pg-ha.sh" start "$pgdir")
  export LC_DBD_PARAMS
  pgstop() { bash "$TOP/build/pg-ha.sh" stop "$pgdir" >/dev/null 2>&1 || true; }
  defines=(-D LC_DBD)
fi
# Nothing moves by itself: lifecycle-runner (started below) finishes every move.
runner_off=(-c 'LifecycleAutoAdvance off')
if ! /usr/sbin/apache2 -t -f "$RUN/httpd.conf" "${defines[@]}" "${runner_off[@]}" >/dev/null; then
  pgstop; exit 1
fi
/usr/sbin/apache2 -f "$RUN/httpd.conf" "${defines[@]}" "${runner_off[@]}" -DFOREGROUND &
httpd=$!
runner=
# Each step may fail (Apache already gone, killed by the same Ctrl-C):
# under set -e a failing `wait` would end the script before pgstop.
stop() { [ -z "$runner" ] || kill -TERM $runner 2>/dev/null || true
         kill -TERM $httpd 2>/dev/null || true; wait $httpd 2>/dev/null || true; pgstop; }
trap 'stop; exit 0' INT TERM
trap stop EXIT
base=http://127.0.0.1:$PORT
auth="Authorization: Bearer $TOKEN"
for _ in $(seq 50); do curl -fs -o /dev/null -H "$auth" "$base/lifecycle/v1/metrics" && break; sleep 0.1; done
# The reference runner beside it, with demo commands (build/run-runner.sh).
runner=$(bash "$TOP/build/run-runner.sh" "$PORT" "$RUN/keys/issuer.key" "$STORE")

seed() { # kind id json: create it unless a previous run left it (state is journaled;
         # 409: a notebook of an older run, under another id, has its name)
  code=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT -H "$auth" -H 'If-None-Match: *' \
         -H 'Content-Type: application/json' --data "$3" "$base/lifecycle/v1/resources/$1/$2")
  case $code in 201|412|409) ;; *) echo "run: seeding $1/$2 answered $code" >&2 ;; esac
}
seed workstation ws-12345 '{"id":"ws-12345","name":"Artist-Workstation-01","status":"running","configuration":{"cpuCores":8,"memoryGB":32,"gpu":"NVIDIA RTX A5000","storageGB":512,"region":"us-west-2"}}'
seed workstation ws-render-02 '{"id":"ws-render-02","name":"Render-Node-02","status":"stopped","configuration":{"cpuCores":16,"memoryGB":64,"gpu":null,"storageGB":1024,"region":"eu-west-1"}}'
seed wrapper 550e8400-e29b-41d4-a716-446655440000 '{"wrapper_id":"550e8400-e29b-41d4-a716-446655440000","type":"api","status":"running","checkpoint":{"high_water_mark":"2026-11-01T00:00:00Z","low_water_mark":"2026-10-01T00:00:00Z"}}'
# A notebook's id is opaque; the dialect finds it by its qualified reference.
seed notebook nb-demo01 '{"kind":"notebook","id":"nb-demo01","name":"Demo notebook","qualifiedReference":"demo_user.demo_workflow:wf01.demo_notebook:nb01","referenceId":"nb01","owner":{"name":"demo_user"},"currentJob":{"id":"job-demo","kind":"notebook","status":"running","errorMessage":null,"startTime":1795400000000,"endTime":null}}'
seed pipeline demo-pipeline '{"name":"demo-pipeline","deployment_status":"Running","deployment_desired_status":"Running","deployment_resources_status":"Provisioned","deployment_resources_desired_status":"Provisioned","deployment_error":null,"checkpoint_sequence_number":0}'
# A Notte session, and an agent in it (what notte-sdk's Session and Agent do).
session=$(curl -sS -X POST -H "$auth" -H 'Content-Type: application/json' \
          --data '{"headless":true,"idle_timeout_minutes":3,"max_duration_minutes":15}' \
          "$base/sessions/start" | sed -n 's/.*"session_id":"\([^"]*\)".*/\1/p')
agent=$(curl -sS -X POST -H "$auth" -H 'Content-Type: application/json' \
        --data '{"task":"find a cute dog on google images","session_id":"'"$session"'"}' \
        "$base/agents/start" | sed -n 's/.*"agent_id":"\([^"]*\)".*/\1/p')

if [ "$STORE" = dbd-ha ]; then
  where="LifecycleStore dbd on a pg_auto_failover formation in build/run/ha
($LC_DBD_PARAMS); see it with
  bash build/pg-ha.sh state build/run/ha
and fail over by killing the primary: bash build/pg-ha.sh kill build/run/ha 1 (conf/HA.md)."
elif [ "$STORE" = dbd ]; then
  where="LifecycleStore dbd: the state is in
the PostgreSQL of build/run/pg ($LC_DBD_PARAMS),
kept across runs of \`make run STORE=dbd\`; look at it with
  bash build/pg.sh psql build/run/pg -c 'TABLE lc_resources'
A second Apache on the same database serves the same state."
else
  where="State is journaled in
build/run/state, so it survives a restart of \`make run\`."
fi
cat <<MSG

mod_lifecycle is serving on $base (Ctrl-C stops it). $where
A demo token with every
scope (24 h; mint others with build/lifecycle-token mint --key build/run/keys/issuer.key):

  export TOKEN=$TOKEN

Try:

  curl -s -H "Authorization: Bearer \$TOKEN" $base/workstations/ws-12345
  curl -s -H "Authorization: Bearer \$TOKEN" -X POST $base/workstations/ws-12345/stop
  curl -s -H "Authorization: Bearer \$TOKEN" -X POST $base/workstations/ws-12345/launch   # provisioning; running in ~2 s (the runner)
  curl -s -i -H "Authorization: Bearer \$TOKEN" $base/workstations/ws-12345/stop          # 405, Allow: POST
  curl -s -i $base/workstations/ws-12345                                                # 401, no token
  curl -s -H "Authorization: Bearer \$TOKEN" -X POST $base/api/v1/notebooks/demo_user.demo_workflow.demo_notebook/stop
  curl -s -H "Authorization: Bearer \$TOKEN" -X POST $base/api/v1/notebooks/demo_user.%3Awf01.%3Anb01/run   # by ids only
  curl -s -H "Authorization: Bearer \$TOKEN" $base/api/v1/notebooks/Demo_User.Demo%2FWorkflow.Demo%20Notebook  # '/' counts as '_'
  curl -s -H "Authorization: Bearer \$TOKEN" $base/agents/$agent
  curl -s -H "Authorization: Bearer \$TOKEN" -X DELETE "$base/agents/$agent/stop?session_id=$session"
  curl -s -H "Authorization: Bearer \$TOKEN" -X DELETE $base/sessions/$session/stop     # closes its agents too
  curl -s -H "Authorization: Bearer \$TOKEN" $base/sessions/$session
  curl -s -H "Authorization: Bearer \$TOKEN" -X POST $base/resources/wrappers/550e8400-e29b-41d4-a716-446655440000/stop
  curl -s -H "Authorization: Bearer \$TOKEN" "$base/v0/pipelines?selector=status"              # Feldera's list
  curl -s -H "Authorization: Bearer \$TOKEN" -X POST "$base/v0/pipelines/demo-pipeline/stop?force=false"   # 202; then poll:
  curl -s -H "Authorization: Bearer \$TOKEN" "$base/v0/pipelines/demo-pipeline?selector=status"  # Running (desired Suspended), Suspended, Stopping, Stopped
  curl -s -H "Authorization: Bearer \$TOKEN" -X POST "$base/v0/pipelines/demo-pipeline/start?initial=running&dismiss_error=true"
  # Feldera's own Python client works too: FelderaClient("$base", api_key=TOKEN)
  curl -s -H "Authorization: Bearer \$TOKEN" "$base/lifecycle/v1/changes?since=0&wait=5"
  curl -s -H "Authorization: Bearer \$TOKEN" $base/lifecycle/v1/resources/workstation
  curl -s -H "Authorization: Bearer \$TOKEN" $base/lifecycle/v1/metrics

MSG
wait $httpd
