"""The field REPL API: look at and set up a plug over its USB serial port.

    >>> import plug                      # or: from firmware import plug
    >>> plug.status()                    # relay and why, price, cache, last fetch, clock, Wi-Fi
    >>> plug.plan(12)                    # planned ON/OFF intervals, local time
    >>> plug.config()                    # every setting (secrets masked)
    >>> plug.set("policy.hours", 6); plug.save()
    >>> plug.wifi("home", "secret"); plug.override(True, 60); plug.cancel(); plug.log(20)
    >>> plug.help("policy.hours")        # what a setting means, its limits and default

At the REPL the app is stopped (Ctrl-C, or mpremote's interrupt): nothing switches until
Ctrl-D (soft reboot), plug.resume() (continue where it stopped) or `plugctl reset`; status()
says so. Without an app everything works from what is on flash: config.json, the price cache,
the app's status snapshot and log file, and the override request file. When an App is in the
same interpreter (`plug.attach(app)`, or the app boot_guard started, found without importing
this module at boot), its state is used instead. Nothing here drives the relay:
relay changes and overrides go through the app, which applies them at its next step or start,
so the relay never leaves its plan. The REPL functions print; the Plug class underneath returns
text lines and raises ConfigError for callers (view.py; reports: report.py; settings as
text: settings_text.py).
"""

import json

from .. import VERSION
from .. import config as _config
from ..compat import exc_text
from ..onoff import parse as parse_onoff
from .view import Plug, show_value


# -- the REPL functions ---------------------------------------------------------------------
class _Session:
    plug = None  # type: Plug | None


def attach(app, root=None):
    """Called by main.py with the running App: plug then shows and changes its live state."""
    root = root if root is not None else getattr(getattr(app, "hal", None), "root", "")
    _Session.plug = Plug(root, app)
    return _Session.plug


def use(root="", now_s=None, fields=None):
    """Work on flash root `root` without an app (tests, the host)."""
    _Session.plug = Plug(root, None, now_s, fields)
    return _Session.plug


def session():
    if _Session.plug is None:
        import sys

        bg = sys.modules.get("firmware.app.boot_guard")  # main.py ran: the app it started
        app = getattr(getattr(bg, "Running", None), "app", None)
        if app is not None:
            return attach(app)
        _Session.plug = Plug("")
    return _Session.plug


def tool():
    """plugctl's first call: the reports then say the app is paused for the command (plugctl
    resumes it right after) instead of stopped."""
    session().tool = True


def _print(lines):
    for line in lines:
        print(line)


def _guard(fn, *args):
    # One-line messages instead of tracebacks at the REPL ("ERROR " lets tools detect them).
    try:
        return fn(*args)
    except (_config.ConfigError, ValueError, OSError, ImportError) as e:
        print("ERROR " + (str(e) if isinstance(e, _config.ConfigError) else exc_text(e)))
        return None


def status():
    """Relay state and why, price, cache, last fetch, clock, Wi-Fi, heap, version."""
    _guard(lambda: _print(session().status_lines()))


def plan(hours=24):
    """Planned ON/OFF intervals over the next `hours`, in local time, with prices and reasons."""
    _guard(lambda: _print(session().plan_lines(hours)))


def config():
    """Every setting with its value; secrets masked."""
    _guard(lambda: _print(session().config_lines()))


def get(name):
    _guard(lambda: print("%s=%s" % (name, session().get(name))))


def set(name, value):
    """Validate and stage a setting (plug.save() writes it). Bad values: one ERROR line."""

    def do():
        p = session()
        v = p.set(name, value)
        print("%s=%s (plug.save() to keep)" % (name, show_value(p.fields()[name], v)))
        return True

    return bool(_guard(do))


def update(values):
    """Set several settings at once (all or none); plug.save() writes them."""

    def do():
        p = session()
        for name, v in p.update(values):
            print("%s=%s" % (name, show_value(p.fields()[name], v)))
        return True

    return bool(_guard(do))


def export(secrets=False):
    """One line 'CONFIG {json}' of the non-default settings (for plugctl config export)."""
    _guard(lambda: print("CONFIG " + json.dumps(session().export(secrets))))


def save():
    """Write config.json atomically (temp file + rename)."""

    def do():
        n, applied = session().save()
        print("saved %s (%d changed); %s" % (_config.CONFIG_FILE, n,
                                            "applied to the running app" if applied
                                            else "takes effect at the next start"))
        return True

    return bool(_guard(do))


def wifi(ssid, password):
    """Set and save the Wi-Fi credentials (used at the next start)."""

    def do():
        p = session()
        p.set("wifi.ssid", ssid)
        p.set("wifi.password", password)
        p.save()
        print("wifi.ssid=%s wifi.password=%s saved; used at the next start"
              % (ssid, _config.mask(password)))
        return True

    return bool(_guard(do))


def fetch():
    """Fetch prices now (needs the running app: it owns the network and the cache)."""

    def do():
        p = session()
        if p.app is None or not hasattr(p.app, "fetch_now"):
            print("ERROR fetch: the app is not running; restart it (Ctrl-D or plug.restart())"
                  " and it fetches when its cache runs short")
            return False
        ok = p.app.fetch_now()
        lf = getattr(p.app, "last_fetch", None) or {}
        if not ok:
            print("ERROR fetch failed: %s" % (lf.get("msg") or "see plug.log()"))
            return False
        print("fetch: ok: %s" % (lf.get("msg") or ""))
        return True

    return bool(_guard(do))


def override(on, minutes=60):
    """Hold the relay ON/OFF for `minutes` (the limits of override.minutes); the app applies
    it. plug.cancel() ends it."""

    def do():
        p = session()
        state = parse_onoff(on, "override")
        until = p.override(state, minutes)
        print("override %s until %s%s" % ("ON" if state else "OFF", p.local(until, p.zone()),
                                         "" if p.live() else " (applied when the app starts)"))
        return True

    return bool(_guard(do))


def cancel():
    """End the override in force; says so when there is none."""

    def do():
        if session().cancel_override():
            print("override cancelled: the plan decides again")
        else:
            print("no override to cancel")
        return True

    return bool(_guard(do))


def help(name=None):
    """What a setting means, its type, limits and default: plug.help("policy.hours"); a group:
    plug.help("policy"); every group: plug.help()."""

    def do():
        from .settings_text import help_lines

        _print(help_lines(session(), name))
        return True

    return bool(_guard(do))


def resume():
    """Start the app stopped by Ctrl-C again where it stopped: no reboot, no boot lines (what
    plugctl does after a command). Blocks like main.py; Ctrl-C stops it again."""
    p = session()
    if p.app is None or not getattr(p.app, "booted", False):
        print("ERROR resume: no app in RAM to resume; soft reboot with Ctrl-D")
        return False
    import asyncio

    from ..app import boot_guard

    # MicroPython keeps one loop: a new one forgets the tasks Ctrl-C left in it (CPython's
    # asyncio.run makes its own loop; the one made here is closed unused)
    asyncio.new_event_loop().close()
    app = p.app
    p.tool = False  # the next stop is a person's Ctrl-C until plugctl says otherwise
    print("app resumed")
    return boot_guard.start(app.hal, app.cfg, lambda _h, _c: app,
                            lambda a: asyncio.run(a.run())) == "stopped"


def log(n=20):
    _guard(lambda: _print(session().log_lines(n)))


def factory_reset(confirm=None):
    """Erase config, cache, status and log. Asks first unless confirm="yes"."""
    if confirm is None:
        confirm = input("Erase all settings, the price cache and the log? Type yes: ")
    if confirm != "yes":
        print("factory reset cancelled")
        return False
    gone = session().factory_reset()
    print("erased %s; restart to boot with defaults" % (", ".join(gone) or "nothing"))
    return True


def restart():
    """Hard-reset the board (the app starts again from flash)."""
    p = session()
    if p.app is not None:
        p.app.hal.reset()
    else:
        from ..hal import esp32

        esp32.reset()


def version():
    return VERSION
