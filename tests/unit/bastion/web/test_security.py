"""Session cookie, CSRF, security headers, secret key file, safe redirects."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from bastion.web.security import SecretKeyError, load_secret_key, safe_next
from tests.unit.bastion.web.conftest import Web

PAGES = ["/", "/healthz", "/saml/metadata", "/tokens", "/api/v1/me", "/nowhere", "/static/style.css"]


@pytest.mark.parametrize("path", PAGES)
def test_security_headers_everywhere(web: Web, path: str) -> None:
    headers = web.client.get(path).headers
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "no-referrer"
    if not path.startswith("/static/"):
        assert headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in headers  # plain http portal


def test_health_and_metrics_need_no_login(web: Web) -> None:
    body = web.client.get("/healthz").get_json()
    assert body["status"] == "ok" and body["failed"] == []
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "state_store": True, "journal": True, "index": True}
    assert web.client.get("/metrics").status_code == 200


def test_no_inline_script_or_style(web: Web) -> None:
    web.login()
    for path in ("/", "/tokens", "/keys", "/admin/users", "/admin/tokens", "/admin/keys"):
        html = web.client.get(path).data.decode()
        assert "<script>" not in html and "style=" not in html and "onclick" not in html, path
        assert '<script src="/static/portal.js" defer></script>' in html


def test_autoescape(web: Web) -> None:
    web.login()
    csrf = web.csrf()
    resp = web.client.post("/tokens", data={"csrf_token": csrf, "ttl": "900", "reason": "<script>alert(1)</script>"})
    assert resp.status_code == 200
    assert b"<script>alert(1)" not in resp.data and b"&lt;script&gt;alert(1)" in resp.data


def test_cookie_flags_on_https(make_web: Any) -> None:
    web = make_web({"sp_base_url": "https://bastion.example.com"})
    web.login(acs="https://bastion.example.com/saml/acs", audience="https://bastion.example.com/saml/metadata")
    cookie = web.client.get_cookie("__Host-bastion_session", domain="localhost")
    assert cookie is not None and cookie.secure and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.path == "/"
    assert web.client.get("/").headers["Strict-Transport-Security"] == "max-age=31536000"


@pytest.mark.parametrize(("method", "path", "data"), [
    ("post", "/tokens", {"ttl": "900", "reason": "x"}),
    ("post", "/keys", {"public_key": "ssh-ed25519 AAAA"}),
    ("post", "/logout", {}),
    ("post", "/api/v1/tokens", {"ttl": "900"}),
    ("delete", "/api/v1/tokens/abc", {}),
    ("post", "/login/somecode", {"action": "approve"}),
])
def test_csrf_required(web: Web, method: str, path: str, data: dict[str, str]) -> None:
    web.login()
    resp = getattr(web.client, method)(path, data=data)
    assert resp.status_code == 403
    assert (b"CSRF" in resp.data) or ("CSRF" in (resp.get_json(silent=True) or {}).get("error", ""))
    wrong = getattr(web.client, method)(path, data={**data, "csrf_token": "wrong"})
    assert wrong.status_code == 403
    assert web.ctx.tokens.list() == []


def test_csrf_token_in_form_or_header(web: Web) -> None:
    web.login()
    csrf = web.csrf()
    assert web.client.post("/tokens", data={"csrf_token": csrf, "ttl": "900"}).status_code == 200
    resp = web.client.post("/api/v1/tokens", json={"ttl": 900}, headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 201
    assert len(web.ctx.tokens.list(user="alice")) == 2


def test_bearer_api_skips_csrf_but_portal_forms_do_not(web: Web) -> None:
    token, _ = web.ctx.tokens.issue("alice", {"dba"}, 600)
    auth = {"Authorization": f"Bearer {token}"}
    assert web.client.post("/api/v1/tokens", json={"ttl": 60}, headers=auth).status_code == 201
    # a bearer header never authenticates a portal form, and does not lift its CSRF check
    assert web.client.post("/tokens", data={"ttl": "60"}, headers=auth).status_code == 403


def test_api_with_authorization_header_ignores_the_cookie(web: Web) -> None:
    web.login()
    resp = web.client.post("/api/v1/tokens", json={"ttl": 60}, headers={"Authorization": "Bearer bst_nope"})
    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_login_replaces_the_session(web: Web) -> None:
    """No fixation: whatever the pre-login session held is gone, and a new CSRF token is made."""
    with web.client.session_transaction() as sess:
        sess["csrf"] = "attacker-known"
        sess["sub"] = "mallory"
    web.login()
    with web.client.session_transaction() as sess:
        assert sess.get("csrf") != "attacker-known" and sess["sub"] == "alice"


def test_secret_key_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "web-secret.key"
    key = load_secret_key(path)
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_secret_key(path) == key
    path.write_text("not base64!")
    with pytest.raises(SecretKeyError, match="not valid base64"):
        load_secret_key(path)
    path.write_text("c2hvcnQ=")
    with pytest.raises(SecretKeyError, match="at least 32 bytes"):
        load_secret_key(path)


def test_secret_survives_restart(make_web: Any, tmp_path: Path) -> None:
    web = make_web()
    secret = web.app.config["SECRET_KEY"]
    assert (tmp_path / "w0" / "var" / "web-secret.key").exists()
    assert os.environ.get("BASTION_TEST_NO_SUCH") is None
    assert secret == load_secret_key(web.ctx.settings.config.secret_key_file)


@pytest.mark.parametrize(("value", "expected"), [
    ("/tokens", "/tokens"), ("/login/abc?x=1", "/login/abc?x=1"), (None, "/"), ("", "/"),
    ("https://evil.example/", "/"), ("//evil.example", "/"), ("/\\evil.example", "/"), ("tokens", "/"),
    ("/a\r\nSet-Cookie: x", "/"), ("javascript:alert(1)", "/"),
])
def test_safe_next(value: str | None, expected: str) -> None:
    assert safe_next(value) == expected
