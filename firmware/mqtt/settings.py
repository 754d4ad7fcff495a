"""The mqtt.* settings (part of the app's schema through app/settings.py) and the names the
plug derives from them: client id, base topic, broker port.

Off by default. The password is a secret (masked wherever settings are shown). TLS uses the
price fetch's CA handling: tls.ca_file (DER on flash) and tls.verify.
"""

from ..config import Field


def check_topic(value):
    """Field.parse for a topic the plug publishes under: levels without wildcards."""
    if "+" in value or "#" in value or value.startswith("/") or value.endswith("/") or \
            "//" in value:
        raise ValueError("not a topic")


_TOPIC = "topic levels separated by /, without + or # and no empty level"

CONFIG = (
    Field("mqtt.enabled", "flag", False, help="connect to an MQTT broker (Home Assistant)"),
    Field("mqtt.host", "text", "", hi=64, help="broker host name or IP address"),
    Field("mqtt.port", "number", 0, lo=0, hi=65535, integer=True,
          help="broker port; 0 = 1883, or 8883 with mqtt.tls"),
    Field("mqtt.user", "text", "", hi=64, help="broker user name (empty: none)"),
    Field("mqtt.password", "secret", "", hi=64, help="broker password"),
    Field("mqtt.tls", "flag", False, help="TLS to the broker (CA: tls.ca_file, tls.verify)"),
    Field("mqtt.topic", "text", "", hi=64, parse=check_topic, expect=_TOPIC,
          help="base topic; empty = wattwindow/<device id>"),
    Field("mqtt.discovery_prefix", "text", "homeassistant", hi=32, parse=check_topic,
          expect=_TOPIC, help="Home Assistant's discovery prefix"),
    Field("mqtt.keepalive_s", "number", 60, lo=10, hi=900, integer=True, unit="s",
          help="MQTT keep-alive; a silent link is dropped after 1.5 times this"),
    Field("mqtt.timeout_s", "number", 10, lo=2, hi=120, integer=True, unit="s",
          help="time-out of connecting and of each acknowledgement"),
)


def device_key(device_id):
    """The device id as topic- and id-safe text: bytes (machine.unique_id()) as hex."""
    if device_id is None:
        return "plug"
    if isinstance(device_id, str):
        device_id = device_id.encode()
    out = ""
    for b in device_id:
        c = chr(b)
        if b > 127 or not (c.isalpha() or c.isdigit() or c in "-_"):
            from binascii import hexlify

            return hexlify(device_id).decode()
        out += c
    return out or "plug"


def base_topic(cfg, key):
    return cfg.get("mqtt.topic") or "wattwindow/" + key


def port(cfg):
    return cfg.get("mqtt.port") or (8883 if cfg.get("mqtt.tls") else 1883)
