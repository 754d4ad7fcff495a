"""Which OpenADR 3 programs and events are meant for this plug, and the target filters it sends.

The plug's targets come from its settings, as (type, (values...)) pairs:
    openadr3.circuitId     CIRCUIT_IDS    (GridX: the feeder id, e.g. 013532223)
    openadr3.resourceName  RESOURCE_NAME
    openadr3.venName       VEN_NAME
    openadr3.targetType    any other type, with openadr3.targetValues (comma-separated)

An object's `targets` (3.0.x: valuesMaps {type, values[]}; 3.1: plain strings) say whom it is
for. matches(): no targets = everyone; otherwise at least one target must name this plug: a
valuesMap whose type the plug has and that lists one of its values (3.0), or a string equal
to one of its values (3.1). A plug without targets takes only untargeted objects, so a VTN
that answers with every circuit's events never makes it follow another circuit's prices.

query() is the documented filter for GET /programs, /events and /subscriptions: 3.0.x one
`targetType` with its `targetValues` (repeated); the gridx profile filters on CIRCUIT_IDS;
3.1 `targets` (repeated). body() gives a subscription's `targets` in the version's shape.
"""

PROFILES = ("3.0", "gridx", "3.1")
_KEYS = (("circuitId", "CIRCUIT_IDS"), ("resourceName", "RESOURCE_NAME"),
         ("venName", "VEN_NAME"))


def _g(cfg, key):
    v = cfg.get("openadr3." + key)
    return None if v is None or v == "" else v


def _split(text, have=()):
    out = list(have)
    for v in str(text).split(","):
        v = v.strip()
        if v and v not in out:
            out.append(v)
    return tuple(out)


def profile(cfg):
    p = _g(cfg, "profile") or "3.0"
    return p if p in PROFILES else "3.0"


def mine(cfg):
    """The plug's targets: [(type, (value, ...)), ...], one entry per type."""
    out = []
    for key, typ in _KEYS:
        v = _g(cfg, key)
        if v:
            out.append((typ, _split(v)))
    tt, tv = _g(cfg, "targetType"), _g(cfg, "targetValues")
    if tt and tv:
        for i in range(len(out)):
            if out[i][0] == tt:
                out[i] = (tt, _split(tv, out[i][1]))
                break
        else:
            out.append((tt, _split(tv)))
    return out


def matches(targets, plug):
    """True if an object with these `targets` is meant for a plug with targets `plug`."""
    if not targets:
        return True
    if not isinstance(targets, list):
        return False
    for t in targets:
        if isinstance(t, str):
            for _typ, vals in plug:
                if t in vals:
                    return True
        elif isinstance(t, dict):
            typ, vals = t.get("type"), t.get("values")
            if not isinstance(vals, list):
                continue
            for ptyp, pvals in plug:
                if ptyp == typ:
                    for v in vals:
                        if v in pvals:
                            return True
    return False


def describe(targets):
    """A short text of an object's targets, for error messages."""
    parts = []
    for t in targets or ():
        if isinstance(t, dict):
            parts.append("%s=%s" % (t.get("type"), ",".join(str(v) for v in
                                                            t.get("values") or ())))
        else:
            parts.append(str(t))
    return "; ".join(parts) or "none"


def query(cfg):
    """The target filter for GET /programs, /events and /subscriptions as (name, value)."""
    plug = mine(cfg)
    prof = profile(cfg)
    if prof == "3.1":
        return [("targets", v) for _t, vals in plug for v in vals]
    want = _g(cfg, "targetType") or ("CIRCUIT_IDS" if prof == "gridx" else None)
    for typ, vals in plug:
        if typ == want:
            return [("targetType", typ)] + [("targetValues", v) for v in vals]
    return []


def body(cfg):
    """A subscription's `targets`: valuesMaps (3.0.x, gridx) or strings (3.1); None if none."""
    plug = mine(cfg)
    if not plug:
        return None
    if profile(cfg) == "3.1":
        return [v for _t, vals in plug for v in vals]
    return [{"type": typ, "values": list(vals)} for typ, vals in plug]
