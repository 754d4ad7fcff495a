"""The app's network side: Wi-Fi, NTP and price fetches, supervised so that they never get
in the way of switching (mixed into app.App; see app.py for the whole loop).

- Wi-Fi connects and reconnects with capped exponential back-off (fetcher.Backoff).
- NTP when the clock is not valid, and every ntp.resync_h hours; back-off on failure.
- A fetch when fetcher.Cadence says it is due, the clock is trusted and the link is up (or the
  provider needs no network). The result is merged into the cached schedule (newer prices
  win), history older than a day before local midnight is dropped, the cache is saved (the
  store writes only on change) and the plan is redone. A provider that withdraws prices it
  gave before (OpenADR: cancelled or removed events) lists their spans in its state under
  "<source>.removed"; they are cleared from the cache before the merge (clear_spans), so
  prices of a cancelled event do not stay in use. Any exception from the HTTP client, the
  provider, its parse or the merge is a failed fetch: logged once with its type, backed off
  (honouring Retry-After), the cache byte-identical and the last good schedule in use; what
  a provider dropped from an answer ("<source>.warning" in its state) is logged once.
- A fetch ends within fetch_bound_s(cfg) = min(FETCH_BOUND_FACTOR x fetch.timeout_s,
  fetch.budget_s) however slowly a server sends (http Client total_s), so the switch it waits
  for is never late; the watchdog is fed right before and right after it.
- None of this starts when a relay change is due within fetch.budget_s: the step returns
  that change as its wake time and the network work runs right after the switch.
"""

import gc

from ..clock.iso import format_iso
from ..compat import exc_text
from ..plan.planner import period_at
from ..prices.schedule import NO_PRICE, Schedule
from ..providers import needs_network

KEEP_HISTORY_S = 86400  # prices older than a day before local midnight are dropped
MAX_SLEEP_S = 3600  # longest wait between steps (the HAL also bounds and re-checks its waits)
# While the load runs and its on-time counts against a need, the step wakes at least at every
# quarter hour (UTC multiples: usually a price boundary anyway) so that the count on flash
# (run.json) is at most this old when the power goes: a cut loses at most this much on-time.
RUN_CHECKPOINT_S = 900
FETCH_BOUND_FACTOR = 4  # connect, TLS, head and body of one answer, each up to fetch.timeout_s


def fetch_bound_s(cfg):
    """The longest a fetch may take (seconds): within the budget kept free before a switch."""
    return min(FETCH_BOUND_FACTOR * cfg["fetch.timeout_s"], cfg["fetch.budget_s"])


def clear_spans(sched, spans):
    """`sched` without prices in spans [(start_s, end_s), ...] (they become gaps): a new
    Schedule with the same metadata, or `sched` itself when no span meets a price."""
    cuts = sorted((int(a), int(b)) for a, b in spans or ()
                  if b > a and a < sched.end_s and b > sched.base_s)
    if not cuts or not len(sched):
        return sched
    out = Schedule()
    out.copy_meta(sched)
    hit = False
    for s, e, p, i in sched.window(sched.base_s, sched.end_s):
        if p == NO_PRICE:
            continue
        t = s
        for a, b in cuts:
            if b <= t:
                continue
            if a >= e:
                break
            hit = True
            if a > t:
                out.add(t, a, p, sched.name_of(i), sched.flags[i])
            t = b
            if t >= e:
                break
        if t < e:
            out.add(t, e, p, sched.name_of(i), sched.flags[i])
    return out if hit else sched


class NetLoop:
    """The network side of one App (composition: it reads and updates the app's state)."""

    def __init__(self, app):
        self.app = app
        self.deferred = False  # network work waits for a switch that is due soon
        self._no_wifi_logged = False

    def switch_soon(self, now):
        app = self.app
        u = app.until_s
        return u is not None and u - now < app.cfg["fetch.budget_s"]

    def network(self, now):
        app = self.app
        hal, cfg = app.hal, app.cfg
        needs_net = app.provider is None or needs_network(app.provider, cfg)
        if self.switch_soon(now):
            self.deferred = True
            return
        self.deferred = False
        if not hal.net.up():
            if not cfg["wifi.ssid"] or not app.wifi_backoff.ready(now):
                if not cfg["wifi.ssid"] and not self._no_wifi_logged:
                    self._no_wifi_logged = True
                    app.log.warn("wifi", "no wifi.ssid configured: offline")
                if needs_net:
                    return
            else:
                app.log.info("wifi", "connecting to %s" % cfg["wifi.ssid"])
                if hal.net.connect(cfg["wifi.ssid"], cfg["wifi.password"], cfg["wifi.timeout_s"]):
                    app.wifi_backoff.ok()
                    app.log.info("wifi", "connected")
                else:
                    t = app.wifi_backoff.fail(hal.clock.now_s())
                    app.log.warn("wifi", "connection failed; retry at %s" % format_iso(t))
                    if needs_net:
                        return
                now = hal.clock.now_s()
                if self.switch_soon(now):  # the connect took a while: switch first
                    self.deferred = True
                    return
        if hal.net.up() and (not hal.clock.valid() or now >= app._next_sync_s) and \
                app.ntp_backoff.ready(now):
            if hal.clock.sync():
                app.ntp_backoff.ok()
                now = hal.clock.now_s()
                app._next_sync_s = now + cfg["ntp.resync_h"] * 3600
                app.log.info("clock", "synchronised")
                app._settle(now)
            else:
                t = app.ntp_backoff.fail(now)
                app.log.warn("clock", "NTP failed; retry at %s" % format_iso(t))
        if app.provider is not None and now >= app.next_fetch_s and app.clock_trusted and \
                (hal.net.up() or not needs_net):
            if self.switch_soon(now):
                self.deferred = True
                return
            self.fetch_now()

    def fetch_now(self):
        """Fetch, merge, cache and re-plan now. True on success. Errors are logged and backed
        off; the last good schedule stays in use."""
        app = self.app
        if not app.booted:
            app.boot()
        hal, cfg = app.hal, app.cfg
        now = hal.clock.now_s()
        if app.provider is None:
            app.log.warn("fetch", "no price source")
            return False
        if not app.clock_trusted:
            app.log.warn("fetch", "skipped: clock not valid")
            return False
        client = None
        app.fetches += 1
        hal.wdt.feed()  # the fetch may take up to fetch_bound_s
        try:
            if needs_network(app.provider, cfg):
                from ..http import client as http  # not needed until the first fetch

                client = http.Client(hal.net.open, ca_file=cfg["tls.ca_file"] or None,
                                     verify=cfg["tls.verify"], timeout_s=cfg["fetch.timeout_s"],
                                     log=app.log, total_s=fetch_bound_s(cfg))
            new = app.provider.fetch(client, cfg, now, app.provider_state)
            if new is None or not len(new):
                raise ValueError("no prices in the answer")
        except Exception as e:  # the supervisor: any fetch failure is a state, not an exit
            return self._failed(e)
        finally:
            hal.wdt.feed()
            close = getattr(client, "close", None)
            if close is not None:
                close()
        note = app.provider_state.pop(cfg["source"] + ".warning", None)
        if note:
            app.log.warn("fetch", str(note))
        t = hal.clock.now_s()
        before = app.schedule
        try:
            merged = self._merged(new, t)
        except Exception as e:  # noqa: BLE001 - MemoryError (the old and the new schedule did
            # not fit together), or an answer the merge cannot take: a failed fetch, cache kept
            new = None  # let the answer go before _failed collects
            return self._failed(e, "merging", before)
        app.cadence.succeeded()
        changed = before is None or not merged.same_as(before)
        app.schedule = merged
        gc.collect()
        try:
            wrote = app.store.save(merged, app._extras())
        except Exception as e:  # noqa: BLE001 - OSError, ValueError, struct.error: not saved
            wrote = False
            app.log.error("cache", "not saved: %s" % exc_text(e))
        if changed:
            app._dirty = True
        app._retime_fetch(t)
        msg = "%d intervals to %s%s" % (len(merged), format_iso(merged.end_s),
                                        "" if changed else ", unchanged")
        app.last_fetch = {"t_s": t, "ok": True, "msg": msg}
        app.notify("fetch")
        app.log.info("fetch", "ok: %s%s; next at %s" % (msg, ", saved" if wrote else "",
                                                         format_iso(app.next_fetch_s)))
        app._settle(t)
        return True

    def _merged(self, new, t):
        """The cached schedule with `new` merged in (new wins), history before yesterday
        dropped. The plan held for the old schedule is released first if memory runs short."""
        app = self.app
        old = self.withdraw()
        try:
            merged = old.merge(new) if old is not None else new
        except MemoryError:
            app.plan = None  # re-planned from the merged schedule anyway
            gc.collect()
            merged = old.merge(new)
        merged.fetched_s = t
        keep = app.zone.day_start(t) - KEEP_HISTORY_S
        if len(merged) and merged.base_s < keep:
            merged.drop_before(keep)
        return merged

    def _failed(self, e, doing="", before=None):
        """A failed fetch: the cache stays (less what the source withdrew), back off, log.
        `before`: the cached schedule when the fetch began (a failed merge has already
        applied the withdrawals)."""
        app, hal = self.app, self.app.hal
        gc.collect()
        old = app.schedule if before is None else before
        withdrawn = self.withdraw() is not old  # e.g. every event cancelled: no data
        if withdrawn:
            app._dirty = True
            try:
                app.store.save(app.schedule, app._extras())
            except (OSError, ValueError) as e2:
                app.log.error("cache", "not saved: %s" % exc_text(e2))
        app.fetch_failures += 1
        t = hal.clock.now_s()
        app.next_fetch_s = app.cadence.failed(t, getattr(e, "retry_after_s", None))
        msg = exc_text(e) if not doing else "%s %s" % (doing, exc_text(e))
        app.last_fetch = {"t_s": t, "ok": False, "msg": msg}
        app.notify("fetch")
        app.log.warn("fetch", "failed: %s; retry in %d s" % (msg, app.next_fetch_s - t))
        if withdrawn or app.plan is None:
            app._settle(t)
        else:
            app._snapshot()
        return False

    def withdraw(self):
        """Clear the spans the provider withdrew ("<source>.removed" in its state) from the
        cached schedule; returns the (possibly new) cached schedule."""
        app = self.app
        removed = app.provider_state.pop(app.cfg["source"] + ".removed", None)
        if app.schedule is not None and removed:
            cleared = clear_spans(app.schedule, removed)
            if cleared is not app.schedule:
                app.log.info("fetch", "prices withdrawn by the source cleared: %d span(s)"
                             % len(removed))
                app.schedule = cleared
        return app.schedule

    def next_wake(self, now):
        app = self.app
        wake = now + MAX_SLEEP_S
        st = app.state
        if app.load_on and app.persist and st.ran_mark_s is not None and \
                period_at(app.policy, now, app.zone) is not None:
            wake = now - now % RUN_CHECKPOINT_S + RUN_CHECKPOINT_S
        for t in (app.until_s, app._day_end_s, app.state.override_until_s):
            if t is not None and t < wake:
                wake = t
        if self.deferred:  # network work waits for the switch at until_s
            return wake if wake > now else now + 1
        hal = app.hal
        needs_net = app.provider is not None and needs_network(app.provider, app.cfg)
        net_ok = hal.net.up() or not needs_net
        if app.provider is not None and app.clock_trusted and net_ok and \
                app.next_fetch_s < wake:
            wake = app.next_fetch_s
        if not hal.net.up() and app.cfg["wifi.ssid"] and app.wifi_backoff.next_s < wake:
            wake = app.wifi_backoff.next_s
        if hal.net.up() and not hal.clock.valid() and app.ntp_backoff.next_s < wake:
            wake = app.ntp_backoff.next_s
        return wake if wake > now else now + 1
