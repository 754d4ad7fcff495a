# runtimes: cpython micropython
"""The savings record (firmware/prices/savings.py): exact integer accounting per local day,
the simulator's 18:00 baseline, the 35-day ring, and the file on flash (hourly, midnight,
atomic, checked)."""

import os

from firmware.clock.tz import Zone
from firmware.prices import savings
from firmware.prices.savings import Savings
from firmware.prices.schedule import Schedule

from support import TmpDir

HOUR = 3600
CET = "CET-1CEST,M3.5.0,M10.5.0/3"
# 2025-01-15 00:00 local (CET, +01:00) = 2025-01-14T23:00:00Z
DAY0 = 1736895600


def hourly(t0, prices_u):
    s = Schedule()
    for k, p in enumerate(prices_u):
        s.add(t0 + k * HOUR, t0 + (k + 1) * HOUR, p)
    return s


def ramp(days=3):
    """Price of hour h of the run: (h % 24 + 1) * 10000 micro-units (0.01 .. 0.24 /kWh)."""
    return hourly(DAY0 - 24 * HOUR, [(h % 24 + 1) * 10000 for h in range(24 * (days + 1))])


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def make(root, sched, t=DAY0, baseline_min=18 * 60):
    box = [sched]
    clock = Clock(t)
    rec = Savings(root, Zone(CET), clock, lambda: box[0], baseline_min)
    return rec, clock, box


def close(a, b, tol=1e-9):
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def test_one_stretch_exact_cost_and_the_18h_baseline():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, ramp())
        # 02:30 .. 04:00 local at 2000 W: 0.5 h at 0.03 + 1 h at 0.04 (hour 2 -> 0.03)
        rec.add(DAY0 + 2 * HOUR + 1800, DAY0 + 4 * HOUR, 2000)
        r = rec.today(DAY0 + 5 * HOUR)
        assert r["day"] == "2025-01-15", r
        assert close(r["kwh"], 3.0), r
        assert close(r["cost"], 2 * (0.5 * 0.03 + 1 * 0.04)), r
        # the same 1.5 h from 18:00: 1 h at 0.19 + 0.5 h at 0.20, at 2 kW
        assert close(r["baseline_cost"], 2 * (0.19 + 0.5 * 0.20)), r
        assert close(r["saving"], r["baseline_cost"] - r["cost"]), r


def test_a_stretch_over_midnight_is_split_into_two_local_days():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, ramp())
        rec.add(DAY0 + 23 * HOUR, DAY0 + 25 * HOUR, 1000)  # 23:00 .. 01:00
        rows = rec.days(2, DAY0 + 26 * HOUR)
        assert [r["day"] for r in rows] == ["2025-01-15", "2025-01-16"], rows
        assert close(rows[0]["kwh"], 1.0) and close(rows[1]["kwh"], 1.0), rows
        assert close(rows[0]["cost"], 0.24) and close(rows[1]["cost"], 0.01), rows
        assert close(rows[0]["baseline_cost"], 0.19), rows  # 1 h from 18:00


def test_days_are_oldest_first_with_empty_days_as_zero_and_today_last():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, ramp())
        rec.add(DAY0 + HOUR, DAY0 + 2 * HOUR, 1000)
        clock.t = DAY0 + 2 * 24 * HOUR + 60
        rows = rec.days(4)
        assert [r["day"] for r in rows] == ["2025-01-14", "2025-01-15", "2025-01-16",
                                            "2025-01-17"], rows
        assert rows[0]["kwh"] == 0 and rows[0]["cost"] == 0 and rows[3]["saving"] == 0, rows
        assert close(rows[1]["cost"], 0.02), rows
        assert rec.today(clock.t)["day"] == "2025-01-17"
        assert len(rec.days(100)) == savings.DAYS


def test_a_closed_day_keeps_its_baseline_after_its_prices_are_gone():
    with TmpDir("sav") as root:
        rec, clock, box = make(root, ramp())
        rec.add(DAY0 + HOUR, DAY0 + 3 * HOUR, 1000)
        base = rec.today(DAY0 + 3 * HOUR)["baseline_cost"]
        assert close(base, 0.19 + 0.20), base
        rec.tick(DAY0 + 24 * HOUR)  # midnight: the day closes and is written
        box[0] = hourly(DAY0 + 24 * HOUR, [5000] * 24)  # yesterday's prices dropped
        assert close(rec.days(2, DAY0 + 24 * HOUR)[0]["baseline_cost"], base)
        again, _, _ = make(root, box[0], DAY0 + 24 * HOUR)
        assert close(again.days(2, DAY0 + 24 * HOUR)[0]["baseline_cost"], base)


def test_written_at_most_hourly_and_at_midnight_and_read_back():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, ramp())
        t = DAY0 + HOUR
        rec.add(t, t + 600, 1000)
        assert rec.tick(t + 600) and rec.writes == 1
        for k in range(1, 6):  # every 10 min for 50 min: no write
            rec.add(t + k * 600, t + (k + 1) * 600, 1000)
            assert not rec.tick(t + (k + 1) * 600)
        assert rec.writes == 1
        rec.add(t + 3600, t + 4200, 1000)
        assert rec.tick(t + 4200) and rec.writes == 2  # an hour after the last write
        rec.add(t + 4200, t + 6000, 1000)
        assert not rec.tick(t + 6000) and rec.writes == 2
        rec.add(t + 6000, DAY0 + 24 * HOUR - 1800, 1000)
        assert rec.tick(DAY0 + 24 * HOUR - 1800) and rec.writes == 3  # 23:30
        rec.add(DAY0 + 24 * HOUR - 1800, DAY0 + 24 * HOUR, 1000)
        assert rec.tick(DAY0 + 24 * HOUR) and rec.writes == 4  # midnight, 30 min later
        before = rec.days(2, DAY0 + 24 * HOUR)
        again, _, _ = make(root, ramp(), DAY0 + 24 * HOUR)
        assert again.last_error is None
        assert again.days(2, DAY0 + 24 * HOUR) == before


def test_nothing_to_write_means_no_write():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, ramp())
        assert not rec.tick(DAY0 + 5 * HOUR)
        assert rec.writes == 0
        assert not _exists(root + "/" + savings.FILE)


def test_a_corrupt_or_truncated_file_starts_a_new_record_with_one_error():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, ramp())
        rec.add(DAY0 + HOUR, DAY0 + 2 * HOUR, 1000)
        rec.save(DAY0 + 2 * HOUR)
        path = root + "/" + savings.FILE
        with open(path, "rb") as f:
            data = bytearray(f.read())
        data[20] ^= 0x40
        with open(path, "wb") as f:
            f.write(data)
        bad, _, _ = make(root, ramp())
        assert "corrupt" in bad.last_error, bad.last_error
        assert bad.today(DAY0 + 3 * HOUR)["kwh"] == 0
        with open(path, "wb") as f:
            f.write(bytes(data[:100]))
        bad, _, _ = make(root, ramp())
        assert "corrupt" in bad.last_error


def test_a_cut_during_a_write_keeps_the_previous_record():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, ramp())
        rec.add(DAY0 + HOUR, DAY0 + 2 * HOUR, 1000)
        rec.save(DAY0 + 2 * HOUR)
        with open(root + "/" + savings.FILE + ".tmp", "wb") as f:
            f.write(b"WWS1half a record")  # the power went while the new file was written
        again, _, _ = make(root, ramp())
        assert again.last_error is None
        assert close(again.today(DAY0 + 3 * HOUR)["kwh"], 1.0)


def test_a_day_left_open_by_a_power_cut_is_closed_after_the_boot():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, ramp())
        rec.add(DAY0 + HOUR, DAY0 + 2 * HOUR, 1000)
        rec.save(DAY0 + 2 * HOUR)
        again, _, box = make(root, ramp(), DAY0 + 30 * HOUR)
        assert again.tick(DAY0 + 30 * HOUR)  # closes 01-15 (baseline frozen) and writes
        box[0] = None
        assert close(again.days(2, DAY0 + 30 * HOUR)[0]["baseline_cost"], 0.19)


def test_the_ring_keeps_35_days():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, hourly(DAY0, [10000] * 24 * 40))
        for d in range(40):
            t = DAY0 + d * 24 * HOUR
            rec.add(t + HOUR, t + HOUR + 360 * (d + 1), 1000)
            rec.tick(t + 2 * HOUR + 360 * 40)
        rows = rec.days(35, DAY0 + 39 * 24 * HOUR)
        assert len(rows) == 35
        assert [round(r["kwh"] * 10) for r in rows] == list(range(6, 41)), rows
        assert rows[0]["day"] == "2025-01-20" and rows[-1]["day"] == "2025-02-23", rows


def test_seconds_without_a_price_count_energy_not_cost():
    with TmpDir("sav") as root:
        s = Schedule()
        s.add(DAY0, DAY0 + HOUR, 10000)
        s.add(DAY0 + 2 * HOUR, DAY0 + 24 * HOUR, 10000)  # a gap from 01:00 to 02:00
        rec, clock, _ = make(root, s)
        rec.add(DAY0, DAY0 + 2 * HOUR, 1000)
        r = rec.today(DAY0 + 3 * HOUR)
        assert close(r["kwh"], 2.0) and close(r["cost"], 0.01), r


def _exists(path):
    try:
        os.stat(path)
        return True
    except OSError:
        return False


def test_a_running_stretch_counts_up_to_the_time_asked_and_is_not_stored_twice():
    with TmpDir("sav") as root:
        rec, clock, _ = make(root, ramp())
        rec.add(DAY0 + HOUR, DAY0 + 2 * HOUR, 1000)
        rec.running(DAY0 + 2 * HOUR, 1000)
        assert close(rec.today(DAY0 + 2 * HOUR + 1800)["cost"], 0.02 + 0.5 * 0.03)
        assert close(rec.today(DAY0 + 3 * HOUR)["kwh"], 2.0)
        rec.add(DAY0 + 2 * HOUR, DAY0 + 3 * HOUR, 1000)  # the app's next step counts it
        rec.running(None)
        assert close(rec.today(DAY0 + 4 * HOUR)["kwh"], 2.0)
        rec.running(DAY0 + 23 * HOUR, 500)  # over midnight: each day its own part
        rows = rec.days(2, DAY0 + 25 * HOUR)
        assert close(rows[0]["kwh"], 2.5) and close(rows[1]["kwh"], 0.5), rows


def test_root_none_keeps_the_record_in_ram_only():
    rec = Savings(None, Zone(CET), Clock(DAY0), lambda: ramp())
    rec.add(DAY0 + HOUR, DAY0 + 2 * HOUR, 1000)
    assert not rec.tick(DAY0 + 3 * HOUR) and rec.writes == 0
    assert close(rec.today(DAY0 + 3 * HOUR)["cost"], 0.02)
