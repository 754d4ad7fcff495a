"""The app's own settings (declared here, re-exported as app.CONFIG) and the schema of every
setting the running plug needs: the app's, the planner's, the HAL's and those of the price
sources in use.
"""

from .. import config
from ..clock.tz import Zone
from ..config import Field
from ..mqtt.settings import CONFIG as _MQTT_CONFIG
from ..plan import planner
from ..plan.windows import parse_hm
from ..providers import SOURCES
from .fetcher import CONFIG as _FETCH_CONFIG

# Its limits are those of every override: the button's, plug.override's, plugctl's and the
# simulator's (firmware/repl/view.py override_field()).
OVERRIDE_MINUTES = Field("override.minutes", "number", 60, lo=1, hi=1440, unit="min",
                         integer=True, help="length of an override started with the button; "
                         "plug.override and plugctl override take the same limits")

CONFIG = (
    Field("source", "dropdown", "arcadia", choices=SOURCES, help="price source"),
    Field("tz", "text", "PST8PDT,M3.2.0,M11.1.0", hi=64,
          help="POSIX TZ rule for local days, e.g. CET-1CEST,M3.5.0,M10.5.0/3",
          parse=lambda v: Zone(v), expect="a POSIX TZ rule such as CET-1CEST,M3.5.0,M10.5.0/3"),
    Field("safe_state", "radiobox", "off", choices=("off", "on"),
          help="load state while the clock is not valid, and after a crash"),
    Field("relay.inverted", "flag", False,
          help="the load is on while the relay is released (e.g. a 'block' input)"),
    OVERRIDE_MINUTES,
    Field("wifi.ssid", "text", "", hi=32, help="Wi-Fi network"),
    Field("wifi.password", "secret", "", hi=64, help="Wi-Fi password"),
    Field("wifi.timeout_s", "number", 20, lo=5, hi=120, unit="s", integer=True,
          help="time-out of one Wi-Fi connection attempt"),
    Field("tls.ca_file", "text", "", hi=64, help="CA certificate (DER) on flash for HTTPS"),
    Field("tls.verify", "flag", True, help="verify the server certificate"),
    Field("ntp.resync_h", "number", 12, lo=1, hi=168, unit="h", integer=True,
          help="re-synchronise the clock this often"),
    Field("fallback.rateplan", "flag", False,
          help="where no fetched price is known, plan on the static rate plan (rateplan.*)"),
    # the savings record (firmware/prices/savings.py) and the web page (firmware/web/)
    Field("load.kw", "number", 1.0, lo=0, hi=50, unit="kW",
          help="power the load draws while on, for energy and cost (a metering chip replaces it)"),
    Field("savings.baseline", "text", "18:00", hi=5,
          help="local HH:MM a plug without WattWindow would start the load (savings baseline)",
          parse=lambda v: parse_hm(v, "savings.baseline"), expect="a local time HH:MM"),
    Field("web.enabled", "flag", True, help="serve the status page and JSON API on the LAN"),
    Field("web.port", "number", 80, lo=1, hi=65535, integer=True, help="TCP port of the page"),
    Field("web.password", "secret", "", hi=64,
          help="needed for every change from the page; also for reading when set"),
) + _FETCH_CONFIG + _MQTT_CONFIG


def settings_fields(hal=None, sources=SOURCES):
    """{name: Field} of every setting (of the given price sources only), tolerating modules
    that are absent from a build."""
    mods = [__import__("firmware.app.settings", None, None, ["CONFIG"]), planner]
    for name in sources:
        try:
            mods.append(__import__("firmware.providers." + name, None, None, ["CONFIG"]))
        except ImportError:
            pass
    if hasattr(hal, "CONFIG"):  # the HAL declares its settings itself (possibly none)
        mods.append(hal)
    else:
        try:
            from ..hal import esp32 as hal_esp32

            mods.append(hal_esp32)
        except ImportError:  # no `machine` here: not on a board
            pass
    return config.schema(mods)
