"""Commands from Home Assistant, on <base>/<entity>/set:

    load   "ON"/"OFF" (onoff.parse)   a timed override for override.minutes
    auto   "PRESS"                    back to automatic (the override ends)
    hours  a number                   policy.hours  } validated like plug.set, saved atomically
    mode   one of policy's MODES      policy.mode   } (repl/view.py Plug.set + save)

apply(app, base, topic, payload, qos, offline_s) -> None when done, else why it was refused
(one line; nothing was changed or saved). `payload` None means the message was too large.
`offline_s` is None for a live message; for one the broker kept in the plug's session while
it was away, how long the plug had been offline: an override is applied only if it came with
QoS 1 and its window is not over (the time offline counts against it, so it never runs past
what the sender could have meant); a setting is applied (it is a state, not an event).
"""

from .. import onoff

SETTINGS = {"hours": "policy.hours", "mode": "policy.mode"}


def apply(app, base, topic, payload, qos, offline_s=None):
    if not topic.startswith(base + "/") or not topic.endswith("/set"):
        return "not a command topic of this plug"
    what = topic[len(base) + 1:-4]
    if payload is None:
        return "message too large"
    try:
        text = payload.decode().strip()
    except UnicodeError:
        return "payload is not UTF-8 text"
    try:
        if what == "load":
            on = onoff.parse(text, "load")
            minutes = app.cfg["override.minutes"]
            if offline_s is not None:
                if qos != 1:
                    return "kept while offline without QoS 1"
                minutes -= (offline_s + 59) // 60
                if minutes <= 0:
                    return "kept while offline for %d s, past its %d min override" % (
                        offline_s, app.cfg["override.minutes"])
            app.override(on, minutes)
        elif what == "auto":
            if text != "PRESS":
                return "auto: %r is not PRESS" % text[:20]
            app.override(None)
        elif what in SETTINGS:
            _save_setting(app, SETTINGS[what], text)
        else:
            return "unknown command %r" % what[:40]
    except ValueError as e:  # onoff's and ConfigError's one-line messages
        return str(e)
    return None


def _save_setting(app, name, text):
    from ..app.settings import settings_fields  # noqa: I001 - only when a setting comes in
    from ..providers import in_use
    from ..repl.view import Plug

    p = Plug(app.hal.root, app, fields=settings_fields(app.hal, in_use(app.cfg)))
    p.set(name, text)
    p.save()  # atomic; hands the new settings to the app (re-plans)
