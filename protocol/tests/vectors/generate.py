#!/usr/bin/env python3
"""Writes offline-code-v1.json: test vectors for the offline code, format v1.

Independent of the Rust implementation on purpose: the body is packed here with `struct`, base45
is written here from RFC 9285, and the SM2 signatures come from the `gmssl` package (a separate SM2
implementation). Keys and nonces are derived from fixed labels with SM3, so running this again
writes the same file.

    python3 -m pip install gmssl==3.2.2
    python3 protocol/tests/vectors/generate.py > protocol/tests/vectors/offline-code-v1.json
"""

import binascii
import datetime
import json
import struct
import sys

from gmssl import func, sm2, sm3

N = int(sm2.default_ecc_table["n"], 16)
EPOCH = datetime.date(2020, 1, 1)
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
VALIDITY_DAYS = 180


def sm3_int(label):
    return int(sm3.sm3_hash(func.bytes_to_list(label.encode("utf-8"))), 16)


def scalar(label):
    """A scalar in [1, n-1] derived from a label."""
    return sm3_int(label) % (N - 1) + 1


def base45(data):
    out = []
    for i in range(0, len(data) - 1, 2):
        n = data[i] * 256 + data[i + 1]
        c, n = n % 45, n // 45
        d, e = n % 45, n // 45
        out += [ALPHABET[c], ALPHABET[d], ALPHABET[e]]
    if len(data) % 2:
        n = data[-1]
        out += [ALPHABET[n % 45], ALPHABET[n // 45]]
    return "".join(out)


def vector(description, key_label, kid, code_id, serial, issued_on):
    d = scalar(key_label)
    private_hex = "%064x" % d
    signer = sm2.CryptSM2(private_key=private_hex, public_key="")
    public_xy = signer._kg(d, sm2.default_ecc_table["g"])
    signer = sm2.CryptSM2(private_key=private_hex, public_key=public_xy)
    issued_day = (issued_on - EPOCH).days
    expires_day = issued_day + VALIDITY_DAYS - 1
    body = struct.pack(">BBB16sHHH", 1, 1, kid, code_id, serial, issued_day, expires_day)
    nonce = "%064x" % scalar("nonce/" + description)
    signature_hex = signer.sign_with_sm3(body, nonce)
    assert signer.verify_with_sm3(signature_hex, body)
    signature = binascii.a2b_hex(signature_hex)
    return {
        "description": description,
        "private_key_hex": private_hex,
        "public_key_hex": "04" + public_xy.lower(),
        "body_hex": body.hex(),
        "signature_hex": signature.hex(),
        "qr_text": "SSM1:" + base45(body + signature),
        "version": 1,
        "alg": 1,
        "kid": kid,
        "code_id_hex": code_id.hex(),
        "serial": serial,
        "issued_day": issued_day,
        "expires_day": expires_day,
        "issued_on": issued_on.isoformat(),
        "expires_on": (EPOCH + datetime.timedelta(days=expires_day)).isoformat(),
    }


def main():
    vectors = [
        vector("first slip", "issuer key 1", 1,
               bytes.fromhex("3f2a9c0e5b7d41e8a6c2f09b1d4e7a35"), 1, datetime.date(2026, 11, 21)),
        vector("reissue of the first slip", "issuer key 1", 1,
               bytes.fromhex("a81c7e02d95b4f36b0e4c1972f6d8a0b"), 2, datetime.date(2026, 12, 3)),
        vector("issued on the epoch day", "issuer key 1", 1,
               bytes(range(16)), 1, datetime.date(2020, 1, 1)),
        vector("rotated key, leap day, zero code id", "issuer key 2", 2,
               bytes(16), 7, datetime.date(2028, 2, 29)),
        vector("largest kid, serial and day", "issuer key 255", 255,
               b"\xff" * 16, 65535, EPOCH + datetime.timedelta(days=65535 - VALIDITY_DAYS + 1)),
        vector("serial above 255", "issuer key 2", 2,
               bytes.fromhex("00ff00ff00ff00ff00ff00ff00ff00ff"), 300, datetime.date(2031, 6, 15)),
    ]
    json.dump(vectors, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
