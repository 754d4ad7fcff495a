"""OpenADR 3 VEN: price events from a VTN (GridX's OpenADR API or any 3.0.x/3.1 VTN), APIS.md §3.

    POST <tokenUrl>      grant_type=client_credentials -> Bearer token, cached in `state` until it
                         expires; a 401 on a call refreshes it once. Client id/secret go as HTTP
                         Basic (gridx profile, as GridX documents) or in the form (3.0/3.1 spec);
                         openadr3.tokenAuth "auto" picks by openadr3.profile
    GET  /programs       ?<target filter>&skip&limit pages -> the program whose id or programName
                         is openadr3.program and whose targets include this plug
    GET  /events         ?programID=<id>&<target filter>&skip&limit (a short page is the last)

Targets (openadr3_targets.py): events and programs whose `targets` do not name this plug (its
circuit, resource or VEN name from its settings) are skipped, whatever the VTN returned.

Each event is read as one object from the stream (an event is a day of intervals, a few KB).
Its `intervalPeriod` {start, duration} gives interval k (array order) the start start + k x
duration unless the interval has its own; a start of 0001-01-01 means "now"; a payload with N
values (3.1) splits its interval in N. The payload of type openadr3.payloadType gives the price;
currency and units come from the payloadDescriptors (event, else program; MWH -> per kWh).
Overlaps: a lower `priority` number wins; equal priorities go to the most recent
modificationDateTime. Ended events are dropped; the spans of events no longer listed are left
in state["openadr3.removed"] for the app to clear.

Polling, not push: behind home NAT no callback can reach the plug. refresh_s() is the poll
period: openadr3.pollMin (0: fetch.refresh_min), never shorter than the events' interval.
Subscriptions (for a reachable callback URL) are in openadr3_subs.py.
"""

from ..clock.iso import TimeFormatError, parse_duration, parse_iso
from ..config import Field, parse_url
from ..formats import jsonstream
from ..prices.schedule import Schedule, price_u
from . import NoData, ProviderError
from . import openadr3_targets as targets
from .oauth import Credentials, bearer_request

NEEDS_NETWORK = True
PUBLISH_LOCAL_MIN = 16 * 60 + 30  # GridX-fed day-ahead prices appear ~16:30-18:30 PT
MAX_LIMIT = 50
_NO_PRIORITY = 1 << 30
_MAX_INTERVAL_S = 31 * 86400  # P9999Y ("forever") is clipped to a month

CONFIG = (
    Field("openadr3.baseUrl", "text", "", hi=160,
          help="VTN root, e.g. https://openadr-vtn.gridx.com/v1",
          parse=parse_url, expect="an http(s) URL"),
    Field("openadr3.tokenUrl", "text", "", hi=160, help="token URL; empty = baseUrl/auth/token",
          parse=parse_url, expect="an http(s) URL"),
    Field("openadr3.clientId", "text", "", hi=128, help="VEN client id"),
    Field("openadr3.clientSecret", "secret", "", hi=256, help="VEN client secret"),
    Field("openadr3.profile", "dropdown", "3.0", choices=targets.PROFILES,
          help="the VTN: a generic OpenADR 3.0.x one, GridX's (3.0 objects, Basic token "
               "auth, CIRCUIT_IDS targets) or a 3.1 one (targets as strings)"),
    Field("openadr3.tokenAuth", "radiobox", "auto", choices=("auto", "form", "basic"),
          help="client credentials in the form body (3.0/3.1 spec) or HTTP Basic (GridX); "
               "auto = as the profile documents"),
    Field("openadr3.scope", "text", "", hi=64, help="token scope, e.g. read_all"),
    Field("openadr3.program", "text", "", hi=80, help="program name or id"),
    Field("openadr3.circuitId", "text", "", hi=120,
          help="this plug's circuit (CIRCUIT_IDS target, GridX feeder id), comma-separated"),
    Field("openadr3.resourceName", "text", "", hi=120, help="this plug's RESOURCE_NAME target"),
    Field("openadr3.venName", "text", "", hi=120, help="this plug's VEN_NAME target"),
    Field("openadr3.targetType", "text", "", hi=32,
          help="another target type of this plug (3.0: also the query filter; empty = none)"),
    Field("openadr3.targetValues", "text", "", hi=120, help="its values, comma-separated"),
    Field("openadr3.payloadType", "dropdown", "PRICE",
          choices=("PRICE", "PRICE_ALTERNATE", "EXPORT_PRICE"), help="payload to follow"),
    Field("openadr3.pageLimit", "number", MAX_LIMIT, lo=1, hi=MAX_LIMIT, integer=True,
          help="objects per page"),
    Field("openadr3.maxPages", "number", 20, lo=1, hi=200, integer=True,
          help="most pages read per list"),
    Field("openadr3.pollMin", "number", 0, lo=0, hi=1440, integer=True, unit="min",
          help="poll the VTN for events this often (0 = fetch.refresh_min); never more "
               "often than the events' interval"),
    Field("openadr3.pollJitterS", "number", 300, lo=0, hi=3600, integer=True, unit="s",
          help="random spread added to each poll"),
    Field("openadr3.clientName", "text", "wattwindow", hi=64, help="name on subscriptions"),
)


def _g(cfg, key):
    v = cfg.get("openadr3." + key)
    return None if v is None or v == "" else v


def base_url(cfg):
    b = _g(cfg, "baseUrl")
    if not b:
        raise ProviderError("openadr3: openadr3.baseUrl must be set")
    return b[:-1] if b.endswith("/") else b


def token_basic(cfg):
    """True if the client credentials go as HTTP Basic: tokenAuth, or the profile's way."""
    how = _g(cfg, "tokenAuth") or "auto"
    if how == "auto":
        return targets.profile(cfg) == "gridx"
    return how == "basic"


def credentials(cfg):
    return Credentials("openadr3", _g(cfg, "tokenUrl") or base_url(cfg) + "/auth/token",
                       _g(cfg, "clientId"), _g(cfg, "clientSecret"),
                       basic=token_basic(cfg), scope=_g(cfg, "scope"))


def refresh_s(cfg, state):
    """The poll period: openadr3.pollMin (0: fetch.refresh_min), but never shorter than the
    events' interval seen at the last fetch, up to a day (prices change once an interval)."""
    p = int(_g(cfg, "pollMin") or 0) * 60 or int(cfg.get("fetch.refresh_min") or 360) * 60
    return max(p, min(int(state.get("openadr3.interval_s") or 0), 86400))


def poll_delay_s(cfg, rand_below, state=None):
    """Seconds to the next poll: refresh_s plus a jitter drawn by rand_below(n) in [0, n)."""
    j = int(_g(cfg, "pollJitterS") or 0)
    return refresh_s(cfg, state or {}) + (rand_below(j) if j > 0 else 0)


def pages(client, cfg, now_s, state, path, query):
    """Yield every object of a paged list (skip/limit), streamed one at a time."""
    cred = credentials(cfg)
    limit = int(_g(cfg, "pageLimit") or MAX_LIMIT)
    url = base_url(cfg) + path
    skip = 0
    for _ in range(int(_g(cfg, "maxPages") or 20)):
        q = list(query) + [("skip", str(skip)), ("limit", str(limit))]
        resp = bearer_request(client, state, now_s, cred, "GET", url, params=q,
                              headers={"Accept": "application/json"})
        n = 0
        try:
            if resp.status >= 400:
                raise_problem(resp, path)
            try:
                for obj in jsonstream.items(resp, "*"):
                    n += 1
                    yield obj
            except jsonstream.JSONError as e:
                raise ProviderError("openadr3: bad %s response: %s" % (path, e))
        finally:
            resp.close()
        if n < limit:
            return
        skip += n
    raise ProviderError("openadr3: more than %d pages of %s" % (int(_g(cfg, "maxPages") or 20),
                                                                path))


def raise_problem(resp, path):
    """A problem body {title, status, detail} as a one-line error, else the HTTPError."""
    detail = None
    try:
        for _k, v in jsonstream.items(resp, ("title", "detail")):
            detail = v if detail is None else "%s: %s" % (detail, v)
    except (jsonstream.JSONError, ValueError):
        pass
    if resp.status in (400, 404, 409) and detail:
        raise ProviderError("openadr3: %s HTTP %d: %s" % (path, resp.status, detail))
    resp.raise_for_status()
    raise ProviderError("openadr3: %s HTTP %d" % (path, resp.status))


def find_program(client, cfg, now_s, state):
    """(program id, currency, unit) for openadr3.program (by id or programName)."""
    want = _g(cfg, "program")
    if not want:
        raise ProviderError("openadr3: openadr3.program must be set")
    if state.get("openadr3.program_key") == want and state.get("openadr3.program_id"):
        return state["openadr3.program_id"], state.get("openadr3.currency", "USD"), \
            state.get("openadr3.unit", "KWH")
    found = other = None
    plug = targets.mine(cfg)
    progs = pages(client, cfg, now_s, state, "/programs", targets.query(cfg))
    try:
        for p in progs:
            if isinstance(p, dict) and (p.get("id") == want or p.get("programName") == want):
                if targets.matches(p.get("targets"), plug):
                    found = p
                    break
                other = p
    finally:
        progs.close()  # runs pages()' finally: the response is closed
    if found is None and other is not None:
        raise ProviderError("openadr3: program %r targets %s, not this plug (%s)"
                            % (want, targets.describe(other.get("targets")),
                               _mine_text(plug)))
    if found is None or not found.get("id"):
        raise NoData("openadr3: no program %r on the VTN" % want)
    cur, unit = _descriptor(found.get("payloadDescriptors"), _g(cfg, "payloadType") or "PRICE",
                            ("USD", "KWH"))
    state["openadr3.program_key"] = want
    state["openadr3.program_id"] = found["id"]
    state["openadr3.currency"] = cur
    state["openadr3.unit"] = unit
    return found["id"], cur, unit


def _mine_text(plug):
    return "; ".join("%s=%s" % (t, ",".join(v)) for t, v in plug) or \
        "no targets set: openadr3.circuitId, resourceName or venName"


def _descriptor(descs, ptype, default):
    if isinstance(descs, list):
        for d in descs:
            if isinstance(d, dict) and d.get("payloadType") == ptype:
                return d.get("currency") or default[0], d.get("units") or default[1]
    return default


def _period(ip, default_start, default_dur, now_s):
    if isinstance(ip, dict):
        st = ip.get("start")
        start = default_start
        if st is not None:
            start = now_s if st[:4] == "0001" else parse_iso(st)
        dur = ip.get("duration")
        return start, parse_duration(dur) if dur else default_dur
    return default_start, default_dur


def _randomized(ip, start_s, seed):
    """intervalPeriod.randomizeStart: this device's delay of the start, in [0, R) whole
    seconds, fixed by its seed (jitter.seed_from, set by the app as state["device.seed"]) and
    the start, as policy.spread does for prices: a fleet does not all switch at that second."""
    r = ip.get("randomizeStart") if isinstance(ip, dict) else None
    span = parse_duration(r) if r else 0
    if span <= 0 or start_s is None:
        return 0
    x = (int(seed) * 2654435761 + start_s // 60) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 2246822519) & 0xFFFFFFFF
    return (x ^ (x >> 13)) % span


def event_records(ev, ptype, now_s, default_cur, default_unit, seed=0):
    """Sorted [(start_s, end_s, price_u)] of one event, plus its currency and unit. An
    interval whose intervalPeriod (or the event's) has randomizeStart begins, for this device,
    later by its seeded delay (_randomized); until then the earlier price stays in use."""
    cur, unit = _descriptor(ev.get("payloadDescriptors"), ptype, (default_cur, default_unit))
    start, dur = _period(ev.get("intervalPeriod"), None, 0, now_s)
    ev_ip = ev.get("intervalPeriod")
    recs = []
    ints = ev.get("intervals") or []
    for k in range(len(ints)):
        iv = ints[k]
        s0 = None if start is None else start + k * dur
        ip = iv.get("intervalPeriod")
        s0, d = _period(ip, s0, dur, now_s)
        if s0 is None:
            raise ProviderError("openadr3: event %s interval %s has no start"
                                % (ev.get("id"), iv.get("id")))
        d = min(d, _MAX_INTERVAL_S)
        late = _randomized(ip if isinstance(ip, dict) and "randomizeStart" in ip else ev_ip,
                           s0, seed)
        for pl in iv.get("payloads") or ():
            if pl.get("type") != ptype:
                continue
            vals = pl.get("values") or []
            n = len(vals)
            if n == 0 or d <= 0:
                continue
            step = d // n
            for j in range(n):
                p = price_u(vals[j])
                if unit == "MWH":
                    p = (p + (500 if p >= 0 else -500)) // 1000
                a = s0 + j * step
                b = s0 + (j + 1) * step if j < n - 1 else s0 + d
                if j == 0 and late:
                    a = min(a + late, b - 1)  # the randomized start: the first value begins later
                recs.append((a, b, p))
    recs.sort()
    return recs, cur, "kWh" if unit in ("KWH", "MWH") else unit


def fetch(client, cfg, now_s, state):
    """Prices of the configured program's current and future events."""
    ptype = _g(cfg, "payloadType") or "PRICE"
    pid, cur0, unit0 = find_program(client, cfg, now_s, state)
    events = []  # (-priority, modification_s, id, Schedule)
    seen = {}
    cur, unit = cur0, "kWh"
    plug = targets.mine(cfg)
    skipped = None  # targets of an event meant for someone else (for the message)
    step = 0  # the longest interval seen: the poll period's floor (refresh_s)
    evs = pages(client, cfg, now_s, state, "/events",
                 [("programID", pid)] + targets.query(cfg))
    try:
        for ev in evs:
            if not isinstance(ev, dict) or (ev.get("programID") not in (None, pid)):
                continue
            if not targets.matches(ev.get("targets"), plug):
                skipped = ev.get("targets")
                continue
            try:
                recs, cur, unit = event_records(ev, ptype, now_s, cur0, unit0,
                                                state.get("device.seed", 0))
                mod = ev.get("modificationDateTime") or ev.get("createdDateTime")
                mod_s = parse_iso(mod) if mod else 0
            except TimeFormatError as e:
                raise ProviderError("openadr3: event %s: %s" % (ev.get("id"), e))
            except (TypeError, AttributeError, ValueError) as e:
                raise ProviderError("openadr3: bad event %s: %s" % (ev.get("id"), e))
            if not recs or recs[-1][1] <= now_s:
                continue  # no prices, or ended
            s = Schedule("openadr3", cur, unit)
            for a, b, p in recs:
                step = max(step, b - a)
                try:
                    s.add(a, b, p)
                except ValueError as e:
                    raise ProviderError("openadr3: event %s: %s" % (ev.get("id"), e))
            prio = ev.get("priority")
            prio = prio if isinstance(prio, int) and not isinstance(prio, bool) else _NO_PRIORITY
            eid = str(ev.get("id"))
            seen[eid] = (s.base_s, s.end_s)
            events.append((-prio, mod_s, eid, s))
    finally:
        evs.close()
    state["openadr3.interval_s"] = step
    events.sort(key=lambda e: (e[0], e[1], e[2]))
    out = None
    for e in events:  # lowest precedence first; each later one wins where it has prices
        out = e[3] if out is None else out.merge(e[3])
    prev = state.get("openadr3.events") or {}
    state["openadr3.removed"] = [tuple(v) for k, v in prev.items() if k not in seen
                                 and v[1] > now_s]
    state["openadr3.events"] = seen
    if out is None:
        state.pop("openadr3.program_id", None)  # look the program up again next time
        why = "" if skipped is None else " for this plug (%s); events target %s" % (
            _mine_text(plug), targets.describe(skipped))
        raise NoData("openadr3: no current or future %s events in program %s%s"
                     % (ptype, pid, why))
    out.source = "openadr3"
    out.currency, out.unit = cur, unit
    out.tariff_id = pid
    out.fetched_s = now_s
    return out
