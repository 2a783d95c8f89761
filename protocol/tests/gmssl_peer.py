#!/usr/bin/env python3
"""An independent SM2 peer for the cross-check test: signs and verifies with the `gmssl` package.

Reads one JSON request on standard input and writes one JSON answer on standard output:
  {"op": "sign",   "items": [{"private_key_hex", "message_hex"}]}            -> ["<r||s hex>", ...]
  {"op": "verify", "items": [{"public_key_hex", "message_hex", "signature_hex"}]} -> [true, ...]
Public keys are 04 || x || y; gmssl wants x || y. The user id is gmssl's fixed 1234567812345678.
"""

import binascii
import json
import sys

from gmssl import sm2


def sign(item):
    private_hex = item["private_key_hex"]
    d = int(private_hex, 16)
    signer = sm2.CryptSM2(private_key=private_hex, public_key="")
    public_xy = signer._kg(d, sm2.default_ecc_table["g"])
    signer = sm2.CryptSM2(private_key=private_hex, public_key=public_xy)
    return signer.sign_with_sm3(binascii.a2b_hex(item["message_hex"])).lower()


def verify(item):
    public = item["public_key_hex"]
    if not public.startswith("04") or len(public) != 130:
        return False
    verifier = sm2.CryptSM2(private_key="", public_key=public[2:])
    return bool(verifier.verify_with_sm3(item["signature_hex"], binascii.a2b_hex(item["message_hex"])))


def main():
    request = json.load(sys.stdin)
    op = {"sign": sign, "verify": verify}[request["op"]]
    json.dump([op(item) for item in request["items"]], sys.stdout)


if __name__ == "__main__":
    main()
