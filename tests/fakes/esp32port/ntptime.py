# Fake `ntptime` (test-only; see README.md): settime() succeeds or raises OSError like a timeout.
host = "pool.ntp.org"
timeout = 1


class _State:
    ok = True
    calls = []


def settime():
    _State.calls.append(host)
    if not _State.ok:
        raise OSError(110)
