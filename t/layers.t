# The layer check (build/layers.pl) sees what it is for: on a copy of the
# sources, each planted violation fails it with a word about layers, and the
# tree as it is passes.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Cwd ();
use File::Temp ();

plan tests => 14;

my $top = Cwd::abs_path(Apache::Test::vars('serverroot') . '/..');

# Runs layers.pl on a fresh copy of mod_lifecycle/ after $plant (a sub
# given the copy's path) changed it: (exit status, output).
sub check_with {
    my ($plant) = @_;
    my $tmp = File::Temp->newdir('lc-layers.XXXXXX', TMPDIR => 1);
    system('cp', '-a', "$top/mod_lifecycle", "$tmp/src") == 0 or die "cp: $?";
    $plant->("$tmp/src") if $plant;
    my $out = `perl "$top/build/layers.pl" "$tmp/src" 2>&1`;
    return ($? >> 8, $out);
}

sub prepend { my ($file, $text) = @_;
    open my $in, '<', $file or die "$file: $!"; local $/; my $s = <$in>; close $in;
    open my $out, '>', $file or die "$file: $!"; print $out $text, $s; close $out }

my ($rc, $out) = check_with(undef);
is($rc, 0, 'the tree as it is passes') or diag $out;
like($out, qr/no cycle/, '... and says so');

($rc, $out) = check_with(sub { prepend("$_[0]/kinds/lc_kind_wrapper.c", "#include <httpd.h>\n") });
is($rc, 1, 'a kind including <httpd.h> fails');
like($out, qr{^layers: kinds/lc_kind_wrapper\.c is in the pure core and includes httpd's httpd\.h$}m,
     '... naming the file, the layer and the header') or diag $out;

($rc, $out) = check_with(sub { prepend("$_[0]/core/lc_time.h", "#include <http_log.h>\n") });
is($rc, 1, 'a core header including <http_log.h> fails');
like($out, qr{^layers: kinds/lc_kind_feldera\.c is in the pure core and includes httpd's http_log\.h \(through lc_time\.h\)$}m,
     '... and each file reaching it through its headers is named') or diag $out;

($rc, $out) = check_with(sub { prepend("$_[0]/store/shm/lc_record.c", qq{#include "lc_config.h"\n}) });
is($rc, 1, 'a store file including a header of the httpd layer fails');
like($out, qr{^layers: store/shm/lc_record\.c is in the pure core and includes httpd/lc_config\.h, of the httpd layer$}m,
     '... naming the header\'s folder') or diag $out;

($rc, $out) = check_with(sub { prepend("$_[0]/store/dbd/lc_dbd_row.c", qq{#include "lc_journal.h"\n}) });
is($rc, 1, 'one store including the other\'s header fails');
like($out, qr{^layers: store/dbd/lc_dbd_row\.c includes store/shm/lc_journal\.h: one store backend does not use the other's$}m,
     '... saying so') or diag $out;

($rc, $out) = check_with(sub { prepend("$_[0]/core/lc_kind.h", qq{#include "lc_engine.h"\n}) });
is($rc, 1, 'a cycle fails (lc_kind <-> lc_engine)');
like($out, qr{^cycle: .*\blc_engine\b.*\blc_kind\b}m, '... and is printed') or diag $out;

($rc, $out) = check_with(sub { open my $f, '>', "$_[0]/lc_new.c" or die; print $f "int lc_new;\n" });
is($rc, 1, 'a source outside the layers\' folders fails');
like($out, qr{^layers: \S+/lc_new\.c is in no layer's folder}m, '... naming it') or diag $out;
