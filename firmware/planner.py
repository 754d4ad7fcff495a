"""Which stretches of time the load is on, and why: a function of (prices, policy, now, state).

    p = plan(schedule, Policy.from_config(cfg), now_s, state, zone, rate_plan=None)
    p.segments            [(start_s, end_s, on, reason)], contiguous from now_s to p.end_s
    p.at(t_s)             (on, reason, until_s)  until_s = end of that segment (None past the end)
    p.next_change(t_s)    first time after t_s at which `on` changes (p.end_s if none: re-plan)

`on` is the LOAD state. Inverting it for wiring where the load runs while the relay is released
(`relay.inverted`) is the app's job, active-low pins the HAL's: the planner never inverts.

Order of precedence (first match decides; each layer is painted over the ones below):
  1. clock not trusted (not valid, or earlier than the build or the prices' fetch time, see
     clock_trusted) -> safe_state for the whole plan; no price is looked at.
  2. manual override (state.override_on until state.override_until_s).
  3. forced hours: policy.forced_off, then policy.forced_on (off wins where both).
  4. anti-short-cycle: min on time, min off time, max switches per local day hold the current
     state past a wanted change (applies to everything below, not to 1-3).
  5. a started contiguous block is finished (block mode), whatever the re-plan says.
  6. price limits on each priced stretch: never on above policy.off_above; always on at or below
     policy.on_below; relative: on below the period's time-weighted mean, or at or below its
     Nth percentile (by time).
  7. the mode on priced time: cheapest (N hours per period), block (cheapest contiguous block per
     period), deadline (N hours before a local time), limits (only 6).
  8. time without a price (fallback ladder): backup hours if configured; else the static rate
     plan if the app passes one (`rate_plan`, a Schedule: modes 6-7 run on it, reasons start
     "rate plan:"); else safe_state.

Periods: a local day (default; 23/25 h on DST days), a custom local window that may cross
midnight (policy.window "22:00-07:00"; outside it the load is off), or rolling windows of
policy.rolling_hours starting now (so slots just past midnight compete with those before it).
A deadline period runs from one deadline to the next (policy.deadline, local). Each period is
planned over its whole span, including the part before now while the schedule still holds those
prices, so what already ran counts and a re-plan keeps the same choice unless prices changed.
When prices cover only part of a period the choice is made among the known prices (all of them
if fewer than needed) and the reason says "prices until HH:MM". Re-fetched prices replace
earlier ones by Schedule.merge before planning; the planner just plans on what it is given.

Exactness: time is cut at price boundaries only, so partial intervals are weighted by duration
and any length works (5/15/60 min, irregular). Cheapest N: greedy by (price, start) with the
last interval cut to its earliest part - the optimum of "cheapest N seconds". Block: the best
start lies on a price boundary or ends on one; every such candidate is evaluated with integer
prefix sums (price_u x seconds, Python ints) and the earliest cheapest wins. Ties always go to
the earlier time, the same on CPython and MicroPython (no floats, no reliance on sort stability).

State the app keeps (planner.State): clock_valid, relay_on, on_since_s, off_since_s,
switches_today, override_on/override_until_s, build_s. plan() itself records the contiguous
blocks it chose (state.planned_blocks) and, once one has started, state.block_start_s/end_s.
Worth persisting across a restart: the override (the app does) and block_start_s/block_end_s
(optional: without them a block cut by a reboot is simply re-planned).
"""

from .config import ConfigError, Field
from .isotime import format_hm, format_ymd
from .schedule import NO_PRICE, Schedule, format_price, price_u

MODES = ("cheapest", "block", "deadline", "limits")
PERIODS = ("day", "window", "rolling")
RELATIVE = ("none", "below_mean", "percentile")

CONFIG = (
    Field("policy.mode", "dropdown", "cheapest", choices=MODES,
          help="cheapest: N hours per period; block: cheapest contiguous block per period; "
               "deadline: N hours before policy.deadline; limits: price limits only"),
    Field("policy.hours", "number", 4, lo=0, hi=168, unit="h",
          help="on time per period, block length, or time needed before the deadline"),
    Field("policy.period", "dropdown", "day", choices=PERIODS,
          help="day (local), window (policy.window) or rolling (policy.rolling_hours from now)"),
    Field("policy.window", "text", "22:00-07:00", hi=16,
          help="local HH:MM-HH:MM window for period=window (may cross midnight)"),
    Field("policy.rolling_hours", "number", 24, lo=1, hi=168, integer=True, unit="h",
          help="length of a rolling period"),
    Field("policy.deadline", "text", "07:00", hi=5, help="local HH:MM for mode=deadline"),
    Field("policy.energy_kwh", "number", 0, lo=0, hi=1000, unit="kWh",
          help="deadline mode: energy needed (with policy.load_kw; 0 = use policy.hours)"),
    Field("policy.load_kw", "number", 0, lo=0, hi=100, unit="kW", help="power of the load"),
    Field("policy.on_below", "text", "", hi=16,
          help="always on at or below this price (currency/kWh); empty = no limit"),
    Field("policy.off_above", "text", "", hi=16,
          help="never on above this price (currency/kWh); empty = no limit"),
    Field("policy.relative", "dropdown", "none", choices=RELATIVE,
          help="also on below the period mean, or at or below policy.percentile"),
    Field("policy.percentile", "number", 25, lo=0, hi=100, integer=True, unit="%"),
    Field("policy.min_on_min", "number", 0, lo=0, hi=1440, integer=True, unit="min"),
    Field("policy.min_off_min", "number", 0, lo=0, hi=1440, integer=True, unit="min"),
    Field("policy.max_switches", "number", 0, lo=0, hi=1000, integer=True,
          help="relay changes per local day; 0 = unlimited"),
    Field("policy.forced_on", "text", "", hi=64,
          help="local windows always on, e.g. 06:00-07:00,18:00-19:00"),
    Field("policy.forced_off", "text", "", hi=64, help="local windows always off"),
    Field("policy.backup_hours", "text", "", hi=64,
          help="local windows on when no price is known, e.g. 01:00-05:00"),
)

_FIELDS = {}
for _f in CONFIG:
    _FIELDS[_f.name] = _f


def parse_windows(text, name="window"):
    """'06:00-07:00, 22:00-01:00' -> [(start_min, end_min)]; end <= start crosses midnight."""
    out = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        ab = part.split("-")
        if len(ab) != 2:
            raise ConfigError("%s: %r is not HH:MM-HH:MM" % (name, part))
        out.append((parse_hm(ab[0], name), parse_hm(ab[1], name)))
    return out


def parse_hm(text, name="time"):
    hm = text.strip().split(":")
    try:
        if len(hm) != 2 or len(hm[1]) != 2:
            raise ValueError
        h, m = int(hm[0]), int(hm[1])
    except ValueError:
        raise ConfigError("%s: %r is not HH:MM" % (name, text))
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m):
        raise ConfigError("%s: %r is not a time of day" % (name, text))
    return h * 60 + m


class Policy:
    """The decision rules, from the "policy.*" settings (plus the app's "safe_state")."""

    def __init__(self):
        self.mode = "cheapest"
        self.need_s = 4 * 3600
        self.period = "day"
        self.window = (22 * 60, 7 * 60)
        self.rolling_s = 24 * 3600
        self.deadline_min = 7 * 60
        self.on_below_u = None
        self.off_above_u = None
        self.relative = "none"
        self.percentile = 25
        self.min_on_s = 0
        self.min_off_s = 0
        self.max_switches = 0
        self.forced_on = []
        self.forced_off = []
        self.backup = []
        self.safe_on = False

    @staticmethod
    def from_config(cfg=None):
        cfg = cfg or {}

        def get(name):
            f = _FIELDS[name]
            v = cfg.get(name, f.default)
            return f.check(v)

        p = Policy()
        p.mode = get("policy.mode")
        hours = get("policy.hours")
        p.need_s = int(hours * 3600 + 0.5)
        p.period = get("policy.period")
        w = parse_windows(get("policy.window"), "policy.window")
        if len(w) != 1:
            raise ConfigError("policy.window: one HH:MM-HH:MM window expected")
        p.window = w[0]
        p.rolling_s = get("policy.rolling_hours") * 3600
        p.deadline_min = parse_hm(get("policy.deadline"), "policy.deadline")
        kwh, kw = get("policy.energy_kwh"), get("policy.load_kw")
        if kwh > 0 and kw > 0:
            wh, w_ = int(kwh * 1000 + 0.5), int(kw * 1000 + 0.5)
            p.need_s = -(-wh * 3600 // w_)
        for key, attr in (("policy.on_below", "on_below_u"), ("policy.off_above", "off_above_u")):
            v = get(key).strip()
            if v:
                try:
                    setattr(p, attr, price_u(v))
                except ValueError:
                    raise ConfigError("%s: %r is not a price" % (key, v))
        p.relative = get("policy.relative")
        p.percentile = get("policy.percentile")
        p.min_on_s = get("policy.min_on_min") * 60
        p.min_off_s = get("policy.min_off_min") * 60
        p.max_switches = get("policy.max_switches")
        p.forced_on = parse_windows(get("policy.forced_on"), "policy.forced_on")
        p.forced_off = parse_windows(get("policy.forced_off"), "policy.forced_off")
        p.backup = parse_windows(get("policy.backup_hours"), "policy.backup_hours")
        safe = cfg.get("safe_state", "off")
        p.safe_on = safe is True or safe == "on" or safe == 1
        return p


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
        self.block_start_s = None  # a started contiguous block, finished by every re-plan
        self.block_end_s = None
        self.planned_blocks = []  # blocks chosen by the last plan (written by plan())
        self.plan_s = None  # when the last plan was made


def clock_trusted(now_s, build_s=0, fetched_s=0):
    """A clock that reads earlier than the firmware build or than the time the cached prices
    were fetched is wrong (e.g. RTC reset to 2000): never decide from it."""
    return now_s >= (build_s or 0) and now_s >= (fetched_s or 0)


class Plan:
    def __init__(self, segments, safe_on=False, blocks=None):
        self.segments = segments
        self.safe_on = safe_on
        self.blocks = blocks or []
        self.start_s = segments[0][0] if segments else None
        self.end_s = segments[-1][1] if segments else None

    def _find(self, t_s):
        seg = self.segments
        if not seg or t_s < seg[0][0] or t_s >= seg[-1][1]:
            return -1
        lo, hi = 0, len(seg) - 1
        while lo < hi:
            mid = (lo + hi + 1) >> 1
            if seg[mid][0] <= t_s:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def at(self, t_s):
        k = self._find(t_s)
        if k < 0:
            return self.safe_on, "no plan: safe state %s" % _onoff(self.safe_on), None
        s, e, on, reason = self.segments[k]
        return on, reason, e

    def next_change(self, t_s):
        k = self._find(t_s)
        if k < 0:
            return None
        seg = self.segments
        on = seg[k][2]
        for j in range(k + 1, len(seg)):
            if seg[j][2] != on:
                return seg[j][0]
        return self.end_s

    def on_intervals(self):
        """[(start_s, end_s)] of the load being on, adjacent segments joined."""
        out = []
        for s, e, on, _r in self.segments:
            if on:
                if out and out[-1][1] == s:
                    out[-1] = (out[-1][0], e)
                else:
                    out.append((s, e))
        return out


# -- helpers ----------------------------------------------------------------------------------
def _onoff(on):
    return "on" if on else "off"


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


def _merge(segs):
    out = []
    for seg in segs:
        if seg[0] >= seg[1]:
            continue
        if out:
            last = out[-1]
            if last[1] == seg[0] and last[2] == seg[2] and last[3] == seg[3]:
                out[-1] = (last[0], seg[1], last[2], last[3])
                continue
        out.append(seg)
    return out


def _overlay(segs, wins):
    """Paint sorted, non-overlapping wins [(s, e, on, reason)] over a contiguous timeline."""
    if not wins:
        return segs
    out = []
    j, n = 0, len(wins)
    for s, e, on, r in segs:
        t = s
        while t < e:
            while j < n and wins[j][1] <= t:
                j += 1
            if j < n and wins[j][0] <= t:
                w = wins[j]
                end = w[1] if w[1] < e else e
                out.append((t, end, w[2], w[3]))
            else:
                end = wins[j][0] if j < n and wins[j][0] < e else e
                out.append((t, end, on, r))
            t = end
    return _merge(out)


def daily_windows(spec, a, b, zone):
    """Local windows [(start_min, end_min)] repeated every local day -> sorted, joined UTC
    [(s, e)] overlapping [a, b), clipped to it. Edges follow DST (see tz.Zone.from_local)."""
    if not spec:
        return []
    raw = []
    d0 = zone.local_days(a) - 1
    d1 = zone.local_days(b)
    for d in range(d0, d1 + 1):
        base = d * 86400
        for sm, em in spec:
            s = zone.from_local(base + sm * 60)
            e = zone.from_local(base + (em if em > sm else em + 1440) * 60)
            if e > a and s < b:
                raw.append((s if s > a else a, e if e < b else b))
    raw.sort()
    out = []
    for s, e in raw:
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _wins_label(spec):
    return ",".join("%02d:%02d-%02d:%02d" % (s // 60, s % 60, e // 60, e % 60) for s, e in spec)


# -- selection (exact) -----------------------------------------------------------------------
def cheapest(pieces, need_s):
    """Cheapest `need_s` seconds among pieces [(s, e, price_u)] (time order, disjoint).

    Returns [(s, e, rank)] in time order; rank 1 = cheapest. The last piece taken is cut to
    its earliest part; ties go to the earlier piece."""
    n = len(pieces)
    order = sorted(range(n), key=lambda k: (pieces[k][2], pieces[k][0]))
    left = need_s
    sel = []
    for k in order:
        if left <= 0:
            break
        s, e, _p = pieces[k]
        if e - s > left:
            e = s + left
        sel.append((s, e, len(sel) + 1))
        left -= e - s
    sel.sort()
    return sel


def cost_of(pieces, intervals):
    """sum(price_u * seconds) of `intervals` [(s, e, ...)] over pieces [(s, e, price_u)]."""
    total = 0
    for iv in intervals:
        a, b = iv[0], iv[1]
        for s, e, p in pieces:
            lo = a if a > s else s
            hi = b if b < e else e
            if lo < hi:
                total += p * (hi - lo)
    return total


def cheapest_block(pieces, length_s):
    """(start_s, end_s, cost) of the cheapest contiguous `length_s` inside priced runs of
    pieces [(s, e, price_u)], earliest on ties; None if no run is long enough."""
    n = len(pieces)
    best = None
    i = 0
    while i < n:
        j = i  # the contiguous run i..k
        while j + 1 < n and pieces[j + 1][0] == pieces[j][1]:
            j += 1
        r0, r1 = pieces[i][0], pieces[j][1]
        if r1 - r0 >= length_s:
            got = _best_in_run(pieces, i, j, length_s)
            if best is None or got[2] < best[2]:
                best = got
        i = j + 1
    return best


def _best_in_run(pieces, i, j, L):
    # prefix costs at piece starts
    cum = [0]
    for k in range(i, j + 1):
        s, e, p = pieces[k]
        cum.append(cum[-1] + p * (e - s))
    r0, r1 = pieces[i][0], pieces[j][1]
    last = r1 - L
    best_t, best_c = None, None
    # candidate starts, ascending: piece starts (a) and piece ends minus L (b), merged
    ka = i  # piece whose start is the next candidate of kind a
    kb = i  # piece whose end - L is the next candidate of kind b
    p0 = i  # piece containing t      (moves forward only)
    p1 = i  # piece containing t + L
    while True:
        ta = pieces[ka][0] if ka <= j else None
        while kb <= j and pieces[kb][1] - L < r0:
            kb += 1
        tb = pieces[kb][1] - L if kb <= j else None
        if ta is None and tb is None:
            break
        if tb is None or (ta is not None and ta <= tb):
            t = ta
            ka += 1
            if tb == t:
                kb += 1
        else:
            t = tb
            kb += 1
        if t > last:
            break
        while pieces[p0][1] <= t:
            p0 += 1
        u = t + L
        while p1 < j and pieces[p1][1] <= u:
            p1 += 1
        c = (cum[p1 - i] + pieces[p1][2] * (u - pieces[p1][0])) - \
            (cum[p0 - i] + pieces[p0][2] * (t - pieces[p0][0]))
        if best_c is None or c < best_c:
            best_t, best_c = t, c
    return best_t, best_t + L, best_c


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
    pass


def _label(c, ps, pe):
    """The phrase naming a period's amount: "today's 4 h", "4 h before 07:00"..."""
    pol, zone = c.pol, c.zone
    amount = _dur(pol.need_s)
    if pol.mode == "deadline":
        return "%s before %s" % (amount, _hm(pe, zone))
    if pol.period == "window":
        return "%s in %s-%s" % (amount, _hm(ps, zone), _hm(pe, zone))
    if pol.period == "rolling":
        return "%s in %s from %s" % (amount, _dur(pe - ps), _hm(ps, zone))
    today = zone.day_start(c.now)
    if ps == today:
        day = "today's"
    elif ps == zone.next_day_start(today):
        day = "tomorrow's"
    else:
        day = _ymd(ps, zone) + "'s"
    return "%s %s" % (day, amount)


def _ymd(t, zone):
    return format_ymd(t, zone.offset_at(t), "-")


def _plan_period(c, ps, pe, out):
    """Decide [max(ps, now), min(pe, end)) of one period; append segments to out."""
    pol, zone, sch = c.pol, c.zone, c.sch
    a = ps if ps > c.now else c.now
    b = pe if pe < c.end else c.end
    pieces = []
    for s, e, p, _i in sch.window(ps, pe):
        if p != NO_PRICE:
            pieces.append((s, e, p))
    known = 0
    for s, e, _p in pieces:
        known += e - s
    note = ""
    if c.lpe is None or pe > c.lpe:
        note = " (prices until %s)" % (_hm(c.lpe, zone) if c.lpe else "-")
    # relative limit threshold for this period
    thr, thr_reason = None, ""
    if pol.relative == "below_mean" and known:
        total = 0
        for s, e, p in pieces:
            total += p * (e - s)
        thr = ("mean", total, known)
        thr_reason = "below period mean %s" % format_price(total // known)
    elif pol.relative == "percentile" and known:
        need = (known * pol.percentile + 99) // 100
        sel = cheapest(pieces, need)
        top = None
        for s, _e, _r in sel:
            p = sch.price_at(s)
            if top is None or p > top:
                top = p
        if top is not None:
            thr = ("pct", top, 0)
            thr_reason = "at or below %dth percentile %s" % (pol.percentile, format_price(top))
    # the mode's choice: chosen = [(s, e, reason)], time order
    chosen = []
    off_reason = "no price limit met"
    mode = pol.mode
    if mode in ("cheapest", "deadline"):
        what = _label(c, ps, pe)
        short = known < pol.need_s
        for s, e, rank in cheapest(pieces, pol.need_s):
            if short:
                r = "all known prices for %s%s" % (what, note)
            else:
                r = "%s cheapest of %s%s" % (_ord(rank), what, note)
            chosen.append((s, e, r))
        off_reason = "not in cheapest %s%s" % (what, note)
        if mode == "cheapest" and pol.period == "day":
            off_reason = "not in cheapest of %s%s" % (what, note)
    elif mode == "block":
        L = pol.need_s
        blk = None
        if c.started is not None and c.started[0] < pe and c.started[1] > ps:
            blk = c.started
        elif L > 0:
            got = cheapest_block(pieces, L)
            if got is not None:
                blk = (got[0], got[1])
        if blk is not None:
            c.blocks.append(blk)
            r = "cheapest %s block %s-%s%s" % (_dur(L), _hm(blk[0], zone), _hm(blk[1], zone),
                                                note)
            chosen.append((blk[0], blk[1], r))
            off_reason = "waiting for %s block %s-%s" % (_dur(L), _hm(blk[0], zone),
                                                         _hm(blk[1], zone))
            if blk[1] <= a:
                off_reason = "%s block %s-%s done" % (_dur(L), _hm(blk[0], zone),
                                                      _hm(blk[1], zone))
        else:
            off_reason = "no room for a %s block in known prices%s" % (_dur(L), note)
    # walk [a, b)
    pos = a
    j, nch = 0, len(chosen)
    for s, e, p, _i in sch.window(a, b):
        if s > pos:
            _fallback(c, pos, s, out)
        if p == NO_PRICE:
            _fallback(c, s, e, out)
            pos = e
            continue
        pos = e
        pre = c.prefix
        if pre and c.real is not None and c.real.price_at(s) is not None:
            pre = ""
        if pol.off_above_u is not None and p > pol.off_above_u:
            out.append((s, e, False, "%sprice %s > limit %s" % (
                pre, format_price(p), format_price(pol.off_above_u))))
            continue
        if pol.on_below_u is not None and p <= pol.on_below_u:
            out.append((s, e, True, "%sprice %s <= limit %s" % (
                pre, format_price(p), format_price(pol.on_below_u))))
            continue
        if thr is not None:
            if thr[0] == "mean":
                hit = p * thr[2] < thr[1]
            else:
                hit = p <= thr[1]
            if hit:
                out.append((s, e, True, "%sprice %s %s" % (pre, format_price(p), thr_reason)))
                continue
        t = s
        while t < e:
            while j < nch and chosen[j][1] <= t:
                j += 1
            if j < nch and chosen[j][0] <= t:
                ce = chosen[j][1] if chosen[j][1] < e else e
                out.append((t, ce, True, pre + chosen[j][2]))
            else:
                ce = chosen[j][0] if j < nch and chosen[j][0] < e else e
                out.append((t, ce, False, pre + off_reason))
            t = ce
    if pos < b:
        _fallback(c, pos, b, out)


def _fallback(c, a, b, out):
    """Time in [a, b) without a price: backup hours, else safe state (rate plan is merged)."""
    pol = c.pol
    if pol.backup:
        label = _wins_label(pol.backup)
        t = a
        for s, e in daily_windows(pol.backup, a, b, c.zone):
            if s > t:
                out.append((t, s, False, "backup hours %s: no prices" % label))
            out.append((s, e, True, "backup hours %s: no prices" % label))
            t = e
        if t < b:
            out.append((t, b, False, "backup hours %s: no prices" % label))
        return
    out.append((a, b, pol.safe_on, "no prices: safe state %s" % _onoff(pol.safe_on)))


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
    out = []
    for s, e, on, r in segs:
        while s < e:
            while s >= day_end:
                count = 0
                day_end = zone.next_day_start(day_end)
            if on == cur:
                out.append((s, e, on, r))
                break
            hold = None
            if since is not None:
                hold = since + (mon if cur else moff)
            if hold is not None and s < hold:
                why = "min %s %d min: staying %s" % (
                    _onoff(cur), (mon if cur else moff) // 60, _onoff(cur))
            elif maxsw and count >= maxsw:
                hold = day_end
                why = "max %d switches/day: staying %s" % (maxsw, _onoff(cur))
            else:
                cur, since = on, s
                count += 1
                out.append((s, e, on, r))
                break
            h = hold if hold < e else e
            out.append((s, h, cur, why))
            s = h
    return _merge(out)


# -- the plan --------------------------------------------------------------------------------
def plan(schedule, policy, now_s, state, zone=None, rate_plan=None):
    """The plan from now_s over the known horizon (see the module doc for the rules)."""
    if zone is None:
        from .tz import Zone

        zone = Zone("UTC0")
    if schedule is None:
        schedule = Schedule()
    pol = policy
    state.plan_s = now_s
    fetched = getattr(schedule, "fetched_s", 0) or 0
    if not state.clock_valid or not clock_trusted(now_s, state.build_s, fetched):
        why = "clock not valid" if not state.clock_valid else "clock not trusted"
        return Plan([(now_s, now_s + 3600, pol.safe_on,
                      "%s: safe state %s" % (why, _onoff(pol.safe_on)))], pol.safe_on)
    c = _Ctx()
    c.pol, c.zone, c.now = pol, zone, now_s
    c.real = None
    c.prefix = ""
    sch = schedule
    if rate_plan is not None and len(rate_plan) and not pol.backup:
        sch = rate_plan.merge(schedule)
        c.real = schedule
        c.prefix = "rate plan: "
    c.sch = sch
    c.lpe = sch.last_price_end()
    end = zone.next_day_start(now_s)
    if c.lpe is not None and c.lpe > end:
        end = c.lpe
    # a started contiguous block: one the previous plan chose that now lies inside
    c.started = None
    if state.block_end_s is not None and state.block_end_s <= now_s:
        state.block_start_s = state.block_end_s = None
    if pol.mode == "block":
        if state.block_start_s is None:
            for s, e in state.planned_blocks or ():
                if s <= now_s < e:
                    state.block_start_s, state.block_end_s = s, e
        if state.block_start_s is not None:
            c.started = (state.block_start_s, state.block_end_s)
            if c.started[1] > end:
                end = c.started[1]
    if state.override_until_s is not None and state.override_until_s > end:
        end = state.override_until_s
    c.end = end
    c.blocks = []
    segs = []
    t = now_s
    outside = "outside window %s" % _wins_label([pol.window])
    for ps, pe in _periods(pol, now_s, end, zone):
        a = ps if ps > now_s else now_s
        if a >= end:
            break
        if a > t:
            segs.append((t, a, False, outside))
        _plan_period(c, ps, pe, segs)
        t = pe if pe < end else end
    if t < end:
        segs.append((t, end, False, outside))
    segs = _merge(segs)
    if c.started is not None:
        s, e = c.started
        segs = _overlay(segs, [(s if s > now_s else now_s, e, True, "finishing %s block %s-%s" % (
            _dur(e - s), _hm(s, zone), _hm(e, zone)))])
    segs = _anti_cycle(segs, pol, state, now_s, zone)
    if pol.forced_on:
        label = _wins_label(pol.forced_on)
        segs = _overlay(segs, [(s, e, True, "forced on %s" % label)
                               for s, e in daily_windows(pol.forced_on, now_s, end, zone)])
    if pol.forced_off:
        label = _wins_label(pol.forced_off)
        segs = _overlay(segs, [(s, e, False, "forced off %s" % label)
                               for s, e in daily_windows(pol.forced_off, now_s, end, zone)])
    until = state.override_until_s
    if until is not None and until > now_s and state.override_on is not None:
        on = bool(state.override_on)
        segs = _overlay(segs, [(now_s, until, on, "override %s until %s" % (
            _onoff(on), _hm(until, zone)))])
    state.planned_blocks = c.blocks
    return Plan(segs, pol.safe_on, c.blocks)
