# runtimes: cpython micropython
"""flashfile: the one atomic write (temp file + rename) and the flash paths."""

import os

from firmware import flashfile

from support import TmpDir


def test_join_under_the_root():
    assert flashfile.join("", "a.json") == "a.json" and flashfile.join(".", "a") == "a"
    assert flashfile.join("/", "a") == "/a" and flashfile.join("/flash", "a") == "/flash/a"


def test_replace_is_all_or_nothing():
    with TmpDir("flashfile") as root:
        path = flashfile.join(root, "x.json")
        assert flashfile.write_text(path, "old")

        def half(f):
            f.write("new but")
            raise OSError(28, "no space")  # the flash filled up mid-write

        try:
            flashfile.replace(path, half)
            raise AssertionError("the error must reach the caller")
        except OSError as e:
            assert e.args[0] == 28
        with open(path) as f:
            assert f.read() == "old"
        assert "x.json.tmp" not in os.listdir(root)
        flashfile.replace(path, lambda f: f.write(b"\x00\x01"), "wb")
        with open(path, "rb") as f:
            assert f.read() == b"\x00\x01"
        assert flashfile.remove(path) and not flashfile.remove(path)


def test_write_text_says_when_the_flash_refused():
    with TmpDir("flashfile") as root:
        assert not flashfile.write_text(flashfile.join(root, "no/such/dir.json"), "x")
