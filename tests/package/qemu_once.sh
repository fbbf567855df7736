#!/bin/bash
# qemu_once.sh ARCH DEBDIR BINDIR — the ARCH zond-agent of the package, run
# under qemu-user (no -L: README "Building"), prints one signed JSON line
# for one TCP test against a local server with `--once`, and the amd64
# zondctl (BINDIR) verifies its signature: the cross build measures and
# signs like the native one.
set -u
arch=$1 debs=$2 BIN=$3
case $arch in
arm64) qemu=qemu-aarch64-static ;;
armhf) qemu=qemu-arm-static ;;
*) echo "qemu_once.sh: unknown architecture $arch" >&2; exit 2 ;;
esac
T=$(mktemp -d /tmp/zond-qemu-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

dpkg-deb -x "$(ls "$debs"/zond-agent_*_"$arch".deb)" "$T/root"
agent=$T/root/usr/bin/zond-agent
WEB=$(port)
/usr/bin/python3 -m http.server "$WEB" --bind 127.0.0.1 --directory "$T" >/dev/null 2>&1 &
pids+=($!)
"$BIN/zondctl" keygen -o "$T/a" >"$T/a.pub"
echo "service,test,target,ip,port,sni,control_sni,variant,bytes,interval
web,tcp,127.0.0.1,,$WEB,,,,," >"$T/ep.csv"
cat >"$T/a.conf" <<CONF
[agent]
state_dir = $T/a
key = $T/a/identity.key
user = ""
[uplink]
endpoint = tcp://127.0.0.1:$(port)
server_key = $(cat "$T/a.pub")
[tests]
endpoints = $T/ep.csv
[schedule]
retries = 0
timeout = 5s
CONF
for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/"$WEB") 2>/dev/null && break; sleep 0.1; done
v=$(timeout 60 "$qemu" "$agent" --version 2>&1)
case $v in "zond-agent "*) ok "$arch: $v" ;; *) bad "$arch --version: '$v'" ;; esac
start=$(date +%s%N)
timeout 120 "$qemu" "$agent" -c "$T/a.conf" --once >"$T/once.jsonl" 2>"$T/once.err"
rc=$? ms=$((($(date +%s%N) - start) / 1000000))
[ $rc = 0 ] && [ "$(wc -l <"$T/once.jsonl")" = 1 ] && ok "$arch --once: one line in $ms ms" ||
    { bad "$arch --once exit $rc, $(wc -l <"$T/once.jsonl") lines"; cat "$T/once.err"; }
/usr/bin/python3 - "$T/once.jsonl" "$(cat "$T/a.pub")" <<'PY' && ok "$arch: JSON record of the agent's key, tcp to the local server succeeded" || bad "$arch: record"
import json, sys
r = json.loads(open(sys.argv[1]).readline())
assert r["agent"] == sys.argv[2], (r["agent"], sys.argv[2])
assert (r["service"], r["test"]) == ("web", "tcp"), r
assert r["outcome"]["failure"] == "none", r["outcome"]
PY
"$BIN/zondctl" verify "$T/once.jsonl" >"$T/verify" 2>&1
grep -qx "1 valid, 0 invalid" "$T/verify" && ok "$arch: amd64 zondctl verifies its signature" || { bad "$arch: verify"; cat "$T/verify"; }
echo "pass=$pass fail=$fail"
[ "$fail" = 0 ]
