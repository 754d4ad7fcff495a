"""Fault windows in simulated time, parsed from the CLI (CPython only).

A window is written AT+DURATION[:ARG]: AT is an offset from the start of the run ("3d", "2d12h",
"80h", "90m") or an ISO time ("2019-02-05T10:00:00Z"); DURATION uses the same units. Examples:
    --outage 3d+36h          the API closes every connection for 36 h from day 3
    --http-error 5d+6h:503   the API answers 503 (with Retry-After) for 6 h
    --slow 2d+12h:40         answers start 40 simulated seconds late (beyond fetch.timeout_s)
    --truncate 4d+3h         bodies are cut in half
    --power-cut 6d3h+2h      the plug is unplugged for 2 h, then boots from its flash cache
    --wifi-down 8d+5h        the access point is gone (no fetch, no NTP)

A person's actions use the same syntax (they are not faults, but the plug must cope with them):
    --button 3d18h           someone presses the plug's button (a timed override, or its end)
    --override 4d7h+2h:on    an installer's plug.override(True, 120) at that moment
"""

from firmware import onoff
from firmware.clock.iso import parse_iso
from firmware.repl.view import override_field

SERVER_KINDS = ("outage", "error", "slow", "truncate")
DEVICE_KINDS = ("powercut", "wifi")


class FaultSpecError(ValueError):
    pass


class Fault:
    __slots__ = ("kind", "t0", "t1", "arg")

    def __init__(self, kind, t0, t1, arg=None):
        self.kind = kind
        self.t0 = t0
        self.t1 = t1
        self.arg = arg

    @property
    def server_side(self):
        return self.kind in SERVER_KINDS

    def to_list(self):
        return [self.kind, self.t0, self.t1, self.arg]

    def __repr__(self):
        return "Fault(%s %d..%d %s)" % (self.kind, self.t0, self.t1, self.arg)


_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_span(text):
    """'2d12h' -> 216000 seconds; a bare number is hours."""
    text = text.strip().lower()
    if not text:
        raise FaultSpecError("empty duration")
    if text.replace(".", "", 1).isdigit():
        return int(float(text) * 3600)
    total, num = 0, ""
    for ch in text:
        if ch.isdigit() or ch == ".":
            num += ch
        elif ch in _UNITS and num:
            total += int(float(num) * _UNITS[ch])
            num = ""
        else:
            raise FaultSpecError("bad duration %r (use e.g. 3d, 36h, 2d12h, 90m)" % text)
    if num:
        raise FaultSpecError("bad duration %r: number without unit" % text)
    return total


def parse_window(kind, spec, run_start_s):
    body, _, arg = spec.partition(":") if "T" not in spec else _split_arg_iso(spec)
    at, plus, dur = body.rpartition("+")
    if not plus:
        raise FaultSpecError("%s %r: expected AT+DURATION, e.g. 3d+36h" % (kind, spec))
    t0 = parse_at(at, run_start_s)
    d = parse_span(dur)
    if d <= 0:
        raise FaultSpecError("%s %r: duration must be positive" % (kind, spec))
    return Fault(kind, t0, t0 + d, arg or None)


def parse_at(at, run_start_s):
    """A moment: an offset from the run's start ('3d18h') or an ISO time."""
    at = at.strip()
    if "T" in at or "-" in at:
        try:
            return parse_iso(at if at[-1:] == "Z" or "+" in at[10:] else at + "Z")
        except ValueError as e:
            raise FaultSpecError("bad time %r: %s" % (at, e))
    return run_start_s + parse_span(at)


def parse_button(spec, run_start_s):
    """--button AT: one press at AT."""
    t = parse_at(spec, run_start_s)
    return Fault("button", t, t)


def parse_override(spec, run_start_s):
    """--override AT+DUR:on|off: plug.override(on, DUR in minutes) at AT."""
    f = parse_window("override", spec, run_start_s)
    try:
        f.arg = onoff.word(onoff.parse(f.arg, "override"))
    except ValueError:
        raise FaultSpecError("override %r: expected AT+DURATION:on or :off, e.g. 4d7h+2h:on"
                             % spec)
    field = override_field()  # the plug's own limits (override.minutes)
    d = f.t1 - f.t0
    if d % 60 or not field.lo <= d // 60 <= field.hi:
        raise FaultSpecError("override %r: the duration must be whole minutes in %d..%d min, "
                             "as plug.override takes" % (spec, field.lo, field.hi))
    return f


def _split_arg_iso(spec):
    # ISO times contain ':'; the argument is whatever follows the duration's last ':'
    head, plus, tail = spec.rpartition("+")
    dur, _, arg = tail.partition(":")
    return head + plus + dur, ":", arg
