"""Web page figures (MicroPython unix port, 64-bit; tests/web_status_request.py):

- web_status_request_min_heap_bytes: smallest heap at which the app boots with 7 days of
  15-minute prices (a plan held), starts firmware/web and serves one /api/status request,
  modules precompiled with mpy-cross -O1 (as deployed); `boot_only` is the same without the
  server, so the difference is what the page costs.
- web_status_request_bare_server_min_heap_bytes: firmware/web/server.py with one route that
  answers app.status(); web_status_request_microdot_min_heap_bytes: the same route on microdot,
  only when WW_MICRODOT names a directory holding the microdot package (not a dependency).
- web_page_transfer_bytes (budget 16 KB): the page as sent (gzip); web_page_html_bytes: unzipped.
- web_status_ms_median / _max: 50 requests in a row, client side, while the plan is held
  (budget 50 ms).
"""

import os
import shutil
import tempfile

from bench_fetch import _compile_mpy

import minheap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tests", "web_status_request.py")


def _port():
    from webkit import free_port

    return str(free_port())


def run():
    from firmware.web import page

    yield {"name": "web_page_transfer_bytes", "value": len(page.PAGE_GZ), "unit": "B",
           "runtime": "any", "budget": 16384}
    yield {"name": "web_page_html_bytes",
           "value": os.path.getsize(os.path.join(ROOT, "firmware", "web", "page.html")),
           "unit": "B", "runtime": "any"}
    mpy = tempfile.mkdtemp(prefix="ww_bench_web_mpy_")
    flash = tempfile.mkdtemp(prefix="ww_bench_web_flash_")
    try:
        _compile_mpy(mpy)
        env = {"WW_MPY_DIR": mpy}

        def heap(mode, extra=None):
            def args():
                return [SCRIPT, flash, _port(), mode]
            e = dict(env, **(extra or {}))
            # a fresh port per run: min_heap runs the script some 15 times
            return minheap.min_heap(_Args(args), e)

        boot = heap("boot")
        own = heap("own")
        yield {"name": "web_status_request_min_heap_bytes", "value": own, "unit": "B",
               "runtime": "micropython", "boot_only": boot, "web_cost": own - boot,
               "note": "7 days of 15-min prices, plan held, .mpy (64-bit)"}
        bare = heap("bare")
        yield {"name": "web_status_request_bare_server_min_heap_bytes", "value": bare,
               "unit": "B", "runtime": "micropython", "web_cost": bare - boot,
               "note": "firmware/web/server.py with one route returning app.status()"}
        md = os.getenv("WW_MICRODOT")
        if md:
            m = heap("microdot", {"WW_MICRODOT": md})
            yield {"name": "web_status_request_microdot_min_heap_bytes", "value": m,
                   "unit": "B", "runtime": "micropython", "web_cost": m - boot,
                   "note": "microdot from %s, the same one route" % md}
        ok, out = minheap.ok_at(4 << 20, [SCRIPT, flash, _port(), "own", "50"], env)
        if not ok:
            raise RuntimeError(out[-2000:])
        vals = dict(line.split() for line in out.splitlines() if line.startswith("ms_"))
        yield {"name": "web_status_ms_median", "value": int(vals["ms_median"]), "unit": "ms",
               "runtime": "micropython", "budget": 50}
        yield {"name": "web_status_ms_max", "value": int(vals["ms_max"]), "unit": "ms",
               "runtime": "micropython", "budget": 50}
    finally:
        shutil.rmtree(mpy, ignore_errors=True)
        shutil.rmtree(flash, ignore_errors=True)


class _Args(list):
    """min_heap's argument list, with a new port at every run (it unpacks it each time)."""

    def __init__(self, make):
        list.__init__(self)
        self._make = make

    def __iter__(self):
        return iter(self._make())
