# A full store: creating answers 507 insufficient_storage, nothing
# else breaks, and deleting makes room again.  Fills every free slot of
# LifecycleCapacity 64 and leaves the store exactly as it found it.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET POST PUT);
use LcTest;

shm_only('LifecycleCapacity and 507 are the shared-memory store\'s: a database has no slots to fill');
plan tests => 22;

my $R = ADMIN . '/resources/workstation';
my @made;
my $cleaned;
END { unless ($cleaned) { for my $id (@made, 'cap-over', 'cap-again') { del_ws($id) } } }

my $start = slots();
ok(defined $start->{free} && $start->{free} > 0, "free slots at the start: " . ($start->{free} // 'none'));

# Fill every free slot.
my @codes;
for my $n (1 .. $start->{free}) {
    my $id = sprintf 'cap-%03d', $n;
    my $res = put_ws($id, $n % 2 ? 'running' : 'stopped');
    push @codes, $res->code;
    push @made, $id if $res->code == 201;
}
is_deeply(\@codes, [(201) x $start->{free}], "$start->{free} creates: all 201");
is_deeply(slots(), { used => $start->{used} + $start->{free}, free => 0 }, 'metrics: no free slot left');

# Full: a create is refused, in the admin error shape, and changes nothing.
is_admin_error(put_ws('cap-over', 'running'), 507, 'insufficient_storage', 'create in a full store');
is(req(GET => "$R/cap-over")->code, 404, 'the refused resource does not exist');
is_deeply(slots(), { used => $start->{used} + $start->{free}, free => 0 }, 'metrics unchanged by the 507');

# Nothing else breaks: replace, read, list, transitions.
my $res = put_ws($made[0], 'running', name => 'Replaced in a full store');
is_deeply([$res->code, etag($res), (jbody($res) || {})->{name}], [200, '"2"', 'Replaced in a full store'],
          'replace in a full store: 200');
is_deeply([get_ws($made[0])->code, ws_state($made[0])->[1]], [200, 'running'], 'GET in a full store');
$res = req(GET => "$R?after=cap-&limit=1000");
is_deeply([$res->code, scalar grep { $_->{id} =~ /^cap-/ } @{ (jbody($res) || {})->{resources} || [] }],
          [200, scalar @made], 'list in a full store');
$res = req(POST => WS . "/$made[0]/stop");
is_deeply([$res->code, (jbody($res) || {})->{status}], [200, 'stopped'], 'stop in a full store');
$res = req(POST => WS . "/$made[0]/launch");
is_deeply([$res->code, (jbody($res) || {})->{status}], [200, 'provisioning'], 'launch in a full store');
is(wait_status($made[0], 'running', 3), 'running', 'auto-advance in a full store');

# Delete one: exactly one create fits again.
is(del_ws($made[-1])->code, 204, "delete $made[-1]");
is(put_ws('cap-again', 'stopped')->code, 201, 'create after a delete: 201');
is_admin_error(put_ws('cap-over', 'running'), 507, 'insufficient_storage', 'full again');
is(del_ws('cap-again')->code, 204, 'delete cap-again');
pop @made;

# Empty what this file filled.
@codes = map { del_ws($_)->code } @made;
is_deeply(\@codes, [(204) x @made], 'delete every cap- workstation: all 204');
is(put_ws('cap-again', 'running')->code, 201, 'a create works again once emptied');
is(del_ws('cap-again')->code, 204, 'delete cap-again');
is_deeply(slots(), $start, 'the store is as admin_capacity.t found it');
$cleaned = 1;
