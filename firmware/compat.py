"""The one module that knows which interpreter runs (MicroPython or CPython).

Everything else imports these names from here and never branches on the runtime.
"""

import sys
import time

MICROPYTHON = sys.implementation.name == "micropython"

if MICROPYTHON:
    import micropython

    const = micropython.const
    ticks_ms = time.ticks_ms
    ticks_add = time.ticks_add
    ticks_diff = time.ticks_diff
    sleep_ms = time.sleep_ms

    def print_exception(exc, file=None):
        if file is None:
            sys.print_exception(exc)
        else:
            sys.print_exception(exc, file)  # type: ignore[arg-type]

    def native(fn):
        # Bytecode on purpose: native code must be compiled per architecture (-march) and
        # the same .mpy should run on the ESP32 and the unix port.
        return fn

else:
    import traceback

    def const(value):
        return value

    _TICKS_MAX = (1 << 30) - 1  # wrap like an ESP32 so wraparound bugs show on the host too
    _TICKS_HALF = 1 << 29

    def ticks_ms():
        return int(time.monotonic() * 1000) & _TICKS_MAX

    def ticks_add(ticks, delta):
        return (ticks + delta) & _TICKS_MAX

    def ticks_diff(end, start):
        return ((end - start + _TICKS_HALF) & _TICKS_MAX) - _TICKS_HALF

    def sleep_ms(ms):
        time.sleep(ms / 1000)

    def print_exception(exc, file=sys.stdout):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=file)

    def native(fn):
        return fn


def exc_text(exc):
    """A one-line description of an exception, the same on both runtimes. Line breaks inside
    the text go (mbedTLS, for one, wraps its messages in newlines): it ends up in a log line."""
    name = type(exc).__name__
    args = getattr(exc, "args", ())
    if not args:
        return name
    return "%s: %s" % (name, " ".join(" ".join(str(a).split()) for a in args))


def collect_often(divisor):
    """Collect after every 1/divisor of the heap now free has been allocated (MicroPython's
    gc.threshold counts bytes allocated since the last collection; nothing on CPython), not
    only when an allocation fails. Garbage then never piles up between the long-lived objects,
    so large blocks (a schedule's arrays, the plan) still find room. Measured on a 32-bit
    frozen build, the app with the web page and MQTT at 15-minute prices: 107.3 KB -> 83.6 KB
    smallest heap (docs/app.md)."""
    try:
        import gc

        gc.collect()
        gc.threshold(gc.mem_free() // divisor)
    except (ImportError, AttributeError):
        pass


def mem_free():
    """Free heap in bytes, or -1 where the runtime cannot tell."""
    try:
        import gc

        return gc.mem_free()
    except (ImportError, AttributeError):
        return -1
