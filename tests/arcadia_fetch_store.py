# MicroPython (or CPython) side of tests/bench_fetch.py: fetch a Smart Price document from the
# loopback server through http -> jsonstream -> schedule -> store, and print OK last.
#   arcadia_fetch_store.py BASE_URL STORE_DIR [N_FETCHES]
# Prints "intervals N", "bytes B" (cache file size) and "writes W" (flash writes of all fetches).
# N_FETCHES 0 only imports the modules (the import share of the heap). WW_MPY_DIR, if set, is a
# directory of precompiled .mpy modules searched first.
import os
import sys

if os.getenv("WW_MPY_DIR"):
    sys.path.insert(0, os.getenv("WW_MPY_DIR"))

import gc  # noqa: E402
import socket  # noqa: E402

from firmware.hal.contract import tcp_connect  # noqa: E402
from firmware.http import client as http  # noqa: E402
from firmware.prices.store import Store  # noqa: E402
from firmware.providers import arcadia  # noqa: E402


def open_socket(host, port, timeout_s):
    return tcp_connect(socket, host, port, timeout_s)


def main(base, root, n):
    if not n:
        print("OK")
        return
    client = http.Client(open_socket, timeout_s=20)
    cfg = {"arcadia.appId": "bench", "arcadia.appKey": "bench-key", "arcadia.baseUrl": base,
           "arcadia.masterTariffId": 3498765, "arcadia.hours": 168}
    st = Store(root)
    s = None
    for k in range(n):
        s = None
        gc.collect()
        s = arcadia.fetch(client, cfg, 1773302400 + k * 3600, {})
        st.save(s)
    print("intervals", len(s))
    print("bytes", os.stat(st.path)[6])
    print("writes", st.writes)
    print("OK")


main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
