# Tokens minted by third-party libraries — jose (JWT, EdDSA) and paseto
# (v4.public), from npm, with their own key — are accepted when they should be
# and refused when they should not (build/suite.sh mints them).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use LcAuth qw(lc_key_dir);

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 30);
my $json = JSON::PP->new;

sub token { open my $fh, '<', lc_key_dir() . "/$_[0].token" or die "no $_[0] token: $!";
    chomp(my $t = <$fh>); $t }
sub as { my ($name, $method, $path) = @_;
    $ua->request(HTTP::Request->new($method => "$base$path",
        [ Authorization => 'Bearer ' . token($name) ])) }

is($ua->request(HTTP::Request->new(PUT => "$base/lifecycle/v1/resources/workstation/tp-ws",
    [ 'Content-Type' => 'application/json' ],
    $json->encode({ id => 'tp-ws', name => 'tp', status => 'running',
        configuration => { cpuCores => 1, memoryGB => 1, gpu => undef, storageGB => 1,
                           region => 'r' } })))->code, 201, 'seeded');

my @cases = (
    ['jose-ok',          GET  => 200, 'jose JWT (EdDSA, kid) accepted'],
    ['jose-scp',         GET  => 200, 'jose JWT with an scp array accepted'],
    ['jose-expired',     GET  => 401, 'jose JWT expired 120 s ago refused'],
    ['jose-wrong-aud',   GET  => 401, 'jose JWT for another audience refused'],
    ['jose-no-scope',    GET  => 403, 'jose JWT without the scope: 403'],
    ['paseto-ok',        GET  => 200, 'paseto v4.public accepted'],
    ['paseto-expired',   GET  => 401, 'paseto v4.public expired 120 s ago refused'],
    ['paseto-wrong-aud', GET  => 401, 'paseto v4.public for another audience refused'],
);
for my $c (@cases) {
    my ($name, $method, $code, $what) = @$c;
    my $r = as($name, $method, '/workstations/tp-ws');
    is($r->code, $code, $what) or diag($r->content);
}
my $r = as('paseto-ok', POST => '/workstations/tp-ws/stop');
is($r->code, 200, 'a paseto token with the write scope stops it');
is($json->decode($r->content)->{status}, 'stopped', 'stopped');
$r = as('jose-ok', POST => '/workstations/tp-ws/launch');
is($r->code, 200, 'a jose token with the write scope launches it');

# The audit line names the third-party token's sub.
my $log = do { local $/; open my $fh, '<', Apache::Test::vars('t_logs') . '/error_log' or die; <$fh> };
like($log, qr/audit kind="workstation" id="tp-ws" from="running" to="stopped" sub="paseto-client" /,
     'the audit line carries the paseto sub');
like($log, qr/audit kind="workstation" id="tp-ws" from="stopped" to="provisioning" sub="jose-client" jti="jose-/,
     'and the jose sub and jti');
$ua->request(HTTP::Request->new(DELETE => "$base/lifecycle/v1/resources/workstation/tp-ws"));
done_testing();
