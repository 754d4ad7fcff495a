"""A file-backed block device for vfs.VfsLfs2 under the MicroPython unix port (../shared/
TOOLCHAIN.md §2): the extended block protocol littlefs uses (offset writes, explicit erase).
Every write is flushed, so a process killed with SIGKILL leaves exactly the blocks written so far.
"""

_IOCTL_BLOCK_COUNT = 4
_IOCTL_BLOCK_SIZE = 5
_IOCTL_BLOCK_ERASE = 6


class FileBlockDev:
    def __init__(self, path, block_size=4096, block_count=128, create=False):
        self.bs = block_size
        self.n = block_count
        if create:
            blank = b"\xff" * block_size
            with open(path, "wb") as f:
                for _ in range(block_count):
                    f.write(blank)
        self.f = open(path, "r+b")  # noqa: SIM115 - the device stays open while mounted

    def readblocks(self, block, buf, offset=0):
        self.f.seek(block * self.bs + offset)
        self.f.readinto(buf)

    def writeblocks(self, block, buf, offset=None):
        self.f.seek(block * self.bs + (offset or 0))
        self.f.write(buf)
        self.f.flush()

    def ioctl(self, op, arg):
        if op == _IOCTL_BLOCK_COUNT:
            return self.n
        if op == _IOCTL_BLOCK_SIZE:
            return self.bs
        if op == _IOCTL_BLOCK_ERASE:
            self.f.seek(arg * self.bs)
            self.f.write(b"\xff" * self.bs)
            self.f.flush()
        return 0  # init, deinit, sync

    def close(self):
        self.f.close()
