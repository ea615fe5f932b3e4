#!/usr/bin/perl
# build/layers.pl [DIR [OBJDIR]] — the module's files as a graph, checked.
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
# what it includes.  Prints every cycle (a file that
# depends, directly or not, on a file that depends on it) and every file of
# the pure core (the sources the unit tests build without httpd, named by
# the Makefile's UNIT_CORE) that includes an httpd header.  Exit 1 if any.
use strict;
use warnings;

my $dir = shift // 'mod_lifecycle';
my $objdir = shift;
my (%dep, %files);
for my $f (glob("$dir/*.c"), glob("$dir/*.h")) {
    (my $node = $f) =~ s{.*/|\.[ch]$}{}g;
    $files{$node}{$f} = 1;
    open my $fh, '<', $f or die "$f: $!";
    while (<$fh>) {
        next unless /^\s*#\s*include\s+"([^"]+)\.h"/;
        my $to = $1;
        $dep{$node}{$to} = 1 if $to ne $node && -e "$dir/$to.h";
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

# The pure core names no httpd header (it is linked into the unit tests,
# the fuzz targets and the CLIs without Apache).
my $mk = -e 'Makefile' ? do { local (@ARGV, $/) = 'Makefile'; <> } : '';
my ($core) = $mk =~ /^UNIT_CORE\s*:=.*?,([^)]*)\)/m;
for my $c (split ' ', $core // '') {
    open my $fh, '<', "$dir/$c" or next;
    my %seen;
    my @todo = ("$dir/$c");
    while (my $f = shift @todo) {
        next if $seen{$f}++;
        open my $h, '<', $f or next;
        while (<$h>) {
            if (/^\s*#\s*include\s+[<"](httpd|http_\w+|ap_\w+|util_\w+|mod_\w+)\.h[>"]/) {
                print "core file $c reaches httpd header $1.h (through $f)\n";
                $bad++;
            }
            push @todo, "$dir/$1.h" if /^\s*#\s*include\s+"([^"]+)\.h"/ && -e "$dir/$1.h";
        }
    }
}
printf "%d files, %d names, %d dependencies: %s\n", scalar(map { keys %$_ } values %files),
    scalar(keys %files), scalar(map { keys %$_ } values %dep), $bad ? "$bad problems" : 'no cycle';
exit($bad ? 1 : 0);
