"""Reports of a run: terminal summary, timeline CSV/JSON, PNG chart, sweep table (CPython)."""

import csv
import json
import os

from firmware.clock.iso import format_iso


def _local(t, zone):
    return format_iso(t, zone.offset_at(t), z=False)


def _money(x, cur):
    return "%s %.2f" % (cur, x) if x is not None else "-"


def summary_text(s):
    cur = s["currency"]
    pol = s["policy"]
    pol_txt = "%g h/day%s%s" % (pol["hours_per_day"], ", one block" if pol["block"] else "",
                                (", by %s" % pol["deadline"]) if pol["deadline"] else "")
    lines = [
        "WattWindow simulation (%s runtime, provider %s)" % (s["runtime"], s["provider"]),
        "  prices     %s  [%s, %d-min]" % (s["prices_file"], s["market"],
                                           s["resolution_s"] // 60),
        "  period     %s .. %s  (%g days, TZ %s)" % (s["start"], s["end"], s["days"], s["tz"]),
        "  load       %g kW, policy %s" % (s["load_kw"], pol_txt),
    ]
    b = s.get("billing") or {}
    if b.get("kind") == "rateplan":
        lines += [
            "  billed on  rate plan %s (%s), %s, meterDate %d" % (
                b["id"], b["file"], "TOU from the series' means" if
                b["tou_derived_from_series"] else "its own TOU periods", b["meterDate"]),
            "             TOU %s" % b["tou"],
            "             tiers %s (kWh:+price) -> tier charges %s" % (
                b["tiers"] or "none", _money(s["consumption_charges"], cur)),
        ]
    lines += [
        "",
        "  energy                %10.3f kWh  (%.2f h on; target %.3f kWh)" % (
            s["energy_kwh"], s["on_hours"], s["target_energy_kwh"]),
        "  cost                  %14s" % _money(s["cost"], cur),
        "  average price paid    %14s /kWh  (period average %.4f)" % (
            "-" if s["average_price_paid"] is None else "%s %.4f" % (cur,
                                                                     s["average_price_paid"]),
            s["period_average_price"]),
        "  vs fixed 18:00 start  %14s  -> saved %s (%s%%)" % (
            _money(s["baseline_cost"], cur), _money(s["savings_vs_baseline"], cur),
            _fmt_pct(s["savings_vs_baseline_pct"])),
        "  vs period average     %14s  -> saved %s (%s%%)" % (
            _money(s["average_price_cost"], cur), _money(s["savings_vs_average"], cur),
            _fmt_pct(s["savings_vs_average_pct"])),
        "  exact optimum         %14s  -> gap %s (%s%%)" % (
            _money(s["optimal_cost"], cur), _money(s["gap_to_optimal"], cur),
            _fmt_pct(s["gap_to_optimal_pct"])),
        "",
        "  fetches %d (failed %d, server saw %d requests), flash writes %d, relay switches %d,"
        " boots %d" % (s["fetches"], s["fetch_failures"], s["server_requests"],
                       s["flash_writes"], s["switches"], s["boots"]),
        "  wall %.2f s, CPU %.2f s (%s simulated s per wall s)" % (
            s["wall_s"], s.get("cpu_s", 0), s["sim_s_per_wall_s"]),
    ]
    sr = s.get("savings_record")
    if sr:
        for who, r in (("plug's own record", sr["plug"]), ("simulator, same days", sr["sim"])):
            lines.append("  %-21s %8.3f kWh, cost %s, 18:00 baseline %s, saved %s" % (
                who, r["kwh"], _money(r["cost"], cur), _money(r["baseline_cost"], cur),
                _money(r["saving"], cur)))
        lines.append("  (%d local days from %s; largest daily difference %s %.6f)" % (
            sr["days"], sr["first"], cur, sr["max_day_diff"]))
    if s.get("actions"):
        lines.append("  actions: " + ", ".join(
            ("button %s" % format_iso(a)) if k == "button" else
            "override %s %s+%gh" % (arg, format_iso(a), (b - a) / 3600.0)
            for k, a, b, arg in s["actions"]))
    if s["faults"]:
        lines.append("  faults: " + ", ".join(
            "%s %s+%gh%s" % (k, format_iso(a), (b - a) / 3600.0, (":%s" % arg) if arg else "")
            for k, a, b, arg in s["faults"]))
    return "\n".join(lines)


def _fmt_pct(p):
    return "-" if p is None else "%.1f" % p


def timeline_rows(res):
    """Every event as a dict, in time order: decisions (with reason), relay changes, boots,
    power cuts, fetch/clock log lines, a rate plan's billing cycles, tier crossings and the
    plug's counter, and the price the plug is billed at that moment."""
    zone, series = res.zone, res.series
    rows = []
    for ev in res.events:
        kind = ev[0]
        if kind in ("tick", "end"):
            continue
        t = ev[1]
        row = {"t_utc": format_iso(t), "local": _local(t, zone), "event": kind, "on": "",
               "price": "", "reason": ""}
        i = series.index_at(t)
        if i >= 0:
            row["price"] = "%.6f" % (series.prices[i] / 1e6)
        if kind == "d":
            row.update(event="decision", on=int(ev[3]), reason=ev[4],
                       device_t=format_iso(ev[2]))
        elif kind == "r":
            row.update(event="relay", on=int(ev[2]))
        elif kind == "act":  # a person's action (--button, --override)
            row.update(event=ev[2], reason=ev[3])
        elif kind == "cut":
            row.update(event="power_cut", reason="until " + _local(ev[2], zone))
        elif kind == "log":
            row.update(event="log", reason=ev[2])
        elif kind == "note":  # from the billing (a rate plan's cycles and tiers)
            row.update(event=ev[2], reason=ev[3])
        elif kind == "state":  # provider state the device reported (a rate plan's counter)
            row.update(event="state", reason=" ".join(
                "%s=%s" % kv for kv in sorted(ev[2].items())))
        rows.append(row)
    return rows


def write_timeline(res, out_dir, stem="timeline"):
    rows = timeline_rows(res)
    csv_path = os.path.join(out_dir, stem + ".csv")
    cols = ["t_utc", "local", "event", "on", "price", "reason", "device_t"]
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)
    json_path = os.path.join(out_dir, stem + ".json")
    with open(json_path, "w") as f:
        json.dump({"summary": res.summary, "timeline": rows}, f, indent=1)
    return csv_path, json_path


MAX_WEEK_ROWS = 8
_LEGEND = ("green = load on, red = injected fault, grey = power cut, purple dashes = button "
           "press or override")


def write_chart(res, path):
    """Prices (step line, local time) with the ON intervals shaded; one row per week (the
    first MAX_WEEK_ROWS weeks) under a panel of the cumulative cost vs the references."""
    import datetime

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    zone, series, t0, t1 = res.zone, res.series, res.t0, res.t1
    s = res.summary

    def dt(t):
        return datetime.datetime.fromtimestamp(t + zone.offset_at(t), datetime.UTC).replace(
            tzinfo=None)

    weeks = []
    a = t0
    while a < t1 and len(weeks) < MAX_WEEK_ROWS:
        b = a
        for _ in range(7):
            b = zone.next_day_start(b)
        weeks.append((a, min(b, t1)))
        a = b
    n_weeks_total = max(1, -(-int(round((t1 - t0) / 86400.0)) // 7))
    fig, axes = plt.subplots(len(weeks) + 1, 1, figsize=(14, 2.3 * (len(weeks) + 1) + 0.6),
                             squeeze=False)
    axes = [ax[0] for ax in axes]
    cur = s["currency"]

    # cumulative cost panel: the plug against the three references, window by window
    ax = axes[0]
    xs = [dt(t0)]
    cum = [[0], [0], [0], [0]]
    for _a, b, _d, dev, opt, base, avg in res.per_window:
        xs.append(dt(b))
        for k, v in enumerate((dev, opt, base, avg)):
            cum[k].append(cum[k][-1] + v * s["load_kw"] / 3.6e9)
    for k, (label, color, ls, total) in enumerate((
            ("plug", "tab:green", "-", s["cost"]),
            ("optimum", "tab:blue", "-.", s["optimal_cost"]),
            ("fixed 18:00", "tab:red", "--", s["baseline_cost"]),
            ("period average", "tab:orange", ":", s["average_price_cost"]))):
        ax.plot(xs, cum[k], color=color, ls=ls, lw=1.6 if k == 0 else 1.2,
                label="%s: %s %.2f" % (label, cur, total))
    ax.set_ylabel("cumulative %s" % cur)
    ax.set_title("%s  %s .. %s  %g kW, %g h/day (%s runtime)" % (
        s["market"], s["start"][:10], s["end"][:10], s["load_kw"],
        s["policy"]["hours_per_day"], s["runtime"]))
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)

    cut_spans = [(ev[1], ev[2]) for ev in res.events if ev[0] == "cut"]
    acts = [ev[1] for ev in res.events if ev[0] == "act"]  # a person's button press/override
    fault_spans = [(f[1], f[2]) for f in s["faults"] if f[0] in ("outage", "error", "slow",
                                                                 "truncate", "wifi")]
    for ax, (a, b) in zip(axes[1:], weeks, strict=True):
        xs, ys = [], []
        for ps, pe, p in series.window(a, b):
            xs += [dt(ps), dt(pe)]
            ys += [p / 1e6, p / 1e6]
        ax.plot(xs, ys, color="black", lw=0.8)
        for x, y in res.on:
            if y > a and x < b:
                ax.axvspan(dt(max(x, a)), dt(min(y, b)), color="tab:green", alpha=0.35, lw=0)
        for x, y in fault_spans:
            if y > a and x < b:
                ax.axvspan(dt(max(x, a)), dt(min(y, b)), ymin=0, ymax=0.06, color="tab:red",
                           alpha=0.8, lw=0)
        for x, y in cut_spans:
            if y > a and x < b:
                ax.axvspan(dt(max(x, a)), dt(min(y, b)), color="grey", alpha=0.4, lw=0)
        for x in acts:
            if a <= x < b:
                ax.axvline(dt(x), color="tab:purple", ls="--", lw=1.0)
        ax.set_xlim(dt(a), dt(b))
        ax.set_ylabel("%s/kWh" % cur)
        ax.xaxis.set_major_locator(mdates.DayLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%a %m-%d"))
        ax.grid(alpha=0.3)
    if n_weeks_total > len(weeks):
        axes[-1].set_xlabel("first %d of %d weeks shown; %s" % (len(weeks), n_weeks_total,
                                                                 _LEGEND))
    else:
        axes[-1].set_xlabel("local time; " + _LEGEND)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def sweep_table(param, rows):
    """rows: [(value, summary)] -> text table of savings."""
    cur = rows[0][1]["currency"] if rows else ""
    head = "%-14s %9s %10s %10s %10s %10s %9s %9s %8s" % (
        param, "kWh", "cost", "optimum", "18:00", "average", "save18%", "saveAvg%", "gap%")
    out = [head, "-" * len(head)]
    for v, s in rows:
        out.append("%-14s %9.2f %10.2f %10.2f %10.2f %10.2f %9s %9s %8s" % (
            v, s["energy_kwh"], s["cost"], s["optimal_cost"], s["baseline_cost"],
            s["average_price_cost"], _fmt_pct(s["savings_vs_baseline_pct"]),
            _fmt_pct(s["savings_vs_average_pct"]), _fmt_pct(s["gap_to_optimal_pct"])))
    out.append("(costs in %s)" % cur)
    return "\n".join(out)
