# A graceful restart keeps every resource, and the background task runs on.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use Time::HiRes qw(sleep time);

plan tests => 10;

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 30);
my $vars = Apache::Test::vars();
my $log = "$vars->{t_logs}/error_log";

sub ws_body { my ($id, $status) = @_;
    JSON::PP::encode_json({ id => $id, name => "n-$id", status => $status,
        configuration => { cpuCores => 1, memoryGB => 1, gpu => undef, storageGB => 1,
                           region => 'r' } }) }
sub put_ws { my ($id, $status) = @_;
    $ua->request(HTTP::Request->new(PUT => "$base/lifecycle/v1/resources/workstation/$id",
        [ 'Content-Type' => 'application/json' ], ws_body($id, $status))) }
sub get_ws { my $r = $ua->get("$base/workstations/$_[0]");
    return ($r->code, $r->code == 200 ? JSON::PP::decode_json($r->content) : undef,
            $r->header('ETag')) }
sub count_in_log { my $re = shift; open my $fh, '<', $log or return 0;
    my $n = grep { /$re/ } <$fh>; close $fh; $n }

sub graceful {
    my $before = count_in_log(qr/resuming normal operations/);
    open my $fh, '<', $vars->{t_pid_file} or die "pid file: $!";
    chomp(my $pid = <$fh>); close $fh;
    kill 'USR1', $pid or die "kill: $!";
    my $t0 = time;
    while (time - $t0 < 20) {
        last if count_in_log(qr/resuming normal operations/) > $before;
        sleep 0.1;
    }
    return count_in_log(qr/resuming normal operations/) > $before;
}

put_ws('gr-a', 'running');
put_ws('gr-b', 'stopped');
$ua->post("$base/workstations/gr-a/stop");                 # version 2
my (undef, $a0, $ea0) = get_ws('gr-a');
my (undef, $b0, $eb0) = get_ws('gr-b');

ok(graceful(), 'graceful restart completed (a new generation says so)');
my ($ca, $a1, $ea1) = get_ws('gr-a');
my ($cb, $b1, $eb1) = get_ws('gr-b');
is($ca, 200, 'gr-a still there');
is($a1->{status}, 'stopped', 'gr-a keeps its state');
is($ea1, $ea0, 'gr-a keeps its version');
is($cb, 200, 'gr-b still there');
is_deeply($b1, $b0, 'gr-b unchanged');

# The new generation's store works, and so does its background task.
is($ua->post("$base/workstations/gr-a/launch")->code, 200, 'launch after restart');
my $status = '';
my $t0 = time;
while (time - $t0 < 5) {
    (undef, my $o) = get_ws('gr-a');
    $status = $o->{status};
    last if $status eq 'running';
    sleep 0.1;
}
is($status, 'running', 'auto-advance runs after the restart');

ok(graceful(), 'a second graceful restart');
my ($c2, $a2) = get_ws('gr-a');
is($a2->{status}, 'running', 'state kept across two restarts');

$ua->request(HTTP::Request->new(DELETE => "$base/lifecycle/v1/resources/workstation/$_"))
    for qw(gr-a gr-b);
