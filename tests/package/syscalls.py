#!/usr/bin/python3
"""syscalls.py UNITFILE STRACE WRITABLE... — does what a packaged daemon did
(its `strace -f` log) fit its unit's sandbox?  Every system call must be in
the unit's SystemCallFilter (the allow-list line, less the ~ lines,
expanded with `systemd-analyze syscall-filter`), every socket family in
RestrictAddressFamilies, and every file opened for writing under one of
the WRITABLE prefixes (ProtectSystem=strict leaves only the state
directory writable).  Prints what does not fit; exit 1 if anything."""
import re
import subprocess
import sys

unit, trace, writable = sys.argv[1], sys.argv[2], sys.argv[3:]
groups = {}


def expand(name):
    if not name.startswith("@"):
        return {name}
    if name not in groups:
        out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                             capture_output=True, text=True, check=True).stdout
        items = [l.strip() for l in out.splitlines()[1:]]
        groups[name] = set()
        for i in items:
            if i and not i.startswith("#"):
                groups[name] |= expand(i)
    return groups[name]


# systemd's order: the first allow-list line sets the list, later lines
# add (name) or remove (~name) in turn
allowed, families = None, set()
for line in open(unit):
    k, _, v = line.strip().partition("=")
    if k == "SystemCallFilter":
        deny = v.startswith("~")
        names = set().union(*(expand(n) for n in v.lstrip("~").split()))
        if allowed is None:
            if deny:
                sys.exit(f"{unit}: SystemCallFilter starts with a deny-list")
            allowed = names
        elif deny:
            allowed -= names
        else:
            allowed |= names
    elif k == "RestrictAddressFamilies":
        families = set(v.split())
if allowed is None:
    sys.exit(f"{unit}: no SystemCallFilter allow-list")

used, fams, writes = set(), set(), set()
call = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]")
for line in open(trace, errors="replace"):
    m = call.match(line)
    if not m or " = ? <unavailable>" in line:
        continue
    used.add(m.group(1))
    s = re.search(r"\bsocket(?:pair)?\((AF_[A-Z0-9]+)", line)
    if s:
        fams.add(s.group(1))
    o = re.search(r'\bopen(?:at)?\((?:[^,]+, )?"([^"]*)", ([A-Z_|]+)', line)
    if o and re.search(r"O_(WRONLY|RDWR|CREAT|TRUNC)", o.group(2)) \
            and not line.rstrip().endswith(("ENOENT (No such file or directory)",)):
        writes.add(o.group(1))
bad = sorted(used - allowed)
badf = sorted(fams - families)
okw = tuple(writable) + ("/dev/null", "/proc/self/task/", "/proc/")
badw = sorted(w for w in writes if not w.startswith(okw))
print(f"{unit.rsplit('/', 1)[-1]}: {len(used)} system calls, families "
      f"{' '.join(sorted(fams)) or '-'}, {len(writes)} files written")
for n in bad:
    print(f"  system call {n} is outside SystemCallFilter")
for f in badf:
    print(f"  socket family {f} is outside RestrictAddressFamilies")
for w in badw:
    print(f"  writes {w}, outside the writable paths {' '.join(writable)}")
sys.exit(1 if bad or badf or badw else 0)
