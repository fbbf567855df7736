#!/bin/bash
# build.sh ARCH OUTDIR — the fixture of the package and arm tests: ops/package
# ARCH into OUTDIR/ARCH (replaced whole, so no stale package is checked);
# for amd64 also OUTDIR/amd64-next, the same tree at a higher version
# (VERSION.1) for the upgrade test.  ARM needs ops/cross-setup ARCH first.
set -euo pipefail
arch=$1 out=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$out/$arch" "$out/$arch-next"
mkdir -p "$out"
ZOND_WERROR=ON "$src/ops/package" "$arch" "$out/$arch" >"$out/$arch.log" 2>&1 ||
	{ tail -30 "$out/$arch.log"; exit 1; }
if [ "$arch" = amd64 ]; then
	v=$(dpkg-deb -f "$(ls "$out"/amd64/zond-agent_*.deb)" Version)
	ZOND_PKG_VERSION=$v.1 "$src/ops/package" amd64 "$out/amd64-next" \
		>"$out/amd64-next.log" 2>&1 || { tail -30 "$out/amd64-next.log"; exit 1; }
fi
ls "$out/$arch"/*.deb
