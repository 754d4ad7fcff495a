"""Redirects for firmware/http/client.py, imported on the first 3xx answer: resolving Location and
deciding the next hop (303, and 301/302 after a POST, become a GET; Authorization is dropped
when the scheme, host or port changes)."""

from firmware.http.client import ProtocolError, TooManyRedirects, split_url


def join_url(base, loc):
    """Resolve a Location header against the URL it answered."""
    if "://" in loc:
        return loc
    scheme, host, port, path = split_url(base)
    if loc.startswith("//"):
        return scheme + ":" + loc
    origin = "%s://%s:%d" % (scheme, ("[%s]" % host) if ":" in host else host, port)
    if loc.startswith("/"):
        return origin + loc
    k = path.find("?")
    d = path if k < 0 else path[:k]
    return origin + d[:d.rfind("/") + 1] + loc


def follow(resp, method, url, auth, body, hops, max_redirects):
    """Close redirect `resp` (hop number `hops`); (method, url, auth, body) of the next request."""
    loc = resp.headers.get("location")
    st = resp.status
    resp.close()
    if not loc:
        raise ProtocolError("HTTP %d redirect without Location" % st)
    if hops > max_redirects:
        raise TooManyRedirects("more than %d redirects (last to %s)" % (max_redirects, loc))
    new = join_url(url, loc)  # split_url refuses CR, LF, NUL, spaces: nothing reaches a request
    if split_url(new)[:3] != split_url(url)[:3]:
        auth = None  # another host or port, or https -> http: the credentials stay behind
    if st == 303 or (st in (301, 302) and method == "POST"):
        method, body = "GET", None
    return method, new, auth, body
