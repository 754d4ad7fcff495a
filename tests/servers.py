"""Loopback servers the tests talk to (CPython side).

start() launches every server in background threads and returns the environment variables that
tell the tests (pytest, and the MicroPython subprocesses) where to find them; stop() ends them.
"""

_running = []


def start():
    env = {}
    return env


def stop():
    while _running:
        _running.pop().shutdown()
