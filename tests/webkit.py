"""What the web tests share (portable): an App on a real-time fake HAL serving its page on
127.0.0.1, and a raw HTTP client that reports exactly what came back (status, body, or a
reset/close) - the bad-request tests need to see the bytes, not a library's opinion."""

import asyncio
import json
import socket

from appkit import HOUR, App, cache, cfg, prices

from firmware.compat import ticks_diff, ticks_ms
from firmware.web.service import WebService

from fakehal import FakeHal

T_SWITCH = 1749632400  # 2025-06-11T09:00:00Z: an hour boundary the plan switches ON at


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(socket.getaddrinfo("127.0.0.1", 0)[0][-1])
    try:
        port = s.getsockname()[1]
    except (AttributeError, TypeError, IndexError):
        port = None
    s.close()
    if not port:  # MicroPython's unix port may not give the name back: a fixed range
        import os

        port = 20000 + int.from_bytes(os.urandom(2), "little") % 20000
    return port


class _RealClock:
    """UTC seconds that move with the wall clock, starting at t0."""

    def __init__(self, t0):
        self.t0 = t0
        self.ms0 = ticks_ms()
        self.is_valid = True
        self.syncs = 0

    def ms(self):
        return ticks_diff(ticks_ms(), self.ms0)

    def now_s(self):
        return self.t0 + self.ms() // 1000

    @property
    def t(self):
        return self.now_s()

    @t.setter
    def t(self, v):  # FakeNet.connect adds its simulated cost (0 here)
        self.t0 += v - self.now_s()

    def valid(self):
        return True

    def sync(self):
        return True


class RealHal(FakeHal):
    """FakeHal on the wall clock; sleep_until really waits (in short asyncio sleeps)."""

    def __init__(self, root, t0):
        FakeHal.__init__(self, root, t=t0, net_up=False)
        self.clock = _RealClock(t0)
        self.relay_ms = []  # (ms since start, level)
        self._woken = False
        rec = self.relay.set

        def set_relay(on):
            self.relay_ms.append((self.clock.ms(), bool(on)))
            rec(on)

        self.relay.set = set_relay

    def wake(self):
        self._woken = True

    async def sleep_until(self, t_s):
        self._woken = False
        while not self._woken:
            left = (t_s - self.clock.t0) * 1000 - self.clock.ms()
            if left <= 0:
                return
            await asyncio.sleep(min(left, 50) / 1000)


def plug(root, lead_s=2, **settings):
    """(app, hal, web): ON planned from T_SWITCH, which the clock reaches lead_s from now."""
    sched = prices(T_SWITCH - 9 * HOUR, 48)
    # the hour from T_SWITCH is the day's cheapest by far: the plan switches on exactly then
    k = sched.index_at(T_SWITCH)
    sched.prices[k] = 1000
    cache(root, sched, T_SWITCH - 9 * HOUR)
    hal = RealHal(root, T_SWITCH - lead_s)
    c = cfg(policy__hours=1, **settings)
    app = App(hal, c)
    web = WebService("127.0.0.1", free_port(), req_ms=1500)
    app.services.append(web)
    return app, hal, web


async def request(port, raw, timeout_s=8, read_first=False):
    """Send raw bytes; return (status or None, body bytes, how it ended: "eof"/"reset")."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    ended = "eof"
    data = b""
    try:
        if not read_first:
            w.write(raw)
            await w.drain()
        while True:
            try:
                chunk = await asyncio.wait_for(r.read(4096), timeout_s)
            except OSError:
                ended = "reset"
                break
            if not chunk:
                break
            data += chunk
    except OSError:
        ended = "reset"
    finally:
        try:
            w.close()
            await w.wait_closed()
        except OSError:
            pass
    return parse(data) + (ended,)


def parse(data):
    if not data.startswith(b"HTTP/1.1 "):
        return None, data
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head[9:12]), body


def get(path, password=None, extra=""):
    h = "X-WW-Password: %s\r\n" % password if password is not None else ""
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s\r\n" % (path, h, extra)).encode()


def post(path, obj, password=None, ctype="application/json", extra=""):
    body = obj if isinstance(obj, str) else json.dumps(obj)
    h = "X-WW-Password: %s\r\n" % password if password is not None else ""
    return ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
            "%s%s\r\n%s" % (path, ctype, len(body), h, extra, body)).encode()


async def serving(app, web, until_s):
    """Run the app (and so its server) as a task until the clock reaches until_s."""
    task = asyncio.create_task(app.run(until_s=until_s))
    for _ in range(100):  # the server is up once its port answers
        await asyncio.sleep(0.02)
        if web.server is not None and web.server._server is not None:
            break
    return task
