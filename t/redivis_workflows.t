# Redivis workflows at /api/v1/workflows, as redivis-python's
# Workflow class calls them (src/redivis/classes/Workflow.py):
#   Workflow.get()            GET  /workflows/{quote(qualified_reference, '')}      (get, l.150)
#                             and update_properties reads qualifiedReference,
#                             scopedReference, name, uri (l.166-171)
#   Workflow.exists()         HEAD of the same; a 404 is False (exists, l.134)
#   Workflow.list_notebooks() GET  {uri}/notebooks?maxResults=100[&pageToken=..]
#                             (l.80), followed by make_paginated_request
#                             (common/api_request.py l.48-83): response["results"],
#                             response["nextPageToken"] (null ends it); each item
#                             becomes Notebook(name=item["name"], properties=item).
# A workflow exists while a notebook names it; every reference form (conf/API.md)
# finds it; errors are {"error","error_description","status"}, on HEAD in
# X-REDIVIS-ERROR-PAYLOAD (api_request.py l.146).  Under both stores.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use LcTest qw(:DEFAULT py_quote redivis_payload);

use constant WF => '/api/v1/workflows';
use constant AR => ADMIN . '/resources/notebook';

my $N = 23;                                     # notebooks in the big workflow
my @ids = ((map { sprintf 'wfa-%02d', $_ } 1 .. $N), qw(wfb-1 wfb-2 wfc-1));
sub del_nb { req(DELETE => AR . "/$_[0]") }
del_nb($_) for @ids;                            # leftovers from an interrupted run
END { del_nb($_) for @ids }

sub put_nb {
    my ($id, $qref, $name) = @_;
    my $res = req(PUT => AR . "/$id", body => { kind => 'notebook', qualifiedReference => $qref,
                                                ($name ? (name => $name) : ()) });
    return $res->code;
}

# The big workflow's notebooks under ids interleaved with another workflow's
# (wfb-*, same owner) and another owner's (wfc-1, same workflow name).
my @codes = map { put_nb(sprintf('wfa-%02d', $_), sprintf('rdvwf.Big Flow:WFA1.nb %02d', $_)) } 1 .. $N;
push @codes, put_nb('wfb-1', 'rdvwf.small_flow.first', 'First'),
             put_nb('wfb-2', 'rdvwf.small_flow:wfb2.second'),
             put_nb('wfc-1', 'otherowner.big_flow.stranger');
is_deeply(\@codes, [(201) x ($N + 3)], 'admin PUT: the notebooks are there');

# ---- Workflow.get() --------------------------------------------------------------------------------
my $rep = { kind => 'workflow', name => 'big_flow', qualifiedReference => 'rdvwf.big_flow:wfa1',
            scopedReference => 'big_flow:wfa1', referenceId => 'wfa1',
            uri => '/workflows/rdvwf.big_flow%3Awfa1', url => WF . '/rdvwf.big_flow%3Awfa1',
            owner => { name => 'rdvwf' } };
my @forms = (
    ['canonical name', 'rdvwf.big_flow'],
    ['display name, as Workflow.py quotes it', py_quote('RdvWF.Big Flow')],
    ['name with id', py_quote('rdvwf.big_flow:wfa1')],
    ['the uri it returned', 'rdvwf.big_flow%3Awfa1'],
    ['id only', py_quote('rdvwf.:WFA1')],
    ['id with an old name (renamed)', 'rdvwf.old_name:wfa1'],
    ['encoded dot, %2F and runs of _', 'RDVWF%2E__Big%2Fflow_'],
);
for my $f (@forms) {
    my $res = req(GET => WF . "/$f->[1]");
    is_deeply([$res->code, scalar $res->header('Content-Type'), jbody($res)], [200, JSON_CT, $rep],
              "GET by $f->[0]: the workflow") or diag($res->content);
}
{
    my $res = req(GET => WF . '/rdvwf.small_flow');
    is_deeply(jbody($res), { kind => 'workflow', name => 'small_flow',
                             qualifiedReference => 'rdvwf.small_flow', scopedReference => 'small_flow',
                             referenceId => undef, uri => '/workflows/rdvwf.small_flow',
                             url => WF . '/rdvwf.small_flow', owner => { name => 'rdvwf' } },
              'GET a workflow whose notebooks disagree on its id: the one of the smallest id speaks (no id: referenceId null)');
}

# ---- Workflow.exists(): HEAD ----------------------------------------------------------------------
# [code, body, the X-REDIVIS-ERROR-PAYLOAD header decoded less a non-empty error_description]
sub head_payload { my $res = shift; [$res->code, $res->content, (redivis_payload($res))[0]] }
is_deeply(head_payload(req(HEAD => WF . '/' . py_quote('rdvwf.Big Flow'))), [200, '', undef],
          'HEAD an existing workflow: 200, no body');
is_deeply(head_payload(req(HEAD => WF . '/rdvwf.no_such_flow')),
          [404, '', { error => 'not_found', status => 404 }], 'HEAD unknown: 404, payload header');
is_deeply(head_payload(req(HEAD => WF . '/rdvwf.:wfzz')),
          [404, '', { error => 'not_found', status => 404 }], 'HEAD unknown id: 404');
is_deeply(head_payload(req(HEAD => WF . '/otherowner.small_flow')),
          [404, '', { error => 'not_found', status => 404 }], "HEAD another owner's name: 404");

# ---- Workflow.list_notebooks(): paging as make_paginated_request follows it -----------------------
sub page {
    my ($ref, $query) = @_;
    my $res = req(GET => WF . "/$ref/notebooks" . ($query ? "?$query" : ''));
    return ($res->code, jbody($res) || {});
}
{
    my (@seen, $token, $pages);
    while (1) {
        my ($code, $b) = page('rdvwf.big_flow', 'maxResults=10' . ($token ? "&pageToken=$token" : ''));
        last unless $code == 200 && ref $b->{results} eq 'ARRAY' && exists $b->{nextPageToken};
        $pages++;
        push @seen, map { $_->{qualifiedReference} } @{ $b->{results} };
        $token = $b->{nextPageToken};
        last if !$token || $pages > 10;
    }
    is_deeply([$pages, \@seen],
              [3, [map { sprintf 'rdvwf.big_flow:wfa1.nb_%02d', $_ } 1 .. $N]],
              'list_notebooks by 10: three pages, every notebook once, in order, the last token null');
}
{
    my ($code, $b) = page(py_quote('RdvWF.Big Flow'));
    is_deeply([$code, scalar @{ $b->{results} || [] }, $b->{nextPageToken}], [200, $N, undef],
              'no maxResults: one page of up to 100, nextPageToken null');
    my $first = ($b->{results} || [])->[0] || {};
    is_deeply($first, jbody(req(GET => '/api/v1/notebooks/rdvwf.big_flow.nb_01')),
              "an item is the notebook's get form");
}
{
    my ($code, $b) = page('rdvwf.big_flow', "maxResults=$N");
    is_deeply([$code, scalar @{ $b->{results} || [] }, $b->{nextPageToken}], [200, $N, undef],
              'a page exactly as large as the rest: nextPageToken null, no empty page after it');
    ($code, $b) = page('rdvwf.small_flow', 'maxResults=1');
    is_deeply([$code, [map { $_->{name} } @{ $b->{results} || [] }], $b->{nextPageToken}],
              [200, ['First'], 'wfb-1'], 'small_flow by 1: its first notebook, a token');
    ($code, $b) = page('rdvwf.small_flow', 'maxResults=1&pageToken=wfb-1');
    is_deeply([$code, [map { $_->{name} } @{ $b->{results} || [] }], $b->{nextPageToken}],
              [200, ['second'], undef], 'then the second, the token null');
    ($code, $b) = page('otherowner.big_flow');
    is_deeply([$code, [map { $_->{qualifiedReference} } @{ $b->{results} || [] }]],
              [200, ['otherowner.big_flow.stranger']], "another owner's workflow of the same name: its own");
    ($code, $b) = page('rdvwf.big_flow', 'maxResults=5&pageToken=zzzz');
    is_deeply([$code, $b], [200, { results => [], nextPageToken => undef }],
              'a token past the end: an empty page (the workflow exists)');
}

# ---- errors: JSON in the dialect's shape, nothing changes -----------------------------------------
sub err {
    my ($res) = @_;
    my $b = jbody($res) || {};
    return [$res->code, scalar $res->header('Content-Type'), $b->{error}, $b->{status},
            length($b->{error_description} // '') > 0 ? 1 : 0];
}
my @bad = (
    [GET  => WF . '/rdvwf.no_such_flow',              404, 'not_found', 'unknown workflow'],
    [GET  => WF . '/rdvwf.no_such_flow/notebooks',    404, 'not_found', 'notebooks of an unknown workflow'],
    [GET  => WF . '/rdvwf',                           400, 'invalid_request', 'a reference without a workflow'],
    [GET  => WF . '/rdvwf.big_flow.nb_01',            400, 'invalid_request', 'a notebook reference'],
    [GET  => WF . '/rdvwf.big_flow%ZZ',               400, 'invalid_request', 'broken percent-encoding'],
    [GET  => WF . '/rdvwf.big_flow:bad-id!',          400, 'invalid_request', 'a bad reference id'],
    [GET  => WF . '/' . ('a' x 1100) . '.b',          400, 'invalid_request', 'a reference too long'],
    [GET  => WF . '/rdvwf.big_flow/notebooks?maxResults=0',    400, 'invalid_request', 'maxResults 0'],
    [GET  => WF . '/rdvwf.big_flow/notebooks?maxResults=x',    400, 'invalid_request', 'maxResults not a number'],
    [GET  => WF . '/rdvwf.big_flow/notebooks?maxResults=1001', 400, 'invalid_request', 'maxResults too large'],
    [GET  => WF . '/rdvwf.big_flow/notebooks?color=red',       400, 'invalid_request', 'an unknown parameter'],
    [GET  => WF . '/rdvwf.big_flow/notebooks?maxResults=1&maxResults=2', 400, 'invalid_request',
     'a repeated parameter'],
    [GET  => WF . '/rdvwf.big_flow/notebooks?pageToken=' . ('x' x 200), 400, 'invalid_request',
     'a page token too long'],
    [GET  => WF . '/rdvwf.big_flow/notebooks?pageToken=%FF', 400, 'invalid_request',
     'a page token not UTF-8'],
    [GET  => WF . '/rdvwf.big_flow%FF',               400, 'invalid_request', 'a reference not UTF-8'],
    [GET  => WF . '/rdvwf.big_flow/',                 404, 'not_found', 'a trailing slash'],
    [GET  => WF,                                      404, 'not_found', 'the collection itself'],
    [GET  => WF . '/',                                404, 'not_found', 'the collection with a slash'],
    [GET  => WF . '/rdvwf.big_flow/tables',           404, 'not_found', 'a route this server has not'],
    [GET  => WF . '/rdvwf.big_flow/notebooks/x',      404, 'not_found', 'below notebooks'],
    [POST => WF . '/rdvwf.big_flow',                  405, 'method_not_allowed', 'POST a workflow'],
    [DELETE => WF . '/rdvwf.big_flow',                405, 'method_not_allowed', 'DELETE a workflow'],
    [PATCH => WF . '/rdvwf.big_flow/variables',       404, 'not_found', 'update_variables (not served)'],
    [PUT  => WF . '/rdvwf.big_flow/notebooks',        405, 'method_not_allowed', 'PUT the notebooks'],
);
for my $b (@bad) {
    my ($m, $path, $code, $error, $what) = @$b;
    my $res = req($m => $path);
    is_deeply(err($res), [$code, JSON_CT, $error, $code, 1], "$what: $code $error")
        or diag($res->content);
    is($res->header('Allow'), 'GET, HEAD', "$what: Allow") if $code == 405;
}
is_deeply(jbody(req(GET => WF . '/rdvwf.big_flow')), $rep, 'after all that: the workflow unchanged');

# ---- a workflow lives as long as one of its notebooks ---------------------------------------------
del_nb('wfb-1');
is(req(GET => WF . '/rdvwf.small_flow')->code, 200, 'one notebook of two removed: the workflow stays');
del_nb('wfb-2');
is_deeply(err(req(GET => WF . '/rdvwf.small_flow')), [404, JSON_CT, 'not_found', 404, 1],
          'the last removed: the workflow is gone');

done_testing();
