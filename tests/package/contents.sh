#!/bin/bash
# contents.sh ARCH DEBDIR SRCDIR — what an operator checks in the Debian
# packages ops/package built for ARCH: the set of packages, their control
# fields (version from the tree, architecture, maintainer, section,
# Depends from dpkg-shlibdeps), their files and conffiles, that the
# binaries are ARCH's, lintian (no errors, no warnings but the accepted
# ones below), and the systemd units: systemd-analyze verify with the
# packaged binaries, and the exposure goals of docs/OPERATIONS.md.
set -u
arch=$1 debs=$2 src=$3
T=$(mktemp -d /tmp/zond-pkgcheck-XXXXXX)
trap 'rm -rf "$T"' EXIT
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

case $arch in
amd64) want="zond-agent zond-aggregator zond-helper zondctl" machine="X86-64" ;;
arm64) want="zond-agent zond-aggregator zond-helper zondctl" machine="AArch64" ;;
armhf) want="zond-agent" machine="ARM" ;;
*) echo "contents.sh: unknown architecture $arch" >&2; exit 2 ;;
esac
got=$(for d in "$debs"/*.deb; do dpkg-deb -f "$d" Package; done | sort | paste -sd' ')
[ "$got" = "$want" ] && ok "$arch: packages $got" || bad "$arch: packages '$got', want '$want'"
deb() { ls "$debs/$1"_*_"$arch".deb 2>/dev/null | head -1; }

# project(zond VERSION x.y.z) starts every package's version
pv=$(sed -n 's/^project(zond VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
ver=$(dpkg-deb -f "$(deb zond-agent)" Version)
case $ver in "$pv" | "$pv"+*) ok "version $ver starts with the project's $pv" ;;
*) bad "version '$ver' does not start with $pv" ;; esac
for p in $want; do
	f=$(deb "$p")
	[ -n "$f" ] || { bad "$p: no ${p}_*_$arch.deb"; continue; }
	dpkg-deb -f "$f" >"$T/$p.control"
	field() { sed -n "s/^$1: //p" "$T/$p.control"; }
	[ "$(field Version)" = "$ver" ] && [ "$(field Architecture)" = "$arch" ] &&
	    [ "$(field Section)" = net ] && [ "$(field Priority)" = optional ] &&
	    field Maintainer | grep -q '^[^<]\+ <[^@>]\+@[^>]\+>$' &&
	    [ "$(sed -n '/^Description:/,$p' "$T/$p.control" | wc -l)" -ge 3 ] &&
	    ok "$p: Version, Architecture, Section, Priority, Maintainer, Description" ||
	    { bad "$p: control fields"; cat "$T/$p.control"; }
	dpkg-deb -c "$f" | awk '{print $1, $6}' >"$T/$p.files"
	for doc in copyright changelog.gz; do
		grep -q " ./usr/share/doc/$p/$doc$" "$T/$p.files" || bad "$p: no /usr/share/doc/$p/$doc"
	done
	dpkg-deb -x "$f" "$T/root"
done
has()   { grep -q "^$3 ./$2$" "$T/$1.files" && ok "$1 holds /$2 ($3)" || bad "$1 lacks /$2 mode $3"; }
dep()   { sed -n 's/^Depends: //p' "$T/$1.control" | tr ',' '\n' | sed 's/^ //; s/ (.*//' | grep -qx "$2"; }
has zond-agent usr/bin/zond-agent -rwxr-xr-x
has zond-agent usr/sbin/zond-enroll -rwxr-xr-x
has zond-agent lib/systemd/system/zond-agent.service -rw-r--r--
has zond-agent usr/share/zond/ru-endpoints.csv -rw-r--r--
has zond-agent usr/share/doc/zond-agent/VOLUNTEERS.md -rw-r--r--
grep -q ' ./etc/' "$T/zond-agent.files" && bad "zond-agent ships /etc files (zond-enroll writes agent.conf)" || ok "zond-agent ships no config: zond-enroll writes it"
for l in libzmq5 libsodium23 liblmdb0 libldns3 libcurl4 libprotobuf-c1; do
	dep zond-agent $l || bad "zond-agent does not depend on $l"
done
dep zond-agent libmicrohttpd12 && bad "zond-agent depends on the aggregator's libmicrohttpd12" || ok "zond-agent: Depends from dpkg-shlibdeps, no libmicrohttpd"
if [ "$arch" != armhf ]; then
	has zond-aggregator usr/bin/zond-aggregator -rwxr-xr-x
	has zond-aggregator etc/zond/aggregator.conf -rw-r--r--
	has zond-aggregator usr/share/zond/dashboards/index.html -rw-r--r--
	has zond-aggregator usr/share/zond/dashboards/regions.js -rw-r--r--
	has zond-aggregator usr/share/zond/dashboards/uPlot.iife.min.js -rw-r--r--
	grep -q 'dashboards/node_modules\|dashboards/package' "$T/zond-aggregator.files" &&
	    bad "zond-aggregator ships npm's working files" || ok "zond-aggregator: no node_modules or package.json"
	has zond-helper usr/bin/zond-helper -rwxr-xr-x
	has zond-helper etc/zond/helper.conf -rw-r--r--
	has zondctl usr/bin/zondctl -rwxr-xr-x
	dep zond-aggregator libmicrohttpd12 && dep zond-aggregator zondctl &&
	    ok "zond-aggregator depends on libmicrohttpd12 and zondctl" || bad "zond-aggregator Depends"
	for p in zond-aggregator zond-helper; do
		c=$(dpkg-deb --info "$(deb $p)" conffiles 2>/dev/null)
		[ "$c" = "/etc/zond/${p#zond-}.conf" ] && ok "$p: conffile $c" || bad "$p: conffiles '$c'"
	done
fi
for b in "$T"/root/usr/bin/*; do
	m=$(LC_ALL=C readelf -h "$b" | sed -n 's/^ *Machine: *//p')
	case $m in *"$machine"*) ok "${b##*/} is an $machine binary" ;; *) bad "${b##*/}: machine '$m'" ;; esac
done

# lintian: errors fail; warnings fail unless accepted here, with reasons:
#   no-manual-page: the programs' reference is --help, README and docs/
lintian --no-cfg --suppress-tags no-manual-page "$debs"/*_"$arch".deb \
	>"$T/lintian" 2>&1
grep -v 'running with root privileges' "$T/lintian" >"$T/lintian.e"
[ ! -s "$T/lintian.e" ] && ok "lintian: clean (no-manual-page accepted)" || { bad "lintian"; cat "$T/lintian.e"; }

# units: verify with the packaged binaries in a root that has the host's
# system units (sysinit.target ...); any message is a failure.  The units
# are the packages' own, listed before the host's are copied in (a zond
# unit left on the host is none of them)
units=$(cd "$T/root/lib/systemd/system" && ls zond-*.service)
cp -an /lib/systemd/system/. "$T/root/lib/systemd/system/"
for u in $units; do
	if systemd-analyze verify --root="$T/root" "$T/root/lib/systemd/system/$u" >"$T/verify" 2>&1 &&
	    [ ! -s "$T/verify" ]; then ok "systemd-analyze verify $u"
	else bad "systemd-analyze verify $u"; cat "$T/verify"; fi
	case $u in zond-aggregator.service) goal=3.0 ;; *) goal=2.0 ;; esac
	e=$(systemd-analyze security --offline=yes "$T/root/lib/systemd/system/$u" 2>&1 |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	if [ -n "$e" ] && awk -v e="$e" -v g="$goal" 'BEGIN { exit !(e <= g) }'; then
		ok "$u exposure $e <= $goal"
	else bad "$u exposure '$e' above $goal"; fi
done
if [ "$arch" = amd64 ]; then
	"$src/ops/package" sparc "$T/x" >"$T/p" 2>&1
	rc=$?
	[ $rc = 2 ] && grep -q "unknown architecture 'sparc'" "$T/p" &&
	    ok "ops/package sparc: exit 2, names the architecture" || { bad "ops/package sparc (exit $rc)"; cat "$T/p"; }
fi
echo "pass=$pass fail=$fail"
[ "$fail" = 0 ]
