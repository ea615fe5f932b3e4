package LcTest;
# Shared helpers for the mod_lifecycle Apache::Test files.
#
#   req(METHOD, PATH, body => STR|REF, headers => {...})   any request; a REF body is JSON-encoded
#   jbody(RES)                  the decoded JSON body, or undef
#   etag(RES)                   the ETag header ('' when absent)
#   ws_obj(ID, STATUS, %over)   a workstation object (hash ref)
#   put_ws(ID, STATUS, %over)   admin PUT of that object;  get_ws(ID)  dialect GET;  del_ws(ID)  admin DELETE
#   ws_state(ID)                [code, status, etag] as the workstation dialect GET sees it
#   wait_status(ID, STATUS, S)  poll the dialect GET up to S seconds; the last status seen
#   slots()                     {used => N, free => N} from /lifecycle/v1/metrics (under
#                               LifecycleStore dbd: {used => resources listed, free => undef})
#   lc_store()                  'shm', or 'dbd' in build/suite.sh's run against PostgreSQL
#   shm_only(WHY)               skip the whole file under dbd, saying why
#   feed_head()                 the change feed's last sequence number, store-neutral
#   audit_lines(KIND, ID, %o)   the audit lines about resource KIND/ID in the error_log, in order,
#                               each from 'audit kind=' on; o: moves => 1 (only those of a
#                               transition: from="-", a creation's, left out), like => qr/.../
#   audit_count(KIND, ID, %o)   how many of those there are (-1 when the error_log cannot be read)
#   detail(RES)                 a {"detail": ...} body's detail (Notte, wrapper), else the body text
#   dbd_only()                  skip the whole file unless this is the run against PostgreSQL
#                               (LifecycleStore dbd, LC_PG_DIR set)
#   delete_all(KIND => [IDS], ...)   admin DELETE of each, in that order: [the ids not answered 204]
# On request (use LcTest qw(:DEFAULT NAME ...)):
#   count_in_log(RE)            how many lines of the error_log match RE (0 when it cannot be read)
#   py_quote(S)                 S percent-encoded as redivis-python's quote(S, safe=''): letters,
#                               digits and "_.-~" kept, everything else encoded, UTF-8 first
#   redivis_payload(RES)        (the decoded X-REDIVIS-ERROR-PAYLOAD header less a non-empty
#                               error_description, or undef; the header as sent, or undef)
#   is_ws_error / is_admin_error / is_detail / unchanged     assertions with a fixed test count (see each)
#
# Each assertion helper runs a fixed number of tests, so that callers can
# `plan tests => N` exactly.
use strict;
use warnings;

use Exporter 'import';
use HTTP::Request ();
use JSON::PP ();
use URI::Escape ();
use Time::HiRes ();
use Test::More ();
use Apache::Test ();
use Apache::TestRequest ();

our @EXPORT = qw(req jbody etag ws_obj put_ws get_ws del_ws ws_state wait_status slots
                 lc_store shm_only feed_head
                 audit_lines audit_count detail dbd_only delete_all
                 is_ws_error is_admin_error is_detail unchanged json_text
                 WS ADMIN JSON_CT);

our @EXPORT_OK = qw(count_in_log py_quote redivis_payload);

use constant WS      => '/workstations';
use constant ADMIN   => '/lifecycle/v1';
use constant JSON_CT => 'application/json; charset=utf-8';

# Extra headers sent with every request.  The suite's bearer token is not
# here: build/suite.sh loads LcAuth, which gives every LWP agent one.
our %DEFAULT_HEADERS;

my $JSON = JSON::PP->new->canonical->allow_nonref;

sub json_text { $JSON->encode($_[0]) }

sub req {
    my ($method, $path, %o) = @_;
    local $_;                      # LWP may assign to $_: keep callers' loop aliases intact
    my $r = HTTP::Request->new($method => Apache::TestRequest::resolve_url($path));
    my %h = (%DEFAULT_HEADERS, %{ $o{headers} || {} });
    $r->header($_ => $h{$_}) for sort keys %h;
    if (defined $o{body}) {
        my $body = ref $o{body} ? json_text($o{body}) : $o{body};
        $r->header('Content-Type' => 'application/json') unless defined $h{'Content-Type'};
        $r->content($body);
        $r->header('Content-Length' => length $body);
    }
    elsif ($method eq 'POST' || $method eq 'PUT') {
        $r->header('Content-Length' => 0);
    }
    return Apache::TestRequest::user_agent()->request($r);
}

sub jbody {
    my $res = shift;
    my $b = eval { $JSON->decode($res->content) };
    return $b;
}

sub etag {
    my $v = $_[0]->header('ETag');
    return defined $v ? $v : '';
}

sub ws_obj {
    my ($id, $status, %over) = @_;
    my %o = (
        id            => $id,
        name          => "Workstation $id",
        status        => $status,
        configuration => {
            cpuCores  => 8,
            memoryGB  => 32,
            gpu       => 'nvidia-tesla-t4',
            storageGB => 256,
            region    => 'us-central1',
        },
    );
    for my $k (keys %over) {
        if (!defined $over{$k}) { delete $o{$k} } else { $o{$k} = $over{$k} }
    }
    return \%o;
}

sub put_ws {
    my ($id, $status, %over) = @_;
    my $headers = delete $over{headers};
    return req(PUT => ADMIN . "/resources/workstation/$id",
               body => ws_obj($id, $status, %over), headers => $headers);
}

sub get_ws { req(GET => WS . "/$_[0]") }

sub del_ws {
    my ($id, %h) = @_;
    return req(DELETE => ADMIN . "/resources/workstation/$id", headers => \%h);
}

sub ws_state {
    my $res = get_ws($_[0]);
    my $b = jbody($res);
    return [$res->code, ($b && ref $b eq 'HASH' ? $b->{status} : undef), etag($res)];
}

sub wait_status {
    my ($id, $want, $secs) = @_;
    my $deadline = Time::HiRes::time() + ($secs || 3);
    my $seen;
    while (1) {
        $seen = ws_state($id)->[1];
        last if defined $seen && $seen eq $want;
        last if Time::HiRes::time() >= $deadline;
        Time::HiRes::sleep(0.05);
    }
    return $seen;
}

# Which store this run serves from: build/suite.sh exports LC_STORE=dbd (with
# LC_PG_DIR, the throw-away cluster of build/pg.sh, and LC_DBD_PARAMS) for its
# run against PostgreSQL.
sub lc_store { ($ENV{LC_STORE} // '') eq 'dbd' ? 'dbd' : 'shm' }

sub shm_only {
    my $why = shift;
    Test::More::plan(skip_all => "LifecycleStore dbd: $why") if lc_store() eq 'dbd';
}

# The last change's sequence number.  shm: the journal's durable seq (a
# metric).  Any store: page through the feed from what it retains.
sub feed_head {
    if (lc_store() eq 'shm') {
        my ($seq) = req(GET => ADMIN . '/metrics')->content =~ /^lifecycle_journal_durable_seq (\d+)$/m;
        return $seq if defined $seq;
    }
    my ($since, $pages) = (0, 0);
    while ($pages++ < 10000) {
        my $res = req(GET => ADMIN . "/changes?since=$since&limit=1000&wait=0");
        my $b = jbody($res) || {};
        if ($res->code == 410 && defined $b->{oldest_seq}) { $since = $b->{oldest_seq} - 1; next }
        return undef unless $res->code == 200 && ref $b->{changes} eq 'ARRAY';
        return $b->{last_seq} unless @{ $b->{changes} };
        $since = $b->{last_seq};
    }
    return undef;
}

sub slots {
    # dbd has no slots: the resources there are, of every kind, through the
    # admin list (what "nothing was created" means to a client).
    if (lc_store() eq 'dbd') {
        my $n = 0;
        for my $kind (qw(notebook agent workstation wrapper pipeline session)) {
            my ($after, $pages) = (undef, 0);
            while ($pages++ < 1000) {
                my $q = defined $after ? '&after=' . _qesc($after) : '';
                my $res = req(GET => ADMIN . "/resources/$kind?limit=1000$q");
                my $b = jbody($res);
                last unless $res->code == 200 && ref $b eq 'HASH';
                $n += @{ $b->{resources} || [] };
                last unless defined($after = $b->{next_after});
            }
        }
        return { used => $n, free => undef };
    }
    my $res = req(GET => ADMIN . '/metrics');
    my %s;
    for my $state (qw(used free)) {
        ($s{$state}) = $res->content =~ /^lifecycle_store_slots\{state="$state"\} (\d+)$/m;
    }
    return \%s;
}

sub _qesc { my $v = shift; $v =~ s/([^A-Za-z0-9._~-])/sprintf '%%%02X', ord $1/ge; $v }

sub _summary {
    my ($res, @keys) = @_;
    my $b = jbody($res);
    return { content_type => $res->header('Content-Type'), body => $res->content }
        unless ref $b eq 'HASH';
    my %s = (content_type => $res->header('Content-Type'));
    for my $k (@keys) {
        $s{$k} = $b->{$k};
    }
    $s{message} = (defined $b->{message} && !ref $b->{message} && length $b->{message})
        ? 'non-empty' : $b->{message};
    $s{keys} = join ',', sort keys %$b;
    return \%s;
}

# Workstation dialect error: 2 tests (status code; JSON body shape).
sub is_ws_error {
    my ($res, $code, $reason, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is($res->code, $code, "$name: $code");
    Test::More::is_deeply(_summary($res, qw(status error)),
        { content_type => JSON_CT, status => $code, error => $reason,
          message => 'non-empty', keys => 'error,message,status' },
        "$name: {status:$code, error:'$reason', message}");
}

# Admin API error: 2 tests (status code; JSON body shape), plus 1 when
# $mention is given (the message names it).
sub is_admin_error {
    my ($res, $code, $error, $name, $mention) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is($res->code, $code, "$name: $code");
    Test::More::is_deeply(_summary($res, qw(error)),
        { content_type => JSON_CT, error => $error, message => 'non-empty',
          keys => 'error,message' },
        "$name: {error:'$error', message}");
    if (defined $mention) {
        my $b = jbody($res);
        Test::More::like(ref $b eq 'HASH' ? $b->{message} : '', qr/(?<![\w.])\Q$mention\E(?![\w.])/,
                         "$name: message names '$mention'");
    }
}

# Notte's and the wrapper API's errors: 2 tests (status code; exactly {"detail": DETAIL}
# in JSON).  DETAIL may be a list (FastAPI's 422s).
sub is_detail {
    my ($res, $code, $detail, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is($res->code, $code, "$name: $code");
    Test::More::is_deeply([$res->header('Content-Type'), jbody($res)], [JSON_CT, { detail => $detail }],
        "$name: {\"detail\": " . (ref $detail ? 'list' : "\"$detail\"") . '}');
}

sub detail { my $b = jbody($_[0]); ref $b eq 'HASH' ? $b->{detail} : $_[0]->content }

sub dbd_only {
    Test::More::plan(skip_all => 'runs against LifecycleStore dbd only (build/suite.sh\'s dbd run)')
        unless lc_store() eq 'dbd' && $ENV{LC_PG_DIR};
}

sub delete_all {
    my @pairs = @_;
    my @bad;
    while (my ($kind, $ids) = splice @pairs, 0, 2) {
        push @bad, grep { req(DELETE => ADMIN . "/resources/$kind/$_")->code != 204 } @$ids;
    }
    return \@bad;
}

sub _error_log { Apache::Test::vars('t_logs') . '/error_log' }

sub count_in_log {
    my $re = shift;
    open my $fh, '<', _error_log() or return 0;
    my $n = grep { /$re/ } <$fh>;
    close $fh;
    return $n;
}

sub py_quote {
    my $s = shift;
    utf8::encode($s);
    $s =~ s/([^A-Za-z0-9_.\-~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub redivis_payload {
    my $res = shift;
    my $h = $res->header('X-REDIVIS-ERROR-PAYLOAD');
    my $p = defined $h ? eval { JSON::PP->new->decode(URI::Escape::uri_unescape($h)) } : undef;
    delete $p->{error_description} if $p && length($p->{error_description} // '');
    return ($p, $h);
}

sub _audit {
    my ($kind, $id, %o) = @_;
    open my $fh, '<', _error_log() or return undef;
    my @l = map { /(audit kind="\Q$kind\E" id="\Q$id\E" .*)$/ ? $1 : () } <$fh>;
    @l = grep { /^audit kind="[^"]*" id="[^"]*" from="(?!-")/ } @l if $o{moves};
    @l = grep { /$o{like}/ } @l if $o{like};
    return \@l;
}

sub audit_lines { @{ _audit(@_) || [] } }

sub audit_count { my $l = _audit(@_); $l ? scalar @$l : -1 }

# 1 test: the workstation still answers GET with the same status and ETag.
sub unchanged {
    my ($id, $before, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    Test::More::is_deeply(ws_state($id), $before, "$name: $id unchanged");
}

1;
