"""A real mosquitto for the MQTT tests (CPython side), plus a server that never answers.

    b = Broker(); b.start()      # mosquitto on free loopback ports, stopped by b.close()
    b.port, b.tls_port           # plain (user + password required) and TLS (test CA)
    b.rogue_port                 # TLS with a certificate from another CA (must be refused)
    b.ca_der, b.user, b.password # what a plug needs to log in
    b.stop(); b.start()          # a broker restart on the same ports (sessions are lost)
    s = SilentServer()           # accepts TCP and reads, never answers CONNECT; s.close()

The CA and the certificates are made at run time (srv_fixture.make_certs) in a temporary
directory with the password file (mosquitto_passwd) and the configuration; close() deletes
it. Nothing is committed. tests/setup/system_deps.sh installs mosquitto where it is missing;
a missing broker is a failure here, never a skip.
"""

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

MOSQUITTO = "/usr/sbin/mosquitto"
PASSWD = "/usr/bin/mosquitto_passwd"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout_s=10.0):
    t_end = time.monotonic() + timeout_s
    while time.monotonic() < t_end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on 127.0.0.1:%d after %.0f s" % (port, timeout_s))


class Broker:
    def __init__(self, user="plug", password="s3cret-plug-pw"):
        for exe in (MOSQUITTO, PASSWD):
            if not os.path.exists(exe):
                raise RuntimeError("%s missing: run tests/setup/system_deps.sh" % exe)
        from srv_fixture import make_certs

        self.dir = tempfile.mkdtemp(prefix="ww_mqtt_")
        certs = make_certs(self.dir)
        self.ca_der = certs["ca_der"]
        self.user, self.password = user, password
        self.port, self.tls_port, self.rogue_port = free_port(), free_port(), free_port()
        pw = os.path.join(self.dir, "passwd")
        with open(pw, "w"):
            pass
        subprocess.run([PASSWD, "-b", pw, user, password], check=True, capture_output=True)
        self.log = os.path.join(self.dir, "mosquitto.log")
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        good, rogue = certs["good"], certs["rogue"]
        with open(self.conf, "w") as f:
            # as root mosquitto drops to user "mosquitto", who cannot read this private dir
            f.write("user %s\n" % getpass.getuser())
            f.write("per_listener_settings false\nallow_anonymous false\n"
                    "password_file %s\npersistence false\nlog_dest file %s\n"
                    "log_type all\nmax_queued_messages 100\n" % (pw, self.log))
            f.write("listener %d 127.0.0.1\n" % self.port)
            f.write("listener %d 127.0.0.1\ncertfile %s\nkeyfile %s\n"
                    % (self.tls_port, good[0], good[1]))
            f.write("listener %d 127.0.0.1\ncertfile %s\nkeyfile %s\n"
                    % (self.rogue_port, rogue[0], rogue[1]))
        self.proc = None

    def start(self):
        if self.proc is not None:
            return
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        try:
            for p in (self.port, self.tls_port, self.rogue_port):
                wait_port(p)
        except RuntimeError:
            self.stop()
            raise RuntimeError("mosquitto did not start:\n" + self.log_text()[-2000:])

    def stop(self):
        if self.proc is None:
            return
        self.proc.kill()  # a crash, not a clean shutdown: clients see the link die
        self.proc.wait(10)
        self.proc = None

    def log_text(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class SilentServer:
    """Accepts TCP connections and reads what comes, never answers (a hung broker)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._conns = []
        self._stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._conns.append(c)
            threading.Thread(target=self._drain, args=(c,), daemon=True).start()

    def _drain(self, c):
        try:
            while c.recv(4096):
                pass
        except OSError:
            pass

    def close(self):
        self._stop = True
        self.sock.close()
        for c in self._conns:
            try:
                c.close()
            except OSError:
                pass
