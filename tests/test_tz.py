# runtimes: cpython micropython
"""firmware.clock.tz: POSIX TZ rules, local days across DST, gaps and overlaps."""

from firmware.clock.iso import format_iso, parse_iso
from firmware.clock.tz import Zone

from support import raises

PAC = "PST8PDT,M3.2.0,M11.1.0"
CET = "CET-1CEST,M3.5.0,M10.5.0/3"


def local(z, t):
    return format_iso(t, z.offset_at(t))


def test_pacific_offsets_around_2025_transitions():
    z = Zone(PAC)
    # spring forward 2025-03-09 02:00 PST = 10:00Z; fall back 2025-11-02 02:00 PDT = 09:00Z
    assert z.offset_at(parse_iso("2025-03-09T09:59:59Z")) == -8 * 3600
    assert z.offset_at(parse_iso("2025-03-09T10:00:00Z")) == -7 * 3600
    assert z.offset_at(parse_iso("2025-11-02T08:59:59Z")) == -7 * 3600
    assert z.offset_at(parse_iso("2025-11-02T09:00:00Z")) == -8 * 3600
    assert z.name_at(parse_iso("2025-07-01T00:00:00Z")) == "PDT"


def test_cet_offsets_with_explicit_end_time():
    z = Zone(CET)
    # 2024: CEST from 2024-03-31 01:00Z to 2024-10-27 01:00Z
    assert z.offset_at(parse_iso("2024-03-31T00:59:59Z")) == 3600
    assert z.offset_at(parse_iso("2024-03-31T01:00:00Z")) == 7200
    assert z.offset_at(parse_iso("2024-10-27T00:59:59Z")) == 7200
    assert z.offset_at(parse_iso("2024-10-27T01:00:00Z")) == 3600


def test_central_and_fixed_rules():
    z = Zone("CST6CDT,M3.2.0,M11.1.0")
    assert z.offset_at(parse_iso("2022-07-01T12:00:00Z")) == -5 * 3600
    assert z.offset_at(parse_iso("2022-01-01T12:00:00Z")) == -6 * 3600
    assert Zone("UTC0").offset_at(1700000000) == 0
    assert Zone("EST5").offset_at(parse_iso("2022-07-01T12:00:00Z")) == -5 * 3600
    assert Zone("<+0530>-5:30").offset_at(0) == 19800
    f = Zone.fixed(3600)
    assert f.offset_at(1700000000) == 3600
    assert f.day_start(parse_iso("2024-05-01T23:30:00Z")) == parse_iso("2024-05-01T23:00:00Z")


def test_southern_hemisphere_rule():
    z = Zone("AEST-10AEDT,M10.1.0,M4.1.0/3")
    assert z.offset_at(parse_iso("2024-01-15T00:00:00Z")) == 11 * 3600
    assert z.offset_at(parse_iso("2024-07-15T00:00:00Z")) == 10 * 3600
    # 2024-04-07 03:00 AEDT = 2024-04-06T16:00Z
    assert z.offset_at(parse_iso("2024-04-06T15:59:59Z")) == 11 * 3600
    assert z.offset_at(parse_iso("2024-04-06T16:00:00Z")) == 10 * 3600


def test_julian_and_zero_based_day_rules_and_negative_time():
    # J60 is always March 1; 59 (zero-based, leap counted) is Feb 29 in 2024
    z = Zone("XST3XDT,J60/0,J300/0")
    assert z.offset_at(parse_iso("2024-03-01T02:59:59Z")) == -3 * 3600
    assert z.offset_at(parse_iso("2024-03-01T03:00:00Z")) == -2 * 3600
    z2 = Zone("XST3XDT,59/0,300/0")
    assert z2.offset_at(parse_iso("2024-02-29T03:00:00Z")) == -2 * 3600
    assert z2.offset_at(parse_iso("2024-02-29T02:59:59Z")) == -3 * 3600
    # a negative transition time: the last Sunday of March at -1:00 = Saturday 23:00 local
    z3 = Zone("XST0XDT,M3.5.0/-1,M10.5.0/1")
    assert z3.offset_at(parse_iso("2024-03-30T22:59:59Z")) == 0
    assert z3.offset_at(parse_iso("2024-03-30T23:00:00Z")) == 3600


def test_dst_name_without_dates_uses_us_rule():
    z = Zone("EST5EDT")
    assert z.offset_at(parse_iso("2025-03-09T06:59:59Z")) == -5 * 3600
    assert z.offset_at(parse_iso("2025-03-09T07:00:00Z")) == -4 * 3600


def test_bad_rules_raise():
    for bad in ("", "X5", "PST8PDT,M3.2", "PST8PDT,M13.2.0,M11.1.0", "PST8PDT,M3.2.0,M11.1.0x",
                "CET-1CEST,J400,M10.5.0"):
        raises(ValueError, Zone, bad)


def test_day_lengths_follow_dst_pacific():
    z = Zone(PAC)
    spring = z.to_utc(2025, 3, 9, 12, 0)
    fall = z.to_utc(2025, 11, 2, 12, 0)
    normal = z.to_utc(2025, 6, 1, 12, 0)
    assert z.next_day_start(spring) - z.day_start(spring) == 23 * 3600
    assert z.next_day_start(fall) - z.day_start(fall) == 25 * 3600
    assert z.next_day_start(normal) - z.day_start(normal) == 24 * 3600
    assert local(z, z.day_start(spring)) == "2025-03-09T00:00:00-08:00"
    assert local(z, z.day_start(fall)) == "2025-11-02T00:00:00-07:00"


def test_day_lengths_follow_dst_cet():
    z = Zone(CET)
    spring = z.to_utc(2024, 3, 31, 12, 0)
    fall = z.to_utc(2024, 10, 27, 12, 0)
    assert z.next_day_start(spring) - z.day_start(spring) == 23 * 3600
    assert z.next_day_start(fall) - z.day_start(fall) == 25 * 3600
    assert z.day_start(spring) == parse_iso("2024-03-30T23:00:00Z")
    assert z.next_day_start(fall) == parse_iso("2024-10-27T23:00:00Z")


def test_day_start_at_exact_midnight_and_last_second():
    z = Zone(PAC)
    mid = parse_iso("2025-06-01T07:00:00Z")  # 00:00 PDT
    assert z.day_start(mid) == mid
    assert z.day_start(mid - 1) == mid - 86400
    assert z.next_day_start(mid - 1) == mid


def test_gap_maps_to_end_of_gap_overlap_to_first_occurrence():
    z = Zone(PAC)
    assert local(z, z.to_utc(2025, 3, 9, 2, 30)) == "2025-03-09T03:00:00-07:00"
    assert local(z, z.to_utc(2025, 3, 9, 3, 0)) == "2025-03-09T03:00:00-07:00"
    assert local(z, z.to_utc(2025, 11, 2, 1, 30)) == "2025-11-02T01:30:00-07:00"
    assert local(z, z.to_utc(2025, 11, 2, 2, 0)) == "2025-11-02T02:00:00-08:00"
    c = Zone(CET)
    assert local(c, c.to_utc(2024, 3, 31, 2, 15)) == "2024-03-31T03:00:00+02:00"
    assert local(c, c.to_utc(2024, 10, 27, 2, 15)) == "2024-10-27T02:15:00+02:00"


def test_local_minute():
    z = Zone(CET)
    assert z.local_minute(parse_iso("2024-07-01T20:30:00Z")) == 22 * 60 + 30
    assert z.local_minute(parse_iso("2024-01-01T20:30:00Z")) == 21 * 60 + 30
    assert z.local_minute(z.day_start(parse_iso("2024-01-01T20:30:00Z"))) == 0


def test_every_day_of_a_year_starts_at_local_midnight():
    for rule in (PAC, CET):
        z = Zone(rule)
        t = z.to_utc(2024, 1, 1)
        n23 = n25 = 0
        for _ in range(366):
            nxt = z.next_day_start(t)
            assert z.local_minute(nxt) == 0
            assert z.day_start(nxt - 1) == t
            n = nxt - t
            n23 += n == 23 * 3600
            n25 += n == 25 * 3600
            assert n in (23 * 3600, 24 * 3600, 25 * 3600)
            t = nxt
        assert (n23, n25) == (1, 1)
