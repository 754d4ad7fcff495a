"""Detail pages of a run, eight weeks each (CPython only): `detail_01.png`, `detail_02.png`...

    write(res, out_dir, scale="shared")  -> [paths]
    draw_page(res, weeks, limits, page)  -> one page's figure (tests read its artists' data)

A page: the cumulative cost in its weeks (the plug as a wide green band with a dot per
policy window and the exact optimum as blue dashes on it, so both show when they are equal;
the fixed 18:00 start and the period average), then one row per week of 7 local days, like a
calendar: the price as a step line, the load's ON time shaded green, faults as red bars named
by kind, power cuts grey, button presses and overrides purple and named with what was done.

Every row is 7 days wide, so a partial last week keeps its true width. scale "shared": one
price scale for the whole run (its 0.2..99.8 percentile range, so one spike does not flatten a
year; a week whose prices leave it says so and names its extreme); "week": each row its own.
The rows share one axes: per-axes ticks and text cost more than the drawing itself.
"""

import os

from . import drawing

WEEKS_PER_PAGE = 8
SCALES = ("shared", "week")
ROW_GAP = 0.42  # between week rows, in row heights


def pages(res):
    w = drawing.weeks(res)
    return [w[i:i + WEEKS_PER_PAGE] for i in range(0, len(w), WEEKS_PER_PAGE)]


def shared_limits(res):
    """(lo, hi) in currency/kWh: the run's price range without its rarest spikes."""
    import numpy as np

    ps = np.array([p for _s, _e, p in res.series.window(res.t0, res.t1)], dtype=float) / 1e6
    lo, hi = np.percentile(ps, [0.2, 99.8]) if ps.size else (0.0, 1.0)
    return _padded(lo, hi)


def _padded(lo, hi):
    pad = max(hi - lo, 1e-6) * 0.06
    return float(lo - pad), float(hi + pad)


def week_prices(res, a, b):
    """(x in days from a's local midnight, price in currency/kWh) of [a, b) as a step line."""
    import numpy as np

    zone = res.zone
    d0 = drawing.local_days(zone, a)
    xs, ys = [], []
    for s, _e, p in res.series.window(a, b):
        xs.append(drawing.local_days(zone, s) - d0)
        ys.append(p / 1e6)
    if xs:
        xs.append(drawing.local_days(zone, b) - d0)
        ys.append(ys[-1])
    return np.array(xs), np.array(ys)


def row_base(r, n):
    """Bottom of week row r of n (row 0 on top), in the rows' y units (a row is 1 high)."""
    return (n - 1 - r) * (1 + ROW_GAP)


def draw_page(res, week_spans, limits=None, page=(1, 1)):
    import numpy as np
    from matplotlib.collections import LineCollection, PolyCollection

    plt = drawing.pyplot()
    zone, s = res.zone, res.summary
    n = len(week_spans)
    height = 1.25 * n + 3.3
    fig = plt.figure(figsize=(14, height))
    # a fixed layout (inches from the edges): tight_layout costs more than the drawing
    usable = height - 0.75 - 0.62 - 0.5  # inches: title, x labels, gap
    gs = fig.add_gridspec(2, 1, height_ratios=[1.75, usable - 1.75], left=0.075, right=0.99,
                          top=1 - 0.75 / height, bottom=0.62 / height, hspace=0.5 / (usable / 2))
    a_page, b_page = week_spans[0][0], week_spans[-1][1]
    fig.suptitle("%s\nweeks %s .. %s  (page %d of %d)%s" % (
        drawing.title(s), drawing.local_text(zone, a_page, 10),
        drawing.local_text(zone, b_page, 10), page[0], page[1],
        "; one price scale for the whole run" if limits else "; each week its own price scale"),
        fontsize=10)
    _cumulative(fig.add_subplot(gs[0, 0]), res, a_page, b_page, 7 * n)
    ax = fig.add_subplot(gs[1, 0])
    ms = drawing.marks(res)
    on_boxes, frames, grid, yt, ytl, ends = [], [], [], [], [], []
    for r, (a, b) in enumerate(week_spans):
        base = row_base(r, n)
        d0 = drawing.local_days(zone, a)
        xs, ys = week_prices(res, a, b)
        if limits:
            lo, hi = limits
        else:
            lo, hi = _padded(ys.min(), ys.max()) if ys.size else (0.0, 1.0)

        def fy(v, base=base, lo=lo, hi=hi):
            return base + (np.clip(v, lo, hi) - lo) / (hi - lo)

        ax.plot(xs, fy(ys), color="black", lw=0.8, drawstyle="steps-post",
                gid="price-%d" % r)
        frames.append([(0, base), (7, base), (7, base + 1), (0, base + 1)])
        for v, label in zip(*drawing.fixed_ticks(lo, hi, 3), strict=True):
            yt.append(fy(v))
            ytl.append(label)
            grid.append([(0, fy(v)), (7, fy(v))])
        for p, q in res.on:
            if q > a and p < b:
                x = drawing.local_days(zone, max(p, a)) - d0
                y = drawing.local_days(zone, min(q, b)) - d0
                on_boxes.append([(x, base), (y, base), (y, base + 1), (x, base + 1)])
        ax.text(0.02, base + 1.04, "week of %s" % drawing.local_text(zone, a, 10),
                fontsize=8, va="bottom", color="0.25")
        if ys.size and (ys.max() > hi or ys.min() < lo):
            ax.text(6.98, base + 1.04, "off scale: %s%s" % (
                ("max %.3f " % ys.max()) if ys.max() > hi else "",
                ("min %.3f" % ys.min()) if ys.min() < lo else ""), ha="right", va="bottom",
                fontsize=8, color="firebrick")
        end = drawing.local_days(zone, b) - d0
        ends.append(end)
        if end < 6.99:
            frames[-1] = [(0, base), (end, base), (end, base + 1), (0, base + 1)]
            ax.text(end + 0.05, base + 0.5, "end of the run", fontsize=8, color="0.4",
                    va="center")
        _marks(ax, zone, ms, a, b, d0, base)
    ax.add_collection(PolyCollection(frames, facecolors="white", edgecolors="0.55", lw=0.8,
                                     zorder=0))
    ax.add_collection(LineCollection(grid, colors="0.88", lw=0.6, zorder=0.5))
    ax.add_collection(PolyCollection(on_boxes, facecolors=drawing.COLORS["plug"], alpha=0.35,
                                     lw=0, zorder=1, gid="on"))
    days = [[(d, row_base(r, n)), (d, row_base(r, n) + 1)] for r in range(n)
            for d in range(1, 7) if d < ends[r]]
    ax.add_collection(LineCollection(days, colors="0.7", lw=0.6, zorder=0.5))
    ax.set_xlim(0, 7)
    ax.set_ylim(-0.08, row_base(0, n) + 1 + ROW_GAP * 0.8)
    ax.set_yticks(yt, ytl, fontsize=7)
    ax.set_ylabel("%s/kWh" % s["currency"])
    first = drawing.local_days(zone, a_page)
    ax.set_xticks([d + 0.5 for d in range(7)],
                  drawing.day_ticks(first, 6, "%A")[1][:7], fontsize=9)
    ax.tick_params(axis="x", length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("local time, a row per week; green = load ON, red = fault, grey = power "
                  "cut, purple = a person's button press or override")
    return fig


def _cumulative(ax, res, a, b, span_days):
    """The cost of the plug and the references over the page's weeks, cumulative from the
    page's first day (the run's totals are on the overview)."""
    zone, s = res.zone, res.summary
    cum = dict.fromkeys(drawing.REF_KEYS, 0.0)
    xs = [drawing.local_days(zone, a)]
    ys = {k: [0.0] for k in drawing.REF_KEYS}
    for wa, wb, costs in drawing.window_costs(res):
        if wb <= a or wa >= b:
            continue
        for k in cum:
            cum[k] += costs[k]
            ys[k].append(cum[k])
        xs.append(drawing.local_days(zone, wb))
    cur = s["currency"]
    style = {"plug": {"lw": 5, "alpha": 0.45, "marker": "o", "ms": 3.5},
             "optimum": {"lw": 1.4, "ls": (0, (4, 3))},
             "baseline": {"lw": 1.1, "ls": "--"}, "average": {"lw": 1.1, "ls": ":"}}
    for key, name in drawing.REFS:
        ax.plot(xs, ys[key], color=drawing.COLORS[key], gid="cum-" + key,
                label="%s %s %.2f" % (name, cur, ys[key][-1]), **style[key])
    ax.set_ylabel("%s in these weeks" % cur)
    d0 = drawing.local_days(zone, a)
    ax.set_xlim(d0, d0 + span_days)
    ax.set_ylim(0, max(max(v) for v in ys.values()) * 1.08 + 1e-9)
    ax.set_xticks(*drawing.day_ticks(d0, span_days, "%m-%d", step=7 if span_days > 21 else 1))
    ax.legend(fontsize=8, loc="upper left", ncol=4, title="cumulative cost in these weeks; the "
              "plug's band holds the optimum's dashes when they are equal", title_fontsize=8)
    ax.grid(alpha=0.3)


def _marks(ax, zone, ms, a, b, d0, base):
    """Faults, power cuts and a person's actions in the week row [a, b) at height base."""
    k = 0
    for kind, x, y, label in ms:
        if not (x < b and max(y, x + 1) > a):
            continue
        xa = drawing.local_days(zone, max(x, a)) - d0
        xb = drawing.local_days(zone, min(max(y, x + 1), b)) - d0
        level = 0.82 - 0.16 * (k % 3)
        k += 1
        if kind == "powercut":
            color = drawing.COLORS["cut"]
            ax.fill_between([xa, xb], base, base + 1, color="grey", alpha=0.45, lw=0,
                            gid="mark-powercut")
        elif drawing.is_action(kind):
            color = drawing.COLORS["action"]
            if x >= a:
                ax.plot([xa, xa], [base, base + 1], color=color, ls="--", lw=1.2,
                        gid="mark-" + kind)
            if kind == "override":
                ax.fill_between([xa, xb], base + 0.9, base + 1, facecolor="none",
                                edgecolor=color, hatch="////", lw=0.8)
        else:
            color = drawing.COLORS["fault"]
            ax.fill_between([xa, xb], base, base + 0.08, color=color, alpha=0.85, lw=0,
                            gid="mark-" + kind)
            level = 0.16 + 0.14 * (k % 3)
        ax.text(xa, base + level, " " + label, fontsize=8, color=color, va="center",
                gid="label-" + kind, bbox={"boxstyle": "round,pad=0.1", "fc": "white",
                                           "ec": "none", "alpha": 0.75})


def write(res, out_dir, scale="shared", dpi=80):
    if scale not in SCALES:
        raise ValueError("chart scale %r: one of %s" % (scale, ", ".join(SCALES)))
    limits = shared_limits(res) if scale == "shared" else None
    ps = pages(res)
    paths = []
    for i, ws in enumerate(ps):
        fig = draw_page(res, ws, limits, (i + 1, len(ps)))
        path = os.path.join(out_dir, "detail_%02d.png" % (i + 1))
        weeks = [[drawing.local_text(res.zone, a, 10), round(
            drawing.local_days(res.zone, b) - drawing.local_days(res.zone, a), 3)]
            for a, b in ws]  # first local day, local days (a DST week has 7 too)
        paths.append(drawing.save(fig, path, {"picture": "detail", "page": i + 1,
                                              "pages": len(ps), "weeks": weeks,
                                              "scale": list(limits) if limits else "week"},
                                  dpi))
    return paths
