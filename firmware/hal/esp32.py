"""The HAL of a real ESP32 plug (see firmware/hal/contract.py for the contract). Device only.

This is the one firmware module that imports `machine`, `network` and `ntptime`. Pins and their
polarity come from config ("relay.pin", "relay.active_low", "led.pin", "led.active_low",
"button.pin", "button.active_low"); nothing happens at import time.

Default board: an ESP32-DevKitC (ESP32-WROOM-32) driving a relay module -
    relay   GPIO26, active high   (a free GPIO that is not a strapping pin)
    LED     GPIO2,  active high   (the DevKitC's on-board LED)
    button  GPIO0,  active low    (the DevKitC's BOOT button; internal pull-up)
Plugs differ (relay, LED and button pins, active-low LEDs): set the pins in config.json. Avoid
the strapping pins 0, 2, 5, 12 and 15 for the relay, they float or are pulled at reset.

Time: the ESP32 port counts from 2000-01-01; `now_s()` adds the offset derived from
`time.gmtime(0)` (as `ntptime` does) so the core sees Unix seconds. The clock is valid once
NTP succeeded since boot, or after a reset that kept the RTC running (not a power-on reset)
when it reads later than the firmware's build date; the app also distrusts a clock earlier
than its cached prices.

Watchdog: machine.WDT cannot be stopped once started, so it starts on the first feed() (the
app's first step), never in safe mode; `sleep_until` feeds it between bounded waits while the
event loop is alive.

LED: "on"/"off" steady; the other modes blink from a machine.Timer whose callback only
toggles the pin: override 1 s, fallback 0.5 s, safe 0.25 s, error 0.125 s half-periods.
"""

import asyncio
import socket
import time

import machine
import network
import ntptime

from ..clock.iso import CLOCK_SET_AFTER_S, days_from_civil
from ..config import Field
from .contract import open_stream, tcp_connect

CONFIG = (
    Field("relay.pin", "number", 26, lo=0, hi=48, integer=True, help="relay GPIO"),
    Field("relay.active_low", "flag", False, help="relay driven by a low level"),
    Field("led.pin", "number", 2, lo=-1, hi=48, integer=True, help="status LED GPIO (-1: none)"),
    Field("led.active_low", "flag", False, help="LED lit by a low level"),
    Field("button.pin", "number", 0, lo=-1, hi=48, integer=True, help="button GPIO (-1: none)"),
    Field("button.active_low", "flag", True, help="button pulls the pin low when pressed"),
    Field("wdt.timeout_s", "number", 300, lo=30, hi=3600, unit="s", integer=True,
          help="watchdog time-out (longer than the longest blocking fetch)"),
    Field("ntp.host", "text", "pool.ntp.org", hi=64, help="NTP server"),
)

_WAIT_CHUNK_S = 30  # longest single wait before the clock is read again
_BLINK_MS = {"override": 1000, "fallback": 500, "safe": 250, "error": 125}


def now_s():
    """UTC seconds from the RTC, without a Hal (the REPL when the app is not running)."""
    return int(time.time()) + epoch_offset_s()


def reset():
    machine.reset()


def epoch_offset_s():
    """Seconds to add to the port's time.time() to get Unix seconds (946684800 on ESP32)."""
    y = time.gmtime(0)[0]
    return days_from_civil(y, 1, 1) * 86400


class _Out:
    """An output pin with polarity; remembers the logical state."""

    def __init__(self, pin_no, active_low, initial=None):
        """initial=None keeps the level the pin already drives (a soft reset: no blip)."""
        self.active_low = active_low
        self.state = bool(initial)
        self.pin = None
        if pin_no is not None and pin_no >= 0:
            if initial is None:
                self.pin = machine.Pin(pin_no, machine.Pin.OUT)
                self.state = self.pin.value() == (0 if active_low else 1)
            else:
                self.pin = machine.Pin(pin_no, machine.Pin.OUT, value=self._level(initial))

    def _level(self, on):
        return 0 if bool(on) == self.active_low else 1

    def write(self, on):
        self.state = bool(on)
        if self.pin is not None:
            self.pin.value(self._level(on))


class Clock:
    def __init__(self, cfg):
        self._offset = epoch_offset_s()
        self._synced = False
        self._host = cfg.get("ntp.host") or "pool.ntp.org"
        cause = machine.reset_cause()
        self._rtc_kept = cause != machine.PWRON_RESET

    def now_s(self):
        return int(time.time()) + self._offset

    def valid(self):
        return self._synced or (self._rtc_kept and self.now_s() >= CLOCK_SET_AFTER_S)

    def sync(self):
        try:
            ntptime.host = self._host
            ntptime.settime()
        except (OSError, OverflowError, IndexError):
            return False
        self._synced = True
        return True


class Relay:
    def __init__(self, cfg):
        # Off after a power-on; after any other reset the pin keeps what it drove, so a soft
        # reset does not blip the load. The app sets the planned (or safe) state right after.
        keep = machine.reset_cause() != machine.PWRON_RESET
        self._out = _Out(cfg.get("relay.pin", 26), bool(cfg.get("relay.active_low")),
                         None if keep else False)

    def set(self, on):
        self._out.write(on)

    def get(self):
        return self._out.state


class Led:
    def __init__(self, cfg):
        self._out = _Out(cfg.get("led.pin", 2), bool(cfg.get("led.active_low")), False)
        self._timer = None
        self.mode = "off"

    def _toggle(self, _timer):
        self._out.write(not self._out.state)  # IRQ-safe: no allocation, no blocking

    def set(self, mode):
        if mode == self.mode:
            return
        self.mode = mode
        if self._timer is not None:
            self._timer.deinit()
            self._timer = None
        period = _BLINK_MS.get(mode)
        if period is None or self._out.pin is None:
            self._out.write(mode == "on")
            return
        self._timer = machine.Timer(0)
        self._timer.init(mode=machine.Timer.PERIODIC, period=period, callback=self._toggle)


class Button:
    def __init__(self, cfg, on_press=None):
        pin_no = cfg.get("button.pin", 0)
        self._active_low = bool(cfg.get("button.active_low", True))
        self._latched = False
        self._last_ms = 0
        self._on_press = on_press
        self.pin = None
        if pin_no is not None and pin_no >= 0:
            pull = machine.Pin.PULL_UP if self._active_low else machine.Pin.PULL_DOWN
            self.pin = machine.Pin(pin_no, machine.Pin.IN, pull)
            trig = machine.Pin.IRQ_FALLING if self._active_low else machine.Pin.IRQ_RISING
            self.pin.irq(trigger=trig, handler=self._irq)

    def _irq(self, _pin):
        now = time.ticks_ms()
        if time.ticks_diff(now, self._last_ms) < 200:  # contact bounce
            return
        self._last_ms = now
        self._latched = True
        if self._on_press is not None:
            self._on_press()

    def held(self):
        """The button is down right now (safe-mode check at boot)."""
        if self.pin is None:
            return False
        return self.pin.value() == (0 if self._active_low else 1)

    def latched(self):
        return self._latched

    def pressed(self):
        was = self._latched
        self._latched = False
        return was


class Net:
    def __init__(self, wdt):
        self._wlan = None
        self._wdt = wdt

    def _nic(self):
        if self._wlan is None:
            self._wlan = network.WLAN(network.STA_IF)
        return self._wlan

    def up(self):
        return self._nic().isconnected()  # the link may have survived a soft reset

    def connect(self, ssid, password, timeout_s=20):
        wlan = self._nic()
        wlan.active(True)
        if wlan.isconnected():
            return True
        if not ssid:
            return False
        wlan.connect(ssid, password)
        t0 = time.ticks_ms()
        while not wlan.isconnected():
            if time.ticks_diff(time.ticks_ms(), t0) > timeout_s * 1000:
                wlan.disconnect()
                return False
            self._wdt.feed_if_started()
            time.sleep_ms(100)
        return True

    def open(self, host, port, timeout_s):
        return tcp_connect(socket, host, port, timeout_s)

    async def open_stream(self, host, port, ssl_ctx=None, server_hostname=None):
        return await open_stream(host, port, ssl_ctx, server_hostname)

    def rssi(self):
        return self._nic().status("rssi")


class Wdt:
    def __init__(self, timeout_s):
        self._timeout_ms = timeout_s * 1000
        self._wdt = None

    def feed(self):
        if self._wdt is None:
            self._wdt = machine.WDT(timeout=self._timeout_ms)
        self._wdt.feed()

    def feed_if_started(self):
        if self._wdt is not None:
            self._wdt.feed()


class Hal:
    """The ESP32 HAL. `cfg` is the loaded settings dict (pins, polarity, NTP host)."""

    CONFIG = CONFIG  # app.settings_fields() takes the hardware settings from the HAL

    def __init__(self, cfg=None, root="/"):
        cfg = cfg or {}
        self.root = root
        self.meter = None
        self.device_id = machine.unique_id()
        self._flag = asyncio.ThreadSafeFlag()
        self._woken = False  # App.wake(): a service asked for a step now
        self.clock = Clock(cfg)
        self.relay = Relay(cfg)
        self.led = Led(cfg)
        self.button = Button(cfg, self._flag.set)
        self.wdt = Wdt(cfg.get("wdt.timeout_s", 300))
        self.net = Net(self.wdt)

    def log_sink(self, line):
        print(line)

    async def sleep_until(self, t_s):
        while True:
            now = self.clock.now_s()
            if now >= t_s or self.button.latched() or self._woken:
                self._woken = False
                return
            self.wdt.feed_if_started()
            ms = min(t_s - now, _WAIT_CHUNK_S) * 1000
            self._flag.clear()
            try:
                await asyncio.wait_for_ms(self._flag.wait(), ms)
            except asyncio.TimeoutError:  # noqa: UP041 - MicroPython's own class
                pass

    def wake(self):
        self._woken = True
        self._flag.set()

    def reset(self):
        reset()
