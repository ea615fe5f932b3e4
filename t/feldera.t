# The Feldera dialect at /v0/pipelines: start, stop?force=false
# (suspend: desired Suspended while still Running, then Suspended with the
# atomic checkpoint, then Stopping, Stopped), stop?force=true, checkpoint, GET;
# every row of the state table, legal and illegal; each intermediate status
# seen in order while polling; the suspend timeout and runner-reported failure
# (deployment_error, cleared by a later start); a restart while suspending
# resumes from the journal; 32 concurrent stops/starts; Feldera's error bodies;
# bad input changing nothing; the admin API's pipeline form.  What Feldera's
# Python client does, call for call, is t/feldera_client.t.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LcTest;
use Time::HiRes qw(time sleep);
use JSON::PP ();
use LWP::UserAgent ();
use POSIX ();

use constant FD => '/v0/pipelines';

plan tests => 277;

my $vars = Apache::Test::vars();
my $log = "$vars->{t_logs}/error_log";
my @mine;
my $cleaned;
END { unless ($cleaned) { pdel($_) for @mine } }

# 'Suspending' is no status of its own: Running wanted Suspended (the admin PUT below).
my @STATES = qw(Stopped Provisioning Initializing Paused Running Unavailable Standby
                Suspending Suspended Stopping);
my %RES = (Stopped => 'Stopped', Provisioning => 'Provisioning', Stopping => 'Stopping',
           map { $_ => 'Provisioned' } qw(Initializing Paused Running Unavailable Standby
                                          Suspended));

sub pdel { req(DELETE => ADMIN . "/resources/pipeline/$_[0]") }
sub pput {
    my ($name, $status, %o) = @_;
    push @mine, $name unless grep { $_ eq $name } @mine;
    return req(PUT => ADMIN . "/resources/pipeline/$name",
               body => { name => $name, deployment_status => $status, %o });
}
sub act {
    my ($name, $verb, $query, %o) = @_;
    return req(POST => FD . "/$name/$verb" . (defined $query ? "?$query" : ''), %o);
}
sub pget { my $res = req(GET => FD . "/$_[0]"); return (jbody($res) || {}, $res) }
# [status, desired, resources status, resources desired]
sub quad {
    my ($b) = pget($_[0]);
    return [@$b{qw(deployment_status deployment_desired_status deployment_resources_status
                   deployment_resources_desired_status)}];
}
# Poll every 50 ms until `final` (or `secs`); the distinct statuses seen, in order.
sub seen_until {
    my ($name, $final, $secs) = @_;
    my $deadline = time + ($secs || 5);
    my @seen;
    while (time < $deadline) {
        my ($b) = pget($name);
        my $s = $b->{deployment_status} // '?';
        push @seen, $s if !@seen || $seen[-1] ne $s;
        last if $s eq $final;
        sleep 0.05;
    }
    return \@seen;
}
sub wait_for { my ($n, $s, $secs) = @_; my $seen = seen_until($n, $s, $secs); $seen->[-1] }
sub report { req(POST => ADMIN . "/resources/pipeline/$_[0]/report", body => $_[1]) }

# 2 tests: status code and the exact Feldera ErrorResponse.
sub is_error {
    my ($res, $code, $body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->code, $code, "$name: $code");
    is_deeply([$res->header('Content-Type'), jbody($res)], [JSON_CT, $body], "$name: body");
}
# 2 tests: status code and {"message","error_code":CODE,"details":{...}}.
sub is_code {
    my ($res, $code, $ecode, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $b = jbody($res) || {};
    is($res->code, $code, "$name: $code");
    is_deeply([join(',', sort keys %$b), $b->{error_code}, ref $b->{details},
               (defined $b->{message} && length $b->{message} ? 1 : 0)],
              ['details,error_code,message', $ecode, 'HASH', 1], "$name: $ecode");
}

my $STOPPING_HINT = 'Cannot restart the pipeline while it is stopping. Wait for it to stop '
                  . 'before starting a new instance of the pipeline.';
my $SUSPENDING_HINT = 'Cannot restart the pipeline while it is suspending. Wait for it to stop '
                    . 'before starting a new instance of the pipeline.';
sub illegal_start {
    my ($status, $desired, $hint) = @_;
    return { message => "Deployment resources status (current: '$status', desired: '$desired') "
                      . "cannot have desired changed to 'Provisioned'. $hint",
             error_code => 'IllegalPipelineAction',
             details => { status => $status, current_desired_status => $desired,
                          new_desired_status => 'Provisioned', hint => $hint } };
}

# ---- errors: unknown pipeline, bad names, routes, methods ----------------------------------------
pdel('fd-nope');
for my $r (['GET', ''], ['POST', '/start'], ['POST', '/stop'], ['POST', '/stop?force=true'],
           ['POST', '/checkpoint']) {
    is_error(req($r->[0] => FD . "/fd-nope$r->[1]"), 404,
             { message => "Unknown pipeline name 'fd-nope'", error_code => 'UnknownPipelineName',
               details => { pipeline_name => 'fd-nope' } }, "$r->[0] $r->[1] unknown");
}
{
    my $desc = 'be non-empty and only contain lowercase (a-z), uppercase (A-Z), number (0-9), '
             . 'underscore (_) or hyphen (-) characters, but cannot start or end with hyphen '
             . 'or underscore';
    my $pat = '^([A-Za-z0-9][-A-Za-z0-9_]*)?[A-Za-z0-9]$';
    is_error(req(GET => FD . '/-abc'), 400,
             { message => "Name '-abc' should $desc (pattern: '$pat')",
               error_code => 'NameDoesNotMatchPattern',
               details => { name => '-abc', pattern => $pat, pattern_description => $desc } },
             'name starting with a hyphen');
    my $long = 'a' x 64;
    is_error(req(POST => FD . "/$long/stop"), 400,
             { message => "Name '$long' is longer (64) than maximum allowed (63)",
               error_code => 'TooLongName',
               details => { name => $long, length => 64, maximum => 63 } }, '64 characters');
    for my $bad ('abc-', '_abc', 'abc_', 'a.b', 'a%20b', 'caf%C3%A9', 'a..b', 'a%2Bb', '-') {
        is_code(req(POST => FD . "/$bad/start"), 400, 'NameDoesNotMatchPattern', "name '$bad'");
    }
    is_code(req(POST => FD . '/a%2Fb/start'), 400, 'invalid_request', 'an encoded slash');
    is_code(req(GET => FD . '/a%FFb'), 400, 'invalid_request', 'non-UTF-8');
    # 63 characters and the shortest names are valid (and unknown).
    is(req(GET => FD . '/' . ('a' x 63))->code, 404, '63 characters: a valid name');
    is(req(GET => FD . '/a')->code, 404, 'one character: a valid name');
    is(req(GET => FD . '/A-b_9')->code, 404, 'A-b_9: a valid name');
}
is_code(req(GET => FD . '/p1/frobnicate'), 404, 'NotFound', 'unknown action');
is_code(req(GET => FD . '/p1/start/x'), 404, 'NotFound', 'too many segments');
is(req(GET => FD)->code, 200, 'the collection: the list (t/feldera_client.t)');
{
    my $res = req(GET => FD . '/fd-nope/start');
    is_code($res, 405, 'MethodNotAllowed', 'GET /start');
    is($res->header('Allow'), 'POST', 'GET /start: Allow: POST');
    # DELETE /{name} is delete() (t/feldera_lifecycle.t); PUT is not served.
    $res = req(PUT => FD . '/fd-nope', body => {});
    is_code($res, 405, 'MethodNotAllowed', 'PUT /{name}');
    is($res->header('Allow'), 'GET, HEAD, DELETE', 'PUT: Allow: GET, HEAD, DELETE');
}

# ---- admin PUT / GET of the pipeline form ---------------------------------------------------------
{
    pdel('fd-adm');
    my $res = pput('fd-adm', 'Running', checkpoint_sequence_number => 7);
    is($res->code, 201, 'admin PUT creates a pipeline');
    my $b = jbody($res);
    is_deeply([@$b{qw(name deployment_status deployment_desired_status deployment_resources_status
                      deployment_resources_desired_status checkpoint_sequence_number version)},
               $b->{deployment_error}],
              ['fd-adm', 'Running', 'Running', 'Provisioned', 'Provisioned', 7, 1, undef],
              'admin PUT answers the GET form (desired and resources derived)');
    like($b->{deployment_status_since}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3}|\.\d{6})?Z$/,
         'deployment_status_since is RFC 3339 UTC');
    my ($g, $gr) = pget('fd-adm');
    my $id = delete $g->{id};
    like($id, qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
         'the dialect GET adds the pipeline id (a UUID)');
    is_deeply($g, $b, 'otherwise the same object');
    is(etag($gr), '"1"', 'GET carries ETag "<version>"');
    is_deeply(jbody(req(GET => ADMIN . '/resources/pipeline/fd-adm')), $b, 'admin GET: the same');
    # Sending the GET form back replaces it (server-owned fields ignored).
    $res = req(PUT => ADMIN . '/resources/pipeline/fd-adm', body => $g);
    is($res->code, 200, 'PUT of the GET form as it is: 200');
    my $err = { message => 'boom', error_code => 'RunnerError', details => { why => 'x' } };
    $res = pput('fd-adm', 'Stopped', deployment_error => $err, deployment_desired_status => 'Stopped');
    is_deeply(jbody($res)->{deployment_error}, $err, 'a deployment_error is kept in Feldera\'s shape');
    # A runner's error of 15 KiB is kept whole, its keys in the order they came.
    my $details = '{"zeta":"' . ('z' x 15000) . '","alpha":1,"mid":[3,2,1]}';
    push @mine, 'fd-big';
    $res = req(PUT => ADMIN . '/resources/pipeline/fd-big',
               body => '{"name":"fd-big","deployment_status":"Stopped","deployment_error":'
                     . '{"message":"big","error_code":"Big","details":' . $details . '}}');
    is($res->code, 201, 'PUT a 15 KiB deployment_error: 201');
    my (undef, $bigr) = pget('fd-big');
    is_deeply((jbody($bigr) || {})->{deployment_error}{details}, JSON::PP->new->decode($details),
              'the 15 KiB deployment_error comes back whole');
    my $text = $bigr->content;
    ok(index($text, '"zeta"') < index($text, '"alpha"') && index($text, '"alpha"') < index($text, '"mid"'),
       'its keys in the order given');
    for my $bad ([deployment_status => 'Flying'], [deployment_status => undef],
                 [deployment_desired_status => 'Running2'],
                 [deployment_initial => 'Suspended'],
                 [deployment_error => { message => 'm' }],
                 [deployment_error => 'boom'],
                 [checkpoint_sequence_number => -1], [checkpoint_sequence_number => '3'],
                 [runner_driven => 'yes'], [name => 'other'], [colour => 'red'],
                 [deployment_error => { message => 'm' x 17000, error_code => 'E', details => {} }]) {
        my %b = (name => 'fd-adm', deployment_status => 'Running', @$bad);
        delete $b{deployment_status} unless defined $b{deployment_status};
        is_admin_error(req(PUT => ADMIN . '/resources/pipeline/fd-adm', body => \%b), 400,
                       'invalid_request', "PUT with bad $bad->[0]", $bad->[0]);
    }
}

# ---- start: Stopped -> Provisioning -> Initializing -> Running, seen in order ----------------------
{
    pdel('fd-start');
    pput('fd-start', 'Stopped');
    my $t0 = time;
    my $res = act('fd-start', 'start');
    is($res->code, 202, 'start: 202');
    is_deeply(jbody($res), 'Pipeline is starting', 'start: Feldera\'s 202 body');
    is_deeply(quad('fd-start'), [qw(Provisioning Running Provisioning Provisioned)],
              'at once: Provisioning, desired Running, resources Provisioning -> Provisioned');
    is_deeply(seen_until('fd-start', 'Running'), [qw(Provisioning Initializing Running)],
              'polling sees Provisioning, Initializing, Running in that order');
    cmp_ok(time - $t0, '>=', 0.55, 'two 300 ms steps');
    is_deeply(quad('fd-start'), [qw(Running Running Provisioned Provisioned)], 'Running');
    my ($b, $r) = pget('fd-start');
    is($b->{version}, 4, 'one version per move');
    is(audit_count(pipeline => 'fd-start', moves => 1, like => qr/sub="lifecycle-auto-advance"/), 2, 'two auto-advance audit lines');
    # Already started: 202, nothing changes.
    my $lines = audit_count(pipeline => 'fd-start', moves => 1);
    $res = act('fd-start', 'start');
    is($res->code, 202, 'start while Running: 202');
    is(etag($res), etag($r), 'start while Running: no new version');
    is(audit_count(pipeline => 'fd-start', moves => 1), $lines, 'start while Running: no audit line');
}

# ---- stop?force=false: Running (desired Suspended) -> Suspended -> Stopping -> Stopped ---------------
{
    pput('fd-susp', 'Running', checkpoint_sequence_number => 4);
    my $res = act('fd-susp', 'stop');
    is($res->code, 202, 'stop (default force=false): 202');
    is_deeply(jbody($res), 'Pipeline is suspending', 'stop: Feldera\'s 202 body');
    is_deeply(quad('fd-susp'), [qw(Running Suspended Provisioned Provisioned)],
              'at once: still Running, desired Suspended (no Suspending status)');
    my @quads;
    my $deadline = time + 5;
    while (time < $deadline) {
        my ($b) = pget('fd-susp');
        my $q = join ' ', @$b{qw(deployment_status deployment_desired_status
                                 deployment_resources_status checkpoint_sequence_number)};
        push @quads, $q if !@quads || $quads[-1] ne $q;
        last if $b->{deployment_status} eq 'Stopped';
        sleep 0.05;
    }
    is_deeply(\@quads, ['Running Suspended Provisioned 4', 'Suspended Suspended Provisioned 5',
                        'Stopping Stopped Stopping 5', 'Stopped Stopped Stopped 5'],
              'polling sees Running (desired Suspended), Suspended (checkpoint taken), '
            . 'Stopping (desired Stopped), Stopped');
    is_deeply(quad('fd-susp'), [qw(Stopped Stopped Stopped Stopped)], 'fully stopped');
    $res = act('fd-susp', 'stop', 'force=false');
    is($res->code, 202, 'stop?force=false when Stopped: 202');
    my ($b, $r) = pget('fd-susp');
    is(etag($res), etag($r), 'no new version');
    $res = act('fd-susp', 'stop', 'force=true');
    is($res->code, 202, 'stop?force=true when Stopped: 202');
    is(etag($res), etag($r), 'no new version');
    is($b->{checkpoint_sequence_number}, 5, 'no new checkpoint either');
}

# ---- stop?force=true: Stopping -> Stopped, no checkpoint ------------------------------------------
{
    pput('fd-force', 'Running', checkpoint_sequence_number => 4);
    my $res = act('fd-force', 'stop', 'force=true');
    is($res->code, 202, 'stop?force=true: 202');
    is_deeply(jbody($res), 'Pipeline is forcefully stopping', 'force stop: Feldera\'s 202 body');
    is_deeply(quad('fd-force'), [qw(Stopping Stopped Stopping Stopped)],
              'at once: Stopping, desired Stopped, resources Stopping');
    is_deeply(seen_until('fd-force', 'Stopped'), [qw(Stopping Stopped)],
              'polling sees Stopping, Stopped');
    my ($b) = pget('fd-force');
    is($b->{checkpoint_sequence_number}, 4, 'no checkpoint');
    is_deeply(quad('fd-force'), [qw(Stopped Stopped Stopped Stopped)], 'fully stopped');
}

# ---- every row of the table -----------------------------------------------------------------------
# A runner-driven pipeline stays where an action puts it, so each row is exact.
# [state, action, code, status after, desired after, checkpoint + n]
my $D = { Stopped => 'Stopped', Provisioning => 'Running', Initializing => 'Running',
          Paused => 'Paused', Running => 'Running', Unavailable => 'Running', Standby => 'Standby',
          Suspending => 'Suspended', Suspended => 'Suspended', Stopping => 'Stopped' };
# The status each row's state shows: suspending is Running wanted Suspended.
my %SHOW = ((map { $_ => $_ } @STATES), Suspending => 'Running');
my @rows;
for my $s (@STATES) {
    my $live = $s =~ /^(Initializing|Paused|Running|Unavailable|Standby)$/;
    my $going = $s =~ /^(Suspending|Suspended|Stopping)$/;
    my $shown = $SHOW{$s};
    push @rows,
        # start?initial=running (the default): another initial is InitialImmutableUnlessStopped.
        [$s, 'start', $s eq 'Stopped' ? (202, 'Provisioning', 'Running')
                    : ($going || $D->{$s} ne 'Running') ? (400, $shown, $D->{$s})
                    : (202, $shown, $D->{$s}), 0],
        [$s, 'stop', $s eq 'Stopped' ? (202, 'Stopped', 'Stopped')
                   : $s eq 'Provisioning' ? (202, 'Stopping', 'Stopped')
                   : $live ? (202, $shown, 'Suspended') : (400, $shown, $D->{$s}), 0],
        [$s, 'stop?force=true', $s =~ /^(Stopped|Stopping)$/ ? (202, $s, 'Stopped')
                              : (202, 'Stopping', 'Stopped'), 0],
        [$s, 'checkpoint', $shown =~ /^(Paused|Running)$/ ? (200, $shown, $D->{$s}, 1)
                         : (400, $shown, $D->{$s}, 0)];
}
sub pput_state {   # a row's state through the admin API
    my ($name, $s, %o) = @_;
    return $s eq 'Suspending'
        ? pput($name, 'Running', deployment_desired_status => 'Suspended', %o)
        : pput($name, $s, %o);
}
for my $row (@rows) {
    my ($s, $a, $code, $to, $desired, $ck) = @$row;
    $ck //= 0;
    my $name = 'fd-row';
    pput_state($name, $s, runner_driven => JSON::PP::true, checkpoint_sequence_number => 10);
    my ($b0, $r0) = pget($name);
    my ($verb, $q) = split /\?/, $a;
    my $lines = audit_count(pipeline => $name, moves => 1);
    my $res = act($name, $verb, $q);
    my ($b) = pget($name);
    my $changed = $to ne $SHOW{$s} || $desired ne $b0->{deployment_desired_status} || $ck;
    is_deeply([$res->code, @$b{qw(deployment_status deployment_desired_status
                                  deployment_resources_status checkpoint_sequence_number)},
               $b->{version} - $b0->{version}, audit_count(pipeline => $name, moves => 1) - $lines],
              [$code, $to, $desired, $RES{$to}, 10 + $ck, $changed ? 1 : 0, $changed ? 1 : 0],
              "$s + $a: $code, $to (desired $desired)" . ($changed ? '' : ', no change'));
}
# The refusals' bodies.
pput('fd-row', 'Stopping', runner_driven => JSON::PP::true);
is_error(act('fd-row', 'start'), 400, illegal_start('Stopping', 'Stopped', $STOPPING_HINT),
         'start while Stopping: IllegalPipelineAction, its body exactly');
is_code(act('fd-row', 'stop', 'force=false'), 400, 'IllegalPipelineAction',
        'stop?force=false while Stopping');
pput_state('fd-row', 'Suspending', runner_driven => JSON::PP::true);
is_error(act('fd-row', 'start'), 400,
         illegal_start('Provisioned', 'Provisioned', $SUSPENDING_HINT),
         'start while suspending: IllegalPipelineAction (the resources are still wanted)');
is_code(act('fd-row', 'stop'), 400, 'IllegalPipelineAction', 'stop while suspending');
pput('fd-row', 'Paused', runner_driven => JSON::PP::true);
is_error(act('fd-row', 'start', 'initial=running'), 400,
         { message => 'Initial desired runtime status cannot be changed unless the pipeline is '
                    . 'desired to become Stopped.',
           error_code => 'InitialImmutableUnlessStopped', details => undef },
         'start?initial=running of a pipeline started paused');
pput('fd-row', 'Stopped', runner_driven => JSON::PP::true);
is_error(act('fd-row', 'checkpoint'), 400,
         { message => 'Unable to interact with pipeline because the deployment status (stopped) '
                    . 'indicates it is not (yet) fully provisioned pipeline-id=N/A '
                    . 'pipeline-name="fd-row"',
           error_code => 'PipelineInteractionNotDeployed',
           details => { pipeline_name => 'fd-row', status => 'Stopped', desired_status => 'Stopped' } },
         'checkpoint while Stopped');
pput('fd-row', 'Running', runner_driven => JSON::PP::true, checkpoint_sequence_number => 3);
{
    my $res = act('fd-row', 'checkpoint');
    is_deeply([$res->code, jbody($res)],
              [200, { checkpoint_sequence_number => 4, incarnation_uuid => undef }],
              'checkpoint: 200 {"checkpoint_sequence_number": N, "incarnation_uuid": null} '
            . '(no deployment id: the admin PUT made it Running)');
}

# ---- a force stop cancels a suspend, and cannot itself be cancelled -------------------------------
{
    pput('fd-cancel', 'Running', runner_driven => JSON::PP::true, checkpoint_sequence_number => 2);
    is(act('fd-cancel', 'stop')->code, 202, 'suspend a runner-driven pipeline');
    is_deeply(quad('fd-cancel'), [qw(Running Suspended Provisioned Provisioned)],
              'it is suspending: Running, desired Suspended');
    is(act('fd-cancel', 'stop', 'force=true')->code, 202, 'force stop during the suspend: 202');
    my ($b, $r) = pget('fd-cancel');
    is_deeply([@$b{qw(deployment_status deployment_desired_status checkpoint_sequence_number)}],
              ['Stopping', 'Stopped', 2], 'the suspend is cancelled: Stopping, no checkpoint');
    for my $try (['start', undef, 400], ['stop', 'force=false', 400], ['stop', 'force=true', 202]) {
        my $res = act('fd-cancel', $try->[0], $try->[1]);
        is($res->code, $try->[2], "while force-stopping: $try->[0] " . ($try->[1] // '') . " -> $try->[2]");
    }
    is(etag(req(GET => FD . '/fd-cancel')), etag($r), 'none of them changed anything');
    is(report('fd-cancel', { deployment_status => 'Stopped' })->code, 200, 'the runner reports Stopped');
    is_deeply(quad('fd-cancel'), [qw(Stopped Stopped Stopped Stopped)], 'Stopped');
}

# ---- suspend timeout -------------------------------------------------------------------------------
{
    pput('fd-tmo', 'Running', runner_driven => JSON::PP::true, checkpoint_sequence_number => 9);
    my $t0 = time;
    is(act('fd-tmo', 'stop')->code, 202, 'suspend a pipeline no runner finishes');
    is_deeply(seen_until('fd-tmo', 'Stopping', 6), [qw(Running Stopping)],
              'Running (desired Suspended) until LifecycleSuspendTimeout, then Stopping');
    my $took = time - $t0;
    ok($took >= 1.9 && $took < 4, sprintf('after the 2 s timeout (%.2f s)', $took));
    my ($b) = pget('fd-tmo');
    is_deeply([@$b{qw(deployment_desired_status deployment_resources_status
                      checkpoint_sequence_number)}], ['Stopped', 'Stopping', 9],
              'forcefully stopped: desired Stopped, resources Stopping, no checkpoint');
    my $e = $b->{deployment_error} || {};
    is_deeply([sort keys %$e], [qw(details error_code message)], 'deployment_error: Feldera\'s shape');
    is_deeply([$e->{error_code}, $e->{details}],
              ['AutomatonSuspendingComputeTimeout', { timeout => { secs => 2, nanos => 0 } }],
              'deployment_error: the suspend timeout');
    like($e->{message}, qr/could not suspend within the timeout of 2s/, 'deployment_error: message');
    is(audit_count(pipeline => 'fd-tmo', moves => 1, like => qr/from="Running" to="Stopping" sub="lifecycle-timeout"/), 1,
       'audited as the timeout\'s move');
    is(report('fd-tmo', { deployment_status => 'Stopped' })->code, 200, 'the runner reports Stopped');
    ($b) = pget('fd-tmo');
    is_deeply([$b->{deployment_status}, $b->{deployment_error}{error_code}],
              ['Stopped', 'AutomatonSuspendingComputeTimeout'], 'Stopped, the error still shown');
    is(act('fd-tmo', 'start')->code, 202, 'a later start');
    ($b) = pget('fd-tmo');
    is_deeply([$b->{deployment_status}, $b->{deployment_error}], ['Provisioning', undef],
              'the start clears deployment_error');
}

# ---- runner reports: a checkpoint that fails, one that succeeds ----------------------------------
{
    my $err = { message => 'checkpoint failed: disk full', error_code => 'CheckpointFailed',
                details => { path => '/data' } };
    pput('fd-fail', 'Running', runner_driven => JSON::PP::true, checkpoint_sequence_number => 1);
    act('fd-fail', 'stop');
    my $res = report('fd-fail', { deployment_error => $err });
    is($res->code, 200, 'the runner reports the failed checkpoint');
    my ($b) = pget('fd-fail');
    is_deeply([@$b{qw(deployment_status deployment_desired_status deployment_resources_status
                      checkpoint_sequence_number deployment_error)}],
              ['Stopping', 'Stopped', 'Stopping', 1, $err],
              'forcefully stopped with that error set, no checkpoint');
    is(report('fd-fail', { deployment_status => 'Stopped' })->code, 200, 'then Stopped');
    is(act('fd-fail', 'start')->code, 202, 'a later start');
    ($b) = pget('fd-fail');
    is($b->{deployment_error}, undef, 'clears the error');

    pput('fd-ok', 'Running', runner_driven => JSON::PP::true, checkpoint_sequence_number => 1);
    act('fd-ok', 'stop');
    is(report('fd-ok', { deployment_status => 'Suspended' })->code, 200,
       'the runner reports the suspend done');
    is_deeply(quad('fd-ok'), [qw(Suspended Suspended Provisioned Provisioned)],
              'Suspended, still wanted Suspended');
    ($b) = pget('fd-ok');
    is($b->{checkpoint_sequence_number}, 2, 'the checkpoint was taken');
    is(report('fd-ok', { deployment_status => 'Stopping' })->code, 200,
       'the runner deprovisions it');
    is_deeply(quad('fd-ok'), [qw(Stopping Stopped Stopping Stopped)], 'Stopping, desired Stopped');
    is(report('fd-ok', { deployment_status => 'Stopped', checkpoint_sequence_number => 7 })->code,
       200, 'Stopped, with the runner\'s own sequence number');
    ($b) = pget('fd-ok');
    is_deeply([$b->{deployment_status}, $b->{checkpoint_sequence_number}], ['Stopped', 7],
              'the runner\'s number wins');
    my $v = $b->{version};
    is(report('fd-ok', { deployment_status => 'Stopped' })->code, 200, 'the same report again');
    ($b) = pget('fd-ok');
    is($b->{version}, $v, 'changes nothing');
    for my $bad ({ status => 'Running' }, { deployment_status => 'Up' },
                 { checkpoint_sequence_number => -2 }, { deployment_error => 'x' },
                 { deployment_error => $err, deployment_status => 'Running' }) {
        my $f = (keys %$bad)[0];
        $f = 'deployment_status' if exists $bad->{deployment_error} && exists $bad->{deployment_status};
        is_admin_error(report('fd-ok', $bad), 400, 'invalid_request', "report with bad $f", $f);
    }
    ($b) = pget('fd-ok');
    is($b->{version}, $v, 'bad reports change nothing');
}

# ---- 32 concurrent stops and starts on one pipeline -----------------------------------------------
{
    pput('fd-race', 'Running');
    my @verbs = map { (['start'], ['stop', 'force=false'], ['stop', 'force=true'], ['stop']) } 1 .. 8;
    pipe(my $rd, my $wr) or die;
    my @kids;
    for my $i (0 .. $#verbs) {
        my $pid = fork() // die;
        if ($pid == 0) {
            # A connection of its own: the parent's keep-alive socket is not shared.
            close $rd;
            my ($verb, $q) = @{ $verbs[$i] };
            my $ua = LWP::UserAgent->new(timeout => 10);
            my $res = $ua->post('http://' . Apache::TestRequest::hostport() . FD
                                . "/fd-race/$verb" . (defined $q ? "?$q" : ''),
                                'Content-Length' => 0);
            my $b = jbody($res);
            syswrite $wr, join(' ', $res->code,
                ref $b eq 'HASH' ? $b->{error_code} : (defined $b ? 'ok' : '-')) . "\n";
            POSIX::_exit(0);          # not exit: END would delete the parent's pipelines
        }
        push @kids, $pid;
    }
    close $wr;
    my @answers = <$rd>;
    waitpid($_, 0) for @kids;
    chomp @answers;
    is(scalar @answers, 32, '32 answers');
    my @odd = grep { !/^(202 ok|400 IllegalPipelineAction)$/ } @answers;
    is(scalar @odd, 0, 'each is 202, or 400 IllegalPipelineAction') or diag("@odd[0..2]");
    my $last = wait_for('fd-race', 'Stopped', 6);
    $last = wait_for('fd-race', 'Running', 3) if $last ne 'Stopped';
    ok($last eq 'Stopped' || $last eq 'Running', "it settles in a state the table allows ($last)");
    my ($b) = pget('fd-race');
    is_deeply([$b->{deployment_resources_status}, $b->{deployment_desired_status}],
              $last eq 'Stopped' ? ['Stopped', 'Stopped'] : ['Provisioned', 'Running'],
              'its resources and desired status agree with it');
}

# ---- bad input changes nothing --------------------------------------------------------------------
{
    pput('fd-bad', 'Running', runner_driven => JSON::PP::true);
    my ($b0, $r0) = pget('fd-bad');
    my $lines = audit_count(pipeline => 'fd-bad', moves => 1);
    for my $q ('force=maybe', 'force=TRUE', 'force=1', 'force=', 'force', 'force=true&force=true',
               'force=false&force=true', 'forced=true', 'force=true&x=1', 'force=%ZZ') {
        is_code(act('fd-bad', 'stop', $q), 400, 'InvalidQueryParam', "stop?$q");
    }
    is_code(act('fd-bad', 'start', 'force=true'), 400, 'InvalidQueryParam', 'start takes no query');
    is_code(act('fd-bad', 'checkpoint', 'x=1'), 400, 'InvalidQueryParam', 'checkpoint takes no query');
    is_code(act('fd-bad', 'stop', undef, body => '{"force":true}'), 400, 'InvalidRequestBody',
            'a body on stop');
    is_code(act('fd-bad', 'stop', undef, headers => { 'If-Match' => 'nope' }), 400,
            'InvalidIfMatch', 'a malformed If-Match');
    my $res = act('fd-bad', 'stop', undef, headers => { 'If-Match' => '"999"' });
    is_code($res, 412, 'OutdatedPipelineVersion', 'a stale If-Match');
    is(etag($res), etag($r0), '412 names the current ETag');
    my ($b) = pget('fd-bad');
    is_deeply($b, $b0, 'after all of it the pipeline is exactly as it was');
    is(audit_count(pipeline => 'fd-bad', moves => 1), $lines, 'and no audit line was written');
    $res = act('fd-bad', 'stop', undef, headers => { 'If-Match' => etag($r0) });
    is($res->code, 202, 'the current ETag in If-Match: accepted');
}

# ---- a restart while suspending resumes from the journal ------------------------------------------
{
    my $base = 'http://' . Apache::TestRequest::hostport();
    pput('fd-boot', 'Running', checkpoint_sequence_number => 20);
    pput('fd-boot-tmo', 'Running', runner_driven => JSON::PP::true, checkpoint_sequence_number => 30);
    is(act('fd-boot-tmo', 'stop')->code, 202, 'suspend a runner-driven pipeline');
    is(act('fd-boot', 'stop')->code, 202, 'suspend an auto-advanced one');
    my @q = map { quad($_)->[0] } qw(fd-boot fd-boot-tmo);
    # Kill everything at once, within the 300 ms step.
    open my $fh, '<', $vars->{t_pid_file} or die; chomp(my $parent = <$fh>); close $fh;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $sf, '<', $stat or next; my $l = <$sf>; close $sf;
        push @kids, $1 if defined $l && $l =~ /^(\d+) \(.*?\) \S (\d+)/ && $2 == $parent;
    }
    kill 'KILL', @kids, $parent;
    is_deeply(\@q, [qw(Running Running)], 'both still Running (suspending) when every process was killed');
    my $t0 = time;
    sleep 0.1 while kill(0, $parent) && time - $t0 < 10;
    unlink $vars->{t_pid_file};
    system(Apache::Test::config()->server->start_cmd . " >$vars->{t_logs}/fd-restart.out 2>&1");
    my $up = 0;
    for (1 .. 150) { if (req(GET => ADMIN . '/metrics')->code == 200) { $up = 1; last } sleep 0.2 }
    ok($up, 'the server came back') or diag(`cat $vars->{t_logs}/fd-restart.out; tail -5 $log`);
    Apache::TestRequest::user_agent(reset => 1);   # the old keep-alive socket is dead
    is(wait_for('fd-boot', 'Stopped', 5), 'Stopped', 'the suspend resumed after the restart');
    my ($b) = pget('fd-boot');
    is_deeply([@$b{qw(deployment_desired_status checkpoint_sequence_number deployment_error)}],
              ['Stopped', 21, undef], 'with its checkpoint, and no error');
    is(wait_for('fd-boot-tmo', 'Stopping', 5), 'Stopping', 'the suspend timeout survived the restart');
    ($b) = pget('fd-boot-tmo');
    is_deeply([$b->{deployment_error}{error_code}, $b->{checkpoint_sequence_number}],
              ['AutomatonSuspendingComputeTimeout', 30], 'forcefully stopped with the timeout error');
}

# ---- clean-up ---------------------------------------------------------------------------------------
{
    my %codes = map { $_ => pdel($_)->code } @mine;
    is_deeply([sort values %codes], [(204) x keys %codes], 'delete every pipeline feldera.t made');
    $cleaned = 1;
}
