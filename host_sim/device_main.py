"""The simulated plug's life: boot App on the simulated HAL, step it from event to event, play
power cuts, and emit a timeline. Portable: CPython calls run() in-process; `--runtime
micropython` runs this file under the MicroPython unix port:

    MICROPYPATH=.frozen:<repo> micropython host_sim/device_main.py OPTIONS.json

and it prints one JSON array per event on stdout (the parent parses them). Both runtimes go
through exactly the same code, so their timelines can be compared decision for decision.

Options (a dict, JSON in the file): start_s, end_s (true UTC seconds), root (flash directory),
hosts (names the device contacts), port (the price server), cfg (App settings), power_cuts
[[t0, t1], ...], wifi_down [[t0, t1], ...], clock_loss_s, time_scale, log (bool: emit log lines),
watch_state (provider-state keys to report, e.g. a rate plan's energy counter), services
(true: the plug's services run, chosen from cfg as on the device, paced by time_scale: see
Paced; web_port: the page's port on 127.0.0.1, 0 = a free one), actions
[[t, "button", null] | [t, "override", [on, minutes]], ...] (what a person does, in time order).

Events (lists; times are TRUE simulated seconds unless noted):
    ["boot", t]                       an App boots (first boot and after each power cut/reset)
    ["d", t, device_t, on, reason]    App.timeline_hook: a relay decision and its reason
    ["r", t, on]                      the relay contact actually changed (the HAL saw it)
    ["cut", t0, t1]                   power cut
    ["act", t, kind, text]            a person's action as the plug took it (a button press or
                                      plug.override(); "lost": during a power cut)
    ["log", t, line]                  a log line (fetch/cache/clock lines; all with log=True)
    ["state", t, {key: value}]        the watched provider-state keys, whenever they change
    ["tick", t]                       progress, once per simulated day
    ["savings", t, [day, ...]]        the plug's savings record at the end (app.savings.days)
    ["end", t, counters]              fetches, fetch_failures, switches, flash_writes, boots,
                                      steps, syncs, opens
"""

import json
import sys

from host_sim.simhal import SimHal, SimReset

_LOG_TAGS = (" fetch: ", " cache: ", " clock: ", " boot: ")


def run(opts, emit):
    from firmware import onoff
    from firmware.app.control import App

    hal = SimHal(opts["root"], opts["start_s"], opts.get("hosts", ()), opts.get("port", 0),
                 opts.get("time_scale", 0.1), opts.get("clock_loss_s", 0),
                 opts.get("wifi_down", ()))
    end_s = opts["end_s"]
    cfg = opts.get("cfg")
    all_logs = opts.get("log", False)
    cuts = sorted([list(c) for c in opts.get("power_cuts", ())])
    actions = sorted([list(a) for a in opts.get("actions", ())], key=lambda a: a[0])
    totals = {"fetches": 0, "fetch_failures": 0, "switches": 0, "flash_writes": 0,
              "boots": 0, "steps": 0}

    hal.on_relay = lambda t, on: emit(["r", t, on])
    paced = Paced(opts, hal) if opts.get("services") else None

    def on_log(line):
        if all_logs:
            emit(["log", hal.t_s, line])
            return
        for tag in _LOG_TAGS:
            if tag in line:
                emit(["log", hal.t_s, line])
                return

    hal.on_log = on_log
    watch = list(opts.get("watch_state", ()))
    seen = [None]

    def report_state(app):
        if not watch:
            return
        vals = [app.provider_state.get(k) for k in watch]
        if vals != seen[0] and (seen[0] is not None or vals.count(None) < len(vals)):
            seen[0] = vals
            emit(["state", hal.t_s, {k: vals[i] for i, k in enumerate(watch)}])

    def hook(dev_t, on, reason):
        emit(["d", hal.t_s, dev_t, bool(on), reason])

    def boot():
        app = App(hal, cfg)
        app.timeline_hook = hook
        totals["boots"] += 1
        emit(["boot", hal.t_s])
        app.boot()
        report_state(app)
        if paced is not None:
            paced.attach(app)
        return app

    def retire(app):
        if paced is not None:
            paced.detach(app)
        totals["fetches"] += app.fetches
        totals["fetch_failures"] += app.fetch_failures
        totals["switches"] += app.switches
        store = getattr(app, "store", None)
        totals["flash_writes"] += getattr(store, "writes", 0) if store is not None else 0

    def act(app, action):
        t, kind, arg = action
        if t < hal.t_s:  # the plug was unplugged then: nobody's press or command reached it
            emit(["act", t, kind, "lost: no power"])
            return
        hal.advance_to(t)
        if kind == "button":
            hal.button.press()  # the next step() takes it, as the device's IRQ flag
            emit(["act", t, kind, "press"])
        else:
            on, minutes = arg
            on = onoff.parse(on, "override")  # what plug.override() does with a REPL argument
            emit(["act", t, kind, "%s for %d min" % (onoff.word(on), minutes)])
            app.override(on, minutes)

    app = boot()
    next_tick = hal.t_s - hal.t_s % 86400 + 86400
    steps = 0
    while hal.t_s < end_s:
        try:
            wake_dev = app.step()
        except SimReset:
            retire(app)
            hal.power_cut(hal.t_s, hal.t_s)  # a reset: the RTC keeps no time either
            app = boot()
            continue
        steps += 1
        report_state(app)
        wake = hal.to_true(wake_dev)
        if wake <= hal.t_s:
            wake = hal.t_s + 1
        if actions and actions[0][0] <= min(wake, end_s) and \
                not (cuts and cuts[0][0] <= actions[0][0]):
            act(app, actions.pop(0))
            continue
        if cuts and cuts[0][0] <= min(wake, end_s):
            t0, t1 = cuts.pop(0)
            if t0 < hal.t_s:
                t0 = hal.t_s
            retire(app)
            emit(["cut", t0, t1])
            hal.power_cut(t0, t1)
            app = boot()
            continue
        (paced.advance if paced is not None else hal.advance_to)(wake if wake < end_s else end_s)
        if hal.t_s >= next_tick:
            emit(["tick", hal.t_s])
            next_tick = hal.t_s - hal.t_s % 86400 + 86400
    for t, kind, _arg in actions:  # left when the run ended unplugged
        if t < hal.t_s:
            emit(["act", t, kind, "lost: no power"])
    if getattr(app, "savings", None) is not None:  # the plug's own record, day by day
        n = min((end_s - opts["start_s"]) // 86400 + 2, 35)
        emit(["savings", end_s, app.savings.days(n, end_s)])
    retire(app)
    totals["steps"] = steps
    totals["syncs"] = hal.clock.syncs
    totals["opens"] = hal.net.opens
    emit(["end", hal.t_s, totals])
    return totals


class Paced:
    """Option services (the plug's services from its settings: firmware/app/services.py): the
    run goes by at time_scale wall seconds per simulated second, so a person can watch it
    (e.g. in Home Assistant), and the app's services run on one asyncio loop between the
    steps; a service's App.wake() (a command) ends the wait early."""

    def __init__(self, opts, hal):
        import asyncio

        self.asyncio = asyncio
        self.loop = asyncio.new_event_loop()
        self.hal = hal
        self.scale = opts.get("time_scale", 0.1)
        self.web_port = opts.get("web_port", 0)

    def attach(self, app):
        from firmware.app.services import from_config

        # the plug's own choice from its settings (web.enabled, mqtt.enabled), as on the device;
        # the page listens on 127.0.0.1 (a free port unless web_port says otherwise)
        app.services += from_config(app.cfg, "127.0.0.1", self.web_port)

        async def start():
            for s in app.services:
                s.start(app)

        self.loop.run_until_complete(start())

    def detach(self, app):
        for s in app.services:
            stop = getattr(s, "stop", None)
            if stop is not None:
                stop()
        self.loop.run_until_complete(self._settle())

    async def _settle(self):
        await self.asyncio.sleep(0.1)  # the cancelled tasks end (and close their links)

    def advance(self, target):
        self.loop.run_until_complete(self._pace(target))

    async def _pace(self, target):
        hal = self.hal
        hal.woken = False
        chunk = max(1, int(0.05 / self.scale))  # about 50 ms of wall time per wait
        while hal.t_s < target and not hal.woken:
            step = min(chunk, target - hal.t_s)
            await self.asyncio.sleep(step * self.scale)
            hal.advance_to(hal.t_s + step)
        hal.woken = False


def main(argv):
    with open(argv[1]) as f:
        opts = json.load(f)
    out = sys.stdout

    def emit(ev):
        out.write(json.dumps(ev))
        out.write("\n")

    run(opts, emit)


if __name__ == "__main__":
    main(sys.argv)
