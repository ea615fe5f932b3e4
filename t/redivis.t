# The Redivis notebooks dialect at /api/v1/notebooks: every route,
# every status code and error body, every transition of the job table (legal
# and illegal), HEAD with X-REDIVIS-ERROR-PAYLOAD, the same notebook through
# several encodings of its qualified reference, the owner check, the admin PUT
# of the get form, and bad input that changes nothing.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use Time::HiRes ();
use LcTest qw(:DEFAULT redivis_payload);
use LcAuth qw(lc_mint);

use constant NB  => '/api/v1/notebooks';
use constant OWN => '/owned/api/v1/notebooks';
use constant AR  => ADMIN . '/resources/notebook';

my $O  = 'rdvtest';              # the owner every notebook here has
my $WF = 'flow_one';
my %nb = (                       # key => [reference id, job status or undef]
    idle      => ['n0a1', undef],
    run       => ['n0b2', 'running'],
    queued    => ['n0c3', 'queued'],
    done      => ['n0d4', 'completed'],
    failed    => ['n0e5', 'failed'],
    cancelled => ['n0f6', 'cancelled'],
    again     => ['n0g7', 'running'],
    owned     => ['n0h8', 'running'],
);
sub key_of { "$O.$WF.nb_$_[0]" }
my @mine = map { key_of($_) } sort keys %nb;
my $cleaned;
sub del_nb { req(DELETE => AR . "/$_[0]") }
del_nb($_) for @mine, "$O.$WF.nb_extra";       # leftovers from an interrupted run
END { unless ($cleaned) { del_nb($_) for @mine, "$O.$WF.nb_extra" } }
my $slots_at_start = slots();

# The get form the admin API is given for each notebook.
sub nb_body {
    my ($k, %over) = @_;
    my ($rid, $status) = @{ $nb{$k} };
    my %b = (kind => 'notebook', id => key_of($k), name => "NB \u$k",
             qualifiedReference => "$O.$WF:w1a2.nb_$k:$rid", referenceId => $rid,
             owner => { name => $O },
             currentJob => defined $status ? { id => "job-$k", kind => 'notebook', status => $status,
                           errorMessage => $status eq 'failed' ? 'boom' : undef,
                           startTime => 1700000000000,
                           endTime => $status =~ /^(?:completed|failed|cancelled)$/
                                      ? 1700000060000 : undef } : undef);
    for my $f (keys %over) { if (defined $over{$f}) { $b{$f} = $over{$f} } else { delete $b{$f} } }
    return \%b;
}

# What GET answers for a notebook as nb_body() made it.
sub nb_rep {
    my ($k) = @_;
    my ($rid, $status) = @{ $nb{$k} };
    my $q = "$O.$WF:w1a2.nb_$k:$rid";
    (my $enc = $q) =~ s/:/%3A/g;
    my $b = nb_body($k);
    return { kind => 'notebook', id => key_of($k), name => "NB \u$k", qualifiedReference => $q,
             scopedReference => "nb_$k:$rid", referenceId => $rid, uri => "/notebooks/$enc",
             url => "/api/v1/notebooks/$enc", owner => { name => $O },
             status => defined $status && $status =~ /^(?:queued|running)$/ ? 'running' : 'stopped',
             currentJob => $b->{currentJob} };
}

sub nb_get  { req(GET => NB . "/$_[0]", @_[1 .. $#_]) }
sub nb_stop { req(POST => NB . "/$_[0]/stop", @_[1 .. $#_]) }
sub nb_run  { req(POST => NB . "/$_[0]/run", @_[1 .. $#_]) }
# [code, ETag, body] as GET sees it: "changes nothing" compares these.
sub snap { my $r = nb_get($_[0]); [$r->code, etag($r), jbody($r)] }

# Redivis error: 2 tests (code; exact shape with the code name).
sub is_rdv_error {
    my ($res, $code, $error, $name, %extra) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    is($res->code, $code, "$name: $code");
    my $b = jbody($res) || {};
    my $desc = delete $b->{error_description};
    is_deeply([$res->header('Content-Type'), $b, defined $desc && length $desc ? 1 : 0],
              [JSON_CT, { error => $error, status => $code, %extra }, 1],
              "$name: {error:'$error', error_description, status:$code}");
}

# A user agent without the suite's default token.
my $bare = LWP::UserAgent->new(timeout => 30);
$bare->default_headers->remove_header('Authorization');
sub bare_req {
    my ($method, $path, $auth) = @_;
    my $r = HTTP::Request->new($method => Apache::TestRequest::resolve_url($path));
    $r->header(Authorization => $auth) if defined $auth;
    $r->header('Content-Length' => 0) if $method eq 'POST';
    return $bare->request($r);
}

# ---- setup -----------------------------------------------------------------------------------
sub put_nb { req(PUT => AR . '/' . key_of($_[0]), body => $_[1] || nb_body($_[0])) }
for my $k (grep { $_ ne 'queued' } sort keys %nb) {     # queued advances: made when used
    my $body = nb_body($k);
    $body->{owner} = 'alice' if $k eq 'owned';     # a string owner: the resource's owner
    my $res = req(PUT => AR . '/' . key_of($k), body => $body);
    is_deeply([$res->code, etag($res)], [201, '"1"'], "admin PUT " . key_of($k) . ": 201, ETag \"1\"")
        or diag($res->content);
}

# ---- GET, HEAD ----------------------------------------------------------------------------------
{
    my $res = nb_get("$O.$WF.nb_run");
    is($res->code, 200, 'GET by names: 200');
    is($res->header('Content-Type'), JSON_CT, 'GET: JSON');
    is(etag($res), '"1"', 'GET: ETag "1"');
    is_deeply(jbody($res), nb_rep('run'), 'GET: the get representation');
    is_deeply(jbody(nb_get("$O.$WF.nb_idle")), nb_rep('idle'), 'GET idle: currentJob null, stopped');
    is_deeply(jbody(nb_get("$O.$WF.nb_failed"))->{currentJob},
              { id => 'job-failed', kind => 'notebook', status => 'failed', errorMessage => 'boom',
                startTime => 1700000000000, endTime => 1700000060000 }, 'GET failed: its job');
    is_deeply(jbody(req(GET => AR . "/$O.$WF.nb_run")), nb_rep('run'),
              'admin GET: the same representation');

    $res = req(HEAD => NB . "/$O.$WF.nb_run");
    is_deeply([$res->code, $res->content, etag($res), scalar $res->header('X-REDIVIS-ERROR-PAYLOAD')],
              [200, '', '"1"', undef], 'HEAD: 200, no body, ETag, no error header');
}

# ---- one notebook, many references ------------------------------------------------------------
my @same = (
    "$O.$WF.nb_run", "$O.$WF:w1a2.nb_run:n0b2", 'RDVTEST.Flow_One:W1A2.NB_Run:N0B2',
    "$O.Flow%20One.NB%20Run", "$O.flow--one.(nb)run", "$O.__flow_one__.nb__run",
    "$O%2E$WF%3Aw1a2%2Enb_run%3An0b2", "$O%2e$WF.nb_run%3an0b2", "%72dvtest.$WF.nb_run",
    "$O.flow%E2%80%94one.nb%C3%A9run", "$O.:w1a2.:n0b2", "$O%2E%3Aw1a2%2E%3An0b2",
    "$O.$WF.:n0b2", "$O.renamed_flow:w1a2.renamed_nb:n0b2",
    "$O.flow%2Fone.nb_run", "$O.Flow%2FOne.NB%2F%2FRun", "$O%2F.$WF.nb%2frun",
);
for my $ref (@same) {
    my $res = nb_get($ref);
    is_deeply([$res->code, (jbody($res) || {})->{id}], [200, "$O.$WF.nb_run"], "GET $ref: nb_run");
}
my @not_same = ("$O.$WF.nb_run:zzzz", "$O.$WF:zzzz.nb_run", "rdvother.$WF.nb_run",
                "$O.flowone.nb_run", "$O.:zzzz.:n0b2", "$O.other_flow.:n0b2", "$O.$WF.nb_nope",
                "$O.$WF%2Fx.nb_run", "$O.$WF%2fx.nb_run");
for my $ref (@not_same) {
    is_rdv_error(nb_get($ref), 404, 'not_found', "GET $ref");
}

# ---- HEAD errors: X-REDIVIS-ERROR-PAYLOAD ---------------------------------------------------------
# [code, body, the X-REDIVIS-ERROR-PAYLOAD header decoded less a non-empty error_description,
#  1 when that header has no space, quote or brace (it is percent-encoded)]
sub head_payload {
    my $res = shift;
    my ($p, $h) = redivis_payload($res);
    return [$res->code, $res->content, $p, defined $h && $h !~ /[\s"{}]/ ? 1 : 0];
}
is_deeply(head_payload(req(HEAD => NB . "/$O.$WF.nb_nope")),
          [404, '', { error => 'not_found', status => 404 }, 1], 'HEAD unknown: 404, payload header');
is_deeply(head_payload(req(HEAD => NB . '/a.b')),
          [400, '', { error => 'invalid_request', status => 400 }, 1], 'HEAD bad reference: 400, payload');
is_deeply(head_payload(bare_req(HEAD => NB . "/$O.$WF.nb_run")),
          [401, '', { error => 'invalid_token', status => 401 }, 1], 'HEAD without a token: 401, payload');
is_deeply(head_payload(bare_req(HEAD => NB . "/$O.$WF.nb_run", 'Bearer ' . lc_mint(scope => 'agents.read'))),
          [403, '', { error => 'insufficient_scope', status => 403, scope => 'workflow.read' }, 1],
          'HEAD with the wrong scope: 403, payload names the scope');

# ---- stop: queued | running -> cancelled --------------------------------------------------------
is(put_nb('queued')->code, 201, 'admin PUT a queued notebook');
for my $k (qw(queued run)) {
    my $ref = "$O.$WF.nb_$k";
    my $res = nb_stop($ref);     # queued: well within the 300 ms it stays queued
    my $b = jbody($res) || {};
    my $job = $b->{currentJob} || {};
    is($res->code, 200, "stop $k: 200");
    is(etag($res), '"2"', "stop $k: ETag \"2\"");
    is_deeply([$b->{status}, $job->{status}, $job->{id}, $job->{startTime}],
              ['stopped', 'cancelled', "job-$k", 1700000000000], "stop $k: stopped, job cancelled");
    ok(defined $job->{endTime} && $job->{endTime} > 1700000060000, "stop $k: endTime set now");
    is_deeply(snap($ref), [200, '"2"', $b], "GET after stop $k: the same");
}
# Illegal: not queued or running -> 400 invalid_request, nothing changes.
for my $k (qw(idle done failed cancelled)) {
    my $ref = "$O.$WF.nb_$k";
    my $before = snap($ref);
    is_rdv_error(nb_stop($ref), 400, 'invalid_request', "stop $k");
    is_deeply(snap($ref), $before, "stop $k: unchanged");
}
{
    my $ref = "$O.$WF.nb_run";
    my $before = snap($ref);
    is_rdv_error(nb_stop($ref), 400, 'invalid_request', 'stop again (cancelled)');
    is_deeply(snap($ref), $before, 'second stop: unchanged');
}

# ---- run: none | completed | failed | cancelled -> queued (-> running) ---------------------------------
for my $k (qw(idle done failed cancelled)) {
    my $ref = "$O.$WF.nb_$k";
    my $t0 = int(Time::HiRes::time() * 1000);
    my $res = nb_run($ref);
    my $b = jbody($res) || {};
    my $job = $b->{currentJob} || {};
    is($res->code, 200, "run $k: 200");
    is_deeply([etag($res), $b->{status}, $job->{status}, $job->{kind}, $job->{errorMessage}, $job->{endTime}],
              ['"2"', 'running', 'queued', 'notebook', undef, undef], "run $k: a queued job");
    ok($job->{id} && $job->{id} =~ /^[0-9a-f]{16}$/ && $job->{id} ne "job-$k", "run $k: a new job id");
    ok(($job->{startTime} // 0) >= $t0 - 1000, "run $k: startTime now");
}
sub wait_job {
    my ($ref, $want) = @_;
    my $seen;
    my $deadline = Time::HiRes::time() + 5;
    while (Time::HiRes::time() < $deadline) {
        $seen = ((jbody(nb_get($ref)) || {})->{currentJob} || {})->{status} // '';
        last if $seen eq $want;
        Time::HiRes::sleep(0.05);
    }
    return $seen;
}
for my $k (qw(idle done failed cancelled)) {
    is(wait_job("$O.$WF.nb_$k", 'running'), 'running', "auto-advance $k: queued -> running");
    is_deeply([@{ snap("$O.$WF.nb_$k") }[0, 1]], [200, '"3"'], "auto-advance $k: one more version");
}
# Illegal: already queued or running -> 400, nothing changes.
for my $k (qw(again)) {
    my $ref = "$O.$WF.nb_$k";
    my $before = snap($ref);
    is_rdv_error(nb_run($ref), 400, 'invalid_request', "run $k (running)");
    is_deeply(snap($ref), $before, "run $k (running): unchanged");
}
{
    my $ref = "$O.$WF.nb_done";        # running now
    my $before = snap($ref);
    is_rdv_error(nb_run($ref), 400, 'invalid_request', 'run done again (running)');
    is_deeply(snap($ref), $before, 'run again: unchanged');
    # Through encoded references, stop and run reach the same notebook.
    my $res = nb_stop("$O%2E$WF%3Aw1a2%2Enb_done%3An0d4");
    is_deeply([$res->code, (jbody($res) || {})->{currentJob}{status}], [200, 'cancelled'],
              'stop through an encoded reference: cancelled');
    $res = nb_run("$O.:w1a2.:n0d4");
    is_deeply([$res->code, (jbody($res) || {})->{currentJob}{status}], [200, 'queued'],
              'run through an ids-only reference: queued');
    # queued -> run is illegal too (made and tried well within the 300 ms).
    is(put_nb('queued')->code, 200, 'admin PUT nb_queued back to queued');
    $before = snap("$O.$WF.nb_queued");
    is_rdv_error(nb_run("$O.$WF.nb_queued"), 400, 'invalid_request', 'run queued');
    is_deeply(snap("$O.$WF.nb_queued")->[1], $before->[1], 'run queued: unchanged');
}

# ---- bodies, If-Match ------------------------------------------------------------------------------------
{
    my $ref = "$O.$WF.nb_again";
    my $before = snap($ref);
    is_rdv_error(nb_stop($ref, body => '{}'), 400, 'invalid_request', 'stop with a JSON body');
    is_rdv_error(nb_stop($ref, body => 'x', headers => { 'Content-Type' => 'text/plain' }),
                 400, 'invalid_request', 'stop with a text body');
    is_rdv_error(nb_run("$O.$WF.nb_cancelled", body => '{"a":1}'), 400, 'invalid_request',
                 'run with a body');
    is_rdv_error(nb_stop($ref, headers => { 'If-Match' => '"7"' }), 412, 'precondition_failed',
                 'stop, If-Match "7"');
    is_rdv_error(nb_stop($ref, headers => { 'If-Match' => 'abc' }), 400, 'invalid_request',
                 'stop, malformed If-Match');
    is_deeply(snap($ref), $before, 'bodies and If-Match: unchanged');
    my $res = nb_stop($ref, headers => { 'If-Match' => '"1"' });
    is_deeply([$res->code, etag($res)], [200, '"2"'], 'stop, If-Match "1": 200, ETag "2"');
}

# ---- methods and routes --------------------------------------------------------------------------------------
{
    my $ref = "$O.$WF.nb_run";
    for my $c (['GET', "$ref/stop", 'POST'], ['PUT', "$ref/run", 'POST'], ['DELETE', "$ref/stop", 'POST'],
               ['POST', $ref, 'GET, HEAD'], ['PUT', $ref, 'GET, HEAD'], ['DELETE', $ref, 'GET, HEAD']) {
        my ($m, $path, $allow) = @$c;
        my $res = req($m => NB . "/$path");
        is_rdv_error($res, 405, 'method_not_allowed', "$m $path");
        is($res->header('Allow'), $allow, "$m $path: Allow: $allow");
    }
    is_rdv_error(req(GET => NB), 404, 'not_found', 'GET the collection');
    is_rdv_error(req(GET => NB . '/'), 404, 'not_found', 'GET the collection/');
    is_rdv_error(req(POST => NB . "/$ref/launch"), 404, 'not_found', 'POST an unknown action');
    is_rdv_error(req(POST => NB . "/$ref/stop/x"), 404, 'not_found', 'a segment too many');
    is_rdv_error(nb_stop("$O.$WF.nb_nope"), 404, 'not_found', 'stop an unknown notebook');
    is_rdv_error(nb_run("$O.$WF.nb_nope"), 404, 'not_found', 'run an unknown notebook');
}

# ---- bad references: 400, nothing changes ---------------------------------------------------------------
{
    my @bad = ('a.b', 'a.b.c.d', '.flow.nb', "$O..nb", "$O.$WF.", "$O:x1.$WF.nb", "$O.$WF:.nb",
               "$O.$WF:a:b.nb", "$O.$WF:x-1.nb", "$O.$WF:x%2F1.nb_run", "$O.$WF:x1%2F.nb_run",
               "$O.$WF.nb_r%FFun", "$O.$WF.nb_r%C3un",
               "$O.$WF." . ('n' x 2000), "$O.$WF." . ('n' x 107));
    my $ref = "$O.$WF.nb_run";
    my $before = snap($ref);
    for my $b (@bad) {
        my $show = length $b > 40 ? length($b) . ' characters' : $b;
        is_rdv_error(nb_get($b), 400, 'invalid_request', "GET '$show'");
        is_rdv_error(nb_stop($b), 400, 'invalid_request', "stop '$show'");
        is_rdv_error(nb_run($b), 400, 'invalid_request', "run '$show'");
    }
    is_deeply(snap($ref), $before, 'bad references: nb_run unchanged');
}

# ---- tokens ------------------------------------------------------------------------------------------------------
{
    my $ref = "$O.$WF.nb_cancelled";
    my $before = snap($ref);
    my $res = bare_req(POST => NB . "/$ref/stop");
    is_rdv_error($res, 401, 'invalid_token', 'stop without a token');
    is($res->header('WWW-Authenticate'), 'Bearer realm="lifecycle"', 'no token: challenge');
    my $ro = 'Bearer ' . lc_mint(scope => 'workflow.read', sub => 'reader');
    $res = bare_req(POST => NB . "/$ref/run", $ro);
    is_rdv_error($res, 403, 'insufficient_scope', 'run with workflow.read only', scope => 'workflow.write');
    is(bare_req(GET => NB . "/$ref", $ro)->code, 200, 'GET with workflow.read: 200');
    is_deeply(snap($ref), $before, 'refused requests: unchanged');
}

# ---- LifecycleOwnerCheck --------------------------------------------------------------------------------------
{
    my $ref = "$O.$WF.nb_owned";
    my $mallory = 'Bearer ' . lc_mint(scope => 'workflow.write workflow.read', sub => 'mallory');
    my $alice   = 'Bearer ' . lc_mint(scope => 'workflow.write workflow.read', sub => 'alice');
    my $admin   = 'Bearer ' . lc_mint(scope => 'workflow.write lifecycle.admin', sub => 'root');
    my $before = snap($ref);
    my $res = bare_req(POST => OWN . "/$ref/stop", $mallory);
    is_rdv_error($res, 403, 'forbidden', 'owned: stop by another user');
    is_rdv_error(bare_req(POST => OWN . "/$ref/run", $mallory), 403, 'forbidden', 'owned: run by another user');
    is_deeply(snap($ref), $before, 'owned: unchanged');
    $res = bare_req(GET => OWN . "/$ref", $mallory);
    is_deeply([$res->code, etag($res)], [200, $before->[1]], 'owned: another user may read');
    $res = bare_req(POST => NB . "/$ref/stop", $mallory);
    is($res->code, 200, 'without LifecycleOwnerCheck anyone with the scope may stop');
    $res = bare_req(POST => OWN . "/$ref/run", $alice);
    is_deeply([$res->code, (jbody($res) || {})->{currentJob}{status}], [200, 'queued'], 'owned: the owner runs it');
    $res = bare_req(POST => OWN . "/$ref/stop", $admin);
    is_deeply([$res->code, (jbody($res) || {})->{currentJob}{status}], [200, 'cancelled'],
              'owned: lifecycle.admin stops it');
}

# ---- admin PUT of the get form -----------------------------------------------------------------------------
{
    my $x = "$O.$WF.nb_extra";
    my %base = (kind => 'notebook', name => 'NB Extra', qualifiedReference => "$O.$WF:w1a2.nb_extra:x9",
                owner => { name => 'RdvTest' }, currentJob => undef);
    my @invalid = (
        # Without qualifiedReference, only an id that is a canonical key names it.
        ['a non-canonical id, no qualifiedReference', "RdvTest.$WF.nb_extra", { qualifiedReference => undef },
         'qualifiedReference'],
        ['an id with a dash, no qualifiedReference', "rdv-test.$WF.nb_extra", { qualifiedReference => undef },
         'qualifiedReference'],
        ['two parts, no qualifiedReference', "$O.nb_extra", { qualifiedReference => undef }, 'qualifiedReference'],
        ['a reference without names', $x, { qualifiedReference => "$O.:w1a2.:x9" }, 'qualifiedReference'],
        ['an unknown field', $x, { color => 'red' }, 'color'],
        ['another kind', $x, { kind => 'table' }, 'kind'],
        ['a name of another notebook', $x, { name => 'Other' }, 'name'],
        ['a name of 101 bytes', $x, { name => 'nb extra' . (' ' x 93) }, 'name'],
        ['a reference whose notebook is not the name', $x, { qualifiedReference => "$O.$WF.nb_other" }, 'name'],
        ['a broken reference', $x, { qualifiedReference => 'a.b' }, 'qualifiedReference'],
        ['a referenceId that disagrees', $x, { referenceId => 'y1' }, 'referenceId'],
        ['a bad referenceId', $x, { referenceId => 'x-9' }, 'referenceId'],
        ['an owner of another name', $x, { owner => { name => 'bob' } }, 'owner.name'],
        ['a job status not in the table', $x, { currentJob => { status => 'paused' } }, 'currentJob.status'],
        ['a job status "none"', $x, { currentJob => { status => 'none' } }, 'currentJob.status'],
        ['a job of another kind', $x, { currentJob => { status => 'running', kind => 'transform' } }, 'currentJob.kind'],
        ['a job with an unknown field', $x, { currentJob => { status => 'running', pid => 1 } }, 'currentJob'],
        ['a negative startTime', $x, { currentJob => { status => 'running', startTime => -1 } }, 'currentJob.startTime'],
        ['a string endTime', $x, { currentJob => { status => 'failed', endTime => 'now' } }, 'currentJob.endTime'],
        ['a long errorMessage', $x, { currentJob => { status => 'failed', errorMessage => 'e' x 101 } },
         'currentJob.errorMessage'],
        ['a status that is not one', $x, { status => 'paused' }, 'status'],
    );
    for my $c (@invalid) {
        my ($name, $id, $over, $field) = @$c;
        my %b = (%base, %$over);
        delete @b{ grep { !defined $over->{$_} } keys %$over };
        is_admin_error(req(PUT => AR . "/$id", body => \%b), 400, 'invalid_request', "admin PUT $name", $field);
    }
    is(req(GET => AR . "/$x")->code, 404, 'no invalid PUT created anything');

    # A job without an id gets one; the representation goes back as it came.
    my $res = req(PUT => AR . "/$x", body => { %base, currentJob => { status => 'completed' } });
    my $b = jbody($res) || {};
    is($res->code, 201, 'admin PUT a completed job without an id: 201');
    like($b->{currentJob}{id} // '', qr/^[0-9a-f]{16}$/, 'the job got an id');
    ok(defined $b->{currentJob}{endTime}, 'a finished job without endTime ended when it was put');
    is_deeply([$b->{referenceId}, $b->{owner}, $b->{name}, $b->{uri}],
              ['x9', { name => $O }, 'NB Extra', "/notebooks/$O.$WF%3Aw1a2.nb_extra%3Ax9"],
              'ids from qualifiedReference, owner name canonical');
    $res = req(PUT => AR . "/$x", body => $b);
    is_deeply([$res->code, etag($res), jbody($res)], [200, '"2"', $b], 'PUT the GET body back: 200, the same');
    $res = req(PUT => AR . "/$x", body => { kind => 'notebook' });
    is_deeply([$res->code, jbody($res)->{name}, jbody($res)->{currentJob}, jbody($res)->{referenceId}],
              [200, 'nb_extra', undef, undef], 'a minimal body: names from the id, no job, no ids');
    is_rdv_error(nb_get("$O.$WF.nb_extra:x9"), 404, 'not_found', 'its old reference id is gone');
    is(del_nb($x)->code, 204, 'delete nb_extra');
}

# ---- clean-up -------------------------------------------------------------------------------------------------
{
    my %codes = map { $_ => del_nb($_)->code } @mine;
    is_deeply([values %codes], [(204) x @mine], 'delete every notebook redivis.t made');
    is_deeply(slots(), $slots_at_start, 'the store is as redivis.t found it');
    $cleaned = 1;
}

done_testing();
