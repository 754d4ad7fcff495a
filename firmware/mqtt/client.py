"""One MQTT 3.1.1 session over asyncio streams (both runtimes): QoS 0/1 out, QoS 0/1 in.

    c = Client("wattwindow-ab12", keepalive_s=60, on_message=fn)
    present = await c.start(reader, writer, user, password, will, clean, timeout_s)
    task = asyncio.create_task(c.run_reader())   # dispatches PUBLISH, acks, PINGRESP
    await c.subscribe([("plug/+/set", 1)], timeout_s)
    await c.publish(topic, payload, retain=True, qos=1, timeout_s=10)  # or pieces=fn
    await c.ping();  await c.close()

`payload` is bytes/str; or pass pieces=fn, a function returning an iterator of str/bytes
pieces: it is called twice (once to count, once to write), so a long discovery document never
exists whole in RAM.
on_message(topic, payload, qos, size): payload is None when the message was larger than
`max_payload` (it was read and discarded in small pieces: a 100 KB message costs no heap).
Errors: OSError for the link (closed, time-outs as ETIMEDOUT), MqttError (a ValueError) for a
refused CONNECT (`code` = the CONNACK return code) or a broker that breaks the protocol.
When the reader stops it keeps the reason in `error` and calls on_error(e): the link is dead.
One publish or subscribe waits for its acknowledgement at a time (the service has one writer).
"""

import asyncio
import struct
from errno import ETIMEDOUT

from . import packet as pk

_DISCARD = 256  # read size for discarding an oversized payload


class MqttError(ValueError):
    def __init__(self, msg, code=None):
        super().__init__(msg)
        self.code = code


async def timed(aw, timeout_s, what):
    """await aw, or OSError(ETIMEDOUT) naming `what` after timeout_s seconds."""
    try:
        return await asyncio.wait_for(aw, timeout_s)
    except asyncio.TimeoutError:  # noqa: UP041 - MicroPython's own class
        raise OSError(ETIMEDOUT, "no %s within %d s" % (what, timeout_s))


async def _read(reader, n):
    try:
        return await reader.readexactly(n)
    except EOFError:  # CPython's IncompleteReadError is one too
        raise OSError(104, "connection closed by the broker")


def _enc(piece):
    return piece.encode() if isinstance(piece, str) else piece


class Client:
    def __init__(self, client_id, keepalive_s=60, max_payload=512, on_message=None,
                 on_error=None):
        self.client_id = client_id
        self.keepalive_s = keepalive_s
        self.max_payload = max_payload
        self.on_message = on_message
        self.on_error = on_error
        self.reader = self.writer = None
        self.error = None
        self.session_present = False
        self._lock = asyncio.Lock()
        self._acked = asyncio.Event()
        self._wait_pid = 0
        self._pid = 0

    async def start(self, reader, writer, user, password, will, clean, timeout_s):
        """CONNECT and wait for CONNACK; returns the broker's session-present flag."""
        self.reader, self.writer = reader, writer
        await timed(self._send(pk.connect(self.client_id, self.keepalive_s, user, password,
                                          will, clean)), timeout_s, "CONNECT sent")
        kind, n = await timed(self._head(), timeout_s, "CONNACK")
        if kind != pk.CONNACK or n != 2:
            raise MqttError("not an MQTT broker (packet 0x%02x before CONNACK)" % kind)
        body = await _read(reader, 2)
        if body[1]:
            raise MqttError("broker refused the connection: %s"
                            % pk.CONNACK_TEXT.get(body[1], "code %d" % body[1]), body[1])
        self.session_present = bool(body[0] & 1)
        return self.session_present

    # -- writing ---------------------------------------------------------------------------
    async def _send(self, *parts):
        async with self._lock:  # parts of one packet are never interleaved with another's
            for p in parts:
                self.writer.write(p)
            await self.writer.drain()

    def _next_pid(self):
        self._pid = self._pid % 0xFFFF + 1
        return self._pid

    async def _wait_ack(self, timeout_s, what):
        await timed(self._acked.wait(), timeout_s, what)
        if self.error is not None:
            raise self.error

    async def publish(self, topic, payload, retain=False, qos=0, timeout_s=10, pieces=None):
        data = None
        n = 0
        if pieces is not None:
            for piece in pieces():
                n += len(_enc(piece))
        else:
            data = _enc(payload)
            n = len(data)
        pid = self._next_pid() if qos else 0
        self._wait_pid = pid
        self._acked.clear()
        async with self._lock:
            w = self.writer
            w.write(pk.publish_head(topic, n, qos, retain, pid))
            if pieces is not None:
                for piece in pieces():
                    w.write(_enc(piece))
                    await w.drain()
            else:
                w.write(data)
            await w.drain()
        if qos:
            await self._wait_ack(timeout_s, "PUBACK")

    async def subscribe(self, filters, timeout_s=10):
        pid = self._next_pid()
        self._wait_pid = pid
        self._acked.clear()
        await self._send(pk.subscribe(pid, filters))
        await self._wait_ack(timeout_s, "SUBACK")

    async def ping(self):
        await self._send(pk.PINGREQ)

    async def close(self, graceful=False):
        """Close the link; graceful sends DISCONNECT first (the broker then drops the will)."""
        w, self.writer = self.writer, None
        if w is None:
            return
        try:
            if graceful:
                w.write(pk.DISCONNECT)
                await timed(w.drain(), 2, "DISCONNECT sent")
        except Exception:  # noqa: BLE001 - closing a link that may be dead
            pass
        try:
            w.close()
            await timed(w.wait_closed(), 2, "close")
        except Exception:  # noqa: BLE001
            pass

    # -- reading ---------------------------------------------------------------------------
    async def _head(self):
        kind = (await _read(self.reader, 1))[0]
        n = shift = 0
        while True:
            d = (await _read(self.reader, 1))[0]
            n |= (d & 0x7F) << shift
            if not d & 0x80:
                return kind, n
            shift += 7
            if shift > 21:
                raise MqttError("bad remaining length from the broker")

    async def _discard(self, n):
        while n > 0:
            k = n if n < _DISCARD else _DISCARD
            await _read(self.reader, k)
            n -= k

    async def run_reader(self):
        """Read and dispatch packets until the link dies (error kept, on_error called).
        Silence longer than 1.5 keep-alive periods is a dead link."""
        quiet_s = self.keepalive_s * 3 // 2 + 1
        try:
            while True:
                kind, n = await timed(self._head(), quiet_s, "traffic from the broker")
                await self._dispatch(kind, n)
        except Exception as e:  # noqa: BLE001 - the reason the link died; the service reports it
            self.error = e
            self._acked.set()
            if self.on_error is not None:
                self.on_error(e)

    async def _dispatch(self, kind, n):
        r = self.reader
        t = kind & 0xF0
        if t == pk.PUBLISH:
            qos = (kind >> 1) & 3
            if qos > 1:
                raise MqttError("QoS %d message on a QoS 1 subscription" % qos)
            tlen = struct.unpack("!H", await _read(r, 2))[0]
            n -= 2 + tlen + (2 if qos else 0)
            if n < 0:
                raise MqttError("malformed PUBLISH from the broker")
            topic = (await _read(r, tlen)).decode() if tlen <= 256 else None
            if topic is None:
                await self._discard(tlen)
            pid = struct.unpack("!H", await _read(r, 2))[0] if qos else 0
            if n > self.max_payload or topic is None:
                await self._discard(n)
                payload = None
            else:
                payload = await _read(r, n) if n else b""
            if self.on_message is not None:
                self.on_message(topic or "", payload, qos, n)
            if qos:  # acknowledged once handled: at least once, never lost in between
                await self._send(pk.puback(pid))
            return
        body = await _read(r, n) if n else b""
        if t in (pk.PUBACK, pk.SUBACK) and n >= 2:
            if t == pk.SUBACK and 0x80 in body[2:]:
                raise MqttError("broker refused a subscription")
            if struct.unpack("!H", body[:2])[0] == self._wait_pid:
                self._acked.set()
        elif t != pk.PINGRESP:
            raise MqttError("unexpected packet 0x%02x from the broker" % kind)
