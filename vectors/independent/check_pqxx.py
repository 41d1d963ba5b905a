#!/usr/bin/env python3
"""Independent checker for qpc's pqXX vectors: vectors/pqxx.json.

Written from spec/06-pq-noise.md (and spec/02-identity.md for identities,
addresses and signatures, spec/03-hybrid-kem-hpke.md §2 for the X-Wing key
behind an identity's kem_key_digest, spec/01-wire.md §2 for varints) and the
standards they cite: the Noise Protocol Framework revision 34, RFC 7748,
RFC 7693, RFC 8439, RFC 8032, FIPS 203. Python 3 with hashlib/hmac, the
`cryptography` package (>= 47: X25519, Ed25519 signing, ML-KEM-768 key
generation from a seed and decapsulation, ChaCha20Poly1305) and
`jsonschema`. It shares no code with the Rust crates (nor with
check_crypto.py) and never calls them.

Implemented here: the Noise XXpsk3 handshake (HASH, HMAC, HKDF, symmetric
and handshake state, Split), the pqXX prologue, psk, static key binding,
payloads and both state machines with their check order, the stream and
datagram transports with rekey, the replay window, strict Ed25519
verification (02 §6.3), the ML-KEM-768 modulus check and ML-KEM-768
Encaps_internal (FIPS 203 Algorithms 14 and 17), so message 2 is recomputed
from the responder's fixed randomness `m`. That encapsulation is cross-checked
by decapsulating its ciphertext with `cryptography` (which must give the same
shared secret) in the self-test and in every PQ handshake.

Usage: python3 vectors/independent/check_pqxx.py [FILE...]
(default: vectors/pqxx.json). Prints `FAIL <name> (<kind>): <why>` for each
failure and `<file>: N passed, M failed`; exit status 0 if all pass, 1 on
any failure, 2 if a dependency is missing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import random
import sys

import vector_runner

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS_DIR = os.path.dirname(HERE)
UPSTREAM_CACOPHONY = os.path.join(VECTORS_DIR, "upstream", "noise-cacophony-xxpsk3.json")
FILES = ["pqxx.json"]

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
except ImportError as e:  # pragma: no cover
    print(f"error: missing dependency ({e}).\n"
          "  pip install 'cryptography>=47' jsonschema", file=sys.stderr)
    sys.exit(2)

# 06 §11
ERROR_CLASSES = frozenset({
    "malformed", "truncated", "invalid_length_prefix", "non_minimal_length", "trailing_bytes",
    "content_too_long", "open_failed", "invalid_public_key", "expired_binding", "bad_signature",
    "downgrade", "invalid_config", "non_contributory", "peer_rejected", "wrong_state", "replayed",
    "too_old", "nonce_exhausted",
})


class Reject(Exception):
    """An input the spec rejects; `cls` is the error class."""

    def __init__(self, cls: str, detail: str = ""):
        assert cls in ERROR_CLASSES, cls
        super().__init__(f"{cls}: {detail}" if detail else cls)
        self.cls = cls


# ==========================================================================
# Constants (06 §3)
# ==========================================================================

PROTOCOL_NAME = b"Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s"
PROLOGUE_LABEL = b"qpc pqxx"
PSK_LABEL = b"qpc pqxx v1 psk"
BINDING_LABEL = b"qpc sig v1 pqxx static key"
ADDRESS_LABEL = b"qpc address v1"
PQXX_VERSION = 1
MAX_CONTEXT_LEN = 1024
MAX_APPLICATION_LEN = 64000
MAX_MESSAGE_LEN = 65535
TAG_LEN = 16
BINDING_LEN = 136
EK_LEN, CT_LEN = 1184, 1088
KEY_UPDATE = 1


def stream_ad(flags: bytes) -> bytes:
    """06 §9.2: the associated data of a stream record: empty for flags 00."""
    return b"" if flags == b"\x00" else flags
MAX_PLAINTEXT_LEN = 65511
NONCE_MAX = 2**64 - 1
DATAGRAM_COUNTER_LIMIT = 2**48
MAX_EPOCH = 65535
KEM_NONE, KEM_MLKEM768 = 0, 1


def sha256(b: bytes) -> bytes:
    return hashlib.sha256(b).digest()


def be64(n: int) -> bytes:
    return n.to_bytes(8, "big")


# ==========================================================================
# Varints (01 §2)
# ==========================================================================

def varint(v: int) -> bytes:
    if v < 1 << 6:
        return bytes([v])
    if v < 1 << 14:
        return (0x4000 | v).to_bytes(2, "big")
    assert v < 1 << 30
    return (0x80000000 | v).to_bytes(4, "big")


class Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if self.remaining() < n:
            raise Reject("truncated", f"need {n} bytes, {self.remaining()} left")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def varint(self) -> int:
        if self.remaining() < 1:
            raise Reject("truncated", "varint")
        prefix = self.data[self.pos] >> 6
        if prefix == 3:
            raise Reject("invalid_length_prefix")
        n = (1, 2, 4)[prefix]
        raw = self.take(n)
        v = raw[0] & 0x3F
        for b in raw[1:]:
            v = v << 8 | b
        if n != len(varint(v)):
            raise Reject("non_minimal_length", f"{v} in {n} bytes")
        return v


# ==========================================================================
# Noise primitives (06 §2.3; Noise spec §4, §5)
# ==========================================================================

HASHLEN = 32


def HASH(b: bytes) -> bytes:
    return hashlib.blake2s(b, digest_size=32).digest()


def HMAC(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.blake2s).digest()


def HKDF(ck: bytes, ikm: bytes, n: int) -> list[bytes]:
    t = HMAC(ck, ikm)
    out, prev = [], b""
    for i in range(1, n + 1):
        prev = HMAC(t, prev + bytes([i]))
        out.append(prev)
    return out


def noise_nonce(n: int) -> bytes:
    return bytes(4) + n.to_bytes(8, "little")


def ENCRYPT(k: bytes, n: int, ad: bytes, p: bytes) -> bytes:
    return ChaCha20Poly1305(k).encrypt(noise_nonce(n), p, ad)


def DECRYPT(k: bytes, n: int, ad: bytes, c: bytes) -> bytes:
    if len(c) < TAG_LEN:
        raise Reject("open_failed", "shorter than the tag")
    try:
        return ChaCha20Poly1305(k).decrypt(noise_nonce(n), c, ad)
    except InvalidTag:
        raise Reject("open_failed", "AEAD tag mismatch") from None


def REKEY(k: bytes) -> bytes:
    return ENCRYPT(k, NONCE_MAX, b"", bytes(32))[:32]


def x25519_public(priv: bytes) -> bytes:
    return X25519PrivateKey.from_private_bytes(priv).public_key().public_bytes_raw()


def DH(priv: bytes, pub: bytes) -> bytes:
    """X25519 (RFC 7748); pqXX refuses an all-zero output with
    non_contributory (06 §2.3, §12.10). `cryptography` raises ValueError
    exactly for an all-zero output."""
    try:
        return X25519PrivateKey.from_private_bytes(priv).exchange(X25519PublicKey.from_public_bytes(pub))
    except ValueError:
        raise Reject("non_contributory", "X25519 output is all zero") from None


class CipherState:
    def __init__(self, k: bytes | None = None):
        self.k, self.n = k, 0

    def encrypt_with_ad(self, ad: bytes, p: bytes) -> bytes:
        if self.k is None:
            return p
        assert self.n < NONCE_MAX
        c = ENCRYPT(self.k, self.n, ad, p)
        self.n += 1
        return c

    def decrypt_with_ad(self, ad: bytes, c: bytes) -> bytes:
        if self.k is None:
            return c
        p = DECRYPT(self.k, self.n, ad, c)
        self.n += 1
        return p


class SymmetricState:
    def __init__(self, protocol_name: bytes):
        if len(protocol_name) <= HASHLEN:
            self.h = protocol_name + bytes(HASHLEN - len(protocol_name))
        else:
            self.h = HASH(protocol_name)
        self.ck = self.h
        self.cs = CipherState()

    def mix_hash(self, data: bytes) -> None:
        self.h = HASH(self.h + data)

    def mix_key(self, ikm: bytes) -> None:
        self.ck, k = HKDF(self.ck, ikm, 2)
        self.cs = CipherState(k)

    def mix_key_and_hash(self, ikm: bytes) -> None:
        self.ck, t, k = HKDF(self.ck, ikm, 3)
        self.mix_hash(t)
        self.cs = CipherState(k)

    def encrypt_and_hash(self, p: bytes) -> bytes:
        c = self.cs.encrypt_with_ad(self.h, p)
        self.mix_hash(c)
        return c

    def decrypt_and_hash(self, c: bytes) -> bytes:
        p = self.cs.decrypt_with_ad(self.h, c)
        self.mix_hash(c)
        return p

    def split(self) -> tuple[bytes, bytes]:
        k1, k2 = HKDF(self.ck, b"", 2)
        return k1, k2


# XXpsk3 (06 §2.1): message patterns, initiator first.
XXPSK3 = [["e"], ["e", "ee", "s", "es"], ["s", "se", "psk"]]


class NoiseXXpsk3:
    """HandshakeState for Noise_XXpsk3_25519_ChaChaPoly_BLAKE2s with fixed
    ephemeral and static keys; the psk is set before message 3."""

    def __init__(self, initiator: bool, prologue: bytes, s: bytes, e: bytes,
                 protocol_name: bytes = PROTOCOL_NAME):
        self.initiator = initiator
        self.ss = SymmetricState(protocol_name)
        self.ss.mix_hash(prologue)
        self.s, self.s_pub = s, x25519_public(s)
        self.e, self.e_pub = e, x25519_public(e)
        self.rs = self.re = None
        self.psk: bytes | None = None
        self.index = 0

    def _dh(self, token: str) -> bytes:
        # ee, es, se: first letter is the initiator's key, second the responder's.
        mine = {"e": self.e, "s": self.s}
        theirs = {"e": self.re, "s": self.rs}
        i_key, r_key = token[0], token[1]
        if self.initiator:
            return DH(mine[i_key], theirs[r_key])
        return DH(mine[r_key], theirs[i_key])

    def _tokens(self, writing: bool) -> list[str]:
        assert self.index < 3
        sender_is_initiator = self.index % 2 == 0
        assert writing == (sender_is_initiator == self.initiator), "turn order"
        return XXPSK3[self.index]

    def write_message(self, payload: bytes) -> bytes:
        out = b""
        for t in self._tokens(True):
            if t == "e":
                out += self.e_pub
                self.ss.mix_hash(self.e_pub)
                self.ss.mix_key(self.e_pub)          # psk modifier
            elif t == "s":
                out += self.ss.encrypt_and_hash(self.s_pub)
            elif t == "psk":
                assert self.psk is not None, "psk not set"
                self.ss.mix_key_and_hash(self.psk)
            else:
                self.ss.mix_key(self._dh(t))
        out += self.ss.encrypt_and_hash(payload)
        self.index += 1
        return out

    def read_message(self, msg: bytes) -> bytes:
        r = Reader(msg)
        for t in self._tokens(False):
            if t == "e":
                if r.remaining() < 32:
                    raise Reject("malformed", "no room for e")
                self.re = r.take(32)
                self.ss.mix_hash(self.re)
                self.ss.mix_key(self.re)
            elif t == "s":
                if r.remaining() < 32 + TAG_LEN:
                    raise Reject("malformed", "no room for s")
                self.rs = self.ss.decrypt_and_hash(r.take(32 + TAG_LEN))
            elif t == "psk":
                assert self.psk is not None, "psk not set"
                self.ss.mix_key_and_hash(self.psk)
            else:
                self.ss.mix_key(self._dh(t))
        payload = self.ss.decrypt_and_hash(r.take(r.remaining()))
        self.index += 1
        return payload

    @property
    def h(self) -> bytes:
        return self.ss.h

    def split(self) -> tuple[bytes, bytes]:
        assert self.index == 3
        return self.ss.split()


# ==========================================================================
# Ed25519 (RFC 8032) with the strict rules of 02 §3.5 and §6.3
# ==========================================================================

P = 2**255 - 19
D = (-121665 * pow(121666, -1, P)) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
L_ORDER = 2**252 + 27742317777372353535851937790883648493
IDENTITY_PT = (0, 1, 1, 0)


def ed_decode(b: bytes):
    """RFC 8032 §5.1.3, strictly (02 §3.5 rule 1); extended coordinates or None."""
    if len(b) != 32:
        return None
    y = int.from_bytes(b, "little") & ((1 << 255) - 1)
    sign = b[31] >> 7
    if y >= P:
        return None
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if (v * x * x - u) % P == 0:
        pass
    elif (v * x * x + u) % P == 0:
        x = x * SQRT_M1 % P
    else:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def pt_add(p1, p2):
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * 2 * D * t2 % P
    d = z1 * 2 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def pt_mul(s: int, pt):
    q = IDENTITY_PT
    while s:
        if s & 1:
            q = pt_add(q, pt)
        pt = pt_add(pt, pt)
        s >>= 1
    return q


def pt_neg(pt):
    x, y, z, t = pt
    return ((-x) % P, y, z, (-t) % P)


def pt_encode(pt) -> bytes:
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | (x & 1) << 255).to_bytes(32, "little")


def pt_is_identity(pt) -> bool:
    x, y, z, _ = pt
    return x % P == 0 and (y - z) % P == 0


def small_order(pt) -> bool:
    return pt_is_identity(pt_mul(8, pt))


BASE = ed_decode(bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666"))


def valid_signing_key(key: bytes) -> bool:
    """02 §3.5."""
    pt = ed_decode(key)
    return pt is not None and not small_order(pt)


def signed_content(label: bytes, message: bytes) -> bytes:
    """02 §6.1: varint(len(label)) || label || message."""
    return varint(len(label)) + label + message


def ed_verify_strict(key: bytes, message: bytes, sig: bytes) -> bool:
    """02 §6.3 steps 2–5 for a key that passed valid_signing_key."""
    if len(sig) != 64:
        return False
    r_enc, s = sig[:32], int.from_bytes(sig[32:], "little")
    if s >= L_ORDER:
        return False
    r_pt = ed_decode(r_enc)
    if r_pt is None or small_order(r_pt):
        return False
    a_pt = ed_decode(key)
    k = int.from_bytes(hashlib.sha512(r_enc + key + message).digest(), "little") % L_ORDER
    return pt_encode(pt_add(pt_mul(s, BASE), pt_mul(k, pt_neg(a_pt)))) == r_enc


def ed_public(seed: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()


def ed_sign(seed: bytes, message: bytes) -> bytes:
    """RFC 8032 deterministic signing (02 §6.4)."""
    return Ed25519PrivateKey.from_private_bytes(seed).sign(message)


# ==========================================================================
# ML-KEM-768 (FIPS 203): modulus check and Encaps_internal
# ==========================================================================

Q = 3329
MLKEM_K, ETA1, ETA2, DU, DV = 3, 2, 2, 10, 4


def bitrev7(i: int) -> int:
    return int(f"{i:07b}"[::-1], 2)


ZETAS = [pow(17, bitrev7(i), Q) for i in range(128)]
GAMMAS = [pow(17, 2 * bitrev7(i) + 1, Q) for i in range(128)]


def byte_encode(f: list[int], d: int) -> bytes:
    acc = 0
    for i, a in enumerate(f):
        acc |= a << (d * i)
    return acc.to_bytes(32 * d, "little")


def byte_decode(b: bytes, d: int) -> list[int]:
    acc, mask = int.from_bytes(b, "little"), (1 << d) - 1
    return [(acc >> (d * i)) & mask for i in range(256)]


def mlkem_ek_valid(ek: bytes) -> bool:
    """FIPS 203 §7.2 modulus check (03 §2.3 step 2): every 12-bit coefficient
    of the first 1152 bytes is < q."""
    if len(ek) != EK_LEN:
        return False
    for i in range(MLKEM_K):
        if any(c >= Q for c in byte_decode(ek[384 * i:384 * (i + 1)], 12)):
            return False
    return True


def ntt(f: list[int]) -> list[int]:
    f, i, length = list(f), 1, 128
    while length >= 2:
        for start in range(0, 256, 2 * length):
            zeta = ZETAS[i]
            i += 1
            for j in range(start, start + length):
                t = zeta * f[j + length] % Q
                f[j + length] = (f[j] - t) % Q
                f[j] = (f[j] + t) % Q
        length //= 2
    return f


def ntt_inv(f: list[int]) -> list[int]:
    f, i, length = list(f), 127, 2
    while length <= 128:
        for start in range(0, 256, 2 * length):
            zeta = ZETAS[i]
            i -= 1
            for j in range(start, start + length):
                t = f[j]
                f[j] = (t + f[j + length]) % Q
                f[j + length] = zeta * (f[j + length] - t) % Q
        length *= 2
    return [a * 3303 % Q for a in f]


def multiply_ntts(f: list[int], g: list[int]) -> list[int]:
    h = [0] * 256
    for i in range(128):
        a0, a1, b0, b1 = f[2 * i], f[2 * i + 1], g[2 * i], g[2 * i + 1]
        h[2 * i] = (a0 * b0 + a1 * b1 * GAMMAS[i]) % Q
        h[2 * i + 1] = (a0 * b1 + a1 * b0) % Q
    return h


def poly_add(f: list[int], g: list[int]) -> list[int]:
    return [(a + b) % Q for a, b in zip(f, g)]


def sample_ntt(seed34: bytes) -> list[int]:
    n = 840
    while True:
        stream = hashlib.shake_128(seed34).digest(n)
        out, pos = [], 0
        while len(out) < 256 and pos + 3 <= len(stream):
            c0, c1, c2 = stream[pos], stream[pos + 1], stream[pos + 2]
            pos += 3
            d1, d2 = c0 + 256 * (c1 % 16), c1 // 16 + 16 * c2
            if d1 < Q:
                out.append(d1)
            if d2 < Q and len(out) < 256:
                out.append(d2)
        if len(out) == 256:
            return out
        n *= 2


def sample_cbd(b: bytes, eta: int) -> list[int]:
    bits = int.from_bytes(b, "little")
    f = []
    for i in range(256):
        x = sum((bits >> (2 * i * eta + j)) & 1 for j in range(eta))
        y = sum((bits >> (2 * i * eta + eta + j)) & 1 for j in range(eta))
        f.append((x - y) % Q)
    return f


def prf(eta: int, s: bytes, b: int) -> bytes:
    return hashlib.shake_256(s + bytes([b])).digest(64 * eta)


def compress(x: int, d: int) -> int:
    return ((x << (d + 1)) + Q) // (2 * Q) % (1 << d)


def decompress(y: int, d: int) -> int:
    return (Q * y * 2 + (1 << d)) >> (d + 1)


def kpke_encrypt(ek: bytes, m: bytes, r: bytes) -> bytes:
    """FIPS 203 Algorithm 14."""
    k, n = MLKEM_K, 0
    t_hat = [byte_decode(ek[384 * i:384 * (i + 1)], 12) for i in range(k)]
    rho = ek[384 * k:384 * k + 32]
    a_hat = [[sample_ntt(rho + bytes([j, i])) for j in range(k)] for i in range(k)]
    y = []
    for _ in range(k):
        y.append(sample_cbd(prf(ETA1, r, n), ETA1))
        n += 1
    e1 = []
    for _ in range(k):
        e1.append(sample_cbd(prf(ETA2, r, n), ETA2))
        n += 1
    e2 = sample_cbd(prf(ETA2, r, n), ETA2)
    y_hat = [ntt(p) for p in y]
    u = []
    for i in range(k):
        acc = [0] * 256
        for j in range(k):
            acc = poly_add(acc, multiply_ntts(a_hat[j][i], y_hat[j]))
        u.append(poly_add(ntt_inv(acc), e1[i]))
    mu = [decompress(b, 1) for b in byte_decode(m, 1)]
    acc = [0] * 256
    for j in range(k):
        acc = poly_add(acc, multiply_ntts(t_hat[j], y_hat[j]))
    v = poly_add(poly_add(ntt_inv(acc), e2), mu)
    c1 = b"".join(byte_encode([compress(a, DU) for a in p], DU) for p in u)
    c2 = byte_encode([compress(a, DV) for a in v], DV)
    return c1 + c2


def mlkem_encaps_internal(ek: bytes, m: bytes) -> tuple[bytes, bytes]:
    """FIPS 203 Algorithm 17: (shared secret K, ciphertext c)."""
    g = hashlib.sha3_512(m + hashlib.sha3_256(ek).digest()).digest()
    key, r = g[:32], g[32:]
    return key, kpke_encrypt(ek, m, r)


def mlkem_keypair(seed64: bytes):
    """KeyGen_internal(d, z) from the 64-byte seed d || z (FIPS 203 §7.1)."""
    dk = MLKEM768PrivateKey.from_seed_bytes(seed64)
    return dk, dk.public_key().public_bytes_raw()


# ==========================================================================
# Identities (02 §4, §5; X-Wing key: 03 §2.2)
# ==========================================================================

def xwing_public(kem_seed: bytes) -> bytes:
    expanded = hashlib.shake_256(kem_seed).digest(96)
    _, pk_m = mlkem_keypair(expanded[:64])
    return pk_m + x25519_public(expanded[64:96])


def address_of(signing_key: bytes, kem_key_digest: bytes) -> bytes:
    return sha256(ADDRESS_LABEL + signing_key + kem_key_digest)[:16]


# ==========================================================================
# pqXX (06 §4–§8)
# ==========================================================================

def prologue(context: bytes) -> bytes:
    return PROLOGUE_LABEL + bytes([PQXX_VERSION]) + varint(len(context)) + context


def derive_psk(kem: int, ss: bytes | None) -> bytes:
    """06 §5."""
    assert (kem == KEM_MLKEM768) == (ss is not None)
    return sha256(PSK_LABEL + bytes([kem]) + (ss or b""))


def binding_signed(noise_static: bytes, kem_key_digest: bytes, not_after_ms: int) -> bytes:
    return signed_content(BINDING_LABEL, noise_static + kem_key_digest + be64(not_after_ms))


def make_binding(signing_seed: bytes, kem_key_digest: bytes, noise_static: bytes, not_after_ms: int) -> bytes:
    """06 §6.1, §6.2."""
    sig = ed_sign(signing_seed, binding_signed(noise_static, kem_key_digest, not_after_ms))
    return ed_public(signing_seed) + kem_key_digest + be64(not_after_ms) + sig


class Peer:
    def __init__(self, signing_key: bytes, kem_key_digest: bytes, not_after_ms: int):
        self.signing_key, self.kem_key_digest, self.not_after_ms = signing_key, kem_key_digest, not_after_ms
        self.address = address_of(signing_key, kem_key_digest)


def verify_binding(binding: bytes, remote_static: bytes, now_ms: int) -> Peer:
    """06 §6.3 B1–B4."""
    assert len(binding) == BINDING_LEN
    signing_key, digest = binding[:32], binding[32:64]
    not_after = int.from_bytes(binding[64:72], "big")
    sig = binding[72:]
    if not valid_signing_key(signing_key):                                   # B1
        raise Reject("invalid_public_key", "binding signing key")
    if now_ms > not_after:                                                   # B2
        raise Reject("expired_binding", f"now {now_ms} > not_after {not_after}")
    if not ed_verify_strict(signing_key, binding_signed(remote_static, digest, not_after), sig):  # B3
        raise Reject("bad_signature", "binding signature")
    return Peer(signing_key, digest, not_after)                              # B4


def application_field(r: Reader, max_app: int) -> bytes:
    """06 §7.1 P3–P8."""
    n = r.varint()                                                           # P3–P5
    if n > max_app:
        raise Reject("content_too_long", f"application of {n} > {max_app}")   # P6
    app = r.take(n)                                                          # P7
    if r.remaining():
        raise Reject("trailing_bytes", f"{r.remaining()} bytes")             # P8
    return app


def read_kem(r: Reader) -> int:
    kem = r.take(1)[0]                                                       # P1
    if kem not in (KEM_NONE, KEM_MLKEM768):
        raise Reject("malformed", f"kem {kem}")                              # P2
    return kem


def decode_payload1(data: bytes, max_app: int):
    r = Reader(data)
    kem = read_kem(r)
    ek = r.take(EK_LEN) if kem == KEM_MLKEM768 else None
    return kem, ek, application_field(r, max_app)


def decode_payload2(data: bytes, max_app: int):
    r = Reader(data)
    kem = read_kem(r)
    ct = r.take(CT_LEN) if kem == KEM_MLKEM768 else None
    binding = r.take(BINDING_LEN)
    return kem, ct, binding, application_field(r, max_app)


def decode_payload3(data: bytes, max_app: int):
    r = Reader(data)
    binding = r.take(BINDING_LEN)
    return binding, application_field(r, max_app)


def application_encoding(app: bytes, max_app: int) -> bytes:
    if len(app) > max_app:
        raise Reject("content_too_long", f"application of {len(app)} > {max_app}")
    return varint(len(app)) + app


class Config:
    """06 §8.1, from a vector's Party."""

    def __init__(self, context: bytes, post_quantum: bool, allow_classical: bool, max_application_len: int,
                 pinned_address: bytes | None = None):
        self.context, self.post_quantum, self.allow_classical = context, post_quantum, allow_classical
        self.max_app, self.pinned = max_application_len, pinned_address

    def check(self) -> None:
        if len(self.context) > MAX_CONTEXT_LEN:
            raise Reject("content_too_long", "context")
        if self.max_app > MAX_APPLICATION_LEN:
            raise Reject("content_too_long", "max_application_len")
        if not self.post_quantum and not self.allow_classical:
            raise Reject("invalid_config", "neither post_quantum nor allow_classical")

    def accept_peer(self, peer: Peer) -> None:
        if self.pinned is not None and peer.address != self.pinned:
            raise Reject("peer_rejected", "not the pinned address")


class Local:
    """A side's identity and Noise static key with its binding (06 §6, §8.1)."""

    def __init__(self, signing_seed: bytes, kem_seed: bytes, static_private: bytes, not_after_ms: int):
        self.signing_seed, self.static_private = signing_seed, static_private
        self.signing_key = ed_public(signing_seed)
        self.kem_key_digest = sha256(xwing_public(kem_seed))
        self.address = address_of(self.signing_key, self.kem_key_digest)
        self.static_public = x25519_public(static_private)
        self.binding = make_binding(signing_seed, self.kem_key_digest, self.static_public, not_after_ms)


class Session:
    def __init__(self, peer: Peer, mode: str, h: bytes, send: bytes, recv: bytes, psk: bytes, ss):
        self.peer, self.mode, self.h, self.send, self.recv = peer, mode, h, send, recv
        self.psk, self.ss = psk, ss


class Machine:
    """The terminal-error rule of 06 §8.3: any error fails the machine, and
    every later call (or a call out of order) is wrong_state."""

    state = "start"

    def _enter(self, expected: str) -> None:
        if self.state != expected:
            was, self.state = self.state, "failed"
            raise Reject("wrong_state", f"call in state {was}, expected {expected}")

    def _run(self, expected: str, after: str, fn):
        self._enter(expected)
        try:
            out = fn()
        except Reject:
            self.state = "failed"
            raise
        self.state = after
        return out


class Initiator(Machine):
    def __init__(self, local: Local, cfg: Config, ephemeral: bytes, mlkem_seed: bytes):
        cfg.check()
        self.local, self.cfg = local, cfg
        self.noise = NoiseXXpsk3(True, prologue(cfg.context), local.static_private, ephemeral)
        self.dk = self.ek = None
        if cfg.post_quantum:
            self.dk, self.ek = mlkem_keypair(mlkem_seed)

    def write_message_1(self, app: bytes) -> bytes:
        def go():
            appf = application_encoding(app, self.cfg.max_app)
            kem = bytes([KEM_MLKEM768]) + self.ek if self.cfg.post_quantum else bytes([KEM_NONE])
            return self.noise.write_message(kem + appf)
        return self._run("start", "sent1", go)

    def read_message_2(self, now_ms: int, msg: bytes) -> bytes:
        def go():
            if len(msg) > MAX_MESSAGE_LEN:
                raise Reject("malformed", "message over 65535 bytes")
            if len(msg) < 32 + 32 + TAG_LEN:
                raise Reject("malformed", "no room for e and s")
            payload = self.noise.read_message(msg)
            kem, ct, binding, app = decode_payload2(payload, self.cfg.max_app)
            offered = self.cfg.post_quantum
            if offered and kem == KEM_MLKEM768:
                self.ss = self.dk.decapsulate(ct)
                self.psk, self.mode = derive_psk(kem, self.ss), "post_quantum"
            elif kem == KEM_MLKEM768:
                raise Reject("malformed", "ML-KEM ciphertext without an offer")
            elif self.cfg.allow_classical:
                self.ss = None
                self.psk, self.mode = derive_psk(KEM_NONE, None), "classical"
            else:
                raise Reject("downgrade", "classical answer")
            self.peer = verify_binding(binding, self.noise.rs, now_ms)
            self.cfg.accept_peer(self.peer)
            self.noise.psk = self.psk
            return app
        return self._run("sent1", "received2", go)

    def write_message_3(self, app: bytes) -> tuple[bytes, Session]:
        def go():
            appf = application_encoding(app, self.cfg.max_app)
            msg = self.noise.write_message(self.local.binding + appf)
            k1, k2 = self.noise.split()
            return msg, Session(self.peer, self.mode, self.noise.h, k1, k2, self.psk, self.ss)
        return self._run("received2", "done", go)


class Responder(Machine):
    def __init__(self, local: Local, cfg: Config, ephemeral: bytes, encaps_m: bytes):
        cfg.check()
        self.local, self.cfg, self.m = local, cfg, encaps_m
        self.noise = NoiseXXpsk3(False, prologue(cfg.context), local.static_private, ephemeral)

    def read_message_1(self, msg: bytes) -> bytes:
        def go():
            if len(msg) > MAX_MESSAGE_LEN:
                raise Reject("malformed", "message over 65535 bytes")
            if len(msg) < 32:
                raise Reject("malformed", "no room for e")
            payload = self.noise.read_message(msg)
            kem, ek, app = decode_payload1(payload, self.cfg.max_app)
            if kem == KEM_MLKEM768 and not mlkem_ek_valid(ek):
                raise Reject("invalid_public_key", "ML-KEM modulus check")
            if kem == KEM_NONE and not self.cfg.allow_classical:
                raise Reject("downgrade", "no ML-KEM offer")
            self.offer = ek
            return app
        return self._run("start", "received1", go)

    def write_message_2(self, app: bytes) -> bytes:
        def go():
            if self.offer is not None and self.cfg.post_quantum:
                self.ss, ct = mlkem_encaps_internal(self.offer, self.m)
                self.psk, self.mode = derive_psk(KEM_MLKEM768, self.ss), "post_quantum"
                kem = bytes([KEM_MLKEM768]) + ct
            elif self.cfg.allow_classical:
                self.ss = None
                self.psk, self.mode = derive_psk(KEM_NONE, None), "classical"
                kem = bytes([KEM_NONE])
            else:
                raise Reject("downgrade", "cannot answer")
            appf = application_encoding(app, self.cfg.max_app)
            msg = self.noise.write_message(kem + self.local.binding + appf)
            self.noise.psk = self.psk
            return msg
        return self._run("received1", "sent2", go)

    def read_message_3(self, now_ms: int, msg: bytes) -> tuple[Session, bytes]:
        def go():
            if len(msg) > MAX_MESSAGE_LEN:
                raise Reject("malformed", "message over 65535 bytes")
            if len(msg) < 32 + TAG_LEN:
                raise Reject("malformed", "no room for s")
            payload = self.noise.read_message(msg)
            binding, app = decode_payload3(payload, self.cfg.max_app)
            peer = verify_binding(binding, self.noise.rs, now_ms)
            self.cfg.accept_peer(peer)
            k1, k2 = self.noise.split()
            return Session(peer, self.mode, self.noise.h, k2, k1, self.psk, self.ss), app
        return self._run("sent2", "done", go)


# ==========================================================================
# Transport (06 §9)
# ==========================================================================

class TransportConfig:
    def __init__(self, max_plaintext_len=MAX_PLAINTEXT_LEN, rekey_after_messages=2**20, rekey_after_ms=120000,
                 replay_window=2048, max_epoch_jump=8):
        self.max_plaintext_len, self.rekey_after_messages = max_plaintext_len, rekey_after_messages
        self.rekey_after_ms, self.replay_window, self.max_epoch_jump = rekey_after_ms, replay_window, max_epoch_jump

    def check(self, datagram: bool) -> None:
        """06 §9.1 limits."""
        if self.max_plaintext_len > MAX_PLAINTEXT_LEN:
            raise Reject("content_too_long", "max_plaintext_len")
        if self.rekey_after_messages < 1:
            raise Reject("invalid_config", "rekey_after_messages = 0")
        if datagram and not 1024 <= self.replay_window <= 65536:
            raise Reject("invalid_config", "replay_window")
        if datagram and not 1 <= self.max_epoch_jump <= 64:
            raise Reject("invalid_config", "max_epoch_jump")


class RekeyPolicy:
    """06 §9.1 sender policy."""

    def __init__(self, cfg: TransportConfig, start_ms: int):
        self.cfg, self.sent, self.start = cfg, 0, start_ms

    def record_sealed(self, now_ms: int) -> bool:
        """Counts a sealed record; True if it is the last under its key."""
        self.sent += 1
        return self.sent >= self.cfg.rekey_after_messages or now_ms - self.start >= self.cfg.rekey_after_ms

    def restart(self, now_ms: int) -> None:
        self.sent, self.start = 0, now_ms


class StreamTransport:
    """06 §9.2."""

    def __init__(self, session: Session, cfg: TransportConfig, start_ms: int):
        cfg.check(False)
        self.cfg = cfg
        self.send_k, self.send_n = session.send, 0
        self.recv_k, self.recv_n = session.recv, 0
        self.policy = RekeyPolicy(cfg, start_ms)
        self.failed = False

    def seal(self, now_ms: int, data: bytes) -> bytes:
        if self.failed:
            raise Reject("wrong_state", "stream failed earlier")
        if len(data) > self.cfg.max_plaintext_len:
            raise Reject("content_too_long", f"{len(data)} > {self.cfg.max_plaintext_len}")
        if self.send_n == NONCE_MAX:
            self.failed = True
            raise Reject("nonce_exhausted")
        last = self.policy.record_sealed(now_ms)
        flags = bytes([KEY_UPDATE if last else 0])
        record = flags + ENCRYPT(self.send_k, self.send_n, stream_ad(flags), data)
        self.send_n += 1
        if last:
            self.send_k = REKEY(self.send_k)
            self.policy.restart(now_ms)
        return record

    def open(self, record: bytes) -> bytes:
        if self.failed:
            raise Reject("wrong_state", "stream failed earlier")
        try:
            if len(record) < 1 + TAG_LEN:                                      # S1
                raise Reject("malformed", "record shorter than 17 bytes")
            if len(record) - 1 - TAG_LEN > self.cfg.max_plaintext_len:         # S2
                raise Reject("content_too_long", "record")
            flags = record[0]
            if flags not in (0, KEY_UPDATE):                                    # S3
                raise Reject("malformed", f"flags {flags:#04x}")
            data = DECRYPT(self.recv_k, self.recv_n, stream_ad(record[:1]), record[1:])  # S4
            self.recv_n += 1
            if flags == KEY_UPDATE:                                             # S5
                self.recv_k = REKEY(self.recv_k)
            return data
        except Reject:
            self.failed = True
            raise


class ReplayWindow:
    """06 §9.4: an RFC 6479-style bitmap over counters."""

    def __init__(self, size: int):
        self.size = -(-size // 64) * 64
        self.bits = 0
        self.high: int | None = None

    def check(self, c: int) -> None:
        if self.high is None or c > self.high:
            return
        if self.high - c >= self.size:
            raise Reject("too_old", f"counter {c} below the window (highest {self.high})")
        if self.bits >> (c % self.size) & 1:
            raise Reject("replayed", f"counter {c}")

    def mark(self, c: int) -> None:
        if self.high is None:
            self.high = c
        elif c > self.high:
            for x in range(self.high + 1, min(c, self.high + self.size) + 1):
                self.bits &= ~(1 << (x % self.size))
            self.high = c
        self.bits |= 1 << (c % self.size)


class DatagramTransport:
    """06 §9.3."""

    def __init__(self, session: Session, cfg: TransportConfig, start_ms: int):
        cfg.check(True)
        self.cfg = cfg
        self.send_k, self.epoch, self.counter = session.send, 0, 0
        self.exhausted = False
        self.policy = RekeyPolicy(cfg, start_ms)
        self.recv_epoch, self.recv_k, self.prev_k = 0, session.recv, None
        self.window = ReplayWindow(cfg.replay_window)

    def seal(self, now_ms: int, data: bytes) -> bytes:
        if len(data) > self.cfg.max_plaintext_len:
            raise Reject("content_too_long", f"{len(data)} > {self.cfg.max_plaintext_len}")
        if self.counter >= DATAGRAM_COUNTER_LIMIT or self.exhausted:
            raise Reject("nonce_exhausted")
        nonce = self.epoch << 48 | self.counter
        record = be64(nonce) + ENCRYPT(self.send_k, nonce, b"", data)
        self.counter += 1
        if self.policy.record_sealed(now_ms):
            if self.epoch < MAX_EPOCH:
                self.epoch += 1
                self.send_k = REKEY(self.send_k)
                self.policy.restart(now_ms)
            else:
                self.exhausted = True
        return record

    def open(self, record: bytes) -> bytes:
        if len(record) < 8 or record[:8] == b"\xff" * 8:                      # D1
            raise Reject("malformed", "no nonce, or the reserved nonce 2^64 - 1")
        if len(record) < 8 + TAG_LEN:                                           # D2
            raise Reject("malformed", "no room for the tag")
        if len(record) - 8 - TAG_LEN > self.cfg.max_plaintext_len:              # D3
            raise Reject("content_too_long", "record")
        nonce = int.from_bytes(record[:8], "big")
        epoch, counter = nonce >> 48, nonce & (DATAGRAM_COUNTER_LIMIT - 1)
        self.window.check(counter)                                              # D4
        e_now = self.recv_epoch                                                 # D5
        if epoch == e_now:
            key = self.recv_k
        elif e_now >= 1 and epoch == e_now - 1:
            key = self.prev_k
        elif epoch < e_now:
            raise Reject("too_old", f"epoch {epoch}, current {e_now}")
        elif epoch <= e_now + self.cfg.max_epoch_jump:
            keys = [self.recv_k]
            for _ in range(epoch - e_now):
                keys.append(REKEY(keys[-1]))
            key = keys[-1]
        else:
            raise Reject("malformed", f"epoch {epoch} more than {self.cfg.max_epoch_jump} ahead of {e_now}")
        data = DECRYPT(key, nonce, b"", record[8:])                             # D6
        self.window.mark(counter)                                               # D7
        if epoch > e_now:
            self.prev_k, self.recv_k, self.recv_epoch = keys[-2], key, epoch
        return data


# ==========================================================================
# Vector checks
# ==========================================================================

def h(s: str) -> bytes:
    return bytes.fromhex(s)


def party_local(p: dict) -> Local:
    return Local(h(p["signing_seed"]), h(p["kem_seed"]), h(p["static_private"]), p["not_after_ms"])


def party_config(p: dict) -> Config:
    pinned = h(p["pinned_address"]) if "pinned_address" in p else None
    return Config(h(p["context"]), p["post_quantum"], p["allow_classical"], p["max_application_len"], pinned)


def check_party(role: str, p: dict, local: Local) -> list[str]:
    errs = []
    for field, got in [("signing_key", local.signing_key), ("kem_key_digest", local.kem_key_digest),
                       ("address", local.address), ("static_public", local.static_public),
                       ("binding", local.binding)]:
        if got.hex() != p[field]:
            errs.append(f"{role}.{field}: computed {got.hex()}, vector {p[field]}")
    if role == "initiator" and "mlkem_keygen_seed" not in p:
        errs.append("initiator: mlkem_keygen_seed missing")
    if role == "responder" and "mlkem_encaps_randomness" not in p:
        errs.append("responder: mlkem_encaps_randomness missing")
    return errs


SESSION_FIELDS = ("mlkem_shared_secret", "psk", "mode", "handshake_hash", "transport")


def check_handshake(v: dict) -> list[str]:
    errs: list[str] = []
    pi, pr = v["initiator"], v["responder"]
    li, lr = party_local(pi), party_local(pr)
    errs += check_party("initiator", pi, li)
    errs += check_party("responder", pr, lr)
    try:
        ini = Initiator(li, party_config(pi), h(pi["ephemeral"]), h(pi["mlkem_keygen_seed"]))
        resp = Responder(lr, party_config(pr), h(pr["ephemeral"]), h(pr["mlkem_encaps_randomness"]))
    except Reject as e:
        return errs + [f"creating the handshake failed: {e}"]
    now = v["now_ms"]
    msgs = v["messages"]
    if not 1 <= len(msgs) <= 3:
        return errs + [f"{len(msgs)} messages"]
    sess_i = sess_r = None
    failed_at = None
    for idx, m in enumerate(msgs):
        where = f"message {idx + 1}"
        payload, wire = h(m["payload"]), h(m["message"])
        injected, want = m.get("injected", False), m.get("expected_error")
        # The honest writer, unless the message was injected.
        if not injected:
            try:
                if idx == 0:
                    got = ini.write_message_1(payload)
                elif idx == 1:
                    got = resp.write_message_2(payload)
                else:
                    got, sess_i = ini.write_message_3(payload)
            except Reject as e:
                return errs + [f"{where}: honest writer failed: {e}"]
            if got != wire:
                return errs + [f"{where}: recomputed {len(got)} bytes differ from the vector's "
                               f"{len(wire)} (first difference at byte "
                               f"{next((i for i, (a, b) in enumerate(zip(got, wire)) if a != b), min(len(got), len(wire)))})"]
        # The reader.
        try:
            if idx == 0:
                read = resp.read_message_1(wire)
            elif idx == 1:
                read = ini.read_message_2(now, wire)
            else:
                sess_r, read = resp.read_message_3(now, wire)
            outcome = None
        except Reject as e:
            outcome, read = e, None
        if want is None:
            if outcome is not None:
                return errs + [f"{where}: reader rejected it ({outcome}), vector expects acceptance"]
            if read != payload:
                errs.append(f"{where}: payload read {read.hex()}, vector {payload.hex()}")
        else:
            if outcome is None:
                return errs + [f"{where}: reader accepted it, vector expects {want}"]
            if outcome.cls != want:
                return errs + [f"{where}: reader reports {outcome.cls} ({outcome}), vector expects {want}"]
            failed_at = idx
            if idx + 1 != len(msgs):
                errs.append(f"messages after the failing message {idx + 1}")
            break
    if failed_at is not None:
        present = [f for f in SESSION_FIELDS if f in v]
        if present:
            errs.append(f"failed transcript carries session fields {present}")
        return errs
    if len(msgs) != 3 or sess_i is None or sess_r is None:
        return errs + ["a transcript without an error must complete"]
    return errs + check_sessions(v, li, lr, sess_i, sess_r)


def check_sessions(v: dict, li: Local, lr: Local, si: Session, sr: Session) -> list[str]:
    errs = []
    for who, peer, local in [("responder's view of the initiator", sr.peer, li),
                             ("initiator's view of the responder", si.peer, lr)]:
        if (peer.address, peer.signing_key, peer.kem_key_digest) != (local.address, local.signing_key,
                                                                      local.kem_key_digest):
            errs.append(f"{who}: address {peer.address.hex()}, want {local.address.hex()}")
    if si.h != sr.h:
        errs.append("the two sides' handshake hashes differ")
    if si.h.hex() != v.get("handshake_hash"):
        errs.append(f"handshake_hash: computed {si.h.hex()}, vector {v.get('handshake_hash')}")
    if si.mode != sr.mode or si.mode != v.get("mode"):
        errs.append(f"mode: initiator {si.mode}, responder {sr.mode}, vector {v.get('mode')}")
    if (si.send, si.recv) != (sr.recv, sr.send):
        errs.append("transport keys are not mirrored")
    ss_vec = v.get("mlkem_shared_secret")
    if si.mode == "post_quantum":
        if si.ss != sr.ss:
            errs.append("ML-KEM: decapsulated secret differs from the encapsulated one "
                        "(the recomputed ciphertext does not decapsulate to the recomputed secret)")
        if ss_vec != si.ss.hex():
            errs.append(f"mlkem_shared_secret: computed {si.ss.hex()}, vector {ss_vec}")
    elif ss_vec is not None:
        errs.append("mlkem_shared_secret present in a classical session")
    if si.psk != sr.psk or si.psk.hex() != v.get("psk"):
        errs.append(f"psk: computed {si.psk.hex()}, vector {v.get('psk')}")
    if ss_vec is not None and v.get("psk") != derive_psk(KEM_MLKEM768, h(ss_vec)).hex():
        errs.append("psk is not SHA-256(label || 01 || mlkem_shared_secret)")
    if "transport" in v:
        errs += run_transport(v["transport"], si, sr)
    return errs


def run_transport(t: dict, si: Session, sr: Session) -> list[str]:
    c = t["config"]
    cfg = TransportConfig(c["max_plaintext_len"], c["rekey_after_messages"], c["rekey_after_ms"],
                          c["replay_window"], c["max_epoch_jump"])
    cls = {"stream": StreamTransport, "datagram": DatagramTransport}.get(t["mode"])
    if cls is None:
        return [f"unknown transport mode {t['mode']!r}"]
    try:
        sides = {"initiator": cls(si, cfg, t["start_ms"]), "responder": cls(sr, cfg, t["start_ms"])}
    except Reject as e:
        return [f"creating the transport failed: {e}"]
    errs = []
    for n, ev in enumerate(t["events"]):
        op = ev["op"]
        if op == "seal":
            what, link, value_key = f"event {n} (seal by {ev['from']})", sides[ev["from"]], "record"
            fn = lambda: link.seal(ev["now_ms"], h(ev["plaintext"]))  # noqa: E731
        elif op == "open":
            what, link, value_key = f"event {n} (open by {ev['to']})", sides[ev["to"]], "plaintext"
            fn = lambda: link.open(h(ev["record"]))  # noqa: E731
        else:
            return errs + [f"event {n}: unknown op {op!r}"]
        want_value, want_error = ev.get(value_key), ev.get("expected_error")
        if (want_value is None) == (want_error is None):
            errs.append(f"{what}: exactly one of {value_key} and expected_error")
            continue
        try:
            got, err = fn(), None
        except Reject as e:
            got, err = None, e
        if want_error is not None:
            if err is None:
                errs.append(f"{what}: succeeded ({got.hex()}), vector expects {want_error}")
            elif err.cls != want_error:
                errs.append(f"{what}: {err.cls} ({err}), vector expects {want_error}")
        elif err is not None:
            errs.append(f"{what}: rejected ({err}), vector expects {want_value}")
        elif got.hex() != want_value:
            errs.append(f"{what}: computed {got.hex()}, vector {want_value}")
    return errs


def check_window(v: dict) -> list[str]:
    w = ReplayWindow(v["size"])
    if w.size != v["size"]:
        return [f"size {v['size']} is not a multiple of 64 (would be {w.size})"]
    errs = []
    for n, (counter, want) in enumerate(v["steps"]):
        try:
            w.check(counter)
            w.mark(counter)
            got = "accept"
        except Reject as e:
            got = e.cls
        if got != want:
            errs.append(f"step {n} (counter {counter}): {got}, vector {want}")
    return errs


def check_cacophony(v: dict) -> list[str]:
    errs = []
    if v["protocol_name"] != PROTOCOL_NAME.decode():
        return [f"protocol_name {v['protocol_name']!r}"]
    if os.path.exists(UPSTREAM_CACOPHONY):
        with open(UPSTREAM_CACOPHONY, encoding="utf-8") as fh:
            upstream = json.load(fh)
        for k, val in upstream.items():
            if v.get(k) != val:
                errs.append(f"field {k} differs from {os.path.relpath(UPSTREAM_CACOPHONY, VECTORS_DIR)}")
    if len(v["init_psks"]) != 1 or len(v["resp_psks"]) != 1:
        return errs + ["XXpsk3 takes exactly one psk per side"]
    ini = NoiseXXpsk3(True, h(v["init_prologue"]), h(v["init_static"]), h(v["init_ephemeral"]))
    resp = NoiseXXpsk3(False, h(v["resp_prologue"]), h(v["resp_static"]), h(v["resp_ephemeral"]))
    msgs = v["messages"]
    if len(msgs) < 3:
        return errs + ["fewer than 3 messages"]
    for n, m in enumerate(msgs[:3]):
        if n == 2:  # the psk, set before message 3 (06 §13)
            ini.psk, resp.psk = h(v["init_psks"][0]), h(v["resp_psks"][0])
        writer, reader = (ini, resp) if n % 2 == 0 else (resp, ini)
        c = writer.write_message(h(m["payload"]))
        if c.hex() != m["ciphertext"]:
            return errs + [f"handshake message {n}: computed {c.hex()}, vector {m['ciphertext']}"]
        try:
            p = reader.read_message(c)
        except Reject as e:
            return errs + [f"handshake message {n}: reader failed: {e}"]
        if p.hex() != m["payload"]:
            errs.append(f"handshake message {n}: payload read back differs")
    for who, side in [("initiator", ini), ("responder", resp)]:
        if side.h.hex() != v["handshake_hash"]:
            errs.append(f"handshake hash ({who}): computed {side.h.hex()}, vector {v['handshake_hash']}")
    i_k1, i_k2 = ini.split()
    r_k1, r_k2 = resp.split()
    # Transport messages alternate, the first being the responder's (message 3
    # was the initiator's); each direction counts nonces from 0.
    for n, m in enumerate(msgs[3:]):
        send_k, recv_k = (r_k2, i_k2) if n % 2 == 0 else (i_k1, r_k1)
        c = ENCRYPT(send_k, n // 2, b"", h(m["payload"]))
        if c.hex() != m["ciphertext"]:
            errs.append(f"transport message {n}: computed {c.hex()}, vector {m['ciphertext']}")
            continue
        if DECRYPT(recv_k, n // 2, b"", c).hex() != m["payload"]:
            errs.append(f"transport message {n}: does not decrypt on the other side")
    return errs


# ==========================================================================
# Self-test (hand-derived and published facts)
# ==========================================================================

def self_test() -> None:
    # BLAKE2s (RFC 7693 Appendix B), Noise constants (06 §3), RFC 7748 §6.1.
    assert HASH(b"abc").hex() == "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982"
    assert len(PROTOCOL_NAME) == 37 and PROTOCOL_NAME.hex() == (
        "4e6f6973655f585870736b335f32353531395f436861436861506f6c795f424c414b453273")
    assert PROLOGUE_LABEL.hex() == "7170632070717878"
    assert PSK_LABEL.hex() == "71706320707178782076312070736b"
    assert BINDING_LABEL.hex() == "71706320736967207631207071787820737461746963206b6579"
    assert MAX_PLAINTEXT_LEN == MAX_MESSAGE_LEN - TAG_LEN - 8
    alice, bob = (h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"),
                  h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
    assert x25519_public(alice).hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert DH(alice, x25519_public(bob)).hex() == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    try:  # a low-order point: all-zero output, refused (06 §12.10)
        DH(alice, bytes(32))
        raise AssertionError("all-zero DH accepted")
    except Reject as e:
        assert e.cls == "non_contributory"
    # Varints (01 §2.4).
    for raw, val in [("25", 37), ("7bbd", 15293), ("9d7f3e7d", 494878333), ("3f", 63), ("4040", 64)]:
        assert Reader(h(raw)).varint() == val and varint(val) == h(raw)
    for raw, cls in [("4025", "non_minimal_length"), ("80003fff", "non_minimal_length"),
                     ("c0", "invalid_length_prefix"), ("7b", "truncated"), ("", "truncated")]:
        try:
            Reader(h(raw)).varint()
            raise AssertionError(raw)
        except Reject as e:
            assert e.cls == cls, (raw, e.cls)
    # Ed25519: RFC 8032 test 1, the eight small-order keys of 02 §3.5, a
    # non-canonical encoding, and S + L.
    seed = h("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    pub = ed_public(seed)
    sig = ed_sign(seed, b"")
    assert pub.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert sig.hex() == ("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
                         "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
    assert pt_encode(pt_mul(int.from_bytes(hashlib.sha512(seed).digest()[:32], "little")
                            & ((1 << 254) - 8) | (1 << 254), BASE)) == pub
    assert valid_signing_key(pub) and ed_verify_strict(pub, b"", sig)
    assert not ed_verify_strict(pub, b"x", sig)
    s_plus_l = (int.from_bytes(sig[32:], "little") + L_ORDER).to_bytes(32, "little")
    assert not ed_verify_strict(pub, b"", sig[:32] + s_plus_l)
    for enc in ["0100000000000000000000000000000000000000000000000000000000000000",
                "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
                "0000000000000000000000000000000000000000000000000000000000000000",
                "0000000000000000000000000000000000000000000000000000000000000080",
                "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
                "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
                "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
                "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"]:
        pt = ed_decode(h(enc))
        assert pt is not None and small_order(pt) and pt_encode(pt) == h(enc) and not valid_signing_key(h(enc)), enc
    assert ed_decode(h("f0" + "ff" * 30 + "7f")) is None                  # y = p + 3
    assert ed_decode(h("0100000000000000000000000000000000000000000000000000000000000080")) is None  # x = 0, sign 1
    # ML-KEM-768: our Encaps_internal against cryptography's decapsulation,
    # the modulus check, sizes.
    rng = random.Random(6)
    for _ in range(2):
        dk, ek = mlkem_keypair(rng.randbytes(64))
        key, ct = mlkem_encaps_internal(ek, rng.randbytes(32))
        assert len(ct) == CT_LEN and dk.decapsulate(ct) == key
        assert mlkem_ek_valid(ek)
        bad = bytearray(ek)
        bad[0], bad[1] = 0xFF, bad[1] | 0x0F                                 # coefficient 0 = 4095
        assert not mlkem_ek_valid(bytes(bad))
    # psk and prologue (06 §4, §5, §14).
    assert derive_psk(KEM_NONE, None).hex() == "64b05822eb3bf4495d1f1075e61826bc5811c3bb6b7cb4e2ff25e8f65bbe55e4"
    assert prologue(b"").hex() == "7170632070717878" "01" "00"
    assert prologue(b"ctx").hex() == "7170632070717878" "01" "03" "637478"
    assert len(prologue(bytes(100))) == 8 + 1 + 2 + 100
    st = SymmetricState(PROTOCOL_NAME)
    st.mix_hash(prologue(b""))
    assert st.h.hex() == "675787bf9e163d2eb13acca049dfe5755bbac701f351d9105249665efa2befc2"
    # Replay window: the bitmap against a plain set model on a random walk.
    for size in (1024, 1088):
        w, seen, high = ReplayWindow(size), set(), None
        for _ in range(4000):
            c = max(0, (high or 0) + rng.randint(-1300, 40))
            want = ("accept" if high is None or c > high else "too_old" if high - c >= w.size
                    else "replayed" if c in seen else "accept")
            try:
                w.check(c)
                got = "accept"
            except Reject as e:
                got = e.cls
            assert got == want, (size, c, high, got, want)
            if got == "accept":
                w.mark(c)
                seen.add(c)
                high = c if high is None else max(high, c)
    worked_example()


def worked_example() -> None:
    """06 §14, run end to end with this file's implementation."""
    now = 1_000_000

    def run(pq: bool):
        li = Local(bytes([1]) * 32, bytes([2]) * 32, bytes([5]) * 32, 1_001_000)
        lr = Local(bytes([3]) * 32, bytes([4]) * 32, bytes([6]) * 32, 1_001_000)
        ini = Initiator(li, Config(b"ctx", pq, not pq, MAX_APPLICATION_LEN), bytes([7]) * 32, bytes([8]) * 64)
        resp = Responder(lr, Config(b"ctx", pq, not pq, MAX_APPLICATION_LEN), bytes([9]) * 32, bytes([10]) * 32)
        m1 = ini.write_message_1(b"one")
        assert resp.read_message_1(m1) == b"one"
        m2 = resp.write_message_2(b"two")
        assert ini.read_message_2(now, m2) == b"two"
        m3, si = ini.write_message_3(b"three")
        sr, app3 = resp.read_message_3(now, m3)
        assert app3 == b"three" and si.h == sr.h and si.mode == sr.mode
        assert sr.peer.address == li.address and si.peer.address == lr.address
        return (m1, m2, m3), si, sr

    (m1, m2, m3), si, sr = run(True)
    assert (len(m1), len(m2), len(m3)) == (1237, 1325, 206), (len(m1), len(m2), len(m3))
    assert m1[:32].hex() == "13be4feaeaf204c7fd3358fc9c00721881d174278128227ec674f37f7fe97b6d"
    assert si.mode == "post_quantum" and si.ss == sr.ss
    assert si.h.hex() == "f13ac720658cbd3fb11f68e2ae80887695c662757e6551abbf7c46368f3e30bc", si.h.hex()
    stream = StreamTransport(si, TransportConfig(), now)
    assert stream.seal(now, bytes(3)).hex() == "005b89276ca9bb5f60e1b654c94d1d5ca4aee147"
    dgram = DatagramTransport(sr, TransportConfig(), now)
    assert dgram.seal(now, bytes(3)).hex() == "0000000000000000" "654887c982e2ae96d289c6a1cae983c8763669"
    dgram = DatagramTransport(sr, TransportConfig(rekey_after_messages=2), now)
    assert [dgram.seal(now, b"")[:8].hex() for _ in range(3)][2] == "0001000000000002"
    (m1, m2, m3), si, _ = run(False)
    assert (len(m1), len(m2), len(m3)) == (53, 237, 206)
    assert si.mode == "classical"
    assert si.h.hex() == "55606ea209f47858357db0aa9f3fb09c441213a03cec4f7077a5651dfd3b113b", si.h.hex()


# ==========================================================================
# Driver
# ==========================================================================

CHECKS = {"handshake": check_handshake, "window": check_window, "cacophony": check_cacophony}

if __name__ == "__main__":
    # The outside check first: the Noise layer must reproduce cacophony
    # before the pqXX vectors built on it mean anything.
    sys.exit(vector_runner.main(sys.argv, [os.path.join(VECTORS_DIR, f) for f in FILES], CHECKS,
                                [self_test], first_kinds={"cacophony"}))
