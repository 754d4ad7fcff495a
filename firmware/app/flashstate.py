"""The small files the app keeps on flash besides config.json and the price cache.

    status.json    the app's status() snapshot, for `plug.status()` while the app is stopped
                   (written only when it changes: relay, reason, fetch outcome, override)
    log.txt        INFO+ log lines; renamed to log.txt.1 past LOG_FILE_MAX bytes (two files max)
    override.json  {"on": bool, "until_s": int}: a timed override survives a restart
    run.json       {"period_s": int, "ran_s": int, "block": [start_s, end_s]}: the load's
                   measured on-time in the current planning period (planner.count_run), so a
                   power cut does not make the planner buy the hours already run a second
                   time, and the contiguous block that has started (block mode), so it is
                   finished after a power cut rather than re-planned (written on change)

All writes are best effort: a full or failing flash must never stop the relay loop, so
OSError is swallowed here (the relay does not depend on any of these files).
"""

import json
import os

from ..flashfile import join, remove, write_text
from ..onoff import parse as parse_onoff

STATUS_FILE = "status.json"
LOG_FILE = "log.txt"
LOG_FILE_MAX = 8192
OVERRIDE_FILE = "override.json"
RUN_FILE = "run.json"


def append_log(root, line):
    path = join(root, LOG_FILE)
    try:
        try:
            if os.stat(path)[6] > LOG_FILE_MAX:
                os.rename(path, path + ".1")
        except OSError:
            pass
        with open(path, "a") as f:
            f.write(line + "\n")
    except OSError:
        pass


def write_status(root, text):
    return write_text(join(root, STATUS_FILE), text)


def save_override(root, on, until_s):
    """Keep (on, until_s) on flash, or drop it (until_s None); False if the flash refused."""
    if until_s is None:
        remove(join(root, OVERRIDE_FILE))
        return True
    return write_text(join(root, OVERRIDE_FILE),
                        json.dumps({"on": parse_onoff(on), "until_s": until_s}))


def load_override(root, now_s):
    """(on, until_s) of an override still running at now_s, else None (a stale file goes)."""
    path = join(root, OVERRIDE_FILE)
    try:
        with open(path) as f:
            ov = json.load(f)
        until = int(ov["until_s"])
        on = parse_onoff(ov["on"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if until <= now_s:
        remove(path)
        return None
    return on, until


def save_run(root, period_s, ran_s, block=None):
    if period_s is None and block is None:
        remove(join(root, RUN_FILE))
        return
    run = {"period_s": period_s, "ran_s": ran_s}
    if block is not None:
        run["block"] = [block[0], block[1]]
    write_text(join(root, RUN_FILE), json.dumps(run))


def load_run(root):
    """(period_s or None, ran_s, block (start_s, end_s) or None) last saved, else None."""
    try:
        with open(join(root, RUN_FILE)) as f:
            r = json.load(f)
        period = r.get("period_s")
        block = r.get("block")
        if block is not None:
            block = (int(block[0]), int(block[1]))
        return (None if period is None else int(period)), int(r.get("ran_s") or 0), block
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError):
        return None
