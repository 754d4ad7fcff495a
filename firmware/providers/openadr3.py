"""OpenADR 3.0.x VEN: price events from a VTN (GridX's OpenADR API or any 3.0.1 VTN), APIS.md §3.

    POST <tokenUrl>      grant_type=client_credentials (form; client id/secret in the form, or
                         HTTP Basic for GridX: openadr3.tokenAuth = basic) -> Bearer token,
                         cached in `state` until it expires; a 401 on a call refreshes it once
    GET  /programs       ?skip&limit pages -> the program whose id or programName is
                         openadr3.program (its id is cached in state)
    GET  /events         ?programID=<id>&skip&limit pages (a page shorter than limit is the last)

Each event is read as one object from the stream (an event is a day of intervals, a few KB).
Its `intervalPeriod` {start, duration (PT1H, PT15M)} gives interval k (array order) the start
start + k x duration unless the interval has its own intervalPeriod; a start of 0001-01-01 means
"now"; a payload with N values (3.1) splits its interval in N. The payload whose type is
openadr3.payloadType (PRICE) gives the price; currency and units come from the event's
payloadDescriptors, else the program's (MWH prices are converted to per kWh).

Overlaps: an event with a lower `priority` number wins; equal priorities go to the most recent
modificationDateTime (events are merged in that order, newer-wins). Events that have ended
(all intervals before now) and intervals of events no longer listed are not returned; since the
app merges each fetch into its cache, the spans of events that disappeared since the previous
poll are left in state["openadr3.removed"] as [(start_s, end_s), ...] for the app to clear.

Polling, not push: the plug sits behind NAT, so it polls; openadr3.pollMin and
openadr3.pollJitterS give the cadence (poll_delay_s), the app schedules. list_subscriptions()
and create_subscription() are for deployments where a callback URL is reachable.
"""

from ..clock.iso import TimeFormatError, parse_duration, parse_iso
from ..config import Field, parse_url
from ..formats import jsonstream
from ..prices.schedule import Schedule, price_u
from . import NoData, ProviderError
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
    Field("openadr3.tokenAuth", "radiobox", "form", choices=("form", "basic"),
          help="client credentials in the form body (spec) or HTTP Basic (GridX)"),
    Field("openadr3.scope", "text", "", hi=64, help="token scope, e.g. read_all"),
    Field("openadr3.program", "text", "", hi=80, help="program name or id"),
    Field("openadr3.targetType", "text", "", hi=32,
          help="3.0 target filter on programs/events, e.g. CIRCUIT_IDS (empty = none)"),
    Field("openadr3.targetValues", "text", "", hi=120, help="target values, comma-separated"),
    Field("openadr3.payloadType", "dropdown", "PRICE",
          choices=("PRICE", "PRICE_ALTERNATE", "EXPORT_PRICE"), help="payload to follow"),
    Field("openadr3.pageLimit", "number", MAX_LIMIT, lo=1, hi=MAX_LIMIT, integer=True,
          help="objects per page"),
    Field("openadr3.maxPages", "number", 20, lo=1, hi=200, integer=True,
          help="most pages read per list"),
    Field("openadr3.pollMin", "number", 60, lo=5, hi=1440, integer=True, unit="min",
          help="poll the VTN for events this often"),
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


def credentials(cfg):
    return Credentials("openadr3", _g(cfg, "tokenUrl") or base_url(cfg) + "/auth/token",
                       _g(cfg, "clientId"), _g(cfg, "clientSecret"),
                       basic=_g(cfg, "tokenAuth") == "basic", scope=_g(cfg, "scope"))


def poll_delay_s(cfg, rand_below):
    """Seconds to the next poll: pollMin plus a jitter drawn by rand_below(n) in [0, n)."""
    j = int(_g(cfg, "pollJitterS") or 0)
    return int(_g(cfg, "pollMin") or 60) * 60 + (rand_below(j) if j > 0 else 0)


def _targets(cfg):
    tt, tv = _g(cfg, "targetType"), _g(cfg, "targetValues")
    if not tt or not tv:
        return ()
    return tuple([("targetType", tt)] + [("targetValues", v.strip()) for v in tv.split(",")
                                         if v.strip()])


def _pages(client, cfg, now_s, state, path, query):
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
                _raise(resp, path)
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


def _raise(resp, path):
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
    found = None
    pages = _pages(client, cfg, now_s, state, "/programs", _targets(cfg))
    try:
        for p in pages:
            if isinstance(p, dict) and (p.get("id") == want or p.get("programName") == want):
                found = p
                break
    finally:
        pages.close()  # runs _pages' finally: the response is closed
    if found is None or not found.get("id"):
        raise NoData("openadr3: no program %r on the VTN" % want)
    cur, unit = _descriptor(found.get("payloadDescriptors"), _g(cfg, "payloadType") or "PRICE",
                            ("USD", "KWH"))
    state["openadr3.program_key"] = want
    state["openadr3.program_id"] = found["id"]
    state["openadr3.currency"] = cur
    state["openadr3.unit"] = unit
    return found["id"], cur, unit


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


def event_records(ev, ptype, now_s, default_cur, default_unit):
    """Sorted [(start_s, end_s, price_u)] of one event, plus its currency and unit."""
    cur, unit = _descriptor(ev.get("payloadDescriptors"), ptype, (default_cur, default_unit))
    start, dur = _period(ev.get("intervalPeriod"), None, 0, now_s)
    recs = []
    ints = ev.get("intervals") or []
    for k in range(len(ints)):
        iv = ints[k]
        s0 = None if start is None else start + k * dur
        s0, d = _period(iv.get("intervalPeriod"), s0, dur, now_s)
        if s0 is None:
            raise ProviderError("openadr3: event %s interval %s has no start"
                                % (ev.get("id"), iv.get("id")))
        d = min(d, _MAX_INTERVAL_S)
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
                recs.append((s0 + j * step, s0 + (j + 1) * step if j < n - 1 else s0 + d, p))
    recs.sort()
    return recs, cur, "kWh" if unit in ("KWH", "MWH") else unit


def fetch(client, cfg, now_s, state):
    """Prices of the configured program's current and future events."""
    ptype = _g(cfg, "payloadType") or "PRICE"
    pid, cur0, unit0 = find_program(client, cfg, now_s, state)
    events = []  # (-priority, modification_s, id, Schedule)
    seen = {}
    cur, unit = cur0, "kWh"
    evs = _pages(client, cfg, now_s, state, "/events", (("programID", pid),) + _targets(cfg))
    try:
        for ev in evs:
            if not isinstance(ev, dict) or (ev.get("programID") not in (None, pid)):
                continue
            try:
                recs, cur, unit = event_records(ev, ptype, now_s, cur0, unit0)
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
        raise NoData("openadr3: no current or future %s events in program %s" % (ptype, pid))
    out.source = "openadr3"
    out.currency, out.unit = cur, unit
    out.tariff_id = pid
    out.fetched_s = now_s
    return out


# -- subscriptions (for deployments with a reachable callback URL) ---------------------------
def list_subscriptions(client, cfg, now_s, state, program_id=None):
    """The VEN's subscriptions (dicts), optionally for one program."""
    q = [("clientName", _g(cfg, "clientName") or "wattwindow")]
    if program_id:
        q.append(("programID", program_id))
    return list(_pages(client, cfg, now_s, state, "/subscriptions", q))


def create_subscription(client, cfg, now_s, state, callback_url, bearer_token=None,
                        program_id=None):
    """POST /subscriptions for EVENT create/update notifications to callback_url -> dict."""
    import json

    pid = program_id or find_program(client, cfg, now_s, state)[0]
    op = {"objects": ["EVENT"], "operations": ["POST", "PUT"], "callbackUrl": callback_url}
    if bearer_token:
        op["bearerToken"] = bearer_token
    body = json.dumps({"clientName": _g(cfg, "clientName") or "wattwindow",
                       "programID": pid, "objectOperations": [op]}).encode()
    resp = bearer_request(client, state, now_s, credentials(cfg), "POST",
                          base_url(cfg) + "/subscriptions", body=body,
                          headers={"Content-Type": "application/json",
                                   "Accept": "application/json"})
    try:
        if resp.status >= 400:
            _raise(resp, "/subscriptions")
        for doc in jsonstream.items(resp, ""):
            return doc
    finally:
        resp.close()
    raise ProviderError("openadr3: empty subscription answer")
