#!/usr/bin/env python3
"""Independent checker for vectors/channel.json (spec/10-mesh.md §13).

Written from spec/10-mesh.md §3 and §13, spec/02-identity.md §6 (labelled
Ed25519 signatures) and spec/00-overview.md alone. It shares no code with
the Rust crates or with the other checkers and never calls them.
Primitives: hashlib (SHA-256) and pyca `cryptography` (ChaCha20Poly1305,
Ed25519). Every layout, the associated data, the check order of §13.4 and
the flood delay of §13.6 are implemented here, and so is managed flooding
(§13.6 steps 1-5 over the two-hop neighbourhood of §13.6.1: the weighted
window, coverage counts, the "neighbour beyond" test and the implicit
acknowledgement) for the flood_decision transcripts. The sender's address is
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


# --- Managed flooding (§13.6, §13.6.1) -------------------------------------

MAX_RECORDED = 16  # step 2: distinct transmitters recorded per entry


class Neighbourhood:
    """What a node knows (§13.6.1): its live neighbours and, for each, the
    neighbours it learnt by N2 (an empty set: unknown)."""

    def __init__(self, own, neighbours):
        self.own = own
        self.of = {n: set(theirs) for n, theirs in neighbours.items()}

    def known(self, transmitters):
        return any(self.of.get(t) for t in transmitters)

    def times_covered(self, n, transmitters):
        """Step 3: once per recorded transmitter equal to n, and once per
        recorded transmitter with n as a known neighbour."""
        return sum(1 for t in transmitters if t == n or n in self.of.get(t, ()))

    def left(self, transmitters, cover):
        """Live neighbours covered fewer than `cover` times."""
        return sum(1 for n in self.of if self.times_covered(n, transmitters) < cover)

    def someone_should_relay(self, transmitters):
        """Step 5: a neighbour y no transmitter covers has a neighbour of its
        own that is not us, not our neighbour and not covered."""
        return any(
            self.times_covered(y, transmitters) == 0
            and any(
                m != self.own and m not in self.of and self.times_covered(m, transmitters) == 0
                for m in theirs
            )
            for y, theirs in self.of.items()
        )


def weighted_window(window, u, n):
    """Step 1: window - floor(3 window u / (4 n)); unknown or n = 0: window."""
    if u is None or n == 0:
        return window
    return window - (3 * window * min(u, n)) // (4 * n)


class Entry:
    """One pending message: due time, copies counted, transmitters recorded,
    and, once sent, how many more sends an unacknowledged wait allows."""

    def __init__(self, due, transmitters, repeats_left=None):
        self.due, self.heard, self.transmitters = due, 0, []
        self.repeats_left = repeats_left  # None: not yet sent (step 3 pending)
        for t in transmitters:
            self.record(t)

    def record(self, t):
        if t is not None and t not in self.transmitters and len(self.transmitters) < MAX_RECORDED:
            self.transmitters.append(t)


def flood_transcript(v, any_copy_acknowledges=False):
    """Replays a flood_decision vector with this model; returns the first
    due time and the releases of each poll. `any_copy_acknowledges` swaps
    in the rule step 5 replaced (any copy heard since our transmission ends
    the wait), for the self-check that the vectors tell the two apart."""
    c = v["config"]
    window, cover = c["window_ms"], c["cover"]
    own = bytes.fromhex(v["own_hop_id"])
    hood = Neighbourhood(
        own, {bytes.fromhex(n["hop_id"]): {bytes.fromhex(t) for t in n["theirs"]} for n in v["neighbours"]}
    )
    dest = bytes.fromhex(v["destination"])
    if v["role"] == "relay":
        first = v["first_transmitter"] and bytes.fromhex(v["first_transmitter"])
        # Step 1's u is "step 3 with that one transmitter"; one transmitter
        # covers a neighbour at most once, so with cover >= 2 step 3 would
        # leave every neighbour: u counts those it does not cover at all.
        u = hood.left([first], 1) if cover >= 1 and first and hood.known([first]) else None
        w = weighted_window(window, u, len(hood.of))
        entry = Entry(flood_delay(own, v["message_type"], dest, v["message_id"], w), [first])
    else:
        assert cover >= 1 and c["origin_repeats"] >= 1, "an originator that keeps no entry"
        entry = Entry(window, [], c["origin_repeats"])
    due, polls, sent_heard = entry.due, [], 0
    for step in v["steps"]:
        if "heard" in step:
            if entry:
                entry.heard += 1
                entry.record(step["heard"] and bytes.fromhex(step["heard"]))
            continue
        now, released = step["at"], []
        while entry and entry.due <= now:
            if entry.repeats_left is None:  # step 3
                by_coverage = cover >= 1 and hood.known(entry.transmitters)
                if by_coverage:
                    send = hood.left(entry.transmitters, cover) > 0
                else:
                    send = entry.heard < c["threshold"]
                if not send:
                    released.append({"suppressed": entry.heard})
                    entry = None
                    continue
                released.append("transmit")
                if by_coverage and entry.heard < c["echo_below"]:  # step 5: wait
                    entry.repeats_left, entry.due, sent_heard = 1, now + window, entry.heard
                else:
                    entry = None
                continue
            # Step 5: the end of a wait after our transmission.
            unacknowledged = hood.someone_should_relay(entry.transmitters)
            if any_copy_acknowledges:
                unacknowledged = unacknowledged and entry.heard == sent_heard
            if not unacknowledged:
                entry = None
                continue
            released.append("transmit")
            entry.repeats_left -= 1
            entry.due, sent_heard = now + window, entry.heard
            if entry.repeats_left == 0:
                entry = None
        polls.append(released)
    return due, polls


def check_flood_decision(v):
    times = [s["at"] for s in v["steps"]]
    if times != sorted(times):
        return "steps out of time order"
    hood = {n["hop_id"] for n in v["neighbours"]}
    if any(s.get("heard") not in hood | {None} for s in v["steps"]):
        return "a copy from a node that is not a listed neighbour"
    due, polls = flood_transcript(v)
    if due != v["due_ms"]:
        return f"due {v['due_ms']}, want {due}"
    want = [s["released"] for s in v["steps"] if "poll" in s]
    if polls != want:
        return f"releases {want}, want {polls}"


def old_rule_is_refuted(data):
    """The per-neighbour acknowledgement of step 5 must be tested: under the
    rule it replaced (any copy ends the wait) some vector must come out
    differently."""
    decisions = [v for v in data["vectors"] if v["kind"] == "flood_decision"]
    if all(flood_transcript(v, True) == flood_transcript(v) for v in decisions):
        return "no flood_decision vector tells step 5 from 'any copy ends the wait'"


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
    want = weighted_window(v["window_ms"], v.get("uncovered"), v["neighbours"])
    if want != v["weighted_window_ms"]:
        return f"window {v['weighted_window_ms']}, want {want}"


CHECKS = {
    "derive": check_derive,
    "seal": check_seal,
    "open": check_open,
    "flood_delay": check_flood_delay,
    "flood_window": check_flood_window,
    "flood_decision": check_flood_decision,
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
                                file_checks=[("worked example", spec_worked_example),
                                             ("step 5 rule", old_rule_is_refuted)]))
