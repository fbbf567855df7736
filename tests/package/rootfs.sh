#!/bin/bash
# rootfs.sh DEBDIR DEST — unpack into DEST a throw-away Debian 12 root
# (debootstrap --variant=minbase from the host's Debian mirror) holding the
# libraries the packages in DEBDIR depend on, so dpkg -i needs no network.
# The root is cached as a tarball under /var/cache/zond-test/, named by its
# package list: a second run downloads nothing.  Needs root and debootstrap.
set -euo pipefail
debdir=$1 dest=$2
cache=/var/cache/zond-test
mirror=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' \
	/etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
# every dependency of the packages but themselves: "libzmq5 (>= 4.1.2), ..."
ours=$(for d in "$debdir"/*.deb; do dpkg-deb -f "$d" Package; done)
deps=$(for d in "$debdir"/*.deb; do dpkg-deb -f "$d" Depends; done |
	tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g' | sort -u |
	grep -vxF -e '' $(printf -- '-e %s ' $ours) | paste -sd, -)
tag=$(printf '%s\n' "$deps" | sha256sum | cut -c1-12)
tarball=$cache/bookworm-minbase-$tag.tar.gz
if [ ! -s "$tarball" ]; then
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/build-XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	echo "rootfs.sh: debootstrap bookworm from $mirror with $deps" >&2
	debootstrap --variant=minbase --include="$deps" bookworm "$tmp/root" \
		"$mirror" >"$tmp/log" 2>&1 || { tail -20 "$tmp/log" >&2; exit 1; }
	rm -rf "$tmp"/root/var/cache/apt/archives/*.deb
	tar -C "$tmp/root" -czf "$tmp/root.tar.gz" .
	mv "$tmp/root.tar.gz" "$tarball"
fi
mkdir -p "$dest"
tar -C "$dest" -xzf "$tarball"
