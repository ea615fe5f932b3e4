package LcPg;
# The dbd tests' PostgreSQL through build/pg.sh (the run's cluster is
# LC_PG_DIR; failover tests make clusters of their own), and the figures
# those tests print.
#
#   pg_sh(CMD, ARGS...)         bash build/pg.sh CMD ARGS: true when it exits 0
#   pg_psql(DIR, SQL, %o)       build/pg.sh psql DIR -qAt -c SQL: its output, chomped; in list
#                               context (exited 0, output).  o: db => NAME (-d NAME),
#                               stderr => 1 (stderr in the output; else it is discarded)
#   figure(LINE)                diag(LINE), and the line appended to LC_FAILOVER_REPORT (a file)
#                               when set: diag() does not reach the suite's output
#   repo_top()                  the repository's top folder (of build/)
#
# The failover tests' load (t/dbd_failover.t, t/dbd_autofailover.t):
#   load_start(DIR, PREFIX, [BASES], SHAPE)
#                               four forked writers, writer W through BASES->[W % 2] with a
#                               keep-alive agent, creating workstation PREFIX-W-I (I = 0, 1, ...)
#                               every 20 ms until DIR/load.stop exists; a line for each answer
#                               in DIR/load.W: "sent answered code id retry-after shape", shape
#                               '-' but for a 503: 'shape' when SHAPE->(response) is true, else
#                               'noshape'.  The writers' pids.
#   load_stop(DIR, PIDS)        make DIR/load.stop and wait for the writers
#   load_read(DIR)              what they saw: { acked => [ids answered 2xx], fail => ["code id"],
#                               slow => answers after more than 8 s, noshape, noretry (503s
#                               without Retry-After: 1), first503 (sent), last503 (answered) };
#                               a count none reached is undef
#   writes_back(UA, [BASES], T0, SECS, PAUSE, PREFIX)
#                               a create of PREFIX-<random> tried through each base every PAUSE
#                               seconds until each acknowledged one (201) or SECS after T0:
#                               { base => seconds after T0 of its first 201 }
use strict;
use warnings;
use Exporter 'import';
use Cwd ();
use LWP::UserAgent ();
use POSIX ();
use Time::HiRes ();
use LcClient qw(put_ws_at);
use Test::More ();
use Apache::Test ();

our @EXPORT_OK = qw(pg_sh pg_psql figure repo_top load_start load_stop load_read writes_back);

sub repo_top { Cwd::abs_path(Apache::Test::vars()->{serverroot} . '/..') }

sub pg_sh { system('bash', repo_top() . '/build/pg.sh', @_) == 0 }

sub _sq { my $s = shift; $s =~ s/'/'\\''/g; "'$s'" }

sub pg_psql {
    my ($dir, $sql, %o) = @_;
    my $cmd = join ' ', 'bash', _sq(repo_top() . '/build/pg.sh'), 'psql', _sq($dir),
        (defined $o{db} ? ('-d', _sq($o{db})) : ()), '-qAt', '-c', _sq($sql),
        $o{stderr} ? '2>&1' : '2>/dev/null';
    my $out = `$cmd`;
    my $ok = $? == 0;
    chomp $out;
    return wantarray ? ($ok, $out) : $out;
}

sub figure {
    my $l = shift;
    Test::More::diag($l);
    if ($ENV{LC_FAILOVER_REPORT} && open my $fh, '>>', $ENV{LC_FAILOVER_REPORT}) { print $fh "$l\n" }
}

sub load_start {
    my ($dir, $prefix, $bases, $shape) = @_;
    my @kids;
    for my $w (0 .. 3) {
        my $base = $bases->[$w % 2];
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            open my $out, '>', "$dir/load.$w" or POSIX::_exit(1);
            my $c = LWP::UserAgent->new(timeout => 30, keep_alive => 1);
            my $i = 0;
            while (!-e "$dir/load.stop") {
                my $id = "$prefix-$w-" . $i++;
                my $t1 = Time::HiRes::time();
                my $r = put_ws_at($c, $base, $id, 'running');
                my $s = $r->code != 503 ? '-' : $shape->($r) ? 'shape' : 'noshape';
                syswrite $out, sprintf("%.3f %.3f %d %s %s %s\n", $t1, Time::HiRes::time(),
                                       $r->code, $id, $r->header('Retry-After') // '-', $s);
                Time::HiRes::sleep(0.02);
            }
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    return @kids;
}

sub load_stop {
    my ($dir, @pids) = @_;
    open my $sf, '>', "$dir/load.stop" or die "$dir/load.stop: $!";
    close $sf;
    waitpid($_, 0) for @pids;
}

sub load_read {
    my $dir = shift;
    my %l = (acked => [], fail => []);
    for my $w (0 .. 3) {
        open my $in, '<', "$dir/load.$w" or next;
        while (<$in>) {
            my ($t1, $t2, $code, $id, $ra, $shape) = split;
            if ($code =~ /^2/) { push @{ $l{acked} }, $id; next }
            push @{ $l{fail} }, "$code $id";
            $l{slow}++ if $t2 - $t1 > 8;
            if ($code == 503) {
                $l{noshape}++ if $shape ne 'shape';
                $l{noretry}++ if $ra ne '1';
                $l{first503} = $t1 if !defined $l{first503} || $t1 < $l{first503};
                $l{last503} = $t2 if !defined $l{last503} || $t2 > $l{last503};
            }
        }
    }
    return \%l;
}

sub writes_back {
    my ($ua, $bases, $t0, $secs, $pause, $prefix) = @_;
    my %back;
    while (keys %back < @$bases && Time::HiRes::time() - $t0 < $secs) {
        for my $base (@$bases) {
            next if $back{$base};
            $back{$base} = Time::HiRes::time() - $t0
                if put_ws_at($ua, $base, "$prefix-" . int(rand 1e9), 'running')->code == 201;
        }
        Time::HiRes::sleep($pause);
    }
    return \%back;
}

1;
