"""The simulated HAL: the firmware's ports on a simulated clock (CPython and MicroPython).

Two clocks. `hal.t_s` is the simulator's TRUE time (UTC seconds); it only moves when the
simulator says so (sleep_until / advance_to), so a simulated year runs in seconds. The DEVICE
clock (`hal.clock.now_s()`) reads like an ESP32 RTC: after a boot it counts from 2000-01-01
until NTP succeeds (`clock.sync()`), then it equals the true time.

The network: `hal.net.open(host, port, timeout_s)` connects to the local price server instead
of `host` (only names in `hosts` resolve) with a real TCP socket (hal.contract.tcp_connect),
writes the preamble line `SIMTIME <true utc_s>` that tells the server the simulated time (see
host_sim/price_server.py) and returns the socket to the firmware's HTTP client. Time-outs are
scaled (`time_scale` wall seconds per simulated second, at least MIN_WALL_TIMEOUT_S).

Faults the HAL itself plays: Wi-Fi outages (net down, no NTP, no fetch), NTP failing for
`clock_loss_s` after every boot, and power cuts (the runner calls power_cut(): the relay drops,
the device clock is lost, and a new App boots from the same `root`).

Nothing here uses threads or datetime: MicroPython's unix port runs it unchanged.
"""

import socket

from firmware.hal.contract import open_stream, tcp_connect

EPOCH_2000 = 946684800  # what an ESP32 RTC reads after a cold boot (its epoch is 2000)
MIN_WALL_TIMEOUT_S = 1.0
PREAMBLE = "SIMTIME %d\r\n"


class SimReset(Exception):
    """hal.reset() was called: the runner boots a new App on the same flash."""


class _Clock:
    def __init__(self, hal):
        self._hal = hal
        self._valid = False
        self.syncs = 0

    def now_s(self):
        h = self._hal
        if self._valid:
            return h.t_s
        return EPOCH_2000 + (h.t_s - h.boot_s)

    def valid(self):
        return self._valid

    def sync(self):
        h = self._hal
        self.syncs += 1
        if not h.net.up() or h.t_s < h.boot_s + h.clock_loss_s:
            return False
        self._valid = True
        return True

    def lose(self):
        self._valid = False


class _Relay:
    def __init__(self, hal):
        self._hal = hal
        self.on = False
        self.changes = 0

    def set(self, on):
        on = bool(on)
        if on != self.on:
            self.on = on
            self.changes += 1
            cb = self._hal.on_relay
            if cb is not None:
                cb(self._hal.t_s, on)


class _Led:
    def __init__(self):
        self.mode = "off"

    def set(self, mode):
        self.mode = mode


class _Button:
    """Presses latch until the app reads them, like the ESP32's IRQ flag."""

    def __init__(self):
        self._pending = 0

    def press(self):
        self._pending += 1

    def pressed(self):
        if self._pending:
            self._pending -= 1
            return True
        return False


class _Wdt:
    def feed(self):
        pass


class _Net:
    def __init__(self, hal, hosts, port):
        self._hal = hal
        self.hosts = hosts
        self.port = port
        self.opens = 0

    def up(self):
        h = self._hal
        return all(not t0 <= h.t_s < t1 for t0, t1 in h.wifi_down)

    def connect(self, ssid, password, timeout_s):
        return self.up()

    async def open_stream(self, host, port, ssl_ctx=None, server_hostname=None):
        """A real connection to host:port (the broker of --mqtt), unless Wi-Fi is down."""
        if not self.up():
            raise OSError(113, "EHOSTUNREACH (simulated Wi-Fi outage)")
        return await open_stream(host, port, ssl_ctx, server_hostname)

    def open(self, host, port, timeout_s):
        h = self._hal
        if not self.up():
            raise OSError(113, "EHOSTUNREACH (simulated Wi-Fi outage)")
        if host not in self.hosts:
            raise OSError(-2, "simulated DNS: unknown host %s" % host)
        self.opens += 1
        wall = timeout_s * h.time_scale
        if wall < MIN_WALL_TIMEOUT_S:
            wall = MIN_WALL_TIMEOUT_S
        s = tcp_connect(socket, "127.0.0.1", self.port, wall)
        try:
            data = (PREAMBLE % h.t_s).encode()
            while data:
                n = s.send(data)
                data = data[n:]
        except BaseException:
            s.close()
            raise
        return s


class SimHal:
    """hosts: names the device may contact (all go to 127.0.0.1:port)."""

    CONFIG_MODULE = None

    def __init__(self, root, start_s, hosts=(), port=0, time_scale=0.1, clock_loss_s=0,
                 wifi_down=(), device_id="sim-plug"):
        self.root = root
        self.t_s = start_s
        self.boot_s = start_s
        self.time_scale = time_scale
        self.clock_loss_s = clock_loss_s
        self.wifi_down = [tuple(w) for w in wifi_down]
        self.device_id = device_id
        self.on_relay = None  # callable(true_t_s, on)
        self.on_log = None  # callable(line)
        self.clock = _Clock(self)
        self.relay = _Relay(self)
        self.led = _Led()
        self.button = _Button()
        self.net = _Net(self, hosts, port)
        self.wdt = _Wdt()
        self.meter = None
        self.boots = 1
        self.woken = False

    def log_sink(self, line):
        if self.on_log is not None:
            self.on_log(line)

    def to_true(self, device_s):
        """The true time at which the device clock will read device_s."""
        return self.t_s + (device_s - self.clock.now_s())

    def advance_to(self, true_s):
        if true_s > self.t_s:
            self.t_s = true_s

    async def sleep_until(self, t_s):
        self.advance_to(self.to_true(t_s))

    def power_cut(self, t0_s, t1_s):
        """Unplugged from t0_s to t1_s: the load stops, the RTC is lost, the device reboots."""
        self.advance_to(t0_s)
        self.relay.set(False)
        self.advance_to(t1_s)
        self.boot_s = self.t_s
        self.clock.lose()
        self.boots += 1

    def reset(self):
        raise SimReset()

    def wake(self):
        """App.wake(): a service changed something; a paced run (device_main.Paced) steps now."""
        self.woken = True
