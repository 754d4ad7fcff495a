"""CPython-only checks of the app: the same decisions on CPython and on MicroPython."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import run_micropython  # noqa: E402
import test_app  # noqa: E402


def test_cpython_and_micropython_take_identical_decisions():
    """Fetch offsets, back-off jitter, plans and relay writes come from integer arithmetic
    (jitter.Rng, not `random`), so a scenario with failures, Retry-After, an override and a
    button press must replay second for second on both interpreters."""
    here = test_app.scenario()
    code = ("import json, test_app\n"
            "print('JSON' + json.dumps(test_app.scenario()))\n")
    env = run_micropython.mpy_env({})
    p = subprocess.run([run_micropython.micropython_cmd(), "-X", "heapsize=2m", "-c", code],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    line = [ln for ln in p.stdout.splitlines() if ln.startswith("JSON")][-1]
    there = json.loads(line[4:])
    here = json.loads(json.dumps(here))  # tuples -> lists, as on the other side
    assert here["fetches"] == there["fetches"]
    assert here["offset"] == there["offset"]
    assert here["relay"] == there["relay"]
    assert here["decisions"] == there["decisions"]
    assert here == there
