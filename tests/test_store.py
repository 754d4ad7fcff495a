# runtimes: cpython micropython
import os

from firmware.prices.schedule import FLAG_FORECAST, Schedule
from firmware.prices.store import Store

from support import TmpDir, raises

T0 = 1752595200


class RecLog:
    def __init__(self):
        self.lines = []

    def _add(self, lvl, tag, msg):
        self.lines.append((lvl, tag, msg))
        del self.lines[:-8]  # keep the last few, like the real ring buffer

    def info(self, tag, msg):
        self._add("info", tag, msg)

    def warn(self, tag, msg):
        self._add("warn", tag, msg)

    def error(self, tag, msg):
        self._add("error", tag, msg)

    def debug(self, tag, msg):
        self._add("debug", tag, msg)


def sample(n=5, step=3600, base=T0, price0=100000):
    s = Schedule("arcadia", "USD", "kWh")
    names = ("Off-Peak", "Peak", "Partial-Peak \u00e9")
    t = base
    for k in range(n):
        if k == 3:
            t += 1800  # a gap
        s.add(t, t + step, price0 + 1000 * k - (k % 3) * 77777, names[k % 3],
              FLAG_FORECAST if k % 4 == 1 else 0)
        t += step
    s.tariff_id = "3498765"
    s.tariff_desc = "Residential TOU (Smart Tariff)"
    s.fetched_s = T0 - 60
    s.mean_u = 409918
    s.std_u = 127551
    return s


def same(a, b):
    assert a.same_as(b)
    assert a.fetched_s == b.fetched_s and a.mean_u == b.mean_u and a.std_u == b.std_u
    assert list(a.starts) == list(b.starts) and list(a.prices) == list(b.prices)
    assert bytes(a.name_idx) == bytes(b.name_idx) and bytes(a.flags) == bytes(b.flags)
    for t in range(a.base_s - 10, a.end_s + 10, 600):
        assert a.price_at(t) == b.price_at(t)


def size_of(path):
    return os.stat(path)[6]


def test_roundtrip_with_extras():
    with TmpDir("st") as d:
        st = Store(d)
        s = sample()
        assert st.save(s, {"tier_kwh": 12.5, "n": 3}) is True
        assert st.writes == 1
        got, extras = Store(d).load()
        same(s, got)
        assert extras == {"tier_kwh": 12.5, "n": 3}
        assert got.tariff_desc == s.tariff_desc and got.unit == "kWh"
        assert got.names[2] == "Partial-Peak \u00e9"


def test_roundtrip_none_mean_and_empty_schedule():
    with TmpDir("st") as d:
        st = Store(d, name="c.bin")
        s = Schedule("gridx")
        assert st.save(s) is True
        got, extras = st.load()
        assert got is not None and len(got) == 0 and got.mean_u is None
        assert got.source == "gridx" and extras == {}


def test_roundtrip_many_records_across_blocks():
    for n in (50, 51, 52, 102, 673):
        with TmpDir("st") as d:
            st = Store(d)
            s = sample(n, step=900)
            st.save(s)
            got, _ = st.load()
            same(s, got)
            # 10 bytes per interval plus a small fixed header
            assert size_of(st.path) <= 10 * len(s) + 200


def test_unchanged_content_is_not_written():
    with TmpDir("st") as d:
        log = RecLog()
        st = Store(d, log)
        s = sample()
        assert st.save(s, {"a": 1})
        before = os.stat(st.path)
        again = sample()
        again.fetched_s = s.fetched_s + 3600  # a later fetch with the same prices
        assert st.save(again, {"a": 1}) is False
        assert st.writes == 1
        assert os.stat(st.path)[8] == before[8]
        # a fresh Store (after a reboot) also sees the content as unchanged
        st2 = Store(d)
        assert st2.save(sample(), {"a": 1}) is False and st2.writes == 0


def test_window_statistics_are_not_content():
    # Arcadia's rateMean/rateStandardDeviation follow the requested window, so they differ on
    # every fetch of the same prices; like fetched_s they must not cause a flash write.
    with TmpDir("st") as d:
        st = Store(d)
        assert st.save(sample(), {"a": 1})
        again = sample()
        again.mean_u += 1234
        again.std_u = None
        again.fetched_s += 3600
        assert st.save(again, {"a": 1}) is False
        assert st.writes == 1
        got, _ = st.load()
        assert got.mean_u == sample().mean_u  # the file keeps the values it was written with


def test_changes_are_written():
    with TmpDir("st") as d:
        st = Store(d)
        s = sample()
        st.save(s, {"a": 1})
        assert st.save(s, {"a": 2}) is True  # extras count as content
        s.prices[2] += 1
        assert st.save(s, {"a": 2}) is True
        s.tariff_id = "522"
        assert st.save(s, {"a": 2}) is True
        s.flags[0] = FLAG_FORECAST
        assert st.save(s, {"a": 2}) is True
        assert st.writes == 5
        got, ex = st.load()
        same(s, got)
        assert got.tariff_id == "522" and ex == {"a": 2}


def test_absent():
    with TmpDir("st") as d:
        log = RecLog()
        st = Store(d, log)
        assert st.load() == (None, {})
        assert st.last_error == "absent"
        assert log.lines and "absent" in log.lines[-1][2]


def _write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def test_truncated_at_every_length_is_rejected():
    with TmpDir("st") as d:
        st = Store(d)
        st.save(sample(3))
        good = _read(st.path)
        for k in range(len(good)):
            _write(st.path, good[:k])
            sched, extras = st.load()
            assert sched is None and extras == {}, k
            assert st.last_error.startswith(("truncated", "corrupt")), (k, st.last_error)
        _write(st.path, good)
        assert st.load()[0] is not None and st.last_error is None


def test_any_flipped_byte_is_rejected():
    with TmpDir("st") as d:
        log = RecLog()
        st = Store(d, log)
        st.save(sample(3))
        good = bytearray(_read(st.path))
        for k in range(len(good)):
            bad = bytearray(good)
            bad[k] ^= 0x41
            _write(st.path, bad)
            assert st.load() == (None, {}), k
            assert st.last_error, k
        assert log.lines[-1][0] == "warn"


def test_trailing_garbage_is_rejected():
    with TmpDir("st") as d:
        st = Store(d)
        st.save(sample(3))
        _write(st.path, _read(st.path) + b"\x00")
        assert st.load()[0] is None and st.last_error.startswith("corrupt")


def test_other_version_and_bad_magic():
    with TmpDir("st") as d:
        st = Store(d)
        st.save(sample(3))
        good = bytearray(_read(st.path))
        v = bytearray(good)
        v[4] = 99
        _write(st.path, v)
        assert st.load()[0] is None and "version 99" in st.last_error
        m = bytearray(good)
        m[0:4] = b"JUNK"
        _write(st.path, m)
        assert st.load()[0] is None and "magic" in st.last_error
        _write(st.path, b"")
        assert st.load()[0] is None and "truncated" in st.last_error


def test_corrupt_file_is_rewritten_even_with_same_content():
    with TmpDir("st") as d:
        st = Store(d)
        s = sample()
        st.save(s)
        bad = bytearray(_read(st.path))
        bad[-10] ^= 1
        _write(st.path, bad)
        assert st.save(s) is True
        same(s, st.load()[0])


def test_stale_tmp_is_removed_on_load():
    with TmpDir("st") as d:
        st = Store(d)
        st.save(sample())
        _write(st.tmp, b"half a write")
        assert st.load()[0] is not None
        assert "prices.bin.tmp" not in os.listdir(d)
        assert "prices.bin" in os.listdir(d)


def test_failed_write_keeps_previous_cache():
    with TmpDir("st") as d:
        log = RecLog()
        st = Store(d, log)
        s = sample()
        st.save(s, {"k": 1})
        os.mkdir(st.tmp)  # the temporary file cannot be created
        try:
            changed = sample(7)
            raises(OSError, st.save, changed, {"k": 2})
        finally:
            os.rmdir(st.tmp)
        assert st.writes == 1 and "write failed" in st.last_error
        assert log.lines[-1][0] == "error"
        got, ex = st.load()
        same(s, got)
        assert ex == {"k": 1}


def test_unwritable_root_keeps_nothing_half_written():
    with TmpDir("st") as d:
        st = Store(d + "/missing_dir")
        raises(OSError, st.save, sample())
        assert st.writes == 0
        assert st.load() == (None, {}) and st.last_error == "absent"


def test_clear():
    with TmpDir("st") as d:
        st = Store(d)
        st.save(sample())
        st.clear()
        assert st.load()[0] is None and st.last_error == "absent"
        assert st.save(sample()) is True


def test_root_forms():
    with TmpDir("st") as d:
        a = Store(d + "/")
        assert a.path == d + "/prices.bin"
        assert Store("", name="x.bin").path == "x.bin"
        assert Store(".", name="x.bin").path == "x.bin"
