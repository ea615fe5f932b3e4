# What Feldera's own Python client (python/feldera in feldera/feldera) does
# against /v0, call for call, with its parsing: FelderaClient(), pipelines(),
# Pipeline.get(), start() (dismiss_error, then start?dismiss_error=false&
# initial=running, then polling), checkpoint(wait=True) (polling
# checkpoint_status), stop(force=False) (polling through Suspended and
# Stopping), dismiss_error(), start_paused()/start_standby(), and the 400s it
# may meet.  References are to that client's files (rest/feldera_client.py,
# rest/feldera_config.py, rest/pipeline.py, pipeline.py, enums.py).  The
# client itself was run against `make run` by hand (conf/API.md, Feldera); this
# test needs no Python.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use LcTest;
use Time::HiRes qw(time sleep);
use JSON::PP ();

plan tests => 64;

my $N = 'fc-demo';
my @mine = ($N);
END { req(DELETE => ADMIN . "/resources/pipeline/$_") for @mine }

# The enums the client converts (enums.py): from_str compares lowercased names.
my %ENUM = (
    deployment_status => [qw(Stopped Provisioning Unavailable Standby AwaitingApproval
                             Initializing Bootstrapping Replaying Paused Running Suspended
                             Stopping ConcurrentBootstrapping Synchronizing)],  # PipelineStatus
    deployment_desired_status => [qw(Stopped Unavailable Standby Paused Running Suspended)],
    deployment_resources_status => [qw(Stopped Provisioning Provisioned Stopping)],
    deployment_resources_desired_status => [qw(Stopped Provisioned)],
    deployment_runtime_status => [qw(Unavailable Standby AwaitingApproval Initializing
                                     Bootstrapping Replaying Paused Running Suspended
                                     ConcurrentBootstrapping Synchronizing)],
    deployment_runtime_desired_status => [qw(Unavailable Standby Paused Running Suspended)],
    storage_status => [qw(Cleared InUse Clearing)],
    program_status => [qw(Pending CompilingSql SqlCompiled CompilingRust Success SqlError
                          RustError SystemError)],
    bootstrap_policy => [qw(await_approval allow reject)],
);
# Every value the client would convert parses (null only where the client
# tests for None first, or the manager sends null too).
sub parses {
    my ($p) = @_;
    for my $k (sort keys %ENUM) {
        my $v = $p->{$k};
        next if !defined $v && $k =~ /^(deployment_runtime_|bootstrap_policy)/;
        return "$k=" . ($v // 'null') unless defined $v && grep { lc $_ eq lc $v } @{ $ENUM{$k} };
    }
    return 'ok';
}
# FelderaClient.get_pipeline (rest/feldera_client.py:140-154): GET /pipelines/{name}?selector=
sub get_pipeline { my ($sel) = @_; jbody(req(GET => "/v0/pipelines/$N?selector=$sel")) || {} }

req(DELETE => ADMIN . "/resources/pipeline/$N");
is(req(PUT => ADMIN . "/resources/pipeline/$N", body => { deployment_status => 'Stopped' })->code,
   201, 'a Stopped pipeline (made through the admin API: this server compiles no SQL)');

# ---- FelderaClient(url, api_key): GET /v0/config (rest/feldera_client.py:122, 1716-1723) ----
{
    my $res = req(GET => '/v0/config');
    my $c = jbody($res) || {};
    is($res->code, 200, 'GET /v0/config: 200');
    # FelderaEdition.from_value (rest/feldera_config.py:44) lowercases and matches.
    ok((grep { lc($c->{edition} // '') eq lc $_ } 'Enterprise', 'Open source'), 'edition parses');
    like($c->{version} // '', qr/^\d+\.\d+\.\d+$/, 'version x.y.z (compared with the client\'s)');
    is_deeply([map { exists $c->{$_} ? 1 : 0 } qw(changelog_url license_validity revision
                                                  telemetry update_info)], [1, 1, 1, 0, 1],
              'what FelderaConfig reads with cfg.get() (telemetry absent, as from the manager)');
    is(req(POST => '/v0/config')->code, 405, 'POST /v0/config: 405');
}

# ---- pipelines(): GET /v0/pipelines?selector=status (rest/feldera_client.py:171-182) ----------
for my $sel ('status', 'all') {
    my $res = req(GET => "/v0/pipelines?selector=$sel");
    my $l = jbody($res);
    is($res->code, 200, "list, selector=$sel: 200");
    is(ref $l, 'ARRAY', 'a JSON array, each item Pipeline.from_dict()ed (rest/pipeline.py:82-97)');
    my ($p) = grep { $_->{name} eq $N } @{ ref $l eq 'ARRAY' ? $l : [] };
    is(parses($p || {}), 'ok', "selector=$sel: every enum the client converts parses");
    # from_dict indexes program_info["schema"] only when program_info is not null.
    ok(!defined $p->{program_info}, 'program_info null (nothing to index)');
}
is(jbody(req(GET => '/v0/pipelines?selector=bogus'))->{error_code}, 'InvalidQueryParam',
   'an unknown selector: 400 InvalidQueryParam');

# ---- Pipeline.get(name, client): selector=all (pipeline.py:979-993) ---------------------------
{
    my $p = get_pipeline('all');
    is(parses($p), 'ok', 'all: every enum parses');
    # datetime.fromisoformat (pipeline.py: created_at, deployment_status_since, program_status_since)
    like($p->{$_} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?Z$/, "$_: ISO 8601")
        for qw(created_at deployment_status_since program_status_since);
    # errors() (pipeline.py:1862-1875): program_error.keys(), each .get("exit_code").
    is_deeply($p->{program_error}, { sql_compilation => undef, rust_compilation => undef,
                                     system_error => undef }, 'program_error: no errors');
    is_deeply([@$p{qw(deployment_status deployment_desired_status deployment_error)}],
              ['Stopped', 'Stopped', undef], 'Stopped, no error');
}

# ---- start(): rest/feldera_client.py:549-607 ----------------------------------------------------
sub start {
    my (%o) = @_;
    my $initial = $o{initial} || 'running';
    # :575-578: the error is dismissed first, then the start does not dismiss it.
    my $d = req(POST => "/v0/pipelines/$N/dismiss_error");
    my $s = req(POST => "/v0/pipelines/$N/start?dismiss_error=false&initial=$initial");
    return ($d, $s);
}
# __wait_for_pipeline_state_one_of (:302-348): poll selector=status every 0.5 s (here 0.05)
# until deployment_status.lower() is one of the states; a Stopped pipeline with a
# deployment_error and desired Stopped is a RuntimeError.
sub wait_one_of {
    my (@states) = @_;
    my $deadline = time + 8;
    my @seen;
    while (time < $deadline) {
        my $p = get_pipeline('status');
        my $s = $p->{deployment_status} // '?';
        push @seen, $s if !@seen || $seen[-1] ne $s;
        return (\@seen, 'ok') if grep { lc $_ eq lc $s } @states;
        return (\@seen, 'RuntimeError')
            if $s eq 'Stopped' && %{ $p->{deployment_error} || {} }
               && $p->{deployment_desired_status} eq 'Stopped';
        sleep 0.05;
    }
    return (\@seen, 'timeout');
}
{
    my ($d, $s) = start();
    is_deeply([$d->code, jbody($d)], [200, 'Pipeline deployment error has been dismissed'],
              'POST dismiss_error with no error: 200, the manager\'s string');
    is_deeply([$s->code, jbody($s)], [202, 'Pipeline is starting'],
              'POST start?dismiss_error=false&initial=running: 202');
    my ($seen, $how) = wait_one_of('running', 'AwaitingApproval');
    is_deeply([$how, $seen], ['ok', [qw(Provisioning Initializing Running)]],
              'start() returns: Provisioning, Initializing, Running');
    my $p = get_pipeline('status');
    is_deeply([@$p{qw(deployment_desired_status deployment_initial deployment_runtime_status
                      deployment_runtime_desired_status deployment_resources_status)}],
              [qw(Running Running Running Running Provisioned)], 'its deployment fields');
    like($p->{deployment_id} // '', qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
         'a deployment id');
}

# ---- checkpoint(wait=True): pipeline.py:1006-1084, 1086-1113 -------------------------------------
{
    my $res = req(POST => "/v0/pipelines/$N/checkpoint");
    my $c = jbody($res) || {};
    is($res->code, 200, 'POST checkpoint: 200');
    my $seq = $c->{checkpoint_sequence_number};
    is($seq, 1, 'int(resp["checkpoint_sequence_number"])');
    my $inc = $c->{incarnation_uuid};
    is($inc, get_pipeline('status')->{deployment_id}, 'incarnation_uuid: the deployment');
    # checkpoint_pipeline_status (rest/feldera_client.py:1154-1169) sends incarnation_uuid.
    my $st = jbody(req(GET => "/v0/pipelines/$N/checkpoint_status?incarnation_uuid=$inc")) || {};
    # checkpoint_status(): seq == resp.get("success") is Success; else failure, InProgress, Unknown.
    is_deeply($st, { success => 1, failure => undef }, 'checkpoint_status: success == seq');
    $st = jbody(req(GET => "/v0/pipelines/$N/checkpoint_status")) || {};
    is($st->{success}, 1, 'without incarnation_uuid (an older client; None is not sent)');
    my $bad = req(GET => "/v0/pipelines/$N/checkpoint_status?incarnation_uuid="
                       . '00000000-0000-4000-8000-000000000000');
    # pipeline.py:1068-1078: IncarnationUuidMismatch makes the client ask again.
    is_deeply([$bad->code, (jbody($bad) || {})->{error_code}], [400, 'IncarnationUuidMismatch'],
              'another incarnation: 400 IncarnationUuidMismatch');
}

# ---- stop(force=False): rest/feldera_client.py:784-837 ------------------------------------------
{
    my $res = req(POST => "/v0/pipelines/$N/stop?force=false");
    is_deeply([$res->code, jbody($res)], [202, 'Pipeline is suspending'], 'POST stop?force=false: 202');
    # :822-837: poll selector=status every 0.1 s until deployment_status == "Stopped";
    # Pipeline.status() / wait_for_status() convert it with PipelineStatus.from_str.
    my (@seen, $bad);
    my $deadline = time + 8;
    while (time < $deadline) {
        my $p = get_pipeline('status');
        my $pair = "$p->{deployment_status}/$p->{deployment_desired_status}";
        $bad //= parses($p) eq 'ok' ? undef : parses($p);
        push @seen, $pair if !@seen || $seen[-1] ne $pair;
        last if $p->{deployment_status} eq 'Stopped';
        sleep 0.1;
    }
    is($bad, undef, 'every status seen converts (no Suspending)');
    is_deeply(\@seen, ['Running/Suspended', 'Suspended/Suspended', 'Stopping/Stopped',
                       'Stopped/Stopped'],
              'Running (desired Suspended), Suspended, Stopping, Stopped');
    my $p = get_pipeline('all');
    is_deeply([@$p{qw(checkpoint_sequence_number deployment_error deployment_initial deployment_id)}],
              [2, undef, undef, undef], 'the suspend\'s checkpoint taken; the deployment is over');
    is_deeply([map { (jbody(req(POST => "/v0/pipelines/$N/stop?force=$_")) // '') } qw(false true)],
              ['Pipeline is forcefully stopping', 'Pipeline is forcefully stopping'],
              'stop of a Stopped pipeline: 202, as the manager says it');
}

# ---- dismiss_error: a failed suspend leaves a deployment_error -----------------------------------
{
    my $err = { message => 'checkpoint failed: disk full', error_code => 'CheckpointFailed',
                details => {} };
    my ($res, $d, $s);
    # Stopping lasts LifecycleAutoAdvance (300 ms) here: on a machine so busy
    # that the dismiss comes later, the pipeline is Stopped already and the
    # dismiss is (rightly) accepted; then the case is set up again.
    for my $try (1 .. 5) {
        ($d, $s) = start();
        wait_one_of('running');
        # The runner reports the failure: the pipeline is stopped forcefully with the error.
        req(POST => ADMIN . "/resources/pipeline/$N/report",
            body => { deployment_status => 'Stopping', deployment_error => $err });
        $res = req(POST => "/v0/pipelines/$N/dismiss_error");
        last if $res->code != 202;
        diag "dismiss_error came after Stopping had ended (try $try): again";
    }
    is_deeply([$res->code, (jbody($res) || {})->{error_code}],
              [400, 'DismissErrorRestrictedToFullyStopped'], 'dismiss_error while Stopping: 400');
    req(POST => ADMIN . "/resources/pipeline/$N/report", body => { deployment_status => 'Stopped' });
    my (undef, $how) = wait_one_of('running');
    is($how, 'RuntimeError', 'the client\'s wait sees Stopped with the error and gives up');
    $res = req(POST => "/v0/pipelines/$N/start?dismiss_error=false");
    is_deeply([$res->code, jbody($res)],
              [400, { message => 'Cannot process `/start?dismiss_error=false` if the '
                               . '`deployment_error` is set. You can dismiss the error by calling '
                               . '`/start?dismiss_error=true`, or alternatively first call '
                               . '`/dismiss_error`, after which `/start?dismiss_error=false` is '
                               . 'again possible.',
                      error_code => 'CannotStartWithUndismissedError', details => undef }],
              'start(dismiss_error=False) with an error: 400 CannotStartWithUndismissedError');
    is(get_pipeline('status')->{deployment_status}, 'Stopped', 'which changed nothing');
    # dismiss_error() (rest/feldera_client.py:839-848)
    $res = req(POST => "/v0/pipelines/$N/dismiss_error");
    is($res->code, 200, 'POST dismiss_error: 200');
    is(get_pipeline('status')->{deployment_error}, undef, 'the error is gone');
    ($d, $s) = start();
    is($s->code, 202, 'start() again');
    is((wait_one_of('running'))[1], 'ok', 'Running');
    # A start with the default dismiss_error=true clears an error itself.
    req(POST => "/v0/pipelines/$N/stop?force=true");
    wait_one_of('stopped');
    req(POST => ADMIN . "/resources/pipeline/$N/report", body => { deployment_error => $err });
    $res = req(POST => "/v0/pipelines/$N/start");
    is_deeply([$res->code, get_pipeline('status')->{deployment_error}], [202, undef],
              'start (dismiss_error defaults to true) clears it');
    req(POST => "/v0/pipelines/$N/stop?force=true");
    wait_one_of('stopped');
}

# ---- start_paused() / start_standby(): initial=paused|standby (:641-701) -----------------------
for my $initial (qw(paused standby)) {
    my ($d, $s) = start(initial => $initial);
    is($s->code, 202, "start?initial=$initial: 202");
    my ($seen, $how) = wait_one_of($initial, 'AwaitingApproval');
    is_deeply([$how, $seen->[-1]], ['ok', ucfirst $initial], "it becomes \u$initial");
    my $p = get_pipeline('status');
    is_deeply([@$p{qw(deployment_desired_status deployment_initial)}], [ucfirst $initial,
              ucfirst $initial], 'desired and initial');
    my $res = req(POST => "/v0/pipelines/$N/start?initial=running");
    is((jbody($res) || {})->{error_code}, 'InitialImmutableUnlessStopped',
       'another initial while started: 400 InitialImmutableUnlessStopped');
    req(POST => "/v0/pipelines/$N/stop?force=true");
    wait_one_of('stopped');
}

# ---- the 400s (and one 405) the client may meet ---------------------------------------------------
{
    my $res = req(POST => "/v0/pipelines/$N/start?initial=bogus");
    is_deeply([$res->code, jbody($res)],
              [405, { message => "Unsupported pipeline action '/start?initial=bogus': unknown "
                               . 'initial runtime desired status: bogus',
                      error_code => 'UnsupportedPipelineAction',
                      details => { action => '/start?initial=bogus',
                                   reason => 'unknown initial runtime desired status: bogus' } }],
              'start?initial=bogus: the manager\'s 405 UnsupportedPipelineAction');
    for my $q ('dismiss_error=no', 'bootstrap_policy=never', 'silent_bootstrap=1', 'initial=running&x=1') {
        is((jbody(req(POST => "/v0/pipelines/$N/start?$q")) || {})->{error_code},
           'InvalidQueryParam', "start?$q: 400 InvalidQueryParam");
    }
    is(req(POST => "/v0/pipelines/$N/start?initial=running&bootstrap_policy=allow"
                 . '&silent_bootstrap=true&concurrent_bootstrap=false')->code, 202,
       'the bootstrap parameters are accepted (and ignored)');
    req(POST => "/v0/pipelines/$N/stop?force=true");
    wait_one_of('stopped');
    $res = req(POST => "/v0/pipelines/$N/checkpoint");
    is_deeply([$res->code, (jbody($res) || {})->{error_code}], [400, 'PipelineInteractionNotDeployed'],
              'checkpoint of a Stopped pipeline: 400');
    $res = req(GET => "/v0/pipelines/$N/checkpoint_status");
    is_deeply([$res->code, (jbody($res) || {})->{error_code}], [503, 'PipelineInteractionNotDeployed'],
              'checkpoint_status of a Stopped pipeline: 503, as the manager');
    is(req(POST => "/v0/pipelines/$N/checkpoint_status")->code, 405, 'POST checkpoint_status: 405');
    is(req(GET => "/v0/pipelines/$N/dismiss_error")->code, 405, 'GET dismiss_error: 405');
}
