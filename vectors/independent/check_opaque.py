#!/usr/bin/env python3
"""Independent checker for vectors/opaque.json (spec/08-opaque.md).

Written from spec/08-opaque.md, RFC 9807 (OPAQUE), RFC 9497 (OPRF),
RFC 9496 (ristretto255) and RFC 9380 (expand_message_xmd); it shares no code
with the Rust crates and never calls them. ristretto255 is implemented here
in pure Python (field arithmetic on Python integers); SHA-512, HMAC and HKDF
come from hashlib/hmac; Argon2id from argon2-cffi.

It first runs the RFC 9807 vectors (vectors/upstream/opaque-rfc9807-vectors.json)
of the ristretto255 / 3DH / Identity-KSF configuration, real and fake, then
every vector of opaque.json, after validating it against opaque.schema.json.

    python3 vectors/independent/check_opaque.py [vectors/opaque.json]

Exit status: 0 all pass, 1 any failure, 2 a required package is missing.
"""

import hashlib
import hmac
import json
import os
import sys

import vector_runner

try:
    from argon2.low_level import Type, hash_secret_raw
except ImportError as e:  # pragma: no cover
    print(f"missing package: {e} (pip install jsonschema argon2-cffi)")
    sys.exit(2)

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.dirname(HERE)

# ---------------------------------------------------------------------------
# ristretto255 (RFC 9496)

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def is_negative(x):
    return (x % P) & 1


def ct_abs(x):
    x %= P
    return (P - x) % P if is_negative(x) else x


def sqrt_ratio_m1(u, v):
    u %= P
    v %= P
    r = (u * pow(v, 3, P)) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    check = v * r * r % P
    correct = check == u
    flipped = check == (-u) % P
    flipped_i = check == (-u * SQRT_M1) % P
    if flipped or flipped_i:
        r = r * SQRT_M1 % P
    return (correct or flipped), ct_abs(r)


# The constants as RFC 9496 §4.1 lists them (SQRT_AD_MINUS_ONE is the odd
# square root of a*d - 1, so it cannot be recomputed with CT_ABS).
SQRT_AD_MINUS_ONE = 25063068953384623474111414158702152701244531502492656460079210482610430750235
INVSQRT_A_MINUS_D = 54469307008909316920995813868745141605393597292927456921205312896311721017578
assert SQRT_AD_MINUS_ONE**2 % P == (-D - 1) % P
assert INVSQRT_A_MINUS_D**2 * (-1 - D) % P == 1
ONE_MINUS_D_SQ = (1 - D * D) % P
D_MINUS_ONE_SQ = (D - 1) * (D - 1) % P

IDENTITY = (0, 1, 1, 0)


def decode(b):
    """Decodes 32 bytes to an extended point; None if not canonical."""
    if len(b) != 32:
        return None
    s = int.from_bytes(b, "little")
    if s >= P or is_negative(s):
        return None
    ss = s * s % P
    u1 = (1 - ss) % P
    u2 = (1 + ss) % P
    u2_sqr = u2 * u2 % P
    v = (-(D * u1 * u1) - u2_sqr) % P
    was_square, invsqrt = sqrt_ratio_m1(1, v * u2_sqr)
    den_x = invsqrt * u2 % P
    den_y = invsqrt * den_x * v % P
    x = ct_abs(2 * s * den_x)
    y = u1 * den_y % P
    t = x * y % P
    if not was_square or is_negative(t) or y == 0:
        return None
    return (x, y, 1, t)


def encode(pt):
    x0, y0, z0, t0 = pt
    u1 = (z0 + y0) * (z0 - y0) % P
    u2 = x0 * y0 % P
    _, invsqrt = sqrt_ratio_m1(1, u1 * u2 * u2)
    den1 = invsqrt * u1 % P
    den2 = invsqrt * u2 % P
    z_inv = den1 * den2 * t0 % P
    rotate = is_negative(t0 * z_inv)
    if rotate:
        x, y = y0 * SQRT_M1 % P, x0 * SQRT_M1 % P
        den_inv = den1 * INVSQRT_A_MINUS_D % P
    else:
        x, y = x0, y0
        den_inv = den2
    if is_negative(x * z_inv):
        y = (-y) % P
    s = ct_abs(den_inv * (z0 - y))
    return s.to_bytes(32, "little")


def add(p1, p2):
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * 2 * D * t2 % P
    d = z1 * 2 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def mul(k, pt):
    result = IDENTITY
    k %= L
    while k:
        if k & 1:
            result = add(result, pt)
        pt = add(pt, pt)
        k >>= 1
    return result


def map_to_point(t):
    r = SQRT_M1 * t * t % P
    u = (r + 1) * ONE_MINUS_D_SQ % P
    v = (-1 - r * D) * (r + D) % P
    was_square, s = sqrt_ratio_m1(u, v)
    s_prime = (-ct_abs(s * t)) % P
    if not was_square:
        s = s_prime
    c = P - 1 if was_square else r
    n = (c * (r - 1) * D_MINUS_ONE_SQ - v) % P
    w0 = 2 * s * v % P
    w1 = n * SQRT_AD_MINUS_ONE % P
    w2 = (1 - s * s) % P
    w3 = (1 + s * s) % P
    return (w0 * w3 % P, w2 * w1 % P, w1 * w3 % P, w0 * w2 % P)


def from_uniform(b64):
    r0 = int.from_bytes(b64[:32], "little") & ((1 << 255) - 1)
    r1 = int.from_bytes(b64[32:], "little") & ((1 << 255) - 1)
    return add(map_to_point(r0 % P), map_to_point(r1 % P))


BASE = decode(bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76"))


def element(b):
    """An element in a message: canonical and not the identity."""
    pt = decode(b)
    if pt is None or b == bytes(32):
        raise Failure("invalid_element")
    return pt


class Failure(Exception):
    """A rejection, carrying the spec's error class."""

    def __init__(self, cls):
        super().__init__(cls)
        self.cls = cls


# ---------------------------------------------------------------------------
# Hashing, HKDF, OPRF (RFC 9380, 5869, 9497)


def i2osp(n, length):
    return n.to_bytes(length, "big")


def expand_message_xmd(msg, dst, length):
    b_in_bytes, r_in_bytes = 64, 128
    ell = -(-length // b_in_bytes)
    dst_prime = dst + i2osp(len(dst), 1)
    b0 = hashlib.sha512(bytes(r_in_bytes) + msg + i2osp(length, 2) + b"\0" + dst_prime).digest()
    bs = [hashlib.sha512(b0 + b"\1" + dst_prime).digest()]
    for i in range(2, ell + 1):
        prev = bytes(a ^ b for a, b in zip(b0, bs[-1]))
        bs.append(hashlib.sha512(prev + i2osp(i, 1) + dst_prime).digest())
    return b"".join(bs)[:length]


CONTEXT_STRING = b"OPRFV1-" + b"\x00" + b"-ristretto255-SHA512"


def hash_to_group(msg):
    return from_uniform(expand_message_xmd(msg, b"HashToGroup-" + CONTEXT_STRING, 64))


def hash_to_scalar(msg, dst):
    return int.from_bytes(expand_message_xmd(msg, dst, 64), "little") % L


def derive_key_pair(seed, info):
    derive_input = seed + i2osp(len(info), 2) + info
    for counter in range(256):
        sk = hash_to_scalar(derive_input + i2osp(counter, 1), b"DeriveKeyPair" + CONTEXT_STRING)
        if sk != 0:
            return sk, encode(mul(sk, BASE))
    raise Failure("derive_key_pair")


def extract(salt, ikm):
    return hmac.new(salt or bytes(64), ikm, hashlib.sha512).digest()


def expand(prk, info, length):
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha512).digest()
        out += block
        i += 1
    return out[:length]


def mac(key, msg):
    return hmac.new(key, msg, hashlib.sha512).digest()


def scalar(b):
    s = int.from_bytes(b, "little")
    assert 0 < s < L, "scalar out of range"
    return s


def blind(password, r):
    return encode(mul(r, hash_to_group(password)))


def finalize(password, r, evaluated):
    unblinded = encode(mul(pow(r, L - 2, L), element(evaluated)))
    return hashlib.sha512(
        i2osp(len(password), 2) + password + i2osp(len(unblinded), 2) + unblinded + b"Finalize"
    ).digest()


# ---------------------------------------------------------------------------
# OPAQUE (RFC 9807) with qpc's profile (spec/08-opaque.md §2)


class Config:
    def __init__(self, context, client_identity=None, server_identity=None, argon2id=None):
        self.context = context
        self.client_identity = client_identity
        self.server_identity = server_identity
        self.argon2id = argon2id  # None: Identity KSF

    def ksf(self, y):
        if self.argon2id is None:
            return y
        a = self.argon2id
        return hash_secret_raw(
            secret=y,
            salt=bytes(16),
            time_cost=a["iterations"],
            memory_cost=a["memory_kib"],
            parallelism=a["parallelism"],
            hash_len=64,
            type=Type.ID,
            version=19,
        )


def dh_keypair(seed):
    return derive_key_pair(seed, b"OPAQUE-DeriveDiffieHellmanKeyPair")


def oprf_key(oprf_seed, credential_identifier):
    seed = expand(oprf_seed, credential_identifier + b"OprfKey", 32)
    return derive_key_pair(seed, b"OPAQUE-DeriveKeyPair")[0]


def randomized_password(cfg, password, r, evaluated):
    y = finalize(password, r, evaluated)
    return extract(b"", y + cfg.ksf(y))


def cleartext_credentials(cfg, server_pk, client_pk):
    sid = cfg.server_identity if cfg.server_identity is not None else server_pk
    cid = cfg.client_identity if cfg.client_identity is not None else client_pk
    return server_pk + i2osp(len(sid), 2) + sid + i2osp(len(cid), 2) + cid


def envelope_keys(rwd, nonce):
    auth_key = expand(rwd, nonce + b"AuthKey", 64)
    export_key = expand(rwd, nonce + b"ExportKey", 64)
    sk, pk = dh_keypair(expand(rwd, nonce + b"PrivateKey", 32))
    return auth_key, export_key, sk, pk


def register(cfg, server_sk, oprf_seed, cid, password, r, envelope_nonce):
    server_pk = encode(mul(server_sk, BASE))
    request = blind(password, r)
    evaluated = encode(mul(oprf_key(oprf_seed, cid), element(request)))
    response = evaluated + server_pk
    rwd = randomized_password(cfg, password, r, evaluated)
    auth_key, export_key, _, client_pk = envelope_keys(rwd, envelope_nonce)
    tag = mac(auth_key, envelope_nonce + cleartext_credentials(cfg, server_pk, client_pk))
    masking_key = expand(rwd, b"MaskingKey", 64)
    record = client_pk + masking_key + envelope_nonce + tag
    return request, response, record, export_key


def ke1(password, r, client_keyshare_seed, client_nonce):
    esk, epk = dh_keypair(client_keyshare_seed)
    return blind(password, r) + client_nonce + epk, esk


def expand_label(secret, label, context, length):
    label = b"OPAQUE-" + label
    info = i2osp(length, 2) + i2osp(len(label), 1) + label + i2osp(len(context), 1) + context
    return expand(secret, info, length)


def derive_keys(ikm, preamble):
    prk = extract(b"", ikm)
    h = hashlib.sha512(preamble).digest()
    handshake_secret = expand_label(prk, b"HandshakeSecret", h, 64)
    session_key = expand_label(prk, b"SessionKey", h, 64)
    km2 = expand_label(handshake_secret, b"ServerMAC", b"", 64)
    km3 = expand_label(handshake_secret, b"ClientMAC", b"", 64)
    return km2, km3, session_key


def preamble(cfg, client_id, ke1_bytes, server_id, credential_response, server_nonce, server_epk):
    c = cfg.context
    return (
        b"OPAQUEv1-" + i2osp(len(c), 2) + c
        + i2osp(len(client_id), 2) + client_id + ke1_bytes
        + i2osp(len(server_id), 2) + server_id
        + credential_response + server_nonce + server_epk
    )


def ke2(cfg, server_sk, oprf_seed, cid, record, ke1_bytes, masking_nonce, keyshare_seed, server_nonce):
    """record: (client_pk, masking_key, envelope) -- real or fake."""
    client_pk, masking_key, envelope = record
    server_pk = encode(mul(server_sk, BASE))
    blinded = element(ke1_bytes[:32])
    client_epk = element(ke1_bytes[64:96])
    evaluated = encode(mul(oprf_key(oprf_seed, cid), blinded))
    pad = expand(masking_key, masking_nonce + b"CredentialResponsePad", 32 + 96)
    masked = bytes(a ^ b for a, b in zip(pad, server_pk + envelope))
    credential_response = evaluated + masking_nonce + masked
    esk, epk = dh_keypair(keyshare_seed)
    sid = cfg.server_identity if cfg.server_identity is not None else server_pk
    cid_ = cfg.client_identity if cfg.client_identity is not None else client_pk
    pre = preamble(cfg, cid_, ke1_bytes, sid, credential_response, server_nonce, epk)
    ikm = (
        encode(mul(esk, client_epk))
        + encode(mul(server_sk, client_epk))
        + encode(mul(esk, element(client_pk)))
    )
    km2, km3, session_key = derive_keys(ikm, pre)
    server_mac = mac(km2, hashlib.sha512(pre).digest())
    expected_client_mac = mac(km3, hashlib.sha512(pre + server_mac).digest())
    return credential_response + server_nonce + epk + server_mac, expected_client_mac, session_key


def client_finish(cfg, password, r, ke1_bytes, client_esk, ke2_bytes):
    """Returns (ke3, session_key, export_key) or raises Failure."""
    evaluated = ke2_bytes[:32]
    element(evaluated)
    element(ke2_bytes[224:256])
    if evaluated == ke1_bytes[:32]:
        raise Failure("login_failed")  # reflected
    masking_nonce = ke2_bytes[32:64]
    masked = ke2_bytes[64:192]
    server_nonce = ke2_bytes[192:224]
    server_epk = ke2_bytes[224:256]
    server_mac = ke2_bytes[256:320]
    rwd = randomized_password(cfg, password, r, evaluated)
    masking_key = expand(rwd, b"MaskingKey", 64)
    pad = expand(masking_key, masking_nonce + b"CredentialResponsePad", 128)
    unmasked = bytes(a ^ b for a, b in zip(pad, masked))
    server_pk, envelope_nonce, tag = unmasked[:32], unmasked[32:64], unmasked[64:]
    if decode(server_pk) is None or server_pk == bytes(32):
        raise Failure("login_failed")
    auth_key, export_key, client_sk, client_pk = envelope_keys(rwd, envelope_nonce)
    expected = mac(auth_key, envelope_nonce + cleartext_credentials(cfg, server_pk, client_pk))
    if not hmac.compare_digest(expected, tag):
        raise Failure("login_failed")
    sid = cfg.server_identity if cfg.server_identity is not None else server_pk
    cid = cfg.client_identity if cfg.client_identity is not None else client_pk
    pre = preamble(cfg, cid, ke1_bytes, sid, ke2_bytes[:192], server_nonce, server_epk)
    sepk = element(server_epk)
    ikm = (
        encode(mul(client_esk, sepk))
        + encode(mul(client_esk, element(server_pk)))
        + encode(mul(client_sk, sepk))
    )
    km2, km3, session_key = derive_keys(ikm, pre)
    if not hmac.compare_digest(mac(km2, hashlib.sha512(pre).digest()), server_mac):
        raise Failure("login_failed")
    ke3 = mac(km3, hashlib.sha512(pre + server_mac).digest())
    return ke3, session_key, export_key


# ---------------------------------------------------------------------------
# Frames (spec/01-wire.md §4) and stored formats (spec/08-opaque.md §4, §5)

FRAME_TYPES = {
    "registration_request": (0x0110, 32),
    "registration_response": (0x0111, 64),
    "registration_record": (0x0112, 192),
    "ke1": (0x0113, 96),
    "ke2": (0x0114, 320),
    "ke3": (0x0115, 64),
}
REGISTERED = {0x0001, 0x0002, 0x0101, 0x0102, 0x0103, 0x0104, 0x0105} | {
    t for t, _ in FRAME_TYPES.values()
}
ELEMENTS = {
    "registration_request": [0],
    "registration_response": [0, 32],
    "registration_record": [0],
    "ke1": [0, 64],
    "ke2": [0, 224],
    "ke3": [],
}
MAX_BODY = 320


def varint(b, at):
    """MLS varint at b[at:]; returns (value, length)."""
    if at >= len(b):
        raise Failure("truncated")
    prefix = b[at] >> 6
    if prefix == 3:
        raise Failure("invalid_length_prefix")
    n = 1 << prefix
    if at + n > len(b):
        raise Failure("truncated")
    v = int.from_bytes(b[at:at + n], "big") & ((1 << (8 * n - 2)) - 1)
    if (n == 2 and v < 64) or (n == 4 and v < 16384):
        raise Failure("non_minimal_length")
    return v, n


def frame(frame_type, body):
    n = len(body)
    length = bytes([n]) if n < 64 else i2osp(0x4000 | n, 2)
    return b"\x01" + i2osp(frame_type, 2) + length + body


def unframe(name, b):
    expected_type, length = FRAME_TYPES[name]
    if not b:
        raise Failure("truncated")
    if b[0] != 1:
        raise Failure("unknown_version")
    if len(b) < 3:
        raise Failure("truncated")
    t = int.from_bytes(b[1:3], "big")
    if t not in REGISTERED:
        raise Failure("unknown_frame_type")
    body_len, n = varint(b, 3)
    if body_len > MAX_BODY:
        raise Failure("frame_too_large")
    end = 3 + n + body_len
    if len(b) < end:
        raise Failure("truncated")
    if len(b) > end:
        raise Failure("trailing_bytes")
    if t != expected_type:
        raise Failure("unexpected_frame")
    body = b[3 + n:]
    if len(body) != length:
        raise Failure("wrong_length")
    for off in ELEMENTS[name]:
        element(body[off:off + 32])
    return body


def stored_record(record, suite):
    return bytes([1, suite]) + i2osp(0x4000 | len(record), 2) + record


def parse_stored_record(b, suite=1):
    if not b:
        raise Failure("truncated")
    if b[0] != 1:
        raise Failure("unknown_version")
    if len(b) < 2:
        raise Failure("truncated")
    if b[1] != suite:
        raise Failure("unknown_suite")
    n, k = varint(b, 2)
    if n > 1024:
        raise Failure("too_many_items")
    end = 2 + k + n
    if len(b) < end:
        raise Failure("truncated")
    if len(b) > end:
        raise Failure("trailing_bytes")
    reg = b[2 + k:]
    if len(reg) != 192:
        raise Failure("wrong_length")
    element(reg[:32])
    return reg


def stored_keys(oprf_seed, server_sk, fake_pk, suite):
    return bytes([1, suite]) + oprf_seed + server_sk.to_bytes(32, "little") + fake_pk


def parse_stored_keys(b, suite=1):
    if len(b) != 130:
        raise Failure("wrong_length")
    if b[0] != 1:
        raise Failure("unknown_version")
    if b[1] != suite:
        raise Failure("unknown_suite")
    sk = int.from_bytes(b[66:98], "little")
    if not 0 < sk < L or decode(b[98:]) is None or b[98:] == bytes(32):
        raise Failure("invalid_config")


FAKE_ENVELOPE = bytes(96)

# ---------------------------------------------------------------------------
# The RFC 9807 vectors


def check_rfc():
    path = os.path.join(VECTORS, "upstream", "opaque-rfc9807-vectors.json")
    vectors = json.load(open(path))
    ran = 0
    for v in vectors:
        c = v["config"]
        if (c["Group"], c["OPRF"], c["KSF"], c["Name"]) != ("ristretto255", "ristretto255-SHA512", "Identity", "3DH"):
            continue
        i = {k: bytes.fromhex(x) for k, x in v["inputs"].items()}
        o = {k: bytes.fromhex(x) for k, x in v["outputs"].items()}
        cfg = Config(bytes.fromhex(c["Context"]), i.get("client_identity"), i.get("server_identity"))
        server_sk = scalar(i["server_private_key"])
        assert encode(mul(server_sk, BASE)) == i["server_public_key"]
        cid = i["credential_identifier"]
        if c["Fake"] == "True":
            fake_pk = encode(mul(scalar(i["client_private_key"]), BASE))
            assert fake_pk == i["client_public_key"]
            got, _, _ = ke2(cfg, server_sk, i["oprf_seed"], cid, (fake_pk, i["masking_key"], FAKE_ENVELOPE),
                            i["KE1"], i["masking_nonce"], i["server_keyshare_seed"], i["server_nonce"])
            assert got == o["KE2"], "RFC fake KE2"
        else:
            req, resp, rec, export_key = register(cfg, server_sk, i["oprf_seed"], cid, i["password"],
                                                  scalar(i["blind_registration"]), i["envelope_nonce"])
            assert req == o["registration_request"], "RFC registration_request"
            assert resp == o["registration_response"], "RFC registration_response"
            assert rec == o["registration_upload"], "RFC registration_upload"
            assert export_key == o["export_key"], "RFC export_key"
            r = scalar(i["blind_login"])
            k1, esk = ke1(i["password"], r, i["client_keyshare_seed"], i["client_nonce"])
            assert k1 == o["KE1"], "RFC KE1"
            k2, expected_mac, session_key = ke2(cfg, server_sk, i["oprf_seed"], cid, (rec[:32], rec[32:96], rec[96:]),
                                                k1, i["masking_nonce"], i["server_keyshare_seed"], i["server_nonce"])
            assert k2 == o["KE2"], "RFC KE2"
            k3, sk_client, ek = client_finish(cfg, i["password"], r, k1, esk, k2)
            assert k3 == o["KE3"] == expected_mac, "RFC KE3"
            assert sk_client == session_key == o["session_key"], "RFC session_key"
            assert ek == o["export_key"]
        ran += 1
    assert ran == 3, f"expected 3 ristretto255 RFC vectors, ran {ran}"
    return ran


# ---------------------------------------------------------------------------
# opaque.json


def h(x):
    return bytes.fromhex(x)


def opt(v, k):
    return h(v[k]) if k in v else None


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


def tamper(body, t):
    if not t:
        return body
    b = bytearray(body)
    b[t["offset"]] ^= t["xor"]
    return bytes(b)


def check_login(v):
    suite = v["suite"]
    expect((suite == 1) == ("argon2id" in v), "argon2id parameters iff suite 1")
    expect(suite in (1, 255), "suite")
    cfg = Config(h(v["context"]), opt(v, "client_identity"), opt(v, "server_identity"), v.get("argon2id"))
    s = v["server"]
    server_sk = scalar(h(s["private_key"]))
    oprf_seed = h(s["oprf_seed"])
    fake_pk = encode(mul(scalar(h(s["fake_private_key"])), BASE))
    expect(encode(mul(server_sk, BASE)) == h(s["public_key"]), "server public_key")
    expect(stored_keys(oprf_seed, server_sk, fake_pk, suite) == h(s["stored_keys"]), "stored_keys")
    cid = h(v["credential_identifier"])
    reg = v.get("registration")
    if reg is not None:
        req, resp, rec, export_key = register(cfg, server_sk, oprf_seed, cid, h(reg["password"]),
                                              scalar(h(reg["blind"])), h(reg["envelope_nonce"]))
        expect(frame(0x0110, req) == h(reg["request_frame"]), "request_frame")
        expect(frame(0x0111, resp) == h(reg["response_frame"]), "response_frame")
        expect(frame(0x0112, rec) == h(reg["record_frame"]), "record_frame")
        expect(stored_record(rec, suite) == h(reg["stored_record"]), "stored_record")
        expect(export_key == h(reg["export_key"]), "registration export_key")
        record = (rec[:32], rec[32:96], rec[96:])
    l = v["login"]
    if reg is None:
        record = (fake_pk, h(l["fake_masking_key"]), FAKE_ENVELOPE)
    r = scalar(h(l["blind"]))
    k1, esk = ke1(h(l["password"]), r, h(l["client_keyshare_seed"]), h(l["client_nonce"]))
    expect(frame(0x0113, k1) == h(l["ke1_frame"]), "ke1_frame")
    k2, expected_mac, session_key = ke2(cfg, server_sk, oprf_seed, cid, record, k1, h(l["masking_nonce"]),
                                        h(l["server_keyshare_seed"]), h(l["server_nonce"]))
    expect(frame(0x0114, k2) == h(l["ke2_frame"]), "ke2_frame")
    server_state = "awaiting_ke3"
    try:
        delivered = unframe("ke2", frame(0x0114, tamper(k2, l.get("ke2_tamper"))))
        k3, sk_client, ek = client_finish(cfg, h(l["password"]), r, k1, esk, delivered)
        client_error = None
    except Failure as f:
        client_error = f.cls
    expect(client_error == l.get("client_expected_error"), f"client outcome {client_error}")
    if client_error is None:
        expect(frame(0x0115, k3) == h(l["ke3_frame"]), "ke3_frame")
        expect(ek == h(l["export_key"]), "login export_key")
        if reg is not None:
            expect(ek == h(reg["export_key"]), "export key stable across registration and login")
        received = unframe("ke3", frame(0x0115, tamper(k3, l.get("ke3_tamper"))))
        if hmac.compare_digest(received, expected_mac):
            server_state, server_error = "finished", None
            expect(sk_client == session_key == h(l["session_key"]), "session_key")
        else:
            server_state, server_error = "failed", "login_failed"
            expect("session_key" not in l, "no session key after a failed KE3")
        expect(server_error == l.get("server_expected_error"), f"server outcome {server_error}")
    else:
        for k in ("ke3_frame", "session_key", "export_key", "server_expected_error"):
            expect(k not in l, f"{k} after a failed client finish")
    # Replays: a server login accepts KE1 only first and KE3 only second.
    for rp in l.get("replays", []):
        expect(server_state in ("finished", "failed"), "replays follow the end of the login")
        expect(rp["expected_error"] == "wrong_state", "a replay into a finished login is wrong_state")


def check_decode(v):
    name, b = v["message"], h(v["encoding"])
    try:
        if name in FRAME_TYPES:
            unframe(name, b)
        elif name == "stored_record":
            parse_stored_record(b)
        elif name == "server_keys":
            parse_stored_keys(b)
        else:
            raise AssertionError(f"unknown message {name}")
        got = None
    except Failure as f:
        got = f.cls
    expect(got == v.get("expected_error"), f"decode gave {got}, want {v.get('expected_error')}")


def self_test():
    # Base point encodes back; 2*B from the ristretto255 RFC 9496 A.1 list.
    assert encode(BASE) == bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")
    assert encode(mul(2, BASE)) == bytes.fromhex("6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919")
    assert encode(IDENTITY) == bytes(32)
    assert decode(bytes([1]) + bytes(31)) is None  # negative s
    assert decode(b"\xff" * 32) is None  # non-canonical


def rfc_vectors():
    print(f"RFC 9807 vectors (ristretto255, Identity KSF): {check_rfc()} passed")


if __name__ == "__main__":
    sys.exit(vector_runner.main(sys.argv, [os.path.join(VECTORS, "opaque.json")],
                                {"login": check_login, "decode": check_decode}, [self_test, rfc_vectors]))
