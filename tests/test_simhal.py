# runtimes: cpython micropython
"""The simulated HAL on both runtimes: two clocks, relay recording, network mapping, faults."""

from host_sim.simhal import EPOCH_2000, SimHal, SimReset

from support import raises

T0 = 1549008000  # 2019-02-01T08:00:00Z


def _hal(**kw):
    return SimHal("/tmp", T0, hosts=("api.example.com",), port=1, **kw)


def test_device_clock_counts_from_2000_until_ntp():
    h = _hal()
    assert not h.clock.valid()
    assert h.clock.now_s() == EPOCH_2000
    h.advance_to(T0 + 90)
    assert h.clock.now_s() == EPOCH_2000 + 90
    assert h.clock.sync()
    assert h.clock.valid() and h.clock.now_s() == T0 + 90


def test_clock_loss_window_and_wifi_outage_block_ntp():
    h = _hal(clock_loss_s=3600, wifi_down=[(T0 + 7200, T0 + 9000)])
    assert not h.clock.sync()
    h.advance_to(T0 + 3599)
    assert not h.clock.sync()
    h.advance_to(T0 + 7300)  # clock-loss window over, but Wi-Fi down
    assert not h.net.up()
    assert not h.clock.sync()
    h.advance_to(T0 + 9000)
    assert h.net.up() and h.clock.sync()
    assert h.clock.syncs == 4


def test_sleep_until_maps_device_time_to_true_time():
    import asyncio

    h = _hal()
    # before NTP: the device asks for "2000-01-01 + 600 s", which is 600 s from boot
    asyncio.run(h.sleep_until(EPOCH_2000 + 600))
    assert h.t_s == T0 + 600
    h.clock.sync()
    asyncio.run(h.sleep_until(T0 + 7200))
    assert h.t_s == T0 + 7200
    h.advance_to(T0)  # never backwards
    assert h.t_s == T0 + 7200


def test_relay_records_changes_and_power_cut_drops_it():
    h = _hal()
    seen = []
    h.on_relay = lambda t, on: seen.append((t, on))
    h.relay.set(True)
    h.relay.set(True)
    h.advance_to(T0 + 100)
    h.clock.sync()
    h.power_cut(T0 + 200, T0 + 500)
    assert seen == [(T0, True), (T0 + 200, False)]
    assert h.relay.changes == 2
    assert h.t_s == T0 + 500 and h.boot_s == T0 + 500
    assert not h.clock.valid() and h.clock.now_s() == EPOCH_2000
    assert h.boots == 2


def test_net_open_refuses_unknown_hosts_and_outages():
    h = _hal(wifi_down=[(T0, T0 + 60)])
    e = raises(OSError, h.net.open, "api.example.com", 443, 5)
    assert e.args[0] == 113
    h.advance_to(T0 + 60)
    e = raises(OSError, h.net.open, "elsewhere.example.com", 443, 5)
    assert e.args[0] == -2
    assert h.net.opens == 0


def test_reset_raises_for_the_runner():
    raises(SimReset, _hal().reset)


def test_button_presses_latch_until_read():
    h = _hal()
    assert h.button.pressed() is False
    h.button.press()
    h.button.press()
    assert [h.button.pressed() for _ in range(3)] == [True, True, False]
