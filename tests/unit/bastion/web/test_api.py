"""JSON API /api/v1: bearer tokens and portal sessions, roles, errors as JSON."""

from __future__ import annotations

import time

import pytest

from tests.unit.bastion.web.conftest import Web
from tests.unit.bastion.web.test_portal import ED25519


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_unauthenticated(web: Web) -> None:
    for path in ("/api/v1/me", "/api/v1/targets", "/api/v1/tokens", "/api/v1/ssh-keys", "/api/v1/users"):
        resp = web.client.get(path)
        assert resp.status_code == 401 and "error" in resp.get_json()
        assert resp.headers["WWW-Authenticate"] == 'Bearer realm="bastion"'


@pytest.mark.parametrize("header", ["Bearer bst_nope", "Basic YWxpY2U6eA==", "Bearer ", "bst_x"])
def test_bad_authorization(web: Web, header: str) -> None:
    resp = web.client.get("/api/v1/me", headers={"Authorization": header})
    assert resp.status_code == 401


def test_me_with_token(web: Web) -> None:
    token, info = web.ctx.tokens.issue("carol", {"approvers", "auditors"}, 600, email="carol@example.org")
    me = web.client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert me["subject"] == "carol" and me["auth"] == "token" and me["token_id"] == info.id
    assert me["roles"] == ["approver", "auditor", "user"] and "csrf_token" not in me


def test_me_with_session_gives_csrf_token(web: Web) -> None:
    web.login()
    me = web.client.get("/api/v1/me").get_json()
    assert me["auth"] == "session" and len(me["csrf_token"]) > 20


def test_targets(web: Web) -> None:
    token, _ = web.ctx.tokens.issue("bob", {"developers"}, 600)
    [target] = web.client.get("/api/v1/targets", headers=bearer(token)).get_json()["targets"]
    assert target["name"] == "shop-db" and target["account"] == "readonly" and target["rule"] == "dev-readonly"
    assert target["commands"]["mariadb"] == "mariadb -h 127.0.0.1 -P 3307 --ssl -u shop-db -p"
    assert target["commands"]["JDBC (MariaDB Connector/J)"] == "jdbc:mariadb://127.0.0.1:3307/?sslMode=trust&user=shop-db"


def test_token_lifecycle_with_bearer(web: Web) -> None:
    token, _ = web.ctx.tokens.issue("alice", {"dba"}, 3600)
    resp = web.client.post("/api/v1/tokens", json={"ttl": 600, "reason": "CHG-1"}, headers=bearer(token))
    assert resp.status_code == 201
    body = resp.get_json()
    assert body["token"].startswith("bst_") and body["reason"] == "CHG-1" and body["groups"] == ["dba"]
    listed = web.client.get("/api/v1/tokens", headers=bearer(token)).get_json()["tokens"]
    assert {t["id"] for t in listed} >= {body["id"]} and all("token" not in t for t in listed)
    assert web.client.delete(f"/api/v1/tokens/{body['id']}", headers=bearer(token)).status_code == 200
    assert web.client.delete(f"/api/v1/tokens/{body['id']}", headers=bearer(token)).status_code == 409
    assert web.ctx.tokens.verify(body["token"]) is None


def test_token_cannot_outlive_the_token_that_issues_it(web: Web) -> None:
    token, _ = web.ctx.tokens.issue("alice", {"dba"}, 120)
    resp = web.client.post("/api/v1/tokens", json={"ttl": 3600}, headers=bearer(token))
    assert resp.status_code == 400 and "expire before it does" in resp.get_json()["error"]


def test_revoked_or_expired_token_cannot_call(web: Web) -> None:
    token, info = web.ctx.tokens.issue("alice", {"dba"}, 1)
    web.ctx.tokens.revoke(info.id)
    assert web.client.get("/api/v1/me", headers=bearer(token)).status_code == 401
    token2, _ = web.ctx.tokens.issue("alice", {"dba"}, 0.5)
    time.sleep(0.6)
    assert web.client.get("/api/v1/me", headers=bearer(token2)).status_code == 401


def test_cannot_revoke_others_tokens_without_admin(web: Web) -> None:
    token, _ = web.ctx.tokens.issue("bob", {"developers"}, 600)
    _, alices = web.ctx.tokens.issue("alice", {"dba"}, 600)
    assert web.client.delete(f"/api/v1/tokens/{alices.id}", headers=bearer(token)).status_code == 404
    assert web.client.get("/api/v1/tokens?all=1", headers=bearer(token)).status_code == 403
    admin, _ = web.ctx.tokens.issue("root", {"admins"}, 600)
    everyone = web.client.get("/api/v1/tokens?all=1", headers=bearer(admin)).get_json()["tokens"]
    assert {t["user"] for t in everyone} == {"alice", "bob", "root"}
    assert web.client.delete(f"/api/v1/tokens/{alices.id}", headers=bearer(admin)).status_code == 200


def test_session_json_client(web: Web) -> None:
    web.login("bob", ("developers",))
    csrf = web.client.get("/api/v1/me").get_json()["csrf_token"]
    assert web.client.post("/api/v1/tokens", json={"ttl": 60}).status_code == 403
    resp = web.client.post("/api/v1/tokens", json={"ttl": 60}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 201


def test_ssh_keys_api(web: Web) -> None:
    web.login()
    csrf = {"X-CSRF-Token": web.client.get("/api/v1/me").get_json()["csrf_token"]}
    resp = web.client.post("/api/v1/ssh-keys", json={"public_key": ED25519}, headers=csrf)
    assert resp.status_code == 201
    fingerprint = resp.get_json()["fingerprint"]
    assert [k["fingerprint"] for k in web.client.get("/api/v1/ssh-keys").get_json()["ssh_keys"]] == [fingerprint]
    bad = web.client.post("/api/v1/ssh-keys", json={"public_key": "nope"}, headers=csrf)
    assert bad.status_code == 400 and "OpenSSH" in bad.get_json()["error"]
    assert web.client.delete(f"/api/v1/ssh-keys/{fingerprint}", headers=csrf).status_code == 200
    assert web.client.delete(f"/api/v1/ssh-keys/{fingerprint}", headers=csrf).status_code == 404


def test_ssh_key_upload_needs_a_session(web: Web) -> None:
    token, _ = web.ctx.tokens.issue("alice", {"dba"}, 600)
    resp = web.client.post("/api/v1/ssh-keys", json={"public_key": ED25519}, headers=bearer(token))
    assert resp.status_code == 403 and "portal session" in resp.get_json()["error"]
    key = web.ctx.ssh_keys.add("alice", ED25519)
    listed = web.client.get("/api/v1/ssh-keys", headers=bearer(token)).get_json()["ssh_keys"]
    assert [k["fingerprint"] for k in listed] == [key.fingerprint]
    assert web.client.delete(f"/api/v1/ssh-keys/{key.fingerprint}", headers=bearer(token)).status_code == 200


def test_users_admin_only(web: Web) -> None:
    web.login("bob", ("developers",), client=web.new_client())
    user_token, _ = web.ctx.tokens.issue("bob", {"developers"}, 600)
    assert web.client.get("/api/v1/users", headers=bearer(user_token)).status_code == 403
    admin, _ = web.ctx.tokens.issue("alice", {"admins"}, 600)
    users = web.client.get("/api/v1/users", headers=bearer(admin)).get_json()["users"]
    assert [(u["subject"], u["groups"], u["roles"]) for u in users] == [("bob", ["developers"], ["user"])]


def test_api_errors_are_json(web: Web) -> None:
    resp = web.client.get("/api/v1/nothing")
    assert resp.status_code == 404 and resp.is_json
    token, _ = web.ctx.tokens.issue("alice", {"dba"}, 600)
    resp = web.client.put("/api/v1/tokens", headers=bearer(token))
    assert resp.status_code == 405 and resp.is_json
    resp = web.client.post("/api/v1/tokens", data="[1]", content_type="application/json", headers=bearer(token))
    assert resp.status_code == 400 and resp.is_json
