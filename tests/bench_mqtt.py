"""MQTT benchmark (issue 14), under the MicroPython unix port with firmware/ as .mpy:

- mqtt_publish_state_min_heap_bytes: the smallest `-X heapsize` (bisected by
  tests/minheap.py, imports included) at which tests/mqtt_plug.py in "bench" mode boots the
  App from a cached 48-hour schedule, starts firmware/mqtt/service.py, connects to a real
  mosquitto (tests/mqtt_broker.py: password login), publishes availability, the discovery
  document (QoS 1, retained) and one state, and prints OK.
- mqtt_app_only_min_heap_bytes: the same boot and step without the MQTT service (the
  baseline); mqtt_cost_bytes is the difference: what MQTT adds to the heap.
"""

import json
import os
import shutil
import tempfile

TESTS = os.path.dirname(os.path.abspath(__file__))

from bench_fetch import _compile_mpy  # noqa: E402
from mqtt_broker import Broker  # noqa: E402

import minheap  # noqa: E402

T0 = 1749600000 + 5 * 3600


def run():
    broker = Broker()
    broker.start()
    root = tempfile.mkdtemp(prefix="ww_bench_mqtt_")
    mpy = tempfile.mkdtemp(prefix="ww_bench_mqtt_mpy_")
    try:
        _compile_mpy(mpy)
        env = {"WW_MPY_DIR": mpy}
        script = os.path.join(TESTS, "mqtt_plug.py")
        figs = {}
        for mode in ("bench", "app"):
            opts = os.path.join(root, mode + ".json")
            with open(opts, "w") as f:
                json.dump({"root": root, "t0": T0, "mode": mode, "device_id": "bench-1",
                           "cfg": {"mqtt.enabled": True, "mqtt.host": "127.0.0.1",
                                   "mqtt.port": broker.port, "mqtt.user": broker.user,
                                   "mqtt.password": broker.password}}, f)
            figs[mode] = minheap.min_heap([script, opts], env)
        yield {"name": "mqtt_publish_state_min_heap_bytes", "value": figs["bench"], "unit": "B",
               "runtime": "micropython",
               "note": "App boot + connect + discovery + one state, firmware/ as .mpy, 64-bit"}
        yield {"name": "mqtt_app_only_min_heap_bytes", "value": figs["app"], "unit": "B",
               "runtime": "micropython", "note": "the same boot and step without MQTT"}
        yield {"name": "mqtt_cost_bytes", "value": figs["bench"] - figs["app"], "unit": "B",
               "runtime": "micropython", "note": "what the MQTT service adds (64-bit, .mpy)"}
    finally:
        broker.close()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(mpy, ignore_errors=True)
