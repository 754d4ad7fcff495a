# runtimes: cpython micropython
# mpy-heap: 512k
"""The control loop (firmware/app/control.py) on a recording fake HAL.

A simulated clock, a relay that records when it was set, a button queue, and a network whose
sockets are real loopback connections. The planner is the real one; these tests check what the
app does with its plan (when it switches, what it fetches when), not which hours it picks.
The boot guard's tests are in test_boot_guard.py, the ESP32 HAL's in test_hal_esp32.py.
"""

from appkit import (
    HOUR,
    MAX_SLEEP_S,
    T0,
    App,
    FakeProvider,
    RetryLater,
    _gaps,
    boundaries,
    cache,
    cfg,
    prices,
)

from firmware import config
from firmware.app.fetcher import Cadence
from firmware.app.jitter import Rng, fnv1a, seed_from
from firmware.http import client as http  # noqa: F401 - the app imports it at its first fetch
from firmware.prices.schedule import FLAG_FORECAST, NO_PRICE, Schedule
from firmware.prices.store import Store

from fakehal import FakeHal, FakeMeter, run_steps
from support import TmpDir, env_int, raises


# -- boot ---------------------------------------------------------------------------------
def test_boot_sets_relay_from_cache_before_any_network_call():
    with TmpDir("app") as root:
        cache(root, prices(T0, 48), T0 - 3 * HOUR)
        hal = FakeHal(root, t=T0 + 5 * HOUR + 17, net_up=False)
        hal.net.connect_results = [False, False, False]
        app = App(hal, cfg(), provider=FakeProvider())
        app.boot()
        assert hal.calls and hal.calls[0][0] == "relay", hal.calls
        assert hal.network_calls() == []
        on, _reason, _until = app.plan.at(hal.clock.t)
        assert hal.relay.level == on
        run_steps(app, hal, T0 + 20 * HOUR)
        first_net = [i for i, c in enumerate(hal.calls) if c[0] == "connect"]
        assert first_net and first_net[0] > 0  # Wi-Fi was tried, after the relay was set
        assert len(hal.relay.history) >= 2  # and switching went on from the cache, offline
        for t, level in hal.relay.history:
            assert level == app.plan.at(t)[0] or t == hal.relay.history[0][0]


def test_clock_invalid_at_boot_gives_safe_state_until_ntp():
    for safe in ("on", "off"):
        with TmpDir("app") as root:
            cache(root, prices(T0, 48), T0 - HOUR)
            hal = FakeHal(root, t=T0 + 2 * HOUR, valid=False)
            hal.clock.sync_ok = False
            prov = FakeProvider()
            app = App(hal, cfg(safe_state=safe), provider=prov)
            app.boot()
            assert hal.relay.history == [(T0 + 2 * HOUR, safe == "on")]
            assert hal.led.mode == "safe"
            run_steps(app, hal, T0 + 4 * HOUR)
            assert prov.calls == []  # never fetch with a wrong clock
            assert hal.clock.syncs >= 2  # NTP retried (with back-off)
            assert [lv for _t, lv in hal.relay.history] == [safe == "on"]
            hal.clock.sync_ok = True
            run_steps(app, hal, T0 + 6 * HOUR)
            assert app.clock_trusted
            assert hal.relay.level == app.plan.at(hal.clock.t)[0]


def test_ntp_moving_the_clock_from_2000_replans_from_the_true_time():
    with TmpDir("app") as root:
        cache(root, prices(T0, 48), T0 - HOUR)
        hal = FakeHal(root, t=946684800 + 5, valid=False)  # an ESP32 RTC after power-on
        hal.clock.sync_to = T0 + 3 * HOUR + 600
        prov = FakeProvider(default=lambda now: prices(T0, 48))
        app = App(hal, cfg(safe_state="off"), provider=prov)
        app.boot()
        assert hal.relay.history == [(946684805, False)]
        app.step()  # Wi-Fi is up: NTP, then the plan from the true time
        assert app.clock_trusted and hal.clock.t == T0 + 3 * HOUR + 600
        assert app.until_s > hal.clock.t and app.plan.at(hal.clock.t)[0] == hal.relay.level
        assert all(t >= T0 for t in prov.calls)


def test_clock_earlier_than_cached_fetch_is_not_trusted():
    with TmpDir("app") as root:
        cache(root, prices(T0, 48), T0 + 10 * HOUR)
        hal = FakeHal(root, t=T0 + 2 * HOUR, valid=True)
        app = App(hal, cfg(safe_state="on"), provider=FakeProvider())
        app.boot()
        assert not app.clock_trusted
        assert hal.relay.history == [(T0 + 2 * HOUR, True)]


def test_corrupt_config_json_gives_defaults_and_a_warning():
    with TmpDir("app") as root:
        with open(root + "/config.json", "w") as f:
            f.write('{"tz": "UTC0", "safe_state": ')
        cache(root, prices(T0, 48), T0)
        hal = FakeHal(root, t=T0 + HOUR)
        app = App(hal, provider=FakeProvider())
        app.boot()
        assert app.config_warnings and "corrupt" in app.config_warnings[0]
        assert any(" W config: " in line for line in hal.lines)
        assert app.cfg["safe_state"] == "off" and app.cfg["tz"] == "PST8PDT,M3.2.0,M11.1.0"
        assert hal.relay.level is not None  # it still switches


# -- switching -------------------------------------------------------------------------------
def test_switches_exactly_at_interval_boundaries_without_polling():
    for step_s in (HOUR, 900):
        _check_boundaries(step_s)


def _check_boundaries(step_s):
    with TmpDir("app") as root:
        sched = prices(T0, 72, step_s)
        cache(root, sched, T0 - 60)
        hal = FakeHal(root, t=T0 + 7)
        prov = FakeProvider(default=lambda now: prices(T0, 72, step_s))
        app = App(hal, cfg(), provider=prov)
        decisions = []
        app.timeline_hook = lambda t, on, why: decisions.append((t, on, why))
        app.boot()
        wakes = run_steps(app, hal, T0 + 48 * HOUR)
        edges = boundaries(sched)
        hist = hal.relay.history
        assert len(hist) >= 4
        for t, _lv in hist[1:]:
            assert t in edges, "switch at %d is not an interval boundary" % t
        for k in range(1, len(hist)):
            assert hist[k][1] != hist[k - 1][1]  # written only when the state changes
        for t, level in hist:  # each write carries the decision taken at that second
            last = [d for d in decisions if d[0] <= t][-1]
            assert last[1] == level and last[0] == t
        assert decisions and decisions[0][0] == T0 + 7
        # no polling: a wake per price interval, fetch, midnight, NTP re-sync, max sleep
        bound = 48 * HOUR // step_s + len(prov.calls) + 2 + 4 + 48 * HOUR // MAX_SLEEP_S
        assert len(wakes) <= bound, (len(wakes), bound)
        assert hal.wdt.feeds >= len(wakes)


def test_relay_inverted_applies_to_the_relay_not_the_decision():
    with TmpDir("app") as root:
        cache(root, prices(T0, 48), T0)
        hal = FakeHal(root, t=T0 + HOUR)
        app = App(hal, cfg(relay__inverted=True), provider=FakeProvider())
        app.boot()
        assert hal.relay.level == (not app.load_on)
        assert app.status()["relay_on"] == app.load_on


def test_config_change_replans_at_once_and_rewires_an_inverted_relay():
    with TmpDir("app") as root:
        cache(root, prices(T0, 48), T0)
        hal = FakeHal(root, t=T0 + 60)
        app = App(hal, cfg(policy__hours=2), provider=FakeProvider())
        app.boot()
        on_2h = len(app.plan.on_intervals())
        ons = sum(e - s for s, e in app.plan.on_intervals() if s < T0 + 86400)
        new = dict(app.cfg)
        new["policy.hours"] = 6
        app.apply_config(new)
        assert sum(e - s for s, e in app.plan.on_intervals() if s < T0 + 86400) > ons
        assert on_2h >= 1
        level = hal.relay.level
        new = dict(new)
        new["relay.inverted"] = True
        app.apply_config(new)
        assert hal.relay.level == (not level) and app.load_on == level  # same load state
        app.apply_config(dict(new, **{"policy.window": "22:00"}))  # a policy it cannot use
        assert any("policy.window" in w for w in app.config_warnings)


def test_wifi_reconnects_with_growing_back_off_and_again_after_a_drop():
    with TmpDir("app") as root:
        cache(root, prices(T0, 48), T0)
        hal = FakeHal(root, t=T0 + 60, net_up=False)
        hal.net.connect_results = [False] * 6 + [True]
        app = App(hal, cfg(), provider=FakeProvider(default=lambda now: prices(T0, 48)))
        run_steps(app, hal, T0 + 3 * HOUR)
        tries = [c[1] for c in hal.calls if c[0] == "connect"]
        assert len(tries) == 7 and hal.net.is_up, tries
        gaps = _gaps(tries)
        for k in range(1, len(gaps)):
            assert gaps[k] >= gaps[k - 1], gaps
        assert gaps[0] >= 5 and max(gaps) <= 600
        hal.net.is_up = False  # the access point went away
        hal.net.connect_results = [True]
        t = hal.clock.t
        run_steps(app, hal, t + 2 * HOUR)
        assert [c[1] for c in hal.calls if c[0] == "connect"][-1] >= t and hal.net.is_up


# -- fetching -----------------------------------------------------------------------------
def fetch_times(hal, prov):
    return list(prov.calls)


def test_fetch_failures_back_off_with_growing_waits_and_switching_goes_on():
    with TmpDir("app") as root:
        cache(root, prices(T0, 72), T0 - 30 * HOUR)  # stale: a fetch is due at once
        hal = FakeHal(root, t=T0 + 60)
        prov = FakeProvider()  # every fetch times out
        app = App(hal, cfg(fetch__backoff_base_s=60, fetch__backoff_cap_s=3600,
                           fetch__budget_s=10), provider=prov)
        run_steps(app, hal, T0 + 20 * HOUR)
        calls = prov.calls
        assert len(calls) >= 8
        gaps = _gaps(calls)
        assert gaps[0] >= 30  # base 60 with equal jitter: 30..60
        for k in range(1, len(gaps)):
            assert gaps[k] >= gaps[k - 1] or gaps[k - 1] > 1800, gaps  # grows until the cap
        assert max(gaps) <= 3600 + 10 * 60  # capped (+ a deferral around a switch)
        assert max(gaps) >= 1800
        assert app.fetch_failures == len(calls)
        assert len(hal.relay.history) >= 3  # the cached plan kept switching
        assert app.last_fetch["ok"] is False and "timed out" in app.last_fetch["msg"]
        assert hal.led.mode in ("error", "on", "off")


def test_retry_after_is_honoured():
    with TmpDir("app") as root:
        cache(root, prices(T0, 72), T0 - 30 * HOUR)
        hal = FakeHal(root, t=T0 + 60)
        prov = FakeProvider([RetryLater(5400), OSError(104, "reset")])
        app = App(hal, cfg(fetch__backoff_base_s=60), provider=prov)
        run_steps(app, hal, T0 + 3 * HOUR)
        assert len(prov.calls) >= 2
        assert prov.calls[1] - prov.calls[0] >= 5400
        assert prov.calls[2] - prov.calls[1] <= 120  # back to the normal back-off after it


def test_fetch_is_never_started_just_before_a_switch():
    with TmpDir("app") as root:
        cache(root, prices(T0, 72), T0)
        hal = FakeHal(root, t=T0 + 60)
        prov = FakeProvider(default=lambda now: prices(T0, 72), hal=hal)
        app = App(hal, cfg(fetch__budget_s=60), provider=prov)
        app.boot()
        s, _e, on = _segment(app, 60)  # the next relay change is at s
        run_steps(app, hal, s - 20)
        assert hal.relay.level != on
        app.next_fetch_s = s - 20  # a fetch falls due 20 s before the switch
        n = len(prov.calls)
        assert app.step() == s  # no fetch now; wake at the switch
        assert len(prov.calls) == n
        hal.clock.t = s
        app.step()
        kinds = [c[0] for c in hal.calls if c[1] == s and c[0] in ("relay", "fetch")]
        assert kinds == ["relay", "fetch"], kinds  # switched first, then fetched


def test_good_fetch_is_merged_saved_and_replanned_and_publication_is_followed():
    with TmpDir("app") as root:
        cache(root, prices(T0, 24), T0 - 2 * HOUR)
        hal = FakeHal(root, t=T0 + 10 * HOUR)
        app = App(hal, cfg(fetch__spread_s=600, fetch__publish_delay_min=10),
                  provider=FakeProvider(default=lambda now: prices(T0 + 24 * HOUR, 24, seed=9)))
        app.boot()
        assert app.fetch_now()
        assert app.schedule.coverage() == (T0, T0 + 48 * HOUR)
        assert app.store.writes == 1
        assert app.fetch_now()  # the same prices again: no flash write
        assert app.store.writes == 1
        sched, _extras = Store(root).load()
        assert sched.end_s == T0 + 48 * HOUR
        # covered through tomorrow: the next fetch is after the next publication time
        # (17:00 local + 10 min + this device's offset) or the periodic refresh
        pub = T0 + 17 * HOUR + 10 * 60 + app.cadence.offset_s
        assert app.next_fetch_s == min(pub, hal.clock.t + 360 * 60)
        assert 0 <= app.cadence.offset_s < 600


def test_missing_tomorrow_after_publication_is_retried():
    with TmpDir("app") as root:
        hal = FakeHal(root, t=T0 + 18 * HOUR)
        prov = FakeProvider(default=lambda now: prices(T0, 24))  # tomorrow never comes
        app = App(hal, cfg(fetch__missing_retry_min=30), provider=prov)
        run_steps(app, hal, T0 + 20 * HOUR)
        gaps = _gaps(prov.calls)
        assert gaps and all(g == 1800 for g in gaps), gaps


def test_device_offset_and_jitter_are_deterministic_and_spread():
    r = Rng(1)
    # xorshift32 (13, 17, 5) from state 1: the reference sequence (Marsaglia 2003)
    assert [r.next32() for _ in range(3)] == [270369, 67634689, 2647435461]
    assert fnv1a(b"") == 0x811C9DC5 and fnv1a(b"a") == 0xE40C292C
    c = config.defaults(config.schema([__import__("firmware.app.fetcher", None, None, ["CONFIG"])]))
    offsets = [Cadence(c, 17 * 60, Rng(seed_from(0, "plug-%d" % i))).offset_s
               for i in range(50)]
    assert min(offsets) >= 0 and max(offsets) < c["fetch.spread_s"]
    assert len(set(offsets)) > 40  # a fleet does not fetch in the same second
    a = Cadence(c, None, Rng(seed_from(0, "x")))
    b = Cadence(c, None, Rng(seed_from(0, "x")))
    assert [a.failed(0) for _ in range(6)] == [b.failed(0) for _ in range(6)]


def test_status_plan_rows_and_the_files_plug_reads_while_the_app_is_stopped():
    import json

    with TmpDir("app") as root:
        cache(root, prices(T0, 48, 900), T0)
        hal = FakeHal(root, t=T0 + 100)
        app = App(hal, cfg(), provider=FakeProvider())
        run_steps(app, hal, T0 + 2 * HOUR)
        st = app.status()
        assert st["relay_on"] == hal.relay.level and st["reason"] == app.plan.at(hal.clock.t)[1]
        assert st["last_fetch"] is None or set(st["last_fetch"]) == {"t_s", "ok", "msg"}
        assert st["cache"]["intervals"] == 192 and st["clock_valid"] is True
        rows = app.plan_rows(6)
        assert rows[0][0] == hal.clock.t and rows[-1][1] == hal.clock.t + 6 * HOUR
        for k in range(1, len(rows)):
            assert rows[k][0] == rows[k - 1][1]  # contiguous
        for s0, e0, on, price, why in rows:
            assert price == app.schedule.price_at(s0) and on == app.plan.at(s0)[0]
            assert e0 - s0 <= 900 and why
        with open(root + "/status.json") as f:
            snap = json.load(f)
        assert snap["relay_on"] == st["relay_on"] and snap["reason"] == st["reason"]
        with open(root + "/log.txt") as f:
            text = f.read()
        assert " I relay: " in text and " I boot: " in text


# -- override and button ------------------------------------------------------------------
def _segment(app, min_len):
    for s, e, on, _why in app.plan.segments:
        if e - s >= min_len and s > app.hal.clock.t:
            return s, e, on
    raise AssertionError("no plan segment of %d s" % min_len)


def test_override_holds_the_load_and_expires_exactly():
    with TmpDir("app") as root:
        cache(root, prices(T0, 72), T0)
        hal = FakeHal(root, t=T0 + 60)
        app = App(hal, cfg(), provider=FakeProvider(default=lambda now: prices(T0, 72)))
        app.boot()
        s, e, on = _segment(app, 3600)
        run_steps(app, hal, s)
        assert hal.relay.level == on
        app.override(not on, 30)
        assert hal.relay.level == (not on) and hal.led.mode == "override"
        assert app.status()["override"]["until_s"] == s + 1800
        run_steps(app, hal, s + 1799)
        assert hal.relay.level == (not on)
        run_steps(app, hal, s + 1801)
        assert hal.relay.history[-1] == (s + 1800, on)  # back on plan at the second it ends
        assert app.status()["override"] is None


def test_override_takes_on_off_words_and_refuses_the_rest():
    # "off" is a non-empty string: before one parser, app.override("off", 30) turned the load ON
    with TmpDir("app") as root:
        cache(root, prices(T0, 72), T0)
        hal = FakeHal(root, t=T0 + 60)
        app = App(hal, cfg(), provider=FakeProvider(default=lambda now: prices(T0, 72)))
        app.boot()
        app.override("on", 30)
        assert hal.relay.level is True and app.status()["override"]["on"] is True
        app.override("off", 30)
        assert hal.relay.level is False and app.status()["override"]["on"] is False
        for bad in ("yes", 2, "of"):
            raises(ValueError, app.override, bad, 30)
        assert hal.relay.level is False and app.status()["override"]["on"] is False


def test_button_toggles_a_timed_override_and_a_second_press_cancels_it():
    with TmpDir("app") as root:
        cache(root, prices(T0, 72), T0)
        hal = FakeHal(root, t=T0 + 60)
        app = App(hal, cfg(override__minutes=45),
                  provider=FakeProvider(default=lambda now: prices(T0, 72)))
        app.boot()
        s, _e, on = _segment(app, 3 * 3600)
        run_steps(app, hal, s + 60)
        hal.button.press()
        app.step()
        assert hal.relay.level == (not on)
        assert app.state.override_until_s == s + 60 + 45 * 60
        # a restart keeps the override (override.json)
        app2 = App(hal, cfg(override__minutes=45), provider=FakeProvider())
        app2.boot()
        assert app2.state.override_until_s == s + 60 + 45 * 60
        hal.clock.t += 600
        hal.button.press()
        app.step()
        assert hal.relay.level == on and app.state.override_until_s is None


# -- static rate plan -----------------------------------------------------------------------
def test_static_rate_plan_source_runs_offline_and_counts_on_time():
    with TmpDir("app") as root:
        hal = FakeHal(root, t=T0 + 60, net_up=False)
        hal.net.connect_results = [False] * 50
        c = cfg(source="rateplan", rateplan__price="0.30",
                rateplan__tou="cheap 0.10 * * 01:00-05:00", rateplan__load_kw=2)
        app = App(hal, c)  # the real rateplan provider: no network needed
        run_steps(app, hal, T0 + 6 * HOUR)
        assert app.fetches >= 1 and app.fetch_failures == 0 and hal.net.opens == 0
        assert hal.relay.history == [(T0 + 60, False), (T0 + HOUR, True), (T0 + 5 * HOUR, False)]
        assert app.provider_state["rateplan.wh"] == 4 * 2000  # 4 h at 2 kW
        app.fetch_now()  # the counter goes to flash with the cache
        assert Store(root).load()[1]["rateplan.wh"] == 8000


def test_rate_plan_is_the_fallback_when_no_price_was_fetched():
    with TmpDir("app") as root:
        hal = FakeHal(root, t=T0 + 60)
        c = cfg(fallback__rateplan=True, rateplan__price="0.30",
                rateplan__tou="cheap 0.10 * * 01:00-05:00")
        app = App(hal, c, provider=FakeProvider())  # every fetch fails
        decisions = []
        app.timeline_hook = lambda t, on, why: decisions.append((t, on, why))
        run_steps(app, hal, T0 + 6 * HOUR)
        assert app.fetch_failures >= 3
        assert [(t, lv) for t, lv in hal.relay.history] == [
            (T0 + 60, False), (T0 + HOUR, True), (T0 + 5 * HOUR, False)]
        assert all(why.startswith("rate plan:") for _t, _on, why in decisions), decisions


# -- end to end over loopback HTTP -----------------------------------------------------------
def test_fetch_end_to_end_through_the_real_http_client_and_provider():
    port = env_int("WW_HTTP_PORT")
    from firmware.providers import arcadia

    with TmpDir("app") as root:
        hal = FakeHal(root, t=1752596100)  # 2025-07-15T16:15Z, inside the fixture's 48 h
        base = "http://127.0.0.1:%d/x/f=arcadia/smart_price_48h_default.json,tag=app1" % port
        c = cfg(tz="PST8PDT,M3.2.0,M11.1.0", source="arcadia", arcadia__baseUrl=base,
                arcadia__appId="id", arcadia__appKey="key1234567890")
        app = App(hal, c, provider=arcadia)
        app.boot()
        assert hal.network_calls() == []
        assert app.fetch_now(), app.last_fetch
        assert hal.net.opens == 1
        assert len(app.schedule) >= 5 and app.schedule.price_at(hal.clock.t) is not None
        assert Store(root).load()[0].same_as(app.schedule)
        assert hal.relay.level == app.plan.at(hal.clock.t)[0]


# -- a scenario both runtimes must replay identically (tests/test_app_cpython.py) --------------
def scenario():
    """Three days with a cache, fetch failures (jitter, Retry-After), good fetches, an override
    and a button press; returns every decision, relay write and fetch time as plain lists."""
    with TmpDir("scn") as root:
        cache(root, prices(T0, 24), T0 - 20 * HOUR)
        hal = FakeHal(root, t=T0 + 123)
        script = [OSError(110, "timed out"), RetryLater(4000), OSError(104, "reset"),
                  prices(T0, 48, 900, seed=3)]
        prov = FakeProvider(script, default=lambda now: prices(T0, 72, 900, seed=5))
        app = App(hal, cfg(tz="CET-1CEST,M3.5.0,M10.5.0/3", fetch__seed=0), provider=prov)
        decisions = []
        app.timeline_hook = lambda t, on, why: decisions.append([t, on, why])
        run_steps(app, hal, T0 + 30 * HOUR)
        app.override(True, 90)
        run_steps(app, hal, T0 + 40 * HOUR)
        hal.button.press()
        run_steps(app, hal, T0 + 72 * HOUR)
        return {"decisions": decisions, "relay": [list(h) for h in hal.relay.history],
                "fetches": prov.calls, "offset": app.cadence.offset_s,
                "next_fetch": app.next_fetch_s}


def test_scenario_runs():
    out = scenario()
    assert len(out["fetches"]) >= 6 and len(out["relay"]) >= 6 and out["decisions"]


# -- measured on-time (what already ran) ------------------------------------------------------
def deadline_prices(now_s):
    """Today's prices (10:00 and 11:00 cheap); from 17:00 on also tomorrow's, whose 01:00 and
    02:00 are far cheaper still (the simulator's case: they arrive mid-period)."""
    s = Schedule("test", "USD", "kWh")
    for h in range(48 if now_s >= T0 + 17 * HOUR else 24):
        p = {10: 20000, 11: 21000, 25: 5000, 26: 6000}.get(h, 100000)
        s.add(T0 + h * HOUR, T0 + (h + 1) * HOUR, p)
    return s


def on_seconds(history, t0, t1):
    """Seconds the relay was on in [t0, t1) from [(t, level)] (sorted, the level holds)."""
    total, since = 0, None
    for t, level in list(history) + [(t1, False)]:
        t = min(max(t, t0), t1)
        if level and since is None:
            since = t
        elif not level and since is not None:
            total += t - since
            since = None
    return total


DEADLINE = {"policy__mode": "deadline", "policy__hours": 2, "policy__deadline": "07:00"}


def test_deadline_energy_is_measured_so_prices_arriving_mid_period_add_nothing():
    with TmpDir("app") as root:
        hal = FakeHal(root, t=T0 + 7 * HOUR)
        prov = FakeProvider(default=deadline_prices)
        app = App(hal, cfg(**DEADLINE), provider=prov)
        run_steps(app, hal, T0 + 31 * HOUR - 1)
        assert len(prov.calls) >= 2 and prov.calls[-1] >= T0 + 17 * HOUR  # tomorrow arrived
        # 10-12 ran before tomorrow's prices were known; 01-03 would have been 2 h more
        assert on_seconds(hal.relay.history, T0 + 7 * HOUR, T0 + 31 * HOUR) == 2 * HOUR
        assert app.state.ran_period_s == T0 + 7 * HOUR and app.state.ran_s == 2 * HOUR
        assert "2 h done before 07:00" in app.reason, app.reason


def test_measured_on_time_survives_a_power_cut():
    with TmpDir("app") as root:
        hal = FakeHal(root, t=T0 + 7 * HOUR)
        prov = FakeProvider(default=deadline_prices)
        app = App(hal, cfg(**DEADLINE), provider=prov)
        wakes = run_steps(app, hal, T0 + 10 * HOUR + 1800)  # 10:00-10:30 ran, counted
        assert hal.relay.level and app.state.ran_s == 1800
        assert T0 + 10 * HOUR + 900 in wakes  # a checkpoint every quarter hour while on
        # the power goes at 10:40 (10 min after the last step) and is back at 11:10
        hal2 = FakeHal(root, t=T0 + 11 * HOUR + 600)
        app2 = App(hal2, cfg(**DEADLINE), provider=prov)
        app2.boot()
        assert app2.state.ran_period_s == T0 + 7 * HOUR and app2.state.ran_s == 1800
        run_steps(app2, hal2, T0 + 31 * HOUR - 1)
        on = on_seconds(hal.relay.history, T0 + 7 * HOUR, T0 + 10 * HOUR + 2400) + \
            on_seconds(hal2.relay.history, T0 + 11 * HOUR + 600, T0 + 31 * HOUR)
        assert on == 2 * HOUR + 600  # only the 10 min after the last checkpoint ran twice
        # a new period starts from zero
        run_steps(app2, hal2, T0 + 31 * HOUR + 60)
        assert app2.state.ran_period_s == T0 + 31 * HOUR and app2.state.ran_s <= 60


def test_cheapest_per_day_counts_what_ran_before_a_correction():
    # cheapest 2 h per day: 10-12 ran; a re-fetch at 14:00 makes 20-22 cheapest of the day
    def corrected(now_s):
        s = Schedule("test", "USD", "kWh")
        for h in range(24):
            p = {10: 20000, 11: 21000}.get(h, 100000)
            if now_s >= T0 + 14 * HOUR and h in (20, 21):
                p = 1000
            s.add(T0 + h * HOUR, T0 + (h + 1) * HOUR, p)
        return s

    with TmpDir("app") as root:
        hal = FakeHal(root, t=T0)
        prov = FakeProvider(default=corrected)
        app = App(hal, cfg(policy__hours=2, fetch__refresh_min=60), provider=prov)
        run_steps(app, hal, T0 + 24 * HOUR - 1)
        assert max(prov.calls) >= T0 + 14 * HOUR
        assert on_seconds(hal.relay.history, T0, T0 + 24 * HOUR) == 2 * HOUR


# -- publication time from the provider's settings ---------------------------------------------
def test_publication_time_follows_the_gridx_utility_and_setting():
    from firmware.providers import gridx

    with TmpDir("app") as root:
        hal = FakeHal(root, t=T0)
        c = cfg(source="gridx", tz="PST8PDT,M3.2.0,M11.1.0", gridx__utility="SCE")
        app = App(hal, c, provider=gridx)
        app.boot()
        assert app.cadence.publish_min == 18 * 60  # SCE, not PUBLISH_LOCAL_MIN (PG&E)
        c["gridx.utility"] = "PGE"
        app.apply_config(dict(c))
        assert app.cadence.publish_min == 16 * 60 + 30
        c["gridx.publishMin"] = 19 * 60
        app.apply_config(dict(c))
        assert app.cadence.publish_min == 19 * 60
    assert FakeProvider().PUBLISH_LOCAL_MIN == 17 * 60  # modules without the function: as before


# -- prices the source withdrew (OpenADR cancelled events) ----------------------------------------
class Withdrawing(FakeProvider):
    """Each fetch: (schedule or exception, spans the source withdrew or None)."""

    def fetch(self, client, cfg, now_s, state):
        item, removed = self.script.pop(0)
        self.calls.append(now_s)
        if removed is not None:
            state[cfg["source"] + ".removed"] = removed
        if isinstance(item, Exception):
            raise item
        return item


def test_withdrawn_event_spans_are_cleared_from_the_merged_cache():
    with TmpDir("app") as root:
        hal = FakeHal(root, t=T0 + HOUR)
        day2 = prices(T0 + 24 * HOUR, 24, seed=9)
        prov = Withdrawing([
            (prices(T0, 48), None),
            (day2, [(T0 + 2 * HOUR, T0 + 5 * HOUR)]),  # event of 02-05 cancelled
            (ValueError("no current or future PRICE events"), [(T0 + 24 * HOUR, T0 + 48 * HOUR)]),
        ])
        app = App(hal, cfg(source="openadr3"), provider=prov)
        app.boot()
        assert app.fetch_now()
        assert app.schedule.price_at(T0 + 3 * HOUR) is not None
        assert app.fetch_now()
        s = app.schedule
        assert s.price_at(T0 + 2 * HOUR) is None and s.price_at(T0 + 5 * HOUR - 1) is None
        assert s.price_at(T0 + 2 * HOUR - 1) is not None and s.price_at(T0 + 5 * HOUR) is not None
        assert s.price_at(T0 + 30 * HOUR) == day2.price_at(T0 + 30 * HOUR)
        assert Store(root).load()[0].same_as(s)
        assert "openadr3.removed" not in app.provider_state
        # the rest cancelled too: the fetch fails (no events), yet the spans go
        assert not app.fetch_now()
        assert app.schedule.price_at(T0 + 30 * HOUR) is None
        assert app.schedule.price_at(T0 + 10 * HOUR) is not None
        assert Store(root).load()[0].price_at(T0 + 30 * HOUR) is None
        assert app.plan.end_s == T0 + 24 * HOUR  # re-planned: tomorrow is no longer known
        assert app.plan.at(T0 + 3 * HOUR)[1].startswith("no prices")


def test_clear_spans_keeps_names_flags_and_boundaries():

    s = Schedule("src", "EUR", "kWh")
    s.add(T0, T0 + HOUR, 10, "a")
    s.add(T0 + HOUR, T0 + 2 * HOUR, 20, "b", FLAG_FORECAST)
    s.add(T0 + 3 * HOUR, T0 + 4 * HOUR, 30, "c")
    s.fetched_s = T0
    assert s.clear_spans([]) is s
    assert s.clear_spans([(T0 + 5 * HOUR, T0 + 9 * HOUR), (T0 + 2 * HOUR, T0 + 3 * HOUR)]) is s
    out = s.clear_spans([(T0 + 1800, T0 + 5400), (T0 + 3600, T0 + 3700),
                          (T0 + 3 * HOUR + 60, T0 + 9 * HOUR)])
    got = [(a - T0, b - T0, p, out.name_of(i), out.flags[i])
           for a, b, p, i in out.window(out.base_s, out.end_s)]
    gap = NO_PRICE
    assert got == [(0, 1800, 10, "a", 0), (1800, 5400, gap, "", 0),
                   (5400, 7200, 20, "b", FLAG_FORECAST), (7200, 10800, gap, "", 0),
                   (10800, 10860, 30, "c", 0)], got
    assert out.currency == "EUR" and out.fetched_s == T0 and s.price_at(T0 + 1800) == 10
    assert len(s.clear_spans([(T0 - HOUR, T0 + 9 * HOUR)])) == 0


# -- a metering chip feeds the rate plan's energy counter -----------------------------------------
def test_meter_readings_feed_the_rate_plan_counter_instead_of_on_time():
    with TmpDir("app") as root:
        hal = FakeHal(root, t=T0 + 60, net_up=False)
        hal.net.connect_results = [False] * 50
        hal.meter = FakeMeter(100.0)
        c = cfg(source="rateplan", rateplan__price="0.30",
                rateplan__tou="cheap 0.10 * * 01:00-05:00", rateplan__load_kw=2)
        app = App(hal, c)
        run_steps(app, hal, T0 + 2 * HOUR)
        assert app.provider_state.get("rateplan.wh", 0) == 0  # the first reading: reference
        hal.meter.kwh_now = 103.5
        run_steps(app, hal, T0 + 6 * HOUR)  # the relay ran 01-05: 8 kWh by the estimate
        assert hal.relay.history[-1] == (T0 + 5 * HOUR, False)
        assert app.provider_state["rateplan.wh"] == 3500  # measured, not estimated
        assert hal.meter.reads >= 2


def _block_day(cheap_from_h):
    """One UTC day of hourly prices, the 3 h from cheap_from_h far the cheapest."""
    s = Schedule("test", "USD", "kWh")
    for h in range(48):
        cheap = cheap_from_h <= h % 24 < cheap_from_h + 3 and h < 24
        s.add(T0 + h * HOUR, T0 + (h + 1) * HOUR, 20000 if cheap else 200000 + h * 1000)
    return s


def test_started_block_is_finished_after_a_power_cut_despite_new_prices():
    # Block mode (a dishwasher): 02:00-05:00 is the cheapest block and starts. The power goes
    # at 03:00; while it is off, corrected prices make 14:00-17:00 the cheapest block. After
    # the restart the started block is finished (run.json keeps it), not cut and run again.
    mode = dict(policy__mode="block", policy__hours=3)
    with TmpDir("app") as root:
        cache(root, _block_day(2), T0 - HOUR)
        hal = FakeHal(root, t=T0 + HOUR)
        app = App(hal, cfg(**mode), provider=FakeProvider(default=lambda t: _block_day(2)))
        run_steps(app, hal, T0 + 3 * HOUR)
        assert hal.relay.level and app.state.block_start_s == T0 + 2 * HOUR
        cache(root, _block_day(14), T0 + 3 * HOUR)  # what a fetch would have brought
        hal2 = FakeHal(root, t=T0 + 3 * HOUR + 1800)
        app2 = App(hal2, cfg(**mode), provider=FakeProvider(default=lambda t: _block_day(14)))
        app2.boot()
        assert (app2.state.block_start_s, app2.state.block_end_s) == (T0 + 2 * HOUR,
                                                                      T0 + 5 * HOUR)
        run_steps(app2, hal2, T0 + 24 * HOUR - 1)
        assert on_seconds(hal2.relay.history, T0 + 3 * HOUR, T0 + 5 * HOUR) == 1800 + HOUR
        assert on_seconds(hal2.relay.history, T0 + 5 * HOUR, T0 + 24 * HOUR) == 0


# -- running out of heap ----------------------------------------------------------------------
class _Starved:
    """Stands in for a collaborator module (planner) whose `name` raises MemoryError on its
    next `fails` calls, as a fragmented ESP32 heap does; everything else is the real thing."""

    def __init__(self, real, name, fails):
        self.real, self.name, self.fails = real, name, fails

    def __getattr__(self, attr):
        fn = getattr(self.real, attr)
        if attr != self.name:
            return fn

        def starved(*args, **kw):
            if self.fails:
                self.fails -= 1
                raise MemoryError("memory allocation failed (test)")
            return fn(*args, **kw)

        return starved


def _starve(name, fails):
    from firmware.app import control as appmod

    real = appmod.planner
    appmod.planner = _Starved(real, name, fails)
    return appmod, real


def _booted(root, hours=48, **kw):
    """A booted app on a 48 h cache whose fetches bring `hours` of prices."""
    cache(root, prices(T0, 48), T0)
    hal = FakeHal(root, t=T0 + 60)
    app = App(hal, cfg(**kw), provider=FakeProvider(default=lambda now: prices(T0, hours)))
    app.boot()
    return hal, app


def test_a_plan_that_runs_out_of_heap_is_retried_without_the_old_plan():
    with TmpDir("app") as root:
        hal, app = _booted(root)
        appmod, real = _starve("plan", 1)
        try:
            app._dirty = True
            app.step()  # the first try fails, the second (old plan released) fits
        finally:
            appmod.planner = real
        assert not [x for x in hal.lines if "out of memory" in x]
        assert hal.relay.level == app.plan.at(hal.clock.t)[0]
        assert "out of memory" not in app.reason


def test_no_plan_fits_the_heap_safe_state_then_back_to_the_plan():
    with TmpDir("app") as root:
        hal, app = _booted(root, safe_state="off")
        s, e, on = _segment(app, 3 * HOUR)
        if not on:  # a stretch where the plan runs the load: the safe state must differ
            s, e, on = _segment_on(app)
        run_steps(app, hal, s + 60)
        assert hal.relay.level is True
        appmod, real = _starve("plan", 4)  # two steps' worth of attempts fail
        try:
            app._dirty = True
            wake = app.step()
            assert hal.relay.level is False and app.reason == \
                "out of memory planning: safe state off"
            assert wake <= hal.clock.t + 300  # tried again within 5 min
            hal.clock.t = wake
            app.step()
            assert hal.relay.level is False
        finally:
            appmod.planner = real
        oom = [x for x in hal.lines if "plan: out of memory" in x]
        assert len(oom) == 1, oom  # logged once, not at every retry
        hal.clock.t = app.step()  # fits again: the real plan, at once
        assert hal.relay.level == app.plan.at(hal.clock.t)[0] is True
        assert [x for x in hal.lines if "fits in memory again" in x]


def _segment_on(app):
    for s, e, on, _why in app.plan.segments:
        if on and e - s >= HOUR and s > app.hal.clock.t:
            return s, e, on
    raise AssertionError("no ON segment")


class _HungryLed:
    """An LED driver whose next `fails` writes run out of heap (an allocation anywhere in a
    step, as the status snapshot or a log line could)."""

    def __init__(self, led, fails):
        self.led, self.fails = led, fails

    def set(self, mode):
        if self.fails:
            self.fails -= 1
            raise MemoryError("memory allocation failed (test)")
        self.led.set(mode)


def test_a_step_that_runs_out_of_heap_follows_the_plan_and_steps_again_soon():
    with TmpDir("app") as root:
        hal, app = _booted(root)
        s, e, on = _segment(app, HOUR)
        hal.clock.t = s - 10
        app.step()
        real_led = hal.led
        hal.led = _HungryLed(real_led, 3)
        hal.clock.t = s  # the switch is due; every LED write fails for three steps
        wakes = [app.step()]
        assert hal.relay.level == on and wakes[0] == s + 60  # switched anyway; again in 60 s
        for _ in range(2):
            hal.clock.t = wakes[-1]
            wakes.append(app.step())
        assert [x for x in hal.lines if "step ran out of memory" in x] and \
            len([x for x in hal.lines if "step ran out of memory" in x]) == 1
        hal.led = real_led
        hal.clock.t = wakes[-1]
        app.step()
        assert [x for x in hal.lines if "steps fit in memory again" in x]
        assert hal.relay.level == app.plan.at(hal.clock.t)[0]


class _TightSchedule(Schedule):
    """A cached schedule whose next `fails` merges run out of heap (old + new + the held plan
    did not fit together)."""

    fails = 0

    def merge(self, newer):
        if self.fails:
            self.fails -= 1
            raise MemoryError("memory allocation failed (test)")
        return Schedule.merge(self, newer)


def _tight_copy(sched, fails):
    t = _TightSchedule(sched.source, sched.currency, sched.unit)
    for i in range(len(sched)):
        t.add(sched.start_of(i), sched.end_of(i), sched.prices[i])
    t.fetched_s = sched.fetched_s
    t.fails = fails
    return t


def test_a_merge_that_runs_out_of_heap_releases_the_plan_or_keeps_the_old_schedule():
    with TmpDir("app") as root:
        hal, app = _booted(root, hours=72)
        # once: the held plan is released, the merge fits, the fetch succeeds
        app.schedule = _tight_copy(app.schedule, 1)
        assert app.fetch_now() is True and app.schedule.end_s == T0 + 72 * HOUR
        assert app.plan is not None and hal.relay.level == app.plan.at(hal.clock.t)[0]
        # always: a failed fetch like any other; the cached prices and the plan stay
        old = app.schedule = _tight_copy(app.schedule, 99)
        n = app.fetch_failures
        assert app.fetch_now() is False
        assert app.fetch_failures == n + 1 and app.schedule is old
        assert app.last_fetch["msg"].startswith("merging MemoryError"), app.last_fetch
        assert app.plan is not None and hal.relay.level == app.plan.at(hal.clock.t)[0]
        assert app.next_fetch_s > hal.clock.t  # backed off


# -- a fleet coming back from one power cut -------------------------------------------------------
def test_a_street_restarting_together_spreads_its_catch_up_fetches():
    # 40 plugs with the same stale cache boot in the same second, with the RTC kept or lost
    # (then NTP brings the time back): each takes its first fetch at its own offset inside
    # fetch.spread_s, not all at once; a first boot without a cache still fetches at once.
    for rtc_kept in (True, False):
        firsts = []
        for k in range(40):
            with TmpDir("street") as root:
                cache(root, prices(T0 - 2 * 86400, 48), T0 - 2 * 86400)  # tomorrow is missing
                hal = FakeHal(root, t=T0 + 5 * HOUR if rtc_kept else 946684800, valid=rtc_kept)
                hal.clock.sync_to = None if rtc_kept else T0 + 5 * HOUR
                hal.device_id = b"street-plug-%d" % k
                prov = FakeProvider(default=lambda now: prices(T0, 48), hal=hal)
                app = App(hal, cfg(fetch__seed=0), provider=prov)
                run_steps(app, hal, T0 + 5 * HOUR + 3600)
                assert prov.calls, "every plug fetched within the hour"
                firsts.append(prov.calls[0] - (T0 + 5 * HOUR))
        assert all(0 <= d < 900 for d in firsts), firsts
        by_minute = {}
        for d in firsts:
            by_minute[d // 60] = by_minute.get(d // 60, 0) + 1
        assert max(by_minute.values()) <= 8 and len(by_minute) >= 10, by_minute
    with TmpDir("street") as root:  # installed today: nothing to wait for
        hal = FakeHal(root, t=T0 + 5 * HOUR)
        prov = FakeProvider(default=lambda now: prices(T0, 48), hal=hal)
        App(hal, cfg(fetch__seed=0), provider=prov).step()
        assert prov.calls == [T0 + 5 * HOUR]


def test_services_start_once_per_run_and_a_resume_stops_them_first():
    calls = []

    class Svc:
        def start(self, app):
            calls.append("start")

        def stop(self):
            calls.append("stop")

        def notify(self, event):
            pass

    import asyncio

    with TmpDir("svc") as root:
        cache(root, prices(T0, 48), T0)
        hal = FakeHal(root, t=T0 + 60)
        app = App(hal, cfg(), provider=FakeProvider(default=lambda now: prices(T0, 48)))
        app.services.append(Svc())
        asyncio.run(app.run(until_s=T0 + 2 * HOUR))
        assert calls == ["start"]
        asyncio.run(app.run(until_s=T0 + 3 * HOUR))  # plug.resume() after a Ctrl-C
        assert calls == ["start", "stop", "start"]


def test_boot_makes_the_heap_collect_often_on_micropython():
    # gc.threshold keeps garbage from piling up between long-lived objects (fragmentation);
    # CPython has no such knob and is left alone
    import gc

    with TmpDir("gc") as root:
        App(FakeHal(root, t=T0 + 60), cfg(), provider=FakeProvider()).boot()
        if hasattr(gc, "threshold"):
            th = gc.threshold()
            assert 0 < th <= gc.mem_free(), th  # bytes allocated between collections
            gc.threshold(-1)  # the other tests run as before
