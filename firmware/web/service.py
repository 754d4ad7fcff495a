"""The web page as an app service (app.services; see firmware/app/control.py).

    app.services.append(WebService())           # start(app) is called by App.run()
    WebService(host="127.0.0.1", port=8080)     # the simulator and the tests

start(app) does nothing unless web.enabled; else it starts the server on web.port (or the
port given) as an asyncio task, importing the server and routes only then. notify() only
counts plan changes (the page reloads prices and plan when the count moves): it never blocks.
"""


class WebService:
    def __init__(self, host="0.0.0.0", port=None, max_conn=2, req_ms=None):
        self.host = host
        self.req_ms = req_ms
        self.port = port
        self.max_conn = max_conn
        self.api = None
        self.server = None
        self.error = None

    def start(self, app):
        if not app.cfg.get("web.enabled", True):
            return
        import asyncio

        from .api import Api
        from .server import Server

        self.api = Api(app)
        self.server = Server(self.api.handle, self.max_conn,
                             lambda msg: app.log.warn("web", msg))
        if self.req_ms:
            self.server.req_ms = self.req_ms
        if self.port is None:
            self.port = app.cfg.get("web.port", 80)
        asyncio.create_task(self._listen(app))

    def stop(self):
        """Close the listening socket (App.run() starts the services again on a resume)."""
        if self.server is not None:
            self.server.close()
            self.server = None

    async def _listen(self, app):
        try:
            await self.server.start(self.host, self.port)
            app.log.info("web", "page on port %d" % self.port)
        except OSError as e:  # port taken, no network stack: the plug runs on without it
            self.error = str(e)
            app.log.warn("web", "not started: %s" % e)

    def notify(self, event):
        if self.api is not None and event in ("plan", "config", "override", "fetch"):
            self.api.rev += 1
