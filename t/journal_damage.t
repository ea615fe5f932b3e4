# Nothing acknowledged is dropped silently: damage in the middle of
# the journal, and every snapshot damaged after the journal behind them was
# pruned.  Each case runs a private server of its own (its own state
# directory and snapshot interval, the MPM of this run), kills or stops it,
# damages the files, and proves: the server refuses to start with one line
# naming the file, the offset and the changes; no byte is changed; the
# operator's way out (lifecycle-journal salvage) brings back every intact
# change and keeps the damaged file, byte for byte, as *.corrupt.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use LWP::UserAgent ();
use File::Path ();
use Time::HiRes qw(sleep time);
use Cwd ();
use LcServer ();          # free_port, group_alive, slurp
use LcClient qw(put_ws_at);

plan skip_all => 'LifecycleStore dbd: the journal and its snapshots are the shared-memory store\'s '
               . '(state in PostgreSQL is its own to keep)' if ($ENV{LC_STORE} // '') eq 'dbd';
plan tests => 32;

my $vars   = Apache::Test::vars();
my $httpd  = $vars->{httpd} && -x $vars->{httpd} ? $vars->{httpd} : '/usr/sbin/apache2';
my $top    = Cwd::abs_path("$vars->{serverroot}/..");
my $tool   = "$top/build/lifecycle-journal";
# make test SANITIZE=1: $httpd is build/san-httpd.sh (libasan preloaded), and
# the sanitized module is the one to load (build/suite.sh sets LC_SANITIZE).
my $module = "$top/build/" . ($ENV{LC_SANITIZE} ? 'san/' : '') . 'mod_lifecycle.so';
my $mods   = '/usr/lib/apache2/modules';
my $mpm    = $ENV{LC_MPM} || 'event';
my $keys   = $ENV{LC_TEST_KEYS} || "$vars->{serverroot}/conf/keys";
my $ua     = LWP::UserAgent->new(timeout => 10, keep_alive => 1);


sub server {   # name, snapshot interval -> {dir, conf, state, base}
    my ($name, $every) = @_;
    my $dir = "$vars->{t_logs}/journal_damage/$name";
    File::Path::remove_tree($dir);
    File::Path::make_path($dir);
    my $port = LcServer::free_port();
    my @conf = ("ServerRoot \"$dir\"", 'ServerName localhost', "DefaultRuntimeDir \"$dir\"",
        "PidFile \"$dir/httpd.pid\"", "ErrorLog \"$dir/error_log\"", 'LogLevel info',
        "Listen 127.0.0.1:$port",
        "LoadModule mpm_${mpm}_module $mods/mod_mpm_$mpm.so",
        "LoadModule authz_core_module $mods/mod_authz_core.so",
        "LoadModule lifecycle_module \"$module\"",
        'LifecycleCapacity 1000', "LifecycleStateDir \"$dir/state\"",
        "LifecycleSnapshotInterval $every", "LifecycleTokenKey \"$keys/issuer.pub\"",
        '<Location /lifecycle/v1>', 'SetHandler lifecycle', 'LifecycleDialect admin', '</Location>',
        '<Location /workstations>', 'SetHandler lifecycle', 'LifecycleDialect workstation',
        '</Location>');
    open my $fh, '>', "$dir/httpd.conf" or die "$dir: $!";
    print $fh map { "$_\n" } @conf;
    close $fh;
    return { dir => $dir, state => "$dir/state", base => "http://127.0.0.1:$port" };
}

sub start {    # 1 when it serves; 0 when it refused to start (or died)
    my $s = shift;
    unlink "$s->{dir}/error_log";
    # The start-up (recovery included) runs before httpd detaches: a refusal
    # is its exit status.
    my $rc = system("\"$httpd\" -d \"$s->{dir}\" -f \"$s->{dir}/httpd.conf\" -k start "
                    . ">\"$s->{dir}/start.out\" 2>&1");
    if ($rc != 0) {     # a refusal is what some cases expect: say it only in verbose runs
        $s->{why} = "$s->{dir}: apache2 -k start exited " . ($rc >> 8) . ": "
                    . (LcServer::slurp("$s->{dir}/start.out") // '');
        return 0;
    }
    my $t0 = time;
    while (time - $t0 < 30) {
        return 1 if $ua->get("$s->{base}/lifecycle/v1/metrics")->code == 200;
        my $p = pid_of($s);
        if ($p && !kill(0, $p)) {
            diag("$s->{dir}: the server died: " . (LcServer::slurp("$s->{dir}/error_log") // ''));
            return 0;
        }
        sleep 0.1;
    }
    diag("$s->{dir}: not serving after 30 s: " . (LcServer::slurp("$s->{dir}/start.out") // '')
         . (LcServer::slurp("$s->{dir}/error_log") // ''));
    return 0;
}

sub pid_of { my $s = shift; open my $fh, '<', "$s->{dir}/httpd.pid" or return; chomp(my $p = <$fh>); $p }

sub stop {     # signal: KILL (the whole group at once) or TERM (a clean stop)
    my ($s, $sig) = @_;
    my $p = pid_of($s) or return 0;
    kill($sig, $sig eq 'KILL' ? -$p : $p);
    my $t0 = time;
    sleep 0.1 while LcServer::group_alive($p) && time - $t0 < 20;
    unlink "$s->{dir}/httpd.pid";
    return !LcServer::group_alive($p);
}

sub present { my $s = shift; scalar grep { $ua->get("$s->{base}/workstations/$_")->code == 200 } @_ }
sub flip_at { my ($f, $at) = @_;
    open my $fh, '+<:raw', $f or die "$f: $!";
    seek $fh, $at, 0; read $fh, my $b, 1; seek $fh, $at, 0; print $fh chr(ord($b) ^ 0x04); close $fh }
sub log_of { LcServer::slurp("$_[0]{dir}/error_log") // '' }

my @ids = map { sprintf 'jd-%03d', $_ } 1 .. 100;

# 1. One bit flipped in the record of the 50th of 100 acknowledged creates.
{
    my $s = server('middle', '1h');
    ok(start($s), 'middle: the server starts') or diag($s->{why} // '');
    is(scalar(grep { put_ws_at($ua, $s->{base}, $_, 'stopped')->code == 201 } @ids), 100, 'middle: 100 creates acknowledged (201)');
    ok(stop($s, 'KILL'), 'middle: SIGKILL to the whole server');
    my $seg = "$s->{state}/journal-00000001.log";
    my $bytes = LcServer::slurp($seg);
    my $at = index($bytes, 'jd-050');
    ok($at > 0, 'middle: the record of the 50th create is in the first segment');
    flip_at($seg, $at + 2);
    my $damaged = LcServer::slurp($seg);
    ok(!start($s), 'middle: the server refuses to start');
    my @lines = grep { /recovery refused to start/ } split /\n/, log_of($s);
    is(scalar @lines, 1, 'middle: one line says why') or diag(log_of($s));
    like($lines[0] // '', qr{\Q$seg\E is damaged at offset \d+ of ${\ length $damaged} bytes: changes 50 to 50 cannot be read and later changes follow},
         'middle: it names the file, the offset and the changes');
    is(LcServer::slurp($seg), $damaged, 'middle: not a byte of the journal changed');
    ok(!-e "$s->{state}/journal-00000002.log", 'middle: no new segment was made');
    my $check = `"$tool" check "$s->{state}" 2>&1`;
    is($? >> 8, 1, 'middle: lifecycle-journal check fails too');
    like($check, qr/changes 50 to 50 cannot be read/, 'middle: and says the same');
    my $out = `"$tool" salvage "$s->{state}" 2>&1`;
    is($? >> 8, 0, 'middle: lifecycle-journal salvage succeeds') or diag $out;
    like($out, qr/99 resources as of change 100/, 'middle: it keeps 99 resources');
    like($out, qr/lost: 1 changes: 50-50/, 'middle: and names the one change it lost');
    my ($aside) = $out =~ /\*\.corrupt\): (\S+)/;
    is(LcServer::slurp("$aside/journal-00000001.log.corrupt"), $damaged,
       'middle: the damaged segment is kept byte for byte as *.corrupt');
    ok(start($s), 'middle: the server starts after the salvage') or diag($s->{why} // '');
    is(present($s, @ids), 99, 'middle: 99 of 100 workstations are served');
    is($ua->get("$s->{base}/workstations/jd-050")->code, 404, 'middle: the lost one is not');
    is(put_ws_at($ua, $s->{base}, 'jd-050', 'stopped')->code, 201, 'middle: and the server takes new changes');
    ok(stop($s, 'TERM'), 'middle: clean stop');
}

# 2. Snapshots every second, 100 creates over ~5 s, a clean stop, the middle
#    byte of every snapshot flipped: the journal's start was pruned.
{
    my $s = server('snapshots', '1s');
    ok(start($s), 'snapshots: the server starts') or diag($s->{why} // '');
    my $ok = 0;
    for my $id (@ids) { $ok++ if put_ws_at($ua, $s->{base}, $id, 'stopped')->code == 201; sleep 0.05 }
    is($ok, 100, 'snapshots: 100 creates acknowledged');
    sleep 2.5;                                   # a snapshot of the last ones too
    ok(stop($s, 'TERM'), 'snapshots: clean stop');
    my @snaps = glob "$s->{state}/snapshot-*.snap";
    ok(@snaps >= 2 && !-e "$s->{state}/journal-00000001.log",
       'snapshots: two snapshots kept, the first segment pruned') or diag(join ' ', glob "$s->{state}/*");
    for my $f (@snaps) { flip_at($f, int((-s $f) / 2)) }
    ok(!start($s), 'snapshots: the server refuses to start');
    my @lines = grep { /recovery refused to start/ } split /\n/, log_of($s);
    is(scalar @lines, 1, 'snapshots: one line says why') or diag(log_of($s));
    like($lines[0] // '', qr/no usable snapshot \(.*fails its checksum.*\) and the journal (starts at change \d+|holds no change): changes 1 to \d+ are only in those snapshots/,
         'snapshots: it names the damaged snapshots and the changes missing');
    my $out = `"$tool" salvage "$s->{state}" 2>&1`;
    is($? >> 8, 0, 'snapshots: salvage succeeds') or diag $out;
    my ($kept) = $out =~ /(\d+) resources as of change/;
    ok(defined $kept && $kept >= 99, "snapshots: salvage keeps the intact records (${\ ($kept // '?')} of 100)");
    ok(start($s), 'snapshots: the server starts after the salvage') or diag($s->{why} // '');
    is(present($s, @ids), $kept, 'snapshots: it serves exactly what salvage reported');
    ok(stop($s, 'TERM'), 'snapshots: clean stop');
}
