"""OAuth2 client-credentials tokens, cached in a provider's state dict until they expire.

Used by the GridX Customer Info call and the OpenADR 3 VEN. A token endpoint takes
`grant_type=client_credentials` as a form body, with the client id/secret either in the form
(OpenADR 3 spec style) or as HTTP Basic (GridX style), and answers
{"access_token", "token_type": "Bearer", "expires_in"} or {"error", "error_description"}.

The token is kept in `state[key + ".token"]` with its expiry `state[key + ".exp_s"]` (treated
as expired EARLY_S before the server says, so a call never starts with a token about to lapse).
bearer_request() sends `Authorization: Bearer`; on a 401 it drops the token, gets a new one and
retries once; a second 401 is an AuthError. A token that is not an RFC 6750 b64token (CR, LF,
NUL, spaces, non-ASCII) is refused as it arrives (AuthError), never cached or sent.
"""

from ..compat import const
from ..formats import jsonstream
from . import AuthError, ProviderError

EARLY_S = const(60)
DEFAULT_TTL_S = const(3600)


class Credentials:
    __slots__ = ("key", "url", "client_id", "client_secret", "basic", "scope")

    def __init__(self, key, url, client_id, client_secret, basic=False, scope=None):
        self.key = key  # state key prefix, e.g. "openadr3"
        self.url = url
        self.client_id = client_id
        self.client_secret = client_secret
        self.basic = basic
        self.scope = scope


def forget(state, cred):
    state.pop(cred.key + ".token", None)
    state.pop(cred.key + ".exp_s", None)


def get_token(client, state, now_s, cred, force=False):
    """A valid access token: the cached one, or a new one from the token endpoint."""
    tok = state.get(cred.key + ".token")
    if tok and not force and now_s < state.get(cred.key + ".exp_s", 0):
        return tok
    if not cred.client_id or not cred.client_secret:
        raise AuthError("%s: client id and secret must be set" % cred.key)
    form = {"grant_type": "client_credentials"}
    auth = None
    if cred.basic:
        auth = ("basic", cred.client_id, cred.client_secret)
    else:
        form["client_id"] = cred.client_id
        form["client_secret"] = cred.client_secret
    if cred.scope:
        form["scope"] = cred.scope
    resp = client.post(cred.url, form=form, auth=auth, headers={"Accept": "application/json"})
    tok = err = desc = None
    ttl = DEFAULT_TTL_S
    try:
        try:
            for k, v in jsonstream.items(resp, ("access_token", "expires_in", "error",
                                                "error_description")):
                if k == 0:
                    tok = v
                elif k == 1 and isinstance(v, (int, float)) and v > 0:
                    ttl = int(v)
                elif k == 2:
                    err = v
                elif k == 3:
                    desc = v
        except jsonstream.JSONError:
            if resp.status < 400:
                raise ProviderError("%s: token endpoint answered no JSON" % cred.key)
        if resp.status >= 500:
            resp.raise_for_status()
        if isinstance(tok, str) and not _token68(tok):  # it goes into every request's head
            raise AuthError("%s: token refused: not a bearer token (control characters, "
                            "spaces or non-ASCII)" % cred.key)
        if resp.status >= 400 or err or not isinstance(tok, str) or not tok:
            raise AuthError("%s: token refused (HTTP %d%s%s)" % (
                cred.key, resp.status, (": %s" % err) if err else "",
                (" - %s" % desc) if desc else ""))
    finally:
        resp.close()
    state[cred.key + ".token"] = tok
    state[cred.key + ".exp_s"] = now_s + (ttl - EARLY_S if ttl > 2 * EARLY_S else ttl // 2)
    return tok


def _token68(tok):
    """RFC 6750 b64token: letters, digits and -._~+/ then '=' padding; nothing a request
    head could be split with."""
    for c in tok.rstrip("="):
        if not ("a" <= c <= "z" or "A" <= c <= "Z" or "0" <= c <= "9" or c in "-._~+/"):
            return False
    return True


def bearer_request(client, state, now_s, cred, method, url, **kw):
    """client.request with a Bearer token; one token refresh and retry on 401.

    Returns the Response (the caller closes it); a 401 after the refresh raises AuthError."""
    tok = get_token(client, state, now_s, cred)
    headers = kw.pop("headers", None) or {}
    for attempt in (0, 1):
        resp = client.request(method, url, auth=("bearer", tok), headers=headers, **kw)
        if resp.status != 401:
            return resp
        resp.close()
        forget(state, cred)
        if attempt:
            break
        tok = get_token(client, state, now_s, cred, force=True)
    raise AuthError("%s: access refused with a fresh token (HTTP 401)" % cred.key)
