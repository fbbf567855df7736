# lib.sh — sourced by the tests/cli scripts: a temporary directory $T
# (removed on exit), ok/bad counters, expect/has checks and finish.
T=$(mktemp -d /tmp/zond-cli-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0

ok()   { pass=$((pass + 1)); echo "ok   $*"; }
bad()  { fail=$((fail + 1)); echo "FAIL $*"; }
# expect RC DESC CMD...: run CMD, capture stdout/stderr, check exit status
expect() {
	local want=$1 desc=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" -eq "$want" ]; then ok "$desc"; else
		bad "$desc (exit $rc, wanted $want)"; sed 's/^/    /' "$T/err"; fi
}
has() {	# has FILE PATTERN DESC
	if grep -qE -- "$2" "$T/$1"; then ok "$3"; else
		bad "$3: no /$2/ in $1"; sed 's/^/    /' "$T/$1"; fi
}
# finish: the summary line; the script's exit status
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
