"""A loopback HTTP server that serves a price series in a provider's API shape (CPython only).

Simulated time. The device runs on a simulated clock, so the server cannot use the wall clock to
decide which prices are published. Every connection the simulated HAL opens starts with one
preamble line, before the HTTP request, in the spirit of HAProxy's PROXY protocol:

    SIMTIME <utc_s>\\r\\n

where utc_s is the simulator's TRUE time (not the device's possibly unset clock). The server
reads that line, answers the request as of that time and forgets it; a connection without the
preamble (curl, a browser) is answered as of the last time a simulated device told it. Binding
the time to the connection means no extra round trip, no shared mutable "now" between two runs,
and the firmware's HTTP client is untouched (hal.net.open writes the line and returns the socket).

Publication. Day-ahead prices for local day D become visible at `publish_min` (local minute of
day, in the market's zone) on day D-1; before that, the server knows prices up to the end of the
current local day only. A request for a window beyond what is visible gets what is visible (the
Arcadia API answers with fewer entries, or an empty result).

Faults (time windows in simulated time, see faults.py): "outage" closes the connection without a
reply, "error" answers an HTTP status with the provider's error body, "slow" delays the headers
(simulated seconds x time_scale wall seconds), "truncate" cuts the body in half.

Provider APIs are objects with HOSTS (host names the device contacts) and
handle(req) -> (status, headers dict, body bytes), where req is a Request; optionally
DEVICE_CONFIG (App settings the simulated plug needs: base URLs as http://<one of HOSTS>,
credentials, a rate plan), error_body(status) -> bytes (the provider's error body for "error"
faults), WATCH_STATE (provider-state keys the device reports in the timeline) and
billing(series, t0, t1, watts) (how the plug is charged when that is not the market series:
host_sim/apis/rateplan.py). Arcadia lives here; others come from host_sim/apis/<name>.py
(make(series, zone, feed, run) -> such an object). An API with no HOSTS (the static rate plan)
is never started.
"""

import base64
import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from firmware.clock.iso import TimeFormatError, civil_from_days, format_iso, parse_iso_offset

from .prices import u_to_text

PREAMBLE = b"SIMTIME "


class Request:
    __slots__ = ("method", "path", "query", "headers", "body", "now_s", "feed")

    def __init__(self, method, path, query, headers, body, now_s, feed):
        self.method = method
        self.path = path
        self.query = query  # dict, last value wins
        self.headers = headers  # lower-case names
        self.body = body
        self.now_s = now_s
        self.feed = feed  # the Feed: published prices as of now_s


class Feed:
    """What the market has published at a given simulated time."""

    def __init__(self, series, zone, publish_min):
        self.series = series
        self.zone = zone
        self.publish_min = publish_min

    def publish_time(self, day_start_s):
        t = day_start_s + self.publish_min * 60
        return t + self.zone.offset_at(day_start_s) - self.zone.offset_at(t)

    def visible_end(self, now_s):
        """End (UTC s) of the prices published by now_s."""
        z = self.zone
        end = z.next_day_start(now_s)
        if now_s >= self.publish_time(z.day_start(now_s)):
            end = z.next_day_start(end)
        return min(end, self.series.end_s)

    def window(self, t0, t1, now_s):
        """(s, e, price_u) published by now_s, clipped to [t0, t1)."""
        return self.series.window(t0, min(t1, self.visible_end(now_s)))


# -- Arcadia Smart Price --------------------------------------------------------------------

def _arcadia_error(code, message, prop=None):
    err = {"code": code, "message": message, "objectName": "requestSignature"}
    if prop:
        err["propertyName"] = prop
    return json.dumps({"status": "error", "count": 1, "type": "Error", "results": [err]})


class ArcadiaApi:
    """GET /rest/v1/prices/smart (APIS.md 1.5): HTTP Basic auth, the standard envelope, one
    Price whose priceChanges[] hold one entry per price change (groupBy omitted or NONE), or one
    per QTRHOUR, HOUR, local DAY, MONTH or YEAR, or one for ALL of the window (the SDK's groupBy
    enum; a group is the time-weighted mean of its part of the window); any other groupBy is a
    400 InvalidArgument. Times carry the market zone's offset (-08:00); detailLevel is
    QUANTITY_KEY, as Smart Price documents it."""

    HOSTS = ("api.genability.com",)
    DEVICE_CONFIG = {"arcadia.appId": "sim-app", "arcadia.appKey": "sim-key",
                     "arcadia.baseUrl": "http://api.genability.com",
                     "arcadia.masterTariffId": 3498765}
    PATH = "/rest/v1/prices/smart"
    TARIFF_ID = 3498765

    def __init__(self, series, zone, feed):
        self.series = series
        self.zone = zone
        self.feed = feed

    def error_body(self, status):
        codes = {400: "InvalidArgument", 401: "Unauthorized", 404: "ObjectNotFound",
                 429: "TooManyRequests"}
        return _arcadia_error(codes.get(status, "SystemError"),
                              "simulated failure (HTTP %d)" % status).encode()

    def _iso(self, t):
        return format_iso(t, self.zone.offset_at(t), z=False)

    def handle(self, req):
        hdr = {"Content-Type": "application/json;charset=UTF-8"}
        if req.path == "/rest/echo/authenticate":
            return 200, hdr, b'{"status":"success","count":0,"type":null,"results":[]}'
        if req.path != self.PATH:
            return 404, hdr, _arcadia_error("ObjectNotFound", "no such resource").encode()
        auth = req.headers.get("authorization", "")
        ok = False
        if auth.startswith("Basic "):
            try:
                user, _, key = base64.b64decode(auth[6:]).decode().partition(":")
                ok = bool(user and key)
            except (ValueError, UnicodeError):
                ok = False
        if not ok:
            return 401, hdr, _arcadia_error("Unauthorized",
                                            "Invalid or missing appId/appKey credentials",
                                            "appId").encode()
        q = req.query
        try:
            t0 = parse_iso_offset(q["fromDateTime"])[0] if "fromDateTime" in q else req.now_s
            t1 = parse_iso_offset(q["toDateTime"])[0] if "toDateTime" in q else t0 + 3 * 86400
        except TimeFormatError as e:
            return 400, hdr, _arcadia_error("InvalidArgument", str(e), "fromDateTime").encode()
        if t1 <= t0:
            return 400, hdr, _arcadia_error("InvalidArgument", "toDateTime before fromDateTime",
                                            "toDateTime").encode()
        group = (q.get("groupBy") or "NONE").upper()
        if group not in GROUPS:
            return 400, hdr, _arcadia_error("InvalidArgument", "groupBy %s is not one of %s"
                                            % (q["groupBy"], ", ".join(GROUPS)),
                                            "groupBy").encode()
        rows = self._rows(req.feed.window(t0, t1, req.now_s), group)
        if not rows:
            body = {"status": "success", "count": 0, "type": "Price", "results": [],
                    "pageCount": 25, "pageStart": 0}
            return 200, hdr, json.dumps(body).encode()
        total = sum(e - s for s, e, _ in rows)
        mean = sum((e - s) * p for s, e, p in rows) // total
        var = sum((e - s) * (p - mean) ** 2 for s, e, p in rows) // total
        std = int(var ** 0.5)
        # rateAmount is written as an exact decimal with <= 6 places (whole micro-units), so
        # the device and the simulator's cost calculation see the same integers.
        changes = ",".join(
            '{"name":"%s","fromDateTime":"%s","toDateTime":"%s","rateAmount":%s,'
            '"rateMeanDelta":%s}' % (self._name(p, mean), self._iso(s), self._iso(e),
                                     u_to_text(p), u_to_text(p - mean))
            for s, e, p in rows)
        body = ('{"status":"success","count":1,"type":"Price","results":[{'
                '"description":"Simulated smart tariff (%s)","masterTariffId":%d,'
                '"fromDateTime":"%s","toDateTime":"%s","detailLevel":"QUANTITY_KEY","currency":"%s",'
                '"rateMean":%s,"rateStandardDeviation":%s,"priceChanges":[%s]}],'
                '"pageCount":25,"pageStart":0}'
                % (self.series.market, self.TARIFF_ID, self._iso(rows[0][0]),
                   self._iso(rows[-1][1]), self.series.currency, u_to_text(mean),
                   u_to_text(std), changes))
        return 200, hdr, body.encode()

    @staticmethod
    def _name(p, mean):
        return "Off-Peak consumption charges" if p <= mean else "Peak consumption charges"

    def _bucket(self, t, group):
        """[start, end) of the group holding UTC second t (local days, months, years)."""
        if group in ("HOUR", "QTRHOUR"):
            step = 3600 if group == "HOUR" else 900
            return t - t % step, t - t % step + step
        z = self.zone
        if group == "DAY":
            return z.day_start(t), z.next_day_start(t)
        if group == "ALL":
            return 0, 1 << 62
        y, m, _d = civil_from_days((t + z.offset_at(t)) // 86400)
        if group == "YEAR":
            return z.to_utc(y, 1, 1), z.to_utc(y + 1, 1, 1)
        return z.to_utc(y, m, 1), z.to_utc(y + (m == 12), m % 12 + 1, 1)

    def _rows(self, window, group):
        rows = []
        if group != "NONE":
            acc = None  # [bucket, first_s, last_e, price-seconds, seconds]
            for s, e, p in window:
                while s < e:
                    b0, b1 = self._bucket(s, group)
                    b1 = min(b1, e)
                    if acc is None or acc[0] != b0:
                        if acc:
                            rows.append((acc[1], acc[2], _div_round(acc[3], acc[4])))
                        acc = [b0, s, b1, 0, 0]
                    acc[2] = b1
                    acc[3] += (b1 - s) * p
                    acc[4] += b1 - s
                    s = b1
            if acc:
                rows.append((acc[1], acc[2], _div_round(acc[3], acc[4])))
            return rows
        for s, e, p in window:  # one entry per actual price change
            if rows and rows[-1][2] == p and rows[-1][1] == s:
                rows[-1] = (rows[-1][0], e, p)
            else:
                rows.append((s, e, p))
        return rows


GROUPS = ("NONE", "ALL", "YEAR", "MONTH", "DAY", "HOUR", "QTRHOUR")  # the SDK's groupBy enum


def _div_round(a, b):
    return (a + b // 2) // b if a >= 0 else -((-a + b // 2) // b)


# -- the server -----------------------------------------------------------------------------

def make_api(provider, series, zone, feed, run=None):
    """The API object for `provider`; `run` (optional dict: t0, t1, kw, rateplan, tou_bands)
    describes the run for APIs that need it (the rate plan derives its prices from it)."""
    if provider == "arcadia":
        return ArcadiaApi(series, zone, feed)
    try:
        mod = __import__("host_sim.apis." + provider, None, None, ["make"])
    except ImportError as e:
        raise ValueError("no simulator API for provider %r (%s)" % (provider, e))
    return mod.make(series, zone, feed, run)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "WattWindowSim/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def handle(self):
        self.close_connection = True
        sim = self.server.sim
        line = self.rfile.readline(65537)
        now_s = sim.last_now_s
        if line.startswith(PREAMBLE):
            try:
                now_s = int(line[len(PREAMBLE):].strip())
            except ValueError:
                return
            sim.last_now_s = now_s
            line = self.rfile.readline(65537)
        if not line:
            return
        self.raw_requestline = line
        if not self.parse_request():
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        sim.serve(self, now_s, body)


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class PriceServer:
    """Serves `series` through `provider`'s API on 127.0.0.1:<port> (port 0: any free one)."""

    def __init__(self, series, zone, publish_min, provider="arcadia", faults=(),
                 time_scale=0.001, port=0, run=None):
        self.feed = Feed(series, zone, publish_min)
        self.api = make_api(provider, series, zone, self.feed, run)
        self.hosts = tuple(self.api.HOSTS)
        self.faults = list(faults)
        self.time_scale = time_scale
        self.last_now_s = series.start_s
        self.requests = []  # dicts: t, method, path, status, fault, bytes
        self._lock = threading.Lock()
        self._srv = _TCPServer(("127.0.0.1", port), _Handler)
        self._srv.sim = self
        self.port = self._srv.server_address[1]
        self._thread = None

    def start(self):
        self._thread = threading.Thread(target=self._srv.serve_forever, daemon=True,
                                        kwargs={"poll_interval": 0.05})
        self._thread.start()
        return self

    def stop(self):
        if self._thread is not None:  # shutdown() waits for serve_forever(): only if started
            self._srv.shutdown()
            self._thread = None
        self._srv.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset_log(self):
        with self._lock:
            self.requests = []

    def fault_at(self, t_s):
        for f in self.faults:
            if f.server_side and f.t0 <= t_s < f.t1:
                return f
        return None

    def serve(self, h, now_s, body):
        u = urlsplit(h.path)
        query = dict(parse_qsl(u.query, keep_blank_values=True))
        headers = {k.lower(): v for k, v in h.headers.items()}
        fault = self.fault_at(now_s)
        rec = {"t": now_s, "method": h.command, "path": u.path, "status": 0,
               "fault": fault.kind if fault else "", "bytes": 0}
        with self._lock:
            self.requests.append(rec)
        if fault is not None and fault.kind == "outage":
            return  # the connection closes without a reply
        if fault is not None and fault.kind == "error":
            status = int(fault.arg or 503)
            hdr = {"Content-Type": "application/json"}
            if status in (429, 503):
                hdr["Retry-After"] = "120"
            body_out = self.api.error_body(status) if hasattr(self.api, "error_body") else b""
        else:
            req = Request(h.command, u.path, query, headers, body, now_s, self.feed)
            status, hdr, body_out = self.api.handle(req)
        if fault is not None and fault.kind == "slow":
            time.sleep(float(fault.arg or 30) * self.time_scale)
        rec["status"] = status
        h.send_response(status)
        for k, v in hdr.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body_out)))
        h.send_header("Connection", "close")
        h.end_headers()
        if fault is not None and fault.kind == "truncate":
            body_out = body_out[:len(body_out) // 2]
        rec["bytes"] = len(body_out)
        try:
            h.wfile.write(body_out)
            h.wfile.flush()
        except OSError:
            pass
