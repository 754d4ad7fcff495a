"""The price people pay: retail = (energy x multiplier + adder + grid_tou(t)) x (1 + VAT).

    m = from_config(cfg)            a Model, or None when price.* leave the energy price as it is
    r = m.apply(schedule, zone)     a new Schedule of retail prices, cut at grid-tariff edges
    m.retail_u(energy_u, t_s, zone) one retail price; m.grid_u(t_s, zone) the grid part at t_s
    m.explain(energy_u, t_s, zone)  "0.4120 retail = 0.1870 spot + 0.0520 adder + 0.1730 grid
                                    + 25% VAT" (the planner's reasons show both prices)

Settings (declared in plan/policy.py, "price.*", in the source's currency per kWh): price.vat_pct,
price.adder (supplier margin, taxes, levies: everything per kWh that does not vary by time),
price.multiplier, price.grid_tou + price.grid_holidays (the time-of-use grid tariff, in the rate
plan's syntax: prices/tou.py; where no period matches, the grid part is 0).

Exact on both runtimes: the multiplier and the VAT become integer parts per million (they are
read from decimal text where they come as text), and the whole price is rounded once, half away
from zero, to integer micro-units. Intervals without a price stay without one.
"""

from ..prices import tou
from ..prices.schedule import NO_PRICE, Schedule, format_price, price_u

_PPM = 1000000
_PPM2 = _PPM * _PPM

def _ppm(v, name):
    """A number setting (or its text) -> integer millionths, exactly for up to 6 decimals."""
    try:
        return price_u(v if isinstance(v, str) else (int(v) if v == int(v) else v))
    except (TypeError, ValueError):
        from ..config import ConfigError

        raise ConfigError("%s: %r is not a number" % (name, v))


def _div_round(a, b):
    """a / b rounded half away from zero (b > 0), in integers."""
    return (a + b // 2) // b if a >= 0 else -((-a + b // 2) // b)


def from_config(cfg):
    """The Model of the price.* settings, or None when they change nothing."""
    g = cfg.get
    vat = _ppm(g("price.vat_pct") or 0, "price.vat_pct") // 100  # percent -> ppm of 1
    mult = _ppm(1 if g("price.multiplier") is None else g("price.multiplier"),
                "price.multiplier")
    text = (g("price.adder") or "").strip()
    try:
        adder = price_u(text) if text else 0
    except ValueError:
        from ..config import ConfigError

        raise ConfigError("price.adder: %r is not a price" % text)
    periods = tou.parse_tou(g("price.grid_tou"), "price.grid_tou")
    hols = tou.parse_holidays(g("price.grid_holidays"), "price.grid_holidays")
    if not vat and mult == _PPM and not adder and not periods:
        return None
    return Model(vat, mult, adder, periods, hols)


class Model:
    def __init__(self, vat_ppm=0, mult_ppm=_PPM, adder_u=0, periods=(), holidays=()):
        self.vat_ppm = vat_ppm
        self.mult_ppm = mult_ppm
        self.adder_u = adder_u
        self.periods = list(periods)
        self.holidays = list(holidays)
        self.cuts = tou.cuts(self.periods)

    def grid_u(self, t_s, zone):
        """The grid tariff at t_s (micro-units per kWh; 0 where no period matches)."""
        if not self.periods:
            return 0
        local = t_s + zone.offset_at(t_s)
        k = tou.period_at(self.periods, self.holidays, local // 86400, local % 86400 // 60)
        return self.periods[k][1] if k >= 0 else 0

    def combine(self, energy_u, grid_u):
        """The retail price of an energy price and a grid price, rounded once."""
        pre = energy_u * self.mult_ppm + (self.adder_u + grid_u) * _PPM
        return _div_round(pre * (_PPM + self.vat_ppm), _PPM2)

    def retail_u(self, energy_u, t_s, zone):
        return self.combine(energy_u, self.grid_u(t_s, zone))

    def explain(self, energy_u, t_s, zone):
        """The retail price at t_s and its parts, as text (4 decimals)."""
        grid = self.grid_u(t_s, zone)
        out = "%s retail = " % format_price(self.combine(energy_u, grid))
        if self.mult_ppm != _PPM:
            out += "%s x " % _factor(self.mult_ppm)
        out += "%s spot" % format_price(energy_u)
        if self.adder_u:
            out += " + %s adder" % format_price(self.adder_u)
        if self.periods:
            out += " + %s grid" % format_price(grid)
        if self.vat_ppm:
            out += " + %s%% VAT" % _factor(self.vat_ppm * 100)
        return out

    def _edge(self, t, end, zone):
        """The end of the stretch from t (before `end`) over which the grid part is constant:
        the next period edge in local time, or a change of the UTC offset (DST) before it."""
        if not self.periods:
            return end
        local = t + zone.offset_at(t)
        sec = local % 86400
        for c in self.cuts:
            if c * 60 > sec:
                b = t - sec + c * 60  # the wall clock runs evenly until the offset changes
                break
        if b >= end:
            b = end
        tr = getattr(zone, "transitions", None)
        tr = tr(_year(local)) if tr is not None else None
        if tr is not None:
            for x in tr:
                if t < x < b:
                    b = x
        return b

    def apply(self, schedule, zone):
        """A new Schedule: every priced interval of `schedule` at its retail price, split where
        the grid tariff changes. Metadata (source, currency, fetch time) is kept."""
        out = Schedule()
        out.copy_meta(schedule)
        out.mean_u = out.std_u = None  # statistics of the energy prices, not of these
        n = len(schedule)
        out.reserve(n + (n // 2 if self.periods else 0) + 1)
        for i in range(n):
            p = schedule.prices[i]
            if p == NO_PRICE:
                continue  # stays a gap
            s, e = schedule.start_of(i), schedule.end_of(i)
            name, flags = schedule.name_of(i), schedule.flags[i]
            while s < e:
                b = self._edge(s, e, zone)
                out.add(s, b, self.combine(p, self.grid_u(s, zone)), name, flags)
                s = b
        return out


class Priced:
    """A schedule seen at its retail price, window() only (the savings record's view): each
    priced interval split where the grid tariff changes, at its retail price. Nothing is
    copied: the record counts a few seconds per step."""

    def __init__(self, model, schedule, zone):
        self.model, self.schedule, self.zone = model, schedule, zone

    def window(self, a, b):
        m, zone = self.model, self.zone
        for s, e, p, i in self.schedule.window(a, b):
            if p == NO_PRICE:
                yield s, e, p, i
                continue
            while s < e:
                c = m._edge(s, e, zone)
                yield s, c, m.combine(p, m.grid_u(s, zone)), i
                s = c


def _year(local_s):
    from ..clock.iso import civil_from_days

    return civil_from_days(local_s // 86400)[0]


def _factor(ppm):
    """1050000 -> '1.05', 25000000 -> '25' (a factor or percentage for display)."""
    s = format_price(ppm, 6)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s
