"""The README's settings reference, generated from the schema so that it cannot drift.

    python -m tools.settings_doc            # print the reference (Markdown)
    python -m tools.settings_doc --write    # replace it in README.md between the markers
    python -m tools.settings_doc --check    # exit 1 when README.md is not current

Every setting any firmware module declares (firmware/config.py gathers them: the app's, the
planner's, each price source's, MQTT's, the ESP32 HAL's...) appears with its meaning, what it
accepts, the limits that depend on other settings, and its default, one table per group.
A module that declares new settings is documented by running --write; the test suite fails
while README.md is stale.
"""

import os
import sys
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = os.path.join(ROOT, "README.md")
BEGIN = ("<!-- settings reference: generated from the schema by "
         "`python -m tools.settings_doc --write`; do not edit by hand -->")
END = "<!-- end of the settings reference -->"
# the ESP32 HAL imports these at the top; nothing runs at import time, so empty stand-ins let
# the host read its CONFIG
_BOARD_MODULES = ("machine", "network", "ntptime")


def full_schema():
    """{name: Field} of every declared setting, the ESP32 HAL's included."""
    from firmware import config

    added = []
    for name in _BOARD_MODULES:
        if name not in sys.modules:
            sys.modules[name] = types.ModuleType(name)
            added.append(name)
    try:
        fields = config.schema()
        if config.MISSING:
            raise SystemExit("settings_doc: modules that declare settings did not import: "
                             + "; ".join(config.MISSING))
    finally:
        for name in added:
            sys.modules.pop(name, None)
            sys.modules.pop("firmware.hal.esp32", None)
    return fields


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(f):
    v = f.default
    if f.secret or v in ("", None):
        return "(empty)"
    if isinstance(v, bool):
        return "`true`" if v else "`false`"
    if isinstance(v, (list, tuple)):
        return "`%s`" % ",".join(str(x) for x in v) if v else "(empty)"
    return "`%s`" % v


def group_order(fields):
    from firmware.providers import SOURCES
    from firmware.repl.settings_text import GENERAL, group_of

    groups = sorted({group_of(n) for n in fields})
    head = [g for g in (GENERAL, "policy") if g in groups]
    rest = [g for g in groups if g not in head and g not in SOURCES]
    return head + rest + [g for g in SOURCES if g in groups]


def reference(fields=None):
    """The Markdown between the markers."""
    from firmware.providers import SOURCES
    from firmware.repl.settings_text import GENERAL, group_of

    fields = fields if fields is not None else full_schema()
    out = ["Set with `plugctl config set NAME VALUE` or `plug.set(NAME, VALUE)`; "
           "`plugctl config help NAME` (or `plug.help(NAME)`) prints the same on the plug. "
           "Secrets are shown masked. %d settings in %d groups:" % (
               len(fields), len(group_order(fields))), ""]
    for g in group_order(fields):
        names = sorted(n for n in fields if group_of(n) == g)
        title = "settings without a group" if g == GENERAL else "`%s.*`" % g
        if g in SOURCES:
            title += " (price source `%s`: used when `source=%s`)" % (g, g)
        out += ["#### " + title, "", "| setting | accepts | default | meaning |",
                "| --- | --- | --- | --- |"]
        for n in names:
            f = fields[n]
            meaning = f.help or ""
            if f.rule_text:
                meaning += "%slimits: %s" % ("; " if meaning else "", f.rule_text)
            out.append("| `%s` | %s | %s | %s |" % (n, _cell(f.allowed()), _cell(_default(f)),
                                                   _cell(meaning)))
        out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def current_section(text):
    """The text between the markers in README, or None."""
    a, b = text.find(BEGIN), text.find(END)
    if a < 0 or b < a:
        return None
    return text[a + len(BEGIN):b].strip("\n") + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    ref = reference()
    if not argv:
        sys.stdout.write(ref)
        return 0
    with open(README) as f:
        text = f.read()
    have = current_section(text)
    if have is None:
        print("settings_doc: README.md has no settings reference markers", file=sys.stderr)
        return 1
    if argv == ["--check"]:
        if have != ref:
            print("settings_doc: README.md's settings reference is stale: run "
                  "`python -m tools.settings_doc --write`", file=sys.stderr)
            return 1
        return 0
    if argv == ["--write"]:
        a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
        with open(README, "w") as f:
            f.write(text[:a] + "\n" + ref + text[b:])
        print("settings_doc: wrote %d lines into README.md" % ref.count("\n"))
        return 0
    print("usage: python -m tools.settings_doc [--write | --check]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
