#!/bin/bash
# test_notice.sh BINDIR SRCDIR — the volunteer notice as a volunteer meets
# it: `zond-agent --notice` before enrolling (English, then Russian, each
# short enough for a terminal), and docs/VOLUNTEERS.md, its long form, in
# both languages.  Both must name what the issue asks a volunteer to know:
# the operator sees the IP address, records can be tied to the device,
# legal risk, how to stop and how to wipe.
set -u
BIN=$1
SRC=$2
DOC=$SRC/../docs/VOLUNTEERS.md
. "$SRC/cli/lib.sh"
export LC_ALL=C.UTF-8	# ${#line} counts characters, not bytes

expect 0 "zond-agent --notice" "$BIN/zond-agent" --notice
[ -s "$T/err" ] && bad "--notice writes to stderr: $(head -1 "$T/err")"
# split at the Russian title: everything before is the English part
awk '/^Уведомление/ { ru = 1 } { print > (ru ? "'"$T"'/ru" : "'"$T"'/en") }' "$T/out"
[ -s "$T/en" ] && [ -s "$T/ru" ] && ok "the notice has an English and then a Russian part" ||
	bad "the notice has no English part before a Russian one"

# each part: at most 15 lines (blank lines at its end not counted) of at
# most 72 characters
for part in en ru; do
	n=$(sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' "$T/$part" | wc -l)
	[ "$n" -le 15 ] && ok "$part notice: $n lines (<= 15)" || bad "$part notice: $n lines (> 15)"
	long=0
	while IFS= read -r l; do
		[ ${#l} -gt 72 ] && { long=1; echo "    ${#l} chars: $l"; }
	done <"$T/$part"
	[ $long = 0 ] && ok "$part notice: every line fits 72 columns" || bad "$part notice: lines over 72 columns"
done

has en 'IP address' "English notice: the operator sees the IP address"
has en 'never your IP' "English notice: the IP is never published"
has en 'key.*tie the records|tie the records' "English notice: records can be tied to the device"
has en 'legal risk' "English notice: names the legal risk"
has en 'docs/VOLUNTEERS\.md' "English notice: points to docs/VOLUNTEERS.md"
has en 'sudo systemctl disable --now zond-agent' "English notice: how to stop"
has en 'sudo apt purge zond-agent' "English notice: how to wipe"
has en 'GB a day' "English notice: the traffic estimate"
has ru 'IP-адрес' "Russian notice: the operator sees the IP address"
has ru 'IP — никогда' "Russian notice: the IP is never published"
has ru 'связать записи' "Russian notice: records can be tied to the device"
has ru 'юридическим риском' "Russian notice: names the legal risk"
has ru 'docs/VOLUNTEERS\.md' "Russian notice: points to docs/VOLUNTEERS.md"
has ru 'sudo systemctl disable --now zond-agent' "Russian notice: how to stop"
has ru 'sudo apt purge zond-agent' "Russian notice: how to wipe"
has ru 'ГБ в сутки' "Russian notice: the traffic estimate"

expect 0 "zond-agent --help" "$BIN/zond-agent" --help
has out '--notice' "--help tells volunteers about --notice"
expect 2 "--notice takes no other argument" "$BIN/zond-agent" --notice -c /nonexistent.conf

# docs/VOLUNTEERS.md: an English and a Russian section, in that order,
# with the same subsections (one is the translation of the other)
if [ ! -f "$DOC" ]; then
	bad "docs/VOLUNTEERS.md is missing"
	finish
	exit
fi
awk -v T="$T" '
	/^## English$/    { f = T "/doc_en"; next }
	/^## По-русски$/  { f = T "/doc_ru"; next }
	/^## /            { f = T "/doc_src"; next }
	f != ""           { print > f }' "$DOC"
grep -n -m1 '^## English$' "$DOC" >/dev/null && grep -n -m1 '^## По-русски$' "$DOC" >/dev/null &&
	[ "$(grep -n -m1 '^## English$' "$DOC" | cut -d: -f1)" -lt "$(grep -n -m1 '^## По-русски$' "$DOC" | cut -d: -f1)" ] &&
	ok "VOLUNTEERS.md has '## English' and then '## По-русски'" ||
	bad "VOLUNTEERS.md lacks '## English' followed by '## По-русски'"
ne=$(grep -c '^### ' "$T/doc_en" 2>/dev/null); nr=$(grep -c '^### ' "$T/doc_ru" 2>/dev/null)
[ "${ne:-0}" -ge 8 ] && [ "$ne" = "$nr" ] && ok "both sections have the same $ne subsections" ||
	bad "English has ${ne:-0} subsections, Russian ${nr:-0}"

doc_has() {	# doc_has FILE PATTERN DESC
	if grep -qE -- "$2" "$1"; then ok "$3"; else bad "$3: no /$2/"; fi
}
for lang in en ru; do
	f=$T/doc_$lang
	doc_has "$f" 'sudo systemctl stop zond-agent' "VOLUNTEERS.md ($lang): how to stop"
	doc_has "$f" 'sudo systemctl disable --now zond-agent' "VOLUNTEERS.md ($lang): how to stop for good"
	doc_has "$f" 'sudo apt purge zond-agent' "VOLUNTEERS.md ($lang): how to wipe"
	doc_has "$f" 'zondctl disable --pubkey' "VOLUNTEERS.md ($lang): how the operator disables the key"
	doc_has "$f" 'identity\.pub' "VOLUNTEERS.md ($lang): where the key is"
	doc_has "$f" '13\.53' "VOLUNTEERS.md ($lang): the 2025 'extremist materials' article"
	doc_has "$f" '284\.1' "VOLUNTEERS.md ($lang): the undesirable-organisation article"
done
doc_has "$T/doc_en" 'IP address' "VOLUNTEERS.md (en): the IP address"
doc_has "$T/doc_en" 'not legal advice' "VOLUNTEERS.md (en): not legal advice"
doc_has "$T/doc_en" '0\.45 GB a day' "VOLUNTEERS.md (en): the traffic estimate"
doc_has "$T/doc_ru" 'IP-адрес' "VOLUNTEERS.md (ru): the IP address"
doc_has "$T/doc_ru" 'не юридическая' "VOLUNTEERS.md (ru): not legal advice"
doc_has "$T/doc_ru" '0,45 ГБ в сутки' "VOLUNTEERS.md (ru): the traffic estimate"

# every [n] cited in either language is in the list of sources
missing=
for n in $(cat "$T/doc_en" "$T/doc_ru" | grep -oE '\[[0-9]+\]' | tr -d '[]' | sort -un); do
	grep -qE "^$n\. " "$T/doc_src" 2>/dev/null || missing="$missing $n"
done
[ -z "$missing" ] && ok "every cited source is listed" || bad "sources cited but not listed:$missing"

finish
