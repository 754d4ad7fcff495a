# runtimes: cpython micropython
"""The ESP32 HAL (firmware/hal/esp32.py) against fake machine/network/ntptime modules
(tests/fakes/esp32port). It needs MicroPython (time.ticks_ms, asyncio.ThreadSafeFlag): on
CPython these tests skip with that reason; the MicroPython run executes them."""

from os import getenv

from firmware import config
from firmware.clock.iso import CLOCK_SET_AFTER_S

from support import TmpDir, env_int, skip


def _esp32_fakes():
    # Each portable test module runs in its own MicroPython process: the fakes imported here
    # stay in sys.modules for this module's later tests only.
    import sys

    if sys.implementation.name != "micropython":
        skip("hal_esp32 needs MicroPython (time.ticks_ms, asyncio.ThreadSafeFlag)")
    d = (getenv("WW_TESTS_DIR") or "tests") + "/fakes/esp32port"
    sys.path.insert(0, d)
    import machine
    import network
    import ntptime

    from firmware.hal import esp32 as hal_esp32

    return d, machine, network, ntptime, hal_esp32


def _drop_fakes(d):
    import sys

    if d in sys.path:
        sys.path.remove(d)


def test_hal_esp32_pins_polarity_button_clock_and_wifi():
    import asyncio
    import time

    d, machine, network, ntptime, hal_esp32 = _esp32_fakes()
    try:
        with TmpDir("hal") as root:
            c = config.defaults(config.schema([hal_esp32]))
            assert (c["relay.pin"], c["led.pin"], c["button.pin"]) == (26, 2, 0)  # documented
            c.update({"relay.pin": 5, "relay.active_low": True, "ntp.host": "ntp.test"})
            machine._State.reset_cause = machine.PWRON_RESET
            hal = hal_esp32.Hal(c, root)
            relay = machine._State.pins[5]
            assert relay.mode == machine.Pin.OUT and relay.level == 1  # off = high (active low)
            hal.relay.set(True)
            hal.relay.set(False)
            assert relay.writes == [0, 1]
            # button: pull-up, falling edge latched by the IRQ, debounced
            btn = machine._State.pins[0]
            assert btn.pull == machine.Pin.PULL_UP and btn.trigger == machine.Pin.IRQ_FALLING
            assert not hal.button.pressed()
            btn.fire()
            btn.fire()  # bounce within 200 ms: still one press
            assert hal.button.pressed() and not hal.button.pressed()
            btn.level = 0
            assert hal.button.held()
            # sleep_until returns at once when a press is pending
            hal.button._latched = True
            t0 = time.ticks_ms()
            asyncio.run(hal.sleep_until(hal.clock.now_s() + 3600))
            assert time.ticks_diff(time.ticks_ms(), t0) < 1000
            # clock: Unix seconds; not valid after a power-on reset until NTP
            assert abs(hal.clock.now_s() - (int(time.time()) + hal_esp32.epoch_offset_s())) <= 1
            assert hal_esp32.epoch_offset_s() == (946684800 if time.gmtime(0)[0] == 2000 else 0)
            assert not hal.clock.valid()
            ntptime._State.ok = False
            assert not hal.clock.sync() and not hal.clock.valid()
            ntptime._State.ok = True
            assert hal.clock.sync() and hal.clock.valid() and ntptime.host == "ntp.test"
            # watchdog starts only when first fed (safe mode never starts it)
            n = len(machine._State.wdts)
            hal.wdt.feed_if_started()
            assert len(machine._State.wdts) == n
            hal.wdt.feed()
            assert machine._State.wdts[-1].timeout == 300000 and machine._State.wdts[-1].feeds == 1
            # LED: steady or blinking from a timer
            hal.led.set("override")
            assert machine._State.timers[-1].period == 1000
            hal.led.set("on")
            assert machine._State.timers[-1].period is None and machine._State.pins[2].level == 1
            # Wi-Fi
            assert not hal.net.up()
            network._State.ok, network._State.delay = True, 2
            assert hal.net.connect("home", "pw", 5) and hal.net.up()
            assert network._State.connects[-1] == ("home", "pw")
            hal.reset()
            assert machine._State.resets == 1
    finally:
        _drop_fakes(d)


def test_hal_esp32_rtc_kept_over_a_soft_reset_is_valid_and_net_open_is_real():
    d, machine, _network, _ntptime, hal_esp32 = _esp32_fakes()
    try:
        with TmpDir("hal") as root:
            machine._State.reset_cause = machine.SOFT_RESET
            hal = hal_esp32.Hal({}, root)
            assert machine._State.pins[26].writes == []  # the relay keeps its level: no blip
            # the unix port's clock is the host's: later than the build date -> trusted
            assert hal.clock.valid() == (hal.clock.now_s() >= CLOCK_SET_AFTER_S)
            port = env_int("WW_HTTP_PORT")
            s = hal.net.open("127.0.0.1", port, 5)
            try:
                s.send(b"GET /x/empty/a HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                assert s.recv(12).startswith(b"HTTP/1.")
            finally:
                s.close()
    finally:
        _drop_fakes(d)
