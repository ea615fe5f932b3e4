# The Notte agent watcher (agent.run()): the steps a runner
# reports (POST /lifecycle/v1/resources/agent/{id}/report, shown by
# GET /agents/{id}) and the WebSocket GET /agents/{id}/debug/logs?token=&session_id=
# the SDK's watch_logs() reads: a real client (the npm `ws` package, through
# t/ws/watch.mjs; build/suite.sh installs it) for the flow, raw frames from a
# socket for what a well-behaved client never sends; every refusal before the
# upgrade; the token never in a log; LifecycleWatchersPerChild and a server
# stop with watchers open (a private server of LcServer).
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use IO::Select ();
use IO::Socket::INET ();
use Digest::SHA qw(sha1);
use MIME::Base64 qw(encode_base64);
use JSON::PP ();
use LWP::UserAgent ();
use HTTP::Request ();
use Time::HiRes qw(time sleep);
use LcTest;
use LcAuth qw(lc_token lc_mint);
use LcServer;

my $node_dir = $ENV{LC_WS_NODE_DIR} // '';
plan skip_all => 'no ws client (build/suite.sh installs it: LC_WS_NODE_DIR)'
    unless -f "$node_dir/watch.mjs" && -d "$node_dir/node_modules/ws";
plan tests => 100;

my $json  = JSON::PP->new->canonical;
my $token = lc_token();
my $hostport = Apache::TestRequest::hostport();
my $vars = Apache::Test::vars();
my @cleanup;
END { req(DELETE => ADMIN . "/resources/$_") for @cleanup }

sub step {
    my $n = shift;
    return { state => { previous_goal_status => 'success', previous_goal_eval => "eval $n",
                        page_summary => "page $n", relevant_interactions => [],
                        memory => "memory $n", next_goal => "goal $n" },
             action => { type => 'goto', url => "https://notte.cc/$n" },
             started_at => '2026-12-07T00:00:00Z', ended_at => '2026-12-07T00:00:01Z' };
}

sub new_agent {
    my $base = shift // '';
    my $ua = LWP::UserAgent->new(timeout => 30);
    my $post = sub { my ($path, $body) = @_;
        my $r = HTTP::Request->new(POST => ($base || 'http://' . $hostport) . $path,
            [ 'Content-Type' => 'application/json', Authorization => "Bearer $token" ],
            $json->encode($body));
        my $res = $ua->request($r);
        return eval { $json->decode($res->content) } || {} };
    my $sid = $post->('/sessions/start', {})->{session_id} // 'none';
    my $aid = $post->('/agents/start', { task => 'watch me', session_id => $sid })->{agent_id}
              // 'none';
    push @cleanup, "agent/$aid", "session/$sid" unless $base;
    return ($aid, $sid);
}

sub report {
    my ($aid, $body) = @_;
    return req(POST => ADMIN . "/resources/agent/$aid/report", body => $body);
}

# ---- steps and answer through the runner's report ------------------------------------

my ($A, $S) = new_agent();
my $r = report($A, { steps => [ step(1), step(2) ] });
is($r->code, 200, 'report of two steps: 200');
$r = req(GET => "/agents/$A");
is_deeply(jbody($r)->{steps}, [ step(1), step(2) ], 'GET /agents/{id} shows the steps as reported');
is_deeply([ @{ jbody($r) }{qw(status answer success)} ], [ 'active', undef, undef ],
          'still active, no answer, no outcome');
$r = report($A, { steps => [ { state => {} } ] });
is($r->code, 400, 'a step that is no AgentCompletion: 400');
like(jbody($r)->{message} // '', qr/'steps'/, '... naming steps');
$r = report($A, { nonsense => 1 });
is($r->code, 400, 'an unknown field: 400');
like(jbody($r)->{message} // '', qr/'nonsense'/, '... naming it');
is_deeply(jbody(req(GET => "/agents/$A"))->{steps}, [ step(1), step(2) ], 'refused reports changed nothing');

# Bounded: the attributes stay within 16 KiB, the oldest steps go first.
{
    my ($B) = new_agent();
    my $big = step('b'); $big->{state}{memory} = 'x' x 3000;
    is(report($B, { steps => [ ($big) x 4 ] })->code, 200, 'four 3 KB steps: 200');
    my @later = map { my $s = step("late$_"); $s->{state}{memory} = 'y' x 3000; $s } 1 .. 3;
    is(report($B, { steps => \@later })->code, 200, 'three more: 200 (over 16 KiB together)');
    my $steps = jbody(req(GET => "/agents/$B"))->{steps};
    ok(@$steps >= 3 && @$steps < 7, 'some of the oldest dropped (' . scalar(@$steps) . ' kept)');
    is_deeply([ @$steps[-3 .. -1] ], \@later, 'the newest kept, in order');
    my $huge = step('huge'); $huge->{state}{memory} = 'z' x 17000;
    $r = report($B, { steps => [ $huge ] });
    is($r->code, 400, 'one step over 16 KiB on its own: 400');
    like(jbody($r)->{message} // '', qr/'steps'/, '... naming steps');
}

# ---- refusals before the upgrade --------------------------------------------------------

my $KEY = 'dGhlIHNhbXBsZSBub25jZQ==';        # RFC 6455 §1.3's example
my %UP = (Upgrade => 'websocket', Connection => 'Upgrade', 'Sec-WebSocket-Version' => 13,
          'Sec-WebSocket-Key' => $KEY);
my $bare = LWP::UserAgent->new(timeout => 30);
$bare->default_headers->remove_header('Authorization');
sub wsget { my ($path, %h) = @_;
    $bare->request(HTTP::Request->new(GET => "http://$hostport$path", [ %UP, %h ])) }
sub detail_is { my ($res, $code, $detail, $name) = @_;
    is($res->code, $code, "$name: $code");
    is_deeply(jbody($res), { detail => $detail }, "$name: {\"detail\"}") }

my $path = "/agents/$A/debug/logs";
detail_is(wsget("$path?session_id=$S"), 401, 'An access token is required', 'no token');
is(wsget("$path?session_id=$S")->header('WWW-Authenticate'), 'Bearer realm="lifecycle"',
   'no token: the challenge without error=');
$r = wsget("$path?token=v4.public.bogus&session_id=$S");
is($r->code, 401, 'a bad token in the query: 401');
like($r->header('WWW-Authenticate') // '', qr/error="invalid_token"/, '... invalid_token');
my $noscope = lc_mint(scope => 'workflow.read');
detail_is(wsget("$path?token=$noscope&session_id=$S"), 403,
          'The access token lacks the scope agents.read', 'a token without agents.read');
is($bare->get("http://$hostport/agents/$A?token=$token")->code, 401,
   'the query token on another route (GET /agents/{id}): ignored, 401');
detail_is(wsget("/agents/nobody/debug/logs?token=$token&session_id=$S"), 404, 'Agent not found',
          'unknown agent');
detail_is(wsget("$path?token=$token&session_id=someone-else"), 404, 'Agent not found',
          'another session');
$r = wsget("$path?token=$token");
is($r->code, 422, 'no session_id: 422');
is(jbody($r)->{detail}[0]{type}, 'missing', '... FastAPI\'s missing');
$r = $bare->request(HTTP::Request->new(GET => "http://$hostport$path?token=$token&session_id=$S"));
is($r->code, 426, 'a plain GET (no upgrade): 426');
like(jbody($r)->{detail} // '', qr/WebSocket/, '... {"detail"} says why');
$r = wsget("$path?token=$token&session_id=$S", 'Sec-WebSocket-Version' => 8);
is($r->code, 426, 'version 8: 426');
is($r->header('Sec-WebSocket-Version'), '13', '... naming 13');
$r = wsget("$path?token=$token&session_id=$S", 'Sec-WebSocket-Key' => 'short');
is($r->code, 400, 'a key that is not 16 bytes of base64: 400');
is($bare->request(HTTP::Request->new(POST => "http://$hostport$path?session_id=$S",
   [ Authorization => "Bearer $token", 'Content-Length' => 0 ]))->code, 405, 'POST: 405');

# ---- a real client: steps, a live step, ping, the final status, close 1000 -----------

sub watch {
    my ($url, @opt) = @_;
    local $ENV{LC_WS_NODE_DIR} = $node_dir;
    my $pid = open(my $fh, '-|', 'node', "$node_dir/watch.mjs", $url, @opt) or die "node: $!";
    return { fh => $fh, pid => $pid, sel => IO::Select->new($fh), buf => '' };
}
sub next_ev {                     # the next event line, or {ev => 'timeout'}
    my ($w, $secs) = @_;
    my $until = time + ($secs // 30);
    while (1) {
        if ($w->{buf} =~ s/^([^\n]*)\n//) { return eval { $json->decode($1) } || { ev => 'bad', line => $1 } }
        my $left = $until - time;
        return { ev => 'timeout' } if $left <= 0 || !$w->{sel}->can_read($left);
        my $n = sysread($w->{fh}, my $chunk, 65536);
        return { ev => 'eof' } unless $n;
        $w->{buf} .= $chunk;
    }
}
sub done { my $w = shift; kill 'TERM', $w->{pid}; close $w->{fh} }
sub wsurl { my ($base, $aid, $sid) = @_; "$base/agents/$aid/debug/logs?token=$token&session_id=$sid" }

my $w = watch(wsurl("ws://$hostport", $A, $S), '--ping');
my $ev = next_ev($w);
is($ev->{ev}, 'open', 'the ws client is upgraded');
is($ev->{status}, 101, '... 101');
my @got = map { next_ev($w) } 1 .. 3;
my @msgs = map { $_->{ev} eq 'message' ? $json->decode($_->{data}) : $_ } grep { $_->{ev} ne 'pong' } @got;
my ($pong) = grep { $_->{ev} eq 'pong' } @got;
push @msgs, do { my $e = next_ev($w); $e->{ev} eq 'message' ? $json->decode($e->{data}) : $e }
    if @msgs < 2;
$pong //= next_ev($w);
is_deeply([ @msgs[0, 1] ], [ step(1), step(2) ], 'the steps reported so far, one message each, in order');
is_deeply($pong, { ev => 'pong', data => 'are-you-there' }, 'a ping is answered with its pong');

# While it watches: the gauges say one is open.
like(req(GET => ADMIN . '/metrics')->content, qr/^lifecycle_watchers_open 1$/m,
     'metrics: lifecycle_watchers_open 1');
like(req(GET => '/server-status?auto')->content, qr/^LifecycleWatchersOpen: 1$/m,
     'server-status: LifecycleWatchersOpen: 1');
my $sb = req(GET => '/server-status')->content;
# (mod_status keeps 64 bytes of a request line: the query is cut there.)
like($sb, qr{GET /agents/$A/debug/logs\?}, 'server-status: the watcher\'s request line');
ok(index($sb, $token) < 0, 'server-status: the token is nowhere');

is(report($A, { steps => [ step(3) ] })->code, 200, 'a step reported while watching');
$ev = next_ev($w);
is($ev->{ev}, 'message', '... arrives');
is_deeply(eval { $json->decode($ev->{data}) }, step(3), '... as reported');
is(report($A, { status => 'closed', answer => '42', success => JSON::PP::true })->code, 200,
   'the runner closes the agent with an answer');
$ev = next_ev($w);
my $final = eval { $json->decode($ev->{data}) } || {};
is($final->{status}, 'agent_stop', 'then the SDK\'s termination message');
my $agent = $final->{agent} || {};
is_deeply([ @$agent{qw(agent_id session_id status answer)} ], [ $A, $S, 'closed', '42' ],
          '... with the AgentStatusResponse: closed, the answer');
ok(JSON::PP::is_bool($agent->{success}) && $agent->{success}, '... success true');
is_deeply($agent->{steps}, [ step(1), step(2), step(3) ], '... and every step');
like($agent->{closed_at} // '', qr/^\d{4}-\d\d-\d\dT/, '... closed_at set');
$ev = next_ev($w);
is_deeply([ @$ev{qw(ev code)} ], [ 'close', 1000 ], 'then a close 1000');
done($w);
my $deadline = time + 15;
my $m;
sleep 0.1 while ($m = req(GET => ADMIN . '/metrics')->content) !~ /^lifecycle_watchers_open 0$/m
                && time < $deadline;
like($m, qr/^lifecycle_watchers_open 0$/m, 'metrics: back to 0 once it closed');
is_deeply(jbody(req(GET => "/agents/$A")), $agent, 'GET /agents/{id} says what the watcher got');

# A closed agent: the steps, the final message, close 1000 at once.
$w = watch(wsurl("ws://$hostport", $A, $S));
my @all; push @all, next_ev($w) for 1 .. 6;
is_deeply([ map { $_->{ev} } @all ], [ qw(open message message message message close) ],
          'watching a closed agent: open, 3 steps, the final, close');
is($all[-1]{code}, 1000, '... close 1000');
done($w);

# ---- raw frames: what the ws package never sends ---------------------------------------

sub raw_open {
    my ($aid, $sid) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => $hostport, Timeout => 10) or die "connect: $!";
    print $s "GET /agents/$aid/debug/logs?session_id=$sid HTTP/1.1\r\nHost: $hostport\r\n"
           . "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: $KEY\r\n"
           . "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer $token\r\n\r\n";
    my $head = '';
    my $sel = IO::Select->new($s);
    while ($head !~ /\r\n\r\n/) {
        last unless $sel->can_read(30);
        sysread($s, my $c, 1) or last;
        $head .= $c;
    }
    return ($s, $head);
}
sub frame {
    my ($op, $payload, %o) = @_;
    my $fin = exists $o{fin} ? $o{fin} : 1;
    my $len = $o{len} // length $payload;
    my $b0 = chr(($fin ? 0x80 : 0) | $op);
    my $mask = exists $o{mask} ? $o{mask} : 1;
    my $hdr = $len < 126 ? chr(($mask ? 0x80 : 0) | $len)
            : $len < 65536 ? chr(($mask ? 0x80 : 0) | 126) . pack('n', $len)
            : chr(($mask ? 0x80 : 0) | 127) . pack('Q>', $len);
    return $b0 . $hdr . $payload unless $mask;
    my $key = "\x12\x34\x56\x78";
    my $masked = $payload ^ substr($key x (length($payload) / 4 + 1), 0, length $payload);
    return $b0 . $hdr . $key . $masked;
}
sub read_n { my ($s, $n) = @_; my $buf = ''; my $sel = IO::Select->new($s);
    while (length $buf < $n) { return undef unless $sel->can_read(30);
        my $got = sysread($s, $buf, $n - length $buf, length $buf); return undef unless $got }
    return $buf }
sub read_frame {                  # [opcode, payload] of the next server frame
    my $s = shift;
    my $h = read_n($s, 2) // return [ -1, '' ];
    my ($b0, $b1) = unpack('CC', $h);
    my $len = $b1 & 0x7f;
    $len = unpack('n', read_n($s, 2)) if $len == 126;
    $len = unpack('Q>', read_n($s, 8)) if $len == 127;
    return [ $b0 & 0x0f, $len ? read_n($s, $len) // '' : '', $b1 & 0x80 ];
}
sub close_code {                  # skip data frames; the close frame's code
    my $s = shift;
    for (1 .. 50) { my $f = read_frame($s);
        return -1 if $f->[0] < 0;
        return length $f->[1] >= 2 ? unpack('n', $f->[1]) : 1005 if $f->[0] == 8 }
    return -2;
}

my ($C, $CS) = new_agent();
report($C, { steps => [ step('c1') ] });
my ($s, $head) = raw_open($C, $CS);
like($head, qr{^HTTP/1\.1 101 }, 'raw handshake: 101');
my ($accept) = $head =~ /^Sec-WebSocket-Accept: (\S+)\r$/mi;
is($accept, 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', 'Sec-WebSocket-Accept: RFC 6455\'s value for its key');
is($accept, encode_base64(sha1($KEY . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'), ''),
   '... base64(SHA-1(key GUID))');
like($head, qr/^Upgrade: websocket\r$/mi, 'Upgrade: websocket');
my $f = read_frame($s);
is_deeply([ $f->[0], eval { $json->decode($f->[1]) } ], [ 1, step('c1') ],
          'the step as an unmasked text frame');
ok(!$f->[2], '... server frames are not masked');
print $s frame(9, 'raw-ping');
$f = read_frame($s);
is_deeply([ @$f[0, 1] ], [ 10, 'raw-ping' ], 'raw ping: the pong carries its payload');
print $s frame(1, 'hello');            # a whole text message: ignored
print $s frame(8, pack('n', 1000) . 'bye');
is(close_code($s), 1000, 'the client closes with 1000: the server answers 1000');
close $s;

my @bad = (
    [ 'an unmasked frame', frame(1, 'x', mask => 0), 1002 ],
    [ 'a fragmented message (FIN 0)', frame(1, 'part', fin => 0), 1003 ],
    [ 'a continuation without a message', frame(0, 'tail'), 1002 ],
    [ 'a binary message', frame(2, 'bin'), 1003 ],
    [ 'a frame over 4 KiB', frame(1, 'x' x 5000), 1009 ],
    [ 'a frame announcing 2^40 bytes', frame(1, '', len => 2 ** 40), 1009 ],
    [ 'a ping over 125 bytes', frame(9, 'p' x 126), 1002 ],
    [ 'a fragmented ping', frame(9, 'p', fin => 0), 1002 ],
    [ 'reserved bits', chr(0xC1) . substr(frame(1, 'x'), 1), 1002 ],
    [ 'a close with a 1-byte payload', frame(8, 'x'), 1002 ],
    [ 'a close with code 1005', frame(8, pack('n', 1005)), 1002 ],
);
for my $b (@bad) {
    my ($what, $bytes, $code) = @$b;
    my ($bs) = raw_open($C, $CS);
    read_frame($bs);                   # the step
    print $bs $bytes;
    is(close_code($bs), $code, "$what: close $code");
    close $bs;
}

# ---- the token in no log ----------------------------------------------------------------

sub slurp { local $/; open my $fh, '<', $_[0] or return ''; <$fh> }
# Access log lines are written when each request ends: wait for the last watcher's.
$deadline = time + 10;
my $access;
sleep 0.2 while ((($access = slurp("$vars->{t_logs}/access_log")) =~ tr/\n//) < 1 || $access !~ m{/agents/$C/debug/logs.* 101 }) && time < $deadline;
like($access, qr{"GET /agents/$A/debug/logs\?token=\[redacted\]&session_id=$S HTTP/1\.1" 101 },
     'access log: the request line with token=[redacted], status 101');
ok(index($access, $token) < 0, 'access log: the token is nowhere');
like($access, qr{"GET /agents/$A\?token=\[redacted\] HTTP/1\.1" 401 },
     'access log: redacted on the other routes of the Location too');
ok(index($access, $noscope) < 0, 'access log: nor the token without the scope');
ok(index(slurp("$vars->{t_logs}/error_log"), $token) < 0, 'error log: the token is nowhere');

# ---- LifecycleWatchersPerChild, a graceful restart and a graceful stop with
# watchers open (a private server) ------------------------------------------------------

sub ends {                        # each watcher's next event that is not a message
    map { my $e; do { $e = next_ev($_, 15) } while $e->{ev} eq 'message'; $e } @_
}
{
    my $mpm = $ENV{LC_MPM} || 'event';
    my @mpm = $mpm eq 'prefork' ? ('StartServers 4', 'MinSpareServers 4')
            : ('StartServers 1', 'ServerLimit 2', 'ThreadsPerChild 8', 'MinSpareThreads 1',
               'MaxSpareThreads 16', 'MaxRequestWorkers 16');
    my $srv = LcServer->new('notte_ws', dbd => lc_store() eq 'dbd',
        extra => [ @mpm, 'LifecycleWatchersPerChild 2', 'GracefulShutdownTimeout 10',
                   'LoadModule status_module /usr/lib/apache2/modules/mod_status.so',
                   '<Location /server-status>', 'SetHandler server-status', '</Location>' ]);
    ok($srv->start, 'a private server with LifecycleWatchersPerChild 2');
    my $base = $srv->base;
    (my $wsbase = $base) =~ s/^http/ws/;
    my ($D, $DS) = new_agent($base);
    push @cleanup, "agent/$D", "session/$DS";
    my $ua = LWP::UserAgent->new(timeout => 10);
    $ua->default_header(Authorization => "Bearer $token");
    my @w = map { watch(wsurl($wsbase, $D, $DS)) } 1 .. 2;
    is_deeply([ map { next_ev($_)->{ev} } @w ], [ 'open', 'open' ], 'two watchers open');
    like($ua->get("$base/lifecycle/v1/metrics")->content, qr/^lifecycle_watchers_open 2$/m,
         'metrics: 2 open');
    like($ua->get("$base/server-status?auto")->content, qr/^LifecycleWatchersOpen: 2$/m,
         'server-status: 2 open');
    SKIP: {
        skip 'prefork: one connection per child, the bound cannot be passed in one child', 2
            if $mpm eq 'prefork';
        # ServerLimit 2 with one child started: the only child holds both.
        my $third = watch(wsurl($wsbase, $D, $DS));
        $ev = next_ev($third);
        is_deeply([ @$ev{qw(ev status retry_after)} ], [ 'unexpected', 503, '5' ],
                  'a third in that child: 503 with Retry-After: 5, before any upgrade');
        is_deeply(eval { $json->decode($ev->{body}) }, { detail => 'Too many agent log watchers '
                  . 'on this server process; retry shortly' }, '... {"detail": ...}');
        done($third);
    }
    is($ua->get("$base/agents/$D")->code, 200, 'short requests still served beside them');

    # A graceful restart: the old generation's watchers end with 1001 at once.
    my $t0 = time;
    kill 'USR1', $srv->pid;
    my @e = ends(@w);
    is_deeply([ map { [ @$_{qw(ev code)} ] } @e ], [ [ 'close', 1001 ], [ 'close', 1001 ] ],
              'a graceful restart closes both watchers with 1001 going away');
    ok(time - $t0 < 10, sprintf('... promptly (%.1f s)', time - $t0));
    done($_) for @w;
    my $again;
    for (1 .. 100) { $again = watch(wsurl($wsbase, $D, $DS)); $ev = next_ev($again);
                     last if $ev->{ev} eq 'open'; done($again); sleep 0.1 }
    is($ev->{ev}, 'open', 'after it, a new watcher opens');

    # A graceful stop (WINCH) with a watcher open: 1001 and the server is gone.
    my $pid = $srv->pid;
    $t0 = time;
    kill 'WINCH', $pid;
    @e = ends($again);
    is_deeply([ @{ $e[0] }{qw(ev code)} ], [ 'close', 1001 ], 'a graceful stop: 1001');
    done($again);
    sleep 0.1 while LcServer::group_alive($pid) && time - $t0 < 20;
    my $took = time - $t0;
    ok(!LcServer::group_alive($pid), sprintf('... and the server has stopped (%.1f s)', $took));
    ok($took < 8, '... well before GracefulShutdownTimeout (10 s)');
    unlink $srv->dir . '/httpd.pid';
    my $log = $srv->log;
    ok(index($log, $token) < 0, 'its error log: no token');
    like($log, qr/watch agent \Q$D\E: ended after 0 steps: the server is stopping \(1001\)/,
         'its error log: why each watcher ended');

    # A hard stop (TERM): httpd shuts the workers' sockets itself (no close
    # frame can be sent), and the stop does not wait for the watchers.
    ok($srv->start, 'started again');
    my $hard = watch(wsurl($wsbase, $D, $DS));
    is(next_ev($hard)->{ev}, 'open', 'a watcher open');
    $t0 = time;
    ok($srv->stop('TERM'), 'a stop (TERM) with the watcher open completes');
    ok(time - $t0 < 5, sprintf('... promptly (%.1f s)', time - $t0));
    is((ends($hard))[0]{ev}, 'close', '... and the watcher is closed');
    done($hard);
}
