#!/usr/bin/env python3
"""Independent checker for vectors/fapp.json (spec/20-fapp.md).

Written from spec/20-fapp.md, spec/02-identity.md (addresses, labelled
Ed25519 signatures), spec/03-hybrid-kem-hpke.md (X-Wing, HPKE base mode),
spec/04-padding.md (buckets) and spec/00-overview.md alone. It shares no
code with the Rust crates or with the other checkers and never calls them.
Primitives: hashlib (SHA-256, SHA3-256, SHAKE256), hmac, and pyca
`cryptography` (Ed25519, X25519, ML-KEM-768, ChaCha20Poly1305).

What it re-derives: every message from its fields (announces and
withdrawals are re-signed: Ed25519 is deterministic, so the bytes must
match), every decode outcome and error class with its own decoder, every
signature check, every sealed message by opening it with HPKE (X-Wing
decapsulation from the recipient's seed), and the therapist and relay
transcripts with its own state machines (announce outputs re-signed and
compared byte for byte, results opened with the reply keys and their
notices compared, relay responses and forwarded queries re-encoded). The
patient transcript is checked with its own ranking: the query's fields,
each reservation opened with the therapist's key (slot, time, contact),
fallback to the next-ranked candidate; the status of a result sealed to
the patient's RNG-drawn reply key cannot be opened here, so the event's
status is taken as given and only the reaction to it is checked.

Sealed messages are checked by opening, not by re-sealing (the package has
no derandomised ML-KEM encapsulation).

usage: python3 vectors/independent/check_fapp.py [vectors/fapp.json]
exit status: 0 all pass, 1 any failure, 2 a dependency is missing.
"""

import hashlib
import hmac
import os
import re
import sys

import vector_runner

try:
    from cryptography.exceptions import InvalidSignature, InvalidTag
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
except ImportError as e:  # pragma: no cover
    print(f"missing dependency: {e} (pip install 'cryptography>=47' jsonschema)")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.dirname(HERE)
ROOT = os.path.dirname(VECTORS)


class Reject(Exception):
    """A rule of the spec refused the input; the argument is the class."""


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


# --------------------------------------------------------------------------
# Codec (00 §2.2, 01 §2): big-endian integers, minimal MLS varints
# --------------------------------------------------------------------------

def varint(n):
    if n < 0x40:
        return bytes([n])
    if n < 0x4000:
        return (0x4000 | n).to_bytes(2, "big")
    return (0x80000000 | n).to_bytes(4, "big")


def vl(data):
    return varint(len(data)) + data


class Reader:
    def __init__(self, data):
        self.data, self.pos = bytes(data), 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise Reject("truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n):
        return int.from_bytes(self.take(n), "big")

    def varint(self):
        if self.pos >= len(self.data):
            raise Reject("truncated")
        first = self.data[self.pos]
        prefix = first >> 6
        if prefix == 3:
            raise Reject("invalid_length_prefix")
        size = 1 << prefix
        value = int.from_bytes(self.take(size), "big") & ((1 << (8 * size - 2)) - 1)
        if (size == 2 and value < 0x40) or (size == 4 and value < 0x4000):
            raise Reject("non_minimal_length")
        return value

    def vl(self, maximum):
        n = self.varint()
        if n > maximum:
            raise Reject("too_many_items")
        return self.take(n)

    def rest(self):
        return len(self.data) - self.pos

    def finish(self):
        if self.rest():
            raise Reject("trailing_bytes")


# --------------------------------------------------------------------------
# Domain model (20 §2)
# --------------------------------------------------------------------------

SET_MASKS = {"methods": 0x0F, "age_groups": 0x03, "kinds": 0x0F, "modalities": 0x07,
             "payers": 0x0F, "features": 0x01}


def bits(value, which, nonempty):
    if value & ~SET_MASKS[which] & 0xFF:
        raise Reject("malformed")
    if nonempty and value == 0:
        raise Reject("malformed")
    return value


def parse_languages(r):
    raw = r.vl(16)
    if len(raw) % 2:
        raise Reject("truncated")
    codes = [raw[i:i + 2].decode("latin-1") for i in range(0, len(raw), 2)]
    if not all(re.fullmatch("[a-z]{2}", c) for c in codes):
        raise Reject("malformed")
    if any(a >= b for a, b in zip(codes, codes[1:])):
        raise Reject("malformed")
    return codes


def enc_languages(codes):
    return vl("".join(sorted(set(codes))).encode())


def parse_practice(r):
    plz = r.take(5)
    if not all(0x30 <= c <= 0x39 for c in plz):
        raise Reject("malformed")
    p = {"plz": plz.decode()}
    for name in ("methods", "age_groups", "modalities", "payers"):
        p[name] = bits(r.uint(1), name, True)
    p["features"] = bits(r.uint(1), "features", False)
    p["languages"] = parse_languages(r)
    if not p["languages"]:
        raise Reject("malformed")
    return p


def enc_practice(p):
    return (p["plz"].encode() + bytes([p["methods"], p["age_groups"], p["modalities"],
                                       p["payers"], p["features"]]) + enc_languages(p["languages"]))


def parse_slots(r):
    inner = Reader(r.vl(32 * 15))
    slots = []
    while inner.rest():
        s = {"id": inner.uint(4), "start_ms": inner.uint(8), "duration_min": inner.uint(2)}
        kind = bits(inner.uint(1), "kinds", False)
        if not 1 <= s["duration_min"] <= 480 or bin(kind).count("1") != 1:
            raise Reject("malformed")
        s["kind"] = kind
        slots.append(s)
    if any(a["id"] >= b["id"] for a, b in zip(slots, slots[1:])):
        raise Reject("malformed")
    return slots


def enc_slots(slots):
    return vl(b"".join(s["id"].to_bytes(4, "big") + s["start_ms"].to_bytes(8, "big")
                       + s["duration_min"].to_bytes(2, "big") + bytes([s["kind"]]) for s in slots))


# --------------------------------------------------------------------------
# Identity, signatures (02)
# --------------------------------------------------------------------------

SIG_LABEL = b"qpc sig v1 fapp announce"
P = 2 ** 255 - 19
# Canonical encodings of the eight points of small order (order 1, 2, 4, 8).
SMALL_ORDER = {bytes.fromhex(h) for h in [
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
    "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
    "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
]}


def ed_public(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def ed_sign(seed, message):
    return Ed25519PrivateKey.from_private_bytes(seed).sign(vl(SIG_LABEL) + message)


def ed_verify(key, message, signature):
    y = int.from_bytes(key, "little") & ((1 << 255) - 1)
    if y >= P or key in SMALL_ORDER:
        raise Reject("invalid_public_key")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, vl(SIG_LABEL) + message)
    except (InvalidSignature, ValueError):
        raise Reject("bad_signature") from None


def address(signing_key, kem_key_digest):
    return sha256(b"qpc address v1", signing_key, kem_key_digest)[:16]


class XWing:
    """X-Wing key from its 32-byte seed (03 §2): SHAKE256 expansion."""

    LABEL = bytes.fromhex("5c2e2f2f5e5c")

    def __init__(self, seed):
        expanded = hashlib.shake_256(seed).digest(96)
        self.mlkem = MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        self.sk_x = expanded[64:]
        self.pk_x = X25519PrivateKey.from_private_bytes(self.sk_x).public_key().public_bytes_raw()
        self.pk = self.mlkem.public_key().public_bytes_raw() + self.pk_x

    def decapsulate(self, ct):
        ct_m, ct_x = ct[:1088], ct[1088:]
        try:
            ss_x = X25519PrivateKey.from_private_bytes(self.sk_x).exchange(X25519PublicKey.from_public_bytes(ct_x))
        except ValueError:
            raise Reject("non_contributory") from None
        ss_m = self.mlkem.decapsulate(ct_m)
        return hashlib.sha3_256(ss_m + ss_x + ct_x + self.pk_x + self.LABEL).digest()


def mlkem_key_check(pk):
    t = pk[:1152]
    for i in range(0, len(t), 3):
        a, b, c = t[i], t[i + 1], t[i + 2]
        if (a | (b & 0x0F) << 8) >= 3329 or ((b >> 4) | c << 4) >= 3329:
            raise Reject("invalid_public_key")


def identity(seeds):
    sign_seed, kem_seed = bytes.fromhex(seeds["signing_seed"]), bytes.fromhex(seeds["kem_seed"])
    signing_key = ed_public(sign_seed)
    kem = XWing(kem_seed)
    return {"sign_seed": sign_seed, "signing_key": signing_key, "kem": kem,
            "digest": sha256(kem.pk), "address": address(signing_key, sha256(kem.pk))}


# --------------------------------------------------------------------------
# HPKE base mode (03 §3): X-Wing, HKDF-SHA256, ChaCha20Poly1305
# --------------------------------------------------------------------------

SUITE = b"HPKE" + bytes.fromhex("647a00010003")


def labeled_extract(salt, label, ikm):
    return hmac.new(salt or bytes(32), b"HPKE-v1" + SUITE + label + ikm, hashlib.sha256).digest()


def labeled_expand(prk, label, info, n):
    data = n.to_bytes(2, "big") + b"HPKE-v1" + SUITE + label + info
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + data + bytes([i]), hashlib.sha256).digest()
        out, i = out + t, i + 1
    return out[:n]


def hpke_open(kem, enc, info, aad, ct):
    ss = kem.decapsulate(enc)
    ctx = bytes([0]) + labeled_extract(b"", b"psk_id_hash", b"") + labeled_extract(b"", b"info_hash", info)
    secret = labeled_extract(ss, b"secret", b"")
    key = labeled_expand(secret, b"key", ctx, 32)
    nonce = labeled_expand(secret, b"base_nonce", ctx, 12)
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ct, aad)
    except InvalidTag:
        raise Reject("open_failed") from None


# --------------------------------------------------------------------------
# Messages (20 §3-§7)
# --------------------------------------------------------------------------

SEALED = {5: (b"qpc fapp reservation v1", 1344), 6: (b"qpc fapp result v1", 32), 7: (b"qpc fapp cancel v1", 32)}


def parse_announce_body(r, start):
    m = {"type": 1, "signing_key": r.take(32), "digest": r.take(32), "licence_hash": r.take(32),
         "sequence": r.uint(4), "expires_ms": r.uint(8), "hold_ms": r.uint(4)}
    m["practice"] = parse_practice(r)
    m["slots"] = parse_slots(r)
    m["signed"] = r.data[start:r.pos]
    m["signature"] = r.take(64)
    m["bytes"] = r.data[start:r.pos]
    return m


def parse_header(r):
    if r.uint(1) != 1:
        raise Reject("unknown_version")
    t = r.uint(1)
    if not 1 <= t <= 7:
        raise Reject("unknown_fapp_type")
    return t


def parse_query_body(r):
    q = {"type": 3, "query_id": r.take(16), "hop_limit": r.uint(1)}
    if not 1 <= q["hop_limit"] <= 8:
        raise Reject("malformed")
    prefix = r.vl(5)
    if not all(0x30 <= c <= 0x39 for c in prefix):
        raise Reject("malformed")
    q["plz_prefix"] = prefix.decode()
    for name in ("methods", "age_groups", "kinds", "modalities", "payers"):
        q[name] = bits(r.uint(1), name, True)
    q["required_features"] = bits(r.uint(1), "features", False)
    q["languages"] = parse_languages(r)
    q["earliest_ms"], q["latest_ms"] = r.uint(8), r.uint(8)
    if q["earliest_ms"] > q["latest_ms"]:
        raise Reject("malformed")
    q["max_results"] = r.uint(1)
    if not 1 <= q["max_results"] <= 8:
        raise Reject("malformed")
    return q


def parse(data):
    """Decodes one whole FAPP message (20 §3), checks in field order."""
    r = Reader(data)
    t = parse_header(r)
    if t == 1:
        m = parse_announce_body(r, 0)
    elif t == 2:
        m = {"type": 2, "signing_key": r.take(32), "digest": r.take(32), "sequence": r.uint(4),
             "expires_ms": r.uint(8)}
        m["signed"] = r.data[:r.pos]
        m["signature"] = r.take(64)
    elif t == 3:
        m = parse_query_body(r)
    elif t == 4:
        m = {"type": 4, "query_id": r.take(16), "announces": []}
        inner = Reader(r.vl(8192))
        while inner.rest():
            if len(m["announces"]) == 8:
                raise Reject("too_many_items")
            start = inner.pos
            if parse_header(inner) != 1:
                raise Reject("malformed")
            m["announces"].append(parse_announce_body(inner, start))
        refs = Reader(r.vl(32 * 20))
        m["more"] = []
        while refs.rest():
            m["more"].append((refs.take(16), refs.uint(4)))
    else:
        _, n = SEALED[t]
        m = {"type": t, "recipient": r.take(16), "enc": r.take(1120), "ct": r.take(n + 16)}
    r.finish()
    m["bytes"] = bytes(data)
    return m


def enc_announce(fields, key_fields, signature=None, seed=None):
    signed = (bytes([1, 1]) + key_fields + fields["licence_hash"] + fields["sequence"].to_bytes(4, "big")
              + fields["expires_ms"].to_bytes(8, "big") + fields["hold_ms"].to_bytes(4, "big")
              + enc_practice(fields["practice"]) + enc_slots(fields["slots"]))
    return signed + (signature if signature is not None else ed_sign(seed, signed))


def enc_withdraw(ident, sequence, expires_ms):
    signed = bytes([1, 2]) + ident["signing_key"] + ident["digest"] + sequence.to_bytes(4, "big") + expires_ms.to_bytes(8, "big")
    return signed + ed_sign(ident["sign_seed"], signed)


def enc_query(q, hop_limit=None):
    return (bytes([1, 3]) + q["query_id"] + bytes([q["hop_limit"] if hop_limit is None else hop_limit])
            + vl(q["plz_prefix"].encode())
            + bytes([q["methods"], q["age_groups"], q["kinds"], q["modalities"], q["payers"], q["required_features"]])
            + enc_languages(q["languages"]) + q["earliest_ms"].to_bytes(8, "big") + q["latest_ms"].to_bytes(8, "big")
            + bytes([q["max_results"]]))


def enc_response(query_id, announces, more):
    return (bytes([1, 4]) + query_id + vl(b"".join(announces))
            + vl(b"".join(t + s.to_bytes(4, "big") for t, s in more)))


def verify_signed(m):
    ed_verify(m["signing_key"], m["signed"], m["signature"])
    return address(m["signing_key"], m["digest"])


def unpad(padded, bucket):
    stripped = padded.rstrip(b"\x00")
    if not stripped or stripped[-1] != 0x80 or len(padded) != bucket:
        raise Reject("bad_padding")
    return stripped[:-1]


def open_sealed(m, own, kem):
    """20 §7 opening, in order."""
    if m["recipient"] != own:
        raise Reject("wrong_recipient")
    info, bucket = SEALED[m["type"]]
    padded = hpke_open(kem, m["enc"], info, bytes([1, m["type"]]) + m["recipient"], m["ct"])
    return unpad(padded, bucket)


def parse_request(p):
    r = Reader(p)
    req = {"request_id": r.take(16), "slot_id": r.uint(4), "created_ms": r.uint(8),
           "reply_address": r.take(16), "reply_key": r.take(1216)}
    mlkem_key_check(req["reply_key"][:1184])
    try:
        req["contact"] = r.vl(64).decode("utf-8")
    except UnicodeDecodeError:
        raise Reject("malformed") from None
    r.finish()
    return req


def parse_notice(p, with_status):
    r = Reader(p)
    n = {"request_id": r.take(16), "slot_id": r.uint(4)}
    if with_status:
        n["status"] = r.uint(1)
        if n["status"] not in (1, 2, 3):
            raise Reject("malformed")
    r.finish()
    return n


def enc_request(req):
    kem = XWing(bytes.fromhex(req["reply_kem_seed"]))
    return (bytes.fromhex(req["request_id"]) + req["slot_id"].to_bytes(4, "big") + req["created_ms"].to_bytes(8, "big")
            + bytes.fromhex(req["reply_address"]) + kem.pk + vl(req["contact"].encode()))


def outcome(run):
    try:
        return run(), None
    except Reject as e:
        return None, e.args[0]


def h(v, key):
    return bytes.fromhex(v[key])


# --------------------------------------------------------------------------
# Kinds without state
# --------------------------------------------------------------------------

def check_licence_hash(v):
    want = sha256(vl(b"qpc fapp licence v1"), v["licence"].encode())
    if want != h(v, "hash"):
        return "hash differs"


def fields_of(v):
    return {"licence_hash": sha256(vl(b"qpc fapp licence v1"), v["licence"].encode()), "sequence": v["sequence"],
            "expires_ms": v["expires_ms"], "hold_ms": v["hold_ms"], "practice": v["practice"], "slots": v["slots"]}


def check_announce(v):
    ident = identity(v["therapist"])
    mine = enc_announce(fields_of(v), ident["signing_key"] + ident["digest"], seed=ident["sign_seed"])
    if mine != h(v, "message"):
        return "message differs from the re-signed announce"
    if ident["address"] != h(v, "address") or verify_signed(parse(mine)) != ident["address"]:
        return "address differs"


def check_withdraw(v):
    ident = identity(v["therapist"])
    if enc_withdraw(ident, v["sequence"], v["expires_ms"]) != h(v, "message"):
        return "message differs"
    if ident["address"] != h(v, "address"):
        return "address differs"


def check_query(v):
    q = dict(v["query"], query_id=h(v["query"], "query_id"))
    mine = enc_query(q)
    if mine != h(v, "message"):
        return "message differs"
    parsed = parse(mine)
    if any(parsed[k] != q[k] for k in q):
        return "decoded fields differ"


def check_response(v):
    more = [(bytes.fromhex(r["therapist"]), r["sequence"]) for r in v["more"]]
    mine = enc_response(h(v, "query_id"), [bytes.fromhex(a) for a in v["announces"]], more)
    if mine != h(v, "message"):
        return "message differs"
    if [a["bytes"] for a in parse(mine)["announces"]] != [bytes.fromhex(a) for a in v["announces"]]:
        return "announces differ"


def reencode(m):
    t = m["type"]
    if t == 1:
        return m["signed"] + m["signature"]
    if t == 2:
        return m["signed"] + m["signature"]
    if t == 3:
        return enc_query(m)
    if t == 4:
        return enc_response(m["query_id"], [a["bytes"] for a in m["announces"]], m["more"])
    return bytes([1, t]) + m["recipient"] + m["enc"] + m["ct"]


def check_decode(v):
    m, err = outcome(lambda: parse(h(v, "message")))
    if "expected_error" in v:
        return None if err == v["expected_error"] else f"got {err}, want {v['expected_error']}"
    if err:
        return f"refused: {err}"
    if m["type"] != v["fapp_type"] or reencode(m) != h(v, "message"):
        return "type or re-encoding differs"


def check_verify(v):
    got, err = outcome(lambda: verify_signed(parse(h(v, "message"))))
    if "expected_error" in v:
        return None if err == v["expected_error"] else f"got {err}, want {v['expected_error']}"
    if err or got != h(v, "address"):
        return f"got {err or got.hex()}"


def check_seal(v):
    plaintext = h(v, "plaintext")
    if "request" in v and enc_request(v["request"]) != plaintext:
        return "plaintext differs from the request fields"
    m = parse(h(v, "message"))
    if m["type"] != v["fapp_type"] or m["recipient"] != h(v, "recipient"):
        return "header or recipient differs"
    if open_sealed(m, h(v, "recipient"), XWing(h(v, "recipient_kem_seed"))) != plaintext:
        return "opens to another plaintext"


def check_open(v):
    def run():
        m = parse(h(v, "message"))
        if m["type"] != v["fapp_type"]:
            raise Reject("wrong_state")
        return open_sealed(m, h(v, "own_address"), XWing(h(v, "kem_seed")))
    got, err = outcome(run)
    if "expected_error" in v:
        return None if err == v["expected_error"] else f"got {err}, want {v['expected_error']}"
    if err or got != h(v, "plaintext"):
        return f"got {err or got.hex()}"


# --------------------------------------------------------------------------
# Therapist (20 §9)
# --------------------------------------------------------------------------

class Therapist:
    def __init__(self, v):
        self.ident = identity(v["therapist"])
        self.v = v
        self.sequence, self.refresh_at = 0, 0
        self.slots = {}  # id -> [slot, state]; state: ("free",) ("held", rid, until, reply) ("booked", rid)
        self.seen, self.answers = {}, {}  # insertion-ordered, bounded
        self.replies = {bytes.fromhex(r["address"]): XWing(bytes.fromhex(r["kem_seed"])) for r in v["replies"]}

    def bounded(self, table, key, value):
        if key not in table:
            table[key] = value
            if len(table) > self.v["replay_capacity"]:
                del table[next(iter(table))]
        else:
            table[key] = value

    def announce(self, now):
        self.sequence += 1
        life = self.v["announce_lifetime_ms"]
        self.refresh_at = now + life - life // 4
        free = [s for s, st in sorted(self.slots.values(), key=lambda x: x[0]["id"]) if st[0] == "free" and s["start_ms"] > now]
        fields = {"licence_hash": sha256(vl(b"qpc fapp licence v1"), self.v["licence"].encode()),
                  "sequence": self.sequence, "expires_ms": now + life, "hold_ms": self.v["hold_ms"],
                  "practice": self.v["practice"], "slots": free}
        return ("broadcast", enc_announce(fields, self.ident["signing_key"] + self.ident["digest"], seed=self.ident["sign_seed"]))

    def result(self, rid, slot_id, status, reply):
        return ("result", rid, slot_id, status, reply)

    def replay(self, rid):
        outs = [("replay", rid)] if rid in self.answers else []
        return outs, [f"replayed {rid.hex()}"]

    def reservation(self, now, data):
        m = parse(data)
        if m["recipient"] != self.ident["address"]:
            raise Reject("wrong_recipient")
        digest = sha256(data)
        if digest in self.seen:
            return self.replay(self.seen[digest])
        req = parse_request(open_sealed(m, self.ident["address"], self.ident["kem"]))
        if abs(now - req["created_ms"]) > self.v["replay_window_ms"]:
            raise Reject("stale")
        rid = req["request_id"]
        self.bounded(self.seen, digest, rid)
        if rid in self.answers or any(len(st) > 1 and st[1] == rid for _, st in self.slots.values()):
            return self.replay(rid)
        reply = req["reply_address"]
        entry = self.slots.get(req["slot_id"])
        if entry and entry[1][0] == "free" and entry[0]["start_ms"] > now:
            until = now + self.v["hold_ms"]
            entry[1] = ("held", rid, until, reply)
            return [self.announce(now)], [f"held {rid.hex()} {req['slot_id']} {until}"]
        return [self.result(rid, req["slot_id"], 2, reply)], [f"declined {rid.hex()}"]

    def held(self, now, rid):
        for sid, entry in self.slots.items():
            st = entry[1]
            if st[0] == "held" and st[1] == rid:
                if st[2] <= now:
                    raise Reject("wrong_state")
                return sid, entry
        raise Reject("wrong_state")

    def step(self, now, inp):
        op = inp["op"]
        if op == "add_slot":
            s = inp["slot"]
            if not 1 <= s["duration_min"] <= 480 or bin(s["kind"]).count("1") != 1:
                raise Reject("malformed")
            if len(self.slots) == 32:
                raise Reject("full")
            if s["id"] in self.slots:
                raise Reject("wrong_state")
            self.slots[s["id"]] = [s, ("free",)]
            return [self.announce(now)], []
        if op == "announce":
            return [self.announce(now)], []
        if op == "reservation":
            return self.reservation(now, h(inp, "message"))
        if op in ("confirm", "decline"):
            rid = h(inp, "request_id")
            sid, entry = self.held(now, rid)
            reply = entry[1][3]
            if op == "confirm":
                entry[1] = ("booked", rid)
                return [self.result(rid, sid, 1, reply)], [f"confirmed {rid.hex()}"]
            entry[1] = ("free",)
            return [self.result(rid, sid, 2, reply), self.announce(now)], [f"declined {rid.hex()}"]
        if op == "timeout":
            outs, events = [], []
            for sid in sorted(self.slots):
                st = self.slots[sid][1]
                if st[0] == "held" and st[2] <= now:
                    self.slots[sid][1] = ("free",)
                    outs.append(self.result(st[1], sid, 3, st[3]))
                    events.append(f"expired {st[1].hex()}")
            if outs or now >= self.refresh_at:
                outs.append(self.announce(now))
            return outs, events
        if op == "cancel":
            m = parse(h(inp, "message"))
            n = parse_notice(open_sealed(m, self.ident["address"], self.ident["kem"]), False)
            entry = self.slots.get(n["slot_id"])
            if not entry or len(entry[1]) < 2 or entry[1][1] != n["request_id"]:
                raise Reject("wrong_state")
            entry[1] = ("free",)
            return [self.announce(now)], [f"cancelled {n['request_id'].hex()}"]
        raise Reject(f"unknown op {op}")


def compare_outputs(model, mine, theirs):
    """Announces compare byte for byte; results are opened with the reply
    key and their notice compared; replays must repeat the stored bytes."""
    if len(mine) != len(theirs):
        return f"{len(theirs)} outputs, want {len(mine)}"
    for want, got in zip(mine, theirs):
        data = bytes.fromhex(got["message"])
        if want[0] == "broadcast":
            if got["to"] != "broadcast" or data != want[1]:
                return "announce differs from the re-signed one"
        elif want[0] == "replay":
            if data != model.answers[want[1]][1] or got["to"] != model.answers[want[1]][0]:
                return "a replay did not repeat the stored result"
        else:
            _, rid, slot_id, status, reply = want
            if got["to"] != "address:" + reply.hex():
                return "result to the wrong address"
            n = parse_notice(open_sealed(parse(data), reply, model.replies[reply]), True)
            if n != {"request_id": rid, "slot_id": slot_id, "status": status}:
                return f"result notice {n} differs"
            model.bounded(model.answers, rid, (got["to"], data))


def check_therapist_transcript(v):
    model = Therapist(v)
    for i, s in enumerate(v["steps"]):
        (result, err) = outcome(lambda: model.step(s["now"], s["input"]))
        if err or "expected_error" in s:
            if err != s.get("expected_error") or s["outputs"] or s["events"]:
                return f"step {i}: got {err}, want {s.get('expected_error')}"
            continue
        outs, events = result
        if events != s["events"]:
            return f"step {i}: events {s['events']}, want {events}"
        why = compare_outputs(model, outs, s["outputs"])
        if why:
            return f"step {i}: {why}"


# --------------------------------------------------------------------------
# Relay (20 §11)
# --------------------------------------------------------------------------

def practice_matches(q, p):
    return bool(p["plz"].startswith(q["plz_prefix"]) and q["methods"] & p["methods"]
                and q["age_groups"] & p["age_groups"] and q["modalities"] & p["modalities"]
                and q["payers"] & p["payers"] and (p["features"] & q["required_features"]) == q["required_features"]
                and (not q["languages"] or set(q["languages"]) & set(p["languages"])))


def slot_matches(q, s):
    return bool(q["kinds"] & s["kind"]) and q["earliest_ms"] <= s["start_ms"] <= q["latest_ms"]


def matches(q, a):
    return practice_matches(q, a["practice"]) and any(slot_matches(q, s) for s in a["slots"])


class Relay:
    def __init__(self, c):
        self.c = c
        self.cache = {}  # address -> dict(sequence, expires, announce or None)
        self.queries = {}  # query id -> [from, expires, responses], insertion-ordered
        self.buckets = {}  # neighbour -> [level, last]

    def take(self, n, now):
        if n not in self.buckets and len(self.buckets) >= self.c["max_neighbours"]:
            idlest = min(self.buckets, key=lambda k: (self.buckets[k][1], k))
            del self.buckets[idlest]
        burst = self.c["burst"] * 1000
        b = self.buckets.setdefault(n, [burst, now])
        b[0] = min(burst, b[0] + max(0, now - b[1]) * self.c["per_second"])
        b[1] = max(b[1], now)
        if b[0] < 1000:
            raise Reject("rate_limited")
        b[0] -= 1000

    def store(self, now, addr, m):
        known = self.cache.get(addr)
        if known and m["sequence"] <= known["sequence"]:
            raise Reject("stale")
        for a in [a for a, e in self.cache.items() if e["expires"] <= now]:
            del self.cache[a]
        events = []
        if addr not in self.cache and len(self.cache) >= self.c["cache_capacity"]:
            victim = min(self.cache, key=lambda a: (self.cache[a]["expires"], a))
            if self.cache[victim]["expires"] >= m["expires_ms"]:
                raise Reject("full")
            del self.cache[victim]
            events.append(f"evicted {victim.hex()}")
        self.cache[addr] = {"sequence": m["sequence"], "expires": m["expires_ms"], "announce": m if m["type"] == 1 else None}
        return events + [f"cached {addr.hex()} {m['sequence']}"]

    def query(self, now, q):
        lo = q["plz_prefix"].ljust(5, "0")
        hi = q["plz_prefix"].ljust(5, "9")
        indexed = sorted((e["announce"]["practice"]["plz"], a) for a, e in self.cache.items() if e["announce"])
        in_range = [x for x in indexed if lo <= x[0] <= hi]
        # 20 §11.3: the walk starts at the query's pivot and wraps around.
        qid = q["query_id"]
        pivot = (q["plz_prefix"] + "".join(chr(0x30 + qid[i] % 10) for i in range(len(q["plz_prefix"]), 5)), qid)
        walk = [x for x in in_range if x >= pivot] + [x for x in in_range if x < pivot]
        found, more = [], []
        for plz, a in walk[:self.c["max_scan"]]:
            e = self.cache[a]
            if e["expires"] <= now or not matches(q, e["announce"]):
                continue
            if len(found) < q["max_results"]:
                found.append(e["announce"]["bytes"])
            elif len(more) < 32:
                more.append((a, e["sequence"]))
            else:
                break
        return found, more

    def step(self, now, n, data):
        m = parse(data)
        self.take(n, now)
        t = m["type"]
        if t in (1, 2):
            if not now < m["expires_ms"] <= now + self.c["max_announce_lifetime_ms"]:
                raise Reject("bad_expiry")
            addr = address(m["signing_key"], m["digest"])
            known = self.cache.get(addr)
            if known and m["sequence"] <= known["sequence"]:
                raise Reject("stale")
            verify_signed(m)
            events = self.store(now, addr, m)
            return [(f"except:{n}", data)], events
        if t == 3:
            path = self.queries.get(m["query_id"])
            if path and path[1] > now:
                raise Reject("replayed")
            self.queries[m["query_id"]] = [n, now + self.c["query_ttl_ms"], 0]
            if len(self.queries) > self.c["query_capacity"]:
                del self.queries[next(iter(self.queries))]
            outs = []
            found, more = self.query(now, m)
            if found:
                outs.append((f"neighbour:{n}", enc_response(m["query_id"], found, more)))
            if m["hop_limit"] > 1:
                outs.append((f"except:{n}", enc_query(m, m["hop_limit"] - 1)))
            return outs, []
        if t == 4:
            path = self.queries.get(m["query_id"])
            if not path or path[1] <= now or path[2] >= self.c["max_responses_per_query"]:
                raise Reject("wrong_state")
            path[2] += 1
            return [(f"neighbour:{path[0]}", data)], []
        raise Reject("wrong_state")


def check_relay_transcript(v):
    model = Relay(v["config"])
    for i, s in enumerate(v["steps"]):
        result, err = outcome(lambda: model.step(s["now"], s["input"]["from"], h(s["input"], "message")))
        if err or "expected_error" in s:
            if err != s.get("expected_error") or s["outputs"] or s["events"]:
                return f"step {i}: got {err}, want {s.get('expected_error')}"
            continue
        outs, events = result
        theirs = [(o["to"], bytes.fromhex(o["message"])) for o in s["outputs"]]
        if events != s["events"] or outs != theirs:
            return f"step {i}: outputs or events differ"


# --------------------------------------------------------------------------
# Patient (20 §10): ranking and fallback
# --------------------------------------------------------------------------

# The patient's default maximum announce lifetime (7 days).
PATIENT_MAX_LIFETIME_MS = 7 * 24 * 3600 * 1000


def check_patient_transcript(v):
    f = v["filter"]
    query = parse(h(v, "query"))
    if any(query[k] != f[k] for k in f if k != "query_id"):
        return "the query's fields differ from the filter"
    therapists = [identity(t) for t in v["therapists"]]
    by_address = {t["address"]: t for t in therapists}
    candidates, sequences, known = [], {}, set()
    deadline = v["now"] + v["collect_ms"]
    state, current = "collecting", None
    for i, s in enumerate(v["steps"]):
        now, inp, events = s["now"], s["input"], []
        outs = [(o["to"], bytes.fromhex(o["message"])) for o in s["outputs"]]
        expected_reservation = False
        if inp["op"] == "response":
            r = parse(h(inp, "message"))
            if r["query_id"] != query["query_id"] or state != "collecting":
                return f"step {i}: a response the patient must refuse"
            for a in r["announces"]:
                addr, err = outcome(lambda: verify_signed(a))
                live = now < a["expires_ms"] <= now + PATIENT_MAX_LIFETIME_MS
                if err or not live or sequences.get(addr, -1) >= a["sequence"]:
                    continue
                if not practice_matches(query, a["practice"]):
                    continue
                sequences[addr] = a["sequence"]
                candidates = [c for c in candidates if c[1] != addr]
                candidates += [(sl["start_ms"], addr, sl["id"], a["hold_ms"]) for sl in a["slots"]
                               if sl["start_ms"] > now and slot_matches(query, sl)]
                candidates = sorted(candidates)[:v["max_candidates"]]
                if addr not in known:
                    events.append(f"identity_needed {addr.hex()}")
        elif inp["op"] == "identity":
            if therapists[inp["index"]]["address"] in sequences:
                known.add(therapists[inp["index"]]["address"])
        elif inp["op"] == "timeout":
            if now >= deadline and state == "collecting":
                expected_reservation = True
        elif inp["op"] == "result":
            r = parse(h(inp, "message"))
            if state != "reserving" or r["recipient"] != current[1]:
                return f"step {i}: a result for no outstanding reservation"
            given = s["events"][0].split() if s["events"] else []
            c = current[0]
            if given[:3] == ["booked", c[1].hex(), str(c[2])]:
                events.append(" ".join(given))
                state = "booked"
            elif given[:3] == ["refused", c[1].hex(), str(c[2])] and given[3] in ("declined", "expired"):
                events.append(" ".join(given))
                expected_reservation = True
            else:
                return f"step {i}: events {s['events']} do not answer the current reservation"
        mine = []
        if expected_reservation:
            while candidates and candidates[0][1] not in known:
                c = candidates.pop(0)
                events.append(f"skipped {c[1].hex()} {c[2]}")
            if not candidates:
                events.append("exhausted")
                state = "exhausted"
            else:
                c = candidates.pop(0)
                if len(outs) != 1 or outs[0][0] != "address:" + c[1].hex():
                    return f"step {i}: no reservation to the next-ranked therapist"
                t = by_address[c[1]]
                req = parse_request(open_sealed(parse(outs[0][1]), c[1], t["kem"]))
                if (req["slot_id"], req["created_ms"], req["contact"]) != (c[2], now, v["contact"]):
                    return f"step {i}: reservation for slot {req['slot_id']}, want {c[2]}"
                mine = outs
                events.append(f"reserving {c[1].hex()} {c[2]}")
                state, current = "reserving", (c, req["reply_address"])
                deadline = now + c[3] + v["result_grace_ms"]
        if outs != mine or events != s["events"]:
            return f"step {i}: events {s['events']}, want {events}"


CHECKS = {
    "licence_hash": check_licence_hash,
    "announce": check_announce,
    "withdraw": check_withdraw,
    "query": check_query,
    "response": check_response,
    "decode": check_decode,
    "verify": check_verify,
    "seal": check_seal,
    "open": check_open,
    "therapist_transcript": check_therapist_transcript,
    "relay_transcript": check_relay_transcript,
    "patient_transcript": check_patient_transcript,
}


def spec_worked_examples(data):
    """spec/20 §15: the hex of the worked examples is the vectors'."""
    text = open(os.path.join(ROOT, "spec", "20-fapp.md"), encoding="utf-8").read()
    section = text[text.index("## 15."):]
    blocks = re.findall(r"```\n(.*?)```", section, re.S)
    by_name = {v["name"]: v for v in data["vectors"]}
    for name in ("withdraw", "query-narrow"):
        want = by_name[name]["message"]
        found = any(re.sub(r"[^0-9a-f]", "", re.sub(r"//.*", "", b)) == want for b in blocks)
        if not found:
            return f"no worked example in spec/20 §15 gives vector {name}"
    ident = identity(by_name["withdraw"]["therapist"])
    if enc_withdraw(ident, by_name["withdraw"]["sequence"], by_name["withdraw"]["expires_ms"]).hex() != by_name["withdraw"]["message"]:
        return "the withdraw example is not the re-signed one"


if __name__ == "__main__":
    sys.exit(vector_runner.main(sys.argv, [os.path.join(VECTORS, "fapp.json")], CHECKS,
                                file_checks=[("worked example", spec_worked_examples)]))
