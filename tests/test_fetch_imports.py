"""CPython-only: what the plain-HTTP Arcadia fetch path loads, checked in fresh interpreters
(CPython and the MicroPython unix port). Settings declarations (config.py, the providers'
CONFIG) and the rarely needed http parts (TLS, gzip, redirects, Retry-After dates) must stay
out of it: every module loaded costs heap on the plug (tests/bench_fetch.py)."""

import subprocess
import sys

import minheap

LAZY = ("firmware.config", "firmware.providers.arcadia_settings",
        "firmware.providers.arcadia_errors", "firmware.http.tls", "firmware.http.gzip",
        "firmware.http.redirect", "firmware.http.date")

SCRIPT = """
import sys
from firmware.http import client as http
from firmware.providers import arcadia
from firmware.prices.store import Store
loaded = [m for m in %r if m in sys.modules]
print("LOADED", loaded)
assert arcadia.CONFIG[0].name == "arcadia.appId"  # still there, on first use
assert "firmware.config" in sys.modules
assert http.retry_after({"retry-after": "7"}) == 7
print("OK")
""" % (LAZY,)


def _check(cmd):
    p = subprocess.run(cmd, cwd=minheap.ROOT, env=minheap.mpy_env(), capture_output=True,
                       text=True, timeout=60)
    out = p.stdout + p.stderr
    assert p.returncode == 0 and out.strip().endswith("OK"), out
    assert "LOADED []" in out, out


def test_fetch_path_imports_stay_lean_cpython():
    _check([sys.executable, "-c", SCRIPT])


def test_fetch_path_imports_stay_lean_micropython():
    _check([minheap.micropython_cmd(), "-c", SCRIPT])
