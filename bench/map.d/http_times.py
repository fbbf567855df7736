#!/usr/bin/python3
"""http_times.py BASE QUERIES [TAG] — times the requests the dashboard makes
(dashboards/, docs/DASHBOARD.md) against a running zond-aggregator whose
store map_bench filled (services service-00..19, regions RU-R01..R85):
each request QUERIES times (the all-service ones a quarter of that), a
new connection each, as a browser's fetch after Connection: close.
Prints http_p50_ms_NAME=, http_p99_ms_NAME=, http_bytes_NAME= per request
kind, TAG appended to NAME (no assertion: figures)."""
import http.client
import random
import sys
import time
import urllib.parse

BASE, Q = sys.argv[1], int(sys.argv[2])
TAG = sys.argv[3] if len(sys.argv) > 3 else ""
U = urllib.parse.urlparse(BASE)
rng = random.Random(7)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def svc():
    return "service-%02d" % rng.randrange(20)


def reg():
    return "RU-R%02d" % (1 + rng.randrange(85))


now = time.time()
KINDS = [
    # the map view and the header: every service's region rows, the state
    # now (cells=none)
    ("map_rows", lambda: "/api/v1/map?sample=latest&cells=none", 4),
    # the country's ISPs of one service
    ("map_latest", lambda: "/api/v1/map?sample=latest&service=" + svc(), 1),
    # one region's ISPs
    ("map_region", lambda: "/api/v1/map?sample=latest&region=" + reg(), 1),
    # every cell of every service (an API client; the matrix view reads
    # the region rows since they carry method and confidence)
    ("map_all_latest", lambda: "/api/v1/map?sample=latest", 4),
    # since when: one service's events of 30 days, first judgements too
    ("events_since", lambda: "/api/v1/events?first=all&since=%s&service=%s"
     % (iso(now - 30 * 86400), svc()), 1),
    # the events feed: a week of news, every service
    ("events_feed", lambda: "/api/v1/events?since=" + iso(now - 7 * 86400), 4),
    # timelines: a week per hour, a service and a service in a region
    ("history", lambda: "/api/v1/history?service=" + svc(), 1),
    ("history_region", lambda: "/api/v1/history?service=%s&region=%s"
     % (svc(), reg()), 1),
    ("silences", lambda: "/api/v1/silences", 1),
    ("agents", lambda: "/api/v1/agents", 4),
    ("info", lambda: "/api/v1/info", 1),
]


def get(path):
    c = http.client.HTTPConnection(U.hostname, U.port, timeout=120)
    a = time.perf_counter()
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    z = time.perf_counter()
    c.close()
    return r.status, len(body), (z - a) * 1000.0


def pct(v, p):
    v = sorted(v)
    return v[max(0, min(len(v) - 1, int(-(-p * len(v) // 1)) - 1))]


for name, path, div in KINDS:
    st, _, _ = get(path())          # warm-up, and is it served at all?
    if st == 404:
        print("http_%s%s=absent" % (name, TAG))
        continue
    if st != 200:
        print("http_%s%s=status_%d" % (name, TAG, st))
        continue
    ms, size = [], 0
    for _ in range(max(3, Q // div)):
        st, n, t = get(path())
        ms.append(t)
        size += n
    print("http_p50_ms_%s%s=%.2f" % (name, TAG, pct(ms, 0.5)))
    print("http_p99_ms_%s%s=%.2f" % (name, TAG, pct(ms, 0.99)))
    print("http_bytes_%s%s=%d" % (name, TAG, size // len(ms)))
    sys.stdout.flush()
