#!/usr/bin/env python3
"""Independent checker for vectors/node.json (spec/30-reference-node.md).

Written from spec/30-reference-node.md, spec/02-identity.md §4 and
spec/00-overview.md alone; it shares no code with the Rust crates or the
other checkers. Standard library plus `jsonschema` for the schema and
`cryptography` (x509) to read certificates. It re-derives every vector:
KISS encoding and decoding with the check order of §8, air packets (§7.1),
length-prefixed stream frames (§6, §9), and the address a certificate
binds (§5.2: Ed25519 key, one URI name carrying the KEM key digest,
SHA-256 over "qpc address v1" || key || digest).

usage: python3 vectors/independent/check_node.py [vectors/node.json]
exit status: 0 all pass, 1 any failure, 2 a dependency is missing.
"""

import hashlib
import os
import sys

import vector_runner

try:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError as e:  # pragma: no cover
    print(f"missing dependency: {e} (pip install jsonschema cryptography)")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.dirname(HERE)

FEND, FESC, TFEND, TFESC = 0xC0, 0xDB, 0xDC, 0xDD
MAX_PHY = 255
URI_PREFIX = "urn:qpc:kem-key-digest:"
FORMATS = {"quic": (2, 16384), "control": (4, 1 << 20)}


class Refused(Exception):
    """An input the spec rejects; args[0] is the error class."""


def kiss_encode(frame):
    if not frame:
        raise Refused("truncated")
    if len(frame) > MAX_PHY:
        raise Refused("frame_too_long")
    out = bytearray([FEND, 0x00])
    for b in frame:
        out += {FEND: bytes([FESC, TFEND]), FESC: bytes([FESC, TFESC])}.get(b, bytes([b]))
    out.append(FEND)
    return bytes(out)


def kiss_decode(stream):
    """§8: (frame bytes or error class) for each FEND-closed frame."""
    results = []
    if FEND not in stream:
        return results
    body = stream[stream.index(FEND) + 1:]
    pieces = body.split(bytes([FEND]))[:-1]  # the last piece is not closed
    for piece in pieces:
        if not piece:
            continue
        unescaped, error, i = bytearray(), None, 0
        while i < len(piece):
            b = piece[i]
            if b == FESC:
                i += 1
                nxt = piece[i] if i < len(piece) else None
                if nxt == TFEND:
                    b = FEND
                elif nxt == TFESC:
                    b = FESC
                else:
                    error = "malformed"
                    break
            if len(unescaped) == MAX_PHY + 1:  # command byte + 255
                error = "frame_too_long"
                break
            unescaped.append(b)
            i += 1
        if error is None and unescaped[0] != 0x00:
            error = "malformed"
        elif error is None and len(unescaped) == 1:
            error = "truncated"
        results.append(("error", error) if error else ("frame", bytes(unescaped[1:])))
    return results


def air_packet(packet):
    if len(packet) < 3:
        raise Refused("truncated")
    if len(packet) > 2 + MAX_PHY:
        raise Refused("frame_too_long")
    if packet[0] != 1:
        raise Refused("unknown_version")
    return packet[1], packet[2:]


def stream_frames(fmt, stream):
    prefix, limit = FORMATS[fmt]
    frames, rest = [], stream
    while rest:
        if len(rest) < prefix:
            return frames, "truncated"
        length = int.from_bytes(rest[:prefix], "big")
        if length == 0:
            return frames, "malformed"
        if length > limit:
            return frames, "frame_too_large"
        if len(rest) < prefix + length:
            return frames, "truncated"
        frames.append(rest[prefix:prefix + length])
        rest = rest[prefix + length:]
    return frames, None


def certificate_address(der):
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        raise Refused("bad_certificate")
    # load_der_x509_certificate accepts trailing bytes: compare the
    # re-encoding with the input.
    if cert.public_bytes(Encoding.DER) != der:
        raise Refused("bad_certificate")
    key = cert.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise Refused("bad_certificate")
    raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise Refused("bad_certificate")
    digests = [u[len(URI_PREFIX):] for u in san.get_values_for_type(x509.UniformResourceIdentifier)
               if u.startswith(URI_PREFIX)]
    if len(digests) != 1:
        raise Refused("bad_certificate")
    digest = digests[0]
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise Refused("bad_certificate")
    return hashlib.sha256(b"qpc address v1" + raw + bytes.fromhex(digest)).digest()[:16]


def outcome(f, *args):
    try:
        return ("ok", f(*args))
    except Refused as e:
        return ("error", e.args[0])


def check(v):
    """None if the vector holds, else what differs."""
    kind = v["kind"]
    h = bytes.fromhex
    if kind == "kiss_encode":
        got = outcome(kiss_encode, h(v["frame"]))
        want = ("error", v["expected_error"]) if "expected_error" in v else ("ok", h(v["encoded"]))
    elif kind == "kiss_decode":
        got = kiss_decode(h(v["stream"]))
        want = [("error", f["error"]) if "error" in f else ("frame", h(f["frame"])) for f in v["frames"]]
    elif kind == "air_packet":
        got = outcome(air_packet, h(v["packet"]))
        want = (("error", v["expected_error"]) if "expected_error" in v
                else ("ok", (v["spreading_factor"], h(v["frame"]))))
    elif kind == "stream_frames":
        got = stream_frames(v["format"], h(v["stream"]))
        want = ([h(f) for f in v["frames"]], v.get("expected_error"))
    elif kind == "certificate_address":
        got = outcome(certificate_address, h(v["certificate"]))
        want = ("error", v["expected_error"]) if "expected_error" in v else ("ok", h(v["address"]))
    else:
        return f"unknown kind {kind}"
    return None if got == want else f"got {got!r}, want {want!r}"


if __name__ == "__main__":
    sys.exit(vector_runner.main(sys.argv, [os.path.join(VECTORS, "node.json")],
                                vector_runner.dispatching(check)))
