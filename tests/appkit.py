"""What the app tests share: the App itself, scripted providers, prices and config."""

from firmware.app.control import (
    MAX_SLEEP_S,  # noqa: F401 - re-exported for the app tests
    App,  # noqa: F401 - re-exported for the app tests
)
from firmware.app.jitter import Rng
from firmware.prices.schedule import Schedule
from firmware.prices.store import Store

T0 = 1749600000  # 2025-06-11T00:00:00Z (a June day: no DST change near it)
HOUR = 3600


def prices(start_s, hours, step_s=HOUR, seed=7):
    """A schedule of distinct pseudo-random prices (integer micro-units)."""
    s = Schedule("test", "USD", "kWh")
    r = Rng(seed)
    t = start_s
    for _ in range(hours * HOUR // step_s):
        s.add(t, t + step_s, 50000 + r.below(200000))
        t += step_s
    return s


class FakeProvider:
    """A provider module stand-in: each fetch returns/raises the next scripted item."""

    CONFIG = ()
    NEEDS_NETWORK = True

    def __init__(self, script=None, publish_min=17 * 60, default=None, hal=None):
        self.PUBLISH_LOCAL_MIN = publish_min
        self.script = list(script or [])
        self.default = default  # callable(now_s) -> Schedule, when the script is empty
        self.calls = []
        self.hal = hal  # records ("fetch", t) in hal.calls when set

    def fetch(self, client, cfg, now_s, state):
        self.calls.append(now_s)
        if self.hal is not None:
            self.hal.calls.append(("fetch", now_s))
        item = self.script.pop(0) if self.script else (
            self.default(now_s) if self.default else OSError(110, "timed out"))
        if isinstance(item, Exception):
            raise item
        return item


class RetryLater(Exception):
    def __init__(self, retry_after_s):
        super().__init__("HTTP 429")
        self.status = 429
        self.retry_after_s = retry_after_s


def cfg(**kw):
    c = {"tz": "UTC0", "wifi.ssid": "home", "wifi.password": "pw", "fetch.seed": 1234}
    for k, v in kw.items():
        c[k.replace("__", ".")] = v
    return c


def cache(root, sched, fetched_s):
    sched.fetched_s = fetched_s
    assert Store(root).save(sched)


def _gaps(times):
    return [times[k + 1] - times[k] for k in range(len(times) - 1)]


def boundaries(sched):
    return [sched.start_of(i) for i in range(len(sched))] + [sched.end_s]
