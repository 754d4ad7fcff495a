"""The "entsoe.*" settings (config.Field declarations), apart from providers/entsoe.py so that
fetching prices does not load the config module and these help texts; entsoe.CONFIG imports
this on first use."""

from ..config import Field, parse_url
from .entsoe import DEFAULT_BASE, eic

CONFIG = (
    Field("entsoe.token", "secret", "", hi=64, help="security token (free, from the "
          "Transparency Platform account settings)"),
    Field("entsoe.zone", "text", "DE-LU", hi=16,
          help="bidding zone: AT, BE, DE-LU, DK1, FR, NL, SE3, ... or a 16-character EIC code",
          parse=eic, expect="a zone name such as DE-LU or NL, or an EIC code"),
    Field("entsoe.sequence", "number", 0, lo=0, hi=9, integer=True,
          help="classification sequence to use where several are published (DE-LU/AT: 1 = "
               "SDAC); 0 = the first series for each interval"),
    Field("entsoe.hours", "number", 48, lo=1, hi=168, unit="h", integer=True,
          help="hours ahead to request from the current hour"),
    Field("entsoe.baseUrl", "text", DEFAULT_BASE, hi=128, help="API URL",
          parse=parse_url, expect="an http(s) URL"),
)
