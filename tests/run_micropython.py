"""Run the portable core tests under the real MicroPython unix port (`make test` calls this).

A test module takes part when one of its first lines is `# runtimes: cpython micropython`; an
optional `# mpy-heap: 256k` line sets its `-X heapsize` (default below: a constrained heap, so a
memory regression fails here first). Each module runs in its own interpreter, against the same
loopback servers the pytest run uses. Any failure exits non-zero with the MicroPython traceback.
"""

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")
DEFAULT_HEAP = "256k"
TIMEOUT_S = 600

sys.path.insert(0, TESTS)

from minheap import micropython_cmd  # noqa: E402


def discover(only=None):
    mods = []
    for name in sorted(os.listdir(TESTS)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        with open(os.path.join(TESTS, name)) as f:
            head = [f.readline() for _ in range(6)]
        if not any(re.match(r"#\s*runtimes:.*\bmicropython\b", line) for line in head):
            continue
        heap = DEFAULT_HEAP
        for line in head:
            m = re.match(r"#\s*mpy-heap:\s*(\S+)", line)
            if m:
                heap = m.group(1)
        mod = name[:-3]
        if only and mod not in only:
            continue
        mods.append((mod, heap))
    return mods


def mpy_env(extra):
    env = dict(os.environ)
    env.update(extra)
    env["MICROPYPATH"] = ".frozen:%s:%s:%s" % (ROOT, TESTS, os.path.join(TESTS, "fakes"))
    env["TZ"] = "UTC"
    env["WW_TESTS_DIR"] = TESTS
    env["WW_ROOT"] = ROOT
    return env


def run_module(mod, heap, env):
    cmd = [micropython_cmd(), "-X", "heapsize=" + heap, os.path.join(TESTS, "mpy_runner.py"), mod]
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                           timeout=TIMEOUT_S)
        out, code = p.stdout + p.stderr, p.returncode
    except subprocess.TimeoutExpired as e:
        out, code = (e.stdout or "") + "\nTIMEOUT after %ds" % TIMEOUT_S, -1
        if isinstance(out, bytes):
            out = out.decode(errors="replace")
    m = re.search(r"^RESULT (\d+) (\d+) (\d+)$", out, re.M)
    passed, failed, skipped = (int(g) for g in m.groups()) if m else (0, 1, 0)
    if code != 0 and failed == 0:
        failed = 1  # crashed before or after its tests (import error, MemoryError at top level)
    if skipped and not passed and not failed:
        # A module marked for MicroPython that skips as a whole ran nothing: an import that
        # breaks only here, or a missing server, must not pass the suite.
        failed = 1
        out += "\nevery test of %s skipped under MicroPython: nothing was checked" % mod
    return mod, heap, passed, failed, skipped, out, time.monotonic() - t0


def main(argv):
    import servers

    only = set(argv[1:])
    mods = discover(only)
    env = mpy_env(servers.start())
    try:
        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            results = list(pool.map(lambda mh: run_module(mh[0], mh[1], env), mods))
    finally:
        servers.stop()
    tp = tf = ts = 0
    reasons = {}
    for mod, heap, passed, failed, skipped, out, dt in results:
        for m in re.finditer(r"^SKIP \S+: (.*)$", out, re.M):
            reasons[m.group(1)] = reasons.get(m.group(1), 0) + 1
        tp, tf, ts = tp + passed, tf + failed, ts + skipped
        status = "ok" if failed == 0 else "FAILED"
        print("micropython %-28s heap=%-5s %3d passed %d failed %d skipped %5.1fs  %s"
              % (mod, heap, passed, failed, skipped, dt, status))
        if failed:
            print("---- output of %s under MicroPython ----" % mod)
            print(out.rstrip())
            print("---- end of %s ----" % mod)
    for why in sorted(reasons):
        print("skipped %d: %s" % (reasons[why], why))
    print("MicroPython unix port: %d tests passed, %d failed, %d skipped in %d modules"
          % (tp, tf, ts, len(results)))
    return 1 if tf or not results else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
