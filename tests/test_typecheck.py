"""Static check of the device code against the ESP32 MicroPython stubs (CPython only).

pyright runs with pyrightconfig.json: firmware/, boot.py and main.py, with `typeshedPath` and
`stubPath` pointing at .venv/typings, where `make` installs micropython-esp32-stubs (the
Makefile's $(STUBS) target), and `defineConstant` MICROPYTHON=true, so compat.py's CPython
branch is unreachable to the checker and its device branch is checked. The None-narrowing
rules (reportOptional*) are off: the core sets attributes to None in __init__ and fills them
in later, which pyright cannot follow without annotations MicroPython has no `typing` for.
So `time.monotonic()`, `os.path`, a wrong `machine.Pin` mode or a
missing `ticks_diff` argument are errors, as they would be on the board. CPython-only code
(tests, host_sim, tools) is not part of this check: it needs the normal typeshed.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TYPINGS = os.path.join(ROOT, ".venv", "typings")


def _pyright():
    exe = os.path.join(os.path.dirname(sys.executable), "pyright")
    if not os.path.exists(exe):
        exe = shutil.which("pyright")
    if not exe:
        pytest.skip("pyright not installed (make venv)")
    if not os.path.exists(os.path.join(TYPINGS, "machine.pyi")):
        pytest.skip("ESP32 stubs not installed: make .venv/typings/.installed")
    return exe


def _run(exe, project_dir, config):
    env = dict(os.environ, PYRIGHT_PYTHON_FORCE_VERSION="", NODE_OPTIONS="")
    env.pop("PYRIGHT_PYTHON_FORCE_VERSION")
    p = subprocess.run([exe, "--outputjson", "-p", config], cwd=project_dir, env=env,
                       capture_output=True, text=True, timeout=300)
    start = p.stdout.find("{")
    assert start >= 0, "pyright gave no JSON: %s %s" % (p.stdout[-2000:], p.stderr[-2000:])
    return json.loads(p.stdout[start:])


def test_device_code_type_checks_against_esp32_stubs():
    exe = _pyright()
    out = _run(exe, ROOT, os.path.join(ROOT, "pyrightconfig.json"))
    errors = [d for d in out["generalDiagnostics"] if d["severity"] == "error"]

    def show(ds):
        return "\n".join("%s:%d: %s" % (os.path.relpath(d["file"], ROOT),
                                        d["range"]["start"]["line"] + 1, d["message"])
                         for d in ds)

    assert not errors, "pyright errors against the ESP32 stubs:\n" + show(errors)
    assert out["summary"]["filesAnalyzed"] >= 15, out["summary"]
    analyzed = set()
    for top in ("firmware",):
        for dirpath, _dirs, names in os.walk(os.path.join(ROOT, top)):
            for n in names:
                if n.endswith(".py"):
                    analyzed.add(os.path.relpath(os.path.join(dirpath, n), ROOT))
    for must in ("firmware/app/control.py", "firmware/hal/esp32.py", "firmware/app/boot_guard.py",
                 "firmware/app/fetcher.py", "firmware/app/jitter.py"):
        assert must in analyzed


def test_the_check_catches_esp32_api_misuse(tmp_path):
    """The same configuration fails on code that would fail on the board."""
    exe = _pyright()
    (tmp_path / "bad.py").write_text(
        "import machine\nimport time\n"
        "p = machine.Pin(2, machine.Pin.OUTPUT)\n"  # no such constant
        "time.ticks_diff(time.ticks_ms())\n"  # missing argument
        "t = time.monotonic()\n"  # CPython only
        "w = machine.WDT(timeout=8000)\nw.feed()\n")  # correct: no error expected here
    with open(os.path.join(ROOT, "pyrightconfig.json")) as f:
        cfg = json.load(f)
    cfg["include"] = ["bad.py"]
    cfg["typeshedPath"] = cfg["stubPath"] = TYPINGS
    cfg.pop("extraPaths", None)
    (tmp_path / "pyrightconfig.json").write_text(json.dumps(cfg))
    out = _run(exe, str(tmp_path), str(tmp_path / "pyrightconfig.json"))
    lines = sorted(d["range"]["start"]["line"] + 1 for d in out["generalDiagnostics"]
                   if d["severity"] == "error")
    assert lines == [3, 4, 5], out["generalDiagnostics"]
