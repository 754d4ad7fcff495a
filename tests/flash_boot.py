"""Boot script of the emulated board (MicroPython unix port, run by fake_serial_device.py).

Mounts the LittleFS image named by $FLASH_IMG as `/`, as the ESP32 port mounts its `vfs`
partition, then behaves like a board after a reset: runs /boot.py, and /main.py unless the
reset came from the raw REPL ($WW_RUN_MAIN=0: mpremote's soft reset skips main.py on a board).
`machine`, `network` and `ntptime` are faked well enough for firmware/hal/esp32.py (no network,
a valid clock); `machine.reset()` exits with code 66, which the fake device turns into a hard
reset.
"""

import os
import sys

import vfs

from fileblockdev import FileBlockDev

# Host files must be opened before `/` is unmounted (open() then raises ENODEV).
_levels = {}  # pin -> last level written: an ESP32 output keeps driving it over a soft reset
if os.getenv("GPIO_LOG"):
    try:
        with open(os.getenv("GPIO_LOG")) as _f:
            for _line in _f:
                _n, _v = _line.split()
                _levels[int(_n)] = int(_v)
    except OSError:
        pass
_gpio = open(os.getenv("GPIO_LOG"), "a") if os.getenv("GPIO_LOG") else None  # noqa: SIM115
_bd = FileBlockDev(os.getenv("FLASH_IMG"), 4096, int(os.getenv("FLASH_BLOCKS") or 256))
vfs.umount("/")
try:
    vfs.mount(vfs.VfsLfs2(_bd), "/")
except OSError:  # blank image: format it, as the board does on first boot
    vfs.VfsLfs2.mkfs(_bd)
    vfs.mount(vfs.VfsLfs2(_bd), "/")
os.chdir("/")
sys.path[:] = ["", ".frozen", "/lib"]
sys.stdout.write("\x1b[ww-flash-mounted]\r\n")  # fake_serial_device.py: boot done, let input in


# -- the board's hardware, faked (the ESP32 HAL runs unchanged on top) -------------------------
# GPIO writes go to the host file $GPIO_LOG ("pin value" lines), opened above before the root
# was replaced by the flash image; the test reads the relay's history from it.


class _Pin:
    IN, OUT, OPEN_DRAIN = 1, 3, 7
    PULL_UP, PULL_DOWN = 1, 2
    IRQ_RISING, IRQ_FALLING = 1, 2

    def __init__(self, no, mode=-1, pull=-1, value=None):
        self.no = no
        self._v = 1 if pull == _Pin.PULL_UP else _levels.get(no, 0)  # button at rest / kept
        if value is not None:
            self.value(value)

    def value(self, v=None):
        if v is None:
            return self._v
        self._v = _levels[self.no] = 1 if v else 0
        if _gpio is not None:
            _gpio.write("%d %d\n" % (self.no, self._v))
            _gpio.flush()

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    def irq(self, trigger=None, handler=None):
        pass


class _Timer:
    PERIODIC, ONE_SHOT = 1, 0

    def __init__(self, n=-1, **kw):
        pass

    def init(self, **kw):
        pass

    def deinit(self):
        pass


class _WDT:
    def __init__(self, id=0, timeout=5000):
        pass

    def feed(self):
        pass


class _Machine:
    """The unix port's machine module plus what an ESP32 has (reset, Pin, Timer, WDT...)."""

    Pin, Timer, WDT = _Pin, _Timer, _WDT
    PWRON_RESET, HARD_RESET, WDT_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 2, 3, 4, 5

    def __init__(self):
        import umachine

        self._m = umachine

    def __getattr__(self, name):
        return getattr(self._m, name)

    def reset(self):
        sys.exit(66)  # fake_serial_device.py: hard reset

    def reset_cause(self):
        return 5  # the RTC kept running: the host clock is valid

    def unique_id(self):
        return b"\x24\x0a\xc4\x00\x00\x01"


class _WLAN:
    def __init__(self, interface=0):
        self._active = False

    def active(self, on=None):
        if on is not None:
            self._active = bool(on)
        return self._active

    def isconnected(self):
        return False  # no network on the emulated board

    def connect(self, ssid=None, key=None):
        pass

    def disconnect(self):
        pass

    def ifconfig(self):
        return ("0.0.0.0", "0.0.0.0", "0.0.0.0", "0.0.0.0")


class _Network:
    STA_IF, AP_IF = 0, 1
    WLAN = _WLAN


class _Ntptime:
    host = "pool.ntp.org"

    def settime(self):
        raise OSError(110)  # ETIMEDOUT: no network


sys.modules["machine"] = _Machine()
sys.modules["network"] = _Network()
sys.modules["ntptime"] = _Ntptime()


def _run(name):
    try:
        os.stat(name)
    except OSError:
        return
    with open(name) as f:
        src = f.read()
    try:
        exec(src, globals())  # a board runs boot.py and main.py in the REPL's namespace
    except KeyboardInterrupt:
        print("KeyboardInterrupt")
    except Exception as e:  # a board prints the traceback and drops to the REPL
        sys.print_exception(e)


_run("boot.py")
if os.getenv("WW_RUN_MAIN") == "1":
    _run("main.py")
del _run
