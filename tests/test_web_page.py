"""The page as shipped (CPython): page.py is page.html gzipped (regenerate with `python -m
tools.web_page`), within the 16 KB transfer budget, with no external asset."""

import gzip
import os

from firmware.web import page

HTML = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "firmware",
                    "web", "page.html")


def test_page_py_is_page_html_gzipped_and_small():
    with open(HTML, "rb") as f:
        html = f.read()
    assert gzip.decompress(page.PAGE_GZ) == html, "run: python -m tools.web_page"
    assert len(page.PAGE_GZ) <= 16 * 1024


def test_the_page_loads_nothing_from_elsewhere():
    html = gzip.decompress(page.PAGE_GZ).decode()
    for needle in ("http://", "https://", "src=\"//", "href=\"//", "@import", "<link"):
        assert needle not in html, needle
    assert html.count("<script") == 1 and "src=" not in html.split("<script")[1][:20]
