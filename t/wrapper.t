# The wrapper dialect at /resources/wrappers: stop / execute /
# GET, the 400 {"detail"} errors, idempotent stops, checkpoints kept
# and resumed, a runner's "cannot stop", owner check, bad input changing
# nothing, the admin API's view.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LcTest;
use LcAuth qw(lc_mint);

use constant WR => '/resources/wrappers';

plan tests => 176;

my %ids = (api_run => 'wr-api-run', api_stop => 'wr-api-stop', csv_done => 'wr-csv-done',
           xlsx_idle => 'wr-xlsx-idle', api_fail => 'wr-api-fail', csv_run => 'wr-csv-run',
           stuck => 'wr-stuck', owned => 'wr-owned');
my @mine = sort values %ids;
wdel($_) for @mine;
my $cleaned;
END { unless ($cleaned) { wdel($_) for @mine } }

sub wdel { req(DELETE => ADMIN . "/resources/wrapper/$_[0]") }
sub wput {
    my ($id, $type, $status, %o) = @_;
    my %b = (wrapper_id => $id, type => $type, status => $status, %o);
    return req(PUT => ADMIN . "/resources/wrapper/$id", body => \%b);
}
sub wobj {
    my ($id, $type, $status, $hwm, $lwm) = @_;
    return { wrapper_id => $id, type => $type, status => $status,
             checkpoint => { high_water_mark => $hwm, low_water_mark => $lwm } };
}
sub stop    { req(POST => WR . "/$_[0]/stop", @_[1 .. $#_]) }
sub execute { req(POST => WR . "/$_[0]/execute", @_[1 .. $#_]) }
sub ok_body { { wrapper_id => $_[0], success => JSON::PP::true, message => 'Wrapper stopped successfully' } }

# [code, status, etag] as the dialect's GET sees it.
sub wstate {
    my $res = req(GET => WR . "/$_[0]");
    my $b = jbody($res);
    return [$res->code, ref $b eq 'HASH' ? $b->{status} : undef, etag($res)];
}

# ---- setup through the admin API ------------------------------------------------------------
my $ck = { high_water_mark => '2026-01-01T10:00:00Z', low_water_mark => 'cursor-17' };
is(wput($ids{api_run}, 'api', 'running', checkpoint => $ck)->code, 201, 'create a running API wrapper');
is(wput($ids{api_stop}, 'api', 'stopped', checkpoint => $ck)->code, 201, 'create a stopped API wrapper');
is(wput($ids{csv_done}, 'csv', 'completed')->code, 201, 'create a completed CSV wrapper');
is(wput($ids{xlsx_idle}, 'xlsx', 'idle')->code, 201, 'create an idle XLSX wrapper');
is(wput($ids{api_fail}, 'api', 'failed', checkpoint => { high_water_mark => 'h1', low_water_mark => undef })->code,
   201, 'create a failed API wrapper');
is(wput($ids{csv_run}, 'csv', 'running', checkpoint => { high_water_mark => 'row-9' })->code, 201,
   'create a running CSV wrapper');
is(wput($ids{stuck}, 'api', 'running', stop_fails => JSON::PP::true)->code, 201,
   'create a running API wrapper its runner cannot signal');

# ---- GET ------------------------------------------------------------------------------------------
{
    my $res = req(GET => WR . "/$ids{api_run}");
    is($res->code, 200, 'GET: 200');
    is($res->header('Content-Type'), JSON_CT, 'GET: JSON');
    is_deeply(jbody($res), wobj($ids{api_run}, 'api', 'running', @$ck{qw(high_water_mark low_water_mark)}),
              'GET: the wrapper object');
    is(etag($res), '"1"', 'GET: ETag "1"');
    is_deeply(jbody(req(GET => WR . "/$ids{csv_done}")), wobj($ids{csv_done}, 'csv', 'completed', undef, undef),
              'GET: checkpoint values null until reported');
    is_deeply(jbody(req(GET => WR . "/$ids{stuck}")), wobj($ids{stuck}, 'api', 'running', undef, undef),
              'GET: the runner\'s stop_fails flag is not part of the object');
    $res = req(HEAD => WR . "/$ids{api_run}");
    is_deeply([$res->code, $res->content, etag($res)], [200, '', '"1"'], 'HEAD: 200, no body, ETag');
    is_detail(req(GET => WR . '/wr-nope'), 404, 'Wrapper not found', 'GET unknown');
}

# ---- stop: running -> stopped, checkpoint kept; again: same 200, no change ------------------------
{
    my $id = $ids{api_run};
    my $res = stop($id);
    is($res->code, 200, 'stop a running API wrapper: 200');
    is_deeply(jbody($res), ok_body($id), 'stop: {"wrapper_id","success":true,"message"}');
    is(etag($res), '"2"', 'stop: ETag "2"');
    is_deeply(jbody(req(GET => WR . "/$id")),
              wobj($id, 'api', 'stopped', @$ck{qw(high_water_mark low_water_mark)}),
              'stopped, checkpoint kept');
    $res = stop($id);
    is_deeply([$res->code, jbody($res), etag($res)], [200, ok_body($id), '"2"'],
              'a second stop: the same 200, ETag still "2"');
    is(etag(req(GET => ADMIN . "/resources/wrapper/$id")), '"2"', 'admin GET: still version 2');
    is(audit_count(wrapper => $id, moves => 1), 1, 'one audit line for the stop, none for the second');

    $res = stop($ids{csv_run});
    is_deeply([$res->code, jbody($res)], [200, ok_body($ids{csv_run})], 'stop a running CSV wrapper');
    is_deeply(wstate($ids{csv_run}), [200, 'stopped', '"2"'], 'it is stopped');
}
for my $k (qw(csv_done xlsx_idle api_stop api_fail)) {
    my $id = $ids{$k};
    my $before = wstate($id);
    my $res = stop($id);
    is_deeply([$res->code, jbody($res)], [200, ok_body($id)], "stop $k (not running): success");
    is_deeply(wstate($id), $before, "stop $k: no change");
}

# ---- a stop the runner cannot carry out ------------------------------------------------------------
{
    my $id = $ids{stuck};
    my $res = stop($id);
    is_deeply([$res->code, jbody($res)],
              [200, { wrapper_id => $id, success => JSON::PP::false, message => 'Failed to stop wrapper' }],
              'stop a wrapper the runner cannot signal: 200, success false');
    is_deeply(wstate($id), [200, 'running', '"1"'], 'it is still running, unchanged');
    is(audit_count(wrapper => $id, moves => 1), 0, 'no audit line');
    is(wput($id, 'api', 'running')->code, 200, 'the runner clears the flag (PUT without it)');
    $res = stop($id);
    is_deeply([$res->code, jbody($res)], [200, ok_body($id)], 'now the stop succeeds');
    is_deeply(wstate($id), [200, 'stopped', '"3"'], 'stopped');
}

# ---- execute: not running -> running; resumes from the checkpoint -----------------------------------
{
    my $id = $ids{api_run};                    # stopped, checkpoint kept, "2"
    my $res = execute($id);
    is($res->code, 200, 'execute a stopped API wrapper: 200');
    is_deeply(jbody($res), wobj($id, 'api', 'running', @$ck{qw(high_water_mark low_water_mark)}),
              'execute: the wrapper object, running, with the checkpoint it resumes from');
    is(etag($res), '"3"', 'execute: ETag "3"');
    is_detail(execute($id), 400, 'Execute error: Wrapper is already running', 'execute a running wrapper');
    is_deeply(wstate($id), [200, 'running', '"3"'], 'unchanged');

    $res = execute($ids{api_fail});
    is_deeply([$res->code, jbody($res)], [200, wobj($ids{api_fail}, 'api', 'running', 'h1', undef)],
              'execute a failed API wrapper: running, checkpoint kept');
    $res = execute($ids{xlsx_idle});
    is_deeply([$res->code, jbody($res)], [200, wobj($ids{xlsx_idle}, 'xlsx', 'running', undef, undef)],
              'execute an idle XLSX wrapper');
    $res = execute($ids{csv_run});             # stopped, had a checkpoint
    is_deeply([$res->code, jbody($res)], [200, wobj($ids{csv_run}, 'csv', 'running', undef, undef)],
              'execute a stopped CSV wrapper: it starts over, no checkpoint');
    $res = execute($ids{csv_done});
    is_deeply([$res->code, (jbody($res) || {})->{status}], [200, 'running'], 'execute a completed CSV wrapper');
    is(wput($ids{stuck}, 'api', 'stopped', stop_fails => JSON::PP::true)->code, 200,
       'a stopped wrapper with a stale stop_fails flag');
    is(execute($ids{stuck})->code, 200, 'execute it');
    is_deeply([stop($ids{stuck})->code, wstate($ids{stuck})->[1]], [200, 'stopped'],
              'the new run can be stopped: execute cleared the flag');
}

# ---- runner reports through the admin API --------------------------------------------------------------
{
    my $id = $ids{xlsx_idle};                    # running
    my $res = req(POST => ADMIN . "/resources/wrapper/$id/report", body => { status => 'completed' });
    is_deeply([$res->code, (jbody($res) || {})->{status}], [200, 'completed'], 'a runner reports completed');
    is_deeply([stop($id)->code, wstate($id)->[1]], [200, 'completed'], 'stop a completed wrapper: success, no change');
    $res = wput($ids{api_fail}, 'api', 'running', checkpoint => { high_water_mark => 'h2', low_water_mark => 'l2' });
    is($res->code, 200, 'a runner PUTs a new checkpoint');
    is_deeply(jbody(req(GET => WR . "/$ids{api_fail}"))->{checkpoint},
              { high_water_mark => 'h2', low_water_mark => 'l2' }, 'GET shows it');
}

# ---- errors: unknown, malformed ids, bodies, If-Match -------------------------------------------
is_detail(stop('wr-nope'), 400, 'Stop error: Wrapper not found', 'stop unknown');
is_detail(execute('wr-nope'), 400, 'Execute error: Wrapper not found', 'execute unknown');
is_detail(stop('550e8400-e29b-41d4-a716-446655440000'), 400, 'Stop error: Wrapper not found',
          'stop make run\'s demo wrapper id (unknown here)');
for my $bad ('-bad', 'a%20b', 'a' x 129, '%C3%A9t%C3%A9', 'a!b', 'a%3Ab') {
    my $show = length $bad > 20 ? length($bad) . ' characters' : $bad;
    is_detail(stop($bad), 400, 'Invalid wrapper id', "stop invalid id '$show'");
    is_detail(req(GET => WR . "/$bad"), 400, 'Invalid wrapper id', "GET invalid id '$show'");
}
is_detail(stop('a%2Fb'), 400, "the path is not valid: bad percent-encoding, an encoded '/', "
          . 'non-UTF-8 bytes or too many segments', 'stop an id with an encoded slash');
{
    my $id = $ids{api_run};                      # running, "3"
    my $before = [200, 'running', '"3"'];
    is_detail(stop($id, body => '{}'), 400, 'Stop error: this endpoint does not take a request body',
              'stop with a body');
    is_deeply(wstate($id), $before, 'unchanged');
    is_detail(execute($ids{api_stop}, body => 'x', headers => { 'Content-Type' => 'text/plain' }), 400,
              'Execute error: this endpoint does not take a request body', 'execute with a body');
    is_deeply(wstate($ids{api_stop})->[1], 'stopped', 'unchanged');
    is_detail(stop($id, body => 'x' x 70000), 400, 'Stop error: the request body is too large',
              'stop with a 70 KB body');
    is_detail(stop($id, headers => { 'If-Match' => '"1"' }), 412,
              'Stop error: If-Match does not match the current version', 'stop, If-Match "1"');
    is_deeply(wstate($id), $before, 'unchanged');
    is_detail(stop($id, headers => { 'If-Match' => 'x' }), 400, 'Stop error: malformed If-Match header',
              'stop, malformed If-Match');
    my $res = stop($id, headers => { 'If-Match' => '"3"' });
    is_deeply([$res->code, jbody($res), etag($res)], [200, ok_body($id), '"4"'], 'stop, If-Match "3": 200');
}

# ---- methods and routes -------------------------------------------------------------------------
{
    my $id = $ids{api_run};
    for my $t (['GET', "/$id/stop", 'POST'], ['GET', "/$id/execute", 'POST'], ['DELETE', "/$id/stop", 'POST'],
               ['POST', "/$id", 'GET, HEAD'], ['PUT', "/$id", 'GET, HEAD'], ['DELETE', "/$id", 'GET, HEAD']) {
        my ($m, $p, $allow) = @$t;
        my $res = req($m => WR . $p);
        is_detail($res, 405, 'Method Not Allowed', "$m $p");
        is($res->header('Allow'), $allow, "$m $p: Allow: $allow");
    }
    for my $p ('', '/', "/$id/frobnicate", "/$id/stop/extra") {
        is_detail(req(POST => WR . $p), 404, 'Not Found', "POST /resources/wrappers$p");
    }
    is_deeply(wstate($id), [200, 'stopped', '"4"'], 'none of that changed anything');
}

# ---- LifecycleOwnerCheck ----------------------------------------------------------------------------
{
    my $id = $ids{owned};
    is(wput($id, 'api', 'running', owner => 'alice')->code, 201, 'create alice\'s running wrapper');
    my $mallory = lc_mint(scope => 'wrappers.write wrappers.read', sub => 'mallory');
    my $alice = lc_mint(scope => 'wrappers.write wrappers.read', sub => 'alice');
    my $boss = lc_mint(scope => 'wrappers.write lifecycle.admin', sub => 'boss');
    is_detail(req(POST => "/owned/resources/wrappers/$id/stop", headers => { Authorization => "Bearer $mallory" }),
              400, 'Stop error: Permission denied', 'another user stops it');
    is_deeply(wstate($id), [200, 'running', '"1"'], 'unchanged');
    is_detail(req(POST => "/owned/resources/wrappers/wr-nope/stop", headers => { Authorization => "Bearer $mallory" }),
              400, 'Stop error: Wrapper not found', 'unknown under the owner check');
    my $res = req(POST => "/owned/resources/wrappers/$id/stop", headers => { Authorization => "Bearer $alice" });
    is_deeply([$res->code, jbody($res)], [200, ok_body($id)], 'the owner stops it');
    is_detail(req(POST => "/owned/resources/wrappers/$id/execute", headers => { Authorization => "Bearer $mallory" }),
              400, 'Execute error: Permission denied', 'another user executes it');
    is_deeply(wstate($id), [200, 'stopped', '"2"'], 'unchanged');
    $res = req(POST => "/owned/resources/wrappers/$id/execute", headers => { Authorization => "Bearer $boss" });
    is_deeply([$res->code, (jbody($res) || {})->{status}], [200, 'running'], 'a lifecycle.admin token executes it');
    is(req(GET => "/owned/resources/wrappers/$id", headers => { Authorization => "Bearer $mallory" })->code, 200,
       'reading is not owner-checked');
}

# ---- admin PUT validation, list -------------------------------------------------------------------
{
    my $id = 'wr-adm-v';
    for my $t (['type', { type => 'json', status => 'idle' }],
               ['type', { status => 'idle' }],
               ['status', { type => 'api', status => 'paused' }],
               ['checkpoint', { type => 'api', status => 'idle', checkpoint => 'x' }],
               ['checkpoint', { type => 'api', status => 'idle', checkpoint => { cursor => 'x' } }],
               ['checkpoint.high_water_mark', { type => 'api', status => 'idle', checkpoint => { high_water_mark => 5 } }],
               ['checkpoint.low_water_mark', { type => 'api', status => 'idle',
                                                checkpoint => { low_water_mark => 'l' x 101 } }],
               ['stop_fails', { type => 'api', status => 'idle', stop_fails => 'yes' }],
               ['wrapper_id', { wrapper_id => 'wr-other', type => 'api', status => 'idle' }],
               ['colour', { type => 'api', status => 'idle', colour => 'red' }]) {
        my ($field, $body) = @$t;
        is_admin_error(req(PUT => ADMIN . "/resources/wrapper/$id", body => $body), 400, 'invalid_request',
                       "admin PUT, bad $field", $field);
    }
    is(req(GET => ADMIN . "/resources/wrapper/$id")->code, 404, 'no refused PUT created anything');
    my $l = jbody(req(GET => ADMIN . '/resources/wrapper?status=stopped')) || {};
    is_deeply([sort map { $_->{wrapper_id} } @{ $l->{resources} || [] }],
              [sort grep { wstate($_)->[1] eq 'stopped' } @mine], 'the admin list of stopped wrappers');
}

# ---- clean-up ----------------------------------------------------------------------------------------
my %gone = map { $_ => wdel($_)->code } @mine;
is_deeply([grep { $gone{$_} != 204 } sort keys %gone], [], 'every wrapper made here deleted');
is_detail(stop($ids{api_run}), 400, 'Stop error: Wrapper not found', 'a deleted wrapper is not found');
$cleaned = 1;
