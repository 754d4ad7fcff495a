"""plugctl: set up and inspect a WattWindow plug over USB, on top of `mpremote`.

    python -m tools.plugctl [--port PORT] COMMAND ...      (python -m tools.plugctl -h)

Each command runs `mpremote` (its CLI, as a subprocess) against the board: deploy copies files
with `mpremote fs cp`, the others run a line of the on-device `plug` API (firmware/repl/plug.py)
with `mpremote exec`. mpremote stops the running app when it connects (Ctrl-C). Commands that
only read (status, plan, log, config show|get|help|export) and those the app applies live
(override, fetch) then resume it where it stopped (plug.resume(): no reboot, no boot lines in
its log); commands that change settings or code restart it with a soft reboot and say so.
--no-restart leaves the board at the REPL. Argument limits are the plug's own (its schema and
firmware/repl/view.py), checked here before the board is touched.
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

from firmware.repl.view import LOG_LINES, PLAN_HOURS, override_field

from . import plugctl_deploy as deploy_mod

EXIT_USAGE = 2
EXIT_DEVICE = 3
EXIT_REJECTED = 4
BOOTED_MARK = b" I boot: v"  # firmware/app/control.py logs this at the end of App.boot()
BOOT_WAIT_S = 15
RESUMED_MARK = b"app resumed"  # firmware/repl/plug.py resume() prints it as the app starts
BUSY = ("no answer from the board on %s: another program (a serial monitor, an IDE, another "
        "mpremote) holds the port; close it and try again")
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
        self.touched = False  # a command that failed before reaching the board leaves it be

    def mpremote(self, *args, resume=True, timeout_s=None):
        """Run `mpremote connect PORT [resume] ARGS...`; stdout, or PlugctlError."""
        self.touched = True
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
            raise PlugctlError(BUSY % self.port + " (nothing within %ds)"
                               % (timeout_s or self.timeout_s))
        out = p.stdout.replace("\r\n", "\n")
        if p.returncode != 0:
            raise PlugctlError(_device_error(out + p.stderr.replace("\r\n", "\n"), self.port))
        return out

    def open(self):
        """mpremote's serial transport on the port, or the one-line 'port busy' error."""
        from mpremote.transport_serial import SerialTransport

        self.touched = True
        try:
            return SerialTransport(self.port, baudrate=115200)
        except Exception as e:  # TransportError("failed to access ..."), OSError
            if "failed to access" in str(e) or "lock" in str(e) or "busy" in str(e).lower():
                raise PlugctlError(BUSY % self.port)
            raise PlugctlError("cannot open %s: %s" % (self.port, e))

    def plug(self, code):
        """Run plug API code on the board; lines starting with ERROR become a PlugctlError.
        plug.tool() first: its reports say the app is paused for this command."""
        out = self.mpremote("exec", "import plug\nplug.tool()\n" + code)
        errors = [ln[6:] for ln in out.splitlines() if ln.startswith("ERROR ")]
        if errors:
            raise PlugctlError(errors[0], EXIT_REJECTED)
        # The app's console echo of its log (UTC times) is left out: `plugctl log` shows the
        # same lines in the plug's local time, as every other time plugctl prints.
        return "".join(ln for ln in out.splitlines(True) if not _is_log_line(ln))

    def copy_files(self, setup_code, files, final_code=""):
        """Run setup_code, then write each (device path, host path) through mpremote's
        transport (bigger chunks than `mpremote fs cp`: a deploy takes a third of the time).
        Each file is written to <path>.part and renamed, so a cut cable never leaves a
        half-written module behind; final_code (removing stale files) runs last."""
        from mpremote.transport import TransportError, TransportExecError

        t = self.open()
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
        t = self.open()
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

    def resume(self):
        """Start the app the command stopped again where it stopped: plug.resume() at the
        friendly REPL (it blocks there, as main.py does). True when it resumed; False when
        there was no app in RAM (safe mode, a board just reset): the board is left as it is."""
        t = self.open()
        try:
            t.serial.write(b"\r\x03\x03")
            time.sleep(0.05)
            t.serial.write(b"\r\x02")  # Ctrl-B: friendly REPL
            t.read_until(1, b">>> ", timeout=2)
            t.serial.write(b"import plug; plug.resume()\r")
            seen, t0 = b"", time.monotonic()
            while time.monotonic() - t0 < 10:
                n = t.serial.inWaiting()
                if not n:
                    time.sleep(0.02)
                    continue
                seen += t.serial.read(n)
                if RESUMED_MARK + b"\r\n" in seen or RESUMED_MARK + b"\n" in seen:
                    return True
                if b"ERROR resume" in seen:
                    return False
            raise PlugctlError("the board did not resume the app (no '%s')"
                               % RESUMED_MARK.decode())
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


def _is_log_line(line):
    # firmware/app/log.py: "2025-07-15T08:00:00Z I tag: message"
    return len(line) > 23 and line[4] == "-" and line[10] == "T" and line[19] == "Z" and \
        line[20] == " " and line[21] in "DIWE" and line[22] == " "


def _device_error(text, port="the port"):
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    last = lines[-1] if lines else "mpremote failed"
    if "failed to access" in text or "could not enter raw repl" in text or \
            "TransportError" in text:
        return BUSY % port  # mpremote's words for a port another program holds
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
    elif a.action == "help":
        if len(a.names) > 1:
            raise PlugctlError("config help takes at most one NAME (a setting or a group)",
                               EXIT_USAGE)
        print(board.plug("plug.help(%s)" % (_q(a.names[0]) if a.names else "")), end="")
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
        if a.minutes is not None:
            raise PlugctlError("override cancel takes no --minutes", EXIT_USAGE)
        code = "plug.cancel()"
    else:
        code = "plug.override(%s, %d)" % (_q(a.state), 60 if a.minutes is None else a.minutes)
    print(board.plug(code), end="")


def _count(limits, what):
    """argparse type: an integer within the plug's own limits for `what`."""
    def conv(text):
        try:
            n = int(text)
        except ValueError:
            n = None
        if n is None or not limits[0] <= n <= limits[1]:
            raise argparse.ArgumentTypeError("%s: %s is not allowed; expected an integer in "
                                             "%d..%d" % (what, text, limits[0], limits[1]))
        return n
    return conv


def _minutes(text):
    f = override_field()  # the limits of override.minutes, as the plug applies them
    try:
        return f.check(text)
    except ValueError:
        raise argparse.ArgumentTypeError("--minutes %s is not allowed; expected %s (ends "
                                         "early with `override cancel`)" % (text, f.allowed()))


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
            if answer.strip() != "yes":  # the board was not touched: the app runs on
                raise PlugctlError("factory reset cancelled", EXIT_USAGE)
        print(board.plug('plug.factory_reset(confirm="yes")'), end="")
    if a.hard:
        board.mpremote("reset")
        board.wait_ready()  # this stops the app that just booted: main() starts it again
        print("hard reset")
    board.touched = True  # the restart itself happens in main(), as after every command


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
    p.add_argument("action", choices=("show", "get", "set", "help", "import", "export"))
    p.add_argument("names", nargs="*", metavar="ARG",
                   help="get: NAME...; set: NAME VALUE [NAME VALUE...]; help: [NAME or GROUP] "
                        "(meaning, type, limits, default); import/export: FILE")
    p.add_argument("--with-secrets", action="store_true",
                   help="export: write secrets in full into FILE (never printed)")


def _args_plan(p):
    p.add_argument("--hours", type=_count(PLAN_HOURS, "--hours"), default=24,
                   help="how far ahead, %d..%d (default 24)" % PLAN_HOURS)


def _args_log(p):
    p.add_argument("-n", type=_count(LOG_LINES, "-n"), default=20,
                   help="number of lines, %d..%d (default 20)" % LOG_LINES)


def _args_override(p):
    p.add_argument("state", choices=("on", "off", "cancel"))
    p.add_argument("--minutes", type=_minutes, default=None,
                   help="how long, within the limits of override.minutes (default 60)")


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


READ_ONLY = ("status", "plan", "log")
LIVE = ("override", "fetch")  # the paused app applies them itself: resume, no restart


def changes(a):
    """False for a command that only reads; else whether it is applied live or needs a
    restart ("live" / "restart")."""
    if a.command in READ_ONLY or (a.command == "config" and
                                  a.action in ("show", "get", "help", "export")):
        return False
    return "live" if a.command in LIVE else "restart"


def _start_again(board, a, failed):
    kind = changes(a)
    if kind != "restart" or (failed is not None and a.command == "config"):
        # nothing changed (or a refused setting changed nothing): the app goes on where it
        # stopped; no reboot, no boot lines in its log
        resumed = board.resume()
        if kind == "live" and failed is None:
            print("app resumed (no restart)" if resumed else
                  "no app was running (safe mode?): it applies the change when it starts")
        elif not resumed:
            print("plugctl: note: no app was running on the board; left as it was "
                  "(`plugctl reset` starts it)", file=sys.stderr)
        return
    booted = board.restart()
    print("app restarted (soft reboot)%s" % (
        "" if booted else ", but it did not report its boot (safe mode? see `plugctl log`)"))


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
        if not board.touched:
            pass  # refused before reaching the board: the app never stopped
        elif not a.no_restart:  # the app was interrupted by mpremote: start it again
            try:
                _start_again(board, a, failed)
            except PlugctlError as e:
                failed = failed or e
        elif failed is None and changes(a):
            print("app left stopped at the REPL (--no-restart): nothing switches until "
                  "`plugctl reset`")
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
