# runtimes: cpython micropython
# mpy-heap: 512k
"""The boot guard (firmware/app/boot_guard.py, main.py's logic): crashes put the relay in the
safe state, a crash loop ends in safe mode with the REPL free, a healthy run clears the count,
and main.py boots the real app under it."""

from appkit import HOUR, T0, App, FakeProvider, cache, cfg, prices

from firmware.app import boot_guard

from fakehal import FakeHal
from support import TmpDir


# -- crash handling (main.py's logic) ----------------------------------------------------------
class _Crashy:
    def __init__(self, hal, cfg):
        self.hal = hal
        self.on_healthy = None


def _crash(app):
    raise RuntimeError("boom in step")


def test_crash_puts_relay_in_safe_state_logs_and_resets():
    with TmpDir("app") as root:
        hal = FakeHal(root)
        hal.relay.set(False)
        slept = []
        out = boot_guard.start(hal, {"safe_state": "on"}, _Crashy, _crash, slept.append)
        assert out == "reset" and hal.resets == 1
        assert slept == [boot_guard.RESET_DELAY_MS]
        assert hal.relay.level is True and hal.led.mode == "error"
        with open(root + "/" + boot_guard.CRASH_FILE) as f:
            text = f.read()
        assert "boom in step" in text
        assert boot_guard.crash_count(root) == 1
        # the relay went to the safe state before the reset
        assert [c[0] for c in hal.calls][-2:] == ["relay", "reset"]


def test_crash_loop_keeps_the_plug_in_safe_mode_with_the_repl_free():
    with TmpDir("app") as root:
        outs = []
        for _ in range(boot_guard.CRASH_LIMIT):
            hal = FakeHal(root)
            outs.append(boot_guard.start(hal, {"safe_state": "off"}, _Crashy, _crash,
                                         lambda ms: None))
        assert outs[:-1] == ["reset"] * (boot_guard.CRASH_LIMIT - 1)
        assert outs[-1] == "safe mode" and hal.resets == 0
        made = []
        hal = FakeHal(root)
        out = boot_guard.start(hal, {"safe_state": "off"}, lambda h, c: made.append(1), _crash,
                               lambda ms: None)
        assert out == "safe mode" and made == [] and hal.relay.level is False
        assert any("SAFE MODE" in line for line in hal.lines)
        boot_guard.leave_safe_mode(root)
        ran = []
        out = boot_guard.start(FakeHal(root), {}, _Crashy, ran.append, lambda ms: None)
        assert out == "stopped" and len(ran) == 1


def test_healthy_run_clears_the_crash_counter_and_safe_mode_triggers():
    with TmpDir("app") as root:
        boot_guard.record_crash(root, ValueError("x"))
        assert boot_guard.crash_count(root) == 1

        def run(app):
            app.on_healthy()

        assert boot_guard.start(FakeHal(root), {}, _Crashy, run, lambda ms: None) == "stopped"
        assert boot_guard.crash_count(root) == 0
        hal = FakeHal(root)
        hal.button.is_held = True
        assert boot_guard.start(hal, {}, _Crashy, run, lambda ms: None) == "safe mode"
        with open(root + "/" + boot_guard.SAFEMODE_FILE, "w") as f:
            f.write("1")
        assert boot_guard.start(FakeHal(root), {}, _Crashy, run, lambda ms: None) == "safe mode"


def test_real_app_crash_in_step_is_caught_by_the_guard():
    with TmpDir("app") as root:
        cache(root, prices(T0, 48), T0)
        hal = FakeHal(root, t=T0 + HOUR)

        def make(h, c):
            app = App(h, cfg(safe_state="off"), provider=FakeProvider())
            return app

        def run(app):
            app.boot()
            app.plan = None
            app._dirty = False
            app.schedule = "not a schedule"  # a bug somewhere: the replan blows up
            app._replan = None
            app.step()

        out = boot_guard.start(hal, {"safe_state": "off"}, make, run, lambda ms: None)
        assert out == "reset" and hal.relay.level is False


def test_main_entry_boots_the_app_under_the_guard_and_ctrl_c_leaves_it():
    with TmpDir("app") as root:
        cache(root, prices(T0, 48), T0)
        with open(root + "/config.json", "w") as f:
            f.write('{"tz": "UTC0", "safe_state": "on", "wifi.ssid": "home"}')
        made = []

        class Hal(FakeHal):
            async def sleep_until(self, t_s):
                if len(self.wakes) >= 5:
                    raise KeyboardInterrupt  # mpremote's Ctrl-C: not a crash
                await FakeHal.sleep_until(self, t_s)

        def make_hal(c, r):
            made.append(c)
            return Hal(r, t=T0 + HOUR)

        import sys

        import firmware

        saved = sys.modules.pop("firmware.repl.plug", None)  # another test may have imported it
        if hasattr(firmware, "plug"):
            delattr(firmware, "plug")
        e = None
        try:
            boot_guard.main(root, make_hal)
        except KeyboardInterrupt as k:
            e = k
        finally:
            booted_with_plug = "firmware.repl.plug" in sys.modules
            if saved is not None:
                sys.modules["firmware.repl.plug"] = saved
                firmware.repl.plug = saved
        assert not booted_with_plug  # ~23 KB of heap the device does not need at boot
        assert e is not None and made and made[0]["safe_state"] == "on"
        app = boot_guard.Running.app
        assert app is not None and app.booted and app.cfg["tz"] == "UTC0"
        assert app.hal.relay.level == app.plan.at(app.hal.clock.t)[0]
        assert boot_guard.crash_count(root) == 0 and app.hal.resets == 0
        from firmware.repl import plug  # the REPL: finds the app main.py started by itself

        plug._Session.plug = None
        try:
            assert plug.session().app is app
        finally:
            plug._Session.plug = None
