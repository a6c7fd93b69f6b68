"""A real browser (headless Debian Chromium via Selenium): SAML sign-in, the portal, a token."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import BastionProc, service_failed
from tests.integration.web.portal import PASSWORDS

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,900")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        service_failed("Chromium", RuntimeError("install the Debian packages chromium and chromium-driver"))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER, log_output=str(tmp_path / "chromedriver.log")),
                                  options=options)
    except WebDriverException as exc:
        service_failed("Chromium", exc)
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


def test_sign_in_and_portal_in_chromium(bastion: BastionProc, browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser  # selenium's WebDriver (untyped in this file to keep the import lazy)
    base = f"http://127.0.0.1:{bastion.ports['web']}"
    wait = WebDriverWait(driver, 15)  # type: ignore[arg-type]
    driver.get(base + "/")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "sign-in").click()  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.ID, "username")))
    driver.find_element(By.ID, "username").send_keys("alice")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "password").send_keys(PASSWORDS["alice"])  # type: ignore[attr-defined]
    driver.find_element(By.ID, "submit_button").click()  # type: ignore[attr-defined]
    # SimpleSAMLphp's auto-post page sends the SAMLResponse to our ACS, which lands on the portal
    wait.until(ec.presence_of_element_located((By.ID, "targets")))
    assert driver.current_url == base + "/"  # type: ignore[attr-defined]
    cards = driver.find_elements(By.CSS_SELECTOR, "article.target")  # type: ignore[attr-defined]
    assert [c.get_attribute("data-target") for c in cards] == ["shop-db"]
    text = driver.find_element(By.TAG_NAME, "body").text  # type: ignore[attr-defined]
    assert "Your targets" in text and "alice" in text and "admin" in text and "dba-admin" in text
    assert f"mariadb -h 127.0.0.1 -P {bastion.ports['mysql']} --ssl -u shop-db -p" in text
    assert driver.find_element(By.ID, "tls-fingerprint").text.startswith("SHA256:")  # type: ignore[attr-defined]
    cookies = {c["name"]: c for c in driver.get_cookies()}  # type: ignore[attr-defined]
    assert cookies["bastion_session"]["httpOnly"] and cookies["bastion_session"]["sameSite"] == "Lax"
    shot = tmp_path / "portal.png"
    assert driver.save_screenshot(str(shot))  # type: ignore[attr-defined]
    assert shot.stat().st_size > 10_000

    # issue a token through the form: shown once, on the answer to the POST
    driver.find_element(By.LINK_TEXT, "Tokens").click()  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.ID, "issue-form")))
    driver.find_element(By.NAME, "reason").send_keys("INC-77 browser test")  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "#issue-form button[type=submit]").click()  # type: ignore[attr-defined]
    token = wait.until(ec.presence_of_element_located((By.ID, "new-token"))).text
    assert token.startswith("bst_")
    driver.save_screenshot(str(tmp_path / "token.png"))  # type: ignore[attr-defined]
    logs = driver.get_log("browser")  # type: ignore[attr-defined]
    assert not [entry for entry in logs if "Content Security Policy" in entry.get("message", "")], logs
