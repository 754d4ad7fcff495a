"""Loopback servers of the European day-ahead sources for the provider tests (CPython side).

start() returns WW_EDS_PORT, WW_AWATTAR_PORT, WW_OCTOPUS_PORT and WW_ENTSOE_PORT. Each test uses
its own session (`/s/<sid>/...`, host_sim/apis/__init__.py). Prices: the real DK1 2024 hours in
tests/data/dk1_2024_dst.csv (EUR/MWh -> micro-EUR/kWh), with the October stretch also copied 364
days later (2025-10-19..11-02, the same weekdays and the same DST change), where Energi Data
Service answers from its 15-minute DayAheadPrices dataset.
"""

import os

from host_sim.apis import LoopbackServer
from host_sim.apis.awattar import AwattarApi
from host_sim.apis.energidataservice import EnergiDataServiceApi
from host_sim.apis.entsoe import EntsoeApi
from host_sim.apis.octopus import OctopusApi
from host_sim.prices import load_csv

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "dk1_2024_dst.csv")
SHIFT_S = 364 * 86400
_running = []


def dk1_rows():
    s = load_csv(DATA)
    rows = list(zip(s.starts, s.ends, s.prices, strict=True))
    oct_rows = [(a + SHIFT_S, b + SHIFT_S, p) for a, b, p in rows if a >= 1729382400]
    return rows + oct_rows  # 1729382400 = 2024-10-20T00:00Z


def fixture_prices():
    rows = dk1_rows()

    def prices(t0, t1, now_s):
        return [(max(a, t0), min(b, t1), p) for a, b, p in rows if b > t0 and a < t1]

    return prices


def start():
    prices = fixture_prices()
    servers = {"WW_EDS_PORT": LoopbackServer(lambda: EnergiDataServiceApi(prices, "EUR")),
               "WW_AWATTAR_PORT": LoopbackServer(lambda: AwattarApi(prices)),
               "WW_OCTOPUS_PORT": LoopbackServer(lambda: OctopusApi(prices)),
               "WW_ENTSOE_PORT": LoopbackServer(lambda: EntsoeApi(prices))}
    env = {}
    for k, srv in servers.items():
        _running.append(srv.start())
        env[k] = str(srv.port)
    return env


def stop():
    while _running:
        _running.pop().shutdown()
