# Notte sessions at /sessions, and agents that run in them: the
# calls the official SDK makes for the sample
#     with notte.Session() as session:
#         agent = notte.Agent(session=session); agent.start(task=...); agent.stop()
# with its bodies, headers and parsing, cited from nottelabs/notte
# packages/notte-sdk/src/notte_sdk (file:line); then the 404 / 422 / 405 cases.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LcTest;
use LcAuth qw(lc_mint);

use constant SS => '/sessions';
use constant AG => '/agents';

plan tests => 112;

my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
my $TIME = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
# pydantic's timedelta: ISO 8601, e.g. PT0.00112S, PT1H1M1.5S (what SessionResponse.duration parses).
my $DURATION = qr/^P(?:\d+D)?T(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?$/;

# What the SDK sends with every request: endpoints/base.py:314-319.
my %SDK = ('x-notte-sdk-version' => '1.4.4.dev', 'x-notte-request-origin' => 'sdk-python');
# RemoteSession.start sends SessionStartRequest.model_dump() through
# SessionsClient.start (endpoints/sessions.py:773, :201-202), which posts
# model_dump_json(exclude_none=True) as application/json (endpoints/base.py:390-391):
# this is that body for notte.Session() (client.py:89 adds headless=True).
my $SDK_SESSION = '{"headless": true, "solve_captchas": true, "max_duration_minutes": 15, '
    . '"idle_timeout_minutes": 3, "proxies": false, "browser_type": "chromium", '
    . '"use_file_storage": true, "screenshot_type": "last_action", "web_bot_auth": false, '
    . '"auth_ids": [], "wait_for_authentication": true}';

my (@sessions, @agents, $cleaned);
END { unless ($cleaned) { cleanup() } }
sub cleanup { delete_all(session => \@sessions, agent => \@agents) }

sub sdk_post { req(POST => $_[0], body => $_[1], headers => { %SDK, 'Content-Type' => 'application/json', %{ $_[2] || {} } }) }
sub sdk_get  { req(GET => $_[0], headers => { %SDK, %{ $_[1] || {} } }) }
sub sdk_del  { req(DELETE => $_[0], headers => { %SDK, %{ $_[1] || {} } }) }

sub new_session {
    my ($body, %h) = @_;
    my $res = sdk_post(SS . '/start', $body // $SDK_SESSION, \%h);
    my $b = jbody($res) || {};
    push @sessions, $b->{session_id} if $b->{session_id};
    return ($res, $b);
}

# The agent start body: RemoteAgent.__init__ validates SdkAgentCreateRequest with
# session_id = session.session_id (endpoints/agents.py:934-935), start() posts its
# model_dump() plus the task (endpoints/agents.py:1010, :223-224).
sub agent_body {
    my ($session, $task) = @_;
    return json_text({ reasoning_model => 'gemini/gemini-2.5-flash', use_vision => JSON::PP::true,
                       max_steps => 20, session_id => $session, task => $task });
}

sub new_agent {
    my ($res) = sdk_post(AG . '/start', agent_body(@_));
    my $b = jbody($res) || {};
    push @agents, $b->{agent_id} if $b->{agent_id};
    return ($res, $b);
}

# Does the store keep attributes beyond the 239 bytes of today's record?  (The
# store branch's 16 KiB records.)  Until then the long-task tests are TODO.
my $big_store = do {
    my $r = req(PUT => ADMIN . '/resources/agent/probe-big-store',
                body => { session_id => 'p', status => 'active', task => 'x' x 300 });
    req(DELETE => ADMIN . '/resources/agent/probe-big-store');
    $r->code == 201;
};
my $NEEDS_STORE = $big_store ? undef : 'needs the store branch: 16 KiB attributes';

# ---- with notte.Session() as session: POST /sessions/start ------------------------------------
my ($res, $s) = new_session();
my $sid = $s->{session_id} // 'none';
is($res->code, 200, 'session start: 200 (the SDK raises on anything else, endpoints/base.py:412)');
is($res->header('Content-Type'), JSON_CT, 'session start: JSON');
like($sid, $UUID, 'session_id is a UUID v4');
# SessionResponse (types.py:1059-1134): required session_id, idle_timeout_minutes,
# created_at, last_accessed_at, status; the rest have defaults the SDK also reads.
is_deeply([sort keys %$s],
          [sort qw(session_id idle_timeout_minutes max_duration_minutes created_at closed_at
                   last_accessed_at duration status steps error proxies browser_type use_file_storage
                   network_request_bytes network_response_bytes user_agent viewport_width
                   viewport_height headless solve_captchas cdp_url viewer_url web_bot_auth auth_ids
                   system_hidden timeout_minutes)],
          'session start: every SessionResponse field (and the computed timeout_minutes)');
like($s->{created_at} // '', $TIME, 'created_at: RFC 3339 UTC, as pydantic writes it');
is($s->{last_accessed_at}, $s->{created_at}, 'last_accessed_at: the start');
like($s->{duration} // '', $DURATION, "duration: pydantic's ISO 8601 timedelta ($s->{duration})");
is_deeply([@$s{qw(status closed_at idle_timeout_minutes max_duration_minutes timeout_minutes
                  browser_type user_agent viewport_width viewport_height cdp_url viewer_url error)}],
          ['active', undef, 3, 15, 3, 'chromium', undef, undef, undef, undef, undef, undef],
          'active, closed_at null, the timeouts and browser asked for');
is_deeply([@$s{qw(headless solve_captchas proxies use_file_storage web_bot_auth system_hidden)}],
          [JSON::PP::true, JSON::PP::true, JSON::PP::false, JSON::PP::true, JSON::PP::false,
           JSON::PP::false], 'the flags asked for');
is_deeply([@$s{qw(steps auth_ids network_request_bytes network_response_bytes)}], [[], [], 0, 0],
          'no steps, no auth ids, no traffic');
ok(!exists $s->{detail}, 'no "detail" key (the SDK treats one as an error, endpoints/base.py:441)');
is(etag($res), '"1"', 'session start: ETag "1"');
is(audit_count('session' => $sid), 1, 'session start: one audit line');

$res = sdk_get(SS . "/$sid");
my $g = jbody($res) || {};
is($res->code, 200, 'GET /sessions/{id}: 200 (SessionsClient.status, endpoints/sessions.py:239)');
is_deeply({ %$g, duration => 'd' }, { %$s, duration => 'd' }, 'GET: the same SessionResponse');
like($g->{duration} // '', $DURATION, 'GET: duration keeps counting');
$res = req(HEAD => SS . "/$sid");
is_deeply([$res->code, $res->content, etag($res)], [200, '', '"1"'], 'HEAD: 200, no body, ETag');

# ---- agent = notte.Agent(session=session); agent.start(task=...) ------------------------------
my $task = substr('find a cute dog on google images, then describe it. ' x 200, 0, 10000);
my ($ra, $a) = new_agent($sid, $task);
my $aid = $a->{agent_id} // 'none';
TODO: {
    local $TODO = $NEEDS_STORE;
    is($ra->code, 200, 'agent start with a 10,000-character task: 200');
    # AgentResponse (types.py:2056-2062).
    is_deeply([sort keys %$a], [sort qw(agent_id created_at session_id status closed_at saved)],
              'agent start: the AgentResponse fields');
    is_deeply([@$a{qw(session_id status closed_at)}], [$sid, 'active', undef],
              'agent start: in the session, active');
    # agent.status(): GET /agents/{id}?agent_id={id} (endpoints/agents.py:741-743), LegacyAgentStatusResponse.
    my $st = jbody(sdk_get(AG . "/$aid?agent_id=$aid")) || {};
    is_deeply([@$st{qw(status task url success answer steps)}], ['active', $task, undef, undef, undef, []],
              'agent status: active, the 10,000-character task intact');
    # agent.stop(): DELETE /agents/{id}/stop?session_id={session} (endpoints/agents.py:91, :1110).
    my $sr = sdk_del(AG . "/$aid/stop?session_id=$sid");
    my $sb = jbody($sr) || {};
    is_deeply([$sr->code, @$sb{qw(status task success)}], [200, 'closed', $task, JSON::PP::false],
              'agent stop: 200, closed, the task intact, success false');
}
# The same with a task today's record holds.
my ($rb, $b) = new_agent($sid, 'find a cute dog');
my $bid = $b->{agent_id} // 'none';
is($rb->code, 200, 'agent start (short task): 200');
is_deeply([@$b{qw(session_id status closed_at saved)}], [$sid, 'active', undef, JSON::PP::false],
          'agent start: the session\'s, active');
$res = sdk_get(AG . "/$bid?agent_id=$bid");
is_deeply([@{ jbody($res) || {} }{qw(status task session_id)}], ['active', 'find a cute dog', $sid],
          'agent status: active (the agent_id query parameter is ignored)');
$res = sdk_del(AG . "/$bid/stop?session_id=$sid");
my $bclosed = jbody($res) || {};
is_deeply([$res->code, $bclosed->{status}, etag($res)], [200, 'closed', '"2"'], 'agent stop: 200, closed');

# An agent still active when the session stops.
my ($rc, $c) = new_agent($sid, 'still running');
my $cid = $c->{agent_id} // 'none';
is($rc->code, 200, 'a third agent, left running');
# Another session's agent, which the stop must leave alone.
my (undef, $other) = new_session();
my $osid = $other->{session_id} // 'none';
my (undef, $d) = new_agent($osid, 'elsewhere');
my $did = $d->{agent_id} // 'none';

# ---- the with block ends: DELETE /sessions/{id}/stop --------------------------------------------
# Each agent's start and stop was activity on the session (lc_notte_timeout.c):
# its last_accessed_at, so its version, moved with each.
my $active_version = etag(sdk_get(SS . "/$sid")) =~ tr/"//dr;
my $stop_etag = '"' . ($active_version + 1) . '"';
$res = sdk_del(SS . "/$sid/stop");
my $closed = jbody($res) || {};
# SessionsClient.stop raises unless status is "closed" (endpoints/sessions.py:349).
is_deeply([$res->code, $closed->{status}], [200, 'closed'], 'session stop: 200, closed');
like($closed->{closed_at} // '', $TIME, 'session stop: closed_at set');
is($closed->{last_accessed_at}, $closed->{closed_at}, 'last_accessed_at: the stop');
like($closed->{duration} // '', $DURATION, 'duration: from start to stop');
is(etag($res), $stop_etag, 'session stop: ETag one past the version it had');
$res = sdk_get(AG . "/$cid");
is_deeply([@{ jbody($res) || {} }{qw(status success)}, etag($res)], ['closed', JSON::PP::false, '"2"'],
          'the agent left running is closed with its session');
is((jbody(sdk_get(AG . "/$cid")) || {})->{closed_at}, $closed->{closed_at},
   'it closed when the session did');
is_deeply(jbody(sdk_get(AG . "/$bid")), $bclosed, 'the agent stopped before is unchanged');
is(etag(sdk_get(AG . "/$bid")), '"2"', 'and keeps its version');
is((jbody(sdk_get(AG . "/$did")) || {})->{status}, 'active', "another session's agent stays active");
is_deeply([audit_count('session' => $sid), audit_count('agent' => $cid)], [2, 2],
          'audit: the session stop and the agent it closed');

$res = sdk_get(SS . "/$sid");
is_deeply([$res->code, jbody($res), etag($res)], [200, { %$closed, duration => (jbody($res) || {})->{duration} }, $stop_etag],
          'session status: closed, as the stop answered');
is((jbody($res) || {})->{duration}, $closed->{duration}, 'a closed session\'s duration stays put');
$res = sdk_del(SS . "/$sid/stop");
is_deeply([$res->code, jbody($res), etag($res)], [200, $closed, $stop_etag],
          'stop a closed session: 200, the same body, no new version');
is(audit_count('session' => $sid), 2, 'no audit line for it');

# ---- agents and sessions that cannot take them ---------------------------------------------------
my $used = slots()->{used};
is_detail(sdk_post(AG . '/start', agent_body($sid, 'too late')), 400, "Session $sid is closed",
          'agent start in a closed session');
is_detail(sdk_post(AG . '/start', agent_body('00000000-0000-4000-8000-000000000000', 't')), 404,
          'Session not found', 'agent start in an unknown session');
is_detail(sdk_post(AG . '/start', agent_body('a b', 't')), 404, 'Session not found',
          'agent start in a session id outside the grammar');
is_detail(sdk_post(AG . '/start', agent_body($sid, 'x' x 10001)), 422,
          [{ type => 'string_too_long', loc => ['body', 'task'], msg => 'String should have at most 10000 characters',
             input => 'x' x 10001, ctx => { max_length => 10000 } }],
          'a body error is answered before the session is looked up');
is(slots()->{used}, $used, 'none of them created anything');

# ---- 404s ------------------------------------------------------------------------------------------
is_detail(sdk_get(SS . '/00000000-0000-4000-8000-000000000000'), 404, 'Session not found', 'GET unknown session');
is_detail(sdk_get(SS . '/a%20b'), 404, 'Session not found', 'GET session id outside the grammar');
is_detail(sdk_get(SS . '/start'), 404, 'Session not found', 'GET /start is a session lookup');
is_detail(sdk_del(SS . '/00000000-0000-4000-8000-000000000000/stop'), 404, 'Session not found',
          'stop unknown session');
# '' and '/' are the list (t/notte_list.t).
for my $p ("/$sid/frobnicate", "/$sid/stop/extra", "/$sid/cookies", "/$sid/replay/extra") {
    is_detail(req(GET => SS . $p), 404, 'Not Found', "GET /sessions$p");
}

# ---- 405s ------------------------------------------------------------------------------------------
for my $t (['GET', "/$sid/stop", 'DELETE'], ['POST', "/$sid/stop", 'DELETE'],
           ['POST', "/$sid", 'GET, HEAD'], ['PUT', '/start', 'GET, HEAD, POST']) {
    my ($m, $p, $allow) = @$t;
    my $r = req($m => SS . $p);
    is_deeply([$r->code, detail($r), $r->header('Allow')], [405, 'Method Not Allowed', $allow],
              "$m /sessions$p: 405, Allow: $allow");
}

# ---- stop: body, If-Match, another user ---------------------------------------------------------
is_detail(req(DELETE => SS . "/$osid/stop", body => '{}'), 400, 'This endpoint does not take a request body',
          'session stop with a body');
is_detail(req(DELETE => SS . "/$osid/stop", headers => { 'If-Match' => '"7"' }), 412,
          'If-Match does not match the current version', 'session stop, If-Match "7"');
{
    my $mallory = lc_mint(scope => 'agents.write agents.read', sub => 'mallory');
    is_detail(req(DELETE => "/owned/sessions/$osid/stop", headers => { Authorization => "Bearer $mallory" }),
              404, 'Session not found', "another user's session under LifecycleOwnerCheck");
    is_detail(req(POST => '/owned/agents/start', body => agent_body($osid, 't'),
                  headers => { Authorization => "Bearer $mallory" }),
              404, 'Session not found', "an agent in another user's session under LifecycleOwnerCheck");
}
is_deeply([map { (jbody(req(GET => $_)) || {})->{status} } SS . "/$osid", AG . "/$did"], ['active', 'active'],
          'none of that changed the other session or its agent');
# Its agent's start moved its version (activity): If-Match takes the current one.
my $oetag = etag(req(GET => SS . "/$osid"));
$res = req(DELETE => SS . "/$osid/stop", headers => { 'If-Match' => $oetag });
is_deeply([$res->code, (jbody($res) || {})->{status}], [200, 'closed'], "session stop, If-Match $oetag: 200");
is((jbody(req(GET => AG . "/$did")) || {})->{status}, 'closed', 'and its agent closed');

# ---- POST /sessions/start: FastAPI's 422 bodies ----------------------------------------------------
$used = slots()->{used};
my @v422 = (
    ['wrong types', { headless => 'maybe', max_duration_minutes => 'x', idle_timeout_minutes => 40,
                      browser_type => 'edge', user_agent => 5, solve_captchas => [] },
     [{ type => 'bool_parsing', loc => ['body', 'headless'],
        msg => 'Input should be a valid boolean, unable to interpret input', input => 'maybe' },
      { type => 'bool_type', loc => ['body', 'solve_captchas'], msg => 'Input should be a valid boolean',
        input => [] },
      { type => 'int_parsing', loc => ['body', 'max_duration_minutes'],
        msg => 'Input should be a valid integer, unable to parse string as an integer', input => 'x' },
      { type => 'less_than_equal', loc => ['body', 'idle_timeout_minutes'],
        msg => 'Input should be less than or equal to 30', input => 40, ctx => { le => 30 } },
      { type => 'literal_error', loc => ['body', 'browser_type'],
        msg => q(Input should be 'chromium', 'chrome', 'firefox', 'chrome-nightly' or 'chrome-turbo'),
        input => 'edge',
        ctx => { expected => q('chromium', 'chrome', 'firefox', 'chrome-nightly' or 'chrome-turbo') } },
      { type => 'string_type', loc => ['body', 'user_agent'], msg => 'Input should be a valid string',
        input => 5 }]],
    ['timeout_minutes 0 (the alias)', { timeout_minutes => 0 },
     [{ type => 'greater_than', loc => ['body', 'timeout_minutes'], msg => 'Input should be greater than 0',
        input => 0, ctx => { gt => 0 } }]],
    ['max_duration_minutes 1441', { max_duration_minutes => 1441 },
     [{ type => 'less_than_equal', loc => ['body', 'max_duration_minutes'],
        msg => 'Input should be less than or equal to 1440', input => 1441, ctx => { le => 1440 } }]],
    ['idle over max (types.py:958)', { idle_timeout_minutes => 20, max_duration_minutes => 10 },
     [{ type => 'value_error', loc => ['body'],
        msg => 'Value error, idle_timeout_minutes (20) cannot exceed max_duration_minutes (10)',
        input => { idle_timeout_minutes => 20, max_duration_minutes => 10 }, ctx => { error => {} } }]],
    ['one viewport dimension (types.py:911)', { viewport_width => 800 },
     [{ type => 'value_error', loc => ['body'],
        msg => 'Value error, Both viewport_width and viewport_height must be set together or both must be None',
        input => { viewport_width => 800 }, ctx => { error => {} } }]],
    ['an array body', [1],
     [{ type => 'model_attributes_type', loc => ['body'],
        msg => 'Input should be a valid dictionary or object to extract fields from', input => [1] }]],
);
for my $t (@v422) {
    my ($name, $body, $want) = @$t;
    is_detail(req(POST => SS . '/start', body => $body), 422, $want, "session start, $name");
}
is_detail(req(POST => SS . '/start', body => '', headers => { 'Content-Type' => 'application/json' }), 422,
          [{ type => 'missing', loc => ['body'], msg => 'Field required', input => undef }],
          'session start, empty body');
is_detail(req(POST => SS . '/start', body => '{"headless": tru}'), 422,
          [{ type => 'json_invalid', loc => ['body', 13], msg => 'JSON decode error', input => {},
             ctx => { error => 'Expecting value' } }], 'session start, broken JSON');
is(slots()->{used}, $used, 'no refused start created anything');
{
    # Lax values pydantic accepts, and an empty object: the SDK's defaults.
    my ($r, $x) = new_session('{"headless": "yes", "max_duration_minutes": "60", "timeout_minutes": 5.0, '
                              . '"viewport_width": 800, "viewport_height": 600, "proxies": "fr"}');
    is_deeply([$r->code, @$x{qw(headless max_duration_minutes idle_timeout_minutes viewport_width proxies)}],
              [200, JSON::PP::true, 60, 5, 800, JSON::PP::true], 'session start: lax values, the alias, a country proxy');
    ($r, $x) = new_session('{}');
    is_deeply([$r->code, @$x{qw(headless solve_captchas idle_timeout_minutes max_duration_minutes browser_type)}],
              [200, JSON::PP::false, JSON::PP::true, 3, 15, 'chromium'], 'session start {}: the model\'s defaults');
}

# ---- the admin API ---------------------------------------------------------------------------------
{
    my $r = req(GET => ADMIN . "/resources/session/$osid");
    is_deeply([$r->code, (jbody($r) || {})->{session_id}, (jbody($r) || {})->{status}], [200, $osid, 'closed'],
              'admin GET: the SessionResponse');
    my $l = jbody(req(GET => ADMIN . '/resources/session?limit=1000')) || {};
    ok((grep { $_->{session_id} eq $sid } @{ $l->{resources} || [] }), 'the admin list of sessions has it');
    $r = req(PUT => ADMIN . '/resources/session/ss-admin-1',
             body => { session_id => 'ss-admin-1', status => 'timed_out', error => 'idle', idle_timeout_minutes => 5,
                       closed_at => '2026-01-02T03:04:05Z', headless => JSON::PP::true });
    push @sessions, 'ss-admin-1';
    is($r->code, 201, 'admin PUT a session: 201');
    is_deeply([@{ jbody(req(GET => SS . '/ss-admin-1')) || {} }{qw(status error idle_timeout_minutes closed_at)}],
              ['timed_out', 'idle', 5, '2026-01-02T03:04:05.000000Z'], 'the dialect shows it');
    is_admin_error(req(PUT => ADMIN . '/resources/session/ss-admin-1', body => { status => 'done' }), 400,
                   'invalid_request', 'admin PUT, bad status', 'status');
    is_admin_error(req(PUT => ADMIN . '/resources/session/ss-admin-1',
                       body => { status => 'timed_out', closed_at => '2023-02-30T00:00:00Z' }), 400,
                   'invalid_request', 'admin PUT, closed_at not on the calendar', 'closed_at');
}

# ---- clean-up ------------------------------------------------------------------------------------------
is_deeply(cleanup(), [], 'every session and agent made here deleted');
$cleaned = 1;
