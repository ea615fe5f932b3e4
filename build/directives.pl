#!/usr/bin/perl
# build/directives.pl [CONFIG.c [DIRECTIVES.md]] — the directive reference,
# checked against the code.
#
# Every directive of lc_directives[] (mod_lifecycle/httpd/lc_config.c) has exactly
# one entry ("## Name") in conf/DIRECTIVES.md, and every entry names one of
# them.  Each entry's table has Description, Syntax, Default, Context and
# Module, in that order, and prose after it; its Syntax starts with the
# directive and takes as many arguments as the table's AP_INIT_* says
# (FLAG: on|off); its Context is what the table allows ("directory" when
# ACCESS_CONF is set: those handlers refuse anything outside a <Location>;
# "server config" otherwise: the others refuse a <VirtualHost>).  Prints
# every mismatch; exit 1 if any.  Run by `make unit` and `make suite`.
use strict;
use warnings;

my $src = shift // 'mod_lifecycle/httpd/lc_config.c';
my $doc = shift // 'conf/DIRECTIVES.md';
my @err;

# The table: name => [type, context flags], in table order.
my (%code, @code_order);
{
    open my $fh, '<', $src or die "$src: $!";
    local $/;
    my $text = <$fh>;
    my ($table) = $text =~ /lc_directives\[\]\s*=\s*\{(.*?)\n\};/s
        or die "$src: no lc_directives[] table\n";
    while ($table =~ /AP_INIT_(\w+)\s*\(\s*"(\w+)"\s*,\s*\w+\s*,\s*\w+\s*,\s*([A-Z_ |]+?)\s*,/g) {
        push @err, "$src: $2 twice in lc_directives[]" if $code{$2};
        $code{$2} = [$1, $3];
        push @code_order, $2;
    }
    die "$src: no AP_INIT_* entry in lc_directives[]\n" unless @code_order;
}

# The reference: name => { field => value, prose => text }.
my (%doc, $cur);
{
    open my $fh, '<', $doc or die "$doc: $!";
    while (my $l = <$fh>) {
        chomp $l;
        if ($l =~ /^## (\S+)\s*$/) {
            push @err, "$doc: $1 has two entries" if $doc{$1};
            $cur = $doc{$1} = { fields => [], prose => '' };
        }
        elsif ($l =~ /^#/) {
            $cur = undef;
        }
        elsif ($cur && $l =~ /^\|\s*([A-Z][a-z]+)\s*\|\s*(.*?)\s*\|$/) {
            push @{ $cur->{fields} }, $1;
            $cur->{$1} = $2;
        }
        elsif ($cur && $l =~ /\S/ && $l !~ /^\|/) {
            $cur->{prose} .= "$l\n";
        }
    }
}

my %args = (FLAG => 1, TAKE1 => 1, TAKE2 => 2, TAKE12 => 1, TAKE3 => 3, ITERATE => 1,
            RAW_ARGS => 1, NO_ARGS => 0);
for my $name (@code_order) {
    my ($type, $ctx) = @{ $code{$name} };
    my $d = $doc{$name};
    if (!$d) {
        push @err, "$doc: no entry for $name (lc_directives[] has it)";
        next;
    }
    my $fields = join ',', @{ $d->{fields} };
    push @err, "$doc: $name: fields are '$fields', not Description,Syntax,Default,Context,Module"
        unless $fields eq 'Description,Syntax,Default,Context,Module';
    push @err, "$doc: $name: Module is not mod_lifecycle"
        unless ($d->{Module} // '') eq 'mod_lifecycle';
    push @err, "$doc: $name: no prose after the table" unless $d->{prose} =~ /\w/;
    my ($syntax) = ($d->{Syntax} // '') =~ /^`([^`]+)`$/;
    if (!$syntax || $syntax !~ /^\Q$name\E(\s|$)/) {
        push @err, "$doc: $name: Syntax does not start with `$name`";
    }
    else {
        my @words = split ' ', $syntax;
        my $want = $args{$type} // -1;
        push @err, "$doc: $name: Syntax takes " . (@words - 1) . " argument(s), "
                   . "AP_INIT_$type takes $want" unless @words - 1 == $want;
        push @err, "$doc: $name: a FLAG's Syntax is `$name on\\|off`"
            if $type eq 'FLAG' && $syntax ne "$name on\\|off";
    }
    my $want_ctx = $ctx =~ /ACCESS_CONF/ ? 'directory' : 'server config';
    push @err, "$doc: $name: Context is '" . ($d->{Context} // '') . "', the code says "
               . "'$want_ctx' ($ctx)" unless ($d->{Context} // '') eq $want_ctx;
}
# LifecycleDialect's Syntax names exactly the dialects of lc_registry.h.
{
    (my $reg = $src) =~ s{[^/]*/[^/]*$}{core/lc_registry.h};
    open my $fh, '<', $reg or die "$reg: $!";
    my @names = map { /^LC_REG_DIALECT\((\w+)\)/ ? $1 : () } <$fh>;
    my $want = "LifecycleDialect " . join('\\|', @names);
    my ($have) = ($doc{LifecycleDialect}{Syntax} // '') =~ /^`([^`]+)`$/;
    push @err, "$doc: LifecycleDialect: Syntax is not `$want` (lc_registry.h)"
        if $code{LifecycleDialect} && ($have // '') ne $want;
}
for my $name (sort keys %doc) {
    push @err, "$doc: entry $name is not a directive of lc_directives[]" unless $code{$name};
}

print "$_\n" for @err;
printf "directives: %d in lc_directives[], %d entries in %s%s\n", scalar(@code_order),
       scalar(keys %doc), $doc, @err ? ': ' . scalar(@err) . ' problem(s)' : ', all match';
exit(@err ? 1 : 0);
