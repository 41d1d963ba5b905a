#!/usr/bin/env python3
"""Independent checker for vectors/lora_session.json and vectors/mls_lite.json
(spec/12-mls-lite.md parts A and B).

Written from spec/12-mls-lite.md, spec/10-mesh.md §3 (the envelope header),
spec/03-hybrid-kem-hpke.md §2 (X-Wing), spec/02-identity.md §4 and §6
(addresses, labelled Ed25519 signatures) and spec/00-overview.md alone. It
shares no code with the Rust crates or with the other checkers and never
calls them. Primitives: hashlib (SHA-256, SHA3-256, SHAKE256), hmac
(HKDF-SHA256, RFC 5869) and pyca `cryptography` (ChaCha20Poly1305, Ed25519,
X25519, ML-KEM-768). Everything else — layouts, the check orders of §A.2,
§A.3, §A.5, §A.6 and §B.4, the key schedule, the ratchet with its skipped
keys, counter reservations on export, trial decryption under the next
epoch, the MLS-Lite replay window and grace period — is implemented here.

The reference's randomness is not reproduced: the ephemeral X-Wing seed is
in the vector, encapsulations are checked by decapsulating them with the
secret keys, and message ids are read from the expected datagrams. The
exception is `node_session` (§A.15): there the nodes' ChaCha20 generators
are part of the vector, and this checker draws from them itself (the
ChaCha20 keystream of pyca `cryptography`, key = seed, counter and nonce 0)
the node seed, the receive tags, the ephemeral seed and the message ids.

usage: python3 vectors/independent/check_lora_session.py [FILE...]
       (default: vectors/lora_session.json vectors/mls_lite.json)
exit status: 0 all pass, 1 any failure, 2 a dependency is missing.
"""

import copy
import hashlib
import hmac
import json
import os
import sys

import vector_runner

try:
    from cryptography.exceptions import InvalidSignature, InvalidTag
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
except ImportError as e:  # pragma: no cover
    print(f"missing dependency: {e} (pip install 'cryptography>=47' jsonschema)")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.dirname(HERE)


class Reject(Exception):
    """A check of the spec refused the input; the argument is the class."""


# --------------------------------------------------------------------------
# Primitives
# --------------------------------------------------------------------------

def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


def extract(salt, ikm):
    return hmac.new(salt, ikm, hashlib.sha256).digest()


def expand(prk, info, length):
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def aead_seal(key, nonce, aad, plaintext):
    return ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)


def aead_open(key, nonce, aad, sealed):
    if len(sealed) < 16:
        raise Reject("open_failed")
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, sealed, aad)
    except InvalidTag:
        raise Reject("open_failed") from None


def counter_nonce(n):
    return bytes(8) + n.to_bytes(4, "big")


def x25519(scalar, u):
    try:
        return X25519PrivateKey.from_private_bytes(scalar).exchange(X25519PublicKey.from_public_bytes(u))
    except ValueError:  # the all-zero output (03 §2.3)
        raise Reject("non_contributory") from None


MLKEM_PK, MLKEM_CT = 1184, 1088
XWING_PK, XWING_CT = MLKEM_PK + 32, MLKEM_CT + 32
XWING_LABEL = bytes.fromhex("5c2e2f2f5e5c")


def mlkem_key_check(ek):
    """FIPS 203 §7.2: every 12-bit coefficient of t below q = 3329."""
    t = ek[:384 * 3]
    for i in range(0, len(t), 3):
        a, b, c = t[i], t[i + 1], t[i + 2]
        if (a | (b & 0x0F) << 8) >= 3329 or ((b >> 4) | c << 4) >= 3329:
            raise Reject("invalid_public_key")


class XWing:
    """An X-Wing key from its 32-byte seed (03 §2.2)."""

    def __init__(self, seed):
        expanded = hashlib.shake_256(seed).digest(96)
        self.mlkem = MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        self.sk_x = expanded[64:]
        self.pk_x = X25519PrivateKey.from_private_bytes(self.sk_x).public_key().public_bytes_raw()
        self.pk = self.mlkem.public_key().public_bytes_raw() + self.pk_x

    def decapsulate(self, ct):
        ct_m, ct_x = ct[:MLKEM_CT], ct[MLKEM_CT:]
        ss_x = x25519(self.sk_x, ct_x)
        ss_m = self.mlkem.decapsulate(ct_m)
        return hashlib.sha3_256(ss_m + ss_x + ct_x + self.pk_x + XWING_LABEL).digest()


SIGNATURE_LABEL = b"qpc sig v1 lora session"


def signed_bytes(message):
    return bytes([len(SIGNATURE_LABEL)]) + SIGNATURE_LABEL + message


def ed_public(seed):
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


class Identity:
    def __init__(self, party):
        self.signing_seed = bytes.fromhex(party["signing_seed"])
        self.signing_key = ed_public(self.signing_seed)
        self.kem = XWing(bytes.fromhex(party["kem_seed"]))
        self.kem_digest = sha256(self.kem.pk)
        self.address = sha256(b"qpc address v1", self.signing_key, self.kem_digest)[:16]
        if self.address.hex() != party["address"]:
            raise AssertionError("party address differs from its seeds' address")


# --------------------------------------------------------------------------
# 10 §3: the envelope header; 12 §A.2 and §A.4
# --------------------------------------------------------------------------

SESSION_TYPE, REGISTERED = 0xA, set(range(1, 0xC))
INIT, RESPONSE, DATA, RESUME = 1, 2, 3, 4
INIT_LEN, RESPONSE_LEN, RESUME_LEN, DATA_MIN, MAX_CONTENT = 2483, 1141, 21, 19, 1024
MAX_SKIP, MAX_SKIPPED, RESERVATION = 64, 64, 16


def parse_envelope(d):
    """10 §3.3 H1–H7: (type, hop_limit, destination, message_id, body)."""
    if len(d) < 1:
        raise Reject("truncated")
    if d[0] >> 5 != 1:
        raise Reject("unknown_version")
    if d[0] & 0x0F not in REGISTERED:
        raise Reject("unknown_message_type")
    if len(d) < 2:
        raise Reject("truncated")
    if d[1] >> 4 > d[1] & 0x0F:
        raise Reject("malformed")
    header_len = 30 if d[0] & 0x10 else 22
    if len(d) < header_len:
        raise Reject("truncated")
    return d[0] & 0x0F, d[1] & 0x0F, d[2:18], int.from_bytes(d[18:22], "big"), d[header_len:]


def parse_body(body):
    """§A.2 S1–S3: (kind, fields)."""
    if not body:
        raise Reject("truncated")
    kind = body[0]
    if kind not in (INIT, RESPONSE, DATA, RESUME):
        raise Reject("malformed")
    if kind == DATA:
        if len(body) < DATA_MIN:
            raise Reject("truncated")
        if len(body) > DATA_MIN + MAX_CONTENT:
            raise Reject("content_too_long")
        return kind, {"tag": int.from_bytes(body[1:3], "big"), "ciphertext": body[3:]}
    want = {INIT: INIT_LEN, RESPONSE: RESPONSE_LEN, RESUME: RESUME_LEN}[kind]
    if len(body) < want:
        raise Reject("truncated")
    if len(body) > want:
        raise Reject("trailing_bytes")
    if kind == INIT:
        return kind, {"pk_e": body[1:1 + XWING_PK], "ct_s": body[1 + XWING_PK:1 + XWING_PK + XWING_CT],
                      "sealed": body[1 + XWING_PK + XWING_CT:]}
    if kind == RESPONSE:
        return kind, {"tag": int.from_bytes(body[1:3], "big"), "ct_e": body[3:3 + XWING_CT], "sealed": body[3 + XWING_CT:]}
    return kind, {"tag": int.from_bytes(body[1:3], "big"), "epoch": int.from_bytes(body[3:5], "big"), "mac": body[5:]}


def decode_for(own, d):
    """The envelope and body of a Session message for `own`."""
    mtype, hop_limit, dest, mid, body = parse_envelope(d)
    if mtype != SESSION_TYPE or dest != own:
        raise Reject("malformed")
    kind, fields = parse_body(body)
    return hop_limit, dest, mid, kind, fields, body


def ad(hop_limit, dest, mid, prefix):
    """§A.4: the header as originated, then the body prefix."""
    return bytes([0x20 | SESSION_TYPE, hop_limit]) + dest + mid.to_bytes(4, "big") + prefix


def datagram(hop_limit, dest, mid, body):
    return bytes([0x20 | SESSION_TYPE, hop_limit]) + dest + mid.to_bytes(4, "big") + body


# --------------------------------------------------------------------------
# §A.3 establishment
# --------------------------------------------------------------------------

def th0_of(responder_address, pk_e, ct_s):
    return sha256(b"qpc lora session v1", responder_address, pk_e, ct_s)


def accept(responder, d):
    """§A.3 A1–A6 on an Init; returns the values the Response needs."""
    hop_limit, dest, mid, kind, f, _ = decode_for(responder.address, d)
    if kind != INIT:
        raise Reject("wrong_state")
    mlkem_key_check(f["pk_e"][:MLKEM_PK])  # A2
    ss_s = responder.kem.decapsulate(f["ct_s"])  # A3
    th0 = th0_of(responder.address, f["pk_e"], f["ct_s"])
    k_init = expand(extract(th0, ss_s), b"qpc lora session init v1", 32)
    identity = aead_open(k_init, bytes(12), ad(hop_limit, dest, mid, bytes([INIT])), f["sealed"])  # A4
    tag_i, signing_key, kem_digest, signature = identity[:2], identity[2:34], identity[34:66], identity[66:]
    try:  # A5, A6
        key = Ed25519PublicKey.from_public_bytes(signing_key)
    except ValueError:
        raise Reject("invalid_public_key") from None
    try:
        key.verify(signature, signed_bytes(th0 + tag_i))
    except InvalidSignature:
        raise Reject("bad_signature") from None
    x25519(b"\x42" * 32, f["pk_e"][MLKEM_PK:])  # A7's X25519 half is contributory
    return {"ss_s": ss_s, "th0": th0, "sealed_identity": f["sealed"], "tag_i": int.from_bytes(tag_i, "big"),
            "signing_key": signing_key, "kem_digest": kem_digest, "signature": signature, "pk_e": f["pk_e"]}


def establish(e):
    """Re-derives a whole establishment; returns (initiator, responder)
    sessions or raises AssertionError."""
    ini, res = Identity(e["initiator"]), Identity(e["responder"])
    eph = XWing(bytes.fromhex(e["ephemeral_seed"]))
    init, response = bytes.fromhex(e["init"]), bytes.fromhex(e["response"])
    got = accept(res, init)
    expect(got["pk_e"] == eph.pk, "the Init's ephemeral key is not the ephemeral seed's")
    expect(got["th0"].hex() == e.get("th0", got["th0"].hex()), "th0")
    expect(got["tag_i"] == e["initiator_tag"], "initiator tag")
    expect(got["signing_key"] == ini.signing_key and got["kem_digest"] == ini.kem_digest, "initiator identity")
    signature = Ed25519PrivateKey.from_private_bytes(ini.signing_seed).sign(
        signed_bytes(got["th0"] + e["initiator_tag"].to_bytes(2, "big")))
    expect(got["signature"] == signature, "the Init's signature is not the deterministic one")
    expect(init[1] & 0x0F == e["hop_limit"], "Init hop limit")
    # The Response, from the initiator's side (I1–I4).
    hop_limit, dest, mid, kind, f, _ = decode_for(ini.address, response)
    expect(kind == RESPONSE and f["tag"] == e["initiator_tag"] and hop_limit == e["hop_limit"], "Response header")
    ss_e = eph.decapsulate(f["ct_e"])
    th1 = sha256(got["th0"], got["sealed_identity"], f["ct_e"])
    prk = extract(th1, got["ss_s"] + ss_e)
    k_confirm = expand(prk, b"qpc lora session confirm v1", 32)
    root = expand(prk, b"qpc lora session root v1", 32)
    prefix = bytes([RESPONSE]) + f["tag"].to_bytes(2, "big")
    tag_r = aead_open(k_confirm, bytes(12), ad(hop_limit, dest, mid, prefix), f["sealed"])
    expect(int.from_bytes(tag_r, "big") == e["responder_tag"], "responder tag")
    expect(th1.hex() == e.get("th1", th1.hex()), "th1")
    expect(root.hex() == e.get("root_0", root.hex()), "root_0")
    a = Session("initiator", ini.address, res.address, e["initiator_tag"], e["responder_tag"], root)
    b = Session("responder", res.address, ini.address, e["responder_tag"], e["initiator_tag"], root)
    return a, b


def expect(ok, what):
    if not ok:
        raise AssertionError(what)


# --------------------------------------------------------------------------
# §A.5–§A.7 epochs, ratchet, resumption, reservations
# --------------------------------------------------------------------------

def chain_step(ck):
    return expand(ck, b"qpc lora session mk v1", 32), expand(ck, b"qpc lora session ck v1", 32)


class Epoch:
    def __init__(self, number, root, role):
        i2r, r2i = expand(root, b"qpc lora session i2r v1", 32), expand(root, b"qpc lora session r2i v1", 32)
        masks = expand(root, b"qpc lora session mask v1", 8)
        m_i2r, m_r2i = int.from_bytes(masks[:4], "big"), int.from_bytes(masks[4:], "big")
        res_i2r = expand(root, b"qpc lora session resume i2r v1", 32)
        res_r2i = expand(root, b"qpc lora session resume r2i v1", 32)
        self.number = number
        self.next_root = expand(root, b"qpc lora session next v1", 32)
        mine = role == "initiator"
        self.send_ck, self.recv_ck = (i2r, r2i) if mine else (r2i, i2r)
        self.send_mask, self.recv_mask = (m_i2r, m_r2i) if mine else (m_r2i, m_i2r)
        self.send_resume, self.recv_resume = (res_i2r, res_r2i) if mine else (res_r2i, res_i2r)
        self.send_next = self.send_limit = self.recv_next = 0
        self.skipped = []  # (counter, key), oldest first

    def next(self, role):
        if self.number == 0xFFFF:
            raise Reject("nonce_exhausted")
        return Epoch(self.number + 1, self.next_root, role)

    def open_data(self, hop_limit, dest, mid, prefix, ciphertext):
        """D2–D5; commits only on success."""
        n = mid ^ self.recv_mask
        if n < self.recv_next:
            held = [k for c, k in self.skipped if c == n]
            if not held:
                raise Reject("replayed" if self.recv_next - n <= MAX_SKIPPED else "too_old")
            content = aead_open(held[0], counter_nonce(n), ad(hop_limit, dest, mid, prefix), ciphertext)
            self.skipped = [(c, k) for c, k in self.skipped if c != n]
            return n, content
        if n - self.recv_next > MAX_SKIP:
            raise Reject("too_far_ahead")
        ck, skipped = self.recv_ck, []
        for c in range(self.recv_next, n):
            mk, ck = chain_step(ck)
            skipped.append((c, mk))
        mk, ck = chain_step(ck)
        content = aead_open(mk, counter_nonce(n), ad(hop_limit, dest, mid, prefix), ciphertext)
        self.skipped = (self.skipped + skipped)[-MAX_SKIPPED:]
        self.recv_ck, self.recv_next = ck, n + 1
        return n, content


class Session:
    def __init__(self, role, own, peer, own_tag, peer_tag, root):
        self.role, self.own, self.peer, self.own_tag, self.peer_tag = role, own, peer, own_tag, peer_tag
        self.epoch = Epoch(0, root, role)

    def seal(self, content, hop_limit):
        e = self.epoch
        if len(content) > MAX_CONTENT:
            raise Reject("content_too_long")
        if e.send_next >= 1 << 32:
            raise Reject("nonce_exhausted")
        if e.send_next >= e.send_limit:
            raise Reject("wrong_state")
        n = e.send_next
        mk, e.send_ck = chain_step(e.send_ck)
        e.send_next += 1
        mid = n ^ e.send_mask
        prefix = bytes([DATA]) + self.peer_tag.to_bytes(2, "big")
        body = prefix + aead_seal(mk, counter_nonce(n), ad(hop_limit, self.peer, mid, prefix), content)
        return datagram(hop_limit, self.peer, mid, body)

    def resume_message(self, hop_limit, mid):
        prefix = bytes([RESUME]) + self.peer_tag.to_bytes(2, "big") + self.epoch.number.to_bytes(2, "big")
        mac = aead_seal(self.epoch.send_resume, counter_nonce(mid), ad(hop_limit, self.peer, mid, prefix), b"")
        return datagram(hop_limit, self.peer, mid, prefix + mac)

    def open(self, d):
        hop_limit, dest, mid, kind, f, body = decode_for(self.own, d)
        if kind in (INIT, RESPONSE):
            raise Reject("wrong_state")
        if f["tag"] != self.own_tag:  # D1
            raise Reject("unknown_session")
        if kind == DATA:
            prefix = body[:3]
            trial = copy.deepcopy(self.epoch)
            try:
                n, content = trial.open_data(hop_limit, dest, mid, prefix, f["ciphertext"])
                self.epoch = trial
            except Reject as current:  # D6: one epoch ahead
                try:
                    ahead = self.epoch.next(self.role)
                    n, content = ahead.open_data(hop_limit, dest, mid, prefix, f["ciphertext"])
                except Reject:
                    raise current from None
                self.epoch = ahead
            return {"event": "content", "counter": n, "content": content.hex()}
        prefix, c = body[:5], self.epoch.number
        check = lambda key: aead_open(key, counter_nonce(mid), ad(hop_limit, dest, mid, prefix), f["mac"])
        if f["epoch"] == c:  # R1
            check(self.epoch.recv_resume)
            return {"event": "resume_confirmed", "epoch": c}
        if f["epoch"] < c:
            raise Reject("too_old")
        if f["epoch"] > c + 1:
            raise Reject("too_far_ahead")
        ahead = self.epoch.next(self.role)
        check(ahead.recv_resume)
        self.epoch = ahead
        return {"event": "resumed", "epoch": ahead.number}

    def export(self):
        """§A.7: the persisted copy starts after 16 reserved counters."""
        e = self.epoch
        limit = min(e.send_next + RESERVATION, 1 << 32)
        e.send_limit = limit
        saved = copy.deepcopy(self)
        ck = e.send_ck
        for _ in range(e.send_next, limit):
            ck = chain_step(ck)[1]
        saved.epoch.send_ck, saved.epoch.send_next, saved.epoch.send_limit = ck, limit, limit
        return saved


# --------------------------------------------------------------------------
# lora_session.json
# --------------------------------------------------------------------------

def outcome(run):
    try:
        return run(), None
    except Reject as r:
        return None, r.args[0]


def check_transcript(v):
    sessions = dict(zip(("initiator", "responder"), establish(v["establishment"])))
    saved = {}
    for i, s in enumerate(v["steps"]):
        p, op = s["party"], s["op"]
        me = sessions[p]
        where = f"step {i} ({op})"
        if op == "seal":
            got, err = outcome(lambda: me.seal(bytes.fromhex(s["content"]), s["hop_limit"]).hex())
            expect((got, err) == (s.get("datagram"), s.get("expected_error")), f"{where}: got {got} / {err}")
        elif op == "open":
            got, err = outcome(lambda: me.open(bytes.fromhex(s["datagram"])))
            expect((got, err) == (s.get("received"), s.get("expected_error")), f"{where}: got {got} / {err}")
        elif op in ("resume", "resume_answer"):
            want = bytes.fromhex(s["datagram"])
            if op == "resume":
                me.epoch = me.epoch.next(me.role)
            mid = int.from_bytes(want[18:22], "big")
            expect(me.resume_message(s["hop_limit"], mid) == want, f"{where}: Resume differs")
        elif op == "export":
            saved[p] = me.export()
        elif op == "restore":
            sessions[p] = copy.deepcopy(saved[p])
        else:
            raise AssertionError(f"unknown op {op}")


def check_accept(v):
    _, err = outcome(lambda: accept(Identity(v["responder"]), bytes.fromhex(v["init"])))
    expect(err == v["expected_error"], f"got {err}, want {v['expected_error']}")


# --------------------------------------------------------------------------
# §A.15 and 10 §12.7: two mesh nodes, a session and a message
# --------------------------------------------------------------------------

class Generator:
    """A node's ChaCha20 generator: the keystream under the 32-byte seed,
    read in order; a word is 4 keystream bytes, little-endian."""

    def __init__(self, seed):
        enc = Cipher(algorithms.ChaCha20(seed, bytes(16)), mode=None).encryptor()
        self.stream, self.at = enc.update(bytes(4096)), 0

    def take(self, n):
        out = self.stream[self.at:self.at + n]
        self.at += n
        return out

    def word(self):
        return int.from_bytes(self.take(4), "little")


def node_generator(seed_hex):
    """The node's own generator: seeded with 32 bytes of the given one."""
    return Generator(Generator(bytes.fromhex(seed_hex)).take(32))


def hop_ack(d):
    """10 §12.2: the 22-byte HopAck of datagram `d` (point-to-point link)."""
    return bytes([0x28, 0x00]) + d[2:22]


def check_node_session(v):
    a_rng, b_rng = node_generator(v["node_seeds"][0]), node_generator(v["node_seeds"][1])
    tag_i, tag_r = a_rng.word() & 0xFFFF, b_rng.word() & 0xFFFF
    ephemeral_seed = a_rng.take(32)
    a_rng.take(64)  # the encapsulation seed: checked by decapsulation
    init_mid = a_rng.word()
    b_rng.take(64)
    response_mid, receipt_mid = b_rng.word(), b_rng.word()
    wire = [(d["from"], bytes.fromhex(d["datagram"])) for d in v["wire"]]
    expect([w[0] for w in wire] == ["initiator", "responder", "responder", "initiator"] * 2,
           "the order of the datagrams on the link")
    init, response, data, receipt = wire[0][1], wire[2][1], wire[4][1], wire[6][1]
    expect(int.from_bytes(init[18:22], "big") == init_mid, "the Init's message id is not the generator's")
    expect(int.from_bytes(response[18:22], "big") == response_mid, "the Response's message id")
    a, b = establish({
        "initiator": v["initiator"], "responder": v["responder"], "ephemeral_seed": ephemeral_seed.hex(),
        "init": init.hex(), "response": response.hex(), "initiator_tag": tag_i, "responder_tag": tag_r,
        "hop_limit": v["hop_limit"]})
    for ack, of in ((1, 0), (3, 2), (5, 4), (7, 6)):
        expect(wire[ack][1] == hop_ack(wire[of][1]), f"datagram {ack} is not the HopAck of datagram {of}")
    # The receipt returns the key the Data carried (10 §12.3): 16 bytes.
    ini = Identity(v["initiator"])
    expect(receipt == bytes([0x27, v["hop_limit"]]) + ini.address + receipt_mid.to_bytes(4, "big") + receipt[22:]
           and len(receipt) == 38, "the Receipt's header")
    a.export()  # the node exported its state before sending (§A.7)
    plaintext = bytes([0x01]) + receipt[22:] + bytes.fromhex(v["content"])
    expect(a.seal(plaintext, v["hop_limit"]) == data, "the Data is not the session's seal of the MeshData")
    got = b.open(data)
    expect(got["content"] == plaintext.hex(), "the responder opens other content")


SESSION_CHECKS = {
    "establish": lambda v: establish(v) and None,
    "accept": check_accept,
    "transcript": check_transcript,
    "node_session": check_node_session,
}


# --------------------------------------------------------------------------
# Part B: MLS-Lite
# --------------------------------------------------------------------------

LITE_OVERHEAD, WINDOW = 23, 64


def lite_keys(secret, sender):
    i = sender.to_bytes(2, "big")
    return expand(secret, b"qpc mls-lite key v1" + i, 32), expand(secret, b"qpc mls-lite nonce v1" + i, 12)


def lite_nonce(base, counter):
    return base[:8] + bytes(a ^ b for a, b in zip(base[8:], counter.to_bytes(4, "big")))


def lite_seal(member, counter, content):
    secret = bytes.fromhex(member["secret"])
    header = bytes([member["epoch"] % 256]) + member["own_index"].to_bytes(2, "big") + counter.to_bytes(4, "big")
    key, base = lite_keys(secret, member["own_index"])
    return header + aead_seal(key, lite_nonce(base, counter), header, content)


class LiteEpoch:
    def __init__(self, member):
        self.epoch, self.secret = member["epoch"], bytes.fromhex(member["secret"])
        self.members, self.own = member["members"], member["own_index"]
        self.windows = {}  # sender -> (highest, set of accepted counters)


class LiteReceiver:
    def __init__(self, member, grace_ms):
        self.current, self.previous, self.grace = LiteEpoch(member), None, grace_ms

    def advance(self, member, now):
        self.previous = (self.current, now + self.grace)
        self.current = LiteEpoch(member)

    def open(self, m, now):
        if len(m) < LITE_OVERHEAD:  # G1
            raise Reject("truncated")
        if len(m) > LITE_OVERHEAD + 1024:
            raise Reject("content_too_long")
        epoch_id, sender, counter = m[0], int.from_bytes(m[1:3], "big"), int.from_bytes(m[3:7], "big")
        in_previous = (epoch_id != self.current.epoch % 256 and self.previous is not None
                       and self.previous[0].epoch % 256 == epoch_id and now < self.previous[1])
        if epoch_id != self.current.epoch % 256 and not in_previous:  # G2
            raise Reject("wrong_epoch")
        e = self.previous[0] if in_previous else self.current
        if sender >= e.members:  # G3
            raise Reject("unknown_member")
        if not in_previous and sender == self.current.own:  # G4
            raise Reject("replayed")
        highest, seen = e.windows.get(sender, (None, set()))
        if highest is not None and counter <= highest:  # G5
            if highest - counter >= WINDOW:
                raise Reject("too_old")
            if counter in seen:
                raise Reject("replayed")
        key, base = lite_keys(e.secret, sender)
        content = aead_open(key, lite_nonce(base, counter), m[:7], m[7:])  # G6
        highest = counter if highest is None else max(highest, counter)
        e.windows[sender] = (highest, {c for c in seen | {counter} if highest - c < WINDOW})
        return {"sender": sender, "counter": counter, "epoch": e.epoch, "content": content.hex()}


def check_lite_derive(v):
    secret = bytes.fromhex(v["secret"])
    key, nonce = lite_keys(secret, v["sender"])
    expect(expand(secret, b"qpc mls-lite destination v1", 16).hex() == v["destination"], "destination")
    expect((key.hex(), nonce.hex()) == (v["key"], v["nonce"]), "key or nonce")


def check_lite_seal(v):
    got = lite_seal(v["member"], v["counter"], bytes.fromhex(v["content"]))
    expect(got.hex() == v["message"], "message")
    expect(len(got) == LITE_OVERHEAD + len(v["content"]) // 2, "overhead")


def check_lite_receive(v):
    r = LiteReceiver(v["receiver"], v["grace_ms"])
    for i, s in enumerate(v["steps"]):
        if s["op"] == "advance":
            r.advance(s["member"], s["now"])
            continue
        got, err = outcome(lambda: r.open(bytes.fromhex(s["message"]), s["now"]))
        expect((got, err) == (s.get("opened"), s.get("expected_error")), f"step {i}: got {got} / {err}")


GROUP_LITE_TYPE = 0xB


def lite_destination(member):
    return expand(bytes.fromhex(member["secret"]), b"qpc mls-lite destination v1", 16)


def check_lite_carry(v):
    """spec/12 §B.12, 10 §12.8: the originator's mesh header (version 1, no
    hop id, type 0xb, hop count 0), the epoch's destination, then §B.3."""
    header = (bytes([1 << 5 | GROUP_LITE_TYPE, v["hop_limit"]]) + lite_destination(v["member"])
              + v["message_id"].to_bytes(4, "big"))
    body = lite_seal(v["member"], 0, bytes.fromhex(v["content"]))
    expect((header + body).hex() == v["datagram"], "datagram")
    expect(len(header + body) == 22 + LITE_OVERHEAD + len(v["content"]) // 2, "overhead")


def check_lite_carriage_receive(v):
    """A node's receive path (§B.12): a datagram for no epoch of the group
    is only relayed (`not_for_group`); else G1–G6 on the body."""
    r = LiteReceiver(v["receiver"], 0)
    destination = lite_destination(v["receiver"])

    def receive(d, now):
        kind, _, dest, _, body = parse_envelope(d)
        expect(kind == GROUP_LITE_TYPE, "a GroupLite datagram")
        if dest != destination:
            raise Reject("not_for_group")
        if not body:
            raise Reject("truncated")
        opened = r.open(body, now)
        return {"sender": opened["sender"], "epoch": opened["epoch"], "content": opened["content"]}

    for i, s in enumerate(v["steps"]):
        got, err = outcome(lambda: receive(bytes.fromhex(s["datagram"]), s["now"]))
        expect((got, err) == (s.get("delivered"), s.get("expected_error")), f"step {i}: got {got} / {err}")


LITE_CHECKS = {"derive": check_lite_derive, "seal": check_lite_seal, "receive": check_lite_receive,
               "carry": check_lite_carry, "carriage_receive": check_lite_carriage_receive}


# --------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------

SPEC = os.path.join(os.path.dirname(VECTORS), "spec", "12-mls-lite.md")


def worked_example(section):
    """The hex of the second code block of spec §C.x (first token per line)."""
    text = open(SPEC, encoding="utf-8").read().split(f"## {section} ")[1]
    block = text.split("```")[3]
    return "".join(line.split()[0] for line in block.strip().splitlines())


def check_worked_example(data):
    """§C.1 is the `ping` Data of transcript-ratchet; §C.2 is seal-4-bytes."""
    if data["protocol"] == "qpc-mesh-lora-session":
        steps = [v for v in data["vectors"] if v["name"] == "transcript-ratchet"][0]["steps"]
        want = [s["datagram"] for s in steps if s["op"] == "seal" and s["content"] == b"ping".hex()][0]
        return worked_example("C.1") == want
    return worked_example("C.2") == [v for v in data["vectors"] if v["name"] == "seal-4-bytes"][0]["message"]


def spec_worked_example(doc):
    if not check_worked_example(doc):
        return "spec/12 §C differs from the vector"


def checks_of(doc):
    """The file's checks by kind; each signals failure by raising."""
    table = {"qpc-mesh-lora-session": SESSION_CHECKS, "qpc-mesh-mls-lite": LITE_CHECKS}[doc["protocol"]]
    return {kind: (lambda v, check=check: check(v) and None) for kind, check in table.items()}


if __name__ == "__main__":
    defaults = [os.path.join(VECTORS, "lora_session.json"), os.path.join(VECTORS, "mls_lite.json")]
    sys.exit(vector_runner.main(sys.argv, defaults, checks_of,
                                file_checks=[("worked example", spec_worked_example)]))
