#!/usr/bin/env python3
"""Independent checker for qpc's crypto vectors: identity.json, xwing.json,
hpke.json, padding.json and sealed_sender.json.

Written from spec/02-identity.md, spec/03-hybrid-kem-hpke.md,
spec/04-padding.md and spec/05-sealed-sender.md (and the standards they
cite: RFC 8032, RFC 7748,
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
- For the same reason a sealed-sender `seal` vector is checked after the
  KEM: its `enc` is decapsulated with the recipient's key (whose seeds come
  from an `open` vector of the same file), and the binding, signed bytes,
  signature, inner message, AEAD ciphertext and the whole sealed message
  are recomputed from the inputs and compared. `open` transcripts run the
  receiver of 05 §7.1 (outer and inner layouts, recipient, HPKE open,
  certificate, sender signature over the exact signed bytes with the
  binding, the replay window of §7.3, padding) step by step.

Usage: python3 vectors/independent/check_crypto.py [FILE...]
(default: the five files in vectors/). Prints `<file>: N passed, M failed`
per file; exit status 0 if all pass, 1 on any failure, 2 if a dependency
is missing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys

import vector_runner

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS_DIR = os.path.dirname(HERE)
UPSTREAM_DIR = os.path.join(VECTORS_DIR, "upstream")
FILES = ["identity.json", "xwing.json", "hpke.json", "padding.json", "sealed_sender.json"]

try:
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
    # 01-wire decoding, as used by 05
    "truncated", "invalid_length_prefix", "non_minimal_length", "too_many_items", "trailing_bytes", "malformed",
    # 05
    "unknown_issuer", "expired_certificate", "certificate_mismatch", "content_too_long", "wrong_recipient",
    "replayed", "stale",
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
# Sealed sender (05): certificates, the outer and inner layouts, the sender
# signature, the replay window, the receiver procedure of §7.1
# ==========================================================================

SEALED_VERSION = 1
CERT_LEN, TBS_LEN, SIG_LEN = 144, 80, 64
MAX_CONTENT_LEN = 1 << 20
MAX_CIPHERTEXT_LEN = 1 + 144 + 8 + 16 + 4 + MAX_CONTENT_LEN + 64 + 16  # 1 048 829 (§3)
SEALED_INFO = b"qpc sealed sender v1"
BINDING_CONTEXT = b"qpc sealed sender binding v1"
ISSUER_KEY_ID_LABEL = b"qpc issuer key id v1"
CERT_CONTEXT = "qpc sig v1 sender certificate"
SEALED_CONTEXT = "qpc sig v1 sealed sender"
U64_MAX = 2**64 - 1


def varint_encode(n: int) -> bytes:
    """01-wire §2 (RFC 9420 §2.1.2), minimal."""
    if n < 1 << 6:
        return bytes([n])
    if n < 1 << 14:
        return (n | 0x4000).to_bytes(2, "big")
    assert n < 1 << 30
    return (n | 0x80000000).to_bytes(4, "big")


class Reader:
    """A byte reader with the decoding rules of 01-wire §2–§3."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if len(self.data) - self.pos < n:
            raise Reject("truncated", f"need {n} bytes, have {len(self.data) - self.pos}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def varint(self) -> int:
        first = self.take(1)[0]
        prefix = first >> 6
        if prefix == 3:
            raise Reject("invalid_length_prefix", f"first byte {first:02x}")
        n = (1, 2, 4)[prefix]
        value = first & 0x3F
        for b in self.take(n - 1):
            value = value << 8 | b
        if len(varint_encode(value)) != n:
            raise Reject("non_minimal_length", f"{value} in {n} bytes")
        return value

    def opaque(self, maximum: int) -> bytes:
        """read_opaque(r, M) of 01-wire §3.1: the limit before the bytes."""
        n = self.varint()
        if n > maximum:
            raise Reject("too_many_items", f"{n} > {maximum}")
        return self.take(n)

    def finish(self) -> None:
        if self.pos != len(self.data):
            raise Reject("trailing_bytes", f"{len(self.data) - self.pos} bytes left")


def issuer_key_id(issuer_public_key: bytes) -> bytes:
    """§4.2."""
    return hashlib.sha256(ISSUER_KEY_ID_LABEL + issuer_public_key).digest()[:8]


def issue_certificate(issuer_seed: bytes, signing_key: bytes, kem_key_digest: bytes, expires_ms: int) -> bytes:
    """§4.1–§4.3: tbs, then the issuer's signature over SignedContent."""
    tbs = signing_key + kem_key_digest + expires_ms.to_bytes(8, "big") + issuer_key_id(ed_public(issuer_seed))
    return tbs + sign(issuer_seed, CERT_CONTEXT, tbs)


def configure_roots(roots: list[bytes]) -> list[tuple[bytes, bytes]]:
    """§4.4: (key, key id) per root, in order; each key must be valid."""
    out = []
    for key in roots:
        need_len("trust root", key, 32)
        signing_key_check(key)
        out.append((key, issuer_key_id(key)))
    return out


def verify_certificate(cert: bytes, roots: list[tuple[bytes, bytes]], now_ms: int) -> bytes:
    """§4.5 C1–C5; returns the certified signing key."""
    need_len("certificate", cert, CERT_LEN)
    candidates = [key for key, kid in roots if kid == cert[72:80]]
    if not candidates:
        raise Reject("unknown_issuer", cert[72:80].hex())
    verified = False
    for key in candidates:  # every root with the id (§4.4)
        try:
            verify(key, CERT_CONTEXT, cert[:TBS_LEN], cert[TBS_LEN:])
            verified = True
        except Reject:
            pass
    if not verified:
        raise Reject("bad_signature", "issuer signature")
    if now_ms >= int.from_bytes(cert[64:72], "big"):
        raise Reject("expired_certificate", f"expires {int.from_bytes(cert[64:72], 'big')}, now {now_ms}")
    signing_key_check(cert[:32])
    return cert[:32]


def parse_sealed(data: bytes):
    """§7.1 R1–R6: (recipient, enc, ciphertext)."""
    r = Reader(data)
    version = r.take(1)[0]
    if version != SEALED_VERSION:
        raise Reject("unknown_version", f"sealed-sender version {version}")
    recipient = r.take(16)
    enc = r.take(XWING_CT_LEN)
    ciphertext = r.opaque(MAX_CIPHERTEXT_LEN)
    r.finish()
    return recipient, enc, ciphertext


def parse_inner(inner: bytes):
    """§7.1 R12–R19: (kind, certificate, timestamp, id, padded content,
    signature, signed fields = everything before the signature)."""
    r = Reader(inner)
    kind = r.take(1)[0]
    if kind not in (0, 1):
        raise Reject("malformed", f"inner kind {kind}")
    cert = r.take(CERT_LEN)
    ts = int.from_bytes(r.take(8), "big")
    mid = r.take(16)
    padded = r.opaque(MAX_CONTENT_LEN)
    fields_end = r.pos
    sig = r.take(SIG_LEN)
    r.finish()
    return kind, cert, ts, mid, padded, sig, inner[:fields_end]


class ReplayWindow:
    """§7.3, with saturating u64 arithmetic."""

    def __init__(self, max_age_ms: int, max_skew_ms: int, capacity: int):
        self.max_age, self.max_skew, self.capacity = max_age_ms, max_skew_ms, max(capacity, 1)
        self.floor = 0
        self.seen: set = set()

    def check(self, now: int, ts: int, sender: bytes, mid: bytes) -> None:
        if min(ts + self.max_age, U64_MAX) < now or ts <= self.floor or ts > min(now + self.max_skew, U64_MAX):
            raise Reject("stale", f"timestamp {ts} at {now}, floor {self.floor}")
        if (ts, sender, mid) in self.seen:
            raise Reject("replayed")

    def record(self, now: int, ts: int, sender: bytes, mid: bytes) -> None:
        horizon = max(now - self.max_age, 0)
        while self.seen:
            oldest = min(self.seen)  # by timestamp, then address, then id bytes
            if oldest[0] >= horizon and len(self.seen) < self.capacity:
                break
            self.floor = max(self.floor, oldest[0])
            self.seen.remove(oldest)
        self.seen.add((ts, sender, mid))


class SealedReceiver:
    """§7.1: open(now_ms, bytes) -> ("message", sender, key, ts, id, content)
    or ("decoy",), or raises Reject."""

    def __init__(self, signing_seed: bytes, kem_seed: bytes, roots: list[bytes], paddings: list[str],
                 max_age_ms: int, max_skew_ms: int, capacity: int):
        self.key = XWingKey(kem_seed)
        self.address = address(ed_public(signing_seed), hashlib.sha256(self.key.pk).digest())
        self.roots = configure_roots(roots)
        self.paddings = paddings
        self.window = ReplayWindow(max_age_ms, max_skew_ms, capacity)

    def open(self, now: int, data: bytes):
        recipient, enc, ciphertext = parse_sealed(data)                            # R1–R6
        if recipient != self.address:                                              # R7
            raise Reject("wrong_recipient", recipient.hex())
        ctx = HpkeContext(self.key.decapsulate(enc), SEALED_INFO)                  # R8, R9
        inner = ctx.open(bytes([SEALED_VERSION]) + recipient, ciphertext)          # R10, R11
        kind, cert, ts, mid, padded, sig, fields = parse_inner(inner)             # R12–R19
        sender_key = verify_certificate(cert, self.roots, now)                     # R20–R23
        binding = ctx.export(BINDING_CONTEXT, 32)                                  # R24
        verify(sender_key, SEALED_CONTEXT, recipient + fields + binding, sig)      # R25
        sender = address(cert[:32], cert[32:64])
        self.window.check(now, ts, sender, mid)                                    # R26, R27
        content = None
        for scheme in self.paddings:                                               # R28
            try:
                content = unpad(scheme, padded)
                break
            except Reject:
                pass
        if content is None:
            raise Reject("bad_padding", f"not canonical under {self.paddings}")
        self.window.record(now, ts, sender, mid)                                   # R29
        return ("message", sender, sender_key, ts, mid, content) if kind == 0 else ("decoy",)


def seal_parts(sender_seed: bytes, cert: bytes, recipient: bytes, ctx: HpkeContext, enc: bytes, kind: int,
               ts: int, mid: bytes, padded: bytes):
    """§6 S5–S10 after the KEM (enc and the context given): binding,
    signed, signature, inner, sealed."""
    binding = ctx.export(BINDING_CONTEXT, 32)
    fields = bytes([kind]) + cert + ts.to_bytes(8, "big") + mid + varint_encode(len(padded)) + padded
    signed = recipient + fields + binding
    signature = sign(sender_seed, SEALED_CONTEXT, signed)
    inner = fields + signature
    ciphertext = ctx.seal(bytes([SEALED_VERSION]) + recipient, inner)
    sealed = bytes([SEALED_VERSION]) + recipient + enc + varint_encode(len(ciphertext)) + ciphertext
    return binding, signed, signature, inner, sealed


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


def check_sealed_sender(v: dict, recipients: dict) -> list[str]:
    """`recipients` maps an encoded public identity to its seeds (from the
    file's `open` vectors): `cryptography` cannot encapsulate with a given
    eseed, so a seal vector is checked by decapsulating its enc with the
    recipient's key and recomputing everything after the KEM."""
    errs: list[str] = []
    k = v["kind"]
    if k == "certificate":
        seed, signing_key, digest = h(v, "issuer_seed"), h(v, "signing_key"), h(v, "kem_key_digest")
        encoded = issue_certificate(seed, signing_key, digest, v["expires_ms"])
        expect(errs, "issuer key id", h(v, "issuer_key_id"), issuer_key_id(ed_public(seed)))
        expect(errs, "encoded", h(v, "encoded"), encoded)
        expect(errs, "sender address", h(v, "sender_address"), address(signing_key, digest))
        roots = [bytes.fromhex(r) for r in v["roots"]]
        outcome(errs, v, lambda: verify_certificate(encoded, configure_roots(roots), v["now_ms"]).hex(),
                v["signing_key"])
    elif k == "seal":
        if "content_len" in v:
            content = bytes(i % 251 for i in range(v["content_len"]))
        else:
            content = h(v, "content")
        sender_seed, cert, recipient_pi = h(v, "sender_signing_seed"), h(v, "certificate"), h(v, "recipient_public_identity")
        kind, ts, mid, eseed = v["message_kind"], v["timestamp_ms"], h(v, "message_id"), h(v, "eseed")

        def run():
            sk_r, kem_r = parse_public_identity(recipient_pi)                    # 02 §3.3
            need_len("certificate", cert, CERT_LEN)
            own_kem = XWingKey(h(v, "sender_kem_seed")).pk                        # S0
            if cert[:32] != ed_public(sender_seed) or cert[32:64] != hashlib.sha256(own_kem).digest():
                raise Reject("certificate_mismatch")
            need_len("message id", mid, 16)
            need_len("eseed", eseed, 64)
            padded = pad(v["padding"], content)                                   # S2
            if len(padded) > MAX_CONTENT_LEN:                                     # S3
                raise Reject("content_too_long", f"{len(padded)} bytes")
            ct_x = encapsulation_x25519(kem_r, eseed)                             # S4 (X25519 half)
            recipient = address(sk_r, hashlib.sha256(kem_r).digest())             # S5
            sealed = h(v, "sealed")
            got_recipient, enc, _ = parse_sealed(sealed)
            if got_recipient != recipient or enc[MLKEM_CT_LEN:] != ct_x:
                return ("outer recipient or ct_X differs",)
            seeds = recipients.get(recipient_pi)
            if seeds is None:
                raise AssertionError("no open vector has this recipient: cannot decapsulate")
            ctx = HpkeContext(XWingKey(seeds[1]).decapsulate(enc), SEALED_INFO)
            return (padded,) + seal_parts(sender_seed, cert, recipient, ctx, enc, kind, ts, mid, padded)

        names = ["padded_content", "binding", "signed", "signature", "inner", "sealed"]
        want = None if "expected_error" in v else tuple(h(v, n) for n in names)
        try:
            got = run()
        except Reject as e:
            if "expected_error" in v:
                expect(errs, "error class", e.cls, v["expected_error"])
            else:
                errs.append(f"rejected: {e}")
            return errs
        if want is None:
            errs.append(f"accepted, want {v['expected_error']}")
        elif len(got) != len(want):
            errs.append(got[0])
        else:
            for name, g, w in zip(names, got, want):
                expect(errs, name, g, w)
    elif k == "open":
        try:
            rx = SealedReceiver(h(v, "recipient_signing_seed"), h(v, "recipient_kem_seed"),
                                [bytes.fromhex(r) for r in v["roots"]], v["paddings"],
                                v["max_age_ms"], v["max_skew_ms"], v["capacity"])
        except Reject as e:
            return [f"receiver configuration refused: {e}"]
        for i, st in enumerate(v["steps"]):
            try:
                got = rx.open(st["now_ms"], h(st, "sealed"))
            except Reject as e:
                got = (e.cls,)
            if got[0] != st["result"]:
                errs.append(f"step {i}: got {got[0]}, want {st['result']}")
                continue
            if got[0] == "message":
                _, sender, key, ts, mid, content = got
                expect(errs, f"step {i} sender", sender, h(st, "sender"))
                expect(errs, f"step {i} sender key", key, h(st, "sender_key"))
                expect(errs, f"step {i} timestamp", ts, st["timestamp_ms"])
                expect(errs, f"step {i} message id", mid, h(st, "message_id"))
                expect(errs, f"step {i} content", content, h(st, "content"))
        last = v["steps"][-1]["result"]
        expect(errs, "expected_error (the last step's class)", v.get("expected_error"),
               None if last in ("message", "decoy") else last)
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
    # Sealed sender (05): the worked certificate of §12.1, sizes of §8, the
    # replay window rules of §7.3.
    issuer_pub = ed_public(bytes([9]) * 32)
    assert issuer_pub.hex() == "fd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702eac835e9f618"
    assert issuer_key_id(issuer_pub).hex() == "55dd1a345528ded5"
    alice_key, alice_digest = ed_public(bytes([1]) * 32), hashlib.sha256(XWingKey(bytes([2]) * 32).pk).digest()
    cert = issue_certificate(bytes([9]) * 32, alice_key, alice_digest, 1_700_086_400_000)
    assert cert.hex() == ("8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c"
                          "01eba7f63ebe3bde984385c499280859aac9a8c403804fe47ebbf31982d74353"
                          "0000018bd50bc400" "55dd1a345528ded5"
                          "68bdcf424a8ff5ea6341a6d12ff823684cffeb01e90bc0180bf1754427811d79"
                          "2e751639e89e05dacff860e6322da4671522cbf408ddbf2dac1e3fe479c75006")
    assert address(alice_key, alice_digest).hex() == "518e68596a79c6d5e723e0f428c1d336"
    assert MAX_CIPHERTEXT_LEN == 1_048_829
    for length, sealed_len in [(0, 1390), (100, 1494), (1024, 2478), (4096, 5742), (16384, 18802), (65536, 68978)]:
        p = padme(length + 1)
        c = 233 + len(varint_encode(p)) + p + 16
        assert 1 + 16 + 1120 + len(varint_encode(c)) + c == sealed_len, length
    w = ReplayWindow(1000, 100, 2)
    a = bytes(16)
    for ts, mid in [(4500, b"1"), (4600, b"2")]:
        w.check(5000, ts, a, mid)
        w.record(5000, ts, a, mid)
    for args, cls in [((5000, 4500, a, b"1"), "replayed"), ((5000, 3999, a, b"3"), "stale"),
                      ((5000, 5101, a, b"3"), "stale")]:
        try:
            w.check(*args)
            raise AssertionError(f"accepted {args}")
        except Reject as e:
            assert e.cls == cls, (args, e.cls)
    w.check(5000, 5100, a, b"3")
    w.record(5000, 5100, a, b"3")            # evicts 4500 for room: the floor rises
    assert w.floor == 4500 and len(w.seen) == 2
    w.record(7000, 6500, a, b"4")            # 4600 and 5100 age out: the floor rises to 5100
    assert w.floor == 5100 and len(w.seen) == 1
    for raw, cls in [(b"", "truncated"), (b"\xc0", "invalid_length_prefix"), (b"\x40\x05", "non_minimal_length"),
                     (b"\x40", "truncated")]:
        try:
            Reader(raw).varint()
            raise AssertionError(raw)
        except Reject as e:
            assert e.cls == cls, (raw, e.cls)
    assert Reader(b"\x40\xfb").varint() == 251 and varint_encode(251) == b"\x40\xfb"


# ==========================================================================
# Driver
# ==========================================================================

def checks_for(doc) -> dict:
    """The check of every vector kind in `doc`, by the file's protocol; the
    X-Wing and sealed-sender checks look up keys in other vectors."""
    protocol = doc.get("protocol") if isinstance(doc, dict) else None
    vectors = doc.get("vectors", []) if isinstance(doc, dict) else []
    pk_to_seed = {}
    if protocol == "qpc-xwing":
        for v in vectors:
            if isinstance(v, dict) and v.get("kind") == "kem":
                pk_to_seed[bytes.fromhex(v["pk"])] = bytes.fromhex(v["seed"])
    recipients = {}
    if protocol == "qpc-sealed-sender":
        for v in vectors:
            if isinstance(v, dict) and v.get("kind") == "open":
                seeds = (bytes.fromhex(v["recipient_signing_seed"]), bytes.fromhex(v["recipient_kem_seed"]))
                if seeds not in recipients.values():
                    recipients[public_from_seeds(*seeds)] = seeds
    checks = {
        "qpc-identity": check_identity,
        "qpc-xwing": lambda v: check_xwing(v, pk_to_seed),
        "qpc-hpke": check_hpke,
        "qpc-padding": check_padding,
        "qpc-sealed-sender": lambda v: check_sealed_sender(v, recipients),
    }
    check = checks.get(protocol)
    return {} if check is None else {v.get("kind"): check for v in vectors if isinstance(v, dict)}


if __name__ == "__main__":
    sys.exit(vector_runner.main(sys.argv, [os.path.join(VECTORS_DIR, f) for f in FILES], checks_for, [self_test]))
