"""tools/rateplan_import: supplier rate-plan schema + bill -> the plug's rate-plan settings."""

import copy
import json
import os
import re
import subprocess
import sys

import pytest

from firmware.clock.iso import parse_iso
from firmware.config import schema as config_schema
from firmware.providers import rateplan
from tools.rateplan_import import RatePlanError, convert

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures", "enertalk")


def _j(name):
    with open(os.path.join(FIX, name)) as f:
        return json.load(f)


def test_fixture_converts_and_drives_the_provider():
    out = convert(_j("rateplan_schema.json"), _j("bill.json"))
    assert out["source"] == "rateplan"
    assert out["rateplan.id"] == "eversource/A1"
    assert out["rateplan.meterDate"] == 2
    assert out["rateplan.tiers"] == "100:0.012,0:0.20145"
    assert out["rateplan.base"] == "0:7"
    bs = json.loads(out["rateplan.billSettings"])
    assert bs == {"contractDate": "2017-01-01", "contractOption": [1, 3], "contractPower": 12,
                  "contractType": 1, "discount": 2}
    # every produced setting passes the plug's own schema
    fields = {f.name: f for f in rateplan.CONFIG}
    for k, v in out.items():
        if k != "source":
            assert fields[k].check(v) == v
    cfg = {f.name: f.default for f in rateplan.CONFIG}
    cfg.update({k: v for k, v in out.items() if k.startswith("rateplan.")})
    cfg["rateplan.load_kw"] = 0
    t0 = parse_iso("2025-05-02T00:00:00Z")
    s = rateplan.generate(cfg, t0, t0 + 3600, 100, rateplan.FixedZone(0))
    assert s.prices[0] == 201450 and s.tariff_id == "eversource/A1"


def test_kr_tiers_and_number_default():
    schema = _j("rateplan_schema_kr_tiers.json")
    bill = {"meterDate": 31, "supplierId": "kepco", "ratePlanId": "1", "billSettings": None}
    out = convert(schema, bill, currency="KRW")
    assert out["rateplan.tiers"] == "200:120,400:214.6,0:307.3"
    assert out["rateplan.base"] == "200:910,400:1600,0:7300"
    assert out["rateplan.meterDate"] == 29  # clamped as the Bills API does
    assert json.loads(out["rateplan.billSettings"]) == {"contractPower": 3}
    assert out["rateplan.currency"] == "KRW"


@pytest.mark.parametrize("field,value,needle", [
    ("discount", 5, "billSettings.discount: 5 is not allowed; expected one of 1 (None), "
                    "2 (Low income (R-2)), 3 (Senior)"),
    ("contractType", [1], "billSettings.contractType: [1] is not allowed; expected one of "
                          "1 (Standard service), 2 (Competitive supply)"),
    ("contractOption", 1, "billSettings.contractOption: 1 is not allowed; expected a list of "
                          "one or more of 1 (Electric heat), 2 (Medical equipment), "
                          "3 (Net metering)"),
    ("contractOption", [1, 4], "expected a list of one or more of 1 (Electric heat)"),
    ("contractOption", [], "billSettings.contractOption: [] is not allowed; expected a list of "
                           "one or more of"),
    ("contractOption", ["1"], "billSettings.contractOption: [\"1\"] is not allowed"),
    ("contractType", "1", "billSettings.contractType: \"1\" is not allowed; expected one of "
                          "1 (Standard service)"),
    ("discount", "2", "billSettings.discount: \"2\" is not allowed"),
    ("contractDate", "2012-12-31", "billSettings.contractDate: \"2012-12-31\" is not allowed; "
                                   "expected a date YYYY-MM-DD from 2013-01-01"),
    ("contractDate", "2017-02-30", "billSettings.contractDate"),
    ("contractDate", "20170101", "billSettings.contractDate"),
    ("contractPower", 301, "billSettings.contractPower: 301 is not allowed; expected a number "
                           "in 4..300 kW"),
    ("contractPower", "12", "in 4..300 kW"),
    ("contractPower", True, "billSettings.contractPower"),
    ("colour", 1, "billSettings.colour: not in the rate plan schema; expected one of "
                  "contractOption, contractType, discount, contractDate, contractPower"),
])
def test_invalid_bill_settings_name_field_and_allowed(field, value, needle):
    bill = _j("bill.json")
    bill["billSettings"][field] = value
    with pytest.raises(RatePlanError) as ei:
        convert(_j("rateplan_schema.json"), bill)
    msg = str(ei.value)
    assert needle in msg and "\n" not in msg


def test_date_max_and_bad_bill_fields():
    schema = _j("rateplan_schema.json")
    schema["billSettings"]["contractDate"]["max"] = "2016-12-31"
    with pytest.raises(RatePlanError, match="from 2013-01-01 to 2016-12-31"):
        convert(schema, _j("bill.json"))
    for bad in (0, "2", 1.5, None):
        bill = _j("bill.json")
        bill["meterDate"] = bad
        with pytest.raises(RatePlanError, match=r"bill.meterDate: .* expected an integer in 1..29"):
            convert(_j("rateplan_schema.json"), bill)
    bill = _j("bill.json")
    bill["ratePlanId"] = "B2"
    with pytest.raises(RatePlanError, match="bill.ratePlanId"):
        convert(_j("rateplan_schema.json"), bill)


def test_numeric_date_bounds_are_epoch_seconds_or_milliseconds():
    """The Bills API types a date setting's min/max as numbers: no TypeError, one line."""
    for lo, hi in ((1356998400, None), (1356998400000, 1483228800000)):  # 2013-01-01, 2017-01-01
        schema = _j("rateplan_schema.json")
        schema["billSettings"]["contractDate"]["min"] = lo
        schema["billSettings"]["contractDate"]["max"] = hi
        out = convert(schema, _j("bill.json"))  # 2017-01-01 is within
        assert json.loads(out["rateplan.billSettings"])["contractDate"] == "2017-01-01"
        bill = _j("bill.json")
        bill["billSettings"]["contractDate"] = "2012-12-31"
        with pytest.raises(RatePlanError, match="expected a date YYYY-MM-DD from 2013-01-01"):
            convert(schema, bill)
    schema = _j("rateplan_schema.json")
    schema["billSettings"]["contractDate"]["max"] = 1483228800000
    bill = _j("bill.json")
    bill["billSettings"]["contractDate"] = "2017-01-02"
    with pytest.raises(RatePlanError, match="from 2013-01-01 to 2017-01-01"):
        convert(schema, bill)
    schema["billSettings"]["contractDate"]["max"] = [2017]
    with pytest.raises(RatePlanError, match=r"schema: billSettings.contractDate.max: \[2017\]"):
        convert(schema, _j("bill.json"))
    schema = _j("rateplan_schema.json")
    schema["billSettings"]["contractPower"]["min"] = "4"
    with pytest.raises(RatePlanError, match="billSettings.contractPower.min: \"4\""):
        convert(schema, _j("bill.json"))


KR_BILL = {"meterDate": 1, "supplierId": "kepco", "ratePlanId": "1", "billSettings": None}


def test_three_tier_amounts_as_running_total_or_own_size():
    schema = _j("rateplan_schema_kr_tiers.json")  # amounts 200, 400, 0
    upto = convert(schema, KR_BILL, "KRW")  # the default: running totals, as KEPCO's bounds
    assert upto == convert(schema, KR_BILL, "KRW", "upto")
    assert upto["rateplan.tiers"] == "200:120,400:214.6,0:307.3"
    size = convert(schema, KR_BILL, "KRW", "size")  # each amount is the tier's own kWh
    assert size["rateplan.tiers"] == "200:120,600:214.6,0:307.3"
    assert size["rateplan.base"] == "200:910,600:1600,0:7300"
    cfgs = []
    for out in (upto, size):
        cfg = {f.name: f.default for f in rateplan.CONFIG}
        cfg.update({k: v for k, v in out.items() if k.startswith("rateplan.")})
        cfg["rateplan.base"] = ""  # KRW base charges (7300) are not kWh prices
        cfgs.append(cfg)
    # the 500th kWh is in the third tier (upto) or still in the second (size)
    assert rateplan.marginal_price_u(cfgs[0], 499) == 307300000
    assert rateplan.marginal_price_u(cfgs[1], 499) == 214600000
    assert rateplan.marginal_price_u(cfgs[1], 600) == 307300000
    # sizes that do not add up in binary floating point stay exact
    schema["tiers"]["usage"] = [{"amount": 0.1, "cost": 1}, {"amount": 0.2, "cost": 2},
                                {"amount": 0, "cost": 3}]
    assert convert(schema, KR_BILL, "KRW", "size")["rateplan.tiers"] == "0.1:1,0.3:2,0:3"
    with pytest.raises(RatePlanError, match="--tier-amount"):
        convert(schema, KR_BILL, "KRW", "each")


def test_bad_tiers_rejected():
    base = _j("rateplan_schema.json")
    for usage, needle in (([{"amount": 0, "cost": 1}, {"amount": 100, "cost": 2}],
                           "tiers.usage[0].amount: 0 (unbounded) must be the last tier"),
                          ([{"amount": 100, "cost": 1}, {"amount": 50, "cost": 2}],
                           "tiers.usage[1].amount: 50 is not allowed"),
                          ([{"amount": 100}], "tiers.usage[0]"),
                          ([{"amount": 100, "cost": "x"}], "tiers.usage[0]")):
        schema = copy.deepcopy(base)
        schema["tiers"]["usage"] = usage
        with pytest.raises(RatePlanError, match=re.escape(needle)):
            convert(schema, _j("bill.json"))


def test_cli_writes_settings_and_errors_in_one_line(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT)
    out = tmp_path / "plan.json"
    p = subprocess.run([sys.executable, "-m", "tools.rateplan_import",
                        os.path.join(FIX, "rateplan_schema.json"), os.path.join(FIX, "bill.json"),
                        "-o", str(out)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    data = json.loads(out.read_text())
    assert data["rateplan.tiers"] == "100:0.012,0:0.20145"
    known = config_schema([rateplan])
    assert all(k in known for k in data if k != "source")
    bad = _j("bill.json")
    bad["billSettings"]["discount"] = 9
    bill = tmp_path / "bill.json"
    bill.write_text(json.dumps(bad))
    p = subprocess.run([sys.executable, "-m", "tools.rateplan_import",
                        os.path.join(FIX, "rateplan_schema.json"), str(bill)],
                       cwd=ROOT, env=env, capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    assert p.stderr.count("\n") == 1
    assert p.stderr.startswith("rateplan_import: error: billSettings.discount: 9 is not allowed")
