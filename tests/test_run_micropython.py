"""CPython-only: the MicroPython runner cannot pass a module that checked nothing."""

import os

import run_micropython


def test_a_module_that_skips_as_a_whole_fails_and_reasons_are_kept():
    name = "_allskip_%d" % os.getpid()
    path = os.path.join(run_micropython.TESTS, name + ".py")
    with open(path, "w") as f:
        f.write("from support import skip\n\n\n"
                "def test_a():\n    skip('no server')\n\n\n"
                "def test_b():\n    skip('no server')\n")
    try:
        env = run_micropython.mpy_env({})
        got = run_micropython.run_module(name, "256k", env)
        _mod, _heap, passed, failed, skipped, out, _dt = got
    finally:
        os.remove(path)
    assert (passed, failed, skipped) == (0, 1, 2), out
    assert "every test of %s skipped" % name in out
    assert out.count("SKIP %s.test_" % name) == 2 and ": no server" in out
