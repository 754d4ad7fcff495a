"""MQTT 3.1.1 packets as bytes (OASIS standard, 2014): builders for what the plug sends and
the numbers it reads. No I/O here; firmware/mqtt/client.py moves these over a stream.

    connect(client_id, keepalive_s, user, password, will, clean) -> bytes
    publish_head(topic, payload_len, qos, retain, pid) -> bytes   (the payload follows)
    subscribe(pid, [(filter, qos), ...]) -> bytes;  puback(pid) -> bytes
    PINGREQ, DISCONNECT: whole packets;  CONNACK_TEXT[rc]: why a broker refused
    remaining_length(n) -> bytes: the variable-length integer of the fixed header

Strings are UTF-8 with a 16-bit length prefix; a topic or field over 65535 bytes raises
ValueError (MQTT cannot carry it), as does a remaining length over 268435455.
"""

import struct

CONNECT = 0x10
CONNACK = 0x20
PUBLISH = 0x30
PUBACK = 0x40
SUBSCRIBE = 0x82  # the flags nibble 0010 is required by the standard
SUBACK = 0x90
PINGRESP = 0xD0
PINGREQ = b"\xc0\x00"
DISCONNECT = b"\xe0\x00"
MAX_REMAINING = 268435455

CONNACK_TEXT = {
    1: "unacceptable protocol version",
    2: "client id rejected",
    3: "server unavailable",
    4: "bad user name or password",
    5: "not authorised",
}


def remaining_length(n):
    if n < 0 or n > MAX_REMAINING:
        raise ValueError("MQTT packet of %d bytes is too long" % n)
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | 0x80 if n else b)
        if not n:
            return bytes(out)


def string(s):
    b = s.encode() if isinstance(s, str) else bytes(s)
    if len(b) > 0xFFFF:
        raise ValueError("MQTT string of %d bytes is too long" % len(b))
    return struct.pack("!H", len(b)) + b


def connect(client_id, keepalive_s, user=None, password=None, will=None, clean=True):
    """CONNECT; will = (topic, message, retain) published by the broker when the link dies
    (QoS 1: the plug's availability must not get lost)."""
    flags = 0x02 if clean else 0
    body = [string(client_id)]
    if will is not None:
        topic, msg, retain = will
        flags |= 0x04 | 0x08 | (0x20 if retain else 0)
        body.append(string(topic))
        body.append(string(msg))
    if user:
        flags |= 0x80
        body.append(string(user))
        if password:
            flags |= 0x40
            body.append(string(password))
    var = b"\x00\x04MQTT\x04" + bytes((flags,)) + struct.pack("!H", keepalive_s)
    n = len(var)
    for b in body:
        n += len(b)
    return bytes((CONNECT,)) + remaining_length(n) + var + b"".join(body)


def publish_head(topic, payload_len, qos=0, retain=False, pid=0):
    t = string(topic)
    n = len(t) + payload_len + (2 if qos else 0)
    head = bytes((PUBLISH | (qos << 1) | (1 if retain else 0),)) + remaining_length(n) + t
    return head + struct.pack("!H", pid) if qos else head


def subscribe(pid, filters):
    body = b"".join(string(f) + bytes((q,)) for f, q in filters)
    return bytes((SUBSCRIBE,)) + remaining_length(2 + len(body)) + struct.pack("!H", pid) + body


def puback(pid):
    return bytes((PUBACK, 2)) + struct.pack("!H", pid)
