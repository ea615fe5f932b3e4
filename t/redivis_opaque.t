# Redivis notebooks under opaque store ids: the admin API names a
# notebook by any id ("nb-4a9b"), the dialect finds it by every form of its
# qualified reference — names, names with ids, ids only, any case, '.' and ':'
# encoded or not, a display name's '/' sent as %2F the way redivis-python
# sends it (urllib.parse.quote(ref, safe='')) — and GET, run and stop reach
# it; a wrong id is 404; a name or reference id another notebook has is 409;
# a rename moves the name and keeps the id; a delete frees both.
use strict;
use warnings FATAL => 'all';
use FindBin ();
use lib "$FindBin::Bin/lib";
use Apache::Test qw(-withtestmore);
use LcTest qw(:DEFAULT py_quote);

use constant NB => '/api/v1/notebooks';
use constant AR => ADMIN . '/resources/notebook';

my @ids = qw(nb-4a9b nb-dup nb-dup2 rdvopq.flow.legacy);
sub del_nb { req(DELETE => AR . "/$_[0]") }
del_nb($_) for @ids;                                   # leftovers from an interrupted run
my $cleaned;
END { unless ($cleaned) { del_nb($_) for @ids } }
my $slots_at_start = slots();

sub nb_get  { req(GET => NB . "/$_[0]") }
sub nb_stop { req(POST => NB . "/$_[0]/stop") }
sub nb_run  { req(POST => NB . "/$_[0]/run") }
sub job_of  { ((jbody($_[0]) || {})->{currentJob} || {})->{status} // '' }

# ---- admin PUT under an opaque id ------------------------------------------------------------
my $qref = 'rdvopq.sales_flow:wf7k.q1_q2_report:nb4a9b';
(my $enc = $qref) =~ s/:/%3A/g;
my %body = (kind => 'notebook', name => 'Q1/Q2 Report',
            qualifiedReference => 'RdvOpq.Sales Flow:WF7K.Q1/Q2 Report:NB4A9B',
            referenceId => 'nb4a9b', owner => { name => 'RdvOpq' },
            currentJob => { id => 'job-opq', kind => 'notebook', status => 'running',
                            startTime => 1700000000000 });
my $rep = { kind => 'notebook', id => 'nb-4a9b', name => 'Q1/Q2 Report', qualifiedReference => $qref,
            scopedReference => 'q1_q2_report:nb4a9b', referenceId => 'nb4a9b',
            uri => "/notebooks/$enc", url => NB . "/$enc", owner => { name => 'rdvopq' },
            status => 'running',
            currentJob => { id => 'job-opq', kind => 'notebook', status => 'running',
                            errorMessage => undef, startTime => 1700000000000, endTime => undef } };
{
    my $res = req(PUT => AR . '/nb-4a9b', body => \%body);
    is_deeply([$res->code, etag($res), jbody($res)], [201, '"1"', $rep],
              'admin PUT nb-4a9b: 201, the get form with canonical names')
        or diag($res->content);
    is_deeply(jbody(req(GET => AR . '/nb-4a9b')), $rep, 'admin GET nb-4a9b: the same');
}

# ---- every reference form finds it ------------------------------------------------------------
my @forms = (
    ['name only', 'rdvopq.sales_flow.q1_q2_report'],
    ['display names, as redivis-python quotes them', py_quote('RdvOpq.Sales Flow.Q1/Q2 Report')],
    ['names with ids, as redivis-python quotes them', py_quote($qref)],
    ['names with ids, not encoded', $qref],
    ['the uri it returned', $enc],
    ['ids only', 'rdvopq.:wf7k.:nb4a9b'],
    ['ids only, as redivis-python quotes them', py_quote('rdvopq.:wf7k.:nb4a9b')],
    ['notebook id only', 'rdvopq.sales_flow.:nb4a9b'],
    ['mixed case', 'RDVOPQ.Sales_Flow:WF7K.Q1_Q2_REPORT:Nb4A9b'],
    ['encoded dots and colons', 'rdvopq%2Esales_flow%3Awf7k%2Eq1_q2_report%3Anb4a9b'],
    ['lowercase escapes', 'rdvopq%2esales_flow%3awf7k%2eq1_q2_report%3anb4a9b'],
    ['%2F in names', 'rdvopq.sales%2Fflow.q1%2Fq2%2Freport'],
    ['%2f, doubled, at the ends', 'rdvopq%2f.%2fsales%2f%2fflow.q1%2f%2fq2%20report%2f'],
    ['an old name with the ids (renamed)', 'rdvopq.old_flow:wf7k.old_name:nb4a9b'],
);
for my $f (@forms) {
    my ($name, $ref) = @$f;
    my $res = nb_get($ref);
    is_deeply([$res->code, etag($res), (jbody($res) || {})->{id}], [200, '"1"', 'nb-4a9b'],
              "GET by $name ($ref): nb-4a9b");
    is(req(HEAD => NB . "/$ref")->code, 200, "HEAD by $name: 200");
}

# ---- run and stop through them ------------------------------------------------------------------
{
    my $v = 1;
    my @steps = (['stop', 'ids only', 'rdvopq.:wf7k.:nb4a9b', 'cancelled'],
                 ['run', '%2F in names', py_quote('RdvOpq.Sales/Flow.Q1/Q2 Report'), 'queued'],
                 ['stop', 'encoded dots and colons', 'rdvopq%2E%3Awf7k%2E%3Anb4a9b', 'cancelled'],
                 ['run', 'mixed case', 'RdvOpq.SALES_FLOW.Q1_q2_Report:NB4A9B', 'queued'],
                 ['stop', 'names with ids', py_quote($qref), 'cancelled'],
                 ['run', 'name only', 'rdvopq.sales_flow.q1_q2_report', 'queued'],
                 ['stop', 'notebook id only', 'rdvopq.sales_flow.:nb4a9b', 'cancelled']);
    for my $s (@steps) {
        my ($action, $name, $ref, $want) = @$s;
        my $res = $action eq 'stop' ? nb_stop($ref) : nb_run($ref);
        $v++;
        is_deeply([$res->code, etag($res), (jbody($res) || {})->{id}, job_of($res)],
                  [200, "\"$v\"", 'nb-4a9b', $want], "$action by $name: $want");
    }
    my $res = req(GET => AR . '/nb-4a9b');
    is_deeply([etag($res), job_of($res)], ["\"$v\"", 'cancelled'], 'admin GET sees every change');
}

# ---- wrong ids: 404, nothing changes ---------------------------------------------------------------
{
    my $before = etag(req(GET => AR . '/nb-4a9b'));
    for my $ref ('rdvopq.:wf7k.:nb0000', 'rdvopq.:wf00.:nb4a9b', 'rdvopq.sales_flow:wf00.q1_q2_report',
                 'rdvopq.sales_flow.q1_q2_report:nb0000', 'other.:wf7k.:nb4a9b',
                 'rdvopq.other_flow.:nb4a9b', 'rdvopq.sales_flow.q3_report') {
        for my $action (qw(get stop run)) {
            my $res = $action eq 'get' ? nb_get($ref) : $action eq 'stop' ? nb_stop($ref) : nb_run($ref);
            is_deeply([$res->code, (jbody($res) || {})->{error}, (jbody($res) || {})->{status}],
                      [404, 'not_found', 404], "$action $ref: 404 not_found");
        }
    }
    my $res = nb_get('nb-4a9b');
    is_deeply([$res->code, (jbody($res) || {})->{error}], [400, 'invalid_request'],
              'the store id is not a reference: 400');
    is(etag(req(GET => AR . '/nb-4a9b')), $before, 'wrong ids changed nothing');
}

# ---- a name or reference id another notebook has: 409 ---------------------------------------------------
{
    my $slots = slots();
    for my $c (['the same names, other spelling', 'RdvOpq.sales-flow.Q1 Q2 Report:nbdup'],
               ['the same names, no ids', 'rdvopq.sales_flow.q1_q2_report'],
               ['the same reference id', 'rdvopq.sales_flow.another:NB4A9B']) {
        my ($name, $q) = @$c;
        is_admin_error(req(PUT => AR . '/nb-dup', body => { kind => 'notebook', qualifiedReference => $q }),
                       409, 'conflict', "admin PUT nb-dup with $name");
    }
    is_admin_error(req(PUT => AR . '/nb-dup', body => { kind => 'notebook', referenceId => 'nb4a9b',
                                                        qualifiedReference => 'rdvopq.sales_flow.another' }),
                   409, 'conflict', 'admin PUT nb-dup with the same referenceId');
    is(req(GET => AR . '/nb-dup')->code, 404, '409: nb-dup was not created');
    is_deeply(slots(), $slots, '409: the store is unchanged');
    is(nb_get('rdvopq.sales_flow.q1_q2_report')->code, 200, '409: nb-4a9b keeps its name');

    # Another notebook, then a replace of it that would take nb-4a9b's name.
    my $res = req(PUT => AR . '/nb-dup', body => { kind => 'notebook', qualifiedReference => 'rdvopq.sales_flow.other:nbdup' });
    is($res->code, 201, 'admin PUT nb-dup under its own name: 201');
    is_admin_error(req(PUT => AR . '/nb-dup', body => { kind => 'notebook',
                                                        qualifiedReference => 'rdvopq.sales_flow.q1_q2_report:nbdup' }),
                   409, 'conflict', 'replace nb-dup with nb-4a9b\'s name');
    is_deeply([map { (jbody(nb_get($_)) || {})->{id} } 'rdvopq.sales_flow.other', 'rdvopq.:x.:nbdup',
                                                      'rdvopq.sales_flow.:nbdup'],
              ['nb-dup', undef, 'nb-dup'], 'nb-dup kept its name and id (it has no workflow id)');
}

# ---- a rename moves the name, the reference id stays ------------------------------------------------------
{
    my $res = req(PUT => AR . '/nb-4a9b', body => { %body, name => 'Q3 report',
                                                    qualifiedReference => 'rdvopq.sales_flow:wf7k.q3_report:nb4a9b' });
    is_deeply([$res->code, (jbody($res) || {})->{qualifiedReference}],
              [200, 'rdvopq.sales_flow:wf7k.q3_report:nb4a9b'], 'admin PUT a new name: 200');
    is(nb_get('rdvopq.sales_flow.q1_q2_report')->code, 404, 'rename: the old name is 404');
    is((jbody(nb_get('rdvopq.sales_flow.q3_report')) || {})->{id}, 'nb-4a9b', 'rename: the new name finds it');
    is((jbody(nb_get('rdvopq.sales_flow.q1_q2_report:nb4a9b')) || {})->{id}, 'nb-4a9b',
       'rename: the old name with its id still finds it (ids win)');
    $res = req(PUT => AR . '/nb-dup2', body => { kind => 'notebook', qualifiedReference => 'rdvopq.sales_flow.q1_q2_report' });
    is($res->code, 201, 'rename: the old name is free for another notebook');
    is((jbody(nb_get('rdvopq.sales_flow.q1_q2_report')) || {})->{id}, 'nb-dup2', 'and finds that one');
}

# ---- an id that is the canonical key still works without qualifiedReference -----------------------------------
{
    my $res = req(PUT => AR . '/rdvopq.flow.legacy', body => { kind => 'notebook', name => 'Legacy' });
    is_deeply([$res->code, (jbody($res) || {})->{qualifiedReference}], [201, 'rdvopq.flow.legacy'],
              'admin PUT under a canonical id, names from the id: 201');
    is((jbody(nb_get('RdvOpq.Flow.Legacy')) || {})->{id}, 'rdvopq.flow.legacy', 'found by its names');
    is_admin_error(req(PUT => AR . '/nb-dup', body => { kind => 'notebook', qualifiedReference => 'rdvopq.flow.legacy' }),
                   409, 'conflict', 'its name is taken like any other');
}

# ---- a delete frees the name and the reference id ------------------------------------------------------------
{
    is(del_nb('nb-4a9b')->code, 204, 'delete nb-4a9b');
    is(nb_get('rdvopq.:wf7k.:nb4a9b')->code, 404, 'deleted: ids only is 404');
    is(nb_get('rdvopq.sales_flow.q3_report')->code, 404, 'deleted: its name is 404');
    my $res = req(PUT => AR . '/nb-dup', body => { kind => 'notebook', qualifiedReference => 'rdvopq.sales_flow.q3_report:nb4a9b' });
    is($res->code, 200, 'deleted: another notebook may take its name and id');
    is((jbody(nb_get('rdvopq.:x.:nb4a9b')) || {})->{id}, undef, 'no workflow id given: a :wfId does not match');
    is((jbody(nb_get('rdvopq.sales_flow.:nb4a9b')) || {})->{id}, 'nb-dup', 'found by its id');
}

# ---- %2F stays refused for the other dialects ---------------------------------------------------------------
is(req(GET => WS . '/ws%2Fx')->code, 400, 'workstations: an encoded / is still 400');
is(req(GET => AR . '/nb%2Fx')->code, 400, 'admin: an encoded / is still 400');

# ---- clean-up -------------------------------------------------------------------------------------------------
{
    my %codes = map { $_ => del_nb($_)->code } grep { $_ ne 'nb-4a9b' } @ids;
    is_deeply([sort values %codes], [(204) x 3], 'delete every notebook redivis_opaque.t made');
    is_deeply(slots(), $slots_at_start, 'the store is as redivis_opaque.t found it');
    $cleaned = 1;
}

done_testing();
