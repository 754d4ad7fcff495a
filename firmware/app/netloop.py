"""The network side of the app: Wi-Fi, NTP and price fetches, supervised so that they never
get in the way of switching. NetLoop owns its state (back-offs, the fetch cadence, the next
NTP sync and fetch, counters, the last result); the App reads it and applies what it brings:

    net.configure(cfg, publish_min, rng)   after every settings change
    net.retime(now)                        when the cached prices changed: the next fetch
    got = net.network(now)                 Wi-Fi, NTP, and a fetch when due: a Fetched or None
    got = net.fetch(now)                   a fetch now (plug.fetch()); app.take(got) applies it
    wake = net.next_wake(now, wake)        the earliest network retry before the app's wake

- Wi-Fi connects and reconnects with capped exponential back-off (fetcher.Backoff).
- NTP when the clock is not valid, and every ntp.resync_h hours; back-off on failure.
- A fetch when fetcher.Cadence says it is due, the clock is trusted and the link is up (or the
  provider needs no network). Any exception from the HTTP client or the provider is a failed
  fetch (Fetched.error): the app logs it once, backs off (net.failed(), honouring
  Retry-After) and keeps its cache byte-identical.
- A fetch ends within fetch_bound_s(cfg) = min(FETCH_BOUND_FACTOR x fetch.timeout_s,
  fetch.budget_s) however slowly a server sends (http Client total_s), so the switch it waits
  for is never late; the watchdog is fed right before and right after it.
- None of this starts when a relay change is due within fetch.budget_s: the step returns
  that change as its wake time and the network work runs right after the switch.
"""

from ..clock.iso import format_iso
from ..providers import needs_network
from .fetcher import Backoff, Cadence

FETCH_BOUND_FACTOR = 4  # connect, TLS, head and body of one answer, each up to fetch.timeout_s


def fetch_bound_s(cfg):
    """The longest a fetch may take (seconds): within the budget kept free before a switch."""
    return min(FETCH_BOUND_FACTOR * cfg["fetch.timeout_s"], cfg["fetch.budget_s"])


class Fetched:
    """What one fetch brought: the new prices, or the error; t_s when it ended."""

    def __init__(self, t_s, new=None, error=None):
        self.t_s = t_s
        self.new = new
        self.error = error


class NetLoop:
    def __init__(self, app):
        self.app = app  # read only: its settings, clock trust, provider, cache and plan
        self.cadence = None
        self.wifi_backoff = self.ntp_backoff = None
        self.next_sync_s = 0
        self.next_fetch_s = 0
        self.fetches = self.fetch_failures = 0
        self.last_fetch = None  # type: dict | None  # {"t_s", "ok", "msg"}, set by the app
        # A restart with a cache: True until the clock is trusted, then the UTC second of this
        # device's first fetch (an overdue one is spread over fetch.spread_s); False after.
        self.catch_up = False
        self.deferred = False  # network work waits for a switch that is due soon
        self._no_wifi_logged = False

    def configure(self, cfg, publish_local_min, rng):
        self.cadence = Cadence(cfg, publish_local_min, rng)
        self.wifi_backoff = Backoff(10, 600, rng)
        self.ntp_backoff = Backoff(30, 1800, rng)

    def retime(self, now):
        """The next fetch from the cached prices (the first after a restart: catch_up)."""
        app = self.app
        s = app.schedule
        last = s.fetched_s if s is not None and s.fetched_s else None
        end = s.last_price_end() if s is not None else None
        refresh = getattr(app.provider, "refresh_s", None)  # a source's own poll period
        if refresh is not None:
            self.cadence.refresh_s = refresh(app.cfg, app.provider_state)
        due = self.cadence.next_due(app.zone, now, last, end)
        if self.catch_up is True and app.clock_trusted:  # the first trusted retime after a
            self.catch_up = self.cadence.catch_up(now, due)  # restart: this device's moment
        if self.catch_up and self.catch_up is not True:
            if now >= self.catch_up:
                self.catch_up = False  # reached: the cadence alone from here on
            elif due < self.catch_up:
                due = self.catch_up
        self.next_fetch_s = due

    def succeeded(self, t):
        self.cadence.succeeded()
        self.retime(t)

    def failed(self, t, error):
        """A failed fetch: back off (never earlier than the server's Retry-After)."""
        self.fetch_failures += 1
        self.next_fetch_s = self.cadence.failed(t, getattr(error, "retry_after_s", None))


    def switch_soon(self, now):
        app = self.app
        u = app.until_s
        return u is not None and u - now < app.cfg["fetch.budget_s"]

    def network(self, now):
        """Wi-Fi, NTP, and the fetch when it is due: a Fetched for the app to apply, or None."""
        app = self.app
        hal, cfg = app.hal, app.cfg
        needs_net = app.provider is None or needs_network(app.provider, cfg)
        if self.switch_soon(now):
            self.deferred = True
            return None
        self.deferred = False
        if not hal.net.up():
            if not cfg["wifi.ssid"] or not self.wifi_backoff.ready(now):
                if not cfg["wifi.ssid"] and not self._no_wifi_logged:
                    self._no_wifi_logged = True
                    app.log.warn("wifi", "no wifi.ssid configured: offline")
                if needs_net:
                    return None
            else:
                app.log.info("wifi", "connecting to %s" % cfg["wifi.ssid"])
                if hal.net.connect(cfg["wifi.ssid"], cfg["wifi.password"], cfg["wifi.timeout_s"]):
                    self.wifi_backoff.ok()
                    app.log.info("wifi", "connected")
                else:
                    t = self.wifi_backoff.fail(hal.clock.now_s())
                    app.log.warn("wifi", "connection failed; retry at %s" % format_iso(t))
                    if needs_net:
                        return None
                now = hal.clock.now_s()
                if self.switch_soon(now):  # the connect took a while: switch first
                    self.deferred = True
                    return None
        if hal.net.up() and (not hal.clock.valid() or now >= self.next_sync_s) and \
                self.ntp_backoff.ready(now):
            if hal.clock.sync():
                self.ntp_backoff.ok()
                now = hal.clock.now_s()
                self.next_sync_s = now + cfg["ntp.resync_h"] * 3600
                app.log.info("clock", "synchronised")
                app.clock_set(now)  # the app decides again on the true time (and trusts it)
            else:
                t = self.ntp_backoff.fail(now)
                app.log.warn("clock", "NTP failed; retry at %s" % format_iso(t))
        if app.provider is not None and now >= self.next_fetch_s and app.clock_trusted and \
                (hal.net.up() or not needs_net):
            if self.switch_soon(now):
                self.deferred = True
                return None
            return self.fetch(now)
        return None

    def fetch(self, now):
        """Ask the provider now, within fetch_bound_s: a Fetched (new prices, or the error)."""
        app = self.app
        hal, cfg = app.hal, app.cfg
        client = None
        self.fetches += 1
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
            return Fetched(hal.clock.now_s(), error=e)
        finally:
            hal.wdt.feed()
            close = getattr(client, "close", None)
            if close is not None:
                close()
        return Fetched(hal.clock.now_s(), new)

    def next_wake(self, now, wake):
        """`wake` (the app's own), or an earlier network moment: the next fetch, a Wi-Fi or
        NTP retry. While a switch is close, network work waits for it."""
        if self.deferred:
            return wake
        app = self.app
        hal = app.hal
        needs_net = app.provider is not None and needs_network(app.provider, app.cfg)
        net_ok = hal.net.up() or not needs_net
        if app.provider is not None and app.clock_trusted and net_ok and \
                self.next_fetch_s < wake:
            wake = self.next_fetch_s
        if not hal.net.up() and app.cfg["wifi.ssid"] and self.wifi_backoff.next_s < wake:
            wake = self.wifi_backoff.next_s
        if hal.net.up() and not hal.clock.valid() and self.ntp_backoff.next_s < wake:
            wake = self.ntp_backoff.next_s
        return wake
