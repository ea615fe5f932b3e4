# A standby takes over (issue 19, SPEC §2c): a primary with a synchronous
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
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use File::Temp ();
use Cwd ();
use POSIX ();
use LcTest ();
use LcServer;

plan skip_all => 'runs against LifecycleStore dbd only (build/suite.sh\'s dbd run)'
    unless LcTest::lc_store() eq 'dbd' && $ENV{LC_PG_DIR};
plan tests => 28;

my $vars = Apache::Test::vars();
my $top  = Cwd::abs_path("$vars->{serverroot}/..");
my $json = JSON::PP->new->canonical;
my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
# A short path: the sockets' names must stay under 107 bytes.
my $pair = File::Temp::tempdir('/tmp/lcfo.XXXXXX');
my ($A, $B) = ("$pair/a", "$pair/b");
my @servers;
$main::PID = $$;
END { if (defined $main::PID && $$ == $main::PID) { $_->stop('TERM') for @servers;
    pg('stop', $_, 'immediate') for $A, $B; system('rm', '-rf', $pair) } }

sub pg { system('bash', "$top/build/pg.sh", @_) == 0 }
sub psql { my ($dir, $sql) = @_;
    my $out = `bash "$top/build/pg.sh" psql "$dir" -qAt -c "$sql" 2>/dev/null`;
    chomp $out; $out }
# diag() does not reach the suite's output: LC_FAILOVER_REPORT=FILE gets the figures too.
sub figure { my $l = shift; diag($l);
    if ($ENV{LC_FAILOVER_REPORT} && open my $fh, '>>', $ENV{LC_FAILOVER_REPORT}) { print $fh "$l\n" } }
sub jb { eval { $json->decode($_[0]->content) } }
sub ws { my ($id, $st) = @_; $json->encode({ id => $id, name => "n-$id", status => $st,
    configuration => { cpuCores => 1, memoryGB => 1, gpu => undef, storageGB => 1, region => 'r' } }) }
sub put_ws { my ($base, $id, $c) = @_;
    ($c || $ua)->request(HTTP::Request->new(PUT => "$base/lifecycle/v1/resources/workstation/$id",
        [ 'Content-Type' => 'application/json' ], ws($id, 'running'))) }
sub metric { my ($base, $name) = @_;
    my ($v) = $ua->get("$base/lifecycle/v1/metrics")->content =~ /^\Q$name\E (\d+)/m; $v // -1 }

# ---- the pair ------------------------------------------------------------------------------
{ local $ENV{PG_OPTS} = '-c fsync=off -c full_page_writes=off -c max_connections=100';
  ok(pg('start', $A) && pg('standby', $B, $A), 'a primary and its streaming standby') or die 'no pair of clusters';
}
pg('syncnames', $A, '*');
my $t0 = time;
sleep 0.2 until psql($A, "SELECT sync_state FROM pg_stat_replication") eq 'sync' || time - $t0 > 30;
is(psql($A, "SELECT sync_state FROM pg_stat_replication"), 'sync', 'the standby is synchronous');

my $params = "host=$A,$B dbname=lifecycle user=lifecycle target_session_attrs=read-write "
           . 'connect_timeout=2';
for my $n ('fo_x', 'fo_y') {
    my $s = LcServer->new($n, dbd => 1, dbd_params => $params, extra => ['LifecycleFeedRetain 0']);
    push @servers, $s;
}
ok(!grep({ !$_->start(60) } @servers), 'two servers on the pair (multi-host DBDParams)');
my ($X, $Y) = map { $_->base } @servers;
is(put_ws($X, 'fo-pre')->code, 201, 'a write through one');
is($ua->get("$Y/workstations/fo-pre")->code, 200, 'is read through the other');

# ---- the standby stopped: 503 within the deadline, reads 200 ------------------------------
pg('stop', $B, 'fast');
$t0 = time;
my $r = put_ws($Y, 'fo-nosb');
my $took = time - $t0;
my $b = jb($r);
ok($r->code == 503 && ref $b eq 'HASH' && ($b->{message} // '') =~ /unknown/,
   'standby stopped: a write answers 503, its outcome unknown') or diag($r->code . ' ' . $r->content);
figure(sprintf('standby stopped: the write answered 503 in %.2f s', $took));
ok($took >= 4.5 && $took < 9, sprintf('within LifecycleDbdTimeout (5 s): %.2f s', $took));
is($ua->get("$X/workstations/fo-pre")->code, 200, 'standby stopped: reads answer 200');
ok(pg('start', $B), 'the standby back');
$t0 = time;
sleep 0.2 until psql($A, "SELECT sync_state FROM pg_stat_replication") eq 'sync' || time - $t0 > 30;
$t0 = time;
sleep 0.2 until put_ws($X, 'fo-sb-back-' . int(rand 1e9))->code == 201 || time - $t0 > 15;
ok(time - $t0 < 15, 'and writes are acknowledged again');

# One resource of each dialect, for the shapes of the 503s.
my $wr = '0b7a4e0e-5a77-4c1e-8d55-3f3e9d0c4a21';
my $nbref = 'fo_user.fo_flow.fo_nb';
my %made = (
    notebook => $ua->request(HTTP::Request->new(PUT => "$X/lifecycle/v1/resources/notebook/fo-nb",
        [ 'Content-Type' => 'application/json' ], $json->encode({
        kind => 'notebook', id => 'fo-nb', name => 'fo nb', qualifiedReference => "$nbref:fnb1",
        referenceId => 'fnb1', owner => { name => 'fo_user' },
        currentJob => { id => 'job-f', kind => 'notebook', status => 'running', errorMessage => undef,
                        startTime => 1700000000000, endTime => undef } })))->code,
    wrapper => $ua->request(HTTP::Request->new(PUT => "$X/lifecycle/v1/resources/wrapper/$wr",
        [ 'Content-Type' => 'application/json' ], $json->encode({
        wrapper_id => $wr, type => 'api', status => 'running' })))->code,
    pipeline => $ua->request(HTTP::Request->new(PUT => "$X/lifecycle/v1/resources/pipeline/fo-pipe",
        [ 'Content-Type' => 'application/json' ], $json->encode({
        name => 'fo-pipe', deployment_status => 'Running' })))->code,
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
my $stop = "$pair/load.stop";
my @kids;
for my $w (0 .. 3) {
    my $base = $w % 2 ? $Y : $X;
    my $pid = fork() // die;
    if ($pid == 0) {
        open my $out, '>', "$pair/load.$w" or POSIX::_exit(1);
        my $c = LWP::UserAgent->new(timeout => 30, keep_alive => 1);
        my $i = 0;
        while (!-e $stop) {
            my $id = "fo-$w-" . $i++;
            my $t1 = time;
            my $r = put_ws($base, $id, $c);
            my $body = $r->code == 503 ? (jb($r) ? 'shape' : 'noshape') : '-';
            syswrite $out, sprintf("%.3f %.3f %d %s %s %s\n", $t1, time, $r->code, $id,
                                   $r->header('Retry-After') // '-', $body);
            sleep 0.02;
        }
        POSIX::_exit(0);
    }
    push @kids, $pid;
}
sleep 2;
my $killed = time;
pg('stop', $A, 'immediate');
sleep 1;
my @bad = grep { my $r = $ua->get("$X$_->[0]"); !($r->code == 503 && $_->[1]->(jb($r))) } @gets;
ok(!@bad, 'primary gone: every dialect answers 503 in its shape')
    or diag('not: ' . join(' ', map { $_->[0] } @bad));
sleep 1;
my $promoted = time;
ok(pg('promote', $B), 'the standby promoted (pg_ctl promote)');
my %back;
while (keys %back < 2 && time - $promoted < 30) {
    for my $base ($X, $Y) {
        next if $back{$base};
        $back{$base} = time - $promoted if put_ws($base, 'fo-back-' . int(rand 1e9))->code == 201;
    }
    sleep 0.05;
}
figure(sprintf('service after the promotion: %s', join(', ', map { sprintf '%.2f s', $_ } values %back)));
# About 1 s measured on an idle machine, 2.2 s on a loaded one: the bound is generous.
ok(keys %back == 2 && !grep({ $_ > 5 } values %back), sprintf('2xx on both servers within 5 s '
   . 'of the promotion, without a restart (%s)', join(', ', map { sprintf '%.2f s', $_ } values %back)));
sleep 2;
open my $sf, '>', $stop or die; close $sf;
waitpid($_, 0) for @kids;

# ---- what the load saw ----------------------------------------------------------------------
my (@acked, @fail, $slow, $noshape, $noretry, $first503, $last503);
for my $w (0 .. 3) {
    open my $in, '<', "$pair/load.$w" or next;
    while (<$in>) {
        my ($t1, $t2, $code, $id, $ra, $shape) = split;
        if ($code =~ /^2/) { push @acked, $id; next }
        push @fail, "$code $id";
        $slow++ if $t2 - $t1 > 8;
        if ($code == 503) {
            $noshape++ if $shape ne 'shape';
            $noretry++ if $ra ne '1';
            $first503 = $t1 if !defined $first503 || $t1 < $first503;
            $last503 = $t2 if !defined $last503 || $t2 > $last503;
        }
    }
}
ok(!grep({ !/^503 / } @fail), 'every failure under load is a 503') or diag(join ', ', grep { !/^503 / } @fail);
ok(!$slow && !$noshape && !$noretry, 'in the admin API\'s shape, with Retry-After, none past '
   . 'the deadline') or diag("slow $slow, no shape $noshape, no Retry-After $noretry");
my $window = defined $last503 ? $last503 - $killed : 0;
figure(sprintf('primary killed under load: %d acknowledged, %d answered 503; 503s from %.2f s to '
     . '%.2f s after the kill; promoted at %.2f s', scalar @acked, scalar @fail,
     ($first503 // $killed) - $killed, $window, $promoted - $killed));

# Every acknowledged create: on the new primary, once in a dense feed.
my %want = map { $_ => 1 } @acked;
my %rows = map { $_ => 1 } split /\n/, psql($B, "SELECT id FROM lc_resources WHERE id LIKE 'fo-_-%'");
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
ok(pg('start', $A), 'the old primary started again by hand (writable, on timeline 1)');
is(psql($A, 'SELECT pg_is_in_recovery()'), 'f', 'it accepts writes');
# Every pooled session on the new primary ends: the next ones find the old one first.
psql($B, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'lifecycle' "
       . "AND pid <> pg_backend_pid() AND backend_type = 'client backend'");
my ($ok, $n503, $slowold) = (0, 0, 0);
for my $i (1 .. 6) {
    for my $base ($X, $Y) {
        my $t1 = time;
        my $code = put_ws($base, "fo-old-$i-" . ($base eq $X ? 'x' : 'y'))->code;
        $slowold++ if time - $t1 > 8;
        $code == 201 ? $ok++ : $code == 503 ? $n503++ : 0;
    }
}
is($ok + $n503, 12, "each write answers 201 or 503 ($ok, $n503)");
ok(!$slowold, 'none waits past the deadline');
# A write there would wait for its synchronous standby, invisible: let such waits end first.
pg('syncnames', $A, '');
$t0 = time;
sleep 0.1 while psql($A, "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'") ne '0'
                && time - $t0 < 30;
is(psql($A, "SELECT count(*) FROM lc_resources WHERE id LIKE 'fo-old-%' OR id LIKE 'fo-back-%'"), '0',
   'nothing is written to the old primary');
ok(metric($X, 'lifecycle_dbd_timeline_refusals_total') >= 1
   && metric($Y, 'lifecycle_dbd_timeline_refusals_total') >= 1,
   'both servers refused it (lifecycle_dbd_timeline_refusals_total)');
ok(scalar(grep { /refusing the database node DBDParams reached: it is on timeline 1, older than timeline 2/ }
          map { split /\n/, $_->log } @servers), 'the error log says why, in one line');
# The old primary stopped again: service comes back on the new one by itself.
pg('stop', $A, 'immediate');
$t0 = time;
sleep 0.1 until put_ws($X, 'fo-after-' . int(rand 1e9))->code == 201 || time - $t0 > 15;
ok(time - $t0 < 15, 'the old primary stopped: service on the new primary again');
