"""Settings: defaults in code, site values in `config.json` on flash, checked against a schema.

Each module that has settings declares them next to its code as a tuple `CONFIG` of Field(...),
so nothing outside a provider knows its setting names; `schema()` gathers them. Field kinds are
the uiTypes of a supplier's billSettings schema (number, date, dropdown, radiobox, checkbox)
plus text, secret and flag (bool).
"""

import json

from .flashfile import join, replace  # noqa: F401 - join: config.join for callers

CONFIG_FILE = "config.json"


class ConfigError(ValueError):
    """A setting value that the schema rejects; the message names the field and what is allowed."""


KINDS = ("number", "date", "dropdown", "radiobox", "checkbox", "text", "secret", "flag")


class Field:
    # Every setting is a Field held in RAM from import on (~160 of them). MicroPython keeps an
    # instance's attributes in a dict sized by their number, so only what differs from these
    # class-level defaults is stored on the instance: ~40 bytes less per field on a 32-bit
    # build. (MicroPython ignores __slots__.)
    default = lo = hi = choices = parse = expect = None
    unit = help = ""
    integer = False
    # a limit that depends on other settings: only RuleField sets these
    rule = None
    rule_text = ""

    def __init__(self, name, kind, default=None, lo=None, hi=None, choices=None, unit="",
                 help="", integer=False, parse=None, expect=None):
        if kind not in KINDS:
            raise ValueError("unknown field kind " + kind)
        self.name = name
        self.kind = kind
        if default is not None:
            self.default = default
        if lo is not None:
            self.lo = lo
        if hi is not None:
            self.hi = hi
        if choices is not None:
            self.choices = choices
        if unit:
            self.unit = unit
        if help:
            self.help = help
        if integer:
            self.integer = integer
        # text with a structure (a price, HH:MM windows, a TZ rule, a URL): parse(value)
        # raises ValueError for a value the plug could not use; expect says what it takes
        if parse is not None:
            self.parse = parse
        if expect is not None:
            self.expect = expect

    @property
    def secret(self):
        return self.kind == "secret"

    def allowed(self):
        """What this field accepts, for error messages and `plug.config()`."""
        k = self.kind
        if k == "number":
            lo = "" if self.lo is None else self.lo
            rng = "%s..%s" % (lo, "" if self.hi is None else self.hi)
            return ("an integer" if self.integer else "a number") + \
                (" in " + rng if self.lo is not None or self.hi is not None else "") + \
                (" " + self.unit if self.unit else "")
        if k in ("dropdown", "radiobox"):
            return "one of " + ", ".join(str(c) for c in self.choices)
        if k == "checkbox":
            return "a list of " + ", ".join(str(c) for c in self.choices)
        if k == "date":
            return "a date YYYY-MM-DD" + ((" from %s" % self.lo) if self.lo else "") + \
                ((" to %s" % self.hi) if self.hi else "")
        if k == "flag":
            return "true or false"
        if self.expect:
            return self.expect
        return "text" + ((" of at most %d characters" % self.hi) if self.hi else "")

    def check(self, value):
        """The value converted to this field's type, or ConfigError."""
        k = self.kind
        try:
            if k == "number":
                if isinstance(value, str):
                    value = float(value) if ("." in value or "e" in value.lower()) else int(value)
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError
                if self.integer:
                    if isinstance(value, float):
                        if value != int(value):
                            raise ValueError
                        value = int(value)
                if (self.lo is not None and value < self.lo) or \
                        (self.hi is not None and value > self.hi):
                    raise ValueError
                return value
            if k == "flag":
                if isinstance(value, str):
                    if value.lower() in ("1", "true", "on", "yes"):
                        return True
                    if value.lower() in ("0", "false", "off", "no"):
                        return False
                    raise ValueError
                if value in (0, 1) and not isinstance(value, float):
                    return bool(value)
                raise ValueError
            if k in ("dropdown", "radiobox"):
                for c in self.choices:
                    if value == c or str(value) == str(c):
                        return c
                raise ValueError
            if k == "checkbox":
                if isinstance(value, str):
                    value = [v.strip() for v in value.split(",") if v.strip()]
                if not isinstance(value, (list, tuple)):
                    raise ValueError
                out = []
                for v in value:
                    for c in self.choices:
                        if v == c or str(v) == str(c):
                            out.append(c)
                            break
                    else:
                        raise ValueError
                return out
            if k == "date":
                from .clock.iso import parse_iso

                if not isinstance(value, str) or len(value) != 10:
                    raise ValueError
                parse_iso(value)
                if (self.lo and value < self.lo) or (self.hi and value > self.hi):
                    raise ValueError
                return value
            # text / secret
            if value is None:
                value = ""
            if not isinstance(value, str) or (self.hi and len(value) > self.hi):
                raise ValueError
        except (ValueError, TypeError):
            shown = mask(value) if self.secret else repr(value)
            raise ConfigError("%s: %s is not allowed; expected %s" % (self.name, shown,
                                                                       self.allowed()))
        if self.parse is not None and value.strip():
            try:
                self.parse(value)
            except ValueError as e:  # ConfigError too; the parsers often name the field
                why = str(e)
                if isinstance(e, ConfigError) and "; expected " in why:
                    raise  # already the whole message
                if why.startswith(self.name + ": "):
                    why = why[len(self.name) + 2:]
                raise ConfigError("%s: %r is not allowed (%s); expected %s"
                                  % (self.name, value, why, self.allowed()))
        return value


class RuleField(Field):
    """A Field with a limit that depends on other settings: rule(value, cfg) -> None, or the
    text "with <the other settings>; expected <what fits>"; rule_text says it for help."""

    def __init__(self, name, kind, default=None, rule=None, rule_text="", **kw):
        Field.__init__(self, name, kind, default, **kw)
        self.rule = rule
        self.rule_text = rule_text


def check_combined(fields, cfg):
    """Raise ConfigError for the first setting whose limit depends on others (Field.rule) and
    that does not fit them; `cfg` holds the values (defaults where absent)."""
    for name in sorted(fields):
        f = fields[name]
        if f.rule is None:
            continue
        try:
            value = f.check(cfg.get(name, f.default))
            why = f.rule(value, cfg)
        except (ValueError, TypeError):  # another setting is bad: its own check says so
            why = None
        if why:
            raise ConfigError("%s: %s is not allowed %s" % (name, show(value), why))


def show(value):
    """A value in a message: numbers as written (2.5, not 2.5000), text quoted."""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def parse_price(text):
    """Field.parse for a price per kWh (the policy's limits, the rate plan's prices)."""
    from .prices.schedule import price_u

    try:
        price_u(text)
    except ValueError:
        raise ValueError("not a price")


def parse_url(value):
    """Field.parse for a base URL: http(s)://host[:port][/path]."""
    from .http.client import split_url

    split_url(value)


def mask(value):
    """Secrets are shown as '****' plus their last four characters (never in full)."""
    s = "" if value is None else str(value)
    if not s:
        return ""
    return "****" + (s[-4:] if len(s) >= 12 else "")


MISSING = []  # declaring modules that failed to import at the last schema() (shown by plug)


def _modules():
    # Every module that declares settings. Imported lazily: the schema is needed at boot and
    # at the REPL, not on the fetch path. A module that cannot be imported (hal_esp32 off the
    # device, a provider left out of a build) contributes no settings; config.json values for
    # it are then reported as unknown, never lost from flash until the next save.
    from .providers import SOURCES

    names = ["app.settings", "plan.planner"] + ["providers." + n for n in SOURCES] + ["hal.esp32"]
    mods = []
    del MISSING[:]
    for name in names:
        try:
            mods.append(__import__("firmware." + name, None, None, ["CONFIG"]))
        except ImportError as e:
            if name != "hal.esp32":
                MISSING.append("%s (%s)" % (name, e))
    return mods


def schema(modules=None):
    """{name: Field} for every declared setting."""
    out = {}
    for m in modules if modules is not None else _modules():
        for f in getattr(m, "CONFIG", ()):
            out[f.name] = f
    return out


def defaults(fields):
    return {name: f.default for name, f in fields.items()}


def validate(fields, values):
    """(clean dict, [warnings]) - unknown names and bad values are dropped with a warning."""
    clean, warnings = {}, []
    for name, value in values.items():
        f = fields.get(name)
        if f is None:
            warnings.append("%s: unknown setting ignored" % name)
            continue
        try:
            clean[name] = f.check(value)
        except ConfigError as e:
            warnings.append(str(e) + "; using the default")
    return clean, warnings


def load(root, fields=None):
    """(settings, warnings): defaults overlaid with config.json from flash root `root`.

    A missing file is normal; a corrupt one gives the defaults and a warning, never an
    exception, so a bad config cannot put the plug in a crash loop."""
    fields = fields if fields is not None else schema()
    cfg = defaults(fields)
    path = join(root, CONFIG_FILE)
    try:
        with open(path) as f:
            raw = json.load(f)
    except OSError:
        return cfg, []
    except (ValueError, MemoryError) as e:
        return cfg, ["%s is corrupt (%s); using defaults" % (CONFIG_FILE, e)]
    if not isinstance(raw, dict):
        return cfg, ["%s is not a JSON object; using defaults" % CONFIG_FILE]
    clean, warnings = validate(fields, raw)
    cfg.update(clean)
    return cfg, warnings


def save(root, cfg, fields=None):
    """Write the settings that differ from their defaults, atomically (temp file + rename).
    Names in the file that `fields` does not declare are kept as they are."""
    fields = fields if fields is not None else schema()
    path = join(root, CONFIG_FILE)
    out = {}
    try:  # keep what this build does not know (settings of a module left out of it)
        with open(path) as fh:
            old = json.load(fh)
        if isinstance(old, dict):
            for name in old:
                if name not in fields:
                    out[name] = old[name]
    except (OSError, ValueError):
        pass
    for name, f in fields.items():
        if name in cfg and cfg[name] != f.default:
            out[name] = cfg[name]
    replace(path, lambda fh: json.dump(out, fh))
