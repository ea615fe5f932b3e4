# The admin API at /lifecycle/v1: PUT / GET / DELETE / list of
# workstations, validation naming the field, preconditions, paging, kinds,
# metrics; and the 501 answers of the dialects not built yet, each in its own
# error shape (notte and wrapper: their own not-found answers).
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET POST PUT);
use LcTest;

our $TODO;

my $R = ADMIN . '/resources/workstation';

my @list_ids = ('adm-list-.1', 'adm-list-01', 'adm-list-A1', 'adm-list-_1',
                'adm-list-a1', 'adm-list-a2');          # bytewise: . < 0 < A < _ < a
my %list_status = ('adm-list-.1' => 'running', 'adm-list-01' => 'stopped',
                   'adm-list-A1' => 'error',   'adm-list-_1' => 'running',
                   'adm-list-a1' => 'stopped', 'adm-list-a2' => 'running');
my @mine = ('adm-a', 'adm-b', 'adm-m', 'adm-n', 'adm-p', 'adm-q', 'adm-v', 'adm-w', @list_ids);

my $cfg = ws_obj('x', 'running')->{configuration};
# [what, body (as a hash to encode), the field the message must name]
my @invalid = (
    ['missing name',          ws_obj('adm-v', 'running', name => undef),           'name'],
    ['empty name',            ws_obj('adm-v', 'running', name => ''),              'name'],
    ['numeric name',          ws_obj('adm-v', 'running', name => 42),              'name'],
    ['unknown status',        ws_obj('adm-v', 'flying'),                           'status'],
    ['status in capitals',    ws_obj('adm-v', 'Running'),                          'status'],
    ['missing status',        ws_obj('adm-v', 'running', status => undef),         'status'],
    ['missing configuration', ws_obj('adm-v', 'running', configuration => undef),  'configuration'],
    ['configuration string',  ws_obj('adm-v', 'running', configuration => 'big'),  'configuration'],
    ['cpuCores as a string',  ws_obj('adm-v', 'running', configuration => { %$cfg, cpuCores => '8' }),
                              'configuration.cpuCores'],
    ['negative memoryGB',     ws_obj('adm-v', 'running', configuration => { %$cfg, memoryGB => -1 }),
                              'configuration.memoryGB'],
    ['fractional storageGB',  ws_obj('adm-v', 'running', configuration => { %$cfg, storageGB => 1.5 }),
                              'configuration.storageGB'],
    ['numeric gpu',           ws_obj('adm-v', 'running', configuration => { %$cfg, gpu => 5 }),
                              'configuration.gpu'],
    ['null region',           ws_obj('adm-v', 'running', configuration => { %$cfg, region => undef }),
                              'configuration.region'],
    ['unknown field colour',  { %{ ws_obj('adm-v', 'running') }, colour => 'teal' },  'colour'],
    ['id not the path id',    ws_obj('adm-other', 'running'),                      'id'],
    ['numeric id',            ws_obj(7, 'running'),                                'id'],
    ['numeric owner',         { %{ ws_obj('adm-v', 'running') }, owner => 5 },     'owner'],
    ['owner over 63 bytes',   { %{ ws_obj('adm-v', 'running') }, owner => 'o' x 64 }, 'owner'],
);
my $good = json_text(ws_obj('adm-a', 'running'));
my @malformed = (
    ['truncated JSON',      '{"name":'],
    ['trailing garbage',    "$good x"],
    ['two objects',         "$good$good"],
    ['duplicate key',       '{"id":"adm-a","name":"a","name":"b","status":"running","configuration":{}}'],
    ['an array',            '[1,2]'],
    ['a string',            '"adm-a"'],
    ['null',                'null'],
    ['empty body',          ''],
    ['nested too deeply',   '{"name":"x","status":"running","configuration":{"region":'
                            . ('[' x 20) . (']' x 20) . '}}'],
    ['non-UTF-8 bytes',     qq({"name":"caf\xe9","status":"running","configuration":{}})],
    ['over 64 KiB',         json_text(ws_obj('adm-a', 'running', name => 'n' x 70000))],
);
my @bad_queries = ('limit=0', 'limit=1001', 'limit=abc', 'limit=-1', 'limit=', 'limit=1.5',
                   'status=flying', 'foo=1', 'limit=1&limit=2', 'status=running&status=stopped',
                   'after=' . ('a' x 129));
my @pending_kinds = ();
my @built_kinds = qw(agent wrapper notebook pipeline);
my %unknown_id = (agent => 'adm-nope', wrapper => 'adm-nope', notebook => 'adm.nope.nb',
                  pipeline => 'adm-nope');

plan tests => 7                    # create, read, replace
            + 3 * @invalid + 6     # validation
            + 2 * @malformed + 1
            + 12                   # preconditions on PUT
            + 9                    # DELETE
            + 3                    # provisioning set by PUT advances
            + 14                   # list
            + 2 * @bad_queries + 3
            + 2 * @pending_kinds + 2 * @built_kinds + 22   # kinds, routes, methods
            + 10                   # metrics
            + 8                    # every dialect's own not-found shape
            + 2;                   # clean-up

my $cleaned;
sub cleanup { for my $id (@mine) { del_ws($id) } }
cleanup();                          # leftovers from an interrupted run
END { cleanup() unless $cleaned }
my $slots_at_start = slots();

sub aput  { my ($id, $body, %h) = @_; req(PUT => "$R/$id", body => $body, headers => \%h) }
sub aget  { req(GET => "$R/$_[0]") }
sub astate {
    my $res = aget($_[0]);
    return [$res->code, etag($res), jbody($res)];
}
sub ids_of { [map { $_->{id} } @{ $_[0]{resources} || [] }] }
sub list  {
    my $res = req(GET => "$R?$_[0]");
    return ($res, jbody($res) || {});
}

# ---- create, read, replace --------------------------------------------------------
{
    my $res = aput('adm-a', { %{ ws_obj('adm-a', 'running') }, owner => 'alice' });
    is($res->code, 201, 'PUT adm-a (new, with owner): 201');
    is(etag($res), '"1"', 'PUT adm-a: ETag "1"');
    is_deeply([$res->header('Content-Type'), jbody($res)], [JSON_CT, ws_obj('adm-a', 'running')],
              'PUT adm-a: the workstation object (owner is not part of it)');
    is_deeply(astate('adm-a'), [200, '"1"', ws_obj('adm-a', 'running')], 'GET adm-a: 200, ETag, object');

    my $new = ws_obj('adm-a', 'stopped', name => 'Renamed',
                     configuration => { %$cfg, gpu => undef, cpuCores => 2 });
    $res = aput('adm-a', $new);
    is_deeply([$res->code, etag($res), jbody($res)], [200, '"2"', $new], 'PUT adm-a again: 200, "2", replaced');
    is_deeply([get_ws('adm-a')->code, jbody(get_ws('adm-a'))], [200, $new],
              'the workstation dialect sees the replacement');

    $res = aput('adm-b', ws_obj('adm-b', 'stopped', id => undef));
    is_deeply([$res->code, (jbody($res) || {})->{id}], [201, 'adm-b'], 'PUT without "id": 201, id from the path');
}

# ---- a body that does not fit: 400 naming the field, nothing created --------------
for my $t (@invalid) {
    my ($what, $body, $field) = @$t;
    is_admin_error(aput('adm-v', $body), 400, 'invalid_request', "PUT $what", $field);
}
is_admin_error(aget('adm-v'), 404, 'not_found', 'nothing was created by the rejected PUTs');
{
    my $res = aput('adm-v', ws_obj('adm-v', 'running', configuration => { %$cfg, disk => 100 }));
    is($res->code, 400, 'PUT with an unknown configuration field: 400');
    like((jbody($res) || {})->{message} // '', qr/configuration\.disk/,
         'PUT unknown configuration field: message names configuration.disk');
    my %partial = %$cfg;
    delete $partial{cpuCores};
    $res = aput('adm-w', ws_obj('adm-w', 'running', configuration => \%partial));
    is($res->code, 400, 'PUT a configuration without cpuCores: 400');
    like((jbody($res) || {})->{message} // '', qr/configuration\.cpuCores/,
         'PUT a configuration without cpuCores: message names configuration.cpuCores');
    del_ws('adm-w');
}

# ---- malformed bodies: 400 invalid_request, the resource unchanged ---------------------
{
    my $before = astate('adm-a');
    for my $t (@malformed) {
        my ($what, $body) = @$t;
        is_admin_error(aput('adm-a', $body), 400, 'invalid_request', "PUT $what");
    }
    is_deeply(astate('adm-a'), $before, 'adm-a unchanged by the malformed bodies');
}

# ---- preconditions on PUT ----------------------------------------------------------------
{
    my $before = astate('adm-a');            # "2"
    my $body = ws_obj('adm-a', 'running');
    is_admin_error(aput('adm-a', $body, 'If-Match' => '"99"'), 412, 'precondition_failed',
                   'PUT If-Match "99"');
    is_deeply(astate('adm-a'), $before, 'adm-a unchanged by the If-Match mismatch');
    is_admin_error(aput('adm-a', $body, 'If-None-Match' => '*'), 412, 'precondition_failed',
                   'PUT If-None-Match * on an existing id');
    is_deeply(astate('adm-a'), $before, 'adm-a unchanged by If-None-Match *');
    is_admin_error(aput('adm-a', $body, 'If-Match' => 'abc'), 400, 'invalid_request',
                   'PUT malformed If-Match');
    my $res = aput('adm-a', $body, 'If-Match' => '"2"');
    is_deeply([$res->code, etag($res)], [200, '"3"'], 'PUT If-Match "2": 200, "3"');
    $res = aput('adm-n', ws_obj('adm-n', 'stopped'), 'If-None-Match' => '*');
    is_deeply([$res->code, etag($res)], [201, '"1"'], 'PUT If-None-Match * on a new id: 201');
    is_admin_error(aput('adm-v', ws_obj('adm-v', 'running'), 'If-Match' => '"1"'), 412,
                   'precondition_failed', 'PUT If-Match on an id that does not exist');
}

# ---- DELETE ---------------------------------------------------------------------------------------
{
    is(aput('adm-m', ws_obj('adm-m', 'stopped'))->code, 201, 'create adm-m');
    is_admin_error(del_ws('adm-m', 'If-Match' => '"5"'), 412, 'precondition_failed',
                   'DELETE adm-m If-Match "5"');
    is(aget('adm-m')->code, 200, 'adm-m still there');
    my $res = del_ws('adm-m', 'If-Match' => '"1"');
    is_deeply([$res->code, $res->content], [204, ''], 'DELETE adm-m If-Match "1": 204, no body');
    is_admin_error(aget('adm-m'), 404, 'not_found', 'GET deleted adm-m');
    is_admin_error(del_ws('adm-m'), 404, 'not_found', 'DELETE adm-m again');
}

# ---- a transitional state set by PUT advances like one reached by an action -----------------
{
    my $res = aput('adm-p', ws_obj('adm-p', 'provisioning'));
    is_deeply([$res->code, (jbody($res) || {})->{status}], [201, 'provisioning'], 'PUT adm-p provisioning: 201');
    is(wait_status('adm-p', 'running', 3), 'running', 'adm-p becomes running within 3 s');
    is(etag(aget('adm-p')), '"2"', 'adm-p: the advance is version 2');
}

# ---- list ------------------------------------------------------------------------------------------
{
    my @codes = map { aput($_, ws_obj($_, $list_status{$_}))->code } @list_ids;
    is_deeply(\@codes, [(201) x @list_ids], 'create the list fixtures');

    my ($res, $body) = list('after=adm-list-&limit=2');
    is_deeply([$res->code, $body->{kind}, ids_of($body), $body->{next_after}],
              [200, 'workstation', [@list_ids[0, 1]], $list_ids[1]], 'page 1 of 2: bytewise order');
    ($res, $body) = list("after=$list_ids[1]&limit=2");
    is_deeply([$res->code, ids_of($body), $body->{next_after}], [200, [@list_ids[2, 3]], $list_ids[3]], 'page 2');
    ($res, $body) = list("after=$list_ids[3]&limit=2");
    is_deeply([$res->code, ids_of($body), $body->{next_after}], [200, [@list_ids[4, 5]], $list_ids[5]],
              'page 3 (more follow: next_after set)');
    ($res, $body) = list("after=$list_ids[0]&limit=1");
    is_deeply($body->{resources}, [ws_obj($list_ids[1], $list_status{$list_ids[1]})],
              'list items are full workstation objects');

    ($res, $body) = list('status=running&after=adm-list-&limit=1000');
    is_deeply([$res->code, [grep { /^adm-list-/ } @{ ids_of($body) }]],
              [200, [grep { $list_status{$_} eq 'running' } @list_ids]], 'status=running: my running ones');
    is_deeply([sort keys %{ { map { $_->{status} => 1 } @{ $body->{resources} } } }], ['running'],
              'status=running: nothing else');

    # Walk everything from the start.
    my (@all, $after, $pages, $last_next);
    while (1) {
        ($res, $body) = list('limit=7' . (defined $after ? "&after=$after" : ''));
        last if $res->code != 200 || ++$pages > 50;
        push @all, @{ ids_of($body) };
        $last_next = $body->{next_after};
        last unless defined $last_next;
        $after = $last_next;
    }
    is_deeply([$res->code, $last_next], [200, undef], 'walk with after= ends with next_after null');
    is_deeply(\@all, [sort { $a cmp $b } @all], 'the walk is in bytewise id order');
    is(scalar(grep { my $i = $_; grep { $_ eq $i } @all } @list_ids), scalar @list_ids,
       'the walk saw every list fixture');
    my %seen;
    is(scalar(grep { !$seen{$_}++ } @all), slots()->{used}, 'the walk saw each resource once, and all of them');

    ($res, $body) = list('');
    is_deeply([$res->code, scalar @{ $body->{resources} || [] }, $body->{next_after}],
              [200, scalar @all, undef], 'no limit: the default 100 covers all, next_after null');
    ($res, $body) = list("after=$all[-2]&limit=1");
    is_deeply([ids_of($body), $body->{next_after}], [[$all[-1]], undef], 'the last page, exactly full: next_after null');
    ($res, $body) = list('after=zzzzzzzz&limit=1000');
    is_deeply([$res->code, $body->{resources}, $body->{next_after}], [200, [], undef], 'after the last id: empty');
}
for my $q (@bad_queries) {
    my $show = length $q > 30 ? 'after=<129 characters>' : $q;
    is_admin_error(req(GET => "$R?$q"), 400, 'invalid_request', "list ?$show");
}
{
    my $res = req(POST => $R, body => ws_obj('adm-x', 'running'));
    is_admin_error($res, 405, 'method_not_allowed', 'POST to the list');
    is($res->header('Allow'), 'GET, HEAD', 'POST to the list: Allow: GET, HEAD');
}

# ---- kinds, routes, methods -----------------------------------------------------------------------
is_admin_error(req(GET => ADMIN . '/resources/gizmo/x'), 404, 'not_found', 'unknown kind gizmo');
is_admin_error(req(GET => ADMIN . '/resources/gizmo'), 404, 'not_found', 'list of unknown kind gizmo');
for my $k (@pending_kinds) {
    is_admin_error(req(GET => ADMIN . "/resources/$k/x"), 501, 'not_implemented', "kind $k not built yet");
}
for my $k (@built_kinds) {
    is_admin_error(req(GET => ADMIN . "/resources/$k/$unknown_id{$k}"), 404, 'not_found',
                   "kind $k: unknown id");
}
is_admin_error(req(PUT => ADMIN . '/resources/agent/x', body => { task => 't' }), 400, 'invalid_request',
               'PUT an agent without its session_id');
{
    my $res = req(POST => "$R/adm-a", body => ws_obj('adm-a', 'running'));
    is_admin_error($res, 405, 'method_not_allowed', 'POST to a resource');
    is($res->header('Allow'), 'GET, HEAD, PUT, DELETE', 'POST to a resource: Allow');
    is_admin_error(req(PATCH => "$R/adm-a", body => {}), 405, 'method_not_allowed', 'PATCH a resource');
}
is_admin_error(aget('-bad'), 400, 'invalid_request', 'GET invalid id -bad');
is_admin_error(aput('a%2Fb', ws_obj('a/b', 'running')), 400, 'invalid_request', 'PUT id with an encoded slash');
is_admin_error(del_ws('a' x 129), 400, 'invalid_request', 'DELETE 129-character id');
is_admin_error(req(GET => ADMIN . '/frobnicate'), 404, 'not_found', 'unknown admin route');
is_admin_error(req(GET => ADMIN . '/resources'), 404, 'not_found', '/resources without a kind');
{
    my $res = req(HEAD => "$R/adm-a");
    is_deeply([$res->code, $res->content, etag($res)], [200, '', '"3"'], 'HEAD adm-a: 200, no body, ETag');
}

# ---- metrics ---------------------------------------------------------------------------------------
{
    my $res = req(GET => ADMIN . '/metrics');
    is($res->code, 200, 'metrics: 200');
    like($res->header('Content-Type') // '', qr{^text/plain}, 'metrics: text/plain');
    my $s0 = slots();
    SKIP: {
        skip 'LifecycleStore dbd: slots are the shared-memory store\'s (LifecycleCapacity)', 3
            if lc_store() eq 'dbd';
        like($res->content, qr/^lifecycle_store_slots\{state="used"\} \d+$/m, 'metrics: used slots line');
        like($res->content, qr/^lifecycle_store_slots\{state="free"\} \d+$/m, 'metrics: free slots line');
        is($s0->{used} + $s0->{free}, 64, 'used + free = LifecycleCapacity 64');
    }
    # Under dbd slots() counts the resources listed (free undef).
    my $less = sub { defined $_[0] ? $_[0] - 1 : undef };
    is(aput('adm-q', ws_obj('adm-q', 'stopped'))->code, 201, 'create adm-q');
    is_deeply(slots(), { used => $s0->{used} + 1, free => $less->($s0->{free}) }, 'a create takes one slot');
    is(del_ws('adm-q')->code, 204, 'delete adm-q');
    is_deeply(slots(), $s0, 'a delete frees it');
    $res = req(POST => ADMIN . '/metrics');
    is_deeply([$res->code, $res->header('Allow')], [405, 'GET, HEAD'], 'POST metrics: 405, Allow');
}

# ---- the dialects not built yet: 501 in each vendor's error shape ---------------------------------
sub shape {
    my $res = shift;
    my $j = jbody($res);
    return 'not a JSON object' unless ref $j eq 'HASH';
    my %s = (ctype => $res->header('Content-Type'));
    for my $k (keys %$j) {
        my $v = $j->{$k};
        $s{$k} = ref $v                               ? ref $v
               : $k eq 'status' || $k eq 'error'      ? $v
               : defined $v && length $v              ? 'non-empty'
               :                                        $v;
    }
    return \%s;
}
{
    # Built (t/notte.t, t/wrapper.t): their "not found" in the same {"detail"} shape.
    my $res = req(GET => '/agents/x');
    is($res->code, 404, 'notte /agents/x: 404');
    is_deeply(shape($res), { ctype => JSON_CT, detail => 'non-empty' }, 'notte: {"detail"}');
    $res = req(POST => '/resources/wrappers/x/stop');
    is($res->code, 400, 'wrapper stop of an unknown wrapper: 400');
    is_deeply(shape($res), { ctype => JSON_CT, detail => 'non-empty' }, 'wrapper: {"detail"}');
    # Redivis is built (t/redivis.t): an unknown notebook is its own 404.
    $res = req(GET => '/api/v1/notebooks/a.b.c');
    is($res->code, 404, 'redivis /api/v1/notebooks/a.b.c: 404');
    is_deeply(shape($res), { ctype => JSON_CT, error => 'not_found', error_description => 'non-empty',
                             status => 404 }, 'redivis: {"error","error_description","status"}');
    # Feldera is built (t/feldera.t): an unknown pipeline is its own 404.
    $res = req(GET => '/v0/pipelines/p');
    is($res->code, 404, 'feldera /v0/pipelines/p: 404');
    is_deeply(shape($res), { ctype => JSON_CT, message => 'non-empty', error_code => 'non-empty',
                             details => 'HASH' }, 'feldera: {"message","error_code","details"}');
}

# ---- clean-up ----------------------------------------------------------------------------------------
{
    my %codes = map { $_ => del_ws($_)->code } grep { !/^adm-[mqvw]$/ } @mine;
    is_deeply([sort values %codes], [(204) x keys %codes], 'delete everything admin.t created');
    del_ws('adm-v');
    is_deeply(slots(), $slots_at_start, 'the store is as admin.t found it');
    $cleaned = 1;
}
