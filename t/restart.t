# A graceful restart keeps every resource, and the background task runs on.
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
use LcTest qw(count_in_log);

plan tests => 10;

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 30);
my $vars = Apache::Test::vars();
my $log = "$vars->{t_logs}/error_log";

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

put_ws_at($ua, $base, 'gr-a', 'running');
put_ws_at($ua, $base, 'gr-b', 'stopped');
$ua->post("$base/workstations/gr-a/stop");                 # version 2
my (undef, $a0, $ea0) = get_ws_at($ua, $base, 'gr-a');
my (undef, $b0, $eb0) = get_ws_at($ua, $base, 'gr-b');

ok(graceful(), 'graceful restart completed (a new generation says so)');
my ($ca, $a1, $ea1) = get_ws_at($ua, $base, 'gr-a');
my ($cb, $b1, $eb1) = get_ws_at($ua, $base, 'gr-b');
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
    (undef, my $o) = get_ws_at($ua, $base, 'gr-a');
    $status = $o->{status};
    last if $status eq 'running';
    sleep 0.1;
}
is($status, 'running', 'auto-advance runs after the restart');

ok(graceful(), 'a second graceful restart');
my ($c2, $a2) = get_ws_at($ua, $base, 'gr-a');
is($a2->{status}, 'running', 'state kept across two restarts');

$ua->request(HTTP::Request->new(DELETE => "$base/lifecycle/v1/resources/workstation/$_"))
    for qw(gr-a gr-b);
