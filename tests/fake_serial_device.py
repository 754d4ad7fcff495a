#!/usr/bin/env python3
"""An emulated MicroPython board on a pseudo-terminal, for driving the real `mpremote`.

    python tests/fake_serial_device.py LINK --flash IMG [--blocks N] [-- MICROPYTHON ARGS...]

LINK becomes a symlink to the host side of a PTY. Behind a second PTY runs the MicroPython unix
port with tests/flash_boot.py, which mounts the LittleFS image IMG as `/` (TOOLCHAIN.md §1b).
What makes it behave like a board rather than a bare interpreter:
- Ctrl-D on an empty raw-REPL line makes the unix port exit; we answer `soft reboot` and start
  it again, back in the raw REPL and without running main.py (as a board does);
- exit code 66 (machine.reset() in flash_boot.py) is a hard reset: banner, boot.py, main.py;
- Ctrl-C reaches code sent in raw-paste mode (the unix port turns ISIG off meanwhile): we
  deliver SIGINT ourselves when the interpreter is not sitting at a prompt.
The class FakeBoard runs this script as a subprocess for the tests.
"""

import fcntl
import os
import select
import signal
import subprocess
import sys
import termios
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HARD_RESET_CODE = 66
_PROMPTS = (b">", b">>> ", b"... ", b"=== ")
READY = b"\x1b[ww-flash-mounted]\r\n"  # printed by flash_boot.py, never forwarded


def micropython_exe():
    sys.path.insert(0, HERE)
    from minheap import micropython_cmd

    return micropython_cmd()


def blank_image(path, blocks=256, block_size=4096):
    with open(path, "wb") as f:
        f.write(b"\xff" * (block_size * blocks))


class Device:
    """The forwarding loop between the host PTY and the interpreter's PTY."""

    def __init__(self, link, cmd, env):
        self.link = link
        self.cmd = cmd
        self.env = env
        self.master, self._slave = os.openpty()  # keep the slave open: the PTY survives clients
        tty.setraw(self._slave)
        try:
            os.unlink(link)
        except FileNotFoundError:
            pass
        os.symlink(os.ttyname(self._slave), link)
        self.child = None
        self.cfd = None
        self.raw = False
        self.tail = b""

    def start_child(self, raw, run_main):
        cm, cs = os.openpty()
        tty.setraw(cs)
        attrs = termios.tcgetattr(cs)
        attrs[3] |= termios.ISIG  # Ctrl-C -> SIGINT while code runs
        termios.tcsetattr(cs, termios.TCSANOW, attrs)
        env = dict(self.env, WW_RUN_MAIN="1" if run_main else "0")

        def ctty():
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.child = subprocess.Popen(self.cmd, stdin=cs, stdout=cs, stderr=cs, env=env,
                                      preexec_fn=ctty, close_fds=True, cwd=HERE)
        os.close(cs)
        self.cfd = cm
        self.tail = b""
        # A board's boot cannot be interrupted: host input waits in the PTY until the flash is
        # mounted (a Ctrl-C before that would stop flash_boot.py with the host's / as root).
        deadline = time.monotonic() + 10
        buf = b""
        while READY not in buf and time.monotonic() < deadline:
            if select.select([cm], [], [], 0.1)[0]:
                try:
                    buf += os.read(cm, 4096)
                except OSError:
                    break
        rest = buf.split(READY, 1)[-1]
        if raw:  # a board that soft-resets in the raw REPL comes back to the raw REPL
            buf, deadline = rest, time.monotonic() + 10
            while not buf.endswith(b">>> ") and time.monotonic() < deadline:
                if select.select([cm], [], [], 0.1)[0]:
                    try:
                        buf += os.read(cm, 4096)
                    except OSError:
                        break
            os.write(cm, b"\x01")
        elif rest:
            os.write(self.master, rest)

    def interrupt_if_busy(self):
        try:
            isig = termios.tcgetattr(self.cfd)[3] & termios.ISIG
        except termios.error:
            return
        if not isig and not self.tail.endswith(_PROMPTS):
            self.child.send_signal(signal.SIGINT)

    def stop(self, *_):
        if self.child and self.child.poll() is None:
            self.child.kill()
        try:
            os.unlink(self.link)
        except OSError:
            pass
        sys.exit(0)

    def loop(self):
        self.start_child(False, True)
        while True:
            r, _, _ = select.select([self.master, self.cfd], [], [])
            if self.master in r:
                data = os.read(self.master, 4096)
                for b in data:
                    if b == 1:
                        self.raw = True
                    elif b == 2:
                        self.raw = False
                if b"\x03" in data:
                    self.interrupt_if_busy()
                try:
                    os.write(self.cfd, data)
                except OSError:
                    pass
            if self.cfd in r:
                try:
                    data = os.read(self.cfd, 4096)
                except OSError:
                    data = b""
                if data:
                    self.tail = (self.tail + data)[-8:]
                    os.write(self.master, data)
                    continue
                code = self.child.wait()
                os.close(self.cfd)
                if code == HARD_RESET_CODE:
                    self.raw = False
                    os.write(self.master, b"\r\nets Jun  8 2016 00:22:57\r\nrst:0x1 (POWERON)\r\n")
                    self.start_child(False, True)
                else:
                    msg = b"soft reboot\r\n" if self.raw else b"MPY: soft reboot\r\n"
                    os.write(self.master, msg)
                    self.start_child(self.raw, not self.raw)


class FakeBoard:
    """Context manager for tests: runs this script in a subprocess until exit."""

    def __init__(self, link, image, blocks=256, heap="1m", env=None):
        self.link = link
        self.image = image
        self.blocks = blocks
        self.heap = heap
        self.env = env or {}
        self.proc = None

    def __enter__(self):
        if not os.path.exists(self.image):
            blank_image(self.image, self.blocks)
        cmd = [sys.executable, os.path.abspath(__file__), self.link, "--flash", self.image,
               "--blocks", str(self.blocks), "--", micropython_exe(), "-X",
               "heapsize=" + self.heap]
        env = dict(os.environ, **self.env)
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not os.path.exists(self.link):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.__exit__()
                raise RuntimeError("fake board did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main(argv):
    link = argv[1]
    opts, cmd = argv[2:], [micropython_exe()]
    if "--" in opts:
        i = opts.index("--")
        opts, cmd = opts[:i], opts[i + 1:]
    image, blocks = None, "256"
    while opts:
        k = opts.pop(0)
        if k == "--flash":
            image = opts.pop(0)
        elif k == "--blocks":
            blocks = opts.pop(0)
    if not image:
        sys.exit("usage: fake_serial_device.py LINK --flash IMG [--blocks N] [-- micropython ...]")
    if not os.path.exists(image):
        blank_image(image, int(blocks))
    cmd = [c for c in cmd if c != "-i"] + ["-i", os.path.join(HERE, "flash_boot.py")]
    env = dict(os.environ, FLASH_IMG=os.path.abspath(image), FLASH_BLOCKS=blocks,
               MICROPYPATH=".frozen:" + HERE, TZ="UTC")
    dev = Device(link, cmd, env)
    signal.signal(signal.SIGTERM, dev.stop)
    signal.signal(signal.SIGINT, dev.stop)
    dev.loop()


if __name__ == "__main__":
    main(sys.argv)
