"""A tiny deterministic integer PRNG for fetch offsets and back-off jitter.

`random` differs between CPython (Mersenne Twister) and MicroPython (yasmarang / xorshift), and
the simulator checks that both runtimes take the same decisions, so the app draws its "random"
numbers from this 32-bit xorshift generator (Marsaglia 2003, shifts 13/17/5) instead. It is
seeded per device (see `seed_from`), which spreads a fleet's requests over the offset window.
"""

_MASK = 0xFFFFFFFF


def fnv1a(data, h=0x811C9DC5):
    """32-bit FNV-1a hash of bytes/str (for turning a device id into a seed)."""
    if isinstance(data, str):
        data = data.encode()
    for b in data:
        h = ((h ^ b) * 0x01000193) & _MASK
    return h


def seed_from(seed, device_id=None):
    """The PRNG seed: a configured non-zero seed wins, else a hash of the device id, else 1."""
    if seed:
        return int(seed) & _MASK or 1
    if device_id:
        return fnv1a(device_id) or 1
    return 1


class Rng:
    __slots__ = ("state",)

    def __init__(self, seed=1):
        self.state = (int(seed) & _MASK) or 1  # xorshift must not start at 0

    def next32(self):
        x = self.state
        x ^= (x << 13) & _MASK
        x ^= x >> 17
        x ^= (x << 5) & _MASK
        self.state = x
        return x

    def below(self, n):
        """An integer in [0, n) (0 when n <= 1). The modulo bias is irrelevant here."""
        if n <= 1:
            return 0
        return self.next32() % n
