# runtimes: cpython micropython
from firmware.clock import iso as isotime

from support import raises


def test_civil_round_trip_over_four_centuries():
    for z in range(-800, 150000, 37):
        y, m, d = isotime.civil_from_days(z)
        assert isotime.days_from_civil(y, m, d) == z
    assert isotime.days_from_civil(1970, 1, 1) == 0
    assert isotime.days_from_civil(2000, 3, 1) == 11017
    assert isotime.weekday(isotime.days_from_civil(2026, 11, 22)) == 6  # a Sunday


def test_offsets_in_all_forms():
    t = 1752595920  # 2025-07-15T16:12:00Z
    assert isotime.parse_iso("2025-07-15T09:12:00-07:00") == t
    assert isotime.parse_iso("2025-07-15T09:12:00-0700") == t
    assert isotime.parse_iso("2025-07-15T16:12:00Z") == t
    assert isotime.parse_iso("2025-07-15T16:12:00.250Z") == t
    assert isotime.parse_iso("2025-07-15T18:12:00+02") == t
    assert isotime.parse_iso("2025-07-15T16:12Z") == t
    assert isotime.parse_iso_offset("2025-11-02T01:00:00-0800") == (1762074000, -28800)


def test_dst_days_have_23_and_25_hours():
    # Pacific spring forward 2026-03-08, fall back 2025-11-02: local midnights carry offsets.
    spring = isotime.parse_iso("2026-03-09T00:00:00-07:00") - \
        isotime.parse_iso("2026-03-08T00:00:00-08:00")
    fall = isotime.parse_iso("2025-11-03T00:00:00-08:00") - \
        isotime.parse_iso("2025-11-02T00:00:00-07:00")
    assert spring == 23 * 3600
    assert fall == 25 * 3600


def test_bad_time_stamps_raise_value_errors():
    for bad in ("", "2025-07-15T09:12:00", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                "2025-07-15X09:12:00Z", "2025-07-15T25:00:00Z", "2025-07-15T09:12:00+0",
                "2025-07-15T09:12:00Zjunk", "20250715", None, 12):
        e = raises(ValueError, isotime.parse_iso, bad)
        assert isinstance(e, isotime.TimeFormatError)


def test_format_round_trips():
    t = isotime.parse_iso("2026-03-08T03:00:00-07:00")
    assert isotime.format_iso(t, -7 * 3600) == "2026-03-08T03:00:00-07:00"
    assert isotime.format_iso(t) == "2026-03-08T10:00:00Z"
    assert isotime.format_iso(t, 0, z=False) == "2026-03-08T10:00:00+00:00"
    assert isotime.format_offset(-8 * 3600, colon=False) == "-0800"
    assert isotime.format_ymd(t, -7 * 3600) == "20260308"
    assert isotime.format_hm(t, 5 * 3600 + 1800) == "15:30"


def test_durations():
    assert isotime.parse_duration("PT1H") == 3600
    assert isotime.parse_duration("PT15M") == 900
    assert isotime.parse_duration("P1D") == 86400
    assert isotime.parse_duration("P1DT12H30M5S") == 131405
    assert isotime.parse_duration("P9999Y") > 300000000000
    for bad in ("PT", "P", "1H", "PT1D", "P1M", "P1H", "PTH", "PT1H2"):
        raises(ValueError, isotime.parse_duration, bad)
