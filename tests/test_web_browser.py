"""The plug's page in a real browser: headless Chromium (selenium + chromedriver) against the
simulated plug served by `python -m host_sim --serve`, the app on CPython and on the
MicroPython unix port.

What a person sees: the relay state and price now as the plug reports them, one green bar per
planned ON interval, exactly one highlighted current interval; the password typed in, a wrong
one refused, a change from a page on another origin refused (nothing changes on the plug),
override ON pressed and the relay turning on in the page and in the simulated HAL (the
simulator prints every contact change). A screenshot goes to tests/artifacts/."""

import http.server
import json
import os
import queue
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from webkit import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARTIFACTS = os.path.join(ROOT, "tests", "artifacts")
PASSWORD = "s3cret-pass"


class Plug:
    """`python -m host_sim --serve PORT` as a subprocess; its stdout lines in a queue."""

    def __init__(self, runtime):
        self.port = free_port()
        self.lines = queue.Queue()
        self.seen = []
        self.p = subprocess.Popen(
            [sys.executable, "-m", "host_sim", "--serve", str(self.port), "--runtime", runtime,
             "--days", "2", "--time-scale", "0.01", "--set", 'web.password="%s"' % PASSWORD],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._pump, daemon=True).start()
        self.url = "http://127.0.0.1:%d/" % self.port
        self.wait_line("serving http://", 60)

    def _pump(self):
        for line in self.p.stdout:
            self.lines.put(line.rstrip())

    def wait_line(self, text, timeout_s):
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.p.poll() is not None:
                    break
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError("no %r from the plug in %d s; it said:\n%s" % (
            text, timeout_s, "\n".join(self.seen[-20:])))

    def drain(self):
        while True:
            try:
                self.seen.append(self.lines.get_nowait())
            except queue.Empty:
                return self.seen

    def api(self, path, password=PASSWORD):
        """GET a JSON API path; a 503 (the page's polls hold both slots) is tried again."""
        req = urllib.request.Request(self.url.rstrip("/") + path,
                                     headers={"X-WW-Password": password})
        for _ in range(20):
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code != 503:
                    raise
                time.sleep(0.2)
        raise AssertionError("%s: 503 twenty times" % path)

    def stop(self):
        self.p.terminate()
        try:
            self.p.wait(10)
        except subprocess.TimeoutExpired:
            self.p.kill()


class OtherSite:
    """A page on another origin (another port) that tries to switch the plug on: a JSON body
    in a text/plain form post (no preflight) and a fetch with the password header."""

    def __init__(self, target):
        page = ("<!doctype html><form id=f method=post enctype=text/plain action='%sapi/override'>"
                "<input name='{\"on\": true, \"minutes\": 60, \"x\": \"' value='\"}'></form>"
                "<script>fetch('%sapi/override', {method: 'POST', headers: {'Content-Type': "
                "'application/json', 'X-WW-Password': '%s'}, body: '{\"on\": true}'})"
                ".catch(function () {}).then(function () {document.title = 'sent'; "
                "document.getElementById('f').submit();});</script>" % (target, target,
                                                                        PASSWORD)).encode()

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *a):
                pass

        self.srv = http.server.HTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d/" % self.srv.server_address[1]
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def stop(self):
        self.srv.shutdown()


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1200,1400"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def wait(fn, timeout_s=15, what="condition"):
    end = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < end:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # noqa: BLE001 - the DOM is being rebuilt: try again
            last = e
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def text(drv, id_):
    return drv.find_element(By.ID, id_).text


def planned_on_bars(prices, plan):
    """The chart's intervals that a planned ON segment overlaps (computed here, not by the
    page's JavaScript)."""
    ons = [(s, e) for s, e, on, _r in plan["segments"] if on]
    return sum(1 for s, e, _p, _o in prices["intervals"]
               if any(a < e and b > s for a, b in ons))


@pytest.mark.parametrize("runtime", ["cpython", "micropython"])
def test_the_page_in_chromium(runtime):
    os.makedirs(ARTIFACTS, exist_ok=True)
    plug = Plug(runtime)
    other = OtherSite(plug.url)
    drv = browser()
    try:
        drv.get(plug.url)
        # reading needs the password here: the page says so until it has one
        wait(lambda: "password" in text(drv, "reason"), what="the password request")
        pw = drv.find_element(By.ID, "pw")
        pw.send_keys("wrong-one\n")
        drv.find_element(By.ID, "on").click()
        wait(lambda: "wrong password" in text(drv, "msg"), what="wrong refused")
        pw.clear()
        pw.send_keys(PASSWORD + "\n")
        wait(lambda: text(drv, "relay") in ("ON", "OFF"), what="the relay state")
        st = plug.api("/api/status")
        assert st["relay_on"] is False, st  # the run starts at midnight, outside the plan
        assert text(drv, "relay") == "OFF"
        assert text(drv, "price") == "%s %.4f/kWh" % (st["currency"], st["price_u"] / 1e6)
        assert st["reason"] and text(drv, "reason") == st["reason"]
        bars = wait(lambda: drv.find_elements(By.CSS_SELECTOR, "#chart .bar"), what="bars")
        prices, plan = plug.api("/api/prices"), plug.api("/api/plan")
        expect = planned_on_bars(prices, plan)
        assert len(bars) == len(prices["intervals"]) >= 24, (len(bars), prices)
        assert expect >= 4, plan
        assert len(drv.find_elements(By.CSS_SELECTOR, "#chart .bar.on")) == expect
        now = drv.find_elements(By.CSS_SELECTOR, "#chart .bar.now")
        assert len(now) == 1, len(now)
        t = plug.api("/api/status")["now_s"]
        assert int(now[0].get_attribute("data-s")) <= t < int(now[0].get_attribute("data-e")) \
            + 600, (now[0].get_attribute("data-s"), t)

        # another site's page tries to switch the plug on: refused, nothing changes
        drv.execute_script("window.open(arguments[0], 'other');", other.url)
        drv.switch_to.window("other")
        # the fetch fails its preflight, then the form posts (the browser shows the answer)
        wait(lambda: "/api/override" in drv.current_url, what="the other page's form post")
        assert "refused" in drv.find_element(By.TAG_NAME, "body").text
        time.sleep(1.0)
        drv.close()
        drv.switch_to.window(drv.window_handles[0])
        st = plug.api("/api/status")
        assert st["override"] is None and st["relay_on"] is False, st
        assert not any("relay ON" in line for line in plug.drain()), plug.seen

        # override ON from the page: the page and the simulated relay follow
        drv.find_element(By.ID, "on").click()
        wait(lambda: text(drv, "relay") == "ON", what="ON in the page")
        plug.wait_line("relay ON", 15)
        assert "override ON until" in text(drv, "ovr")
        st = plug.api("/api/status")
        assert st["relay_on"] is True and st["override"]["on"] is True, st
        shot = os.path.join(ARTIFACTS, "web_page_%s.png" % runtime)
        drv.save_screenshot(shot)
        assert os.path.getsize(shot) > 10000
    finally:
        drv.quit()
        other.stop()
        plug.stop()
