# runtimes: cpython micropython
# mpy-heap: 1m
"""The JSON API and its access rules over real loopback HTTP (firmware/web/api.py), on both
runtimes: open reading without a password, changes refused without one; with one, every
request needs it, cross-origin and non-JSON changes are refused before the password is looked
at, wrong guesses lock it for a minute; settings go through plug.set's validation and save."""

import asyncio
import json

from webkit import T_SWITCH, get, plug, post, request, serving

from firmware.web import page
from firmware.web.api import LOCK_AFTER

from support import TmpDir

PW = "pw-123456"


def run(settings, script):
    """Serve a plug with `settings`; script(port, out) makes the requests; returns (app, out)."""
    with TmpDir("webapi") as root:
        app, hal, web = plug(root, lead_s=30, **settings)
        out = {}

        async def main():
            task = await serving(app, web, T_SWITCH - 29)
            await script(web.port, out)
            await task

        asyncio.run(main())
        try:
            with open(root + "/config.json") as f:
                out["config.json"] = json.load(f)
        except OSError:
            out["config.json"] = None
        return app, out


def test_without_a_password_reading_is_open_and_changes_are_refused():
    async def script(port, out):
        out["status"] = await request(port, get("/api/status"))
        out["override"] = await request(port, post("/api/override", {"on": True}, "x"))
        out["page"] = await request(port, get("/"))

    app, out = run({}, script)
    st = json.loads(out["status"][1])
    assert out["status"][0] == 200 and st["relay_on"] is False and st["password_set"] is False
    assert st["price_u"] > 0 and st["currency"] == "USD" and st["next_on"] is True, st
    assert out["override"][0] == 403 and b"web.password" in out["override"][1], out
    assert app.state.override_until_s is None
    status, body, _ = out["page"]
    assert status == 200 and body == page.PAGE_GZ and body[:2] == b"\x1f\x8b"
    assert len(body) <= 16384


def test_with_a_password_everything_needs_it_and_guesses_lock():
    async def script(port, out):
        out["none"] = await request(port, get("/api/status"))
        out["wrong"] = await request(port, get("/api/status", "nope"))
        out["right"] = await request(port, get("/api/log", PW))
        for _ in range(LOCK_AFTER):
            await request(port, get("/api/status", "guess"))
        out["locked"] = await request(port, get("/api/status", PW))

    app, out = run({"web__password": PW}, script)
    assert out["none"][0] == 401 and out["wrong"][0] == 401, out
    assert out["right"][0] == 200 and json.loads(out["right"][1])["lines"], out["right"]
    assert out["locked"][0] == 429, out["locked"]


def test_cross_origin_and_non_json_changes_are_refused_even_with_the_password():
    async def script(port, out):
        body = {"on": True, "minutes": 30}
        out["origin"] = await request(port, post("/api/override", body, PW,
                                                  extra="Origin: http://evil.example\r\n"))
        out["site"] = await request(port, post("/api/override", body, PW,
                                                extra="Sec-Fetch-Site: cross-site\r\n"))
        out["form"] = await request(port, post("/api/override", json.dumps(body), PW,
                                                ctype="text/plain"))
        out["options"] = await request(port, b"OPTIONS /api/override HTTP/1.1\r\n\r\n")
        out["ok"] = await request(port, post(
            "/api/override", body, PW, extra="Origin: http://127.0.0.1\r\n"
            "Sec-Fetch-Site: same-origin\r\n"))

    app, out = run({"web__password": PW}, script)
    assert out["origin"][0] == 403 and out["site"][0] == 403, out
    assert out["form"][0] == 415 and out["options"][0] == 405, out
    assert out["ok"][0] == 200, out["ok"]
    assert json.loads(out["ok"][1])["relay_on"] is True
    assert app.state.override_on is True and app.hal.relay.level is True


def test_settings_are_validated_like_plug_set_and_saved():
    async def script(port, out):
        out["bad"] = await request(port, post("/api/settings", {"policy.hours": 99}, PW))
        out["secret"] = await request(port, post("/api/settings", {"web.password": "x"}, PW))
        out["ok"] = await request(port, post("/api/settings", {"policy.hours": 3,
                                                               "policy.mode": "block"}, PW))
        out["minutes"] = await request(port, post("/api/override", {"on": True,
                                                                    "minutes": 0}, PW))
        out["on"] = await request(port, post("/api/override", {"on": "maybe"}, PW))

    app, out = run({"web__password": PW}, script)
    status, body, _ = out["bad"]
    assert status == 400 and b"policy.hours" in body and b"expected" in body, out["bad"]
    assert out["secret"][0] == 400 and b"only over USB" in out["secret"][1], out["secret"]
    assert out["ok"][0] == 200, out["ok"]
    assert out["config.json"]["policy.hours"] == 3, out["config.json"]
    assert app.cfg["policy.mode"] == "block" and app.cfg["policy.hours"] == 3
    assert out["minutes"][0] == 400 and b"1..1440" in out["minutes"][1], out["minutes"]
    assert out["on"][0] == 400 and app.state.override_until_s is None, out["on"]


def test_plan_prices_history_and_unknown_paths():
    async def script(port, out):
        for p in ("/api/plan", "/api/prices", "/api/history", "/nope", "/api/nope"):
            out[p] = await request(port, get(p))
        out["post_get"] = await request(port, post("/api/status", {}, "x"))

    app, out = run({}, script)
    plan = json.loads(out["/api/plan"][1])
    ons = [(s, e) for s, e, on, _r in plan["segments"] if on]
    assert ons[0] == (T_SWITCH, T_SWITCH + 3600) and len(ons) == 2, plan  # today, tomorrow
    pr = json.loads(out["/api/prices"][1])
    assert len(pr["intervals"]) == 48 and pr["intervals"][0][0] == pr["day_start_s"], pr
    assert [x[2] for x in pr["intervals"] if x[0] == T_SWITCH] == [1000]
    days = json.loads(out["/api/history"][1])["days"]
    assert len(days) == 35 and days[-1]["day"] == "2025-06-11", days[-1]
    assert out["/nope"][0] == 404 and out["/api/nope"][0] == 404
    assert out["post_get"][0] == 405
