"""Which stretches of time the load is on, and why: a function of (prices, policy, now, state).

    p = plan(schedule, Policy.from_config(cfg), now_s, state, zone, rate_plan=None)
    p.segments            [(start_s, end_s, on, reason)], contiguous from now_s to p.end_s
    p.at(t_s)             (on, reason, until_s)  until_s = end of that segment (None past the end)
    p.next_change(t_s)    first time after t_s at which `on` changes (p.end_s if none: re-plan)
    count_run(state, policy, now_s, zone)   measure the load's on-time in the running period

Precedence, first match wins: untrusted clock -> safe_state; manual override; forced off, then
forced on; anti-short-cycle (min on/off, max switches); a started block is finished; price
limits (absolute, then relative); the mode (cheapest N per period, contiguous block, deadline,
limits) on priced time; time without a price: backup hours, the rate plan, else safe_state.
`on` is the LOAD state (the app inverts for wiring). Integer arithmetic only, ties to the
earlier slot: the same plan on CPython and MicroPython. Periods, what counts as already run,
and why the choice is exact: docs/planner.md.
"""

from ..clock.iso import format_hm, format_ymd
from ..onoff import word
from ..prices.schedule import NO_PRICE, Schedule, format_price
from .cheapest import cheapest, cheapest_block, cost_of  # noqa: F401 (re-exported)
from .policy import CONFIG, MODES, PERIODS, RELATIVE, Policy  # noqa: F401 (re-exported)
from .segments import Plan
from .windows import add as _add
from .windows import daily_windows, parse_hm, parse_windows  # noqa: F401 (re-exported)
from .windows import keep as _keep
from .windows import label as _wins_label
from .windows import overlay as _overlay


class State:
    """What the app knows between plans. Times are UTC seconds; None = unknown / never."""

    def __init__(self):
        self.clock_valid = False
        self.build_s = 0  # firmware build time: a clock reading before it is not trusted
        self.relay_on = None  # the LOAD state now (None: not set since boot)
        self.on_since_s = None
        self.off_since_s = None
        self.switches_today = 0
        self.override_on = None
        self.override_until_s = None
        # a started contiguous block, finished by every re-plan (note_started_block)
        self.block_start_s = None  # type: int | None
        self.block_end_s = None  # type: int | None
        self.planned_blocks = []  # blocks chosen by the last plan (written by plan())
        self.plan_s = None  # when the last plan was made
        # measured on-time (count_run): the load ran ran_s seconds in the period that starts
        # at ran_period_s, counted up to ran_mark_s (None: not counting, e.g. after a boot)
        self.ran_period_s = None  # type: int | None
        self.ran_s = 0
        self.ran_mark_s = None  # type: int | None


def period_at(policy, t_s, zone):
    """(start_s, end_s) of the period containing t_s whose on-time counts against the need
    (cheapest mode with a day or window period, deadline mode), else None."""
    pol = policy
    if pol.mode == "deadline" or (pol.mode == "cheapest" and pol.period != "rolling"):
        for ps, pe in _periods(pol, t_s, t_s + 1, zone):
            if ps <= t_s < pe:
                return ps, pe
    return None


def count_run(state, policy, now_s, zone):
    """Measure: add the load's on-time since the previous call (state.relay_on was the load
    state all along: call it before every relay write, and before planning) to the on-time
    of the period containing now_s; a new period starts from 0. Time before a boot or while
    the clock is not valid is not counted (state.ran_mark_s None). Returns state.ran_s."""
    mark = state.ran_mark_s
    if not state.clock_valid:
        state.ran_mark_s = None
        return state.ran_s
    state.ran_mark_s = now_s
    per = period_at(policy, now_s, zone)
    if per is None:
        return state.ran_s
    if state.ran_period_s != per[0]:
        state.ran_period_s, state.ran_s = per[0], 0
    if mark is not None and state.relay_on:
        a = mark if mark > per[0] else per[0]
        if now_s > a:
            state.ran_s += now_s - a
    return state.ran_s


def note_started_block(state, now_s):
    """Record in state.block_start_s/end_s the latest block the last plan chose that has begun
    by now_s (the app calls this as it follows the plan, so the block is known, and kept on
    flash, from the moment it starts, not only from the next re-plan)."""
    for s, e in state.planned_blocks or ():
        if s <= now_s and (state.block_start_s is None or s > state.block_start_s):
            state.block_start_s, state.block_end_s = s, e


FETCH_SKEW_S = 300  # an NTP step after a fetch may put the clock a little before fetched_s


def clock_trusted(now_s, build_s=0, fetched_s=0, skew_s=FETCH_SKEW_S):
    """A clock that reads earlier than the firmware build, or earlier than the time the cached
    prices were fetched (less `skew_s`: that time came from this clock, maybe before an NTP
    correction), is wrong (e.g. an RTC back at 2000): never decide from it."""
    if now_s < (build_s or 0):
        return False
    return not fetched_s or now_s >= fetched_s - skew_s


# -- helpers ----------------------------------------------------------------------------------

def _hm(t, zone):
    return format_hm(t, zone.offset_at(t))


def _dur(s):
    m = (s + 59) // 60
    if m % 60 == 0:
        return "%d h" % (m // 60)
    if m < 60:
        return "%d min" % m
    return "%d h %d min" % (m // 60, m % 60)


def _ord(n):
    if 10 <= n % 100 <= 20:
        suf = "th"
    else:
        suf = ("th", "st", "nd", "rd")[n % 10] if n % 10 < 4 else "th"
    return "%d%s" % (n, suf)


# -- periods ---------------------------------------------------------------------------------
def _periods(pol, now, end, zone):
    """[(start_s, end_s)] of the planning periods meeting [now, end)."""
    out = []
    if pol.mode == "deadline" or (pol.period == "window" and pol.mode != "limits"):
        if pol.mode == "deadline":
            sm = em = pol.deadline_min
        else:
            sm, em = pol.window
        d = zone.local_days(now) - 2
        while True:
            base = d * 86400
            s = zone.from_local(base + sm * 60)
            if s >= end:
                break
            e = zone.from_local(base + (em if em > sm else em + 1440) * 60)
            if e > now:
                out.append((s, e))
            d += 1
        return out
    if pol.period == "rolling" and pol.mode != "limits":
        t = now
        while t < end:
            out.append((t, t + pol.rolling_s))
            t += pol.rolling_s
        return out
    t = zone.day_start(now)
    while t < end:
        e = zone.next_day_start(t)
        out.append((t, e))
        t = e
    return out


class _Ctx:
    """What one plan() call shares with its helpers."""

    def __init__(self, pol, zone, now_s, sch, real, started, state):
        self.pol, self.zone, self.now, self.sch = pol, zone, now_s, sch
        self.ran_period_s, self.ran_s = state.ran_period_s, state.ran_s or 0
        self.real = real  # the real schedule when a rate plan fills its gaps, else None
        self.prefix = "rate plan: " if real is not None else ""
        self.r_above = "price above limit %s" % format_price(pol.off_above_u)
        self.r_below = "price at or below limit %s" % format_price(pol.on_below_u)
        self.r_backup = "backup hours %s: no prices" % _wins_label(pol.backup)
        self.r_safe = "no prices: safe state %s" % word(pol.safe_on)
        self.last_price_end = sch.last_price_end()
        self.started = started  # (start_s, end_s) of a started block, or None
        self.end = now_s
        self.blocks = []
        self.spot = sch  # the energy prices when sch holds retail ones (plan() sets it)
        # Inside a period, times are seconds from this origin (the UTC midnight before now):
        # small ints on a 32-bit MicroPython, where epoch seconds are a heap object each (a
        # 15-minute day of (start, end, price) pieces: ~3.6 KB instead of ~9.8 KB per list).
        self.o = now_s - now_s % 86400


def _scope(c, ps, pe):
    """The words naming a period: "today", "on 2024-06-05", "before 07:00", "in 22:00-07:00"."""
    pol, zone = c.pol, c.zone
    if pol.mode == "deadline":
        return "before %s" % _hm(pe, zone)
    if pol.period == "window":
        return "in %s-%s" % (_hm(ps, zone), _hm(pe, zone))
    if pol.period == "rolling":
        return "in the %s from %s" % (_dur(pe - ps), _hm(ps, zone))
    today = zone.day_start(c.now)
    if ps == today:
        return "today"
    if ps == zone.next_day_start(today):
        return "tomorrow"
    return "on " + _ymd(ps, zone)


def _ymd(t, zone):
    return format_ymd(t, zone.offset_at(t), "-")


def _slices(sch, t0, t1, o):
    """[(s, e, price_u)] of the schedule's intervals clipped to [t0, t1), gaps included as
    NO_PRICE, in seconds from the origin o (Schedule.window as a list, with array access
    inlined: this is the hot loop)."""
    out = []
    n = len(sch.starts)
    if n == 0 or t1 <= sch.base_s or t0 >= sch.end_s:
        return out
    base, starts, prices, end = sch.base_s, sch.starts, sch.prices, sch.end_s
    i = sch.index_at(t0 if t0 > base else base)
    d = base - o  # schedule offsets -> origin offsets
    s = d + starts[i]
    t0, t1, end = t0 - o, t1 - o, end - o
    while i < n and s < t1:
        e = d + starts[i + 1] if i + 1 < n else end
        out.append((s if s > t0 else t0, e if e < t1 else t1, prices[i]))
        s = e
        i += 1
    return out


def _plan_period(c, ps, pe, out):
    """Decide [max(ps, now), min(pe, end)) of one period; append segments to out."""
    span = _slices(c.sch, ps, pe, c.o)
    pieces = [x for x in span if x[2] != NO_PRICE]
    known = 0
    for s, e, _p in pieces:
        known += e - s
    note = ""
    if c.last_price_end is None or pe > c.last_price_end:
        note = " (prices until %s)" % (_hm(c.last_price_end, c.zone) if c.last_price_end
                                       else "-")
    hit, hit_reason = _threshold(c, pieces, known)
    chosen, off_reason = _choose(c, ps, pe, pieces, note)
    a = ps if ps > c.now else c.now
    b = pe if pe < c.end else c.end
    _walk(c, span, a - c.o, b - c.o, hit, hit_reason, chosen, off_reason, out)


def _threshold(c, pieces, known):
    """The relative limit of a period: (hit(price_u) -> bool, reason), or (None, "")."""
    pol = c.pol
    if not known:
        return None, ""
    if pol.relative == "below_mean":
        total = 0
        for s, e, p in pieces:
            total += p * (e - s)
        # below the time-weighted mean, compared without dividing: p < total / known
        return (lambda p: p * known < total), \
            "price below period mean %s" % format_price(total // known)
    if pol.relative == "percentile":
        top = None
        for s, _e, _r in cheapest(pieces, (known * pol.percentile + 99) // 100):
            p = c.sch.price_at(s + c.o)
            if top is None or p > top:
                top = p
        if top is not None:
            return (lambda p: p <= top), \
                "price at or below %dth percentile %s" % (pol.percentile, format_price(top))
    return None, ""


def _choose(c, ps, pe, pieces, note):
    """The mode's choice in one period: ([(s, e, reason)] in time order, the off reason)."""
    pol = c.pol
    if pol.mode in ("cheapest", "deadline"):
        return _choose_cheapest(c, ps, pe, pieces, note)
    if pol.mode == "block":
        return _choose_block(c, ps, pe, pieces, note)
    return [], "no price limit met"


def _choose_cheapest(c, ps, pe, pieces, note):
    # Reasons are sentences: "in the cheapest 4 h today (5th lowest price)"; in the running
    # period the amount is what is still needed ("the cheapest 3 h 30 min still needed today")
    scope = _scope(c, ps, pe)
    need, left, done = c.pol.need_s, pieces, 0
    if ps < c.now:  # the running period: the rest of the need over the rest of the time
        done = c.ran_s if c.ran_period_s == ps else 0
        need = need - done if need > done else 0
        left = []
        now = c.now - c.o
        for s, e, p in pieces:
            if e > now:
                left.append((s if s > now else now, e, p))
    known_left = 0
    for s, e, _p in left:
        known_left += e - s
    what = "%s%s %s" % (_dur(need), " still needed" if done else "", scope)
    short = known_left < need
    if c.pol.estimate and not short and need and c.last_price_end is not None and \
            pe > c.last_price_end:
        got = _choose_with_estimates(c, left, need, what, note, pe)
        if got is not None:
            return got
    chosen = []
    sel = cheapest(_spread(c, left), need)
    exact = cheapest(left, need) if c.pol.spread_u and not short else sel
    until = ("; " + note[2:-1]) if note else ""  # "; prices until 13:00"
    for s, e, rank in sel:
        if short:
            r = "all known prices: fewer than the %s wanted%s" % (what, note)
        elif exact is not sel and not _inside(s, e, exact):
            r = "spread: within %s of the cheapest %s%s" % (
                format_price(c.pol.spread_u), what, note)
        else:
            r = "in the cheapest %s (%s lowest price%s)" % (what, _ord(rank), until)
        chosen.append((s, e, _priced(c, s + c.o, r)))
    off_reason = "not among the cheapest %s%s" % (what, note)
    if done and not need:
        off_reason = "%s done %s" % (_dur(c.pol.need_s), scope)
    return chosen, off_reason


# -- spreading a fleet -----------------------------------------------------------------------
# With policy.spread, each interval's ranking price is raised by less than `spread`, by an
# amount fixed by the device's class, the interval and the prices of its local day. The choice
# on those prices costs at most `spread` per kWh more than the exact optimum (each price is
# raised by less than spread, so the chosen set's true cost <= its raised cost <= the
# optimum's raised cost < the optimum's cost + spread x time). The raises level the fleet's
# load: of a day's exact choice (its cheapest need_s), the intervals priced from the anchor
# up (the cheapest chosen price that an unchosen interval comes within spread of) and the
# unchosen intervals within spread of the anchor lie on a ring in time order; class k of
# SPREAD_CLASSES keeps the time still needed from point k/SPREAD_CLASSES of the ring (rotated
# per day) and raises the ring's other intervals by spread - 1. So the classes cover every
# ring interval equally often, and the cheapest of them loses as much load as the others (a
# uniform random raise leaves it the fleet's peak). The ring's prices lie within spread of
# each other, so each class gets exactly its arc. Devices of one class decide alike
# (host_sim.fleet groups them by it).
SPREAD_CLASSES = 64


def spread_class(seed):
    """The spreading class of a device seed (jitter.seed_from)."""
    return int(seed) % SPREAD_CLASSES


def _draw(cls, t_s):
    # an integer hash of (class, minute) in [0, 1024): identical on both runtimes
    x = (t_s // 60 * 2654435761 + (cls + 1) * 40503) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 2246822519) & 0xFFFFFFFF
    x ^= x >> 13
    return x & 1023


def _level(c, t_s, raises):
    """Fill raises {interval start: raise} for the local day holding t_s (see above)."""
    tol, zone = c.pol.spread_u, c.zone
    a = zone.day_start(t_s)
    day = [x for x in _slices(c.sch, a, zone.next_day_start(t_s), c.o) if x[2] != NO_PRICE]
    top = {}  # start -> seconds taken by the exact choice
    for s, e, _r in cheapest(day, c.pol.need_s):
        top[s] = e - s
    rest = day_lo = None  # the cheapest price outside the exact choice, and of the day
    for s, _e, p in day:
        raises[s] = 0
        if s not in top and (rest is None or p < rest):
            rest = p
        if day_lo is None or p < day_lo:
            day_lo = p
    if rest is None:
        return
    # the anchor: the cheapest chosen price that an unchosen interval comes within tol of;
    # chosen intervals cheaper than that stay on for every class. When that is not the
    # day's cheapest, the fleet's peak is that interval whatever the others do: spreading the
    # rest only smooths the ramps, and is allowed a quarter of the tolerance.
    anchor = _anchor(day, top, rest, tol)
    if anchor is not None and anchor != day_lo:
        tol = tol // 4
        anchor = _anchor(day, top, rest, tol)
    if anchor is None:
        return
    need = c.pol.need_s
    ring = []
    for s, e, p in day:
        if s in top and p < anchor:
            need -= top[s]
        elif (s in top) or p < anchor + tol - 1:
            ring.append((s, e))
    total = 0
    for s, e in ring:
        total += e - s
    if total <= need or need <= 0:
        return
    point = total * ((c.pol.spread_class + _draw(0, a)) % SPREAD_CLASSES) // SPREAD_CLASSES
    pos = 0
    for s, e in ring:  # the arc starts at the start of the interval holding the point
        if pos + e - s > point:
            point = pos
            break
        pos += e - s
    pos = 0
    for s, e in ring:
        d = (pos - point) % total  # where this interval starts on the arc
        if d >= need and d + e - s <= total:
            raises[s] = c.pol.spread_u - 1
        pos += e - s


def _anchor(day, top, rest, tol):
    """The cheapest chosen price that the cheapest unchosen one (rest) is within tol of."""
    anchor = None
    for s, _e, p in day:
        if s in top and p > rest - tol + 1 and (anchor is None or p < anchor):
            anchor = p
    return anchor


def _spread(c, pieces):
    tol = c.pol.spread_u
    if not tol or not pieces:
        return pieces
    sch = c.sch
    raises = {}
    out = []
    for s, e, p in pieces:
        t0 = sch.base_s + sch.starts[sch.index_at(s + c.o)] - c.o  # the interval's own start:
        r = raises.get(t0)  # a re-plan that cuts it raises it the same
        if r is None:
            _level(c, t0 + c.o, raises)
            r = raises.get(t0, 0)
        out.append((s, e, p + r))
    return out


def _inside(s, e, sel):
    return any(a <= s and e <= b for a, b, _r in sel)


# -- a period that runs past the published prices -------------------------------------------
# Day-ahead prices for tonight arrive around midday: a deadline window that opens in the
# morning has hours with no price yet. Choosing among the known hours alone commits to the
# afternoon even when the night is usually cheaper. So the unknown intervals get an estimate
# (the same hours of the last days the schedule still holds), the choice is made over known +
# estimated prices, but only known intervals are run: the estimated part is waited for and
# re-planned when the prices arrive. The deadline is never risked: the need the plan leaves
# to the unknown hours is reserved at the end of the known time (the latest start that still
# meets it) and runs there if the prices have not come by then.
ESTIMATE_DAYS = 2  # history days averaged for an estimate (the cache keeps KEEP_HISTORY_S)


def _estimate(c, a, b):
    """[(s, e, price_u)] estimates for the unpriced [a, b): each interval of the same hours a
    day earlier, averaged with the days before it where the schedule holds them."""
    sch, o = c.sch, c.o
    out = []
    for s, e, p in _slices(sch, a - 86400, b - 86400, o):
        if p == NO_PRICE:
            continue
        total, n = p, 1
        for k in range(2, ESTIMATE_DAYS + 1):
            q = sch.price_at(s + o - (k - 1) * 86400)
            if q is not None:
                total += q
                n += 1
        out.append((s + 86400, e + 86400, total // n))
    return out


def _choose_with_estimates(c, left, need, what, note, pe):
    lpe = c.last_price_end
    est = _estimate(c, lpe if lpe > c.now else c.now, pe)
    if not est:
        return None
    lpe_r = lpe - c.o
    sel = cheapest(_spread(c, left) + est, need)
    known = [x for x in sel if x[0] < lpe_r]
    reserved = need
    for s, e, _r in known:
        reserved -= e - s
    if reserved <= 0:
        return None  # every chosen interval is known: the plan without estimates
    chosen = []
    for s, e, rank in known:
        r = "in the cheapest %s (%s lowest price, counting tonight's estimate%s)" % (
            what, _ord(rank), ("; " + note[2:-1]) if note else "")
        chosen.append((s, e, _priced(c, s + c.o, r)))
    est_avg = _avg_over(est, [x for x in sel if x[0] >= lpe_r])
    when = _hm(lpe, c.zone)
    r_reserve = "reserved: runs only if the prices after %s do not come in time (%s)" % (
        when, what)
    for s, e in _latest_free(left, known, reserved):
        chosen.append((s, e, r_reserve))
    chosen.sort()
    best_left = None
    for s, e, p in left:
        if not _inside(s, e, known) and (best_left is None or p < best_left[1]):
            best_left = (s, p)
    off = "waiting: after %s is likely cheaper (est. %s)" % (when, format_price(est_avg))
    if best_left is not None:
        off += " than %s (%s)" % (_hm(best_left[0] + c.o, c.zone), format_price(best_left[1]))
    return chosen, off


def _avg_over(pieces, sel):
    total = dur = 0
    for a, b, _r in sel:
        for s, e, p in pieces:
            lo, hi = (a if a > s else s), (b if b < e else e)
            if lo < hi:
                total += p * (hi - lo)
                dur += hi - lo
    return total // dur if dur else 0


def _latest_free(left, taken, amount):
    """[(s, e)] of the last `amount` seconds of `left` outside `taken` (both in time order)."""
    free = []
    for s, e, _p in left:
        t = s
        for a, b, _r in taken:
            if b <= t or a >= e:
                continue
            if a > t:
                free.append((t, a))
            if b > t:
                t = b
        if t < e:
            free.append((t, e))
    out = []
    for s, e in reversed(free):
        if amount <= 0:
            break
        if e - s > amount:
            s = e - amount
        out.append((s, e))
        amount -= e - s
    out.reverse()
    return out


def _priced(c, t, reason):
    """The reason, with the retail price at t and its parts when the plan ranks by it."""
    p = c.spot.price_at(t) if c.pol.retail is not None else None
    return reason if p is None else "%s: %s" % (reason, c.pol.retail.explain(p, t, c.zone))


def _choose_block(c, ps, pe, pieces, note):
    zone, block_s, o = c.zone, c.pol.need_s, c.o
    blk = None
    if c.started is not None and c.started[0] < pe and c.started[1] > ps:
        blk = (c.started[0] - o, c.started[1] - o)
    elif block_s > 0:
        got = cheapest_block(_spread(c, pieces), block_s)
        if got is not None:
            blk = (got[0], got[1])
            if c.pol.spread_u and cheapest_block(pieces, block_s)[0] != blk[0]:
                note = " (spread: within %s of the cheapest)%s" % (
                    format_price(c.pol.spread_u), note)
    if blk is None:
        if block_s <= 0:
            return [], "block length 0: nothing to run"
        return [], "no room for a %s block in known prices%s" % (_dur(block_s), note)
    c.blocks.append((blk[0] + o, blk[1] + o))
    span = "%s block %s-%s" % (_dur(block_s), _hm(blk[0] + o, zone), _hm(blk[1] + o, zone))
    chosen = [(blk[0], blk[1], "cheapest %s%s" % (span, note))]
    if blk[1] + o <= (ps if ps > c.now else c.now):
        return chosen, "%s done" % span
    return chosen, "waiting for %s" % span


def _walk(c, span, a, b, hit, hit_reason, chosen, off_reason, out):
    """Paint [a, b) over the period's price slices: limits first, then the chosen stretches;
    time without a price goes to the fallback."""
    pol, o = c.pol, c.o
    pos = a
    j, nch = 0, len(chosen)
    above, below = pol.off_above_u, pol.on_below_u
    for s, e, p in span:
        if e <= a:
            continue
        if s >= b:
            break
        if s < a:
            s = a
        if e > b:
            e = b
        if s > pos:
            _fallback(c, pos + o, s + o, out)
        if p == NO_PRICE:
            _fallback(c, s + o, e + o, out)
            pos = e
            continue
        pos = e
        pre = c.prefix
        if pre and c.real is not None and c.real.price_at(s + o) is not None:
            pre = ""
        if above is not None and p > above:
            _add(out, s + o, e + o, False, pre + c.r_above if pre else c.r_above)
            continue
        if below is not None and p <= below:
            _add(out, s + o, e + o, True, pre + c.r_below if pre else c.r_below)
            continue
        if hit is not None and hit(p):
            _add(out, s + o, e + o, True, pre + hit_reason if pre else hit_reason)
            continue
        t = s
        while t < e:
            while j < nch and chosen[j][1] <= t:
                j += 1
            if j < nch and chosen[j][0] <= t:
                ce = chosen[j][1] if chosen[j][1] < e else e
                _add(out, t + o, ce + o, True, pre + chosen[j][2] if pre else chosen[j][2])
            else:
                ce = chosen[j][0] if j < nch and chosen[j][0] < e else e
                _add(out, t + o, ce + o, False, pre + off_reason if pre else off_reason)
            t = ce
    if pos < b:
        _fallback(c, pos + o, b + o, out)


def _fallback(c, a, b, out):
    """Time in [a, b) without a price: backup hours, else safe state (rate plan is merged)."""
    pol = c.pol
    if pol.backup:
        r = c.r_backup
        t = a
        for s, e in daily_windows(pol.backup, a, b, c.zone):
            _add(out, t, s, False, r)
            _add(out, s, e, True, r)
            t = e
        _add(out, t, b, False, r)
        return
    _add(out, a, b, pol.safe_on, c.r_safe)


def _anti_cycle(segs, pol, state, now, zone):
    mon, moff, maxsw = pol.min_on_s, pol.min_off_s, pol.max_switches
    if not (mon or moff or maxsw) or not segs:
        return segs
    cur = state.relay_on
    if cur is None:
        cur = segs[0][2]
        since = None
    else:
        since = state.on_since_s if cur else state.off_since_s
    count = state.switches_today or 0
    day_end = zone.next_day_start(now)
    why_min = ("min off %d min: staying off" % (moff // 60),
               "min on %d min: staying on" % (mon // 60))
    why_max = ("max %d switches/day: staying off" % maxsw,
               "max %d switches/day: staying on" % maxsw)
    out = []
    for seg in segs:
        s, e, on, r = seg
        while s < e:
            while s >= day_end:
                count = 0
                day_end = zone.next_day_start(day_end)
            if on == cur:
                if s == seg[0]:
                    _keep(out, seg)
                else:
                    _add(out, s, e, on, r)
                break
            hold = None
            if since is not None:
                hold = since + (mon if cur else moff)
            if hold is not None and s < hold:
                why = why_min[1 if cur else 0]
            elif maxsw and count >= maxsw:
                hold = day_end
                why = why_max[1 if cur else 0]
            else:
                cur, since = on, s
                count += 1
                if s == seg[0]:
                    _keep(out, seg)
                else:
                    _add(out, s, e, on, r)
                break
            h = hold if hold < e else e
            _add(out, s, h, cur, why)
            s = h
    return out


# -- the plan --------------------------------------------------------------------------------
def plan(schedule, policy, now_s, state, zone=None, rate_plan=None):
    """The plan from now_s over the known horizon (see the module doc for the rules)."""
    if zone is None:
        from ..clock.tz import Zone

        zone = Zone("UTC0")
    if schedule is None:
        schedule = Schedule()
    pol = policy
    state.plan_s = now_s
    fetched = getattr(schedule, "fetched_s", 0) or 0
    if not state.clock_valid or not clock_trusted(now_s, state.build_s, fetched):
        why = "clock not valid" if not state.clock_valid else "clock not trusted"
        return Plan([(now_s, now_s + 3600, pol.safe_on,
                      "%s: safe state %s" % (why, word(pol.safe_on)))], pol.safe_on)
    spot = schedule  # the energy prices; with price.* set the plan ranks by the retail price
    if pol.retail is not None and len(schedule):
        schedule = pol.retail.apply(schedule, zone)
    real = None
    sch = schedule
    if rate_plan is not None and len(rate_plan) and not pol.backup:
        sch = rate_plan.merge(schedule)
        real = schedule
    # A started contiguous block: the latest one the previous plans chose that has begun. It
    # stays the block of its period (finished if running, not repeated once done).
    started = None
    if pol.mode == "block":
        note_started_block(state, now_s)
        if state.block_start_s is not None and state.block_start_s <= now_s:
            started = (state.block_start_s, state.block_end_s)
    c = _Ctx(pol, zone, now_s, sch, real, started, state)
    c.spot = spot
    if pol.retail is not None:
        c.r_above, c.r_below = "retail " + c.r_above, "retail " + c.r_below
    end = zone.next_day_start(now_s)
    if c.last_price_end is not None and c.last_price_end > end:
        end = c.last_price_end
    if started is not None and started[1] > end:
        end = started[1]
    if state.override_until_s is not None and state.override_until_s > end:
        end = state.override_until_s
    c.end = end
    segs = []
    t = now_s
    outside = "outside window %s" % _wins_label([pol.window])
    for ps, pe in _periods(pol, now_s, end, zone):
        a = ps if ps > now_s else now_s
        if a >= end:
            break
        if a > t:
            _add(segs, t, a, False, outside)
        _plan_period(c, ps, pe, segs)
        t = pe if pe < end else end
    if t < end:
        _add(segs, t, end, False, outside)
    if c.started is not None and c.started[1] > now_s:
        s, e = c.started
        segs = _overlay(segs, [(s if s > now_s else now_s, e, True, "finishing %s block %s-%s" % (
            _dur(e - s), _hm(s, zone), _hm(e, zone)))])
    segs = _anti_cycle(segs, pol, state, now_s, zone)
    # forced hours and the override: painted onto a small timeline of their own first, so the
    # big one is copied once
    top = [(now_s, end, None, None)]
    if pol.forced_on:
        r = "forced on %s" % _wins_label(pol.forced_on)
        top = _overlay(top, [(s, e, True, r)
                             for s, e in daily_windows(pol.forced_on, now_s, end, zone)])
    if pol.forced_off:
        r = "forced off %s" % _wins_label(pol.forced_off)
        top = _overlay(top, [(s, e, False, r)
                             for s, e in daily_windows(pol.forced_off, now_s, end, zone)])
    until = state.override_until_s
    if until is not None and until > now_s and state.override_on is not None:
        on = bool(state.override_on)
        top = _overlay(top, [(now_s, until, on, "override %s until %s" % (
            word(on), _hm(until, zone)))])
    wins = [w for w in top if w[2] is not None]
    if wins:
        segs = _overlay(segs, wins)
    state.planned_blocks = c.blocks
    return Plan(segs, pol.safe_on, c.blocks)
