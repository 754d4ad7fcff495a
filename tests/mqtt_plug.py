# A plug with the MQTT service, as a process (CPython or the MicroPython unix port), for
# tests/test_mqtt_ha.py and tests/bench_mqtt.py:
#     mqtt_plug.py OPTIONS.json
# The App runs with firmware/mqtt/service.py on a recording HAL whose clock is paced: one
# simulated second takes `wall_per_s` wall seconds, so switches come soon and exactly.
# Options: root, t0 (simulated start), wall_per_s, run_s (wall seconds before it stops, or
# the file <root>/STOP appears), cfg (settings), device_id, savings (attach a savings record
# where the app keeps none), overrides [[offset_s, on, minutes], ...] (a person's overrides,
# simulated seconds after t0), mode "bench" (boot, connect, discovery, one state, print OK)
# or "app" (the same boot without MQTT: the bench's baseline).
# Prints one JSON list per line: ["boot", t], ["relay", t, on], ["override", t, until, t2],
# ["log", line], ["end", counters], then OK.
# WW_MPY_DIR, if set, is a directory of precompiled .mpy modules searched first.
import os
import sys

if os.getenv("WW_MPY_DIR"):
    sys.path.insert(0, os.getenv("WW_MPY_DIR"))

import asyncio  # noqa: E402
import json  # noqa: E402

from firmware.app.control import App  # noqa: E402
from firmware.compat import ticks_diff, ticks_ms  # noqa: E402
from firmware.prices.schedule import Schedule  # noqa: E402
from firmware.prices.store import Store  # noqa: E402

from fakehal import FakeClock, FakeHal  # noqa: E402


def emit(ev):
    sys.stdout.write(json.dumps(ev) + "\n")
    try:
        sys.stdout.flush()
    except AttributeError:
        pass


class PacedClock(FakeClock):
    """Simulated seconds that follow the wall clock: one takes `wall_ms` milliseconds."""

    def __init__(self, hal, t, wall_ms):
        self.wall_ms = wall_ms
        self.base_t = t
        self.base_ms = ticks_ms()
        FakeClock.__init__(self, hal, t)

    @property
    def t(self):
        return self.base_t + ticks_diff(ticks_ms(), self.base_ms) // self.wall_ms

    @t.setter
    def t(self, value):
        self.base_t = value
        self.base_ms = ticks_ms()

    def ms_until(self, t_s):
        return self.base_ms + (t_s - self.base_t) * self.wall_ms


class PacedHal(FakeHal):
    def __init__(self, root, t, wall_ms, device_id):
        FakeHal.__init__(self, root, t)
        self.clock = PacedClock(self, t, wall_ms)
        self.device_id = device_id
        self.woken = asyncio.Event()
        self._relay_set = self.relay.set
        self.relay.set = self._relay

    def _relay(self, on):
        self._relay_set(on)
        emit(["relay", self.clock.now_s(), bool(on)])

    def log_sink(self, line):
        emit(["log", line])

    def wake(self):
        self.woken.set()

    async def sleep_until(self, t_s):
        while True:
            left = ticks_diff(self.clock.ms_until(t_s), ticks_ms())
            if left <= 0 or self.woken.is_set():
                self.woken.clear()
                return
            try:
                await asyncio.wait_for(self.woken.wait(), left / 1000)
            except asyncio.TimeoutError:  # noqa: UP041 - MicroPython's own class
                pass


class Provider:
    """Prices that need no network: 48 hourly prices from the start of the first day."""

    CONFIG = ()
    NEEDS_NETWORK = False
    PUBLISH_LOCAL_MIN = 17 * 60

    def __init__(self, start_s):
        self.start_s = start_s

    def fetch(self, client, cfg, now_s, state):
        s = Schedule("test", "EUR", "kWh")
        for k in range(48):
            s.add(self.start_s + k * 3600, self.start_s + (k + 1) * 3600,
                  50000 + (k * 7919) % 200000)
        return s


async def at(hal, t_s):
    while hal.clock.now_s() < t_s:
        await asyncio.sleep(0.005)


async def overrides(app, hal, t0, todo):
    for off, on, minutes in todo:
        await at(hal, t0 + off)
        t = hal.clock.now_s()
        until = app.override(on, minutes)
        emit(["override", t, until, hal.clock.now_s()])


async def outages(svc, hal, t0, todo):
    """Wi-Fi lost: the link drops (the broker sees it die) and nothing connects until the end."""
    for off, dur in todo:
        await at(hal, t0 + off)
        hal.net.is_up = False
        c = svc._client
        if c is not None:
            asyncio.create_task(c.close())  # the link drops; the broker sends the will
        emit(["outage", hal.clock.now_s()])
        await at(hal, t0 + off + dur)
        hal.net.is_up = True
        emit(["outage_end", hal.clock.now_s()])


def stopped(root):
    try:
        os.stat(root + "/STOP")
        return True
    except OSError:
        return False


async def main(o):
    t0 = o["t0"]
    hal = PacedHal(o["root"], t0, max(1, int(o.get("wall_per_s", 1.0) * 1000)),
                   o.get("device_id", "plug-1"))
    prov = Provider(t0 - t0 % 86400)
    Store(o["root"]).save(_fetched(prov.fetch(None, None, t0, None), t0))
    cfg = {"tz": "UTC0", "wifi.ssid": "home", "fetch.seed": 99}
    cfg.update(o.get("cfg", {}))
    app = App(hal, cfg, provider=prov)
    app.persist = bool(o.get("persist", False))
    svc = None
    if o.get("mode") != "app":
        from firmware.mqtt.service import MqttService

        svc = MqttService()
        app.services.append(svc)
    if o.get("savings") and getattr(app, "savings", None) is None:
        from firmware.prices.savings import Savings

        app.boot()
        app.savings = Savings(o["root"], app.zone, hal.clock.now_s, lambda: app.schedule)
        app.savings.add(t0 - 7200, t0 - 3600, 1000)
    if o.get("mode") in ("bench", "app"):
        app.boot()
        app.step()
        if svc is not None:
            svc.start(app)
            t_start = ticks_ms()
            while svc.states < 1:  # a failure (out of heap too) is retried: give it 10 s
                if ticks_diff(ticks_ms(), t_start) > 10000:
                    print("FAILED: no state published")
                    return
                await asyncio.sleep(0.01)
        print("OK")
        return
    emit(["boot", t0])
    task = asyncio.create_task(app.run())
    asyncio.create_task(overrides(app, hal, t0, o.get("overrides", ())))
    asyncio.create_task(outages(svc, hal, t0, o.get("outages", ())))
    t_start = ticks_ms()
    while ticks_diff(ticks_ms(), t_start) < o.get("run_s", 60) * 1000 and not stopped(o["root"]):
        await asyncio.sleep(0.1)
        if task.done():
            break
    emit(["end", {"connects": svc.connects, "failures": svc.failures, "states": svc.states,
                  "discoveries": svc.discoveries, "applied": svc.applied,
                  "refused": svc.refused, "switches": app.switches}])
    print("OK")


def _fetched(s, t):
    s.fetched_s = t
    return s


with open(sys.argv[1]) as f:
    asyncio.run(main(json.load(f)))
