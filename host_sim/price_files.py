"""Reading real price exports into a Series (CPython only; host_sim/prices.py holds the Series).

    read(path, tz_rule=None) -> Series (with .tz_rule: the zone its local times were read in)

Read: the shared format `start_utc,end_utc,price,unit,market`, and exports as people download
them - a UTF-8 byte-order mark, `,` `;` or tab separators, quoted fields, decimal commas,
column names such as ENTSO-E's ("MTU (CET/CEST)" ranges, "Day-ahead Price [EUR/MWh]"), Nord
Pool's ("Delivery Start (CET)", "DK1 (EUR)") or Energi Data Service's ("HourUTC",
"SpotPriceEUR"). Times with an offset are exact; times without one are read in the zone the
header names (UTC, CET/CEST) or the one given (--csv-tz), never guessed. Rows may leave gaps
(and an empty or "n/e" price is a gap): the Series keeps them. Everything else is refused with
one PriceError line naming the file, the line and the column, or the header that was found.
"""

import csv
import os
import re

from firmware.clock import tz
from firmware.clock.iso import days_from_civil, parse_iso

from .prices import PriceError, Series, decimal_to_u, unit_scale

CET = "CET-1CEST,M3.5.0,M10.5.0/3"
EET = "EET-2EEST,M3.5.0/3,M10.5.0/4"
# zone words a header may carry, and the POSIX rule of each
HEADER_ZONES = (("utc", "UTC0"), ("gmt", "UTC0"), ("cet", CET), ("cest", CET), ("hourdk", CET),
                ("eet", EET))
MISSING = ("", "-", "n/e", "n/a", "na", "nan", "null", "none")
CURRENCIES = ("eur", "usd", "dkk", "nok", "sek", "gbp", "pln", "chf", "czk", "huf", "ron")
_NAIVE = re.compile(r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d))?$")
_EURO = re.compile(r"^(\d\d)\.(\d\d)\.(\d{4}) (\d\d):(\d\d)(?::(\d\d))?(?: \((CET|CEST)\))?$")
_HINT = ("say which zone the file's times are in with --csv-tz RULE (e.g. --csv-tz %s, or "
         "--csv-tz UTC0)" % CET)


def _norm(name):
    return " ".join(name.strip().lower().split())


def _pick(header, test):
    return [i for i, h in enumerate(header) if test(_norm(h))]


def _unit_of(name):
    """'EUR/MWh' from 'Day-ahead Price [EUR/MWh]', 'DK1 (EUR)', 'SpotPriceEUR'; else None."""
    n = _norm(name).replace("€", "eur")
    m = re.search(r"([a-z]{3})\s*/\s*(mwh|kwh)", n)
    if m:
        return "%s/%s" % (m.group(1).upper(), "MWh" if m.group(2) == "mwh" else "kWh")
    for cur in CURRENCIES:  # exchanges quote day-ahead prices per MWh
        if re.search(r"(\(|\[|price)%s\b|\b%s(\)|\])" % (cur, cur), n):
            return cur.upper() + "/MWh"
    return None


class _Columns:
    """Which column holds what, from the header (or a one-line error showing it)."""

    def __init__(self, path, header):
        self.header = header
        shown = "; found header: " + " | ".join(header)
        mtu = _pick(header, lambda h: h.startswith("mtu"))
        start = _pick(header, lambda h: h in ("start_utc", "start", "from", "datetime",
                                              "timestamp", "time", "date", "hourutc")
                      or h.startswith(("start ", "start(", "delivery start", "datetime(",
                                       "datetime ", "from ", "time (", "interval start")))
        if not start:
            start = _pick(header, lambda h: h == "hourdk")
        end = _pick(header, lambda h: h in ("end_utc", "end", "to", "until")
                    or h.startswith(("end ", "end(", "delivery end", "to ", "interval end")))
        price = _pick(header, lambda h: "area" not in h and "currency" not in h and (
            "price" in h or _unit_of(h) is not None))
        if len(price) > 1:
            by_unit = {}
            for i in price:
                by_unit.setdefault(_unit_of(header[i]), []).append(header[i])
            same = [v for v in by_unit.values() if len(v) > 1]
            if same:  # e.g. Nord Pool's DK1 (EUR) and DK2 (EUR): which area is meant?
                raise PriceError("%s: several price columns (%s): keep one%s"
                                 % (path, ", ".join(same[0]), shown))
            # one price in several currencies (SpotPriceDKK, SpotPriceEUR): EUR first
            price = sorted(price, key=lambda i: ("eur" not in _norm(header[i]), i))[:1]
        self.mtu = mtu[0] if mtu and not start else None
        self.start = start[0] if start else None
        self.end = end[0] if end else None
        self.price = price[0] if price else None
        if (self.start is None and self.mtu is None) or self.price is None:
            raise PriceError("%s: no %s column%s" % (
                path, "price" if self.price is None else "start time (or ENTSO-E MTU)", shown))
        units = _pick(header, lambda h: h == "unit")
        self.unit_col = units[0] if units else None
        self.unit = _unit_of(header[self.price])
        if self.unit is None and self.unit_col is None:
            raise PriceError("%s: the price column %r does not say its unit (e.g. "
                             "'Price [EUR/MWh]') and there is no unit column%s"
                             % (path, header[self.price], shown))
        areas = _pick(header, lambda h: h in ("market", "pricearea", "area", "bzn",
                                              "bidding zone", "zone"))
        self.area = areas[0] if areas else None
        self.zone_rule = None  # the zone of times without an offset, from the header
        names = [_norm(header[i]) for i in (self.start, self.end, self.mtu) if i is not None]
        for word, rule in HEADER_ZONES:
            if any(re.search(r"\b%s\b" % word, n) or n.endswith(word) for n in names):
                self.zone_rule = rule
                break


class _Clock:
    """Cell text -> UTC seconds; local times through a zone, in file order."""

    def __init__(self, path, rule):
        self.path = path
        self.rule = rule
        self.zone = tz.Zone(rule) if rule else None
        self.last = None

    def utc(self, text, where):
        t = text.strip()
        m = _EURO.match(t)
        if m:
            d, mo, y, hh, mi, ss, tag = m.groups()
            fields = (int(y), int(mo), int(d), int(hh), int(mi), int(ss or 0))
        else:
            m = _NAIVE.match(t)
            if m is None:
                try:
                    u = parse_iso(t)  # an offset or Z: exact
                except ValueError as e:
                    raise PriceError("%s: bad time %r (%s)" % (where, text, e))
                self.last = u
                return u
            fields = tuple(int(g or 0) for g in m.groups())
            tag = None
        if self.zone is None:
            raise PriceError("%s: time %r has no UTC offset; %s" % (where, text, _HINT))
        y, mo, d, hh, mi, ss = fields
        local = days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss
        u = self.zone.from_local(local)
        if u + self.zone.offset_at(u) != local:
            raise PriceError("%s: %r does not exist in zone %s (the clocks jump)" % (
                where, text, self.rule))
        later = u + 3600  # the repeated hour when the clocks go back
        if later + self.zone.offset_at(later) == local:
            if tag == "CET" or (tag is None and self.last is not None and u <= self.last):
                u = later
        self.last = u
        return u


def _cells(path):
    with open(path, encoding="utf-8-sig", newline="") as f:  # utf-8-sig: drop a BOM
        text = f.read()
    lines = text.splitlines()
    first = next((k for k, ln in enumerate(lines) if ln.strip()), None)
    if first is None:
        raise PriceError("%s: empty file" % path)
    head = lines[first]
    sep = max((";", "\t", ","), key=lambda c: head.count(c))
    rows = csv.reader(lines[first:], delimiter=sep)
    return sep, first, rows


def read(path, tz_rule=None):
    try:
        sep, first, rows = _cells(path)
    except UnicodeDecodeError:
        raise PriceError("%s: not UTF-8 text (save the export as CSV UTF-8)" % path)
    header = next(rows)
    cols = _Columns(path, header)
    rule = tz_rule or cols.zone_rule
    clock = _Clock(path, rule)
    shared = [_norm(h) for h in header[:3]] == ["start_utc", "end_utc", "price"]
    starts, ends, prices = [], [], []
    unit = cols.unit
    scale = currency = None
    market, areas, missing = None, set(), 0
    for lineno, row in enumerate(rows, first + 2):
        if not row or not "".join(row).strip():
            continue

        def cell(i, what, row=row, lineno=lineno):
            if i >= len(row):
                raise PriceError("%s:%d: column %r (%s) is missing; the row has %d fields" % (
                    path, lineno, header[i], what, len(row)))
            return row[i]

        text = cell(cols.price, "price").strip()
        if text.lower() in MISSING:
            missing += 1
            continue  # no published price: a gap in the series
        where = "%s:%d: column %r" % (path, lineno, header[cols.mtu if cols.start is None
                                                          else cols.start])
        e = None
        if cols.start is None:
            # ENTSO-E "01.01.2024 00:00 - 01.01.2024 01:00": the start (a local end reads
            # the same for both repeated hours in autumn; the usual step is exact)
            s = clock.utc(cell(cols.mtu, "time range").partition(" - ")[0], where)
        else:
            s = clock.utc(cell(cols.start, "start"), where)
            if cols.end is not None and not _local(cell(cols.end, "end")):
                e = clock.utc(cell(cols.end, "end"), "%s:%d: column %r" % (
                    path, lineno, header[cols.end]))
        if scale is None:
            if cols.unit_col is not None and not unit:
                unit = cell(cols.unit_col, "unit").strip()
            try:
                currency, scale = unit_scale(unit)
            except PriceError as err:
                raise PriceError("%s:%d: %s" % (path, lineno, err))
        if cols.area is not None:
            areas.add(cell(cols.area, "area").strip())
            market = market or cell(cols.area, "area").strip()
        if sep != "," and re.match(r"^[+-]?\d*,\d+$", text):
            text = text.replace(",", ".")  # a decimal comma
        try:
            pu = decimal_to_u(text, scale)
        except PriceError:
            raise PriceError("%s:%d: column %r: bad price %r" % (path, lineno,
                                                                  header[cols.price], text))
        if starts and s <= starts[-1]:
            raise PriceError("%s:%d: time not after the previous row's (rows must be in time "
                             "order, one per interval)" % (path, lineno))
        if starts and ends[-1] is not None and s < ends[-1]:
            raise PriceError("%s:%d: interval overlaps the previous row" % (path, lineno))
        if e is not None and e <= s:
            raise PriceError("%s:%d: interval ends before it starts" % (path, lineno))
        starts.append(s)
        ends.append(e)
        prices.append(pu)
    if len(areas) > 1:
        raise PriceError("%s: prices of several areas (%s) in one file: keep one area's rows"
                         % (path, ", ".join(sorted(areas))))
    if not starts:
        raise PriceError("%s: no prices" % path)
    if None in ends:  # no exact end: each interval lasts the file's usual step
        slot = _usual_step(starts)
        if slot is None:
            raise PriceError("%s: one row and no end time: the interval length is unknown"
                             % path)
        ends = [s + slot if e is None else e for s, e in zip(starts, ends, strict=True)]
        for k in range(len(starts) - 1):
            if ends[k] > starts[k + 1]:
                ends[k] = starts[k + 1]  # a shorter interval (a DST day's last row)
    if market is None:  # ENTSO-E names the bidding zone in a header cell: "BZN|DK1"
        zone_cells = [h.split("|", 1)[1] for h in header if _norm(h).startswith("bzn|")]
        market = zone_cells[0] if zone_cells else ("" if shared else os.path.basename(path))
    out = Series(starts, ends, prices, currency, market, os.path.basename(path))
    out.tz_rule = rule if clock.zone is not None and rule != "UTC0" else None
    out.blank_rows = missing
    return out


def _local(text):
    """True for a time without an offset (read through a zone)."""
    t = text.strip()
    return bool(_NAIVE.match(t) or _EURO.match(t))


def _usual_step(starts):
    steps = {}
    for a, b in zip(starts, starts[1:], strict=False):
        steps[b - a] = steps.get(b - a, 0) + 1
    if not steps:
        return None
    return min(steps, key=lambda d: (-steps[d], d))
