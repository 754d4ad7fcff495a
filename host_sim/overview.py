"""The one-page overview of a run, for any length (CPython only): `overview.png`.

    data = carpet(res)               days x time-of-day cells: price, share of the cell ON
    fig = draw(res, data)            the figure (tests read its artists' data)
    write(res, path)                 draw and save

Top: what the plug saved, in currency and percent. Middle: the carpet, one column per local
day of the run and one row per price interval of the day, coloured by price, the load's ON
time drawn over it, faults and power cuts outlined and labelled, a person's actions marked.
Bottom: the cost per week (runs up to 12 weeks) or per month, as bars for the plug, the exact
optimum, the fixed 18:00 start and the period average, under the days they cover.

Cells are in local wall-clock time: a DST spring day has an empty cell, an autumn day's
repeated hour shows the mean of both hours (ON if either was).
"""

from . import drawing

ON_RGBA = (1.0, 1.0, 1.0, 0.62)  # the load's ON share, drawn over the price colours: a
# cheap ON hour stays darker than an expensive one
MAX_LABELS = 14  # more marks than this are only in the legend


def carpet(res):
    """{"days": [local day numbers], "cell_s", "price" (currency/kWh, NaN where the day has no
    such wall time), "on" (share of the cell's time the load was on), "on_s" (its seconds)}:
    numpy arrays of shape (days, cells per day)."""
    import numpy as np

    zone, series = res.zone, res.series
    slot = series.slot_s()
    cell = slot if slot <= 3600 and 86400 % slot == 0 else 3600
    ncell = 86400 // cell
    days = []
    d = res.t0
    while d < res.t1:
        days.append((d, min(zone.next_day_start(d), res.t1)))
        d = days[-1][1]
    wsum = np.zeros((len(days), ncell))  # price x seconds
    dur = np.zeros((len(days), ncell))
    on = np.zeros((len(days), ncell))
    on_iv, j = res.on, 0
    for row, (a, b) in enumerate(days):
        wall0 = zone.local_days(a) * 86400
        for s, e, p in series.window(a, b):
            for x, y, col in _cells(zone, a, wall0, s, e, cell):
                wsum[row, col] += p * (y - x)
                dur[row, col] += y - x
        while j < len(on_iv) and on_iv[j][1] <= a:
            j += 1
        k = j
        while k < len(on_iv) and on_iv[k][0] < b:
            for x, y, col in _cells(zone, a, wall0, max(on_iv[k][0], a),
                                    min(on_iv[k][1], b), cell):
                on[row, col] += y - x
            k += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        price = wsum / dur / 1e6
        share = np.where(dur > 0, np.minimum(on / np.maximum(dur, 1), 1.0), 0.0)
    return {"days": [zone.local_days(a) for a, _b in days], "cell_s": cell, "price": price,
            "on": share, "on_s": on}


def _cells(zone, day0, wall0, s, e, cell):
    """Split [s, e) at the cell edges counted from the day's start day0: (x, y, wall-clock
    column) pieces."""
    t = s
    while t < e:
        y = min(e, day0 + ((t - day0) // cell + 1) * cell)
        off = zone.offset_at(t)
        col = int((t + off - wall0) // cell)
        if 0 <= col < 86400 // cell:
            yield t, y, col
        t = y


def draw(res, data=None):
    import matplotlib.dates as mdates
    import numpy as np
    from matplotlib.patches import Patch, Rectangle

    plt = drawing.pyplot()
    data = carpet(res) if data is None else data
    s, zone = res.summary, res.zone
    cur = s["currency"]
    price, share = data["price"], data["on"]
    x0 = data["days"][0]
    x1 = x0 + len(data["days"])
    fig = plt.figure(figsize=(14, 9.6))
    gs = fig.add_gridspec(3, 2, height_ratios=[0.42, 4.2, 2.0], width_ratios=[60, 1],
                          hspace=0.32, wspace=0.02, left=0.06, right=0.94, top=0.93,
                          bottom=0.07)
    fig.suptitle(drawing.title(s), fontsize=12, fontweight="bold")
    head = fig.add_subplot(gs[0, :])
    head.axis("off")
    save = drawing.savings_lines(s)
    head.text(0.0, 0.75, "Plug: %s %.2f for %.1f kWh  (%s)" % (
        cur, s["cost"], s["energy_kwh"], save[2]), fontsize=11, va="center")
    head.text(0.0, 0.1, "%s;  %s" % (save[0][0].upper() + save[0][1:], save[1]), fontsize=13,
              fontweight="bold", color="darkgreen", va="center")

    ax = fig.add_subplot(gs[1, 0])
    finite = price[np.isfinite(price)]
    lo, hi = np.percentile(finite, [1, 99]) if finite.size else (0.0, 1.0)
    if hi <= lo:
        hi = lo + 1e-6
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.45")  # bad: no such wall time (DST)
    img = ax.imshow(np.ma.masked_invalid(price.T), aspect="auto", cmap=cmap, vmin=lo, vmax=hi,
                    extent=(x0, x1, 24, 0), interpolation="nearest")
    overlay = np.zeros(share.T.shape + (4,))
    overlay[..., :3] = ON_RGBA[:3]
    overlay[..., 3] = share.T * ON_RGBA[3]
    ax.imshow(overlay, aspect="auto", extent=(x0, x1, 24, 0), interpolation="nearest")
    ax.set_xlim(x0, x1)
    ax.set_ylim(24, 0)
    ax.set_yticks(range(0, 25, 3))
    ax.set_yticklabels(["%02d:00" % h for h in range(0, 25, 3)])
    ax.set_ylabel("local time of day")
    loc = mdates.AutoDateLocator(minticks=4, maxticks=14)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    ax.set_title("price per %d-minute interval, the load ON under a white veil  (%d days)" % (
        data["cell_s"] // 60, len(data["days"])), fontsize=10, loc="left")
    cax = fig.add_subplot(gs[1, 1])
    fig.colorbar(img, cax=cax, extend="both").set_label("%s/kWh" % cur)

    handles = [Patch(facecolor=ON_RGBA[:3], edgecolor="black", label="load ON (white veil)")]
    seen = set()
    ms = drawing.marks(res)
    for n, (kind, a, b, label) in enumerate(ms):
        color = drawing.COLORS["action" if drawing.is_action(kind) else
                               "cut" if kind == "powercut" else "fault"]
        first = None
        for day, y0, y1 in _day_pieces(zone, a, max(b, a + 1)):
            if kind == "button":
                ax.plot([day + 0.5], [y0], marker="v", color=color, ms=7, mec="white")
            else:
                ax.add_patch(Rectangle((day, y0), 1, y1 - y0, fill=kind == "powercut",
                                       facecolor=(0.4, 0.4, 0.4, 0.6), edgecolor=color,
                                       lw=1.6, hatch=None if kind != "override" else "///"))
            first = first or (day, y0)
        if first and len(ms) <= MAX_LABELS:
            ax.annotate(label, (first[0] + 0.5, first[1]), xytext=(4, -8 - 9 * (n % 2)),
                        textcoords="offset points", fontsize=8, color=color,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": color,
                              "alpha": 0.85})
        if label not in seen and len(seen) < 8:
            seen.add(label)
            handles.append(Patch(facecolor="none", edgecolor=color, label=label))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0, -0.06), ncol=9,
              fontsize=8, frameon=False)

    bx = fig.add_subplot(gs[2, 0], sharex=ax)
    unit, spans = drawing.periods(res)
    costs = drawing.period_costs(res, spans)
    width = 0.8 / len(drawing.REFS)
    for k, (key, name) in enumerate(drawing.REFS):
        xs, ws, hs = [], [], []
        for (a, b), c in zip(spans, costs, strict=True):
            da, db = zone.local_days(a), zone.local_days(b)
            xs.append(da + (db - da) * (0.1 + width * k))
            ws.append((db - da) * width)
            hs.append(c[key])
        total = {"plug": s["cost"], "optimum": s["optimal_cost"],
                 "baseline": s["baseline_cost"], "average": s["average_price_cost"]}[key]
        bx.bar(xs, hs, width=ws, align="edge", color=drawing.COLORS[key], alpha=0.85,
               label="%s: %s %.2f" % (name, cur, total), gid="cost-" + key)
    if len(spans) <= 14:  # what the plug saved in each period, over its bars
        for (a, b), c in zip(spans, costs, strict=True):
            if c["baseline"] > 0:
                da, db = zone.local_days(a), zone.local_days(b)
                bx.annotate("-%.0f%%" % (100.0 * (c["baseline"] - c["plug"]) / c["baseline"]),
                            ((da + db) / 2, max(c.values())), xytext=(0, 2),
                            textcoords="offset points", ha="center", fontsize=8,
                            color="darkgreen")
    bx.set_ylim(0, max([max(c.values()) for c in costs] + [1e-6]) * 1.15)
    bx.set_ylabel("%s per %s" % (cur, unit))
    bx.set_title("cost per %s: plug, optimum, fixed 18:00, period average (-x%%: the plug "
                 "against the fixed 18:00 start)" % unit, fontsize=10, loc="left")
    bx.grid(axis="y", alpha=0.3)
    bx.legend(fontsize=8, ncol=4, loc="lower left", bbox_to_anchor=(0, -0.32), frameon=False)
    bx.set_xlim(x0, x1)
    return fig


def _day_pieces(zone, a, b):
    """[(local day number, hour from, hour to)]: [a, b) cut at local midnights."""
    out = []
    t = a
    while t < b:
        e = min(b, zone.next_day_start(t))
        wall = zone.local_s(t)
        day = wall // 86400
        h0 = (wall - day * 86400) / 3600.0
        h1 = h0 + (e - t) / 3600.0
        out.append((day, h0, min(h1, 24.0)))
        t = e
    return out


def write(res, path, dpi=90):
    import time

    data = carpet(res)
    days = data["days"]
    return drawing.save(draw(res, data), path, {
        "picture": "overview", "days": len(days), "cell_s": data["cell_s"],
        "first_day": time.strftime("%Y-%m-%d", time.gmtime(days[0] * 86400)),
        "last_day": time.strftime("%Y-%m-%d", time.gmtime(days[-1] * 86400)),
        "on_s": int(data["on_s"].sum())}, dpi)
