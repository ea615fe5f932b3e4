# A Notte session's max_duration_minutes and idle_timeout_minutes,
# enforced by the background task: the session ends as the SDK models a
# timed-out session (types.py SessionResponse.status "timed_out", closed_at
# set) and its active agents are closed.  What counts as activity is in
# mod_lifecycle/dialects/notte/lc_notte_timeout.c: starting the session, starting an agent
# in it (the idle clock stops while the agent runs), stopping one of its
# agents (the clock starts again).
#
# The SDK takes whole minutes (SessionStartRequest: int, gt=0), so this file
# runs a private server (t/lib/LcServer.pm) whose LifecycleNotteMinute is
# 2 s: a minute-scale timeout is then seconds, and nothing here depends on a
# race.  Each deadline is asserted from the server's own timestamps
# (created_at, closed_at), never from how long the test slept; only "not yet
# timed out" depends on the clock, and is skipped when the machine was too
# slow for it to hold.  Under LifecycleStore dbd the private server shares
# the database with the Apache::Test server: both run the background task,
# and each timeout happens once (one audit line across both logs).
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use LWP::UserAgent ();
use HTTP::Request ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use Time::Local ();
use LcTest ();
use LcServer;

plan tests => 29;

my $MINUTE = 2;     # seconds: LifecycleNotteMinute below
my $srv = LcServer->new('notte_timeout', extra => ["LifecycleNotteMinute ${MINUTE}s"],
                        dbd => LcTest::lc_store() eq 'dbd');
END { $srv->stop('TERM') if $srv }
ok($srv->start, 'a server with LifecycleNotteMinute 2s starts');
my $json = JSON::PP->new->canonical;
my $ua = LWP::UserAgent->new(timeout => 15);     # LcAuth gives it the suite's token
my $B = $srv->base;
my $main_log = Apache::Test::vars('t_logs') . '/error_log';

sub call {
    my ($m, $path, $body) = @_;
    my $r = HTTP::Request->new($m => "$B$path");
    if (defined $body) {
        $r->header('Content-Type' => 'application/json');
        $r->content($json->encode($body));
    }
    my $res = $ua->request($r);
    return ($res->code, eval { $json->decode($res->content) } || {});
}
# pydantic's datetime "2026-12-07T00:14:14.991938Z" as epoch seconds.
sub epoch {
    my ($y, $mo, $d, $h, $mi, $s) = ($_[0] // '') =~ /^(\d+)-(\d+)-(\d+)T(\d+):(\d+):([\d.]+)Z$/
        or return undef;
    return Time::Local::timegm(0, $mi, $h, $d, $mo - 1, $y) + $s;
}
# Poll the session until it is no longer active (60 s at most: a loaded machine).
sub wait_over {
    my $sid = shift;
    my $b = {};
    for (1 .. 600) {
        (undef, $b) = call(GET => "/sessions/$sid");
        last if ($b->{status} // '') ne 'active';
        sleep 0.1;
    }
    return $b;
}
sub audit_count {
    my $re = shift;
    my $n = 0;
    for my $text ($srv->log, (LcTest::lc_store() eq 'dbd' ? LcServer::slurp($main_log) // '' : '')) {
        $n += () = $text =~ /$re/g;
    }
    return $n;
}
my @made;
END { for (@made) { my ($k, $id) = @$_; call(DELETE => "/lifecycle/v1/resources/$k/$id") } }

# ---- idle_timeout_minutes: no agent, no activity -----------------------------------------------------
{
    my ($code, $s) = call(POST => '/sessions/start',
                          { max_duration_minutes => 30, idle_timeout_minutes => 1 });
    push @made, [session => $s->{session_id}];
    is($code, 200, 'idle: session started');
    is($s->{status}, 'active', 'idle: active at first');
    my $over = wait_over($s->{session_id});
    is($over->{status}, 'timed_out', 'idle: timed_out after idle_timeout_minutes');
    my $lived = (epoch($over->{closed_at}) // 0) - (epoch($over->{created_at}) // 0);
    ok($lived >= $MINUTE - 0.001 && $lived < 30 * $MINUTE,
       "idle: closed_at one (2 s) minute after created_at or later, not at max ($lived s)");
    my $re = qr/kind="session" id="\Q$s->{session_id}\E" from="active" to="timed_out" sub="lifecycle-timeout"/;
    sleep 0.5;      # the other host's tick, had it moved it too
    is(audit_count($re), 1, 'idle: one audit line, by the background task (every host)');
    # SessionsClient.stop raises unless "closed"; RemoteSession.stop (the `with`
    # block's exit, endpoints/sessions.py:851-857) lets an error saying
    # "already stopped" pass: a session that timed out inside a with block.
    my ($c2, $again) = call(DELETE => "/sessions/$s->{session_id}/stop");
    is_deeply([$c2, $again], [409, { detail => "Session $s->{session_id} already stopped: it timed "
                                     . 'out (max_duration_minutes or idle_timeout_minutes passed)' }],
              'idle: stopping it: 409 "already stopped", as the SDK\'s with block tolerates');
    my ($c3, $err) = call(POST => '/agents/start', { task => 't', session_id => $s->{session_id} });
    is_deeply([$c3, $err], [400, { detail => "Session $s->{session_id} is timed_out" }],
              'idle: no agent starts in it');
}

# ---- max_duration_minutes: a running agent stops the idle clock, not the max ----------------------------
{
    my ($code, $s) = call(POST => '/sessions/start',
                          { max_duration_minutes => 2, idle_timeout_minutes => 1 });
    my $sid = $s->{session_id};
    push @made, [session => $sid];
    is($code, 200, 'max: session started');
    my ($ca, $a) = call(POST => '/agents/start', { task => 'long run', session_id => $sid });
    push @made, [agent => $a->{agent_id}] if $a->{agent_id};
    my $in_time = $ca == 200 && $a->{status} eq 'active';
    my $over = wait_over($sid);
    is($over->{status}, 'timed_out', 'max: timed_out');
    my $lived = (epoch($over->{closed_at}) // 0) - (epoch($over->{created_at}) // 0);
    SKIP: {
        skip 'the agent started after the idle deadline (a very slow machine)', 1 unless $in_time;
        ok($lived >= 2 * $MINUTE - 0.001, "max: with an agent running it lasted max_duration_minutes ($lived s)");
    }
    my $ag = {};
    for (1 .. 600) {
        (undef, $ag) = call(GET => "/agents/$a->{agent_id}");
        last if ($ag->{status} // '') eq 'closed';
        sleep 0.1;
    }
    is($ag->{status}, 'closed', 'max: its agent is closed');
    ok(defined $ag->{closed_at} && $ag->{success} eq '0', 'max: closed_at set, success false');
    my $re = qr/kind="agent" id="\Q$a->{agent_id}\E" from="active" to="closed" sub="lifecycle-timeout"/;
    sleep 0.5;
    is(audit_count($re), 1, 'max: the agent\'s close audited once, as the timeout\'s');
    my ($cl, $list) = call(GET => '/sessions/?only_active=False&page_size=100&page=1');
    my ($item) = grep { $_->{session_id} eq $sid } @{ $list->{items} || [] };
    is(($item || {})->{status}, 'timed_out', 'max: listed as timed_out');
}

# ---- activity: an agent's stop starts the idle clock again --------------------------------------------------
{
    my ($code, $s) = call(POST => '/sessions/start',
                          { max_duration_minutes => 30, idle_timeout_minutes => 1 });
    my $sid = $s->{session_id};
    my $t0 = time;
    push @made, [session => $sid];
    is($code, 200, 'activity: session started');
    my ($ca, $a) = call(POST => '/agents/start', { task => 't', session_id => $sid });
    push @made, [agent => $a->{agent_id}] if $a->{agent_id};
    my $in_time = $ca == 200 && $a->{status} eq 'active';
    sleep 1.5 * $MINUTE;                       # past the idle deadline, had the agent not stopped it
    my (undef, $mid) = call(GET => "/sessions/$sid");
    SKIP: {
        skip 'too slow a machine for the idle window', 1 unless $in_time && time - $t0 < 20 * $MINUTE;
        is($mid->{status}, 'active', 'activity: still active while its agent runs, past idle_timeout');
    }
    my ($cs, $stopped) = call(DELETE => "/agents/$a->{agent_id}/stop?session_id=$sid");
    is($cs, 200, 'activity: the agent stopped');
    my $over = wait_over($sid);
    is($over->{status}, 'timed_out', 'activity: then the session times out');
    SKIP: {
        skip 'the session timed out before the agent\'s stop (a very slow machine)', 1
            unless ($stopped->{status} // '') eq 'closed' && $in_time;
        my $idle = (epoch($over->{closed_at}) // 0) - (epoch($stopped->{closed_at}) // 9e9);
        ok($idle >= $MINUTE - 0.001, "activity: idle_timeout_minutes after the agent's stop ($idle s)");
    }
}

# ---- a stop before the deadline: closed, never timed out -------------------------------------------------------
{
    my ($code, $s) = call(POST => '/sessions/start',
                          { max_duration_minutes => 30, idle_timeout_minutes => 30 });
    push @made, [session => $s->{session_id}];
    my ($cs, $st) = call(DELETE => "/sessions/$s->{session_id}/stop");
    is_deeply([$code, $cs, $st->{status}], [200, 200, 'closed'], 'stopped in time: closed');
    sleep 0.3;
    my (undef, $later) = call(GET => "/sessions/$s->{session_id}");
    is($later->{status}, 'closed', 'stopped in time: still closed (its deadline was dropped)');
}

# ---- the minute: configuration -------------------------------------------------------------------------------
for my $bad ('0', 'off', 'soon') {
    my $x = LcServer->new('notte_minute_bad', extra => ["LifecycleNotteMinute $bad"]);
    ok(!$x->start(10), "LifecycleNotteMinute $bad: refused at start");
    like(LcServer::slurp("$x->{dir}/start.out") // '', qr/LifecycleNotteMinute \Q$bad\E \(.*:\d+\)/,
         "LifecycleNotteMinute $bad: one line naming the directive and file:line");
    $x->stop('TERM');
}
my $bad_sessions = grep { $_->[0] eq 'session' } @made;
ok($bad_sessions >= 4, 'sessions made and removed at the end');
