#!/usr/bin/env python3
"""Independent checker for vectors/lora.json (spec/11-lora-link.md).

Written from spec/11-lora-link.md and spec/00-overview.md alone. It shares
no code with the Rust crates or the other checkers and never calls them.
Standard library only (fractions.Fraction for the time on air) plus
`jsonschema` for the schema. It re-derives every vector: the Semtech
time-on-air formula as exact rationals, the region rules (MTU, duty cycle,
dwell time), the sliding-window duty-cycle rule, the link-frame codec with
its check order, fragmentation, and a reassembler model run step by step.

usage: python3 vectors/independent/check_lora.py [vectors/lora.json]
exit status: 0 all pass, 1 any failure, 2 a dependency is missing.
"""

import math
import os
import sys
from fractions import Fraction

import vector_runner

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.dirname(HERE)


class Refused(Exception):
    """An input the spec rejects; args[0] is the error class."""


# --------------------------------------------------------------------------
# §2 radio profiles, regions, MTU
# --------------------------------------------------------------------------

def validate_radio(r):
    if not 7 <= r["spreading_factor"] <= 12:
        raise Refused("invalid_config")
    if r["bandwidth_hz"] not in (125_000, 250_000, 500_000):
        raise Refused("invalid_config")
    if not 1 <= r["coding_rate"] <= 4:
        raise Refused("invalid_config")
    if r["preamble_symbols"] < 6:
        raise Refused("invalid_config")


def symbol_time(r):
    """Seconds, exact."""
    return Fraction(2 ** r["spreading_factor"], r["bandwidth_hz"])


def ldro_on(r):
    if r["ldro"] == "on":
        return True
    if r["ldro"] == "off":
        return False
    return symbol_time(r) >= Fraction(16384, 1_000_000)


def payload_symbols(r, pl):
    if pl > 255:
        raise Refused("frame_too_long")
    sf = r["spreading_factor"]
    de = 1 if ldro_on(r) else 0
    ih = 0 if r["explicit_header"] else 1
    crc = 1 if r["crc"] else 0
    numerator = 8 * pl - 4 * sf + 28 + 16 * crc - 20 * ih
    return 8 + max(math.ceil(Fraction(numerator, 4 * (sf - 2 * de))) * (r["coding_rate"] + 4), 0)


def time_on_air(r, pl):
    """Seconds, exact: (n_preamble + 4.25 + payload symbols) * T_sym."""
    return (r["preamble_symbols"] + Fraction(17, 4) + payload_symbols(r, pl)) * symbol_time(r)


def ns(seconds):
    value = seconds * 1_000_000_000
    assert value.denominator == 1, f"{seconds} s is not a whole number of ns"
    return int(value)


EU868_DUTY = {"eu868_g1": 10, "eu868_g2": 1, "eu868_g3": 100, "eu868_g4": 10}
DWELL_NS = 400_000_000


def link_rules(r, region):
    validate_radio(r)
    sf, bw = r["spreading_factor"], r["bandwidth_hz"]
    if region in EU868_DUTY:
        if bw == 125_000:
            mtu = {7: 222, 8: 222, 9: 115, 10: 51, 11: 51, 12: 51}[sf]
        elif bw == 250_000 and sf == 7:
            mtu = 222
        else:
            raise Refused("invalid_config")
        return {"mtu": mtu, "duty_cycle_permille": EU868_DUTY[region], "dwell_time_ns": None}
    if region == "us915":
        if bw != 125_000 or sf not in (7, 8, 9):
            raise Refused("invalid_config")
        return {"mtu": {7: 242, 8: 125, 9: 53}[sf], "duty_cycle_permille": None, "dwell_time_ns": DWELL_NS}
    raise ValueError(f"unknown region {region}")


def check_airtime(v):
    r, pl = v["radio"], v["payload_len"]
    try:
        validate_radio(r)
        got = {
            "ldro_on": ldro_on(r),
            "symbol_time_ns": ns(symbol_time(r)),
            "payload_symbols": payload_symbols(r, pl),
            "airtime_ns": ns(time_on_air(r, pl)),
        }
    except Refused as e:
        return outcome_matches(None, e.args[0], v, "expected")
    return outcome_matches(got, None, v, "expected")


def check_link_profile(v):
    try:
        got = link_rules(v["radio"], v["region"])
    except Refused as e:
        return outcome_matches(None, e.args[0], v, "expected")
    return outcome_matches(got, None, v, "expected")


def outcome_matches(got, error, v, field):
    if error is not None:
        if v.get("expected_error") != error:
            return f"the spec refuses it with {error}, the vector says {v.get('expected_error')!r} / {v.get(field)!r}"
        return None
    if "expected_error" in v:
        return f"the spec accepts it ({got}), the vector expects {v['expected_error']}"
    if v.get(field) != got:
        return f"{field}: re-derived {got}, vector {v.get(field)}"
    return None


# --------------------------------------------------------------------------
# §4 duty cycle
# --------------------------------------------------------------------------

class Budget:
    """Transmissions as exact [start, end) intervals in ns; a new one may
    start when the radio is idle and the airtime of the transmissions that
    end after start + airtime - W, plus its own, fits the allowance."""

    def __init__(self, permille, window_ms):
        self.window = window_ms * 1_000_000
        self.allowance = self.window * permille // 1000
        self.sent = []

    def allowed(self, airtime, start):
        if self.sent and start < self.sent[-1][1]:
            return False
        cut = start + airtime - self.window
        counted = sum(e - s for s, e in self.sent if e > cut)
        return counted + airtime <= self.allowance

    def can_transmit(self, airtime, now_ms):
        return self.allowed(airtime, now_ms * 1_000_000)

    def earliest(self, airtime, now_ms):
        if airtime > self.allowance:
            return None
        # The predicate is monotone in the start time; search the smallest
        # millisecond, bounded by the last end plus one window.
        lo = now_ms
        if self.allowed(airtime, lo * 1_000_000):
            return lo
        hi = max(now_ms, -(-(self.sent[-1][1] + self.window) // 1_000_000))
        assert self.allowed(airtime, hi * 1_000_000)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.allowed(airtime, mid * 1_000_000):
                hi = mid
            else:
                lo = mid
        return hi

    def transmit(self, airtime, now_ms):
        start = now_ms * 1_000_000
        if not self.allowed(airtime, start):
            return False
        self.sent.append((start, start + airtime))
        return True

    def worst_window(self):
        """The most airtime overlapping any window, at every breakpoint."""
        worst = 0
        for s0, e0 in self.sent:
            for s in (s0, e0 - self.window):
                total = sum(max(0, min(e, s + self.window) - max(a, s)) for a, e in self.sent)
                worst = max(worst, total)
        return worst


def check_duty_cycle(v):
    b = Budget(v["duty_cycle_permille"], v["window_ms"])
    if b.allowance != v["allowance_ns"]:
        return f"allowance {b.allowance}, vector {v['allowance_ns']}"
    last = 0
    for i, s in enumerate(v["steps"]):
        if s["at_ms"] < last:
            return f"step {i}: time goes backwards"
        last = s["at_ms"]
        can = b.can_transmit(s["airtime_ns"], s["at_ms"])
        if can != s["can_transmit"]:
            return f"step {i}: can_transmit {can}, vector {s['can_transmit']}"
        earliest = b.earliest(s["airtime_ns"], s["at_ms"])
        if earliest != s["earliest_ms"]:
            return f"step {i}: earliest {earliest}, vector {s['earliest_ms']}"
        if s["transmit"]:
            b.transmit(s["airtime_ns"], s["at_ms"])
    if b.worst_window() > b.allowance:
        return "a window exceeds the allowance"
    return None


# --------------------------------------------------------------------------
# §6 link frames, fragmentation, reassembly
# --------------------------------------------------------------------------

def decode_frame(b):
    """Checks L1-L8 in the spec's order; returns the decoded JSON object."""
    if len(b) > 255:
        raise Refused("frame_too_long")
    if not b:
        raise Refused("truncated")
    kind, low = b[0] >> 6, b[0] & 0x3F
    if kind == 0:
        if low != 0 or len(b) == 1:
            raise Refused("malformed")
        return {"frame": "whole", "datagram": b[1:].hex()}
    if kind == 1:
        if len(b) < 4:
            raise Refused("truncated")
        if low == 0 or b[3] > low or len(b) == 4:
            raise Refused("malformed")
        return {"frame": "fragment", "tag": int.from_bytes(b[1:3], "big"), "index": b[3],
                "last": low, "payload": b[4:].hex()}
    if kind == 2:
        if len(b) < 3:
            raise Refused("truncated")
        if low == 0:
            raise Refused("malformed")
        want = 3 + (low + 1 + 7) // 8
        if len(b) < want:
            raise Refused("truncated")
        if len(b) > want:
            raise Refused("trailing_bytes")
        bits = int.from_bytes(b[3:], "little")
        missing = [i for i in range(8 * (want - 3)) if bits >> i & 1]
        if not missing or missing[-1] > low:
            raise Refused("malformed")
        return {"frame": "nack", "tag": int.from_bytes(b[1:3], "big"), "last": low, "missing": missing}
    raise Refused("unknown_link_frame")


def check_frame(v):
    b = bytes.fromhex(v["encoded"])
    try:
        got = decode_frame(b)
    except Refused as e:
        return outcome_matches(None, e.args[0], v, "decoded")
    return outcome_matches(got, None, v, "decoded")


def split(datagram, mtu, tag):
    if not 16 <= mtu <= 255:
        raise Refused("invalid_config")
    if not datagram:
        raise Refused("malformed")
    if len(datagram) + 1 <= mtu:
        return [b"\x00" + datagram]
    chunk = mtu - 4
    count = -(-len(datagram) // chunk)
    if count > 64:
        raise Refused("datagram_too_long")
    return [bytes([0x40 | (count - 1)]) + tag.to_bytes(2, "big") + bytes([i])
            + datagram[i * chunk:(i + 1) * chunk] for i in range(count)]


def check_split(v):
    try:
        got = [f.hex() for f in split(bytes.fromhex(v["datagram"]), v["mtu"], v["tag"])]
    except Refused as e:
        return outcome_matches(None, e.args[0], v, "frames")
    return outcome_matches(got, None, v, "frames")


class Reassembly:
    """§6.5 as a dictionary of partial datagrams keyed by (source, tag)."""

    def __init__(self, c):
        self.c = c
        self.entries = {}
        self.evicted = []  # give-ups at admission, reported with the next timeout

    def held(self):
        return sum(sum(len(p) for p in e["parts"].values()) for e in self.entries.values())

    def frame(self, now, source, b):
        f = decode_frame(b)
        if f["frame"] == "whole":
            return "datagram", bytes.fromhex(f["datagram"])
        if f["frame"] == "nack":
            return "nack", None
        key, payload, index = (source, f["tag"]), bytes.fromhex(f["payload"]), f["index"]
        c = self.c
        if key not in self.entries:
            # At a bound the oldest (first, source, tag) entry, of this source or of all, is given up.
            at_source = sum(1 for k in self.entries if k[0] == source) >= c["max_entries_per_source"]
            if at_source or len(self.entries) >= c["max_entries"]:
                old = min((k for k in self.entries if not at_source or k[0] == source),
                          key=lambda k: (self.entries[k]["first"], k[0], k[1]))
                gone = self.entries.pop(old)
                self.evicted.append({"source": old[0], "tag": old[1], "received": len(gone["parts"]),
                                     "count": gone["last"] + 1})
            self.entries[key] = {"last": f["last"], "parts": {}, "first": now, "quiet": now, "nacks": 0,
                                 "unanswered": 0}
        e = self.entries[key]
        if e["last"] != f["last"] or (index in e["parts"] and e["parts"][index] != payload):
            del self.entries[key]
            raise Refused("conflicting_fragment")
        if index in e["parts"]:
            return "duplicate", None
        have = sum(len(p) for p in e["parts"].values())
        if have + len(payload) > c["max_datagram_len"]:
            del self.entries[key]
            raise Refused("datagram_too_long")
        if self.held() + len(payload) > c["max_bytes"]:
            if not e["parts"]:
                del self.entries[key]
            raise Refused("reassembly_full")
        e["parts"][index] = payload
        e["quiet"] = now
        e["unanswered"] = 0
        if len(e["parts"]) < e["last"] + 1:
            return "stored", None
        del self.entries[key]
        return "datagram", b"".join(e["parts"][i] for i in range(e["last"] + 1))

    def delay(self, e):
        """The quiet time before the next NACK: doubled per unanswered NACK, capped."""
        return min(self.c["nack_delay_ms"] * 2 ** e["unanswered"], self.c["max_nack_delay_ms"])

    def timeout(self, now):
        c, nacks, gave_up = self.c, [], []
        for (source, tag), e in list(self.entries.items()):
            expired = now >= e["first"] + c["lifetime_ms"]
            quiet = now >= e["quiet"] + self.delay(e)
            if expired or (quiet and e["nacks"] == c["max_nacks"]):
                gave_up.append({"source": source, "tag": tag, "received": len(e["parts"]),
                                "count": e["last"] + 1})
                del self.entries[(source, tag)]
            elif quiet:
                e["nacks"] += 1
                e["unanswered"] += 1
                e["quiet"] = now
                bitmap = sum(1 << i for i in range(e["last"] + 1) if i not in e["parts"])
                nack = bytes([0x80 | e["last"]]) + tag.to_bytes(2, "big") \
                    + bitmap.to_bytes(e["last"] // 8 + 1, "little")
                nacks.append(nack.hex())
        gave_up, self.evicted = self.evicted + gave_up, []
        return sorted(nacks), sorted(gave_up, key=lambda g: (g["source"], g["tag"]))

    def next_timeout(self):
        c = self.c
        deadlines = [min(e["first"] + c["lifetime_ms"], e["quiet"] + self.delay(e))
                     for e in self.entries.values()]
        return min(deadlines) if deadlines else None


def check_reassembly(v):
    r = Reassembly(v["config"])
    last = 0
    for i, s in enumerate(v["steps"]):
        if s["at_ms"] < last:
            return f"step {i}: time goes backwards"
        last = s["at_ms"]
        if s["step"] == "timeout":
            nacks, gave_up = r.timeout(s["at_ms"])
            got = (nacks, gave_up, r.next_timeout())
            want = (s["nacks"], s["gave_up"], s["next_timeout_ms"])
            if got != want:
                return f"step {i}: re-derived {got}, vector {want}"
            continue
        try:
            outcome, datagram = r.frame(s["at_ms"], s["source"], bytes.fromhex(s["frame"]))
            got = {"outcome": outcome}
            if datagram is not None and outcome == "datagram":
                got["datagram"] = datagram.hex()
        except Refused as e:
            got = {"expected_error": e.args[0]}
        got["held_bytes"] = r.held()
        want = {k: s[k] for k in ("outcome", "datagram", "expected_error", "held_bytes") if k in s}
        if got != want:
            return f"step {i}: re-derived {got}, vector {want}"
    return None


CHECKS = {
    "airtime": check_airtime,
    "link_profile": check_link_profile,
    "duty_cycle": check_duty_cycle,
    "frame": check_frame,
    "split": check_split,
    "reassembly": check_reassembly,
}


def self_test():
    """Hand-derived facts of spec §3 and §6 before any vector is read."""
    lorawan = lambda sf: {"spreading_factor": sf, "bandwidth_hz": 125_000, "coding_rate": 1,
                          "preamble_symbols": 8, "explicit_header": True, "crc": True, "ldro": "auto"}
    # The two published values (Semtech calculator, AN1200.13).
    assert time_on_air(lorawan(9), 13) == Fraction(164864, 1_000_000)
    assert time_on_air(lorawan(12), 50) == Fraction(2301952, 1_000_000)
    # LDRO by the rule: SF11 and SF12 at 125 kHz only.
    assert [sf for sf in range(7, 13) if ldro_on(lorawan(sf))] == [11, 12]
    # 1% of an hour is 36 s.
    assert Budget(10, 3_600_000).allowance == 36 * 10**9
    # A NACK for fragments 0 and 9 of 10.
    assert decode_frame(bytes.fromhex("8912340102"))["missing"] == [0, 9]
    # 1 KiB at a 51-byte MTU: 22 fragments, 1112 bytes on air.
    frames = split(bytes(1024), 51, 0)
    assert len(frames) == 22 and sum(map(len, frames)) == 1112


def spec_table():
    """The §3.3 table in spec/11 equals the formula."""
    path = os.path.join(os.path.dirname(VECTORS), "spec", "11-lora-link.md")
    section = open(path).read().split("### 3.3")[1].split("###")[0]
    rows = [line for line in section.splitlines() if line.startswith("| SF") and line[4].isdigit()]
    assert len(rows) == 6, "spec/11 §3.3 has a row per SF7..SF12"
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        sf = int(cells[0][2:])
        for len_, cell in zip((13, 51, 115, 222, 255), cells[1:]):
            r = {"spreading_factor": sf, "bandwidth_hz": 125_000, "coding_rate": 1,
                 "preamble_symbols": 8, "explicit_header": True, "crc": True, "ldro": "auto"}
            want = time_on_air(r, len_) * 1000
            assert Fraction(cell) == want, f"spec/11 §3.3 SF{sf} {len_} B: {cell} != {float(want)}"


def spec_worked_example():
    """The §11 fragments in spec/11 are the split of 00..3b at MTU 51."""
    path = os.path.join(os.path.dirname(VECTORS), "spec", "11-lora-link.md")
    section = open(path).read().split("## 11. Worked example")[1]
    blocks = section.split("```")[1::2]
    spec_frames = ["".join(block.split()) for block in blocks]
    mine = [f.hex() for f in split(bytes(range(60)), 51, 0x0A0B)]
    assert spec_frames == mine, "spec/11 §11 differs from the re-derived fragments"
    r = {"spreading_factor": 12, "bandwidth_hz": 125_000, "coding_rate": 1,
         "preamble_symbols": 8, "explicit_header": True, "crc": True, "ldro": "auto"}
    assert "2465.792 ms" in section and time_on_air(r, 51) == Fraction(2465792, 10**6)
    assert "1318.912 ms" in section and time_on_air(r, 17) == Fraction(1318912, 10**6)
    rx = Reassembly({"max_entries": 1, "max_entries_per_source": 1, "max_bytes": 255,
                     "max_datagram_len": 60, "lifetime_ms": 10, "nack_delay_ms": 1,
                     "max_nack_delay_ms": 1, "max_nacks": 1})
    assert rx.frame(0, 0, bytes.fromhex(mine[0]))[0] == "stored"
    assert rx.timeout(1)[0] == ["810a0b02"] and "`81 0a 0b 02`" in section


if __name__ == "__main__":
    sys.exit(vector_runner.main(sys.argv, [os.path.join(VECTORS, "lora.json")], CHECKS,
                                [self_test, spec_table, spec_worked_example]))
