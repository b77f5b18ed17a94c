"""A real headless Chromium (Debian's chromium and chromium-driver) driven by Selenium, offline, for the page's tests."""

from __future__ import annotations

import os
import shutil
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
DRIVER = ("/usr/bin/chromedriver",)


def _first(paths):
    return next((p for p in paths if Path(p).exists()), None) or None


def chromium_paths():
    """(chromium, chromedriver), or None when either is missing."""
    browser = _first(CHROMIUM) or shutil.which("chromium")
    driver = _first(DRIVER) or shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def require_chromium():
    """The binaries, or skip (outside CI) / fail (under CI, which must run the browser tests)."""
    paths = chromium_paths()
    if paths is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser tests: apt-get install chromium chromium-driver (.ci/run does)")
        pytest.skip("no Chromium: apt-get install chromium chromium-driver")
    return paths


@contextmanager
def chromium():
    """A headless Chromium session (Selenium Manager kept offline: it never downloads a driver)."""
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = require_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--metrics-recording-only", "--window-size=420,900"):
        options.add_argument(arg)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # Chromium's sandbox refuses to run as root
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield session
    finally:
        session.quit()


@contextmanager
def served(pin):
    """The pinned page on 127.0.0.1 and a free port; yields its URL."""
    from zksolvency.web import server

    httpd = server(pin, 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def check_on_page(session, user_id: str, inclusion: Path, round_file: Path | None = None, timeout: float = 30) -> dict:
    """Fill the freshly loaded page's form through its own inputs, press Check, and read what it shows."""
    from selenium.webdriver.common.by import By

    deadline = time.time() + timeout
    while session.execute_script("return document.body.dataset.ready") != "true":
        if time.time() > deadline:
            raise TimeoutError("the page did not start")
        time.sleep(0.02)
    session.find_element(By.ID, "user-id").send_keys(user_id)
    session.find_element(By.ID, "inclusion-file").send_keys(str(inclusion))
    if round_file is not None:
        session.find_element(By.ID, "round-file").send_keys(str(round_file))
    session.find_element(By.ID, "check-button").click()
    while session.execute_script("return document.body.dataset.checked") is None:
        if time.time() > deadline:
            raise TimeoutError("the page gave no verdict")
        time.sleep(0.02)
    rows = session.find_elements(By.CSS_SELECTOR, "#balances tbody tr")
    return {
        "verdict": session.find_element(By.ID, "verdict").text,
        "rule": session.find_element(By.ID, "verdict").get_attribute("data-rule"),
        "reason": session.find_element(By.ID, "reason").text,
        "balances": {r.get_attribute("data-asset"): [c.text for c in r.find_elements(By.TAG_NAME, "td")[1:]]
                     for r in rows},
        "pin": session.find_element(By.ID, "pin").text,
        "account": session.find_element(By.ID, "account").text,
        "insecure": [e.text for e in session.find_elements(By.CSS_SELECTOR, ".insecure")],
        "text": session.find_element(By.ID, "zksolvency-verify").text,
    }
