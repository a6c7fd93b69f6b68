"""Login links: sign in through SAML with the link as ``next``, approve or deny once."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from bastion.state.store import login_links
from tests.samlkit import request_id_from_redirect
from tests.unit.bastion.web.conftest import Web


def test_link_survives_the_sign_in_round_trip(web: Web) -> None:
    code = web.ctx.login_links.open("ssh", "demo-host", "198.51.100.7:50123")
    resp = web.client.get(f"/login/{code}")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/saml/login?next=/login/{code}"
    idp_url = web.client.get(resp.headers["Location"]).headers["Location"]
    relay = parse_qs(urlsplit(idp_url).query)["RelayState"][0]
    assert relay == f"/login/{code}"
    rid = request_id_from_redirect(idp_url)
    back = web.post_acs(web.response_for(rid), relay_state=relay)
    assert back.status_code == 303 and back.headers["Location"] == f"/login/{code}"
    page = web.client.get(f"/login/{code}").data.decode()
    for text in ("ssh", "demo-host", "198.51.100.7:50123", "Approve", "Deny", "you</strong> just started"):
        assert text in page


def test_approve_once(web: Web) -> None:
    code = web.ctx.login_links.open("ssh", "demo-host", "198.51.100.7:50123")
    web.login("alice", ("dba", "admins"))
    resp = web.client.post(f"/login/{code}", data={"csrf_token": web.csrf(), "action": "approve"})
    assert resp.status_code == 200 and b"Connection approved" in resp.data
    identity = web.ctx.login_links.consume(code)
    assert identity is not None and identity.subject == "alice" and identity.groups == {"dba", "admins"}
    assert identity.idp == "saml"
    assert web.ctx.login_links.consume(code) is None
    again = web.client.post(f"/login/{code}", data={"csrf_token": web.csrf(), "action": "approve"})
    assert again.status_code == 410 and b"cannot be used" in again.data
    assert "login_link.approved" in web.sink.types()


def test_deny(web: Web) -> None:
    code = web.ctx.login_links.open("ssh", "demo-host", "198.51.100.7:1")
    web.login()
    resp = web.client.post(f"/login/{code}", data={"csrf_token": web.csrf(), "action": "deny"})
    assert resp.status_code == 200 and b"Connection denied" in resp.data
    assert web.ctx.login_links.get(code).status == "denied"  # type: ignore[union-attr]
    assert web.ctx.login_links.consume(code) is None
    late = web.client.post(f"/login/{code}", data={"csrf_token": web.csrf(), "action": "approve"})
    assert late.status_code == 410 and web.ctx.login_links.consume(code) is None


def test_expired_link(web: Web) -> None:
    code = web.ctx.login_links.open("mysql", "shop-db", "198.51.100.7:1")
    with web.ctx.store.engine.begin() as conn:
        conn.execute(login_links.update().values(expires_at=time.time() - 1))
    web.login()
    page = web.client.get(f"/login/{code}")
    assert page.status_code == 410 and b"expired" in page.data and b'id="approve"' not in page.data
    resp = web.client.post(f"/login/{code}", data={"csrf_token": web.csrf(), "action": "approve"})
    assert resp.status_code == 410 and web.ctx.login_links.consume(code) is None


def test_unknown_link_and_bad_action(web: Web) -> None:
    web.login()
    assert web.client.get("/login/nope").status_code == 404
    assert web.client.get("/login/" + "x" * 100).status_code == 404
    code = web.ctx.login_links.open("ssh", "demo-host", "198.51.100.7:1")
    resp = web.client.post(f"/login/{code}", data={"csrf_token": web.csrf(), "action": "maybe"})
    assert resp.status_code == 400


def test_warns_when_no_rule_grants_the_target(web: Web) -> None:
    code = web.ctx.login_links.open("ssh", "demo-host", "198.51.100.7:1")
    web.login("bob", ("developers",))
    assert b"No access rule grants your groups this target" in web.client.get(f"/login/{code}").data
