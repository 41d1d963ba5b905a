#!/usr/bin/env python3
"""Independent checker for qpc's MLS vectors (vectors/mls.json).

Written from spec/07-mls.md §5-§7 and §12 (with spec/01-wire.md varints and
spec/04-padding.md Padmé) in plain Python 3 plus `jsonschema`. It shares no
code with the Rust crates and never calls them: it re-encodes every payload,
decodes every plaintext and header with the ordered checks of §6 and §5, and
replays every ordering transcript on its own model of §7.

Usage: python3 vectors/independent/check_mls.py [FILE]
Prints `<file>: N passed, M failed`; exit status 0 if all pass, 1 on any
failure, 2 if jsonschema is missing.
"""

from __future__ import annotations

import hashlib
import os
import sys

import vector_runner

try:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:  # pragma: no cover
    print("error: pip install jsonschema 'cryptography>=47'", file=sys.stderr)
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(os.path.dirname(HERE), "mls.json")
MAX_BODY = 1 << 20
U64_MAX = (1 << 64) - 1
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P


class Reject(Exception):
    def __init__(self, cls: str):
        super().__init__(cls)
        self.cls = cls


# --- 01-wire varints and 04-padding Padmé -------------------------------

def varint_encode(n: int) -> bytes:
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return (0x4000 | n).to_bytes(2, "big")
    if n < 1 << 30:
        return (0x80000000 | n).to_bytes(4, "big")
    raise ValueError("value_too_large")


def varint_decode(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise Reject("truncated")
    prefix = data[pos] >> 6
    if prefix == 3:
        raise Reject("invalid_length_prefix")
    size = 1 << prefix
    if pos + size > len(data):
        raise Reject("truncated")
    value = int.from_bytes(data[pos:pos + size], "big") & ((1 << (8 * size - 2)) - 1)
    minimal = 1 if value < 64 else 2 if value < 1 << 14 else 4
    if size != minimal:
        raise Reject("non_minimal_length")
    return value, pos + size


def padme(length: int) -> int:
    if length < 2:
        return length
    e = length.bit_length() - 1
    s = e.bit_length()
    mask = (1 << (e - s)) - 1
    return (length + mask) & ~mask


def pad(content: bytes) -> bytes:
    target = padme(len(content) + 1)
    return content + b"\x80" + bytes(target - len(content) - 1)


def unpad(padded: bytes) -> bytes:
    stripped = padded.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80:
        raise Reject("bad_padding")
    content = stripped[:-1]
    if padme(len(content) + 1) != len(padded):
        raise Reject("bad_padding")
    return content


# --- §6 application payload ---------------------------------------------

CONTENT_TYPES = {"text": 1, "data": 2}


def encode_payload(p: dict) -> bytes:
    out = bytes([1, CONTENT_TYPES[p["content_type"]]])
    out += bytes.fromhex(p["message_id"]) + p["timestamp_ms"].to_bytes(8, "big")
    out += b"\x00" if p["reply_to"] is None else b"\x01" + bytes.fromhex(p["reply_to"])
    body = bytes.fromhex(p["body"])
    return out + varint_encode(len(body)) + body


def decode_payload(plaintext: bytes) -> dict:
    data = unpad(plaintext)

    def take(pos: int, n: int) -> bytes:
        if pos + n > len(data):
            raise Reject("truncated")
        return data[pos:pos + n]

    if take(0, 1)[0] != 1:
        raise Reject("unknown_version")
    ctype = take(1, 1)[0]
    if ctype not in (1, 2):
        raise Reject("malformed")
    message_id = take(2, 16)
    timestamp = int.from_bytes(take(18, 8), "big")
    flag = take(26, 1)[0]
    if flag not in (0, 1):
        raise Reject("malformed")
    pos = 27
    reply_to = None
    if flag == 1:
        reply_to = take(27, 16).hex()
        pos = 43
    length, pos = varint_decode(data, pos)
    if length > MAX_BODY:
        raise Reject("content_too_long")
    body = take(pos, length)
    if pos + length != len(data):
        raise Reject("trailing_bytes")
    if ctype == 1:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            raise Reject("malformed") from None
    return {"content_type": "text" if ctype == 1 else "data", "message_id": message_id.hex(),
            "timestamp_ms": timestamp, "reply_to": reply_to, "body": body.hex()}


def decode_header(data: bytes) -> int:
    if not data:
        raise Reject("truncated")
    if data[0] != 1:
        raise Reject("unknown_version")
    if len(data) < 9:
        raise Reject("truncated")
    if len(data) > 9:
        raise Reject("trailing_bytes")
    return int.from_bytes(data[1:], "big")


# --- §4 credentials (02-identity: address = SHA-256("qpc address v1" ||
# signing key || kem digest)[:16]; a valid key is a canonical, on-curve
# Ed25519 point that is not of small order) -----------------------------

def edwards_point(enc: bytes):
    """Decodes an Ed25519 point (RFC 8032 §5.1.3); None if invalid or non-canonical."""
    y = int.from_bytes(enc, "little") & ((1 << 255) - 1)
    sign = enc[31] >> 7
    if y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = (u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P)) % P
    if (v * x * x - u) % P != 0:
        x = (x * pow(2, (P - 1) // 4, P)) % P
        if (v * x * x - u) % P != 0:
            return None
    if x == 0 and sign == 1:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y)


def edwards_add(p1, p2):
    (x1, y1), (x2, y2) = p1, p2
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P,
            (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P)


def small_order(point) -> bool:
    q = point
    for _ in range(3):
        q = edwards_add(q, q)
    return q == (0, 1)


def credential_address(credential: bytes, key: bytes) -> bytes:
    if len(credential) != 33 or credential[0] != 1 or len(key) != 32:
        raise Reject("invalid_credential")
    point = edwards_point(key)
    if point is None or small_order(point):
        raise Reject("invalid_credential")
    Ed25519PublicKey.from_public_bytes(key)  # pyca agrees it is a key
    return hashlib.sha256(b"qpc address v1" + key + credential[1:]).digest()[:16]


# --- §7 ordering model --------------------------------------------------

class Ordering:
    def __init__(self, cfg: dict, epoch: int):
        self.cfg, self.epoch = cfg, epoch
        self.seen: list[bytes] = []          # oldest first
        self.held: list[tuple[int, dict]] = []
        self.held_bytes = 0
        self.senders: dict[bytes, list] = {}  # address -> [next, missing set]

    def remember(self, digest: bytes) -> None:
        if self.cfg["max_seen"] == 0 or digest in self.seen:
            return
        self.seen.append(digest)
        del self.seen[:max(0, len(self.seen) - self.cfg["max_seen"])]

    def receive(self, step: dict) -> list[str]:
        msg = bytes.fromhex(step["message"])
        digest = hashlib.sha256(msg).digest()
        e, handshake = step["epoch"], step["kind"] == "commit"
        if digest in self.seen:
            return ["duplicate"]
        if e > self.epoch:
            if e != self.epoch + 1:
                return ["dropped:future_epoch"]
            if (len(self.held) >= self.cfg["max_held"]
                    or self.held_bytes + len(msg) > self.cfg["max_held_bytes"]):
                return ["dropped:held_full"]
            self.remember(digest)
            self.held.append((e, step))
            self.held_bytes += len(msg)
            return ["held"]
        drop = self.recheck(e, handshake)
        if drop:
            return [drop]
        events: list[str] = []
        queue = [(step, False)]
        while queue:
            s, released = queue.pop(0)
            drop = self.recheck(s["epoch"], s["kind"] == "commit") if released else None
            if drop:
                events.append(drop)
                continue
            queue = [(r, True) for r in self.process(s, events)] + queue
        return events

    def recheck(self, e: int, handshake: bool) -> str | None:
        if handshake and e < self.epoch:
            return "dropped:stale_epoch"
        if e + self.cfg["max_past_epochs"] < self.epoch:
            return "dropped:too_old_epoch"
        return None

    def sequence(self, sender: bytes, s: int) -> str | None:
        """§7.4: None if delivered (appending a gap event to self.gap), else the drop reason."""
        window = self.cfg["window"]
        self.gap = None
        if sender not in self.senders:
            if len(self.senders) >= self.cfg["max_senders"]:
                return "too_many_senders"
            if s == U64_MAX:
                return "too_old_sequence"
            self.senders[sender] = [s + 1, set()]
            return None
        track = self.senders[sender]
        nxt, missing = track
        if s >= nxt:
            if s == U64_MAX:
                return "too_old_sequence"
            if s > nxt:
                self.gap = f"gap:{nxt}-{s - 1}"
                missing |= set(range(max(nxt, s - window), s))
            track[0] = s + 1
            track[1] = {m for m in missing if m >= s - window}
            return None
        if s in missing:
            missing.discard(s)
            return None
        if s < nxt - 1 - window:
            return "too_old_sequence"
        return "duplicate_sequence"

    def process(self, step: dict, events: list[str]) -> list[dict]:
        reason = self.sequence(bytes.fromhex(step["sender"]), step["sequence"])
        if reason:
            events.append("dropped:" + reason)
            return []
        if self.gap:
            events.append(self.gap)
        self.remember(hashlib.sha256(bytes.fromhex(step["message"])).digest())
        events.append("delivered:" + step["message"])
        if step["kind"] != "commit":
            return []
        self.epoch += 1
        events.append(f"epoch:{self.epoch}")
        ready = [s for e, s in self.held if e <= self.epoch]
        self.held = [(e, s) for e, s in self.held if e > self.epoch]
        self.held_bytes = sum(len(bytes.fromhex(s["message"])) for _, s in self.held)
        return ready


# --- driver -------------------------------------------------------------

def outcome(fn, *args):
    try:
        return ("ok", fn(*args))
    except Reject as r:
        return ("error", r.cls)


def check(v: dict) -> str | None:
    kind = v["kind"]
    if kind == "mls_payload":
        enc = encode_payload(v["payload"])
        if enc.hex() != v["encoded"]:
            return "encoding differs"
        if pad(enc).hex() != v["plaintext"]:
            return "padded plaintext differs"
        if decode_payload(bytes.fromhex(v["plaintext"])) != v["payload"]:
            return "decoding differs"
    elif kind == "mls_payload_decode":
        got = outcome(decode_payload, bytes.fromhex(v["plaintext"]))
        want = ("error", v["expected_error"]) if "expected_error" in v else ("ok", v["payload"])
        if got != want:
            return f"got {got}, want {want}"
        if got[0] == "ok" and pad(encode_payload(got[1])).hex() != v["plaintext"]:
            return "does not re-encode"
    elif kind == "mls_delivery_header":
        got = outcome(decode_header, bytes.fromhex(v["encoded"]))
        want = ("error", v["expected_error"]) if "expected_error" in v else ("ok", v["sequence"])
        if got != want:
            return f"got {got}, want {want}"
    elif kind == "mls_credential":
        got = outcome(credential_address, bytes.fromhex(v["credential"]), bytes.fromhex(v["signature_key"]))
        want = ("error", v["expected_error"]) if "expected_error" in v else ("ok", bytes.fromhex(v["address"]))
        if got != want:
            return f"got {got}, want {want}"
    elif kind == "mls_ordering":
        model = Ordering(v["config"], v["epoch"])
        for i, step in enumerate(v["steps"]):
            got = model.receive(step)
            if got != step["events"]:
                return f"step {i}: got {got}, want {step['events']}"
    else:
        return f"unknown kind {kind}"
    return None


if __name__ == "__main__":
    sys.exit(vector_runner.main(sys.argv, [DEFAULT], vector_runner.dispatching(check)))
