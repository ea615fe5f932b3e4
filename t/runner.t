# lifecycle-runner (conf/RUNNER.md) drives each of the five kinds through
# its full cycle against a private server with LifecycleAutoAdvance off, so
# that nothing moves but what the runner reports: the operator's commands
# (a script of this test that logs each call) run once per move, outcomes
# come back through the admin API, and a runner killed (SIGKILL) mid-move
# and started again finishes the move without running anything twice —
# with the command still running, with it ended while no runner was there,
# and with its outcome lost (reported as a failure, never run again).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LWP::UserAgent ();
use HTTP::Request ();
use JSON::PP ();
use File::Path ();
use POSIX ();
use Time::HiRes qw(sleep time);
use Cwd ();
use LcServer ();          # free_port

plan tests => 82;

my $vars   = Apache::Test::vars();
my $httpd  = $vars->{httpd} && -x $vars->{httpd} ? $vars->{httpd} : '/usr/sbin/apache2';
my $top    = Cwd::abs_path("$vars->{serverroot}/..");
my $runner = "$top/build/lifecycle-runner";
my $module = "$top/build/" . ($ENV{LC_SANITIZE} ? 'san/' : '') . 'mod_lifecycle.so';
my $mods   = '/usr/lib/apache2/modules';
my $mpm    = $ENV{LC_MPM} || 'event';
my $keys   = $ENV{LC_TEST_KEYS} || "$vars->{serverroot}/conf/keys";
my $json   = JSON::PP->new->canonical;
my $ua     = LWP::UserAgent->new(timeout => 30);
my $dir    = "$vars->{t_logs}/runner";
File::Path::remove_tree($dir);
File::Path::make_path("$dir/hold");

my $port = LcServer::free_port();
my $base = "http://127.0.0.1:$port";

sub write_file { my ($f, $text, $mode) = @_;
    open my $fh, '>', $f or die "$f: $!"; print $fh $text; close $fh; chmod $mode, $f if $mode }
sub slurp { local $/; open my $fh, '<', $_[0] or return ''; <$fh> }

# ---- the server: every dialect, nothing moves by itself ------------------------------
my @loc = (['/api/v1/notebooks', 'redivis'], ['/agents', 'notte'], ['/sessions', 'notte'],
           ['/workstations', 'workstation'], ['/resources/wrappers', 'wrapper'],
           ['/v0/pipelines', 'feldera'], ['/v0/config', 'feldera'], ['/lifecycle/v1', 'admin']);
write_file("$dir/httpd.conf", join("\n", "ServerRoot \"$dir\"", 'ServerName localhost',
    "DefaultRuntimeDir \"$dir\"", "PidFile \"$dir/httpd.pid\"", "ErrorLog \"$dir/error_log\"",
    'LogLevel warn', "Listen 127.0.0.1:$port",
    "LoadModule mpm_${mpm}_module $mods/mod_mpm_$mpm.so",
    "LoadModule authz_core_module $mods/mod_authz_core.so",
    "LoadModule lifecycle_module \"$module\"",
    'LifecycleCapacity 1000', 'LifecycleAutoAdvance off', "LifecycleStateDir \"$dir/state\"",
    "LifecycleTokenKey \"$keys/issuer.pub\"",
    map({ ("<Location $_->[0]>", 'SetHandler lifecycle', "LifecycleDialect $_->[1]",
           '</Location>') } @loc), ''));

# ---- the operator's commands: one script, each call logged --------------------------
# A file hold/KIND.ACTION.ID holds the command until the test removes it; an
# id with "fail" in it fails (exit 3); the outputs are what conf/RUNNER.md says a
# command may print.
# One step as the Notte SDK's AgentCompletion (notte_core/agent_types.py).
my $STEP = '{"steps":[{"state":{"previous_goal_status":"success","previous_goal_eval":"e",'
         . '"page_summary":"p","relevant_interactions":[],"memory":"m","next_goal":"g"},'
         . '"action":{"type":"goto","url":"https://example.com"},'
         . '"started_at":"2026-01-01T00:00:00Z","ended_at":"2026-01-01T00:00:01Z"}]}';
write_file("$dir/cmd.sh", <<"SH", 0755);
#!/bin/sh
# cmd.sh ACTION KIND ID VERSION (the resource on stdin)
echo "\$2.\$1 \$3 v\$4 job=\$LC_RUNNER_JOB" >> "$dir/calls.log"
cat > "$dir/stdin.\$2.\$1.\$3"
# Progress on descriptor 3 (lifecycle-runner(1)): a line that is not JSON
# (skipped), then one step of the agent, posted while the command runs.
if [ "\$2.\$1" = agent.run ] && [ "\$LC_RUNNER_REPORT_FD" = 3 ]; then
  echo 'not a report' >&3
  echo '$STEP' >&3
fi
while [ -e "$dir/hold/\$2.\$1.\$3" ] || [ -e "$dir/hold/\$2.\$1.any" ]; do sleep 0.1; done
case "\$3" in *fail*) echo "cannot \$1 \$3" >&2; exit 3 ;; esac
case "\$2.\$1" in
  pipeline.suspend) echo '{"checkpoint_sequence_number":41}' ;;
  wrapper.execute)  printf '{"checkpoint":{"high_water_mark":"hw-%s","low_water_mark":"lw-%s"}}\\n' "\$3" "\$3" ;;
  agent.run)        printf '{"answer":"answer of %s"}\\n' "\$3" ;;
esac
exit 0
SH
my @actions = qw(workstation.launch workstation.stop wrapper.execute wrapper.stop
                 notebook.start notebook.run notebook.stop agent.run agent.stop
                 session.start session.stop pipeline.provision pipeline.initialize
                 pipeline.suspend pipeline.stop);
write_file("$dir/runner.conf", join("\n", "url = $base", "token_file = $keys/all.token",
    "state_dir = $dir/rs", 'jobs = 4', 'timeout = 60',
    map({ "$_ = $dir/cmd.sh %action %kind %id %version" } @actions), ''));

my $rc = system("\"$httpd\" -d \"$dir\" -f \"$dir/httpd.conf\" -k start >\"$dir/start.out\" 2>&1");
is($rc, 0, 'the private server starts (LifecycleAutoAdvance off)');
my $t0 = time;
sleep 0.1 while time - $t0 < 30 && $ua->get("$base/lifecycle/v1/metrics")->code != 200;

my $rpid;
sub start_runner {
    defined($rpid = fork()) or die "fork: $!";
    if (!$rpid) {
        open STDERR, '>>', "$dir/runner.log" or die; open STDOUT, '>&', \*STDERR;
        exec $runner, '--config', "$dir/runner.conf" or POSIX::_exit(127);
    }
}
sub kill_runner { kill 'KILL', $rpid; waitpid $rpid, 0; }
END { if ($rpid) { kill 'TERM', $rpid; waitpid $rpid, 0 }
      system("\"$httpd\" -d \"$dir\" -f \"$dir/httpd.conf\" -k stop >/dev/null 2>&1") }

sub req { my ($m, $path, $body) = @_;
    $ua->request(HTTP::Request->new($m => "$base$path",
        [ defined $body ? ('Content-Type' => 'application/json') : () ],
        defined $body ? (ref $body ? $json->encode($body) : $body) : undef)) }
sub jget { my $r = req(GET => shift); $r->code == 200 ? $json->decode($r->content) : {} }
sub admin { jget("/lifecycle/v1/resources/$_[0]/$_[1]") }
sub put { req(PUT => "/lifecycle/v1/resources/$_[0]/$_[1]", $_[2])->code }
sub wait_until { my ($what, $cond) = @_; my $t = time;
    while (time - $t < 30) { my $v = $cond->(); return $v if $v; sleep 0.1 }
    diag("timed out waiting for $what\n" . slurp("$dir/runner.log")); return 0 }
sub calls { my $pat = shift; scalar grep { /^\Q$pat\E / } split /\n/, slurp("$dir/calls.log") }
sub status_of { my ($kind, $id) = @_; my $r = admin($kind, $id);
    $kind eq 'notebook' ? ($r->{currentJob} // {})->{status} // 'none'
    : $kind eq 'pipeline' ? $r->{deployment_status} // '' : $r->{status} // '' }
sub reaches { my ($kind, $id, $want) = @_;
    wait_until("$kind/$id $want", sub { status_of($kind, $id) eq $want }) }
sub hold { write_file("$dir/hold/$_[0]", '') }
sub release { unlink "$dir/hold/$_[0]" }
sub jobs_on_disk { my @f = glob("$dir/rs/jobs/*.job"); scalar @f }

my $ws = { name => 'W', status => 'stopped', configuration => { cpuCores => 1, memoryGB => 1,
           gpu => undef, storageGB => 1, region => 'r' } };
start_runner();

# ---- workstations: provisioning -> launch -> running; stop -> stop ---------------------
is(put(workstation => 'ws-a', { %$ws, id => 'ws-a' }), 201, 'workstation created, stopped');
is(req(POST => '/workstations/ws-a/launch')->code, 200, 'launch: 200');
is(status_of(workstation => 'ws-a'), 'provisioning', 'provisioning: waiting for the runner');
ok(reaches(workstation => 'ws-a', 'running'), 'the runner launched it: running');
like(slurp("$dir/stdin.workstation.launch.ws-a"), qr/"status":"provisioning"/,
     'the command had the resource on stdin');
is(req(POST => '/workstations/ws-a/stop')->code, 200, 'stop: 200');
ok(wait_until('workstation.stop', sub { calls('workstation.stop ws-a') }), 'the stop command ran');
ok(wait_until('no job left', sub { !jobs_on_disk() }), 'its job is done');
is(status_of(workstation => 'ws-a'), 'stopped', 'still stopped (a stop that works reports nothing)');
is(put(workstation => 'ws-fail', { %$ws, id => 'ws-fail' }), 201, 'a workstation whose launch fails');
req(POST => '/workstations/ws-fail/launch');
ok(reaches(workstation => 'ws-fail', 'error'), 'the launch failed: error');

# ---- wrappers: running -> execute -> completed with its water marks; a stop cancels ------
is(put(wrapper => 'wr-a', { wrapper_id => 'wr-a', type => 'api', status => 'idle',
       checkpoint => { high_water_mark => 'h0', low_water_mark => 'l0' } }), 201, 'wrapper created');
is(req(POST => '/resources/wrappers/wr-a/execute')->code, 200, 'execute: 200');
ok(reaches(wrapper => 'wr-a', 'completed'), 'the runner ran it: completed');
is_deeply(admin(wrapper => 'wr-a')->{checkpoint}, { high_water_mark => 'hw-wr-a', low_water_mark => 'lw-wr-a' },
          'with the water marks its command reported');
is(put(wrapper => 'wr-b', { wrapper_id => 'wr-b', type => 'csv', status => 'idle' }), 201, 'a second wrapper');
hold('wrapper.execute.wr-b');
req(POST => '/resources/wrappers/wr-b/execute');
ok(wait_until('wr-b executing', sub { calls('wrapper.execute wr-b') }), 'its execute command runs');
is(req(POST => '/resources/wrappers/wr-b/stop')->code, 200, 'a user stops it meanwhile');
ok(wait_until('wrapper.stop', sub { calls('wrapper.stop wr-b') }), 'the stop command ran');
ok(wait_until('no job left', sub { !jobs_on_disk() }), 'the cancelled execute is over too');
release('wrapper.execute.wr-b');
is(status_of(wrapper => 'wr-b'), 'stopped', 'stopped, not completed: the cancelled outcome was not reported');
like(slurp("$dir/runner.log"), qr{wrapper/wr-b v\d+: execute cancelled}, 'the log says so');

# ---- Redivis notebooks: queued -> start -> running -> run -> completed (or failed) ----
sub nb { my ($id, $name) = @_; { kind => 'notebook', id => $id, name => $name,
    qualifiedReference => "u.wf:wf01.$name:$id", referenceId => $id, currentJob => undef } }
is(put(notebook => 'nb0a', nb('nb0a', 'book')), 201, 'notebook created');
is(req(POST => '/api/v1/notebooks/u.wf.book/run')->code, 200, 'run: 200');
ok(reaches(notebook => 'nb0a', 'completed'), 'queued -> running -> completed, by the runner');
is(calls('notebook.start nb0a') . calls('notebook.run nb0a'), '11', 'start and run, once each');
is(jget('/api/v1/notebooks/u.wf.book')->{status}, 'stopped', "Redivis's own view: stopped");
is(put(notebook => 'nb0fail', nb('nb0fail', 'bad')), 201, 'a notebook whose job fails');
req(POST => '/api/v1/notebooks/u.wf.bad/run');
ok(reaches(notebook => 'nb0fail', 'failed'), 'its job failed');
is(admin(notebook => 'nb0fail')->{currentJob}{errorMessage}, 'notebook.start exited with status 3',
   'with the message in errorMessage');

# ---- Notte: a session started, an agent run to its answer, the session stopped ---------
my $s = $json->decode(req(POST => '/sessions/start', { headless => JSON::PP::true })->content);
my $sid = $s->{session_id};
ok(wait_until('session.start', sub { calls("session.start $sid") }), 'session.start ran');
hold('agent.run.any');
my $ag = $json->decode(req(POST => '/agents/start', { task => 't', session_id => $sid })->content);
my $aid = $ag->{agent_id};
ok(wait_until('a step', sub { @{ admin(agent => $aid)->{steps} // [] } == 1 }),
   'the step its command wrote on descriptor 3 is posted while it runs');
is(status_of(agent => $aid), 'active', 'the agent is still running');
release('agent.run.any');
ok(reaches(agent => $aid, 'closed'), 'the agent ran: closed');
my $a = admin(agent => $aid);
is_deeply([map { $_->{action}{type} } @{ $a->{steps} }], ['goto'],
          'its step kept through the final report, once');
like(slurp("$dir/runner.log"), qr{agent/\Q$aid\E: .*not a JSON object: skipped},
     'the line that is not JSON is skipped, and logged');
ok($a->{success} && $a->{answer} eq "answer of $aid", 'success, with the answer its command printed');
is(status_of(session => $sid), 'active', 'the session is still active');
is(req(DELETE => "/sessions/$sid/stop")->code, 200, 'the session is stopped');
ok(wait_until('session.stop', sub { calls("session.stop $sid") }), 'session.stop ran');
is(status_of(session => $sid), 'closed', 'closed');
is(calls("agent.stop $aid"), 0, 'no agent.stop: the agent had closed by itself');

# ---- Feldera: start -> Provisioning -> Initializing -> Running; a graceful stop
# passes through Suspended with the checkpoint the command took ---------------------
sub durable_seq { req(GET => '/lifecycle/v1/metrics')->content =~ /^lifecycle_journal_durable_seq (\d+)$/m ? $1 : 0 }
my $since = durable_seq();
is(put(pipeline => 'pl-a', { name => 'pl-a', deployment_status => 'Stopped' }), 201, 'pipeline created');
is(req(POST => '/v0/pipelines/pl-a/start')->code, 202, 'start: 202');
ok(reaches(pipeline => 'pl-a', 'Running'), 'Provisioning -> Initializing -> Running');
is(req(POST => '/v0/pipelines/pl-a/stop?force=false')->code, 202, 'a graceful stop: 202');
ok(reaches(pipeline => 'pl-a', 'Stopped'), '... -> Stopped');
my @seen = map { [$_->{resource}{deployment_status}, $_->{resource}{deployment_desired_status},
                  $_->{resource}{checkpoint_sequence_number}] }
           grep { $_->{kind} eq 'pipeline' && $_->{id} eq 'pl-a' }
           @{ jget("/lifecycle/v1/changes?since=$since&wait=0")->{changes} };
is_deeply(\@seen, [['Stopped', 'Stopped', 0], ['Provisioning', 'Running', 0],
                   ['Initializing', 'Running', 0], ['Running', 'Running', 0],
                   ['Running', 'Suspended', 0], ['Suspended', 'Suspended', 41],
                   ['Stopping', 'Stopped', 41], ['Stopped', 'Stopped', 41]],
          'every status in order, Suspended with the checkpoint (41) its command took')
    or diag explain \@seen;
is(join(',', map { calls("pipeline.$_ pl-a") } qw(provision initialize suspend stop)), '1,1,1,1',
   'each command once');

# ---- killed mid-move, started again: nothing twice ------------------------------------
# (a) the command still running when the runner starts again
is(put(workstation => 'ws-k', { %$ws, id => 'ws-k' }), 201, 'ws-k created');
hold('workstation.launch.ws-k');
req(POST => '/workstations/ws-k/launch');
ok(wait_until('launch running', sub { calls('workstation.launch ws-k') }), 'its launch runs');
kill_runner();
is(status_of(workstation => 'ws-k'), 'provisioning', 'runner killed (SIGKILL) mid-launch');
start_runner();
ok(wait_until('adopted', sub { slurp("$dir/runner.log") =~ m{workstation/ws-k v2: launch found in flight \(its command is still running\)} }),
   'the new runner finds the launch still running');
release('workstation.launch.ws-k');
ok(reaches(workstation => 'ws-k', 'running'), 'and reports it when it ends: running');
is(calls('workstation.launch ws-k'), 1, 'launched once');

# (b) the command ends while no runner is there
is(put(notebook => 'nb0k', nb('nb0k', 'kbook')), 201, 'nb0k created');
hold('notebook.run.nb0k');
req(POST => '/api/v1/notebooks/u.wf.kbook/run');
ok(wait_until('run running', sub { calls('notebook.run nb0k') }), 'its job runs (after start)');
kill_runner();
release('notebook.run.nb0k');
ok(wait_until('outcome on disk', sub { glob("$dir/rs/jobs/notebook+nb0k+*+run.out") }),
   'the job ends while no runner runs: its outcome is kept on disk');
is(status_of(notebook => 'nb0k'), 'running', 'not reported yet');
start_runner();
ok(reaches(notebook => 'nb0k', 'completed'), 'the new runner reports it: completed');
is(calls('notebook.start nb0k') . calls('notebook.run nb0k'), '11', 'start and run once each');

# (c) the outcome is lost (its supervisor killed too): a failure, not a second run
is(put(wrapper => 'wr-k', { wrapper_id => 'wr-k', type => 'api', status => 'idle' }), 201, 'wr-k created');
hold('wrapper.execute.wr-k');
req(POST => '/resources/wrappers/wr-k/execute');
ok(wait_until('execute running', sub { calls('wrapper.execute wr-k') }), 'its execute runs');
kill_runner();
my ($pidf) = glob("$dir/rs/jobs/wrapper+wr-k+*+execute.pid");
my ($sup) = split ' ', slurp($pidf // '');
ok($sup && kill('KILL', $sup), 'its supervisor is killed too (SIGKILL)');
release('wrapper.execute.wr-k');
start_runner();
ok(reaches(wrapper => 'wr-k', 'failed'), 'the new runner reports the lost outcome: failed');
like(slurp("$dir/runner.log"), qr{wrapper/wr-k v2: execute was interrupted}, 'the log says why');
is(calls('wrapper.execute wr-k'), 1, 'executed once, never again');

# (d) killed after deciding, before `since` was written: the changes seen again
my $before = durable_seq();
is(put(pipeline => 'pl-k', { name => 'pl-k', deployment_status => 'Stopped' }), 201, 'pl-k created');
hold('pipeline.initialize.pl-k');
req(POST => '/v0/pipelines/pl-k/start');
ok(wait_until('initialize running', sub { calls('pipeline.initialize pl-k') }), 'provisioned, initializing');
kill_runner();
write_file("$dir/rs/since", "$before\n");     # as if no page after pl-k's creation was saved
# The supervisor, still running, may be writing its outcome through its
# temporary file while the new runner recovers: that file must stay (a
# recovery that removed it lost the outcome: 'cannot write its outcome').
my ($plk) = map { m{/([^/]+)\.job$} } glob("$dir/rs/jobs/pipeline+pl-k+*+initialize.job");
write_file("$dir/rs/jobs/.$plk.out.tmp", '');
write_file("$dir/rs/jobs/.stray.tmp", '');
start_runner();
ok(wait_until('pl-k adopted', sub { slurp("$dir/runner.log") =~ m{pipeline/pl-k v\d+: initialize found in flight} }),
   'the new runner finds the initialize in flight');
ok(-e "$dir/rs/jobs/.$plk.out.tmp" && !-e "$dir/rs/jobs/.stray.tmp",
   "recovery keeps a live job's temporary file, removes a stray one");
release('pipeline.initialize.pl-k');
ok(reaches(pipeline => 'pl-k', 'Running'), 'Running');
is(join(',', map { calls("pipeline.$_ pl-k") } qw(provision initialize)), '1,1',
   'its changes seen again: nothing provisioned or initialized twice');

# ---- the runner's state and log -------------------------------------------------------
ok(wait_until('no job left', sub { !jobs_on_disk() }), 'no job left on disk');
ok(-s "$dir/rs/since", 'since is kept');
my $log = slurp("$dir/runner.log");
my $token = slurp("$keys/all.token"); $token =~ s/\s+//g;
ok(index($log, $token) < 0 && $log !~ /Bearer/, 'the token is never logged');
like($log, qr{pipeline/pl-a: reported Suspended \(report 200, now v\d+\)}, 'one line per action');
is(scalar(() = $log =~ /^\S+ \S+ lifecycle-runner: /mg), scalar(() = $log =~ /lifecycle-runner: /g),
   'each line stamped')
    or diag(join("\n", 'lines not stamped:',
                 grep { /lifecycle-runner: / && !/^\S+ \S+ lifecycle-runner: / } split /\n/, $log));
like(`$runner --help`, qr/usage: lifecycle-runner/, '--help');
isnt(system("$runner --config /nonexistent/x.conf 2>/dev/null"), 0, 'a missing configuration is an error');
ok(system("$runner --config \"$dir/runner.conf\" --check >/dev/null") == 0, '--check accepts the configuration');
