# Children killed with SIGKILL — while holding the store mutex, and at random
# in the middle of traffic — leave the server serving and the store whole.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use FindBin ();
use lib "$FindBin::Bin/lib";
use LcClient qw(put_ws_at get_ws_at);
use LcServer ();

plan tests => 15;

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
my $vars = Apache::Test::vars();

sub repairs { my $m = $ua->get("$base/lifecycle/v1/metrics")->content;
    return $m =~ /^lifecycle_store_repairs_total (\d+)$/m ? $1 : -1 }

# 1. A child dies halfway through writing a slot, mutex held.
put_ws_at($ua, $base, 'crash-a', 'running');
SKIP: {
skip 'LifecycleStore dbd: the fault injected is a child killed inside a shared-memory slot '
     . 'write with the store mutex held; a database transaction cut short is t/dbd_two_servers.t\'s '
     . 'kill -9 and part 2 here', 8 if ($ENV{LC_STORE} // '') eq 'dbd';
my (undef, $before, $etag0) = get_ws_at($ua, $base, 'crash-a');
my $r0 = repairs();
my $dead = $ua->request(HTTP::Request->new(POST => "$base/workstations/crash-a/stop",
                                           [ 'X-Lifecycle-Fault' => 'die-midwrite' ]));
ok($dead->code >= 500 && !defined $dead->header('ETag'),
   'the request whose child died got no answer from the module');
my ($code, $after, $etag1) = get_ws_at($ua, $base, 'crash-a');
is($code, 200, 'the server still serves the resource');
is($after->{status}, 'running', 'the half-done stop was rolled back');
is($etag1, $etag0, 'the version is unchanged');
is_deeply($after, $before, 'every field is as before');
is(repairs(), $r0 + 1, 'the store counted one repair');
my $stop = $ua->post("$base/workstations/crash-a/stop");
is($stop->code, 200, 'the mutex is free: a normal stop works');
is(JSON::PP::decode_json($stop->content)->{status}, 'stopped', 'and stops it');
}

# 2. kill -9 of children while clients launch and stop.
my @ids = map { "crash-l$_" } 1 .. 4;
put_ws_at($ua, $base, $_, 'stopped') for @ids;
my $load = fork() // die;
if ($load == 0) {
    my $c = LWP::UserAgent->new(timeout => 10, keep_alive => 1);
    my $t0 = time;
    while (time - $t0 < 4) {
        for my $id (@ids) {
            $c->post("$base/workstations/$id/launch");
            $c->post("$base/workstations/$id/stop");
            $c->get("$base/workstations/$id");
        }
    }
    exit 0;
}
my $killed = 0;
for (1 .. 3) {
    sleep 0.8;
    my @kids = LcServer::children(LcServer::test_server_pid() // die 'no pid file');
    next unless @kids;
    $killed += kill 'KILL', $kids[int rand @kids];
}
waitpid($load, 0);
ok($killed >= 1, "killed $killed children mid-traffic");
my $ok = 1;
for my $id (@ids) {
    my ($c, $o) = get_ws_at($ua, $base, $id);
    $ok &&= $c == 200 && $o->{status} =~ /^(stopped|running|provisioning)$/;
}
ok($ok, 'every resource is whole and in a state its table allows');
is($ua->get("$base/lifecycle/v1/metrics")->code, 200, 'the server still serves');

# The store is consistent after the killing: a full launch/stop cycle works.
my $id = $ids[0];
for (1 .. 50) {                 # let a launch in flight finish, then stop it
    my (undef, $o) = get_ws_at($ua, $base, $id);
    last if $o->{status} eq 'stopped';
    $ua->post("$base/workstations/$id/stop") if $o->{status} eq 'running';
    sleep 0.1;
}
my $t1 = time;
is($ua->post("$base/workstations/$id/launch")->code, 200, 'launch after the kills');
my $status = '';
while (time - $t1 < 3) {            # 300 ms auto-advance, whichever child ticks
    (undef, my $o) = get_ws_at($ua, $base, $id);
    $status = $o->{status};
    last if $status eq 'running';
    sleep 0.1;
}
is($status, 'running', 'the background task still advances within 3 s');
is($ua->post("$base/workstations/$id/stop")->code, 200, 'stop after the kills');
my $m = $ua->get("$base/lifecycle/v1/metrics")->content;
ok($m =~ (($ENV{LC_STORE} // '') eq 'dbd' ? qr/^lifecycle_requests_total\{/m : qr/slots\{state="used"\} \d+/),
   'metrics still readable');

$ua->request(HTTP::Request->new(DELETE => "$base/lifecycle/v1/resources/workstation/$_"))
    for 'crash-a', @ids;
