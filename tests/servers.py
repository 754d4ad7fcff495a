"""Loopback servers the tests talk to (CPython side).

start() calls start() of every tests/srv_*.py module (in name order) and returns the merged
environment variables that tell the tests (pytest, and the MicroPython subprocesses) where to
find them; stop() stops them all, in reverse order. A module that fails to start stops the ones
already running and the error propagates.
"""

import importlib
import os
import sys

TESTS = os.path.dirname(os.path.abspath(__file__))
_running = []


def modules():
    if TESTS not in sys.path:
        sys.path.insert(0, TESTS)
    root = os.path.dirname(TESTS)
    if root not in sys.path:
        sys.path.insert(0, root)
    names = sorted(n[:-3] for n in os.listdir(TESTS) if n.startswith("srv_") and n.endswith(".py"))
    return [importlib.import_module(n) for n in names]


def start():
    env = {}
    try:
        for mod in modules():
            got = mod.start()
            _running.append(mod)
            for k, v in (got or {}).items():
                if k in env and env[k] != v:
                    raise RuntimeError("%s: %s set twice" % (mod.__name__, k))
                env[k] = str(v)
    except BaseException:
        stop()
        raise
    return env


def stop():
    while _running:
        mod = _running.pop()
        try:
            mod.stop()
        except Exception as e:  # noqa: BLE001 - stop the others anyway
            print("servers.stop: %s: %s" % (mod.__name__, e), file=sys.stderr)
