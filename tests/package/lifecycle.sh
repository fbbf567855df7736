#!/bin/bash
# lifecycle.sh DEBS DEBS_NEXT SRCDIR — the amd64 packages as an operator
# and a volunteer live with them, in a throw-away Debian 12 root
# (rootfs.sh; chroot, no systemd running there): install (users, state
# directories, the aggregator's identity, valid config templates, the
# services enabled but the agent only after enrollment), zond-enroll's
# errors, an agent that ran and filled its outbox, an upgrade to the
# higher version in DEBS_NEXT (edited conffile, users, keys and the agent's
# config kept) and purge (agent: key, outbox and config gone; aggregator:
# config gone, data kept).  Needs root, chroot and debootstrap.
set -u
debs=$1 next=$2 src=$3
T=$(mktemp -d /var/tmp/zond-pkglife-XXXXXX)
R=$T/root
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
in_root() { chroot "$R" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@" </dev/null; }
port() { /usr/bin/python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
sum() { sha256sum "$R$1" 2>/dev/null | cut -c1-64; }
wants=etc/systemd/system/multi-user.target.wants

"$src/tests/package/rootfs.sh" "$debs" "$R" || { echo "FAIL no root"; exit 1; }
mkdir -p "$R/debs" "$R/next"
cp "$debs"/*_amd64.deb "$R/debs/"
cp "$next"/*_amd64.deb "$R/next/"
v1=$(dpkg-deb -f "$(ls "$debs"/zond-agent_*_amd64.deb)" Version)
v2=$(dpkg-deb -f "$(ls "$next"/zond-agent_*_amd64.deb)" Version)
dpkg --compare-versions "$v2" gt "$v1" && ok "next version $v2 > $v1" || bad "next version $v2 not above $v1"

# --- install ---------------------------------------------------------
in_root sh -c 'dpkg -i /debs/*.deb' >"$T/install.log" 2>&1 &&
    ok "dpkg -i of the four packages" || { bad "dpkg -i"; cat "$T/install.log"; }
for u in zond zond-helper; do
	e=$(in_root getent passwd $u)
	uid=$(echo "$e" | cut -d: -f3)
	[ -n "$e" ] && [ "$uid" -lt 1000 ] && [ "${e##*:}" = /usr/sbin/nologin ] &&
	    ok "system user $u (uid $uid, nologin)" || bad "user $u: '$e'"
done
uid1=$(in_root id -u zond)
# owner names as the root sees them
own() { in_root stat -c '%U %a' "$1"; }
[ "$(own /var/lib/zond-agent)" = "zond 700" ] &&
    ok "/var/lib/zond-agent: zond, 0700" || bad "/var/lib/zond-agent: $(own /var/lib/zond-agent)"
[ "$(own /var/lib/zond/identity.key)" = "zond 600" ] &&
    grep -q "new identity, public key $(cat "$R/var/lib/zond/identity.pub")" "$T/install.log" &&
    ok "aggregator identity made on install (zond, 0600), public key printed" ||
    { bad "aggregator identity"; ls -l "$R/var/lib/zond"; }
in_root zond-aggregator -n -c /etc/zond/aggregator.conf >"$T/n" 2>&1 &&
    ok "the aggregator.conf template passes zond-aggregator -n" || { bad "aggregator -n"; cat "$T/n"; }
in_root zond-helper -n -c /etc/zond/helper.conf >"$T/n" 2>&1 &&
    ok "the helper.conf template passes zond-helper -n" || { bad "helper -n"; cat "$T/n"; }
[ -L "$R/$wants/zond-aggregator.service" ] && [ -L "$R/$wants/zond-helper.service" ] &&
    ok "aggregator and helper enabled on install" || bad "aggregator/helper not enabled"
[ ! -e "$R/$wants/zond-agent.service" ] && [ ! -e "$R/etc/zond/agent.conf" ] &&
    grep -qx 'ConditionPathExists=/etc/zond/agent.conf' "$R/lib/systemd/system/zond-agent.service" &&
    ok "agent not enabled before enrollment; its unit waits for agent.conf" || bad "agent enabled or unconditional before enrollment"

# --- zond-enroll: usage; the agent's own refusal passed on ------------
in_root zond-enroll >"$T/e" 2>&1
rc=$?
[ $rc = 2 ] && grep -q 'usage: zond-enroll TOKEN \[--accept-risk\]' "$T/e" &&
    ok "zond-enroll without a token: usage, exit 2" || { bad "zond-enroll usage (exit $rc)"; cat "$T/e"; }
in_root zond-enroll not-a-token --accept-risk >"$T/e.out" 2>"$T/e.err"
rc=$?
[ $rc != 0 ] && [ -s "$T/e.err" ] && [ ! -e "$R/$wants/zond-agent.service" ] &&
    ok "zond-enroll with a bad token fails (exit $rc, agent's message) and enables nothing" ||
    { bad "zond-enroll bad token (exit $rc)"; cat "$T/e.out" "$T/e.err"; }

chroot --userspec=nobody:nogroup "$R" /usr/sbin/zond-enroll some-token >"$T/e" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'run it as root' "$T/e" && ok "zond-enroll as a user: exit 1, says to run it as root" ||
    { bad "zond-enroll as a user (exit $rc)"; cat "$T/e"; }

# --- the volunteer's path: the packaged aggregator (as zond) issues a
# token, zond-enroll writes agent.conf and the key through the agent's
# --enroll, the agent (root, drops to zond) delivers to the aggregator
ip=$(port) hp=$(port)
cat >"$R/tmp/agg.conf" <<CONF
[aggregator]
data_dir = /var/lib/zond
key = /var/lib/zond/identity.key
[ingest]
listen = tcp://127.0.0.1:$ip
commit_delay = 0
[http]
listen = 127.0.0.1:$hp
[enroll]
endpoints = tcp://127.0.0.1:$ip
CONF
chmod 644 "$R/tmp/agg.conf"
as_zond() { chroot --userspec=zond:zond "$R" /usr/bin/env -i PATH=/usr/bin:/bin LC_ALL=C "$@" </dev/null; }
# a simple command, not the function: $! is then the daemon itself
# (chroot and env exec it), so the kills below stop it, not a subshell
chroot --userspec=zond:zond "$R" /usr/bin/env -i PATH=/usr/bin:/bin LC_ALL=C \
    /usr/bin/zond-aggregator -c /tmp/agg.conf </dev/null >"$T/agg.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'listening' "$T/agg.log" && break; sleep 0.1; done
tok=$(as_zond zondctl -c /tmp/agg.conf token create --region RU-SPE --asn 64500 \
    --network mobile --name pi-test 2>"$T/tok.err")
case $tok in zt1.*) ok "the packaged zondctl issued a token" ;;
*) bad "zondctl token create: '$tok'"; cat "$T/tok.err" "$T/agg.log" ;; esac
in_root zond-enroll "$tok" --accept-risk >"$T/e.out" 2>"$T/e.err"
rc=$?
[ $rc = 0 ] && grep -q 'enrolled and enabled' "$T/e.out" && grep -qi 'you take on\|volunteer' "$T/e.out" &&
    [ -L "$R/$wants/zond-agent.service" ] &&
    ok "zond-enroll TOKEN --accept-risk: notice shown, admitted, service enabled" ||
    { bad "zond-enroll (exit $rc)"; cat "$T/e.out" "$T/e.err" "$T/agg.log"; }
[ "$(own /var/lib/zond-agent/identity.key)" = "zond 600" ] && grep -q "^server_key = \"\\?$(cat "$R/var/lib/zond/identity.pub")" "$R/etc/zond/agent.conf" &&
    grep -q "^endpoint = \"\\?tcp://127.0.0.1:$ip" "$R/etc/zond/agent.conf" &&
    ok "enrollment wrote agent.conf (endpoint, server key) and a key owned by zond, 0600" ||
    { bad "enrollment's files: $(own /var/lib/zond-agent/identity.key)"; cat "$R/etc/zond/agent.conf"; }
as_zond zondctl -c /tmp/agg.conf agents | grep -q "region=RU-SPE asn=64500 .*network=mobile state=enabled" &&
    ok "the aggregator admitted the key with the token's region, ASN and network" ||
    { bad "agents after enrollment"; as_zond zondctl -c /tmp/agg.conf agents; }
# one test, a closed port on loopback, quickly
echo "service,test,target,ip,port,sni,control_sni,variant,bytes,interval
closed,tcp,127.0.0.1,,1,,,,," >"$R/var/lib/zond-agent/test.csv"
cat >>"$R/etc/zond/agent.conf" <<CONF
[tests]
endpoints = /var/lib/zond-agent/test.csv
[schedule]
interval = 1s
jitter = 100ms
retries = 0
timeout = 1s
CONF
in_root zond-agent -n -c /etc/zond/agent.conf >"$T/n" 2>&1 || { bad "agent -n"; cat "$T/n"; }
chroot "$R" /usr/bin/zond-agent -c /etc/zond/agent.conf >"$T/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'measurement seq=' "$T/agent.log" && break; sleep 0.1; done
for _ in $(seq 100); do grep -q 'stored=[1-9]' "$T/agg.log" && break;
	curl -s "http://127.0.0.1:$hp/api/v1/agents" | grep -q '"stored": [1-9]' && break; sleep 0.1; done
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null
grep -q 'running as user=zond' "$T/agent.log" && grep -q 'measurement seq=' "$T/agent.log" &&
    [ "$(own /var/lib/zond-agent/outbox/data.mdb)" = "zond 600" ] &&
    ok "the packaged agent ran as zond and measured" ||
    { bad "agent run"; cat "$T/agent.log"; ls -lR "$R/var/lib/zond-agent"; }
curl -s "http://127.0.0.1:$hp/api/v1/agents" | grep -q '"stored": [1-9]' &&
    ok "its measurements are stored by the packaged aggregator" ||
    { bad "nothing stored"; curl -s "http://127.0.0.1:$hp/api/v1/agents"; tail -20 "$T/agg.log"; }
kill "${pids[-2]}"; wait "${pids[-2]}" 2>/dev/null
rm -f "$R/tmp/agg.conf"

# --- upgrade -----------------------------------------------------------
echo "# kept across upgrades (lifecycle.sh)" >>"$R/etc/zond/aggregator.conf"
conf=$(sum /etc/zond/aggregator.conf) akey=$(sum /var/lib/zond-agent/identity.key)
gkey=$(sum /var/lib/zond/identity.key) aconf=$(sum /etc/zond/agent.conf)
ob=$(sum /var/lib/zond-agent/outbox/data.mdb)
in_root sh -c 'dpkg -i /next/*.deb' >"$T/upgrade.log" 2>&1 &&
    ok "dpkg -i of the next version" || { bad "upgrade"; cat "$T/upgrade.log"; }
got=$(in_root dpkg-query -W -f '${Version}\n' zond-agent zond-aggregator zond-helper zondctl | sort -u)
[ "$got" = "$v2" ] && ok "all four at $v2" || bad "versions after upgrade: $got"
[ "$(sum /etc/zond/aggregator.conf)" = "$conf" ] && ok "edited aggregator.conf kept" || bad "edited conffile replaced"
[ "$(sum /var/lib/zond-agent/identity.key)" = "$akey" ] && [ "$(sum /etc/zond/agent.conf)" = "$aconf" ] &&
    [ "$(sum /var/lib/zond-agent/outbox/data.mdb)" = "$ob" ] &&
    ok "agent key, config and outbox kept" || bad "agent state changed by the upgrade"
[ "$(sum /var/lib/zond/identity.key)" = "$gkey" ] && [ "$(in_root id -u zond)" = "$uid1" ] &&
    ok "aggregator key and the zond uid kept" || bad "aggregator key or zond uid changed"

# --- purge -------------------------------------------------------------
in_root dpkg --purge zond-agent >"$T/purge.log" 2>&1 || { bad "purge zond-agent"; cat "$T/purge.log"; }
[ ! -e "$R/var/lib/zond-agent" ] && [ ! -e "$R/etc/zond/agent.conf" ] && [ -e "$R/etc/zond/aggregator.conf" ] &&
    ok "purge zond-agent: key, outbox and agent.conf gone, others' config kept" || bad "agent purge left $(ls -a "$R/var/lib/zond-agent" "$R/etc/zond" 2>&1 | paste -sd' ')"
in_root dpkg --purge zond-aggregator zond-helper zondctl >"$T/purge.log" 2>&1 || { bad "purge"; cat "$T/purge.log"; }
[ ! -e "$R/etc/zond" ] && [ ! -e "$R/$wants/zond-aggregator.service" ] && [ ! -e "$R/$wants/zond-helper.service" ] &&
    ok "purge: /etc/zond and the enablement gone" || bad "purge left $(ls "$R/etc/zond" "$R/$wants" 2>&1 | paste -sd' ')"
[ -e "$R/var/lib/zond/identity.key" ] && grep -q 'kept /var/lib/zond' "$T/purge.log" &&
    ok "purge keeps the aggregator's measurements and says so" || bad "aggregator data after purge"
echo "pass=$pass fail=$fail"
[ "$fail" = 0 ]
