#!/bin/bash
# teardown.sh BINDIR — two lab runs at once do not collide, and an
# interrupted run leaves nothing behind: no namespace, no link, no
# /etc/netns entry, no process.
set -u
bin=$1
here=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /tmp/zond-labtd-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

"$here/ops/lab/run" --bin "$bin" "$here/tests/lab/sni_rst.json" "$T/a" >"$T/a.log" 2>&1 &
pa=$!
"$here/ops/lab/run" --bin "$bin" "$here/tests/lab/tcp_rst.json" "$T/b" >"$T/b.log" 2>&1 &
pb=$!
# stop run b (SIGTERM, as a service manager would) once its agents are up
for _ in $(seq 1 100); do
	ls -d /tmp/zond-lab-$((pb % 100000))-*/agents >/dev/null 2>&1 && break
	sleep 0.2
done
sleep 1
kill -TERM $pb
wait $pb; rb=$?
wait $pa; ra=$?
[ $ra = 0 ] && /usr/bin/python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["pass"] else 1)' "$T/a/score.json" \
	&& ok "a run beside another one completes and scores 100 %" || { bad "run a: exit $ra"; tail -5 "$T/a.log"; }
[ $rb = 1 ] && grep -q "interrupted; tearing down" "$T/b.log" && ok "the interrupted run says so and exits 1" || { bad "run b: exit $rb"; tail -5 "$T/b.log"; }
for p in $pa $pb; do
	id=zl$((p % 100000))
	left=$(ip netns list | grep -c "^$id" || true)
	[ "$left" = 0 ] && ok "no namespace of run $id left" || bad "$left namespaces of $id left"
	links=$(ip -o link show | grep -c "$id" || true)
	[ "$links" = 0 ] && ok "no link of run $id left" || bad "$links links of $id left"
	[ -z "$(ls -d /etc/netns/$id* 2>/dev/null)" ] && ok "no /etc/netns entry of $id left" || bad "/etc/netns/$id* left"
	procs=$(pgrep -f "zond-lab-$((p % 100000))-" | wc -l)
	[ "$procs" = 0 ] && ok "no process of run $id left" || bad "$procs processes of $id left"
done
echo "$pass passed, $fail failed"
[ $fail = 0 ]
