# runtimes: cpython micropython
# mpy-heap: 512k
"""The app's fetch supervision against hostile answers (issue 12 §2), on both runtimes.

Whatever a provider, a parse or a merge raises is a failed fetch: logged, backed off, the cache
byte-identical, the relay still following the plan; nothing escapes App.step() (there it would
reach boot_guard: three in a row mean safe mode). A fetch ends within its stated bound however
slowly a server trickles, and the watchdog is fed on both sides of it."""

import os
from array import array

from appkit import HOUR, T0, App, FakeProvider, cache, cfg, prices

from firmware.compat import ticks_diff, ticks_ms
from firmware.prices.schedule import Schedule

from fakehal import FakeHal, run_steps
from support import TmpDir


def _port():
    v = os.getenv("WW_HOSTILE_PORT")
    assert v, "WW_HOSTILE_PORT not set: tests/srv_hostile.py is not running"
    return int(v)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


class _Broken(Schedule):
    """A schedule whose merge fails the way a wrapped array('i') made it fail (ValueError)."""

    def __init__(self, exc):
        super().__init__("test")
        self.add(T0 + 30 * HOUR, T0 + 31 * HOUR, 1)
        self.exc = exc

    def index_at(self, t_s):
        raise self.exc


def _bad_answers():
    """(what, item): exceptions a provider raises and answers whose merge raises."""
    out = [(type(e).__name__, e) for e in (
        ValueError("v"), OverflowError("o"), MemoryError("m"), KeyError("k"), TypeError("t"),
        IndexError("i"), AttributeError("a"), ZeroDivisionError("z"), RuntimeError("r"),
        NotImplementedError("n"), OSError(104, "reset"), UnicodeError("u"), AssertionError("x"),
        StopIteration())]
    # an answer whose offsets went backwards (MicroPython's wrapped array): merge ValueError
    s = Schedule("test")
    s.add(T0 + 30 * HOUR, T0 + 31 * HOUR, 1)
    s.add(T0 + 31 * HOUR, T0 + 32 * HOUR, 2)
    s.starts = array("i", [0, -7200])
    out.append(("merge ValueError", s))
    out.append(("merge IndexError", _mismatched()))
    out.append(("not a schedule", [1, 2, 3]))
    out.append(("merge OverflowError", _Broken(OverflowError("int too large"))))
    return out


def _mismatched():
    s = Schedule("test")
    s.add(T0 + 30 * HOUR, T0 + 31 * HOUR, 1)
    s.prices = array("i")
    return s


def test_every_exception_from_the_fetch_path_is_a_failed_fetch():
    for what, item in _bad_answers():
        with TmpDir("hos") as root:
            cache(root, prices(T0, 48), T0 - HOUR)
            path = root + "/prices.bin"
            before = _read(path)
            hal = FakeHal(root, t=T0 + 2 * HOUR)
            prov = FakeProvider([item], default=lambda now: prices(T0, 48))
            app = App(hal, cfg(), provider=prov)
            app.boot()
            app.next_fetch_s = hal.clock.t  # due now
            app.step()  # must not raise
            assert prov.calls == [T0 + 2 * HOUR], (what, prov.calls)
            assert app.last_fetch["ok"] is False, (what, app.last_fetch)
            assert app.next_fetch_s > hal.clock.t, what  # backed off
            assert _read(path) == before, what  # the cache byte-identical
            assert app.schedule is not None and len(app.schedule) == 48, what
            fails = [ln for ln in hal.lines if " fetch: failed" in ln]
            assert len(fails) == 1, (what, fails)
            # and the plug keeps switching on its plan
            n0 = len(hal.relay.history)
            run_steps(app, hal, T0 + 20 * HOUR)
            assert len(hal.relay.history) > n0, what
            for t, level in hal.relay.history[n0:]:
                assert level == app.plan.at(t)[0], (what, t)


def _arcadia_app(root, opts, **kw):
    c = cfg(source="arcadia", arcadia__appId="id", arcadia__appKey="key",
            arcadia__baseUrl="http://127.0.0.1:%d/%s" % (_port(), opts), **kw)
    hal = FakeHal(root, t=1752595200 + 600)  # 2025-07-15T16:10Z: the server's default prices
    app = App(hal, c)
    app.boot()
    app.next_fetch_s = hal.clock.t  # due now, whatever the cache holds
    return hal, app


def test_an_open_ended_year_9999_entry_does_not_crash_the_step():
    with TmpDir("hos") as root:
        hal, app = _arcadia_app(root, "a/n=48,extra=9999-12-30T00:00:00Z~9999-12-31T00:00:00Z")
        app.step()
        assert app.last_fetch["ok"] is True, app.last_fetch
        assert app.schedule.end_s == 1752595200 + 48 * HOUR
        warn = [ln for ln in hal.lines if " W fetch: " in ln and "outside" in ln]
        assert len(warn) == 1, hal.lines
        assert "arcadia.warning" not in app.provider_state  # said once, not kept in the cache


def test_prices_that_would_wrap_are_a_failed_fetch_and_the_cache_stays():
    with TmpDir("hos") as root:
        cache(root, prices(1752595200 - 2 * HOUR, 30), 1752595200 - 3 * HOUR)
        before = _read(root + "/prices.bin")
        hal, app = _arcadia_app(root, "a/n=48,at=5,rate=4294.967296")
        app.step()
        assert app.last_fetch["ok"] is False and "range" in app.last_fetch["msg"], app.last_fetch
        assert _read(root + "/prices.bin") == before


def test_a_trickling_server_holds_a_fetch_no_longer_than_its_bound():
    with TmpDir("hos") as root:
        hal, app = _arcadia_app(root, "r/body-trickle=0.2", fetch__timeout_s=2,
                                fetch__budget_s=5)
        feeds = hal.wdt.feeds
        t0 = ticks_ms()
        app.step()
        dt = ticks_diff(ticks_ms(), t0) / 1000
        assert 4.5 <= dt < 6.5, dt  # the bound: min(4 x fetch.timeout_s, fetch.budget_s) = 5 s
        assert app.last_fetch["ok"] is False and "Timeout" in app.last_fetch["msg"], \
            app.last_fetch
        assert hal.wdt.feeds >= feeds + 2  # fed before and after the fetch
