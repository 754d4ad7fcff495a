# runtimes: cpython micropython
"""OpenADR 3 VEN: token handling per server profile, programs, paged events, interval rules,
overlaps, targets (events for other circuits), subscriptions - through the real http client
against host_sim/apis/openadr3_server.py, which refuses what the specification does not define."""

import json

from firmware.clock.iso import format_iso, parse_iso
from firmware.providers import AuthError, NoData, ProviderError, openadr3, openadr3_subs
from firmware.providers import openadr3_targets as targets

from support import env_int, loopback_client, raises, read_fixture, response_json, unique_tag

START = parse_iso("2025-07-16T07:00:00Z")
NOW = parse_iso("2025-07-16T00:30:00-07:00")


def cfg(base="http://127.0.0.1:9/x", **kw):
    c = {f.name: f.default for f in openadr3.CONFIG}
    c["openadr3.baseUrl"] = base
    c["openadr3.clientId"] = "ven-plug-001"
    c["openadr3.clientSecret"] = "ven-secret"
    c["openadr3.program"] = "PGE-CalFUSE-EV2AS"
    c["openadr3.circuitId"] = "013532223"
    for k, v in kw.items():
        c["openadr3." + k] = v
    return c


def fixture_event():
    return json.loads(read_fixture("openadr3/events.json"))[0]


def fixture_prices():
    return [iv["payloads"][0]["values"][0] for iv in fixture_event()["intervals"]]


def ev(eid, start, n, price, prio=0, mod="2025-07-15T23:00:00Z", dur="PT1H", circuit=None):
    return {"id": eid, "programID": "pge-calfuse-ev2as", "priority": prio,
            "modificationDateTime": mod, "objectType": "EVENT",
            "targets": [{"type": "CIRCUIT_IDS", "values": [circuit]}] if circuit else None,
            "intervalPeriod": {"start": format_iso(start), "duration": dur},
            "intervals": [{"id": i, "payloads": [{"type": "PRICE", "values": [price]}]}
                          for i in range(n)]}


# -- without network ------------------------------------------------------------------------

def test_event_records_from_event_interval_period():
    recs, cur, unit = openadr3.event_records(fixture_event(), "PRICE", NOW, "USD", "KWH")
    assert cur == "USD" and unit == "kWh" and len(recs) == 24
    prices = fixture_prices()
    for k, (s, e, p) in enumerate(recs):
        assert (s, e) == (START + 3600 * k, START + 3600 * (k + 1))
        assert p == int(prices[k] * 1000000 + 0.5)
    assert recs[17][2] == 561000


def test_randomize_start_delays_each_devices_start_within_the_span():
    # OpenADR 3 intervalPeriod.randomizeStart: each device starts the interval later by a
    # seeded amount in [0, R): a fleet does not switch in one second; the rest is unchanged
    e = ev("r", START, 3, 0.2)
    e["intervalPeriod"]["randomizeStart"] = "PT10M"
    plain = openadr3.event_records(ev("r", START, 3, 0.2), "PRICE", NOW, "USD", "KWH", 7)[0]
    assert plain[0][0] == START  # no randomizeStart: no delay
    starts = set()
    for seed in range(40):
        recs = openadr3.event_records(e, "PRICE", NOW, "USD", "KWH", seed)[0]
        assert recs == openadr3.event_records(e, "PRICE", NOW, "USD", "KWH", seed)[0]
        for k in range(3):  # the event's period is every interval's default: each starts late
            assert START + k * 3600 <= recs[k][0] < START + k * 3600 + 600
            assert recs[k][1:] == plain[k][1:]  # same end, same price
        starts.add(recs[0][0])
    assert len(starts) > 30  # spread over the span, not one moment
    f = ev("s", START, 3, 0.2)
    f["intervals"][1]["intervalPeriod"] = {"randomizeStart": "PT5M"}  # an interval's own
    recs = openadr3.event_records(f, "PRICE", NOW, "USD", "KWH", 3)[0]
    assert recs[0] == plain[0] and recs[2] == plain[2]
    assert START + 3600 <= recs[1][0] < START + 3600 + 300


def test_interval_rules_own_period_multi_values_units():
    e = ev("a", START, 3, 0.2, dur="PT15M")
    e["intervals"][2]["intervalPeriod"] = {"start": "2025-07-16T09:00:00Z", "duration": "PT1H"}
    e["intervals"][1]["payloads"] = [{"type": "GHG", "values": [9]},
                                     {"type": "PRICE", "values": ["0.25", 0.3, 0.35]}]
    e["payloadDescriptors"] = [{"payloadType": "PRICE", "units": "MWH", "currency": "EUR"}]
    recs, cur, unit = openadr3.event_records(e, "PRICE", NOW, "USD", "KWH")
    assert cur == "EUR" and unit == "kWh"
    assert recs[0] == (START, START + 900, 200)  # 0.2 EUR/MWh = 200 micro-EUR/kWh
    assert recs[1] == (START + 900, START + 1200, 250)  # PT15M split in three values
    assert recs[2] == (START + 1200, START + 1500, 300)
    assert recs[3] == (START + 1500, START + 1800, 350)
    assert recs[4] == (START + 7200, START + 10800, 200)  # its own intervalPeriod
    now_ev = ev("n", START, 1, 0.1)
    now_ev["intervalPeriod"]["start"] = "0001-01-01T00:00:00Z"  # "now"
    assert openadr3.event_records(now_ev, "PRICE", NOW, "USD", "KWH")[0][0][:2] == \
        (NOW, NOW + 3600)
    bad = ev("b", START, 1, 0.1)
    del bad["intervalPeriod"]
    raises(ProviderError, openadr3.event_records, bad, "PRICE", NOW, "USD", "KWH")


def test_poll_delay_is_configurable_and_jittered():
    c = cfg(pollMin=30, pollJitterS=120)
    assert openadr3.poll_delay_s(c, lambda n: n - 1) == 1800 + 119
    assert openadr3.poll_delay_s(c, lambda n: 0) == 1800
    assert openadr3.poll_delay_s(cfg(pollMin=30, pollJitterS=0), lambda n: 5 / 0) == 1800


def test_poll_no_more_often_than_the_interval():
    c = cfg(pollMin=5)
    assert openadr3.refresh_s(c, {}) == 300
    assert openadr3.refresh_s(c, {"openadr3.interval_s": 3600}) == 3600  # hourly prices
    assert openadr3.refresh_s(c, {"openadr3.interval_s": 900}) == 900
    assert openadr3.refresh_s(c, {"openadr3.interval_s": 31 * 86400}) == 86400  # at most daily
    c = cfg(pollMin=0)
    c["fetch.refresh_min"] = 240
    assert openadr3.refresh_s(c, {"openadr3.interval_s": 3600}) == 4 * 3600
    assert openadr3.refresh_s(cfg(pollMin=0), {}) == 6 * 3600  # fetch.refresh_min's default


def test_targets_of_the_plug_and_matching():
    c = cfg(resourceName="plug-1", targetType="GROUP", targetValues="g1, g2")
    mine = targets.mine(c)
    assert mine == [("CIRCUIT_IDS", ("013532223",)), ("RESOURCE_NAME", ("plug-1",)),
                    ("GROUP", ("g1", "g2"))]
    m = targets.matches
    assert m(None, mine) and m([], mine)  # untargeted: everyone
    assert m([{"type": "CIRCUIT_IDS", "values": ["024040403", "013532223"]}], mine)
    assert not m([{"type": "CIRCUIT_IDS", "values": ["024040403"]}], mine)
    assert not m([{"type": "VEN_NAME", "values": ["013532223"]}], mine)  # type matters (3.0)
    assert m([{"type": "VEN_NAME", "values": ["x"]}, {"type": "GROUP", "values": ["g2"]}], mine)
    assert m(["plug-1"], mine) and not m(["plug-2"], mine)  # 3.1 strings
    assert not m([{"type": "CIRCUIT_IDS", "values": ["013532223"]}], [])  # no targets set
    assert not m("013532223", mine)
    # the documented filters: 3.0 only the one type asked for, gridx its circuits, 3.1 strings
    assert targets.query(c) == [("targetType", "GROUP"), ("targetValues", "g1"),
                                ("targetValues", "g2")]
    assert targets.query(cfg()) == []
    assert targets.query(cfg(profile="gridx")) == [("targetType", "CIRCUIT_IDS"),
                                                   ("targetValues", "013532223")]
    assert targets.query(cfg(profile="3.1", venName="v")) == [("targets", "013532223"),
                                                             ("targets", "v")]
    assert targets.body(cfg(profile="3.1")) == ["013532223"]
    assert targets.body(cfg()) == [{"type": "CIRCUIT_IDS", "values": ["013532223"]}]
    assert openadr3.token_basic(cfg(profile="gridx"))
    assert not openadr3.token_basic(cfg()) and not openadr3.token_basic(cfg(profile="3.1"))
    assert openadr3.token_basic(cfg(tokenAuth="basic"))
    assert not openadr3.token_basic(cfg(profile="gridx", tokenAuth="form"))


# -- over http --------------------------------------------------------------------------------



def _session():
    sid = unique_tag("oa")
    return "http://127.0.0.1:%d/s/%s" % (env_int("WW_VTN_PORT"), sid)


def _read(r):
    return response_json(r)


def _ctl(client, base, q="", events=None):
    if events is not None:
        r = client.post(base + "/_ctl/events", body=json.dumps(events).encode(),
                        headers={"Content-Type": "application/json"})
    else:
        r = client.get(base + "/_ctl?" + q)
    assert _read(r) == {"ok": True}


def _reqs(client, base):
    return _read(client.get(base + "/_requests"))


def test_fetch_fixture_events_with_token_and_parameters():
    http, client = loopback_client()
    base = _session()
    st = {}
    s = openadr3.fetch(client, cfg(base, scope="read_all"), NOW, st)
    assert len(s) == 24 and s.base_s == START and s.end_s == START + 86400
    assert s.tariff_id == "pge-calfuse-ev2as" and s.currency == "USD"
    prices = fixture_prices()
    for k in range(24):
        assert s.prices[k] == int(prices[k] * 1000000 + 0.5)
    reqs = _reqs(client, base)
    assert [(r["method"], r["path"]) for r in reqs] == [
        ("POST", "/auth/token"), ("GET", "/programs"), ("GET", "/events")]
    form = reqs[0]["body"]
    for part in ("grant_type=client_credentials", "client_id=ven-plug-001",
                 "client_secret=ven-secret", "scope=read_all"):
        assert part in form
    assert reqs[0]["headers"]["content-type"].startswith("application/x-www-form-urlencoded")
    tok = st["openadr3.token"]
    for r in reqs[1:]:
        assert r["headers"]["authorization"] == "Bearer " + tok
    assert reqs[1]["args"] == {"skip": ["0"], "limit": ["50"]}
    assert reqs[2]["args"] == {"programID": ["pge-calfuse-ev2as"], "skip": ["0"],
                               "limit": ["50"]}
    # a second poll: cached token and program id, only GET /events
    s2 = openadr3.fetch(client, cfg(base), NOW + 600, st)
    assert s2.same_as(s) or list(s2.prices) == list(s.prices)
    assert [r["path"] for r in _reqs(client, base)][3:] == ["/events"]
    # 3.0 target filters go on programs and events
    openadr3.fetch(client, cfg(base, targetType="CIRCUIT_IDS", targetValues="013532223, 1"),
                   NOW, {})
    r = _reqs(client, base)[-1]
    assert r["args"]["targetType"] == ["CIRCUIT_IDS"]
    assert r["args"]["targetValues"] == ["013532223", "1"]
    assert r["args"]["programID"] == ["pge-calfuse-ev2as"]
    # by id, and with HTTP Basic client authentication (GridX style)
    st2 = {}
    e = raises(NoData, openadr3.fetch, client,
               cfg(base, program="pge-calfuse-eelec", tokenAuth="basic"), NOW, st2)
    assert "pge-calfuse-eelec" in str(e)  # found by id; it has no events
    assert "openadr3.program_id" not in st2  # looked up again at the next poll
    r = _reqs(client, base)[-3]
    assert r["path"] == "/auth/token" and r["headers"]["authorization"].startswith("Basic ")
    assert "client_secret" not in r["body"]


def test_token_expiry_refresh_and_refusal():
    http, client = loopback_client()
    base = _session()
    st = {}
    openadr3.fetch(client, cfg(base), NOW, st)
    tok = st["openadr3.token"]
    _ctl(client, base, "expire=1")  # the server forgets it early: 401, refresh once, retry
    s = openadr3.fetch(client, cfg(base), NOW + 60, st)
    assert len(s) == 24 and st["openadr3.token"] != tok
    paths = [r["path"] for r in _reqs(client, base)][-3:]
    assert paths == ["/events", "/auth/token", "/events"]
    # our own clock says it expired (60 s early): a new token before the call
    tok = st["openadr3.token"]
    openadr3.fetch(client, cfg(base), st["openadr3.exp_s"], st)
    assert st["openadr3.token"] != tok
    assert [r["path"] for r in _reqs(client, base)][-2:] == ["/auth/token", "/events"]
    # refused even after a refresh: AuthError, two tries only
    n = len(_reqs(client, base))
    _ctl(client, base, "fail=401&count=5")
    raises(AuthError, openadr3.fetch, client, cfg(base), NOW + 120, st)
    assert len(_reqs(client, base)) - n == 3  # events, token, events
    e = raises(AuthError, openadr3.fetch, client, cfg(base, clientSecret="nope"), NOW, {})
    assert "invalid_client" in str(e) and "401" in str(e)
    e = raises(AuthError, openadr3.fetch, client, cfg(base, clientSecret=""), NOW, {})
    assert "secret" in str(e)


def test_paging_and_program_lookup():
    http, client = loopback_client()
    base = _session()
    events = [ev("d%d" % i, START + i * 86400, 24, 0.1 + i / 100) for i in range(7)]
    _ctl(client, base, events=events)
    st = {}
    s = openadr3.fetch(client, cfg(base, pageLimit=3), NOW, st)
    assert s.base_s == START and s.end_s == START + 7 * 86400
    assert s.price_at(START + 6 * 86400 + 5) == 160000
    got = [r["args"]["skip"][0] for r in _reqs(client, base) if r["path"] == "/events"]
    assert got == ["0", "3", "6"]
    e = raises(NoData, openadr3.fetch, client, cfg(base, program="NO-SUCH"), NOW, {})
    assert "NO-SUCH" in str(e)
    e = raises(ProviderError, openadr3.fetch, client, cfg(base, pageLimit=3, maxPages=2),
               NOW, {})
    assert "pages" in str(e)


def test_overlaps_priority_then_recency_and_removed_events():
    http, client = loopback_client()
    base = _session()
    h = 3600
    events = [
        ev("base", START, 24, 0.1, prio=1, mod="2025-07-15T20:00:00Z"),
        ev("urgent", START + 5 * h, 2, 0.9, prio=0, mod="2025-07-15T10:00:00Z"),
        ev("newer", START + 10 * h, 2, 0.5, prio=1, mod="2025-07-15T21:00:00Z"),
        ev("older", START + 15 * h, 1, 0.7, prio=1, mod="2025-07-15T19:00:00Z"),
        ev("nopri", START + 18 * h, 1, 0.8, prio=None, mod="2025-07-15T23:59:00Z"),
        ev("ended", START - 2 * 86400, 24, 0.3),
        ev("other-program", START, 24, 0.6),
    ]
    events[-1]["programID"] = "someone-else"
    _ctl(client, base, events=events)
    st = {}
    s = openadr3.fetch(client, cfg(base), NOW, st)
    assert s.base_s == START and s.end_s == START + 24 * h  # the ended event is gone
    assert s.price_at(START + 4 * h) == 100000
    assert s.price_at(START + 5 * h) == 900000 and s.price_at(START + 6 * h + 59) == 900000
    assert s.price_at(START + 10 * h) == 500000  # same priority, more recent
    assert s.price_at(START + 15 * h) == 100000  # same priority, older: loses
    assert s.price_at(START + 18 * h) == 100000  # no priority: lowest
    assert st["openadr3.removed"] == []
    # "urgent" is cancelled (no longer listed): its span is reported for the app to clear
    _ctl(client, base, events=[e for e in events if e["id"] != "urgent"])
    s = openadr3.fetch(client, cfg(base), NOW, st)
    assert s.price_at(START + 5 * h) == 100000
    assert st["openadr3.removed"] == [(START + 5 * h, START + 7 * h)]
    _ctl(client, base, events=[events[5]])
    raises(NoData, openadr3.fetch, client, cfg(base), NOW, st)


def test_vtn_errors():
    http, client = loopback_client()
    base = _session()
    st = {}
    openadr3.fetch(client, cfg(base), NOW, st)
    _ctl(client, base, "fail=500")
    e = raises(http.HTTPError, openadr3.fetch, client, cfg(base), NOW, st)
    assert e.status == 500
    _ctl(client, base, "fail=503")
    e = raises(http.HTTPError, openadr3.fetch, client, cfg(base), NOW, st)
    assert e.retry_after_s == 7
    _ctl(client, base, "fail=garbage")
    e = raises(ProviderError, openadr3.fetch, client, cfg(base), NOW, st)
    assert "/events" in str(e)
    bad = ev("x", START, 2, 0.1)
    bad["intervalPeriod"]["start"] = "2025-07-16T07:00:00"  # no offset
    _ctl(client, base, events=[bad])
    e = raises(ProviderError, openadr3.fetch, client, cfg(base), NOW, st)
    assert "event x" in str(e)


def test_subscriptions_speak_the_version_in_use():
    http, client = loopback_client()
    base = _session()
    st = {}
    sub = openadr3_subs.create_subscription(client, cfg(base, clientName="plug-7"), NOW, st,
                                            "https://ven.example.com/cb", bearer_token="cb-secret")
    assert sub["id"] and sub["programID"] == "pge-calfuse-ev2as"
    r = _reqs(client, base)[-1]
    assert r["method"] == "POST" and r["path"] == "/subscriptions"
    body = json.loads(r["body"])
    assert body["clientName"] == "plug-7"
    op = body["objectOperations"][0]
    assert op["objects"] == ["EVENT"] and op["operations"] == ["CREATE", "UPDATE"]
    assert op["callbackUrl"] == "https://ven.example.com/cb" and op["bearerToken"] == "cb-secret"
    assert body["targets"] == [{"type": "CIRCUIT_IDS", "values": ["013532223"]}]
    subs = openadr3_subs.list_subscriptions(client, cfg(base, clientName="plug-7", profile="gridx"),
                                            NOW, st, "pge-calfuse-ev2as")
    assert [x["id"] for x in subs] == [sub["id"]]
    assert _reqs(client, base)[-1]["args"] == {
        "clientName": ["plug-7"], "programID": ["pge-calfuse-ev2as"],
        "targetType": ["CIRCUIT_IDS"], "targetValues": ["013532223"], "objects": ["EVENT"],
        "skip": ["0"], "limit": ["50"]}
    assert openadr3_subs.list_subscriptions(client, cfg(base, clientName="other"), NOW, st) == []
    # another circuit's filter finds nothing: the server filters on the subscription's targets
    assert openadr3_subs.list_subscriptions(
        client, cfg(base, clientName="plug-7", profile="gridx", circuitId="024040403"),
        NOW, st) == []
    # the server refuses what OpenADR 3.0.1 does not define, with its problem shape
    tok = st["openadr3.token"]
    for ops, needle in ((["POST", "PUT"], "'POST' is not one of READ, CREATE, UPDATE, DELETE"),
                        ([], None)):
        bad = openadr3_subs.subscription(cfg(), "pge-calfuse-ev2as", "https://x/cb")
        bad["objectOperations"][0]["operations"] = ops
        r = client.post(base + "/subscriptions", body=json.dumps(bad).encode(),
                        auth=("bearer", tok), headers={"Content-Type": "application/json"})
        if needle is None:
            assert r.status == 201
            r.close()
            continue
        doc = _read(r)
        assert r.status == 400 and doc["status"] == 400 and needle in doc["detail"]
    bad = openadr3_subs.subscription(cfg(profile="3.1"), "pge-calfuse-ev2as", "https://x/cb")
    r = client.post(base + "/subscriptions", body=json.dumps(bad).encode(),
                    auth=("bearer", tok), headers={"Content-Type": "application/json"})
    assert r.status == 400 and "valuesMap" in _read(r)["detail"]  # 3.1 targets on a 3.0 VTN


def test_events_for_two_circuits_follow_only_this_plugs():
    http, client = loopback_client()
    base = _session()
    h = 3600
    mine = ev("mine", START, 24, 0.1, mod="2025-07-15T20:00:00Z", circuit="013532223")
    other = ev("other", START, 24, 0.9, mod="2025-07-15T21:00:00Z", circuit="024040403")
    both = ev("both", START + 5 * h, 1, 0.5, mod="2025-07-15T22:00:00Z")
    both["targets"] = [{"type": "CIRCUIT_IDS", "values": ["024040403", "013532223"]}]
    _ctl(client, base, "ignore_filters=1", events=None)  # a VTN that returns every circuit's
    _ctl(client, base, events=[mine, other, both])
    for prof in ("3.0", "gridx"):
        st = {}
        s = openadr3.fetch(client, cfg(base, profile=prof), NOW, st)
        assert s.price_at(START) == 100000 and s.price_at(START + 23 * h) == 100000
        assert s.price_at(START + 5 * h) == 500000  # targeted at both circuits, and newer
        assert sorted(st["openadr3.events"]) == ["both", "mine"]
    assert _reqs(client, base)[-1]["args"]["targetValues"] == ["013532223"]  # gridx filter
    # the other circuit's plug sees the other prices
    s = openadr3.fetch(client, cfg(base, circuitId="024040403"), NOW, {})
    assert s.price_at(START) == 900000
    # without targets set, targeted events are not taken: a clear NoData
    c = cfg(base)
    c["openadr3.circuitId"] = ""
    _ctl(client, base, events=[mine, other])
    e = raises(ProviderError, openadr3.fetch, client, c, NOW, {})
    assert "not this plug" in str(e) and "openadr3.circuitId" in str(e)  # the program's
    _ctl(client, base, "ignore_filters=0")
    st = {}
    assert openadr3.fetch(client, cfg(base, profile="gridx"), NOW, st).price_at(START) == 100000
    # a circuit no event is for (its program is): NoData; with every circuit's events
    # returned, it says which targets they had
    raises(NoData, openadr3.fetch, client, cfg(base, profile="gridx", circuitId="083611114"),
           NOW, {})
    _ctl(client, base, "ignore_filters=1")
    e = raises(NoData, openadr3.fetch, client, cfg(base, circuitId="083611114"), NOW, {})
    assert "this plug (CIRCUIT_IDS=083611114); events target CIRCUIT_IDS=" in str(e)


def test_gridx_profile_basic_token_and_strict_query():
    http, client = loopback_client()
    base = _session()
    _ctl(client, base, "profile=gridx")
    st = {}
    s = openadr3.fetch(client, cfg(base, profile="gridx"), NOW, st)  # tokenAuth auto: Basic
    assert len(s) == 24
    reqs = _reqs(client, base)
    assert reqs[0]["headers"]["authorization"].startswith("Basic ")
    assert "client_secret" not in reqs[0]["body"]
    assert reqs[2]["args"]["targetType"] == ["CIRCUIT_IDS"]
    # the generic 3.0 default sends the secret in the form: GridX refuses it
    e = raises(AuthError, openadr3.fetch, client, cfg(base), NOW, {})
    assert "HTTP Basic" in str(e) and "401" in str(e)
    # a 3.1 query parameter on a 3.0.1 VTN is refused, named, in one line
    e = raises(ProviderError, openadr3.fetch, client, cfg(base, profile="3.1", tokenAuth="basic"),
               NOW, {})
    assert "unknown query parameter 'targets'" in str(e) and "\n" not in str(e)


def test_profile_31_targets_are_strings():
    http, client = loopback_client()
    base = _session()
    _ctl(client, base, "profile=3.1")
    h = 3600
    mine = ev("mine", START, 24, 0.2, circuit="013532223")
    other = ev("other", START, 24, 0.7, mod="2025-07-15T23:30:00Z", circuit="024040403")
    _ctl(client, base, events=[mine, other])
    st = {}
    s = openadr3.fetch(client, cfg(base, profile="3.1"), NOW, st)
    assert s.price_at(START + h) == 200000
    r = _reqs(client, base)[-1]
    assert r["args"]["targets"] == ["013532223"] and "targetType" not in r["args"]
    _ctl(client, base, "ignore_filters=1")
    assert openadr3.fetch(client, cfg(base, profile="3.1"), NOW, {}).price_at(START) == 200000
    # a 3.0 filter on a 3.1 VTN is refused
    e = raises(ProviderError, openadr3.fetch, client, cfg(base, profile="gridx"), NOW, {})
    assert "unknown query parameter 'targetType'" in str(e)
