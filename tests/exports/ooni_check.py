#!/usr/bin/python3
"""ooni_check.py — do Zond's OONI-format records have OONI's shape?

  ooni_check.py SAMPLES_DIR EXPORT.jsonl [TEST_NAME...]
      every record of EXPORT whose test_name has a sample in SAMPLES_DIR
      has every key of that sample with the same JSON type, recursively;
      every failure string is one of df-007's; each TEST_NAME given was
      seen (exit 1 and one line per problem otherwise)
  ooni_check.py --self SAMPLES_DIR
      each sample passes against itself, and damaged copies of it (a key
      removed, a type changed, a failure string that df-007 lacks) fail:
      the checker can fail

A sample is one OONI measurement written by hand from ooni/spec (its
"_source" says which file and section), plus:
  "_optional": paths the spec marks optional that Zond does not write
  "_types":    path -> allowed types, where the spec allows several
               ("string; nullable", "string|bool|null"); a path
               "*.name" applies to every key called name
  "_maps":     paths of objects whose keys are data (headers, endpoints):
               each of our values is checked against the sample's first
Paths: keys joined by ".", "[]" for array elements, "{}" for map values.
Types: object array string int float bool null (an int is a float too).
"""
import json
import os
import sys

# ooni/spec data-formats/df-007-errors.md, the table of errors emitted by
# ooni/probe-engine and Measurement Kit ("unknown_failure ..." is any other)
DF007 = {
    "android_dns_cache_no_data", "connection_aborted",
    "connection_already_closed", "connection_refused", "connection_reset",
    "dns_bogon_error", "dns_no_answer", "dns_non_recoverable_failure",
    "dns_nxdomain_error", "dns_reply_with_wrong_query_id",
    "dns_refused_error", "dns_server_misbehaving", "dns_servfail_error",
    "dns_temporary_failure", "eof_error",
    "http_invalid_redirect_location_host", "http_request_failed",
    "host_unreachable", "generic_timeout_error",
    "http_unexpected_redirect_url", "http_unexpected_status_code",
    "interrupted", "json_parse_error", "network_down", "network_reset",
    "network_unreachable", "quic_incompatible_version",
    "ssl_failed_handshake", "ssl_invalid_hostname", "ssl_unknown_authority",
    "ssl_invalid_certificate",
}


def jtype(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


class Sample:
    def __init__(self, path):
        with open(path) as f:
            s = json.load(f)
        self.file = os.path.basename(path)
        if not isinstance(s.get("_source"), str) or not s["_source"]:
            raise SystemExit(f"{self.file}: no _source")
        self.optional = set(s.pop("_optional", []))
        self.types = s.pop("_types", {})
        self.maps = set(s.pop("_maps", []))
        s.pop("_source")
        self.doc = s
        self.name = s["test_name"]

    def allowed(self, path, sample_value):
        leaf = path.rsplit(".", 1)[-1]
        t = self.types.get(path) or self.types.get("*." + leaf)
        return set(t) if t else {jtype(sample_value)}

    def check(self, ours, samp=None, path="", errs=None):
        """Problems of ours against samp, as 'path: what' strings."""
        if errs is None:
            errs = []
            samp = self.doc
        allowed = self.allowed(path, samp)
        t = jtype(ours)
        if t not in allowed and not (t == "int" and "float" in allowed):
            errs.append(f"{path or '.'}: {t}, OONI has {'/'.join(sorted(allowed))}")
            return errs
        if ours is None:
            return errs
        if isinstance(samp, dict) and isinstance(ours, dict):
            if path in self.maps:
                if samp:
                    first = next(iter(samp.values()))
                    for v in ours.values():
                        self.check(v, first, path + "{}", errs)
                return errs
            for k, sv in samp.items():
                p = f"{path}.{k}" if path else k
                if k not in ours:
                    if p not in self.optional:
                        errs.append(f"{p}: missing")
                    continue
                self.check(ours[k], sv, p, errs)
        elif isinstance(samp, list) and isinstance(ours, list) and samp:
            for v in ours:
                best = None
                for sv in samp:   # an element may match any sample shape
                    e = self.check(v, sv, path + "[]", [])
                    if best is None or len(e) < len(best):
                        best = e
                    if not e:
                        break
                errs.extend(best)
        return errs


def failures(rec, path="", out=None):
    """(path, value) of every failure string outside the zond keys."""
    if out is None:
        out = []
    if isinstance(rec, dict):
        for k, v in rec.items():
            if k == "zond" or k.startswith("zond_"):
                continue
            p = f"{path}.{k}" if path else k
            if (k == "failure" or k.endswith("_failure")) and v is not None:
                out.append((p, v))
            elif k == "connection" and v != "success":
                out.append((p, v))
            else:
                failures(v, p, out)
    elif isinstance(rec, list):
        for v in rec:
            failures(v, path + "[]", out)
    return out


def bad_failures(rec):
    return [f"{p}: {v!r} is not a df-007 failure" for p, v in failures(rec)
            if not isinstance(v, str) or
            (v not in DF007 and not v.startswith("unknown_failure"))]


def load_samples(d):
    out = {}
    for f in sorted(os.listdir(d)):
        if f.endswith(".json"):
            s = Sample(os.path.join(d, f))
            out[s.name] = s
    return out


def self_test(d):
    samples = load_samples(d)
    bad = 0
    for name, s in samples.items():
        doc = s.doc
        if s.check(doc) or bad_failures(doc):
            print(f"FAIL {s.file}: does not pass against itself: {s.check(doc)} {bad_failures(doc)}")
            bad += 1
        tk = dict(doc["test_keys"])
        key = sorted(k for k in tk if f"test_keys.{k}" not in s.optional)[0]
        del tk[key]
        if not s.check(dict(doc, test_keys=tk)):
            print(f"FAIL {s.file}: removing test_keys.{key} goes unseen")
            bad += 1
        if not s.check(dict(doc, probe_asn=12345)):
            print(f"FAIL {s.file}: a number for the string probe_asn goes unseen")
            bad += 1
        if not bad_failures(dict(doc, test_keys=dict(doc["test_keys"], failure="timeout"))):
            print(f"FAIL {s.file}: failure 'timeout' (not df-007) goes unseen")
            bad += 1
    print(f"{len(samples)} samples checked, {bad} problems")
    return 1 if bad or not samples else 0


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "--self":
        return self_test(sys.argv[2])
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    samples = load_samples(sys.argv[1])
    want = set(sys.argv[3:])
    seen = {}
    problems = 0
    with open(sys.argv[2]) as f:
        for n, line in enumerate(f, 1):
            rec = json.loads(line)
            name = rec.get("test_name")
            errs = bad_failures(rec)
            if name in samples:
                errs = samples[name].check(rec) + errs
            elif not (isinstance(name, str) and name.startswith("zond_")):
                errs.append(f"test_name {name!r}: no OONI sample and not zond_")
            seen[name] = seen.get(name, 0) + 1
            for e in errs[:5]:
                print(f"line {n} ({name}): {e}")
            problems += bool(errs)
    for w in sorted(want - set(seen)):
        print(f"no record of {w}")
        problems += 1
    print(f"{sum(seen.values())} records ({', '.join(f'{k} {v}' for k, v in sorted(seen.items()))}), {problems} with problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
