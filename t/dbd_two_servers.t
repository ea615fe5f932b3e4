# Two Apache servers, one state: the Apache::Test server (A) and a
# private one (B: its own Listen, PidFile, DefaultRuntimeDir, ErrorLog) on the
# same PostgreSQL database.  A stop through one is seen through the other at
# once; 32 concurrent stops split 16/16 across both give exactly one winner
# (three rounds); a feed followed on B sees every change made through A, in
# order, none twice, and both serve the same feed; auto-advance moves each
# resource exactly once with both running; B killed with SIGKILL (its whole
# process group) under load on both loses nothing that was acknowledged, and
# A goes on, its background work included.  Runs only in the suite's run
# against LifecycleStore dbd.
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
use LcServer;
use LcClient qw(ver put_ws_at report_at del_ws_at);
use POSIX ();

plan skip_all => 'runs against LifecycleStore dbd only (build/suite.sh\'s dbd run)'
    unless LcTest::lc_store() eq 'dbd';
plan tests => 44;

my $A = 'http://' . Apache::TestRequest::hostport();
my $vars = Apache::Test::vars();
my $json = JSON::PP->new->canonical;
my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 1);

my $B = LcServer->new('two_servers_b', dbd => 1);
my $Bb = $B->base;
END { $B->stop('TERM') if $B }

sub state_of { my ($base, $id) = @_; my $r = $ua->get("$base/workstations/$id");
    my $b = eval { $json->decode($r->content) } || {};
    return [$r->code, $b->{status}, ver($r)] }
sub feed { my ($base, $since, $wait, $limit) = @_;
    my $r = $ua->get("$base/lifecycle/v1/changes?since=$since&wait=" . ($wait // 0)
                     . (defined $limit ? "&limit=$limit" : ''));
    return ($r->code, eval { $json->decode($r->content) } || {}) }
# The feed's head, once the sequencer has numbered what is committed.
sub head_of { my $base = shift; sleep 0.3;
    my $since = 0;
    for (1 .. 1000) {
        my ($c, $b) = feed($base, $since, 0, 1000);
        if ($c == 410) { $since = $b->{oldest_seq} - 1; next }
        return undef unless $c == 200;
        return $b->{last_seq} unless @{ $b->{changes} };
        $since = $b->{last_seq};
    }
    return undef }
# Changes after `since` on `base` until `pred` holds of them (at most `secs`).
sub follow { my ($base, $since, $secs, $pred) = @_;
    my @all; my $t0 = time;
    while (time - $t0 < $secs) {
        my ($c, $b) = feed($base, $since, 1, 1000);
        last unless $c == 200;
        push @all, @{ $b->{changes} };
        $since = $b->{last_seq};
        last if $pred->(\@all);
    }
    return \@all }
sub audit_count { my ($re) = @_; my $n = 0;
    for my $log ("$vars->{t_logs}/error_log", "$B->{dir}/error_log") {
        open my $fh, '<', $log or next; $n += grep { /audit kind=/ && /$re/ } <$fh>; close $fh;
    }
    return $n }

ok($B->start, 'server B starts on the same database') or diag($B->log);
isnt($B->{port}, Apache::TestRequest::hostport() =~ /:(\d+)$/ ? $1 : 0, 'B listens on a port of its own');

# ---- a change through one is seen through the other at once ---------------------------------
{
    is(put_ws_at($ua, $A, 'two-a', 'running')->code, 201, 'create two-a through A');
    is_deeply(state_of($Bb, 'two-a'), [200, 'running', 1], 'B serves it at once');
    my $r = $ua->post("$Bb/workstations/two-a/stop");
    is_deeply([$r->code, (eval { $json->decode($r->content) } || {})->{status}, ver($r)],
              [200, 'stopped', 2], 'stop through B: 200 stopped, version 2');
    is_deeply(state_of($A, 'two-a'), [200, 'stopped', 2], 'A sees the stop at once');
    $r = $ua->post("$A/workstations/two-a/launch");
    is($r->code, 200, 'launch through A');
    is_deeply(state_of($Bb, 'two-a'), [200, 'provisioning', 3], 'B sees the launch at once');
    $r = $ua->post("$Bb/workstations/two-a/launch");
    is($r->code, 400, 'launch again through B: 400, it is provisioning (A\'s change holds)');
    is(del_ws_at($ua, $Bb, 'two-a')->code, 204, 'delete through B');
    is(state_of($A, 'two-a')->[0], 404, 'A: gone at once');
}

# ---- 32 concurrent stops, 16 through each: exactly one winner ---------------------------------
for my $round (1 .. 3) {
    my $id = "two-race-$round";
    put_ws_at($ua, $A, $id, 'running');
    pipe(my $go_r, my $go_w) or die;
    pipe(my $rd, my $wr) or die;
    my @kids;
    for my $k (0 .. 31) {
        my $pid = fork() // die;
        if ($pid == 0) {
            close $go_w; close $rd;
            my $c = LWP::UserAgent->new(timeout => 15, keep_alive => 0);
            my $base = $k % 2 ? $Bb : $A;
            sysread $go_r, my $x, 1;          # returns when the parent closes it
            my $r = $c->post("$base/workstations/$id/stop");
            syswrite $wr, ($k % 2 ? 'B' : 'A') . ' ' . $r->code . "\n";
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    close $go_r; close $wr;
    sleep 0.3;
    close $go_w;                               # go
    my @res = map { chomp; [split ' '] } <$rd>;
    waitpid($_, 0) for @kids;
    my %codes; $codes{$_->[1]}++ for @res;
    my %per; $per{$_->[0]}++ for @res;
    is_deeply([\%codes, \%per], [{ 200 => 1, 400 => 31 }, { A => 16, B => 16 }],
              "round $round: 16 stops through each server: one 200, 31 400");
    is_deeply([state_of($A, $id), state_of($Bb, $id)], [[200, 'stopped', 2], [200, 'stopped', 2]],
              "round $round: stopped, version 2, through both");
    is(audit_count(qr/id="\Q$id\E" from="running" to="stopped"/), 1,
       "round $round: one audit line for the stop, by the server that made it");
    del_ws_at($ua, $A, $id);
}

# ---- the feed on B sees every change made through A, in order, none twice ------------------------
{
    my @ids = map { "two-feed-$_" } 1 .. 12;
    my $h0 = head_of($Bb);
    ok(defined $h0, "B's feed head: " . ($h0 // 'none'));
    # The follower, on B, from h0, until it has seen every acknowledged change.
    pipe(my $frd, my $fwr) or die;
    my $follower = fork() // die;
    if ($follower == 0) {
        close $frd;
        my $c = LWP::UserAgent->new(timeout => 15, keep_alive => 1);
        my ($since, $t0) = ($h0, time);
        while (time - $t0 < 30) {
            my $r = $c->get("$Bb/lifecycle/v1/changes?since=$since&wait=2&limit=1000");
            if ($r->code != 200) { syswrite $fwr, "ERR " . $r->code . "\n"; last }
            my $b = $json->decode($r->content);
            for my $ch (@{ $b->{changes} }) {
                syswrite $fwr, join(' ', 'C', $ch->{seq}, $ch->{op}, $ch->{id}, $ch->{version},
                                     $ch->{resource} ? $ch->{resource}{status} // '-' : '-') . "\n";
            }
            $since = $b->{last_seq};
            last if -e "$vars->{t_logs}/two_feed.stop" && !@{ $b->{changes} };
        }
        POSIX::_exit(0);
    }
    close $fwr;
    unlink "$vars->{t_logs}/two_feed.stop";
    # Four writers through A, three workstations each: create, then reports
    # alternating error/stopped (no auto-advance in those states).
    pipe(my $ard, my $awr) or die;
    my @w;
    for my $k (0 .. 3) {
        my $pid = fork() // die;
        if ($pid == 0) {
            close $ard;
            my $c = LWP::UserAgent->new(timeout => 15, keep_alive => 1);
            my @mine = @ids[$k * 3 .. $k * 3 + 2];
            for my $id (@mine) {
                my $r = put_ws_at($c, $A, $id, 'stopped');
                syswrite $awr, "$id " . ver($r) . " stopped\n" if $r->code == 201;
            }
            for my $n (1 .. 8) {
                for my $id (@mine) {
                    my $st = $n % 2 ? 'error' : 'stopped';
                    my $r = report_at($c, $A, $id, $st);
                    syswrite $awr, "$id " . ver($r) . " $st\n" if $r->code == 200;
                }
            }
            POSIX::_exit(0);
        }
        push @w, $pid;
    }
    close $awr;
    my @acked = map { chomp; [split ' '] } <$ard>;
    waitpid($_, 0) for @w;
    open my $stop, '>', "$vars->{t_logs}/two_feed.stop" or die; close $stop;
    my @seen = map { chomp; [split ' '] } <$frd>;
    waitpid($follower, 0);
    is(scalar @acked, 12 * 9, 'through A: 12 creates and 96 reports acknowledged');
    my @errs = grep { $_->[0] eq 'ERR' } @seen;
    is(scalar @errs, 0, 'the follower on B never got an error') or diag(join ' ', map { @$_ } @errs);
    my @mine = grep { $_->[0] eq 'C' && $_->[3] =~ /^two-feed-/ } @seen;
    my %acked = map { ("$_->[0] $_->[1]" => $_->[2]) } @acked;
    my %seen; $seen{"$_->[3] $_->[4]"}++ for @mine;
    is_deeply([sort keys %seen], [sort keys %acked], 'B\'s feed has every acknowledged change, and no other');
    is(scalar(grep { $_ > 1 } values %seen), 0, 'none twice');
    is(scalar(grep { ($acked{"$_->[3] $_->[4]"} // "") ne $_->[5] } @mine), 0, 'each with the state acknowledged');
    my @seqs = map { $_->[1] } grep { $_->[0] eq 'C' } @seen;
    ok(!grep({ $seqs[$_] != $seqs[$_ - 1] + 1 } 1 .. $#seqs) && (!@seqs || $seqs[0] == $h0 + 1),
       'sequence numbers dense and in order from the head: ' . (@seqs ? "$seqs[0]..$seqs[-1]" : 'none'));
    my %last; my $order = 1;
    for my $c (@mine) { $order = 0 if ($last{$c->[3]} // 0) >= $c->[4]; $last{$c->[3]} = $c->[4] }
    ok($order, 'each resource\'s versions in increasing order');
    # Both servers serve the same feed.
    my (undef, $fa) = feed($A, $h0, 0, 1000);
    my (undef, $fb) = feed($Bb, $h0, 0, 1000);
    is_deeply($fa, $fb, 'A and B serve the same feed from the head, change for change');
    is(scalar @{ $fb->{changes} || [] }, scalar @seqs, 'and it is what the follower saw');
    del_ws_at($ua, $A, $_) for @ids;
}

# ---- auto-advance with both running: each resource moves exactly once ---------------------------
{
    my @ids = map { "two-adv-$_" } 1 .. 40;
    my $made = grep { put_ws_at($ua, $A, $_, 'stopped')->code == 201 } @ids;
    my $launched = 0;
    for my $i (0 .. $#ids) {
        $launched++ if $ua->post(($i % 2 ? $Bb : $A) . "/workstations/$ids[$i]/launch")->code == 200;
    }
    is_deeply([$made, $launched], [40, 40], '40 workstations launched, 20 through each server');
    my $t0 = time;
    my @states;
    while (time - $t0 < 8) {
        @states = map { state_of($A, $_) } @ids;
        last unless grep { ($_->[1] // '') ne 'running' } @states;
        sleep 0.2;
    }
    is(scalar(grep { ($_->[1] // '') eq 'running' } @states), 40, 'all 40 advanced to running');
    is(scalar(grep { $_->[2] == 3 } @states), 40, 'each at version 3: created, launched, advanced once');
    sleep 1;                                      # a second move would show by now
    is(scalar(grep { state_of($Bb, $_)->[2] == 3 } @ids), 40, 'and still version 3, seen through B');
    my %by = (A => 0, B => 0);
    for my $which (['A', "$vars->{t_logs}/error_log"], ['B', "$B->{dir}/error_log"]) {
        open my $fh, '<', $which->[1] or next;
        $by{$which->[0]} += grep { /audit kind=/ && /id="two-adv-\d+" from="provisioning" to="running"/ } <$fh>;
    }
    is($by{A} + $by{B}, 40, "one audit line per advance, by the server that made it (A $by{A}, B $by{B})");
    del_ws_at($ua, $A, $_) for @ids;
}

# ---- B killed with SIGKILL under load on both: nothing acknowledged is lost ------------------------
{
    my @ids = map { "two-kill-$_" } 1 .. 8;
    put_ws_at($ua, $A, $_, 'stopped') for @ids;
    pipe(my $rd, my $wr) or die;
    my @kids;
    for my $k (0 .. 3) {
        my $pid = fork() // die;
        if ($pid == 0) {
            close $rd;
            my $c = LWP::UserAgent->new(timeout => 10, keep_alive => 1);
            my $base = $k % 2 ? $Bb : $A;           # writers 1 and 3 through B
            my @mine = @ids[$k * 2, $k * 2 + 1];
            my $t0 = time;
            while (time - $t0 < 6) {
                for my $id (@mine) {
                    for my $step (sub { $c->post("$base/workstations/$id/launch") },
                                  sub { report_at($c, $base, $id, 'running') },
                                  sub { $c->post("$base/workstations/$id/stop") }) {
                        my $r = $step->();
                        if ($r->is_success) {
                            my $st = eval { $json->decode($r->content)->{status} } // '?';
                            syswrite $wr, "$id " . ver($r) . " $st\n";
                        }
                        elsif ($base eq $Bb && ($r->header('Client-Warning') // '') eq 'Internal response') {
                            POSIX::_exit(0);        # B is gone
                        }
                    }
                }
            }
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    close $wr;
    my (%acked, $n);
    my $t0 = time;
    while (my $line = <$rd>) {
        my ($id, $v, $st) = split ' ', $line;
        $acked{$id} = [$v, $st] if !$acked{$id} || $v > $acked{$id}[0];
        last if ++$n >= 150 || time - $t0 > 4;
    }
    my $pid = $B->pid;
    ok($B->stop('KILL'), "B killed with SIGKILL, every process of it, after $n acknowledged changes");
    while (my $line = <$rd>) {                 # acknowledgements in flight count too
        my ($id, $v, $st) = split ' ', $line;
        $acked{$id} = [$v, $st] if !$acked{$id} || $v > $acked{$id}[0];
        $n++;
    }
    waitpid($_, 0) for @kids;
    my ($lost, $broken) = (0, 0);
    for my $id (@ids) {
        my $s = state_of($A, $id);
        my ($v, $st) = @{ $acked{$id} // [1, 'stopped'] };
        $broken++ unless $s->[0] == 200 && ($s->[1] // '') =~ /^(stopped|running|provisioning)$/;
        if ($s->[2] < $v || ($s->[2] == $v && ($s->[1] // '') ne $st)) {
            $lost++;
            diag("$id: acknowledged v$v $st, A serves v$s->[2] " . ($s->[1] // '?'));
        }
    }
    is($lost, 0, "no acknowledged change lost ($n acknowledged, through both)");
    is($broken, 0, 'every resource whole, in a state its table allows');
    # B's connections died with it: nothing it held blocks A.
    my $ok = 0;
    for my $id (@ids) {
        my $s = state_of($A, $id);
        my $st = $s->[1] // '';
        my $r = $st eq 'running' ? $ua->post("$A/workstations/$id/stop")
              : $st eq 'stopped' ? $ua->post("$A/workstations/$id/launch")
              : report_at($ua, $A, $id, 'running');
        $ok++ if $r->code == 200;
    }
    is($ok, 8, 'A changes each of them at once: no lock of B\'s is left');
    my $id = $ids[0];
    report_at($ua, $A, $id, 'stopped') if (state_of($A, $id)->[1] // '') ne 'stopped';
    is($ua->post("$A/workstations/$id/launch")->code, 200, 'launch through A after B died');
    my $t1 = time; my $st = '';
    while (time - $t1 < 3) { $st = state_of($A, $id)->[1] // ''; last if $st eq 'running'; sleep 0.1 }
    is($st, 'running', 'A\'s background work advances it alone');
    ok($B->start, 'B starts again on the same database');
    is_deeply(state_of($Bb, $id), state_of($A, $id), 'and serves the same state as A');
    del_ws_at($ua, $A, $_) for @ids;
}
ok($B->stop('TERM'), 'B stops cleanly');
undef $B;
