"""The fleet run's figures and tables (CPython only).

    load = kw_per_interval(m, totals)           # the fleet's load in kW per interval
    row = switching_row(m, totals, base)        # peak, peak-to-average, cost, extra cost
    text = tables(summary)                      # the printed report

Money is exact until the last step: costs are micro-units x watt-seconds (ints) and are
divided once, here. The mean daily peak reduction is 1 - sum of daily peaks with spreading /
sum without; the run's peak reduction compares the highest interval of the whole run.
"""

WS_PER_KWH = 3600000
U = 1000000


def kw_per_interval(m, tot):
    return [w / (e - s) / 1000 for w, s, e in zip(tot.load_ws, m.starts, m.ends, strict=True)]


def daily_peaks(m, kw):
    return [max(kw[i:j]) for _a, _b, i, j in m.days]


def money(cost):
    return cost / U / WS_PER_KWH


def switching_row(m, tot, base, spread_u):
    kw = kw_per_interval(m, tot)
    peaks, peaks0 = daily_peaks(m, kw), daily_peaks(m, kw_per_interval(m, base))
    mean_kw = tot.energy_ws / (m.t1 - m.t0) / 1000
    mwh = tot.energy_ws / WS_PER_KWH / 1000
    extra = money(tot.cost - base.cost)
    return {
        "market": m.name, "spread_per_mwh": spread_u / 1000, "plugs": tot.plugs,
        "groups": tot.groups, "peak_kw": max(kw), "mean_daily_peak_kw": sum(peaks) / len(peaks),
        "peak_to_average": max(kw) / mean_kw if mean_kw else 0.0,
        "peak_reduction_pct": _pct(1 - sum(peaks) / sum(peaks0)) if sum(peaks0) else 0.0,
        "run_peak_reduction_pct": _pct(1 - max(peaks) / max(peaks0)) if max(peaks0) else 0.0,
        "days_peak_lower": sum(1 for a, b in zip(peaks, peaks0, strict=True) if a < b),
        "energy_mwh": mwh, "cost": money(tot.cost), "currency": m.currency,
        "extra_cost_per_mwh": extra / mwh if mwh else 0.0,
        "extra_cost_pct": _pct(tot.cost / base.cost - 1) if base.cost else 0.0,
    }


def traffic_row(m, label, per_min, plugs, days):
    from .traffic import stats

    peak, p99, busy, total = stats(per_min, m.t0, m.t1)
    return {"market": m.name, "scenario": label, "peak_per_min": peak, "p99_per_min": p99,
            "busy_minutes": busy, "requests": total,
            "per_plug_day": total / plugs / days if plugs and days else 0.0}


def _pct(x):
    return round(100 * x, 2)


def tables(s):
    out = ["fleet: %d plugs, %d days from %s, mix %s, loads %s; %s" % (
        s["plugs"], s["days"], s["start"], s["mix"], s["loads"], s["where"])]
    out.append("")
    out.append("price-API requests per minute (%d days; a power cut %s)" % (
        s["traffic_days"], s["cut"]))
    out.append("  %-6s %-40s %8s %8s %8s %10s" % ("market", "scenario", "peak", "p99",
                                                 "busy min", "req/plug/d"))
    for r in s["traffic"]:
        out.append("  %-6s %-40s %8d %8d %8d %10.2f" % (
            r["market"], r["scenario"], r["peak_per_min"], r["p99_per_min"],
            r["busy_minutes"], r["per_plug_day"]))
    out.append("")
    out.append("fleet load and cost over a sweep of policy.spread (per MWh); peak reduction: "
               "mean daily peak / the run's peak, against spread 0")
    out.append("  %-6s %7s %9s %9s %6s %13s %10s %12s %9s %7s" % (
        "market", "spread", "peak kW", "day pk kW", "PAR", "peak red %", "days lower",
        "cost", "extra/MWh", "extra%"))
    for r in s["switching"]:
        mark = " <- recommended" if r["spread_per_mwh"] == s["recommended"] else ""
        out.append("  %-6s %7g %9.1f %9.1f %6.2f %6.1f / %4.1f %10s %12s %9.3f %7.2f%s" % (
            r["market"], r["spread_per_mwh"], r["peak_kw"], r["mean_daily_peak_kw"],
            r["peak_to_average"], r["peak_reduction_pct"], r["run_peak_reduction_pct"],
            "%d/%d" % (r["days_peak_lower"], s["days"]),
            "%.2f %s" % (r["cost"], r["currency"]), r["extra_cost_per_mwh"],
            r["extra_cost_pct"], mark))
    sp = s["speed"]
    out.append("")
    out.append("speed: %d plug-days in %.2f s on %s: %.0f plug-days/s per worker "
               "(%d plans for %d groups of plugs that decide alike)" % (
                   sp["plug_days"], sp["wall_s"], s["where"], sp["plug_days_per_s_per_worker"],
                   sp["plans"], sp["groups"]))
    return "\n".join(out)
