# runtimes: cpython micropython
# mpy-heap: 512k
from firmware import config
from firmware.config import Field

from support import TmpDir, raises


class _Mod:
    CONFIG = (
        Field("policy.hours", "number", 4, lo=0, hi=24, unit="h"),
        Field("policy.slots", "number", 4, lo=1, hi=96, integer=True),
        Field("source", "dropdown", "arcadia", choices=("arcadia", "gridx")),
        Field("days", "checkbox", [], choices=("mon", "tue")),
        Field("since", "date", "2025-01-01", lo="2020-01-01", hi="2030-12-31"),
        Field("arcadia.appKey", "secret", ""),
        Field("relay.inverted", "flag", False),
    )


def fields():
    return config.schema([_Mod])


def test_valid_values_are_converted():
    f = fields()
    assert f["policy.hours"].check("2.5") == 2.5
    assert f["policy.slots"].check(8.0) == 8
    assert f["source"].check("gridx") == "gridx"
    assert f["days"].check("mon,tue") == ["mon", "tue"]
    assert f["relay.inverted"].check("on") is True
    assert f["since"].check("2024-02-29") == "2024-02-29"


def test_rejections_name_the_field_and_what_is_allowed():
    f = fields()
    e = raises(config.ConfigError, f["policy.hours"].check, 25)
    assert "policy.hours" in str(e) and "0..24 h" in str(e)
    e = raises(config.ConfigError, f["source"].check, "octopus")
    assert "one of arcadia, gridx" in str(e)
    raises(config.ConfigError, f["policy.slots"].check, 2.5)
    raises(config.ConfigError, f["since"].check, "2031-01-01")
    raises(config.ConfigError, f["days"].check, ["sun"])
    e = raises(config.ConfigError, f["arcadia.appKey"].check, 1234567890123)
    assert "1234567890123" not in str(e)


def test_secrets_are_masked():
    assert config.mask("abcdef01234563f9a").endswith("3f9a")
    assert config.mask("abcdef01234563f9a").startswith("****")
    assert config.mask("short") == "****"
    assert config.mask("") == ""


def test_load_save_round_trip_and_corrupt_file():
    f = fields()
    with TmpDir("cfg") as root:
        cfg, warnings = config.load(root, f)
        assert cfg["policy.hours"] == 4 and warnings == []
        cfg["policy.hours"] = 6
        config.save(root, cfg, f)
        again, warnings = config.load(root, f)
        assert again["policy.hours"] == 6 and warnings == []
        with open(root + "/config.json", "w") as fh:
            fh.write('{"policy.hours": 6, "bogus": 1, "source": "octopus"')
        cfg, warnings = config.load(root, f)
        assert cfg["policy.hours"] == 4
        assert len(warnings) == 1 and "corrupt" in warnings[0]
        with open(root + "/config.json", "w") as fh:
            fh.write('{"policy.hours": 6, "bogus": 1, "source": "octopus"}')
        cfg, warnings = config.load(root, f)
        assert cfg["policy.hours"] == 6 and cfg["source"] == "arcadia"
        assert len(warnings) == 2


def test_save_keeps_settings_this_build_does_not_declare():
    f = fields()
    with TmpDir("cfg") as root:
        with open(root + "/config.json", "w") as fh:
            fh.write('{"relay.pin": 12, "policy.hours": 5}')
        cfg, warnings = config.load(root, f)
        assert cfg["policy.hours"] == 5 and len(warnings) == 1  # relay.pin: unknown here
        cfg["policy.hours"] = 4  # back to the default: dropped from the file
        config.save(root, cfg, f)
        import json

        with open(root + "/config.json") as fh:
            assert json.load(fh) == {"relay.pin": 12}


def test_schema_gathers_every_module_that_imports():
    f = config.schema()
    assert "source" in f and "policy.hours" in f and "wifi.password" in f
    assert f["wifi.password"].secret
    assert config.MISSING == [], config.MISSING


def test_structured_text_is_parsed_when_set_not_when_used():
    # A value the plug could not use is refused at plug.set()/config.json load, with the
    # parser's reason and what the field takes; it never reaches the planner or a provider.
    f = config.schema()
    cases = (
        ("policy.off_above", "cheap", "(not a price); expected a price per kWh"),
        ("policy.forced_on", "25:00-26:00",
         "('25:00' is not a time of day); expected local windows"),
        ("policy.deadline", "7", "('7' is not HH:MM); expected a local time HH:MM"),
        ("tz", "bogus", "(bad TZ rule 'bogus' at 5); expected a POSIX TZ rule"),
        ("arcadia.baseUrl", "ftp://x", "expected an http(s) URL"),
        ("rateplan.tou", "x", "rateplan.tou: 'x' is not allowed; expected 'name price months"),
        ("rateplan.holidays", "13-45", "rateplan.holidays: '13-45' is not allowed"),
        ("rateplan.holidays", "02-30", "rateplan.holidays: '02-30' is not allowed"),
        ("rateplan.tiers", "a:b", "rateplan.tiers: 'a:b' is not allowed"),
    )
    for name, bad, says in cases:
        msg = str(raises(config.ConfigError, f[name].check, bad))
        assert msg.startswith(name + ": ") and says in msg, msg
        assert msg.count(name) == 1 or name == "rateplan.tou", msg  # named once, up front
    good = (("policy.off_above", "0.40"), ("policy.on_below", "-0.05"), ("policy.on_below", ""),
            ("policy.forced_on", "06:00-07:00, 22:00-01:00"), ("policy.window", "22:00-07:00"),
            ("tz", "CET-1CEST,M3.5.0,M10.5.0/3"), ("arcadia.baseUrl", "http://127.0.0.1:8080/x"),
            ("rateplan.holidays", "02-29,2025-12-25"), ("rateplan.tiers", "100:0.012,0:0.2"))
    for name, v in good:
        assert f[name].check(v) == v
    with TmpDir("cfgparse") as root:
        with open(root + "/config.json", "w") as fh:
            fh.write('{"tz": "bogus", "policy.forced_on": "06:00-07:00"}')
        cfg, warnings = config.load(root, f)
        assert cfg["tz"] == f["tz"].default and cfg["policy.forced_on"] == "06:00-07:00"
        assert len(warnings) == 1 and warnings[0].startswith("tz: 'bogus' is not allowed")
