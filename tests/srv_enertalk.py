"""Loopback Enertalk Bills API (host_sim/apis/enertalk_server.py) for the host tool's tests.

start() returns WW_ENERTALK_PORT; each test uses its own session (`/s/<sid>/...`), so bills
patched and tokens expired by one test are never seen by another.
"""

from host_sim.apis import LoopbackServer
from host_sim.apis.enertalk_server import EnertalkApi

_running = []


def start():
    srv = LoopbackServer(EnertalkApi).start()
    _running.append(srv)
    return {"WW_ENERTALK_PORT": str(srv.port)}


def stop():
    while _running:
        _running.pop().shutdown()
