use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest qw(GET);

plan tests => 1;
my $res = GET '/lifecycle/v1/metrics';
is($res->code, 200, 'metrics answers');
