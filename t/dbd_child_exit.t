# A child exits while its background tick waits on the database:
# mod_watchdog's thread is not stopped with the child's pool, so pchild (the
# store, mod_dbd's connection pool) was destroyed under a tick holding a pooled
# connection: apr_reslist's cleanup asserts that none is out (SIGABRT, "server
# dumped core"), or the tick used freed memory.  Here the feed head is locked
# for 4 s (the ticks' sequencer waits on it, within LifecycleDbdTimeout), and
# a graceful restart makes the children exit meanwhile: no child dies of a
# signal.  Runs only in the suite's dbd run (LC_PG_DIR).
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LWP::UserAgent ();
use Time::HiRes qw(sleep time);
use Cwd ();
use LcTest ();

LcTest::dbd_only();
plan tests => 4;

my $vars = Apache::Test::vars();
my $top  = Cwd::abs_path("$vars->{serverroot}/..");
my $log = "$vars->{t_logs}/error_log";
my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 15);

sub slurp { local $/; open my $l, '<', $log or return ''; <$l> }
my $from = length(slurp());
# An unnumbered change, so that the ticks' sequencer has work and takes the head's lock.
ok($ua->put("$base/lifecycle/v1/resources/workstation/ce-1", 'Content-Type' => 'application/json',
    Content => '{"id":"ce-1","name":"n","status":"running","configuration":{"cpuCores":1,'
             . '"memoryGB":1,"gpu":null,"storageGB":1,"region":"r"}}')->is_success, 'a change');
my $pid = fork() // die;
if ($pid == 0) {
    exec('bash', "$top/build/pg.sh", 'psql', $ENV{LC_PG_DIR}, '-qAt', '-c',
         'BEGIN; LOCK TABLE lc_feed_head IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;');
    exit 1;
}
sleep 1.5;                      # ticks now wait on the lock
open my $pf, '<', $vars->{t_pid_file} or die; chomp(my $ppid = <$pf>); close $pf;
ok(kill('USR1', $ppid), 'graceful restart while a tick waits on the database');
waitpid($pid, 0);
my $end = time + 20;
sleep 0.2 until $ua->get("$base/lifecycle/v1/metrics")->code == 200 || time > $end;
sleep 2;
is($ua->get("$base/lifecycle/v1/metrics")->code, 200, 'the new generation serves');
my @bad = grep { /exit signal|dumped core|Assertion/ } split /\n/, substr(slurp(), $from);
is(scalar(@bad), 0, 'no child died of a signal at its exit') or diag(join("\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]));
