"""plugctl: set up and inspect a WattWindow plug over USB, on top of `mpremote`.

    python -m tools.plugctl [--port PORT] COMMAND ...      (python -m tools.plugctl -h)

Each command runs `mpremote` (its CLI, as a subprocess) against the board: deploy copies files
with `mpremote fs cp`, the others run a line of the on-device `plug` API (firmware/repl/plug.py)
with `mpremote exec`. mpremote stops the running app when it connects, so every command ends
by restarting it with a soft reboot (boot.py + main.py), unless --no-restart.
Errors are one PlugctlError line on stderr and a non-zero exit status; secrets are never
printed in full (the board masks them before they cross the wire).
"""

import argparse
import getpass
import json
import os
import subprocess
import sys
import time

from . import plugctl_deploy as deploy_mod

EXIT_USAGE = 2
EXIT_DEVICE = 3
EXIT_REJECTED = 4
BOOTED_MARK = b" I boot: v"  # firmware/app/control.py logs this at the end of App.boot()
BOOT_WAIT_S = 15
COPY_CHUNK = 1024  # bytes per write; its repr must compile in the board's RAM


class PlugctlError(Exception):
    """Anything that stops a command; str(e) is the one line the user sees."""

    def __init__(self, msg, code=EXIT_DEVICE):
        super().__init__(msg)
        self.code = code


# -- finding the board ---------------------------------------------------------------------
def find_port(port=None):
    """The port given, $PLUGCTL_PORT, or the one USB serial board connected."""
    port = port or os.environ.get("PLUGCTL_PORT")
    if port:
        if not os.path.exists(port) and not port.upper().startswith("COM"):
            raise PlugctlError("port %s does not exist" % port)
        return port
    try:
        from serial.tools import list_ports
    except ImportError:
        raise PlugctlError("pyserial is missing (pip install mpremote)")
    boards = sorted(p.device for p in list_ports.comports() if p.vid is not None)
    if not boards:
        raise PlugctlError("no board found: plug the USB cable in (a data cable), or pass "
                           "--port (see `mpremote devs`)")
    if len(boards) > 1:
        raise PlugctlError("%d boards found (%s): choose one with --port"
                           % (len(boards), ", ".join(boards)))
    return boards[0]


# -- talking to it through mpremote ----------------------------------------------------------
class Board:
    def __init__(self, port, timeout_s=30, verbose=False):
        self.port = port
        self.timeout_s = timeout_s
        self.verbose = verbose

    def mpremote(self, *args, resume=True, timeout_s=None):
        """Run `mpremote connect PORT [resume] ARGS...`; stdout, or PlugctlError."""
        cmd = [sys.executable, "-m", "mpremote", "connect", self.port]
        if resume:  # keep the interrupted app in RAM: plug.status() can read it live
            cmd.append("resume")
        cmd += list(args)
        if self.verbose:
            print("+ mpremote " + " ".join(a if len(a) < 60 else a[:57] + "..."
                                           for a in cmd[3:]), file=sys.stderr)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True,
                               timeout=timeout_s or self.timeout_s)
        except subprocess.TimeoutExpired:
            raise PlugctlError("no answer from the board on %s within %ds (is another program "
                               "using the port?)" % (self.port, timeout_s or self.timeout_s))
        out = p.stdout.replace("\r\n", "\n")
        if p.returncode != 0:
            raise PlugctlError(_device_error(out + p.stderr.replace("\r\n", "\n")))
        return out

    def plug(self, code):
        """Run plug API code on the board; lines starting with ERROR become a PlugctlError."""
        out = self.mpremote("exec", "import plug\n" + code)
        errors = [ln[6:] for ln in out.splitlines() if ln.startswith("ERROR ")]
        if errors:
            raise PlugctlError(errors[0], EXIT_REJECTED)
        return out

    def copy_files(self, setup_code, files, final_code=""):
        """Run setup_code, then write each (device path, host path) through mpremote's
        transport (bigger chunks than `mpremote fs cp`: a deploy takes a third of the time).
        Each file is written to <path>.part and renamed, so a cut cable never leaves a
        half-written module behind; final_code (removing stale files) runs last."""
        from mpremote.transport import TransportError, TransportExecError
        from mpremote.transport_serial import SerialTransport

        try:
            t = SerialTransport(self.port, baudrate=115200)
        except Exception as e:
            raise PlugctlError("cannot open %s: %s" % (self.port, e))
        try:
            t.enter_raw_repl(soft_reset=False)
            if setup_code:
                t.exec(setup_code)
            for dev_path, host_path in files:
                with open(host_path, "rb") as f:
                    data = f.read()
                t.fs_writefile(dev_path + ".part", data, chunk_size=COPY_CHUNK)
                t.exec("import os\nos.rename(%r, %r)" % (dev_path + ".part", dev_path))
                if self.verbose:
                    print("+ wrote %s (%d bytes)" % (dev_path, len(data)), file=sys.stderr)
            if final_code:
                t.exec(final_code)
            t.exit_raw_repl()
        except (TransportError, TransportExecError, OSError) as e:
            lines = str(e).strip().splitlines()
            raise PlugctlError("copy failed: %s" % (lines[-1] if lines else type(e).__name__))
        finally:
            t.close()

    def wait_ready(self, timeout_s=20):
        """After a hard reset: wait until the board answers at its REPL again (it reboots for
        a second or two; a command sent meanwhile fails halfway)."""
        deadline = time.monotonic() + timeout_s
        while True:
            time.sleep(0.5)
            try:
                if "WW-READY" in self.mpremote("exec", "print('WW-READY')", timeout_s=5):
                    return
            except PlugctlError:
                pass
            if time.monotonic() > deadline:
                raise PlugctlError("the board did not come back within %ds of the reset"
                                   % timeout_s)

    def restart(self):
        """Soft reboot from the friendly REPL: the board runs boot.py and main.py again."""
        from mpremote.transport_serial import SerialTransport

        try:
            t = SerialTransport(self.port, baudrate=115200)
        except Exception as e:
            raise PlugctlError("cannot open %s: %s" % (self.port, e))
        try:
            t.serial.write(b"\r\x03\x03")
            time.sleep(0.05)
            t.serial.write(b"\r\x02")  # Ctrl-B: friendly REPL (a raw-REPL reset skips main.py)
            t.read_until(1, b">>> ", timeout=2)
            t.serial.write(b"\x04")
            data = t.read_until(1, b"soft reboot\r\n", timeout=2, timeout_overall=10)
            if not data.endswith(b"soft reboot\r\n"):
                raise PlugctlError("the board did not restart (no 'soft reboot')")
            return self._wait_booted(t)
        finally:
            t.close()

    def _wait_booted(self, t):
        # Let the app get through boot() (it logs " boot: v...") before the next command's
        # Ctrl-C can stop it; give up quietly after a silent second (safe mode, no app).
        seen, last, t0 = b"", time.monotonic(), time.monotonic()
        while time.monotonic() - t0 < BOOT_WAIT_S:
            n = t.serial.inWaiting()
            if n:
                seen = (seen + t.serial.read(n))[-4096:]
                last = time.monotonic()
                continue
            quiet = time.monotonic() - last
            if BOOTED_MARK in seen and quiet > 0.05:
                return True
            if quiet > 1.0:
                return False
            time.sleep(0.02)
        return BOOTED_MARK in seen


def _device_error(text):
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    last = lines[-1] if lines else "mpremote failed"
    if "no module named 'plug'" in last or "no module named 'firmware" in last:
        return "the firmware is not on the board (%s): run `plugctl deploy` first" % last
    if last.startswith("mpremote: "):
        last = last[10:]
    return last


def _q(v):
    return repr(v)


# -- commands ----------------------------------------------------------------------------------
def cmd_deploy(board, a):
    import tempfile

    tree = os.path.abspath(a.tree) if a.tree else deploy_mod.ROOT
    if not os.path.isfile(os.path.join(tree, "firmware", "__init__.py")):
        raise PlugctlError("%s has no firmware/ package" % tree, EXIT_USAGE)
    with tempfile.TemporaryDirectory(prefix="plugctl_build_") as tmp:
        out_dir = a.build_dir or tmp
        try:
            built = deploy_mod.build(out_dir, source=a.source, root=tree, march=a.march,
                                     frozen=a.frozen)
        except (ValueError, OSError) as e:
            raise PlugctlError(str(e), EXIT_USAGE)
        _deploy(board, a, built)


def _deploy(board, a, built):
    on_dev = deploy_mod.parse_hashes(board.mpremote("exec", deploy_mod.device_hash_script()))
    copy, remove, same = deploy_mod.plan_copy(built, on_dev)
    dirs = sorted({p.rsplit("/", 1)[0] for p, _ in copy if "/" in p})
    setup = final = ""
    for d in dirs:
        parts = d.split("/")
        for i in range(1, len(parts) + 1):
            setup += "try: os.mkdir(%r)\nexcept OSError: pass\n" % "/".join(parts[:i])
    for p in remove:  # after the copies: a module is never missing in between
        final += "os.remove(%r)\n" % p
    if copy or final:
        board.copy_files(("import os\n" + setup) if setup else "", copy,
                         ("import os\n" + final) if final else "")
    for dev_path, _ in copy:
        print("copied  " + dev_path)
    for p in remove:
        print("removed " + p)
    kind = "frozen image" if a.frozen else "source" if a.source else "mpy"
    print("deploy: %d copied, %d removed, %d unchanged (%s); config and cache kept"
          % (len(copy), len(remove), same, kind))


def cmd_config(board, a):
    if a.action == "show":
        print(board.plug("plug.config()"), end="")
    elif a.action == "get":
        for name in a.names:
            print(board.plug("plug.get(%s)" % _q(name)), end="")
    elif a.action == "set":
        pairs = a.names
        if not pairs or len(pairs) % 2:
            raise PlugctlError("config set takes NAME VALUE pairs", EXIT_USAGE)
        values = {pairs[i]: pairs[i + 1] for i in range(0, len(pairs), 2)}
        print(board.plug("plug.update(%s) and plug.save()" % _q(values)), end="")
    elif a.action == "import":
        if len(a.names) != 1:
            raise PlugctlError("config import takes one FILE", EXIT_USAGE)
        try:
            with open(a.names[0]) as f:
                values = json.load(f)
        except (OSError, ValueError) as e:
            raise PlugctlError("%s: %s" % (a.names[0], e), EXIT_USAGE)
        if not isinstance(values, dict):
            raise PlugctlError("%s: expected a JSON object of settings" % a.names[0], EXIT_USAGE)
        print(board.plug("plug.update(%s) and plug.save()" % _q(values)), end="")
    elif a.action == "export":
        if len(a.names) != 1:
            raise PlugctlError("config export takes one FILE", EXIT_USAGE)
        out = board.plug("plug.export(%s)" % bool(a.with_secrets))
        values = None
        for line in out.splitlines():
            if line.startswith("CONFIG "):
                values = json.loads(line[7:])
        if values is None:
            raise PlugctlError("no settings from the board")
        with open(a.names[0], "w") as f:
            json.dump(values, f, indent=1, sort_keys=True)
            f.write("\n")
        print("exported %d settings to %s%s" % (len(values), a.names[0],
              "" if a.with_secrets else " (secrets masked: import skips them)"))


def cmd_status(board, a):
    print(board.plug("plug.status()"), end="")


def cmd_plan(board, a):
    print(board.plug("plug.plan(%d)" % a.hours), end="")


def cmd_log(board, a):
    print(board.plug("plug.log(%d)" % a.n), end="")


def cmd_fetch(board, a):
    print(board.plug("plug.fetch()"), end="")


def cmd_override(board, a):
    if a.state == "cancel":
        code = "plug.override(False, 0)"
    else:
        code = "plug.override(%s, %d)" % (_q(a.state), a.minutes)  # the plug parses on/off
    print(board.plug(code), end="")


def cmd_wifi(board, a):
    password = a.password
    if password is None:
        password = getpass.getpass("Wi-Fi password for %s: " % a.ssid)
    print(board.plug("plug.wifi(%s, %s)" % (_q(a.ssid), _q(password))), end="")


def cmd_reset(board, a):
    if a.factory:
        if not a.yes:
            answer = input("Erase all settings, the price cache and the log on %s? Type yes: "
                           % board.port)
            if answer.strip() != "yes":
                a.no_restart = True  # nothing was touched: leave the running app alone
                raise PlugctlError("factory reset cancelled", EXIT_USAGE)
        print(board.plug('plug.factory_reset(confirm="yes")'), end="")
    if a.hard:
        board.mpremote("reset")
        board.wait_ready()  # this stops the app that just booted: main() starts it again
        print("hard reset")
    # the restart itself happens in main() like after every command


def cmd_rateplan(board, a):
    """The rate-plan commands (tools/enertalk.py): the Enertalk Bills API, and the import of
    its schema and bill into the plug (tools/rateplan_import.py)."""
    from . import enertalk

    def write_settings(board, values):
        print(board.plug("plug.update(%s) and plug.save()" % _q(values)), end="")

    try:  # RatePlanError is a ValueError whose message names the field
        enertalk.run(board, a, write_settings)
    except enertalk.EnertalkError as e:
        raise PlugctlError("rateplan %s: %s" % (a.action, e),
                           EXIT_REJECTED if e.status else EXIT_USAGE)
    except (OSError, ValueError) as e:
        raise PlugctlError("rateplan %s: %s" % (a.action, e), EXIT_USAGE)


# -- the table ------------------------------------------------------------------------------------
def _args_deploy(p):
    p.add_argument("--source", action="store_true", help="copy .py files (debugging) not .mpy")
    p.add_argument("--frozen", action="store_true",
                   help="the board runs an image built with manifest.py: copy boot.py and "
                        "main.py only, and remove firmware/ copies that would shadow the frozen "
                        "code")
    p.add_argument("--build-dir", help="where to build (default: a temporary directory)")
    p.add_argument("--tree", help="the checkout to deploy (default: the one plugctl is in)")
    p.add_argument("--march", help="mpy-cross -march (only for native code; default bytecode)")


def _args_config(p):
    p.add_argument("action", choices=("show", "get", "set", "import", "export"))
    p.add_argument("names", nargs="*", metavar="ARG",
                   help="get: NAME...; set: NAME VALUE [NAME VALUE...]; import/export: FILE")
    p.add_argument("--with-secrets", action="store_true",
                   help="export: write secrets in full into FILE (never printed)")


def _args_plan(p):
    p.add_argument("--hours", type=int, default=24, help="how far ahead (default 24)")


def _args_log(p):
    p.add_argument("-n", type=int, default=20, help="number of lines (default 20)")


def _args_override(p):
    p.add_argument("state", choices=("on", "off", "cancel"))
    p.add_argument("--minutes", type=int, default=60, help="how long (default 60)")


def _args_wifi(p):
    p.add_argument("ssid")
    p.add_argument("--password", help="(asked for when omitted, so it stays out of history)")


def _args_reset(p):
    p.add_argument("--hard", action="store_true", help="machine.reset() instead of soft reboot")
    p.add_argument("--factory", action="store_true",
                   help="erase config, cache and log first (asks for confirmation)")
    p.add_argument("--yes", action="store_true", help="do not ask before --factory")


def _args_rateplan(p):
    from . import enertalk

    enertalk.add_args(p)  # sets needs_board: the Bills API commands need no board


def _args_none(p):
    pass


COMMANDS = {
    "deploy": (cmd_deploy, _args_deploy, "compile firmware/ with mpy-cross and copy what "
               "changed (config and cache stay)"),
    "config": (cmd_config, _args_config, "show|get|set|import|export settings"),
    "status": (cmd_status, _args_none, "relay, price, cache, last fetch, clock, Wi-Fi, heap"),
    "plan": (cmd_plan, _args_plan, "planned ON/OFF intervals with prices and reasons"),
    "log": (cmd_log, _args_log, "the last log lines"),
    "fetch": (cmd_fetch, _args_none, "fetch prices now (needs the running app)"),
    "override": (cmd_override, _args_override, "hold the relay on/off for a while"),
    "wifi": (cmd_wifi, _args_wifi, "set the Wi-Fi network"),
    "reset": (cmd_reset, _args_reset, "restart the app (soft reboot), or --hard, --factory"),
    "rateplan": (cmd_rateplan, _args_rateplan, "a static rate plan: import SCHEMA BILL, or "
                 "fetch SITE / suppliers / schema / bill / set-bill over the Enertalk Bills API"),
}


def parser():
    ap = argparse.ArgumentParser(prog="plugctl", description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", "-p", help="serial port (default: $PLUGCTL_PORT or the one board)")
    ap.add_argument("--timeout", type=int, default=30, help="seconds per board operation")
    ap.add_argument("--no-restart", action="store_true",
                    help="leave the board at the REPL instead of restarting the app")
    ap.add_argument("-v", "--verbose", action="store_true", help="show the mpremote calls")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, add_args, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_args(p)
    return ap


def main(argv=None):
    ap = parser()
    a = ap.parse_args(argv)
    if not a.command:
        ap.print_help()
        return EXIT_USAGE
    fn = COMMANDS[a.command][0]
    try:
        needs = getattr(a, "needs_board", None)
        if needs is not None and not needs(a):
            a.no_restart = True  # a host-only command: the board is never touched
            board = Board(None, a.timeout, a.verbose)
        else:
            board = Board(find_port(a.port), a.timeout, a.verbose)
        failed = None
        try:
            fn(board, a)
        except PlugctlError as e:
            failed = e
        if not a.no_restart:  # the app was interrupted by mpremote: start it again
            try:
                booted = board.restart()
                if a.command == "reset":
                    print("restarted: the app is running" if booted else
                          "restarted, but the app did not report its boot (safe mode? "
                          "see `plugctl log`)")
            except PlugctlError as e:
                failed = failed or e
        if failed is not None:
            raise failed
    except PlugctlError as e:
        print("plugctl: error: %s" % e, file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("plugctl: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
