"""The audit dashboard over real sessions: MySQL statements, an SSH exec, an SFTP upload and
an interactive shell through one bastion, searched through the web pages as an auditor
(carol, signed in at the real IdP), for the sqlite index, OpenSearch and Elasticsearch; the shell's
recording replayed by asciinema-player in headless Chromium."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.integration.audit.conftest import EXEC_COMMAND, MYSQL_FRAGMENT, SFTP_FILE, SHELL_WORD, Dashboard
from tests.integration.conftest import wait_for
from tests.integration.web.portal import PASSWORDS, Portal
from tests.integration.web.test_browser import browser  # noqa: F401 - the headless Chromium fixture

SEARCHES = [
    # (free text, part of the scripted run it must find, event types of the hits)
    (f'"{MYSQL_FRAGMENT}"', "mysql", {"query"}),
    ("penguin-exec-ok", "exec", {"command"}),
    (SFTP_FILE, "sftp", {"fileop"}),
    (SHELL_WORD, "shell", {"output"}),
]


def auditor(dashboard: Dashboard) -> Portal:
    portal = Portal(dashboard.bastion)
    portal.login("carol", next_path="/audit/")
    return portal


def exported(portal: Portal, text: str) -> list[dict[str, object]]:
    resp = portal.get("/audit/export.json", params={"q": text})
    assert resp.status_code == 200, resp.text
    return [json.loads(line) for line in resp.text.splitlines() if line.strip()]


@pytest.mark.parametrize(("text", "part", "types"), SEARCHES, ids=["statement", "command", "path", "output"])
def test_search_finds_the_right_session(dashboard: Dashboard, text: str, part: str, types: set[str]) -> None:
    portal = auditor(dashboard)
    hits = wait_for(lambda: exported(portal, text), timeout=20, interval=0.3)
    assert hits, f"{text!r} not indexed; log:\n{dashboard.bastion.log_text()[-2000:]}"
    assert {h["session"] for h in hits} == {dashboard.sessions[part]}, hits
    assert {h["type"] for h in hits} == types
    assert {h["user"] for h in hits} == {"alice"}
    page = portal.get("/audit/", params={"q": text})
    assert page.status_code == 200 and "<mark>" in page.text
    assert f'/audit/sessions/{dashboard.sessions[part]}"' in page.text
    csv = portal.get("/audit/export.csv", params={"q": text})
    assert csv.status_code == 200 and dashboard.sessions[part] in csv.text


def test_filters_timeline_and_exec_command(dashboard: Dashboard) -> None:
    portal = auditor(dashboard)
    wait_for(lambda: exported(portal, SHELL_WORD), timeout=20, interval=0.3)
    denied = portal.get("/audit/export.json", params={"protocol": "ssh", "type": "command", "user": "alice"})
    lines = [json.loads(line) for line in denied.text.splitlines()]
    assert EXEC_COMMAND in {row["command"] for row in lines}
    assert all(row["protocol"] == "ssh" for row in lines)
    timeline = portal.get(f"/audit/sessions/{dashboard.sessions['mysql']}")
    assert timeline.status_code == 200 and MYSQL_FRAGMENT in timeline.text and "session.start" in timeline.text
    shell = portal.get(f"/audit/sessions/{dashboard.sessions['shell']}")
    assert 'data-cast-url="/audit/sessions/' in shell.text and "'wasm-unsafe-eval'" in shell.headers[
        "Content-Security-Policy"]
    url = shell.text.split('data-cast-url="', 1)[1].split('"', 1)[0]
    cast = portal.get(url)
    assert cast.status_code == 200 and SHELL_WORD in cast.text and json.loads(cast.text.splitlines()[0])["version"] == 2
    viewed = wait_for(lambda: [e for e in dashboard.bastion.journal() if e["type"] == "audit.recording_viewed"])
    assert viewed and viewed[-1]["data"]["user"] == "carol"  # watching a session is audited too
    metrics = portal.get("/metrics").text
    assert "bastion_audit_index_lag_events" in metrics and "bastion_audit_index_failures 0.0" in metrics
    assert "index unavailable" not in dashboard.bastion.log_text()


def test_only_auditors_and_admins(dashboard: Dashboard) -> None:
    anonymous = Portal(dashboard.bastion)
    resp = anonymous.get("/audit/", allow_redirects=False)
    assert resp.status_code == 302 and "/saml/login" in resp.headers["Location"]
    bob = Portal(dashboard.bastion)
    bob.login("bob")
    sid = dashboard.sessions["shell"]
    for path in ("/audit/", f"/audit/sessions/{sid}", "/audit/export.json", "/audit/live"):
        assert bob.get(path).status_code == 403, path
    assert 'href="/audit/"' not in bob.get("/").text
    alice = Portal(dashboard.bastion)
    alice.login("alice")  # admin
    assert 'href="/audit/"' in alice.get("/").text and alice.get("/audit/live").status_code == 200


def test_replay_plays_in_chromium(dashboard: Dashboard, browser: object, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    wait = WebDriverWait(driver, 20)  # type: ignore[arg-type]
    portal = auditor(dashboard)
    wait_for(lambda: exported(portal, SHELL_WORD), timeout=20, interval=0.3)
    page = f"{dashboard.base}/audit/sessions/{dashboard.sessions['shell']}"
    driver.get(page)  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.ID, "username")))  # SAML sign-in first
    driver.find_element(By.ID, "username").send_keys("carol")  # type: ignore[attr-defined]
    driver.find_element(By.ID, "password").send_keys(PASSWORDS["carol"])  # type: ignore[attr-defined]
    driver.find_element(By.ID, "submit_button").click()  # type: ignore[attr-defined]
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "div.replay .ap-player")))
    assert driver.current_url == page  # type: ignore[attr-defined]
    driver.find_element(By.CSS_SELECTOR, "div.replay .ap-player").click()  # type: ignore[attr-defined]

    def screen() -> str:
        return str(driver.execute_script(  # type: ignore[attr-defined]
            "return Array.from(document.querySelectorAll('div.replay .ap-term .ap-line'))"
            ".map(function (line) { return line.textContent; }).join('\\n');"))

    started = time.monotonic()
    text = wait_for(lambda: SHELL_WORD in screen() and screen(), timeout=20, interval=0.2)
    shot = tmp_path / f"replay-{dashboard.backend}.png"
    assert driver.save_screenshot(str(shot))  # type: ignore[attr-defined]
    assert text and SHELL_WORD in text, screen()
    assert shot.stat().st_size > 10_000
    print(f"replay rendered {SHELL_WORD!r} after {time.monotonic() - started:.1f}s; screenshot {shot}")
    logs = driver.get_log("browser")  # type: ignore[attr-defined]
    assert not [e for e in logs if "Content Security Policy" in e.get("message", "")], logs
    assert not [e for e in logs if e.get("level") == "SEVERE" and "favicon.ico" not in e.get("message", "")], logs
