#!/usr/bin/perl
# The package's /etc/apache2/mods-available/lifecycle.conf: conf/lifecycle.conf
# (the locations, shared with make run, the suite and the bench) with a journal
# in /var/lib/lifecycle and the issuer's public key read from
# /etc/apache2/lifecycle/issuer.pub once it exists.  Usage: lifecycle-conf.pl IN OUT
use strict;
use warnings;
my ($in, $out) = @ARGV;
open my $fh, '<', $in or die "$in: $!\n";
my $conf = do { local $/; <$fh> };
close $fh;
my %done;
$done{state} = $conf =~ s{^(\s*)#LifecycleStateDir .*$}{$1LifecycleStateDir /var/lib/lifecycle}m;
$done{key} = $conf =~ s{^(\s*)#LifecycleTokenKey .*$}{$1# Put the public key here (the secret key stays with whoever mints tokens):
$1#   lifecycle-token keygen --out DIR; install -D -m 644 DIR/issuer.pub /etc/apache2/lifecycle/issuer.pub
$1# then reload Apache.  Until the file exists Apache starts, warns and answers 401.
$1<IfFile /etc/apache2/lifecycle/issuer.pub>
$1    LifecycleTokenKey /etc/apache2/lifecycle/issuer.pub
$1</IfFile>}m;
$done{head} = $conf =~ s{^(# mod_lifecycle: .*)$}{$1\n# Debian package: generated from conf/lifecycle.conf by build/debian/lifecycle-conf.pl.}m;
for (sort keys %done) { die "lifecycle-conf.pl: $in changed, '$_' line not found\n" unless $done{$_} }
open $fh, '>', $out or die "$out: $!\n";
print $fh $conf;
close $fh or die "$out: $!\n";
