"""The soak's invariant checker over a simulated timeline (CPython; host_sim/soak.py).

check(events, zone, forced_on, forced_off) -> {"checks": {name: n}, "violations": [text],
"heap": {...}, "log_max_bytes": n}. Invariants, over the whole run:
  relay     after the events of each moment the relay equals the last decision (off while the
            power is cut): it never moves on its own
  reason    every decision carries a documented reason (REASONS: the plan's, or a fallback's)
  forced    in every local forced-off hour the relay is off and in every forced-on hour on,
            except where a documented precedence says otherwise (planner.py: an untrusted clock
            -> safe state, a manual override) or the plug has no power
  boots     one boot at the start and one after each power cut: nothing else restarted it
  heap      the heap after each day's collection does not grow: after a week's warm-up, the
            last 30 days' mean is within HEAP_SLACK_B of the first 30 days' mean
  log       log.txt and its one rotated copy stay within 2 x LOG_FILE_MAX (+ one line)
  flash     file writes per day stay under FLASH_WRITES_PER_DAY_MAX (checked by soak.py)
"""

from firmware.app.flashstate import LOG_FILE_MAX
from firmware.plan.windows import parse_windows

HEAP_SLACK_B = 4096
FLASH_WRITES_PER_DAY_MAX = 400
WARMUP_DAYS = 7
# Decision reasons the firmware documents (planner.py, control.py), by their start.
REASONS = ("forced on", "forced off", "override", "no prices", "clock not valid",
           "out of memory", "cheapest", "1st", "2nd", "3rd", "not among", "above", "below",
           "block", "deadline", "min on", "min off", "max switches", "safe state",
           "fallback", "rate plan", "started block", "price")


def _documented(reason):
    r = reason.lower()
    for p in REASONS:
        if r.startswith(p) or (" " + p) in r:
            return True
    return r[:1].isdigit()  # "4th cheapest ...", "12th ..."


def _excused_forced(reason, want_on):
    """A documented precedence over a forced window (planner.py): an untrusted clock (safe
    state) or a manual override."""
    r = reason.lower()
    return "override" in r or "clock" in r or "safe state" in r or "no power" in r


def check(events, zone, forced_on, forced_off):
    checks = {"relay": 0, "reason": 0, "forced": 0, "boots": 0, "heap": 0, "log": 0}
    bad = []
    relay = False
    decision = None  # (t, on, reason)
    powered = True
    cuts = boots = 0
    # relay and decision over time, for the forced windows: [(t, relay_on, reason, powered)]
    states = []
    heap = []
    log_max = 0
    i = 0
    n = len(events)
    while i < n:
        t = events[i][1]
        j = i
        while j < n and events[j][1] == t:  # every event of this moment, then the check
            ev = events[j]
            k = ev[0]
            if k == "r":
                relay = ev[2]
            elif k == "d":
                decision = (t, ev[3], ev[4])
                checks["reason"] += 1
                if not _documented(ev[4]):
                    bad.append("%d: undocumented reason %r" % (t, ev[4]))
            elif k == "cut":
                cuts += 1
                powered = False
                states.append((ev[1], False, "no power", False))
                states.append((ev[2], False, "no power", False))
            elif k == "boot":
                boots += 1
                powered = True
                decision = None
            elif k == "heap":
                heap.append((t, ev[2]))
            elif k == "flash":
                files = ev[2]["files"]
                size = files.get("log.txt", 0) + files.get("log.txt.1", 0)
                log_max = max(log_max, size)
                checks["log"] += 1
                if size > 2 * LOG_FILE_MAX + 300:
                    bad.append("%d: log files hold %d bytes" % (t, size))
            j += 1
        if decision is not None and powered:
            checks["relay"] += 1
            if relay != decision[1]:
                bad.append("%d: relay %s but the decision at %d says %s (%s)" % (
                    t, relay, decision[0], decision[1], decision[2]))
            states.append((t, relay, decision[2], True))
        i = j
    checks["boots"] = 1
    if boots != 1 + cuts:
        bad.append("%d boots for %d power cuts: something else restarted the plug"
                   % (boots, cuts))
    states.sort(key=lambda s: s[0])
    t_end = events[-1][1] if events else 0
    _forced(states, zone, forced_on, True, t_end, checks, bad)
    _forced(states, zone, forced_off, False, t_end, checks, bad)
    hs = _heap(heap, checks, bad)
    return {"checks": checks, "violations": bad, "heap": hs, "log_max_bytes": log_max}


def _forced(states, zone, text, want_on, t_end, checks, bad):
    """Every state that holds inside a forced window must be want_on, or excused."""
    if not states:
        return
    wins = parse_windows(text, "forced")
    day = zone.day_start(states[0][0])
    k = 0
    while day < t_end:
        nxt = zone.next_day_start(day)
        for a_min, b_min in wins:
            a, b = day + a_min * 60, day + b_min * 60
            a += zone.offset_at(day) - zone.offset_at(a)  # local minute -> UTC, across DST
            b += zone.offset_at(day) - zone.offset_at(b)
            if b > t_end or a < states[0][0]:
                continue
            checks["forced"] += 1
            while k + 1 < len(states) and states[k + 1][0] <= a:
                k += 1
            m = k
            while m < len(states) and states[m][0] < b:
                _t, on, reason, powered = states[m]
                if states[m][0] >= a or m == k:
                    if powered and on != want_on and not _excused_forced(reason, want_on):
                        bad.append("%d: relay %s in a forced-%s window (%s)"
                                   % (max(a, _t), on, "on" if want_on else "off", reason))
                m += 1
        day = nxt


def _heap(heap, checks, bad):
    if not heap:
        bad.append("no heap figures from the device")
        return {}
    vals = [b for _t, b in heap[WARMUP_DAYS:]] or [b for _t, b in heap]
    first, last = vals[:30], vals[-30:]
    f_mean, l_mean = sum(first) / len(first), sum(last) / len(last)
    n = len(vals)
    xm = (n - 1) / 2.0
    ym = sum(vals) / n
    den = sum((x - xm) ** 2 for x in range(n)) or 1
    slope = sum((x - xm) * (y - ym) for x, y in enumerate(vals)) / den
    checks["heap"] = len(heap)
    if l_mean > f_mean + HEAP_SLACK_B:
        bad.append("heap grew: %d B (days %d-%d) -> %d B (last 30 days)" % (
            f_mean, WARMUP_DAYS, WARMUP_DAYS + len(first), l_mean))
    return {"days": len(heap), "first_30d_mean_b": round(f_mean), "last_30d_mean_b": round(l_mean),
            "slope_b_per_day": round(slope, 2), "min_b": min(vals), "max_b": max(vals)}
