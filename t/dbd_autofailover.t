# pg_auto_failover does the promotion (conf/HA.md): a
# formation of build/pg-ha.sh (a monitor, two nodes, one synchronous
# standby, the monitor's health checks tuned), two private Apache servers on
# it through multi-host DBDParams.  The primary killed under load (its
# keeper and PostgreSQL, SIGKILL): every request answered within the
# deadline, 503s in the admin API's shape with Retry-After, writes back on
# both servers once the monitor promoted the standby, without a restart;
# every acknowledged create on the new primary, once in a dense feed.
# Prints the 503 window and the lost count.  About a minute (the formation
# takes ~40 s to make).  Runs only in the dbd run, when pg_autoctl is there
# (build/deps.sh test installs it).
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use LWP::UserAgent ();
use Time::HiRes qw(sleep time);
use File::Temp ();
use IO::Socket::INET ();
use LcTest ();
use LcServer;
use LcClient qw(jb put_ws_at);
use LcPg qw(repo_top figure load_start load_stop load_read writes_back);

LcTest::dbd_only();
plan skip_all => 'no pg_autoctl (build/deps.sh test installs pg-auto-failover-cli)'
    unless grep { -x "$_/pg_autoctl" } split /:/, $ENV{PATH};
plan tests => 9;

my $top  = repo_top();
my $ua = LWP::UserAgent->new(timeout => 30, keep_alive => 0);
my $dir = File::Temp::tempdir('/tmp/lcaf.XXXXXX');
# Three free ports in a row (monitor, node 1, node 2), below the ephemeral range.
sub free3 { for (1 .. 100) { my $p = 21000 + int(rand(9000));
    return $p unless grep { IO::Socket::INET->new(PeerAddr => "127.0.0.1:$_", Timeout => 1) }
                          $p .. $p + 2 } 21000 }
$ENV{PG_HA_PORT} = free3();
my @servers;
$main::PID = $$;
END { if (defined $main::PID && $$ == $main::PID) { $_->stop('TERM') for @servers; ha('stop'); system('rm', '-rf', $dir) } }

sub ha { system('bash', "$top/build/pg-ha.sh", $_[0], $dir, @_[1 .. $#_]) == 0 }

my $t0 = time;
my $params = `bash "$top/build/pg-ha.sh" start "$dir" 2>"$dir/start.err"`;
chomp $params;
ok($params =~ /target_session_attrs=read-write/, sprintf('a pg_auto_failover formation (%.0f s)',
   time - $t0)) or diag(`tail -n 20 "$dir/create.log" "$dir/start.err"`);
my $prim = `bash "$top/build/pg-ha.sh" primary "$dir"`;
my ($pn) = $prim =~ /node(\d)$/;
ok($pn, "node $pn is the primary") or diag(`bash "$top/build/pg-ha.sh" state "$dir"`);
$pn //= 1;

for my $n ('af_x', 'af_y') {
    push @servers, LcServer->new($n, dbd => 1, dbd_params => $params,
                                 extra => ['LifecycleFeedRetain 0']);
}
ok(!grep({ !$_->start(60) } @servers), 'two servers on it');
my ($X, $Y) = map { $_->base } @servers;
is(put_ws_at($ua, $X, 'af-pre')->code, 201, 'a write is acknowledged');

# A 503 of the load has its shape when it is the admin API's {"error":"unavailable","message"}.
my @kids = load_start($dir, 'af', [$X, $Y], sub { my $b = jb($_[0]);
    ref $b eq 'HASH' && join(',', sort keys %$b) eq 'error,message' && $b->{error} eq 'unavailable' });
sleep 2;
my $killed = time;
ha('kill', $pn);
# Service: a write acknowledged by each server after the kill.
my %back = %{ writes_back($ua, [$X, $Y], $killed, 90, 0.1, 'af-back') };
ok(keys %back == 2, 'writes acknowledged on both servers after the promotion, without a restart');
figure(sprintf('pg_auto_failover: writes again %s after the primary was killed',
               join(', ', map { sprintf '%.2f s', $_ } sort values %back)));
sleep 1;
load_stop($dir, @kids);

my $load = load_read($dir);
my @acked = @{ $load->{acked} };
my @fail  = @{ $load->{fail} };
my ($slow, $noshape, $noretry, $last503) = @$load{qw(slow noshape noretry last503)};
ok(!grep({ !/^503 / } @fail), 'every failure under load is a 503') or diag(join ', ', grep { !/^503 / } @fail);
ok(!$slow && !$noshape && !$noretry, 'in the admin API\'s shape, with Retry-After, none past the '
   . 'deadline') or diag(sprintf 'slow %d, no shape %d, no Retry-After %d', $slow // 0,
                          $noshape // 0, $noretry // 0);
figure(sprintf('pg_auto_failover: %d acknowledged, %d answered 503, the last 503 %.2f s after the '
       . 'kill', scalar @acked, scalar @fail, defined $last503 ? $last503 - $killed : 0));

my $other = $pn == 1 ? 2 : 1;
my %rows = map { $_ => 1 } split /\n/,
    `bash "$top/build/pg-ha.sh" psql "$dir" $other -qAt -c "SELECT id FROM lc_resources WHERE id LIKE 'af-_-%'"`;
my $lost = grep { !$rows{$_} } @acked;
is($lost, 0, sprintf('every acknowledged create is on the new primary (lost %d of %d)', $lost,
                     scalar @acked));
figure("pg_auto_failover: lost count $lost");
# Dense, with one 410 where the new timeline's block starts (2^40 + 1).
my %seen; my ($dense, $since, $twice, $jumps) = (1, 0, 0, 0);
$t0 = time;
while (time - $t0 < 30) {
    my $fr = $ua->get("$X/lifecycle/v1/changes?since=$since&wait=1&limit=1000");
    my $fb = jb($fr) or last;
    if ($fr->code == 410 && !$jumps++ && $fb->{oldest_seq} == 2**40 + 1) {
        $since = $fb->{oldest_seq} - 1; next }
    last unless $fr->code == 200;
    for my $ch (@{ $fb->{changes} }) {
        $dense = 0 if $ch->{seq} != $since + 1;
        $since = $ch->{seq};
        $twice++ if $ch->{id} =~ /^af-\d-/ && $seen{$ch->{id}}++;
    }
    last if !grep { !$seen{$_} } @acked;
}
ok($dense && $jumps == 1 && !$twice && !grep({ !$seen{$_} } @acked),
   "each once in the feed, dense but for the new timeline's block (..$since)")
    or diag(scalar(grep { !$seen{$_} } @acked) . " missing, $twice twice, dense $dense");
