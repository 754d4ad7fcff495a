"""Loopback GridX and OpenADR 3 VTN servers for the provider tests (CPython side).

start() returns WW_GRIDX_PORT and WW_VTN_PORT. Each test uses its own session
(`/s/<sid>/...`, see host_sim/apis/__init__.py), so tests running at the same time in pytest
and in several MicroPython processes never see each other's tokens, fault modes or requests.
The GridX server prices by default come from tests/fixtures/gridx (2025-11-01..02, the
fall-back day); the VTN serves tests/fixtures/openadr3 until a test replaces the events.
"""

import os

from host_sim.apis import FIXTURES, LoopbackServer
from host_sim.apis.gridx_server import GridXApi, fixture_prices
from host_sim.apis.openadr3_server import OpenADR3Api

GRIDX_FIXTURE = os.path.join(FIXTURES, "gridx", "pricing_2day_dam_hourly_dst.json")
_running = []


def start():
    prices = fixture_prices(GRIDX_FIXTURE)
    gridx = LoopbackServer(lambda: GridXApi(prices)).start()
    vtn = LoopbackServer(OpenADR3Api).start()
    _running.extend((gridx, vtn))
    return {"WW_GRIDX_PORT": str(gridx.port), "WW_VTN_PORT": str(vtn.port)}


def stop():
    while _running:
        _running.pop().shutdown()
