# A path of 5 KiB on the module's locations is answered by the dialect, in
# JSON, not by httpd's HTML 403 ("File name too long" while mapping the path
# to the file system): the module's locations are never mapped to files.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use LcTest;
use JSON::PP ();

my $json = JSON::PP->new->canonical;
my $long = 'a' x 5120;

# [method, path, status, the exact body]
my $WS_ID = 'Invalid workstation ID: 1 to 128 characters of [A-Za-z0-9._-], starting with a letter or digit';
my @cases = (
    [GET => "/workstations/$long", 400,
     { status => 400, error => 'Bad Request', message => $WS_ID }],
    [POST => "/workstations/$long/stop", 400,
     { status => 400, error => 'Bad Request', message => $WS_ID }],
    [GET => "/api/v1/notebooks/o.w.$long", 400,
     { error => 'invalid_request', status => 400,
       error_description => 'Invalid notebook reference: the reference is too long' }],
    # Notte: a path id outside the id grammar is an unknown agent (conf/API.md).
    [GET => "/agents/$long", 404, { detail => 'Agent not found' }],
    [GET => "/resources/wrappers/$long", 400, { detail => 'Invalid wrapper id' }],
    [GET => "/v0/pipelines/$long", 400,
     { message => "Name '$long' is longer (5120) than maximum allowed (63)",
       error_code => 'TooLongName',
       details => { name => $long, length => 5120, maximum => 63 } }],
    [GET => "/lifecycle/v1/resources/workstation/$long", 400,
     { error => 'invalid_request',
       message => 'invalid id: 1 to 128 characters of [A-Za-z0-9._-], starting with a letter or digit' }],
);

plan tests => 3 * @cases;

for my $c (@cases) {
    my ($method, $path, $code, $body) = @$c;
    (my $name = "$method $path") =~ s/a{5120}/a{5120}/;
    my $res = req($method => $path);
    is($res->code, $code, "$name: $code");
    is($res->header('Content-Type'), JSON_CT, "$name: JSON");
    my $got = eval { $json->decode($res->content) };
    is($json->encode($got // {}), $json->encode($body), "$name: the dialect's body")
        or diag substr($res->content, 0, 400);
}
