# Start-up of LifecycleStore dbd, each case a private server of
# its own on a database of its own in the run's PostgreSQL (LC_PG_DIR):
# without mod_dbd it refuses to start with one line; a schema newer than the
# module knows refuses start-up with one line and leaves the database as it
# was; three servers started at once on an empty database create the schema
# once between them and serve one state; an unreachable database does not
# stop the start, and requests answer 503 with Retry-After.  Runs only in
# the suite's run against LifecycleStore dbd.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use LWP::UserAgent ();
use JSON::PP ();
use POSIX ();
use LcTest ();
use LcServer;
use LcClient qw(put_ws_at);
use LcPg qw(pg_psql);

LcTest::dbd_only();
plan tests => 16;

my $vars  = Apache::Test::vars();
my $pgdir = $ENV{LC_PG_DIR};
my $json  = JSON::PP->new->canonical;
my $ua    = LWP::UserAgent->new(timeout => 15);
my @servers;
END { $_->stop('TERM') for grep { $_ } @servers }

sub params_for { (my $p = $ENV{LC_DBD_PARAMS}) =~ s/dbname=\S+/dbname=$_[0]/; $p }
sub said { my $s = shift; (LcServer::slurp("$s->{dir}/start.out") // '') . "\n" . $s->log }

# ---- LifecycleStore dbd without mod_dbd ------------------------------------------------------------
{
    my $s = LcServer->new('dbd_config_no_mod_dbd', dbd => 1, no_mod_dbd => 1);
    push @servers, $s;
    ok(!$s->start(10), 'LifecycleStore dbd without mod_dbd loaded: the server does not start');
    my @lines = grep { /LifecycleStore/ && /mod_dbd|dbd_module/ } split /\n/, said($s);
    is(scalar @lines, 1, 'one line says so, naming LifecycleStore and mod_dbd') or diag(said($s));
    $s->stop('TERM');
}

# ---- a schema newer than the module knows ---------------------------------------------------------------
{
    pg_psql($pgdir, 'DROP DATABASE IF EXISTS lc_newer', db => 'lifecycle', stderr => 1);
    pg_psql($pgdir, 'CREATE DATABASE lc_newer', db => 'lifecycle', stderr => 1);
    pg_psql($pgdir, "CREATE TABLE lc_meta (key text PRIMARY KEY, value text); "
                     . "INSERT INTO lc_meta VALUES ('schema', '99')", db => 'lc_newer', stderr => 1);
    my $s = LcServer->new('dbd_config_newer', dbd => 1, dbd_params => params_for('lc_newer'));
    push @servers, $s;
    ok(!$s->start(10), 'a database with schema version 99: the server does not start');
    my @lines = grep { /schema/ && /\b99\b/ } split /\n/, said($s);
    is(scalar @lines, 1, 'one line says so, naming the version') or diag(said($s));
    $s->stop('TERM');
    is_deeply([pg_psql($pgdir, "SELECT value FROM lc_meta WHERE key = 'schema'",
                       db => 'lc_newer', stderr => 1)], [1, '99'],
              'the version in the database is left as it was');
    is_deeply([pg_psql($pgdir, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                       db => 'lc_newer', stderr => 1)], [1, '1'],
              'and no table was added beside lc_meta');
}

# ---- three servers started at once on an empty database --------------------------------------------------
{
    pg_psql($pgdir, 'DROP DATABASE IF EXISTS lc_fresh', db => 'lifecycle', stderr => 1);
    pg_psql($pgdir, 'CREATE DATABASE lc_fresh', db => 'lifecycle', stderr => 1);
    my @s = map { LcServer->new("dbd_config_fresh$_", dbd => 1, dbd_params => params_for('lc_fresh')) } 1 .. 3;
    push @servers, @s;
    my @pids;
    for my $s (@s) {
        my $pid = fork() // die;
        if ($pid == 0) { POSIX::_exit($s->start(30) ? 0 : 1) }
        push @pids, $pid;
    }
    my $started = grep { waitpid($_, 0) == $_ && $? == 0 } @pids;
    is($started, 3, 'three servers started at the same moment on an empty database all serve')
        or diag(join "\n", map { said($_) } @s);
    is_deeply([pg_psql($pgdir, "SELECT value FROM lc_meta WHERE key = 'schema'",
                       db => 'lc_fresh', stderr => 1)], [1, '2'],
              'the schema is there, version 2');
    is(put_ws_at($ua, $s[0]->base, 'cfg-fresh')->code, 201, 'create through the first');
    my $r = $ua->get($s[2]->base . '/workstations/cfg-fresh');
    is_deeply([$r->code, $r->header('ETag')], [200, '"1"'], 'the third serves it');
    $r = $ua->post($s[1]->base . '/workstations/cfg-fresh/stop');
    is_deeply([$r->code, $r->header('ETag')], [200, '"2"'], 'the second stops it');
    $_->stop('TERM') for @s;
}

# ---- an unreachable database ----------------------------------------------------------------------------
{
    my $s = LcServer->new('dbd_config_unreachable', dbd => 1,
        dbd_params => "host=$vars->{t_logs}/no-such-database dbname=lifecycle user=lifecycle connect_timeout=2");
    push @servers, $s;
    ok($s->start(30), 'an unreachable database: the server starts anyway') or diag(said($s));
    my $r = $ua->get($s->base . '/workstations/cfg-x');
    my $b = eval { $json->decode($r->content) } || {};
    is_deeply([$r->code, ($r->header('Retry-After') // '') =~ /^\d+$/ ? 1 : 0],
              [503, 1], 'a GET answers 503 with Retry-After');
    is_deeply([join(',', sort keys %$b), $b->{status}, $b->{error}],
              ['error,message,status', 503, 'Service Unavailable'], 'in the workstation error shape');
    is(put_ws_at($ua, $s->base, 'cfg-x')->code, 503, 'an admin PUT: 503');
    ok(scalar(grep { /\[lifecycle:(warn|error)\]/ } split /\n/, $s->log), 'the error log says why')
        or diag($s->log);
    $s->stop('TERM');
}
pg_psql($pgdir, "DROP DATABASE IF EXISTS $_ WITH (FORCE)", db => 'lifecycle', stderr => 1) for qw(lc_newer lc_fresh);
