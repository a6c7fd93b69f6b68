"""A token issued in the portal authenticates a native MySQL client; revoked or expired, it does not."""

from __future__ import annotations

import re
import time

import pymysql
import pytest

from tests.integration.conftest import BastionProc, wait_for
from tests.integration.mysql.clients import pymysql_conn
from tests.integration.web.portal import Portal


def issue_in_portal(portal: Portal, reason: str, ttl: int = 3600) -> tuple[str, str]:
    resp = portal.post("/tokens", data={"csrf_token": portal.csrf(), "ttl": str(ttl), "reason": reason})
    assert resp.status_code == 200, resp.text[:500]
    token = re.search(r'id="new-token">(bst_[^<]+)<', resp.text)
    assert token is not None
    token_id = token.group(1).split("_")[1]
    return token.group(1), token_id


def refused_1045(bastion: BastionProc, token: str) -> str:
    with pytest.raises(pymysql.err.OperationalError) as err:
        pymysql_conn(bastion, token)
    assert err.value.args[0] == 1045, err.value.args
    return str(err.value.args[1])


def test_portal_token_works_then_revoked(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    portal.login("alice")
    token, token_id = issue_in_portal(portal, "INC-4242: portal token test")
    assert token not in portal.get("/tokens").text, "a token is shown once"
    conn = pymysql_conn(bastion, token)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM customers")
            assert cur.fetchone()[0] == 5
            cur.execute("SELECT CURRENT_USER()")
            assert cur.fetchone()[0].startswith("bastion_admin@")  # alice is a DBA: the admin account
    finally:
        conn.close()
    start = wait_for(lambda: [e for e in bastion.journal()
                              if e.get("type") == "session.start" and e["data"].get("user") == "alice"
                              and e["data"].get("reason") == "INC-4242: portal token test"])
    assert start, "the token's reason is recorded with the session"
    journal = (bastion.workdir / "var" / "audit" / "journal.jsonl").read_text()
    assert token not in bastion.log_text() and token not in journal

    resp = portal.post(f"/tokens/{token_id}/revoke", data={"csrf_token": portal.csrf()})
    assert resp.status_code == 303
    assert token_id not in portal.get("/tokens").text
    refused_1045(bastion, token)


def test_developer_token_reads_with_the_readonly_account(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    portal.login("bob")
    token, _ = issue_in_portal(portal, "debugging")
    conn = pymysql_conn(bastion, token)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT CURRENT_USER()")
            assert cur.fetchone()[0].startswith("bastion_ro@")
    finally:
        conn.close()


def test_expired_portal_token_is_refused(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    portal.login("alice")
    resp = portal.post("/api/v1/tokens", json={"ttl": 1, "reason": "short"}, headers={"X-CSRF-Token": portal.csrf()})
    assert resp.status_code == 201
    token = resp.json()["token"]
    time.sleep(1.2)
    refused_1045(bastion, token)


def test_admin_revokes_someone_elses_token(bastion: BastionProc) -> None:
    bob = Portal(bastion)
    bob.login("bob")
    token, token_id = issue_in_portal(bob, "bob's token")
    admin = Portal(bastion)
    admin.login("alice")
    assert token_id in admin.get("/admin/tokens").text
    assert admin.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": admin.csrf()}).status_code == 303
    refused_1045(bastion, token)


def test_state_changing_requests_without_csrf_are_refused(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    portal.login("alice")
    # Other tests' short-lived tokens may expire meanwhile: no token may appear, some may go.
    before = {t["id"] for t in portal.get("/api/v1/tokens").json()["tokens"]}
    assert portal.post("/tokens", data={"ttl": "600", "reason": "no csrf"}).status_code == 403
    assert portal.post("/tokens", data={"ttl": "600", "csrf_token": "forged"}).status_code == 403
    assert portal.post("/api/v1/tokens", json={"ttl": 600}).status_code == 403
    assert portal.post("/logout", data={}).status_code == 403
    assert {t["id"] for t in portal.get("/api/v1/tokens").json()["tokens"]} <= before
    assert portal.me().status_code == 200  # still signed in: the forged logout did nothing


def test_bearer_token_api(bastion: BastionProc) -> None:
    token = bastion.token(user="carol", groups="approvers,auditors")
    resp = Portal(bastion).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.json()["roles"] == ["approver", "auditor", "user"]
