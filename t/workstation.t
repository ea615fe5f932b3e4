# The workstation dialect at /workstations: every route, every
# error code, ETag / If-Match, and "a rejected request changes nothing".
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET POST PUT);
use LcTest;

my @invalid_ids = ('-bad', '.bad', '_bad', 'a%20b', 'a' x 129, 'a%2Fb', 'a%2fb',
                   '%C3%A9t%C3%A9', 'a%FFb', 'a!b', 'a%3Ab');

plan tests => 4        # setup
            + 5        # GET, HEAD
            + 7        # stop running
            + 6        # stop from stopped, error
            + 8        # unknown ids
            + 4 * @invalid_ids
            + 9        # request bodies
            + 16       # If-Match
            + 12       # launch
            + 26       # methods and routes
            + 5;       # clean-up

my %ids = (running => 'wst-run1', running2 => 'wst-run2',
           stopped => 'wst-stop1', error => 'wst-err1');
my @mine = sort values %ids;
del_ws($_) for @mine;          # leftovers from an interrupted run
my $cleaned;
END { unless ($cleaned) { for my $id (@mine) { del_ws($id) } } }

sub stop   { req(POST => WS . "/$_[0]/stop",   @_[1 .. $#_]) }
sub launch { req(POST => WS . "/$_[0]/launch", @_[1 .. $#_]) }

# ---- setup: one workstation per state, through the admin API ------------------
for my $k (qw(running running2 stopped error)) {
    (my $status = $k) =~ s/\d$//;
    my $res = put_ws($ids{$k}, $status);
    is_deeply([$res->code, etag($res)], [201, '"1"'], "create $ids{$k} ($status): 201, ETag \"1\"");
}

# ---- GET, HEAD -------------------------------------------------------------------
{
    my $id = $ids{running};
    my $res = get_ws($id);
    is($res->code, 200, "GET $id: 200");
    is(etag($res), '"1"', "GET $id: ETag \"1\"");
    is($res->header('Content-Type'), JSON_CT, "GET $id: JSON content type");
    is_deeply(jbody($res), ws_obj($id, 'running'), "GET $id: the workstation object");
    $res = req(HEAD => WS . "/$id");
    is_deeply([$res->code, $res->content, etag($res)], [200, '', '"1"'],
              "HEAD $id: 200, no body, ETag");
}

# ---- stop: running -> stopped ------------------------------------------------------
{
    my $id = $ids{running};
    my $res = stop($id);
    is($res->code, 200, "stop $id: 200");
    is_deeply(jbody($res), ws_obj($id, 'stopped'), "stop $id: the object, stopped");
    is(etag($res), '"2"', "stop $id: ETag \"2\"");
    is_deeply(ws_state($id), [200, 'stopped', '"2"'], "GET $id after stop: stopped, \"2\"");

    $res = stop($id);
    is_ws_error($res, 400, 'Bad Request', "stop $id again (stopped)");
    unchanged($id, [200, 'stopped', '"2"'], 'second stop');
}

# ---- stop: not running -> 400 -----------------------------------------------------------
for my $k (qw(stopped error)) {
    my $id = $ids{$k};
    is_ws_error(stop($id), 400, 'Bad Request', "stop $id ($k)");
    unchanged($id, [200, $k, '"1"'], "stop $k");
}

# ---- unknown ids: 404; the grammar's longest id is well-formed -------------------
is_ws_error(stop('wst-nope'), 404, 'Not Found', 'stop unknown id');
is_ws_error(launch('wst-nope'), 404, 'Not Found', 'launch unknown id');
is_ws_error(get_ws('wst-nope'), 404, 'Not Found', 'GET unknown id');
is_ws_error(get_ws('w' x 128), 404, 'Not Found', 'GET unknown 128-character id');

# ---- ids outside [A-Za-z0-9][A-Za-z0-9._-]{0,127}: 400 -----------------------------------
for my $bad (@invalid_ids) {
    my $show = length $bad > 20 ? length($bad) . ' characters' : $bad;
    is_ws_error(stop($bad), 400, 'Bad Request', "stop invalid id '$show'");
    is_ws_error(get_ws($bad), 400, 'Bad Request', "GET invalid id '$show'");
}

# ---- a body where none is taken: 400, no change --------------------------------------
{
    my $id = $ids{running2};
    is_ws_error(stop($id, body => '{}'), 400, 'Bad Request', 'stop with a JSON body');
    unchanged($id, [200, 'running', '"1"'], 'stop with a JSON body');
    is_ws_error(stop($id, body => 'x', headers => { 'Content-Type' => 'text/plain' }),
                400, 'Bad Request', 'stop with a text body');
    unchanged($id, [200, 'running', '"1"'], 'stop with a text body');
    my $sid = $ids{stopped};
    is_ws_error(launch($sid, body => '{"zone":"b"}'), 400, 'Bad Request', 'launch with a body');
    unchanged($sid, [200, 'stopped', '"1"'], 'launch with a body');
}

# ---- If-Match -----------------------------------------------------------------------------------
{
    my $id = $ids{running2};
    my $before = [200, 'running', '"1"'];
    is_ws_error(stop($id, headers => { 'If-Match' => '"7"' }), 412, 'Precondition Failed',
                'stop, If-Match "7"');
    unchanged($id, $before, 'If-Match mismatch');
    is_ws_error(stop($id, headers => { 'If-Match' => 'W/"1"' }), 412, 'Precondition Failed',
                'stop, If-Match W/"1" (weak never matches)');
    unchanged($id, $before, 'weak If-Match');
    is_ws_error(stop($id, headers => { 'If-Match' => 'abc' }), 400, 'Bad Request',
                'stop, malformed If-Match abc');
    unchanged($id, $before, 'malformed If-Match');
    is_ws_error(stop($id, headers => { 'If-Match' => '"1' }), 400, 'Bad Request',
                'stop, unterminated If-Match');
    unchanged($id, $before, 'unterminated If-Match');

    my $res = stop($id, headers => { 'If-Match' => '"5", "1"' });
    is_deeply([$res->code, (jbody($res) || {})->{status}, etag($res)], [200, 'stopped', '"2"'],
              'stop, If-Match "5", "1": 200 stopped "2"');
    $res = launch($id, headers => { 'If-Match' => '*' });
    is_deeply([$res->code, (jbody($res) || {})->{status}, etag($res)], [200, 'provisioning', '"3"'],
              'launch, If-Match *: 200 provisioning "3"');
    is(wait_status($id, 'running', 3), 'running', "$id becomes running");
    is_deeply(ws_state($id), [200, 'running', '"4"'], "$id: the advance is a new version");
}

# ---- launch: stopped | error -> provisioning -> running ------------------------------
{
    my $id = $ids{stopped};
    my $res = launch($id);
    is($res->code, 200, "launch $id: 200");
    is_deeply(jbody($res), ws_obj($id, 'provisioning'), "launch $id: the object, provisioning");
    is(etag($res), '"2"', "launch $id: ETag \"2\"");
    # provisioning (or, on a very slow machine, already running): both refuse a launch.
    is_ws_error(launch($id), 400, 'Bad Request', "launch $id again while provisioning");
    is(wait_status($id, 'running', 3), 'running', "$id becomes running within 3 s");
    is_deeply(ws_state($id), [200, 'running', '"3"'], "$id: running, ETag \"3\"");
    is_ws_error(launch($id), 400, 'Bad Request', "launch $id (running)");
    unchanged($id, [200, 'running', '"3"'], 'launch running');

    $id = $ids{error};
    $res = launch($id);
    is_deeply([$res->code, (jbody($res) || {})->{status}, etag($res)], [200, 'provisioning', '"2"'],
              "launch $id (error): 200 provisioning \"2\"");
    is(wait_status($id, 'running', 3), 'running', "$id becomes running within 3 s");
}

# ---- methods and routes ------------------------------------------------------------------------
{
    my $id = $ids{running};            # stopped, "2"
    for my $t (['GET', "/$id/stop", 'POST'], ['GET', "/$id/launch", 'POST'],
               ['PUT', "/$id", 'GET, HEAD'], ['POST', "/$id", 'GET, HEAD'],
               ['DELETE', "/$id", 'GET, HEAD']) {
        my ($m, $p, $allow) = @$t;
        my $res = req($m => WS . $p);
        is_ws_error($res, 405, 'Method Not Allowed', "$m $p");
        is($res->header('Allow'), $allow, "$m $p: Allow: $allow");
    }
    unchanged($id, [200, 'stopped', '"2"'], 'after the 405s');

    is_ws_error(req(GET => WS . "/$id/frobnicate"), 404, 'Not Found', 'GET unknown sub-route');
    is_ws_error(req(POST => WS . "/$id/frobnicate"), 404, 'Not Found', 'POST unknown sub-route');
    is_ws_error(req(GET => WS), 404, 'Not Found', 'GET /workstations');
    is_ws_error(req(GET => WS . '/'), 404, 'Not Found', 'GET /workstations/');
    is_ws_error(req(POST => WS . "/$id/stop/extra"), 404, 'Not Found', 'POST /{id}/stop/extra');
}

# ---- clean-up ------------------------------------------------------------------------------------
for my $id (@mine) {
    is(del_ws($id)->code, 204, "delete $id");
}
is(get_ws($ids{running})->code, 404, 'deleted workstation is gone from the dialect');
$cleaned = 1;
