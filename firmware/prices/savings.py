"""The plug's savings record: energy, cost and savings per local day, the last DAYS days.

    rec = Savings(root, zone, clock_now_s, prices)   # prices() -> the Schedule held, or None
    rec.add(t0_s, t1_s, watts)      # the load drew `watts` from t0 to t1 (split at midnights)
    rec.running(t0_s, watts)        # ...and still draws it since t0_s (None: it stopped);
                                    # today()/days() count that stretch up to their now_s
    rec.account(now_s, on, watts)   # the app's step: both of the above, then tick()
    rec.pause()                     # the clock is not trusted: count nothing until account()
    rec.tick(now_s)                 # closes finished days; writes the file when it is due
    rec.today(now_s) -> {"day": "YYYY-MM-DD", "kwh", "cost", "baseline_cost", "saving"}
    rec.days(n) -> [the same dicts], oldest first, the last n local days including today

Cost is each second's price (integer micro-units per kWh) times the power, summed as integers
(price_u x s x W) so that the ESP32 and the simulator agree to the last digit; seconds without
a known price add energy but no cost. The baseline is the simulator's (host_sim/optimum.py):
the same on-time of that day, run from a fixed local time (`baseline_min`, 18:00) at the
day's average power, priced from the schedule; a day's baseline is frozen when the day ends
(the prices may be dropped later), today's is computed from the prices held.

The file (FILE) is a fixed table of DAYS records, one slot per local day (day % DAYS), plus a
CRC32, replaced atomically (temp file + rename): a power cut leaves the old or the new one.
It is written at most once per WRITE_EVERY_S and when a day closes (midnight): a cut loses at
most that much of today. A corrupt or missing file starts an empty record (`last_error`);
root None keeps the record in RAM only.
"""

import struct
from binascii import crc32

from ..clock.iso import format_ymd
from ..compat import const
from ..flashfile import join, replace
from .schedule import NO_PRICE

FILE = "savings.bin"
DAYS = const(35)
WRITE_EVERY_S = const(3600)
_MAGIC = b"WWS1"
# one record: local day number, on-time s, energy W*s, cost uW*s, baseline uW*s (-1: open)
_REC = "<iIqqq"
_REC_SIZE = const(32)
_NO_DAY = -1
_U_PER_UNIT_WH = 3600 * 1000000 * 1000  # price_u x s x W -> currency units


def _money(uws):
    return uws / _U_PER_UNIT_WH


class Savings:
    def __init__(self, root, zone, now_s, prices, baseline_min=18 * 60):
        self.root = root
        self.zone = zone
        self.baseline_min = baseline_min
        self._now_s = now_s  # callable -> UTC seconds (the device clock)
        self._prices = prices  # callable -> Schedule or None
        self._buf = bytearray(_REC_SIZE * DAYS)
        self._day = None  # the open day's number (the last one counted)
        self._dirty = False
        self._written_s = None
        self._run = None  # (since_s, watts) of the stretch that is still running
        self._last_s = None  # the last account() call
        self.writes = 0
        self.last_error = None
        for k in range(DAYS):
            struct.pack_into(_REC, self._buf, k * _REC_SIZE, _NO_DAY, 0, 0, 0, -1)
        self._load()

    # -- records -----------------------------------------------------------------------------
    def _get(self, day):
        r = struct.unpack_from(_REC, self._buf, (day % DAYS) * _REC_SIZE)
        return r if r[0] == day else None

    def _put(self, day, on_s, energy, cost, base):
        struct.pack_into(_REC, self._buf, (day % DAYS) * _REC_SIZE, day, on_s, energy, cost,
                         base)
        self._dirty = True

    def _open(self, day):
        """The record of `day`, started empty if absent; closes the day held before it."""
        if self._day is not None and self._day != day:
            self._close(self._day)
        self._day = day
        r = self._get(day)
        if r is None:
            r = (day, 0, 0, 0, -1)
            self._put(*r)
        return r

    def _close(self, day):
        r = self._get(day)
        if r is not None and r[4] < 0:
            self._put(day, r[1], r[2], r[3], self._baseline(r))

    def _baseline(self, r):
        """Cost of the day's on-time run from baseline_min at its average power (uW*s)."""
        day, on_s, energy, cost = r[0], r[1], r[2], r[3]
        if on_s <= 0:
            return 0
        z = self.zone
        start = z.from_local(day * 86400)
        t = start + self.baseline_min * 60
        bs = t + z.offset_at(start) - z.offset_at(t)  # host_sim/optimum.local_time_on
        known = us = 0
        sched = self._prices()
        if sched is not None:
            for s, e, p, _i in sched.window(bs, bs + on_s):
                if p != NO_PRICE:
                    us += p * (e - s)
                    known += e - s
        base = us * energy // on_s
        if known < on_s and energy:  # no price known there: at the price the day paid
            base += cost * (on_s - known) // on_s
        return base

    # -- counting ----------------------------------------------------------------------------
    def add(self, t0_s, t1_s, watts):
        """The load drew `watts` (int) from t0_s to t1_s; split at local midnights."""
        sched = self._prices()
        z = self.zone
        while t0_s < t1_s:
            day = z.local_days(t0_s)
            end = z.next_day_start(t0_s)
            if end > t1_s:
                end = t1_s
            r = self._open(day)
            cost = 0
            if sched is not None:
                for s, e, p, _i in sched.window(t0_s, end):
                    if p != NO_PRICE:
                        cost += p * (e - s)
            dur = end - t0_s
            self._put(day, r[1] + dur, r[2] + dur * watts, r[3] + cost * watts, -1)
            t0_s = end

    def account(self, now_s, on, watts):
        """One step of the app: the load was `on` since the last call and still is."""
        t0, self._last_s = self._last_s, now_s
        if on and t0 is not None and t0 < now_s:
            self.add(t0, now_s, watts)
        self.running(now_s if on else None, watts)
        self.tick(now_s)

    def pause(self):
        self._last_s = self._run = None

    def running(self, since_s, watts=0):
        self._run = None if since_s is None else (since_s, watts)

    def tick(self, now_s):
        """Close the days before now_s's; write the file if a day closed or an hour passed."""
        day = self.zone.local_days(now_s)
        closed = self._day is not None and self._day != day
        if closed:
            self._open(day)
        if not self._dirty:
            return False
        w = self._written_s
        if closed or w is None or now_s >= w + WRITE_EVERY_S or now_s < w:
            return self.save(now_s)
        return False

    # -- reading -----------------------------------------------------------------------------
    def _row(self, day, now_s):
        r = self._get(day)
        if r is None:
            r = (day, 0, 0, 0, 0)
        if self._run is not None:
            r = self._with_run(r, now_s, self._run)
        base = r[4] if r[4] >= 0 else self._baseline(r)
        cost, base_c = _money(r[3]), _money(base)
        return {"day": format_ymd(day * 86400, 0, "-"), "kwh": r[2] / 3600000.0,
                "cost": cost, "baseline_cost": base_c, "saving": base_c - cost}

    def _with_run(self, r, now_s, run):
        """Record r plus the part of the running stretch that falls on its day before now_s."""
        since, watts = run
        z = self.zone
        a = z.from_local(r[0] * 86400)
        b = z.from_local((r[0] + 1) * 86400)
        a, b = (since if since > a else a), (now_s if now_s < b else b)
        if b <= a:
            return r
        cost = 0
        sched = self._prices()
        if sched is not None:
            for s, e, p, _i in sched.window(a, b):
                if p != NO_PRICE:
                    cost += p * (e - s)
        return r[0], r[1] + b - a, r[2] + (b - a) * watts, r[3] + cost * watts, -1

    def today(self, now_s):
        return self._row(self.zone.local_days(now_s), now_s)

    def days(self, n, now_s=None):
        """The last n local days including today's (n <= DAYS), oldest first."""
        if now_s is None:
            now_s = self._now_s()
        last = self.zone.local_days(now_s)
        n = min(int(n), DAYS)
        return [self._row(d, now_s) for d in range(last - n + 1, last + 1)]

    # -- flash -------------------------------------------------------------------------------
    def _load(self):
        if self.root is None:
            return
        path = join(self.root, FILE)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError:
            return  # no record yet
        n = len(self._buf)
        if len(data) != 4 + n + 4 or data[:4] != _MAGIC or \
                struct.unpack("<I", data[4 + n:])[0] != crc32(data[:4 + n]) & 0xFFFFFFFF:
            self.last_error = "%s is corrupt; starting a new record" % FILE
            return
        self._buf[:] = data[4:4 + n]
        for k in range(DAYS):  # a day left open by a cut is closed by the next tick
            r = struct.unpack_from(_REC, self._buf, k * _REC_SIZE)
            if r[0] != _NO_DAY and r[4] < 0 and (self._day is None or r[0] > self._day):
                self._day = r[0]

    def save(self, now_s=None):
        """Write the record now (atomically). False if the flash refused (kept in RAM)."""
        if now_s is None:
            now_s = self._now_s()
        if self.root is None:
            self._dirty = False
            self._written_s = now_s
            return False
        crc = crc32(self._buf, crc32(_MAGIC)) & 0xFFFFFFFF

        def write(f):
            f.write(_MAGIC)
            f.write(self._buf)
            f.write(struct.pack("<I", crc))

        try:
            replace(join(self.root, FILE), write, "wb")
        except OSError as e:
            self.last_error = "%s not written: %s" % (FILE, e)
            return False
        self._dirty = False
        self._written_s = now_s
        self.writes += 1
        return True
