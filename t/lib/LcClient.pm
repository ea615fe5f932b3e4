package LcClient;
# Requests through an LWP agent of the test's own to a server named by its
# base URL: the Apache::Test server where a test wants its own agent
# (keep-alive off, a long timeout, an agent per forked client), or a private
# LcServer.  LcTest's helpers go to the Apache::Test server through
# Apache::TestRequest's agent; these take the agent and the base each call.
# Bodies are JSON text, sent as given.
#
#   call(UA, BASE, METHOD, PATH, BODY, HEADER => VALUE ...)
#                               any request; with a BODY (text) Content-Type: application/json
#   jb(RES)                     the decoded JSON body, or undef (LcTest::jbody)
#   ver(RES)                    the ETag's version as a number (0 when absent)
#   ws_json(ID, STATUS)         a small workstation's admin PUT body (JSON text; STATUS
#                               defaults to 'running')
#   put_ws_at(UA, BASE, ID, STATUS)   admin PUT of that workstation: the response
#   report_at(UA, BASE, ID, STATUS)   the runner's report of STATUS for it: the response
#   del_ws_at(UA, BASE, ID)     admin DELETE of it: the response
#   get_ws_at(UA, BASE, ID)     the dialect GET: (code, decoded body when 200 else undef, ETag)
#   wait_up(UA, BASE, SECS)     1 once BASE's metrics answer 200 (polled every 0.2 s), 0 after
#                               SECS (30 by default)
#   status_auto(UA, BASE)       mod_status's ?auto: (response, [its Lifecycle* lines],
#                               { name after 'Lifecycle' => value })
use strict;
use warnings;
use Exporter 'import';
use HTTP::Request ();
use JSON::PP ();
use Time::HiRes ();
use LcTest ();

our @EXPORT_OK = qw(call jb ver ws_json put_ws_at report_at del_ws_at get_ws_at
                    wait_up status_auto);

my $JSON = JSON::PP->new->canonical;

sub call {
    my ($ua, $base, $m, $path, $body, @h) = @_;
    push @h, ('Content-Type' => 'application/json') if defined $body;
    return $ua->request(HTTP::Request->new($m => "$base$path", \@h, $body));
}

{ no warnings "once"; *jb = \&LcTest::jbody; }

sub ver { my $v = $_[0]->header('ETag') // '"0"'; $v =~ tr/"//d; $v + 0 }

sub ws_json {
    my ($id, $status) = @_;
    return $JSON->encode({ id => $id, name => "n-$id", status => $status // 'running',
        configuration => { cpuCores => 1, memoryGB => 1, gpu => undef, storageGB => 1,
                           region => 'r' } });
}

sub put_ws_at {
    my ($ua, $base, $id, $status) = @_;
    return call($ua, $base, PUT => "/lifecycle/v1/resources/workstation/$id", ws_json($id, $status));
}

sub report_at {
    my ($ua, $base, $id, $status) = @_;
    return call($ua, $base, POST => "/lifecycle/v1/resources/workstation/$id/report",
                $JSON->encode({ status => $status }));
}

sub del_ws_at {
    my ($ua, $base, $id) = @_;
    return call($ua, $base, DELETE => "/lifecycle/v1/resources/workstation/$id");
}

sub get_ws_at {
    my ($ua, $base, $id) = @_;
    my $r = $ua->get("$base/workstations/$id");
    return ($r->code, $r->code == 200 ? $JSON->decode($r->content) : undef, $r->header('ETag'));
}

sub wait_up {
    my ($ua, $base, $secs) = @_;
    my $t0 = Time::HiRes::time();
    while (Time::HiRes::time() - $t0 < ($secs || 30)) {
        return 1 if $ua->get("$base/lifecycle/v1/metrics")->code == 200;
        Time::HiRes::sleep(0.2);
    }
    return 0;
}

sub status_auto {
    my ($ua, $base) = @_;
    my $r = $ua->get("$base/server-status?auto");
    my @lines = grep { /^Lifecycle/ } split /\n/, $r->content;
    my %v = map { /^Lifecycle([^:]+): (.*)$/ ? ($1 => $2) : () } @lines;
    return ($r, \@lines, \%v);
}

1;
