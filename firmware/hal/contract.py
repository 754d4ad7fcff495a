"""The hardware abstraction layer (HAL): everything the core needs from the outside world.

The core never imports `machine`, `network` or `ntptime` and never reads the wall clock itself;
the app receives one HAL object and hands its parts to the modules that need them. Two
implementations exist: `firmware/hal/esp32.py` (the plug) and `host_sim/simhal.py` (the
simulator and the tests). Each port is a duck-typed object with a few methods:

hal.clock
    now_s() -> int            UTC seconds since 1970 (the ESP32 port converts from its 2000 epoch)
    valid() -> bool           True once the time was set from NTP (or the simulator) since boot
    sync() -> bool            try NTP now; True on success (and valid() becomes True)
hal.relay
    set(on: bool)             drive the load; the HAL applies active-low wiring
hal.led
    set(mode: str)            one of LED_MODES below
hal.button
    pressed() -> bool         a press happened since the last call (latched by an IRQ)
hal.net
    up() -> bool              link is up (Wi-Fi associated with an address)
    connect(ssid, password, timeout_s) -> bool
    open(host, port, timeout_s) -> socket
                              a connected, blocking TCP socket with a timeout set; `http` wraps
                              it in TLS itself. The simulator may map host names to 127.0.0.1.
    async open_stream(host, port, ssl_ctx, server_hostname) -> (reader, writer)
                              asyncio streams for a long-lived link (MQTT), TLS when ssl_ctx
                              is given; never blocks the event loop (open_stream below)
    rssi() -> int             optional: Wi-Fi signal strength in dBm
hal.wdt
    feed()                    the app feeds it while healthy
hal.root                      str: directory for config.json, the cache and the log on flash
hal.log_sink(line)            where log lines go (print on the device)
hal.meter                     None, or an object with kwh() -> float: energy metered so far
async hal.sleep_until(t_s)    return at UTC second t_s, or earlier when the button is pressed;
                              the device bounds each wait and re-checks its clock (NTP may move
                              it); the simulator jumps its clock straight to t_s
hal.reset()                   restart the device (machine.reset on the ESP32)
"""

LED_MODES = ("off", "on", "override", "fallback", "safe", "error")


def tcp_connect(socket_module, host, port, timeout_s):
    """Resolve and connect a blocking TCP socket with a time-out (both runtimes, both HALs)."""
    addr = socket_module.getaddrinfo(host, port, 0, socket_module.SOCK_STREAM)[0][-1]
    s = socket_module.socket(socket_module.AF_INET, socket_module.SOCK_STREAM)
    try:
        s.settimeout(timeout_s)
        s.connect(addr)
    except BaseException:
        s.close()
        raise
    return s


async def open_stream(host, port, ssl_ctx=None, server_hostname=None):
    """asyncio (reader, writer) to host:port, in TLS with ssl_ctx (both runtimes, both HALs).
    MicroPython reports a refused connection at the first read or write, not here."""
    import asyncio

    if ssl_ctx is None:
        return await asyncio.open_connection(host, port)
    return await asyncio.open_connection(host, port, ssl=ssl_ctx,
                                         server_hostname=server_hostname)
