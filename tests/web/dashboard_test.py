#!/usr/bin/python3
"""The [web] dashboard in real headless chromium (Debian's chromium,
chromium-driver and python3-selenium): the tree renders; an instance killed
from outside shows its new pid within 1 s without a reload; the restart
button is refused without the token and works with it.

  dashboard_test.py --arbor BIN --child TEST_CHILD [--screenshots DIR]

With --screenshots it also writes tree.png, detail.png and events.png to DIR
(docs/ in the repository). It starts its own daemon in a temporary
ARBOR_HOME and stops it, and whatever it left, by pid."""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.support.ui import WebDriverWait


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, arbor, child):
        self.arbor = os.path.abspath(arbor)
        child = os.path.abspath(child)
        self.dir = tempfile.mkdtemp(prefix="arbor-web-test-")
        self.home = os.path.join(self.dir, "home")
        self.port = free_port()
        self.env = dict(os.environ, ARBOR_HOME=self.home, NO_COLOR="1")
        self.config = os.path.join(self.dir, "arbor.toml")
        with open(self.config, "w") as f:
            f.write(f"""[web]
listen = "127.0.0.1:{self.port}"

[shop]
strategy = "one_for_one"
intensity = 5
period = "60s"

[shop.api]
args = ["{child}", "tick", "500"]
instances = 2

[shop.worker]
args = ["{child}", "sleep"]

[cache]
args = ["{child}", "alloc", "24"]
""")

    def cli(self, *args):
        return subprocess.run([self.arbor, *args], env=self.env, capture_output=True, text=True,
                              timeout=60)

    def up(self):
        r = self.cli("up", self.config)
        if r.returncode != 0:
            raise SystemExit(f"arbor up failed: {r.stdout}{r.stderr}")
        with open(os.path.join(self.home, "web.token")) as f:
            self.token = f.read().strip()

    def pid_of(self, instance):
        r = self.cli("status", "--json")
        for x in json.loads(r.stdout)["instances"]:
            if x["id"] == instance:
                return x["pid"]
        return 0

    def processes(self):
        """Pids of every process running with our ARBOR_HOME (daemon, keeper, apps)."""
        mark = f"ARBOR_HOME={self.home}".encode() + b"\0"
        out = []
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != os.getpid():
                try:
                    with open(f"/proc/{entry}/environ", "rb") as f:
                        if mark in f.read():
                            out.append(int(entry))
                except OSError:
                    pass
        return out

    def down(self):
        """`arbor down`; if that fails, what is left of this home, by pid."""
        try:
            self.cli("down")
        finally:
            for pid in self.processes():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            subprocess.run(["rm", "-rf", self.dir])


def browser():
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1360,860", "--hide-scrollbars"):
        opts.add_argument(a)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


def pid_cell(driver, instance):
    """The pid the page shows, read in one script (the tree's rows are replaced
    at every refresh: an element found first may be gone when read)."""
    return driver.execute_script(
        "const c = document.querySelector(arguments[0]); return c ? c.textContent : ''",
        f'tr[data-id="{instance}"] td.pid')


def click(driver, selector):
    """A real click; again if the tree's refresh replaced the element meanwhile."""
    WebDriverWait(driver, 5, ignored_exceptions=[StaleElementReferenceException]).until(
        lambda b: b.find_element(By.CSS_SELECTOR, selector).click() or True)


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok:", what)


def run(args):
    d = Daemon(args.arbor, args.child)
    driver = None
    try:
        d.up()
        driver = browser()
        url = f"http://127.0.0.1:{d.port}/"
        driver.get(url)
        wait = WebDriverWait(driver, 15, poll_frequency=0.05)

        # The tree renders: groups, apps, instances with their pids.
        wait.until(lambda b: pid_cell(b, "shop.api#1").isdigit())
        check(driver.execute_script(
            "return document.querySelector('tr[data-node=\"shop\"] td.info').textContent")
              == "one_for_one · 0 of 5 restarts in 60s", "group shop shows its strategy and intensity used")
        for inst in ("shop.api#0", "shop.api#1", "shop.worker#0", "cache#0"):
            wait.until(lambda b: pid_cell(b, inst).isdigit())
            check(int(pid_cell(driver, inst)) == d.pid_of(inst), f"{inst} shows its pid")
        wait.until(lambda b: b.find_element(By.ID, "live").get_attribute("class") == "on")

        # Killed from outside: the new pid within 1 s, no reload.
        driver.execute_script("window.arborMarker = 42")
        old = d.pid_of("shop.api#0")
        os.kill(old, signal.SIGKILL)
        killed_at = time.monotonic()
        WebDriverWait(driver, 1.0, poll_frequency=0.02).until(
            lambda b: pid_cell(b, "shop.api#0").isdigit() and int(pid_cell(b, "shop.api#0")) != old)
        took = time.monotonic() - killed_at
        check(int(pid_cell(driver, "shop.api#0")) == d.pid_of("shop.api#0"),
              f"killed shop.api#0 shows its new pid after {took * 1000:.0f} ms")
        check(driver.execute_script("return window.arborMarker") == 42, "without a page reload")
        wait.until(lambda b: b.execute_script(
            "return document.querySelector('tr[data-node=\"shop\"] td.info').textContent")
            == "one_for_one · 1 of 5 restarts in 60s")
        check(True, "group shop counts the crash in its intensity: 1 of 5")

        # The restart button: refused without the token, done with it.
        button = 'button[data-action="restart"][data-target="shop.api#1"]'
        before = d.pid_of("shop.api#1")
        click(driver, button)
        wait.until(lambda b: "refused" in b.find_element(By.ID, "message").text)
        msg = driver.find_element(By.ID, "message").text
        check("unauthorized" in msg, f"restart without the token refused: {msg}")
        check(d.pid_of("shop.api#1") == before, "and nothing restarted")
        token = driver.find_element(By.ID, "token")
        token.send_keys(d.token)
        driver.execute_script("arguments[0].dispatchEvent(new Event('change'))", token)
        click(driver, button)
        wait.until(lambda b: "done" in b.find_element(By.ID, "message").text)
        check(True, "restart with the token done")
        wait.until(lambda b: pid_cell(b, "shop.api#1").isdigit()
                   and int(pid_cell(b, "shop.api#1")) != before)
        check(d.pid_of("shop.api#1") not in (0, before), "and the instance has a new pid")

        if args.screenshots:
            screenshots(driver, args.screenshots)
    except Exception:
        if driver:
            print("page message:", driver.find_element(By.ID, "message").text)
            print("browser log:", driver.get_log("browser"))
            print("daemon log:", open(os.path.join(d.home, "daemon.log")).read()[-3000:])
        raise
    finally:
        if driver:
            driver.quit()
        d.down()


def screenshots(driver, out):
    """The main views, once the sparklines have a few points (a sample per 5 s)."""
    os.makedirs(out, exist_ok=True)
    WebDriverWait(driver, 60, poll_frequency=0.5).until(lambda b: b.execute_script(
        "return (window.arborSamples && (window.arborSamples['cache#0'] || []).length) || 0") >= 6)
    driver.execute_script("document.getElementById('message').textContent = ''")
    driver.save_screenshot(os.path.join(out, "dashboard-tree.png"))
    click(driver, 'a[data-open="shop.api#0"]')
    WebDriverWait(driver, 10).until(lambda b: "tick" in b.find_element(By.ID, "log").text)
    driver.save_screenshot(os.path.join(out, "dashboard-detail.png"))
    click(driver, 'nav button[data-view="events"]')
    driver.save_screenshot(os.path.join(out, "dashboard-events.png"))
    print("screenshots in", out)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--arbor", required=True)
    p.add_argument("--child", required=True)
    p.add_argument("--screenshots", help="write the views' PNGs to this directory")
    run(p.parse_args())
    sys.exit(0)
