"""The services that run beside the control loop, chosen from the settings in one place for
the plug (app/boot_guard.py) and the simulator (host_sim/device_main.py).

    app.services += from_config(cfg)     # before app.run(); each is imported only when on

- the web page and JSON API (firmware/web/) when web.enabled (on by default): the service is
  small, its server and routes load when it starts;
- MQTT with Home Assistant discovery (firmware/mqtt/) when mqtt.enabled: its code costs heap,
  so it is not even imported otherwise.
"""


def from_config(cfg, web_host="0.0.0.0", web_port=None):
    out = []
    if cfg.get("web.enabled", True):
        from ..web.service import WebService

        out.append(WebService(web_host, web_port))
    if cfg.get("mqtt.enabled"):
        from ..mqtt.service import MqttService

        out.append(MqttService())
    return out
