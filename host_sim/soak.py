"""`make soak`: a year of the plug on the MicroPython unix port, random faults, invariants.

    python -m host_sim.soak [--seed N] [--days 365] [--heap 320k] [--json FILE]

The simulator (runner.simulate) runs the firmware from .mpy in an ESP32-sized heap (HEAP, on
the 64-bit port) on a year of 15-minute prices (CAISO NP15, interpolated from the real hourly
day-ahead series: no real 15-minute series ships here), with faults drawn from a printed seed
(the same seed draws the same faults): API outages of minutes to days, HTTP errors, slow and
truncated answers, Wi-Fi loss, power cuts, clock loss after every boot, button presses and
overrides. Forced windows are set (on 06:00-07:00, off 18:00-19:00 local) so that the relay's
duty is known hour by hour.

soak_check.check() then walks the whole timeline (see its docstring for the invariants); any
violation fails the run (exit 1) with the seed to reproduce it. Power cuts inside a flash write
are the LittleFS test's job (tests/test_store_powerloss.py, 1,000 kills in `make soak`): the
simulator's flash is a host directory.
"""

import argparse
import json
import math
import os
import random
import sys
import time

from .faults import Fault
from .runner import Options, SimError, load_series, run_span, simulate, zone_for
from .soak_check import FLASH_WRITES_PER_DAY_MAX, check

FORCED_ON = "06:00-07:00"
FORCED_OFF = "18:00-19:00"
# faults per year of each kind: (count, shortest, longest duration in seconds)
PER_YEAR = {
    "outage": (12, 600, 3 * 86400),
    "error": (20, 600, 12 * 3600),
    "slow": (15, 1800, 6 * 3600),
    "truncate": (15, 1800, 6 * 3600),
    "wifi": (10, 300, 2 * 86400),
    "powercut": (24, 60, 8 * 3600),
}
BUTTONS_PER_YEAR = 30
OVERRIDES_PER_YEAR = 20
# The heap: firmware from .mpy on the 64-bit unix port, where code and objects take about twice
# an ESP32's bytes; 320 KB is ~160 KB of 32-bit heap. (A plug without PSRAM runs the firmware
# frozen into flash instead: README "Which image"; 110wk no longer boots from .mpy.)
HEAP = "320k"
TIME_SCALE = 0.01  # wall seconds per simulated second for socket time-outs (at least 1 s)
# An ESP32 without PSRAM: a 4 MB flash whose `vfs` partition is 2 MiB = 512 blocks of 4 KiB,
# NOR flash rated for 100,000 erase cycles per block; LittleFS spreads writes over them all.
FLASH_BLOCKS = 512
BLOCK_BYTES = 4096
ENDURANCE_CYCLES = 100000


def _log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def draw(seed, t0, t1):
    """(faults, actions, clock_loss_s) for the run [t0, t1) from `seed`."""
    rng = random.Random(seed)
    span = t1 - t0
    years = span / (365 * 86400.0)
    faults = []
    for kind, (n, lo, hi) in sorted(PER_YEAR.items()):
        for _ in range(max(1, round(n * years))):
            a = t0 + rng.randrange(span)
            d = _log_uniform(rng, lo, hi)
            arg = None
            if kind == "error":
                arg = str(rng.choice((429, 500, 503)))
            elif kind == "slow":
                arg = str(rng.randrange(200, 900))  # simulated s before the head: past time-outs
            faults.append(Fault(kind, a, min(a + d, t1), arg))
    actions = []
    for _ in range(max(1, round(BUTTONS_PER_YEAR * years))):
        t = t0 + rng.randrange(span)
        actions.append(Fault("button", t, t))
    for _ in range(max(1, round(OVERRIDES_PER_YEAR * years))):
        t = t0 + rng.randrange(span - 86400)
        d = rng.randrange(2, 25) * 900
        actions.append(Fault("override", t, t + d, rng.choice(("on", "off"))))
    actions.sort(key=lambda a: a.t0)
    clock_loss_s = rng.randrange(60, 7200)
    return faults, actions, clock_loss_s


def options(seed, days, heap, mpy=True):
    probe = Options(days=days, resolution="15min")
    path, series = load_series(probe)
    _rule, zone, _pub = zone_for(probe, path)
    t0, t1 = run_span(probe, series, zone)
    faults, actions, loss = draw(seed, t0, t1)
    return Options(
        days=days, resolution="15min", runtime="micropython", mpy=mpy, mpy_heap=heap,
        faults=faults, actions=actions, clock_loss_s=loss, time_scale=TIME_SCALE, log=True,
        device_module="soak_device",
        # fetch.timeout_s is the client's per-read wait in WALL seconds on MicroPython (it
        # polls its sockets; the simulated HAL scales only the sockets' own time-outs): at its
        # least, 2 s, a slow answer (3-9 s of wall time here) still times out
        cfg={"policy.forced_on": FORCED_ON, "policy.forced_off": FORCED_OFF,
             "fetch.timeout_s": 2})


def wear(flash_days):
    """Flash figures from the daily ["flash", t, counters] events: writes and bytes per day,
    and the wear per year as a share of the chip's endurance (each write taken to cost the
    erase of every 4 KiB block it touches plus one metadata block: LittleFS is copy-on-write)."""
    per_day, bytes_day, erases = [], [], 0
    for (_t, a), (_t2, b) in zip(flash_days, flash_days[1:], strict=False):
        w = b["writes"] - a["writes"]
        by = b["bytes"] - a["bytes"]
        per_day.append(w)
        bytes_day.append(by)
        erases += w + (by + BLOCK_BYTES - 1) // BLOCK_BYTES
    days = max(1, len(per_day))
    erases_year = erases * 365.0 / days
    return {
        "writes_per_day_mean": round(sum(per_day) / days, 1),
        "writes_per_day_max": max(per_day) if per_day else 0,
        "bytes_per_day_mean": round(sum(bytes_day) / days),
        "erases_per_year_est": round(erases_year),
        "wear_per_year_pct_of_endurance": round(
            100.0 * erases_year / (FLASH_BLOCKS * ENDURANCE_CYCLES), 4),
    }


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m host_sim.soak", description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=None, help="fault seed (default: random)")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--heap", default=HEAP, help="MicroPython -X heapsize (default %(default)s)")
    p.add_argument("--source", action="store_true", help="run .py, not .mpy")
    p.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    a = p.parse_args(argv)
    seed = a.seed if a.seed is not None else int.from_bytes(os.urandom(4), "little")
    print("soak: seed %d (reproduce: python -m host_sim.soak --seed %d --days %d --heap %s)"
          % (seed, seed, a.days, a.heap), flush=True)
    opts = options(seed, a.days, a.heap, not a.source)
    kinds = {}
    for f in opts.faults + opts.actions:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    kinds["clock_loss_after_boot_s"] = opts.clock_loss_s
    wall0 = time.monotonic()
    try:
        res = simulate(opts)
    except SimError as e:
        print("soak: FAILED (seed %d): the device did not survive: %s" % (seed, e))
        return 1
    wall = time.monotonic() - wall0
    report = check(res.events, res.zone, FORCED_ON, FORCED_OFF)
    flash = [(e[1], e[2]) for e in res.events if e[0] == "flash"]
    figures = {
        "seed": seed, "days": round(res.summary["days"], 1), "heapsize": a.heap,
        "resolution_s": res.summary["resolution_s"], "wall_s": round(wall, 1),
        "faults_and_actions": kinds, "fetches": res.summary["fetches"],
        "fetch_failures": res.summary["fetch_failures"], "boots": res.summary["boots"],
        "switches": res.summary["switches"], "invariant_checks": report["checks"],
        "heap_after_daily_gc": report["heap"], "flash": wear(flash),
        "log_max_bytes": report["log_max_bytes"],
        "gap_to_optimal_pct": res.summary["gap_to_optimal_pct"],
        "violations": report["violations"][:20], "violation_count": len(report["violations"]),
    }
    if figures["flash"]["writes_per_day_max"] > FLASH_WRITES_PER_DAY_MAX:
        figures["violations"].append("flash writes on one day: %d > %d" % (
            figures["flash"]["writes_per_day_max"], FLASH_WRITES_PER_DAY_MAX))
        figures["violation_count"] += 1
    print(json.dumps(figures, indent=1))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(figures, f, indent=1)
    if figures["violation_count"]:
        print("soak: FAILED (seed %d): %d invariant violations" % (seed,
                                                                 figures["violation_count"]))
        return 1
    print("soak: ok (seed %d): %d days, %d invariant checks, 0 violations"
          % (seed, figures["days"], sum(report["checks"].values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
