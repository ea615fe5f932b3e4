# mod_status under LifecycleStore dbd: the Lifecycle section shows the
# store, the feed's last number and every state of every kind, counted by
# the database in one statement (lc_store_dbd.c's count; t/status.t checks
# the shared-memory store's section).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LWP::UserAgent ();
use LcTest ();
use LcClient qw(status_auto);
use List::Util qw(sum0);

plan(skip_all => 'LifecycleStore shm: t/status.t checks its section')
    if LcTest::lc_store() ne 'dbd';

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 30);

my ($r, $lines, $v0) = status_auto($ua, $base);
is($r->code, 200, '?auto: 200');
is($lines->[0], 'LifecycleStore: dbd', 'the store comes first: dbd');
like($v0->{FeedSeq}, qr/^\d+$/, 'the feed\'s last number');
ok(!grep({ /^Lifecycle(Slots|Journal|Mutex)/ } @$lines), 'no shared-memory line');
like($v0->{Resources}, qr/^\d+$/, 'resources counted');
is(sum0(map { $v0->{$_} } grep { /^Resources\./ } keys %$v0), $v0->{Resources},
   'the states add up to the total');
is(scalar(grep { /^Resources\.workstation\./ } keys %$v0), 4, 'every workstation state listed');

for my $w ([ 'sd-run', 'running' ], [ 'sd-stop', 'stopped' ]) {
    my $put = LcTest::put_ws(@$w);
    is($put->code, 201, "admin PUT $w->[0]: 201") or diag $put->content;
}
my (undef, undef, $v1) = status_auto($ua, $base);
sub delta { $v1->{$_[0]} - $v0->{$_[0]} }
is(delta('Resources'), 2, 'two resources more');
is(delta('Resources.workstation.stopped'), 1, 'one more stopped workstation');
is(sum0(map { delta("Resources.workstation.$_") } qw(stopped running provisioning error)), 2,
   'two more workstations');

$r = $ua->get("$base/server-status");
my ($section) = $r->content =~ m{<h2>Lifecycle</h2>\n<dl>\n(.*?)</dl>\n}s;
ok(defined $section && $section =~ m{^<dt>Store: dbd</dt>$}m, 'HTML: the store');
ok(defined $section && $section =~ m{^<dt>Resources: \d+</dt>$}m, 'HTML: the resources');

LcTest::del_ws($_) for qw(sd-run sd-stop);
done_testing();
