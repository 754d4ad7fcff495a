"""ENTSO-E XML benchmarks (formats/xmlstream.py, providers/entsoe.py), MicroPython unix port.

- entsoe_min_heap_7d_bytes: smallest `-X heapsize` (tests/minheap.py bisection, imports
  included, firmware/ precompiled with mpy-cross -O1 as deployed) at which
  tests/entsoe_fetch_store.py fetches a generated 7-day PT15M A44 document (672 points, every
  one given, ~90 KB) from the loopback fixture server through http -> xmlstream -> entsoe ->
  schedule -> store. `imports_only`: the same with the imports alone.
- xmlstream_min_heap_{1d,7d,30d,10MB}_bytes: the reader alone over documents of 1, 7, 30 days
  and ~10 MB (1140 days) read from a file: flat in the document's size, like the JSON parser.

Documents are generated under tests/fixtures/generated/ and deleted afterwards.
"""

import os
import shutil
import sys
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS)

from bench_fetch import _compile_mpy  # noqa: E402

import minheap  # noqa: E402
import servers  # noqa: E402

GEN_DIR = os.path.join(TESTS, "fixtures", "generated")
T0 = 1760997600  # 2025-10-20T22:00:00Z, a CET delivery day's start
NS = "urn:iec62325.351:tc57wg16:451-3:publicationdocument:7:3"


def _z(t):
    import time

    return time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(t))


def document(days):
    """An A44 answer: one PT15M TimeSeries per day, all 96 points given (A01), distinct prices."""
    out = ['<?xml version="1.0" encoding="utf-8"?>\n<Publication_MarketDocument xmlns="%s">\n'
           '\t<mRID>bench</mRID>\n\t<type>A44</type>\n' % NS]
    for d in range(days):
        a = T0 + d * 86400
        pts = "".join("\t\t\t<Point>\n\t\t\t\t<position>%d</position>\n\t\t\t\t<price.amount>"
                      "%d.%02d</price.amount>\n\t\t\t</Point>\n"
                      % (k + 1, (d * 37 + k * 7919) % 400 - 100, k % 100) for k in range(96))
        out.append("\t<TimeSeries>\n\t\t<mRID>%d</mRID>\n\t\t<contract_MarketAgreement.type>A01"
                   "</contract_MarketAgreement.type>\n\t\t<currency_Unit.name>EUR"
                   "</currency_Unit.name>\n\t\t<price_Measure_Unit.name>MWH"
                   "</price_Measure_Unit.name>\n\t\t<curveType>A01</curveType>\n\t\t<Period>\n"
                   "\t\t\t<timeInterval>\n\t\t\t\t<start>%s</start>\n\t\t\t\t<end>%s</end>\n"
                   "\t\t\t</timeInterval>\n\t\t\t<resolution>PT15M</resolution>\n%s\t\t</Period>"
                   "\n\t</TimeSeries>\n" % (d + 1, _z(a), _z(a + 86400), pts))
    out.append("</Publication_MarketDocument>\n")
    return "".join(out).encode()


def run():
    os.makedirs(GEN_DIR, exist_ok=True)
    paths = {}
    for days in (1, 7, 30, 1140):
        paths[days] = os.path.join(GEN_DIR, "entsoe_%dd_bench.xml" % days)
        with open(paths[days], "wb") as f:
            f.write(document(days))
    env = servers.start()
    tmp = tempfile.mkdtemp(prefix="ww_bench_entsoe_")
    mpy = tempfile.mkdtemp(prefix="ww_bench_mpy_")
    script = os.path.join(TESTS, "entsoe_fetch_store.py")
    try:
        _compile_mpy(mpy)
        menv = dict(env, WW_MPY_DIR=mpy)
        url = "http://127.0.0.1:%s/x/f=generated/entsoe_7d_bench.xml" % env["WW_HTTP_PORT"]
        ok, out = minheap.ok_at(4 << 20, [script, url, tmp, "168"], menv)
        if not ok or "intervals 672" not in out:
            raise RuntimeError("entsoe fetch failed:\n" + out[-2000:])
        heap = minheap.min_heap([script, url, tmp, "168"], menv)
        imports = minheap.min_heap([script, url, tmp, "168", "imports"], menv)
        yield {"name": "entsoe_min_heap_7d_bytes", "value": heap, "unit": "B",
               "runtime": "micropython", "doc_bytes": os.path.getsize(paths[7]),
               "intervals": 672, "imports_only": imports,
               "note": "http -> xmlstream -> entsoe -> schedule -> store, .mpy (as deployed)"}
        heaps = {}
        for days, label in ((1, "1d"), (7, "7d"), (30, "30d"), (1140, "10MB")):
            heaps[days] = minheap.min_heap([script, paths[days], tmp, "0", "read"], menv)
            yield {"name": "xmlstream_min_heap_%s_bytes" % label, "value": heaps[days],
                   "unit": "B", "runtime": "micropython",
                   "doc_bytes": os.path.getsize(paths[days])}
        yield {"name": "xmlstream_min_heap_10MB_vs_1d", "value": round(heaps[1140] / heaps[1], 3),
               "unit": "ratio", "runtime": "micropython"}
    finally:
        servers.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(mpy, ignore_errors=True)
        for p in paths.values():
            os.remove(p)
        try:
            os.rmdir(GEN_DIR)
        except OSError:
            pass


if __name__ == "__main__":
    import json

    for f in run():
        print(json.dumps(f))
