#!/bin/bash
# agents_output.sh BINDIR SRCDIR AGENTSTATUS — `zondctl agents` with hostile
# strings in the store: agent versions (agent-supplied) and names
# (operator-supplied) with blanks, quotes, '=', a newline, a backslash and
# non-ASCII.  Each agent must stay one line with each key once, and every
# value must read back exactly (docs/OPERATIONS.md, "zondctl agents").
set -u
BIN=$1
SRC=$2
STATUS=$3
. "$SRC/cli/lib.sh"

D=$T/agg
# enroll NAME-ARG VERSION: a new agent with that name and version; its
# public key is appended to $T/keys, its expected fields to $T/want
n=0
enroll() {
	n=$((n + 1))
	"$BIN/zondctl" keygen -o "$T/a$n" >/dev/null &&
	"$BIN/zondctl" enroll --data "$D" --pubkey "$(cat "$T/a$n/identity.pub")" \
		--region RU-MOW --asn 8359 --name "$1" >/dev/null &&
	"$STATUS" "$D" "$(cat "$T/a$n/identity.pub")" "$2" ||
		{ bad "enrolling agent $n"; return 1; }
	# NUL-separated: key, name, version (none of them holds a NUL)
	printf '%s\0%s\0%s\0' "$(cat "$T/a$n/identity.pub")" "$1" "$2" >>"$T/want"
}
: >"$T/want"
enroll plain 0.1.0-test
enroll volunteer-2 '1.0 state=disabled role=control'
enroll 'x" state=disabled asn=1' $'0.2\nagent=forged state=enabled'
enroll $'back\\slash \xd0\x9f\xd0\xb8 = x' $'v"1\\2\t\x01\x7f\xff'
enroll dash -

expect 0 "zondctl agents" "$BIN/zondctl" agents --data "$D"
[ "$(wc -l <"$T/out")" -eq $((n + 1)) ] && ok "one line per agent and the total" ||
	{ bad "$(wc -l <"$T/out") lines for $n agents"; sed 's/^/    /' "$T/out"; }
[ "$(grep -c '^agent=' "$T/out")" -eq $n ] && ok "every agent line starts with agent=" ||
	bad "lines starting with agent=: $(grep -c '^agent=' "$T/out")"
has out '^agent=[0-9a-f]{64} .* version=0\.1\.0-test backlog=7 ' "a plain version stays unquoted"
has out ' name="plain"$' "names stay quoted"
has out ' version="1\.0 state=disabled role=control" ' "a version with blanks and = is quoted"
has out ' version="0\.2\\nagent=forged state=enabled" ' "a newline in a version is escaped"
has out ' name="x\\" state=disabled asn=1"$' "a quote in a name is escaped"
has out ' version="-" .* name="dash"$' "a version of \"-\" is told from none"

# Read every line back as logfmt: keys once each, values decoded, and the
# decoded version and name exactly what was stored.
if /usr/bin/python3 - "$T/out" "$T/want" <<'PY'
import re, sys
lines = open(sys.argv[1], 'rb').read().split(b'\n')[:-1]
f = open(sys.argv[2], 'rb').read().split(b'\0')[:-1]
want = {f[i].decode(): (f[i + 1], f[i + 2]) for i in range(0, len(f), 3)}
tok = re.compile(rb'([a-z_]+)=("(?:[^"\\]|\\.)*"|[^ "=]+)( |$)')
esc = {b'"': b'"', b'\\': b'\\', b'n': b'\n', b'r': b'\r', b't': b'\t'}
def unq(v):
    if not v.startswith(b'"'):
        return v
    out, i, v = b'', 0, v[1:-1]
    while i < len(v):
        if v[i:i + 1] != b'\\':
            out += v[i:i + 1]; i += 1
        elif v[i + 1:i + 2] == b'x':
            out += bytes([int(v[i + 2:i + 4], 16)]); i += 4
        else:
            out += esc[v[i + 1:i + 2]]; i += 2
    return out
bad = 0
for ln in lines:
    if not ln.startswith(b'agent='):
        continue
    kv, pos = {}, 0
    while pos < len(ln):
        m = tok.match(ln, pos)
        if m is None:
            print('    not key=value at byte %d: %r' % (pos, ln)); bad = 1; break
        if m.group(1) in kv:
            print('    %s twice: %r' % (m.group(1).decode(), ln)); bad = 1
        kv[m.group(1)] = unq(m.group(2)); pos = m.end()
    name, ver = want.pop(kv.get(b'agent', b'').decode(), (None, None))
    if (kv.get(b'name'), kv.get(b'version')) != (name, ver):
        print('    read back %r %r, stored %r %r' % (kv.get(b'name'), kv.get(b'version'), name, ver)); bad = 1
if want:
    print('    agents missing: %r' % list(want)); bad = 1
sys.exit(bad)
PY
then ok "every line reads back as key=value, each key once, values exact"
else bad "lines do not read back as stored"; fi

# the third role: a domestic control (docs/OPERATIONS.md)
"$BIN/zondctl" keygen -o "$T/dom" >/dev/null
expect 0 "enroll --role control-domestic" "$BIN/zondctl" enroll --data "$D" \
	--pubkey "$(cat "$T/dom/identity.pub")" --region RU-SPE --asn 12389 \
	--name dom --role control-domestic
has out ' role=control-domestic$' "enroll prints the domestic role"
expect 0 "zondctl agents" "$BIN/zondctl" agents --data "$D"
has out "^agent=$(cat "$T/dom/identity.pub") region=RU-SPE asn=12389 role=control-domestic " \
	"zondctl agents shows role=control-domestic"
expect 1 "enroll --role domestic is refused" "$BIN/zondctl" enroll --data "$D" \
	--pubkey "$(cat "$T/dom/identity.pub")" --region RU-SPE --asn 12389 \
	--role domestic
has err "role 'domestic': use probe, control or control-domestic" \
	"the bad role is named with the accepted ones"

finish
