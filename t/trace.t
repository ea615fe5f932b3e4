# TRACE never echoes a request on the module's locations: each dialect
# answers 405 in its own error shape, with Allow, whether the server has
# TraceEnable off (the main server here) or on (the lc_trace_on virtual host
# of t/conf/extra.conf.in).  Elsewhere httpd's own TraceEnable rules.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use JSON::PP ();

my $json = JSON::PP->new->canonical;
my $SECRET = 'Bearer trace-must-not-echo-this';

# [dialect path, Allow, the exact body]
my @cases = (
    ['/workstations/ws-1', 'GET, HEAD, POST',
     { status => 405, error => 'Method Not Allowed',
       message => 'TRACE is not allowed here; use GET, HEAD, POST' }],
    ['/api/v1/notebooks/o.w.n', 'GET, HEAD, POST',
     { error => 'method_not_allowed', status => 405,
       error_description => 'TRACE is not allowed here; use GET, HEAD, POST' }],
    ['/agents/a', 'GET, HEAD, POST, DELETE', { detail => 'Method Not Allowed' }],
    ['/resources/wrappers/w', 'GET, HEAD, POST', { detail => 'Method Not Allowed' }],
    ['/v0/pipelines/p', 'GET, HEAD, POST, DELETE',
     { message => 'Method TRACE is not allowed; use GET, HEAD, POST, DELETE',
       error_code => 'MethodNotAllowed', details => {} }],
    ['/lifecycle/v1/resources/workstation/ws-1', 'GET, HEAD, PUT, POST, DELETE',
     { error => 'method_not_allowed',
       message => 'TRACE is not allowed here; use GET, HEAD, PUT, POST, DELETE' }],
);

plan tests => 2 * (4 * @cases) + 4;

sub trace {
    my ($path, %h) = @_;
    my $r = HTTP::Request->new(TRACE => Apache::TestRequest::resolve_url($path));
    $r->header($_ => $h{$_}) for keys %h;
    return Apache::TestRequest::user_agent()->request($r);
}

for my $vhost ('default', 'lc_trace_on') {
    Apache::TestRequest::module($vhost);
    my $where = $vhost eq 'default' ? 'TraceEnable off' : 'TraceEnable on';
    for my $c (@cases) {
        my ($path, $allow, $body) = @$c;
        my $res = trace($path, Authorization => $SECRET);
        is($res->code, 405, "$where: TRACE $path is 405");
        is($res->header('Allow'), $allow, "$where: TRACE $path: Allow $allow");
        is($res->header('Content-Type'), 'application/json; charset=utf-8',
           "$where: TRACE $path: JSON");
        my $got = eval { $json->decode($res->content) };
        is($json->encode($got // {}), $json->encode($body), "$where: TRACE $path: the dialect's body")
            or diag $res->content;
    }
}

# Outside the module's locations httpd decides: it echoes where TraceEnable is
# on (so that vhost really has it on), and refuses where it is off.
Apache::TestRequest::module('lc_trace_on');
my $res = trace('/not-lifecycle', 'X-Probe' => 'p1');
is($res->code, 200, 'TraceEnable on, outside the module: httpd echoes');
like($res->content, qr/^X-Probe: p1\r?$/m, 'the echo holds the request headers');
Apache::TestRequest::module('default');
$res = trace('/not-lifecycle', 'X-Probe' => 'p1');
is($res->code, 405, 'TraceEnable off, outside the module: httpd refuses');
unlike($res->content, qr/X-Probe/, 'and echoes nothing');
