"""Settings as text for people: groups in the order they matter, and each field's help.

    groups(fields, cfg)          -> [(group, title, [names])]: general, the price source in
                                    use, policy, the rest, then the sources not in use
    field_lines(field, value)    -> lines: help, what it accepts, limits, default, value
    help_lines(plug, name=None)  -> lines for plug.help(): every group, one group, one field

Everything comes from the schema (config.Field), so a module that declares new settings is
described here, in `plug.config()` and in the README without further work. Imported only when
one of these is asked for (the running app never holds it).
"""

from .. import config as _config
from ..providers import SOURCES, in_use

GENERAL = "general"  # settings without a dot: source, tz, safe_state


def group_of(name):
    return name.split(".")[0] if "." in name else GENERAL


def groups(fields, cfg):
    """[(group, title, [names])] in the order a person reads them."""
    by = {}
    for name in sorted(fields):
        by.setdefault(group_of(name), []).append(name)
    used = in_use(cfg)
    order = [GENERAL] + [g for g in used if g in by] + (["policy"] if "policy" in by else [])
    rest = sorted(g for g in by if g not in order and g not in SOURCES)
    idle = sorted(g for g in by if g in SOURCES and g not in used)
    out = []
    for g in order + rest:
        if g in by:
            title = g
            if g in used:
                title = "%s: price source in use" % g if g == used[0] else \
                    "%s: fallback price source in use" % g
            out.append((g, title, by[g]))
    for g in idle:
        out.append((g, "%s: not in use (source=%s)" % (g, used[0]), by[g]))
    return out


def _show(field, value):
    if field.secret:
        return _config.mask(value) or '""'
    if value is None:
        return "not set"
    if isinstance(value, str):
        return repr(value) if value == "" else value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_lines(field, value=None, with_value=False):
    out = ["%s: %s" % (field.name, field.help or "(no description)")]
    out.append("  accepts: %s" % field.allowed())
    if field.rule_text:
        out.append("  limits:  %s" % field.rule_text)
    out.append("  default: %s" % _show(field, field.default))
    if with_value:
        mark = "" if value == field.default else " (differs from the default)"
        out.append("  value:   %s%s" % (_show(field, value), mark))
    return out


def help_lines(plug, name=None):
    fields = plug.fields()
    cfg = plug.cfg()
    if name:
        f = fields.get(name)
        if f is not None:
            return field_lines(f, cfg.get(name, f.default), True)
        names = [n for n in sorted(fields) if group_of(n) == name]
        if not names:
            plug._field(name)  # the "unknown setting; known: ..." error
        out = []
        for n in names:
            out += field_lines(fields[n], cfg.get(n, fields[n].default), True)
        return out
    out = []
    for _g, title, names in groups(fields, cfg):
        out.append("%s: %s" % (title, ", ".join(names)))
    out.append("plug.help(NAME) for a setting or a group (plugctl config help NAME)")
    return out
