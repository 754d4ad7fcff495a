"""A file-backed block device for VfsLfs2 (MicroPython): the emulated board's flash.

The extended block protocol littlefs uses (offset writes, explicit erase). `create` fills the
file with erased (0xff) blocks.
"""


class FlashDev:
    def __init__(self, path, block_size=4096, block_count=256, create=False):
        self.bs = block_size
        self.n = block_count
        if create:
            blank = b"\xff" * block_size
            with open(path, "wb") as f:
                for _ in range(block_count):
                    f.write(blank)
        self.f = open(path, "r+b")  # noqa: SIM115 - open while mounted

    def readblocks(self, block, buf, offset=0):
        self.f.seek(block * self.bs + offset)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, offset=None):
        self.f.seek(block * self.bs + (offset or 0))
        self.f.write(buf)
        self.f.flush()

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.n
        if op == 5:  # block size
            return self.bs
        if op == 6:  # erase
            self.f.seek(arg * self.bs)
            self.f.write(b"\xff" * self.bs)
            self.f.flush()
        return 0
