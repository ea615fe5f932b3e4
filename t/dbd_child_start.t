# Children start without a database error: with PostgreSQL up, a
# graceful restart's new children log no "no database connection" line.  The
# background tick (mod_watchdog's thread) used the store before mod_dbd had
# made its connection pool in the child (child_init order), and ap_dbd_open
# failed at every child start.  Runs only in the suite's dbd run.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LWP::UserAgent ();
use Time::HiRes qw(sleep time);
use LcTest ();

plan skip_all => 'runs against LifecycleStore dbd only (build/suite.sh\'s dbd run)'
    unless LcTest::lc_store() eq 'dbd';
plan tests => 3;

my $vars = Apache::Test::vars();
my $log = "$vars->{t_logs}/error_log";
my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 15);

sub slurp { local $/; open my $l, '<', $log or return ''; <$l> }
my $from = length(slurp());
my $gens = () = slurp() =~ /resuming normal operations/g;
open my $pf, '<', $vars->{t_pid_file} or die; chomp(my $ppid = <$pf>); close $pf;
ok(kill('USR1', $ppid), 'graceful restart');
# The new generation is up, and its children have ticked for a while (100 ms ticks).
my $end = time + 30;
sleep 0.2 until (() = slurp() =~ /resuming normal operations/g) > $gens || time > $end;
sleep 0.2 until $ua->get("$base/lifecycle/v1/metrics")->code == 200 || time > $end;
sleep 3;
ok($ua->get("$base/lifecycle/v1/metrics")->code == 200, 'the new generation serves');
my @bad = grep { /no database connection/ } split /\n/, substr(slurp(), $from);
is(scalar(@bad), 0, 'no child logged "no database connection" with PostgreSQL up')
    or diag(join("\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]));
