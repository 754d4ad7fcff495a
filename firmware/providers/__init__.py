"""Price sources. Each module here knows one API's URLs and field names, and nothing else does.

A provider module has:
    CONFIG                      tuple of config.Field: its own settings (names prefixed by it)
    NEEDS_NETWORK               bool (False for a static rate plan)
    PUBLISH_LOCAL_MIN           local minute of day after which tomorrow's prices are expected
                                (or None); the app fetches a little after it
    fetch(client, cfg, now_s, state) -> Schedule
                                `client` is an http.Client (sockets from the HAL); `state` is a
                                dict the app keeps across fetches (tokens, counters). Raises
                                ProviderError subclasses for bad answers, http errors for
                                transport failures.
Optional hooks, found by getattr on the sources in use (the app names no provider):
    publish_min(cfg)            the publication minute from settings (else PUBLISH_LOCAL_MIN)
    add_on_time(state, cfg, now_s, on_s, zone)      the load ran on_s seconds (no meter)
    add_meter_reading(state, cfg, now_s, kwh_total, zone)   a metering chip's reading
    refresh_s(cfg, state)       the source's poll period in s (else fetch.refresh_min)
    needs_network(cfg)          whether this configuration's fetch needs the link (else
                                NEEDS_NETWORK)
A fallback source (in_use()[1:]) fills time without a fetched price: fetch(None, ...).
"""

SOURCES = ("arcadia", "gridx", "openadr3", "rateplan", "energidataservice", "awattar",
           "octopus", "entsoe")


class ProviderError(ValueError):
    """The API answered, but not with usable prices. An error envelope that came with an HTTP
    error status keeps it in .status and the server's Retry-After in .retry_after_s."""

    status = None
    retry_after_s = None


class NoData(ProviderError):
    """The API has no prices for the request (empty result, GridX 204)."""


class AuthError(ProviderError):
    """Credentials were refused."""


def mwh_u(v):
    """A price per MWh (a JSON number, or decimal text) -> integer micro-units per kWh, rounded
    once, half away from zero (the European day-ahead sources publish per MWh)."""
    if isinstance(v, str):
        from ..prices.schedule import price_u

        u = price_u(v)  # micro-units per MWh, exact for up to 6 decimals
        return (u + 500) // 1000 if u >= 0 else -((-u + 500) // 1000)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError("bad price %r" % (v,))
    x = v * 1000
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def in_use(cfg):
    """[source, fallback sources...]: what a configuration uses. Only these are imported
    (a provider's code costs heap), validated, and asked for their optional hooks."""
    src = cfg.get("source", SOURCES[0])
    used = [src if src in SOURCES else SOURCES[0]]
    if cfg.get("fallback.rateplan") and "rateplan" not in used:
        used.append("rateplan")
    return used


def needs_network(provider, cfg):
    """Whether a fetch from `provider` needs the link: its needs_network(cfg) (a static rate
    plan that takes the cycle's usage from the utility), else its NEEDS_NETWORK."""
    fn = getattr(provider, "needs_network", None)
    return fn(cfg) if fn is not None else getattr(provider, "NEEDS_NETWORK", True)


def get(name):
    if name not in SOURCES:
        raise ProviderError("unknown price source %r; expected one of %s"
                            % (name, ", ".join(SOURCES)))
    return __import__("firmware.providers." + name, None, None, ["fetch"])
