# runtimes: cpython micropython
"""firmware/plan/segments.py: the compact Plan gives back exactly the segments it was built from."""

from firmware.plan.segments import Plan

from support import raises

T = 1773302400
SEGS = [(T, T + 900, False, "not in cheapest"), (T + 900, T + 1800, True, "1st cheapest"),
        (T + 1800, T + 3600, True, "2nd cheapest"), (T + 3600, T + 7200, False, "not in cheapest"),
        (T + 7200, T + 7500, True, "forced on 02:00-02:05")]


def test_segments_round_trip_and_reasons_are_stored_once():
    p = Plan(list(SEGS), safe_on=False, blocks=[(T, T + 900)])
    assert p.segments == SEGS and len(p) == 5
    assert (p.start_s, p.end_s, p.blocks) == (T, T + 7500, [(T, T + 900)])
    assert len(p._why) == 4  # "not in cheapest" once
    assert all(type(on) is bool for _s, _e, on, _r in p.segments)


def test_at_next_change_and_on_intervals():
    p = Plan(list(SEGS))
    assert p.at(T) == (False, "not in cheapest", T + 900)
    assert p.at(T + 899) == (False, "not in cheapest", T + 900)
    assert p.at(T + 900) == (True, "1st cheapest", T + 1800)
    assert p.at(T + 7499) == (True, "forced on 02:00-02:05", T + 7500)
    assert p.at(T - 1) == (False, "no plan: safe state off", None)
    assert p.at(T + 7500)[2] is None and Plan(list(SEGS), safe_on=True).at(T + 7500)[0] is True
    assert p.next_change(T) == T + 900
    assert p.next_change(T + 1000) == T + 3600  # through two ON segments
    assert p.next_change(T + 7200) == T + 7500  # ON to the end: re-plan then
    assert p.next_change(T + 7500) is None
    assert p.on_intervals() == [(T + 900, T + 3600), (T + 7200, T + 7500)]


def test_empty_plan_and_gaps():
    p = Plan([])
    assert p.segments == [] and p.at(T) == (False, "no plan: safe state off", None)
    assert p.next_change(T) is None and p.on_intervals() == []
    e = raises(ValueError, Plan, [(T, T + 60, True, "a"), (T + 120, T + 180, False, "b")])
    assert "not contiguous" in str(e)
    raises(ValueError, Plan, [(T, T, True, "empty")])


def test_a_long_plan_keeps_its_offsets():
    # three days of 15-minute segments, alternating, each with its own reason: offsets beyond
    # 16 bits, codes past 8 bits
    segs = [(T + k * 900, T + (k + 1) * 900, k % 2 == 1, "r%d" % k) for k in range(3 * 96)]
    p = Plan(segs)
    assert p.segments == segs
    assert p.at(T + 287 * 900 + 5) == (True, "r287", T + 288 * 900)
