"""Exact selection of the cheapest time from prices: any N seconds, or one contiguous block.

Pieces are [(start_s, end_s, price_u)] in time order, disjoint, possibly with gaps. Costs are
sum(price_u * seconds) as Python ints (no floats), and ties go to the earlier time, so the
choice is the same on CPython and MicroPython (whose sort is not stable: keys carry the start).
"""


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
