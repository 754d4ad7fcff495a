# MicroPython (or CPython) side of tests/bench_entsoe.py: fetch an ENTSO-E A44 document from the
# loopback fixture server through http -> xmlstream -> entsoe -> schedule -> store; print OK last.
#   entsoe_fetch_store.py URL STORE_DIR HOURS [MODE]
# MODE "fetch" (default), "imports" (only import the modules), or "read" (URL is a file path:
# only read it through formats/xmlstream.py, the reader's own share). Prints "intervals N".
# WW_MPY_DIR, if set, is a directory of precompiled .mpy modules searched first.
import os
import sys

if os.getenv("WW_MPY_DIR"):
    sys.path.insert(0, os.getenv("WW_MPY_DIR"))

import gc  # noqa: E402
import socket  # noqa: E402


def main(url, root, hours, mode):
    if mode == "read":
        from firmware.formats.xmlstream import items

        n = 0
        with open(url, "rb") as f:
            for _k, _v in items(f, ("Publication_MarketDocument/TimeSeries/Period/Point/"
                                    "position", "Publication_MarketDocument/TimeSeries/Period/"
                                    "Point/price.amount")):
                n += 1
        print("intervals", n // 2)
        print("OK")
        return
    from firmware.hal.contract import tcp_connect
    from firmware.http import client as http
    from firmware.prices.store import Store
    from firmware.providers import entsoe

    if mode == "imports":
        print("OK")
        return

    def open_socket(host, port, timeout_s):
        return tcp_connect(socket, host, port, timeout_s)

    client = http.Client(open_socket, timeout_s=20)
    cfg = {"entsoe.token": "bench", "entsoe.zone": "DE-LU", "entsoe.baseUrl": url,
           "entsoe.hours": hours}
    gc.collect()
    s = entsoe.fetch(client, cfg, 1760997600, {})  # 2025-10-20T22:00Z
    Store(root).save(s)
    print("intervals", len(s))
    print("OK")


main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] if len(sys.argv) > 4 else "fetch")
