#!/usr/bin/env python3
"""Independent checker for vectors/wire.json (qpc wire format).

Written from the normative rules of spec/01-wire.md (varints, frames, stream
framing, Hello, negotiation) in Python 3 with the standard library only; it
shares no code with the Rust crates. The file is first validated against
vectors/wire.schema.json with the `jsonschema` package.

Usage: python3 vectors/independent/check_wire.py [vectors/wire.json]
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import vector_runner

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS_DIR = os.path.dirname(HERE)
DEFAULT_FILE = os.path.join(VECTORS_DIR, "wire.json")

# --------------------------------------------------------------------------
# Constants of the protocol
# --------------------------------------------------------------------------

VARINT_MAX = (1 << 30) - 1
FRAME_HELLO = 0x0001
FRAME_PADDING = 0x0002
REGISTERED_FRAME_TYPES = frozenset({FRAME_HELLO, FRAME_PADDING})
ACCEPTED_VERSIONS = frozenset({1})
MAX_VERSIONS = 32
MAX_CAPABILITIES = 64
HELLO_MIN_BODY_LEN = 256  # §6.1: above the largest valid Hello body
HELLO_MAX_LEN = (1 + MAX_VERSIONS) + 4 + (2 + 2 * MAX_CAPABILITIES)  # 167 bytes, §6.1
HELLO_MAX_BODY_LEN = VARINT_MAX

ERROR_CLASSES = frozenset({
    "truncated", "frame_too_large", "non_minimal_length",
    "invalid_length_prefix", "value_too_large", "unknown_version",
    "unknown_frame_type", "trailing_bytes", "too_many_items", "malformed",
    "no_common_version", "unexpected_frame", "timeout",
})


class WireError(Exception):
    """A protocol error; `cls` is the error class name."""

    def __init__(self, cls: str, detail: str = ""):
        assert cls in ERROR_CLASSES, cls
        super().__init__(f"{cls}: {detail}" if detail else cls)
        self.cls = cls


class NeedMore(Exception):
    """Internal: the bytes present are a valid prefix but incomplete."""


# --------------------------------------------------------------------------
# Varint (RFC 9420 §2.1.2, minimal encoding required)
# --------------------------------------------------------------------------

def varint_parse(buf: bytes, pos: int) -> tuple[int, int]:
    """Parse one varint at buf[pos:]. Returns (value, new_pos).

    Raises WireError for invalid_length_prefix (as soon as the first byte is
    present) and non_minimal_length, NeedMore if bytes are missing."""
    if pos >= len(buf):
        raise NeedMore()
    first = buf[pos]
    prefix = first >> 6
    if prefix == 0b11:
        raise WireError("invalid_length_prefix", f"first byte 0x{first:02x}")
    size = {0b00: 1, 0b01: 2, 0b10: 4}[prefix]
    if pos + size > len(buf):
        raise NeedMore()
    value = first & 0x3F
    for b in buf[pos + 1:pos + size]:
        value = (value << 8) | b
    minimal = 1 if value < 64 else 2 if value < 16384 else 4
    if size != minimal:
        raise WireError("non_minimal_length", f"{value} in {size} bytes")
    return value, pos + size


def varint_encode(value: int) -> bytes:
    if value < 0 or value > VARINT_MAX:
        raise WireError("value_too_large", str(value))
    if value < 64:
        return bytes([value])
    if value < 16384:
        return bytes([0x40 | (value >> 8), value & 0xFF])
    return bytes([0x80 | (value >> 24), (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF])


def varint_decode_exact(buf: bytes) -> int:
    try:
        value, pos = varint_parse(buf, 0)
    except NeedMore:
        raise WireError("truncated", "input ends inside the varint") from None
    if pos != len(buf):
        raise WireError("trailing_bytes", f"{len(buf) - pos} bytes after the varint")
    return value


# --------------------------------------------------------------------------
# Frames
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Frame:
    version: int
    frame_type: int
    body: bytes

    def as_json(self) -> dict:
        return {"version": self.version, "frame_type": self.frame_type, "body": self.body.hex()}


def frame_parse(buf: bytes, pos: int, max_body_len: int, versions=ACCEPTED_VERSIONS) -> tuple[Frame, int]:
    """Parse one frame at buf[pos:]. Each check fires as soon as its bytes are
    present; NeedMore if the frame is incomplete but valid so far."""
    if pos >= len(buf):
        raise NeedMore()
    version = buf[pos]
    if version not in versions:
        raise WireError("unknown_version", f"header version {version}")
    if pos + 3 > len(buf):
        raise NeedMore()
    frame_type = (buf[pos + 1] << 8) | buf[pos + 2]
    if frame_type not in REGISTERED_FRAME_TYPES:
        raise WireError("unknown_frame_type", f"0x{frame_type:04x}")
    length, body_start = varint_parse(buf, pos + 3)
    if length > max_body_len:
        raise WireError("frame_too_large", f"body {length} > limit {max_body_len}")
    end = body_start + length
    if end > len(buf):
        raise NeedMore()
    return Frame(version, frame_type, bytes(buf[body_start:end])), end


def frame_decode_exact(buf: bytes, max_body_len: int, versions=ACCEPTED_VERSIONS) -> Frame:
    try:
        frame, pos = frame_parse(buf, 0, max_body_len, versions)
    except NeedMore:
        raise WireError("truncated", "input ends inside the frame") from None
    if pos != len(buf):
        raise WireError("trailing_bytes", f"{len(buf) - pos} bytes after the frame")
    return frame


def frame_encode(version: int, frame_type: int, body: bytes) -> bytes:
    """§4.2: version 0 is reserved and refused; the length is minimal."""
    if version == 0:
        raise WireError("unknown_version", "header version 0 is reserved")
    return bytes([version, frame_type >> 8, frame_type & 0xFF]) + varint_encode(len(body)) + body


class StreamDecoder:
    """Incremental frame decoder: push() any chunking, finish() at end of stream.

    Only the undecoded tail is kept; a frame is parsed again from its start
    whenever new bytes arrive (simple and obviously chunking-independent)."""

    def __init__(self, max_body_len: int):
        self.max_body_len = max_body_len
        self.buf = bytearray()
        self.failed: WireError | None = None

    def push(self, chunk: bytes) -> list[Frame]:
        if self.failed:
            raise self.failed
        self.buf += chunk
        out = []
        while True:
            try:
                frame, pos = frame_parse(bytes(self.buf), 0, self.max_body_len)
            except NeedMore:
                return out
            except WireError as e:
                self.failed = e
                e.frames_before = out  # frames completed in this push before the error
                raise
            del self.buf[:pos]
            out.append(frame)

    def finish(self) -> None:
        if self.failed:
            raise self.failed
        if self.buf:
            raise WireError("truncated", f"stream ends with {len(self.buf)} bytes of a partial frame")


# --------------------------------------------------------------------------
# Hello
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Hello:
    versions: tuple
    max_body_len: int
    capabilities: tuple

    def as_json(self) -> dict:
        return {"versions": list(self.versions), "max_body_len": self.max_body_len,
                "capabilities": list(self.capabilities)}


class Reader:
    def __init__(self, buf: bytes):
        self.buf = buf
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.buf):
            raise WireError("truncated", f"input ends inside {what}")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int, what: str) -> int:
        return int.from_bytes(self.take(n, what), "big")

    def varint(self, what: str) -> int:
        try:
            value, self.pos = varint_parse(self.buf, self.pos)
        except NeedMore:
            raise WireError("truncated", f"input ends inside the length of {what}") from None
        return value

    def uint_vector(self, width: int, max_items: int, what: str) -> list[int]:
        """`uintN x<V>` (spec/01-wire.md §3.2): varint byte length L; the L
        bytes must be present (truncated); then elements decoded one by one:
        the element after the bound fails with too_many_items, an element
        crossing the end of the vector with truncated."""
        length = self.varint(what)
        end = self.pos + length
        if end > len(self.buf):
            raise WireError("truncated", f"{what}: {length} bytes announced, {len(self.buf) - self.pos} present")
        items = []
        while self.pos < end:
            if len(items) == max_items:
                raise WireError("too_many_items", f"{what}: more than {max_items}")
            if self.pos + width > end:
                raise WireError("truncated", f"an element of {what} crosses the end of the vector")
            items.append(self.uint(width, what))
        return items


def hello_decode(body: bytes) -> Hello:
    r = Reader(body)
    versions = r.uint_vector(1, MAX_VERSIONS, "versions")
    max_body_len = r.uint(4, "max_body_len")
    capabilities = r.uint_vector(2, MAX_CAPABILITIES, "capabilities")
    # Rules (§6.3 steps 4-8, all malformed), then trailing bytes (step 9).
    if not versions:
        raise WireError("malformed", "empty version list")
    if 0 in versions:
        raise WireError("malformed", "version 0 listed")
    if any(a <= b for a, b in zip(versions, versions[1:])):
        raise WireError("malformed", f"versions {versions} not strictly descending")
    if not HELLO_MIN_BODY_LEN <= max_body_len <= HELLO_MAX_BODY_LEN:
        raise WireError("malformed", f"max_body_len {max_body_len} outside 256..=2^30-1")
    if any(a >= b for a, b in zip(capabilities, capabilities[1:])):
        raise WireError("malformed", f"capabilities {capabilities} not strictly ascending")
    if r.pos != len(body):
        raise WireError("trailing_bytes", f"{len(body) - r.pos} bytes after the Hello")
    return Hello(tuple(versions), max_body_len, tuple(capabilities))


def hello_encode(h: Hello) -> bytes:
    out = varint_encode(len(h.versions)) + bytes(h.versions)
    out += h.max_body_len.to_bytes(4, "big")
    out += varint_encode(2 * len(h.capabilities))
    out += b"".join(c.to_bytes(2, "big") for c in h.capabilities)
    return out


def hello_from_json(j: dict) -> Hello:
    return Hello(tuple(j["versions"]), j["max_body_len"], tuple(j["capabilities"]))


# --------------------------------------------------------------------------
# Negotiation
# --------------------------------------------------------------------------

def local_hello_frame(local: Hello) -> bytes:
    """Our Hello frame. An invalid local offer is a local error of the class
    of §6.3 (checked by decoding the encoding with the receiver's rules)."""
    body = hello_encode(local)
    hello_decode(body)
    return frame_encode(1, FRAME_HELLO, body)


class Negotiation:
    """The state machine of spec/01-wire.md §7.2, started at `now0`.

    State: ("awaiting", deadline) | ("done", outcome) | ("failed", WireError).
    Every input carries `now`; timer() and frame() return "awaiting" or
    "done", or raise the WireError the input produces."""

    def __init__(self, local: Hello, timeout_ms: int, now0: int = 0):
        self.local = local
        self.sent = local_hello_frame(local)  # an invalid offer: nothing starts
        self.state = ("awaiting", now0 + timeout_ms)

    def decoder_config(self) -> tuple[frozenset, int]:
        """§4.3: (accepted versions, max_body_len) of the frame decoder now."""
        if self.state[0] == "done":
            return frozenset({self.state[1]["version"]}), self.local.max_body_len
        return frozenset(self.local.versions) | {1}, self.local.max_body_len

    def _fail(self, err: WireError):
        self.state = ("failed", err)
        raise err

    def _result(self) -> str:
        return "done" if self.state[0] == "done" else "awaiting"

    def timer(self, now: int) -> str:
        return self._input(now, None)

    def frame(self, now: int, frame: Frame) -> str:
        return self._input(now, frame)

    def _input(self, now: int, frame: Frame | None) -> str:
        kind, data = self.state
        if kind == "failed":                        # sticky: e again
            raise data
        if kind == "awaiting" and now >= data:      # deadline first, inclusive
            self._fail(WireError("timeout", f"input at {now} ms, deadline {data} ms"))
        if frame is None:                           # timer before the deadline, or after Done
            return self._result()
        if kind == "done":
            if frame.frame_type == FRAME_HELLO:
                self._fail(WireError("unexpected_frame", "a second Hello"))
            return "done"                           # not a negotiation event
        if frame.frame_type != FRAME_HELLO:
            self._fail(WireError("unexpected_frame", f"first frame has type 0x{frame.frame_type:04x}"))
        if frame.version != 1:
            self._fail(WireError("malformed", f"Hello in a frame with header version {frame.version}"))
        try:
            peer = hello_decode(frame.body)
        except WireError as e:
            self._fail(e)
        common = set(self.local.versions) & set(peer.versions)
        if not common:
            self._fail(WireError("no_common_version",
                                 f"local {list(self.local.versions)}, peer {list(peer.versions)}"))
        self.state = ("done", {                      # §7.3
            "version": max(common),
            "capabilities": sorted(set(self.local.capabilities) & set(peer.capabilities)),
            "peer_max_body_len": peer.max_body_len,
        })
        return "done"


def run_transcript(local: Hello, timeout_ms: int, steps: list):
    """§11.1. steps: [(at_ms, frame bytes or None)]. Returns (our Hello frame,
    one result per step ("awaiting", "done" or an error class), problems with
    the transcript itself, the outcome if the last result is "done")."""
    n = Negotiation(local, timeout_ms)
    results, problems = [], []
    for i, (now, wire) in enumerate(steps):
        try:
            if wire is None:
                results.append(n.timer(now))
                continue
            versions, limit = n.decoder_config()
            try:
                frame = frame_decode_exact(wire, limit, versions)
            except WireError as e:
                results.append(e.cls)
                if i != len(steps) - 1:
                    problems.append(f"step {i}: a frame decode error ({e.cls}) is not the last step")
                continue
            results.append(n.frame(now, frame))
        except WireError as e:
            results.append(e.cls)
    final = n.state[1] if results and results[-1] == "done" else None
    return n.sent, results, problems, final


def negotiate(local: Hello, peer_frame: bytes, at_ms: int = 0, timeout_ms: int = 10_000) -> dict:
    """One-step transcript: the peer's frame at `at_ms`; returns the outcome or
    raises the step's error."""
    _, results, _, final = run_transcript(local, timeout_ms, [(at_ms, peer_frame)])
    if results[0] != "done":
        raise WireError(results[0])
    return final


# --------------------------------------------------------------------------
# Self-test with hand-derived facts
# --------------------------------------------------------------------------

def self_test() -> None:
    def expect_error(cls, fn, *args):
        try:
            fn(*args)
        except WireError as e:
            assert e.cls == cls, (cls, e.cls)
            return
        raise AssertionError(f"expected {cls}")

    # RFC 9000 §A.1 examples that are valid 1/2/4-byte varints.
    assert varint_decode_exact(bytes.fromhex("25")) == 37
    assert varint_decode_exact(bytes.fromhex("7bbd")) == 15293
    assert varint_decode_exact(bytes.fromhex("9d7f3e7d")) == 494878333
    assert varint_encode(37) == bytes.fromhex("25")
    assert varint_encode(15293) == bytes.fromhex("7bbd")
    assert varint_encode(494878333) == bytes.fromhex("9d7f3e7d")
    # RFC 9000's 8-byte example is a reserved prefix here; its 0x4025 is not minimal.
    expect_error("invalid_length_prefix", varint_decode_exact, bytes.fromhex("c2197c5eff14e88c"))
    expect_error("non_minimal_length", varint_decode_exact, bytes.fromhex("4025"))
    expect_error("value_too_large", varint_encode, 1 << 30)
    # Worked example: 01 0001 09 | 01 01 | 00100000 | 02 ff01
    wire = bytes.fromhex("01" "0001" "09" "01" "01" "00100000" "02" "ff01")
    f = frame_decode_exact(wire, 1 << 20)
    assert (f.version, f.frame_type, len(f.body)) == (1, FRAME_HELLO, 9)
    h = hello_decode(f.body)
    assert h == Hello((1,), 1048576, (0xFF01,)), h
    assert frame_encode(1, FRAME_HELLO, hello_encode(h)) == wire
    # spec/01-wire.md §2.4 varint examples.
    for hx, want in [("00", 0), ("3f", 63), ("4040", 64), ("7fff", 16383), ("80004000", 16384),
                     ("bfffffff", VARINT_MAX), ("80003fff", "non_minimal_length"),
                     ("c0", "invalid_length_prefix"), ("7b", "truncated"), ("9d7f3e", "truncated")]:
        if isinstance(want, int):
            assert varint_decode_exact(bytes.fromhex(hx)) == want and varint_encode(want).hex() == hx, hx
        else:
            expect_error(want, varint_decode_exact, bytes.fromhex(hx))
    # §12.2: a 300-byte Padding body has the header 01 0002 412c.
    assert frame_encode(1, FRAME_PADDING, bytes(300))[:5].hex() == "010002412c"
    expect_error("non_minimal_length", frame_decode_exact, bytes.fromhex("010002" "8000012c") + bytes(300), 1 << 20)
    # §6.4 invalid Hello bodies.
    for hx, want in [("00" "00000100" "00", "malformed"), ("020102" "00000100" "00", "malformed"),
                     ("020101" "00000100" "00", "malformed"), ("0100" "00000100" "00", "malformed"),
                     ("0101" "000000ff" "00", "malformed"), ("0101" "40000000" "00", "malformed"),
                     ("0101" "00000100" "0400020001", "malformed"), ("0101" "00000100" "03ff0102", "truncated"),
                     ("0101" "00000100", "truncated"), ("400101" "00000100" "00", "non_minimal_length"),
                     ("21" + bytes(range(33, 0, -1)).hex() + "00000100" "00", "too_many_items"),
                     ("0101" "00000100" "4082" + b"".join(c.to_bytes(2, "big") for c in range(1, 66)).hex(),
                      "too_many_items"),
                     ("28" + "01" * 35, "truncated"),
                     ("0101" "00000100" "0000", "trailing_bytes"), ("00" "00100000" "00" "ff", "malformed")]:
        expect_error(want, hello_decode, bytes.fromhex(hx))
    # §6.1: the largest valid Hello body is 167 bytes, below the 256 minimum.
    biggest = Hello(tuple(range(32, 0, -1)), HELLO_MIN_BODY_LEN, tuple(range(64)))
    assert len(hello_encode(biggest)) == HELLO_MAX_LEN == 167 < HELLO_MIN_BODY_LEN
    assert hello_decode(hello_encode(biggest)) == biggest
    assert hello_decode(bytes.fromhex("01ff" "00000100" "00")).max_body_len == 256
    # §4.2: an encoder refuses header version 0.
    expect_error("unknown_version", frame_encode, 0, FRAME_PADDING, b"")
    # §7.3 example: [3,2,1]/[1,5,9] meets [2,1]/[5,7,9] -> version 2, [5, 9].
    a = Hello((3, 2, 1), 1 << 20, (1, 5, 9))
    b = Hello((2, 1), 4096, (5, 7, 9))
    assert negotiate(a, frame_encode(1, FRAME_HELLO, hello_encode(b))) == \
        {"version": 2, "capabilities": [5, 9], "peer_max_body_len": 4096}
    # §7.3 second example: [3, 2] meets [1]. The v1 Hello frame passes the
    # pre-negotiation decoder (local versions plus 1, §4.3), then no common version.
    hello_b1 = frame_encode(1, FRAME_HELLO, hello_encode(Hello((1,), 4096, ())))
    expect_error("no_common_version", negotiate, Hello((3, 2), 1 << 20, ()), hello_b1)
    # §7.2 by hand. Deadline inclusive and applied to frames by the machine.
    v1 = Hello((1,), 1 << 20, ())
    pad_v1 = frame_encode(1, FRAME_PADDING, b"\0\0")
    def steps_of(local, timeout, steps):
        sent, results, problems, final = run_transcript(local, timeout, steps)
        assert not problems, problems
        return results, final
    assert steps_of(v1, 10, [(9, None), (10, None), (11, None)])[0] == ["awaiting", "timeout", "timeout"]
    assert steps_of(v1, 10, [(10, hello_b1)])[0] == ["timeout"]
    assert steps_of(v1, 10, [(9, hello_b1)]) == (["done"], {"version": 1, "capabilities": [], "peer_max_body_len": 4096})
    # Done: non-Hello frames and timers leave the outcome, even past the deadline;
    # a second Hello fails; failure is sticky through timers and frames.
    assert steps_of(v1, 10, [(0, hello_b1), (50, pad_v1), (60, None), (60, hello_b1), (70, None), (70, pad_v1)])[0] \
        == ["done", "done", "done", "unexpected_frame", "unexpected_frame", "unexpected_frame"]
    assert steps_of(v1, 10, [(0, pad_v1), (1, hello_b1)])[0] == ["unexpected_frame", "unexpected_frame"]
    # After Done on version 2, only version-2 frames pass the decoder.
    v21 = Hello((2, 1), 1 << 20, ())
    h21 = frame_encode(1, FRAME_HELLO, hello_encode(v21))
    assert steps_of(v21, 10, [(0, h21), (1, frame_encode(2, FRAME_PADDING, b"")),
                              (2, frame_encode(1, FRAME_PADDING, b""))])[0] == ["done", "done", "unknown_version"]
    # Before Done the limit is the one we announce: 256 passes, 257 does not.
    v1_256 = Hello((1,), 256, ())
    assert steps_of(v1_256, 10, [(0, frame_encode(1, FRAME_PADDING, bytes(256)))])[0] == ["unexpected_frame"]
    assert steps_of(v1_256, 10, [(0, frame_encode(1, FRAME_PADDING, bytes(257)))])[0] == ["frame_too_large"]
    # A Hello in a version-2 frame: unknown_version for a v1-only endpoint, malformed for a v2 one.
    h_in_v2 = frame_encode(2, FRAME_HELLO, hello_encode(v21))
    assert steps_of(v1, 10, [(0, h_in_v2)])[0] == ["unknown_version"]
    assert steps_of(v21, 10, [(0, h_in_v2)])[0] == ["malformed"]
    # A decode error must end the transcript.
    assert run_transcript(v1, 10, [(0, h_in_v2), (1, None)])[2]
    # Chunking independence on the worked example.
    d = StreamDecoder(1 << 20)
    got = []
    for b in wire + wire:
        got += d.push(bytes([b]))
    d.finish()
    assert got == [f, f]


# --------------------------------------------------------------------------
# Vector checks: each returns a list of failure strings (empty = pass)
# --------------------------------------------------------------------------

def run(fn, *args):
    """Returns ("ok", value) or ("error", class, detail)."""
    try:
        return ("ok", fn(*args))
    except WireError as e:
        return ("error", e.cls, str(e))


def compare(name_of_result, result, v, expected_key) -> list[str]:
    want_err = v.get("expected_error")
    if result[0] == "error":
        if want_err is None:
            return [f"{name_of_result}: got error {result[2]}, expected success"]
        if result[1] != want_err:
            return [f"{name_of_result}: got error {result[2]}, expected {want_err}"]
        return []
    if want_err is not None:
        return [f"{name_of_result}: succeeded with {result[1]!r}, expected error {want_err}"]
    if result[1] != v[expected_key]:
        return [f"{name_of_result}: got {result[1]!r}, expected {v[expected_key]!r}"]
    return []


def check_varint(v) -> list[str]:
    enc = bytes.fromhex(v["encoded"])
    errs = compare("decode", run(varint_decode_exact, enc), v, "value")
    if "value" in v:
        r = run(varint_encode, v["value"])
        if r[0] == "error":
            errs.append(f"encode: {r[2]}")
        elif r[1] != enc:
            errs.append(f"encode: got {r[1].hex()}, expected {enc.hex()}")
    return errs


def check_frame(v) -> list[str]:
    enc = bytes.fromhex(v["encoded"])
    r = run(lambda: frame_decode_exact(enc, v["max_body_len"]).as_json())
    errs = compare("decode", r, v, "frame")
    if "frame" in v:
        f = v["frame"]
        r = run(frame_encode, f["version"], f["frame_type"], bytes.fromhex(f["body"]))
        if r[0] == "error":
            errs.append(f"encode: {r[2]}")
        elif r[1] != enc:
            errs.append(f"encode: got {r[1].hex()}, expected {enc.hex()}")
    return errs


def check_stream(v) -> list[str]:
    data = bytes.fromhex(v["stream"])
    chunks = v["chunks"]
    if sum(chunks) != len(data):
        return [f"chunk sizes sum to {sum(chunks)}, stream has {len(data)} bytes"]
    d = StreamDecoder(v["max_body_len"])
    frames, err, pos = [], None, 0
    try:
        for n in chunks:
            frames += d.push(data[pos:pos + n])
            pos += n
        d.finish()
    except WireError as e:
        frames += getattr(e, "frames_before", [])
        err = e
    errs = []
    got = [f.as_json() for f in frames]
    if got != v["frames"]:
        errs.append(f"frames: got {got!r}, expected {v['frames']!r}")
    want = v.get("expected_error")
    if err is None and want is not None:
        errs.append(f"no error, expected {want}")
    elif err is not None and err.cls != want:
        errs.append(f"got error {err}, expected {want or 'no error'}")
    return errs


def check_hello(v) -> list[str]:
    enc = bytes.fromhex(v["encoded"])
    errs = compare("decode", run(lambda: hello_decode(enc).as_json()), v, "hello")
    if "hello" in v:
        r = run(hello_encode, hello_from_json(v["hello"]))
        if r[0] == "error":
            errs.append(f"encode: {r[2]}")
        elif r[1] != enc:
            errs.append(f"encode: got {r[1].hex()}, expected {enc.hex()}")
    return errs


def check_negotiation(v) -> list[str]:
    """§11.1: our Hello frame, each step's result, then the final expectation."""
    errs = []
    local = hello_from_json(v["local"])
    steps = v["steps"]
    if not steps:
        return ["no steps"]
    for i in range(1, len(steps)):
        if steps[i]["at_ms"] < steps[i - 1]["at_ms"]:
            errs.append(f"step {i}: at_ms {steps[i]['at_ms']} is before the previous step's")
    if steps[-1]["result"] == "awaiting":
        errs.append("the last step's result is 'awaiting'")
    inputs = [(s["at_ms"], bytes.fromhex(s["frame"]) if "frame" in s else None) for s in steps]
    try:
        sent, results, problems, final = run_transcript(local, v["timeout_ms"], inputs)
    except WireError as e:
        return errs + [f"local offer rejected: {e}"]
    errs += problems
    if sent.hex() != v["local_frame"]:
        errs.append(f"local_frame: got {sent.hex()}, expected {v['local_frame']}")
    for i, (step, got) in enumerate(zip(steps, results)):
        if got != step["result"]:
            kind = "frame" if "frame" in step else "timer"
            errs.append(f"step {i} ({kind} at {step['at_ms']} ms): got {got}, expected {step['result']}")
    # The final expectation follows the last step's result.
    last = results[-1]
    if last == "done":
        got = ("ok", final)
    elif last == "awaiting":
        got = ("ok", None)
    else:
        got = ("error", last, last)
    errs += compare("final", got, v, "outcome")
    return errs


CHECKS = {
    "varint": check_varint,
    "frame": check_frame,
    "stream": check_stream,
    "hello": check_hello,
    "negotiation": check_negotiation,
}

EXPECTATION = {"varint": "value", "frame": "frame", "hello": "hello", "negotiation": "outcome"}


def structural_errors(v) -> list[str]:
    """Checks the schema cannot express (kept even though the schema has most)."""
    kind = v["kind"]
    errs = []
    if "expected_error" in v and v["expected_error"] not in ERROR_CLASSES:
        errs.append(f"unknown error class {v['expected_error']!r}")
    if kind in EXPECTATION and (EXPECTATION[kind] in v) == ("expected_error" in v):
        errs.append(f"must have exactly one of {EXPECTATION[kind]!r} and 'expected_error'")
    return errs


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------

def check(v) -> list[str]:
    return structural_errors(v) or CHECKS[v["kind"]](v)


if __name__ == "__main__":
    sys.exit(vector_runner.main(sys.argv, [DEFAULT_FILE], {kind: check for kind in CHECKS}, [self_test]))
