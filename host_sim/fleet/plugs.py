"""The plugs of a fleet: device id, seed, spread class, fetch offset, load and policy (CPython).

    fleet = Fleet(10000, parse_mix("cheapest:4=70,block:3=30"), parse_loads("1,2,3"))
    p = fleet.plug(i)   # Plug: device_id, seed, cls, offset_s, load_w, policy (mode, hours)

A plug is configured as the app configures itself (firmware/app/control.py `_configure`): its
seed is jitter.seed_from(fetch.seed = 0, device id), its spread class planner.spread_class(seed)
and its fetch offset the one firmware Cadence draws from Rng(seed) in its constructor. Which
policy of the mix and which load a plug gets is drawn from a second generator seeded from the
device id, so a fleet is the same on every run and every shard. Loads are integer watts.
Mixes are "VALUE[=WEIGHT],..." with integer weights; a policy VALUE is MODE:HOURS with MODE
cheapest (N cheapest hours per local day) or block (one contiguous block per local day).
"""

from firmware.app import fetcher
from firmware.app.jitter import Rng, fnv1a, seed_from
from firmware.plan import planner

MODES = ("cheapest", "block")


class MixError(ValueError):
    pass


def fetch_cfg(spread_s=None):
    """The fetch.* settings at their firmware defaults (fetch.spread_s overridable)."""
    cfg = {f.name: f.default for f in fetcher.CONFIG}
    if spread_s is not None:
        cfg["fetch.spread_s"] = spread_s
    return cfg


def _weighted(text, what, parse):
    out = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        v, eq, w = item.partition("=")
        try:
            weight = int(w) if eq else 1
        except ValueError:
            raise MixError("%s %r: the weight after = must be a whole number" % (what, item))
        if weight <= 0:
            raise MixError("%s %r: the weight must be more than 0" % (what, item))
        out.append((parse(v.strip(), item), weight))
    if not out:
        raise MixError("%s %r: expected VALUE[=WEIGHT],..." % (what, text))
    return tuple(out)


def _policy(v, item):
    mode, colon, hours = v.partition(":")
    if mode not in MODES or not colon:
        raise MixError("--mix %r: expected MODE:HOURS with MODE one of %s" % (
            item, ", ".join(MODES)))
    try:
        h = float(hours)
    except ValueError:
        raise MixError("--mix %r: HOURS must be a number" % item)
    if not 0 < h <= 24:
        raise MixError("--mix %r: HOURS must be in (0, 24] (one local day)" % item)
    return (mode, h)


def _load(v, item):
    try:
        kw = float(v)
    except ValueError:
        raise MixError("--kw %r: expected kW values like 1,2,3.5=20" % item)
    if not 0 < kw <= 100:
        raise MixError("--kw %r: a load is more than 0 and at most 100 kW" % item)
    return int(round(kw * 1000))


def parse_mix(text):
    """'cheapest:4=70,block:3=30' -> (((mode, hours), weight), ...)."""
    return _weighted(text, "--mix", _policy)


def parse_loads(text):
    """'1,2,3.5=20' -> ((watts, weight), ...)."""
    return _weighted(text, "--kw", _load)


def _pick(options, r):
    total = sum(w for _v, w in options)
    x = r.below(total)
    for v, w in options:
        if x < w:
            return v
        x -= w
    return options[-1][0]


class Plug:
    __slots__ = ("device_id", "seed", "cls", "offset_s", "load_w", "policy")


class Fleet:
    def __init__(self, n, mix, loads, spread_s=None, publish_min=13 * 60, prefix="ww-"):
        self.n = n
        self.mix = mix
        self.loads = loads
        self.cfg = fetch_cfg(spread_s)
        self.publish_min = publish_min
        self.prefix = prefix

    def device_id(self, i):
        return "%s%06d" % (self.prefix, i)

    def plug(self, i):
        p = Plug()
        p.device_id = self.device_id(i)
        p.seed = seed_from(self.cfg["fetch.seed"], p.device_id)
        p.cls = planner.spread_class(p.seed)
        p.offset_s = fetcher.Cadence(self.cfg, self.publish_min, Rng(p.seed)).offset_s
        r = Rng(fnv1a("fleet-mix:" + p.device_id))  # the simulator's draw, not the app's
        p.policy = _pick(self.mix, r)
        p.load_w = _pick(self.loads, r)
        return p

    def plugs(self, shard=0, shards=1):
        """The plugs of one shard (see shard_of)."""
        for i in range(self.n):
            p = self.plug(i)
            if shard_of(p, self.mix, shards) == shard:
                yield p


def shard_of(p, mix, shards):
    """A plug's shard: plugs that decide alike (same policy, same class) share one, so a shard
    plans each of its groups once and shards split the planning work instead of repeating it."""
    k = [v for v, _w in mix].index(p.policy)
    return (k * planner.SPREAD_CLASSES + p.cls) % shards
