"""report.html in a real browser: headless Chromium (selenium + chromedriver, Debian packages
installed by tests/setup/system_deps.sh) opens the file with networking off and an empty
profile. The page must show every value of the run's JSON summary, its pictures decoded from
the file itself (no request of any kind), and a timeline that sorts and filters. Chromium or
its driver missing is a failure, not a skip."""

import json
import os
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from host_sim.html_report import flat_summary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
OFFLINE = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--window-size=1300,1000")


def sim(out, *args):
    p = subprocess.run([sys.executable, "-m", "host_sim", "--out", str(out), "--json", *args],
                       cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    s = sim(out, "--days", "10", "--outage", "2d+30h", "--button", "3d18h",
            "--override", "5d1h+2h:off")
    return out, s


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    for exe in (CHROMIUM, DRIVER):
        assert os.access(exe, os.X_OK), "%s missing: run tests/setup/system_deps.sh" % exe
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in OFFLINE:
        opts.add_argument(a)
    opts.add_argument("--user-data-dir=%s" % tmp_path_factory.mktemp("profile"))
    drv = webdriver.Chrome(service=Service(DRIVER), options=opts)
    try:
        yield drv
    finally:
        drv.quit()


def test_report_shows_the_summary_pictures_and_a_sortable_timeline(report, browser):
    out, s = report
    path = out / "report.html"
    browser.get("file://" + str(path))
    assert s["market"] in browser.title
    # every value of the JSON summary, shown as its JSON text
    shown = {tr.get_attribute("data-key"): tr.find_element(By.CSS_SELECTOR, "td").text
             for tr in browser.find_elements(By.CSS_SELECTOR, "#summary tr[data-key]")}
    # (report_s: the --json line adds how long writing this very page took)
    expect = dict(flat_summary({k: v for k, v in s.items() if k != "report_s"}))
    assert set(shown) == set(expect)
    for k, v in expect.items():
        assert json.loads(shown[k]) == v, k
    head = browser.find_element(By.ID, "headline").text
    assert "USD %.2f (%.1f%%)" % (s["savings_vs_baseline"],
                                   s["savings_vs_baseline_pct"]) in head
    costs = [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
             for tr in browser.find_elements(By.CSS_SELECTOR, "#costs tr")[1:]]
    assert costs[0][:2] == ["the plug", "%.2f" % s["cost"]]
    assert costs[2][1:3] == ["%.2f" % s["baseline_cost"], "%.2f" % s["savings_vs_baseline"]]
    marks = browser.find_element(By.ID, "marks").text
    assert "API outage" in marks and "button" in marks and "override off 2h" in marks
    # the pictures decode from the page itself: the overview and the detail page
    imgs = browser.find_elements(By.TAG_NAME, "img")
    assert len(imgs) == 1 + len([n for n in os.listdir(out) if n.startswith("detail_")]) == 2
    for img in imgs:
        assert img.get_attribute("src").startswith("data:image/png;base64,")
        assert browser.execute_script("return arguments[0].complete && "
                                      "arguments[0].naturalWidth", img) > 500
    # nothing was requested from anywhere: no resource entry, no external reference
    assert browser.execute_script("return performance.getEntriesByType('resource').length") \
        == 0
    text = path.read_text()
    assert "http://" not in text and "https://" not in text
    # the timeline: every row of timeline.csv; sorts by a column; filters
    with open(out / "timeline.csv") as f:
        n_rows = sum(1 for _ in f) - 1
    body = "#timeline tbody tr"
    assert len(browser.find_elements(By.CSS_SELECTOR, body)) == n_rows
    col = "return Array.from(document.querySelectorAll('%s')).filter(r => !r.hidden)" \
          ".map(r => r.cells[%d].textContent)"
    price_th = browser.find_elements(By.CSS_SELECTOR, "#timeline th")[4]
    assert price_th.text.startswith("price")
    price_th.click()
    up = [float(x) for x in browser.execute_script(col % (body, 4)) if x]
    assert up == sorted(up) and up[0] < up[-1]
    price_th.click()
    down = [float(x) for x in browser.execute_script(col % (body, 4)) if x]
    assert down == sorted(up, reverse=True)
    box = browser.find_element(By.CSS_SELECTOR, "input.filter")
    box.send_keys("relay")
    events = browser.execute_script(col % (body, 2))
    assert events and set(events) == {"relay"}
    assert browser.find_element(By.ID, "timeline-count").text == str(len(events))
    assert len(events) == s["switches"]


class _Ids(HTMLParser):
    def __init__(self):
        HTMLParser.__init__(self)
        self.ids, self.text, self._in = {}, {}, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids[a["id"]] = tag
            self._in = a["id"]

    def handle_data(self, data):
        if self._in:
            self.text[self._in] = self.text.get(self._in, "") + data


def test_no_chart_report_keeps_the_tables_and_both_runtimes_are_compared(tmp_path):
    s = sim(tmp_path, "--days", "1", "--runtime", "both", "--no-chart")
    assert s["runtimes_agree"] is True
    page = _Ids()
    page.feed((tmp_path / "report.html").read_text())
    assert {"summary", "costs", "timeline", "runtimes"} <= set(page.ids)
    assert "agree decision for decision" in page.text["runtimes-agree"]
    assert "<img" not in (tmp_path / "report.html").read_text()
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".png")]
