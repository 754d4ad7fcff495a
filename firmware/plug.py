"""The field REPL API: look at and set up a plug over its USB serial port.

    >>> import plug                      # or: from firmware import plug
    >>> plug.status()                    # relay and why, price, cache, last fetch, clock, Wi-Fi
    >>> plug.plan(12)                    # planned ON/OFF intervals, local time
    >>> plug.config()                    # every setting (secrets masked)
    >>> plug.set("policy.hours", 6); plug.save()
    >>> plug.wifi("home", "secret"); plug.override(True, 60); plug.log(20)

`mpremote` interrupts the running app (Ctrl-C) or soft-resets the board before it runs a
command, so everything here works from what is on flash: config.json, the price cache
(store.py), the app's status snapshot and log file, and the override request file. When an App
runs in the same interpreter (`plug.attach(app)`, or the app boot_guard started, found without
importing this module at boot), its live state is used instead. Nothing here drives the relay:
relay changes and overrides go through the app, which applies them at its next step or start,
so the relay never leaves its plan. The REPL functions print; the Plug class underneath returns
text lines and raises ConfigError for callers.
"""

import json
import os

from . import VERSION
from . import config as _config
from .compat import exc_text, mem_free

# The app's files on flash: status.json (its status() snapshot), log.txt (+ log.txt.1),
# override.json ({"on": bool, "until_s": int}, read when it starts).
from .flashstate import LOG_FILE, OVERRIDE_FILE, STATUS_FILE
from .isotime import format_iso

CACHE_FILE = "prices.bin"
_CLOCK_VALID_AFTER_S = 1704067200  # 2024-01-01: an ESP32 RTC that was never set says 2000


def _join(root, name):
    return _config.join(root, name)


def _wall_now_s():
    # Only used without a running app (whose HAL owns the clock). The ESP32 counts from 2000.
    import time

    t = int(time.time())
    if time.gmtime(0)[0] == 2000:
        t += 946684800
    return t


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _write_json_atomic(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.rename(tmp, path)


def _remove(path):
    try:
        os.remove(path)
        return True
    except OSError:
        return False


def _duration(s):
    s = int(s)
    if s < 120:
        return "%ds" % s
    if s < 7200:
        return "%dmin" % (s // 60)
    if s < 172800:
        return "%dh%02d" % (s // 3600, (s % 3600) // 60)
    return "%dd" % (s // 86400)


def _fmt_price(pu, currency=""):
    from .schedule import format_price

    return format_price(pu) + ((" " + currency) if currency else "")


def _show(field, value):
    if field is not None and field.secret:
        return _config.mask(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


class Plug:
    """The REPL API over one flash root; `app` is a running App or None."""

    def __init__(self, root="", app=None, now_s=None, fields=None):
        self.root = root
        self.app = app
        self._now_s = now_s  # callable, for tests; else the app's clock or the RTC
        self._fields = fields
        self._cfg = None
        self._missing = []
        self.warnings = []
        self.unsaved = []  # names set() changed since the last save()

    # -- state ------------------------------------------------------------------------------
    def fields(self):
        if self._fields is None:
            self._fields = _config.schema()
            self._missing = list(_config.MISSING)
        return self._fields

    def cfg(self):
        if self._cfg is None:
            fields = self.fields()
            if self.app is not None and getattr(self.app, "cfg", None) is not None:
                self._cfg = dict(self.app.cfg)
                self.warnings = []
            else:
                self._cfg, self.warnings = _config.load(self.root, fields)
            for m in self._missing:
                self.warnings.append("no settings from module " + m)
        return self._cfg

    def now_s(self):
        if self._now_s is not None:
            return self._now_s()
        if self.app is not None:
            return self.app.hal.clock.now_s()
        return _wall_now_s()

    def clock_valid(self):
        if self.app is not None:
            return bool(self.app.hal.clock.valid())
        return self.now_s() >= _CLOCK_VALID_AFTER_S

    def zone(self):
        """The configured tz.Zone (UTC if the rule is bad), or None without a tz module."""
        try:
            from .tz import Zone
        except ImportError:
            return None
        try:
            return Zone(self.cfg().get("tz") or "UTC0")
        except ValueError:
            return Zone("UTC0")

    def local(self, t_s, zone=None):
        """'2025-07-15 08:00' in local time (UTC without a zone)."""
        off = zone.offset_at(t_s) if zone is not None else 0
        return format_iso(t_s, off)[:16].replace("T", " ")

    def snapshot(self):
        """The app's status: live when attached, else the last snapshot it wrote to flash."""
        if self.app is not None:
            try:
                return self.app.status()
            except Exception as e:
                return {"error": exc_text(e)}
        return _read_json(_join(self.root, STATUS_FILE)) or {}

    def cache(self):
        """(Schedule or None, extras, error text or None) from the flash cache."""
        from .store import Store

        st = Store(self.root, name=CACHE_FILE)
        sched, extras = st.load()
        return sched, extras or {}, st.last_error

    # -- reports ----------------------------------------------------------------------------
    def status_lines(self):
        now = self.now_s()
        zone = self.zone()
        snap = self.snapshot()
        cfg = self.cfg()
        out = ["WattWindow %s  %s" % (VERSION, "app running" if self.app is not None
                                       else "app not running (state from flash)")]
        valid = snap.get("clock_valid") if self.app is not None else None
        if valid is None:
            valid = self.clock_valid()
        out.append("clock:  %s %s, %s" % (
            self.local(now, zone), cfg.get("tz") if zone is not None else "UTC",
            "valid" if valid else "NOT VALID (waiting for NTP): relay follows safe_state"))
        relay = snap.get("relay_on")
        if relay is None:
            out.append("relay:  unknown (no status snapshot yet)")
        else:
            since = snap.get("relay_since_s")
            until = snap.get("until_s")
            out.append("relay:  %s%s: %s%s" % (
                "ON" if relay else "OFF",
                (" since " + self.local(since, zone)) if since else "",
                snap.get("reason") or "?",
                (" (until " + self.local(until, zone) + ")") if until else ""))
        ov = snap.get("override") if self.app is not None else self.pending_override()
        if isinstance(ov, dict):
            out.append("override: %s until %s" % ("ON" if ov["on"] else "OFF",
                                                    self.local(ov["until_s"], zone)))
        sched, extras, err = self.cache()
        if sched is None:
            out.append("cache:  empty%s" % ((" (" + err + ")") if err else ""))
            out.append("price:  unknown")
        else:
            cov = sched.coverage()
            cur = sched.price_at(now)
            src = snap.get("source") or cfg.get("source") or "?"
            out.append("price:  %s per %s (source %s%s)" % (
                "-" if cur is None else _fmt_price(cur, sched.currency), sched.unit, src,
                ("; cached prices from " + sched.source)
                if sched.source and sched.source != src else ""))
            t, changes = now, []
            for _ in range(3):
                t = sched.next_change(t)
                if t is None or t >= sched.end_s:
                    break
                changes.append("%s %s" % (self.local(t, zone)[11:],
                                          _fmt_price(sched.price_at(t))))
            out.append("next:   " + (", ".join(changes) if changes else "no change known"))
            fetched = getattr(sched, "fetched_s", 0) or 0
            out.append("cache:  %s .. %s, %d intervals, fetched %s" % (
                self.local(cov[0], zone), self.local(cov[1], zone), len(sched),
                (_duration(now - fetched) + " ago") if fetched else "?"))
            ahead = cov[1] - now
            if ahead <= 0:
                out.append("        WARNING: no prices ahead; relay follows safe_state")
        lf = snap.get("last_fetch")
        if isinstance(lf, dict):
            out.append("fetch:  %s%s%s" % (
                "ok" if lf.get("ok") else "FAILED",
                (" " + _duration(now - lf["t_s"]) + " ago") if lf.get("t_s") else "",
                (": " + str(lf["msg"])) if lf.get("msg") else ""))
            if snap.get("next_fetch_s"):
                out.append("        next at %s" % self.local(snap["next_fetch_s"], zone))
        elif self.app is not None and snap.get("next_fetch_s"):
            out.append("fetch:  none yet; next at %s" % self.local(snap["next_fetch_s"], zone))
        else:
            out.append("fetch:  none recorded")
        out.append("wifi:   %s" % self.wifi_state())
        out.append("heap:   %d bytes free" % mem_free())
        warnings = list(self.warnings)
        for w in snap.get("config_warnings") or ():
            if w not in warnings:
                warnings.append(w)
        for w in warnings:
            out.append("WARNING " + w)
        if snap.get("error"):
            out.append("WARNING app status: " + str(snap["error"]))
        return out

    def wifi_state(self):
        ssid = self.cfg().get("wifi.ssid") or ""
        if self.app is not None:
            try:
                up = self.app.hal.net.up()
            except Exception:
                up = False
            return "%s (%s)" % ("connected" if up else "down", ssid or "no ssid set")
        try:
            import network  # only on a board; read-only query, no connect

            up = network.WLAN(network.STA_IF).isconnected()
            return "%s (%s)" % ("connected" if up else "down", ssid or "no ssid set")
        except (ImportError, AttributeError, OSError):
            return "no Wi-Fi on this port" + ((" (ssid %s)" % ssid) if ssid else "")

    def plan_rows(self, hours=24):
        """[(start_s, end_s, on, price_u or None, reason)] from now over `hours`."""
        hours = int(hours)
        if self._live() and hasattr(self.app, "plan_rows"):
            rows = []
            for r in self.app.plan_rows(hours):
                if isinstance(r, dict):
                    r = (r.get("start_s"), r.get("end_s"), r.get("on"), r.get("price_u"),
                         r.get("reason"))
                rows.append(tuple(r))
            return rows
        # No app: plan from the flash cache as the app would (nothing is switched).
        from . import flashstate, planner
        from .schedule import NO_PRICE, Schedule
        from .tz import Zone

        sched = self.cache()[0] or Schedule()
        now = self.now_s()
        state = planner.State()
        state.clock_valid = self.clock_valid()
        run = flashstate.load_run(self.root)  # on-time the app already delivered this period
        if run is not None:
            state.ran_period_s, state.ran_s = run
        ov = self.pending_override()
        if ov:
            state.override_on = ov["on"]
            state.override_until_s = ov["until_s"]
        zone = self.zone() or Zone("UTC0")
        p = planner.plan(sched, planner.Policy.from_config(self.cfg()), now, state, zone)
        end = now + hours * 3600
        rows = []
        for s, e, on, reason in p.segments:
            if e <= now or s >= end:
                continue
            s, e = max(s, now), min(e, end)
            t = s
            for ps, pe, pu, _i in sched.window(s, e):  # split where the price changes
                if ps > t:
                    rows.append((t, ps, on, None, reason))
                rows.append((ps, pe, on, None if pu == NO_PRICE else pu, reason))
                t = pe
            if t < e:
                rows.append((t, e, on, None, reason))
        return rows

    def plan_lines(self, hours=24):
        zone = self.zone()
        out = []
        for s, e, on, price, reason in self.plan_rows(hours):
            out.append("%s - %s  %-3s %8s  %s" % (
                self.local(s, zone), self.local(e, zone)[11:], "ON" if on else "OFF",
                "-" if price is None else _fmt_price(price), reason))
        if not out:
            out.append("no plan: no prices cached and no fallback")
        return out

    def config_lines(self):
        fields = self.fields()
        cfg = self.cfg()
        out = []
        for name in sorted(fields):
            f = fields[name]
            v = cfg.get(name, f.default)
            mark = "*" if name in self.unsaved else (" " if v == f.default else "~")
            unit = f.unit if f.unit and f.kind == "number" and v is not None else ""
            out.append("%s %s=%s%s" % (mark, name, _show(f, v), (" " + unit) if unit else ""))
        out.append("(~ differs from default, * set but not saved)")
        for w in self.warnings:
            out.append("WARNING " + w)
        return out

    def get(self, name):
        f = self._field(name)
        return _show(f, self.cfg().get(name, f.default))

    # -- changes ----------------------------------------------------------------------------
    def _field(self, name):
        fields = self.fields()
        f = fields.get(name)
        if f is None:
            near = [n for n in sorted(fields) if n.split(".")[0] == name.split(".")[0]]
            raise _config.ConfigError("%s: unknown setting%s" % (
                name, ("; known: " + ", ".join(near[:8])) if near else
                "; see plug.config() for the list"))
        return f

    def set(self, name, value):
        """Validate and stage one setting; returns the stored value. save() writes."""
        value = self._field(name).check(value)
        self.cfg()[name] = value
        if name not in self.unsaved:
            self.unsaved.append(name)
        return value

    def update(self, values):
        """Validate every value first, then stage them all (none if one is bad). A secret
        that arrives masked ("****3f9a", from an export) is skipped, never stored."""
        checked = []
        for name in sorted(values):
            f = self._field(name)
            v = values[name]
            if f.secret and isinstance(v, str) and v.startswith("****"):
                continue
            checked.append((name, f.check(v)))
        for name, v in checked:
            self.cfg()[name] = v
            if name not in self.unsaved:
                self.unsaved.append(name)
        return checked

    def export(self, secrets=False):
        """The settings that differ from their defaults (what config.json holds)."""
        out = {}
        for name, f in self.fields().items():
            v = self.cfg().get(name, f.default)
            if v != f.default:
                out[name] = v if (secrets or not f.secret) else _config.mask(v)
        return out

    def save(self):
        """Write config.json atomically; the running app (if any) gets the new settings."""
        cfg = self.cfg()
        fields = self.fields()
        changed = {}
        for name, f in fields.items():  # defaults may be None ("not set"): not checked
            if name in cfg and cfg[name] != f.default:
                changed[name] = cfg[name]
        clean, warnings = _config.validate(fields, changed)
        if warnings:
            raise _config.ConfigError(warnings[0])
        _config.save(self.root, cfg, self.fields())
        n = len(self.unsaved)
        self.unsaved = []
        applied = False
        if self._live() and hasattr(self.app, "apply_config"):
            try:
                self.app.apply_config(dict(cfg))
                applied = True
            except Exception:  # interrupted mid-step: the file is saved, the next start reads it
                pass
        return n, applied

    def _live(self):
        """An attached app that got through boot() (Ctrl-C can stop it before)."""
        return self.app is not None and getattr(self.app, "booted", True) and \
            getattr(self.app, "state", True) is not None

    def pending_override(self):
        ov = _read_json(_join(self.root, OVERRIDE_FILE))
        if not isinstance(ov, dict) or "until_s" not in ov:
            return None
        if ov["until_s"] <= self.now_s():
            return None
        return {"on": bool(ov.get("on")), "until_s": int(ov["until_s"])}

    def override(self, on, minutes=60):
        """Ask the app to hold the relay ON/OFF for `minutes` (0 cancels). The request is kept
        on flash so it survives the restart that follows an mpremote session."""
        minutes = int(minutes)
        if minutes < 0 or minutes > 7 * 24 * 60:
            raise _config.ConfigError("override: minutes must be in 0..10080")
        path = _join(self.root, OVERRIDE_FILE)
        until = self.now_s() + minutes * 60
        if minutes == 0:
            _remove(path)
        else:
            _write_json_atomic(path, {"on": bool(on), "until_s": until})
        if self._live() and hasattr(self.app, "override"):
            try:
                self.app.override(bool(on), minutes)
            except Exception:  # the file above holds it; the app reads it when it starts
                pass
        return until

    def log_lines(self, n=20):
        n = int(n)
        lines = []
        for name in (LOG_FILE + ".1", LOG_FILE):  # the app rotates log.txt to log.txt.1
            try:
                with open(_join(self.root, name)) as f:
                    for line in f:
                        lines.append(line.rstrip("\r\n"))
                        if len(lines) > n:
                            lines.pop(0)
            except OSError:
                pass
        if not lines and self.app is not None and getattr(self.app, "log", None) is not None:
            return self.app.log.lines(n)  # nothing on flash (persist off): the RAM ring
        return lines

    def factory_reset(self):
        """Erase site settings, cache, snapshot, log and override; returns the names removed."""
        gone = []
        for name in (_config.CONFIG_FILE, CACHE_FILE, STATUS_FILE, LOG_FILE, LOG_FILE + ".1",
                     OVERRIDE_FILE, "crash.txt", "crashes"):
            for p in (name, name + ".tmp"):
                if _remove(_join(self.root, p)):
                    gone.append(p)
        self._cfg = None
        self.unsaved = []
        return gone


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

        bg = sys.modules.get("firmware.boot_guard")  # main.py ran: the app it started
        app = getattr(getattr(bg, "Running", None), "app", None)
        if app is not None:
            return attach(app)
        _Session.plug = Plug("")
    return _Session.plug


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
        print("%s=%s (plug.save() to keep)" % (name, _show(p.fields()[name], v)))
        return True

    return bool(_guard(do))


def update(values):
    """Set several settings at once (all or none); plug.save() writes them."""

    def do():
        p = session()
        for name, v in p.update(values):
            print("%s=%s" % (name, _show(p.fields()[name], v)))
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
    """Hold the relay ON/OFF for `minutes` (0 cancels); the app applies it."""

    def do():
        p = session()
        until = p.override(on, minutes)
        if int(minutes) == 0:
            print("override cancelled")
        else:
            print("override %s until %s%s" % ("ON" if on else "OFF", p.local(until, p.zone()),
                                             "" if p.app is not None
                                             else " (applied when the app starts)"))
        return True

    return bool(_guard(do))


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
    import machine

    machine.reset()


def version():
    return VERSION
