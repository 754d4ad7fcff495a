"""The simulator's pictures (CPython): the overview covers every day of any run, the detail
pages draw every week at its true width on one price scale with faults and a person's actions
named, and the sweep plot draws the sweep table's numbers. Checked on the drawn data (the
figures' artists, and the "wattwindow" record each PNG carries), not on pixels."""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from host_sim import detail, drawing, overview, sweep_plot
from host_sim.faults import parse_button, parse_override, parse_window
from host_sim.runner import Options, simulate

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(**kw):
    marks = kw.pop("marks", ())
    o = Options(**kw)
    if marks:
        from host_sim.runner import load_series, run_span, zone_for

        path, series = load_series(o)
        t0, _t1 = run_span(o, series, zone_for(o, path)[1])
        for kind, spec in marks:
            if kind == "button":
                o.actions.append(parse_button(spec, t0))
            elif kind == "override":
                o.actions.append(parse_override(spec, t0))
            else:
                o.faults.append(parse_window(kind, spec, t0))
    return simulate(o)


@pytest.fixture(scope="module")
def spring():
    """DK1 over the spring DST change (2024-03-31 has 23 hours), with faults and actions."""
    return run(series="dk1", start="2024-03-27", days=10, marks=[
        ("outage", "1d+30h"), ("error", "4d+6h:503"), ("powercut", "5d2h+3h"),
        ("button", "6d18h"), ("override", "7d1h+2h:on")])


def _local_day_count(res):
    n, d = 0, res.t0
    while d < res.t1:
        d = res.zone.next_day_start(d)
        n += 1
    return n


def test_overview_covers_every_day_of_the_run(spring):
    res = spring
    data = overview.carpet(res)
    n = _local_day_count(res)
    assert n == 10 and len(data["days"]) == n
    assert data["days"] == list(range(data["days"][0], data["days"][0] + n))  # none skipped
    fig = overview.draw(res, data)
    carpet_ax = [ax for ax in fig.axes if len(ax.images) == 2][0]
    price_img, on_img = carpet_ax.images
    drawn = price_img.get_array()  # (cells of the day, days)
    assert drawn.shape == (24, n)
    missing = np.ma.getmaskarray(drawn)
    # every day has its prices; only the wall-clock hour DST skipped (02:00 on 03-31) is empty
    assert missing.sum() == 1
    spring_day = data["days"].index(res.zone.local_days(res.zone.to_utc(2024, 3, 31, 12)))
    assert missing[2, spring_day]
    # the drawn prices are the series' prices in those local hours
    t = res.zone.to_utc(2024, 3, 28, 17)
    assert drawn[17, 1] == pytest.approx(res.series.prices[res.series.index_at(t)] / 1e6)
    # the ON veil is the load's ON time: every second of it, in the cells it fell in
    assert data["on_s"].sum() == sum(e - s for s, e in res.on)
    alpha = on_img.get_array()[..., 3]
    assert np.allclose(alpha, data["on"].T * overview.ON_RGBA[3])
    assert (alpha > 0).sum() >= 4 * (n - 1)  # the load ran each day (at least 4 h)
    # the cost bars cover the run: per week, adding up to the summary's totals
    for key, total in (("plug", "cost"), ("optimum", "optimal_cost"),
                       ("baseline", "baseline_cost"), ("average", "average_price_cost")):
        bars = [b for b in fig.axes[-1].patches if b.get_gid() == "cost-" + key]
        assert len(bars) == 2  # a full week and a 3-day week
        assert sum(b.get_height() for b in bars) == pytest.approx(res.summary[total], abs=1e-5)
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "saved %s %.2f" % (res.summary["currency"], res.summary["savings_vs_baseline"]) \
        in texts.replace("Saved", "saved")
    for label in ("API outage", "HTTP 503", "power cut", "button", "override on 2h"):
        assert label in texts, label


def test_overview_of_an_autumn_day_keeps_both_repeated_hours():
    res = run(series="dk1", start="2024-10-26", days=3)
    data = overview.carpet(res)
    assert len(data["days"]) == 3
    assert not np.isnan(data["price"]).any()  # 25 hours fold into 24 wall-clock cells
    assert data["on_s"].sum() == sum(e - s for s, e in res.on) == 3 * 4 * 3600


def test_detail_pages_draw_every_week_at_true_width_on_one_scale(spring, tmp_path):
    res = spring
    paths = detail.write(res, str(tmp_path))
    assert [os.path.basename(p) for p in paths] == ["detail_01.png"]
    rec = drawing.drawn(paths[0])
    assert [w[1] for w in rec["weeks"]] == [7, 3]
    lo, hi = rec["scale"]
    fig = detail.draw_page(res, detail.pages(res)[0], (lo, hi))
    ax = fig.axes[1]
    assert ax.get_xlim() == (0, 7)  # every row 7 days wide: the 3-day week is not stretched
    prices = {line.get_gid(): line for line in ax.get_lines()
              if (line.get_gid() or "").startswith("price-")}
    assert sorted(prices) == ["price-0", "price-1"]
    assert prices["price-0"].get_xdata()[-1] == pytest.approx(7, abs=0.05)
    assert prices["price-1"].get_xdata()[-1] == pytest.approx(3, abs=0.05)
    # one price scale: each row maps lo..hi onto its own unit band, the same for both rows
    for r, line in enumerate((prices["price-0"], prices["price-1"])):
        base = detail.row_base(r, 2)
        _x, ys = detail.week_prices(res, *detail.pages(res)[0][r])
        expect = base + (np.clip(ys, lo, hi) - lo) / (hi - lo)
        assert np.allclose(line.get_ydata(), expect)
    labels = {t.get_gid(): t.get_text().strip() for t in ax.texts if t.get_gid()}
    assert labels["label-outage"] == "API outage"
    assert labels["label-error"] == "HTTP 503"
    assert labels["label-powercut"] == "power cut"
    assert labels["label-button"] == "button"
    assert labels["label-override"] == "override on 2h"
    assert {line.get_gid() for line in ax.get_lines()} >= {"mark-button", "mark-override"}
    # the plug's line and the optimum's are both drawn; where equal, the dashes lie on a
    # band twice as wide
    cum = {line.get_gid(): line for line in fig.axes[0].get_lines()}
    plug, opt = cum["cum-plug"], cum["cum-optimum"]
    assert plug.get_linewidth() >= 2.5 * opt.get_linewidth()
    assert opt.get_linestyle() != "-" and plug.get_marker() == "o"
    assert plug.get_ydata()[-1] == pytest.approx(res.summary["cost"], abs=1e-5)
    assert opt.get_ydata()[-1] == pytest.approx(res.summary["optimal_cost"], abs=1e-5)


def test_week_scale_gives_each_week_its_own(spring, tmp_path):
    paths = detail.write(spring, str(tmp_path), scale="week")
    assert drawing.drawn(paths[0])["scale"] == "week"
    fig = detail.draw_page(spring, detail.pages(spring)[0], None)
    ticks = fig.axes[1].get_yticklabels()
    per_row = [[t.get_text() for t in ticks[i:i + 3]] for i in range(0, len(ticks), 3)]
    assert len(per_row) == 2 and per_row[0] != per_row[1]
    with pytest.raises(ValueError):
        detail.write(spring, str(tmp_path), scale="month")


def test_sweep_plot_draws_the_sweep_table(tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([sys.executable, "-m", "host_sim", "--days", "2", "--out", str(out),
                        "--sweep", "hours_per_day=1..3"], cwd=ROOT, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    table = [ln.split() for ln in p.stdout.splitlines() if ln[:1].isdigit()]
    assert [r[0] for r in table] == ["1.0", "2.0", "3.0"]
    rec = drawing.drawn(str(out / "sweep.png"))
    assert rec["picture"] == "sweep" and rec["values"] == ["1.0", "2.0", "3.0"]
    pts = rec["points"]
    for col, key in ((6, "savings_vs_baseline_pct"), (7, "savings_vs_average_pct"),
                     (8, "gap_to_optimal_pct")):
        assert [x for x, _y in pts[key]] == [1.0, 2.0, 3.0]
        assert ["%.1f" % y for _x, y in pts[key]] == [r[col] for r in table], key
    # the bars: saved money = 18:00 cost - cost, as in the table (2 decimals)
    for (_x, y), r in zip(pts["savings_vs_baseline"], table, strict=True):
        assert abs(y - (float(r[4]) - float(r[2]))) < 0.011


def test_sweep_plot_of_categories_and_missing_values():
    s = {"currency": "EUR", "market": "M", "start": "2024-01-01T00:00", "end": "x",
         "savings_vs_baseline": 1.5, "savings_vs_baseline_pct": 10.0,
         "savings_vs_average_pct": None, "gap_to_optimal_pct": 0.0}
    rows = [("06:00", dict(s)), ("18:00", dict(s, savings_vs_baseline_pct=20.0))]
    fig = sweep_plot.draw("deadline", rows)
    pts = sweep_plot.drawn_points(fig)
    assert pts["savings_vs_baseline_pct"] == [(0.0, 10.0), (1.0, 20.0)]
    assert pts["savings_vs_average_pct"] == [(0.0, None), (1.0, None)]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["06:00", "18:00"]
    assert not math.isnan(pts["savings_vs_baseline"][0][1])


def test_a_year_writes_overview_detail_pages_and_report(tmp_path):
    """`make sim ARGS="--days 365"`: the overview has all 365 days, 53 weeks on 7 pages."""
    out = tmp_path / "year"
    p = subprocess.run([sys.executable, "-m", "host_sim", "--days", "365", "--out", str(out),
                        "--json"], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    ov = drawing.drawn(str(out / "overview.png"))
    assert ov["days"] == 365 and ov["first_day"] == s["start"][:10]
    assert ov["on_s"] == round(s["on_hours"] * 3600)
    pages = sorted(n for n in os.listdir(out) if n.startswith("detail_"))
    assert len(pages) == 7
    weeks = [w for n in pages for w in drawing.drawn(str(out / n))["weeks"]]
    assert len(weeks) == 53 and sum(w[1] for w in weeks) == pytest.approx(365, abs=0.01)
    assert (out / "report.html").stat().st_size > 100000
    assert os.path.samefile(out / "chart.png", out / "overview.png") or \
        (out / "chart.png").read_bytes() == (out / "overview.png").read_bytes()
