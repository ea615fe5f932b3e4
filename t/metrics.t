# GET /lifecycle/v1/metrics: Prometheus text whose counters move with what
# the server does, whichever child did it.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use LcAuth qw(lc_mint);

# The shared-memory store's own gauges (slots, attribute memory, its mutex,
# its journal) are not there under LifecycleStore dbd; the request,
# transition and token counters are the same whatever the store.
my $shm = ($ENV{LC_STORE} // '') ne 'dbd';
my $why = 'LifecycleStore dbd: slots, attribute memory, the store mutex and the journal are the shared-memory store\'s';

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 30);
my $json = JSON::PP->new;

sub metrics { my $r = $ua->get("$base/lifecycle/v1/metrics");
    my %m;
    for (split /\n/, $r->content) { $m{$1} = $2 if /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/ }
    return ($r, \%m) }

my ($r, $m0) = metrics();
is($r->code, 200, 'metrics: 200');
is($r->header('Content-Type'), 'text/plain; version=0.0.4; charset=utf-8', 'Prometheus text');
my @shm_names = ('lifecycle_store_slots{state="used"}', 'lifecycle_store_slots{state="free"}',
              'lifecycle_store_repairs_total', 'lifecycle_mutex_acquisitions_total',
              'lifecycle_mutex_wait_seconds_total', 'lifecycle_mutex_hold_seconds_total',
              'lifecycle_journal_flushes_total',
              'lifecycle_journal_bytes_total', 'lifecycle_journal_durable_seq',
              'lifecycle_attribute_memory_bytes{state="used"}',
              'lifecycle_attribute_memory_bytes{state="free"}',
              'lifecycle_attribute_memory_bytes{state="unused"}');
for my $name ('lifecycle_requests_total{dialect="workstation",outcome="404"}',
              'lifecycle_transitions_total{kind="workstation",by="request"}',
              'lifecycle_transitions_total{kind="workstation",by="background"}',
              'lifecycle_token_refusals_total{reason="expired"}',
              'lifecycle_token_refusals_total{reason="insufficient_scope"}') {
    ok(defined $m0->{$name}, "has $name");
}
SKIP: {
    skip $why, scalar @shm_names unless $shm;
    ok(defined $m0->{$_}, "has $_") for @shm_names;
}

# One of each, then the counters.
$ua->get("$base/workstations/met-none");                                    # 404
$ua->request(HTTP::Request->new(PUT => "$base/lifecycle/v1/resources/workstation/met-a",
    [ 'Content-Type' => 'application/json' ],
    $json->encode({ id => 'met-a', name => 'm', status => 'running',
        configuration => { cpuCores => 1, memoryGB => 1, gpu => undef, storageGB => 1, region => 'r' } })));
$ua->post("$base/workstations/met-a/stop");                                   # transition
$ua->post("$base/workstations/met-a/launch");                                 # transition (+ background)
my $expired = lc_mint(scope => 'workstations.read', now => time - 500, ttl => 100);
$ua->get("$base/workstations/met-a", Authorization => "Bearer $expired");    # refused: expired
$ua->get("$base/workstations/met-a", Authorization => 'Bearer ' . lc_mint(scope => 'agents.read'));
sleep 1;                                                                      # auto-advance: 300 ms
my (undef, $m1) = metrics();
sub delta { ($m1->{$_[0]} // 0) - ($m0->{$_[0]} // 0) }
is(delta('lifecycle_requests_total{dialect="workstation",outcome="404"}'), 1, 'a 404 counted');
is(delta('lifecycle_requests_total{dialect="workstation",outcome="401"}'), 1, 'a 401 counted');
is(delta('lifecycle_requests_total{dialect="workstation",outcome="403"}'), 1, 'a 403 counted');
is(delta('lifecycle_transitions_total{kind="workstation",by="request"}'), 3,
   'create, stop and launch counted as transitions');
is(delta('lifecycle_transitions_total{kind="workstation",by="background"}'), 1,
   'the auto-advance to running counted');
is(delta('lifecycle_token_refusals_total{reason="expired"}'), 1, 'the expired token counted');
is(delta('lifecycle_token_refusals_total{reason="insufficient_scope"}'), 1, 'the wrong scope counted');
SKIP: {
skip $why, 7 unless $shm;
is(delta('lifecycle_store_slots{state="used"}'), 1, 'one more slot used');
is($m1->{'lifecycle_attribute_memory_bytes{state="used"}'}
   + $m1->{'lifecycle_attribute_memory_bytes{state="free"}'}
   + $m1->{'lifecycle_attribute_memory_bytes{state="unused"}'}, 4 << 20,
   'attribute memory: the default for 64 slots (4 MiB), every byte accounted for');
ok(delta('lifecycle_attribute_memory_bytes{state="used"}') > 0, 'the new workstation took a block');
ok(scalar(grep { /^lifecycle_attribute_blocks\{size="\d+",state="used"\}$/ && $m1->{$_} > 0 } keys %$m1),
   'blocks in use are reported by size class');
ok(delta('lifecycle_mutex_acquisitions_total') >= 3, 'the store mutex was taken');
ok(delta('lifecycle_mutex_hold_seconds_total') >= 0, 'its hold time is a counter');
ok(delta('lifecycle_journal_durable_seq') >= 4, 'four changes reached the disk');
ok(delta('lifecycle_journal_flushes_total') >= 1, 'with at least one flush');
}
$ua->request(HTTP::Request->new(DELETE => "$base/lifecycle/v1/resources/workstation/met-a"));
done_testing();
