# A pending change-feed long-poll (wait=60) does not hold a child that
# should exit: a graceful restart answers it at once with what there is, and
# a stop of the server completes in well under httpd's 10 s before SIGKILL.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LWP::UserAgent ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use LcTest qw(count_in_log);
use LcClient qw(wait_up);
use LcServer ();

plan tests => 10;

my $base = 'http://' . Apache::TestRequest::hostport();
my $vars = Apache::Test::vars();
my $log = "$vars->{t_logs}/error_log";
my $ua = LWP::UserAgent->new(timeout => 30);

# Far beyond the journal's end, so that nothing but the stop can end the wait.
my $since = (LcTest::feed_head() // 0) + 100000;

# Starts a wait=60 long-poll in a child process; returns (pid, read end),
# where the child writes "code seconds body" when its answer comes.
sub long_poll {
    pipe(my $rd, my $wr) or die;
    my $pid = fork() // die;
    if ($pid == 0) {
        close $rd;
        my $c = LWP::UserAgent->new(timeout => 20);
        my $t0 = time;
        my $r = $c->get("$base/lifecycle/v1/changes?since=$since&wait=60");
        my $body = $r->content; $body =~ tr/\n/ /;
        syswrite $wr, sprintf("%d %.2f %s\n", $r->code, time - $t0, $body);
        exit 0;
    }
    close $wr;
    sleep 1.0;                      # it is waiting now
    return ($pid, $rd);
}

# ---- graceful restart ---------------------------------------------------------
{
    my ($pid, $rd) = long_poll();
    my $before = count_in_log(qr/resuming normal operations/);
    my $t0 = time;
    kill 'USR1', LcServer::test_server_pid() or die "kill: $!";
    my $line = <$rd> // '';
    my $took = time - $t0;
    waitpid($pid, 0);
    my ($code, $waited, $body) = split ' ', $line, 3;
    chomp($body //= '');
    ok(($waited // 0) >= 0.9, "the long-poll was waiting when the restart came (${\($waited // '?')} s)");
    ok($took < 3, sprintf('graceful restart: the long-poll is answered at once (%.2f s)', $took));
    is($code, 200, 'with 200');
    is($body, qq({"changes":[],"last_seq":$since}), 'and what there is: no changes, last_seq = since');
    my $t1 = time;
    sleep 0.1 while count_in_log(qr/resuming normal operations/) <= $before && time - $t1 < 20;
    ok(wait_up($ua, $base), 'the new generation serves');
}

# ---- stop -----------------------------------------------------------------------
{
    my ($pid, $rd) = long_poll();
    my $parent = LcServer::test_server_pid();
    my $t0 = time;
    kill 'TERM', $parent or die "kill: $!";          # what apachectl stop does
    sleep 0.05 while kill(0, $parent) && time - $t0 < 20;
    my $took = time - $t0;
    ok(!kill(0, $parent), 'stop: the server is gone');
    ok($took < 3, sprintf('stop: within 3 s, a long-poll pending (%.1f s)', $took));
    waitpid($pid, 0);
    is(count_in_log(qr/still did not exit, sending a SIGKILL/), 0, 'no child needed a SIGKILL');
}

# Start it again for the tests after this one.
unlink $vars->{t_pid_file};
my $cmd = Apache::Test::config()->server->start_cmd;
system("$cmd >/dev/null 2>&1");
ok(wait_up($ua, $base), 'the server came back');
is($ua->get("$base/lifecycle/v1/changes?since=$since&wait=0")->code, 200, 'and answers the feed');
