#!/usr/bin/python3
"""Check Zond's golden vectors with an independent Ed25519 implementation.

Uses PyNaCl (Debian: python3-nacl) and nothing of Zond's C code, so a pass
means the committed bytes follow docs/PROTOCOL.md, not just our library.
Usage: check.py DIR
"""
import sys
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.signing

PREFIX = b"zond/measurement/v1\x00"


def load(d, name):
    return bytes.fromhex((d / name).read_text().strip())


def main():
    d = Path(sys.argv[1])
    seed = load(d, "ed25519-seed.hex")
    pub = load(d, "ed25519-public.hex")
    curve = load(d, "curve25519-public.hex")
    body = load(d, "measurement.hex")
    signed = load(d, "signed.hex")
    sig = load(d, "signature.hex")
    frame = load(d, "uplink-batch.hex")
    checks = []

    sk = nacl.signing.SigningKey(seed)
    checks.append(("public key from seed", bytes(sk.verify_key) == pub))
    checks.append(("curve25519 key from ed25519 key",
                   nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(pub) == curve))
    checks.append(("signed = prefix || measurement", signed == PREFIX + body))
    checks.append(("deterministic signature", sk.sign(signed).signature == sig))
    try:
        nacl.signing.VerifyKey(pub).verify(signed, sig)
        ok = True
    except nacl.exceptions.BadSignatureError:
        ok = False
    checks.append(("verify(sig, signed, agent)", ok))
    bad = bytearray(signed)
    bad[len(PREFIX) + 3] ^= 0x01
    try:
        nacl.signing.VerifyKey(pub).verify(bytes(bad), sig)
        ok = False
    except nacl.exceptions.BadSignatureError:
        ok = True
    checks.append(("one flipped bit fails", ok))
    # the uplink frame carries the body and signature verbatim
    checks.append(("frame holds body and sig", body in frame and sig in frame))

    failed = 0
    for name, ok in checks:
        print(("ok   " if ok else "FAIL ") + name)
        failed += not ok
    print(f"{len(checks) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
