"""The "arcadia.*" settings (config.Field declarations), apart from providers/arcadia.py so
that fetching prices does not load the config module and these help texts: the schema is
needed at boot and by plugctl, not on the fetch path. arcadia.CONFIG imports this on first use.
"""

from ..config import Field, parse_url

DEFAULT_BASE = "https://api.genability.com"
GROUP_BY = ("none", "HOUR", "DAY", "MONTH", "YEAR")

CONFIG = (
    Field("arcadia.appId", "text", "", hi=64, help="Arcadia/Genability application id"),
    Field("arcadia.appKey", "secret", "", hi=128, help="Arcadia/Genability application key"),
    Field("arcadia.baseUrl", "text", DEFAULT_BASE, hi=128, help="API base URL",
          parse=parse_url, expect="an http(s) URL"),
    Field("arcadia.masterTariffId", "number", None, lo=1, hi=2147483647, integer=True,
          help="tariff to price (its smart tariff may be used); empty = by location"),
    Field("arcadia.zipCode", "text", "", hi=16, help="ZIP code (US)"),
    Field("arcadia.postCode", "text", "", hi=16, help="post code (outside the US)"),
    Field("arcadia.country", "text", "", hi=2, help="ISO country code, with zip/postCode"),
    Field("arcadia.addressString", "text", "", hi=160, help="address, ideally with a ZIP"),
    Field("arcadia.customerClass", "dropdown", "", choices=("", "RESIDENTIAL", "GENERAL",
                                                            "SPECIAL_USE"),
          help="empty = the API default (RESIDENTIAL)"),
    Field("arcadia.endUse", "text", "", hi=40, help="smart-tariff end use, e.g. EV"),
    Field("arcadia.groupBy", "dropdown", "none", choices=GROUP_BY,
          help="none = one record per real price change (smallest)"),
    Field("arcadia.territoryId", "number", None, lo=1, hi=2147483647, integer=True,
          help="rate territory override (rarely needed)"),
    Field("arcadia.consumptionAmount", "number", None, lo=0, hi=1000000, unit="kWh",
          help="monthly consumption, for tiered rates"),
    Field("arcadia.demandAmount", "number", None, lo=0, hi=1000000, unit="kW",
          help="monthly demand, for banded demand rates"),
    Field("arcadia.pageStart", "number", None, lo=0, hi=100000, integer=True,
          help="pagination start (Smart Price returns one Price)"),
    Field("arcadia.pageCount", "number", None, lo=1, hi=1000, integer=True,
          help="pagination size (Smart Price returns one Price)"),
    Field("arcadia.hours", "number", 48, lo=1, hi=168, unit="h", integer=True,
          help="hours ahead to request (the API advises at most a week)"),
)
