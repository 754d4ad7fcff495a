"""The simulated plug served live: the app runs on a clock that moves with the wall clock
(`time_scale` wall seconds per simulated second), its web page on 127.0.0.1 (portable: CPython
in-process, or the MicroPython unix port as `micropython host_sim/serve_device.py OPTS.json`).

Options: those of device_main.py (start_s, end_s, root, hosts, port, cfg, time_scale) plus
web_host and web_port. Events printed/emitted: ["r", t, on] relay changes, ["log", t, line]
every log line, ["end", t, {}] when the simulated clock reaches end_s.
"""

import asyncio
import json
import sys

from firmware.compat import ticks_diff, ticks_ms
from host_sim.simhal import SimHal

_REANCHOR_MS = 3600000  # ticks_diff holds half a ticks period: re-anchor every hour


class LiveHal(SimHal):
    """SimHal whose true time runs with the wall clock; sleep_until really waits."""

    @property
    def t_s(self):
        ms = ticks_diff(ticks_ms(), self._ms0)
        if ms > _REANCHOR_MS:
            self._t0 += int(ms / (1000 * self.time_scale))
            self._ms0 = ticks_ms()
            ms = 0
        return self._t0 + int(ms / (1000 * self.time_scale))

    @t_s.setter
    def t_s(self, v):
        self._t0 = v
        self._ms0 = ticks_ms()

    def advance_to(self, true_s):
        if true_s > self.t_s:
            self.t_s = true_s

    def wake(self):
        self._woken = True

    async def sleep_until(self, t_s):
        self._woken = False
        while not self._woken:
            left = self.to_true(t_s) - self.t_s
            if left <= 0:
                return
            await asyncio.sleep(min(0.05, left * self.time_scale))


def run(opts, emit):
    from firmware.app.control import App
    from firmware.web.service import WebService

    hal = LiveHal(opts["root"], opts["start_s"], opts.get("hosts", ()), opts.get("port", 0),
                  opts.get("time_scale", 0.1), 0, ())
    hal.on_relay = lambda t, on: emit(["r", t, on])
    hal.on_log = lambda line: emit(["log", hal.t_s, line])
    app = App(hal, opts.get("cfg"))
    app.services.append(WebService(opts.get("web_host", "127.0.0.1"), opts["web_port"]))
    asyncio.run(app.run(until_s=opts["end_s"]))
    emit(["end", hal.t_s, {}])
    return app


def main(argv):
    with open(argv[1]) as f:
        opts = json.load(f)
    out = sys.stdout

    def emit(ev):
        out.write(json.dumps(ev))
        out.write("\n")
        try:
            out.flush()
        except AttributeError:
            pass

    run(opts, emit)


if __name__ == "__main__":
    main(sys.argv)
