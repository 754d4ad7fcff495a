"""Reports of a run (CPython): the terminal summary, the timeline (CSV/JSON), the sweep
table, and `write_reports`, which writes a run's files: timeline, pictures (overview.py,
detail.py) and the self-contained report.html (html_report.py)."""

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
    if s.get("missing_intervals"):
        lines.append("  gaps       %d intervals without a price in the file: the plug saw none "
                     "published there (fallback); the load ran %.2f h in them (not in the "
                     "cost)" % (s["missing_intervals"], s.get("on_hours_without_price") or 0))
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
    elif b.get("kind") == "retail":
        lines += [
            "  billed at  retail = (spot%s + adder %s + grid) x (1 + VAT %s%%)" % (
                "" if b["multiplier"] in (1, 1.0) else " x %s" % b["multiplier"],
                b["adder"] or "0", b["vat_pct"]),
            "             grid %s" % (b.get("grid_tariff_name") or b["grid_tou"] or "none"),
            "             bill-level costs below; the energy alone cost %s" % _money(
                s.get("energy_cost"), cur),
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
    return _write_timeline(res, timeline_rows(res), out_dir, stem)


def _write_timeline(res, rows, out_dir, stem="timeline"):
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


def write_reports(res, out_dir, pictures=True, scale="shared", runtimes=None):
    """Everything a run writes to out_dir: timeline.csv/.json, the pictures (overview.png, its
    copy chart.png for older scripts, detail_NN.png) and report.html. Returns {name: path or
    [paths]} and the wall seconds each step took, with the CPU seconds of all ("timings")."""
    import time

    from . import drawing, html_report

    cpu0 = time.process_time()
    t = time.monotonic()
    timings, out = {}, {}
    rows = timeline_rows(res)
    out["timeline"] = _write_timeline(res, rows, out_dir)
    timings["timeline_s"] = time.monotonic() - t
    images = []
    if pictures:
        from . import detail, overview

        t = time.monotonic()
        out["overview"] = overview.write(res, os.path.join(out_dir, "overview.png"))
        out["chart"] = _same_file(out["overview"], os.path.join(out_dir, "chart.png"))
        timings["overview_s"] = time.monotonic() - t
        t = time.monotonic()
        _remove_stale(out_dir, "detail_")
        out["detail"] = detail.write(res, out_dir, scale)
        timings["detail_s"] = time.monotonic() - t
        images = [("overview", out["overview"])] + [
            ("detail page %d of %d" % (i + 1, len(out["detail"])), p)
            for i, p in enumerate(out["detail"])]
    t = time.monotonic()
    marks = ["%s: %s .. %s" % (label, drawing.local_text(res.zone, a),
                               drawing.local_text(res.zone, b)) if b > a else
             "%s: %s" % (label, drawing.local_text(res.zone, a))
             for _k, a, b, label in drawing.marks(res)]
    out["html"] = html_report.write(os.path.join(out_dir, "report.html"), res.summary, rows,
                                    images, runtimes, marks)
    timings["html_s"] = time.monotonic() - t
    out["timings"] = {k: round(v, 3) for k, v in timings.items()}
    out["timings"]["cpu_s"] = round(time.process_time() - cpu0, 3)  # the same, busy machine or not
    return out


def _same_file(src, dst):
    """dst as a second name of src (a copy where links are not possible)."""
    import shutil

    if os.path.lexists(dst):
        os.remove(dst)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
    return dst


def _remove_stale(out_dir, prefix):
    # a shorter run into the same folder must not leave an earlier run's pages behind
    for name in os.listdir(out_dir):
        if name.startswith(prefix) and name.endswith(".png"):
            os.remove(os.path.join(out_dir, name))


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
