"""What every picture of a run shares (CPython only): matplotlib without a display, local
time as a plot coordinate, the run's marks (faults, power cuts, a person's actions) with the
label each is drawn with, the cost of each policy window in currency, and the run's periods
(weeks, or months for long runs) that the overview's bars and the detail pages use.

Coordinates: `local_days(zone, t)` is wall-clock time in days since 1970 as a float, so a
local day is [n, n + 1) whatever its length in UTC (DST days included) and a week is 7 wide.
"""

COLORS = {"plug": "tab:green", "optimum": "tab:blue", "baseline": "tab:red",
          "average": "tab:orange", "fault": "tab:red", "cut": "dimgrey", "action": "tab:purple"}
REFS = (("plug", "plug"), ("optimum", "optimum"), ("baseline", "fixed 18:00"),
        ("average", "period average"))
REF_KEYS = tuple(k for k, _ in REFS)


def pyplot():
    """matplotlib.pyplot on the Agg backend (no display; imported only when drawing)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt

PNG = {"compress_level": 3}  # zlib's default 6 costs twice the time for 5% fewer bytes


def save(fig, path, drawn, dpi):
    """Write fig as PNG with `drawn` (what the picture shows, as JSON) in its text chunk
    "wattwindow", so that scripts and tests read the numbers of the file itself."""
    import json

    plt = pyplot()
    fig.savefig(path, dpi=dpi, pil_kwargs=dict(PNG), metadata={"wattwindow": json.dumps(drawn)})
    plt.close(fig)
    return path


def drawn(path):
    """The `drawn` record of a PNG written by save()."""
    import json

    from PIL import Image

    with Image.open(path) as im:
        return json.loads(im.text["wattwindow"])


def day_ticks(d0, days, fmt, step=1):
    """([positions], [labels]) at local midnights from local day number d0: fixed ticks are
    much cheaper to draw than a date locator's."""
    import time

    first = int(-(-d0 // 1))
    pos = list(range(first, int(d0 + days) + 1, step))
    return pos, [time.strftime(fmt, time.gmtime(p * 86400)) for p in pos]


def fixed_ticks(lo, hi, n=5):
    """([positions], [labels]) of about n round values in [lo, hi]."""
    from matplotlib.ticker import MaxNLocator

    pos = [v for v in MaxNLocator(n).tick_values(lo, hi) if lo <= v <= hi]
    step = pos[1] - pos[0] if len(pos) > 1 else 1.0
    digits = max(0, min(6, -int(__import__("math").floor(__import__("math").log10(step)))))
    return pos, ["%.*f" % (digits, v) for v in pos]


def local_days(zone, t):
    return (t + zone.offset_at(t)) / 86400.0


def fault_label(kind, arg):
    """The words a fault is drawn with: its kind, and its argument where it has one."""
    if kind == "error":
        return "HTTP %s" % (arg or "error")
    if kind == "slow":
        return "slow API%s" % ((" +%ss" % arg) if arg else "")
    return {"outage": "API outage", "truncate": "truncated bodies", "wifi": "Wi-Fi down",
            "powercut": "power cut", "clock_loss": "no NTP"}.get(kind, kind)


def marks(res):
    """[(kind, t0, t1, label)]: injected faults, power cuts as the plug lived them, and a
    person's actions (t1 == t0 for a button press), in time order."""
    s = res.summary
    out = [(k, a, b, fault_label(k, arg)) for k, a, b, arg in s["faults"] if k != "powercut"]
    out += [("powercut", ev[1], ev[2], "power cut") for ev in res.events if ev[0] == "cut"]
    taken = {}
    for ev in res.events:
        if ev[0] == "act":
            taken[(ev[1], ev[2])] = ev[3]
    for k, a, b, arg in s.get("actions") or ():
        how = taken.get((a, k), "")
        if k == "button":
            label = "button" + (" (lost)" if how.startswith("lost") else "")
        else:
            label = "override %s %gh%s" % (arg, (b - a) / 3600.0,
                                           " (lost)" if how.startswith("lost") else "")
        out.append((k, a, b, label))
    out.sort(key=lambda m: (m[1], m[0]))
    return out


def is_action(kind):
    return kind in ("button", "override")


def window_costs(res):
    """[(a, b, {ref: currency})] per policy window: the plug and the three references."""
    k = res.summary["load_kw"] / 3.6e9  # micro-unit seconds per kW -> currency
    return [(a, b, {"plug": dev * k, "optimum": opt * k, "baseline": base * k,
                    "average": avg * k})
            for a, b, _d, dev, opt, base, avg in res.per_window]


def weeks(res):
    """[(a, b)]: the run in weeks of 7 local days from its start; the last may be shorter."""
    zone, out, a = res.zone, [], res.t0
    while a < res.t1:
        b = a
        for _ in range(7):
            b = zone.next_day_start(b)
        out.append((a, min(b, res.t1)))
        a = b
    return out


def months(res):
    """[(a, b)]: the run cut at local month starts."""
    from firmware.clock.iso import format_iso

    zone, out, a = res.zone, [], res.t0
    while a < res.t1:
        b, month = a, format_iso(a, zone.offset_at(a))[:7]
        while b < res.t1 and format_iso(b, zone.offset_at(b))[:7] == month:
            b = zone.next_day_start(b)
        out.append((a, min(b, res.t1)))
        a = b
    return out


def periods(res, max_weeks=12):
    """The overview's cost periods: ("week", weeks) up to max_weeks weeks, else months."""
    w = weeks(res)
    return ("week", w) if len(w) <= max_weeks else ("month", months(res))


def period_costs(res, spans):
    """[{ref: currency}] per span: the windows that start in it (a window lies in one day)."""
    out = [dict.fromkeys(REF_KEYS, 0.0) for _ in spans]
    i = 0
    for a, _b, costs in window_costs(res):
        while i < len(spans) - 1 and a >= spans[i][1]:
            i += 1
        for key, v in costs.items():
            out[i][key] += v
    return out


def local_text(zone, t, n=16):
    from firmware.clock.iso import format_iso

    return format_iso(t, zone.offset_at(t), z=False)[:n].replace("T", " ")


def savings_lines(s):
    """The savings as the pictures and the HTML report state them."""
    cur = s["currency"]

    def pct(p):
        return "-" if p is None else "%.1f%%" % p

    return [
        "saved %s %.2f (%s) vs a fixed 18:00 start" % (cur, s["savings_vs_baseline"],
                                                       pct(s["savings_vs_baseline_pct"])),
        "saved %s %.2f (%s) vs the period average" % (cur, s["savings_vs_average"],
                                                      pct(s["savings_vs_average_pct"])),
        "%s %.2f (%s) above the exact optimum" % (cur, s["gap_to_optimal"],
                                                  pct(s["gap_to_optimal_pct"])),
    ]


def title(s):
    pol = s["policy"]
    return "%s   %s .. %s   %g kW, %g h/day%s%s   (%s runtime, %s)" % (
        s["market"], s["start"][:10], s["end"][:10], s["load_kw"], pol["hours_per_day"],
        ", one block" if pol["block"] else "",
        (", by %s" % pol["deadline"]) if pol["deadline"] else "", s["runtime"], s["provider"])
