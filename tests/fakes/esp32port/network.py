# Fake ESP32 `network` (test-only; see README.md): a WLAN that associates after `delay` polls.
STA_IF = 0
AP_IF = 1


class _State:
    ok = True  # the access point accepts us
    delay = 2  # isconnected() polls before the link is up
    connects = []


class WLAN:
    def __init__(self, interface=STA_IF):
        self.interface = interface
        self._active = False
        self._polls = None

    def active(self, v=None):
        if v is None:
            return self._active
        self._active = bool(v)

    def connect(self, ssid, key=None):
        _State.connects.append((ssid, key))
        self._polls = _State.delay if _State.ok else None

    def disconnect(self):
        self._polls = None

    def isconnected(self):
        if self._polls is None:
            return False
        if self._polls > 0:
            self._polls -= 1
            return False
        return True
