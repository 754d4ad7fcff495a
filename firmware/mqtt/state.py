"""What the plug tells Home Assistant: one JSON object, published retained on <base>/state.

snapshot(app) -> dict with the keys the discovery document's value templates read:
    load ("ON"/"OFF"), override ("ON"/"OFF"/"AUTO"), reason, price (currency per kWh, text),
    next_switch and coverage_end (ISO 8601 UTC or None), hours_today, hours_tomorrow,
    last_fetch, mode and hours (the policy settings), rssi (dBm or None), heap (bytes free);
    and, when the app keeps a savings record (app.savings), energy_today (kWh), cost_today,
    saving_today (currency).
Decimals are exact text made from the integer micro-units (ESP32 floats are single
precision); Home Assistant reads numeric text as numbers. Nothing here blocks or allocates
more than the dict itself: the plan is walked segment by segment.
"""

from ..clock.iso import format_iso
from ..compat import mem_free
from ..prices.schedule import NO_PRICE, format_price


def iso(t_s):
    return None if t_s is None else format_iso(t_s)


def on_seconds(plan, t0, t1):
    """Planned ON time within [t0, t1), walking the plan's segments."""
    total = 0
    t = t0
    while t < t1:
        on, _reason, until = plan.at(t)
        if until is None or until <= t:
            break
        e = until if until < t1 else t1
        if on:
            total += e - t
        t = e
    return total


def hours_text(seconds):
    return "%d.%02d" % (seconds // 3600, (seconds % 3600) * 100 // 3600)


def money(value, places=4):
    """A float from the savings record as fixed-point text (or None)."""
    if value is None:
        return None
    q = 10 ** places
    n = int(value * q + (0.5 if value >= 0 else -0.5))
    sign = "-" if n < 0 else ""
    n = -n if n < 0 else n
    return "%s%d.%s" % (sign, n // q, ("%0" + str(places) + "d") % (n % q))


def _rssi(hal):
    fn = getattr(hal.net, "rssi", None)
    if fn is None or not hal.net.up():
        return None
    try:
        return fn()
    except (OSError, ValueError):
        return None


def snapshot(app):
    hal, cfg = app.hal, app.cfg
    now = hal.clock.now_s()
    st = app.state
    sched = app.schedule
    plan = app.plan
    price = sched.price_at(now) if sched is not None else None
    lf = app.last_fetch
    ov = st.override_until_s if st is not None else None
    out = {
        "load": "ON" if app.load_on else "OFF",
        "override": "AUTO" if ov is None else ("ON" if st.override_on else "OFF"),
        "reason": app.reason[:250],
        "price": None if price is None or price == NO_PRICE else format_price(price, 6),
        "next_switch": iso(plan.next_change(now)) if plan is not None else None,
        "coverage_end": iso(sched.last_price_end()) if sched is not None and len(sched)
        else None,
        "hours_today": None, "hours_tomorrow": None,
        "last_fetch": None if lf is None else ("%s: %s" % ("ok" if lf["ok"] else "failed",
                                                           lf["msg"]))[:250],
        "mode": cfg.get("policy.mode"), "hours": cfg.get("policy.hours"),
        "rssi": _rssi(hal), "heap": mem_free(),
    }
    if out["heap"] < 0:  # the runtime cannot tell (CPython)
        out["heap"] = None
    if plan is not None and app.clock_trusted:
        z = app.zone
        d0 = z.day_start(now)
        d1 = z.next_day_start(now)
        ran = st.ran_s if st.ran_period_s == d0 else 0  # what already ran today counts
        out["hours_today"] = hours_text(ran + on_seconds(plan, max(d0, now), d1))
        out["hours_tomorrow"] = hours_text(on_seconds(plan, d1, z.next_day_start(d1)))
    sv = getattr(app, "savings", None)
    if sv is not None:
        d = sv.today(now)
        out["energy_today"] = money(d["kwh"], 3)
        out["cost_today"] = money(d["cost"])
        out["saving_today"] = money(d["saving"])
    return out


def currency(app):
    s = app.schedule
    return s.currency if s is not None and len(s) and s.currency else "USD"
