"""The plug in Home Assistant, end to end: a real mosquitto (tests/mqtt_broker.py), the plug as
a process on both runtimes (tests/mqtt_plug.py: the App with firmware/mqtt/service.py on a
paced clock) and paho-mqtt playing Home Assistant: it checks the discovery document against
the documented keys, reads states, sends commands and sees their effect.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

import paho.mqtt.client as mq
import pytest
from mqtt_broker import Broker, SilentServer, free_port

from minheap import micropython_cmd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")
T0 = 1749600000  # 2025-06-11T00:00:00Z
BASE = "wattwindow/plug-1"
DISC = "homeassistant/device/plug-1/config"

# Home Assistant's documented MQTT discovery options (integrations/mqtt and the platform
# pages: switch, button, sensor, number, select), full names.
DEVICE_KEYS = {"identifiers", "connections", "configuration_url", "hw_version", "manufacturer",
               "model", "model_id", "name", "serial_number", "suggested_area", "sw_version",
               "via_device"}
ORIGIN_KEYS = {"name", "sw_version", "support_url"}
ROOT_KEYS = {"device", "origin", "components", "availability", "availability_topic",
             "availability_mode", "payload_available", "payload_not_available",
             "state_topic", "command_topic", "qos", "encoding"}
ENTITY_KEYS = {"platform", "name", "unique_id", "icon", "entity_category", "enabled_by_default",
               "object_id", "default_entity_id", "availability_topic", "json_attributes_topic",
               "json_attributes_template", "qos", "encoding", "entity_picture", "state_topic",
               "value_template"}
PLATFORM_KEYS = {
    "switch": {"command_topic", "payload_on", "payload_off", "state_on", "state_off",
               "device_class", "optimistic", "retain", "command_template"},
    "button": {"command_topic", "payload_press", "device_class", "retain", "command_template"},
    "sensor": {"unit_of_measurement", "device_class", "state_class", "expire_after",
               "force_update", "suggested_display_precision", "options",
               "last_reset_value_template"},
    "number": {"command_topic", "min", "max", "step", "mode", "unit_of_measurement",
               "device_class", "optimistic", "retain", "command_template", "payload_reset"},
    "select": {"command_topic", "options", "optimistic", "retain", "command_template"},
}
REQUIRED = {"switch": {"command_topic"}, "button": {"command_topic"}, "sensor": set(),
            "number": {"command_topic"}, "select": {"command_topic", "options"}}
SENSOR_UNITS = {"timestamp": {None}, "duration": {"h", "min", "s", "d"}, "energy": {"kWh", "Wh"},
                "signal_strength": {"dBm", "dB"}, "data_size": {"B", "kB", "KiB"},
                "monetary": None}  # monetary: an ISO 4217 code
STATE_CLASSES = {"measurement", "total", "total_increasing"}


def check_discovery(doc, state):
    """Every key documented, the required ones there, units and classes valid, and every
    value template reading a key the state has."""
    assert set(doc) <= ROOT_KEYS, set(doc) - ROOT_KEYS
    assert set(doc["device"]) <= DEVICE_KEYS and doc["device"]["identifiers"]
    assert set(doc["origin"]) <= ORIGIN_KEYS and doc["origin"]["name"]
    assert doc["state_topic"] == BASE + "/state"
    assert doc["availability_topic"] == BASE + "/availability"
    seen = set()
    for cid, comp in doc["components"].items():
        p = comp["platform"]
        keys = set(comp)
        assert keys <= ENTITY_KEYS | PLATFORM_KEYS[p], (cid, keys - ENTITY_KEYS - PLATFORM_KEYS[p])
        assert REQUIRED[p] <= keys and comp["unique_id"] not in seen, cid
        seen.add(comp["unique_id"])
        if "command_topic" in comp:
            assert comp["command_topic"] == "%s/%s/set" % (BASE, cid)
        if comp.get("entity_category") is not None:
            assert comp["entity_category"] in ("config", "diagnostic")
        tpl = comp.get("value_template")
        if tpl is not None:
            key = tpl.replace("{{ value_json.", "").replace(" }}", "")
            assert key in state, (cid, key)
        if p == "sensor":
            dc = comp.get("device_class")
            unit = comp.get("unit_of_measurement")
            if dc is not None:
                allowed = SENSOR_UNITS[dc]
                if allowed is None:
                    assert len(unit) == 3 and unit.isupper(), (cid, unit)
                    assert comp.get("state_class") in (None, "total"), cid
                else:
                    assert unit in allowed, (cid, unit)
            if "state_class" in comp:
                assert comp["state_class"] in STATE_CLASSES
        if p == "number":
            assert comp["min"] < comp["max"] and comp["step"] > 0
    return doc["components"]


# -- Home Assistant (paho) and the plug process ---------------------------------------------
class HA:
    def __init__(self, broker, port=None, tls=False):
        self.msgs = []
        self.cond = threading.Condition()
        self.c = mq.Client(mq.CallbackAPIVersion.VERSION2, client_id="ha-%d" % free_port())
        self.c.username_pw_set(broker.user, broker.password)
        self.c.on_message = self._on
        self.c.on_connect = self._subscribe  # again after a broker restart
        self.c.reconnect_delay_set(0.2, 1)
        self.c.connect("127.0.0.1", port or broker.port)
        self.c.loop_start()

    def _subscribe(self, c, _u, _flags, _rc, _props):
        c.subscribe([("homeassistant/#", 1), ("wattwindow/#", 1)])

    def _on(self, _c, _u, m):
        with self.cond:
            self.msgs.append((m.topic, bytes(m.payload), m.retain))
            self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.msgs)

    def wait(self, topic, since=0, pred=None, timeout=20):
        """The first message on `topic` after index `since` (with pred(payload) true)."""
        t_end = time.monotonic() + timeout
        with self.cond:
            while True:
                for t, p, _r in self.msgs[since:]:
                    if t == topic and (pred is None or pred(p)):
                        return p
                left = t_end - time.monotonic()
                if left <= 0:
                    raise AssertionError("no message on %s; got %s" % (
                        topic, [(t, p[:80]) for t, p, _r in self.msgs[since:]][-12:]))
                self.cond.wait(left)

    def state(self, since=0, pred=None, timeout=20):
        return json.loads(self.wait(BASE + "/state", since,
                                    None if pred is None else lambda p: pred(json.loads(p)),
                                    timeout))

    def count(self, topic, since=0):
        with self.cond:
            return sum(1 for t, _p, _r in self.msgs[since:] if t == topic)

    def send(self, topic, payload, qos=1, retain=False):
        self.c.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def close(self):
        self.c.loop_stop()
        self.c.disconnect()


class Plug:
    def __init__(self, runtime, cfg, t0=T0 + 5 * 3600, wall_per_s=1.0, **opts):
        self.root = tempfile.mkdtemp(prefix="ww_mqtt_plug_")
        o = {"root": self.root, "t0": t0, "wall_per_s": wall_per_s, "run_s": 120, "cfg": cfg,
             "savings": True}
        o.update(opts)
        path = os.path.join(self.root, "opts.json")
        with open(path, "w") as f:
            json.dump(o, f)
        env = dict(os.environ, TZ="UTC", MICROPYPATH=".frozen:%s:%s" % (ROOT, TESTS),
                   PYTHONPATH="%s:%s" % (ROOT, TESTS), WW_TESTS_DIR=TESTS)
        exe = [sys.executable] if runtime == "cpython" else \
            [micropython_cmd(), "-X", "heapsize=1m"]
        self.proc = subprocess.Popen(exe + [os.path.join(TESTS, "mqtt_plug.py"), path],
                                     cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        self.events = []
        self.raw = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self.cond:
                self.raw.append(line)
                try:
                    self.events.append(json.loads(line))
                except ValueError:
                    pass
                self.cond.notify_all()

    def logs(self, word=""):
        with self.cond:
            return [e[1] for e in self.events if e[0] == "log" and word in e[1]]

    def wait_log(self, word, n=1, timeout=20):
        t_end = time.monotonic() + timeout
        with self.cond:
            while len([e for e in self.events if e[0] == "log" and word in e[1]]) < n:
                left = t_end - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError("no log line with %r; output:\n%s"
                                         % (word, "".join(self.raw)[-3000:]))
                self.cond.wait(min(left, 0.5))

    def of(self, kind):
        with self.cond:
            return [e for e in self.events if e[0] == kind]

    def stop(self):
        """Stop the plug; returns its counters."""
        with open(os.path.join(self.root, "STOP"), "w"):
            pass
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        time.sleep(0.05)
        end = self.of("end")
        assert end, "no end line:\n" + "".join(self.raw)[-3000:]
        return end[-1][1]

    def config(self):
        try:
            with open(os.path.join(self.root, "config.json")) as f:
                return json.load(f)
        except OSError:
            return {}


def mqtt_cfg(broker, **kw):
    c = {"mqtt.enabled": True, "mqtt.host": "127.0.0.1", "mqtt.port": broker.port,
         "mqtt.user": broker.user, "mqtt.password": broker.password, "mqtt.timeout_s": 3,
         "override.minutes": 30}
    for k, v in kw.items():
        c[k.replace("__", ".")] = v
    return c


@pytest.fixture
def broker():
    """A broker of its own per test: retained messages of another test must not be seen."""
    b = Broker()
    b.start()
    yield b
    b.close()


@pytest.fixture(params=["cpython", "micropython"])
def runtime(request):
    return request.param


# -- the tests ------------------------------------------------------------------------------
def test_discovery_state_and_commands(broker, runtime):
    ha = HA(broker)
    plug = Plug(runtime, mqtt_cfg(broker))
    try:
        assert ha.wait(BASE + "/availability", 0, lambda p: p == b"online") == b"online"
        doc = json.loads(ha.wait(DISC))
        st = ha.state()
        comps = check_discovery(doc, st)
        for cid in ("load", "auto", "price", "reason", "next_switch", "hours_today",
                    "hours_tomorrow", "coverage_end", "last_fetch", "energy_today", "cost_today",
                    "saving_today", "rssi", "heap", "hours", "mode"):
            assert cid in comps, cid
        assert comps["price"]["unit_of_measurement"] == "EUR/kWh"
        assert st["hours"] == 4 and st["mode"] == "cheapest" and st["override"] == "AUTO"
        assert st["hours_tomorrow"] == "4.00" and st["next_switch"].endswith("Z")
        assert st["energy_today"] is not None and st["saving_today"] is not None
        # the switch: a timed override -> relay -> state
        want = "OFF" if st["load"] == "ON" else "ON"
        n_relay = len(plug.of("relay"))
        m = ha.mark()
        ha.send(BASE + "/load/set", want)
        st2 = ha.state(m, lambda s: s["override"] == want)
        assert st2["load"] == want and "override" in st2["reason"]
        assert plug.of("relay")[n_relay:] and plug.of("relay")[-1][2] == (want == "ON")
        # back to automatic
        m = ha.mark()
        ha.send(BASE + "/auto/set", "PRESS")
        st3 = ha.state(m, lambda s: s["override"] == "AUTO")
        assert st3["load"] == st["load"]
        # number and select: validated, saved atomically, the plan follows
        m = ha.mark()
        ha.send(BASE + "/hours/set", "7")
        st4 = ha.state(m, lambda s: s["hours"] == 7)
        assert st4["hours_tomorrow"] == "7.00"
        assert plug.config()["policy.hours"] == 7
        m = ha.mark()
        ha.send(BASE + "/mode/set", "block")
        ha.state(m, lambda s: s["mode"] == "block")
        assert plug.config()["policy.mode"] == "block"
        # bad commands: refused with a log line and the state again; nothing saved
        saved = plug.config()
        for topic, payload in ((BASE + "/load/set", "maybe"), (BASE + "/hours/set", "700"),
                               (BASE + "/mode/set", "cheapest-ish"),
                               (BASE + "/load/set", "O" * 100000),
                               (BASE + "/nonsense/set", "1"), (BASE + "/auto/set", "ON")):
            m = ha.mark()
            n = len(plug.logs("refused"))
            ha.send(topic, payload)
            ha.state(m)  # re-published
            plug.wait_log("refused", n + 1)
        assert plug.config() == saved
        lines = plug.logs("refused")
        assert "100000 bytes" in lines[3] and "too large" in lines[3]
        assert "700 is not allowed" in lines[1] and "unknown command" in lines[4]
        # Home Assistant's birth message brings the discovery again (after a random delay)
        m = ha.mark()
        ha.send("homeassistant/status", "online")
        assert json.loads(ha.wait(DISC, m, timeout=15)) == doc
        end = plug.stop()
        assert end["refused"] == 6 and end["applied"] == 4 and end["discoveries"] == 2
        assert end["connects"] == 1 and end["failures"] == 0
        # the last will: offline, retained
        ha.wait(BASE + "/availability", m, lambda p: p == b"offline")
    finally:
        if plug.proc.poll() is None:
            plug.proc.kill()
        ha.close()


def test_broker_restart_reconnect_and_republish(broker, runtime):
    ha = HA(broker)
    plug = Plug(runtime, mqtt_cfg(broker, mqtt__keepalive_s=10))
    try:
        ha.wait(DISC)
        ha.state()
        broker.stop()  # killed: retained messages and sessions are gone with it
        plug.wait_log("retrying with back-off")
        time.sleep(1.5)
        broker.start()
        m = ha.mark()
        assert ha.wait(BASE + "/availability", m, lambda p: p == b"online", timeout=30)
        check_discovery(json.loads(ha.wait(DISC, m)), ha.state(m))
        end = plug.stop()
        assert end["connects"] == 2 and end["failures"] >= 1 and end["discoveries"] == 2
        assert len(plug.logs("retrying with back-off")) == 1  # logged once per outage
        assert len(plug.logs("connected to")) == 2 and "again" in plug.logs("connected to")[1]
    finally:
        if plug.proc.poll() is None:
            plug.proc.kill()
        ha.close()


def test_wrong_password_is_refused_and_backs_off(broker, runtime):
    plug = Plug(runtime, mqtt_cfg(broker, mqtt__password="wrong-password"))
    try:
        plug.wait_log("broker refused the connection: not authorised")  # mosquitto's CONNACK 5
        time.sleep(5)
        end = plug.stop()
        assert end["connects"] == 0 and end["failures"] >= 2
        assert len(plug.logs("mqtt")) == 1, plug.logs("mqtt")  # one line for the whole outage
        assert "****" not in plug.logs("mqtt")[0] and "wrong-password" not in "".join(plug.raw)
    finally:
        if plug.proc.poll() is None:
            plug.proc.kill()


def test_tls_with_the_test_ca_and_a_wrong_ca(broker, runtime):
    ha = HA(broker)
    tls = {"mqtt.tls": True, "mqtt.host": "localhost", "tls.ca_file": broker.ca_der}
    plug = Plug(runtime, dict(mqtt_cfg(broker, mqtt__port=broker.tls_port), **tls))
    try:
        ha.wait(BASE + "/availability", 0, lambda p: p == b"online")
        check_discovery(json.loads(ha.wait(DISC)), ha.state())
        assert plug.stop()["connects"] == 1
    finally:
        if plug.proc.poll() is None:
            plug.proc.kill()
    rogue = Plug(runtime, dict(mqtt_cfg(broker, mqtt__port=broker.rogue_port), **tls),
                 device_id="plug-2")
    try:
        rogue.wait_log("retrying with back-off")
        time.sleep(3)
        end = rogue.stop()
        assert end["connects"] == 0 and end["failures"] >= 2
        assert ha.count("wattwindow/plug-2/availability") == 0
    finally:
        if rogue.proc.poll() is None:
            rogue.proc.kill()
        ha.close()


@pytest.mark.parametrize("dead", ["silent", "closed"])
def test_relay_switches_on_time_while_mqtt_reconnects_in_a_loop(runtime, dead):
    """A broker that accepts TCP and never answers CONNECT (or a closed port): the override
    ends (the control loop's own wake) in the same simulated second, while the service
    keeps failing and backing off. A blocking connect would make the switch late."""
    silent = SilentServer() if dead == "silent" else None
    port = silent.port if silent else free_port()
    cfg = {"mqtt.enabled": True, "mqtt.host": "127.0.0.1", "mqtt.port": port,
           "mqtt.timeout_s": 2}
    # 1 simulated second = 50 ms: each 1-minute override lasts 3 s of wall time
    plug = Plug(runtime, cfg, wall_per_s=0.05, overrides=[[0, False, 1], [70, False, 1],
                                                          [140, False, 1]])
    try:
        deadline = time.monotonic() + 40
        while len(plug.of("override")) < 3 or plug.of("relay")[-1][1] < plug.of("override")[
                -1][2]:
            assert time.monotonic() < deadline, "".join(plug.raw)[-2000:]
            time.sleep(0.2)
        end = plug.stop()
        relay = [(e[1], e[2]) for e in plug.of("relay")]
        for _ev, t, until, t2 in plug.of("override"):
            assert [1 for r in relay if t <= r[0] <= t2 and r[1] is False], (t, relay)
            assert (until, True) in relay, (until, relay)  # the same simulated second
        assert end["failures"] >= 2 and end["connects"] == 0
        assert len(plug.logs("retrying with back-off")) == 1
        if silent:
            assert silent.accepted >= 2
            assert "no CONNACK" in plug.logs("retrying")[0]
    finally:
        if plug.proc.poll() is None:
            plug.proc.kill()
        if silent:
            silent.close()


def test_qos1_command_sent_while_offline_is_applied_within_its_window(broker, runtime):
    ha = HA(broker)
    plug = Plug(runtime, mqtt_cfg(broker, mqtt__keepalive_s=10), outages=[[3, 6]])
    try:
        ha.wait(DISC)
        st = ha.state()
        want = "OFF" if st["load"] == "ON" else "ON"
        ha.wait(BASE + "/availability", 0, lambda p: p == b"offline", timeout=15)  # the will
        ha.send(BASE + "/load/set", want, qos=1)  # kept by the broker in the plug's session
        ha.send(BASE + "/hours/set", "9", qos=0)  # QoS 0: not kept, never applied
        m = ha.mark()
        st2 = ha.state(m, lambda s: s["override"] == want, timeout=30)
        assert st2["load"] == want and st2["hours"] == 4
        lines = plug.logs("override: ")
        assert lines and " for 29 min" in lines[-1] or " for 28 min" in lines[-1], lines
        assert plug.config().get("policy.hours") is None
        end = plug.stop()
        assert end["connects"] == 2 and end["applied"] == 1
    finally:
        if plug.proc.poll() is None:
            plug.proc.kill()
        ha.close()


def test_simulator_joins_the_broker_paced_by_time_scale(broker, runtime):
    """`--mqtt HOST:PORT` with `--time-scale`: a simulated day goes by in Home Assistant."""
    ha = HA(broker)
    out = tempfile.mkdtemp(prefix="ww_mqtt_sim_")
    try:
        t = time.monotonic()
        p = subprocess.run([sys.executable, "-m", "host_sim", "--days", "1", "--time-scale",
                            "0.0001", "--mqtt", "127.0.0.1:%d" % broker.port,
                            "--set", "mqtt.user=" + broker.user,
                            "--set", "mqtt.password=" + broker.password, "--runtime", runtime,
                            "--no-chart", "--json", "--out", out],
                           cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert p.returncode == 0, p.stderr[-2000:]
        assert time.monotonic() - t > 86400 * 0.0001  # paced, not jumped
        doc = json.loads(ha.wait("homeassistant/device/sim-plug/config"))
        assert "load" in doc["components"]
        time.sleep(0.5)
        with ha.cond:
            states = [json.loads(pl) for tp, pl, _r in ha.msgs
                      if tp == "wattwindow/sim-plug/state"]
        assert {s["load"] for s in states} == {"ON", "OFF"}
        assert len({s["next_switch"] for s in states}) >= 2
        assert ha.wait("wattwindow/sim-plug/availability", 0, lambda x: x == b"offline")
    finally:
        ha.close()
        import shutil

        shutil.rmtree(out, ignore_errors=True)
