# Fake ESP32 `machine` (test-only; see README.md). Records pin writes, IRQ handlers, WDT feeds.
PWRON_RESET = 1
HARD_RESET = 2
WDT_RESET = 3
DEEPSLEEP_RESET = 4
SOFT_RESET = 5


class _State:
    reset_cause = PWRON_RESET
    resets = 0
    pins = {}  # id -> Pin
    wdts = []
    timers = []


def reset_cause():
    return _State.reset_cause


def reset():
    _State.resets += 1


def unique_id():
    return b"\x24\x0a\xc4\x12\x34\x56"


class Pin:
    IN = 1
    OUT = 3
    PULL_UP = 2
    PULL_DOWN = 1
    IRQ_FALLING = 2
    IRQ_RISING = 1

    def __init__(self, id, mode=-1, pull=-1, value=None):
        self.id = id
        self.mode = mode
        self.pull = pull
        self.level = 1 if pull == Pin.PULL_UP else 0
        if value is not None:
            self.level = 1 if value else 0
        self.writes = []
        self.handler = None
        self.trigger = None
        _State.pins[id] = self

    def value(self, v=None):
        if v is None:
            return self.level
        self.level = 1 if v else 0
        self.writes.append(self.level)

    def irq(self, trigger=3, handler=None):
        self.trigger = trigger
        self.handler = handler

    def fire(self):
        """Test helper: the edge the IRQ waits for happens."""
        if self.handler is not None:
            self.handler(self)


class WDT:
    def __init__(self, id=0, timeout=5000):
        self.timeout = timeout
        self.feeds = 0
        _State.wdts.append(self)

    def feed(self):
        self.feeds += 1


class Timer:
    ONE_SHOT = 0
    PERIODIC = 1

    def __init__(self, id=-1):
        self.id = id
        self.period = None
        self.callback = None
        _State.timers.append(self)

    def init(self, mode=1, period=-1, callback=None):
        self.period = period
        self.callback = callback

    def deinit(self):
        self.period = None
        self.callback = None
