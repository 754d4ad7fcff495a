"""Planner speed (issue 4 "Done when"): `.venv/bin/python tests/bench.py planner`.

- planner_us_7d_15min: microseconds for one plan() over 7 days of 15-minute prices (672
  intervals, PST8PDT, mode cheapest 4 h per local day with a price cap, min on time and a forced
  window), median of RUNS runs, measured in a MicroPython unix-port subprocess (this file is
  the script it runs).
- planner_vs_sort: that time divided by the time to sort the same 672 prices (a list copy +
  list.sort(), median of RUNS), in the same MicroPython run. O(n log n) planning stays a small
  constant multiple of it.
- planner_us_7d_15min_block: the same in block mode (3 h contiguous block per day).
- planner_min_heap_7d_bytes: smallest `-X heapsize` (tests/minheap.py bisection, 64-bit unix
  port, modules compiled from source) at which building that week and planning it once works;
  planner_heap_7d_bytes: that minus the same script without the plan() call (the planner's own
  peak; an ESP32's 32-bit objects need less).
- planner_us_7d_15min_cpython: the first figure under CPython, for comparison.
"""

import os
import sys
import time

RUNS = 15
T0 = 1773302400  # 2026-03-12T08:00:00Z = 01:00 PDT
STEP = 900
N = 7 * 96


def _prices():
    out = []
    for k in range(N):
        hour = (k * STEP // 3600 + 1) % 24
        out.append(150000 + 300000 * (16 <= hour < 21) + (k * 7919) % 97 * 1000)
    return out


def _setup(mode):
    from firmware.clock.tz import Zone
    from firmware.plan.planner import Policy
    from firmware.prices.schedule import Schedule

    s = Schedule()
    prices = _prices()
    for k in range(N):
        s.add(T0 + k * STEP, T0 + (k + 1) * STEP, prices[k])
    cfg = {"policy.mode": mode, "policy.hours": 4 if mode == "cheapest" else 3,
           "policy.off_above": "0.40", "policy.min_on_min": 30,
           "policy.forced_on": "06:00-06:30"}
    return s, Policy.from_config(cfg), Zone("PST8PDT,M3.2.0,M11.1.0"), prices


def _median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def measure(mode="cheapest"):
    """(plan_us, sort_us) medians on the running interpreter."""
    from firmware.plan.planner import State, plan

    try:
        ticks, diff = time.ticks_us, time.ticks_diff
    except AttributeError:
        def ticks():
            return time.perf_counter_ns() // 1000

        def diff(a, b):
            return a - b

    s, pol, zone, prices = _setup(mode)
    plan_t, sort_t = [], []
    for _ in range(RUNS):
        st = State()
        st.clock_valid = True
        t = ticks()
        p = plan(s, pol, T0 + 3600, st, zone)
        plan_t.append(diff(ticks(), t))
        assert len(p.segments) > 7
        t = ticks()
        lst = list(prices)
        lst.sort()
        sort_t.append(diff(ticks(), t))
    return _median(plan_t), max(1, _median(sort_t))


def _micropython():
    import minheap

    return minheap.micropython_cmd()


def run():
    import subprocess

    tests = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(tests)
    env = dict(os.environ)
    env["MICROPYPATH"] = ".frozen:%s:%s" % (root, tests)
    out = subprocess.run([_micropython(), "-X", "heapsize=4m", os.path.join(tests,
                          "bench_planner.py")], env=env, capture_output=True, text=True,
                         timeout=600, cwd=root)
    if out.returncode != 0:
        raise RuntimeError("micropython bench failed:\n" + out.stderr[-2000:] + out.stdout[-2000:])
    vals = {}
    for line in out.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2:
            vals[parts[0]] = int(parts[1])
    yield {"name": "planner_us_7d_15min", "value": vals["plan_us"], "unit": "us",
           "runtime": "micropython"}
    yield {"name": "planner_vs_sort", "value": round(vals["plan_us"] / vals["sort_us"], 1),
           "unit": "x", "runtime": "micropython"}
    yield {"name": "planner_us_7d_15min_block", "value": vals["block_us"], "unit": "us",
           "runtime": "micropython"}
    import minheap

    script = os.path.join(tests, "bench_planner.py")
    with_plan = minheap.min_heap([script, "plan"])
    without = minheap.min_heap([script, "base"])
    yield {"name": "planner_min_heap_7d_bytes", "value": with_plan, "unit": "bytes",
           "runtime": "micropython"}
    yield {"name": "planner_heap_7d_bytes", "value": with_plan - without, "unit": "bytes",
           "runtime": "micropython"}
    sys.path.insert(0, root)
    plan_us, _sort_us = measure()
    yield {"name": "planner_us_7d_15min_cpython", "value": plan_us, "unit": "us",
           "runtime": "cpython"}


def _heap_script(do_plan):
    """For the heap bisection: build the week, plan it once (or not), print OK."""
    import gc

    from firmware.plan.planner import State, plan

    s, pol, zone, prices = _setup("cheapest")
    del prices
    gc.collect()
    if do_plan:
        st = State()
        st.clock_valid = True
        p = plan(s, pol, T0 + 3600, st, zone)
        assert len(p.segments) > 7
    print("OK")


if __name__ == "__main__" and len(sys.argv) > 1:
    _heap_script(sys.argv[1] == "plan")
elif __name__ == "__main__":
    plan_us, sort_us = measure("cheapest")
    print("plan_us", plan_us)
    print("sort_us", sort_us)
    print("block_us", measure("block")[0])
