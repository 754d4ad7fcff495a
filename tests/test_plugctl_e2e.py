"""plugctl end to end: the real `mpremote` against the MicroPython unix port behind a
pseudo-terminal, with a LittleFS image as its flash (tests/fake_serial_device.py, TOOLCHAIN §1b).

The emulated board runs the real boot.py/main.py -> boot_guard -> hal_esp32 (machine, network
and ntptime faked by tests/flash_boot.py: no network, a valid clock, GPIO writes logged to a
host file) -> App. The tests run in file order and share one board, like an installer's
session: deploy, configure, inspect, override, restart, break the config, check the flash.
Set PLUGCTL_TRANSCRIPT=path to keep the commands and their output.
"""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from fake_serial_device import FakeBoard, micropython_exe

from tools import plugctl
from tools import plugctl_deploy as dep

ROOT = dep.ROOT
TESTS = os.path.join(ROOT, "tests")
SECRET = "correct-horse-battery-3f9a"
APP_KEY = "a1b2c3d4e5f6a7b8c9d0e1f2"
HOUR = 3600


# -- no board needed ---------------------------------------------------------------------------
def test_package_json_lists_every_device_file():
    with open(os.path.join(ROOT, "package.json")) as f:
        pkg = json.load(f)
    listed = [dst for dst, _src in pkg["urls"]]
    assert listed == dep.device_files(), (
        "package.json is stale: run `python -m tools.plugctl_deploy package`")
    for dst, src in pkg["urls"]:
        assert dst == src and os.path.isfile(os.path.join(ROOT, src))
    assert {"boot.py", "main.py", "plug.py", "firmware/__init__.py",
            "firmware/repl/plug.py"} <= set(listed)
    assert pkg["version"] == dep._firmware_version(ROOT)


def test_mip_installs_the_package_and_it_imports(tmp_path):
    """The README's `mip install` path: the real mip of the MicroPython unix port installs
    package.json from a web server on loopback (this checkout served as the repository), every
    listed file arrives intact, and the installed tree alone imports the app."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=ROOT))
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    target = tmp_path / "board"
    try:
        url = "http://127.0.0.1:%d/package.json" % srv.server_address[1]
        p = subprocess.run([micropython_exe(), "-m", "mip", "install", "--target", str(target),
                            url], cwd=str(tmp_path), capture_output=True, text=True,
                           timeout=120)
    finally:
        srv.shutdown()
        srv.server_close()
    assert p.returncode == 0 and "Done" in p.stdout, p.stdout + p.stderr
    with open(os.path.join(ROOT, "package.json")) as f:
        listed = [dst for dst, _src in json.load(f)["urls"]]
    got = sorted(str(q.relative_to(target)) for q in target.rglob("*") if q.is_file())
    assert got == sorted(listed)
    for name in listed:
        with open(os.path.join(ROOT, name), "rb") as a:
            assert (target / name).read_bytes() == a.read(), name
    p = subprocess.run([micropython_exe(), "-c", "import plug, firmware.app.control, "
                        "firmware.plan.planner; print(plug.__file__, 'OK')"],
                       cwd=str(tmp_path), capture_output=True,
                       text=True, timeout=60,
                       env=dict(os.environ, MICROPYPATH=".frozen:" + str(target)))
    assert p.stdout.strip().endswith("OK") and str(target) in p.stdout, p.stdout + p.stderr


def test_manifest_freezes_the_firmware_package():
    calls = []
    env = {"include": lambda p: calls.append(("include", p)),
           "package": lambda n, **kw: calls.append(("package", n)),
           "module": lambda n, **kw: calls.append(("module", n))}
    with open(os.path.join(ROOT, "manifest.py")) as f:
        exec(f.read(), env)
    assert ("package", "firmware") in calls and ("module", "plug.py") in calls
    assert os.path.isdir(os.path.join(ROOT, "firmware"))


def test_every_command_has_help(capsys):
    for name in [None] + list(plugctl.COMMANDS):
        argv = ([name] if name else []) + ["--help"]
        with pytest.raises(SystemExit) as e:
            plugctl.main(argv)
        assert e.value.code == 0
        assert "usage: plugctl" in capsys.readouterr().out


class _Port:
    def __init__(self, device, vid):
        self.device, self.vid = device, vid


def test_port_autodetection_needs_exactly_one_board(monkeypatch):
    from serial.tools import list_ports

    monkeypatch.delenv("PLUGCTL_PORT", raising=False)
    monkeypatch.setattr(list_ports, "comports", lambda: [_Port("/dev/ttyS0", None)])
    with pytest.raises(plugctl.PlugctlError, match="no board found"):
        plugctl.find_port()
    monkeypatch.setattr(list_ports, "comports",
                        lambda: [_Port("/dev/ttyUSB0", 0x10C4), _Port("/dev/ttyACM0", 0x303A)])
    with pytest.raises(plugctl.PlugctlError, match=r"2 boards found .*ttyACM0.*--port"):
        plugctl.find_port()
    monkeypatch.setattr(list_ports, "comports", lambda: [_Port("/dev/ttyUSB0", 0x10C4),
                                                         _Port("/dev/ttyS0", None)])
    assert plugctl.find_port() == "/dev/ttyUSB0"


def test_missing_port_is_a_one_line_error(tmp_path):
    p = subprocess.run([sys.executable, "-m", "tools.plugctl", "--port",
                        str(tmp_path / "nothing"), "status"], cwd=ROOT, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode == plugctl.EXIT_DEVICE
    assert p.stderr.strip().count("\n") == 0
    assert p.stderr.startswith("plugctl: error: port ") and "does not exist" in p.stderr


def test_deploy_plan_copies_only_changed_files_and_removes_stale(tmp_path):
    a = tmp_path / "a.mpy"
    a.write_bytes(b"A")
    b = tmp_path / "b.mpy"
    b.write_bytes(b"B")
    on_dev = {"firmware/a.mpy": dep.sha256_file(a), "firmware/b.mpy": "0" * 64,
              "firmware/old.py": "1" * 64}
    copy, remove, same = dep.plan_copy([("firmware/a.mpy", str(a)),
                                        ("firmware/b.mpy", str(b))], on_dev)
    assert copy == [("firmware/b.mpy", str(b))] and remove == ["firmware/old.py"] and same == 1


# -- the emulated board ----------------------------------------------------------------------
class Session:
    def __init__(self, tmp):
        self.link = os.path.join(tmp, "ttyPLUG")
        self.image = os.path.join(tmp, "flash.img")
        self.gpio = os.path.join(tmp, "gpio.log")
        self.tree = os.path.join(tmp, "tree")
        self.tmp = tmp
        self.transcript = []
        self.outputs = []

    def plugctl(self, *args, expect=0, timeout=60, answer=None):
        cmd = [sys.executable, "-m", "tools.plugctl", "--port", self.link] + list(args)
        t0 = time.monotonic()
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                           input=answer)
        dt = time.monotonic() - t0
        shown = " ".join(a if " " not in a else repr(a) for a in args)
        self.transcript.append("$ plugctl %s   # exit %d, %.1f s\n%s%s" % (
            shown, p.returncode, dt, p.stdout, p.stderr))
        self.outputs.append(p.stdout + p.stderr)
        assert p.returncode == expect, "plugctl %s -> %d\n%s%s" % (shown, p.returncode,
                                                                   p.stdout, p.stderr)
        return p.stdout + p.stderr

    def quick(self, *args, **kw):
        """plugctl --no-restart: the board stays at the REPL, plug works from flash alone."""
        return self.plugctl("--no-restart", *args, **kw)

    def mpremote(self, *args):
        p = subprocess.run([sys.executable, "-m", "mpremote", "connect", self.link, "resume"]
                           + list(args), capture_output=True, text=True, timeout=30)
        self.outputs.append(p.stdout + p.stderr)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout

    def relay_writes(self, pin=26):
        try:
            with open(self.gpio) as f:
                return [int(v) for n, v in (ln.split() for ln in f) if int(n) == pin]
        except FileNotFoundError:
            return []


@pytest.fixture(scope="module")
def board(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("plug"))
    s = Session(tmp)
    # deploy a snapshot: the working tree may change while the session runs
    for rel in dep.device_files():
        os.makedirs(os.path.dirname(os.path.join(s.tree, rel)), exist_ok=True)
        shutil.copyfile(os.path.join(ROOT, rel), os.path.join(s.tree, rel))
    with FakeBoard(s.link, s.image, env={"GPIO_LOG": s.gpio}):
        yield s
    path = os.environ.get("PLUGCTL_TRANSCRIPT")
    if path:
        with open(path, "w") as f:
            f.write("\n".join(s.transcript))


def _price_cache(path, now):
    from firmware.prices.schedule import Schedule
    from firmware.prices.store import Store

    sched = Schedule(source="arcadia")
    start = now - now % HOUR - 2 * HOUR
    prices = (120000, 95000, 61000, 58000, 140000, 210000, 180000, 90000)
    for k in range(30):
        sched.add(start + k * HOUR, start + (k + 1) * HOUR, prices[k % len(prices)])
    sched.fetched_s = now - 300
    Store(path).save(sched)
    return os.path.join(path, "prices.bin")


def test_e2e_1_deploy_copies_only_what_changed(board):
    n = len(dep.device_files(board.tree))
    out = board.plugctl("deploy", "--tree", board.tree)  # a blank board: everything
    assert "deploy: %d copied, 0 removed, 0 unchanged (mpy)" % n in out
    assert "copied  firmware/app/control.mpy" in out and "copied  main.py" in out
    # an edited module, a module left from an older version, a --source copy of another
    with open(os.path.join(board.tree, "firmware", "app", "log.py"), "a") as f:
        f.write("\n_EDITED = 1\n")
    board.mpremote("exec", "for n in ('firmware/old.mpy', 'firmware/clock/tz.py'):\n"
                           "    f = open(n, 'w'); f.write('# stale'); f.close()")
    out = board.plugctl("deploy", "--tree", board.tree)
    assert out.splitlines() == ["copied  firmware/app/log.mpy", "removed firmware/clock/tz.py",
                                "removed firmware/old.mpy",
                                "deploy: 1 copied, 2 removed, %d unchanged (mpy); config and "
                                "cache kept" % (n - 1), "app restarted (soft reboot)"]
    files = board.mpremote("exec", "import os; print(sorted(os.listdir('firmware/repl')),"
                                   " sorted(os.listdir('firmware/clock')))")
    assert "'plug.mpy'" in files and "'plug.py'" not in files and "'tz.py'" not in files


def test_deploy_source_builds_py_and_keeps_boot_and_main_as_source(tmp_path):
    built = dict(dep.build(str(tmp_path / "src"), source=True))
    assert "firmware/repl/plug.py" in built and "plug.py" in built
    built = dict(dep.build(str(tmp_path / "mpy")))
    assert "firmware/repl/plug.mpy" in built and "plug.mpy" in built
    assert "main.py" in built and "boot.py" in built
    with open(built["firmware/repl/plug.mpy"], "rb") as f:
        assert f.read(1) == b"M"  # mpy header


def test_deploy_frozen_copies_entry_points_and_removes_shadowing_copies(tmp_path):
    built = dep.build(str(tmp_path / "frozen"), frozen=True)
    assert sorted(p for p, _ in built) == ["boot.py", "main.py"]
    on_dev = {"firmware/app/control.mpy": "0" * 64, "plug.mpy": "1" * 64,
              "main.py": dep.sha256_file(dict(built)["main.py"])}
    copy, remove, same = dep.plan_copy(built, on_dev)
    assert [p for p, _ in copy] == ["boot.py"] and same == 1
    assert remove == ["firmware/app/control.mpy", "plug.mpy"]


def test_e2e_2_config_set_get_and_rejected_values(board):
    out = board.plugctl("config", "set", "override.minutes", "90", "safe_state", "on")
    assert "override.minutes=90" in out and "saved config.json (2 changed)" in out
    out = board.quick("config", "get", "override.minutes")
    assert out.strip() == "override.minutes=90"
    out = board.quick("config", "set", "override.minutes", "5000", expect=plugctl.EXIT_REJECTED)
    assert out.strip() == ("plugctl: error: override.minutes: 5000 is not allowed; expected an "
                           "integer in 1..1440 min")
    out = board.quick("config", "set", "safe_state", "maybe", expect=plugctl.EXIT_REJECTED)
    assert "safe_state: 'maybe' is not allowed; expected one of off, on" in out
    out = board.quick("config", "set", "override.minutez", "5", expect=plugctl.EXIT_REJECTED)
    assert "override.minutez: unknown setting; known: override.minutes" in out
    # all or nothing: one bad value leaves the other unchanged
    board.quick("config", "set", "override.minutes", "30", "safe_state", "x",
                  expect=plugctl.EXIT_REJECTED)
    assert board.quick("config", "get", "override.minutes").strip() == "override.minutes=90"
    out = board.plugctl("config", "set", "arcadia.appKey", APP_KEY)
    assert "arcadia.appKey=****" + APP_KEY[-4:] in out
    out = board.plugctl("wifi", "home-net", "--password", SECRET)
    assert "wifi.password=****3f9a" in out
    out = board.quick("config", "show")
    assert "~ wifi.ssid=home-net" in out and "~ wifi.password=****3f9a" in out
    assert "~ override.minutes=90 min" in out
    exported = os.path.join(board.tmp, "exported.json")
    board.quick("config", "export", exported)
    with open(exported) as f:
        values = json.load(f)
    assert values["override.minutes"] == 90 and values["wifi.password"] == "****3f9a"
    values["override.minutes"] = 45
    with open(exported, "w") as f:
        json.dump(values, f)
    out = board.plugctl("config", "import", exported)
    assert "override.minutes=45" in out and "wifi.password" not in out  # masked: skipped
    assert board.quick("config", "get", "override.minutes").strip() == "override.minutes=45"


def test_e2e_3_status_and_plan_from_cache(board):
    cache = _price_cache(board.tmp, int(time.time()))
    board.mpremote("fs", "cp", cache, ":prices.bin")
    board.plugctl("reset")  # the app boots from config + the new cache (no network here)
    out = board.plugctl("status")
    assert "app running" in out
    assert "cache:  " in out and "30 intervals" in out
    assert "price:  " in out and " USD per kWh" in out
    assert "relay:  " in out and "unknown" not in out.split("relay:")[1].splitlines()[0]
    assert "wifi:   down (home-net)" in out
    out = board.plugctl("plan", "--hours", "12")
    rows = [ln for ln in out.splitlines() if ln[:2] == "20"]
    assert len(rows) >= 12, out
    assert any(" ON " in r for r in rows) or any(" OFF " in r for r in rows)
    out = board.plugctl("log", "-n", "50")
    assert "boot: v" in out and "relay: " in out


def test_e2e_4_override_drives_the_relay_and_survives_restart(board):
    assert "relay:  ON" in board.plugctl("status")  # no usable prices: safe_state on
    n0 = len(board.relay_writes())
    out = board.plugctl("override", "off", "--minutes", "30")
    assert "override OFF until" in out and "app resumed (no restart)" in out
    writes = board.relay_writes()[n0:]
    assert writes and writes[-1] == 0  # the resumed app applied it at once
    board.plugctl("reset")  # a soft reboot: the override comes back from flash
    out = board.plugctl("status")
    assert "override: OFF until" in out
    assert "relay:  OFF" in out
    writes = board.relay_writes()[n0:]
    assert 1 not in writes[writes.index(0):], writes  # through the reboot: no ON blip
    out = board.plugctl("override", "cancel")
    assert "override cancelled" in out
    assert "override:" not in board.plugctl("status")


def _boots(board):
    """How many times the app booted, from its log on flash (plugctl itself would add one
    if it rebooted the board)."""
    out = board.mpremote("exec", "n = 0\nfor name in ('log.txt.1', 'log.txt'):\n"
                                 "    try:\n        n += open(name).read().count(' boot: v')\n"
                                 "    except OSError:\n        pass\nprint('BOOTS', n)")
    return int(out.split("BOOTS")[1].split()[0])


def test_e2e_4b_reading_commands_resume_the_app_without_a_reboot(board):
    """status, plan, log and config show|get|help stop the app only while they read it: the
    app goes on where it stopped (before: every command soft-rebooted it, and each added boot
    lines to its log). Commands that change something say what happened to the app."""
    board.plugctl("status")  # leaves the app running (resumed) for the baseline
    boots, writes = _boots(board), len(board.relay_writes())
    for args in (["status"], ["plan", "--hours", "6"], ["log", "-n", "5"],
                 ["config", "show"], ["config", "get", "tz"], ["config", "help", "tz"]):
        out = board.plugctl(*args)
        assert "restarted" not in out and "soft reboot" not in out, out
    assert _boots(board) == boots  # no new boot lines: the same app ran on
    assert len(board.relay_writes()) == writes  # and never touched the relay meanwhile
    out = board.plugctl("status")
    assert "app running (paused while plugctl reads it; it resumes right after)" in out
    out = board.plugctl("override", "off", "--minutes", "15")
    assert not [ln for ln in out.splitlines() if ln[19:21] == "Z "], out  # no UTC log echo
    assert "app resumed (no restart)" in out
    assert _boots(board) == boots
    out = board.plugctl("override", "cancel")
    assert "override cancelled" in out
    assert board.plugctl("override", "cancel").splitlines()[0] == "no override to cancel"
    out = board.plugctl("config", "set", "policy.hours", "5")
    assert "app restarted (soft reboot)" in out
    assert _boots(board) == boots + 1


def test_e2e_4c_limits_are_the_plugs_own(board):
    """The same limits at every door: plugctl refuses before it touches the board."""
    for args, says in ((["override", "on", "--minutes", "0"], "expected an integer in 1..1440 "
                        "min (ends early with `override cancel`)"),
                       (["override", "on", "--minutes", "5000"], "--minutes 5000 is not allowed"),
                       (["log", "-n", "-5"], "-n: -5 is not allowed; expected an integer in "
                                             "1..1000"),
                       (["plan", "--hours", "0"], "expected an integer in 1..168")):
        out = board.plugctl(*args, expect=2)
        assert says in out, out
    out = board.plugctl("config", "set", "policy.hours", "25", expect=plugctl.EXIT_REJECTED)
    assert out.strip() == ("plugctl: error: policy.hours: 25 is not allowed with "
                           "policy.period=day; expected at most 24 h")
    out = board.plugctl("config", "help", "policy.hours")
    assert out.splitlines()[:3] == [
        "policy.hours: on time per period, block length, or time needed before the deadline",
        "  accepts: a number in 0..168 h",
        "  limits:  at most 24 h with policy.period=day or policy.mode=deadline, the window's "
        "length with policy.period=window, policy.rolling_hours with policy.period=rolling"]
    assert "  default: 4" in out and "  value:   5 (differs from the default)" in out
    out = board.plugctl("config", "show")
    heads = [ln for ln in out.splitlines() if ln.startswith("[")]
    assert heads[:3] == ["[general]", "[arcadia: price source in use]", "[policy]"], heads


def test_e2e_4d_status_at_the_repl_after_ctrl_c_says_the_app_is_stopped(board):
    out = board.mpremote("exec", "import plug; plug.status()")
    assert "app STOPPED at the REPL (Ctrl-C): nothing switches until Ctrl-D, plug.resume() " \
           "or `plugctl reset`" in out
    assert "app running" not in out


def test_e2e_4e_a_port_held_by_another_program_is_the_readme_line(board):
    import serial

    holder = serial.Serial(board.link, exclusive=True)  # a serial monitor left open
    try:
        out = board.plugctl("status", expect=plugctl.EXIT_DEVICE)
    finally:
        holder.close()
    assert out.count("\n") == 1 and "Traceback" not in out
    assert out.startswith("plugctl: error: no answer from the board on %s: another program "
                          "(a serial monitor, an IDE, another mpremote) holds the port"
                          % board.link)
    with open(os.path.join(ROOT, "README.md")) as f:
        assert "**`no answer from the board`**: another program" in f.read()
    board.plugctl("status")  # and the plug is fine afterwards


def test_e2e_5_restart_starts_the_app_with_the_new_config(board):
    board.plugctl("--no-restart", "config", "set", "tz", "CET-1CEST,M3.5.0,M10.5.0/3")
    out = board.plugctl("status")  # the command before left the REPL: this one restarts
    board.plugctl("reset")
    out = board.plugctl("status")
    assert "app running" in out and "CET-1CEST" in out
    out = board.mpremote("exec", "import plug; print(plug.session().app.cfg['tz'])")
    assert out.strip() == "CET-1CEST,M3.5.0,M10.5.0/3"  # the live App's own settings


def test_e2e_6_corrupt_config_boots_with_defaults_and_a_warning(board):
    board.mpremote("exec", "f = open('config.json', 'w'); f.write('{\"tz\": \"CET'); f.close()")
    board.plugctl("reset")
    out = board.plugctl("status")
    assert "app running" in out
    assert "WARNING config.json is corrupt" in out
    for _ in range(2):  # no crash loop: the app keeps coming back
        board.plugctl("reset")
    out = board.plugctl("status")
    assert "app running" in out
    files = board.mpremote("exec", "import os; print(os.listdir())")
    assert "crashes" not in files and "safemode" not in files
    board.plugctl("wifi", "home-net", "--password", SECRET)  # the installer repairs it
    board.plugctl("config", "set", "arcadia.appKey", APP_KEY)


def test_e2e_7_rateplan_import_then_the_app_prices_offline(board):
    fx = os.path.join(TESTS, "fixtures", "enertalk")
    out = board.plugctl("rateplan", "import", os.path.join(fx, "rateplan_schema.json"),
                        os.path.join(fx, "bill.json"))
    assert "source=rateplan" in out and "saved config.json" in out
    out = board.plugctl("rateplan", "import", os.path.join(fx, "rateplan_schema.json"),
                        os.path.join(board.tmp, "missing.json"), expect=plugctl.EXIT_USAGE)
    assert out.startswith("plugctl: error: rateplan import: ") and out.count("\n") == 1
    out = board.plugctl("status")
    assert "source rateplan" in out or "(source rateplan)" in out, out


def test_e2e_8_flash_image_holds_what_plugctl_wrote(board):
    board.plugctl("--no-restart", "config", "get", "wifi.ssid")  # leave the board idle
    script = os.path.join(board.tmp, "inspect.py")
    with open(script, "w") as f:
        f.write(
            "import vfs, os, json\n"
            "from fileblockdev import FileBlockDev\n"
            "vfs.mount(vfs.VfsLfs2(FileBlockDev(%r, 4096, 256)), '/flash')\n"
            "def walk(d, out):\n"
            "    for e in os.ilistdir(d):\n"
            "        p = d + '/' + e[0]\n"
            "        if e[1] & 0x4000: walk(p, out)\n"
            "        else: out.append(p[7:])\n"
            "    return out\n"
            "print(json.dumps({'files': walk('/flash', []),"
            " 'config': json.load(open('/flash/config.json'))}))\n" % board.image)
    env = dict(os.environ, MICROPYPATH=".frozen:" + TESTS)
    p = subprocess.run([micropython_exe(), script], capture_output=True, text=True,
                       timeout=30, env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    flash = json.loads(p.stdout.strip().splitlines()[-1])
    files = set(flash["files"])
    for rel in dep.device_files(board.tree):
        expect = rel if rel in dep.KEEP_AS_SOURCE else rel[:-3] + ".mpy"
        assert expect in files, expect
    assert not [f for f in files if f.endswith(".tmp") or f.endswith(".part")]
    assert flash["config"]["wifi.ssid"] == "home-net"
    assert flash["config"]["wifi.password"] == SECRET  # stored in full on the plug only
    assert flash["config"]["arcadia.appKey"] == APP_KEY
    assert {"prices.bin", "status.json", "log.txt"} <= files


def test_e2e_9_secrets_never_printed_in_full(board):
    assert board.outputs
    for out in board.outputs:
        assert SECRET not in out and APP_KEY not in out
        assert SECRET[:-4] not in out and APP_KEY[:-4] not in out


def test_e2e_10_factory_reset_asks_first_and_a_hard_reset_boots_on_defaults(board):
    def flash():
        return board.mpremote("exec", "import os; print(sorted(os.listdir('/')))")

    assert "config.json" in flash()
    out = board.plugctl("reset", "--factory", expect=2, answer="no\n")
    assert "Type yes" in out and "factory reset cancelled" in out
    assert "restarted" not in out  # a cancelled reset does not touch the running app
    assert "config.json" in flash() and "prices.bin" in flash()
    out = board.plugctl("reset", "--factory", "--yes")
    assert "erased" in out and "config.json" in out and "prices.bin" in out
    left = flash()
    assert "config.json" not in left and "prices.bin" not in left
    assert "main.py" in left and "firmware" in left  # the code stays
    assert "hard reset" in board.plugctl("reset", "--hard")
    # the app that booted after the reset wrote its snapshot: defaults, no prices, safe state
    status = board.plugctl("status")
    assert "relay:  OFF since" in status and "no prices: safe state off" in status, status
    assert "cache:  empty" in status and "no ssid set" in status, status
    assert "tz=PST8PDT,M3.2.0,M11.1.0" in board.quick("config", "get", "tz")  # was CET
