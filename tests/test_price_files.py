"""Real price exports into the simulator: gaps, local times, separators, a BOM, quoted fields
and the column names of ENTSO-E, Nord Pool and Energi Data Service exports. Every file here is
written from the bundled real DK1 2024 prices, and read back must give exactly those prices."""

import json

import pytest

from firmware.clock.iso import format_iso, parse_iso
from firmware.clock.tz import Zone
from host_sim import prices
from host_sim.__main__ import main

CET_RULE = "CET-1CEST,M3.5.0,M10.5.0/3"
CET = Zone(CET_RULE)
H = 3600


@pytest.fixture(scope="module")
def dk1():
    return prices.load_csv(prices.bundled_path("dk1"))


def _local(t, fmt="iso"):
    s = format_iso(t, CET.offset_at(t), z=False)  # 2024-01-01T00:00:00+01:00
    if fmt == "euro":
        return "%s.%s.%s %s" % (s[8:10], s[5:7], s[0:4], s[11:16])
    return s[:10] + " " + s[11:16]


def _text(pu, comma=False):
    """Micro-units/kWh as the exchange quotes it: per MWh, exact (16990 -> '16.990')."""
    a = abs(pu)
    v = "%s%d.%03d" % ("-" if pu < 0 else "", a // 1000, a % 1000)
    return v.replace(".", ",") if comma else v


def _same(a, b):
    assert a.starts == b.starts and a.ends == b.ends and a.prices == b.prices


def _slice(dk1, day_from, days):
    t0 = CET.to_utc(2024, *day_from)
    t1 = t0
    for _ in range(days):
        t1 = CET.next_day_start(t1)
    return dk1.sliced(t0, t1)


def test_entsoe_export_with_local_mtu_and_the_autumn_repeated_hour(tmp_path, dk1):
    want = _slice(dk1, (10, 26), 3)  # 2024-10-27 has 25 hours: 02:00-03:00 twice
    lines = ['"MTU (CET/CEST)","Day-ahead Price [EUR/MWh]","Currency","BZN|DK1"']
    for s, e, p in want.window(want.start_s, want.end_s):
        lines.append('"%s - %s","%s","EUR",""' % (_local(s, "euro"), _local(e, "euro"),
                                                  _text(p)))
    f = tmp_path / "entsoe.csv"
    f.write_text("\n".join(lines) + "\n")
    got = prices.load_csv(str(f))
    _same(got, want)
    assert len(got) == 24 + 25 + 24 and got.currency == "EUR" and got.tz_rule == CET_RULE


def test_nord_pool_export_with_bom_semicolons_and_decimal_commas(tmp_path, dk1):
    want = _slice(dk1, (3, 30), 2)  # the spring day: 23 hours
    rows = ["\ufeffDelivery Start (CET);Delivery End (CET);DK1 (EUR)"]
    for s, e, p in want.window(want.start_s, want.end_s):
        rows.append("%s:00;%s:00;%s" % (_local(s, "euro"), _local(e, "euro"),
                                        _text(p, comma=True)))
    f = tmp_path / "nordpool.csv"
    f.write_bytes(("\r\n".join(rows) + "\r\n").encode("utf-8"))
    got = prices.load_csv(str(f))
    _same(got, want)
    assert len(got) == 23 + 24


def test_energi_data_service_export_takes_the_utc_column_and_eur(tmp_path, dk1):
    want = _slice(dk1, (1, 1), 1)
    rows = ["HourUTC;HourDK;PriceArea;SpotPriceDKK;SpotPriceEUR"]
    for s, _e, p in want.window(want.start_s, want.end_s):
        rows.append("%s;%s;DK1;%s;%s" % (format_iso(s)[:16].replace("T", " "), _local(s),
                                          _text(p * 746 // 100, True), _text(p, True)))
    f = tmp_path / "elspot.csv"
    f.write_text("\n".join(rows) + "\n")
    got = prices.load_csv(str(f))
    _same(got, want)
    assert got.market == "DK1" and got.tz_rule is None  # UTC, as its header says


def test_times_without_an_offset_need_a_zone_and_are_never_guessed(tmp_path, dk1):
    want = _slice(dk1, (10, 26), 3)
    rows = ["time,price [EUR/MWh]"] + ["%s,%s" % (_local(s), _text(p))
                                        for s, _e, p in want.window(want.start_s, want.end_s)]
    f = tmp_path / "local.csv"
    f.write_text("\n".join(rows) + "\n")
    with pytest.raises(prices.PriceError) as e:
        prices.load_csv(str(f))
    msg = str(e.value)
    assert msg == ("%s:2: column 'time': time '2024-10-26 00:00' has no UTC offset; say which "
                   "zone the file's times are in with --csv-tz RULE (e.g. --csv-tz %s, or "
                   "--csv-tz UTC0)" % (f, CET_RULE))
    _same(prices.load_csv(str(f), CET_RULE), want)


def test_bad_cells_name_file_line_and_column_and_a_strange_header_is_shown(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text('start;end;"Price (EUR/MWh)"\n2024-01-01T00:00Z;2024-01-01T01:00Z;1,5\n'
                 '2024-01-01T01:00Z;2024-01-01T02:00Z;abc\n')
    with pytest.raises(prices.PriceError, match=r"bad\.csv:3: column 'Price \(EUR/MWh\)': "
                                                r"bad price 'abc'$"):
        prices.load_csv(str(f))
    f.write_text("when;how much\n2024-01-01T00:00Z;3\n")
    with pytest.raises(prices.PriceError) as e:
        prices.load_csv(str(f))
    assert str(e.value) == "%s: no price column; found header: when | how much" % f
    f.write_text("start,price\n2024-01-01T00:00Z,3\n")
    with pytest.raises(prices.PriceError, match="does not say its unit"):
        prices.load_csv(str(f))
    f.write_text("Delivery Start (CET);DK1 (EUR);DK2 (EUR)\n01.01.2024 00:00;1;2\n")
    with pytest.raises(prices.PriceError, match=r"several price columns \(DK1 \(EUR\), DK2 "):
        prices.load_csv(str(f))


def _with_gap(tmp_path, dk1, gap_day, hours):
    """The bundled series for January with `hours` missing from 10:00 on day `gap_day`."""
    a = CET.to_utc(2024, 1, gap_day, 10)
    keep = [(s, e, p) for s, e, p in dk1.window(dk1.start_s, CET.to_utc(2024, 2, 1))
            if not a <= s < a + hours * H]
    s = prices.Series([k[0] for k in keep], [k[1] for k in keep], [k[2] for k in keep],
                      "EUR", "NordPool-DA-DK1", "gap")
    path = tmp_path / "gap.csv"
    prices.write_csv(s, str(path), unit="EUR/kWh")
    return str(path), a


def test_a_series_keeps_its_gaps(tmp_path, dk1):
    path, a = _with_gap(tmp_path, dk1, 5, 6)
    s = prices.load_csv(path)
    assert s.missing(a - 2 * H, a + 8 * H) == (6, 6 * H)
    assert [x[0] for x in s.window(a - H, a + 7 * H)] == [a - H, a + 6 * H]
    assert list(s.window(a + H, a + 2 * H)) == []  # inside the gap


def _run(argv, capsys):
    code = main(argv + ["--no-chart", "--json", "--series", "dk1"])
    out = capsys.readouterr()
    return code, out


def test_simulator_runs_a_real_export_with_a_gap(tmp_path, dk1, capsys):
    path, a = _with_gap(tmp_path, dk1, 5, 6)
    # before: any gap stopped every run ("interval not contiguous"); a window elsewhere runs
    code, out = _run(["--prices", path, "--tz", CET_RULE, "--start", "2024-01-02",
                      "--days", "2", "--out", str(tmp_path / "o1")], capsys)
    assert code == 0, out.err
    s = json.loads(out.out)
    assert s["missing_intervals"] == 0 and s["energy_kwh"] == pytest.approx(8.0)
    # a window with the gap: simulated as the plug sees it (nothing published: fallback)
    code, out = _run(["--prices", path, "--tz", CET_RULE, "--start", "2024-01-04",
                      "--days", "3", "--out", str(tmp_path / "o2")], capsys)
    assert code == 0, out.err
    s = json.loads(out.out)
    assert s["missing_intervals"] == 6
    with open(tmp_path / "o2" / "timeline.json") as f:
        rows = json.load(f)["timeline"]
    in_gap = [r for r in rows if r["event"] == "decision"
              and a <= parse_iso(r["t_utc"]) < a + 6 * H]
    assert in_gap and all("no price" in r["reason"] for r in in_gap), in_gap[:3]
    code = main(["--prices", path, "--tz", CET_RULE, "--start", "2024-01-04", "--days", "3",
                 "--no-chart", "--out", str(tmp_path / "o3"), "--series", "dk1"])
    text = capsys.readouterr().out
    assert code == 0 and "gaps       6 intervals without a price in the file" in text, text


def test_simulator_answers_local_times_with_one_line_or_runs_with_csv_tz(tmp_path, dk1,
                                                                          capsys):
    want = _slice(dk1, (1, 1), 3)
    f = tmp_path / "local.csv"
    f.write_text("time;price (EUR/MWh)\n" + "".join(
        "%s;%s\n" % (_local(s), _text(p, True))
        for s, _e, p in want.window(want.start_s, want.end_s)))
    code, out = _run(["--prices", str(f), "--days", "2", "--out", str(tmp_path / "o")],
                     capsys)
    assert code == 2 and out.err.count("\n") == 1 and "Traceback" not in out.err
    assert out.err.startswith("host_sim: error: %s:2: column 'time': time '2024-01-01 00:00' "
                              "has no UTC offset; say which zone" % f)
    code, out = _run(["--prices", str(f), "--csv-tz", CET_RULE, "--days", "2",
                      "--out", str(tmp_path / "o")], capsys)
    assert code == 0, out.err
    s = json.loads(out.out)
    assert s["tz"] == CET_RULE and s["start"] == "2024-01-01T00:00:00+01:00"
    code, out = _run(["--prices", str(f), "--csv-tz", "Mars", "--out", str(tmp_path / "o")],
                     capsys)
    assert code == 2 and out.err.startswith("host_sim: error: --csv-tz 'Mars': ")
