#!/usr/bin/python3
# tl_fill.py BINDIR KEY OUT PORT VERSION — the largest signed list
# `zondctl testlist sign` makes: 65 tcp rows to 127.0.0.1:PORT with 8,000-
# byte SNIs, and one more whose SNI length is found by binary search on
# what sign accepts.  Prints the file's size.
import os
import subprocess
import sys

b, key, out, port, version = sys.argv[1:6]
rows = ["service,test,target,port,sni,control_sni\n"]
for i in range(65):
    rows.append("big,tcp,127.0.0.1,%s,%s,%s\n" % (port, "s%d-" % i + "a" * 8000, "c%d-" % i + "b" * 8000))
def sign(n):
    with open("fill.csv", "w") as f:
        f.write("".join(rows) + "big,tcp,127.0.0.1,%s,%s,\n" % (port, "z" * n) if n else "".join(rows))
    r = subprocess.run([b + "/zondctl", "testlist", "sign", "--key", key, "--version", version, "-o", out, "fill.csv"], capture_output=True)
    return r.returncode == 0
lo, hi = 0, 16000
assert sign(lo)
while lo < hi:
    mid = (lo + hi + 1) // 2
    if sign(mid): lo = mid
    else: hi = mid - 1
assert sign(lo)
print(os.path.getsize(out))
