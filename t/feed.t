# The change feed returns exactly the changes, in order; it long-polls; it
# answers 410 once its start is no longer retained.  Runner reports move state.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use FindBin ();
use lib "$FindBin::Bin/lib";
use LcTest ();
use LcClient qw(call ws_json);

my $base = 'http://' . Apache::TestRequest::hostport();
my $ua = LWP::UserAgent->new(timeout => 90);
my $json = JSON::PP->new->canonical;

sub req { call($ua, $base, @_) }    # (METHOD, PATH, BODY text, HEADERS...)
sub jget { my $r = req(GET => shift); return ($r->code, eval { $json->decode($r->content) }) }
my $dbd = LcTest::lc_store() eq 'dbd';
# Under dbd a committed change gets its sequence number from the sequencer,
# every LifecycleFeedPoll (50 ms here): let the changes of the files before
# this one be numbered before the head is read.
sub last_seq { sleep 0.5 if $dbd; LcTest::feed_head() // -1 }
# The changes after `since` until `n` are seen (at most `secs`): one read on
# shm, where a change is in the feed before its 2xx; a few under dbd.
sub changes_upto { my ($since, $n, $secs) = @_;
    my ($c, $b, @all);
    my $t0 = time;
    while (1) {
        ($c, $b) = jget("/lifecycle/v1/changes?since=$since&wait=1");
        last unless $c == 200;
        push @all, @{ $b->{changes} };
        $since = $b->{last_seq};
        last if @all >= $n || time - $t0 > $secs;
    }
    return ($c, { changes => \@all, last_seq => $since }) }

# ---- exactly the changes, in order -------------------------------------------------
my $s0 = last_seq();
ok($s0 >= 0, "the journal is at $s0");
my ($c, $b) = jget("/lifecycle/v1/changes?since=$s0&wait=0");
is($c, 200, 'nothing new: 200');
is_deeply($b, { changes => [], last_seq => $s0 + 0 }, 'nothing new: no changes, last_seq = since');

is(req(PUT => '/lifecycle/v1/resources/workstation/feed-a', ws_json('feed-a', 'running'))->code, 201, 'create');
is(req(POST => '/workstations/feed-a/stop')->code, 200, 'transition');
my $rep = req(POST => '/lifecycle/v1/resources/workstation/feed-a/report', '{"status":"error"}');
is($rep->code, 200, 'runner report: 200');
is($json->decode($rep->content)->{status}, 'error', 'the report moved it to error');
is($rep->header('ETag'), '"3"', 'a report is a new version');
is(req(PUT => '/lifecycle/v1/resources/workstation/feed-a', ws_json('feed-a', 'stopped'))->code, 200, 'replace');
is(req(DELETE => '/lifecycle/v1/resources/workstation/feed-a')->code, 204, 'delete');

($c, $b) = $dbd ? changes_upto($s0, 5, 3) : jget("/lifecycle/v1/changes?since=$s0&wait=0");
is($c, 200, 'the feed answers');
my @ch = @{ $b->{changes} };
is(scalar @ch, 5, 'exactly five changes');
is_deeply([ map { $_->{op} } @ch ], [qw(create transition report replace delete)], 'ops in order');
is_deeply([ map { $_->{seq} } @ch ], [ map { $s0 + $_ } 1 .. 5 ], 'consecutive sequence numbers');
is_deeply([ map { $_->{version} } @ch ], [1, 2, 3, 4, 4], 'versions');
ok(!grep({ $_->{kind} ne 'workstation' || $_->{id} ne 'feed-a' } @ch), 'kind and id on each');
is($ch[1]{resource}{status}, 'stopped', 'the resource after the transition');
is($ch[0]{resource}{name}, 'n-feed-a', 'the create carries the representation');
ok(exists $ch[4]{resource} && !defined $ch[4]{resource}, 'resource is null after delete');
is($b->{last_seq}, $s0 + 5, 'last_seq is the last change');
($c, $b) = jget('/lifecycle/v1/changes?since=' . ($s0 + 3) . '&wait=0&limit=1');
is_deeply([ map { $_->{seq} } @{ $b->{changes} } ], [$s0 + 4], 'since and limit page through');

# ---- long-polling -------------------------------------------------------------
my $s1 = $s0 + 5;
my $t0 = time;
my $pid = fork() // die;
if ($pid == 0) {
    sleep 1.0;
    req(PUT => '/lifecycle/v1/resources/workstation/feed-b', ws_json('feed-b', 'stopped'));
    exit 0;
}
($c, $b) = jget("/lifecycle/v1/changes?since=$s1&wait=10");
my $took = time - $t0;
waitpid($pid, 0);
is($c, 200, 'long-poll answers');
is(scalar @{ $b->{changes} }, 1, 'with the change made while it waited');
ok($took > 0.8 && $took < 5, sprintf('it waited for it (%.1f s)', $took));
$t0 = time;
($c, $b) = jget('/lifecycle/v1/changes?since=' . ($s1 + 1) . '&wait=2');
$took = time - $t0;
ok($c == 200 && !@{ $b->{changes} } && $took >= 1.9 && $took < 5,
   sprintf('with nothing new it gives up after wait=2 (%.1f s)', $took));

# ---- bad input ------------------------------------------------------------------------
for my $q ('wait=61', 'wait=-1', 'since=abc', 'since=', 'limit=0', 'limit=1001', 'frobnicate=1',
           'since=1&since=2') {
    my ($code, $e) = jget("/lifecycle/v1/changes?$q");
    ok($code == 400 && $e->{error} eq 'invalid_request', "?$q -> 400");
}
is(req(POST => '/lifecycle/v1/changes')->code, 405, 'POST /changes -> 405');
my $id = 'feed-b';
for my $bad (['{"status":"flying"}', 'status'], ['{"status":"running","x":1}', 'x'],
             ['{}', 'status'], ['nope', 'malformed'], ['[]', 'object']) {
    my $r = req(POST => "/lifecycle/v1/resources/workstation/$id/report", $bad->[0]);
    my $e = eval { $json->decode($r->content) } || {};
    ok($r->code == 400 && $e->{error} eq 'invalid_request' && $e->{message} =~ /\Q$bad->[1]\E/i,
       "report $bad->[0] -> 400 naming $bad->[1]") or diag($r->content);
}
is(req(POST => '/lifecycle/v1/resources/workstation/feed-nope/report', '{"status":"running"}')->code,
   404, 'report on an unknown id -> 404');
is(req(POST => "/lifecycle/v1/resources/workstation/$id/report", '{"status":"running"}',
       'If-Match' => '"99"')->code, 412, 'report with a stale If-Match -> 412');
my (undef, $still) = jget("/lifecycle/v1/resources/workstation/$id");
is($still->{status}, 'stopped', 'and none of those changed anything');
is(req(POST => "/lifecycle/v1/resources/workstation/$id/report", '{"status":"stopped"}')
   ->header('ETag'), '"1"', 'reporting the state it has changes nothing');

# ---- 410 once the start is pruned ------------------------------------------------------
my ($r, $g);
if (!$dbd) {
    # Snapshots run every 2 s (t/conf/extra.conf.in) when something changed; after
    # three, the segments before the older kept snapshot are removed.
    for my $round (1 .. 4) {
        req(POST => "/lifecycle/v1/resources/workstation/$id/report",
            $json->encode({ status => $round % 2 ? 'error' : 'stopped' }));
        sleep 2.6;
    }
    my $m = req(GET => '/lifecycle/v1/metrics')->content;
    like($m, qr/^lifecycle_journal_snapshot_seq [1-9]\d*$/m, 'snapshots were taken');
    $r = req(GET => '/lifecycle/v1/changes?since=0&wait=0');
    $g = eval { $json->decode($r->content) } || {};
}
else {
    # LifecycleFeedRetain 200 (t/conf/extra.conf.in): changes in batches of
    # 100 (at most 3000) until since=0 is gone: the backend may drop what it
    # no longer keeps lazily, in steps, but never one of the last 200.
    my ($ok, $made) = (0, 0);
    while ($made < 3000) {
        for (1 .. 100) {
            $ok++ if req(POST => "/lifecycle/v1/resources/workstation/$id/report",
                         $json->encode({ status => ++$made % 2 ? 'error' : 'stopped' }))->code == 200;
        }
        sleep 0.2;
        $r = req(GET => '/lifecycle/v1/changes?since=0&wait=0');
        last if $r->code != 200;
    }
    $g = eval { $json->decode($r->content) } || {};
    my $head = last_seq();
    ok($ok == $made && defined $g->{oldest_seq} && $g->{oldest_seq} <= $head - 200 + 1,
       "$made reports acknowledged; the last 200 changes (LifecycleFeedRetain) are retained: oldest_seq "
       . ($g->{oldest_seq} // '?') . ", head $head");
}
is($r->code, 410, 'since=0 after pruning -> 410');
is($g->{error}, 'gone', 'error gone');
ok(($g->{oldest_seq} // 0) > 1 && $g->{message}, 'oldest_seq ' . ($g->{oldest_seq} // 'none') . ' and a message');
($c, $b) = jget('/lifecycle/v1/changes?since=' . (($g->{oldest_seq} // 1) - 1) . '&wait=0');
is($c, 200, 'since = oldest_seq - 1 is served');
is($b->{changes}[0]{seq}, $g->{oldest_seq}, 'starting at oldest_seq');

req(DELETE => "/lifecycle/v1/resources/workstation/$_") for qw(feed-a feed-b);
done_testing();
