# Runs plain `test_*` functions of the given modules under MicroPython (no pytest there).
# Prints PASS/FAIL/SKIP per test, the MicroPython traceback of each failure, and a summary.
import gc
import sys

from support import Skip


def run(modnames):
    passed = failed = skipped = 0
    for modname in modnames:
        mod = __import__(modname)
        names = [n for n in dir(mod) if n.startswith("test_")]
        names.sort()
        for name in names:
            fn = getattr(mod, name)
            if not callable(fn):
                continue
            gc.collect()
            try:
                fn()
            except Skip as e:
                skipped += 1
                print("SKIP %s.%s: %s" % (modname, name, e))
                continue
            except Exception as e:  # noqa: BLE001 - report every failure, keep going
                failed += 1
                print("FAIL %s.%s" % (modname, name))
                sys.print_exception(e)
                continue
            passed += 1
            print("PASS %s.%s" % (modname, name))
    print("RESULT %d %d %d" % (passed, failed, skipped))


run(sys.argv[1:])
