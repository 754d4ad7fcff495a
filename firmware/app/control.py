"""The control loop: prices in, relay decisions out, on the device and in the simulator.

    app = App(hal)            # or App(hal, cfg, provider=module) in tests and the simulator
    app.boot()                # config + flash cache -> relay set BEFORE any network call
    t = app.step()            # one pass; returns the UTC second of the next wake
    await app.run()           # forever: step(), then hal.sleep_until(t); starts app.services

One step: feed the watchdog, take a button press; re-plan if data, config, day, override or
clock trust changed; write the relay exactly at the interval boundary; then network work
(app/netloop.py) only when no switch is due within fetch.budget_s: fetching never delays a
switch. The clock is trusted only when the HAL says so, it reads after CLOCK_SET_AFTER_S and
not before the cache's fetch time; otherwise the relay follows safe_state. A failed fetch or
a plan that does not fit the heap is a state, not a crash. Services (web page, MQTT) run
beside the loop through app.services and app.notify(). Design notes: docs/app.md.
"""

import gc
import json

from .. import VERSION, config, onoff, providers
from ..clock import tz
from ..clock.iso import CLOCK_SET_AFTER_S, format_iso
from ..compat import collect_often, exc_text, mem_free, ticks_diff, ticks_ms
from ..plan import planner
from ..plan.windows import parse_hm
from ..prices.savings import Savings
from ..prices.schedule import Schedule
from ..prices.store import Store
from . import flashstate
from .jitter import Rng, seed_from
from .log import Log
from .netloop import NetLoop
from .settings import CONFIG, settings_fields  # noqa: F401 - CONFIG: app's settings for config.schema

# The clock is trusted from this time on (planner State.build_s). Not the firmware's build
# date: the simulator replays 2019 prices. An RTC that was never set reads 2000 (ESP32) or
# 1970; the ESP32 HAL applies its real build date to an RTC kept over a reset.
HEALTHY_MS = 600000  # after 10 min of uptime the crash counter is cleared (on_healthy)
KEEP_HISTORY_S = 86400  # prices older than a day before local midnight are dropped
MAX_SLEEP_S = 3600  # longest wait between steps (the HAL also bounds and re-checks its waits)
# While the load runs and its on-time counts against a need, the step wakes at least at every
# quarter hour (UTC multiples: usually a price boundary anyway) so that the count on flash
# (run.json) is at most this old when the power goes: a cut loses at most this much on-time.
RUN_CHECKPOINT_S = 900
OOM_RETRY_S = 300  # a plan that did not fit the heap is tried again this much later
OOM_STEP_S = 60  # a step that ran out of heap is repeated this much later
GC_DIVISOR = 8  # collect after every 1/8 of the heap free at boot (compat.collect_often)


def _baseline_min(cfg):
    try:
        return parse_hm(cfg.get("savings.baseline") or "18:00", "savings.baseline")
    except ValueError:
        return 18 * 60


def relay_level(cfg, load_on):
    """What to write to hal.relay for a load state (applies relay.inverted)."""
    return bool(load_on) != bool(cfg.get("relay.inverted", False))


def publish_min(provider, cfg):
    """The daily publication time (local minute): fetch.publish when the installer set it (the
    market's time), else the provider's from its settings when it has publish_local_min(cfg)
    (GridX: per utility), else its PUBLISH_LOCAL_MIN."""
    if cfg.get("fetch.publish"):
        return parse_hm(cfg["fetch.publish"], "fetch.publish")
    fn = getattr(provider, "publish_local_min", None)
    if fn is not None:
        return fn(cfg)
    return getattr(provider, "PUBLISH_LOCAL_MIN", None)


class AppState(planner.State):
    """planner.State plus the transitions only the app makes (relay written, override)."""

    def relay_written(self, on, now_s, counted):
        if counted:
            self.switches_today += 1
        self.relay_on = on
        if on:
            self.on_since_s = now_s
        else:
            self.off_since_s = now_s

    def set_override(self, on, until_s):
        self.override_on = on
        self.override_until_s = until_s

    def new_day(self):
        self.switches_today = 0


class App:
    def __init__(self, hal, cfg=None, provider=None):
        self.hal = hal
        self.log = Log(hal.clock.now_s, self._sink)
        self.timeline_hook = None  # callable(t_s, on, reason) at every relay decision
        # Services beside the control loop (web page, MQTT): start(app) creates their asyncio
        # tasks when run() starts; notify(event) is told "relay", "decision", "plan", "fetch",
        # "override" or "config" and must only take note (never block, never raise: a
        # service must not cost a switch). See App.notify.
        self.services = []
        self._services_started = False
        self.on_healthy = None  # callable() once, after HEALTHY_MS of uptime
        self.persist = True  # status.json / log.txt / override.json on flash
        self._cfg_in = cfg
        self._provider_in = provider
        self.cfg = None
        self.config_warnings = []
        self.provider = None
        self.provider_state = {}  # the provider's own dict, saved as the cache's extras
        self.schedule = None
        self.plan = None
        self.state = None
        self.booted = False
        self.load_on = None  # load state last written (None: not yet)
        self.relay_since_s = None
        self.reason = ""
        self.until_s = None
        self.clock_trusted = False
        self.switches = 0
        self._dirty = True
        self._oom = False  # the last plan did not fit the heap (logged once)
        self._step_oom = False  # the last step ran out of heap (logged once)
        self._day_end_s = None
        self._decision = None
        self._led = None
        self._status_text = None
        self._started_ms = ticks_ms()
        self._last_now = 0
        self._saved_run = None
        self.net = NetLoop(self)  # Wi-Fi, NTP and fetches: its own state, read below
        self.savings = None  # energy, cost and savings per local day (prices/savings.py)
        self._meter_at = None  # (t_s, kWh) of the last meter reading for the savings
        self._meter_w = 0

    # -- logging to the HAL sink and a small file on flash ------------------------------
    def _sink(self, line):
        self.hal.log_sink(line)
        if self.persist:
            flashstate.append_log(self.hal.root, line)

    # -- configuration ---------------------------------------------------------------------
    def _load_config(self):
        """config.json, validating only the sources in use: importing every provider just for
        its schema would cost the ESP32 tens of KB of heap. Other providers' settings are
        kept as they are (so a save from the REPL does not lose them)."""
        raw = {}
        try:
            with open(config.join(self.hal.root, config.CONFIG_FILE)) as f:
                raw = json.load(f)
        except (OSError, ValueError, MemoryError):
            pass  # config.load reports a corrupt file
        raw = raw if isinstance(raw, dict) else {}
        used = providers.in_use(raw)
        cfg, warnings = config.load(self.hal.root, settings_fields(self.hal, used))
        for k, v in raw.items():
            head = k.split(".")[0]
            if head in providers.SOURCES and head not in used and k not in cfg:
                cfg[k] = v
                warnings = [w for w in warnings if not w.startswith(k + ":")]
        return cfg, warnings

    def _configure(self, cfg):
        warnings = []
        if cfg is None:
            cfg, warnings = self._load_config()
        else:
            full = config.defaults(settings_fields(self.hal, providers.in_use(cfg)))
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
        try:
            self.policy = planner.Policy.from_config(cfg)
        except ValueError as e:  # ConfigError from a combination of settings
            self.log.warn("config", "%s; using the default policy" % exc_text(e))
            self.config_warnings.append(str(e))
            self.policy = planner.Policy.from_config({"safe_state": cfg["safe_state"]})
        self.provider = self._provider_in
        if self.provider is None:
            try:
                self.provider = providers.get(cfg["source"])
            except (ImportError, ValueError) as e:
                self.log.error("config", "source %s: %s" % (cfg["source"], exc_text(e)))
        self.fallbacks = []  # sources that fill time without a fetched price (the rate plan)
        for name in providers.in_use(cfg)[1:]:
            try:
                self.fallbacks.append(providers.get(name))
            except (ImportError, ValueError) as e:
                self.log.error("config", "fallback %s: %s" % (name, exc_text(e)))
        seed = seed_from(cfg["fetch.seed"], getattr(self.hal, "device_id", None))
        self.policy.spread_class = planner.spread_class(seed)
        self._seed = seed
        self.net.configure(cfg, publish_min(self.provider, cfg), Rng(seed))
        if self.savings is not None:
            self.savings.zone = self.zone
            self.savings.baseline_min = _baseline_min(cfg)
        self._dirty = True

    def apply_config(self, cfg):
        """New settings from the REPL: re-plan now, re-time the next fetch."""
        if not self.booted:
            self._cfg_in = cfg
            return
        inverted = self.cfg.get("relay.inverted")
        self._configure(cfg)
        if bool(self.cfg.get("relay.inverted")) != bool(inverted) and self.load_on is not None:
            self.hal.relay.set(relay_level(self.cfg, self.load_on))  # same load, new wiring
        now = self.hal.clock.now_s()
        self._retime_fetch(now)
        self._settle(now)
        self.notify("config")
        self.wake()

    # -- boot ------------------------------------------------------------------------------
    def boot(self):
        """Config, cache, relay - before any network call."""
        hal = self.hal
        collect_often(GC_DIVISOR)
        self._configure(self._cfg_in)
        self.store = Store(hal.root, log=self.log)
        self.schedule, extras = self.store.load()
        self.provider_state = dict(extras or {})
        self.provider_state["device.seed"] = self._seed  # OpenADR randomizeStart, per device
        self.net.catch_up = self.schedule is not None and bool(self.schedule.fetched_s)
        if self.store.last_error:
            self.log.warn("cache", "not used: %s" % self.store.last_error)
        self.state = AppState()
        self.state.build_s = CLOCK_SET_AFTER_S
        self.savings = Savings(hal.root if self.persist else None, self.zone, hal.clock.now_s,
                               self._held_schedule, _baseline_min(self.cfg))
        if self.savings.last_error:
            self.log.warn("savings", self.savings.last_error)
        now = hal.clock.now_s()
        self._load_override(now)
        if self.persist:
            run = flashstate.load_run(hal.root)
            if run is not None:  # a period that is over is reset by the first count
                self.state.ran_period_s, self.state.ran_s = run[0], run[1]
                if run[2] is not None:  # a started block is finished, not re-planned
                    self.state.block_start_s, self.state.block_end_s = run[2]
                self._saved_run = run
        self.booted = True
        self._settle(now)
        self._retime_fetch(now)
        s = self.schedule
        self.log.info("boot", "v%s source %s, cache %s" % (
            VERSION, self.cfg["source"],
            "%d intervals to %s" % (len(s), format_iso(s.end_s)) if s is not None and len(s)
            else "empty"))

    def _retime_fetch(self, now):
        self.net.retime(now)

    # -- what the network side owns, as the app's status and the tests see it ------------------
    @property
    def cadence(self):
        return self.net.cadence

    @property
    def wifi_backoff(self):
        return self.net.wifi_backoff

    @property
    def ntp_backoff(self):
        return self.net.ntp_backoff

    @property
    def fetches(self):
        return self.net.fetches

    @property
    def fetch_failures(self):
        return self.net.fetch_failures

    @property
    def last_fetch(self):
        return self.net.last_fetch

    @property
    def next_fetch_s(self):
        return self.net.next_fetch_s

    @next_fetch_s.setter
    def next_fetch_s(self, t_s):
        self.net.next_fetch_s = t_s

    # -- the loop --------------------------------------------------------------------------
    def step(self):
        """One pass of the control loop; returns the UTC second to wake up at."""
        if not self.booted:
            self.boot()
        try:
            wake = self._step()
        except MemoryError:
            return self._step_out_of_memory()
        if self._step_oom:
            self._step_oom = False
            self.log.info("app", "steps fit in memory again")
        return wake

    def _step_out_of_memory(self):
        """A step that ran out of heap is a state, not a crash: a reset would free the heap,
        but the same prices and plan would fill it again, and three crashes in a row mean
        safe mode. Follow the plan held (or the safe state), say so, and step again soon."""
        gc.collect()
        now = self.hal.clock.now_s()
        try:
            until = None
            if self.plan is not None:
                on, reason, until = self.plan.at(now)
            if until is None:  # no plan, or none for now
                on = self.policy.safe_on
                reason = "out of memory: safe state %s" % onoff.word(on)
            self._apply(now, on, reason)
            if not self._step_oom:  # once per episode, not every minute
                self._step_oom = True
                self.log.warn("app", "step ran out of memory (%d bytes free); stepping every "
                              "%d s until it fits" % (mem_free(), OOM_STEP_S))
        except MemoryError:
            pass  # the relay keeps its last state; the next step tries again
        return now + OOM_STEP_S

    def _step(self):
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
        got = self.net.network(now)
        if got is not None:
            self.take(got)
        now2 = hal.clock.now_s()  # a fetch takes time; NTP may move the clock
        if now2 != now:
            self._settle(now2)
        return self.net.next_wake(now2, self._next_wake(now2))

    def fetch_now(self):
        """Fetch, merge, cache and re-plan now. True on success."""
        if not self.booted:
            self.boot()
        if self.provider is None:
            self.log.warn("fetch", "no price source")
            return False
        if not self.clock_trusted:
            self.log.warn("fetch", "skipped: clock not valid")
            return False
        return self.take(self.net.fetch(self.hal.clock.now_s()))

    def clock_set(self, now):
        """NTP set the clock (netloop): decide again on the true time."""
        self._settle(now)

    def _next_wake(self, now):
        """The app's own next wake: a switch, local midnight, the end of an override, the
        on-time checkpoint while a need is counted, at most MAX_SLEEP_S away."""
        wake = now + MAX_SLEEP_S
        st = self.state
        if self.load_on and self.persist and st.ran_mark_s is not None and \
                planner.period_at(self.policy, now, self.zone) is not None:
            wake = now - now % RUN_CHECKPOINT_S + RUN_CHECKPOINT_S
        for t in (self.until_s, self._day_end_s, st.override_until_s):
            if t is not None and t < wake:
                wake = t
        return wake if wake > now else now + 1

    # -- a fetch's result --------------------------------------------------------------------
    def take(self, got):
        """Apply what a fetch brought (netloop.Fetched): merged into the cache (newer prices
        win; what the source withdrew cleared), saved when it changed, re-planned; or, for a
        failure, back-off with the cache byte-identical. True if the fetch was good."""
        if got.error is not None:
            return self._fetch_failed(got.error, got.t_s)
        new, t = got.new, got.t_s
        got.new = None
        note = self.provider_state.pop(self.cfg["source"] + ".warning", None)
        if note:
            self.log.warn("fetch", str(note))
        before = self.schedule
        try:
            merged = self._merged(new, t)
        except Exception as e:  # noqa: BLE001 - MemoryError (the old and the new schedule did
            # not fit together), or an answer the merge cannot take: a failed fetch, cache kept
            new = None  # let the answer go before the failure collects
            return self._fetch_failed(e, t, "merging", before)
        changed = before is None or not merged.same_as(before)
        self.schedule = merged
        gc.collect()
        try:
            wrote = self.store.save(merged, self._extras())
        except Exception as e:  # noqa: BLE001 - OSError, ValueError, struct.error: not saved
            wrote = False
            self.log.error("cache", "not saved: %s" % exc_text(e))
        if changed:
            self._dirty = True
        self.net.succeeded(t)
        msg = "%d intervals to %s%s" % (len(merged), format_iso(merged.end_s),
                                        "" if changed else ", unchanged")
        self.net.last_fetch = {"t_s": t, "ok": True, "msg": msg}
        self.notify("fetch")
        self.log.info("fetch", "ok: %s%s; next at %s" % (msg, ", saved" if wrote else "",
                                                         format_iso(self.net.next_fetch_s)))
        self._settle(t)
        return True

    def _merged(self, new, t):
        """The cached schedule with `new` merged in (new wins), history before yesterday
        dropped. The plan held for the old schedule is released first if memory runs short."""
        old = self._withdraw()
        try:
            merged = old.merge(new) if old is not None else new
        except MemoryError:
            self.plan = None  # re-planned from the merged schedule anyway
            gc.collect()
            merged = old.merge(new)
        merged.fetched_s = t
        keep = self.zone.day_start(t) - KEEP_HISTORY_S
        if len(merged) and merged.base_s < keep:
            merged.drop_before(keep)
        return merged

    def _fetch_failed(self, e, t, doing="", before=None):
        """A failed fetch: the cache stays (less what the source withdrew), back off, log.
        `before`: the cached schedule when the fetch began (a failed merge has already
        applied the withdrawals)."""
        gc.collect()
        old = self.schedule if before is None else before
        withdrawn = self._withdraw() is not old  # e.g. every event cancelled: no data
        if withdrawn:
            self._dirty = True
            try:
                self.store.save(self.schedule, self._extras())
            except (OSError, ValueError) as e2:
                self.log.error("cache", "not saved: %s" % exc_text(e2))
        self.net.failed(t, e)
        msg = exc_text(e) if not doing else "%s %s" % (doing, exc_text(e))
        self.net.last_fetch = {"t_s": t, "ok": False, "msg": msg}
        self.notify("fetch")
        self.log.warn("fetch", "failed: %s; retry in %d s" % (msg, self.net.next_fetch_s - t))
        if withdrawn or self.plan is None:
            self._settle(t)
        else:
            self._snapshot()
        return False

    def _withdraw(self):
        """Clear the spans the source withdrew ("<source>.removed" in its state, e.g. OpenADR
        events cancelled) from the cached schedule; returns the (possibly new) schedule."""
        removed = self.provider_state.pop(self.cfg["source"] + ".removed", None)
        if self.schedule is not None and removed:
            cleared = self.schedule.clear_spans(removed)
            if cleared is not self.schedule:
                self.log.info("fetch", "prices withdrawn by the source cleared: %d span(s)"
                              % len(removed))
                self.schedule = cleared
        return self.schedule

    async def run(self, until_s=None):
        """step() and sleep, forever (or until the clock reaches until_s: the simulator)."""
        if not self.booted:
            self.boot()
        for s in self.services:
            if self._services_started and hasattr(s, "stop"):
                s.stop()  # run() again after Ctrl-C (plug.resume): the old tasks are gone
            s.start(self)
        self._services_started = True
        while True:
            wake = self.step()
            if until_s is not None:
                if wake >= until_s:
                    await self.hal.sleep_until(until_s)
                    return
            await self.hal.sleep_until(wake)

    def notify(self, event):
        """Tell every service that `event` happened. A service that raises is logged and
        skipped: the control loop never depends on it."""
        for s in self.services:
            try:
                s.notify(event)
            except Exception as e:  # noqa: BLE001 - any service defect, the loop goes on
                self.log.warn("service", "%s: %s" % (event, exc_text(e)))

    def wake(self):
        """Step as soon as possible (a service changed something: an override, a setting).
        The HAL's sleep returns early where it can (hal.wake(), optional)."""
        w = getattr(self.hal, "wake", None)
        if w is not None:
            w()

    # -- deciding ----------------------------------------------------------------------------
    def _settle(self, now):
        """Bring trust, override, day, plan, relay, LED and snapshot up to date for `now`."""
        self._update_trust(now)
        self._count(now)
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
        if now < self._last_now:  # the clock went back (NTP): plan again from the new now
            self._dirty = True
        self._last_now = now
        s = self.schedule
        ok = bool(self.hal.clock.valid()) and planner.clock_trusted(
            now, CLOCK_SET_AFTER_S, s.fetched_s if s is not None else 0)
        if ok != self.clock_trusted:
            self.log.info("clock", "valid" if ok else "not valid: relay follows safe_state")
            self._dirty = True
        self.clock_trusted = ok
        self.state.clock_valid = ok
        if ok and self.net.catch_up is True and self.booted:  # NTP after a restart
            self._retime_fetch(now)

    def _count(self, now):
        """Measure the load's on-time up to now (before the relay state changes) and feed a
        metering chip's reading to the rate plan's counter; keep the on-time on flash."""
        st = self.state
        self._account(now)
        planner.count_run(st, self.policy, now, self.zone)
        if self.policy.mode == "block":
            planner.note_started_block(st, now)
        self._save_run()
        meter = getattr(self.hal, "meter", None)
        if meter is not None and self.clock_trusted:
            hooks = self._hooks("add_meter_reading")
            if hooks:
                try:
                    kwh = meter.kwh()
                except (OSError, ValueError) as e:
                    self.log.warn("meter", "not read: %s" % exc_text(e))
                    return
                for hook in hooks:
                    hook(self.provider_state, self.cfg, now, kwh, self.zone)

    def _held_schedule(self):
        """The prices the savings record counts: the retail ones when the plan ranks by them
        (price.*), so the record is the bill's, as the simulator's is."""
        s, model = self.schedule, self.policy.retail
        if model is None or s is None:
            return s
        from ..plan.retail import Priced

        return Priced(model, s, self.zone)

    def _account(self, now):
        """Count the load's energy and cost since the last step into the savings record (the
        clock must be trusted: a day and a price need a true time)."""
        rec = self.savings
        if rec is None:
            return
        if not self.clock_trusted:
            rec.pause()
            return
        rec.account(now, bool(self.load_on), self._load_w(now))

    def _load_w(self, now):
        """The load's power: load.kw, or the meter's average since its last reading."""
        w = int(float(self.cfg.get("load.kw") or 0) * 1000 + 0.5)
        meter = getattr(self.hal, "meter", None)
        if meter is None:
            return w
        try:
            kwh = meter.kwh()
        except (OSError, ValueError):
            return w
        last, self._meter_at = self._meter_at, (now, kwh)
        if last is not None and now > last[0]:
            self._meter_w = int((kwh - last[1]) * 3600000 / (now - last[0]) + 0.5)
        elif last is None:
            self._meter_w = w
        return self._meter_w

    def _save_run(self):
        st = self.state
        block = None if st.block_start_s is None else (st.block_start_s, st.block_end_s)
        run = (st.ran_period_s, st.ran_s, block)
        if run != self._saved_run:
            self._saved_run = run
            if self.persist:
                flashstate.save_run(self.hal.root, run[0], run[1], block)

    def _replan(self, now):
        day_start = self.zone.day_start(now)
        if self._day_end_s is not None and now >= self._day_end_s:
            self.state.new_day()
        self._day_end_s = self.zone.next_day_start(now)
        sched = self.schedule if self.schedule is not None else Schedule()
        if len(sched) and sched.base_s < day_start - KEEP_HISTORY_S:
            sched.drop_before(day_start - KEEP_HISTORY_S)
        # The old plan is held while the new one is built: if that does not fit, let it go
        # and try once more. If even that fails, hold the safe state for a while instead of
        # crashing into a reset (and, repeated, safe mode): the schedule stays.
        for last_try in (False, True):
            try:
                self.plan = planner.plan(sched, self.policy, now, self.state, self.zone,
                                         self._rate_plan(now))
                break
            except MemoryError:
                self.plan = None
                gc.collect()
                if last_try:
                    self.plan = self._out_of_memory_plan(now)
                    return  # still dirty: plan again at the next step
        if self._oom:
            self._oom = False
            self.log.info("plan", "fits in memory again")
        self._save_run()  # plan() records a block once it has started
        self._dirty = False
        self.notify("plan")

    def _out_of_memory_plan(self, now):
        safe = self.policy.safe_on
        if not self._oom:  # once, not at every retry
            self._oom = True
            self.log.warn("plan", "out of memory (%d bytes free): safe state %s, retrying "
                          "every %d min" % (mem_free(), onoff.word(safe),
                                            OOM_RETRY_S // 60))
        return planner.Plan([(now, now + OOM_RETRY_S, safe, "out of memory planning: safe "
                              "state %s" % onoff.word(safe))], safe)

    def _hooks(self, name):
        """The optional provider hook `name` of every source in use (see providers/)."""
        out = []
        for m in [self.provider] + self.fallbacks:
            f = getattr(m, name, None)
            if f is not None:
                out.append(f)
        return out

    def _rate_plan(self, now):
        """Prices of the fallback source (the static rate plan) for time without a fetched
        price, or None."""
        for m in self.fallbacks:
            try:
                return m.fetch(None, self.cfg, now, self.provider_state)
            except ValueError as e:  # ProviderError: a rate plan the config cannot describe
                self.log.warn("plan", "rate plan fallback unusable: %s" % exc_text(e))
        return None

    def _extras(self):
        """The provider state that can be stored as JSON (counters, ids; not objects)."""
        out = {}
        for k, v in self.provider_state.items():
            if v is None or isinstance(v, (bool, int, float, str, list)):
                out[k] = v
        return out

    def _apply(self, now, on, reason):
        on = bool(on)
        if on != self.load_on:
            self._count(now)  # the on-time so far, before the state changes (no-op if done)
            self.hal.relay.set(relay_level(self.cfg, on))
            if self.load_on is not None:
                self.switches += 1
            if self.load_on and not on and self.relay_since_s is not None and \
                    getattr(self.hal, "meter", None) is None:
                for hook in self._hooks("add_on_time"):  # e.g. a rate plan's tiers
                    hook(self.provider_state, self.cfg, now, now - self.relay_since_s, self.zone)
            self.state.relay_written(on, now, self.load_on is not None)
            self.load_on = on
            self.relay_since_s = now
            self.log.info("relay", "%s: %s" % (onoff.word(on), reason))
            self.notify("relay")
        if (on, reason) != self._decision:
            self._decision = (on, reason)
            self.reason = reason
            if self.timeline_hook is not None:
                self.timeline_hook(now, on, reason)
            self.notify("decision")

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
            mode = onoff.word(self.load_on)
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
            on = onoff.parse(on, "override")
            self._set_override(on, now + int(minutes) * 60)
            self.log.info("override", "%s for %d min" % (onoff.word(on), minutes))
        self._settle(now)
        self.notify("override")
        self.wake()
        return self.state.override_until_s

    def _button(self, now):
        if self.state.override_until_s is not None:
            self.log.info("override", "cancelled by the button")
            self._clear_override()
        else:
            on = not self.load_on
            minutes = self.cfg["override.minutes"]
            self._set_override(on, now + minutes * 60)
            self.log.info("override", "button: %s for %d min" % (onoff.word(on), minutes))

    def _set_override(self, on, until_s):
        self.state.set_override(on, until_s)
        self._dirty = True
        if self.persist:
            flashstate.save_override(self.hal.root, on, until_s)

    def _clear_override(self):
        self._set_override(None, None)

    def _load_override(self, now):
        ov = flashstate.load_override(self.hal.root, now)
        if ov is not None:
            self.state.set_override(ov[0], ov[1])
            self.log.info("override", "restored: %s" % onoff.word(ov[0]))

    # -- network ---------------------------------------------------------------------------
    # -- reports ---------------------------------------------------------------------------
    def status(self):
        """A snapshot of the state (plain types; plug.status() and status.json use it)."""
        if not self.booted:
            return {"version": VERSION, "booted": False, "relay_on": None}
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
        for k in ("now_s", "mem_free", "price_u", "wifi", "until_s"):  # not worth a flash write
            snap.pop(k, None)
        text = json.dumps(snap)
        if text == self._status_text:
            return
        self._status_text = text
        flashstate.write_status(self.hal.root, text)

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
