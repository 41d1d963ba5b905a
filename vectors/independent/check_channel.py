#!/usr/bin/env python3
"""Independent checker for vectors/channel.json (spec/10-mesh.md §13).

Written from spec/10-mesh.md §3 and §13, spec/02-identity.md §6 (labelled
Ed25519 signatures) and spec/00-overview.md alone. It shares no code with
the Rust crates or with the other checkers and never calls them.
Primitives: hashlib (SHA-256) and pyca `cryptography` (ChaCha20Poly1305,
Ed25519). Every layout, the associated data, the check order of §13.4 and
the flood delay of §13.6 are implemented here. The sender's address is
taken from the vector (its derivation is checked by check_mesh.py); its
Ed25519 key is re-derived from the seed.

usage: python3 vectors/independent/check_channel.py [vectors/channel.json]
exit status: 0 all pass, 1 any failure, 2 a dependency is missing.
"""

import hashlib
import os
import sys

import vector_runner

try:
    from cryptography.exceptions import InvalidSignature, InvalidTag
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError as e:  # pragma: no cover
    print(f"missing dependency: {e} (pip install 'cryptography>=47' jsonschema)")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.dirname(HERE)
ROOT = os.path.dirname(VECTORS)

CHANNEL_TYPE = 0x9
REGISTERED_TYPES = {0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x9}
SIGNATURE_LABEL = b"qpc sig v1 mesh channel"
MIN_BODY, MAX_BODY = 8 + 16 + 17, 172 - 30
MAX_UNSIGNED, MAX_SIGNED = 101, 37


class Reject(Exception):
    """A check of the spec refused the input; the argument is the class."""


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def channel_id(key):
    return sha256(b"qpc mesh channel id v1", key)[:16]


def aead_key(key):
    return sha256(b"qpc mesh channel aead v1", key)


def public_key(seed):
    sk = Ed25519PrivateKey.from_private_bytes(seed)
    return sk.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def labelled(message):
    # 02 §6.1: varint(len(label)) || label || message; the label is < 64 bytes.
    return bytes([len(SIGNATURE_LABEL)]) + SIGNATURE_LABEL + message


def signed_bytes(cid, mid, ext, flags, content):
    return cid + mid.to_bytes(4, "big") + ext + bytes([flags]) + content


def header_bytes(count, limit, dest, mid, hop_id):
    first = 0x20 | (0x10 if hop_id is not None else 0) | CHANNEL_TYPE
    return bytes([first, count << 4 | limit]) + dest + mid.to_bytes(4, "big") + (hop_id or b"")


def associated_data(limit, dest, mid):
    """§13.3: the header as the originator sends it, hop count 0, no hop id."""
    return header_bytes(0, limit, dest, mid, None)


def nonce(mid, ext):
    return mid.to_bytes(4, "big") + ext


def seal(key, seed, address, content, signed, limit, mid, ext):
    if len(content) > (MAX_SIGNED if signed else MAX_UNSIGNED):
        raise Reject("content_too_long")
    cid = channel_id(key)
    flags = 1 if signed else 0
    plaintext = address + bytes([flags]) + content
    if signed:
        sk = Ed25519PrivateKey.from_private_bytes(seed)
        plaintext += sk.sign(labelled(signed_bytes(cid, mid, ext, flags, content)))
    ct = ChaCha20Poly1305(aead_key(key)).encrypt(
        nonce(mid, ext), plaintext, associated_data(limit, cid, mid)
    )
    return header_bytes(0, limit, cid, mid, None) + ext + ct


def read_header(d):
    """10 §3.3 H1-H7."""
    if not d:
        raise Reject("truncated")
    if d[0] >> 5 != 1:
        raise Reject("unknown_version")
    if d[0] & 0x0F not in REGISTERED_TYPES:
        raise Reject("unknown_message_type")
    if len(d) < 2:
        raise Reject("truncated")
    count, limit = d[1] >> 4, d[1] & 0x0F
    if count > limit:
        raise Reject("malformed")
    length = 30 if d[0] & 0x10 else 22
    if len(d) < length:
        raise Reject("truncated")
    return d[0] & 0x0F, limit, d[2:18], int.from_bytes(d[18:22], "big"), d[length:]


def open_channel(key, d, known):
    """§13.4 C1-C6, in order."""
    kind, limit, dest, mid, body = read_header(d)
    assert kind == CHANNEL_TYPE, "the vectors carry channel messages only"
    if len(body) < MIN_BODY:  # C1
        raise Reject("truncated")
    if len(body) > MAX_BODY:
        raise Reject("content_too_long")
    if dest != channel_id(key):  # C2
        raise Reject("malformed")
    ext, ct = body[:8], body[8:]
    try:  # C3
        pt = ChaCha20Poly1305(aead_key(key)).decrypt(
            nonce(mid, ext), ct, associated_data(limit, dest, mid)
        )
    except InvalidTag:
        raise Reject("open_failed")
    sender, flags = pt[:16], pt[16]
    if flags & 0xFE:  # C4
        raise Reject("malformed")
    signed = flags == 1
    end = len(pt) - 64 if signed else len(pt)
    if end < 17:  # C5
        raise Reject("malformed")
    content, verified = pt[17:end], False
    if signed and known is not None:  # C6
        try:
            Ed25519PublicKey.from_public_bytes(known).verify(
                pt[end:], labelled(signed_bytes(dest, mid, ext, flags, content))
            )
        except InvalidSignature:
            raise Reject("bad_signature")
        verified = True
    return {
        "sender": sender.hex(),
        "signed": signed,
        "sender_verified": verified,
        "content": content.hex(),
    }


def flood_delay(hop_id, kind, dest, mid, window):
    draw = int.from_bytes(
        sha256(b"qpc mesh flood delay v1", hop_id, bytes([kind]), dest, mid.to_bytes(4, "big"))[:8],
        "big",
    )
    return draw % (window + 1) if window < 2**64 - 1 else draw


def outcome(f, *args):
    try:
        return ("ok", f(*args))
    except Reject as r:
        return ("error", r.args[0])


def check_derive(v):
    key = bytes.fromhex(v["key"])
    if channel_id(key).hex() != v["channel_id"]:
        return "channel id differs"
    if aead_key(key).hex() != v["aead_key"]:
        return "AEAD key differs"


def check_seal(v):
    s = v["sender"]
    seed = bytes.fromhex(s["signing_seed"])
    if public_key(seed).hex() != s["signing_key"]:
        return "signing key is not the seed's"
    got = outcome(
        seal,
        bytes.fromhex(v["key"]),
        seed,
        bytes.fromhex(s["address"]),
        bytes.fromhex(v["content"]),
        v["signed"],
        v["hop_limit"],
        v["message_id"],
        bytes.fromhex(v["nonce_extension"]),
    )
    want = ("error", v["expected_error"]) if "expected_error" in v else ("ok", bytes.fromhex(v["datagram"]))
    if got != want:
        return f"got {got}, want {want}"


def check_open(v):
    known = bytes.fromhex(v["known_signing_key"]) if "known_signing_key" in v else None
    got = outcome(open_channel, bytes.fromhex(v["key"]), bytes.fromhex(v["datagram"]), known)
    want = ("error", v["expected_error"]) if "expected_error" in v else ("ok", v["opened"])
    if got != want:
        return f"got {got}, want {want}"


def check_flood_delay(v):
    got = flood_delay(
        bytes.fromhex(v["hop_id"]),
        v["message_type"],
        bytes.fromhex(v["destination"]),
        v["message_id"],
        v["window_ms"],
    )
    if got != v["delay_ms"]:
        return f"delay {got}, want {v['delay_ms']}"


def check_flood_window(v):
    window, u, n = v["window_ms"], v.get("uncovered"), v["neighbours"]
    if u is None or n == 0:
        want = window
    else:
        want = window - (3 * window * min(u, n)) // (4 * n)
    if want != v["weighted_window_ms"]:
        return f"window {v['weighted_window_ms']}, want {want}"


CHECKS = {
    "derive": check_derive,
    "seal": check_seal,
    "open": check_open,
    "flood_delay": check_flood_delay,
    "flood_window": check_flood_window,
}


def spec_worked_example(data):
    """spec/10 §13.8 shows the seal-unsigned datagram; re-derive it."""
    text = open(os.path.join(ROOT, "spec", "10-mesh.md"), encoding="utf-8").read()
    block = text.split("### 13.8 Worked example")[1].split("```")[1]
    spec_hex = "".join(line.split()[0] for line in block.splitlines() if line.strip())
    v = next(v for v in data["vectors"] if v["name"] == "seal-unsigned")
    s = v["sender"]
    mine = seal(
        bytes.fromhex(v["key"]),
        bytes.fromhex(s["signing_seed"]),
        bytes.fromhex(s["address"]),
        bytes.fromhex(v["content"]),
        False,
        v["hop_limit"],
        v["message_id"],
        bytes.fromhex(v["nonce_extension"]),
    )
    if spec_hex != mine.hex():
        return "spec/10 §13.8 differs from the re-derived datagram"


if __name__ == "__main__":
    sys.exit(vector_runner.main(sys.argv, [os.path.join(VECTORS, "channel.json")], CHECKS,
                                file_checks=[("worked example", spec_worked_example)]))
