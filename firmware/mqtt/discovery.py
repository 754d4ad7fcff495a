"""Home Assistant MQTT discovery for one plug: device-based discovery (one retained document
on <prefix>/device/<key>/config holding the device, the origin and every entity).

    topic(cfg, key) -> the discovery topic
    pieces(app, key, base) -> iterator of JSON text pieces; joined they are the document
                              (the client counts them, then writes them: never whole in RAM)

Shared at the root: availability (the last will: "online"/"offline" on <base>/availability),
state_topic <base>/state (one JSON object, firmware/mqtt/state.py) and qos 1, so Home
Assistant's commands are QoS 1 (queued by the broker while the plug is away). Entities:
the load as a switch (a timed override) and a button back to automatic; sensors for the
price, the reason, the next switch, the planned hours today/tomorrow, the price coverage, the
last fetch, the override, Wi-Fi RSSI and free heap; energy/cost/saving today when the app
keeps a savings record; a number for policy.hours and a select for policy.mode. Commands go to
<base>/<entity>/set (firmware/mqtt/commands.py).
"""

import json

from .. import VERSION
from ..plan.policy import CONFIG as _POLICY

MODEL = "WattWindow smart plug (ESP32)"
DIAG = "diagnostic"


def topic(cfg, key):
    return "%s/device/%s/config" % (cfg.get("mqtt.discovery_prefix") or "homeassistant", key)


def _sensor(name, tpl_key, **kw):
    d = {"platform": "sensor", "name": name, "value_template": "{{ value_json.%s }}" % tpl_key}
    d.update(kw)
    return d


def _field(name):
    for f in _POLICY:
        if f.name == name:
            return f
    return None


def components(base, cur, savings):
    """(id, config) per entity, one at a time."""
    yield "load", {"platform": "switch", "name": "Load", "command_topic": base + "/load/set",
                   "value_template": "{{ value_json.load }}", "payload_on": "ON",
                   "payload_off": "OFF", "device_class": "outlet"}
    yield "auto", {"platform": "button", "name": "Back to automatic",
                   "command_topic": base + "/auto/set", "payload_press": "PRESS",
                   "icon": "mdi:calendar-clock"}
    yield "price", _sensor("Price", "price", unit_of_measurement=cur + "/kWh",
                           state_class="measurement", suggested_display_precision=4,
                           icon="mdi:cash")
    yield "reason", _sensor("Reason", "reason", icon="mdi:information-outline")
    yield "next_switch", _sensor("Next switch", "next_switch", device_class="timestamp")
    for day in ("today", "tomorrow"):
        yield "hours_" + day, _sensor("Hours planned " + day, "hours_" + day,
                                      unit_of_measurement="h", device_class="duration",
                                      suggested_display_precision=2)
    yield "coverage_end", _sensor("Prices known until", "coverage_end",
                                  device_class="timestamp")
    yield "last_fetch", _sensor("Last price fetch", "last_fetch", entity_category=DIAG)
    yield "override", _sensor("Override", "override", icon="mdi:hand-back-right")
    if savings:
        yield "energy_today", _sensor("Energy today", "energy_today", unit_of_measurement="kWh",
                                      device_class="energy", state_class="total_increasing")
        yield "cost_today", _sensor("Cost today", "cost_today", unit_of_measurement=cur,
                                    device_class="monetary")
        yield "saving_today", _sensor("Saving today", "saving_today", unit_of_measurement=cur,
                                      device_class="monetary", icon="mdi:piggy-bank")
    yield "rssi", _sensor("Wi-Fi RSSI", "rssi", unit_of_measurement="dBm",
                          device_class="signal_strength", state_class="measurement",
                          entity_category=DIAG)
    yield "heap", _sensor("Free heap", "heap", unit_of_measurement="B",
                          device_class="data_size", state_class="measurement",
                          entity_category=DIAG)
    f = _field("policy.hours")
    yield "hours", {"platform": "number", "name": "Hours per period",
                    "command_topic": base + "/hours/set",
                    "value_template": "{{ value_json.hours }}",
                    "min": f.lo, "max": f.hi, "step": 0.25, "mode": "box",
                    "unit_of_measurement": "h", "entity_category": "config"}
    f = _field("policy.mode")
    yield "mode", {"platform": "select", "name": "Mode", "command_topic": base + "/mode/set",
                   "value_template": "{{ value_json.mode }}", "options": list(f.choices or ()),
                   "entity_category": "config"}


def pieces(key, base, cur, savings):
    yield json.dumps({
        "device": {"identifiers": ["wattwindow_" + key], "name": "WattWindow " + key,
                   "manufacturer": "WattWindow", "model": MODEL, "sw_version": VERSION},
        "origin": {"name": "WattWindow", "sw_version": VERSION},
        "availability_topic": base + "/availability", "state_topic": base + "/state",
        "qos": 1})[:-1]  # the object stays open for the components
    yield ',"components":{'
    sep = ""
    for cid, conf in components(base, cur, savings):
        conf["unique_id"] = "wattwindow_%s_%s" % (key, cid)
        yield '%s"%s":' % (sep, cid)
        yield json.dumps(conf)
        sep = ","
    yield "}}"
