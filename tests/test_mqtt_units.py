# runtimes: cpython micropython
# mpy-heap: 512k
"""firmware/mqtt without a broker: packet bytes against the MQTT 3.1.1 standard's layouts, the
mqtt.* settings, the discovery document, the state text and the command rules (on an App
with the recording HAL). The broker tests are in test_mqtt_ha.py."""

import json

from appkit import T0, App, FakeProvider, cache, cfg, prices

from firmware import config
from firmware.mqtt import commands, discovery, packet, state
from firmware.mqtt import settings as ms

from fakehal import FakeHal
from support import TmpDir, raises


def test_remaining_length_is_the_standards_variable_length_integer():
    for n, b in ((0, b"\x00"), (127, b"\x7f"), (128, b"\x80\x01"), (16383, b"\xff\x7f"),
                 (16384, b"\x80\x80\x01"), (2097151, b"\xff\xff\x7f"),
                 (268435455, b"\xff\xff\xff\x7f")):
        assert packet.remaining_length(n) == b, n
    raises(ValueError, packet.remaining_length, 268435456)


def test_connect_bytes():
    assert packet.connect("c", 60) == b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x3c\x00\x01c"
    p = packet.connect("id", 30, "u", "pw", ("t/a", "offline", True), clean=False)
    # flags: user 0x80, password 0x40, will retain 0x20, will QoS 1 0x08, will 0x04
    assert p[9] == 0xEC and p[10:12] == b"\x00\x1e"
    assert p[12:] == b"\x00\x02id\x00\x03t/a\x00\x07offline\x00\x01u\x00\x02pw"
    assert p[1] == len(p) - 2
    assert packet.connect("c", 60, "u", None)[9] == 0x82  # a user without a password


def test_publish_subscribe_and_ack_bytes():
    assert packet.publish_head("a/b", 5) == b"\x30\x0a\x00\x03a/b"
    assert packet.publish_head("a/b", 5, qos=1, retain=True, pid=7) == \
        b"\x33\x0c\x00\x03a/b\x00\x07"
    assert packet.subscribe(1, [("x/+/set", 1), ("s", 1)]) == \
        b"\x82\x10\x00\x01\x00\x07x/+/set\x01\x00\x01s\x01"
    assert packet.puback(258) == b"\x40\x02\x01\x02"
    raises(ValueError, packet.string, "x" * 65536)


def test_settings_validate_and_mask_the_password():
    fields = config.schema([ms])
    assert fields["mqtt.enabled"].default is False
    assert fields["mqtt.password"].secret
    e = raises(config.ConfigError, fields["mqtt.password"].check, "x" * 65)
    assert "x" * 10 not in str(e) and "****" in str(e)
    for bad in ("a/+/b", "a/#", "/a", "a/", "a//b"):
        e = raises(config.ConfigError, fields["mqtt.topic"].check, bad)
        assert str(e).startswith("mqtt.topic: ") and "without + or #" in str(e)
    assert fields["mqtt.topic"].check("home/plug") == "home/plug"
    raises(config.ConfigError, fields["mqtt.port"].check, 70000)
    assert ms.port({"mqtt.port": 0}) == 1883 and ms.port({"mqtt.tls": True}) == 8883
    assert ms.device_key(b"\x24\x0a\xc4\x01\x02\x03") == "240ac4010203"
    assert ms.device_key("plug-1") == "plug-1" and ms.device_key(b"\xc3\xa9") == "c3a9"
    assert ms.base_topic({"mqtt.topic": ""}, "k") == "wattwindow/k"


def test_discovery_document_is_json_with_every_entity_once():
    for savings in (False, True):
        text = "".join(discovery.pieces("k1", "ww/k1", "EUR", savings))
        doc = json.loads(text)
        comps = doc["components"]
        assert ("energy_today" in comps) == savings and ("saving_today" in comps) == savings
        ids = [c["unique_id"] for c in comps.values()]
        assert len(ids) == len(set(ids)) and "wattwindow_k1_load" in ids
        assert comps["price"]["unit_of_measurement"] == "EUR/kWh"
        assert comps["mode"]["options"] == ["cheapest", "block", "deadline", "limits"]
        assert doc["qos"] == 1 and doc["availability_topic"] == "ww/k1/availability"
    assert discovery.topic({"mqtt.discovery_prefix": "ha"}, "k1") == "ha/device/k1/config"


def test_state_text():
    assert state.hours_text(0) == "0.00" and state.hours_text(4 * 3600 + 900) == "4.25"
    assert state.money(1.23456) == "1.2346" and state.money(-0.5) == "-0.5000"
    assert state.money(0.0004, 3) == "0.000" and state.money(None) is None


def _app(root, **kw):
    cache(root, prices(T0, 48), T0 - 3600)
    hal = FakeHal(root, t=T0 + 5 * 3600)
    app = App(hal, cfg(**kw), provider=FakeProvider())
    app.persist = False
    app.boot()
    return app, hal


def test_commands_refused_change_nothing():
    with TmpDir("mqttcmd") as root:
        app, hal = _app(root, override__minutes=30)
        before = list(hal.relay.history)
        b = "ww/p"
        for topic, payload, why in (
                ("other/p/load/set", b"ON", "not a command topic of this plug"),
                ("ww/p/load/get", b"ON", "not a command topic"),
                (b + "/load/set", None, "message too large"),
                (b + "/load/set", b"\xff\xfe", "not UTF-8"),
                (b + "/load/set", b"maybe", "is not on or off"),
                (b + "/auto/set", b"ON", "is not PRESS"),
                (b + "/hours/set", b"-1", "policy.hours: "),
                (b + "/mode/set", b"cheap", "policy.mode: "),
                (b + "/relay/set", b"ON", "unknown command")):
            got = commands.apply(app, b, topic, payload, 1)
            assert got is not None and why in got, (topic, got)
        assert hal.relay.history == before and app.state.override_until_s is None
        try:
            open(root + "/config.json").close()
            raise AssertionError("a refused command wrote config.json")
        except OSError:
            pass


def test_a_command_kept_while_offline_counts_the_time_away():
    with TmpDir("mqttcmd") as root:
        app, hal = _app(root, override__minutes=30)
        t = hal.clock.t
        assert "without QoS 1" in commands.apply(app, "b", "b/load/set", b"ON", 0, 10)
        assert "past its 30 min" in commands.apply(app, "b", "b/load/set", b"ON", 1, 1800)
        assert app.state.override_until_s is None
        assert commands.apply(app, "b", "b/load/set", b"ON", 1, 61) is None
        assert app.state.override_until_s == t + 28 * 60  # 30 min less 2 started minutes
        assert commands.apply(app, "b", "b/auto/set", b"PRESS", 1) is None
        assert app.state.override_until_s is None
        assert commands.apply(app, "b", "b/load/set", b" off ", 1) is None  # live: 30 min
        assert app.state.override_until_s == t + 30 * 60 and hal.relay.level is False


def test_a_setting_command_is_validated_and_saved():
    with TmpDir("mqttcmd") as root:
        app, hal = _app(root)
        assert commands.apply(app, "b", "b/hours/set", b"6.5", 1) is None
        assert app.cfg["policy.hours"] == 6.5
        with open(root + "/config.json") as f:
            assert json.load(f)["policy.hours"] == 6.5
        assert commands.apply(app, "b", "b/mode/set", b"block", 1) is None
        assert app.policy.mode == "block"
