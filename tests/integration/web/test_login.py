"""SP-initiated SAML login against the real SimpleSAMLphp IdP, browser-less (requests)."""

from __future__ import annotations

import re

from bastion.demo.idp import SimpleSAMLphp
from tests.integration.conftest import BastionProc
from tests.integration.web.portal import Portal


def test_alice_in_two_groups(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    resp = portal.login("alice", next_path="/tokens")
    assert resp.headers["Location"] == "/tokens"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("bastion_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = portal.me().json()
    assert (me["subject"], me["email"], me["display_name"]) == ("alice", "alice@example.org", "Alice DBA")
    assert me["groups"] == ["admins", "dba"] and me["roles"] == ["admin", "user"] and me["auth"] == "session"
    [target] = portal.get("/api/v1/targets").json()["targets"]
    assert (target["name"], target["account"], target["rule"]) == ("shop-db", "admin", "dba-admin")
    home = portal.get("/").text
    assert re.findall(r'data-target="([^"]+)"', home) == ["shop-db"]
    assert f"mariadb -h 127.0.0.1 -P {bastion.ports['mysql']} --ssl -u shop-db -p" in home
    assert f"jdbc:mariadb://127.0.0.1:{bastion.ports['mysql']}/?sslMode=trust&amp;user=shop-db" in home
    assert portal.get("/admin/users").status_code == 200
    assert '"msg": "signed in", "user": "alice"' in bastion.log_text()


def test_bob_developer(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    portal.login("bob")
    me = portal.me().json()
    assert me["groups"] == ["developers"] and me["roles"] == ["user"]
    [target] = portal.get("/api/v1/targets").json()["targets"]
    assert (target["name"], target["account"], target["rule"]) == ("shop-db", "readonly", "dev-readonly")
    assert portal.get("/admin/users").status_code == 403


def test_carol_roles_and_the_directory(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    portal.login("carol")
    assert portal.me().json()["roles"] == ["approver", "auditor", "user"]
    admin = Portal(bastion)
    admin.login("alice")
    users = {u["subject"]: u for u in admin.get("/api/v1/users").json()["users"]}
    assert users["carol"]["groups"] == ["approvers", "auditors"]
    assert users["carol"]["roles"] == ["approver", "auditor", "user"]


def test_single_logout(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    portal.login("alice")
    resp = portal.post("/logout", data={"csrf_token": portal.csrf()}, allow_redirects=True)
    assert resp.status_code == 200 and "You are signed out" in resp.text
    assert any("/SingleLogoutService.php" in r.url for r in resp.history)
    assert resp.url.startswith(f"{portal.base}/saml/sls?SAMLResponse=")
    assert portal.me().status_code == 401
    # the IdP session ended too: a new sign-in asks for the password again
    assert 'name="AuthState"' in portal.get("/saml/login").text


def test_sp_metadata(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    body = portal.get("/saml/metadata").text
    assert f'entityID="{portal.base}/saml/metadata"' in body and f'Location="{portal.base}/saml/acs"' in body


def test_idp_initiated_logout(bastion: BastionProc, idp: SimpleSAMLphp) -> None:
    """Signing out at the IdP ends the portal session too (LogoutRequest to /saml/sls)."""
    portal = Portal(bastion)
    portal.login("bob")
    resp = portal.http.get(f"{idp.base}/saml2/idp/SingleLogoutService.php",
                           params={"ReturnTo": idp.metadata_url}, timeout=10)
    assert resp.status_code == 200, resp.text[:500]
    assert any(r.url.startswith(f"{portal.base}/saml/sls?SAMLRequest=") for r in resp.history), \
        [r.url[:80] for r in resp.history]
    assert portal.me().status_code == 401
    assert '"msg": "signed out by the IdP", "user": "bob"' in bastion.log_text()
