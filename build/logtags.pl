#!/usr/bin/perl
# build/logtags.pl [DIR [LOGTAGS.md]] — the tags of the module's log lines,
# checked against the code (mod_lifecycle/core/lc_log.h says what they are).
#
# In the module's sources (DIR, cli/ left out: the tools write to their own
# stderr):
#   - every LC_LOGNO(n) has five digits, and no n is used twice;
#   - every log call has a tag: each ap_log_error/ap_log_rerror/ap_log_cerror/
#     ap_log_perror call, and each message of the pure core that the httpd
#     layer writes to the error log (lc_journal_dir_say, lc_dbd_log), holds an
#     LC_LOGNO(n), or LC_TAGGED/LC_TAGGED_LEN (a message tagged where it was
#     made), or LC_LOGNO_NONE (a line without a tag by design, whose file the
#     list names);
# and in the operators' list (conf/LOGTAGS.md), rows "| LC01234 | level | meaning |":
#   - every tag of the code has exactly one row, with a level and a meaning;
#   - a row's level names the level of its call (APLOG_WARNING: warn, ...;
#     lc_journal_dir_say and lc_dbd_log: their own, see %pure below) when the call
#     says it;
#   - a row whose level is "retired" is a number whose line has gone: it
#     stays listed so that it is never given again, and the code must not use it;
#     every other row is a tag of the code.
# Prints every problem; exit 1 if any.  Run by `make unit` and `make suite`.
use strict;
use warnings;
use File::Find ();

my $dir = shift // 'mod_lifecycle';
my $doc = shift // 'conf/LOGTAGS.md';
my @err;

my %aplog = (EMERG => 'emerg', ALERT => 'alert', CRIT => 'crit', ERR => 'error',
             WARNING => 'warn', NOTICE => 'notice', INFO => 'info', DEBUG => 'debug');
my %levels = map { $_ => 1 } values %aplog;
# The pure core's calls: the level argument (the second) as the httpd
# layer's callbacks write it (lc_state.c log_to_httpd, lc_provider_dbd.c src_log).
my %pure = (lc_journal_dir_say => { 0 => 'info', 1 => 'warn' },
            lc_dbd_log => { 0 => 'error', 1 => 'warn' });
my $calls = qr/\b(ap_log_(?:r|c|p|cs)?error|lc_journal_dir_say|lc_dbd_log)\s*\(/;

# The sources, comments blanked (newlines kept, so line numbers stay).
my @files;
File::Find::find({ no_chdir => 1, wanted => sub {
    $File::Find::prune = 1 if -d $_ && $_ eq "$dir/cli";
    push @files, $_ if -f $_ && /\.[ch]$/ && !m{/lc_log\.h$};
} }, $dir);
die "$dir: no source file\n" unless @files;

my (%tag, %none_files, $ncalls, $ntagged);
for my $f (sort @files) {
    open my $fh, '<', $f or die "$f: $!";
    local $/;
    my $text = <$fh>;
    $text =~ s{(/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')}{
        my $m = $1; $m =~ m{^/} ? ($m =~ tr/\n//cdr =~ s/^/ /r) : $m }gse;
    my $line_of = sub { 1 + (substr($text, 0, $_[0]) =~ tr/\n//) };

    while ($text =~ /\bLC_LOGNO\s*\(\s*([^)\s]*)\s*\)/g) {
        my ($n, $at) = ($1, $line_of->($-[0]));
        if ($n !~ /^\d{5}$/) {
            push @err, "$f:$at: LC_LOGNO($n): a tag is five digits, LC_LOGNO(01234)";
            next;
        }
        if ($tag{$n}) {
            push @err, "$f:$at: LC$n is used twice (also $tag{$n}{where})";
            next;
        }
        $tag{$n} = { where => "$f:$at", levels => {} };
    }

    while ($text =~ /$calls/g) {
        my ($fn, $start) = ($1, $-[0]);
        # A definition or declaration, not a call: a type before the name.
        my ($last) = substr($text, 0, $start) =~ /([^\n]*)\z/;
        next if $last =~ /\b(?:void|int)\s+\**\s*$/;
        # The call's text, to its closing parenthesis (strings hold none that count).
        my ($depth, $i, $str) = (0, pos($text) - 1, 0);
        for (; $i < length $text; $i++) {
            my $c = substr($text, $i, 1);
            if ($str) { $i++ if $c eq '\\'; $str = 0 if $c eq '"'; next; }
            if ($c eq '"') { $str = 1; }
            elsif ($c eq '(') { $depth++; }
            elsif ($c eq ')') { last if --$depth == 0; }
        }
        my $call = substr($text, $start, $i - $start + 1);
        my $at = $line_of->($start);
        $ncalls++;
        my @nos = $call =~ /\bLC_LOGNO\s*\(\s*(\d{5})\s*\)/g;
        if (!@nos && $call !~ /\bLC_TAGGED(?:_LEN)?\s*\(|\bLC_LOGNO_NONE\b/) {
            push @err, "$f:$at: $fn() without a tag: LC_LOGNO(n) (or LC_TAGGED(msg), lc_log.h)";
            next;
        }
        $none_files{$f} = "$f:$at" if $call =~ /\bLC_LOGNO_NONE\b/;
        $ntagged++ if @nos;
        # What level the row should name, when the call says it.
        my @lv;
        if ($fn =~ /^ap_log/) {
            @lv = map { $aplog{$_} } $call =~ /\bAPLOG_(EMERG|ALERT|CRIT|ERR|WARNING|NOTICE|INFO|DEBUG)\b/g;
        }
        elsif ($call =~ /^\w+\s*\(\s*[^,]+,\s*(\d+)\s*,/) {
            @lv = ($pure{$fn}{$1} // ());
        }
        for my $n (@nos) {
            $tag{$n}{levels}{$_} = 1 for @lv;
        }
    }
}

# The list.
my (%row, $doctext);
{
    open my $fh, '<', $doc or die "$doc: $!";
    local $/;
    $doctext = <$fh>;
    for my $l (split /\n/, $doctext) {
        next unless $l =~ /^\|\s*`?LC(\S*?)`?\s*\|\s*(.*?)\s*\|\s*(.*?)\s*\|\s*$/;
        my ($n, $level, $meaning) = ($1, $2, $3);
        if ($n !~ /^\d{5}$/) {
            push @err, "$doc: LC$n: a tag is LC and five digits";
            next;
        }
        push @err, "$doc: LC$n is listed twice" if $row{$n};
        my @lv = map { lc } split m{\s*[/,]\s*}, $level;
        push @err, "$doc: LC$n: level '$level' is not retired or a LogLevel name (emerg ... debug, several: warn/error)"
            unless @lv && ($level eq 'retired' || !grep { !$levels{$_} } @lv);
        push @err, "$doc: LC$n: no meaning" unless $meaning =~ /\w/;
        $row{$n} = { levels => { map { $_ => 1 } @lv }, level => $level };
    }
}

for my $n (sort keys %tag) {
    my $r = $row{$n};
    if (!$r) {
        push @err, "$doc: no row for LC$n ($tag{$n}{where})";
        next;
    }
    if ($r->{level} eq 'retired') {
        push @err, "$tag{$n}{where}: LC$n is retired ($doc): give the line a new number";
        next;
    }
    for my $lv (sort keys %{ $tag{$n}{levels} }) {
        push @err, "$doc: LC$n: the code logs it at $lv ($tag{$n}{where}), the row says '$r->{level}'"
            unless $r->{levels}{$lv};
    }
}
for my $n (sort keys %row) {
    push @err, "$doc: LC$n is listed but no code uses it (a line that has gone: level 'retired')"
        unless $tag{$n} || $row{$n}{level} eq 'retired';
}
for my $f (sort keys %none_files) {
    (my $base = $f) =~ s{.*/}{};
    push @err, "$none_files{$f}: LC_LOGNO_NONE, but $doc does not name $base (say why it has no tag)"
        unless index($doctext, $base) >= 0;
}

print "$_\n" for @err;
my $retired = grep { $row{$_}{level} eq 'retired' } keys %row;
printf "logtags: %d log calls, %d tags in the code, %d rows in %s (%d retired)%s\n",
       $ncalls // 0, scalar(keys %tag), scalar(keys %row), $doc, $retired,
       @err ? ': ' . scalar(@err) . ' problem(s)' : ', all match';
exit(@err ? 1 : 0);
