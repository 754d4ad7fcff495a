"""What main.py does, kept importable so it can be tested under MicroPython with a fake HAL.

    start(hal, cfg, make_app, run_app, sleep_ms) -> "safe mode" | "stopped" | "reset"

- **Safe mode** skips the app and leaves the REPL free: when the button is held at boot, when
  the flag file `safemode` exists on flash, or after CRASH_LIMIT crashes in a row. The relay
  goes to `safe_state` and the LED shows "safe". Leave it with `boot_guard.leave_safe_mode()`
  (removes the flag file and the crash counter) and a reset.
- **Crash**: an exception out of the app is written to `crash.txt` (the last one, with its
  traceback), the crash counter in the file `crashes` goes up, the relay goes to `safe_state`,
  and the device resets after RESET_DELAY_MS. The counter is cleared once the app has run for
  app.HEALTHY_MS, so only crashes in quick succession (each within minutes of its boot) count:
  the CRASH_LIMIT-th one keeps the plug in safe mode instead of a boot loop.
- KeyboardInterrupt (Ctrl-C from mpremote) is not a crash: it stops the app and returns to the
  REPL with the relay as planned.
"""

import os

from ..compat import exc_text, print_exception, sleep_ms
from ..flashfile import join

SAFEMODE_FILE = "safemode"
CRASH_FILE = "crash.txt"
COUNT_FILE = "crashes"
CRASH_LIMIT = 3
RESET_DELAY_MS = 10000


class Running:
    app = None  # the App main.py started (the REPL's `plug` finds it here)


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def crash_count(root):
    try:
        with open(join(root, COUNT_FILE)) as f:
            return int(f.read().strip() or "0")
    except (OSError, ValueError):
        return 0


def _set_count(root, n):
    path = join(root, COUNT_FILE)
    try:
        if n <= 0:
            os.remove(path)
            return
        with open(path, "w") as f:
            f.write(str(n))
    except OSError:
        pass


def clear_crashes(root):
    _set_count(root, 0)


def leave_safe_mode(root="/"):
    """Forget the crash counter and the flag file; the app starts at the next reset."""
    clear_crashes(root)
    try:
        os.remove(join(root, SAFEMODE_FILE))
    except OSError:
        pass


def safe_mode_reason(hal, root):
    """Why this boot must not start the app, or None."""
    if _exists(join(root, SAFEMODE_FILE)):
        return "flag file '%s' on flash" % SAFEMODE_FILE
    held = getattr(hal.button, "held", None)
    if held is not None and held():
        return "button held at boot"
    n = crash_count(root)
    if n >= CRASH_LIMIT:
        return "%d crashes in a row (see %s)" % (n, CRASH_FILE)
    return None


def record_crash(root, exc, now_s=None):
    """Write the exception to crash.txt and count it; returns the new count."""
    try:
        with open(join(root, CRASH_FILE), "w") as f:
            f.write("crash at %s: %s\n" % (now_s, exc_text(exc)))
            print_exception(exc, f)
    except OSError:
        pass
    n = crash_count(root) + 1
    _set_count(root, n)
    return n


def safe_relay(hal, cfg):
    """Relay (and LED) to the configured safe state; never raises. (Kept free of the app's
    imports, so a broken app module still ends in the safe state.)"""
    cfg = cfg or {}
    load_on = cfg.get("safe_state", "off") == "on"
    try:
        hal.relay.set(load_on != bool(cfg.get("relay.inverted", False)))
    except Exception:  # the relay is what we protect; nothing else may stop this
        pass
    try:
        hal.led.set("safe")
    except Exception:
        pass


def _say(hal, msg):
    try:
        hal.log_sink("boot_guard: " + msg)
    except Exception:
        print("boot_guard: " + msg)


def start(hal, cfg, make_app, run_app, sleep=sleep_ms):
    """Run the app under the guard. make_app(hal, cfg) -> App; run_app(app) blocks."""
    root = hal.root
    reason = safe_mode_reason(hal, root)
    if reason:
        safe_relay(hal, cfg)
        _say(hal, "SAFE MODE (%s): app not started, REPL free; "
                  "boot_guard.leave_safe_mode() and reset to resume" % reason)
        return "safe mode"
    app = None
    try:
        app = make_app(hal, cfg)
        app.on_healthy = lambda: clear_crashes(root)
        Running.app = app
        run_app(app)
        return "stopped"
    except Exception as e:
        now = None
        try:
            now = hal.clock.now_s()
        except Exception:
            pass
        n = record_crash(root, e, now)
        safe_relay(hal, cfg)
        try:
            hal.led.set("error")
        except Exception:
            pass
        _say(hal, "crash %d/%d: %s" % (n, CRASH_LIMIT, exc_text(e)))
        if n >= CRASH_LIMIT:
            _say(hal, "SAFE MODE: crash loop; app not restarted, REPL free")
            return "safe mode"
        sleep(RESET_DELAY_MS)
        hal.reset()
        return "reset"


def main(root="/", make_hal=None):  # pragma: no cover - the device entry point (main.py)
    """Load the settings, build the HAL (hal_esp32.Hal, or make_hal(cfg, root) - e.g. an
    emulated board) and start the app under the guard."""
    import asyncio

    from .. import config as config_mod

    hal_mod = None
    if make_hal is None:
        try:
            from ..hal import esp32 as hal_mod
        except ImportError as e:  # not a board (the unix port has no `network`): REPL only
            print("boot_guard: no ESP32 hardware here (%s); app not started" % exc_text(e))
            return "no hardware"
        make_hal = hal_mod.Hal
    try:
        from . import control as app_mod  # its settings (safe_state) and the HAL's (pins) only

        mods = [app_mod] + ([hal_mod] if hal_mod is not None else [])
        cfg, _warnings = config_mod.load(root, config_mod.schema(mods))  # the app logs them
    except Exception as e:  # a broken image: still guard the relay with the defaults
        print("boot_guard: settings not loaded: " + exc_text(e))
        cfg = config_mod.defaults(config_mod.schema([hal_mod] if hal_mod else []))
    try:
        hal = make_hal(cfg, root)
    except (ValueError, OSError) as e:  # a bad pin in config.json: the default board
        print("boot_guard: hardware settings rejected (%s); default pins" % exc_text(e))
        hal = make_hal({}, root)

    def make(h, _cfg):
        from . import control as app_mod

        # loads config.json itself, so its warnings reach the app's log. `plug` is not
        # imported here (~23 KB of heap at every boot): it finds Running.app by itself.
        app = app_mod.App(h)
        from .services import from_config

        app.services += from_config(_cfg)
        return app

    return start(hal, cfg, make, lambda a: asyncio.run(a.run()))
