"""The plug in Home Assistant: an app service (app.services) that keeps an MQTT session.

    app.services.append(MqttService())   # start(app) is called by App.run()

start(app) creates one asyncio task that connects when mqtt.enabled, mqtt.host and the link
are there, announces itself (availability "online", retained; the last will says "offline"),
sends the discovery document (firmware/mqtt/discovery.py), subscribes to <base>/+/set and
<prefix>/status, and publishes the state (firmware/mqtt/state.py) whenever the app notifies a
change. Home Assistant's birth message ("online" on <prefix>/status) brings the discovery
again after a random per-device delay (so a fleet does not answer in the same second).
Commands are applied by firmware/mqtt/commands.py; a refused one is logged and the state is
published again. The session is persistent (clean session off): QoS 1 commands sent while the
plug was away are delivered on reconnect and applied only within their override window.

Never at the expense of switching: every socket operation is asyncio (the control loop's
task runs whenever this one waits) and bounded by mqtt.timeout_s; a refused login, a dead
broker, one that never answers CONNECT, a TLS failure or a Wi-Fi outage back off with
jitter (fetcher.Backoff) and are logged once per outage. notify() only sets flags.
"""

import asyncio
import json

from ..app.fetcher import Backoff
from ..app.jitter import Rng, fnv1a, seed_from
from ..compat import exc_text, ticks_diff, ticks_ms
from . import commands, discovery, state
from . import settings as ms
from .client import Client, timed

NET_POLL_S = 5  # link down: look again this often
BACKOFF_BASE_S = 2
BACKOFF_CAP_S = 300
BIRTH_DELAY_MS = 5000  # discovery after Home Assistant's birth: a random delay below this
MAX_PAYLOAD = 512  # larger commands are read, discarded and refused
_SIG = ("mqtt.enabled", "mqtt.host", "mqtt.port", "mqtt.user", "mqtt.password", "mqtt.tls",
        "mqtt.topic", "mqtt.discovery_prefix", "mqtt.keepalive_s", "tls.ca_file", "tls.verify")


def tls_context(cfg):
    """An SSLContext with the price fetch's CA handling (tls.ca_file, tls.verify)."""
    import ssl

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if cfg.get("tls.verify", True):
        ctx.verify_mode = ssl.CERT_REQUIRED
        if cfg.get("tls.ca_file"):
            with open(cfg["tls.ca_file"], "rb") as f:
                ctx.load_verify_locations(cadata=f.read())
    else:
        if hasattr(ctx, "check_hostname"):  # CPython; must go before CERT_NONE
            ctx.check_hostname = False  # pyright: ignore[reportAttributeAccessIssue]
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


class MqttService:
    def __init__(self):
        self.app = None
        self.connected = False
        self.connects = self.failures = self.discoveries = self.states = 0
        self.applied = self.refused = 0
        self._task = None
        self._kick = None
        self._client = None
        self._rng = None
        self._state_due = self._discovery_due = self._reconnect = self._failing = False
        self._replaying = False
        self._offline_ms = None  # when the last session ended (None: none since boot)
        self._sig = None
        self._base = self._status = ""

    # -- the services seam -----------------------------------------------------------------
    def start(self, app):
        self.app = app
        self._kick = asyncio.Event()
        seed = seed_from(app.cfg.get("fetch.seed"), getattr(app.hal, "device_id", None))
        self._rng = Rng(seed ^ fnv1a("mqtt"))
        self._task = asyncio.create_task(self._supervise())

    def notify(self, event):
        if self._kick is None:
            return
        if event == "config" and self._signature() != self._sig:
            self._reconnect = True
        self._state_due = True
        self._kick.set()

    def stop(self):
        if self._task is not None:
            self._task.cancel()
            self._task = None
        c, self._client = self._client, None
        w = c.writer if c is not None else None
        if w is not None:  # the loop that would run close() may be gone (Ctrl-C, a resume)
            try:
                w.close()
            except Exception:  # noqa: BLE001 - closing a link that may be dead
                pass

    def _signature(self):
        cfg = self.app.cfg
        return tuple(cfg.get(k) for k in _SIG)

    # -- supervision -------------------------------------------------------------------------
    async def _supervise(self):
        app = self.app
        backoff = Backoff(BACKOFF_BASE_S, BACKOFF_CAP_S, self._rng)
        while True:
            cfg = app.cfg
            self._reconnect = False
            self._sig = self._signature()
            if not cfg.get("mqtt.enabled") or not cfg.get("mqtt.host"):
                await self._idle(None)
                continue
            if not app.hal.net.up():
                await self._idle(NET_POLL_S)
                continue
            try:
                await self._session(cfg)
                backoff.ok()
            except Exception as e:  # noqa: BLE001 - any failure of the link is a state
                self.failures += 1
                wait = backoff.fail(0)
                if not self._failing:
                    self._failing = True
                    app.log.warn("mqtt", "%s:%d: %s; retrying with back-off (logged once)"
                                 % (cfg["mqtt.host"], ms.port(cfg), exc_text(e)))
                await self._idle(wait)

    async def _idle(self, secs):
        """Wait `secs` (None: until a settings change), returning early on a settings change."""
        t0 = ticks_ms()
        while not self._reconnect:
            left = None if secs is None else secs - ticks_diff(ticks_ms(), t0) / 1000
            if left is not None and left <= 0:
                return
            self._kick.clear()
            if left is None:
                await self._kick.wait()
                continue
            try:
                await timed(self._kick.wait(), left, "event")
            except OSError:
                return

    async def _session(self, cfg):
        app, hal = self.app, self.app.hal
        host, port, t = cfg["mqtt.host"], ms.port(cfg), cfg["mqtt.timeout_s"]
        key = ms.device_key(getattr(hal, "device_id", None))
        base = self._base = ms.base_topic(cfg, key)
        self._status = (cfg.get("mqtt.discovery_prefix") or "homeassistant") + "/status"
        ctx = tls_context(cfg) if cfg.get("mqtt.tls") else None
        opener = getattr(hal.net, "open_stream", None)
        if opener is None:
            from ..hal.contract import open_stream as opener
        reader, writer = await timed(opener(host, port, ctx, host if ctx else None), t,
                                     "connection")
        c = Client("wattwindow-" + key, cfg["mqtt.keepalive_s"], MAX_PAYLOAD, self._on_message,
                   lambda e: self._kick.set())
        avail = base + "/availability"
        try:
            self._replaying = True  # until the SUBACK: messages kept in the session
            await c.start(reader, writer, cfg["mqtt.user"] or None,
                          cfg["mqtt.password"] or None, (avail, "offline", True), False, t)
            self._client = c
            reader_task = asyncio.create_task(c.run_reader())
            try:
                await c.subscribe([(base + "/+/set", 1), (self._status, 1)], t)
                self._replaying = False
                await c.publish(avail, "online", True, 1, t)
                self.connected = True
                self.connects += 1
                app.log.info("mqtt", "connected to %s:%d as %s%s" % (
                    host, port, c.client_id, " again" if self._failing else ""))
                self._failing = False
                self._discovery_due = self._state_due = True
                await self._serve(c, cfg, key, base, t)
                await c.publish(avail, "offline", True, 1, t)  # settings changed: reconnect
                await c.close(True)
            finally:
                reader_task.cancel()
        finally:
            self.connected = False
            self._replaying = False
            self._client = None
            self._offline_ms = ticks_ms()
            await c.close()

    async def _serve(self, c, cfg, key, base, t):
        """Publish discovery and state as they fall due; ping every half keep-alive."""
        app = self.app
        ping_ms = cfg["mqtt.keepalive_s"] * 500
        last_ping = ticks_ms()
        disc = None
        while not self._reconnect:
            if c.error is not None:
                raise c.error
            sv = getattr(app, "savings", None) is not None
            if self._discovery_due or disc != (state.currency(app), sv):
                self._discovery_due = False
                cur = state.currency(app)
                disc = (cur, sv)
                await c.publish(discovery.topic(cfg, key), None, True, 1, t,
                                lambda c=cur, s=sv: discovery.pieces(key, base, c, s))
                self.discoveries += 1
                self._state_due = True
                continue
            if self._state_due:
                self._state_due = False
                await c.publish(base + "/state", json.dumps(state.snapshot(app)), True, 0, t)
                self.states += 1
                continue
            left = ping_ms - ticks_diff(ticks_ms(), last_ping)
            if left <= 0:  # a PINGRESP is the broker's sign of life (QoS 0 gets no answer)
                await c.ping()
                last_ping = ticks_ms()
                continue
            self._kick.clear()
            try:
                await timed(self._kick.wait(), left / 1000, "event")
            except OSError:
                pass

    # -- incoming ----------------------------------------------------------------------------
    def _on_message(self, topic, payload, qos, size):
        app = self.app
        if topic == self._status:
            if payload == b"online":  # Home Assistant (re)started: discovery again, soon
                asyncio.create_task(self._discover_later(self._rng.below(BIRTH_DELAY_MS)))
            return
        offline_s = None
        if self._replaying:
            offline_s = 1 << 30 if self._offline_ms is None else \
                ticks_diff(ticks_ms(), self._offline_ms) // 1000
        why = commands.apply(app, self._base, topic, payload, qos, offline_s)
        if why is None:
            self.applied += 1
            app.log.info("mqtt", "%s: %s" % (topic, payload.decode().strip()))
        else:
            self.refused += 1
            app.log.warn("mqtt", "refused %s (%d bytes): %s" % (topic[:80], size, why[:120]))
        self._state_due = True  # a refused command: Home Assistant shows the real state again
        self._kick.set()

    async def _discover_later(self, delay_ms):
        await asyncio.sleep(delay_ms / 1000)
        self._discovery_due = True
        self._kick.set()
