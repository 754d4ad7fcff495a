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
"""

SOURCES = ("arcadia", "gridx", "openadr3", "rateplan")


class ProviderError(ValueError):
    """The API answered, but not with usable prices. An error envelope that came with an HTTP
    error status keeps it in .status and the server's Retry-After in .retry_after_s."""

    status = None
    retry_after_s = None


class NoData(ProviderError):
    """The API has no prices for the request (empty result, GridX 204)."""


class AuthError(ProviderError):
    """Credentials were refused."""


def get(name):
    if name not in SOURCES:
        raise ProviderError("unknown price source %r; expected one of %s"
                            % (name, ", ".join(SOURCES)))
    return __import__("firmware.providers." + name, None, None, ["fetch"])
