# The Notte SDK's everyday calls beyond start and stop, as the
# SDK makes and parses them (packages/notte-sdk in nottelabs/notte):
#   AgentsClient.list() / SessionsClient.list(): GET /agents/ and /sessions/
#     with ListRequest's query (types.py:1017-1035, 2052-2053: only_active=True,
#     page_size=10, page=1, only_saved=False, include_system when set; requests
#     writes a bool as "True"), read by request_list (endpoints/base.py:485-510:
#     a list, or an object's "items"), paged; FastAPI's 422 on bad query values;
#   health_check(): GET /health without a token, wants 200 (endpoints/base.py:285-303);
#   replay() / offset(): anything but 404 makes the SDK raise at once
#     (endpoints/sessions.py:500-520): 501 with a clear detail;
#   every unknown route under /agents, /sessions, /health: FastAPI's JSON 404/405.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LWP::UserAgent ();
use JSON::PP ();
use LcTest;
use LcAuth qw(lc_mint);

plan tests => 78;

use constant AG => '/agents';
use constant SS => '/sessions';

# What the SDK sends with every request: endpoints/base.py:306-319.
my %SDK = ('x-notte-sdk-version' => '1.4.4.dev', 'x-notte-request-origin' => 'sdk-python');
sub sdk_get { req(GET => $_[0], headers => { %SDK, %{ $_[1] || {} } }) }

my (@sessions, @agents, $cleaned);
END { unless ($cleaned) { cleanup() } }
sub cleanup { delete_all(agent => \@agents, session => \@sessions) }

sub new_session {
    my $res = req(POST => SS . '/start', body => { max_duration_minutes => 15 }, @_);
    my $id = (jbody($res) || {})->{session_id};
    push @sessions, $id if $id;
    return $id;
}
sub new_agent {
    my ($sid, @h) = @_;
    my $res = req(POST => AG . '/start', body => { task => 't', session_id => $sid }, @h);
    my $id = (jbody($res) || {})->{agent_id};
    push @agents, $id if $id;
    return $id;
}

# Every page of a list as the SDK asks for it (its query as requests encodes
# ListRequest.model_dump(exclude_none=True)); the ids in order, and the pages.
sub all_pages {
    my ($coll, $query, $size, $h) = @_;
    my (@ids, @pages);
    for my $page (1 .. 500) {
        my $res = sdk_get("$coll/?$query&page_size=$size&page=$page", $h);
        my $b = jbody($res);
        push @pages, [$res->code, $b];
        last unless $res->code == 200 && ref $b eq 'HASH' && $b->{has_next};
    }
    for my $p (@pages) {
        push @ids, map { $_->{agent_id} // $_->{session_id} } @{ $p->[1]{items} || [] };
    }
    return (\@ids, \@pages);
}
sub has { my ($list, $id) = @_; scalar grep { defined $_ && $_ eq $id } @$list }

# ---- fixtures: two sessions, three agents (one closed, one saved) -------------------------------------
my $s1 = new_session();
my $s2 = new_session();
ok($s1 && $s2, 'two sessions started');
my $a1 = new_agent($s1);
my $a2 = new_agent($s1);
my $a3 = new_agent($s2);
ok($a1 && $a2 && $a3, 'three agents started');
is(req(DELETE => AG . "/$a2/stop?session_id=$s1")->code, 200, 'one agent stopped');
# saved is what only the vendor sets: a runner's admin PUT.
my $put = req(PUT => ADMIN . "/resources/agent/$a3",
              body => { session_id => $s2, task => 't', status => 'active', saved => JSON::PP::true() });
is($put->code, 200, 'admin PUT marks the third agent saved');

# ---- AgentsClient.list(): the SDK's default query ------------------------------------------------------
{
    my $res = sdk_get(AG . '/?only_active=True&page_size=10&page=1&only_saved=False');
    is($res->code, 200, 'GET /agents/ with the SDK\'s defaults: 200');
    is($res->header('Content-Type'), JSON_CT, 'JSON');
    my $b = jbody($res) || {};
    is_deeply([sort keys %$b], [qw(has_next has_previous items page page_size)],
              'the paginated shape request_list reads ("items")');
    is_deeply([@$b{qw(page page_size)}], [1, 10], 'page 1 of 10');
    ok(!$b->{has_previous}, 'page 1 has no previous');
    my ($item) = grep { $_->{agent_id} eq $a1 } @{ $b->{items} };
    $item //= {};
    is_deeply([sort keys %$item], [qw(agent_id closed_at created_at saved session_id status)],
              'each item is an AgentResponse (types.py:2056-2062)');
    is_deeply([@$item{qw(session_id status closed_at)}], [$s1, 'active', undef], 'its fields');
}
{
    my ($ids) = all_pages(AG, 'only_active=True&only_saved=False', 2);
    ok(has($ids, $a1) && has($ids, $a3), 'only_active=True: the active agents, over 2-item pages');
    ok(!has($ids, $a2), 'only_active=True: not the stopped one');
    my ($all, $pages) = all_pages(AG, 'only_active=False&only_saved=False', 2);
    ok(has($all, $a1) && has($all, $a2) && has($all, $a3), 'only_active=False: every agent');
    my %seen;
    is(scalar(grep { $seen{$_}++ } @$all), 0, 'no agent on two pages');
    ok(!grep({ scalar @{ $_->[1]{items} } > 2 } @$pages), 'no page holds more than page_size');
    ok(!grep({ $_->[1]{has_next} && scalar @{ $_->[1]{items} } != 2 } @$pages),
       'a page with a next one is full');
    is_deeply([map { $_->[1]{page} } @$pages], [1 .. scalar @$pages], 'pages numbered from 1');
    my ($saved) = all_pages(AG, 'only_active=False&only_saved=True', 10);
    ok(has($saved, $a3) && !has($saved, $a1), 'only_saved=True: the saved agent only');
    # pydantic reads "true", "1", "yes", "on" as True, "false", "0", "no", "off" as False.
    my ($lax) = all_pages(AG, 'only_active=0&only_saved=no', 5);
    ok(has($lax, $a2), 'only_active=0 (lax bool): the stopped agent too');
    my $far = jbody(sdk_get(AG . '/?page=100000&page_size=100')) || {};
    is_deeply([$far->{items}, $far->{has_next}, $far->{has_previous}], [[], JSON::PP::false(),
              JSON::PP::true()], 'a page past the end: empty, has_previous');
    is(sdk_get(AG)->code, 200, 'GET /agents (no slash): the list too');
    is(sdk_get(AG . '/?colour=red')->code, 200, 'an unknown query parameter is ignored');
}

# ---- SessionsClient.list() -------------------------------------------------------------------------------
{
    my $res = sdk_get(SS . '/?only_active=True&page_size=10&page=1');
    is($res->code, 200, 'GET /sessions/ with the SDK\'s defaults: 200');
    my $b = jbody($res) || {};
    is_deeply([@$b{qw(page page_size)}], [1, 10], 'page 1 of 10');
    my ($ids) = all_pages(SS, 'only_active=True', 1);
    ok(has($ids, $s1) && has($ids, $s2), 'both sessions, one per page');
    my (undef, $pages) = all_pages(SS, 'only_active=True', 100);
    my ($item) = grep { $_->{session_id} eq $s1 } map { @{ $_->[1]{items} || [] } } @$pages;
    my $one = jbody(sdk_get(SS . "/$s1")) || {};
    delete @$_{qw(duration)} for grep { ref } $item, $one;
    is_deeply($item, $one, 'each item is the SessionResponse GET /sessions/{id} gives');
    is(req(DELETE => SS . "/$s2/stop")->code, 200, 'the second session stopped');
    my ($active) = all_pages(SS, 'only_active=True', 3);
    my ($every) = all_pages(SS, 'only_active=False&include_system=True', 3);
    ok(has($active, $s1) && !has($active, $s2), 'only_active=True: not the stopped session');
    ok(has($every, $s2), 'only_active=False (include_system=True): the stopped one too');
    my $a3s = jbody(req(GET => AG . "/$a3")) || {};
    is($a3s->{status}, 'closed', 'the stopped session\'s agent is closed, and so listed');
}

# ---- FastAPI's 422 on the query ---------------------------------------------------------------------------
is_detail(sdk_get(AG . '/?only_active=maybe'), 422,
    [{ type => 'bool_parsing', loc => ['query', 'only_active'],
       msg => 'Input should be a valid boolean, unable to interpret input', input => 'maybe' }],
    'only_active=maybe');
is_detail(sdk_get(SS . '/?page=x&page_size=0'), 422,
    [{ type => 'greater_than_equal', loc => ['query', 'page_size'],
       msg => 'Input should be greater than or equal to 1', input => '0', ctx => { ge => 1 } },
     { type => 'int_parsing', loc => ['query', 'page'],
       msg => 'Input should be a valid integer, unable to parse string as an integer', input => 'x' }],
    'page=x&page_size=0: both, in the model\'s field order');
is_detail(sdk_get(AG . '/?page=0'), 422,
    [{ type => 'greater_than_equal', loc => ['query', 'page'],
       msg => 'Input should be greater than or equal to 1', input => '0', ctx => { ge => 1 } }],
    'page=0');
is_detail(sdk_get(SS . '/?page_size=101'), 422,
    [{ type => 'less_than_equal', loc => ['query', 'page_size'],
       msg => 'Input should be less than or equal to 100', input => '101', ctx => { le => 100 } }],
    'page_size=101');
is_detail(sdk_get(SS . '/?include_system=perhaps'), 422,
    [{ type => 'bool_parsing', loc => ['query', 'include_system'],
       msg => 'Input should be a valid boolean, unable to interpret input', input => 'perhaps' }],
    'include_system=perhaps');
is_detail(req(POST => AG . '/'), 405, 'Method Not Allowed', 'POST /agents/');
is_detail(req(DELETE => SS . '/'), 405, 'Method Not Allowed', 'DELETE /sessions/');

# ---- LifecycleOwnerCheck: another user lists only its own ---------------------------------------------
{
    my $mallory = lc_mint(scope => 'agents.read agents.write', sub => 'mallory');
    my %hm = (Authorization => "Bearer $mallory");
    my ($theirs) = all_pages('/owned/agents', 'only_active=False', 50, \%hm);
    ok(!has($theirs, $a1), 'owner check: another user does not list my agents');
    my $ms = new_session(headers => \%hm);
    my ($own) = all_pages('/owned/sessions', 'only_active=True', 50, \%hm);
    ok(has($own, $ms) && !has($own, $s1), 'owner check: it lists its own session only');
}
is(sdk_get(AG . '/', { Authorization => 'Bearer nope' })->code, 401, 'the list wants a token');

# ---- GET /health: no token ----------------------------------------------------------------------------------
{
    my $bare = LWP::UserAgent->new(timeout => 10);
    $bare->default_headers->remove_header('Authorization');
    my $url = Apache::TestRequest::resolve_url('/health');
    my $res = $bare->get($url, %SDK);
    is($res->code, 200, 'GET /health without a token: 200 (health_check())');
    is_deeply([$res->header('Content-Type'), jbody($res)], [JSON_CT, { status => 'ok' }],
              'GET /health: {"status": "ok"}');
    is($res->header('WWW-Authenticate'), undef, 'no challenge');
    is($bare->get($url, Authorization => 'Bearer garbage')->code, 200,
       'a bad token does not matter there');
    is_detail($bare->post($url), 405, 'Method Not Allowed', 'POST /health');
    is($bare->post($url)->header('Allow'), 'GET, HEAD', 'POST /health: Allow');
    is_detail($bare->get("$url/sessions"), 404, 'Not Found', 'GET /health/sessions: no store');
    is_detail($bare->get("$url/x/y"), 404, 'Not Found', 'GET /health/x/y');
}

# ---- replay() / offset(): at once, never the 404 the SDK polls on --------------------------------------------
for my $what (qw(replay offset)) {
    my $res = sdk_get(SS . "/$s1/$what");
    is($res->code, 501, "$what: 501 at once (replay() polls only while 404)");
    is($res->header('Content-Type'), JSON_CT, "$what: JSON");
    like((jbody($res) || {})->{detail} // '', qr/^Session \Q$s1\E has no $what: .*records no session/,
         "$what: the detail says no recording exists here");
}
is_detail(sdk_get(SS . '/00000000-0000-4000-8000-000000000000/replay'), 404, 'Session not found',
          'replay of an unknown session: 404 Session not found');
is_detail(req(POST => SS . "/$s1/replay"), 405, 'Method Not Allowed', 'POST replay');

# ---- unknown routes: FastAPI's JSON, never HTML --------------------------------------------------------------
for my $p (AG . "/$a1/steps/x", AG . '/start/x/y/z', SS . "/$s1/debug", SS . "/$s1/cookies/a") {
    is_detail(sdk_get($p), 404, 'Not Found', "GET $p");
}

my $bad = cleanup();
$cleaned = 1;
is_deeply($bad, [], 'every session and agent removed');
