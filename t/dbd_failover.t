# A standby takes over (conf/HA.md): a primary with a synchronous
# streaming standby (build/pg.sh start + standby: initdb, pg_basebackup -R,
# synchronous_standby_names), two private Apache servers on it through
# libpq's multi-host DBDParams (host=a,b target_session_attrs=read-write).
#   - the standby stopped: writes answer 503 within LifecycleDbdTimeout
#     (5 s) saying their outcome is unknown, reads answer 200;
#   - the primary killed under load (pg_ctl stop -m immediate): 503s in each
#     dialect's shape, never a hang; the standby promoted (pg_ctl promote):
#     2xx on both servers without a restart; every acknowledged create is
#     there, once, in a dense feed;
#   - the old primary started again by hand (writable, on the old timeline):
#     never written to (the timeline guard: 503, one line, a metric).
# Prints the 503 window and the lost count.  Runs only in the dbd run, on a
# pair of clusters of its own (never the run's LC_PG_DIR).
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use LWP::UserAgent ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use File::Temp ();
use LcTest ();
use LcServer;
use LcClient qw(call jb put_ws_at);
use LcPg qw(pg_sh pg_psql figure load_start load_stop load_read writes_back);

LcTest::dbd_only();
plan tests => 30;

my $json = JSON::PP->new->canonical;
my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
# A short path: the sockets' names must stay under 107 bytes.
my $pair = File::Temp::tempdir('/tmp/lcfo.XXXXXX');
my ($A, $B) = ("$pair/a", "$pair/b");
my @servers;
$main::PID = $$;
END { if (defined $main::PID && $$ == $main::PID) { $_->stop('TERM') for @servers;
    pg_sh('stop', $_, 'immediate') for $A, $B; system('rm', '-rf', $pair) } }

sub metric { my ($base, $name) = @_;
    my ($v) = $ua->get("$base/lifecycle/v1/metrics")->content =~ /^\Q$name\E (\d+)/m; $v // -1 }

# ---- the pair ------------------------------------------------------------------------------
{ local $ENV{PG_OPTS} = '-c fsync=off -c full_page_writes=off -c max_connections=100';
  ok(pg_sh('start', $A) && pg_sh('standby', $B, $A), 'a primary and its streaming standby') or die 'no pair of clusters';
}
pg_sh('syncnames', $A, '*');
my $t0 = time;
sleep 0.2 until pg_psql($A, "SELECT sync_state FROM pg_stat_replication") eq 'sync' || time - $t0 > 30;
is(pg_psql($A, "SELECT sync_state FROM pg_stat_replication"), 'sync', 'the standby is synchronous');

my $params = "host=$A,$B dbname=lifecycle user=lifecycle target_session_attrs=read-write "
           . 'connect_timeout=2';
for my $n ('fo_x', 'fo_y') {
    my $s = LcServer->new($n, dbd => 1, dbd_params => $params, extra => ['LifecycleFeedRetain 0']);
    push @servers, $s;
}
ok(!grep({ !$_->start(60) } @servers), 'two servers on the pair (multi-host DBDParams)');
my ($X, $Y) = map { $_->base } @servers;
is(put_ws_at($ua, $X, 'fo-pre')->code, 201, 'a write through one');
is($ua->get("$Y/workstations/fo-pre")->code, 200, 'is read through the other');
is(metric($X, 'lifecycle_dbd_sync_standbys'), 1, 'the metrics count one synchronous standby');

# ---- the standby stopped: 503 within the deadline, reads 200 ------------------------------
pg_sh('stop', $B, 'fast');
$t0 = time;
my $r = put_ws_at($ua, $Y, 'fo-nosb');
my $took = time - $t0;
my $b = jb($r);
ok($r->code == 503 && ref $b eq 'HASH' && ($b->{message} // '') =~ /unknown/,
   'standby stopped: a write answers 503, its outcome unknown') or diag($r->code . ' ' . $r->content);
figure(sprintf('standby stopped: the write answered 503 in %.2f s', $took));
ok($took >= 4.5 && $took < 9, sprintf('within LifecycleDbdTimeout (5 s): %.2f s', $took));
is($ua->get("$X/workstations/fo-pre")->code, 200, 'standby stopped: reads answer 200');
# The primary's walsender goes when it sees the standby's connection close.
$t0 = time;
sleep 0.2 until metric($Y, 'lifecycle_dbd_sync_standbys') == 0 || time - $t0 > 30;
is(metric($Y, 'lifecycle_dbd_sync_standbys'), 0, 'standby stopped: the metrics count none');
ok(pg_sh('start', $B), 'the standby back');
$t0 = time;
sleep 0.2 until pg_psql($A, "SELECT sync_state FROM pg_stat_replication") eq 'sync' || time - $t0 > 30;
$t0 = time;
sleep 0.2 until put_ws_at($ua, $X, 'fo-sb-back-' . int(rand 1e9))->code == 201 || time - $t0 > 15;
ok(time - $t0 < 15, 'and writes are acknowledged again');

# One resource of each dialect, for the shapes of the 503s.
my $wr = '0b7a4e0e-5a77-4c1e-8d55-3f3e9d0c4a21';
my $nbref = 'fo_user.fo_flow.fo_nb';
my %made = (
    notebook => call($ua, $X, PUT => "/lifecycle/v1/resources/notebook/fo-nb", $json->encode({
        kind => 'notebook', id => 'fo-nb', name => 'fo nb', qualifiedReference => "$nbref:fnb1",
        referenceId => 'fnb1', owner => { name => 'fo_user' },
        currentJob => { id => 'job-f', kind => 'notebook', status => 'running', errorMessage => undef,
                        startTime => 1700000000000, endTime => undef } }))->code,
    wrapper => call($ua, $X, PUT => "/lifecycle/v1/resources/wrapper/$wr", $json->encode({
        wrapper_id => $wr, type => 'api', status => 'running' }))->code,
    pipeline => call($ua, $X, PUT => "/lifecycle/v1/resources/pipeline/fo-pipe", $json->encode({
        name => 'fo-pipe', deployment_status => 'Running' }))->code,
);
is(join(',', map { $made{$_} } sort keys %made), '201,201,201', 'a notebook, a pipeline, a wrapper');
my @gets = (
    ['/workstations/fo-pre', sub { my $b = shift;
        ref $b eq 'HASH' && join(',', sort keys %$b) eq 'error,message,status' && $b->{status} == 503
        && $b->{error} eq 'Service Unavailable' }],
    ["/api/v1/notebooks/$nbref", sub { my $b = shift;
        ref $b eq 'HASH' && join(',', sort keys %$b) eq 'error,error_description,status'
        && $b->{status} == 503 && $b->{error} eq 'unavailable' }],
    ["/resources/wrappers/$wr", sub { my $b = shift;
        ref $b eq 'HASH' && join(',', keys %$b) eq 'detail' && !ref $b->{detail} }],
    ['/v0/pipelines/fo-pipe', sub { my $b = shift;
        ref $b eq 'HASH' && join(',', sort keys %$b) eq 'details,error_code,message'
        && $b->{error_code} eq 'StoreUnavailable' }],
    ['/lifecycle/v1/resources/workstation/fo-pre', sub { my $b = shift;
        ref $b eq 'HASH' && join(',', sort keys %$b) eq 'error,message' && $b->{error} eq 'unavailable' }],
);

# ---- load on both servers, the primary killed ------------------------------------------------
# A 503 of the load has its shape when its body is JSON.
my @kids = load_start($pair, 'fo', [$X, $Y], sub { jb($_[0]) });
sleep 2;
my $killed = time;
pg_sh('stop', $A, 'immediate');
sleep 1;
my @bad = grep { my $r = $ua->get("$X$_->[0]"); !($r->code == 503 && $_->[1]->(jb($r))) } @gets;
ok(!@bad, 'primary gone: every dialect answers 503 in its shape')
    or diag('not: ' . join(' ', map { $_->[0] } @bad));
sleep 1;
my $promoted = time;
ok(pg_sh('promote', $B), 'the standby promoted (pg_ctl promote)');
my %back = %{ writes_back($ua, [$X, $Y], $promoted, 30, 0.05, 'fo-back') };
figure(sprintf('service after the promotion: %s', join(', ', map { sprintf '%.2f s', $_ } values %back)));
# About 1 s measured on an idle machine, 2.2 s on a loaded one: the bound is generous.
ok(keys %back == 2 && !grep({ $_ > 5 } values %back), sprintf('2xx on both servers within 5 s '
   . 'of the promotion, without a restart (%s)', join(', ', map { sprintf '%.2f s', $_ } values %back)));
sleep 2;
load_stop($pair, @kids);

# ---- what the load saw ----------------------------------------------------------------------
my $load = load_read($pair);
my @acked = @{ $load->{acked} };
my @fail  = @{ $load->{fail} };
my ($slow, $noshape, $noretry, $first503, $last503) = @$load{qw(slow noshape noretry first503 last503)};
ok(!grep({ !/^503 / } @fail), 'every failure under load is a 503') or diag(join ', ', grep { !/^503 / } @fail);
ok(!$slow && !$noshape && !$noretry, 'in the admin API\'s shape, with Retry-After, none past '
   . 'the deadline') or diag("slow $slow, no shape $noshape, no Retry-After $noretry");
my $window = defined $last503 ? $last503 - $killed : 0;
figure(sprintf('primary killed under load: %d acknowledged, %d answered 503; 503s from %.2f s to '
     . '%.2f s after the kill; promoted at %.2f s', scalar @acked, scalar @fail,
     ($first503 // $killed) - $killed, $window, $promoted - $killed));

# Every acknowledged create: on the new primary, once in a dense feed.
my %want = map { $_ => 1 } @acked;
my %rows = map { $_ => 1 } split /\n/, pg_psql($B, "SELECT id FROM lc_resources WHERE id LIKE 'fo-_-%'");
my $lost = grep { !$rows{$_} } @acked;
is($lost, 0, sprintf('every acknowledged create is on the new primary (lost %d of %d; %d rows)',
                     $lost, scalar @acked, scalar keys %rows));
figure("lost count after the primary's kill: $lost");
# The feed: dense on timeline 1, then (410) dense from timeline 2's block
# (2^40 + 1): numbers a failover might have lost are never given again.
my $block = 2**40;
my %seen; my ($dense, $since, $twice, @jumps) = (1, 0, 0);
$t0 = time;
while (time - $t0 < 30) {
    my $fr = $ua->get("$X/lifecycle/v1/changes?since=$since&wait=1&limit=1000");
    my $fb = jb($fr) or last;
    if ($fr->code == 410) { push @jumps, [$since, $fb->{oldest_seq}]; last if @jumps > 1;
                            $since = $fb->{oldest_seq} - 1; next }
    last unless $fr->code == 200;
    for my $ch (@{ $fb->{changes} }) {
        $dense = 0 if $ch->{seq} != $since + 1;
        $since = $ch->{seq};
        next unless $ch->{id} =~ /^fo-\d-/;
        $twice++ if $seen{$ch->{id}}++;
    }
    last if !grep { !$seen{$_} } @acked;
}
figure(sprintf('feed: dense %d, up to %s, jumps %s', $dense, $since,
               join(' ', map { "$_->[0] -> $_->[1]" } @jumps)));
ok(!grep({ !$seen{$_} } @acked) && !$twice, 'each in the feed once')
    or diag(scalar(grep { !$seen{$_} } @acked) . " missing, $twice twice");
ok($dense && @jumps == 1 && $jumps[0][1] == $block + 1,
   sprintf('the feed is dense, then 410 once: timeline 2 numbers from 2^40 + 1 (%s)',
           join(' ', map { "$_->[0] -> $_->[1]" } @jumps)));
my $old_head = @jumps ? $jumps[0][0] : 0;
my $fr = $ua->get("$Y/lifecycle/v1/changes?since=" . ($old_head + 1) . '&wait=0');
figure('past the old head: ' . $fr->code . ' ' . substr($fr->content, 0, 300));
is_deeply([$fr->code, (jb($fr) || {})->{oldest_seq}], [410, $block + 1],
          'a reader past the old timeline\'s head (a number it could have lost) gets 410');

# ---- the old primary started again by hand ---------------------------------------------------
ok(pg_sh('start', $A), 'the old primary started again by hand (writable, on timeline 1)');
is(pg_psql($A, 'SELECT pg_is_in_recovery()'), 'f', 'it accepts writes');
# Every pooled session on the new primary ends: the next ones find the old one first.
pg_psql($B, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'lifecycle' "
       . "AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
my ($ok, $n503, $slowold) = (0, 0, 0);
for my $i (1 .. 6) {
    for my $base ($X, $Y) {
        my $t1 = time;
        my $code = put_ws_at($ua, $base, "fo-old-$i-" . ($base eq $X ? 'x' : 'y'))->code;
        $slowold++ if time - $t1 > 8;
        $code == 201 ? $ok++ : $code == 503 ? $n503++ : 0;
    }
}
is($ok + $n503, 12, "each write answers 201 or 503 ($ok, $n503)");
ok(!$slowold, 'none waits past the deadline');
# A write there would wait for its synchronous standby, invisible: let such waits end first.
pg_sh('syncnames', $A, '');
$t0 = time;
sleep 0.1 while pg_psql($A, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") ne '0'
                && time - $t0 < 30;
is(pg_psql($A, "SELECT count(*) FROM lc_resources WHERE id LIKE 'fo-old-%' OR id LIKE 'fo-back-%'"), '0',
   'nothing is written to the old primary');
ok(metric($X, 'lifecycle_dbd_timeline_refusals_total') >= 1
   && metric($Y, 'lifecycle_dbd_timeline_refusals_total') >= 1,
   'both servers refused it (lifecycle_dbd_timeline_refusals_total)');
ok(scalar(grep { /refusing the database node DBDParams reached: it is on timeline 1, older than timeline 2/ }
          map { split /\n/, $_->log } @servers), 'the error log says why, in one line');
# The old primary stopped again: service comes back on the new one by itself.
pg_sh('stop', $A, 'immediate');
$t0 = time;
sleep 0.1 until put_ws_at($ua, $X, 'fo-after-' . int(rand 1e9))->code == 201 || time - $t0 > 15;
ok(time - $t0 < 15, 'the old primary stopped: service on the new primary again');
