"""One plug as the field REPL sees it (firmware/repl/plug.py): its settings, price cache, the app's
status snapshot, override and log, from flash or from the running App, and the changes an
installer makes (settings, override, factory reset). Reports live in plugreport.py.
"""

import json

from .. import config as _config

# The app's files on flash: status.json (its status() snapshot), log.txt (+ log.txt.1),
# override.json ({"on": bool, "until_s": int}, read when it starts).
from ..app.flashstate import (
    LOG_FILE,
    OVERRIDE_FILE,
    RUN_FILE,
    STATUS_FILE,
    load_override,
    remove,
    save_override,
)
from ..clock.iso import CLOCK_SET_AFTER_S, format_iso
from ..compat import exc_text
from ..onoff import parse as parse_onoff

CACHE_FILE = "prices.bin"
# What the REPL's reports take (plugctl checks its arguments against these too).
LOG_LINES = (1, 1000)  # plug.log(n)
PLAN_HOURS = (1, 168)  # plug.plan(hours): a week ahead at most


def _wall_now_s():
    # Only used without a running app (whose HAL owns the clock): the device's RTC.
    from ..hal import esp32

    return esp32.now_s()


def override_field():
    """The one limit of an override's length: the override.minutes setting's (1..1440 min),
    for the button, plug.override, plugctl and the simulator alike."""
    from ..app.settings import OVERRIDE_MINUTES

    return OVERRIDE_MINUTES


def check_count(what, n, limits):
    """n as an int within limits (lo, hi), or ConfigError naming `what`."""
    ok = not isinstance(n, bool)
    try:
        ok = ok and int(n) == n and limits[0] <= int(n) <= limits[1]
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise _config.ConfigError("%s: %s is not allowed; expected an integer in %d..%d"
                                  % (what, _config.show(n), limits[0], limits[1]))
    return int(n)


def _read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def show_value(field, value):
    """A setting as the REPL prints it: secrets masked, JSON for non-strings."""
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
        self.tool = False  # plugctl reads the stopped app and resumes it after (plug.tool())

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
        return self.now_s() >= CLOCK_SET_AFTER_S

    def zone(self):
        """The configured tz.Zone (UTC if the rule is bad), or None without a tz module."""
        try:
            from ..clock.tz import Zone
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

    def zone_name(self, t_s, zone=None):
        """'CEST' (the zone's abbreviation at t_s), 'UTC' without a zone."""
        return zone.name_at(t_s) if zone is not None else "UTC"

    def local_log_line(self, line, zone):
        """A log line (UTC ISO time first) with its time in local time and the zone named."""
        from ..clock.iso import parse_iso

        head = line[:20]
        if len(head) < 20 or head[10] != "T" or head[19] != "Z":
            return line
        try:
            t = parse_iso(head)
        except ValueError:
            return line
        off = zone.offset_at(t) if zone is not None else 0
        return "%s %s%s" % (format_iso(t, off)[:19].replace("T", " "), self.zone_name(t, zone),
                            line[20:])

    def snapshot(self):
        """The app's status: live when attached, else the last snapshot it wrote to flash."""
        if self.app is not None:
            try:
                return self.app.status()
            except Exception as e:
                return {"error": exc_text(e)}
        return _read_json(_config.join(self.root, STATUS_FILE)) or {}

    def cache(self):
        """(Schedule or None, extras, error text or None) from the flash cache."""
        from ..prices.store import Store

        st = Store(self.root, name=CACHE_FILE)
        sched, extras = st.load()
        return sched, extras or {}, st.last_error

    # -- reports (text lines) ---------------------------------------------------------------
    def status_lines(self):
        from .report import status_lines

        return status_lines(self)

    def plan_rows(self, hours=24):
        from .report import plan_rows

        return plan_rows(self, hours)

    def plan_lines(self, hours=24):
        from .report import plan_lines

        return plan_lines(self, hours)

    def config_lines(self):
        """Every setting, grouped: general, the price source in use, policy, the rest, then
        the sources not in use."""
        from .settings_text import groups

        fields = self.fields()
        cfg = self.cfg()
        out = []
        for _g, title, names in groups(fields, cfg):
            out.append("[%s]" % title)
            for name in names:
                f = fields[name]
                v = cfg.get(name, f.default)
                mark = "*" if name in self.unsaved else (" " if v == f.default else "~")
                unit = f.unit if f.unit and f.kind == "number" and v is not None else ""
                out.append("%s %s=%s%s" % (mark, name, show_value(f, v),
                                           (" " + unit) if unit else ""))
        out.append("(~ differs from default, * set but not saved; plug.help(NAME) explains one)")
        for w in self.warnings:
            out.append("WARNING " + w)
        return out

    def get(self, name):
        f = self._field(name)
        return show_value(f, self.cfg().get(name, f.default))

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
        """Validate and stage one setting; returns the stored value. save() writes. A value
        that does not fit the other settings (policy.hours 25 with period=day) is refused
        and nothing is staged."""
        value = self._field(name).check(value)
        self._stage([(name, value)])
        return value

    def _stage(self, checked):
        cfg = self.cfg()
        trial = dict(cfg)
        for name, v in checked:
            trial[name] = v
        _config.check_combined(self.fields(), trial)
        for name, v in checked:
            cfg[name] = v
            if name not in self.unsaved:
                self.unsaved.append(name)

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
        self._stage(checked)
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
        _config.check_combined(fields, cfg)
        _config.save(self.root, cfg, self.fields())
        n = len(self.unsaved)
        self.unsaved = []
        applied = False
        if self.live() and hasattr(self.app, "apply_config"):
            try:
                self.app.apply_config(dict(cfg))
                applied = True
            except Exception:  # interrupted mid-step: the file is saved, the next start reads it
                pass
        return n, applied

    def live(self):
        """An attached app that got through boot() (Ctrl-C can stop it before)."""
        return self.app is not None and getattr(self.app, "booted", True) and \
            getattr(self.app, "state", True) is not None

    def pending_override(self):
        ov = load_override(self.root, self.now_s())
        return None if ov is None else {"on": ov[0], "until_s": ov[1]}

    def active_override(self):
        """{"on", "until_s"} of the override in force (the app's, else the one on flash)."""
        if self.live():
            ov = (self.snapshot() or {}).get("override")
            return ov if isinstance(ov, dict) else None
        return self.pending_override()

    def override(self, on, minutes=60):
        """Ask the app to hold the relay ON/OFF for `minutes` (within override.minutes'
        limits). The request is kept on flash so it survives the restart that follows an
        mpremote session."""
        on = parse_onoff(on, "override")
        f = override_field()
        try:
            minutes = f.check(minutes)
        except _config.ConfigError:
            raise _config.ConfigError("override: %s minutes is not allowed; expected %s%s" % (
                _config.show(minutes), f.allowed(),
                " (plug.cancel() ends an override)" if minutes in (0, "0") else ""))
        until = self.now_s() + minutes * 60
        if not save_override(self.root, on, until):
            raise OSError("override: could not write %s" % OVERRIDE_FILE)
        self._tell_app(on, minutes)
        return until

    def cancel_override(self):
        """End the override in force; False when there was none (nothing is changed)."""
        if self.active_override() is None:
            return False
        save_override(self.root, False, None)
        self._tell_app(None, 0)
        return True

    def _tell_app(self, on, minutes):
        if self.live() and hasattr(self.app, "override"):
            try:
                self.app.override(on, minutes)
            except Exception:  # the file above holds it; the app reads it when it starts
                pass

    def log_lines(self, n=20):
        """The last n log lines, their times in local time with the zone named (the log on
        flash keeps UTC)."""
        n = check_count("log", n, LOG_LINES)
        lines = []
        for name in (LOG_FILE + ".1", LOG_FILE):  # the app rotates log.txt to log.txt.1
            try:
                with open(_config.join(self.root, name)) as f:
                    for line in f:
                        lines.append(line.rstrip("\r\n"))
                        if len(lines) > n:
                            lines.pop(0)
            except OSError:
                pass
        if not lines and self.app is not None and getattr(self.app, "log", None) is not None:
            lines = self.app.log.lines(n)  # nothing on flash (persist off): the RAM ring
        zone = self.zone()
        return [self.local_log_line(line, zone) for line in lines]

    def factory_reset(self):
        """Erase site settings, cache, snapshot, log, override, the load's run record and the
        crash record; returns the names removed. The code stays."""
        from ..app.boot_guard import COUNT_FILE, CRASH_FILE

        gone = []
        for name in (_config.CONFIG_FILE, CACHE_FILE, STATUS_FILE, LOG_FILE, LOG_FILE + ".1",
                     OVERRIDE_FILE, RUN_FILE, CRASH_FILE, COUNT_FILE):
            for p in (name, name + ".tmp"):
                if remove(_config.join(self.root, p)):
                    gone.append(p)
        self._cfg = None
        self.unsaved = []
        return gone
