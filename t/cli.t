# The CLIs' own documentation: `--help` answers (exit 0, on stdout) and names
# every subcommand; each has a man page (mod_lifecycle/cli/*.1) that groff
# and man render without a warning, and that names every subcommand and
# every option --help lists.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Cwd ();

my $top = Cwd::abs_path(Apache::Test::vars('serverroot') . '/..');
my %cli = ('lifecycle-token' => [qw(keygen mint inspect)],
           'lifecycle-journal' => [qw(check salvage)]);

# (exit code, stdout, stderr) of a shell command.
sub run {
    my ($cmd) = @_;
    my $err = "$top/t/logs/cli.stderr";
    my $out = `$cmd 2>"$err"`;
    my $rc = $? >> 8;
    open my $fh, '<', $err or die "$err: $!";
    local $/;
    my $e = <$fh> // '';
    return ($rc, $out, $e);
}

for my $name (sort keys %cli) {
    my $bin = "$top/build/$name";
    my $page = "$top/mod_lifecycle/cli/$name.1";
    my ($rc, $out, $err) = run("\"$bin\" --help");
    is($rc, 0, "$name --help exits 0");
    is($err, '', "$name --help: nothing on stderr");
    like($out, qr/^\Q$name\E: \S/, "$name --help: says what it is first");
    for my $sub (@{ $cli{$name} }) {
        like($out, qr/^  \Q$name $sub\E\b/m, "$name --help names $sub");
        ($rc) = run("\"$bin\" $sub --help");
        is($rc, 0, "$name $sub --help exits 0");
    }
    ($rc, $out, $err) = run("\"$bin\"");
    is($rc, 2, "$name without a command: usage error, 2");
    like($err, qr/^usage:/m, "$name without a command: the usage on stderr");

    # The page: renders cleanly, and documents what --help lists.
    ok(-f $page, "$name.1 exists");
    my $src = do { local $/; open my $fh, '<', $page or die "$page: $!"; <$fh> };
    (undef, $out) = run("\"$bin\" --help");
    my %opts = map { $_ => 1 } $out =~ /(--[a-z][a-z-]*)/g;
    for my $o (sort keys %opts) {
        (my $roff = $o) =~ s/-/\\-/g;
        ok(index($src, $roff) >= 0, "$name.1 documents $o");
    }
    for my $sub (@{ $cli{$name} }) {
        like($src, qr/^\.B(?:R)? \Q$sub\E\b|^\.B \Q$name $sub\E\b/m, "$name.1 documents $sub");
    }
    like($src, qr/^\.SH EXIT STATUS$/m, "$name.1 has EXIT STATUS");
  SKIP: {
        skip 'groff is not installed (apt-get install groff-base)', 4
            unless grep { -x "$_/groff" } split /:/, $ENV{PATH} // '';
        ($rc, $out, $err) = run("LC_ALL=C.UTF-8 groff -ww -z -man -Tutf8 \"$page\"");
        is($rc, 0, "$name.1: groff renders it");
        is($err, '', "$name.1: groff -ww: no warning") or diag $err;
        ($rc, $out, $err) = run("LC_ALL=C.UTF-8 MANWIDTH=80 MANPAGER=cat PAGER=cat "
                                . "man --warnings -l \"$page\"");
        is($err, '', "$name.1: man -l --warnings: no warning") or diag $err;
        like($out, qr/^NAME\n\s+\Q$name\E - /m, "$name.1: man -l shows its NAME");
    }
}
done_testing();
