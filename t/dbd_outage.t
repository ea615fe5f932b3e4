# PostgreSQL stopped under load:
# every dialect answers 503 in its own error shape with Retry-After, nothing
# is acknowledged that was not committed, and once PostgreSQL is started again
# service resumes by itself (mod_dbd reconnects: no pooled connection keeps
# failing, no prepared statement stays lost) and every acknowledged change is
# there.  The cluster is build/pg.sh's of this run (LC_PG_DIR), stopped with
# `pg_ctl -m immediate` (a crash, as a lost database host looks).  The error
# codes are those of the design: workstation's reason phrase, Redivis's and
# the admin API's "unavailable", Feldera's "StoreUnavailable", Notte's and the
# wrapper's {"detail"}.  Runs only in the suite's run against LifecycleStore dbd.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use URI::Escape qw(uri_unescape);
use Time::HiRes qw(sleep time);
use POSIX ();
use LcTest ();
use LcClient qw(call jb ver ws_json);
use LcPg qw(pg_sh);

LcTest::dbd_only();
plan tests => 45;

my $base = 'http://' . Apache::TestRequest::hostport();
my $vars = Apache::Test::vars();
my $pgdir = $ENV{LC_PG_DIR};
my $json = JSON::PP->new->canonical;
my $ua = LWP::UserAgent->new(timeout => 15, keep_alive => 1);

my $down = 0;
# Whatever happens here, the tests after this one need their database.
END { pg_sh('start', $pgdir) if $down && $$ == $main::PID }
$main::PID = $$;

sub req { call($ua, $base, @_) }    # (METHOD, PATH, BODY text, HEADERS...)
# ---- one resource of each dialect -------------------------------------------------------------
my $wr = '6f1c9e52-4d0b-4a51-9d3e-0e5b7c2a9f10';
my $nbref = 'outage_user.outage_flow.outage_nb';
is(req(PUT => '/lifecycle/v1/resources/workstation/out-ws', ws_json('out-ws', 'running'))->code, 201,
   'workstation out-ws');
is(req(PUT => '/lifecycle/v1/resources/notebook/out-nb', $json->encode({
    kind => 'notebook', id => 'out-nb', name => 'outage nb', qualifiedReference => "$nbref:onb1",
    referenceId => 'onb1', owner => { name => 'outage_user' },
    currentJob => { id => 'job-o', kind => 'notebook', status => 'running', errorMessage => undef,
                    startTime => 1700000000000, endTime => undef } }))->code, 201, 'notebook out-nb');
is(req(PUT => "/lifecycle/v1/resources/wrapper/$wr", $json->encode({
    wrapper_id => $wr, type => 'api', status => 'running' }))->code, 201, 'wrapper');
is(req(PUT => '/lifecycle/v1/resources/pipeline/out-pipe', $json->encode({
    name => 'out-pipe', deployment_status => 'Running' }))->code, 201, 'pipeline out-pipe');
my $sid = (jb(req(POST => '/sessions/start', '{}')) || {})->{session_id} // 'none';
my $aid = (jb(req(POST => '/agents/start', $json->encode({ task => 'outage', session_id => $sid })))
           || {})->{agent_id} // 'none';
ok($sid ne 'none' && $aid ne 'none', "a Notte session $sid and an agent $aid in it");

# Every dialect's GET, as [path, what a 503 body must be].
my @gets = (
    ['/workstations/out-ws', sub { my $b = shift;
        ref $b eq 'HASH' && join(',', sort keys %$b) eq 'error,message,status' && $b->{status} == 503
        && $b->{error} eq 'Service Unavailable' && length $b->{message} }],
    ["/api/v1/notebooks/$nbref", sub { my $b = shift;
        ref $b eq 'HASH' && join(',', sort keys %$b) eq 'error,error_description,status'
        && $b->{status} == 503 && $b->{error} eq 'unavailable' && length $b->{error_description} }],
    ["/agents/$aid", sub { my $b = shift;
        ref $b eq 'HASH' && join(',', keys %$b) eq 'detail' && !ref $b->{detail} && length $b->{detail} }],
    ["/sessions/$sid", sub { my $b = shift;
        ref $b eq 'HASH' && join(',', keys %$b) eq 'detail' && !ref $b->{detail} && length $b->{detail} }],
    ["/resources/wrappers/$wr", sub { my $b = shift;
        ref $b eq 'HASH' && join(',', keys %$b) eq 'detail' && !ref $b->{detail} && length $b->{detail} }],
    ['/v0/pipelines/out-pipe', sub { my $b = shift;
        ref $b eq 'HASH' && join(',', sort keys %$b) eq 'details,error_code,message'
        && $b->{error_code} eq 'StoreUnavailable' && ref $b->{details} eq 'HASH' && length $b->{message} }],
    ['/lifecycle/v1/resources/workstation/out-ws', sub { my $b = shift;
        ref $b eq 'HASH' && join(',', sort keys %$b) eq 'error,message' && $b->{error} eq 'unavailable'
        && length $b->{message} }],
    ['/lifecycle/v1/changes?since=0&wait=0', sub { my $b = shift;
        ref $b eq 'HASH' && join(',', sort keys %$b) eq 'error,message' && $b->{error} eq 'unavailable'
        && length $b->{message} }],
);
my $up_ok = grep { my $p = $_->[0]; my $r = req(GET => $p);
                   $r->code == 200 || ($p =~ /changes/ && $r->code == 410) } @gets;
is($up_ok, scalar @gets, 'every dialect serves them (' . scalar(@gets) . ' GETs)');

# ---- load: launch / report / stop on four workstations ----------------------------------------------
my @ids = map { "out-load-$_" } 1 .. 4;
req(PUT => "/lifecycle/v1/resources/workstation/$_", ws_json($_, 'stopped')) for @ids;
my $stopfile = "$vars->{t_logs}/dbd_outage.stop";
unlink $stopfile;
# The load writes what it saw to a file (a pipe read only at the end would
# fill up and stall it).
my $loadlog = "$vars->{t_logs}/dbd_outage.load";
unlink $loadlog;
my $load = fork() // die;
if ($load == 0) {
    open my $wpipe, '>', $loadlog or die "$loadlog: $!";
    my $c = LWP::UserAgent->new(timeout => 10, keep_alive => 1);
    my $t0 = time;
    eval {
    while (!-e $stopfile && time - $t0 < 60) {
        for my $id (@ids) {
            for my $step (["/workstations/$id/launch", undef],
                          ["/lifecycle/v1/resources/workstation/$id/report", '{"status":"running"}'],
                          ["/workstations/$id/stop", undef]) {
                my $t1 = time;
                my $r = $c->request(HTTP::Request->new(POST => "$base$step->[0]",
                    [ 'Content-Type' => 'application/json' ], $step->[1]));
                my $st = eval { $json->decode($r->content)->{status} } // '-';
                $st = '-' if ref $st;
                syswrite $wpipe, sprintf("%.3f %.3f %d %s %d %s %d\n", $t1, time, $r->code, $id, ver($r),
                                         $st, defined $r->header('Retry-After') ? 1 : 0);
            }
        }
    }
    1;
    } or syswrite $wpipe, "0 0 0 died 0 - 0 $@";
    POSIX::_exit(0);
}
sleep 1.5;

# ---- PostgreSQL stopped ------------------------------------------------------------------------------
ok(pg_sh('stop', $pgdir, 'immediate'), 'PostgreSQL stopped (pg_ctl -m immediate) under load');
$down = 1;
my $t_down = time;
for my $g (@gets) {
    my $r = req(GET => $g->[0]);
    is_deeply([$r->code, ($r->header('Retry-After') // '') =~ /^\d+$/ ? 1 : 0, $r->header('Content-Type')],
              [503, 1, LcTest::JSON_CT], "database down: GET $g->[0]: 503, Retry-After");
    ok($g->[1]->(jb($r)), "database down: GET $g->[0]: the dialect's own error body") or diag($r->content);
}
{
    my $r = req(HEAD => "/api/v1/notebooks/$nbref");
    my $h = $r->header('X-REDIVIS-ERROR-PAYLOAD');
    my $p = defined $h ? eval { $json->decode(uri_unescape($h)) } : undef;
    is_deeply([$r->code, $r->content, ($r->header('Retry-After') // '') =~ /^\d+$/ ? 1 : 0,
               $p ? [$p->{error}, $p->{status}] : undef],
              [503, '', 1, ['unavailable', 503]], 'database down: HEAD notebook: 503, the payload header');
}
for my $t (['/workstations/out-ws/stop', $gets[0][1]], ['/v0/pipelines/out-pipe/stop?force=true', $gets[5][1]],
           ["/api/v1/notebooks/$nbref/stop", $gets[1][1]]) {
    my $r = req(POST => $t->[0]);
    ok($r->code == 503 && ($r->header('Retry-After') // '') =~ /^\d+$/ && $t->[1]->(jb($r)),
       "database down: POST $t->[0]: 503 in its shape, Retry-After") or diag($r->code . ' ' . $r->content);
}
{
    my $r = req(DELETE => "/agents/$aid/stop?session_id=$sid");
    ok($r->code == 503 && $gets[2][1]->(jb($r)), 'database down: DELETE agent stop: 503 {"detail"}')
        or diag($r->code . ' ' . $r->content);
}
is(req(GET => '/lifecycle/v1/metrics')->code, 200, 'database down: the metrics still answer');
sleep 1;

# ---- started again: service resumes by itself ---------------------------------------------------------
my $t_up = time;
ok(pg_sh('start', $pgdir), 'PostgreSQL started again');
$down = 0;
my $t0 = time;
my $back;
while (time - $t0 < 15) {
    if (!grep { my $r = req(GET => $_->[0]); $r->code != 200 && !($_->[0] =~ /changes/ && $r->code == 410) } @gets) {
        $back = time - $t0; last;
    }
    sleep 0.2;
}
ok(defined $back, sprintf('every dialect serves again, by itself, %.1f s after the start', $back // -1));
my $fails = 0;
for (1 .. 5) {
    for my $g (@gets) { my $r = req(GET => $g->[0]);
        $fails++ unless $r->code == 200 || ($g->[0] =~ /changes/ && $r->code == 410) }
}
is($fails, 0, 'and keeps serving: 40 GETs more, every one answered (no pooled connection left broken)');
{
    my $r = req(POST => '/workstations/out-ws/stop');
    is_deeply([$r->code, (jb($r) || {})->{status}, ver($r)], [200, 'stopped', 2],
              'the stop refused while the database was down works now, once');
    $r = req(POST => '/v0/pipelines/out-pipe/stop?force=true');
    is($r->code, 202, 'Feldera stop: 202');
    $r = req(POST => "/api/v1/notebooks/$nbref/stop");
    is($r->code, 200, 'Redivis stop: 200');
    $r = req(DELETE => "/agents/$aid/stop?session_id=$sid");
    is_deeply([$r->code, (jb($r) || {})->{status}], [200, 'closed'], 'Notte agent stop: 200 closed');
}
sleep 1.5;                                           # the load goes on a while
open my $sf, '>', $stopfile or die; close $sf;
waitpid($load, 0);
my @rec = do { open my $rd, '<', $loadlog or die "$loadlog: $!"; map { chomp; [split ' '] } <$rd> };

# ---- what the load saw ----------------------------------------------------------------------------------
my %codes; $codes{$_->[2]}++ for @rec;
ok(scalar(@rec) > 20, scalar(@rec) . ' requests of the load answered: '
   . join(', ', map { "$_ x$codes{$_}" } sort keys %codes));
ok(($codes{503} // 0) > 0, 'some of them 503 while the database was down')
    or diag(sprintf("database down %.3f .. %.3f; the load's requests from 1 s before:\n", $t_down, $t_up)
            . join("\n", map { "@$_" } grep { $_->[1] > $t_down - 1 } @rec));
my @slow = grep { $_->[1] - $_->[0] > 5 } @rec;
is(scalar @slow, 0, 'none of them waited more than 5 s (connect_timeout=3)')
    or diag(join "\n", map { "@$_" } @slow);
is_deeply([sort grep { !/^(200|400|503)$/ } keys %codes], [], 'no answer but 200, 400 (an illegal step) and 503');
is(scalar(grep { $_->[2] == 503 && !$_->[6] } @rec), 0, 'every 503 with Retry-After');
my @lies = grep { $_->[2] == 200 && $_->[0] > $t_down && $_->[1] < $t_up } @rec;
is(scalar @lies, 0, 'no transition acknowledged while the database was down')
    or diag(join "\n", map { "@$_" } @lies);
ok(scalar(grep { $_->[2] == 200 && $_->[0] > $t_up } @rec) > 0, 'the load\'s transitions succeed again');
my %acked;
for (grep { $_->[2] == 200 } @rec) {
    my ($id, $v, $st) = @$_[3, 4, 5];
    $acked{$id} = [$v, $st] if !$acked{$id} || $v > $acked{$id}[0];
}
my $lost = 0;
for my $id (@ids) {
    my $r = req(GET => "/workstations/$id");
    my $st = (jb($r) || {})->{status} // '?';
    my ($v, $ast) = @{ $acked{$id} // [1, 'stopped'] };
    if ($r->code != 200 || ver($r) < $v || (ver($r) == $v && $st ne $ast)) {
        $lost++; diag("$id: acknowledged v$v $ast, served " . $r->code . " v" . ver($r) . " $st");
    }
}
is($lost, 0, 'every acknowledged change is there');
is(req(GET => '/lifecycle/v1/changes?since=' . (LcTest::feed_head() // 0) . '&wait=0')->code, 200,
   'the feed answers again');

req(DELETE => "/lifecycle/v1/resources/$_") for 'workstation/out-ws', 'notebook/out-nb', "wrapper/$wr",
    'pipeline/out-pipe', "agent/$aid", "session/$sid", map { "workstation/$_" } @ids;
