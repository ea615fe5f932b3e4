# Every URL under a mounted Location answers JSON in its dialect's error shape
# (conf/API.md), never httpd's HTML page — an HTML 404 crashes redivis-python's
# error parsing (common/api_request.py l.140: r.json() on the body; util.py
# raise_api_error reads "error" and "error_description").  Walks unknown
# paths and methods under each Location conf/lifecycle.conf mounts, and the
# errors httpd writes itself (lc_errdoc.c): a path core refuses before it
# looks up the Locations ("%ZZ"), and LimitRequestBody's 413.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use URI::Escape qw(uri_unescape);
use LcTest;

# Each dialect's error shape: the keys its body has, exactly.
my %shape = (
    redivis     => [qw(error error_description status)],
    notte       => [qw(detail)],
    workstation => [qw(error message status)],
    wrapper     => [qw(detail)],
    feldera     => [qw(details error_code message)],
    admin       => [qw(error message)],
);
my @locations = (
    ['/api/v1/notebooks', 'redivis'], ['/api/v1/workflows', 'redivis'],
    ['/agents', 'notte'], ['/sessions', 'notte'], ['/health', 'notte'], ['/workstations', 'workstation'],
    ['/resources/wrappers', 'wrapper'], ['/v0/pipelines', 'feldera'], ['/v0/config', 'feldera'],
    [ADMIN, 'admin'],
);

sub shape_of {
    my $b = jbody($_[0]);
    return ref $b eq 'HASH' ? [sort keys %$b] : [];
}

# [what, method, path below the Location, expected status or undef (any 4xx/5xx)]
my @probes = (
    ['unknown path',          GET    => '/no/such/route/here/at/all', undef],
    ['unknown path, PATCH',   PATCH  => '/no/such/route', undef],
    ['DELETE on the root',    DELETE => '', undef],
    ['OPTIONS',               OPTIONS => '/x', undef],
    ['TRACE (refused: 405)',  TRACE  => '/x', 405],
    ['a path core refuses',   GET    => '/a%ZZb', 400],
    ['an encoded NUL',        GET    => '/a%00b', undef],
);
for my $loc (@locations) {
    my ($prefix, $dialect) = @$loc;
    for my $p (@probes) {
        my ($what, $m, $rest, $code) = @$p;
        my $res = req($m => "$prefix$rest");
        my $ok = defined $code ? $res->code == $code : $res->code >= 400;
        is_deeply([$ok ? 1 : $res->code, scalar $res->header('Content-Type'), shape_of($res)],
                  [1, JSON_CT, $shape{$dialect}], "$m $prefix$rest ($what): $dialect JSON")
            or diag($res->code . ' ' . substr($res->content, 0, 200));
    }
}

# HEAD on an error httpd wrote: no body; redivis's error in its header.
{
    my $res = req(HEAD => '/api/v1/workflows/a.b%ZZ');
    my $h = $res->header('X-REDIVIS-ERROR-PAYLOAD');
    my $p = defined $h ? eval { JSON::PP->new->decode(uri_unescape($h)) } : undef;
    is_deeply([$res->code, $res->content, scalar $res->header('Content-Type'),
               $p && $p->{error}, $p && $p->{status}],
              [400, '', JSON_CT, 'invalid_request', 400],
              'HEAD of a path core refuses: 400, no body, X-REDIVIS-ERROR-PAYLOAD');
}
{
    my $res = req(GET => '/api/v1/workflows/a.b%ZZ');
    is_deeply(jbody($res), { error => 'invalid_request', status => 400,
                             error_description => 'The server refused the request: Bad Request' },
              'GET of a path core refuses: the redivis error object');
}

# Errors core answers while it reads the request, before any Location is
# looked up: a header over LimitRequestFieldSize (16384, conf/lifecycle.conf),
# an Expect it does not know.
for my $c ([{ 'X-Big' => 'a' x 20000 }, 400, 'a header over LimitRequestFieldSize'],
           [{ Expect => 'bogus' }, 417, 'an unknown Expect']) {
    my ($h, $code, $what) = @$c;
    for my $loc (['/api/v1/workflows/o.w', 'redivis'], ['/workstations/ws-1', 'workstation'],
                 ['/v0/pipelines/p1', 'feldera']) {
        my $res = req(GET => $loc->[0], headers => $h);
        is_deeply([$res->code, scalar $res->header('Content-Type'), shape_of($res)],
                  [$code, JSON_CT, $shape{$loc->[1]}], "$what, GET $loc->[0]: $code, $loc->[1] JSON")
            or diag($res->code . ' ' . substr($res->content, 0, 200));
    }
}
is(req(GET => '/no-module-here', headers => { Expect => 'bogus' })->header('Content-Type'),
   'text/html; charset=iso-8859-1', 'outside our Locations httpd keeps its own page');

# LimitRequestBody (64 bytes under /limited/...): 413 in the dialect's shape.
my $big = 'x' x 200;
for my $c (['/limited/api/v1/notebooks/o.w.n/stop', 'redivis'],
           ['/limited/workstations/ws-1/stop', 'workstation']) {
    my ($path, $dialect) = @$c;
    my $res = req(POST => $path, body => $big, headers => { 'Content-Type' => 'text/plain' });
    is_deeply([$res->code, scalar $res->header('Content-Type'), shape_of($res)],
              [413, JSON_CT, $shape{$dialect}], "POST $path over LimitRequestBody: 413, $dialect JSON")
        or diag($res->code . ' ' . substr($res->content, 0, 200));
}

done_testing();
