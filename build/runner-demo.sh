#!/bin/sh
# make run's demo command for every kind and action of lifecycle-runner
# (build/run-runner.sh writes the configuration): it takes a second and
# succeeds, printing what a real command would report.
#   runner-demo.sh ACTION KIND ID   (the resource as JSON on stdin)
action=$1 kind=$2 id=$3
resource=$(cat)
sleep "${LC_DEMO_SECONDS:-1}"
case "$kind.$action" in
  pipeline.suspend)
    # The checkpoint a real pipeline would take: the next sequence number.
    n=$(printf '%s' "$resource" | sed -n 's/.*"checkpoint_sequence_number":\([0-9]*\).*/\1/p')
    printf '{"checkpoint_sequence_number":%d}\n' $(( ${n:-0} + 1 )) ;;
  pipeline.initialize)
    # What a real pipeline's runner reports of it: a log line, and (no input
    # connectors here) that its inputs are done, for wait_for_completion().
    printf '{"log":"runner-demo: pipeline %s initialized","pipeline_complete":true}\n' "$id" ;;
  wrapper.execute)
    now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    printf '{"checkpoint":{"high_water_mark":"%s","low_water_mark":"%s"}}\n' "$now" "$now" ;;
  agent.run)
    printf '{"answer":"demo: %s done"}\n' "$id" ;;
esac
echo "runner-demo: $kind.$action $id done" >&2
