#!/usr/bin/env python3
"""Independent checker for vectors/mesh.json (spec/10-mesh.md).

Written from spec/10-mesh.md, spec/02-identity.md (addresses, strict
Ed25519, labelled signatures) and spec/00-overview.md alone. It shares no
code with the Rust crates or with the other checkers and never calls them.
Primitives: hashlib (SHA-256, SHAKE256) and pyca `cryptography` (Ed25519
key derivation, signing and the verification equation; ML-KEM-768 and
X25519 key generation for the X-Wing key digest); the strict key and
signature rules of 02 §3.5/§6.3, every layout, the validation order, the
routing table and the rebroadcast scheduler are implemented here.

usage: python3 vectors/independent/check_mesh.py [vectors/mesh.json]
exit status: 0 all pass, 1 any failure, 2 a dependency is missing.
"""

import hashlib
import json
import os
import sys

try:
    import jsonschema
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
except ImportError as e:  # pragma: no cover
    print(f"missing dependency: {e} (pip install 'cryptography>=47' jsonschema)")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.dirname(HERE)

# --------------------------------------------------------------------------
# 02: addresses and strict Ed25519
# --------------------------------------------------------------------------

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SMALL_ORDER = {
    bytes.fromhex(h)
    for h in [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0000000000000000000000000000000000000000000000000000000000000080",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
    ]
}
ANNOUNCE_LABEL = b"qpc sig v1 mesh announce"


def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def address_of(signing_key, kem_key_digest):
    return sha256(b"qpc address v1", signing_key, kem_key_digest)[:16]


def decodes_strictly(point):
    """RFC 8032 §5.1.3 with y < p required (02 §3.5 rule 1)."""
    n = int.from_bytes(point, "little")
    sign, y = n >> 255, n & (2**255 - 1)
    if y >= P:
        return False
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x2 = u * pow(v, P - 2, P) % P
    if x2 == 0:
        return sign == 0
    x = pow(x2, (P + 3) // 8, P)
    if x * x % P != x2:
        x = x * pow(2, (P - 1) // 4, P) % P
    return x * x % P == x2


def valid_signing_key(key):
    return len(key) == 32 and decodes_strictly(key) and key not in SMALL_ORDER


def verify(key, label, message, signature):
    """02 §6.3 from step 2, for a key that passed valid_signing_key."""
    if len(signature) != 64:
        return "wrong_length"
    r, s = signature[:32], int.from_bytes(signature[32:], "little")
    if s >= L or not decodes_strictly(r) or r in SMALL_ORDER:
        return "bad_signature"
    signed = bytes([len(label)]) + label + message
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, signed)
    except InvalidSignature:
        return "bad_signature"
    return None


def public_key(seed):
    return (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )


def kem_key_digest_of(kem_seed):
    """SHA-256 of the X-Wing public key of a seed (02 §4, 03 §2.2):
    SHAKE256(seed, 96) = d || z || sk_X; pk = ML-KEM-768 ek(d, z) || X25519(sk_X, 9)."""
    expanded = hashlib.shake_256(kem_seed).digest(96)
    ek = MLKEM768PrivateKey.from_seed_bytes(expanded[:64]).public_key().public_bytes_raw()
    pk_x = X25519PrivateKey.from_private_bytes(expanded[64:]).public_key().public_bytes_raw()
    assert len(ek) == 1184 and len(pk_x) == 32
    return sha256(ek + pk_x)


Q = 3329  # ML-KEM modulus


def mlkem_ek_reduced(ek):
    """FIPS 203 §7.2 modulus check: the 768 12-bit coefficients of ek[0..1152] are < q."""
    for i in range(0, 1152, 3):
        b0, b1, b2 = ek[i], ek[i + 1], ek[i + 2]
        if (b0 | (b1 & 0x0F) << 8) >= Q or (b1 >> 4 | b2 << 4) >= Q:
            return False
    return True


def x25519_small_order(u):
    """02 §3.3 step 5: X25519(k, u) = 0 for k = 32 bytes of 0x55."""
    try:
        out = X25519PrivateKey.from_private_bytes(b"\x55" * 32).exchange(X25519PublicKey.from_public_bytes(u))
    except ValueError:  # cryptography refuses an all-zero shared secret
        return True
    return out == bytes(32)


def decode_public_identity(data):
    """02 §3.3 steps 2-5 (the caller has fixed the length at 1249); returns the address."""
    if data[0] != 1:
        raise Reject("unknown_version")
    key, kem = data[1:33], data[33:]
    if not valid_signing_key(key):
        raise Reject("invalid_public_key")
    if not mlkem_ek_reduced(kem[:1184]) or x25519_small_order(kem[1184:]):
        raise Reject("invalid_public_key")
    return address_of(key, sha256(kem))


def sign(seed, label, message):
    return Ed25519PrivateKey.from_private_bytes(seed).sign(bytes([len(label)]) + label + message)


# --------------------------------------------------------------------------
# 10 §3: the envelope header
# --------------------------------------------------------------------------

TYPES = {
    1: "announce",
    2: "path_request",
    3: "path_response",
    4: "sealed",
    5: "key_request",
    6: "key_response",
    7: "receipt",
    8: "hop_ack",
    12: "fapp",
}
LINK_LOCAL = bytes(16)
RECEIPT_ID_LABEL = b"qpc mesh receipt id v1"
CODES = {v: k for k, v in TYPES.items()}


class Reject(Exception):
    def __init__(self, cls):
        super().__init__(cls)
        self.cls = cls


class Cursor:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise Reject("truncated")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def rest(self):
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out

    def left(self):
        return len(self.data) - self.pos


def read_header(c):
    first = c.take(1)[0]  # H1
    if first >> 5 != 1:  # H2
        raise Reject("unknown_version")
    code = first & 0x0F
    if code not in TYPES:  # H3
        raise Reject("unknown_message_type")
    hops = c.take(1)[0]  # H4
    count, limit = hops >> 4, hops & 0x0F
    if count > limit:  # H5
        raise Reject("malformed")
    dest = c.take(16)  # H6
    mid = int.from_bytes(c.take(4), "big")
    hop_id = c.take(8) if first & 0x10 else None  # H7
    return {
        "message_type": TYPES[code],
        "hop_count": count,
        "hop_limit": limit,
        "destination": dest,
        "message_id": mid,
        "hop_id": hop_id,
    }


def write_header(message_type, count, limit, dest, mid, hop_id):
    assert 0 <= count <= limit <= 15
    first = 0x20 | (0x10 if hop_id is not None else 0) | CODES[message_type]
    out = bytes([first, count << 4 | limit]) + dest + mid.to_bytes(4, "big")
    return out + (hop_id if hop_id is not None else b"")


# --------------------------------------------------------------------------
# 10 §4 and §6: announces and path messages
# --------------------------------------------------------------------------


def announce_message(address, sequence, caps, digest):
    return address + sequence.to_bytes(4, "big") + bytes([caps]) + digest


def read_announce_body(c, address, sequence):
    """A1 (the length part, by the caller) and A2-A4."""
    cost, caps = c.take(1)[0], c.take(1)[0]
    key, digest, sig = c.take(32), c.take(32), c.take(64)
    return cost, caps, key, digest, sig


def check_announce(address, sequence, caps, key, digest, sig):
    if address_of(key, digest) != address:  # A2
        raise Reject("address_mismatch")
    if not valid_signing_key(key):  # A3
        raise Reject("invalid_public_key")
    err = verify(key, ANNOUNCE_LABEL, announce_message(address, sequence, caps, digest), sig)
    if err:  # A4
        raise Reject(err)


def announce_fields(caps, key, digest, sig):
    return {
        "capabilities": caps,
        "signing_key": key.hex(),
        "kem_key_digest": digest.hex(),
        "signature": sig.hex(),
    }


def hx(b):
    return None if b is None else b.hex()


def decode_message(data):
    """The whole datagram by §3.3, §3.4, §4.5, §6.2: a `decoded` dict."""
    c = Cursor(data)
    h = read_header(c)
    out = {"message_type": h["message_type"], "hop_count": h["hop_count"], "hop_limit": h["hop_limit"]}
    t = h["message_type"]
    if t == "announce":
        cost, caps, key, digest, sig = read_announce_body(c, h["destination"], h["message_id"])
        if c.left():
            raise Reject("trailing_bytes")
        check_announce(h["destination"], h["message_id"], caps, key, digest, sig)
        out.update(address=h["destination"].hex(), sequence=h["message_id"], transmitter=hx(h["hop_id"]), cost=cost)
        out.update(announce_fields(caps, key, digest, sig))
    elif t == "path_request":
        min_sequence = int.from_bytes(c.take(4), "big")  # 10 §6.1
        if c.left():
            raise Reject("trailing_bytes")
        out.update(
            destination=h["destination"].hex(),
            request_id=h["message_id"],
            transmitter=hx(h["hop_id"]),
            min_sequence=min_sequence,
        )
    elif t == "path_response":
        tx = c.take(8)  # P1
        seq = int.from_bytes(c.take(4), "big")
        cost, caps, key, digest, sig = read_announce_body(c, h["destination"], seq)
        if c.left():  # P2
            raise Reject("trailing_bytes")
        check_announce(h["destination"], seq, caps, key, digest, sig)  # P3, P4
        out.update(
            address=h["destination"].hex(),
            request_id=h["message_id"],
            next_hop=hx(h["hop_id"]),
            transmitter=tx.hex(),
            sequence=seq,
            cost=cost,
        )
        out.update(announce_fields(caps, key, digest, sig))
    elif t == "key_request":
        tx = c.take(8)  # K1
        if c.left():
            raise Reject("trailing_bytes")
        out.update(destination=h["destination"].hex(), request_id=h["message_id"], next_hop=hx(h["hop_id"]), transmitter=tx.hex())
    elif t == "key_response":
        tx, identity = c.take(8), c.take(1249)  # K2
        if c.left():  # K3
            raise Reject("trailing_bytes")
        if decode_public_identity(identity) != h["destination"]:  # K4, K5
            raise Reject("address_mismatch")
        out.update(
            address=h["destination"].hex(),
            request_id=h["message_id"],
            next_hop=hx(h["hop_id"]),
            transmitter=tx.hex(),
            public_identity=identity.hex(),
        )
    elif t == "receipt":
        key = c.take(16)  # 10 §12.3 RC1
        if c.left():
            raise Reject("trailing_bytes")
        out.update(
            destination=h["destination"].hex(),
            message_id=h["message_id"],
            next_hop=hx(h["hop_id"]),
            receipt_key=key.hex(),
            receipt_id=sha256(RECEIPT_ID_LABEL, key)[:8].hex(),
        )
    elif t == "hop_ack":
        if h["hop_limit"] != 0:  # 10 §12.2 HA1
            raise Reject("malformed")
        if c.left():  # HA2
            raise Reject("trailing_bytes")
        out.update(destination=h["destination"].hex(), message_id=h["message_id"], **{"from": hx(h["hop_id"])})
    elif t == "fapp":
        link_local = h["destination"] == LINK_LOCAL
        if link_local and h["hop_limit"] != 0:  # 10 §14.1 F1
            raise Reject("malformed")
        tx = c.take(8)  # F2
        reply = None if link_local else c.take(16)
        payload = c.rest()
        if not payload:
            raise Reject("truncated")
        out.update(
            destination=h["destination"].hex(),
            message_id=h["message_id"],
            next_hop=hx(h["hop_id"]),
            transmitter=tx.hex(),
            reply_address=None if reply in (None, bytes(16)) else reply.hex(),
            payload=payload.hex(),
        )
    else:
        body = c.rest()
        if not body:
            raise Reject("truncated")
        out.update(destination=h["destination"].hex(), message_id=h["message_id"], next_hop=hx(h["hop_id"]), payload=body.hex())
    return out


def encode_decoded(d):
    """Re-encode a `decoded` dict (§10.1) from the layouts."""
    t, count, limit = d["message_type"], d["hop_count"], d["hop_limit"]
    unhex = lambda v: None if v is None else bytes.fromhex(v)
    if t == "announce":
        head = write_header(t, count, limit, unhex(d["address"]), d["sequence"], unhex(d["transmitter"]))
        return head + announce_body(d)
    if t == "path_request":
        head = write_header(t, count, limit, unhex(d["destination"]), d["request_id"], unhex(d["transmitter"]))
        return head + d["min_sequence"].to_bytes(4, "big")
    if t == "path_response":
        head = write_header(t, count, limit, unhex(d["address"]), d["request_id"], unhex(d["next_hop"]))
        return head + unhex(d["transmitter"]) + d["sequence"].to_bytes(4, "big") + announce_body(d)
    if t == "key_request":
        head = write_header(t, count, limit, unhex(d["destination"]), d["request_id"], unhex(d["next_hop"]))
        return head + unhex(d["transmitter"])
    if t == "key_response":
        head = write_header(t, count, limit, unhex(d["address"]), d["request_id"], unhex(d["next_hop"]))
        return head + unhex(d["transmitter"]) + unhex(d["public_identity"])
    if t == "receipt":
        head = write_header(t, count, limit, unhex(d["destination"]), d["message_id"], unhex(d["next_hop"]))
        return head + unhex(d["receipt_key"])
    if t == "hop_ack":
        return write_header(t, count, limit, unhex(d["destination"]), d["message_id"], unhex(d["from"]))
    if t == "fapp":
        dest = unhex(d["destination"])
        head = write_header(t, count, limit, dest, d["message_id"], unhex(d["next_hop"]))
        reply = b"" if dest == LINK_LOCAL else (unhex(d["reply_address"]) or bytes(16))
        return head + unhex(d["transmitter"]) + reply + unhex(d["payload"])
    head = write_header(t, count, limit, unhex(d["destination"]), d["message_id"], unhex(d["next_hop"]))
    return head + unhex(d["payload"])


def announce_body(d):
    return (
        bytes([d["cost"], d["capabilities"]])
        + bytes.fromhex(d["signing_key"])
        + bytes.fromhex(d["kem_key_digest"])
        + bytes.fromhex(d["signature"])
    )


# --------------------------------------------------------------------------
# 10 §5: the routing table model
# --------------------------------------------------------------------------


class Table:
    def __init__(self, local, config):
        self.local = local
        self.capacity = config["capacity"]
        self.lifetime = config["route_lifetime_ms"]
        self.hold = config["hold_ms"]
        self.quota = config["max_routes_per_neighbour"]
        # address -> dict(seq, metric, hops, link, hop_id, state, t)
        # state "live": t = expires_at; "expired": t = forget_at
        self.entries = {}
        self.events = []

    def expire(self, now):
        for a in sorted(self.entries):
            e = self.entries[a]
            if e["state"] == "live" and e["t"] <= now:
                e["state"], e["t"] = "expired", e["t"] + self.hold
                self.events.append({"expired": a.hex()})
            if e["state"] == "expired" and e["t"] <= now:
                del self.entries[a]
                self.events.append({"forgotten": a.hex()})

    def ingest(self, address, seq, cost, count, limit, neighbour, link_cost, now):
        if not 1 <= link_cost <= 254:  # R1
            raise Reject("invalid_config")
        self.expire(now)
        m = min(255, cost + link_cost)
        relay = count < limit
        result = lambda d, r=False, ev=None: {"decision": d, "rebroadcast": r, "evicted": ev}
        if address == self.local:  # R2
            return result("own_address")
        if m == 255:  # R3
            return result("unreachable")
        fresh = {"seq": seq, "metric": m, "hops": count + 1, "nb": neighbour, "state": "live", "t": now + self.lifetime}
        e = self.entries.get(address)
        if e is None:
            live_via = sum(1 for x in self.entries.values() if x["nb"] == neighbour and x["state"] == "live")
            if live_via >= self.quota:  # R4
                return result("neighbour_quota")
            evicted = None
            if len(self.entries) >= self.capacity:  # §5.6
                def key(a):
                    x = self.entries[a]
                    return (0 if x["state"] == "expired" else 1, x["t"], a)
                evicted = min(self.entries, key=key)
                del self.entries[evicted]
            self.entries[address] = fresh  # R5
            return result("installed", relay, None if evicted is None else evicted.hex())
        if seq < e["seq"]:  # R6
            raise Reject("stale")
        if seq > e["seq"]:  # R7
            self.entries[address] = fresh
            return result("updated_newer_sequence", relay)
        if m < e["metric"]:  # R8
            self.entries[address] = fresh
            return result("updated_better_metric")
        return result("not_feasible")  # R9

    def forwarding(self, dest, now):
        if dest == self.local:
            return "local"
        e = self.entries.get(dest)
        if e is None or e["state"] != "live" or e["t"] <= now:
            return "flood"
        link, hop_id = e["nb"]
        return {"link": link, "hop_id": hx(hop_id), "metric": e["metric"], "hops": e["hops"], "sequence": e["seq"], "expires_at": e["t"]}

    def drain(self):
        out, self.events = self.events, []
        return out


def advert(datagram, link):
    """§10.2: (address, seq, cost, hop_count, hop_limit, neighbour)."""
    d = decode_message(datagram)
    if d["message_type"] == "announce":
        tx = d["transmitter"]
        if tx is None and d["hop_count"] == 0:  # §4.1: the originator itself
            tx = d["address"][:16]
        nb = (link, None if tx is None else bytes.fromhex(tx))
        return bytes.fromhex(d["address"]), d["sequence"], d["cost"], d["hop_count"], d["hop_limit"], nb
    if d["message_type"] == "path_response":
        nb = (link, bytes.fromhex(d["transmitter"]))
        return bytes.fromhex(d["address"]), d["sequence"], d["cost"], d["hop_count"], d["hop_limit"], nb
    raise Reject("malformed")


def run_routing(v):
    table = Table(bytes.fromhex(v["local_address"]), v["config"])
    costs = {l["link"]: l["cost"] for l in v["links"]}
    last = 0
    for i, step in enumerate(v["steps"]):
        now = step["at_ms"]
        if now < last:
            return f"step {i}: at_ms decreases"
        last = now
        op = step["op"]
        if op == "receive":
            try:
                a = advert(bytes.fromhex(step["datagram"]), step["link"])
                got = table.ingest(*a, costs[step["link"]], now)
                if step.get("outcome") != got:
                    return f"step {i}: outcome {got}, vector {step.get('outcome')} / {step.get('expected_error')}"
            except Reject as e:
                if step.get("expected_error") != e.cls:
                    return f"step {i}: error {e.cls}, vector {step.get('outcome')} / {step.get('expected_error')}"
        elif op == "timeout":
            table.expire(now)
        else:
            got = table.forwarding(bytes.fromhex(step["destination"]), now)
            if got != step["forwarding"]:
                return f"step {i}: forwarding {got}, vector {step['forwarding']}"
        events = table.drain()
        if events != step["events"]:
            return f"step {i}: events {events}, vector {step['events']}"
    return None


# --------------------------------------------------------------------------
# 10 §7.2: the rebroadcast scheduler model
# --------------------------------------------------------------------------


class Bucket:
    """Credit in micro-bits, as §7.2 defines it."""

    def __init__(self, b):
        self.rate = b["bitrate_bps"] * b["share_permille"]
        self.cap = b["burst_bytes"] * 8 * 10**6
        self.max = b["max_queued"]
        self.credit, self.at = self.cap, 0
        self.queue = []  # [address, hop_count, order, bytes]
        self.order = 0

    def refill(self, now):
        self.credit = min(self.cap, self.credit + max(0, now - self.at) * self.rate)
        self.at = max(self.at, now)

    def enqueue(self, address, hops, data):
        self.order += 1
        for q in self.queue:
            if q[0] == address:
                q[1], q[3] = hops, data
                return {"address": address.hex(), "reason": "superseded"}
        if len(self.queue) < self.max:
            self.queue.append([address, hops, self.order, data])
            return None
        worst = max(self.queue, key=lambda q: (q[1], q[2]))
        if worst[1] > hops:
            self.queue.remove(worst)
            self.queue.append([address, hops, self.order, data])
            return {"address": worst[0].hex(), "reason": "queue_full"}
        return {"address": address.hex(), "reason": "queue_full"}

    def poll(self, now):
        sent = []
        while True:
            self.refill(now)
            if not self.queue:
                break
            head = min(self.queue, key=lambda q: (q[1], q[2]))
            cost = len(head[3]) * 8 * 10**6
            if self.credit < cost:
                break
            self.credit -= cost
            self.queue.remove(head)
            sent.append(head[3].hex())
        if not self.queue:
            return sent, None
        head = min(self.queue, key=lambda q: (q[1], q[2]))
        deficit = len(head[3]) * 8 * 10**6 - self.credit
        wait = 0 if deficit <= 0 else -(-deficit // self.rate)
        return sent, now + wait


def run_rebroadcast(v):
    b = Bucket(v["budget"])
    for i, step in enumerate(v["steps"]):
        if step["op"] == "enqueue":
            data = bytes.fromhex(step["bytes"])
            if len(data) > 160:
                return f"step {i}: more than 160 bytes"
            got = b.enqueue(bytes.fromhex(step["address"]), step["hop_count"], data)
            if got != step["dropped"]:
                return f"step {i}: dropped {got}, vector {step['dropped']}"
        else:
            sent, timeout = b.poll(step["at_ms"])
            if sent != step["sent"] or timeout != step["next_timeout"]:
                return f"step {i}: sent {len(sent)} / timeout {timeout}, vector {len(step['sent'])} / {step['next_timeout']}"
    return None


# --------------------------------------------------------------------------
# Vector kinds
# --------------------------------------------------------------------------


def identity_digests():
    """(signing_seed, kem_seed) -> kem_key_digest from identity.json, if present."""
    path = os.path.join(VECTORS, "identity.json")
    if not os.path.exists(path):
        return {}
    out = {}
    for v in json.load(open(path))["vectors"]:
        if v["kind"] == "identity":
            out[(v["signing_seed"], v["kem_seed"])] = v["kem_key_digest"]
    return out


DIGESTS = identity_digests()


def check_envelope(v):
    data = bytes.fromhex(v["encoded"])
    c = Cursor(data)
    try:
        h = read_header(c)
    except Reject as e:
        return None if v.get("expected_error") == e.cls else f"error {e.cls}, vector {v.get('expected_error')}"
    if "expected_error" in v:
        return f"accepted, vector says {v['expected_error']}"
    got = dict(h, destination=h["destination"].hex(), hop_id=hx(h["hop_id"]))
    if got != v["header"]:
        return f"header {got}"
    body = c.rest()
    if body.hex() != v["body"]:
        return "body differs"
    again = write_header(h["message_type"], h["hop_count"], h["hop_limit"], h["destination"], h["message_id"], h["hop_id"]) + body
    return None if again == data else "re-encoding differs"


def check_announce_vector(v):
    seed = bytes.fromhex(v["signing_seed"])
    key = public_key(seed)
    if key.hex() != v["signing_key"]:
        return "signing_key"
    digest = bytes.fromhex(v["kem_key_digest"])
    if kem_key_digest_of(bytes.fromhex(v["kem_seed"])) != digest:
        return "kem_key_digest is not the digest of kem_seed's X-Wing key"
    known = DIGESTS.get((v["signing_seed"], v["kem_seed"]))
    if known is not None and known != v["kem_key_digest"]:
        return "kem_key_digest differs from identity.json for the same seeds"
    address = address_of(key, digest)
    if address.hex() != v["address"]:
        return "address"
    message = announce_message(address, v["sequence"], v["capabilities"], digest)
    signed = bytes([len(ANNOUNCE_LABEL)]) + ANNOUNCE_LABEL + message
    if len(signed) != 78 or signed.hex() != v["signed_bytes"]:
        return "signed_bytes"
    sig = sign(seed, ANNOUNCE_LABEL, message)
    if sig.hex() != v["signature"]:
        return "signature"
    tx = None if v["transmitter"] is None else bytes.fromhex(v["transmitter"])
    encoded = write_header("announce", v["hop_count"], v["hop_limit"], address, v["sequence"], tx)
    encoded += bytes([v["cost"], v["capabilities"]]) + key + digest + sig
    if encoded.hex() != v["encoded"]:
        return "encoded"
    if len(encoded) != (152 if tx is None else 160):
        return "size"
    return None if decode_message(encoded)["signature"] == sig.hex() else "does not decode"


def check_decode(v):
    data = bytes.fromhex(v["encoded"])
    try:
        got = decode_message(data)
    except Reject as e:
        return None if v.get("expected_error") == e.cls else f"error {e.cls}, vector {v.get('expected_error')}"
    if "expected_error" in v:
        return f"accepted, vector says {v['expected_error']}"
    if got != v["decoded"]:
        return f"decoded {got}"
    return None if encode_decoded(got) == data else "re-encoding differs"


def check_mesh_data(v):
    """10 §12.3: flags (bit 0: a receipt key follows; other bits refused),
    the key, the content."""
    data = bytes.fromhex(v["encoded"])
    try:
        c = Cursor(data)
        flags = c.take(1)[0]
        if flags & ~1:
            raise Reject("malformed")
        key = c.take(16).hex() if flags else None
        got = {"receipt_key": key, "content": c.rest().hex()}
    except Reject as e:
        return None if v.get("expected_error") == e.cls else f"error {e.cls}, vector {v.get('expected_error')}"
    if "expected_error" in v:
        return f"accepted, vector says {v['expected_error']}"
    want = {"receipt_key": v["receipt_key"], "content": v["content"]}
    return None if got == want else f"decoded {got}"


def check_relay(v):
    """10 §5.3 / §6.1: one more hop, cost = cost + link cost (saturating) for
    announces, the relay's hop id (or none), nothing at the hop limit."""
    d = decode_message(bytes.fromhex(v["received"]))
    if d["message_type"] not in ("announce", "path_request"):
        return "not a flooded type"
    if d["hop_count"] >= d["hop_limit"]:
        want = None
    else:
        d = dict(d, hop_count=d["hop_count"] + 1, transmitter=v["transmitter"])
        if d["message_type"] == "announce":
            d["cost"] = min(255, d["cost"] + v["link_cost"])
        want = encode_decoded(d).hex()
    return None if want == v["relayed"] else f"relayed {want}"


CHECKS = {
    "envelope": check_envelope,
    "announce": check_announce_vector,
    "decode": check_decode,
    "mesh_data": check_mesh_data,
    "relay": check_relay,
    "routing": run_routing,
    "rebroadcast": run_rebroadcast,
}


# --------------------------------------------------------------------------
# Self-tests from the spec text
# --------------------------------------------------------------------------


def self_test():
    # RFC 8032 test 1.
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    assert public_key(seed).hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    sig = Ed25519PrivateKey.from_private_bytes(seed).sign(b"")
    assert sig.hex().startswith("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155")
    # 02 §3.5: every listed small-order encoding decodes but is refused.
    for p in SMALL_ORDER:
        assert decodes_strictly(p) and not valid_signing_key(p)
    assert not decodes_strictly(bytes([0xF0]) + b"\xff" * 30 + b"\x7f")  # y = p + 3
    assert not decodes_strictly(bytes([2]) + bytes(31))  # y = 2, off the curve
    # 02 §3.3 on identity.json's identities: accepted, with their address;
    # the modulus check and the small-order X25519 list refuse.
    for v in json.load(open(os.path.join(VECTORS, "identity.json")))["vectors"]:
        if v["kind"] == "identity":
            pub = bytes.fromhex(v["public_identity"])
            assert decode_public_identity(pub).hex() == v["address"]
            assert mlkem_ek_reduced(pub[33:1217]) and not x25519_small_order(pub[1217:])
    assert not mlkem_ek_reduced(b"\xff\x0f" + bytes(1182))
    assert x25519_small_order(bytes(32)) and x25519_small_order(bytes([1]) + bytes(31))
    # 10 §2, §4.2, §4.4: sizes and label.
    assert len(ANNOUNCE_LABEL) == 24 and ANNOUNCE_LABEL.hex() == "71706320736967207631206d65736820616e6e6f756e6365"
    assert 2 + 16 + 4 + 2 + 32 + 32 + 64 == 152 and 152 + 8 == 160
    assert len(write_header("sealed", 2, 7, bytes(16), 1, bytes(8))) == 30
    assert write_header("sealed", 2, 7, bytes([0xAB]) * 16, 0x01020304, bytes([9]) * 8)[:2] == b"\x34\x27"
    # §7.2 example: 2% of 1760 bit/s, one 160-byte announce per 36 364 ms.
    b = Bucket({"bitrate_bps": 1760, "share_permille": 20, "burst_bytes": 160, "max_queued": 2})
    b.enqueue(b"a" * 16, 1, bytes(160))
    b.enqueue(b"b" * 16, 1, bytes(160))
    assert b.poll(0) == ([bytes(160).hex()], 36364)
    # §5.3: a feasibility walk by hand.
    t = Table(b"L" * 16, {"capacity": 2, "route_lifetime_ms": 100, "hold_ms": 50, "max_routes_per_neighbour": 2})
    nb0, nb1 = (0, None), (1, None)
    assert t.ingest(b"A" * 16, 5, 3, 0, 3, nb0, 1, 0)["decision"] == "installed"
    assert t.ingest(b"A" * 16, 5, 3, 0, 3, nb1, 1, 1)["decision"] == "not_feasible"
    assert t.ingest(b"A" * 16, 5, 1, 0, 3, nb1, 1, 2)["decision"] == "updated_better_metric"
    try:
        t.ingest(b"A" * 16, 4, 0, 0, 3, nb1, 1, 3)
        raise AssertionError("stale accepted")
    except Reject as e:
        assert e.cls == "stale"
    t.expire(102)
    assert t.drain() == [{"expired": (b"A" * 16).hex()}]
    t.expire(152)
    assert t.drain() == [{"forgotten": (b"A" * 16).hex()}]


def spec_worked_example():
    """10 §10.4, re-derived from the seed labels alone."""
    path = os.path.join(os.path.dirname(VECTORS), "spec", "10-mesh.md")
    if not os.path.exists(path):
        return
    section = open(path).read().split("### 10.4 Worked example")[1]
    block = section.split("```")[3]
    spec_hex = "".join(line.split()[0] for line in block.splitlines() if line.strip())
    signing_seed = sha256(b"qpc vectors alice signing")
    digest = kem_key_digest_of(sha256(b"qpc vectors alice kem"))
    key = public_key(signing_seed)
    address = address_of(key, digest)
    sig = sign(signing_seed, ANNOUNCE_LABEL, announce_message(address, 1, 0x03, digest))
    mine = write_header("announce", 0, 7, address, 1, None) + bytes([0, 0x03]) + key + digest + sig
    assert spec_hex == mine.hex(), "spec/10 §10.4 differs from the re-derived announce"


def main(argv):
    path = argv[1] if len(argv) > 1 else os.path.join(VECTORS, "mesh.json")
    self_test()
    spec_worked_example()
    data = json.load(open(path))
    schema = json.load(open(os.path.join(VECTORS, "mesh.schema.json")))
    passed = failed = 0
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as e:
        print(f"FAIL schema: {e.message}")
        failed += 1
    for v in data["vectors"]:
        try:
            why = CHECKS[v["kind"]](v)
        except Exception as e:  # a checker crash is a failure, not a pass
            why = f"checker raised {type(e).__name__}: {e}"
        if why:
            print(f"FAIL {v['name']} ({v['kind']}): {why}")
            failed += 1
        else:
            passed += 1
    print(f"{os.path.basename(path)}: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
