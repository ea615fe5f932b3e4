# The synchronous standby gone (conf/HA.md): every commit waits
# for a standby that does not answer, and PostgreSQL's statement_timeout does
# not end that wait.  A write answers 503 within LifecycleDbdTimeout (5 s by
# default) in the dialect's shape with Retry-After, saying its outcome is
# unknown (never "nothing was changed": it committed locally), reads still
# answer, and once the standby "returns" service is back.  The standby is
# simulated: synchronous_standby_names names one that never connects (this
# run's own cluster, build/pg.sh's, LC_PG_DIR).  Runs only in the dbd run.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use LcTest ();
use LcClient qw(call jb ws_json);
use LcPg qw(pg_sh);

LcTest::dbd_only();
plan tests => 9;

my $base = 'http://' . Apache::TestRequest::hostport();
my $pgdir = $ENV{LC_PG_DIR};
my $json = JSON::PP->new->canonical;
my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 1);

sub standby { pg_sh('syncnames', $pgdir, shift)
    or die "cannot set synchronous_standby_names" }
my $gone = 0;
# Whatever happens here, the tests after this one need commits that end.
END { if ($gone && $$ == $main::PID) { standby('');
    pg_sh('psql', $pgdir, '-qAt', '-c',
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") } }
$main::PID = $$;

sub req { call($ua, $base, @_) }    # (METHOD, PATH, BODY text, HEADERS...)

is(req(PUT => '/lifecycle/v1/resources/workstation/sb-ws', ws_json('sb-ws', 'running'))->code, 201,
   'workstation sb-ws');

$gone = 1;
standby('lc_absent_standby');
my $t0 = time;
my $r = req(POST => '/workstations/sb-ws/stop');
my $took = time - $t0;
my $b = jb($r);
ok($r->code == 503 && ($r->header('Retry-After') // '') eq '1', 'standby gone: the write answers 503 with Retry-After')
    or diag($r->code . ' ' . $r->content);
ok($took >= 4.5 && $took < 9, sprintf('within LifecycleDbdTimeout (5 s): %.2f s', $took));
diag(sprintf('standby gone: the write answered 503 in %.2f s', $took));
ok(ref $b eq 'HASH' && join(',', sort keys %$b) eq 'error,message,status' && $b->{status} == 503
   && $b->{message} =~ /unknown/ && $b->{message} !~ /nothing was changed/,
   'in the workstation shape, saying the outcome is unknown') or diag($r->content);
$r = req(GET => '/workstations/sb-ws');
is($r->code, 200, 'standby gone: a read still answers');

my $m = req(GET => '/lifecycle/v1/metrics')->content;
my ($to) = $m =~ /^lifecycle_dbd_timeouts_total (\d+)/m;
my ($unk) = $m =~ /^lifecycle_dbd_unknown_outcomes_total (\d+)/m;
ok(($to // 0) >= 1 && ($unk // 0) >= 1, "metrics count the timeout and the unknown outcome ($to, $unk)")
    or diag(join "\n", grep { /dbd_(timeouts|unknown)/ } split /\n/, $m);

# ---- the standby back --------------------------------------------------------------------------
standby('');
ok(pg_sh('psql', $pgdir, '-qAt', '-c',
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'SyncRep'"),
   'the commit left waiting is let go');
$gone = 0;
$r = req(PUT => '/lifecycle/v1/resources/workstation/sb-ws2', ws_json('sb-ws2', 'running'));
is($r->code, 201, 'standby back: writes are acknowledged again') or diag($r->content);
$r = req(GET => '/workstations/sb-ws');
is($r->code, 200, 'the resource reads');
