# mod_status: /server-status has a lifecycle section, and ?auto the same as
# "Lifecycle<Key>: value" lines (lc_status.c).  t/conf/extra.conf.in loads
# mod_status and mounts /server-status.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LWP::UserAgent ();
use LcAuth qw(lc_mint);
use LcTest ();
use LcClient qw(status_auto);
use List::Util qw(sum0);

# Its figures are the shm store's (slots, journal, mutex); under dbd the
# section reports FeedSeq instead (t/status_dbd.t).
LcTest::shm_only('the section checked here is the shared-memory store\'s');

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 30);

# Every state of every kind, in the kinds' own order (lc_kind_*.c): the
# section lists them all, zeros included, so ?auto always has the same keys.
my @kinds = (
    [notebook    => qw(none queued running completed failed cancelled)],
    [agent       => qw(active closed)],
    [workstation => qw(stopped running provisioning error)],
    [wrapper     => qw(idle running stopped completed failed)],
    [pipeline    => qw(Stopped Provisioning Initializing Paused Running Unavailable Suspended
                       Stopping Standby AwaitingApproval Bootstrapping Replaying)],
    [session     => qw(active closed error timed_out)],
);
my @reasons = qw(missing malformed too_long unsupported unknown_kid bad_signature expired
                 not_yet_valid no_exp wrong_issuer wrong_audience no_key insufficient_scope other);
my @keys = (qw(Store SlotsUsed SlotsFree JournalSeq JournalSnapshotSeq JournalFlushes
               JournalFlushesPerSec JournalFlushRateSeconds MutexAcquisitions MutexWaitSeconds
               MutexHoldSeconds Resources),
            (map { my ($k, @s) = @$_; map { "Resources.$k.$_" } @s } @kinds),
            'TokenRefusals', (map { "TokenRefusals.$_" } @reasons), 'WatchersOpen');

sub metrics {
    my %m;
    for (split /\n/, $ua->get("$base/lifecycle/v1/metrics")->content) {
        $m{$1} = $2 if /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/;
    }
    return \%m;
}

my ($r, $lines, $v0) = status_auto($ua, $base);
note $r->content;
is($r->code, 200, '?auto: 200');
like($r->header('Content-Type'), qr{^text/plain}, '?auto is plain text');
like($r->content, qr/^Scoreboard: /m, "mod_status's own lines come first");
is_deeply([map { /^Lifecycle([^:]+): / ? $1 : "bad line: $_" } @$lines], \@keys,
          'the section has exactly these keys, in this order');
ok(!grep({ !/^Lifecycle[A-Za-z_.]+: \S+$/ } @$lines), 'every line is "Key: value"');
is($v0->{Store}, 'shm', 'the store is shm');
is($v0->{SlotsUsed} + $v0->{SlotsFree}, 64, 'slots used + free = LifecycleCapacity 64');
is($v0->{Resources}, $v0->{SlotsUsed}, 'resources counted = slots used');
is(sum0(map { $v0->{$_} } grep { /^Resources\./ } keys %$v0), $v0->{Resources},
   'the states add up to the total');
is($v0->{TokenRefusals}, sum0(map { $v0->{$_} } grep { /^TokenRefusals\./ } keys %$v0),
   'the reasons add up to the refusals');
like($v0->{MutexWaitSeconds}, qr/^\d+\.\d{6}$/, 'mutex wait in seconds, to the microsecond');
like($v0->{MutexHoldSeconds}, qr/^\d+\.\d{6}$/, 'mutex hold in seconds, to the microsecond');
like($v0->{JournalFlushesPerSec}, qr/^\d+\.\d\d$/, 'flush rate: a rate');
# The window is the last two 10 s windows somebody looked in, or, before
# that, the child's whole life: never longer than the server has been up
# since its last (graceful) restart.
my ($uptime) = $r->content =~ /^ServerUptimeSeconds: (\d+)$/m;
ok($v0->{JournalFlushRateSeconds} > 0
   && $v0->{JournalFlushRateSeconds} <= ($uptime // 0) + 1,
   'flush rate: measured over at most the child\'s life')
    or diag "$v0->{JournalFlushRateSeconds} s, server up $uptime s";
ok($v0->{JournalSnapshotSeq} <= $v0->{JournalSeq}, 'the snapshot is not ahead of the journal');
ok(!grep({ /^LifecycleFeedSeq/ } @$lines),
   'no dbd line');

# The same figures as /lifecycle/v1/metrics, nothing moving in between.
my $m = metrics();
is($v0->{SlotsUsed}, $m->{'lifecycle_store_slots{state="used"}'}, 'slots used as in /metrics');
is($v0->{JournalFlushes}, $m->{lifecycle_journal_flushes_total}, 'flushes as in /metrics');
is($v0->{'TokenRefusals.expired'}, $m->{'lifecycle_token_refusals_total{reason="expired"}'},
   'refusals as in /metrics');

# A running workstation, a stopped one, an expired token: the figures move.
for my $w (['st-run', 'running'], ['st-stop', 'stopped']) {
    my $put = LcTest::put_ws(@$w);
    ok($put->is_success, "admin PUT $w->[0]") or diag $put->status_line, $put->content;
}
my $expired = lc_mint(scope => 'workstations.read', now => time - 500, ttl => 100);
$ua->get("$base/workstations/st-run", Authorization => "Bearer $expired");
my (undef, undef, $v1) = status_auto($ua, $base);
sub delta { $v1->{$_[0]} - $v0->{$_[0]} }
is(delta('SlotsUsed'), 2, 'two slots more');
is(delta('SlotsFree'), -2, 'two slots fewer free');
is(delta('Resources'), 2, 'two resources more');
is(delta('Resources.workstation.running'), 1, 'one more running workstation');
is(delta('Resources.workstation.stopped'), 1, 'one more stopped workstation');
is(delta('TokenRefusals.expired'), 1, 'the expired token counted');
is(delta('TokenRefusals'), 1, 'one refusal in all');
ok(delta('JournalSeq') >= 2, 'the journal has the two changes on disk');
ok(delta('JournalFlushes') >= 1, 'with at least one flush');
ok(delta('MutexAcquisitions') >= 2, 'the store mutex was taken');

# The HTML page: the same figures, one <dt> line per ?auto key.
$r = $ua->get("$base/server-status");
is($r->code, 200, 'HTML: 200');
my ($section) = $r->content =~ m{<hr />\n<h2>Lifecycle</h2>\n<dl>\n(.*?)</dl>\n}s;
ok(defined $section, 'HTML: a Lifecycle section') or diag $r->content;
note $section;
my @dt = split /\n/, $section // '';
is(scalar(@dt), scalar(@keys), 'HTML: one line per ?auto key');
ok(!grep({ !m{^<dt>[^<>]+: [^<>]+</dt>$} } @dt), 'HTML: every line is <dt>label: value</dt>');
is($dt[0], '<dt>Store: shm</dt>', 'HTML: the store');
my (undef, undef, $v2) = status_auto($ua, $base);
ok(scalar(grep { $_ eq "<dt>Resources workstation running: $v2->{'Resources.workstation.running'}</dt>" } @dt),
   'HTML: running workstations');
ok(scalar(grep { $_ eq "<dt>Resource slots used: $v2->{SlotsUsed}</dt>" } @dt), 'HTML: slots used');
ok(scalar(grep { $_ eq "<dt>Token refusals: expired: $v2->{'TokenRefusals.expired'}</dt>" } @dt),
   'HTML: expired tokens');

LcTest::del_ws($_) for qw(st-run st-stop);
done_testing();
