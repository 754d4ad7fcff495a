"""`make bench`: every figure as one JSON line {"name", "value", "unit", "runtime"}.

Each tests/bench_<area>.py module has `run()` yielding such dicts; figures that are ratios are
measured within the same run. `python tests/bench.py parser` runs only bench_parser.py.
"""

import json
import os
import sys
import time

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS)
sys.path.insert(0, os.path.dirname(TESTS))


def main(argv):
    only = set(argv[1:])
    names = sorted(n[6:-3] for n in os.listdir(TESTS)
                   if n.startswith("bench_") and n.endswith(".py"))
    failed = 0
    for area in names:
        if only and area not in only:
            continue
        t0 = time.monotonic()
        mod = __import__("bench_" + area)
        try:
            for fig in mod.run():
                print(json.dumps(fig), flush=True)
        except Exception as e:  # report and carry on with the other areas
            failed += 1
            print(json.dumps({"name": area + "_error", "value": repr(e), "unit": "",
                              "runtime": "cpython"}), flush=True)
        print("# %s: %.1fs" % (area, time.monotonic() - t0), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
