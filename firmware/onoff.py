"""On/off states: the one parser every door uses (REPL, plugctl, simulator, MQTT, web).

parse(value) accepts exactly the documented forms: True/False, 1/0 and the words "on"/"off"
(any case, surrounding blanks ignored). Anything else raises ValueError with one line naming
the value and the accepted forms: a plug must never turn a load on because a caller wrote
"off" where a bool was expected (any non-empty string is true in Python).
word(on) is the lower-case word for a state, for logs and reasons.
"""

FORMS = 'True/False, "on"/"off" or 1/0'


def parse(value, what="state"):
    if value is True or value is False:
        return value
    if isinstance(value, int) and (value == 0 or value == 1):
        return value == 1
    if isinstance(value, str):
        w = value.strip().lower()
        if w == "on":
            return True
        if w == "off":
            return False
    raise ValueError("%s: %r is not on or off; use %s" % (what, value, FORMS))


def word(on):
    return "on" if on else "off"
