"""The error path of providers/arcadia.py, imported only when an answer is an error: the API's
envelope ({status: "error", results: [{code, message, objectName, propertyName}]}) as a typed
ProviderError/AuthError. An envelope that came with an HTTP error status keeps that status and
the server's Retry-After on the error (.status, .retry_after_s), so the app honours it."""

from ..formats import jsonstream
from . import AuthError, ProviderError

# An error status: the body is small, so take whole results (objects or plain strings).
_ERR_PATHS = ("status", "type", "results.*")


def error(codes, status, suffix=""):
    """Typed error from the envelope's error list [(code, message, object, property)]."""
    if not codes:
        msg = "arcadia: error response without details"
        code = ""
    else:
        code, message, obj, prop = codes[0]
        where = ".".join(x for x in (obj, prop) if x)
        msg = "arcadia: %s: %s%s" % (code or "Error", message or "",
                                     (" (%s)" % where) if where else "")
        if len(codes) > 1:
            msg += " (+%d more)" % (len(codes) - 1)
    msg += suffix
    if code == "Unauthorized" or status == 401:
        return AuthError(msg)
    return ProviderError(msg)


def raise_error_body(resp):
    """An HTTP error status: the error envelope as a typed error, else the http HTTPError."""
    status = resp.status
    codes = []
    envelope = False
    try:
        for k, v in jsonstream.items(resp, _ERR_PATHS):
            if k == 0:
                envelope = v == "error"
            elif k == 2 and envelope:
                codes.append(_entry(v))
    except jsonstream.JSONError:
        envelope = False
    if envelope:  # typed by its code, but still an HTTP error: keep status and Retry-After
        e = error(codes, status, " (HTTP %d)" % status)
        e.status = status
        e.retry_after_s = resp.retry_after_s
        raise e
    resp.raise_for_status()
    raise ProviderError("arcadia: HTTP %d" % status)  # raise_for_status did not raise


def _entry(v):
    if isinstance(v, dict):
        return (_s(v.get("code")), _s(v.get("message")), _s(v.get("objectName")),
                _s(v.get("propertyName")))
    return ("SystemError", _s(v), "", "")


def _s(v):
    return "" if v is None else str(v)
