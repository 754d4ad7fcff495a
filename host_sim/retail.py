"""The retail price in the simulator (CPython): the plug's price.* settings from --vat, --adder,
--multiplier and --grid-tariff, and the series the plug is billed on.

    cfg = settings(opts, "EUR")          # {"price.vat_pct": .., "price.adder": .., ...} or {}
    billed = retail_series(series, zone, cfg)    # the market series at retail prices

--grid-tariff takes a JSON file or the name of a preset in host_sim/data/tariffs/ (each notes
its sources): {"name", "currency", "sources", "settings": {price.* settings}}. A tariff in
another currency than the series is converted at a fixed rate (DKK <-> EUR at the krone's ERM II
central rate 7.46038), to whole micro-units, so the plug and the bill use the same integers.
--vat/--adder/--multiplier override the tariff's settings. The bill uses the firmware's own
model (firmware/plan/retail.py); tests/test_retail_sim.py checks it against an independent sum.
"""

import json
import os

from firmware.plan import retail
from firmware.prices.schedule import Schedule, price_u

from .prices import Series, u_to_text

TARIFFS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "tariffs")
# micro-units of the second currency per unit of the first
RATES_PPM = {("DKK", "EUR"): (1000000, 7460380), ("EUR", "DKK"): (7460380, 1000000)}


class RetailError(ValueError):
    """A tariff file or a price option that cannot be used; one line."""


def presets():
    return sorted(n[:-5] for n in os.listdir(TARIFFS) if n.endswith(".json"))


def load_tariff(spec):
    """The tariff document of a file path or a preset name."""
    path = spec if os.path.exists(spec) else os.path.join(TARIFFS, spec + ".json")
    if not os.path.exists(path):
        raise RetailError("--grid-tariff %s: no such file or preset (presets: %s)"
                          % (spec, ", ".join(presets())))
    try:
        with open(path) as f:
            doc = json.load(f)
    except ValueError as e:
        raise RetailError("--grid-tariff %s: not JSON (%s)" % (spec, e))
    if not isinstance(doc, dict) or not isinstance(doc.get("settings"), dict):
        raise RetailError("--grid-tariff %s: expected {\"currency\", \"settings\": {price.* "
                          "settings}}" % spec)
    bad = [k for k in doc["settings"] if not k.startswith("price.")]
    if bad:
        raise RetailError("--grid-tariff %s: not a price.* setting: %s" % (spec, bad[0]))
    return doc


def _convert(text, rate):
    num, den = rate
    u = price_u(text)
    q = (abs(u) * num + den // 2) // den
    return u_to_text(q if u >= 0 else -q)


def _convert_tou(text, rate):
    out = []
    for entry in text.split(";"):
        toks = entry.split()
        if len(toks) == 5:
            toks[1] = _convert(toks[1], rate)
        out.append(" ".join(toks))
    return "; ".join(out)


def settings(opts, currency):
    """The plug's price.* settings for the run (empty: the energy price alone)."""
    cfg = {}
    if getattr(opts, "grid_tariff", None):
        doc = load_tariff(opts.grid_tariff)
        cur = doc.get("currency") or currency
        cfg.update(doc["settings"])
        if cur != currency:
            rate = RATES_PPM.get((cur, currency))
            if rate is None:
                raise RetailError("--grid-tariff %s: prices in %s, the series is in %s (no "
                                  "fixed rate known)" % (opts.grid_tariff, cur, currency))
            if cfg.get("price.adder"):
                cfg["price.adder"] = _convert(str(cfg["price.adder"]), rate)
            if cfg.get("price.grid_tou"):
                cfg["price.grid_tou"] = _convert_tou(cfg["price.grid_tou"], rate)
    for name, key in (("vat", "price.vat_pct"), ("adder", "price.adder"),
                      ("multiplier", "price.multiplier")):
        v = getattr(opts, name, None)
        if v is not None:
            cfg[key] = v
    try:
        model = retail.from_config(cfg)
    except ValueError as e:
        raise RetailError(str(e))
    return cfg if model is not None else {}


def retail_series(series, zone, cfg):
    """`series` at the retail price of `cfg` (cut where the grid tariff changes)."""
    model = retail.from_config(cfg)
    if model is None:
        return series
    s = Schedule()
    s.reserve(len(series) + 1)
    for a, b, p in zip(series.starts, series.ends, series.prices, strict=True):
        s.add(a, b, p)
    r = model.apply(s, zone)
    starts = [r.start_of(i) for i in range(len(r))]
    ends = [r.end_of(i) for i in range(len(r))]
    return Series(starts, ends, list(r.prices), series.currency, series.market + " retail",
                  series.source)


def describe(cfg, spec=None):
    """The summary's note of the retail price."""
    out = {"vat_pct": cfg.get("price.vat_pct", 0), "adder": cfg.get("price.adder", ""),
           "multiplier": cfg.get("price.multiplier", 1),
           "grid_tou": cfg.get("price.grid_tou", "")}
    if spec:
        out["grid_tariff"] = spec
        doc = load_tariff(spec)
        out["grid_tariff_name"] = doc.get("name", spec)
        out["tariff_currency"] = doc.get("currency", "")
    return out


class Billing:
    """How the plug is billed at retail prices (runner.summarize's billing protocol: the
    billed series, extra charges, timeline notes and the summary's description)."""

    def __init__(self, series, zone, cfg, spec=None):
        self.market = series
        self.series = retail_series(series, zone, cfg)
        self.cfg = cfg
        self.spec = spec

    def charges(self, on):
        return 0, [], []

    def device_notes(self, events):
        return []

    def describe(self):
        return dict(describe(self.cfg, self.spec), kind="retail", prices=self.market.market)
