"""A recording HAL for the app tests (portable: CPython and the MicroPython unix port).

The clock is simulated (set `hal.clock.t`; `sleep_until` jumps to the wake time); the relay,
LED, watchdog and resets are recorded with their simulated times; the button is a queue of
presses; the network is a flag plus scripted connect results, and net.open() returns REAL
sockets connected to a loopback server (host names are mapped through `hal.net.hosts`).
Every call the app makes to the network is also recorded in `hal.calls`, so tests can check
the order of "relay set" and "network used".
"""

import socket

from firmware.hal.contract import open_stream, tcp_connect


class FakeClock:
    def __init__(self, hal, t, valid=True):
        self.hal = hal
        self.t = t
        self.is_valid = valid
        self.sync_ok = True
        self.sync_to = None  # the "true" time NTP brings (None: the clock is right)
        self.syncs = 0

    def now_s(self):
        return self.t

    def valid(self):
        return self.is_valid

    def sync(self):
        self.syncs += 1
        self.hal.calls.append(("sync", self.t))
        if not self.sync_ok:
            return False
        if self.sync_to is not None:
            self.t = self.sync_to
            self.sync_to = None
        self.is_valid = True
        return True


class FakeRelay:
    def __init__(self, hal):
        self.hal = hal
        self.history = []  # (t_s, level)
        self.level = None

    def set(self, on):
        self.level = bool(on)
        self.history.append((self.hal.clock.t, bool(on)))
        self.hal.calls.append(("relay", self.hal.clock.t, bool(on)))


class FakeLed:
    def __init__(self, hal):
        self.hal = hal
        self.mode = None
        self.history = []

    def set(self, mode):
        self.mode = mode
        self.history.append((self.hal.clock.t, mode))


class FakeButton:
    def __init__(self):
        self.presses = 0  # pending presses
        self.is_held = False

    def press(self):
        self.presses += 1

    def pressed(self):
        if self.presses:
            self.presses = 0
            return True
        return False

    def held(self):
        return self.is_held


class FakeNet:
    def __init__(self, hal, up=True):
        self.hal = hal
        self.is_up = up
        self.connect_results = []  # scripted results of connect(); empty: True
        self.connects = 0
        self.opens = 0
        self.hosts = {}  # host -> (ip, port) on loopback
        self.connect_cost_s = 0  # simulated seconds a connect() takes

    def up(self):
        return self.is_up

    def connect(self, ssid, password, timeout_s):
        self.connects += 1
        self.hal.calls.append(("connect", self.hal.clock.t))
        self.hal.clock.t += self.connect_cost_s
        ok = self.connect_results.pop(0) if self.connect_results else True
        if ok:
            self.is_up = True
        return ok

    def open(self, host, port, timeout_s):
        self.opens += 1
        self.hal.calls.append(("open", self.hal.clock.t, host, port))
        if not self.is_up:
            raise OSError(113, "network down")
        ip, port = self.hosts.get(host, ("127.0.0.1", port))
        if ip != "127.0.0.1":
            raise OSError(113, "tests only talk to 127.0.0.1")
        return tcp_connect(socket, ip, port, timeout_s)

    async def open_stream(self, host, port, ssl_ctx=None, server_hostname=None):
        self.opens += 1
        self.hal.calls.append(("open", self.hal.clock.t, host, port))
        if not self.is_up:
            raise OSError(113, "network down")
        return await open_stream(host, port, ssl_ctx, server_hostname)


class FakeWdt:
    def __init__(self):
        self.feeds = 0

    def feed(self):
        self.feeds += 1


class FakeMeter:
    """A cumulative energy meter (hal.meter): kwh() returns kwh_now (set it to advance)."""

    def __init__(self, kwh=0.0):
        self.kwh_now = kwh
        self.reads = 0

    def kwh(self):
        self.reads += 1
        return self.kwh_now


class FakeHal:
    CONFIG = ()  # no hardware settings (app.settings_fields)

    def __init__(self, root, t=1750000000, valid=True, net_up=True):
        self.calls = []
        self.root = root
        self.clock = FakeClock(self, t, valid)
        self.relay = FakeRelay(self)
        self.led = FakeLed(self)
        self.button = FakeButton()
        self.net = FakeNet(self, net_up)
        self.wdt = FakeWdt()
        self.meter = None
        self.lines = []
        self.resets = 0
        self.device_id = b"fake-plug-1"
        self.wakes = []

    def log_sink(self, line):
        self.lines.append(line)

    async def sleep_until(self, t_s):
        self.wakes.append(t_s)
        if t_s > self.clock.t:
            self.clock.t = t_s

    def reset(self):
        self.resets += 1
        self.calls.append(("reset", self.clock.t))

    def network_calls(self):
        return [c for c in self.calls if c[0] in ("connect", "open", "sync")]


def run_steps(app, hal, until_s, max_steps=100000):
    """Step the app on the simulated clock at every wake it asks for, up to and including
    until_s (the last step runs at until_s); returns the wake times."""
    wakes = []
    n = 0
    while True:
        t = app.step()
        assert t > hal.clock.t, "wake %d not after now %d" % (t, hal.clock.t)
        if hal.clock.t >= until_s:
            return wakes
        wakes.append(t)
        hal.clock.t = t if t < until_s else until_s
        n += 1
        assert n < max_steps, "too many steps"
