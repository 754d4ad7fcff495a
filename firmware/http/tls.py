"""TLS for firmware/http/client.py, imported on the first https request (plain-HTTP fetches never
load it): the client's SSLContext (CA from flash, CERT_REQUIRED, host name check; a logged
verify=False opt-out) and the test for "this error came from the TLS layer"."""

from firmware.http.client import _net_error


def wrap(client, sock, host, where):
    """`sock` wrapped for `host` with the client's (cached) context; TLSError on failure."""
    try:
        import ssl

        ctx = client._ctx
        if ctx is None:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            if client.verify:
                ctx.verify_mode = ssl.CERT_REQUIRED
                if client.ca_file:
                    with open(client.ca_file, "rb") as f:
                        ctx.load_verify_locations(cadata=f.read())
            else:
                if hasattr(ctx, "check_hostname"):  # CPython; must go before CERT_NONE
                    ctx.check_hostname = False  # pyright: ignore[reportAttributeAccessIssue]
                ctx.verify_mode = ssl.CERT_NONE
                msg = "TLS certificate verification is OFF (verify=False): testing only"
                if client.log:
                    client.log.warn("http", msg)
                else:
                    print("WARN http:", msg)
            client._ctx = ctx
        # MicroPython may fail on the first read instead; Response maps that too
        return ctx.wrap_socket(sock, server_hostname=host)
    except Exception as e:  # noqa: BLE001 - ValueError/OSError/ssl.SSLError by runtime
        raise _net_error(e, "TLS with " + where, True)


def is_tls(e):
    """An error from the TLS layer: negative mbedTLS codes, MicroPython's ValueError,
    CPython's ssl.SSLError (an OSError subclass from module ssl)."""
    code = getattr(e, "errno", None)
    return (isinstance(e, ValueError) or (isinstance(code, int) and code < 0)
            or "SSL" in type(e).__name__)
