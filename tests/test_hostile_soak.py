"""The soak (host_sim/soak.py, `make soak`): its invariant checker catches what it claims to,
and a short soak passes on the MicroPython unix port (CPython drives it)."""

from firmware.clock import tz
from host_sim import soak, soak_check

ZONE = tz.Zone("UTC0")
DAY = 86400
T = 1700006400  # a UTC midnight


def _ok_timeline(days=40, heap=200000):
    """A plausible plug: forced windows kept, the relay following its decisions."""
    ev = [["boot", T]]
    for d in range(days):
        day = T + d * DAY
        for t, on, why in ((day + 6 * 3600, True, "forced on 06:00-07:00"),
                           (day + 7 * 3600, False, "not among the 4 cheapest"),
                           (day + 18 * 3600, False, "forced off 18:00-19:00"),
                           (day + 19 * 3600, False, "not among the 4 cheapest")):
            if on:
                ev.append(["r", t, True])
            ev.append(["d", t, t, on, why])
            if not on and why.startswith("not"):
                ev.append(["r", t, False])
        ev.append(["tick", day + DAY - 1])
        ev.append(["heap", day + DAY - 1, heap, 1000])
        ev.append(["flash", day + DAY - 1, {"writes": 10 * d, "bytes": 100 * d,
                                            "files": {"log.txt": 900}}])
    ev.sort(key=lambda e: e[1])
    return ev


def _check(ev):
    return soak_check.check(ev, ZONE, soak.FORCED_ON, soak.FORCED_OFF)


def test_a_good_timeline_passes_with_every_check_counted():
    r = _check(_ok_timeline())
    assert r["violations"] == [], r["violations"][:3]
    assert r["checks"]["forced"] == 80 and r["checks"]["relay"] >= 80
    assert r["checks"]["heap"] == 40 and r["heap"]["slope_b_per_day"] == 0


def test_relay_on_in_a_forced_off_hour_is_caught():
    ev = _ok_timeline(10)
    t = T + 3 * DAY + 18 * 3600 + 600
    ev += [["r", t, True], ["d", t, t, True, "1st cheapest of today's 4 h"]]
    ev.sort(key=lambda e: e[1])
    bad = _check(ev)["violations"]
    assert any("forced-off" in b for b in bad), bad


def test_an_override_in_a_forced_hour_is_a_documented_precedence():
    ev = _ok_timeline(10)
    t = T + 3 * DAY + 18 * 3600 + 600
    ev += [["r", t, True], ["d", t, t, True, "override on until 19:10"]]
    ev.sort(key=lambda e: e[1])
    assert _check(ev)["violations"] == []


def test_a_relay_that_moves_without_a_decision_is_caught():
    ev = _ok_timeline(5)
    ev.append(["r", T + 2 * DAY + 3 * 3600, True])
    ev.sort(key=lambda e: e[1])
    bad = _check(ev)["violations"]
    assert any("but the decision" in b for b in bad), bad


def test_undocumented_reasons_extra_boots_heap_growth_and_log_growth_are_caught():
    ev = _ok_timeline(60)
    t = T + 2 * DAY + 3 * 3600
    ev.append(["d", t, t, False, "whatever"])
    ev.append(["boot", T + 5 * DAY])
    for e in ev:
        if e[0] == "heap" and e[1] > T + 30 * DAY:
            e[2] += 10000
        if e[0] == "flash" and e[1] > T + 50 * DAY:
            e[2]["files"] = {"log.txt": 9000, "log.txt.1": 9000}
    ev.sort(key=lambda e: e[1])
    bad = " | ".join(_check(ev)["violations"])
    for want in ("undocumented reason", "boots for 0 power cuts", "heap grew", "log files"):
        assert want in bad, (want, bad)


def test_faults_come_from_the_seed():
    a = soak.draw(42, T, T + 365 * DAY)
    b = soak.draw(42, T, T + 365 * DAY)
    c = soak.draw(43, T, T + 365 * DAY)
    key = lambda d: [f.to_list() for f in d[0] + d[1]] + [d[2]]  # noqa: E731
    assert key(a) == key(b) and key(a) != key(c)
    kinds = {f.kind for f in a[0]} | {f.kind for f in a[1]}
    assert kinds == {"outage", "error", "slow", "truncate", "wifi", "powercut", "button",
                     "override"}, kinds


def test_flash_wear_figures():
    days = [(T + d * DAY, {"writes": 50 * d, "bytes": 10000 * d}) for d in range(11)]
    w = soak.wear(days)
    assert w["writes_per_day_mean"] == 50 and w["writes_per_day_max"] == 50
    # 50 writes + 3 blocks of bytes a day: 53 erases a day, 19,345 a year
    assert w["erases_per_year_est"] == 53 * 365


def test_a_short_soak_passes_on_micropython():
    assert soak.main(["--seed", "7", "--days", "4"]) == 0
