# Every route of every dialect requires a valid bearer token with the right
# scope; every refusal is 401/403 in the dialect's own shape with RFC 6750's
# WWW-Authenticate, and changes nothing.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use MIME::Base64 qw(encode_base64url decode_base64url);
use Digest::SHA qw(hmac_sha256);
use LcAuth qw(lc_token lc_mint lc_key_dir);

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 30);
$ua->default_headers->remove_header('Authorization');   # every request here says its own
my $all = lc_token();
my $json = JSON::PP->new->canonical;

sub req { my ($method, $path, $auth, $body) = @_;
    my @h = defined $auth ? (Authorization => $auth) : ();
    push @h, ('Content-Type' => 'application/json') if defined $body;
    return $ua->request(HTTP::Request->new($method => "$base$path", \@h, $body)) }
sub bearer { 'Bearer ' . $_[0] }
sub ws_state { my $r = req(GET => '/workstations/auth-ws', bearer($all));
    return ($r->code, $r->code == 200 ? $json->decode($r->content)->{status} : '', $r->header('ETag')) }

# A JWT built by hand, for the algorithms the module must refuse before any crypto.
sub claims { $json->encode({ sub => 'mallory', exp => time + 600, aud => 'lifecycle-test',
                             iss => 'https://issuer.test', scope => 'workstations.write' }) }
sub jwt { my ($header, $sig) = @_;
    my $h = encode_base64url($json->encode($header));
    my $p = encode_base64url(claims());
    return "$h.$p." . encode_base64url($sig // '') }
my $jwk = $json->decode(do { local $/; open my $fh, '<', lc_key_dir() . '/issuer.jwk' or die; <$fh> });
my $pub = decode_base64url($jwk->{x});
my $hs_head = encode_base64url($json->encode({ alg => 'HS256', typ => 'JWT' }));
my $hs_body = encode_base64url(claims());
my $hs256 = "$hs_head.$hs_body." . encode_base64url(hmac_sha256("$hs_head.$hs_body", $pub));

my $good = lc_mint(scope => 'workstations.write workstations.read');
my ($gp) = $good =~ /^(v4\.public\.[^.]+)/;
my $tampered_payload = do { my $t = $good; my $i = 20;
    substr($t, $i, 1) = substr($t, $i, 1) eq 'A' ? 'B' : 'A'; $t };
my $tampered_sig = do { my $t = $good; my ($body) = $t =~ /^v4\.public\.([^.]+)/;
    my $i = 10 + length($body) - 5;  # inside the signature (last 64 bytes)
    substr($t, $i, 1) = substr($t, $i, 1) eq 'A' ? 'B' : 'A'; $t };
my $jwt_good = lc_mint(scope => 'workstations.write', format => 'jwt');
my ($jh, $jp, $js) = split /\./, $jwt_good;

my @refused = (
    # [name, Authorization header or undef, header-absent challenge?]
    ['no header',              undef,                                           1],
    ['Basic scheme',           'Basic dXNlcjpwYXNz',                            1],
    ['empty token',            'Bearer ',                                       0],
    ['three dots',             bearer('...'),                                   0],
    ['malformed',              bearer('not-a-token'),                           0],
    ['10 KiB token',           bearer('a' x 10240),                             0],
    ['bad base64url',          bearer('v4.public.' . ('=' x 100)),              0],
    ['tampered payload',       bearer($tampered_payload),                       0],
    ['tampered signature',     bearer($tampered_sig),                           0],
    ['unknown kid',            bearer(lc_mint(scope => 'workstations.write', kid => 'no-such-key')), 0],
    ['key not configured',     bearer(lc_mint(scope => 'workstations.write', key => 'stranger')), 0],
    ['expired by 61 s',        bearer(lc_mint(scope => 'workstations.write', now => time - 200, ttl => 139)), 0],
    ['nbf in the future',      bearer(lc_mint(scope => 'workstations.write', nbf => 300)), 0],
    ['wrong aud',              bearer(lc_mint(scope => 'workstations.write', aud => 'someone-else')), 0],
    ['wrong iss',              bearer(lc_mint(scope => 'workstations.write', iss => 'https://evil.test')), 0],
    ['alg none',               bearer(jwt({ alg => 'none', typ => 'JWT' }, '')), 0],
    ['alg HS256, public key as secret', bearer($hs256),                          0],
    ['alg RS256',              bearer(jwt({ alg => 'RS256', typ => 'JWT' }, 'x' x 256)), 0],
    ['JWT header/payload swapped', bearer("$jp.$jh.$js"),                       0],
    ['v4.local',               bearer('v4.local.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAQAr68PS4AXe7If_ZgesdkUMvSwscFlAl1pk5HC0e8kApeaqMfGo_7OpBnwJOAbY9V7WU6abu74MmcUE8YWAiaArVI8XJ5hOb_4v9RmDkneN0S92dx0OW4pgy7omxgf3S8c3LlQg'), 0],
    ['v3.public',              bearer('v3.public.' . encode_base64url('x' x 120)), 0],
);

# One route per dialect, and the shape of its errors.
my @routes = (
    ['workstation', POST => '/workstations/auth-ws/stop',
        sub { my $b = shift; $b->{status} == $_[0] && $b->{error} && $b->{message} }],
    ['admin', PUT => '/lifecycle/v1/resources/workstation/auth-new',
        sub { my $b = shift; $b->{error} eq ($_[0] == 401 ? 'invalid_token' : 'insufficient_scope') && $b->{message} }],
    ['notte', GET => '/agents/some-agent',
        sub { my $b = shift; defined $b->{detail} && !ref $b->{detail} }],
    ['wrapper', POST => '/resources/wrappers/w-1/stop',
        sub { my $b = shift; defined $b->{detail} && !ref $b->{detail} }],
    ['redivis', POST => '/api/v1/notebooks/alice.flow.nb/stop',
        sub { my $b = shift; $b->{status} == $_[0] && $b->{error_description}
              && $b->{error} eq ($_[0] == 401 ? 'invalid_token' : 'insufficient_scope') }],
    ['feldera', POST => '/v0/pipelines/p1/stop',
        sub { my $b = shift; $b->{message} && $b->{error_code} && ref $b->{details} eq 'HASH' }],
);

my $ws = $json->encode({ id => 'auth-ws', name => 'auth', status => 'running',
    configuration => { cpuCores => 1, memoryGB => 1, gpu => undef, storageGB => 1, region => 'r' } });
is(req(PUT => '/lifecycle/v1/resources/workstation/auth-ws', bearer($all), $ws)->code, 201,
   'seeded a running workstation');
my (undef, $st0, $etag0) = ws_state();

for my $route (@routes) {
    my ($dialect, $method, $path, $shape) = @$route;
    my $body = $method eq 'PUT' ? $ws =~ s/auth-ws/auth-new/r : undef;
    for my $case (@refused) {
        my ($name, $auth, $absent) = @$case;
        my $r = req($method, $path, $auth, $body);
        my $b = eval { $json->decode($r->content) } || {};
        my $want = $absent ? 'Bearer realm="lifecycle"'
                           : 'Bearer realm="lifecycle", error="invalid_token"';
        ok($r->code == 401 && ($r->header('WWW-Authenticate') // '') eq $want
           && $shape->($b, 401), "$dialect: $name -> 401")
            or diag($r->code . ' ' . ($r->header('WWW-Authenticate') // '-') . ' ' . $r->content);
    }
}

# Scopes: the wrong one is 403 with insufficient_scope; the right one passes.
my $read_only = lc_mint(scope => 'workstations.read agents.read wrappers.read workflow.read pipelines.read');
for my $route (@routes) {
    my ($dialect, $method, $path, $shape) = @$route;
    my $need = { workstation => 'workstations.write', admin => 'lifecycle.admin',
                 notte => 'agents.read', wrapper => 'wrappers.write',
                 redivis => 'workflow.write', feldera => 'pipelines.write' }->{$dialect};
    my $tok = $dialect eq 'notte' ? lc_mint(scope => 'workstations.read') : $read_only;
    my $body = $method eq 'PUT' ? $ws =~ s/auth-ws/auth-new/r : undef;
    my $r = req($method, $path, bearer($tok), $body);
    my $b = eval { $json->decode($r->content) } || {};
    ok($r->code == 403 && $r->header('WWW-Authenticate') eq
       qq{Bearer realm="lifecycle", error="insufficient_scope", scope="$need"}
       && $shape->($b, 403), "$dialect: wrong scope -> 403 naming $need")
        or diag($r->code . ' ' . ($r->header('WWW-Authenticate') // '-') . ' ' . $r->content);
}
my $rb = $json->decode(req(POST => '/api/v1/notebooks/alice.flow.nb/stop', bearer($read_only))->content);
is($rb->{scope}, 'workflow.write', 'redivis: 403 body carries the scope');

# Nothing above changed anything.
my ($c1, $st1, $etag1) = ws_state();
is($st1, 'running', 'the workstation is still running');
is($etag1, $etag0, 'and at the same version');
is(req(GET => '/lifecycle/v1/resources/workstation/auth-new', bearer($all))->code, 404,
   'no refused PUT created anything');

# Accepted: within leeway, scp array, JWT, rotation key, scoped location.
for my $ok (
    ['expired 50 s ago (within the 60 s leeway)', lc_mint(scope => 'workstations.read', now => time - 200, ttl => 150)],
    ['scopes in an scp array',                    lc_mint(scp => 'workstations.read')],
    ['JWT (EdDSA)',                               lc_mint(scope => 'workstations.read', format => 'jwt')],
    ['JWT from the second (rotation) key',        lc_mint(scope => 'workstations.read', format => 'jwt', key => 'issuer2')],
    ['PASETO from the second key',                lc_mint(scope => 'workstations.read', key => 'issuer2')],
) {
    my $r = req(GET => '/workstations/auth-ws', bearer($ok->[1]));
    is($r->code, 200, "accepted: $ok->[0]") or diag($r->content);
}
my $r = req(POST => '/workstations/auth-ws/stop', bearer($good));
is($r->code, 200, 'the right scope (workstations.write) stops it');
is($json->decode($r->content)->{status}, 'stopped', 'stopped');

# LifecycleScope overrides the dialect's default per location.
is(req(GET => '/scoped/workstations/auth-ws', bearer(lc_mint(scope => 'workstations.read')))->code, 403,
   'a location with LifecycleScope read ops.read refuses workstations.read');
is(req(GET => '/scoped/workstations/auth-ws', bearer(lc_mint(scope => 'ops.read')))->code, 200,
   'and accepts ops.read');

# A reused token is served from the cache, and still expires on time.
my $short = lc_mint(scope => 'workstations.read', now => time - 60 - 58, ttl => 60);   # expires in ~2 s past leeway
is(req(GET => '/workstations/auth-ws', bearer($short))->code, 200, 'short-lived token accepted');
sleep 3;
is(req(GET => '/workstations/auth-ws', bearer($short))->code, 401, 'and refused once expired, cache or not');

req(DELETE => '/lifecycle/v1/resources/workstation/auth-ws', bearer($all));
done_testing();
