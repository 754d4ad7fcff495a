# runtimes: cpython micropython
"""Prices and times a careless server sends, through the Arcadia provider and the Schedule
(issue 12 §2), on both runtimes. The answers come from tests/srv_hostile.py (/a/...).

Times outside the fetch horizon are dropped or clipped to it with a reason in the provider's
state ("arcadia.warning"); prices outside ±PRICE_MAX_U are refused; the entry count is bounded by
what the schedule holds. Before the fixes CPython raised OverflowError and MicroPython wrapped
silently (a price of 4294.967296/kWh became 0 and planned as the cheapest hour)."""

import os
import socket

from firmware.clock.iso import parse_iso
from firmware.hal.contract import tcp_connect
from firmware.http import client as http
from firmware.prices.schedule import NO_PRICE, PRICE_MAX_U, Schedule, price_u
from firmware.providers import NoData, ProviderError, arcadia

from support import raises

NOW = 1752595200  # 2025-07-15T16:00:00Z: the server's default first entry
HOUR = 3600


def _port():
    v = os.getenv("WW_HOSTILE_PORT")
    assert v, "WW_HOSTILE_PORT not set: tests/srv_hostile.py is not running"
    return int(v)


def _cfg(opts, **kw):
    c = {f.name: f.default for f in arcadia.CONFIG}
    c["arcadia.appId"] = "id"
    c["arcadia.appKey"] = "key"
    c["arcadia.baseUrl"] = "http://127.0.0.1:%d/a/%s" % (_port(), opts)
    for k, v in kw.items():
        c["arcadia." + k] = v
    return c


def _fetch(opts, state=None, **kw):
    client = http.Client(lambda h, p, t: tcp_connect(socket, "127.0.0.1", p, t), timeout_s=5)
    try:
        return arcadia.fetch(client, _cfg(opts, **kw), NOW, {} if state is None else state)
    finally:
        client.close()


def _horizon(hours=48):
    return NOW - 86400, NOW + hours * HOUR + 86400


# -- times ---------------------------------------------------------------------------------
def test_open_ended_year_9999_entry_is_dropped_with_a_reason():
    state = {}
    s = _fetch("n=4,extra=9999-12-30T00:00:00Z~9999-12-31T00:00:00Z", state)
    assert len(s) == 4 and s.base_s == NOW and s.end_s == NOW + 4 * HOUR, (len(s), s.end_s)
    assert [s.prices[i] for i in range(4)] == [100000, 101000, 102000, 103000]
    w = state.get("arcadia.warning", "")
    assert "1 price change" in w and "outside" in w, w


def test_an_answer_with_only_far_away_entries_has_no_data():
    for a, b in (("9999-12-30T00:00:00Z", "9999-12-31T00:00:00Z"),
                 ("1900-01-01T00:00:00Z", "1900-01-02T00:00:00Z"),
                 ("1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z")):
        state = {}
        e = raises(NoData, _fetch, "only,extra=%s~%s" % (a, b), state)
        assert "outside" in str(e), (a, e)


def test_entries_reaching_beyond_the_horizon_are_clipped_to_it():
    lo, hi = _horizon()
    state = {}
    s = _fetch("only,extra=1970-01-01T00:00:00Z~2100-01-01T00:00:00Z", state)
    assert (len(s), s.base_s, s.end_s, s.prices[0]) == (1, lo, hi, 50000), (s.base_s, s.end_s)
    assert "clipped" in state.get("arcadia.warning", ""), state
    state = {}
    s = _fetch("n=2,extra=2025-07-15T18:00:00Z~9999-12-31T00:00:00Z", state)
    assert (len(s), s.end_s, s.prices[2]) == (3, hi, 50000), (len(s), s.end_s)


def test_schedule_refuses_times_its_offsets_cannot_hold():
    for runaway in (NOW + (1 << 31), NOW - 1):
        s = Schedule()
        s.add(NOW, NOW + HOUR, 1)
        raises(ValueError, s.add, runaway, runaway + HOUR, 2)
        assert len(s) == 1 and s.end_s == NOW + HOUR  # nothing half-added
    s = Schedule()
    raises(ValueError, s.add, NOW, NOW + (1 << 31), 1)


# -- prices --------------------------------------------------------------------------------
def test_prices_that_would_wrap_or_hit_the_sentinel_are_refused():
    for rate in ("4294.967296", "-1073.741824", "2147.483648", "1000.000001", "-1000.000001",
                 "1e999", "-1e999", "1e30"):
        e = raises(ProviderError, _fetch, "n=4,at=2,rate=" + rate)
        assert "price" in str(e) and "range" in str(e), (rate, e)
    for mean in ("4294.967296", "1e999"):
        raises(ProviderError, _fetch, "n=4,mean=" + mean)


def test_prices_at_the_limits_are_kept_exactly():
    s = _fetch("n=4,at=1,rate=999.999999")
    assert s.prices[1] == PRICE_MAX_U == 999999999
    s = _fetch("n=4,at=3,rate=-999.999999")
    assert s.prices[3] == -PRICE_MAX_U


def test_price_u_bounds_and_digits_are_the_same_on_both_runtimes():
    assert price_u("999.999999") == PRICE_MAX_U and price_u(-999.999999) == -PRICE_MAX_U
    for bad in ("4294.967296", 4294.967296, "-1073.741824", -1073.741824, float("inf"),
                float("-inf"), float("nan"), "1e999", 10 ** 30,
                "\u0665", "0.\u0665", "\u0661\u0662"):  # Arabic-Indic digits
        raises(ValueError, price_u, bad)
    assert NO_PRICE < -PRICE_MAX_U


def test_schedule_refuses_prices_out_of_range():
    s = Schedule()
    for p in (NO_PRICE, PRICE_MAX_U + 1, -PRICE_MAX_U - 1, 1 << 32):
        raises(ValueError, s.add, NOW, NOW + HOUR, p)
    assert len(s) == 0


# -- size ----------------------------------------------------------------------------------
def test_one_minute_prices_are_bounded_by_what_the_schedule_holds():
    state = {}
    s = _fetch("n=9000,step=60", state)
    cap = 48 * arcadia.MAX_PER_HOUR + 2
    assert len(s) == cap, len(s)
    assert s.base_s == NOW and s.end_s == NOW + cap * 60
    w = state.get("arcadia.warning", "")
    assert "%d intervals" % cap in w, w


def test_a_plain_answer_sets_no_warning():
    state = {"arcadia.warning": "from before"}
    s = _fetch("n=48", state)
    assert len(s) == 48 and "arcadia.warning" not in state
    assert s.start_of(0) == parse_iso("2025-07-15T16:00:00Z")
