"""Small files on flash: paths under the flash root, atomic replacement, removal.

    path = join(root, "config.json")       root "" or "." means the current directory
    replace(path, lambda f: f.write(text)) write path.tmp, then rename it over path
    write_text(path, text) -> bool         the same for a string; False if the flash refused
    remove(path) -> bool                   True if the file was there and is gone

replace() is the one atomic write of the firmware (the cache, config.json, the app's small
state files): rename is atomic on LittleFS and POSIX, so a power cut leaves the old or the new
file whole, never a mix. When writing fails (flash full, an I/O error, MemoryError) the
temporary file is removed and the error propagates; the old file stays.
"""

import os


def join(root, name):
    if not root or root == ".":
        return name
    return root + name if root.endswith("/") else root + "/" + name


def remove(path):
    try:
        os.remove(path)
        return True
    except OSError:
        return False


def replace(path, write, mode="w"):
    tmp = path + ".tmp"
    try:
        with open(tmp, mode) as f:
            write(f)
        os.rename(tmp, path)
    except Exception:
        remove(tmp)
        raise


def write_text(path, text):
    try:
        replace(path, lambda f: f.write(text))
        return True
    except OSError:
        return False
