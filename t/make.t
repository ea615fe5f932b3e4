# The build itself: a plain `make` builds what README says (deps, the module
# and the lifecycle-token and lifecycle-journal CLIs), and the build and the tests need nothing
# outside the repository (the token vectors are in t/vectors).
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Cwd ();
use File::Find ();

plan tests => 6;

my $top = Cwd::abs_path(Apache::Test::vars('serverroot') . '/..');

# -n: print, do not run; -B: as if everything were out of date.  The outer
# `make suite` must not leak its flags (jobserver, -s, SANITIZE) into this one.
my $out = do {
    local $ENV{MAKEFLAGS} = '';
    local $ENV{MAKELEVEL};
    delete $ENV{MAKELEVEL};
    local $ENV{SANITIZE};          # a sanitized run exports it: a plain make is meant
    delete $ENV{SANITIZE};
    `make -C "$top" --no-print-directory -n -B 2>&1`;
};
is($? >> 8, 0, 'make -n -B succeeds') or diag $out;
like($out, qr{^bash build/deps\.sh build$}m, 'plain make runs deps first') or diag $out;
like($out, qr{^cp build/obj/\.libs/mod_lifecycle\.so build/mod_lifecycle\.so$}m,
     'plain make builds the module') or diag $out;
like($out, qr{ -o build/lifecycle-token }, 'plain make builds the lifecycle-token CLI') or diag $out;
like($out, qr{ -o build/lifecycle-journal }, 'plain make builds the lifecycle-journal CLI') or diag $out;

# Nothing in the build or the tests reaches beside the checkout (the folder
# the project was written from, which a user's clone does not have).  The
# name is put together here so that this file does not name it itself.
my $beside = join('/', '..', 'share' . 'd');
my @outside;
File::Find::find({ no_chdir => 1, wanted => sub {
    return if m{/t/make\.t$};   # this file names what it looks for
    return unless -f $_ && /(?:\.(?:sh|t|pm|pl|PL|c|h|in|mk)|Makefile)$/;
    return if m{/t/logs/|/build/(?:obj|unit|thirdparty|run|bench)/};
    open my $fh, '<', $_ or return;
    while (my $l = <$fh>) { push @outside, "$_:$.: $l" if $l =~ m{\Q$beside\E|LC_VECTORS} }
}}, "$top/Makefile", "$top/apxs.mk", "$top/build", "$top/t");
is(join('', @outside), '', 'no file of the build or the tests refers beside the checkout or to LC_VECTORS');
