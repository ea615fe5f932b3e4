#!/usr/bin/perl
# build/layers.pl [DIR [OBJDIR]] — the module's files as a graph, checked.
#
# The folders of DIR are the layers (mod_lifecycle/ARCHITECTURE.md): httpd/
# and dialects/ (with dialects/notte/) are the httpd layer; core/, kinds/,
# store/shm/, store/dbd/ and token/ are the pure core, which the unit tests,
# the fuzz targets and the CLIs link without Apache.  cli/ is not the module's,
# nor is token/mint/ (the CLI's, the tests' and the fuzz targets' minting):
# pure, checked as the core is, but left out of the module's build (apxs.mk).
#
# Two graphs.  Symbols (from the module's objects in OBJDIR, when given):
# X depends on Y when X.o uses a symbol Y.o defines — what the linker sees,
# so a registry naming the dialects counts as depending on them.  The
# module's own `lifecycle_module` record is left out: every httpd module's
# files share theirs (mod_md's too).  Includes, as below.
#
# A node is a name: lc_store for lc_store.h and lc_store.c.  X depends on Y
# when X.c or X.h includes "Y.h" (Y != X); a header without a .c of its own
# (lc_resource.h, lc_journal_int.h) is no node: including it is including
# what it includes.  Exit 1, each problem printed, on:
#   - a cycle (a file that depends, directly or not, on a file that depends on it);
#   - a file of the pure core that includes an httpd header (<httpd.h>,
#     <http_*.h>, <ap_*.h>, <util_*.h>, <mod_*.h>, <mpm_*.h>) or a header of the
#     httpd layer, itself or through the project's headers it includes;
#   - one store backend including the other's headers (store/shm <-> store/dbd).
use strict;
use warnings;
use File::Find ();

my $dir = shift // 'mod_lifecycle';
my $objdir = shift;
my @httpd_layer = qw(httpd dialects dialects/notte);
my @pure_layer  = qw(core kinds store/shm store/dbd token token/mint);
my (%dep, %files, %folder, %path);
for my $sub (@httpd_layer, @pure_layer) {
    for my $f (glob("$dir/$sub/*.c"), glob("$dir/$sub/*.h")) {
        (my $base = $f) =~ s{.*/}{};
        die "layers: $base is in $sub/ and in $folder{$base}/: file names are unique across folders\n"
            if $folder{$base};
        $folder{$base} = $sub;
        $path{$base} = $f;
    }
}
# A source is in its layer's folder, by its path (a file of another folder
# that has a listed file's name is stray too); cli/ is not the module's.
my @stray;
File::Find::find(sub { push @stray, $File::Find::name
                           if /\.[ch]$/ && ($path{$_} // '') ne $File::Find::name
                              && $File::Find::dir !~ m{/cli$} }, $dir);
if (@stray) {
    print "layers: $_ is in no layer's folder (@httpd_layer @pure_layer)\n" for sort @stray;
    exit 1;
}
for my $base (sort keys %path) {
    (my $node = $base) =~ s{\.[ch]$}{};
    $files{$node}{$path{$base}} = 1;
    open my $fh, '<', $path{$base} or die "$path{$base}: $!";
    while (<$fh>) {
        next unless /^\s*#\s*include\s+"([^"]+)\.h"/;
        my $to = $1;
        $dep{$node}{$to} = 1 if $to ne $node && $folder{"$to.h"};
    }
}

# Headers without a .c are transparent.
my %has_c = map { my $n = $_; ($n => scalar grep { /\.c$/ } keys %{ $files{$n} }) } keys %files;
sub resolve {
    my ($n, $seen) = @_;
    return ($n) if $has_c{$n};
    return () if $seen->{$n}++;
    return map { resolve($_, $seen) } keys %{ $dep{$n} || {} };
}
my %real;
for my $n (grep { $has_c{$_} } keys %files) {
    for my $to (keys %{ $dep{$n} || {} }) {
        $real{$n}{$_} = 1 for grep { $_ ne $n } resolve($to, {});
    }
}
%dep = %real;
%files = map { $_ => $files{$_} } grep { $has_c{$_} } keys %files;

# With objects: symbol edges join the include edges.
if ($objdir && !glob("$objdir/*.o")) {
    print "layers: no objects in $objdir (module built elsewhere): includes only\n";
    $objdir = undef;
}
if ($objdir) {
    my (%def, %use);
    for my $o (glob("$objdir/*.o")) {
        (my $n = $o) =~ s{.*/|\.o$}{}g;
        next unless -e "$dir/$n.c";          # a stale object of a removed source
        for (`nm $o`) {
            if (/^\s+U (\S+)/) { $use{$n}{$1} = 1 }
            elsif (/^[0-9a-f]+ [TDBR] (\S+)/) { $def{$1} = $n }
        }
    }
    for my $n (keys %use) {
        for my $sym (keys %{ $use{$n} }) {
            my $d = $def{$sym};
            $dep{$n}{$d} = 1 if $d && $d ne $n && $sym ne 'lifecycle_module';
        }
    }
}

# Cycles: Tarjan's strongly connected components.
my ($index, @stack, %on, %idx, %low, @cycles) = (0);
sub strong {
    my ($v) = @_;
    $idx{$v} = $low{$v} = $index++;
    push @stack, $v; $on{$v} = 1;
    for my $w (sort keys %{ $dep{$v} || {} }) {
        if (!defined $idx{$w}) { strong($w); $low{$v} = $low{$w} if $low{$w} < $low{$v} }
        elsif ($on{$w}) { $low{$v} = $idx{$w} if $idx{$w} < $low{$v} }
    }
    return unless $low{$v} == $idx{$v};
    my @c;
    while (1) { my $w = pop @stack; $on{$w} = 0; push @c, $w; last if $w eq $v }
    push @cycles, [sort @c] if @c > 1;
}
strong($_) for grep { !defined $idx{$_} } sort keys %files;

my $bad = 0;
for my $c (@cycles) {
    print "cycle: @$c\n";
    $bad++;
}

# The pure core reaches no httpd header and no header of the httpd layer,
# directly or through the project's headers; the two stores stay apart.
my %pure = map { $_ => 1 } @pure_layer;
for my $base (sort grep { $pure{ $folder{$_} } } keys %folder) {
    my (%seen, @todo) = ();
    @todo = ($base);
    while (my $f = shift @todo) {
        next if $seen{$f}++;
        open my $h, '<', $path{$f} or next;
        while (<$h>) {
            my $via = $f eq $base ? '' : " (through $f)";
            if (/^\s*#\s*include\s+[<"]((?:httpd|http_\w+|ap_\w+|util_\w+|mod_\w+|mpm_\w+)\.h)[>"]/) {
                print "layers: $folder{$base}/$base is in the pure core and includes httpd's $1$via\n";
                $bad++;
            }
            next unless /^\s*#\s*include\s+"([^"]+\.h)"/ && $folder{$1};
            my $to = $1;
            if (!$pure{ $folder{$to} }) {
                print "layers: $folder{$base}/$base is in the pure core and includes $folder{$to}/$to, "
                    . "of the httpd layer$via\n";
                $bad++;
            } elsif ($folder{$base} =~ m{^store/} && $folder{$to} =~ m{^store/}
                     && $folder{$to} ne $folder{$base}) {
                print "layers: $folder{$base}/$base includes $folder{$to}/$to: "
                    . "one store backend does not use the other's$via\n";
                $bad++;
            }
            push @todo, $to;
        }
    }
}
printf "%d files, %d names, %d dependencies: %s\n", scalar(map { keys %$_ } values %files),
    scalar(keys %files), scalar(map { keys %$_ } values %dep), $bad ? "$bad problems" : 'no cycle';
exit($bad ? 1 : 0);
