# runtimes: cpython micropython
# mpy-heap: 1m
"""The server never costs a switch: while hostile clients hit the plug's web server (a
slowloris, 10,000 headers, a 1 MB body, garbage, more connections than slots), each gets a
clean 4xx/503 or a close, no setting changes, and the relay switches ON at its second.

The app runs on a wall-clock fake HAL (tests/webkit.py) with a plan that switches ON at
T_SWITCH, 2 s after the start; the clients run in the same asyncio loop, like on the plug."""

import asyncio
import json

from webkit import T_SWITCH, get, plug, post, request, serving

from firmware import config
from firmware.compat import ticks_add, ticks_diff, ticks_ms

from support import TmpDir

LATE_MS = 400  # a relay change must happen within this much of its second (2 busy cores)


async def slowloris(port, results):
    """One byte every 300 ms: the server closes (408) after its request time limit."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    t0 = ticks_ms()
    status = None
    try:
        for ch in b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200:
            w.write(bytes([ch]))
            await w.drain()
            try:
                data = await asyncio.wait_for(r.read(64), 0.3)
            except asyncio.TimeoutError:  # noqa: UP041 - MicroPython's own class
                continue
            if data.startswith(b"HTTP/1.1 "):
                status = int(data[9:12])
            break
    except OSError:
        status = "reset"
    finally:
        w.close()
    results["slowloris"] = (status, ticks_diff(ticks_ms(), t0))


async def many_headers(port, results):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    status = None
    try:
        w.write(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for k in range(100):  # 10,000 header lines in 100 writes
            w.write(b"X-H: 1\r\n" * 100)
            await w.drain()
            if k == 5:  # the server answered by now (it stops after 40 headers)
                data = await asyncio.wait_for(r.read(64), 3)
                status = int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else data
                break
    except OSError:
        status = status or "reset"
    finally:
        w.close()
    results["headers"] = status


async def big_body(port, results):
    """Content-Length 1 MB: refused from the headers alone (the body is never read)."""
    r, w = await asyncio.open_connection("127.0.0.1", port)
    status = None
    try:
        w.write(b"POST /api/settings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n")
        await w.drain()
        data = await asyncio.wait_for(r.read(64), 3)
        status = int(data[9:12]) if data.startswith(b"HTTP/1.1 ") else data
        try:
            for _ in range(16):  # and the megabyte anyway: the server has closed
                w.write(b"{" * 65536)
                await w.drain()
        except OSError:
            pass
    except OSError:
        status = "reset"
    finally:
        w.close()
    results["body"] = status


async def poller(port, results, until_ms):
    """A page polling /api/status all along (after the slowloris clients): always answered."""
    codes = []
    while ticks_diff(until_ms, ticks_ms()) > 0:
        codes.append((await request(port, get("/api/status", "pw-123456")))[0])
        await asyncio.sleep(0.05)
    results["polls"] = codes


async def hostile(app, hal, web, results):
    port = web.port
    t0 = ticks_ms()
    task = await serving(app, web, T_SWITCH + 4)
    loris = [asyncio.create_task(slowloris(port, results)) for _ in range(2)]
    await asyncio.sleep(0.2)
    # both slots are held by the slowloris clients now: a third client is turned away
    results["busy"] = (await request(port, get("/api/status")))[0]
    for a in loris:
        await a
    while web.server.active:  # the server closes its side just after the client saw 408
        await asyncio.sleep(0.01)
    poll = asyncio.create_task(poller(port, results, ticks_add(t0, 3800)))
    await many_headers(port, results)
    await big_body(port, results)
    results["garbage"] = await request(port, b"\x16\x03\x01\x02\x00\x01\xfc\x03\x03\r\n\r\n")
    results["no_target"] = await request(port, b"GET\r\n\r\n")
    results["method"] = await request(port, b"DELETE /api/status HTTP/1.1\r\n\r\n")
    results["long_line"] = await request(port, b"GET /" + b"a" * 3000 + b" HTTP/1.1\r\n\r\n")
    results["bad_length"] = await request(port, b"POST /api/override HTTP/1.1\r\n"
                                          b"Content-Length: -5\r\n\r\n")
    results["cut_body"] = await request(port, post("/api/override", {"on": True})[:-3])
    results["not_json"] = await request(port, post("/api/settings", "{policy.hours: 3",
                                                   password="pw-123456"))
    await poll
    results["after"] = await request(port, get("/api/status", "pw-123456"))
    await task


def test_hostile_clients_get_4xx_or_a_close_and_the_relay_switches_on_time():
    with TmpDir("webab") as root:
        app, hal, web = plug(root, lead_s=3, web__password="pw-123456")
        config.save(root, app._cfg_in)
        with open(root + "/config.json") as f:
            saved = f.read()
        results = {}
        asyncio.run(hostile(app, hal, web, results))
        # the relay: OFF at boot, ON at T_SWITCH (3 s after the start) within LATE_MS
        ons = [ms for ms, lvl in hal.relay_ms if lvl]
        assert len(ons) == 1, hal.relay_ms
        assert 3000 <= ons[0] <= 3000 + LATE_MS, hal.relay_ms
        status, took = results["slowloris"]
        assert status in (408, "reset", None) and took < 4000, results["slowloris"]
        assert results["busy"] == 503, results
        assert results["headers"] in (431, "reset"), results["headers"]
        assert results["body"] == 413, results["body"]
        assert results["garbage"][0] == 400, results["garbage"]
        assert results["no_target"][0] == 400, results["no_target"]
        assert results["method"][0] == 405, results["method"]
        assert results["long_line"][0] == 431, results["long_line"]
        assert results["bad_length"][0] == 400, results["bad_length"]
        assert results["cut_body"][0] in (408, None), results["cut_body"]
        assert results["not_json"][0] == 400, results["not_json"]
        assert results["after"][0] == 200, results["after"]
        polls = results["polls"]
        assert len(polls) >= 5 and all(c in (200, 503) for c in polls), polls
        assert polls.count(200) >= len(polls) // 2, polls
        assert json.loads(results["after"][1])["relay_on"] is True
        # nothing changed: no override, the same settings on flash and in the app
        assert app.state.override_until_s is None
        with open(root + "/config.json") as f:
            assert f.read() == saved
        assert app.cfg["policy.hours"] == 1
        assert web.server.active == 0
