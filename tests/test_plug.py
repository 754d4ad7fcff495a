# runtimes: cpython micropython
# mpy-heap: 320k
import json

from firmware import config
from firmware.app import boot_guard, flashstate
from firmware.config import Field
from firmware.prices.schedule import Schedule
from firmware.prices.store import Store
from firmware.repl import plug

from support import TmpDir, raises, skip

T0 = 1752566400  # 2025-07-15T08:00:00Z


class _Mod:
    CONFIG = (
        Field("policy.hours_per_day", "number", 4, lo=0, hi=24, unit="h"),
        Field("source", "dropdown", "arcadia", choices=("arcadia", "gridx")),
        Field("tz", "text", "UTC0"),
        Field("arcadia.appKey", "secret", ""),
        Field("wifi.ssid", "text", ""),
        Field("wifi.password", "secret", ""),
    )


def make(root, now=T0):
    return plug.Plug(root, None, lambda: now, config.schema([_Mod]))


def cache(root, n=6, start=T0 - 3600):
    s = Schedule(source="arcadia")
    for k in range(n):
        s.add(start + k * 3600, start + (k + 1) * 3600, 100000 + 10000 * (k % 3))
    s.fetched_s = T0 - 600
    Store(root).save(s)
    return s


def test_set_validates_and_save_is_atomic_json():
    with TmpDir("plug") as root:
        p = make(root)
        assert p.set("policy.hours_per_day", "6") == 6
        e = raises(config.ConfigError, p.set, "policy.hours_per_day", 25)
        assert str(e).startswith("policy.hours_per_day:") and "0..24 h" in str(e)
        assert "\n" not in str(e)
        e = raises(config.ConfigError, p.set, "policy.nope", 1)
        assert "unknown setting" in str(e) and "policy.hours_per_day" in str(e)
        assert p.unsaved == ["policy.hours_per_day"]
        assert p.save() == (1, False)
        with open(root + "/config.json") as f:
            assert json.load(f) == {"policy.hours_per_day": 6}
        import os

        assert "config.json.tmp" not in os.listdir(root)
        again = make(root)
        assert again.cfg()["policy.hours_per_day"] == 6


def test_secrets_are_masked_everywhere():
    with TmpDir("plug") as root:
        p = make(root)
        key = "0123456789abcdef3f9a"
        p.set("arcadia.appKey", key)
        p.save()
        p = make(root)
        text = "\n".join(p.config_lines())
        assert "arcadia.appKey=****3f9a" in text
        assert key not in text
        assert p.get("arcadia.appKey") == "****3f9a"
        e = raises(config.ConfigError, p.set, "source", key)
        assert "one of arcadia, gridx" in str(e)


def test_corrupt_config_gives_defaults_and_a_warning():
    with TmpDir("plug") as root:
        with open(root + "/config.json", "w") as f:
            f.write('{"policy.hours_per_day": 6,')
        p = make(root)
        assert p.cfg()["policy.hours_per_day"] == 4
        text = "\n".join(p.status_lines())
        assert "WARNING config.json is corrupt" in text
        assert "WARNING config.json is corrupt" in "\n".join(p.config_lines())


def test_status_from_flash_cache_and_snapshot():
    with TmpDir("plug") as root:
        p = make(root)
        text = "\n".join(p.status_lines())
        assert "app not running" in text and "cache:  empty" in text
        assert "relay:  unknown" in text
        heap = [ln for ln in text.splitlines() if ln.startswith("heap:")]
        import gc

        if hasattr(gc, "mem_free"):  # MicroPython: after a collection, a plausible free heap
            free = int(heap[0].split()[1])
            assert 0 < free < 64 << 20, heap
        else:  # CPython has no heap figure to give
            assert heap == ["heap:   not known here"], heap
        cache(root)
        with open(root + "/status.json", "w") as f:
            json.dump({"relay_on": True, "reason": "cheapest 4 h", "relay_since_s": T0 - 60,
                       "last_fetch": {"t_s": T0 - 600, "ok": True, "msg": "6 prices"}}, f)
        lines = make(root).status_lines()
        text = "\n".join(lines)
        assert "relay:  ON since 2025-07-15 07:59: cheapest 4 h" in text
        # T0 is interval 1 of the cache (price 0.11), next changes at 09:00 and 10:00
        assert "price:  0.1100 USD per kWh" in text
        assert "next:   09:00 0.1200, 10:00 0.1000" in text
        assert "6 intervals, fetched 10min ago" in text
        assert "fetch:  ok 10min ago: 6 prices" in text
        assert "clock:  2025-07-15 08:00 " in text and ", valid" in text
        assert "WattWindow " in lines[0]


def test_clock_not_set_is_reported():
    with TmpDir("plug") as root:
        p = make(root, now=946684800 + 30)
        assert "NOT VALID" in "\n".join(p.status_lines())


def test_override_is_persisted_for_the_app_and_expires():
    with TmpDir("plug") as root:
        p = make(root)
        until = p.override(True, 90)
        assert until == T0 + 5400
        with open(root + "/override.json") as f:
            assert json.load(f) == {"on": True, "until_s": T0 + 5400}
        assert p.pending_override() == {"on": True, "until_s": T0 + 5400}
        assert "override: ON until" in "\n".join(p.status_lines())
        assert p.cancel_override() is True
        assert p.pending_override() is None
        assert p.cancel_override() is False  # nothing left to cancel
        p.override(False, 90)
        assert make(root, now=T0 + 5400).pending_override() is None
        raises(config.ConfigError, p.override, True, -1)


def test_log_reads_the_tail_of_the_flash_log():
    with TmpDir("plug") as root:
        assert make(root).log_lines(5) == []
        with open(root + "/log.txt", "w") as f:
            for k in range(30):
                f.write("line %d\n" % k)
        assert make(root).log_lines(3) == ["line 27", "line 28", "line 29"]
        for bad in (0, -5, "x", 2.5):
            e = raises(config.ConfigError, make(root).log_lines, bad)
            assert str(e).startswith("log: ") and "1..1000" in str(e)


def test_factory_reset_removes_site_state():
    with TmpDir("plug") as root:
        p = make(root)
        p.set("wifi.ssid", "home")
        p.save()
        cache(root)
        p.override(True, 10)
        flashstate.save_run(root, T0, 1800, (T0, T0 + 7200))
        for name in ("crash.txt", "crashes"):
            with open(root + "/" + name, "w") as f:
                f.write("2")
        gone = p.factory_reset()
        assert sorted(gone) == ["config.json", "crash.txt", "crashes", "override.json",
                                "prices.bin", "run.json"], gone
        assert make(root).cfg()["wifi.ssid"] == ""
        assert flashstate.load_run(root) is None  # a started block must not outlive the site
        assert boot_guard.crash_count(root) == 0


class _Clock:
    def now_s(self):
        return T0

    def valid(self):
        return True


class _Net:
    def up(self):
        return False


class _Hal:
    clock = _Clock()
    net = _Net()
    root = ""


class _Log:
    def lines(self, n):
        return ["live %d" % k for k in range(n)]


class _App:
    def __init__(self):
        self.hal = _Hal()
        self.cfg = {"policy.hours_per_day": 4, "source": "gridx", "tz": "UTC0",
                    "arcadia.appKey": "", "wifi.ssid": "", "wifi.password": ""}
        self.log = _Log()
        self.overrides = []
        self.applied = None

    def status(self):
        return {"relay_on": False, "reason": "price above the cheapest 4 h"}

    def override(self, on, minutes):
        self.overrides.append((on, minutes))

    def apply_config(self, cfg):
        self.applied = cfg

    def fetch_now(self):
        self.last_fetch = {"t_s": T0, "ok": False, "msg": "NetworkError: no route"}
        return False

    def plan_rows(self, hours):
        return [(T0, T0 + 3600, True, 100000, "cheapest"),
                {"start_s": T0 + 3600, "end_s": T0 + 7200, "on": False, "price_u": None,
                 "reason": "no price"}]


def test_attached_app_is_used_live():
    with TmpDir("plug") as root:
        app = _App()
        app.hal.root = root
        p = plug.Plug(root, app, None, config.schema([_Mod]))
        text = "\n".join(p.status_lines())
        # at the REPL the app's loop is not running: Ctrl-C stopped it
        assert "app STOPPED at the REPL (Ctrl-C): nothing switches until Ctrl-D" in text
        assert "app running" not in text and "relay:  OFF: price above" in text
        p.tool = True  # plugctl reads it and resumes it right after
        assert "app running (paused while plugctl reads it" in "\n".join(p.status_lines())
        assert "wifi:   down" in text
        assert p.cfg()["source"] == "gridx"
        p.override(False, 30)
        assert app.overrides == [(False, 30)]
        p.set("policy.hours_per_day", 5)
        assert p.save() == (1, True) and app.applied["policy.hours_per_day"] == 5
        assert p.log_lines(2) == ["live 0", "live 1"]
        lines = p.plan_lines(2)
        assert lines.pop(0) == "times in UTC (tz UTC0)"
        assert "ON" in lines[0] and "0.1000" in lines[0] and "cheapest" in lines[0]
        assert "OFF" in lines[1] and "no price" in lines[1]


def test_repl_functions_print_one_line_errors():
    with TmpDir("plug") as root:
        plug.use(root, lambda: T0, config.schema([_Mod]))
        out = []
        import builtins

        old = builtins.print
        builtins.print = lambda *a: out.append(" ".join(str(x) for x in a))
        try:
            assert plug.set("policy.hours_per_day", 99) is False
            assert plug.set("policy.hours_per_day", 3) is True
            assert plug.save() is True
            assert plug.factory_reset(confirm="no") is False
        finally:
            builtins.print = old
        assert out[0].startswith("ERROR policy.hours_per_day: 99 is not allowed")
        assert out[1].startswith("policy.hours_per_day=3")
        assert out[2].startswith("saved config.json (1 changed)")
        assert out[3] == "factory reset cancelled"


def test_fetch_needs_the_app_and_reports_its_outcome():
    with TmpDir("plug") as root:
        out = []
        import builtins

        old = builtins.print
        builtins.print = lambda *a: out.append(" ".join(str(x) for x in a))
        try:
            plug.use(root, lambda: T0, config.schema([_Mod]))
            assert plug.fetch() is False
            app = _App()
            app.hal.root = root
            plug.attach(app)
            assert plug.fetch() is False
        finally:
            builtins.print = old
            plug.use("")
        assert out[0].startswith("ERROR fetch: the app is not running")
        assert out[1] == "ERROR fetch failed: NetworkError: no route"


def test_plan_from_flash_uses_the_planner():
    try:
        from firmware.plan import planner  # noqa: F401
    except ImportError:
        skip("firmware.plan.planner not there yet")
    with TmpDir("plug") as root:
        cache(root, n=30)
        rows = make(root).plan_rows(12)
        assert rows, "a plan over cached prices"
        assert rows[0][0] == T0
        for row in rows:
            assert row[0] < row[1] and row[4]


def test_status_shows_the_savings_record():
    from firmware.clock.tz import Zone
    from firmware.prices.savings import Savings

    with TmpDir("plug") as root:
        assert "energy: nothing recorded yet" in "\n".join(make(root).status_lines())
        s = cache(root)  # 0.10/0.11/0.12 per kWh from 07:00 UTC; 18:00 has no price
        rec = Savings(root, Zone("UTC0"), lambda: T0 + 7200, lambda: s)
        rec.add(T0, T0 + 3600, 2000)  # 2 kW for the hour at 0.11
        assert rec.save(T0 + 7200)
        text = "\n".join(make(root, now=T0 + 7200).status_lines())
        assert "energy: today 2.00 kWh, cost 0.22 USD, saved 0.00 USD (vs the same run from " \
               "18:00)" in text, text
        assert "        last 7 days 2.00 kWh, cost 0.22 USD, saved 0.00 USD" in text
