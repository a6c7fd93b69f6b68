"""Portal pages: targets with commands, tokens shown once, SSH keys, admin, fingerprints."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from bastion.runtime.tls import ensure_certificate
from bastion.state.store import tokens as tokens_table
from tests.unit.bastion.web.conftest import Web

ED25519 = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop")


def test_anonymous_home_offers_sign_in(web: Web) -> None:
    resp = web.client.get("/")
    assert resp.status_code == 200 and b"Sign in with SSO" in resp.data
    assert "Set-Cookie" not in resp.headers


@pytest.mark.parametrize("path", ["/tokens", "/keys", "/admin/users", "/login/abc"])
def test_pages_need_sign_in(web: Web, path: str) -> None:
    resp = web.client.get(path)
    assert resp.status_code == 302
    assert resp.headers["Location"] == f"/saml/login?next={path}"


def test_home_lists_targets_with_commands(web: Web) -> None:
    web.login("alice", ("dba", "admins"))
    html = web.client.get("/").data.decode()
    assert re.findall(r'data-target="([^"]+)"', html) == ["shop-db", "demo-host"]
    for cmd in ("mariadb -h 127.0.0.1 -P 3307 --ssl -u shop-db -p",
                "mysql -h 127.0.0.1 -P 3307 --ssl-mode=REQUIRED -u shop-db -p",
                "jdbc:mariadb://127.0.0.1:3307/?sslMode=trust&amp;user=shop-db",
                "ssh -p 2222 demo-host@127.0.0.1", "scp -P 2222 FILE demo-host@127.0.0.1:PATH",
                "sftp -P 2222 demo-host@127.0.0.1"):
        assert cmd in html, cmd
    assert "dba-admin" in html and ">admin<" in html


def test_home_for_developer(web: Web) -> None:
    web.login("bob", ("developers",))
    html = web.client.get("/").data.decode()
    assert re.findall(r'data-target="([^"]+)"', html) == ["shop-db"]
    assert "readonly" in html and "Admin</a>" not in html


def test_home_without_access(web: Web) -> None:
    web.login("eve", ("nobody",))
    assert b'id="no-targets"' in web.client.get("/").data


def test_public_host(make_web: Any) -> None:
    web = make_web(public_host="bastion.corp.example")
    web.login()
    assert b"mariadb -h bastion.corp.example -P 3307" in web.client.get("/").data


def test_fingerprints(web: Web) -> None:
    state = Path(web.ctx.settings.config.state_dir)
    (state / "ssh").mkdir(parents=True)
    (state / "ssh" / "host_keys.json").write_text(json.dumps([{"type": "ssh-ed25519", "fingerprint": "SHA256:abc"}]))
    from bastion.config.model import TLSConfig

    ensure_certificate(TLSConfig(), state)
    web.login()
    html = web.client.get("/").data.decode()
    assert "ssh-ed25519 SHA256:abc" in html
    assert re.search(r'id="tls-fingerprint">SHA256:([0-9A-F]{2}:){31}[0-9A-F]{2}<', html)
    cert = web.client.get("/tls/ca.crt")
    assert cert.status_code == 200 and cert.data == (state / "tls" / "ca.crt").read_bytes()
    assert "ca.crt" in cert.headers["Content-Disposition"]
    ca = x509.load_pem_x509_certificate(cert.data)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    fingerprint = ca.fingerprint(hashes.SHA256()).hex().upper()
    assert re.search(r'id="tls-fingerprint">SHA256:([0-9A-F:]+)<', html).group(1).replace(":", "") == fingerprint  # type: ignore[union-attr]


def test_issue_token_shown_once_never_stored_in_clear(web: Web) -> None:
    web.login()
    csrf = web.csrf()
    resp = web.client.post("/tokens", data={"csrf_token": csrf, "ttl": "3600", "reason": "INC-42"})
    assert resp.status_code == 200
    token = re.search(r'id="new-token">(bst_[^<]+)<', resp.data.decode()).group(1)  # type: ignore[union-attr]
    assert "Set-Cookie" not in resp.headers or token not in resp.headers["Set-Cookie"]
    info = web.ctx.tokens.verify(token)
    assert info is not None and info.user == "alice" and info.reason == "INC-42"
    assert info.groups == frozenset({"dba", "admins"}) and 3590 < info.expires_at - info.created_at <= 3600
    with web.ctx.store.engine.begin() as conn:
        rows = [dict(r) for r in conn.execute(tokens_table.select()).mappings()]
    assert token not in json.dumps(rows, default=str)
    page = web.client.get("/tokens").data.decode()
    assert token not in page and info.id in page and "INC-42" in page
    event = [e for e in web.sink.events if e.type == "token.issued"][-1]
    assert event.data["token_id"] == info.id and token not in json.dumps(dict(event.data))


@pytest.mark.parametrize(("form", "message"), [
    ({"ttl": "999999"}, "between 1 and 43200"),
    ({"ttl": "abc"}, "whole number"),
    ({"ttl": "60", "reason": "x" * 501}, "longer than 500"),
])
def test_issue_token_refused(web: Web, form: dict[str, str], message: str) -> None:
    web.login()
    resp = web.client.post("/tokens", data={"csrf_token": web.csrf(), **form})
    assert resp.status_code == 400 and message in resp.data.decode()
    assert web.ctx.tokens.list() == []


def test_reason_required_by_policy(make_web: Any) -> None:
    web = make_web(tokens={"default_ttl": 600, "max_ttl": 3600, "require_reason": True})
    web.login()
    resp = web.client.post("/tokens", data={"csrf_token": web.csrf(), "ttl": "600", "reason": "  "})
    assert resp.status_code == 400 and b"a reason is required" in resp.data
    html = web.client.get("/tokens").data.decode()
    assert 'required' in html and '<option value="43200"' not in html
    resp = web.client.post("/tokens", data={"csrf_token": web.csrf(), "ttl": "600", "reason": "CHG-7"})
    assert resp.status_code == 200


def test_revoke_own_token_only(web: Web) -> None:
    _, mine = web.ctx.tokens.issue("alice", {"dba"}, 600)
    _, other = web.ctx.tokens.issue("bob", {"developers"}, 600)
    web.login("alice", ("dba",))
    csrf = web.csrf()
    assert web.client.post(f"/tokens/{other.id}/revoke", data={"csrf_token": csrf}).status_code == 404
    assert web.ctx.tokens.get(other.id).active  # type: ignore[union-attr]
    resp = web.client.post(f"/tokens/{mine.id}/revoke", data={"csrf_token": csrf})
    assert resp.status_code == 303
    assert not web.ctx.tokens.get(mine.id).active  # type: ignore[union-attr]
    assert "token.revoked" in web.sink.types()


def test_ssh_keys(web: Web) -> None:
    web.login()
    csrf = web.csrf()
    resp = web.client.post("/keys", data={"csrf_token": csrf, "public_key": ED25519})
    assert resp.status_code == 200 and b'id="added"' in resp.data
    [key] = web.ctx.ssh_keys.list("alice")
    assert key.comment == "alice@laptop" and key.fingerprint in web.client.get("/keys").data.decode()
    again = web.client.post("/keys", data={"csrf_token": csrf, "public_key": ED25519})
    assert again.status_code == 400 and b"already registered" in again.data
    bad = web.client.post("/keys", data={"csrf_token": csrf, "public_key": "-----BEGIN OPENSSH PRIVATE KEY-----"})
    assert bad.status_code == 400 and b"private key" in bad.data
    resp = web.client.post("/keys/remove", data={"csrf_token": csrf, "fingerprint": key.fingerprint})
    assert resp.status_code == 303 and web.ctx.ssh_keys.list() == []
    assert ["ssh_key.added", "ssh_key.removed"] == [t for t in web.sink.types() if t.startswith("ssh_key")]


def test_cannot_remove_someone_elses_key(web: Web) -> None:
    key = web.ctx.ssh_keys.add("bob", ED25519)
    web.login("alice", ("dba",))
    resp = web.client.post("/keys/remove", data={"csrf_token": web.csrf(), "fingerprint": key.fingerprint})
    assert resp.status_code == 404 and len(web.ctx.ssh_keys.list()) == 1


def test_admin_pages_need_admin_role(web: Web) -> None:
    web.login("bob", ("developers",))
    for path in ("/admin/users", "/admin/tokens", "/admin/keys", "/admin/credentials", "/admin/sessions"):
        resp = web.client.get(path)
        assert resp.status_code == 403 and b"needs the admin role" in resp.data


def test_admin_sees_everything_and_revokes_any_token(web: Web) -> None:
    bob = web.new_client()
    web.login("bob", ("developers",), client=bob)
    _, bobs = web.ctx.tokens.issue("bob", {"developers"}, 600, reason="debug")
    web.ctx.ssh_keys.add("bob", ED25519)
    web.login("alice", ("dba", "admins"))
    users = web.client.get("/admin/users").data.decode()
    assert "bob" in users and "alice" in users and "developers" in users
    assert bobs.id in web.client.get("/admin/tokens").data.decode()
    assert "alice@laptop" in web.client.get("/admin/keys").data.decode()
    resp = web.client.post(f"/admin/tokens/{bobs.id}/revoke", data={"csrf_token": web.csrf()})
    assert resp.status_code == 303 and not web.ctx.tokens.get(bobs.id).active  # type: ignore[union-attr]
    assert bobs.id in web.client.get("/admin/tokens?all=1").data.decode()


def test_admin_sees_each_credentials_age_never_its_value(web: Web) -> None:
    web.ctx.vault.set("db", "admin", "password", b"s3cret-value")
    web.login("alice", ("dba", "admins"))
    page = web.client.get("/admin/credentials").data.decode()
    assert 'data-credential="db/admin"' in page and "0 days" in page and "s3cret-value" not in page


def test_an_admin_ends_an_open_session(web: Web) -> None:
    from bastion.state.live import LiveSessions

    live = LiveSessions(web.ctx.store)
    live.register("s1", node="n", user="bob", target="db", protocol="mysql", client_addr="c", token_id=None,
                  started_at=1.0)
    web.login("alice", ("dba", "admins"))
    assert 'data-session-id="s1"' in web.client.get("/admin/sessions").data.decode()
    resp = web.client.post("/admin/sessions/s1/end", data={"csrf_token": web.csrf(), "reason": "INC-7"})
    assert resp.status_code == 303 and "INC-7" in (live.list()[0].end_request or "")
    assert "session.end_requested" in web.sink.types()
    assert web.client.post("/admin/sessions/nope/end", data={"csrf_token": web.csrf()}).status_code == 404


def test_logout(web: Web) -> None:
    web.login()
    resp = web.client.post("/logout", data={"csrf_token": web.csrf()})
    assert resp.status_code == 303 and resp.headers["Location"].startswith("https://idp.test/slo?SAMLRequest=")
    assert web.client.get("/api/v1/me").status_code == 401
    assert "web.logout" in web.sink.types()


def test_no_saml_configured(make_web: Any) -> None:
    web = make_web(no_saml=True)
    assert b"not configured" in web.client.get("/").data
    assert web.client.get("/saml/login").status_code == 503
    assert web.client.get("/healthz").status_code == 200


def test_changes_refused_while_the_audit_trail_is_down(web: Web) -> None:
    web.login()
    csrf = web.csrf()
    web.ctx.audit_failure = "journal: OSError: [Errno 28] No space left on device"
    try:
        resp = web.client.post("/tokens", data={"csrf_token": csrf, "ttl": "3600", "reason": "INC-43"})
        assert resp.status_code == 503 and b"audit trail cannot be written" in resp.data
        assert web.client.get("/tokens").status_code == 200  # reading still works
        assert not [e for e in web.sink.events if e.type == "token.issued" and e.data.get("reason") == "INC-43"]
    finally:
        web.ctx.audit_failure = None
    resp = web.client.post("/tokens", data={"csrf_token": csrf, "ttl": "3600", "reason": "INC-43"})
    assert resp.status_code == 200


def test_bearer_token_guessing_is_throttled(web: Web) -> None:
    from bastion.config.model import ThrottleConfig
    from bastion.state.throttle import LoginThrottle

    web.ctx.throttle = LoginThrottle(web.ctx.store, ThrottleConfig(free_attempts=2, base_delay=60, max_delay=60))
    token, _ = web.ctx.tokens.issue("bob", {"developers"}, 600)
    client = web.new_client()
    codes = [client.get("/api/v1/me", headers={"Authorization": f"Bearer bst_0000_guess{i}"}).status_code
             for i in range(4)]
    assert codes[:3] == [401, 401, 401] and codes[3] == 429
    resp = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 429 and int(resp.headers["Retry-After"]) > 0  # the address is blocked
