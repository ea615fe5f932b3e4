# A graceful restart under wrk load loses no request and no state: every
# request wrk sent is answered, and every 2xx transition is in the store.
# On a private server with LifecycleAutoAdvance off: nothing moves but what
# the requests move, so the versions count exactly the acknowledged changes
# (with auto-advance, a workstation whose report came late, or never before
# wrk stopped, moved by itself: versions no request acknowledged).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use HTTP::Request ();
use LWP::UserAgent ();
use JSON::PP ();
use Time::HiRes qw(sleep time);
use LcAuth qw(lc_token);
use LcServer ();

my ($wrk) = grep { -x } map { "$_/wrk" } split /:/, $ENV{PATH} // '';
plan skip_all => 'wrk is not installed (build/deps.sh test installs it)' unless $wrk;
plan tests => 11;

my $vars = Apache::Test::vars();
my $srv = LcServer->new('graceful_load', dbd => ($ENV{LC_STORE} // '') eq 'dbd',
                        extra => ['LifecycleAutoAdvance off']);
$srv->start or BAIL_OUT("the private server did not start:\n" . $srv->log);
END { $srv->stop if $srv }
my $base = $srv->base;
my $ua = LWP::UserAgent->new(timeout => 30);
my $errlog = "$srv->{dir}/error_log";
my $json = JSON::PP->new;
my $n = 64;
my @ids = map { "gl-$_" } 0 .. $n - 1;

sub version { my $r = $ua->get("$base/workstations/$_[0]"); my $e = $r->header('ETag') // '"0"';
    $e =~ tr/"//d; $e }
my $seeded = 0;
for my $id (@ids) {
    $seeded++ if $ua->request(HTTP::Request->new(
        PUT => "$base/lifecycle/v1/resources/workstation/$id", [ 'Content-Type' => 'application/json' ],
        $json->encode({ id => $id, name => 'gl', status => 'stopped',
            configuration => { cpuCores => 1, memoryGB => 1, gpu => undef, storageGB => 1,
                               region => 'r' } })))->is_success;
}
is($seeded, $n, "seeded $n workstations");
my %v0 = map { $_ => version($_) } @ids;

# launch -> runner report (running) -> stop, step-major over the ids of each
# wrk thread: four threads of one connection each, each with its own 16 ids,
# so a workstation's steps are sent one after the other on one connection,
# each once the last was answered: they stay in order however long one
# request takes (a request held up across the restart while the other
# connections went on could otherwise reorder a workstation's steps).
my $script = "$vars->{t_logs}/graceful_load.lua";
# What both wrk scripts print at the end, and how it is read back.
my $done_lua = <<'LUA';
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, e.status, e.connect, e.read, e.write, e.timeout))
end
LUA
sub wrk_result { my $text = shift;
    return $text =~ /RESULT requests=(\d+) non2xx=(\d+) connect=(\d+) read=(\d+) write=(\d+) timeout=(\d+)/ }

open my $fh, '>', $script or die;
print $fh $done_lua, <<'LUA';
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local ids, i = {}, 0
local auth = "Bearer " .. os.getenv("LC_TOKEN")
-- A connection per request: a keep-alive connection closed by an old child
-- at the moment a request is sent on it is lost by any client that does not
-- retry (HTTP's own race, httpd's, not the module's): leave that out.
local close = "close"
function init(args)
  for k = tid, 63, 4 do ids[#ids + 1] = "gl-" .. k end
end
function request()
  local id = ids[(i % #ids) + 1]
  local step = math.floor(i / #ids) % 3
  i = i + 1
  if step == 0 then
    return wrk.format("POST", "/workstations/" .. id .. "/launch",
                      { Authorization = auth, Connection = close })
  elseif step == 1 then
    return wrk.format("POST", "/lifecycle/v1/resources/workstation/" .. id .. "/report",
                      { Authorization = auth, Connection = close,
                        ["Content-Type"] = "application/json" }, '{"status":"running"}')
  else
    return wrk.format("POST", "/workstations/" .. id .. "/stop",
                      { Authorization = auth, Connection = close })
  end
end
LUA
close $fh;

# Two loads at once: the transition cycle on 4 connections (4 threads of one
# each, see above), and GETs on 16 more connections.
$ENV{LC_TOKEN} = lc_token();
my $out = "$vars->{t_logs}/graceful_load.out";
my $gout = "$vars->{t_logs}/graceful_load_get.out";
my $gscript = "$vars->{t_logs}/graceful_get.lua";
open my $gs, '>', $gscript or die;
print $gs $done_lua, <<'LUA';
wrk.headers["Authorization"] = "Bearer " .. os.getenv("LC_TOKEN")
wrk.headers["Connection"] = "close"
LUA
close $gs;
my @pids;
for my $cmd ("$wrk -t4 -c4 -d4s --timeout 30s -s $script $base > $out 2>&1",
             "$wrk -t1 -c16 -d4s --timeout 30s -s $gscript $base/workstations/gl-0 > $gout 2>&1") {
    my $pid = fork() // die;
    if ($pid == 0) { exec($cmd) or exit 1; }
    push @pids, $pid;
}
sleep 1.5;
my $before = () = do { local $/; open my $l, '<', $errlog; <$l> } =~ /resuming normal operations/g;
ok(kill('USR1', $srv->pid), 'graceful restart requested under load');
waitpid($_, 0) for @pids;
my $after = () = do { local $/; open my $l, '<', $errlog; <$l> } =~ /resuming normal operations/g;
ok($after > $before, 'a new generation took over during the load');

my $res = do { local $/; open my $o, '<', $out or die; <$o> };
my ($req, $non2xx, $conn, $rd, $wr, $to) =
    wrk_result($res);
ok(defined $req && $req > 40, "the cycle made " . ($req // 0) . " requests") or diag($res);
is($conn + $rd + $wr + $to, 0, 'cycle: no socket errors, no request dropped') or diag($res);
# In order, every step is allowed: a refusal is the store's (a 503 of the
# database's deadline on a loaded machine), rare.
ok($non2xx <= $req / 100, "cycle: $non2xx steps refused, at most 1%");

# Every 2xx was a transition or a report that changed state.  So the versions
# grew by the acknowledged changes, plus at most the 4 requests in flight
# when wrk stopped counting at the end of its run, and the refused ones
# whose outcome was unknown (a dbd 503 past its deadline may have committed).
my $delta = 0;
$delta += version($_) - $v0{$_} for @ids;
my $acked = $req - $non2xx;
ok($delta >= $acked && $delta <= $acked + 4 + $non2xx,
   "every one of the $acked acknowledged changes is in the store ($delta)")
    or diag("versions grew by $delta; $req requests, $non2xx refused");

my $gres = do { local $/; open my $o, '<', $gout or die; <$o> };
my ($greq, $gnon, @gerr) =
    wrk_result($gres);
ok(defined $greq && $greq > 100, "the GET load made " . ($greq // 0) . " requests") or diag($gres);
is(($gerr[0] // 1) + ($gerr[1] // 1) + ($gerr[2] // 1) + ($gerr[3] // 1), 0,
   'GETs: no socket errors') or diag($gres);
is($gnon, 0, 'GETs: every one answered 200');
my $ok = 1;
for my $id (@ids) {
    my $r = $ua->get("$base/workstations/$id");
    $ok &&= $r->code == 200;
}
ok($ok, 'every workstation is there');
$ua->request(HTTP::Request->new(DELETE => "$base/lifecycle/v1/resources/workstation/$_")) for @ids;
