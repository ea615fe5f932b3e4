package LcAuth;
# Test plumbing: build/suite.sh loads this into every test process
# (PERL5OPT=-MLcAuth), so that every LWP::UserAgent — Apache::TestRequest's
# included — sends the suite's all-scopes bearer token by default.  Tests of
# authorization set or remove the Authorization header explicitly.
use strict;
use warnings;
use Exporter 'import';
our @EXPORT_OK = qw(lc_token lc_key_dir lc_mint);

my $dir = $ENV{LC_TEST_KEYS} || 't/conf/keys';

sub lc_key_dir { $dir }

sub lc_token {
    my $name = shift || 'all';
    open my $fh, '<', "$dir/$name.token" or return undef;
    chomp(my $t = <$fh> // '');
    return $t;
}

# Mint a token with the suite's CLI: lc_mint(key => 'issuer', scope => '...', ...).
sub lc_mint {
    my %a = (key => 'issuer', ttl => 600, sub => 'tester', aud => 'lifecycle-test',
             iss => 'https://issuer.test', @_);
    my @cmd = ("$dir/../../../build/lifecycle-token", 'mint', '--key', "$dir/$a{key}.key",
               '--ttl', $a{ttl}, '--sub', $a{sub});
    push @cmd, '--scope', $a{scope} if defined $a{scope};
    push @cmd, '--scope', $a{scp}, '--scp' if defined $a{scp};
    push @cmd, '--format', $a{format} if $a{format};
    push @cmd, '--aud', $a{aud} if $a{aud};
    push @cmd, '--iss', $a{iss} if $a{iss};
    push @cmd, '--kid', $a{kid} if $a{kid};
    push @cmd, '--jti', $a{jti} if defined $a{jti};
    push @cmd, '--nbf', $a{nbf} if defined $a{nbf};
    push @cmd, '--now', $a{now} if defined $a{now};
    open my $fh, '-|', @cmd or die "mint: $!";
    chomp(my $t = <$fh> // '');
    close $fh;
    return $t;
}

my $token = lc_token();
if (defined $token && length $token) {
    require LWP::UserAgent;
    no warnings 'redefine';
    my $new = \&LWP::UserAgent::new;
    *LWP::UserAgent::new = sub {
        my $ua = $new->(@_);
        $ua->default_header(Authorization => "Bearer $token");
        return $ua;
    };
}

1;
