# The audit line cannot be forged by a value: every field is a quoted,
# escaped string (mod_lifecycle/ARCHITECTURE.md, "audit line"), so a token `sub` such as
# `x jti=forged sub=admin` stays inside sub="...".
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use LcTest;
use LcAuth qw(lc_mint);

plan tests => 7;


# Stop workstation ID as a token with this sub and jti; the new audit line.
sub stop_as {
    my ($id, $sub, $jti) = @_;
    is(put_ws($id, 'running')->code, 201, "$id seeded");
    my $tok = lc_mint(scope => 'workstations.write', sub => $sub, jti => $jti);
    my $res = req(POST => WS . "/$id/stop", headers => { Authorization => "Bearer $tok" });
    is($res->code, 200, "$id stopped") or diag $res->content;
    my @l = audit_lines(workstation => $id);
    return $l[-1] // '';
}

my $RID = qr/request_id="[A-Za-z0-9\@_-]+"/;

my $line = stop_as('au-forge', 'x jti=forged sub=admin', 'j-1');
like($line, qr/^audit kind="workstation" id="au-forge" from="running" to="stopped" sub="x jti=forged sub=admin" jti="j-1" client="127\.0\.0\.1" $RID$/,
     'a sub with spaces and "key=" stays inside its quotes');
# Read as key="value" pairs, the line has each field once, sub whole.
my @pairs = $line =~ /(\w+)="([^"]*)"/g;
is(join(',', @pairs[grep { $_ % 2 == 0 } 0 .. $#pairs]) . " sub=$pairs[9]",
   'kind,id,from,to,sub,jti,client,request_id sub=x jti=forged sub=admin',
   'parsed as key="value" pairs: eight fields, one jti, the whole sub');

# Quotes, percent signs, backslashes and non-ASCII bytes are %HH: the value
# holds no '"' and no '\' (httpd's error log doubles backslashes).
$line = stop_as('au-quote', "q\" jti=\"f\\\xc3\xa9%", 'j-2');
like($line, qr/^audit kind="workstation" id="au-quote" from="running" to="stopped" sub="q%22 jti=%22f%5C%C3%A9%25" jti="j-2" client="127\.0\.0\.1" $RID$/,
     'a sub with quotes, a backslash, an e-acute and a % is percent-escaped')
    or diag $line;

del_ws($_) for qw(au-forge au-quote);
