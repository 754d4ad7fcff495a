import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "tests")
for p in (ROOT, TESTS):
    if p not in sys.path:
        sys.path.insert(0, p)
os.environ.setdefault("WW_TESTS_DIR", TESTS)
os.environ.setdefault("WW_ROOT", ROOT)

import pytest  # noqa: E402

import servers  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def loopback_servers():
    """The same loopback servers the MicroPython run uses; tests find them through os.environ."""
    env = servers.start()
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    servers.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
