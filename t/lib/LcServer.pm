package LcServer;
# A private Apache of a test's own, beside the Apache::Test server: its own
# ServerRoot (under t/logs), Listen on a free port, PidFile, DefaultRuntimeDir
# and ErrorLog; the run's MPM and module (the sanitized one under
# SANITIZE=1).  Under LifecycleStore dbd it loads mod_dbd and serves from
# the run's PostgreSQL (LC_DBD_PARAMS, exported by build/suite.sh), as a
# second host on the same state.
#
#   my $s = LcServer->new('name', extra => [lines], dbd => 1 [, dbd_params => '...',
#                         no_mod_dbd => 1]);
#   $s->start  (1 when it serves, 0 when it refused or died)
#   $s->stop('TERM'|'KILL')  (KILL: the whole process group at once)
#   $s->base  $s->log  $s->pid  $s->{dir}
#
# Processes (of any server):
#   LcServer::test_server_pid()  the Apache::Test server's parent pid (its t_pid_file), or undef
#   LcServer::children(PID)      the pids whose parent is PID
#   LcServer::group_alive(PGID)  whether any process of that process group is left
#   LcServer::slurp(FILE)        the file's bytes, or undef
use strict;
use warnings;
use File::Path ();
use Cwd ();
use IO::Socket::INET ();
use LWP::UserAgent ();
use Time::HiRes qw(sleep time);
use Apache::Test ();

my $mods = '/usr/lib/apache2/modules';

sub free_port {   # a port nothing listens on now, from a random start
    # Below Linux's ephemeral ports (32768-60999): a port an outgoing
    # connection holds cannot be bound, and no connect() finds it.
    my $p = 20000 + int(rand(12000));
    for (1 .. 200) {
        my $sock = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$p", Timeout => 1);
        return $p unless $sock;
        close $sock;
        $p = 20000 + ($p - 20000 + 7) % 12000;
    }
    return $p;
}

sub new {
    my ($class, $name, %o) = @_;
    my $vars  = Apache::Test::vars();
    my $top   = Cwd::abs_path("$vars->{serverroot}/..");
    my $httpd = $vars->{httpd} && -x $vars->{httpd} ? $vars->{httpd} : '/usr/sbin/apache2';
    my $module = "$top/build/" . ($ENV{LC_SANITIZE} ? 'san/' : '') . 'mod_lifecycle.so';
    my $mpm   = $ENV{LC_MPM} || 'event';
    my $keys  = $ENV{LC_TEST_KEYS} || "$vars->{serverroot}/conf/keys";
    my $dir   = "$vars->{t_logs}/servers/$name";
    File::Path::remove_tree($dir);
    File::Path::make_path($dir);
    my $port = $o{port} || free_port();
    my @conf = ("ServerRoot \"$dir\"", 'ServerName localhost', "DefaultRuntimeDir \"$dir\"",
        "PidFile \"$dir/httpd.pid\"", "ErrorLog \"$dir/error_log\"", 'LogLevel info lifecycle:info',
        "Listen 127.0.0.1:$port",
        "LoadModule mpm_${mpm}_module $mods/mod_mpm_$mpm.so",
        "LoadModule authz_core_module $mods/mod_authz_core.so",
        "LoadModule unique_id_module $mods/mod_unique_id.so",
        "LoadModule lifecycle_module \"$module\"",
        "LifecycleTokenKey \"$keys/issuer.pub\"",
        'LifecycleTokenIssuer https://issuer.test', 'LifecycleTokenAudience lifecycle-test',
        'LifecycleAutoAdvance 300ms', 'LifecycleSuspendTimeout 2s');
    if ($o{dbd}) {
        push @conf, "LoadModule dbd_module $mods/mod_dbd.so", 'DBDriver pgsql',
            'DBDParams "' . ($o{dbd_params} // $ENV{LC_DBD_PARAMS} // '') . '"',
            'DBDMin 1', 'DBDKeep 2', 'DBDMax 8' unless $o{no_mod_dbd};
        push @conf, 'LifecycleStore dbd', 'LifecycleFeedPoll 50ms', 'LifecycleFeedRetain 200';
    }
    else {
        push @conf, 'LifecycleCapacity 1000', "LifecycleStateDir \"$dir/state\"";
    }
    push @conf, @{ $o{extra} || [] };
    for my $loc (['/lifecycle/v1', 'admin'], ['/workstations', 'workstation'],
                 ['/api/v1/notebooks', 'redivis'], ['/api/v1/workflows', 'redivis'],
                 ['/agents', 'notte'], ['/sessions', 'notte'],
                 ['/resources/wrappers', 'wrapper'], ['/v0/pipelines', 'feldera'],
                 ['/v0/config', 'feldera']) {
        push @conf, "<Location $loc->[0]>", 'SetHandler lifecycle', "LifecycleDialect $loc->[1]",
                    '</Location>';
    }
    open my $fh, '>', "$dir/httpd.conf" or die "$dir: $!";
    print $fh map { "$_\n" } @conf;
    close $fh;
    return bless { name => $name, dir => $dir, httpd => $httpd, port => $port,
                   base => "http://127.0.0.1:$port",
                   ua => LWP::UserAgent->new(timeout => 10) }, $class;
}

sub base { $_[0]{base} }
sub dir  { $_[0]{dir} }

sub slurp { local $/; open my $fh, '<:raw', $_[0] or return; <$fh> }
sub log  { slurp("$_[0]{dir}/error_log") // '' }

sub pid { my $s = shift; open my $fh, '<', "$s->{dir}/httpd.pid" or return; chomp(my $p = <$fh> // ''); $p }

sub start {    # 1 when it serves; 0 when it refused to start (or died)
    my ($s, $secs) = @_;
    my $rc = system("\"$s->{httpd}\" -d \"$s->{dir}\" -f \"$s->{dir}/httpd.conf\" -k start "
                    . ">\"$s->{dir}/start.out\" 2>&1");
    return 0 if $rc != 0;
    my $t0 = time;
    while (time - $t0 < ($secs || 30)) {
        return 1 if $s->{ua}->get("$s->{base}/v0/config")->code == 200;   # no token, no store
        my $p = $s->pid;
        return 0 if $p && !kill(0, $p);
        sleep 0.1;
    }
    return 0;
}

sub group_alive { my $pg = shift;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next; my $l = <$fh>; close $fh;
        return 1 if defined $l && $l =~ /^\d+ \(.*?\) \S \d+ (\d+)/ && $1 == $pg;
    }
    return 0 }

sub test_server_pid {
    open my $fh, '<', Apache::Test::vars()->{t_pid_file} or return;
    chomp(my $p = <$fh> // '');
    return $p;
}

sub children {
    my $pp = shift;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        open my $fh, '<', $stat or next; my $l = <$fh>; close $fh;
        push @kids, $1 if defined $l && $l =~ /^(\d+) \(.*\) \S (\d+)/ && $2 == $pp;
    }
    return @kids;
}

sub stop {     # signal: KILL (the whole group at once) or TERM (a clean stop)
    my ($s, $sig) = @_;
    $sig ||= 'TERM';
    my $p = $s->pid or return 1;
    kill($sig, $sig eq 'KILL' ? -$p : $p);
    my $t0 = time;
    sleep 0.05 while group_alive($p) && time - $t0 < 20;
    unlink "$s->{dir}/httpd.pid";
    return !group_alive($p);
}

1;
