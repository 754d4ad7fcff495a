"""When to fetch prices next: the cadence and the back-off, as pure functions of time.

- A little after the provider's daily publication time (`PUBLISH_LOCAL_MIN`, a local minute of
  day in the configured zone) plus `fetch.publish_delay_min`, plus this device's offset.
- Periodic refreshes every `fetch.refresh_min` after the last good fetch.
- When the cache does not cover what should be known by now (today; tomorrow too once the
  publication time has passed), again after `fetch.missing_retry_min`.
- After a failure: capped exponential back-off with "equal jitter" (half fixed, half random),
  never earlier than the server's Retry-After.

The per-device offset and the jitter come from `jitter.Rng`, seeded per device, so a fleet
spreads its requests and CPython and MicroPython compute the same times.
"""

from ..config import Field
from ..plan.windows import parse_hm

CONFIG = (
    Field("fetch.refresh_min", "number", 360, lo=15, hi=1440, unit="min", integer=True,
          help="refresh the prices this often after a good fetch"),
    Field("fetch.publish", "text", "", hi=5,
          help="local HH:MM the market publishes tomorrow's prices (e.g. 13:00 for Nord Pool, "
               "EPEX); empty = the price source's own time",
          parse=lambda v: parse_hm(v, "fetch.publish") if v else None, expect="HH:MM or empty"),
    Field("fetch.publish_delay_min", "number", 10, lo=0, hi=720, unit="min", integer=True,
          help="fetch this long after the provider's daily publication time"),
    Field("fetch.spread_s", "number", 900, lo=0, hi=7200, unit="s", integer=True,
          help="per-device random offset window, so a fleet does not fetch in the same second"),
    Field("fetch.seed", "number", 0, lo=0, hi=0xFFFFFFFF, integer=True,
          help="seed of the per-device offset and jitter; 0 = derive from the device id"),
    Field("fetch.missing_retry_min", "number", 30, lo=1, hi=720, unit="min", integer=True,
          help="retry this often while expected prices are missing"),
    Field("fetch.backoff_base_s", "number", 60, lo=1, hi=3600, unit="s", integer=True,
          help="first wait after a failed fetch (doubles per failure)"),
    Field("fetch.backoff_cap_s", "number", 3600, lo=10, hi=86400, unit="s", integer=True,
          help="longest wait between failed fetches"),
    Field("fetch.timeout_s", "number", 15, lo=2, hi=120, unit="s", integer=True,
          help="time-out of each network operation of a fetch"),
    Field("fetch.budget_s", "number", 60, lo=5, hi=600, unit="s", integer=True,
          help="a fetch starts only if no relay change is due within this time"),
)

RETRY_AFTER_MAX_S = 86400  # a Retry-After beyond a day is treated as a day


def local_time_on(zone, day_start_s, minute):
    """UTC second of local minute-of-day `minute` on the local day starting at day_start_s
    (correct across a DST change between midnight and that minute)."""
    t = day_start_s + minute * 60
    return t + zone.offset_at(day_start_s) - zone.offset_at(t)


class Cadence:
    def __init__(self, cfg, publish_local_min, rng):
        self.refresh_s = cfg["fetch.refresh_min"] * 60
        self.publish_min = publish_local_min
        self.delay_s = cfg["fetch.publish_delay_min"] * 60
        self.missing_s = cfg["fetch.missing_retry_min"] * 60
        self.base_s = cfg["fetch.backoff_base_s"]
        self.cap_s = cfg["fetch.backoff_cap_s"]
        self.rng = rng
        self.offset_s = rng.below(cfg["fetch.spread_s"])  # drawn once: this device's offset
        self.failures = 0

    def publish_on(self, zone, t_s):
        """This device's fetch moment for the publication of the local day containing t_s."""
        return local_time_on(zone, zone.day_start(t_s), self.publish_min) + self.delay_s + \
            self.offset_s

    def _publish_after(self, zone, t_s):
        p = self.publish_on(zone, t_s)
        if p <= t_s:
            p = self.publish_on(zone, zone.next_day_start(t_s))
        return p

    def next_due(self, zone, now_s, last_ok_s, coverage_end_s):
        """Next fetch time given the last good fetch (None: never) and the end of the known
        prices (None: nothing cached). A result <= now_s means due now."""
        if last_ok_s is None or last_ok_s > now_s:
            return now_s
        due = last_ok_s + self.refresh_s
        if self.publish_min is not None:
            due = min(due, self._publish_after(zone, last_ok_s))
            wanted = zone.next_day_start(now_s)  # the rest of today
            if now_s >= self.publish_on(zone, now_s):
                wanted = zone.next_day_start(wanted)  # and all of tomorrow
        else:
            wanted = now_s + 1
        if coverage_end_s is None or coverage_end_s < wanted:
            due = min(due, last_ok_s + self.missing_s)
        return due

    def catch_up(self, now_s, due_s):
        """The first fetch after a restart that finds one overdue: at this device's offset
        from now instead of at once. A power cut of a whole street ends for every plug in the
        same second; without this they would all ask the API together, every time."""
        return due_s if due_s > now_s else now_s + self.offset_s

    def succeeded(self):
        self.failures = 0

    def failed(self, now_s, retry_after_s=None):
        """Record a failure; returns the time of the next attempt."""
        self.failures += 1
        n = self.failures - 1
        wait = self.cap_s if n >= 20 else min(self.cap_s, self.base_s << n)
        half = wait // 2
        wait = wait - half + self.rng.below(half + 1)
        if retry_after_s is not None and retry_after_s > 0:
            wait = max(wait, min(int(retry_after_s), RETRY_AFTER_MAX_S))
        return now_s + wait


class Backoff:
    """Capped exponential back-off with equal jitter for Wi-Fi and NTP retries."""

    def __init__(self, base_s, cap_s, rng):
        self.base_s = base_s
        self.cap_s = cap_s
        self.rng = rng
        self.failures = 0
        self.next_s = 0  # next allowed attempt

    def ready(self, now_s):
        return now_s >= self.next_s

    def ok(self):
        self.failures = 0
        self.next_s = 0

    def fail(self, now_s):
        n = self.failures
        self.failures += 1
        wait = self.cap_s if n >= 20 else min(self.cap_s, self.base_s << n)
        half = wait // 2
        self.next_s = now_s + wait - half + self.rng.below(half + 1)
        return self.next_s
