# runtimes: cpython micropython
from firmware.prices.schedule import FLAG_FORECAST, NO_PRICE, Schedule, format_price, price_u

from support import raises

T0 = 1752595200  # 2025-07-15T16:00:00Z
H = 3600
M15 = 900


def make(items, **meta):
    """items: (start_s, end_s, price_u[, name[, flags]])"""
    s = Schedule(meta.pop("source", "test"))
    for it in items:
        s.add(*it)
    for k, v in meta.items():
        setattr(s, k, v)
    return s


def spans(s):
    """Every interval as (start, end, price or None, name, flags)."""
    out = []
    for i in range(len(s)):
        p = s.prices[i]
        out.append((s.start_of(i), s.end_of(i), None if p == NO_PRICE else p, s.name_of(i),
                    s.flags[i]))
    return out


def hourly(t0, prices, step=H, name=None):
    return make([(t0 + k * step, t0 + (k + 1) * step, p, name) for k, p in enumerate(prices)])


# -- price_u / format_price ---------------------------------------------------------------

def test_price_u_strings_exact():
    assert price_u("0.053046") == 53046
    assert price_u("0.0714") == 71400
    assert price_u("1") == 1000000
    assert price_u("12.5") == 12500000
    assert price_u(".5") == 500000
    assert price_u("5.") == 5000000
    assert price_u("  0.25 ") == 250000
    assert price_u("+0.000001") == 1
    assert price_u("-0.012") == -12000
    assert price_u("0") == 0


def test_price_u_string_rounding_half_away_from_zero():
    assert price_u("0.0530465") == 53047
    assert price_u("0.0530464999") == 53046
    assert price_u("0.0000005") == 1
    assert price_u("0.0000004999999") == 0
    assert price_u("-0.0530465") == -53047
    assert price_u("-0.0530464") == -53046
    # a binary float would get this one wrong: 0.1234565 is 0.12345649999... as a double
    assert price_u("0.1234565") == 123457
    assert price_u("0.9999995") == 1000000


def test_price_u_numbers():
    assert price_u(0.0714) == 71400
    assert price_u(0.31453) == 314530
    assert price_u(-0.095388) == -95388
    assert price_u(2) == 2000000
    assert price_u(0) == 0
    assert price_u("1e-3") == 1000


def test_price_u_rejects_garbage():
    for bad in ("", "abc", "1.2.3", "-", "0x10", " . ", "1,5"):
        raises(ValueError, price_u, bad)
    for bad in (None, True, [1], {"a": 1}):
        raises(ValueError, price_u, bad)


def test_format_price():
    assert format_price(71400) == "0.0714"
    assert format_price(53046) == "0.0530"
    assert format_price(53050) == "0.0531"
    assert format_price(-12000) == "-0.0120"
    assert format_price(1000000, 2) == "1.00"
    assert format_price(1500000, 0) == "2"
    assert format_price(None) == "-"
    assert format_price(NO_PRICE) == "-"
    assert format_price(price_u("0.409918"), 6) == "0.409918"


# -- building ------------------------------------------------------------------------------

def test_add_and_basic_queries():
    s = hourly(T0, [100, 200, 300])
    assert len(s) == 3
    assert s.coverage() == (T0, T0 + 3 * H)
    assert s.price_at(T0) == 100
    assert s.price_at(T0 + H - 1) == 100
    assert s.price_at(T0 + H) == 200
    assert s.price_at(T0 + 3 * H - 1) == 300
    assert s.price_at(T0 + 3 * H) is None
    assert s.price_at(T0 - 1) is None
    assert s.index_at(T0 + 2 * H + 5) == 2
    assert s.index_at(T0 - 1) == -1
    assert s.covers(T0 + 10) and not s.covers(T0 + 3 * H)
    assert s.last_price_end() == T0 + 3 * H


def test_empty_schedule():
    s = Schedule()
    assert len(s) == 0
    assert s.coverage() is None
    assert s.price_at(T0) is None
    assert s.next_change(T0) is None
    assert list(s.window(T0, T0 + H)) == []
    assert s.last_price_end() is None
    s.drop_before(T0)
    assert len(s) == 0


def test_gap_becomes_no_price_interval():
    s = make([(T0, T0 + H, 100), (T0 + 2 * H, T0 + 3 * H, 300)])
    assert len(s) == 3
    assert spans(s)[1] == (T0 + H, T0 + 2 * H, None, "", 0)
    assert s.price_at(T0 + H + 5) is None
    assert s.price_at(T0 + 2 * H) == 300
    assert not s.covers(T0 + H)


def test_add_rejects_overlap_and_empty():
    s = hourly(T0, [1, 2])
    raises(ValueError, s.add, T0 + H, T0 + 3 * H, 5)
    raises(ValueError, s.add, T0 + 3 * H, T0 + 3 * H, 5)
    raises(ValueError, s.add, T0 + 4 * H, T0 + 3 * H, 5)
    assert len(s) == 2  # nothing half-added


def test_names_and_flags():
    s = make([(T0, T0 + H, 1, "Off-Peak"), (T0 + H, T0 + 2 * H, 2, "Peak", FLAG_FORECAST),
              (T0 + 2 * H, T0 + 3 * H, 1, "Off-Peak"), (T0 + 3 * H, T0 + 4 * H, 1)])
    assert s.names == ["Off-Peak", "Peak"]
    assert [s.name_of(i) for i in range(4)] == ["Off-Peak", "Peak", "Off-Peak", ""]
    assert list(s.flags) == [0, FLAG_FORECAST, 0, 0]


def test_name_table_overflow_keeps_prices():
    s = Schedule()
    for k in range(300):
        s.add(T0 + k * 60, T0 + (k + 1) * 60, k, "name %d" % k)
    assert len(s.names) == 250
    assert s.name_of(299) == "" and s.name_of(10) == "name 10"
    assert s.price_at(T0 + 299 * 60) == 299


def test_bytes_per_interval_at_most_12():
    s = hourly(T0, list(range(96)), step=M15)
    per = (len(bytes(s.starts)) + len(bytes(s.prices)) + len(s.name_idx)
           + len(s.flags)) / len(s)
    assert per <= 12


# -- irregular and regular interval lengths ---------------------------------------------

def test_5_15_60_minute_and_irregular():
    for step in (300, M15, H):
        s = hourly(T0, [10 * k for k in range(12)], step=step)
        assert s.coverage() == (T0, T0 + 12 * step)
        for k in range(12):
            assert s.price_at(T0 + k * step) == 10 * k
            assert s.price_at(T0 + (k + 1) * step - 1) == 10 * k
    # Smart Price style: changes at 09:12, 15:00, 16:00, 21:00 (odd lengths)
    edges = [T0 - 5 * H - 48 * 60, T0 - 60, T0 + 7 * 60, T0 + 5 * H + 1, T0 + 8 * H]
    s = make([(edges[k], edges[k + 1], 100 + k) for k in range(4)])
    for k in range(4):
        assert s.price_at(edges[k]) == 100 + k
        assert s.price_at(edges[k + 1] - 1) == 100 + k
        assert s.next_change(edges[k]) == edges[k + 1]


def test_next_change_skips_equal_neighbours():
    s = hourly(T0, [5, 5, 7, 7, 7, 5])
    assert s.next_change(T0) == T0 + 2 * H
    assert s.next_change(T0 + 2 * H + 1) == T0 + 5 * H
    assert s.next_change(T0 + 5 * H) == T0 + 6 * H  # end of data
    assert s.next_change(T0 - 100) == T0
    assert s.next_change(T0 + 6 * H) is None


def test_next_change_into_and_out_of_gap():
    s = make([(T0, T0 + H, 5), (T0 + 2 * H, T0 + 3 * H, 5)])
    assert s.next_change(T0) == T0 + H
    assert s.next_change(T0 + H) == T0 + 2 * H
    assert s.next_change(T0 + 2 * H) == T0 + 3 * H


def test_window_clips_and_includes_gaps():
    s = make([(T0, T0 + H, 1), (T0 + 2 * H, T0 + 3 * H, 3)])
    w = list(s.window(T0 + 30 * 60, T0 + 2 * H + 60))
    assert w == [(T0 + 1800, T0 + H, 1, 0), (T0 + H, T0 + 2 * H, NO_PRICE, 1),
                 (T0 + 2 * H, T0 + 2 * H + 60, 3, 2)]
    # every second of the overlap appears exactly once
    assert sum(e - b for b, e, _p, _i in w) == 2 * H + 60 - 1800
    assert list(s.window(T0 - H, T0)) == []
    assert list(s.window(T0 + 3 * H, T0 + 4 * H)) == []
    assert list(s.window(T0 - H, T0 + 1)) == [(T0, T0 + 1, 1, 0)]
    assert [x[3] for x in s.window(T0 - H, T0 + 9 * H)] == [0, 1, 2]


# -- merge ---------------------------------------------------------------------------------

def test_merge_disjoint_appends():
    old = hourly(T0, [1, 2])
    new = hourly(T0 + 2 * H, [3, 4])
    m = old.merge(new)
    assert [x[2] for x in spans(m)] == [1, 2, 3, 4]
    assert m.coverage() == (T0, T0 + 4 * H)


def test_merge_disjoint_with_gap_between():
    old = hourly(T0, [1])
    new = hourly(T0 + 3 * H, [4])
    m = old.merge(new)
    assert spans(m) == [(T0, T0 + H, 1, "", 0), (T0 + H, T0 + 3 * H, None, "", 0),
                        (T0 + 3 * H, T0 + 4 * H, 4, "", 0)]
    m2 = new.merge(old)  # order of arguments only decides who wins overlaps
    assert [x[:3] for x in spans(m2)] == [x[:3] for x in spans(m)]


def test_merge_newer_wins_on_overlap():
    old = hourly(T0, [1, 2, 3, 4])
    new = hourly(T0 + H, [20, 30])
    m = old.merge(new)
    assert [x[:3] for x in spans(m)] == [(T0, T0 + H, 1), (T0 + H, T0 + 2 * H, 20),
                                         (T0 + 2 * H, T0 + 3 * H, 30),
                                         (T0 + 3 * H, T0 + 4 * H, 4)]


def test_merge_corrected_refetch_replaces_everything_it_covers():
    old = hourly(T0, [1, 2, 3], name="old")
    old.flags[1] = FLAG_FORECAST
    new = hourly(T0, [9, 8, 7], name="new")
    m = old.merge(new)
    assert spans(m) == spans(new)
    assert m.names == ["new"]


def test_merge_splits_older_interval_around_newer():
    old = make([(T0, T0 + 4 * H, 100, "long")])
    new = make([(T0 + H + 900, T0 + 2 * H, 5, "short")])
    m = old.merge(new)
    assert spans(m) == [(T0, T0 + H + 900, 100, "long", 0),
                        (T0 + H + 900, T0 + 2 * H, 5, "short", 0),
                        (T0 + 2 * H, T0 + 4 * H, 100, "long", 0)]


def test_merge_keeps_long_older_interval_whole_across_newer_boundaries():
    # newer has a gap in the middle: old fills it, and old's interval is not fragmented
    old = make([(T0, T0 + 6 * H, 50)])
    new = make([(T0, T0 + H, 1), (T0 + 4 * H, T0 + 5 * H, 2)])
    m = old.merge(new)
    assert [x[:3] for x in spans(m)] == [(T0, T0 + H, 1), (T0 + H, T0 + 4 * H, 50),
                                         (T0 + 4 * H, T0 + 5 * H, 2),
                                         (T0 + 5 * H, T0 + 6 * H, 50)]


def test_merge_newer_finer_grid():
    old = hourly(T0, [10, 20])
    new = hourly(T0 + H // 2, [1, 2, 3, 4], step=M15)  # covers [T0+30m, T0+90m)
    m = old.merge(new)
    assert [x[:3] for x in spans(m)] == [
        (T0, T0 + 1800, 10), (T0 + 1800, T0 + 2700, 1), (T0 + 2700, T0 + 3600, 2),
        (T0 + 3600, T0 + 4500, 3), (T0 + 4500, T0 + 5400, 4), (T0 + 5400, T0 + 7200, 20)]


def test_merge_with_empty_sides_and_metadata():
    old = hourly(T0, [1, 2])
    old.tariff_id, old.fetched_s = "1", 5
    new = Schedule("arcadia")
    new.tariff_id, new.fetched_s, new.mean_u = "2", 9, 123
    m = old.merge(new)
    assert [x[:3] for x in spans(m)] == [x[:3] for x in spans(old)]
    assert (m.source, m.tariff_id, m.fetched_s, m.mean_u) == ("arcadia", "2", 9, 123)
    m2 = Schedule().merge(old)
    assert spans(m2) == spans(old)
    assert len(Schedule().merge(Schedule())) == 0


def test_merge_equal_adjacent_prices_stay_separate_intervals():
    old = hourly(T0, [5])
    new = hourly(T0 + H, [5])
    m = old.merge(new)
    assert len(m) == 2 and m.next_change(T0) == T0 + 2 * H


def test_merge_result_is_consistent_for_many_shapes():
    # brute force: compare merge against a per-minute reference on random layouts
    import random

    random.seed(7)
    for _ in range(40):
        a = _random_sched(random, T0)
        b = _random_sched(random, T0 + random.randint(-3, 3) * 600)
        m = a.merge(b)
        lo, hi = T0 - 4 * H, T0 + 8 * H
        for t in range(lo, hi, 300):
            pb = b.price_at(t)
            want = pb if pb is not None else a.price_at(t)
            assert m.price_at(t) == want, (t, want, m.price_at(t))
        # intervals contiguous and increasing
        for i in range(1, len(m)):
            assert m.starts[i] > m.starts[i - 1]


def _random_sched(random, t0):
    s = Schedule()
    t = t0 + random.randint(-6, 6) * 300
    for _ in range(random.randint(0, 8)):
        t += random.choice((0, 0, 0, 900))
        d = random.choice((300, 900, 3600, 1200))
        s.add(t, t + d, random.randint(-3, 3))
        t += d
    return s


# -- drop_before ---------------------------------------------------------------------------

def test_drop_before_keeps_current_interval():
    s = hourly(T0, [1, 2, 3, 4], name="n")
    s.tariff_id = "x"
    s.drop_before(T0 + H + 10)
    assert s.coverage() == (T0 + H, T0 + 4 * H)
    assert [x[2] for x in spans(s)] == [2, 3, 4]
    assert s.name_of(0) == "n" and s.tariff_id == "x"
    assert s.starts[0] == 0
    assert s.price_at(T0 + 3 * H) == 4


def test_drop_before_exact_boundary_and_noop():
    s = hourly(T0, [1, 2, 3])
    s.drop_before(T0)
    assert len(s) == 3
    s.drop_before(T0 + H)  # the first interval ended exactly at T0+H
    assert s.coverage() == (T0 + H, T0 + 3 * H)


def test_drop_before_skips_leading_gap_and_all():
    s = make([(T0, T0 + H, 1), (T0 + 3 * H, T0 + 4 * H, 4)])
    s.drop_before(T0 + H)
    assert s.coverage() == (T0 + 3 * H, T0 + 4 * H) and len(s) == 1
    s.tariff_desc = "kept"
    s.drop_before(T0 + 10 * H)
    assert len(s) == 0 and s.coverage() is None and s.tariff_desc == "kept"
    s.add(T0, T0 + H, 7)  # usable again after being emptied
    assert s.price_at(T0) == 7


def test_same_as():
    a = hourly(T0, [1, 2], name="x")
    b = hourly(T0, [1, 2], name="x")
    assert a.same_as(b)
    b.prices[1] = 3
    assert not a.same_as(b)
    c = hourly(T0, [1, 2], name="x")
    c.tariff_id = "other"
    assert not a.same_as(c)
    d = hourly(T0, [1, 2], name="x")
    d.mean_u, d.std_u, d.fetched_s = 5, 6, 7  # window statistics and fetch time: not content
    assert a.same_as(d)


def test_reserve_keeps_content_and_preallocates():
    import gc

    from firmware.compat import MICROPYTHON

    s = hourly(T0, [1, 2], name="x")
    s.reserve(200)
    assert len(s) == 2 and list(s.prices) == [1, 2] and s.name_of(1) == "x"
    assert len(s.starts) == len(s.prices) == len(s.name_idx) == len(s.flags) == 2
    gc.collect()
    before = gc.mem_alloc() if MICROPYTHON else 0
    for k in range(2, 202):
        s.add(T0 + k * H, T0 + (k + 1) * H, k, "x", k & 1)
    if MICROPYTHON:  # the arrays were not reallocated: 200 intervals cost (almost) nothing
        gc.collect()
        assert gc.mem_alloc() - before < 200, gc.mem_alloc() - before
    assert len(s) == 202 and s.price_at(T0 + 201 * H) == 201 and s.flags[201] == 1
    assert s.end_s == T0 + 202 * H and s.name_of(150) == "x"
