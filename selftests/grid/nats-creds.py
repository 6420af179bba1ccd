#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
#
# nats-creds.py DIR: make, at test time, what a nats-server in operator
# mode and its clients need (there is no nsc here):
#   DIR/server.conf   operator JWT file, a MEMORY resolver with the
#                     account's JWT preloaded (listen and port are the
#                     caller's: nats-server -c DIR/server.conf -a -p)
#   DIR/operator.jwt  the self-signed operator JWT
#   DIR/user.creds    a user of that account: its JWT and nkey seed
#   DIR/wrong.creds   a well-formed user of another operator's account,
#                     which this server must refuse
# and print the account's and the user's public keys.
#
# Written here from the formats as documented, no code copied:
# - nkeys (github.com/nats-io/nkeys, strkey.go and crc16.go; the README):
#   a public key is base32 (RFC 4648 alphabet, no padding) of one prefix
#   byte (operator 14<<3 'O', account 0 'A', user 20<<3 'U'), the 32-byte
#   Ed25519 public key and the CRC-16/XMODEM (poly 0x1021, init 0) of
#   those bytes, little-endian; a seed is the same over two bytes,
#   18<<3 | prefix>>5 and (prefix & 31)<<3 ('SO', 'SA', 'SU'), and the
#   32-byte Ed25519 seed (nats.c src/nkeys.c reads it so).
# - JWT v2 (github.com/nats-io/jwt, v2/claims.go, v2/header.go,
#   v2/account_claims.go, v2/user_claims.go): header {"typ":"JWT",
#   "alg":"ed25519-nkey"}; claims jti, iat, iss, name, sub and "nats"
#   {type, version 2, ...}; jti is base32 (no padding) of SHA-512/256 of
#   the claims without jti; each part base64url without padding, and the
#   signature is Ed25519 by the issuer's seed over "header.claims".
#   Limits are explicit (-1 = none): absent ones read as 0.
# - creds files (v2/creds_utils.go): the user JWT between
#   "-----BEGIN NATS USER JWT-----" and "------END NATS USER JWT------",
#   then the seed between "-----BEGIN USER NKEY SEED-----" and
#   "------END USER NKEY SEED------".
import base64
import hashlib
import json
import os
import sys
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PREFIX = {"operator": 14 << 3, "account": 0, "user": 20 << 3}
PREFIX_SEED = 18 << 3


def crc16(data):
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def b32(raw):
    return base64.b32encode(raw).decode().rstrip("=")


def with_crc(raw):
    return raw + crc16(raw).to_bytes(2, "little")


class Key:
    def __init__(self, kind):
        self.kind = kind
        self.sk = Ed25519PrivateKey.generate()
        pk = self.sk.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        seed = self.sk.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
            serialization.NoEncryption())
        p = PREFIX[kind]
        self.public = b32(with_crc(bytes([p]) + pk))
        self.seed = b32(with_crc(bytes([PREFIX_SEED | p >> 5,
                                        (p & 31) << 3]) + seed))

    def sign(self, data):
        return self.sk.sign(data)


def b64(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def compact(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def jwt(issuer, subject, name, nats):
    claims = {"iat": int(time.time()), "iss": issuer.public, "name": name,
              "sub": subject.public}
    claims["jti"] = b32(hashlib.new("sha512_256", compact(claims)).digest())
    claims["nats"] = dict(nats, version=2)
    head = b64(compact({"typ": "JWT", "alg": "ed25519-nkey"}))
    body = head + "." + b64(compact(claims))
    return body + "." + b64(issuer.sign(body.encode()))


NO_LIMITS = {"subs": -1, "data": -1, "payload": -1}


def authority(name):
    """An operator, one account and one user of it: (op, acc, jwts)."""
    op, acc, user = Key("operator"), Key("account"), Key("user")
    ojwt = jwt(op, op, name, {"type": "operator"})
    ajwt = jwt(op, acc, name + "-account", {
        "type": "account",
        "limits": dict(NO_LIMITS, imports=-1, exports=-1, wildcards=True,
                       conn=-1, leaf=-1)})
    ujwt = jwt(acc, user, name + "-user", dict(
        NO_LIMITS, type="user", pub={}, sub={}))
    return op, acc, user, ojwt, ajwt, ujwt


def creds(ujwt, user):
    return ("-----BEGIN NATS USER JWT-----\n%s\n"
            "------END NATS USER JWT------\n\n"
            "-----BEGIN USER NKEY SEED-----\n%s\n"
            "------END USER NKEY SEED------\n" % (ujwt, user.seed))


def write(path, text, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def main():
    if len(sys.argv) != 2:
        print("usage: nats-creds.py DIR", file=sys.stderr)
        return 2
    d = os.path.abspath(sys.argv[1])
    op, acc, user, ojwt, ajwt, ujwt = authority("pg-grid")
    _, _, other, _, _, wjwt = authority("pg-grid-other")
    write(os.path.join(d, "operator.jwt"), ojwt + "\n", 0o644)
    write(os.path.join(d, "server.conf"),
          "operator: %s\nresolver: MEMORY\nresolver_preload: {\n"
          "  %s: %s\n}\n" % (json.dumps(os.path.join(d, "operator.jwt")),
                             acc.public, ajwt), 0o644)
    write(os.path.join(d, "user.creds"), creds(ujwt, user))
    write(os.path.join(d, "wrong.creds"), creds(wjwt, other))
    print("account %s user %s" % (acc.public, user.public))
    return 0


if __name__ == "__main__":
    sys.exit(main())
