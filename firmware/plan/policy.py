"""The decision rules of the planner: the "policy.*" settings and their parsed form.

The app's "safe_state" setting (declared in app/settings.py) is read here too: it is also the
last rung of the planner's fallback ladder.
"""

from ..config import ConfigError, Field, RuleField, parse_price
from ..prices.schedule import price_u
from .windows import parse_hm, parse_windows

_PRICE = "a price per kWh like 0.25, or empty for no limit"
_WINDOWS = "local windows HH:MM-HH:MM, comma separated (e.g. 06:00-07:00,18:00-19:00), or empty"


def _one_window(text):
    if len(parse_windows(text, "policy.window")) != 1:
        raise ValueError("one window expected")


def _get(cfg, name):
    f = _FIELDS[name]
    return f.check(cfg.get(name, f.default))


def need_limit(cfg):
    """(most hours the load can be asked to run, the settings that say so) - None without a
    limit (mode=limits). The one place that knows how long a period is."""
    if _get(cfg, "policy.mode") == "limits":
        return None
    if _get(cfg, "policy.mode") == "deadline":
        return 24, "policy.mode=deadline"  # deadline to deadline: one day
    period = _get(cfg, "policy.period")
    if period == "window":
        w = _get(cfg, "policy.window")
        a, b = parse_windows(w, "policy.window")[0]
        return ((b - a) % 1440 or 1440) / 60, "policy.period=window (policy.window=%s)" % w
    if period == "rolling":
        n = _get(cfg, "policy.rolling_hours")
        return n, "policy.period=rolling (policy.rolling_hours=%s)" % n
    return 24, "policy.period=day"


def _hours_rule(hours, cfg):
    lim = need_limit(cfg)
    if lim is not None and hours > lim[0]:
        return "with %s; expected at most %s h" % (lim[1], "%g" % lim[0])
    return None


def _energy_rule(kwh, cfg):
    kw = _get(cfg, "policy.load_kw")
    lim = need_limit(cfg)
    if lim is not None and kwh > 0 and kw > 0 and kwh > lim[0] * kw:
        return "with policy.load_kw=%s and %s; expected at most %s kWh (%s h of running)" % (
            "%g" % kw, lim[1], "%g" % (lim[0] * kw), "%g" % lim[0])
    return None


_NEED_TEXT = ("at most 24 h with policy.period=day or policy.mode=deadline, the window's "
              "length with policy.period=window, policy.rolling_hours with policy.period=rolling")

MODES = ("cheapest", "block", "deadline", "limits")
PERIODS = ("day", "window", "rolling")
RELATIVE = ("none", "below_mean", "percentile")

CONFIG = (
    Field("policy.mode", "dropdown", "cheapest", choices=MODES,
          help="cheapest: N hours per period; block: cheapest contiguous block per period; "
               "deadline: N hours before policy.deadline; limits: price limits only"),
    RuleField("policy.hours", "number", 4, lo=0, hi=168, unit="h",
              help="on time per period, block length, or time needed before the deadline",
              rule=_hours_rule, rule_text=_NEED_TEXT),
    Field("policy.period", "dropdown", "day", choices=PERIODS,
          help="day (local), window (policy.window) or rolling (policy.rolling_hours from now)"),
    Field("policy.window", "text", "22:00-07:00", hi=16,
          help="local HH:MM-HH:MM window for period=window (may cross midnight)",
          parse=lambda v: _one_window(v), expect="one local window HH:MM-HH:MM"),
    Field("policy.rolling_hours", "number", 24, lo=1, hi=168, integer=True, unit="h",
          help="length of a rolling period"),
    Field("policy.deadline", "text", "07:00", hi=5, help="local HH:MM for mode=deadline",
          parse=lambda v: parse_hm(v, "policy.deadline"), expect="a local time HH:MM"),
    RuleField("policy.energy_kwh", "number", 0, lo=0, hi=1000, unit="kWh",
              help="deadline mode: energy needed (with policy.load_kw; 0 = use policy.hours)",
              rule=_energy_rule,
              rule_text="policy.load_kw times the hours policy.hours may take"),
    Field("policy.load_kw", "number", 0, lo=0, hi=100, unit="kW", help="power of the load"),
    Field("policy.on_below", "text", "", hi=16,
          help="always on at or below this price (currency/kWh; the retail price when "
               "price.* are set); empty = no limit",
          parse=parse_price, expect=_PRICE),
    Field("policy.off_above", "text", "", hi=16,
          help="never on above this price (currency/kWh; the retail price when price.* are "
               "set); empty = no limit",
          parse=parse_price, expect=_PRICE),
    Field("policy.relative", "dropdown", "none", choices=RELATIVE,
          help="also on below the period mean, or at or below policy.percentile"),
    Field("policy.percentile", "number", 25, lo=0, hi=100, integer=True, unit="%",
          help="relative=percentile: also on at or below this percentile of the period's "
               "prices"),
    Field("policy.min_on_min", "number", 0, lo=0, hi=1440, integer=True, unit="min",
          help="once on, the load stays on at least this long (e.g. a compressor); 0 = off"),
    Field("policy.min_off_min", "number", 0, lo=0, hi=1440, integer=True, unit="min",
          help="once off, the load stays off at least this long; 0 = off"),
    Field("policy.max_switches", "number", 0, lo=0, hi=1000, integer=True,
          help="relay changes per local day; 0 = unlimited"),
    Field("policy.forced_on", "text", "", hi=64,
          help="local windows always on, e.g. 06:00-07:00,18:00-19:00",
          parse=lambda v: parse_windows(v, "policy.forced_on"), expect=_WINDOWS),
    Field("policy.forced_off", "text", "", hi=64, help="local windows always off",
          parse=lambda v: parse_windows(v, "policy.forced_off"), expect=_WINDOWS),
    Field("policy.backup_hours", "text", "", hi=64,
          help="local windows on when no price is known, e.g. 01:00-05:00",
          parse=lambda v: parse_windows(v, "policy.backup_hours"), expect=_WINDOWS),
    Field("policy.estimate", "flag", True,
          help="a deadline or window past the published prices: wait for hours likely cheaper "
               "(estimated from the last days; only known hours run, the deadline is kept); "
               "off = choose among the known prices only"),
    Field("policy.spread", "number", 0, lo=0, hi=1000, unit="per MWh",
          help="fleet spreading: pick among hours within this much (currency per MWh) of the "
               "cheapest, seeded per device, so plugs do not all switch in one hour; 0 = off"),
)


def _tou(text, name):
    from ..prices import tou  # loaded only when a grid tariff is set

    if name == "price.grid_tou":
        return tou.parse_tou(text, name)
    return tou.parse_holidays(text, name)


# price.*: the retail price the planner ranks by (plan/retail.py, imported only when one is set)
PRICE_CONFIG = (
    Field("price.vat_pct", "number", 0, lo=0, hi=100, unit="%",
          help="VAT on the whole retail price (0 when the source's prices include it)"),
    Field("price.adder", "text", "", hi=16, parse=parse_price,
          expect="a price per kWh like 0.886 (may be negative), or empty",
          help="added per kWh before VAT: supplier margin, taxes, levies"),
    Field("price.multiplier", "number", 1, lo=0, hi=100,
          help="factor on the energy price before the adder (a supplier's percentage)"),
    Field("price.grid_tou", "text", "", hi=600,
          help="time-of-use grid tariff 'name price months days HH:MM-HH:MM; ...' (the rate "
               "plan's syntax, first match wins; 0 where none matches)",
          parse=lambda v: _tou(v, "price.grid_tou")),
    Field("price.grid_holidays", "text", "", hi=400,
          help="holidays of the grid tariff, MM-DD or YYYY-MM-DD, comma",
          parse=lambda v: _tou(v, "price.grid_holidays")),
)
CONFIG = CONFIG + PRICE_CONFIG

_FIELDS = {}
for _f in CONFIG:
    _FIELDS[_f.name] = _f


class Policy:
    """The decision rules, from the "policy.*" settings (plus the app's "safe_state")."""

    def __init__(self):
        self.mode = "cheapest"
        self.need_s = 4 * 3600
        self.period = "day"
        self.window = (22 * 60, 7 * 60)
        self.rolling_s = 24 * 3600
        self.deadline_min = 7 * 60
        self.on_below_u = None
        self.off_above_u = None
        self.relative = "none"
        self.percentile = 25
        self.min_on_s = 0
        self.min_off_s = 0
        self.max_switches = 0
        self.forced_on = []
        self.forced_off = []
        self.backup = []
        self.safe_on = False
        self.retail = None  # retail.Model: rank by the retail price (None: the energy price)
        self.spread_u = 0  # policy.spread in micro-units per kWh (0: off)
        self.estimate = True  # wait for unpublished hours that are likely cheaper
        self.spread_class = 0  # the device's class (planner.spread_class), set by the app

    @staticmethod
    def from_config(cfg=None):
        cfg = cfg or {}

        def get(name):
            f = _FIELDS[name]
            v = cfg.get(name, f.default)
            return f.check(v)

        from ..config import check_combined

        check_combined(_FIELDS, cfg)  # policy.hours 25 with period=day is no plan
        p = Policy()
        p.mode = get("policy.mode")
        hours = get("policy.hours")
        p.need_s = int(hours * 3600 + 0.5)
        p.period = get("policy.period")
        w = parse_windows(get("policy.window"), "policy.window")
        if len(w) != 1:
            raise ConfigError("policy.window: one HH:MM-HH:MM window expected")
        p.window = w[0]
        p.rolling_s = get("policy.rolling_hours") * 3600
        p.deadline_min = parse_hm(get("policy.deadline"), "policy.deadline")
        kwh, kw = get("policy.energy_kwh"), get("policy.load_kw")
        if kwh > 0 and kw > 0:
            wh, w_ = int(kwh * 1000 + 0.5), int(kw * 1000 + 0.5)
            p.need_s = -(-wh * 3600 // w_)
        for key, attr in (("policy.on_below", "on_below_u"), ("policy.off_above", "off_above_u")):
            v = get(key).strip()
            if v:
                try:
                    setattr(p, attr, price_u(v))
                except ValueError:
                    raise ConfigError("%s: %r is not a price" % (key, v))
        p.relative = get("policy.relative")
        p.percentile = get("policy.percentile")
        p.min_on_s = get("policy.min_on_min") * 60
        p.min_off_s = get("policy.min_off_min") * 60
        p.max_switches = get("policy.max_switches")
        p.forced_on = parse_windows(get("policy.forced_on"), "policy.forced_on")
        p.forced_off = parse_windows(get("policy.forced_off"), "policy.forced_off")
        p.backup = parse_windows(get("policy.backup_hours"), "policy.backup_hours")
        safe = cfg.get("safe_state", "off")
        p.safe_on = safe is True or safe == "on" or safe == 1
        p.retail = _retail(cfg)
        p.spread_u = int(get("policy.spread") * 1000 + 0.5)  # per MWh -> micro-units per kWh
        p.estimate = get("policy.estimate")
        return p


def _retail(cfg):
    """The retail model of the price.* settings, or None while they are all at their defaults
    (plan/retail.py and prices/tou.py then stay unloaded: heap at boot)."""
    for f in PRICE_CONFIG:
        v = cfg.get(f.name)
        if v is not None and v != "" and v != f.default:
            from . import retail

            return retail.from_config(cfg)
    return None
