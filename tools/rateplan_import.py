"""Supplier rate plan (Enertalk Bills API shapes) -> the plug's rate-plan settings.

    python -m tools.rateplan_import SCHEMA.json BILL.json [--currency USD]
        [--tier-amount upto|size] [-o OUT.json]

SCHEMA.json is `GET /suppliers/:supplierId/rateplans/:ratePlanId/schema` ({id, name, tiers
{base[], usage[]}, billSettings {field: {title, uiType, kinds|min|max|unit|value}}}); BILL.json is
`GET /sites/:siteId/bills` ({meterDate, supplierId, ratePlanId, billSettings}). The output is a
JSON object of settings ("source", "rateplan.*") to merge into the plug's config.json (the field
tool's `rateplan import` does that; `plugctl rateplan fetch` gets both from the Enertalk Bills
API, tools/enertalk.py). billSettings values are checked against the schema's uiTypes: radiobox
and dropdown one option number of `kinds`, checkbox a list of one or more option numbers, date
YYYY-MM-DD within min/max (a date or, as the Bills API types them, a number: epoch seconds, or
milliseconds from 1e11 up), number within min/max; every error is one line naming the field.

A tier's `amount` is not defined as a running total or as the tier's own size: --tier-amount
says which (TIER_AMOUNTS; default "upto", the running total the supplier fixtures imply: the
KEPCO-like plan's 200, 400 are its 200 and 400 kWh bounds). The plug's rateplan.tiers always
holds running totals.
"""

import json
import sys

UI_TYPES = ("radiobox", "dropdown", "checkbox", "date", "number")
TIER_AMOUNTS = ("upto", "size")  # amount = the tier's upper bound in kWh / the tier's own kWh
_EPOCH_MS = 10 ** 11  # a numeric date bound from here up is in milliseconds


class RatePlanError(ValueError):
    """Bad input; the message is one line naming the field."""


def _kinds(spec):
    kinds = spec.get("kinds")
    if not isinstance(kinds, dict) or not kinds:
        raise RatePlanError("schema: %s has no kinds" % spec.get("_name"))
    return kinds


def _kinds_text(kinds):
    out = []
    for k, v in kinds.items():
        name = v.get("displayName") if isinstance(v, dict) else None
        out.append("%s (%s)" % (k, name) if name else str(k))
    return ", ".join(out)


def _kind_key(kinds, v):
    """The option key of value v: an option NUMBER listed in kinds (a string is refused)."""
    if isinstance(v, bool) or not isinstance(v, int):
        return None
    return str(v) if str(v) in kinds else None


def _date_bound(v, field, which):
    """A schema's date min/max as YYYY-MM-DD: a date string, or a number (epoch s or ms)."""
    if v is None or v == "":
        return None
    if isinstance(v, str) and _valid_date(v):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        import time

        secs = v / 1000 if abs(v) >= _EPOCH_MS else v
        try:
            t = time.gmtime(int(secs))
        except (OverflowError, OSError, ValueError):
            t = None
        if t is not None:
            return "%04d-%02d-%02d" % (t.tm_year, t.tm_mon, t.tm_mday)
    raise RatePlanError("schema: %s.%s: %s is not allowed; expected a date YYYY-MM-DD or "
                        "epoch seconds/milliseconds" % (field, which, json.dumps(v)))


def _valid_date(s):
    if not isinstance(s, str) or len(s) != 10 or s[4] != "-" or s[7] != "-":
        return False
    y, m, d = s[:4], s[5:7], s[8:]
    if not (y.isdigit() and m.isdigit() and d.isdigit()):
        return False
    from firmware.clock.iso import days_in_month

    y, m, d = int(y), int(m), int(d)
    return 1 <= m <= 12 and 1 <= d <= days_in_month(y, m)


def check_setting(name, spec, value):
    """The value if the schema field `spec` allows it, else RatePlanError naming the field."""
    field = "billSettings." + name
    ui = spec.get("uiType")
    if ui in ("radiobox", "dropdown"):
        kinds = _kinds(spec)
        if _kind_key(kinds, value) is None:
            raise RatePlanError("%s: %s is not allowed; expected one of %s"
                                % (field, json.dumps(value), _kinds_text(kinds)))
        return value
    if ui == "checkbox":
        kinds = _kinds(spec)
        if not isinstance(value, list) or not value or \
                any(_kind_key(kinds, v) is None for v in value):
            raise RatePlanError("%s: %s is not allowed; expected a list of one or more of %s"
                                % (field, json.dumps(value), _kinds_text(kinds)))
        if len({str(v) for v in value}) != len(value):
            raise RatePlanError("%s: %s lists an option twice" % (field, json.dumps(value)))
        return value
    if ui == "date":
        lo, hi = _date_bound(spec.get("min"), field, "min"), _date_bound(spec.get("max"), field,
                                                                           "max")
        if not _valid_date(value) or (lo and value < lo) or (hi and value > hi):
            rng = (" from %s" % lo if lo else "") + (" to %s" % hi if hi else "")
            raise RatePlanError("%s: %s is not allowed; expected a date YYYY-MM-DD%s"
                                % (field, json.dumps(value), rng))
        return value
    if ui == "number":
        lo, hi, unit = spec.get("min"), spec.get("max"), spec.get("unit") or ""
        for which, b in (("min", lo), ("max", hi)):
            if b is not None and (isinstance(b, bool) or not isinstance(b, (int, float))):
                raise RatePlanError("schema: %s.%s: %s is not allowed; expected a number"
                                    % (field, which, json.dumps(b)))
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if ok and ((lo is not None and value < lo) or (hi is not None and value > hi)):
            ok = False
        if not ok:
            rng = ""
            if lo is not None or hi is not None:
                rng = " in %s..%s" % ("" if lo is None else lo, "" if hi is None else hi)
            raise RatePlanError("%s: %s is not allowed; expected a number%s%s"
                                % (field, json.dumps(value), rng, (" " + unit) if unit else ""))
        return value
    raise RatePlanError("schema: billSettings.%s has uiType %s; expected one of %s"
                        % (name, json.dumps(ui), ", ".join(UI_TYPES)))


def check_bill_settings(schema_settings, values):
    """Validated billSettings: every value checked; unset numbers take the schema's `value`."""
    schema_settings = schema_settings or {}
    if not isinstance(schema_settings, dict):
        raise RatePlanError("schema: billSettings is not an object")
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise RatePlanError("bill: billSettings is not an object or null")
    for name in values:
        if name not in schema_settings:
            raise RatePlanError("billSettings.%s: not in the rate plan schema; expected one of %s"
                                % (name, ", ".join(schema_settings) or "(none)"))
    out = {}
    for name, spec in schema_settings.items():
        if not isinstance(spec, dict):
            raise RatePlanError("schema: billSettings.%s is not an object" % name)
        if name in values:
            out[name] = check_setting(name, spec, values[name])
        elif spec.get("uiType") == "number" and spec.get("value") is not None:
            out[name] = check_setting(name, spec, spec["value"])
    return out


def _num(v):
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(v)
    if isinstance(v, float) and v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(v)  # shortest round-trip decimal: 0.20145 stays "0.20145"


def tiers_setting(tiers, which, amount_is="upto"):
    """tiers.usage/base [{amount, cost}] -> 'upto:cost,...' (amount 0 = unbounded, last).
    amount_is "size": each amount is the tier's own kWh, summed here into running bounds."""
    field = "tiers." + which
    if amount_is not in TIER_AMOUNTS:
        raise RatePlanError("--tier-amount: %r is not allowed; expected one of %s"
                            % (amount_is, ", ".join(TIER_AMOUNTS)))
    if tiers is None:
        return ""
    if not isinstance(tiers, list):
        raise RatePlanError("%s: not a list of {amount, cost}" % field)
    parts, last, total = [], 0, 0
    for i, t in enumerate(tiers):
        try:
            amount, cost = t["amount"], t["cost"]
            a, c = _num(amount), _num(cost)
        except (KeyError, TypeError, ValueError):
            raise RatePlanError("%s[%d]: %s is not allowed; expected {amount: kWh, cost: number}"
                                % (field, i, json.dumps(t)))
        if amount < 0:
            raise RatePlanError("%s[%d].amount: %s is not allowed; expected kWh >= 0"
                                % (field, i, a))
        if amount == 0 and i != len(tiers) - 1:
            raise RatePlanError("%s[%d].amount: 0 (unbounded) must be the last tier" % (field, i))
        if amount and amount_is == "size":  # running bound, exact in decimal text
            total = _dec_add(total, amount)
            amount, a = total, _num(total)
        if amount and amount <= last:
            raise RatePlanError("%s[%d].amount: %s is not allowed; expected more than %s kWh"
                                % (field, i, a, _num(last)))
        last = amount or last
        parts.append("%s:%s" % (a, c))
    return ",".join(parts)


def _dec_add(a, b):
    """a + b for kWh amounts without binary float error (0.1 + 0.2 is 0.3)."""
    from fractions import Fraction

    x = Fraction(repr(a)) + Fraction(repr(b))
    return int(x) if x.denominator == 1 else float(x)


def convert(schema, bill, currency="USD", tier_amount="upto"):
    """(schema dict, bill dict) -> {setting: value} for the plug's config."""
    if not isinstance(schema, dict) or not isinstance(bill, dict):
        raise RatePlanError("schema and bill must be JSON objects")
    plan_id = schema.get("id")
    if plan_id is None:
        raise RatePlanError("schema: no id")
    bill_plan = bill.get("ratePlanId")
    if bill_plan is not None and str(bill_plan) != str(plan_id):
        raise RatePlanError("bill.ratePlanId: %s is not allowed; expected %s (the schema's id)"
                            % (json.dumps(bill_plan), json.dumps(plan_id)))
    md = bill.get("meterDate")
    if isinstance(md, bool) or not isinstance(md, int) or md < 1 or md > 31:
        raise RatePlanError("bill.meterDate: %s is not allowed; expected an integer in 1..29"
                            % json.dumps(md))
    md = min(md, 29)  # the Bills API clamps 30 and 31 to 29
    tiers = schema.get("tiers") or {}
    if not isinstance(tiers, dict):
        raise RatePlanError("schema: tiers is not an object")
    usage = tiers_setting(tiers.get("usage"), "usage", tier_amount)
    base = tiers_setting(tiers.get("base"), "base", tier_amount)
    settings = check_bill_settings(schema.get("billSettings"), bill.get("billSettings"))
    supplier = bill.get("supplierId")
    return {
        "source": "rateplan",
        "rateplan.id": ("%s/%s" % (supplier, plan_id)) if supplier else str(plan_id),
        "rateplan.name": str(schema.get("name") or plan_id),
        "rateplan.currency": currency,
        "rateplan.meterDate": md,
        "rateplan.price": "0",
        "rateplan.tiers": usage,
        "rateplan.base": base,
        "rateplan.billSettings": json.dumps(settings, separators=(",", ":"), sort_keys=True),
    }


def _load(path):
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except OSError as e:
        raise RatePlanError("%s: %s" % (path, e.strerror or e))
    except ValueError as e:
        raise RatePlanError("%s: not JSON (%s)" % (path, e))


def add_tier_amount(ap):
    ap.add_argument("--tier-amount", choices=TIER_AMOUNTS, default="upto",
                    help="a tier's amount is its upper bound in kWh within the billing cycle "
                         "(upto, the default) or its own size in kWh (size)")


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="rateplan_import", description=__doc__.split("\n")[0])
    ap.add_argument("schema", help="rate plan schema JSON")
    ap.add_argument("bill", help="bill object JSON")
    ap.add_argument("--currency", default="USD", help="currency of the tier costs (USD)")
    add_tier_amount(ap)
    ap.add_argument("-o", "--output", help="write the settings here instead of stdout")
    a = ap.parse_args(argv)
    try:
        out = convert(_load(a.schema), _load(a.bill), a.currency, a.tier_amount)
    except RatePlanError as e:
        print("rateplan_import: error: %s" % e, file=sys.stderr)
        return 2
    text = json.dumps(out, indent=1, sort_keys=True) + "\n"
    if a.output:
        with open(a.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
