"""The savings curve of a `--sweep` (CPython only): `sweep.png`.

    fig = draw(param, rows)     rows: [(value, summary)] as for report.sweep_table
    write(param, rows, path)

x: the swept parameter (numbers on a numeric axis, anything else, e.g. deadlines, as
categories in the order swept). Left axis: the saving in percent against the fixed 18:00
start and against the period average, and the gap to the exact optimum, one point per run,
the same numbers as the sweep table. Right axis: the saving against 18:00 in currency (bars).
"""

from . import drawing

CURVES = (("savings_vs_baseline_pct", "saved vs fixed 18:00", "baseline", "o-"),
          ("savings_vs_average_pct", "saved vs period average", "average", "s-"),
          ("gap_to_optimal_pct", "gap to the optimum", "optimum", "^--"))


def _numeric(values):
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        return None


def draw(param, rows):
    plt = drawing.pyplot()
    values = [v for v, _s in rows]
    xs = _numeric(values) or list(range(len(values)))
    cur = rows[0][1]["currency"] if rows else ""
    fig, ax = plt.subplots(figsize=(10, 5.6))
    fig.subplots_adjust(left=0.08, right=0.9, top=0.86, bottom=0.14)
    money = ax.twinx()
    money.set_zorder(0)
    ax.set_zorder(1)
    ax.patch.set_visible(False)
    width = (min(b - a for a, b in zip(xs, xs[1:], strict=False)) if len(xs) > 1 else 1) * 0.5
    money.bar(xs, [s["savings_vs_baseline"] for _v, s in rows], width=width, color="0.85",
              gid="saved-money", label="saved vs fixed 18:00, %s" % cur)
    money.set_ylabel("saved vs fixed 18:00, %s (grey bars)" % cur)
    for key, label, color, fmt in CURVES:
        ys = [float("nan") if s[key] is None else s[key] for _v, s in rows]
        ax.plot(xs, ys, fmt, color=drawing.COLORS[color], label=label, gid=key, lw=1.6, ms=6)
    ax.axhline(0, color="0.5", lw=0.8)
    _align_zero(ax, money, [s["savings_vs_baseline"] for _v, s in rows])
    ax.set_xticks(xs, [str(v) for v in values])
    ax.set_xlabel(param)
    ax.set_ylabel("percent of the reference's cost")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(0, 1.13), ncol=3, fontsize=9, frameon=False)
    s0 = rows[0][1] if rows else {"market": "", "start": "", "end": "", "load_kw": 0}
    fig.suptitle("sweep of %s: %s %s .. %s" % (param, s0["market"], s0["start"][:10],
                                                s0["end"][:10]), fontsize=11)
    return fig


def drawn_points(fig):
    """{curve: [(x, y)]} as the figure draws them (y None where a run has no value), and the
    bars' heights as "savings_vs_baseline"."""
    import math

    ax, money = fig.axes[0], fig.axes[1]
    out = {}
    for line in ax.get_lines():
        if line.get_gid():
            out[line.get_gid()] = [(float(x), None if math.isnan(y) else float(y))
                                   for x, y in zip(line.get_xdata(), line.get_ydata(),
                                                   strict=True)]
    out["savings_vs_baseline"] = [(p.get_x() + p.get_width() / 2, p.get_height())
                                  for p in money.patches]
    return out


def _align_zero(ax, money, bars):
    """The money axis with its 0 at the height of the percent axis' 0."""
    lo, hi = ax.get_ylim()
    if not lo < 0 < hi:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
        ax.set_ylim(lo, hi)
    r = -lo / (hi - lo)  # where 0 sits, from the bottom
    m_lo, m_hi = min(bars + [0.0]), max(bars + [0.0])
    span = max(m_hi / (1 - r) if r < 1 else 0, -m_lo / r if r > 0 else 0) * 1.05 or 1.0
    money.set_ylim(-r * span, (1 - r) * span)


def write(param, rows, path, dpi=90):
    fig = draw(param, rows)
    return drawing.save(fig, path, {"picture": "sweep", "param": param,
                                    "values": [str(v) for v, _s in rows],
                                    "points": drawn_points(fig)}, dpi)
