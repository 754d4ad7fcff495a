# MicroPython (or CPython) side of tests/bench_web.py: boot the app on a fake HAL with 7 days of
# 15-minute prices cached (a plan held), serve /api/status on 127.0.0.1 and fetch it from a
# client in the same asyncio loop; print OK last.
#   web_status_request.py FLASH_DIR PORT MODE [N]
# MODE: "boot" (the app only: no server), "own" (firmware/web: service, routes, server),
# "bare" (firmware/web/server.py, one route returning app.status()), "microdot" (microdot on
# $WW_MICRODOT, the same one route). N requests (default 1); with N > 1 prints "ms_median M" and
# "ms_max M" (wall time per request, client side). WW_MPY_DIR, if set, is searched first.
import os
import sys

if os.getenv("WW_MPY_DIR"):
    sys.path.insert(0, os.getenv("WW_MPY_DIR"))
if os.getenv("WW_MICRODOT"):
    sys.path.append(os.getenv("WW_MICRODOT"))

import asyncio  # noqa: E402
import gc  # noqa: E402

from firmware.app.control import App  # noqa: E402
from firmware.compat import ticks_diff, ticks_ms  # noqa: E402
from firmware.prices.schedule import Schedule  # noqa: E402
from firmware.prices.store import Store  # noqa: E402

from fakehal import FakeHal  # noqa: E402

T0 = 1749600000  # 2025-06-11T00:00:00Z


def boot(root):
    s = Schedule("bench", "USD", "kWh")
    for k in range(7 * 96):
        s.add(T0 + k * 900, T0 + (k + 1) * 900, 50000 + (k * 7919) % 200000)
    s.fetched_s = T0
    Store(root).save(s)
    del s
    hal = FakeHal(root, t=T0 + 5 * 3600 + 17, net_up=False)
    app = App(hal, {"tz": "UTC0", "policy.hours": 4, "fetch.seed": 1})
    app.boot()
    gc.collect()
    return app


async def client(port, n):
    times = []
    for _ in range(n):
        t0 = ticks_ms()
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await w.drain()
        got = b""
        while True:
            chunk = await r.read(512)
            if not chunk:
                break
            if not got:  # microdot answers HTTP/1.0
                assert chunk.startswith(b"HTTP/1.") and chunk[8:13] == b" 200 ", chunk[:40]
            got = got[-16:] + chunk  # keep only the tail: the answer is not held whole
        w.close()
        await w.wait_closed()
        assert got.endswith(b"}"), got
        times.append(ticks_diff(ticks_ms(), t0))
    return times


async def serve_own(app, port, n):
    from firmware.web.service import WebService

    web = WebService("127.0.0.1", port)
    web.start(app)
    await asyncio.sleep(0.05)
    return await client(port, n)


async def serve_bare(app, port, n):
    """firmware/web/server.py with one route, the microdot case's: the frameworks compared."""
    from firmware.web.server import Server

    async def handle(req, resp):
        await resp.json(200, app.status())

    srv = Server(handle)
    await srv.start("127.0.0.1", port)
    return await client(port, n)


async def serve_microdot(app, port, n):
    import json

    from microdot import Microdot

    md = Microdot()

    @md.route("/api/status")
    async def status(request):
        return json.dumps(app.status()), 200, {"Content-Type": "application/json"}

    asyncio.create_task(md.start_server(host="127.0.0.1", port=port))
    await asyncio.sleep(0.05)
    times = await client(port, n)
    md.shutdown()
    return times


def main(root, port, mode, n):
    app = boot(root)
    if mode != "boot":
        fn = {"own": serve_own, "bare": serve_bare, "microdot": serve_microdot}[mode]
        times = asyncio.run(fn(app, port, n))
        if n > 1:
            times.sort()
            print("ms_median %d" % times[len(times) // 2])
            print("ms_max %d" % times[-1])
    print("OK")


main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 1)
