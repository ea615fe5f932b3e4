# 32 clients stop the same running workstation at once: exactly one wins.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();

plan tests => 7;

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 30);
my $id = 'conc-ws-1';
my $body = JSON::PP::encode_json({ id => $id, name => 'Race', status => 'running',
    configuration => { cpuCores => 2, memoryGB => 4, gpu => undef, storageGB => 10,
                       region => 'us-west-2' } });

my $put = $ua->request(HTTP::Request->new(PUT => "$base/lifecycle/v1/resources/workstation/$id",
                                          [ 'Content-Type' => 'application/json' ], $body));
ok($put->code == 200 || $put->code == 201, 'seeded a running workstation');
my $v0 = $put->header('ETag');

# Fork 32 clients; each waits for the start signal (the pipe closing), then stops.
pipe(my $go_r, my $go_w) or die;
pipe(my $res_r, my $res_w) or die;
my @kids;
for (1 .. 32) {
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        close $go_w; close $res_r;
        my $c = LWP::UserAgent->new(timeout => 30);
        $c->get("$base/lifecycle/v1/metrics");           # connect early
        sysread($go_r, my $x, 1);                         # blocks until closed
        my $r = $c->post("$base/workstations/$id/stop");
        syswrite($res_w, sprintf("%d\n", $r->code));
        exit 0;
    }
    push @kids, $pid;
}
close $go_r; close $res_w;
select(undef, undef, undef, 0.5);
close $go_w;                                              # go
my @codes = map { chomp; $_ } <$res_r>;
waitpid($_, 0) for @kids;

is(scalar @codes, 32, '32 answers');
is(scalar(grep { $_ == 200 } @codes), 1, 'exactly one 200');
is(scalar(grep { $_ == 400 } @codes), 31, 'the other 31 are 400');

my $get = $ua->get("$base/workstations/$id");
is(JSON::PP::decode_json($get->content)->{status}, 'stopped', 'it is stopped');
(my $n0 = $v0) =~ tr/"//d;
(my $n1 = $get->header('ETag')) =~ tr/"//d;
is($n1, $n0 + 1, 'exactly one version bump');

my $del = $ua->request(HTTP::Request->new(DELETE => "$base/lifecycle/v1/resources/workstation/$id"));
is($del->code, 204, 'cleaned up');
