#!/bin/bash
# test_cli.sh BINDIR SRCDIR — the four programs as a user meets them:
# --help, --version, -n on good and bad configs, keygen and key refusal.
set -u
BIN=$1
SRC=$2
. "$SRC/cli/lib.sh"

for p in zond-agent zond-aggregator zond-helper zondctl; do
	expect 0 "$p --help" "$BIN/$p" --help
	has out '^usage: ' "$p --help prints usage"
	expect 0 "$p --version" "$BIN/$p" --version
	has out "^$p [0-9]+\.[0-9]+\.[0-9]+ \(git " "$p --version format"
	expect 2 "$p rejects an unknown option" "$BIN/$p" --no-such-option
done

# -n on good and bad configs, for each daemon
printf '[agent]\nstate_dir = %s/agent\n[schedule]\nretries = 3\n' "$T" >"$T/agent.conf"
printf '[ingest]\nlisten = tcp://127.0.0.1:17800\n' >"$T/aggregator.conf"
printf '[ports]\nstun = 13478\n' >"$T/helper.conf"
for p in agent aggregator helper; do
	expect 0 "zond-$p -n on a good config" "$BIN/zond-$p" -n -c "$T/$p.conf"
	has out 'configuration OK' "zond-$p -n says OK"
	[ $p = agent ] && has out '^\[schedule\] retries = 3$' "zond-agent -n prints effective values"
	printf '[%s]\n\nbogus_option = 1\n' "$(head -1 "$T/$p.conf" | tr -d '[]')" >"$T/bad-$p.conf"
	expect 1 "zond-$p -n on a bad config" "$BIN/zond-$p" -n -c "$T/bad-$p.conf"
	has err "^$T/bad-$p.conf:3: unknown option 'bogus_option'" "zond-$p names file:line"
	expect 1 "zond-$p -n on a missing config" "$BIN/zond-$p" -n -c "$T/nope.conf"
	has err "nope.conf: cannot open" "zond-$p says the config is missing"
done
expect 1 "zond-agent refuses an out-of-range value" "$BIN/zond-agent" -n -c <(printf '[schedule]\nconcurrency = 0\n')
has err ':2: concurrency = 0 is out of range \[1, 64\]' "range error names line and bounds"
expect 0 "zondctl -n checks an aggregator config" "$BIN/zondctl" -n -c "$T/aggregator.conf"
expect 1 "zond-aggregator refuses a webhook that is not http(s)" "$BIN/zond-aggregator" -n -c <(printf '[analysis]\nsettle = 30s\nwebhook = ftp://hooks.example/x\n')
has err ':3: .*webhook.*not an http:// or https:// URL' "webhook error names line and why"

# [analysis] ip_asn: the IP-to-ASN table is part of the configuration;
# a missing or bad one stops the aggregator, -n and zondctl's judging
printf '1.0.0.0\t1.0.0.255\t13335\tUS\tCDN\n5.3.0.0\t5.3.255.255\t12389\tRU\tISP\n' >"$T/ip2asn.tsv"
printf '[analysis]\nip_asn = %s\n' "$T/ip2asn.tsv" >"$T/asn.conf"
expect 0 "zond-aggregator -n loads a good ip_asn table" "$BIN/zond-aggregator" -n -c "$T/asn.conf"
has out "ip_asn = \"$T/ip2asn.tsv\"" "-n prints ip_asn"
printf '1.0.0.0\t1.0.0.255\t13335\tUS\tCDN\n1.0.0.9\t1.0.3.255\t7\tUS\tX\n' >"$T/bad-asn.tsv"
printf '[analysis]\nip_asn = %s\n' "$T/bad-asn.tsv" >"$T/bad-asn.conf"
expect 1 "zond-aggregator -n refuses a bad ip_asn table" "$BIN/zond-aggregator" -n -c "$T/bad-asn.conf"
has err "ip_asn: $T/bad-asn.tsv:2: range overlaps line 1's" "the bad table's row is named by file:line"
expect 1 "zond-aggregator does not start with a bad ip_asn table" "$BIN/zond-aggregator" -c "$T/bad-asn.conf"
has err "bad-asn.tsv:2: range overlaps" "the startup error names file:line"
printf '[analysis]\nip_asn = %s/nope.tsv\n' "$T" >"$T/nope-asn.conf"
expect 1 "zond-aggregator refuses a missing ip_asn table" "$BIN/zond-aggregator" -n -c "$T/nope-asn.conf"
has err "ip_asn: $T/nope.tsv: cannot open" "the missing table is named"
expect 0 "zondctl reanalyze runs with a good ip_asn table" "$BIN/zondctl" -c "$T/asn.conf" reanalyze --data "$T/asn-data"
has out '^measurements=0 judged=0 ' "reanalyze with the table reports its counts"
expect 1 "zondctl reanalyze refuses a bad ip_asn table" "$BIN/zondctl" -c "$T/bad-asn.conf" reanalyze --data "$T/nodata"
has err "reanalyze: \[analysis\] ip_asn: $T/bad-asn.tsv:2:" "zondctl reanalyze names file:line"
expect 2 "zondctl export refuses a bad ip_asn table" "$BIN/zondctl" -c "$T/bad-asn.conf" export --data "$T/nodata"
has err "ip_asn: $T/bad-asn.tsv:2:" "zondctl export names file:line"
# export judges with the config's fingerprints too (as the daemon does)
printf 'name,scope,location_found,pattern_type,pattern,confidence_no_fp,expected_countries\nx,nat,dns,fullish,1.2.3.4,,\n' >"$T/bad-fp.csv"
printf '[analysis]\nfingerprints = %s\n' "$T/bad-fp.csv" >"$T/bad-fp.conf"
expect 2 "zondctl export refuses a bad fingerprints file" "$BIN/zondctl" -c "$T/bad-fp.conf" export --data "$T/nodata"
has err "fingerprints: $T/bad-fp.csv:2:" "zondctl export names the fingerprint file:line"

# keygen
expect 0 "zondctl keygen" "$BIN/zondctl" keygen -o "$T/id"
pub=$(cat "$T/out")
[ "$(stat -c %a "$T/id/identity.key")" = 600 ] && ok "identity.key is 0600" || bad "identity.key mode $(stat -c %a "$T/id/identity.key")"
grep -qxE '[0-9a-f]{64}' "$T/id/identity.pub" && [ "$(wc -c <"$T/id/identity.pub")" = 65 ] \
	&& ok "identity.pub is 64 lowercase hex and a newline" || bad "identity.pub format"
[ "$pub" = "$(cat "$T/id/identity.pub")" ] && ok "keygen prints the public key" || bad "keygen output differs from identity.pub"
expect 1 "keygen refuses to overwrite" "$BIN/zondctl" keygen -o "$T/id"
has err 'refusing to overwrite' "overwrite refusal is explained"
expect 0 "pubkey reads a 0600 key" "$BIN/zondctl" pubkey "$T/id/identity.key"
[ "$(cat "$T/out")" = "$pub" ] && ok "pubkey matches keygen" || bad "pubkey differs"
chmod 640 "$T/id/identity.key"
expect 1 "a group-readable key is refused" "$BIN/zondctl" pubkey "$T/id/identity.key"
has err 'readable by group or others \(mode 0640\).*chmod 600' "refusal says why and how to fix"
printf 'not a key\n' >"$T/junk.key"; chmod 600 "$T/junk.key"
expect 1 "a corrupt key is refused" "$BIN/zondctl" pubkey "$T/junk.key"
has err 'junk.key: not a Zond secret key' "corrupt key message names the file"
expect 2 "keygen without -o is a usage error" "$BIN/zondctl" keygen

# the option references in docs/ are the tables' own output
for p in agent aggregator helper; do
	if "$BIN/zond-$p" --config-reference | cmp -s - "$SRC/../docs/$p.conf.md"; then
		ok "docs/$p.conf.md matches zond-$p --config-reference"
	else
		bad "docs/$p.conf.md is stale: regenerate with zond-$p --config-reference"
	fi
done

finish
