# The rest of Feldera's Python client's everyday calls, request
# for request, with the parsing each does of the answer: pause(), resume(),
# start_standby() + activate(), approve() after a runner's AwaitingApproval,
# stats() with wait_for_completion() / wait_for_idle(), logs(), events(),
# checkpoints(), clear_storage() with storage_status(), delete(), and the
# JSON error of an unknown route.  References are to the client's files in
# feldera/feldera python/feldera (rest/feldera_client.py, pipeline.py,
# stats.py, types.py, enums.py).  The client itself was run against a server
# with these changes (the report of this branch); this test needs no Python.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use LcTest;
use LcAuth qw(lc_mint);
use Time::HiRes qw(time sleep);

plan tests => 89;

my $N = 'fl-demo';
my $R = 'fl-runner';
my @mine = ($N, $R);
END { req(DELETE => ADMIN . "/resources/pipeline/$_") for @mine }

sub get_p { my ($n) = @_; jbody(req(GET => "/v0/pipelines/$n?selector=status")) || {} }
sub report { my ($n, $b) = @_; req(POST => ADMIN . "/resources/pipeline/$n/report", body => $b) }
# __wait_for_pipeline_state (rest/feldera_client.py:252-300): poll selector=status
# until deployment_status.lower() is the state (generous deadline: a loaded machine).
sub wait_for {
    my ($n, $state) = @_;
    my $deadline = time + 30;
    my $s;
    while (time < $deadline) {
        $s = get_p($n)->{deployment_status} // '?';
        return $s if lc $s eq lc $state;
        sleep 0.05;
    }
    return $s;
}

for my $n (@mine) {
    req(DELETE => ADMIN . "/resources/pipeline/$n");
}
is(req(PUT => ADMIN . "/resources/pipeline/$N", body => { deployment_status => 'Stopped' })->code,
   201, 'a Stopped pipeline (admin API)');

# ---- not deployed: the process's endpoints answer the manager's 503 ------------------------
for my $v (qw(pause resume activate approve)) {
    my $res = req(POST => "/v0/pipelines/$N/$v");
    is_deeply([$res->code, (jbody($res) || {})->{error_code}],
              [503, 'PipelineInteractionNotDeployed'], "$v of a Stopped pipeline: 503");
}
is(jbody(req(GET => "/v0/pipelines/$N/stats"))->{error_code}, 'PipelineInteractionNotDeployed',
   'stats of a Stopped pipeline: 503 PipelineInteractionNotDeployed');
is(get_p($N)->{storage_status}, 'Cleared', 'never started: storage Cleared');

# ---- start(), then pause() / resume() (rest/feldera_client.py:703-752) --------------------------
is(req(POST => "/v0/pipelines/$N/start?dismiss_error=false&initial=running")->code, 202, 'start');
is(wait_for($N, 'Running'), 'Running', 'Running');
is(get_p($N)->{storage_status}, 'InUse', 'started: storage InUse');
{
    my $res = req(POST => "/v0/pipelines/$N/pause");
    is_deeply([$res->code, jbody($res)], [202, 'Pipeline transitioning from Running to Paused'],
              'pause: 202, the process\'s string');
    is(get_p($N)->{deployment_desired_status}, 'Paused', 'desired Paused');
    is(wait_for($N, 'Paused'), 'Paused', 'pause(): the client waits for paused, and gets it');
    is_deeply([map { req(POST => "/v0/pipelines/$N/pause")->code } 1 .. 2], [202, 202],
              'pause of a Paused pipeline: 202 again (idempotent)');
    my $v = get_p($N)->{version};
    $res = req(POST => "/v0/pipelines/$N/resume", headers => { 'If-Match' => '"1"' });
    is_deeply([$res->code, (jbody($res) || {})->{error_code}, get_p($N)->{version}],
              [412, 'OutdatedPipelineVersion', $v], 'resume with a stale If-Match: 412, nothing changed');
    $res = req(POST => "/v0/pipelines/$N/resume", headers => { 'If-Match' => "\"$v\"" });
    is_deeply([$res->code, jbody($res)], [202, 'Pipeline transitioning from Paused to Running'],
              'resume (the process\'s /start): 202');
    is(wait_for($N, 'Running'), 'Running', 'resume(): Running');
    $res = req(POST => "/v0/pipelines/$N/pause?x=1");
    is((jbody($res) || {})->{error_code}, 'InvalidQueryParam', 'an unknown parameter: 400');
}

# ---- stats(): PipelineStatistics.from_dict (stats.py:30-40, 80-92) ----------------------------
{
    my $res = req(GET => "/v0/pipelines/$N/stats");
    my $s = jbody($res) || {};
    my $g = $s->{global_metrics} || {};
    is($res->code, 200, 'stats: 200');
    is_deeply([ref $s->{inputs}, ref $s->{outputs}], ['ARRAY', 'ARRAY'], 'inputs, outputs: arrays');
    is($g->{state}, 'Running', 'state: PipelineStatus.from_str');
    like($g->{incarnation_uuid} // '', qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
         'incarnation_uuid: uuid.UUID()');
    like($g->{start_time} // '', qr/^\d+$/, 'start_time: datetime.fromtimestamp(int)');
    is($g->{transaction_status}, 'NoTransaction', 'transaction_status: TransactionStatus.from_str');
    ok(JSON::PP::is_bool($g->{pipeline_complete}) && !$g->{pipeline_complete},
       'pipeline_complete false before a runner says (not None: wait_for_completion raises on None)');
    is_deeply([@$g{qw(total_input_records total_processed_records)}], [0, 0],
              'wait_for_idle reads total_input_records / total_processed_records (pipeline.py:454-540)');
    my $r = report($N, { pipeline_complete => JSON::PP::true, total_input_records => 7,
                         global_metrics => { total_processed_records => 7 },
                         log => ['first line', 'second line'] });
    is($r->code, 200, 'a runner reports completion, metrics and log lines');
    $g = (jbody(req(GET => "/v0/pipelines/$N/stats")) || {})->{global_metrics} || {};
    is_deeply([@$g{qw(pipeline_complete total_input_records total_processed_records)}],
              [JSON::PP::true, 7, 7], 'wait_for_completion() (pipeline.py:363-440) returns: complete');
    my $v = get_p($N)->{version};
    for my $bad ({ pipeline_complete => 1 }, { total_input_records => -1 }, { bogus => 1 },
                 { global_metrics => { bogus => 1 } }, { log => [1] }, { storage_status => 'Gone' }) {
        is(report($N, $bad)->code, 400, 'a bad report field: 400 (' . join(',', keys %$bad) . ')');
    }
    is(get_p($N)->{version}, $v, '... and nothing changed');
    # logs(): GET /logs, stream=True, iter_lines (rest/feldera_client.py:507-521)
    $res = req(GET => "/v0/pipelines/$N/logs");
    is_deeply([$res->code, $res->content], [200, "first line\nsecond line\n"],
              'logs: the reported lines, one per line');
    like($res->header('Content-Type') // '', qr{^text/plain}, 'logs: text/plain, as the manager streams it');
}

# ---- checkpoint(), then checkpoints(): CheckpointMetadata.from_dict (types.py:18-27) ------------
{
    is(req(POST => "/v0/pipelines/$N/checkpoint")->code, 200, 'checkpoint: 200');
    my $res = req(GET => "/v0/pipelines/$N/checkpoints");
    my $l = jbody($res);
    is($res->code, 200, 'checkpoints: 200');
    is(ref $l eq 'ARRAY' ? scalar @$l : -1, 1, 'one checkpoint');
    my $c = ref $l eq 'ARRAY' ? $l->[0] : {};
    is_deeply([map { exists $c->{$_} ? 1 : 0 } qw(uuid size steps processed_records fingerprint)],
              [1, 1, 1, 1, 1], 'the keys from_dict indexes');
    is($c->{processed_records}, 7, 'processed_records: what the runner reported');
}

# ---- stop, then delete() and clear_storage() (pipeline.py:960-977, rest/feldera_client.py:850-900) ----
{
    my $res = req(DELETE => "/v0/pipelines/$N");
    is_deeply([$res->code, (jbody($res) || {})->{error_code}], [400, 'DeleteRestrictedToFullyStopped'],
              'delete while running: 400');
    $res = req(POST => "/v0/pipelines/$N/clear");
    is_deeply([$res->code, (jbody($res) || {})->{error_code}],
              [400, 'StorageStatusImmutableUnlessStopped'], 'clear while running: 400');
    is(req(POST => "/v0/pipelines/$N/stop?force=false")->code, 202, 'stop(force=False)');
    is(wait_for($N, 'Stopped'), 'Stopped', 'Stopped');
    is(get_p($N)->{storage_status}, 'InUse', 'stopped: storage still InUse');
    $res = req(DELETE => "/v0/pipelines/$N");
    is_deeply([$res->code, (jbody($res) || {})->{error_code}],
              [400, 'DeleteRestrictedToClearedStorage'], 'delete with storage in use: 400');
    $res = req(POST => "/v0/pipelines/$N/clear");
    is_deeply([$res->code, jbody($res)], [202, 'Pipeline storage is being cleared'], 'clear: 202');
    is(get_p($N)->{storage_status}, 'Cleared',
       'no runner: Cleared at once (clear_storage() polls storage_status for Cleared)');
    is(req(POST => "/v0/pipelines/$N/clear")->code, 202, 'clear again: 202, nothing to do');
    is(req(GET => "/v0/pipelines/$N/checkpoints")->code, 503, 'checkpoints of a Stopped pipeline: 503');
}

# ---- events(): newest first (rest/feldera_client.py:2042-2062) ---------------------------------
{
    my $res = req(GET => "/v0/pipelines/$N/events?selector=status");
    my $l = jbody($res);
    is($res->code, 200, 'events: 200');
    my @e = ref $l eq 'ARRAY' ? @$l : ();
    ok(@e >= 8, 'a history of the changes');
    is_deeply([@{ $e[0] || {} }{qw(deployment_resources_status storage_status deployment_has_error)}],
              ['Stopped', 'Cleared', JSON::PP::false], 'newest first: Stopped, Cleared');
    my @rt;
    for my $s (map { $_->{deployment_runtime_status} // '-' } reverse @e) {
        push @rt, $s if $s ne '-' && (!@rt || $rt[-1] ne $s);
    }
    is_deeply(\@rt,
              [qw(Initializing Running Paused Running Suspended)],
              'the runtime statuses, oldest first: Initializing, Running, Paused, Running, Suspended');
    like($e[0]{event_id} // '', qr/^[0-9a-f-]{36}$/, 'event_id: a UUID');
    ok(!exists $e[0]{deployment_error}, 'selector=status: no deployment_error');
    $l = jbody(req(GET => "/v0/pipelines/$N/events?selector=all"));
    ok(ref $l eq 'ARRAY' && exists $l->[0]{deployment_error}, 'selector=all: with deployment_error');
    is(req(GET => "/v0/pipelines/$N/events?selector=x")->code, 400, 'selector=x: 400');
    # event(event_id) (rest/feldera_client.py:2064-2085): GET /events/{id|latest}
    is_deeply(jbody(req(GET => "/v0/pipelines/$N/events/latest?selector=status")), $e[0],
              'events/latest: the newest');
    is_deeply(jbody(req(GET => "/v0/pipelines/$N/events/$e[1]{event_id}")), $e[1],
              'events/{event_id}: that one');
    $res = req(GET => "/v0/pipelines/$N/events/01234567-89ab-7def-8123-456789abcdef");
    is_deeply([$res->code, (jbody($res) || {})->{error_code}], [404, 'UnknownPipelineMonitorEvent'],
              'an event not kept: 404');
}

# ---- delete(): 200, empty; then 404 -----------------------------------------------------------
{
    my $res = req(DELETE => "/v0/pipelines/$N", headers => { 'If-Match' => '"1"' });
    is($res->code, 412, 'delete with a stale If-Match: 412');
    $res = req(DELETE => "/v0/pipelines/$N");
    is_deeply([$res->code, $res->content], [200, ''], 'delete: 200, empty');
    is((jbody(req(GET => "/v0/pipelines/$N")) || {})->{error_code}, 'UnknownPipelineName', 'gone: 404');
}

# ---- start_standby() + activate() (rest/feldera_client.py:523-547) -----------------------------
is(req(PUT => ADMIN . "/resources/pipeline/$N", body => { deployment_status => 'Stopped' })->code,
   201, 'again');
is(req(POST => "/v0/pipelines/$N/start?dismiss_error=false&initial=standby")->code, 202,
   'start_standby');
is(wait_for($N, 'Standby'), 'Standby', 'Standby');
{
    my $res = req(POST => "/v0/pipelines/$N/resume");
    is_deeply([$res->code, (jbody($res) || {})->{error_code}], [400, 'InvalidTransition'],
              'resume of a Standby pipeline: 400 InvalidTransition (only /activate leaves Standby)');
    $res = req(POST => "/v0/pipelines/$N/activate");
    is_deeply([$res->code, jbody($res)], [202, 'Pipeline transitioning from Standby to Running'],
              'activate: 202');
    is(wait_for($N, 'Running'), 'Running', 'activate() waits for running: Running');
    is(req(POST => "/v0/pipelines/$N/stop?force=true")->code, 202, 'stop(force=True)');
    is(wait_for($N, 'Stopped'), 'Stopped', 'Stopped');
}

# ---- approve(): a runner-driven pipeline awaiting approval (rest/feldera_client.py:754-782) -------
is(req(PUT => ADMIN . "/resources/pipeline/$R",
       body => { deployment_status => 'Stopped', runner_driven => JSON::PP::true })->code, 201,
   'a runner-driven pipeline');
is(req(POST => "/v0/pipelines/$R/start?dismiss_error=false&initial=running&bootstrap_policy=await_approval")->code,
   202, 'start(bootstrap_policy=AWAIT_APPROVAL)');
is_deeply([map { report($R, { deployment_status => $_ })->code } qw(Initializing AwaitingApproval)],
          [200, 200], 'the runner reports Initializing, then AwaitingApproval');
{
    my $res = req(POST => "/v0/pipelines/$R/approve?silent_bootstrap=true&concurrent_bootstrap=true");
    is((jbody($res) || {})->{error_code}, 'InvalidBootstrapConfig', 'both bootstrap options: 400');
    $res = req(POST => "/v0/pipelines/$R/approve");
    is_deeply([$res->code, jbody($res), get_p($R)->{deployment_status}],
              [200, 'Bootstrap approved', 'Bootstrapping'], 'approve: 200, Bootstrapping');
    is(report($R, { deployment_status => 'Running', storage_status => 'InUse' })->code, 200,
       'the runner reports Running');
    is(req(POST => "/v0/pipelines/$R/approve")->code, 200, 'approve of a Running pipeline: 200, no change');
    req(POST => "/v0/pipelines/$R/stop?force=true");
    report($R, { deployment_status => 'Stopped' });
    req(POST => "/v0/pipelines/$R/clear");
    is(get_p($R)->{storage_status}, 'Clearing', 'a runner-driven pipeline: Clearing until its runner says');
    report($R, { storage_status => 'Cleared' });
    is(req(DELETE => "/v0/pipelines/$R")->code, 200, 'the runner reports Cleared: delete() succeeds');
}

# ---- LifecycleOwnerCheck: another's pipeline can be read, not paused or deleted ------------------
{
    my $O = 'fl-owned';
    push @mine, $O;
    req(DELETE => ADMIN . "/resources/pipeline/$O");
    is(req(PUT => ADMIN . "/resources/pipeline/$O",
           body => { deployment_status => 'Stopped', owner => 'alice' })->code, 201, "alice's pipeline");
    my $mallory = { Authorization => 'Bearer ' . lc_mint(scope => 'pipelines.read pipelines.write',
                                                         sub => 'mallory') };
    my $alice = { Authorization => 'Bearer ' . lc_mint(scope => 'pipelines.read pipelines.write',
                                                       sub => 'alice') };
    is(req(GET => "/owned/v0/pipelines/$O/events", headers => $mallory)->code, 200, 'mallory reads it');
    my $res = req(POST => "/owned/v0/pipelines/$O/clear", headers => $mallory);
    is_deeply([$res->code, (jbody($res) || {})->{error_code}], [403, 'Forbidden'], 'mallory: clear 403');
    $res = req(DELETE => "/owned/v0/pipelines/$O", headers => $mallory);
    is_deeply([$res->code, (jbody($res) || {})->{error_code}], [403, 'Forbidden'], 'mallory: delete 403');
    is(req(DELETE => "/owned/v0/pipelines/$O", headers => $alice)->code, 200, 'alice deletes it');
}

# ---- an unknown route: Feldera's JSON error, never HTML ---------------------------------------
{
    my $res = req(GET => "/v0/pipelines/$N/no_such_thing/at_all");
    is_deeply([$res->code, (jbody($res) || {})->{error_code}], [404, 'NotFound'],
              'an unknown route: 404 in Feldera\'s error shape');
}
