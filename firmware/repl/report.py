"""What the field REPL prints about a plug (firmware/repl/plug.py): the status report and the plan
preview, as text lines, from a plugview.Plug. Imported only when one of them is asked for, so
the running app never holds this code.
"""

from .. import VERSION
from ..compat import mem_free


def _duration(s):
    s = int(s)
    if s < 120:
        return "%ds" % s
    if s < 7200:
        return "%dmin" % (s // 60)
    if s < 172800:
        return "%dh%02d" % (s // 3600, (s % 3600) // 60)
    return "%dd" % (s // 86400)


def _fmt_price(pu, currency=""):
    from ..prices.schedule import format_price

    return format_price(pu) + ((" " + currency) if currency else "")


def status_lines(p):
    now = p.now_s()
    zone = p.zone()
    snap = p.snapshot()
    cfg = p.cfg()
    out = ["WattWindow %s  %s" % (VERSION, app_state(p))]
    valid = snap.get("clock_valid") if p.app is not None else None
    if valid is None:
        valid = p.clock_valid()
    out.append("clock:  %s %s (tz %s), %s" % (
        p.local(now, zone), p.zone_name(now, zone), cfg.get("tz") if zone is not None else "UTC0",
        "valid" if valid else "NOT VALID (waiting for NTP): relay follows safe_state"))
    relay = snap.get("relay_on")
    if relay is None:
        out.append("relay:  unknown (no status snapshot yet)")
    else:
        since = snap.get("relay_since_s")
        until = snap.get("until_s")
        out.append("relay:  %s%s: %s%s" % (
            "ON" if relay else "OFF",
            (" since " + p.local(since, zone)) if since else "",
            snap.get("reason") or "?",
            (" (until " + p.local(until, zone) + ")") if until else ""))
    ov = snap.get("override") if p.app is not None else p.pending_override()
    if isinstance(ov, dict):
        out.append("override: %s until %s" % ("ON" if ov["on"] else "OFF",
                                                p.local(ov["until_s"], zone)))
    sched, extras, err = p.cache()
    if sched is None:
        out.append("cache:  empty%s" % ((" (" + err + ")") if err else ""))
        out.append("price:  unknown")
    else:
        cov = sched.coverage()
        cur = sched.price_at(now)
        src = snap.get("source") or cfg.get("source") or "?"
        out.append("price:  %s per %s (source %s%s)" % (
            "-" if cur is None else _fmt_price(cur, sched.currency), sched.unit, src,
            ("; cached prices from " + sched.source)
            if sched.source and sched.source != src else ""))
        t, changes = now, []
        for _ in range(3):
            t = sched.next_change(t)
            if t is None or t >= sched.end_s:
                break
            changes.append("%s %s" % (p.local(t, zone)[11:],
                                      _fmt_price(sched.price_at(t))))
        out.append("next:   " + (", ".join(changes) if changes else "no change known"))
        fetched = getattr(sched, "fetched_s", 0) or 0
        out.append("cache:  %s .. %s, %d intervals, fetched %s" % (
            p.local(cov[0], zone), p.local(cov[1], zone), len(sched),
            (_duration(now - fetched) + " ago") if fetched else "?"))
        ahead = cov[1] - now
        if ahead <= 0:
            out.append("        WARNING: no prices ahead; relay follows safe_state")
    lf = snap.get("last_fetch")
    if isinstance(lf, dict):
        out.append("fetch:  %s%s%s" % (
            "ok" if lf.get("ok") else "FAILED",
            (" " + _duration(now - lf["t_s"]) + " ago") if lf.get("t_s") else "",
            (": " + str(lf["msg"])) if lf.get("msg") else ""))
        if snap.get("next_fetch_s"):
            out.append("        next at %s" % p.local(snap["next_fetch_s"], zone))
    elif p.app is not None and snap.get("next_fetch_s"):
        out.append("fetch:  none yet; next at %s" % p.local(snap["next_fetch_s"], zone))
    else:
        out.append("fetch:  none recorded")
    out += savings_lines(p, now, zone, sched.currency if sched is not None else "")
    out.append("wifi:   %s" % wifi_state(p))
    import gc

    gc.collect()  # what is free for the app, not what garbage happens to be lying around
    free = mem_free()
    out.append("heap:   %s" % (("%d bytes free" % free) if free >= 0 else "not known here"))
    warnings = list(p.warnings)
    for w in snap.get("config_warnings") or ():
        if w not in warnings:
            warnings.append(w)
    for w in warnings:
        out.append("WARNING " + w)
    if snap.get("error"):
        out.append("WARNING app status: " + str(snap["error"]))
    return out


def savings_lines(p, now, zone, currency=""):
    """Energy, cost and savings against the fixed-time baseline: today and the last 7 days,
    from the running app's record, else from its file on flash (prices/savings.py)."""
    rec = getattr(p.app, "savings", None) if p.app is not None else None
    if rec is None:
        from ..prices.savings import Savings

        if zone is None:
            return []
        rec = Savings(p.root, zone, p.now_s, lambda: None)
        if rec.last_error:
            return ["energy: " + rec.last_error]
    week = rec.days(7, now)
    if not any(d["kwh"] for d in week):
        return ["energy: nothing recorded yet"]
    cur = (" " + currency) if currency else ""

    def line(kwh, cost, saving):
        return "%.2f kWh, cost %.2f%s, saved %.2f%s" % (kwh, cost, cur, saving, cur)

    t = week[-1]
    total = [sum(d[k] for d in week) for k in ("kwh", "cost", "saving")]
    base = p.cfg().get("savings.baseline") or "18:00"
    return ["energy: today %s (vs the same run from %s)" % (
                line(t["kwh"], t["cost"], t["saving"]), base),
            "        last 7 days %s" % line(*total)]


def app_state(p):
    """The header's word on the app. At the REPL the app's loop is not running: Ctrl-C (or
    mpremote) stopped it, and only a tool that resumes it afterwards may call that a pause."""
    if p.app is None:
        return "app not running (state from flash)"
    if p.tool:
        return "app running (paused while plugctl reads it; it resumes right after)"
    return ("app STOPPED at the REPL (Ctrl-C): nothing switches until Ctrl-D, plug.resume() "
            "or `plugctl reset`")


def wifi_state(p):
    ssid = p.cfg().get("wifi.ssid") or ""
    if p.app is not None:
        try:
            up = p.app.hal.net.up()
        except Exception:
            up = False
        return "%s (%s)" % ("connected" if up else "down", ssid or "no ssid set")
    try:
        import network  # only on a board; read-only query, no connect

        up = network.WLAN(network.STA_IF).isconnected()
        return "%s (%s)" % ("connected" if up else "down", ssid or "no ssid set")
    except (ImportError, AttributeError, OSError):
        return "no Wi-Fi on this port" + ((" (ssid %s)" % ssid) if ssid else "")


def plan_rows(p, hours=24):
    """[(start_s, end_s, on, price_u or None, reason)] from now over `hours`."""
    from .view import PLAN_HOURS, check_count

    hours = check_count("plan", hours, PLAN_HOURS)
    if p.live() and hasattr(p.app, "plan_rows"):
        rows = []
        for r in p.app.plan_rows(hours):
            if isinstance(r, dict):
                r = (r.get("start_s"), r.get("end_s"), r.get("on"), r.get("price_u"),
                     r.get("reason"))
            rows.append(tuple(r))
        return rows
    # No app: plan from the flash cache as the app would (nothing is switched).
    from ..app import flashstate
    from ..clock.tz import Zone
    from ..plan import planner
    from ..prices.schedule import NO_PRICE, Schedule

    sched = p.cache()[0] or Schedule()
    now = p.now_s()
    state = planner.State()
    state.clock_valid = p.clock_valid()
    run = flashstate.load_run(p.root)  # on-time the app already delivered this period
    if run is not None:
        state.ran_period_s, state.ran_s = run[0], run[1]
        if run[2] is not None:
            state.block_start_s, state.block_end_s = run[2]
    ov = p.pending_override()
    if ov:
        state.override_on = ov["on"]
        state.override_until_s = ov["until_s"]
    zone = p.zone() or Zone("UTC0")
    chosen = planner.plan(sched, planner.Policy.from_config(p.cfg()), now, state, zone)
    end = now + hours * 3600
    rows = []
    for s, e, on, reason in chosen.segments:
        if e <= now or s >= end:
            continue
        s, e = max(s, now), min(e, end)
        t = s
        for ps, pe, pu, _i in sched.window(s, e):  # split where the price changes
            if ps > t:
                rows.append((t, ps, on, None, reason))
            rows.append((ps, pe, on, None if pu == NO_PRICE else pu, reason))
            t = pe
        if t < e:
            rows.append((t, e, on, None, reason))
    return rows


def plan_lines(p, hours=24):
    """One row per stretch with its price and reason, in local time (the zone named once);
    stretches shorter than a displayed minute are left out (they would read 21:12 - 21:12)."""
    zone = p.zone()
    rows = plan_rows(p, hours)
    out = []
    for s, e, on, price, reason in rows:
        a, b = p.local(s, zone), p.local(e, zone)
        if a == b:
            continue
        out.append("%s - %s  %-3s %8s  %s" % (
            a, b[11:], "ON" if on else "OFF", "-" if price is None else _fmt_price(price),
            reason))
    if not out:
        return ["no plan: no prices cached and no fallback"]
    t = rows[0][0]
    return ["times in %s (tz %s)" % (p.zone_name(t, zone), p.cfg().get("tz") or "UTC0")] + out
