# runtimes: cpython micropython
# mpy-heap: 512k
"""One set of limits, stated once in the schema, and every door of the plug keeps them: the
REPL (plug.set/update/save, plug.override, plug.log, plug.plan), the app's policy, and the
help text that explains them."""

from firmware import config
from firmware.app import settings
from firmware.plan import policy
from firmware.repl import plug, settings_text
from firmware.repl.view import Plug

from support import TmpDir, raises

T0 = 1752566400  # 2025-07-15T08:00:00Z


class _Src:
    CONFIG = (
        config.Field("arcadia.appKey", "secret", "", help="Arcadia app key"),
        config.Field("gridx.utility", "dropdown", "PGE", choices=("PGE", "SCE")),
    )


def schema():
    return config.schema([settings, policy, _Src])


def make(root, now=T0):
    return Plug(root, None, lambda: now, schema())


def test_policy_hours_must_fit_the_period_at_every_door():
    with TmpDir("limits") as root:
        p = make(root)
        # before: 25 h a day was accepted (the field alone allows 0..168 for rolling periods)
        e = raises(config.ConfigError, p.set, "policy.hours", 25)
        assert str(e) == ("policy.hours: 25 is not allowed with policy.period=day; "
                          "expected at most 24 h")
        assert p.cfg()["policy.hours"] == 4 and p.unsaved == []  # nothing staged
        # a longer period makes room: all at once through update (plugctl config set)
        p.update({"policy.period": "rolling", "policy.rolling_hours": 48, "policy.hours": 30})
        assert p.cfg()["policy.hours"] == 30
        # shrinking the period under the hours is refused and names the combination
        e = raises(config.ConfigError, p.set, "policy.rolling_hours", 24)
        assert "policy.hours: 30 is not allowed with policy.period=rolling " \
               "(policy.rolling_hours=24)" in str(e)
        e = raises(config.ConfigError, p.update, {"policy.period": "window"})
        assert "policy.window=22:00-07:00); expected at most 9 h" in str(e)
        p.save()
        assert make(root).cfg()["policy.hours"] == 30


def test_policy_from_config_refuses_what_the_doors_refuse():
    for cfg, says in (({"policy.hours": 25}, "policy.period=day"),
                      ({"policy.hours": "24.5"}, "expected at most 24 h"),
                      ({"policy.mode": "deadline", "policy.hours": 30}, "policy.mode=deadline"),
                      ({"policy.mode": "deadline", "policy.energy_kwh": 30,
                        "policy.load_kw": 1}, "expected at most 24 kWh (24 h of running)")):
        e = raises(config.ConfigError, policy.Policy.from_config, cfg)
        assert says in str(e), str(e)
    assert policy.Policy.from_config({"policy.hours": 24}).need_s == 24 * 3600
    assert policy.Policy.from_config({"policy.mode": "limits", "policy.hours": 100}) is not None


def test_override_takes_the_limits_of_override_minutes():
    f = settings.OVERRIDE_MINUTES
    assert (f.lo, f.hi) == (1, 1440)
    with TmpDir("limits") as root:
        p = make(root)
        for bad in (0, -1, 1441, 5000, 10080):  # before: 0..10080, and 0 cancelled silently
            e = raises(config.ConfigError, p.override, True, bad)
            assert str(e).startswith("override: %d minutes is not allowed; expected an "
                                     "integer in 1..1440 min" % bad), str(e)
        assert "plug.cancel() ends an override" in str(raises(config.ConfigError,
                                                               p.override, True, 0))
        assert p.override(True, 1440) == T0 + 86400
        assert p.cancel_override() is True and p.cancel_override() is False


def _printed(fn, *args):
    import builtins

    out = []
    old = builtins.print
    builtins.print = lambda *a: out.append(" ".join(str(x) for x in a))
    try:
        fn(*args)
    finally:
        builtins.print = old
    return out


def test_repl_cancel_says_when_there_is_nothing_to_cancel():
    with TmpDir("limits") as root:
        plug.use(root, lambda: T0, schema())
        try:
            assert _printed(plug.cancel) == ["no override to cancel"]
            assert _printed(plug.override, "on", 30)[0].startswith("override ON until ")
            assert _printed(plug.cancel) == ["override cancelled: the plan decides again"]
            assert _printed(plug.override, "on", 0)[0].startswith("ERROR override: 0 minutes")
            assert _printed(plug.log, -5) == ["ERROR log: -5 is not allowed; expected an "
                                              "integer in 1..1000"]
            assert _printed(plug.plan, 0)[0].startswith("ERROR plan: 0 is not allowed")
        finally:
            plug.use("")


def test_help_prints_meaning_type_limits_and_default_from_the_schema():
    with TmpDir("limits") as root:
        p = make(root)
        p.set("policy.hours", 6)
        lines = settings_text.help_lines(p, "policy.hours")
        assert lines == [
            "policy.hours: on time per period, block length, or time needed before the deadline",
            "  accepts: a number in 0..168 h",
            "  limits:  " + policy._NEED_TEXT,
            "  default: 4",
            "  value:   6 (differs from the default)"]
        group = settings_text.help_lines(p, "wifi")
        assert "wifi.password: Wi-Fi password" in group and "  default: \"\"" in group
        e = raises(config.ConfigError, settings_text.help_lines, p, "polcy.hours")
        assert "unknown setting" in str(e)
        top = settings_text.help_lines(p)
        assert top[0].startswith("general: safe_state, source, tz")
        assert top[1].startswith("arcadia: price source in use: arcadia.appKey")


def test_config_show_groups_what_is_in_use_first():
    with TmpDir("limits") as root:
        p = make(root)
        p.set("source", "gridx")
        heads = [ln for ln in p.config_lines() if ln.startswith("[")]
        assert heads[:3] == ["[general]", "[gridx: price source in use]", "[policy]"]
        assert heads[-1] == "[arcadia: not in use (source=gridx)]"
        lines = p.config_lines()
        assert lines.index("* source=gridx") < lines.index("  gridx.utility=PGE")


def test_log_and_plan_times_are_local_with_the_zone_named():
    with TmpDir("limits") as root:
        p = make(root)
        p.set("tz", "CET-1CEST,M3.5.0,M10.5.0/3")
        with open(root + "/log.txt", "w") as f:
            f.write("2025-07-15T08:00:05Z I boot: v0.1.0\nno time here\n")
        assert p.log_lines(5) == ["2025-07-15 10:00:05 CEST I boot: v0.1.0", "no time here"]
        status = "\n".join(p.status_lines())
        assert "clock:  2025-07-15 10:00 CEST (tz CET-1CEST,M3.5.0,M10.5.0/3)" in status


class _App:
    booted = True
    state = True

    def __init__(self, rows):
        self.rows = rows
        self.cfg = {"tz": "UTC0"}

    def plan_rows(self, hours):
        return self.rows


def test_plan_leaves_out_stretches_shorter_than_a_displayed_minute():
    rows = [(T0, T0 + 720, True, 100000, "a"), (T0 + 720, T0 + 740, False, 100000, "b"),
            (T0 + 740, T0 + 3600, True, 100000, "c")]
    p = Plug("", _App(rows), lambda: T0, schema())
    lines = p.plan_lines(1)
    assert lines[0] == "times in UTC (tz UTC0)"
    assert [ln[:13] + ln[-2:] for ln in lines[1:]] == ["2025-07-15 08 a", "2025-07-15 08 c"]
    assert not [ln for ln in lines if "08:12 - 08:12" in ln]
