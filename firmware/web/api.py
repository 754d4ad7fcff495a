"""The routes of the plug's web page and JSON API (served by firmware/web/server.py).

    GET  /                  the page (firmware/web/page.py: gzip, from flash in chunks)
    GET  /api/status        relay and why, price now, next switch, cache, last fetch, savings
                            today and the last 7 days, Wi-Fi, uptime, version, free heap
    GET  /api/plan          planned segments [[start_s, end_s, on, reason]] from now
    GET  /api/prices        [[start_s, end_s, price_u, utc_offset_s]] for local today+tomorrow
    GET  /api/log           the last 20 log lines
    GET  /api/history       the savings record, the last 35 local days
    POST /api/override      {"on": true|false|null, "minutes": N}   (null: cancel)
    POST /api/settings      {"policy.hours": 6, ...}: plug.set's validation and atomic save

Access: with web.password set, every /api request needs it (header X-WW-Password); without
one, reading is open and every change is refused (set it over USB). A change must also be
same-origin (Origin/Sec-Fetch-Site, when the browser sends them) and application/json, which
a page on another site cannot send without a CORS preflight this server never grants.
After LOCK_AFTER wrong passwords, every password is refused for LOCK_MS.
"""

import json

from ..compat import mem_free, ticks_diff, ticks_ms
from ..prices.schedule import NO_PRICE
from .server import HttpError

LOG_LINES = 20
WEEK = 7
LOCK_AFTER = 5
LOCK_MS = 60000
MINUTES = (1, 1440)  # an override's length: the limits of the override.minutes setting
# what the page may change; everything else (Wi-Fi, secrets, web.*) only over USB
SETTABLE = ("policy.mode", "policy.hours", "policy.period", "policy.deadline",
            "policy.max_price", "load.kw", "savings.baseline", "override.minutes")
NO_PASSWORD = ("changes need a password: set web.password over USB, e.g. "
               "plug.set('web.password', 'secret'); plug.save()")


class Api:
    def __init__(self, app):
        self.app = app
        self.rev = 0  # bumped when the plan changes: the page then reloads prices and plan
        self.started_ms = ticks_ms()
        self._fails = 0
        self._locked_ms = None

    # -- access ------------------------------------------------------------------------------
    def _password(self):
        return self.app.cfg.get("web.password") or ""

    def _check_password(self, req):
        if self._locked_ms is not None:
            if ticks_diff(ticks_ms(), self._locked_ms) < LOCK_MS:
                raise HttpError(429, "too many wrong passwords; wait a minute")
            self._locked_ms, self._fails = None, 0
        given = req.header("x-ww-password")
        if given is None:
            raise HttpError(401, "password needed")
        if not _same(given, self._password()):
            self._fails += 1  # a guess: counted
            if self._fails >= LOCK_AFTER:
                self._locked_ms = ticks_ms()
            raise HttpError(401, "wrong password")
        self._fails = 0

    def _check_change(self, req):
        """CSRF first (a cross-site request learns nothing, not even about the password)."""
        origin = req.header("origin")
        host = req.header("host")
        if origin is not None and (host is None or origin not in ("http://" + host,
                                                                  "https://" + host)):
            raise HttpError(403, "cross-origin request refused")
        site = req.header("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            raise HttpError(403, "cross-site request refused")
        if not (req.header("content-type") or "").startswith("application/json"):
            raise HttpError(415, "send application/json")
        if not self._password():
            raise HttpError(403, NO_PASSWORD)
        self._check_password(req)
        try:
            body = json.loads(req.body)
        except ValueError:
            raise HttpError(400, "the body is not JSON")
        if not isinstance(body, dict):
            raise HttpError(400, "the body is not a JSON object")
        return body

    # -- dispatch ----------------------------------------------------------------------------
    async def handle(self, req, resp):
        p = req.path
        if req.method == "GET" and p == "/":
            return await self._page(resp)
        if not p.startswith("/api/"):
            raise HttpError(404, "no such page")
        if req.method == "POST":
            if p == "/api/override":
                return await resp.json(200, self._override(self._check_change(req)))
            if p == "/api/settings":
                return await resp.json(200, self._settings(self._check_change(req)))
            raise HttpError(405 if p in _GETS else 404)
        if p not in _GETS:
            raise HttpError(405 if p in ("/api/override", "/api/settings") else 404)
        if self._password():
            self._check_password(req)
        if p == "/api/status":
            return await resp.json(200, self.status())
        if p == "/api/log":
            return await resp.json(200, {"lines": self.app.log.lines(LOG_LINES)})
        if p == "/api/history":
            rec = self.app.savings
            return await resp.json(200, {"days": rec.days(35) if rec is not None else []})
        if p == "/api/plan":
            return await self._plan(resp)
        return await self._prices(resp)

    async def _page(self, resp):
        from . import page  # rarely needed: imported per request, its bytes stay in flash

        await resp.send(200, "text/html; charset=utf-8", page.PAGE_GZ,
                        ("Content-Encoding: gzip",))

    # -- reading -----------------------------------------------------------------------------
    def status(self):
        app = self.app
        out = app.status()
        now = out.get("now_s")
        zone = getattr(app, "zone", None)
        out["offset_s"] = zone.offset_at(now) if zone is not None and now else 0
        out["uptime_s"] = ticks_diff(ticks_ms(), self.started_ms) // 1000
        out["mem_free"] = mem_free()
        out["rev"] = self.rev
        out["password_set"] = bool(self._password())
        cfg = app.cfg or {}
        out["policy"] = {"mode": cfg.get("policy.mode"), "hours": cfg.get("policy.hours")}
        out["override_minutes"] = cfg.get("override.minutes")
        lf = out.get("last_fetch")
        out["fetch_age_s"] = now - lf["t_s"] if lf and now else None
        s = app.schedule
        out["currency"] = s.currency if s is not None else ""
        out["next_on"] = None
        if app.plan is not None and out.get("until_s"):
            out["next_on"] = bool(app.plan.at(out["until_s"])[0])
        rec = app.savings
        if rec is not None and now:
            out["savings_today"] = rec.today(now)
            out["savings_week"] = rec.days(WEEK, now)
        return out

    async def _plan(self, resp):
        app = self.app
        await resp.start(200, "application/json")
        await resp.write('{"now_s": %d, "segments": [' % app.hal.clock.now_s())
        sep = ""
        if app.plan is not None:
            for s, e, on, reason in app.plan.segments:
                await resp.write("%s[%d, %d, %s, %s]" % (sep, s, e, "true" if on else "false",
                                                         json.dumps(reason)))
                sep = ", "
        await resp.write("]}")

    async def _prices(self, resp):
        """Local today and tomorrow (as far as published), one row per price interval."""
        app = self.app
        now = app.hal.clock.now_s()
        z = app.zone
        a = z.day_start(now)
        b = z.next_day_start(z.next_day_start(a))
        s = app.schedule
        await resp.start(200, "application/json")
        await resp.write('{"now_s": %d, "day_start_s": %d, "currency": %s, "intervals": [' % (
            now, a, json.dumps(s.currency if s is not None else "")))
        sep = ""
        if s is not None:
            for ps, pe, p, _i in s.window(a, b):
                if p != NO_PRICE:
                    await resp.write("%s[%d, %d, %d, %d]" % (sep, ps, pe, p, z.offset_at(ps)))
                    sep = ", "
        await resp.write("]}")

    # -- changes -----------------------------------------------------------------------------
    def _override(self, body):
        from ..onoff import parse as parse_onoff

        app = self.app
        on = body.get("on")
        if on is None:
            app.override(None)
        else:
            try:
                on = parse_onoff(on, "on")
            except ValueError as e:
                raise HttpError(400, str(e))
            minutes = body.get("minutes", app.cfg["override.minutes"])
            if isinstance(minutes, bool) or not isinstance(minutes, int) or \
                    not MINUTES[0] <= minutes <= MINUTES[1]:
                raise HttpError(400, "minutes: %s is not allowed; expected an integer in "
                                "%d..%d" % (json.dumps(minutes), MINUTES[0], MINUTES[1]))
            app.override(on, minutes)
        ov = app.state.override_until_s
        return {"relay_on": app.load_on, "override_until_s": ov}

    def _settings(self, body):
        from ..app.settings import settings_fields
        from ..providers import in_use
        from ..repl.view import Plug

        app = self.app
        for name in body:
            if name not in SETTABLE:
                raise HttpError(400, "%s: not changeable from the web page (only over USB)"
                                % name)
        plug = Plug(app.hal.root, app, fields=settings_fields(app.hal, in_use(app.cfg)))
        try:
            plug.update(body)
            plug.save()
        except ValueError as e:  # ConfigError: the setting's own message
            raise HttpError(400, str(e))
        return {"saved": sorted(body)}


_GETS = ("/api/status", "/api/plan", "/api/prices", "/api/log", "/api/history")


def _same(a, b):
    """Compare without stopping at the first difference (no timing hint per character)."""
    a, b = a.encode(), b.encode()
    diff = len(a) ^ len(b)
    for i in range(len(a)):
        diff |= a[i] ^ b[i % len(b)] if b else 1
    return diff == 0
