"""`python -m host_sim --serve [PORT]`: the simulated plug with its web page on 127.0.0.1, the
simulated clock running at --time-scale wall seconds per simulated second, so a person can
watch the page (and press its buttons) while the days go by. CPython only (the parent); the
plug itself runs in-process or on the MicroPython unix port (host_sim/serve_device.py).

Prints the page's address, then one line per relay change and per web/override log line,
until the run's last day ends (or Ctrl-C). Faults and sweeps are not played while serving.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

from . import serve_device
from .price_server import PriceServer
from .runner import (
    ROOT,
    SimError,
    _iso_local,
    check_settings,
    device_cfg,
    flash_base,
    load_series,
    run_span,
    zone_for,
)

_SHOWN_TAGS = (" web: ", " override: ", " relay: ", " fetch: ")


def serve(opts, port, out=sys.stdout, host="127.0.0.1"):
    check_settings(opts)
    path, series = load_series(opts)
    rule, zone, publish = zone_for(opts, path)
    t0, t1 = run_span(opts, series, zone)
    try:
        server = PriceServer(series, zone, publish, opts.provider, [], opts.time_scale,
                             run={"t0": t0, "t1": t1, "kw": opts.kw, "rateplan": opts.rateplan,
                                  "tou_bands": opts.tou_bands})
    except ValueError as e:
        raise SimError(str(e))
    root = tempfile.mkdtemp(prefix="ww_flash_", dir=flash_base())
    dev = {"start_s": t0, "end_s": t1, "root": root, "hosts": list(server.hosts),
           "port": server.port, "cfg": device_cfg(opts, rule, server.api),
           "time_scale": opts.time_scale, "web_host": host, "web_port": port}
    lock = threading.Lock()

    def emit(ev):
        kind, t = ev[0], ev[1]
        line = None
        if kind == "r":
            line = "%s relay %s" % (_iso_local(t, zone), "ON" if ev[2] else "OFF")
        elif kind == "log" and " web: page on port" in ev[2]:
            line = "serving http://%s:%d/  (%s runtime; Ctrl-C stops)" % (host, port,
                                                                         opts.runtime)
        elif kind == "log" and any(tag in ev[2] for tag in _SHOWN_TAGS):
            line = "%s %s" % (_iso_local(t, zone), ev[2])
        elif kind == "end":
            line = "%s the run's last day ended" % _iso_local(t, zone)
        if line is not None:
            with lock:
                out.write(line + "\n")
                out.flush()

    if server.hosts:
        server.start()
    try:
        if opts.runtime == "cpython":
            serve_device.run(dev, emit)
        elif opts.runtime == "micropython":
            _run_micropython(opts, dev, emit)
        else:
            raise SimError("--serve runs one runtime: cpython or micropython")
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


def _run_micropython(opts, dev, emit):
    if not os.path.exists(opts.micropython):
        raise SimError("MicroPython unix port not found at %s" % opts.micropython)
    fd, opt_path = tempfile.mkstemp(suffix=".json", prefix="ww_serve_")
    with os.fdopen(fd, "w") as f:
        json.dump(dev, f)
    env = dict(os.environ)
    env["MICROPYPATH"] = ".frozen:" + ROOT
    cmd = [opts.micropython, "-X", "heapsize=" + opts.mpy_heap,
           os.path.join(ROOT, "host_sim", "serve_device.py"), opt_path]
    p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        for line in p.stdout:
            if line.startswith("["):
                emit(json.loads(line))
            elif line.strip():
                sys.stderr.write(line)
        rc = p.wait()
    finally:
        if p.poll() is None:
            p.terminate()
            p.wait()
        os.remove(opt_path)
    if rc not in (0, -2, -15):
        raise SimError("micropython device exited with %d" % rc)
