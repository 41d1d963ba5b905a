#!/usr/bin/env python3
"""Independent checker for qpc's crypto vectors: identity.json, xwing.json,
hpke.json and padding.json.

Written from spec/02-identity.md, spec/03-hybrid-kem-hpke.md and
spec/04-padding.md (and the standards they cite: RFC 8032, RFC 7748,
FIPS 203, draft-connolly-cfrg-xwing-kem-06, RFC 9180, draft-ietf-hpke-pq),
in Python 3 with hashlib/hmac, the `cryptography` package (>= 47: Ed25519,
X25519, ML-KEM-768, ChaCha20Poly1305) and `jsonschema`. It shares no code
with the Rust crates and never calls them.

What it cannot do with `cryptography` alone, and how it checks instead:
- ML-KEM encapsulation is not deterministic in `cryptography`, so an X-Wing
  ciphertext made from a fixed `eseed` is checked by decapsulating it with
  the recipient's key (a wrong ML-KEM ciphertext decapsulates, by implicit
  rejection, to an unrelated secret) and by recomputing its X25519 half
  from `eseed`.

Usage: python3 vectors/independent/check_crypto.py [FILE...]
(default: the four files in vectors/). Prints `<file>: N passed, M failed`
per file; exit status 0 if all pass, 1 on any failure, 2 if a dependency
is missing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS_DIR = os.path.dirname(HERE)
UPSTREAM_DIR = os.path.join(VECTORS_DIR, "upstream")
FILES = ["identity.json", "xwing.json", "hpke.json", "padding.json"]

try:
    import jsonschema
    from cryptography.exceptions import InvalidSignature, InvalidTag
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
except ImportError as e:  # pragma: no cover
    print(f"error: missing dependency ({e}).\n"
          "  pip install 'cryptography>=47' jsonschema", file=sys.stderr)
    sys.exit(2)

ERROR_CLASSES = frozenset({
    "wrong_length", "unknown_version", "invalid_public_key", "bad_signature",
    "non_contributory", "open_failed", "bad_padding", "too_long_to_pad",
})


class Reject(Exception):
    """An input the spec rejects; `cls` is the error class."""

    def __init__(self, cls: str, detail: str = ""):
        assert cls in ERROR_CLASSES, cls
        super().__init__(f"{cls}: {detail}" if detail else cls)
        self.cls = cls


def need_len(what: str, data: bytes, n: int) -> None:
    if len(data) != n:
        raise Reject("wrong_length", f"{what}: {len(data)} bytes, want {n}")


# ==========================================================================
# Ed25519 (RFC 8032) — point decoding and the strict rules of 02 §6
# ==========================================================================

P = 2**255 - 19
D = (-121665 * pow(121666, -1, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
L_ORDER = 2**252 + 27742317777372353535851937790883648493


def ed_decode(b: bytes):
    """RFC 8032 §5.1.3, strictly: y must be < p; x = 0 with sign 1 fails."""
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    sign = b[31] >> 7
    if y >= P:
        return None
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x2 = u * pow(v, P - 2, P) % P
    if x2 == 0:
        if sign:
            return None
        return (0, y)
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return (x, y)


def ed_add(p1, p2):
    (x1, y1), (x2, y2) = p1, p2
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + y1 * x2) * pow(1 + t, P - 2, P) % P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P
    return (x3, y3)


def ed_small_order(pt) -> bool:
    q = pt
    for _ in range(3):
        q = ed_add(q, q)
    return q == (0, 1)


def signing_key_check(key: bytes) -> None:
    """02 §3.3 / §6.3 step 1: a canonical, on-curve, not small-order point."""
    need_len("signing key", key, 32)
    pt = ed_decode(key)
    if pt is None:
        raise Reject("invalid_public_key", "not a canonical encoding of a curve point")
    if ed_small_order(pt):
        raise Reject("invalid_public_key", "small-order point")


def signed_bytes(context: str, message: bytes) -> bytes:
    label = context.encode("ascii")
    assert len(label) < 64  # one-byte varint
    return bytes([len(label)]) + label + message


def verify(signing_key: bytes, context: str, message: bytes, signature: bytes) -> None:
    """02 §6.3, in order."""
    signing_key_check(signing_key)
    need_len("signature", signature, 64)
    r, s = signature[:32], int.from_bytes(signature[32:], "little")
    if s >= L_ORDER:
        raise Reject("bad_signature", "S >= L")
    r_pt = ed_decode(r)
    if r_pt is None or ed_small_order(r_pt):
        raise Reject("bad_signature", "R is not a canonical point of large order")
    try:
        Ed25519PublicKey.from_public_bytes(signing_key).verify(signature, signed_bytes(context, message))
    except InvalidSignature:
        raise Reject("bad_signature", "equation fails") from None


def ed_public(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def sign(seed: bytes, context: str, message: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).sign(signed_bytes(context, message))


# ==========================================================================
# X-Wing (draft-connolly-cfrg-xwing-kem-06) with qpc's rules (03 §2)
# ==========================================================================

MLKEM_PK_LEN, MLKEM_CT_LEN = 1184, 1088
XWING_PK_LEN, XWING_CT_LEN = MLKEM_PK_LEN + 32, MLKEM_CT_LEN + 32
XWING_LABEL = bytes.fromhex("5c2e2f2f5e5c")
Q = 3329


def x25519(scalar: bytes, u: bytes) -> bytes:
    """X25519; an all-zero result (which `cryptography` refuses) is
    non_contributory (03 §2.3)."""
    try:
        return X25519PrivateKey.from_private_bytes(scalar).exchange(X25519PublicKey.from_public_bytes(u))
    except ValueError:
        raise Reject("non_contributory", "X25519 output is all zero") from None


def x25519_base(scalar: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(scalar).public_key().public_bytes_raw()


def mlkem_ek_check(ek: bytes) -> None:
    """FIPS 203 §7.2 modulus check: every 12-bit coefficient of t < q."""
    t = ek[:384 * 3]
    for i in range(0, len(t), 3):
        a, b, c = t[i], t[i + 1], t[i + 2]
        if (a | (b & 0x0F) << 8) >= Q or ((b >> 4) | c << 4) >= Q:
            raise Reject("invalid_public_key", f"ML-KEM coefficient >= q near byte {i}")


class XWingKey:
    """expandDecapsulationKey(seed)."""

    def __init__(self, seed: bytes):
        assert len(seed) == 32
        expanded = hashlib.shake_256(seed).digest(96)
        self.mlkem = MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        self.sk_x = expanded[64:]
        self.pk_x = x25519_base(self.sk_x)
        self.pk = self.mlkem.public_key().public_bytes_raw() + self.pk_x

    def decapsulate(self, ct: bytes) -> bytes:
        need_len("X-Wing ciphertext", ct, XWING_CT_LEN)
        ct_m, ct_x = ct[:MLKEM_CT_LEN], ct[MLKEM_CT_LEN:]
        ss_x = x25519(self.sk_x, ct_x)
        ss_m = self.mlkem.decapsulate(ct_m)
        return combiner(ss_m, ss_x, ct_x, self.pk_x)


def combiner(ss_m: bytes, ss_x: bytes, ct_x: bytes, pk_x: bytes) -> bytes:
    return hashlib.sha3_256(ss_m + ss_x + ct_x + pk_x + XWING_LABEL).digest()


def parse_xwing_pk(pk: bytes) -> None:
    need_len("X-Wing public key", pk, XWING_PK_LEN)
    mlkem_ek_check(pk[:MLKEM_PK_LEN])


def encapsulation_x25519(pk: bytes, eseed: bytes) -> bytes:
    """The X25519 half of encapsulation (03 §2.4 steps 1–3): ct_X, after
    the public-key checks; raises non_contributory."""
    parse_xwing_pk(pk)
    need_len("eseed", eseed, 64)
    x25519(eseed[32:], pk[MLKEM_PK_LEN:])
    return x25519_base(eseed[32:])


# ==========================================================================
# HPKE (RFC 9180 base mode; KEM 0x647a, HKDF-SHA256, ChaCha20Poly1305)
# ==========================================================================

KEM_ID, KDF_ID, AEAD_ID = 0x647A, 0x0001, 0x0003
SUITE_ID = b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big") + AEAD_ID.to_bytes(2, "big")
NK, NN, NH, NT = 32, 12, 32, 16


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or bytes(NH), ikm, hashlib.sha256).digest()


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    assert length <= 255 * NH
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out += t
        i += 1
    return out[:length]


def labeled_extract(salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hkdf_extract(salt, b"HPKE-v1" + SUITE_ID + label + ikm)


def labeled_expand(prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return hkdf_expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + SUITE_ID + label + info, length)


class HpkeContext:
    def __init__(self, shared_secret: bytes, info: bytes):
        psk_id_hash = labeled_extract(b"", b"psk_id_hash", b"")
        info_hash = labeled_extract(b"", b"info_hash", info)
        ksc = bytes([0]) + psk_id_hash + info_hash
        secret = labeled_extract(shared_secret, b"secret", b"")
        self.key = labeled_expand(secret, b"key", ksc, NK)
        self.base_nonce = labeled_expand(secret, b"base_nonce", ksc, NN)
        self.exporter_secret = labeled_expand(secret, b"exp", ksc, NH)
        self.seq = 0

    def nonce(self) -> bytes:
        seq = self.seq.to_bytes(NN, "big")
        return bytes(a ^ b for a, b in zip(self.base_nonce, seq))

    def seal(self, aad: bytes, pt: bytes) -> bytes:
        ct = ChaCha20Poly1305(self.key).encrypt(self.nonce(), pt, aad)
        self.seq += 1
        return ct

    def open(self, aad: bytes, ct: bytes) -> bytes:
        if len(ct) < NT:
            raise Reject("open_failed", "ciphertext shorter than the tag")
        try:
            pt = ChaCha20Poly1305(self.key).decrypt(self.nonce(), ct, aad)
        except InvalidTag:
            raise Reject("open_failed", "AEAD tag mismatch") from None
        self.seq += 1
        return pt

    def export(self, context: bytes, length: int) -> bytes:
        return labeled_expand(self.exporter_secret, b"sec", context, length)


def derive_key_pair_seed(ikm: bytes) -> bytes:
    """SHAKE256.LabeledDerive(ikm, "DeriveKeyPair", "", 32) (draft-ietf-hpke-pq)."""
    label = b"DeriveKeyPair"
    data = (ikm + b"HPKE-v1" + b"KEM" + KEM_ID.to_bytes(2, "big")
            + len(label).to_bytes(2, "big") + label + (32).to_bytes(2, "big"))
    return hashlib.shake_256(data).digest(32)


def hpke_open(seed: bytes, enc: bytes, info: bytes, aad: bytes, ct: bytes) -> bytes:
    """03 §3.5 single-shot open, checks in order."""
    key = XWingKey(seed)
    ss = key.decapsulate(enc)  # wrong_length, non_contributory
    return HpkeContext(ss, info).open(aad, ct)


# ==========================================================================
# Padding (04)
# ==========================================================================

MARKER = 0x80
LORA_BUCKETS = [24, 32, 48, 64, 96, 128, 160, 222]


def padme(length: int) -> int:
    if length < 2:
        return length
    e = length.bit_length() - 1           # floor(log2 L)
    s = e.bit_length()                    # floor(log2 E) + 1
    mask = (1 << (e - s)) - 1
    return (length + mask) & ~mask


def target(scheme: str, length: int) -> int:
    if scheme == "padme":
        return padme(length)
    for size in LORA_BUCKETS:
        if size >= length:
            return size
    raise Reject("too_long_to_pad", f"{length} > {LORA_BUCKETS[-1]}")


def pad(scheme: str, content: bytes) -> bytes:
    t = target(scheme, len(content) + 1)
    return content + bytes([MARKER]) + bytes(t - len(content) - 1)


def unpad(scheme: str, padded: bytes) -> bytes:
    stripped = padded.rstrip(b"\x00")
    if not stripped:
        raise Reject("bad_padding", "no marker")
    if stripped[-1] != MARKER:
        raise Reject("bad_padding", "last non-zero byte is not 0x80")
    n = len(stripped)  # content length + 1
    try:
        t = target(scheme, n)
    except Reject:
        raise Reject("bad_padding", "content too long for the scheme") from None
    if t != len(padded):
        raise Reject("bad_padding", f"length {len(padded)}, canonical {t}")
    return stripped[:-1]


# ==========================================================================
# Identity (02)
# ==========================================================================

IDENTITY_VERSION = 1
PUBLIC_IDENTITY_LEN = 1 + 32 + XWING_PK_LEN
SECRET_IDENTITY_LEN = 1 + 32 + 32
SAFETY_ITERATIONS = 5200


def address(signing_key: bytes, kem_key_digest: bytes) -> bytes:
    return hashlib.sha256(b"qpc address v1" + signing_key + kem_key_digest).digest()[:16]


def parse_public_identity(b: bytes):
    """02 §3.3; returns (signing_key, kem_key)."""
    need_len("public identity", b, PUBLIC_IDENTITY_LEN)
    if b[0] != IDENTITY_VERSION:
        raise Reject("unknown_version", f"version {b[0]}")
    signing_key, kem_key = b[1:33], b[33:]
    signing_key_check(signing_key)
    parse_xwing_pk(kem_key)
    try:  # 02 §3.3 step 5: pyca refuses an all-zero X25519 output
        X25519PrivateKey.from_private_bytes(b"\x55" * 32).exchange(X25519PublicKey.from_public_bytes(kem_key[-32:]))
    except ValueError:
        raise Reject("invalid_public_key", "X25519 half of small order") from None
    return signing_key, kem_key


def public_from_seeds(signing_seed: bytes, kem_seed: bytes) -> bytes:
    return bytes([IDENTITY_VERSION]) + ed_public(signing_seed) + XWingKey(kem_seed).pk


def fingerprint(signing_key: bytes, kem_key: bytes) -> str:
    digest = hashlib.sha256(kem_key).digest()
    h = hashlib.sha512(b"qpc safety number v1" + address(signing_key, digest) + signing_key + digest).digest()
    for _ in range(SAFETY_ITERATIONS):
        h = hashlib.sha512(h + signing_key + digest).digest()
    return "".join("%05d" % (int.from_bytes(h[i:i + 5], "big") % 100000) for i in range(0, 30, 5))


def safety_number(a: bytes, b: bytes) -> str:
    fa, fb = fingerprint(*parse_public_identity(a)), fingerprint(*parse_public_identity(b))
    return min(fa, fb) + max(fa, fb)


# ==========================================================================
# Vector checks: each returns a list of failure messages
# ==========================================================================

def h(v: dict, key: str) -> bytes:
    return bytes.fromhex(v[key])


def expect(errs: list, what: str, got, want) -> None:
    if got != want:
        g, w = (got.hex(), want.hex()) if isinstance(got, bytes) and isinstance(want, bytes) else (got, want)
        if isinstance(g, str) and len(g) > 80:
            g, w = g[:80] + "...", w[:80] + "..."
        errs.append(f"{what}: got {g}, want {w}")


def outcome(errs: list, v: dict, run, want) -> None:
    """Positive if `want` is given, else `expected_error`."""
    try:
        got = run()
    except Reject as e:
        if "expected_error" in v:
            expect(errs, "error class", e.cls, v["expected_error"])
        else:
            errs.append(f"rejected: {e}")
        return
    if "expected_error" in v:
        errs.append(f"accepted, want {v['expected_error']}")
    else:
        expect(errs, "result", got, want)


def check_identity(v: dict) -> list[str]:
    errs: list[str] = []
    k = v["kind"]
    if k == "identity":
        ss, ks = h(v, "signing_seed"), h(v, "kem_seed")
        public = public_from_seeds(ss, ks)
        expect(errs, "secret identity", h(v, "secret_identity"), bytes([1]) + ss + ks)
        expect(errs, "public identity", h(v, "public_identity"), public)
        signing_key, kem_key = parse_public_identity(public)
        digest = hashlib.sha256(kem_key).digest()
        expect(errs, "signing key", h(v, "signing_key"), signing_key)
        expect(errs, "kem key digest", h(v, "kem_key_digest"), digest)
        expect(errs, "address", h(v, "address"), address(signing_key, digest))
        expect(errs, "fingerprint", v["fingerprint"], fingerprint(signing_key, kem_key))
    elif k == "public_identity":
        def run():
            sk, kk = parse_public_identity(h(v, "encoded"))
            d = hashlib.sha256(kk).digest()
            return (address(sk, d).hex(), d.hex())
        outcome(errs, v, run, (v.get("address"), v.get("kem_key_digest")))
    elif k == "secret_identity":
        def run():
            b = h(v, "encoded")
            need_len("secret identity", b, SECRET_IDENTITY_LEN)
            if b[0] != IDENTITY_VERSION:
                raise Reject("unknown_version", f"version {b[0]}")
            return public_from_seeds(b[1:33], b[33:]).hex()
        outcome(errs, v, run, v.get("public_identity"))
    elif k == "address":
        expect(errs, "address", h(v, "address"), address(h(v, "signing_key"), h(v, "kem_key_digest")))
    elif k == "safety_number":
        a, b = h(v, "public_identity_a"), h(v, "public_identity_b")
        expect(errs, "safety number", safety_number(a, b), v["safety_number"])
        expect(errs, "safety number (swapped)", safety_number(b, a), v["safety_number"])
    elif k == "sign":
        seed, msg = h(v, "signing_seed"), h(v, "message")
        expect(errs, "signature", sign(seed, v["context"], msg), h(v, "signature"))
        verify(ed_public(seed), v["context"], msg, h(v, "signature"))
    elif k == "verify":
        outcome(errs, v, lambda: verify(h(v, "signing_key"), v["context"], h(v, "message"), h(v, "signature")) or True,
                v.get("valid"))
    else:
        errs.append(f"unknown kind {k}")
    return errs


def check_xwing(v: dict, pk_to_seed: dict) -> list[str]:
    errs: list[str] = []
    k = v["kind"]
    if k == "kem":
        key = XWingKey(h(v, "seed"))
        pk, ct, ss, eseed = h(v, "pk"), h(v, "ct"), h(v, "ss"), h(v, "eseed")
        expect(errs, "pk", key.pk, pk)
        expect(errs, "ct_X", encapsulation_x25519(pk, eseed), ct[MLKEM_CT_LEN:])
        expect(errs, "ss (decapsulation)", key.decapsulate(ct), ss)
    elif k == "encapsulate":
        def run():
            pk, eseed = h(v, "pk"), h(v, "eseed")
            ct_x = encapsulation_x25519(pk, eseed)
            seed = pk_to_seed.get(pk)
            if seed is None:
                raise AssertionError("no kem vector with this pk: cannot decapsulate")
            ct = h(v, "ct")
            if ct[MLKEM_CT_LEN:] != ct_x:
                return ("ct_X mismatch", None)
            return (v["ct"], XWingKey(seed).decapsulate(ct).hex())
        outcome(errs, v, run, (v.get("ct"), v.get("ss")))
    elif k == "decapsulate":
        outcome(errs, v, lambda: XWingKey(h(v, "seed")).decapsulate(h(v, "ct")).hex(), v.get("ss"))
    else:
        errs.append(f"unknown kind {k}")
    return errs


def check_hpke(v: dict) -> list[str]:
    errs: list[str] = []
    k = v["kind"]
    if k == "context":
        key = XWingKey(h(v, "recipient_seed"))
        enc, eseed, info = h(v, "enc"), h(v, "eseed"), h(v, "info")
        expect(errs, "enc X25519 half", encapsulation_x25519(key.pk, eseed), enc[MLKEM_CT_LEN:])
        ss = key.decapsulate(enc)
        expect(errs, "shared secret", ss, h(v, "shared_secret"))
        sender, receiver = HpkeContext(ss, info), HpkeContext(ss, info)
        for i, m in enumerate(v["messages"]):
            aad, pt, ct = h(m, "aad"), h(m, "pt"), h(m, "ct")
            expect(errs, f"ct #{i}", sender.seal(aad, pt), ct)
            try:
                expect(errs, f"pt #{i}", receiver.open(aad, ct), pt)
            except Reject as e:
                errs.append(f"open #{i}: {e}")
        for x in v["exports"]:
            ctx, n = h(x, "exporter_context"), x["length"]
            expect(errs, f"export {x['exporter_context']}/{n} (sender)", sender.export(ctx, n), h(x, "value"))
            expect(errs, f"export {x['exporter_context']}/{n} (receiver)", receiver.export(ctx, n), h(x, "value"))
    elif k == "open":
        outcome(errs, v, lambda: hpke_open(h(v, "recipient_seed"), h(v, "enc"), h(v, "info"), h(v, "aad"),
                                           h(v, "ct")).hex(), v.get("pt"))
    elif k == "seal":
        def run():
            encapsulation_x25519(h(v, "recipient_pk"), h(v, "eseed"))
            return "sealed"
        outcome(errs, v, run, None)
    elif k == "derive_key_pair":
        seed = derive_key_pair_seed(h(v, "ikm"))
        expect(errs, "seed", seed, h(v, "seed"))
        expect(errs, "pk", XWingKey(seed).pk, h(v, "pk"))
    else:
        errs.append(f"unknown kind {k}")
    return errs


def check_padding(v: dict) -> list[str]:
    errs: list[str] = []
    k = v["kind"]
    scheme = v["scheme"]
    if k == "pad":
        content = bytes(i % 251 for i in range(v["content_len"]))

        def run():
            padded = pad(scheme, content)
            if unpad(scheme, padded) != content:
                return ("round trip failed",)
            return (len(padded), hashlib.sha256(padded).hexdigest(),
                    padded.hex() if len(padded) <= 512 else None)
        outcome(errs, v, run, (v.get("padded_len"), v.get("padded_sha256"), v.get("padded")))
    elif k == "unpad":
        outcome(errs, v, lambda: unpad(scheme, h(v, "padded")).hex(), v.get("content"))
    else:
        errs.append(f"unknown kind {k}")
    return errs


# ==========================================================================
# Self-tests: hand-derived and upstream facts, before any vector file
# ==========================================================================

def self_test() -> None:
    # Padmé examples of 04 §2.
    for length, want in [(0, 0), (1, 1), (8, 8), (9, 10), (100, 104), (129, 144), (1000, 1024),
                         (1025, 1088), (65535, 65536), (65537, 67584)]:
        assert padme(length) == want, (length, padme(length), want)
    assert max(range(1, 65537), key=lambda n: (padme(n) - n) / n) == 129
    assert pad("padme", b"") == b"\x80" and pad("lora", b"hello") == b"hello\x80" + bytes(18)
    # RFC 8032 §7.1 test 1.
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    pub = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    sig = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
                        "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    assert ed_public(seed) == pub and Ed25519PrivateKey.from_private_bytes(seed).sign(b"") == sig
    base = ed_decode(bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666"))
    assert base is not None and not ed_small_order(base) and not ed_small_order(ed_decode(pub))
    assert ed_small_order(ed_decode(bytes([1]) + bytes(31)))
    assert ed_decode(bytes([2]) + bytes(31)) is None                        # off curve
    assert ed_decode(bytes.fromhex("f0" + "ff" * 30 + "7f")) is None        # y = p + 3, non-canonical
    # Official X-Wing vectors (keygen, X25519 half of encapsulation, decapsulation).
    with open(os.path.join(UPSTREAM_DIR, "xwing-draft-test-vectors.json"), encoding="utf-8") as fh:
        xv = json.load(fh)
    assert len(xv) == 3
    for u in xv:
        key = XWingKey(bytes.fromhex(u["seed"]))
        ct, eseed = bytes.fromhex(u["ct"]), bytes.fromhex(u["eseed"])
        assert key.pk.hex() == u["pk"]
        assert x25519_base(eseed[32:]) == ct[MLKEM_CT_LEN:]
        assert key.decapsulate(ct).hex() == u["ss"]
    # Official draft-ietf-hpke-pq vectors for qpc's suite.
    with open(os.path.join(UPSTREAM_DIR, "hpke-pq-test-vectors.json"), encoding="utf-8") as fh:
        hv = [s for s in json.load(fh) if (s["kem_id"], s["kdf_id"], s["aead_id"]) == (KEM_ID, KDF_ID, AEAD_ID)]
    assert hv, "upstream HPKE file has qpc's suite"
    for s in hv:
        assert s["mode"] == 0
        seed = derive_key_pair_seed(bytes.fromhex(s["ikmR"]))
        assert seed.hex() == s["skRm"], "DeriveKeyPair"
        key = XWingKey(seed)
        assert key.pk.hex() == s["pkRm"]
        ss = key.decapsulate(bytes.fromhex(s["enc"]))
        sender, receiver = HpkeContext(ss, bytes.fromhex(s["info"])), HpkeContext(ss, bytes.fromhex(s["info"]))
        for e in s["encryptions"]:
            aad, pt = bytes.fromhex(e["aad"]), bytes.fromhex(e["pt"])
            assert sender.seal(aad, pt).hex() == e["ct"]
            assert receiver.open(aad, bytes.fromhex(e["ct"])) == pt
        for x in s["exports"]:
            assert sender.export(bytes.fromhex(x["exporter_context"]), x["L"]).hex() == x["exported_value"]


# ==========================================================================
# Driver
# ==========================================================================

def validate_schema(path: str, doc) -> list[str]:
    schema_path = path[:-len(".json")] + ".schema.json"
    with open(schema_path, encoding="utf-8") as fh:
        schema = json.load(fh)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    out = []
    for e in sorted(cls(schema).iter_errors(doc), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        out.append(f"{where}: {e.message[:200]}")
    return out


def check_file(path: str) -> tuple[int, int]:
    label = os.path.basename(path)
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    failed = 0
    schema_errors = validate_schema(path, doc)
    for msg in schema_errors:
        print(f"FAIL schema: {msg}")
    if schema_errors:
        failed += 1
    protocol = doc.get("protocol") if isinstance(doc, dict) else None
    vectors = doc.get("vectors", []) if isinstance(doc, dict) else []
    pk_to_seed = {}
    if protocol == "qpc-xwing":
        for v in vectors:
            if isinstance(v, dict) and v.get("kind") == "kem":
                pk_to_seed[bytes.fromhex(v["pk"])] = bytes.fromhex(v["seed"])
    checks = {
        "qpc-identity": check_identity,
        "qpc-xwing": lambda v: check_xwing(v, pk_to_seed),
        "qpc-hpke": check_hpke,
        "qpc-padding": check_padding,
    }
    check = checks.get(protocol)
    if check is None:
        print(f"{label}: 0 passed, 1 failed (unknown protocol {protocol!r})")
        return 0, 1
    passed, seen = 0, set()
    for i, v in enumerate(vectors):
        name = v.get("name", f"#{i}") if isinstance(v, dict) else f"#{i}"
        errs = []
        if name in seen:
            errs.append("duplicate name")
        seen.add(name)
        if isinstance(v, dict) and not errs:
            try:
                errs = check(v)
            except (Reject, AssertionError, KeyError, TypeError, ValueError) as e:
                errs = [f"{type(e).__name__}: {e}"]
        if errs:
            failed += 1
            for msg in errs:
                print(f"FAIL {name} ({v.get('kind') if isinstance(v, dict) else '?'}): {msg}")
        else:
            passed += 1
    print(f"{label}: {passed} passed, {failed} failed")
    return passed, failed


def main(argv: list[str]) -> int:
    try:
        self_test()
    except AssertionError as e:
        print(f"SELF-TEST FAILED: {e!r}", file=sys.stderr)
        return 1
    paths = argv[1:] or [os.path.join(VECTORS_DIR, f) for f in FILES]
    total_failed = 0
    for path in paths:
        _, failed = check_file(path)
        total_failed += failed
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
