"""The control loop: prices in, relay decisions out, on the device and in the simulator.

    app = App(hal)            # or App(hal, cfg, provider=module) in tests and the simulator
    app.boot()                # config + flash cache -> relay set BEFORE any network call
    t = app.step()            # one pass; returns the UTC second of the next wake
    await app.run()           # forever: step(), then hal.sleep_until(t)

One step, in this order:
1. feed the watchdog; take a button press (toggles a timed override);
2. re-plan if the data, the config, the local day, the override or the clock's trust changed;
3. write the relay if (and only if) the planned load state changed - exactly at the interval
   boundary, because the previous step asked to be woken at that second;
4. network work (Wi-Fi with back-off, NTP, fetch on its cadence) - only when no relay change
   is due within `fetch.budget_s`: the HTTP client blocks (with time-outs), so a fetch is
   deferred until after a close switch. **Fetching never delays a switch.** A failed fetch
   backs off and keeps the last good schedule; switching goes on from the cache.
5. return min(next plan change, next fetch, next local midnight, override end, back-off
   retries, now + MAX_SLEEP_S). No polling: a day of hourly prices is a few dozen steps.

The planner decides the LOAD state; `relay.inverted` (load on = relay contact open, e.g. an
SG-ready "block" input) is applied here, when writing to `hal.relay`; active-low wiring is the
HAL's job. The clock is trusted only when the HAL says it is valid, it reads later than
2015 and not earlier than the cached prices' fetch time; otherwise the planner gets
clock_valid=False and the relay goes to `safe_state`.

Files on flash (hal.root) besides config.json and the cache: status.json (snapshot for
`plug.status()` after an interruption, written when it changes), log.txt (INFO lines, rotated
at LOG_FILE_MAX bytes), override.json (a timed override survives a restart).
"""

import gc
import json
import os

from . import VERSION, config, planner, tz
from .compat import exc_text, mem_free, ticks_diff, ticks_ms
from .config import Field
from .fetcher import CONFIG as _FETCH_CONFIG
from .fetcher import Backoff, Cadence
from .jitter import Rng, seed_from
from .log import Log
from .providers import SOURCES
from .schedule import Schedule
from .store import Store

CONFIG = (
    Field("source", "dropdown", "arcadia", choices=SOURCES, help="price source"),
    Field("tz", "text", "PST8PDT,M3.2.0,M11.1.0", hi=64,
          help="POSIX TZ rule for local days, e.g. CET-1CEST,M3.5.0,M10.5.0/3"),
    Field("safe_state", "radiobox", "off", choices=("off", "on"),
          help="load state while the clock is not valid, and after a crash"),
    Field("relay.inverted", "flag", False,
          help="the load is on while the relay is released (e.g. a 'block' input)"),
    Field("override.minutes", "number", 60, lo=1, hi=1440, unit="min", integer=True,
          help="length of an override started with the button"),
    Field("wifi.ssid", "text", "", hi=32, help="Wi-Fi network"),
    Field("wifi.password", "secret", "", hi=64, help="Wi-Fi password"),
    Field("wifi.timeout_s", "number", 20, lo=5, hi=120, unit="s", integer=True,
          help="time-out of one Wi-Fi connection attempt"),
    Field("tls.ca_file", "text", "", hi=64, help="CA certificate (DER) on flash for HTTPS"),
    Field("tls.verify", "flag", True, help="verify the server certificate"),
    Field("ntp.resync_h", "number", 12, lo=1, hi=168, unit="h", integer=True,
          help="re-synchronise the clock this often"),
) + _FETCH_CONFIG

MAX_SLEEP_S = 3600  # longest wait between steps (the HAL also bounds and re-checks its waits)
EARLIEST_S = 1420070400  # 2015-01-01: an RTC that was never set reads 2000 (ESP32) or 1970
CLOCK_SKEW_S = 3600  # a clock this far before the cache's fetch time is not trusted
HEALTHY_MS = 600000  # after 10 min of uptime the crash counter is cleared (on_healthy)
KEEP_HISTORY_S = 86400  # prices older than a day before local midnight are dropped
STATUS_FILE = "status.json"
LOG_FILE = "log.txt"
LOG_FILE_MAX = 8192
OVERRIDE_FILE = "override.json"


def settings_fields(hal=None):
    """{name: Field} of every setting, tolerating modules that are absent from a build."""
    mods = [__import__("firmware.app", None, None, ["CONFIG"]), planner]
    for name in SOURCES:
        try:
            mods.append(__import__("firmware.providers." + name, None, None, ["CONFIG"]))
        except ImportError:
            pass
    hal_mod = getattr(hal, "CONFIG_MODULE", None)
    if hal_mod is not None:
        mods.append(hal_mod)
    else:
        try:
            from . import hal_esp32

            mods.append(hal_esp32)
        except ImportError:  # no `machine` here: not on a board
            pass
    return config.schema(mods)


def relay_level(cfg, load_on):
    """What to write to hal.relay for a load state (applies relay.inverted)."""
    return bool(load_on) != bool(cfg.get("relay.inverted", False))


def _path(root, name):
    return config.join(root, name)


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


class App:
    def __init__(self, hal, cfg=None, provider=None):
        self.hal = hal
        self._log_file = _path(hal.root, LOG_FILE)
        self.log = Log(hal.clock.now_s, self._sink)
        self.timeline_hook = None  # callable(t_s, on, reason) at every relay decision
        self.on_healthy = None  # callable() once, after HEALTHY_MS of uptime
        self.persist = True  # status.json / log.txt / override.json on flash
        self._cfg_in = cfg
        self._provider_in = provider
        self.cfg = None
        self.config_warnings = []
        self.provider = None
        self.provider_state = {}
        self.schedule = None
        self.extras = {}
        self.plan = None
        self.state = None
        self.booted = False
        self.load_on = None  # load state last written (None: not yet)
        self.relay_since_s = None
        self.reason = ""
        self.until_s = None
        self.clock_trusted = False
        self.last_fetch = None  # {"t_s", "ok", "msg"}
        self.next_fetch_s = 0
        self.fetches = self.fetch_failures = self.switches = 0
        self._dirty = True
        self._day_end_s = None
        self._next_sync_s = 0
        self._decision = None
        self._led = None
        self._status_text = None
        self._started_ms = ticks_ms()
        self._deferred = False

    # -- logging to the HAL sink and a small file on flash ------------------------------
    def _sink(self, line):
        self.hal.log_sink(line)
        if not self.persist:
            return
        try:
            try:
                if os.stat(self._log_file)[6] > LOG_FILE_MAX:
                    os.rename(self._log_file, self._log_file + ".1")
            except OSError:
                pass
            with open(self._log_file, "a") as f:
                f.write(line + "\n")
        except OSError:
            pass  # a full flash must not stop the relay

    # -- configuration ---------------------------------------------------------------------
    def _configure(self, cfg):
        fields = settings_fields(self.hal)
        warnings = []
        if cfg is None:
            cfg, warnings = config.load(self.hal.root, fields)
        else:
            full = config.defaults(fields)
            full.update(cfg)
            cfg = full
        self.cfg = cfg
        self.config_warnings = warnings
        for w in warnings:
            self.log.warn("config", w)
        try:
            self.zone = tz.Zone(cfg["tz"])
        except ValueError as e:
            self.log.warn("config", "tz: %s; using UTC" % exc_text(e))
            self.zone = tz.Zone("UTC0")
        self.policy = planner.Policy.from_config(cfg)
        self.provider = self._provider_in
        if self.provider is None:
            try:
                from . import providers

                self.provider = providers.get(cfg["source"])
            except (ImportError, ValueError) as e:
                self.log.error("config", "source %s: %s" % (cfg["source"], exc_text(e)))
        rng = Rng(seed_from(cfg["fetch.seed"], getattr(self.hal, "device_id", None)))
        self.cadence = Cadence(cfg, getattr(self.provider, "PUBLISH_LOCAL_MIN", None), rng)
        self.wifi_backoff = Backoff(10, 600, rng)
        self.ntp_backoff = Backoff(30, 1800, rng)
        self._dirty = True

    def apply_config(self, cfg):
        """New settings from the REPL: re-plan now, re-time the next fetch."""
        self._provider_in = None if self._provider_in is None else self._provider_in
        self._configure(cfg)
        now = self.hal.clock.now_s()
        self._retime_fetch(now)
        self._settle(now)

    # -- boot ------------------------------------------------------------------------------
    def boot(self):
        """Config, cache, relay - before any network call."""
        hal = self.hal
        self._configure(self._cfg_in)
        self.store = Store(hal.root, log=self.log)
        self.schedule, extras = self.store.load()
        self.extras = extras or {}
        if self.store.last_error:
            self.log.warn("cache", "not used: %s" % self.store.last_error)
        self.state = planner.State()
        now = hal.clock.now_s()
        self._load_override(now)
        self.booted = True
        self._settle(now)
        self._retime_fetch(now)
        s = self.schedule
        self.log.info("boot", "v%s source %s, cache %s" % (
            VERSION, self.cfg["source"],
            "%d intervals to %s" % (len(s), s.end_s) if s is not None and len(s) else "empty"))

    def _retime_fetch(self, now):
        s = self.schedule
        last = s.fetched_s if s is not None and s.fetched_s else None
        end = s.last_price_end() if s is not None else None
        self.next_fetch_s = self.cadence.next_due(self.zone, now, last, end)

    # -- the loop --------------------------------------------------------------------------
    def step(self):
        """One pass of the control loop; returns the UTC second to wake up at."""
        if not self.booted:
            self.boot()
        hal = self.hal
        hal.wdt.feed()
        now = hal.clock.now_s()
        if self.on_healthy is not None and \
                ticks_diff(ticks_ms(), self._started_ms) >= HEALTHY_MS:
            cb, self.on_healthy = self.on_healthy, None
            cb()
        if hal.button.pressed():
            self._button(now)
        self._settle(now)
        self._network(now)
        now2 = hal.clock.now_s()  # a fetch takes time; NTP may move the clock
        if now2 != now:
            self._settle(now2)
        return self._next_wake(now2)

    async def run(self, until_s=None):
        """step() and sleep, forever (or until the clock reaches until_s: the simulator)."""
        if not self.booted:
            self.boot()
        while True:
            wake = self.step()
            if until_s is not None:
                if wake >= until_s:
                    await self.hal.sleep_until(until_s)
                    return
            await self.hal.sleep_until(wake)

    # -- deciding ----------------------------------------------------------------------------
    def _settle(self, now):
        """Bring trust, override, day, plan, relay, LED and snapshot up to date for `now`."""
        self._update_trust(now)
        st = self.state
        if st.override_until_s is not None and now >= st.override_until_s:
            self.log.info("override", "ended")
            self._clear_override()
        if self._day_end_s is None or now >= self._day_end_s:
            self._dirty = True
        if self.plan is None or self._dirty:
            self._replan(now)
        on, reason, until = self.plan.at(now)
        if until is None or until <= now:
            self._replan(now)  # beyond the planned horizon
            on, reason, until = self.plan.at(now)
        self.until_s = until
        self._apply(now, on, reason)
        self._show_led(now)
        self._snapshot()

    def _update_trust(self, now):
        ok = self.hal.clock.valid() and now >= EARLIEST_S
        s = self.schedule
        if ok and s is not None and s.fetched_s and now < s.fetched_s - CLOCK_SKEW_S:
            ok = False
        if ok != self.clock_trusted:
            self.log.info("clock", "valid" if ok else "not valid: relay follows safe_state")
            self._dirty = True
        self.clock_trusted = ok
        self.state.clock_valid = ok

    def _replan(self, now):
        day_start = self.zone.day_start(now)
        if self._day_end_s is not None and now >= self._day_end_s:
            self.state.switches_today = 0
        self._day_end_s = self.zone.next_day_start(now)
        sched = self.schedule if self.schedule is not None else Schedule()
        if len(sched) and sched.base_s < day_start - KEEP_HISTORY_S:
            sched.drop_before(day_start - KEEP_HISTORY_S)
        self.plan = planner.plan(sched, self.policy, now, self.state, self.zone)
        self._dirty = False

    def _apply(self, now, on, reason):
        on = bool(on)
        if on != self.load_on:
            self.hal.relay.set(relay_level(self.cfg, on))
            st = self.state
            if self.load_on is not None:
                self.switches += 1
                st.switches_today += 1
            self.load_on = on
            self.relay_since_s = now
            st.relay_on = on
            if on:
                st.on_since_s = now
            else:
                st.off_since_s = now
            self.log.info("relay", "%s: %s" % ("on" if on else "off", reason))
        if (on, reason) != self._decision:
            self._decision = (on, reason)
            self.reason = reason
            if self.timeline_hook is not None:
                self.timeline_hook(now, on, reason)

    def _show_led(self, now):
        st = self.state
        if st.override_until_s is not None:
            mode = "override"
        elif not self.clock_trusted:
            mode = "safe"
        elif self.schedule is None or self.schedule.price_at(now) is None:
            mode = "fallback"
        elif self.cadence.failures >= 3:
            mode = "error"
        else:
            mode = "on" if self.load_on else "off"
        if mode != self._led:
            self._led = mode
            self.hal.led.set(mode)

    # -- override --------------------------------------------------------------------------
    def override(self, on, minutes=None):
        """Hold the load ON/OFF for `minutes` (default override.minutes); 0 or on=None ends it."""
        if not self.booted:
            self.boot()
        now = self.hal.clock.now_s()
        if minutes is None:
            minutes = self.cfg["override.minutes"]
        if on is None or minutes <= 0:
            if self.state.override_until_s is not None:
                self.log.info("override", "cancelled")
            self._clear_override()
        else:
            self._set_override(bool(on), now + int(minutes) * 60)
            self.log.info("override", "%s for %d min" % ("on" if on else "off", minutes))
        self._settle(now)
        return self.state.override_until_s

    def _button(self, now):
        if self.state.override_until_s is not None:
            self.log.info("override", "cancelled by the button")
            self._clear_override()
        else:
            on = not self.load_on
            minutes = self.cfg["override.minutes"]
            self._set_override(on, now + minutes * 60)
            self.log.info("override", "button: %s for %d min" % ("on" if on else "off", minutes))

    def _set_override(self, on, until_s):
        self.state.override_on = on
        self.state.override_until_s = until_s
        self._dirty = True
        if self.persist:
            try:
                path = _path(self.hal.root, OVERRIDE_FILE)
                with open(path + ".tmp", "w") as f:
                    json.dump({"on": on, "until_s": until_s}, f)
                os.rename(path + ".tmp", path)
            except OSError:
                pass

    def _clear_override(self):
        self.state.override_on = None
        self.state.override_until_s = None
        self._dirty = True
        if self.persist:
            _remove(_path(self.hal.root, OVERRIDE_FILE))

    def _load_override(self, now):
        try:
            with open(_path(self.hal.root, OVERRIDE_FILE)) as f:
                ov = json.load(f)
            until = int(ov["until_s"])
            on = bool(ov["on"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        if until > now:
            self.state.override_on = on
            self.state.override_until_s = until
            self.log.info("override", "restored: %s" % ("on" if on else "off"))
        else:
            _remove(_path(self.hal.root, OVERRIDE_FILE))

    # -- network ---------------------------------------------------------------------------
    def _switch_soon(self, now):
        u = self.until_s
        return u is not None and u - now < self.cfg["fetch.budget_s"]

    def _network(self, now):
        hal, cfg = self.hal, self.cfg
        needs_net = self.provider is None or getattr(self.provider, "NEEDS_NETWORK", True)
        if self._switch_soon(now):
            self._deferred = True
            return
        self._deferred = False
        if not hal.net.up():
            if not cfg["wifi.ssid"] or not self.wifi_backoff.ready(now):
                if needs_net:
                    return
            else:
                self.log.info("wifi", "connecting to %s" % cfg["wifi.ssid"])
                if hal.net.connect(cfg["wifi.ssid"], cfg["wifi.password"], cfg["wifi.timeout_s"]):
                    self.wifi_backoff.ok()
                    self.log.info("wifi", "connected")
                else:
                    t = self.wifi_backoff.fail(hal.clock.now_s())
                    self.log.warn("wifi", "connection failed; retry at %d" % t)
                    if needs_net:
                        return
                now = hal.clock.now_s()
        if hal.net.up() and (not hal.clock.valid() or now >= self._next_sync_s) and \
                self.ntp_backoff.ready(now) and not self._switch_soon(now):
            if hal.clock.sync():
                self.ntp_backoff.ok()
                now = hal.clock.now_s()
                self._next_sync_s = now + cfg["ntp.resync_h"] * 3600
                self.log.info("clock", "synchronised")
                self._settle(now)
            else:
                t = self.ntp_backoff.fail(now)
                self.log.warn("clock", "NTP failed; retry at %d" % t)
        if self.provider is not None and now >= self.next_fetch_s and self.clock_trusted and \
                (hal.net.up() or not needs_net) and not self._switch_soon(now):
            self.fetch_now()

    def fetch_now(self):
        """Fetch, merge, cache and re-plan now. True on success. Errors are logged and backed
        off; the last good schedule stays in use."""
        if not self.booted:
            self.boot()
        hal, cfg = self.hal, self.cfg
        now = hal.clock.now_s()
        if self.provider is None:
            self.log.warn("fetch", "no price source")
            return False
        if not self.clock_trusted:
            self.log.warn("fetch", "skipped: clock not valid")
            return False
        from . import http  # not needed until the first fetch

        client = http.Client(hal.net.open, ca_file=cfg["tls.ca_file"] or None,
                             verify=cfg["tls.verify"], timeout_s=cfg["fetch.timeout_s"],
                             log=self.log)
        self.fetches += 1
        try:
            new = self.provider.fetch(client, cfg, now, self.provider_state)
            if new is None or not len(new):
                raise ValueError("no prices in the answer")
        except Exception as e:  # the supervisor: any fetch failure is a state, not an exit
            gc.collect()
            self.fetch_failures += 1
            t = hal.clock.now_s()
            self.next_fetch_s = self.cadence.failed(t, getattr(e, "retry_after_s", None))
            msg = exc_text(e)
            self.last_fetch = {"t_s": t, "ok": False, "msg": msg}
            self.log.warn("fetch", "failed: %s; retry in %d s" % (msg, self.next_fetch_s - t))
            self._snapshot()
            return False
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()
        self.cadence.succeeded()
        t = hal.clock.now_s()
        merged = self.schedule.merge(new) if self.schedule is not None else new
        merged.fetched_s = t
        keep = self.zone.day_start(t) - KEEP_HISTORY_S
        if len(merged) and merged.base_s < keep:
            merged.drop_before(keep)
        changed = self.schedule is None or not merged.same_as(self.schedule)
        self.schedule = merged
        gc.collect()
        try:
            wrote = self.store.save(merged, self.extras)
        except (OSError, ValueError) as e:
            wrote = False
            self.log.error("cache", "not saved: %s" % exc_text(e))
        if changed:
            self._dirty = True
        self._retime_fetch(t)
        msg = "%d intervals to %d%s" % (len(merged), merged.end_s,
                                        "" if changed else ", unchanged")
        self.last_fetch = {"t_s": t, "ok": True, "msg": msg}
        self.log.info("fetch", "ok: %s%s; next at %d" % (msg, ", saved" if wrote else "",
                                                         self.next_fetch_s))
        self._settle(t)
        return True

    def _next_wake(self, now):
        wake = now + MAX_SLEEP_S
        for t in (self.until_s, self._day_end_s, self.state.override_until_s):
            if t is not None and t < wake:
                wake = t
        if self._deferred:  # network work waits for the switch at until_s
            return wake if wake > now else now + 1
        hal = self.hal
        needs_net = self.provider is not None and getattr(self.provider, "NEEDS_NETWORK", True)
        net_ok = hal.net.up() or not needs_net
        if self.provider is not None and self.clock_trusted and net_ok and \
                self.next_fetch_s < wake:
            wake = self.next_fetch_s
        if not hal.net.up() and self.cfg["wifi.ssid"] and self.wifi_backoff.next_s < wake:
            wake = self.wifi_backoff.next_s
        if hal.net.up() and not hal.clock.valid() and self.ntp_backoff.next_s < wake:
            wake = self.ntp_backoff.next_s
        return wake if wake > now else now + 1

    # -- reports ---------------------------------------------------------------------------
    def status(self):
        """A snapshot of the state (plain types; plug.status() and status.json use it)."""
        now = self.hal.clock.now_s()
        s = self.schedule
        st = self.state
        out = {
            "version": VERSION, "now_s": now, "relay_on": self.load_on,
            "relay_since_s": self.relay_since_s, "reason": self.reason, "until_s": self.until_s,
            "mode": self._led, "clock_valid": self.clock_trusted, "source": self.cfg["source"],
            "price_u": s.price_at(now) if s is not None else None,
            "cache": None, "last_fetch": self.last_fetch, "next_fetch_s": self.next_fetch_s,
            "fetches": self.fetches, "fetch_failures": self.fetch_failures,
            "switches": self.switches, "wifi": bool(self.hal.net.up()), "mem_free": mem_free(),
            "override": None, "config_warnings": self.config_warnings,
        }
        if s is not None and len(s):
            out["cache"] = {"start_s": s.base_s, "end_s": s.end_s, "intervals": len(s),
                            "fetched_s": s.fetched_s, "currency": s.currency, "unit": s.unit}
        if st is not None and st.override_until_s is not None:
            out["override"] = {"on": st.override_on, "until_s": st.override_until_s}
        return out

    def _snapshot(self):
        if not self.persist:
            return
        snap = self.status()
        for k in ("now_s", "mem_free", "price_u", "wifi"):  # change every step: not a change
            snap.pop(k, None)
        text = json.dumps(snap)
        if text == self._status_text:
            return
        self._status_text = text
        path = _path(self.hal.root, STATUS_FILE)
        try:
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.rename(path + ".tmp", path)
        except OSError:
            pass

    def plan_rows(self, hours=24):
        """[(start_s, end_s, on, price_u or None, reason)] from now over `hours`, split where
        the price changes."""
        if not self.booted:
            self.boot()
        now = self.hal.clock.now_s()
        end = now + int(hours) * 3600
        sched = self.schedule
        rows = []
        for s, e, on, reason in self.plan.segments:
            if e <= now or s >= end:
                continue
            s, e = max(s, now), min(e, end)
            t = s
            if sched is not None:
                for ps, pe, _p, _i in sched.window(s, e):
                    if ps > t:
                        rows.append((t, ps, on, None, reason))
                    rows.append((ps, pe, on, sched.price_at(ps), reason))
                    t = pe
            if t < e:
                rows.append((t, e, on, None, reason))
        return rows
