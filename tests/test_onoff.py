# runtimes: cpython micropython
"""One on/off parser for every door: the documented forms only, anything else refused."""

from test_plug import T0, make

from firmware import onoff
from firmware.repl import plug

from support import TmpDir, raises


def test_documented_forms_and_nothing_else():
    for v in (True, 1, "on", "ON", " On "):
        assert onoff.parse(v) is True, v
    for v in (False, 0, "off", "OFF", "off\n"):
        assert onoff.parse(v) is False, v
    for v in ("", "of", "no", "yes", "true", "false", "1", "0", 2, -1, 1.0, 0.0, None, [], [1]):
        e = raises(ValueError, onoff.parse, v, "override")
        msg = str(e)
        assert msg.startswith("override: "), msg
        assert '"on"/"off"' in msg and "\n" not in msg, msg
    assert onoff.word(True) == "on" and onoff.word(False) == "off"


def test_repl_override_off_holds_the_load_off():
    # The defect: plug.override("off", 30) turned the load ON (a non-empty string is true).
    with TmpDir("onoff") as root:
        plug.use(root, lambda: T0, make(root).fields())
        assert plug.override("off", 30) is True
        assert plug.session().pending_override() == {"on": False, "until_s": T0 + 1800}
        assert plug.override("on", 30) is True
        assert plug.session().pending_override() == {"on": True, "until_s": T0 + 1800}


def test_repl_override_refuses_anything_else_and_keeps_the_old_request():
    with TmpDir("onoff") as root:
        plug.use(root, lambda: T0, make(root).fields())
        assert plug.override(False, 30) is True
        for bad in ("of", "yes", 2, None):
            assert plug.override(bad, 30) is False
            assert plug.session().pending_override() == {"on": False, "until_s": T0 + 1800}
        p = make(root)
        raises(ValueError, p.override, "0", 10)
