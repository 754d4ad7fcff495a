# MicroPython side of tests/test_store_powerloss.py. Usage:
#   micropython store_powerloss_worker.py IMAGE format   -> mkfs, save generation 0, print OK
#   micropython store_powerloss_worker.py IMAGE write G LOG -> save G, G+1, ... forever, writing
#                            "ready", then "begin G" before and "done G" after each save to LOG
#   (a file, not stdout: the `micropython` wrapper buffers a piped stdout, and lines still in a
#   buffer at SIGKILL are lost; a file write is one write(2) that reaches the kernel at once)
#   micropython store_powerloss_worker.py IMAGE check    -> "LOADED G" or "NONE <reason>"
# Generation G holds schedule A (even G) or B (odd G), and {"gen": G} as extras.
import sys

import vfs

from firmware.prices.schedule import Schedule
from firmware.prices.store import Store

from fileblockdev import FileBlockDev

_N = 600  # intervals: a ~6 KB file, two littlefs blocks per write
_MNT = "/flash"
T0 = 1752595200


def schedule(gen):
    b = gen & 1
    s = Schedule("arcadia")
    s.tariff_id = "B" if b else "A"
    for k in range(_N):
        s.add(T0 + k * 900, T0 + (k + 1) * 900, 1000 * k + (7 if b else 3), "p%d" % (k % 4))
    return s


def expected_ok(s, gen):
    want = schedule(gen)
    return s.same_as(want)


def main(argv):
    img, cmd = argv[1], argv[2]
    bd = FileBlockDev(img, 4096, 128, create=(cmd == "format"))
    if cmd == "format":
        vfs.VfsLfs2.mkfs(bd)
    vfs.mount(vfs.VfsLfs2(bd), _MNT)
    st = Store(_MNT)
    if cmd == "format":
        st.save(schedule(0), {"gen": 0})
        print("OK")
    elif cmd == "write":
        g = int(argv[3])
        both = (schedule(0), schedule(1))
        with open(argv[4], "w") as log:
            log.write("ready\n")
            while True:
                log.write("begin %d\n" % g)
                st.save(both[g & 1], {"gen": g})
                log.write("done %d\n" % g)
                g += 1
    elif cmd == "check":
        s, extras = st.load()
        if s is None:
            print("NONE", st.last_error)
        else:
            g = extras.get("gen", -1)
            print("LOADED", g, "ok" if expected_ok(s, g) else "MISMATCH")
    vfs.umount(_MNT)


main(sys.argv)
