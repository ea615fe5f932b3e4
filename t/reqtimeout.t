# mod_reqtimeout is loaded: a connection that sends half a request header
# and stalls gets httpd's 408 and is closed after the configured header
# time (3 s in t/conf/extra.conf.in), instead of holding a worker for the
# whole Timeout.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use IO::Socket::INET ();
use IO::Select ();
use Time::HiRes ();

plan tests => 4;

my ($host, $port) = split /:/, Apache::TestRequest::hostport();
my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Proto => 'tcp')
    or die "connect: $!";
my $t0 = Time::HiRes::time();
print $sock "GET /workstations/rt-1 HTTP/1.1\r\nHost: localhost\r\n";   # no blank line
$sock->flush;

# Read until the server closes, at most 10 s.
my ($got, $closed) = ('', 0);
my $sel = IO::Select->new($sock);
while (Time::HiRes::time() - $t0 < 10 && $sel->can_read(10 - (Time::HiRes::time() - $t0))) {
    my $n = sysread($sock, my $buf, 4096);
    if (!$n) { $closed = 1; last }
    $got .= $buf;
}
my $took = Time::HiRes::time() - $t0;

like($got, qr{^HTTP/1\.1 408 }, 'the stalled request gets 408 Request Timeout') or diag $got;
ok($closed, 'and the connection is closed');
cmp_ok($took, '>=', 2.5, "not before the header time (took ${took}s)");
cmp_ok($took, '<', 5, "within the header time of 3 s (took ${took}s)");
