"""Build firmware/web/page.py from firmware/web/page.html: the page gzipped once on the host
and kept as one bytes constant, which a frozen image serves from flash without copying.

    .venv/bin/python -m tools.web_page          # after editing page.html (a test checks it)
"""

import gzip
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HTML = os.path.join(ROOT, "firmware", "web", "page.html")
OUT = os.path.join(ROOT, "firmware", "web", "page.py")
HEAD = '''"""The plug's page (generated from page.html by `python -m tools.web_page`; do not edit).

PAGE_GZ: the gzip of page.html, served as is with Content-Encoding: gzip.
"""

# fmt: off
PAGE_GZ = (
'''


def compressed(path=HTML):
    with open(path, "rb") as f:
        return gzip.compress(f.read(), 9, mtime=0)


def source(data, width=88):
    lines, cur = [], ""
    for b in data:
        ch = chr(b)
        piece = ch if 32 <= b < 127 and ch not in "\\\"" else "\\x%02x" % b
        if len(cur) + len(piece) > width:
            lines.append('    b"%s"\n' % cur)
            cur = ""
        cur += piece
    if cur:
        lines.append('    b"%s"\n' % cur)
    return HEAD + "".join(lines) + ")\n"


def write(out=OUT):
    with open(out, "w") as f:
        f.write(source(compressed()))
    return out


if __name__ == "__main__":
    print("wrote %s (%d bytes gzip)" % (write(), len(compressed())))
