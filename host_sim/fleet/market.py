"""One shipped price series as the fleet sees it: zone, publication time, the run's local days
and the schedule a plug holds on each of them (CPython only).

    m = market("dk1", days=30)        # cached per process: Dask workers load each series once
    m.days                            # [(day_start_s, day_end_s, first_interval, end_interval)]
    m.starts, m.ends, m.prices        # the run's intervals (UTC seconds, micro-units per kWh)
    m.day_schedule(k)                 # firmware Schedule of day k's prices

Days are local (the series' own POSIX TZ rule), from the first full day of the series or from
`start` (YYYY-MM-DD); a run of more days than the series holds is a one-line MarketError.
"""

from firmware.clock.iso import parse_iso
from firmware.clock.tz import Zone
from firmware.prices.schedule import Schedule

from .. import prices

_CACHE = {}


class MarketError(ValueError):
    pass


class Market:
    def __init__(self, name, days, start=None):
        if name not in prices.BUNDLED:
            raise MarketError("--series %r: one of %s" % (name, ", ".join(sorted(
                prices.BUNDLED))))
        f, rule, publish = prices.BUNDLED[name]
        s = prices.load_csv(prices.bundled_path(name))
        self.name, self.currency, self.publish_min = name, s.currency, publish
        self.zone = z = Zone(rule)
        if start:
            try:
                first = z.day_start(parse_iso(start + "T12:00:00Z"))
            except ValueError:
                raise MarketError("--start %r: expected YYYY-MM-DD" % start)
        else:
            first = z.day_start(s.start_s)
            if first < s.start_s:
                first = z.next_day_start(first)
        self.days = []
        t = first
        i = s.index_at(first) if first >= s.start_s else -1
        if i < 0:
            raise MarketError("--start %s: the %s prices cover %s .. %s only" % (
                start, name, _ymd(s.start_s, z), _ymd(s.end_s - 1, z)))
        base = i
        while len(self.days) < days:
            e = z.next_day_start(t)
            if e > s.end_s:
                raise MarketError("%s: %d days from %s need prices the series does not have "
                                  "(it holds %d full days from there)" % (
                                      name, days, _ymd(first, z), len(self.days)))
            j = s.index_at(e) if e < s.end_s else len(s)
            self.days.append((t, e, i - base, j - base))
            t, i = e, j
        self.starts = s.starts[base:i]
        self.ends = s.ends[base:i]
        self.prices = s.prices[base:i]
        self.t0, self.t1 = first, t
        self._sch = {}

    def day_schedule(self, k):
        """The prices of local day k, as the plug holds them when that day begins."""
        sch = self._sch.get(k)
        if sch is not None:
            return sch
        _a, _b, i, j = self.days[k]
        sch = self._sch[k] = Schedule(self.name, self.currency, "kWh")
        for n in range(i, j):
            sch.add(self.starts[n], self.ends[n], self.prices[n])
        return sch


def _ymd(t, zone):
    from firmware.clock.iso import format_ymd

    return format_ymd(t, zone.offset_at(t), "-")


def market(name, days, start=None):
    key = (name, days, start)
    m = _CACHE.get(key)
    if m is None:
        m = _CACHE[key] = Market(name, days, start)
    return m
