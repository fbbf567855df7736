#!/bin/bash
# doc_examples.sh BINDIR SRCDIR — every config example in README.md and
# docs/*.md, checked by the program it is for, as a reader would use it.
#
# Examples are the ```ini blocks and the `cat > X.conf <<EOF` here-documents
# of the Markdown files.  Each goes to the program whose option reference
# (--config-reference) has its sections, and must pass `PROGRAM -n -c FILE`
# after its placeholders and system paths are replaced with real files in
# a temporary directory.  -n prints every effective value; a string value
# with a blank followed by '#' or ';' is a comment the parser took as part
# of the value, and fails the example.  A block with the placeholder
# `[section]` (docs/CONFIG.md's syntax sketch) is left out.
set -u
BIN=$1
SRC=$2
TOP=$SRC/..
. "$SRC/cli/lib.sh"

mkdir -p "$T/agent" "$T/agg" || exit 1
"$BIN/zondctl" keygen -o "$T/agent" >/dev/null &&
	"$BIN/zondctl" keygen -o "$T/agg" >/dev/null || { echo "keygen failed"; exit 1; }
aggpub=$(cat "$T/agg/identity.pub")
# the relay's TLS pair: -n reads both and refuses a key others may read
# (the PEM itself is parsed at start only)
printf -- '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n' >"$T/relay-cert.pem"
printf -- '-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n' >"$T/relay-key.pem"
chmod 600 "$T/relay-key.pem"

# Placeholders and the system paths of the examples, each with its stand-in.
# A placeholder not in this list fails its example, so add new ones here.
subst() {
	sed -e "s|<the aggregator's identity.pub>|$aggpub|g" \
	    -e "s|<the operator's zond-helper address>|192.0.2.7|g" \
	    -e "s|/usr/share/zond/|$TOP/ops/targets/|g" \
	    -e "s|/etc/zond/relay-cert.pem|$T/relay-cert.pem|g" \
	    -e "s|/etc/zond/relay-key.pem|$T/relay-key.pem|g" \
	    -e "s|/etc/zond/endpoints.csv|$TOP/ops/targets/ru-endpoints.csv|g" \
	    -e "s|/etc/zond/urls.csv|$TOP/ops/targets/ru-urls.csv|g" \
	    -e "s|/var/lib/zond-agent|$T/agent|g" \
	    -e "s|/var/lib/zond\\b|$T/agg|g"
}

# Which program reads these sections: the one whose reference lists them all.
for p in agent aggregator helper; do
	"$BIN/zond-$p" --config-reference | sed -n 's/^## \[\(.*\)\]$/\1/p' >"$T/sections-$p"
done
program_for() {	# program_for FILE: prints agent, aggregator, helper or nothing
	local p s
	for p in agent aggregator helper; do
		while read -r s; do
			grep -qxF -- "$s" "$T/sections-$p" || continue 2
		done < <(sed -n 's/^[ \t]*\[[ \t]*\([^] \t]*\)[ \t]*\].*/\1/p' "$1")
		echo "$p"
		return
	done
}

# Extract the examples: $T/ex/N.conf, and "N FILE:LINE" lines in $T/ex/list.
mkdir "$T/ex"
for md in "$TOP/README.md" "$TOP"/docs/*.md; do
	awk -v out="$T/ex" -v name="${md#"$TOP"/}" '
	function start(line) {
		file = out "/" name_id "-" line ".conf"
		printf "%s-%d %s:%d\n", name_id, line, name, line >> (out "/list")
		inblock = 1
	}
	BEGIN { name_id = name; gsub(/[^A-Za-z0-9]/, "_", name_id) }
	inblock && $0 ~ end { inblock = 0; close(file); next }
	inblock { print > file; next }
	/^```ini[ \t]*$/ { end = "^```"; start(FNR + 1); next }
	/cat >[ \t]*[^ ]*\.conf[ \t]*<<[ \t]*'\''?EOF'\''?/ { end = "^EOF$"; start(FNR + 1); next }
	' "$md"
done
[ -s "$T/ex/list" ] || { echo "FAIL no examples found"; exit 1; }

while read -r id where; do
	f=$T/ex/$id.conf
	if grep -qx '\[section\]' "$f"; then
		echo "skip $where: a syntax sketch ([section] is a placeholder)"
		continue
	fi
	subst <"$f" >"$T/$id.conf"
	chmod 600 "$T/$id.conf"	# an example may hold a secret ([http] token)
	if grep -q '<[^>]*>' "$T/$id.conf"; then
		bad "$where: unknown placeholder $(grep -o '<[^>]*>' "$T/$id.conf" | head -1) (add it to subst in $0)"
		continue
	fi
	p=$(program_for "$T/$id.conf")
	if [ -z "$p" ]; then
		bad "$where: its sections belong to no one program"
		continue
	fi
	if ! "$BIN/zond-$p" -n -c "$T/$id.conf" >"$T/out" 2>"$T/err"; then
		bad "$where: zond-$p -n refuses it: $(head -3 "$T/err")"
		continue
	fi
	# -n prints [section] name = "string"; a comment read as a value
	# shows as a blank followed by # or ; inside the quotes
	if grep -E '^\[[a-z_]+\] [a-z_]+ = ".*[ \t][#;]' "$T/out" >"$T/leak"; then
		bad "$where: zond-$p reads a comment as part of a value: $(head -1 "$T/leak")"
		continue
	fi
	ok "$where: zond-$p -n reads it as written"
done <"$T/ex/list"

finish
