#!/bin/sh
# make run's demo command for every kind and action of lifecycle-runner
# (build/run-runner.sh writes the configuration): it takes a second and
# succeeds, printing what a real command would report.
#   runner-demo.sh ACTION KIND ID   (the resource as JSON on stdin)
# Its stdout is the outcome (merged into the final report); the progress a
# real command would report while it runs (an agent's steps, a pipeline's
# log, statistics and completion) goes to descriptor $LC_RUNNER_REPORT_FD,
# one JSON object a line, posted by the runner as it is written.
action=$1 kind=$2 id=$3
resource=$(cat)
seconds=${LC_DEMO_SECONDS:-1}
progress() { [ -n "${LC_RUNNER_REPORT_FD:-}" ] && printf '%s\n' "$1" >&3; }
now() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ; }
# One step as the Notte SDK's AgentCompletion (notte_core/agent_types.py).
step() { # action-json next-goal
  t=$(now)
  progress "{\"steps\":[{\"state\":{\"previous_goal_status\":\"success\",\"previous_goal_eval\":\"demo\",\"page_summary\":\"demo page\",\"relevant_interactions\":[],\"memory\":\"\",\"next_goal\":\"$2\"},\"action\":$1,\"started_at\":\"$t\",\"ended_at\":\"$t\"}]}"
}
case "$kind.$action" in
  pipeline.suspend)
    sleep "$seconds"
    # The checkpoint a real pipeline would take: the next sequence number.
    n=$(printf '%s' "$resource" | sed -n 's/.*"checkpoint_sequence_number":\([0-9]*\).*/\1/p')
    printf '{"checkpoint_sequence_number":%d}\n' $(( ${n:-0} + 1 )) ;;
  pipeline.provision)
    progress '{"log":["demo: provisioning the pipeline'"'"'s resources"]}'
    sleep "$seconds" ;;
  pipeline.initialize)
    # The demo pipeline has no input: it processes nothing and is complete
    # as soon as it runs (so the client's wait_for_completion() returns).
    progress '{"log":["demo: pipeline initialized","demo: all input consumed"]}'
    sleep "$seconds"
    progress '{"global_metrics":{"total_input_records":0,"total_processed_records":0,"total_completed_records":0,"buffered_input_records":0},"pipeline_complete":true}' ;;
  wrapper.execute)
    sleep "$seconds"
    t=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    printf '{"checkpoint":{"high_water_mark":"%s","low_water_mark":"%s"}}\n' "$t" "$t" ;;
  agent.run)
    step '{"type":"goto","url":"https://example.com"}' "open the page"
    sleep "$seconds"
    step "{\"type\":\"completion\",\"success\":true,\"answer\":\"demo: $id done\"}" "answer"
    printf '{"answer":"demo: %s done"}\n' "$id" ;;
  *)
    sleep "$seconds" ;;
esac
echo "runner-demo: $kind.$action $id done" >&2
