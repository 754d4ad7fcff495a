"""The soak's device side (MicroPython): device_main.run with two extra figures.

    micropython host_sim/soak_device.py OPTIONS.json      (host_sim/soak.py starts it)

Besides device_main's events it prints, once per simulated day (at device_main's "tick"):
    ["heap", t, alloc_bytes, free_bytes]      after gc.collect(): what the plug really holds
    ["flash", t, {"writes": n, "bytes": b, "files": {name: size}}]
        every open() for writing under the flash root so far (a write = one file written, or
        one append), the bytes written through them, and the files' sizes now.
Counting wraps builtins.open (the os module's functions cannot be replaced on MicroPython);
the firmware itself is unchanged.
"""

import builtins
import gc
import json
import os
import sys

from host_sim import device_main


class _Counted:
    """A file opened for writing: counts the bytes that go through it."""

    def __init__(self, f, meter):
        self._f = f
        self._meter = meter

    def write(self, data):
        n = self._f.write(data)
        self._meter["bytes"] += len(data) if n is None else n
        return n

    def close(self):
        return self._f.close()

    def flush(self):
        return self._f.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._f.close()

    def __getattr__(self, name):
        return getattr(self._f, name)


def count_flash(root):
    """Wrap open() for files under `root`; returns the live counters."""
    meter = {"writes": 0, "bytes": 0}
    real_open = builtins.open

    def _open(path, mode="r", *a, **kw):
        f = real_open(path, mode, *a, **kw)
        if isinstance(path, str) and path.startswith(root) and ("w" in mode or "a" in mode):
            meter["writes"] += 1
            return _Counted(f, meter)
        return f

    builtins.open = _open
    return meter


def _sizes(root):
    out = {}
    for name in os.listdir(root):
        try:
            out[name] = os.stat(root + "/" + name)[6]
        except OSError:
            pass
    return out


def main(argv):
    with open(argv[1]) as f:
        opts = json.load(f)
    root = opts["root"]
    meter = count_flash(root)
    out = sys.stdout

    def put(ev):
        out.write(json.dumps(ev))
        out.write("\n")

    def emit(ev):
        put(ev)
        if ev[0] == "tick":
            gc.collect()
            put(["heap", ev[1], gc.mem_alloc(), gc.mem_free()])
            snap = dict(meter)
            snap["files"] = _sizes(root)
            put(["flash", ev[1], snap])

    device_main.run(opts, emit)


if __name__ == "__main__":
    main(sys.argv)
