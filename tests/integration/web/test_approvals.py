"""Inline approvals end to end: a DELETE held in the data path completes after carol approves
in the portal (real Chromium); the requester cannot approve; deny over the portal works too."""

from __future__ import annotations

import threading
from pathlib import Path

import pymysql

from tests.integration.conftest import BastionProc
from tests.integration.mysql.clients import pymysql_conn
from tests.integration.web.portal import PASSWORDS, Portal, pending_id
from tests.integration.web.test_browser import browser  # noqa: F401 - fixture


def hold_in_background(bastion: BastionProc, user: str, groups: str, sql: str) -> tuple[threading.Thread, dict]:
    token = bastion.token(user, groups)
    out: dict[str, object] = {}

    def run() -> None:
        try:
            with pymysql_conn(bastion, token) as conn, conn.cursor() as cur:
                out["rows"] = cur.execute(sql)
                conn.commit()
        except pymysql.err.MySQLError as exc:
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def test_carol_approves_in_chromium(bastion: BastionProc, mariadb, browser, tmp_path: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    mariadb.sql("INSERT INTO shop.orders (customer_id, total, status) VALUES (3, 2.00, 'browser-approved')")
    # a statement shape of its own: an earlier approval's window must not let it through
    thread, out = hold_in_background(bastion, "alice", "dba,admins",
                                     "DELETE FROM orders WHERE status = 'browser-approved' AND customer_id = 3")
    alice = Portal(bastion)
    alice.login("alice")
    req = pending_id(alice, "browser-approved")
    page = alice.get(f"/approvals/{req}").text
    assert 'id="cannot-decide"' in page and "own request" in page  # the requester cannot approve
    assert alice.post(f"/approvals/{req}", data={"action": "approve", "csrf_token": alice.csrf()}).status_code == 409

    driver = browser
    base = f"http://127.0.0.1:{bastion.ports['web']}"
    wait = WebDriverWait(driver, 15)
    driver.get(f"{base}/approvals/{req}")
    wait.until(ec.presence_of_element_located((By.ID, "username")))
    driver.find_element(By.ID, "username").send_keys("carol")
    driver.find_element(By.ID, "password").send_keys(PASSWORDS["carol"])
    driver.find_element(By.ID, "submit_button").click()
    wait.until(ec.presence_of_element_located((By.ID, "decide-form")))
    assert "DELETE FROM orders WHERE status" in driver.find_element(By.ID, "statement").text
    assert driver.find_element(By.ID, "requester").text == "alice"
    driver.find_element(By.NAME, "comment").send_keys("CHG-42 ok")
    driver.save_screenshot(str(tmp_path / "approval.png"))
    driver.find_element(By.ID, "approve").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "status"), "approved"))
    thread.join(15)
    assert out.get("rows") == 1, out
    assert mariadb.sql("SELECT COUNT(*) FROM shop.orders WHERE status = 'browser-approved'").strip() == "0"
    decisions = [e for e in bastion.journal() if e["type"] == "approval.decision" and e["data"]["approval"] == req]
    assert decisions and decisions[0]["data"]["user"] == "carol" and decisions[0]["data"]["comment"] == "CHG-42 ok"


def test_deny_in_portal(bastion: BastionProc, mariadb) -> None:
    mariadb.sql("INSERT INTO shop.orders (customer_id, total, status) VALUES (3, 2.00, 'portal-denied')")
    thread, out = hold_in_background(bastion, "bob", "developers",
                                     "DELETE FROM orders WHERE status = 'portal-denied' AND total > 1")
    carol = Portal(bastion)
    carol.login("carol")
    req = pending_id(carol, "portal-denied")
    resp = carol.post(f"/approvals/{req}", data={"action": "deny", "comment": "use the archive job",
                                                 "csrf_token": carol.csrf()})
    assert resp.status_code == 200 and "denied" in resp.text
    assert carol.post(f"/approvals/{req}", data={"action": "deny"}).status_code == 403  # CSRF
    thread.join(15)
    err = out.get("error")
    assert isinstance(err, pymysql.err.MySQLError) and req in err.args[1] and "use the archive job" in err.args[1]
    assert mariadb.sql("SELECT COUNT(*) FROM shop.orders WHERE status = 'portal-denied'").strip() == "1"
