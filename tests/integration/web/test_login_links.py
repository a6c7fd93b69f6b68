"""Login links across processes: the test (as a protocol plugin would) opens a link in the
bastion's state store, the user signs in through the real IdP and approves it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bastion.state.directory import LoginLinks
from bastion.state.store import StateStore, login_links
from tests.integration.conftest import BastionProc
from tests.integration.web.portal import Portal


@pytest.fixture
def links(bastion: BastionProc) -> Iterator[LoginLinks]:
    store = StateStore(f"sqlite:///{bastion.workdir / 'var' / 'state.db'}")
    yield LoginLinks(store)
    store.dispose()


def sign_in_through(portal: Portal, code: str) -> str:
    """Open the link signed out: SAML sign-in with the link as ``next``, then the link page."""
    resp = portal.get(f"/login/{code}", allow_redirects=False)
    assert resp.status_code == 302 and resp.headers["Location"] == f"/saml/login?next=/login/{code}"
    back = portal.post_acs(portal.idp_answer("alice", next_path=f"/login/{code}"))
    assert back.status_code == 303 and back.headers["Location"] == f"/login/{code}"
    return portal.get(f"/login/{code}").text


def test_approve_then_consume_once(bastion: BastionProc, links: LoginLinks) -> None:
    code = links.open("ssh", "shop-db", "203.0.113.9:40022")
    page = sign_in_through(Portal(bastion), code)
    assert "203.0.113.9:40022" in page and "shop-db" in page and 'id="approve"' in page
    assert links.consume(code) is None  # not approved yet
    portal = Portal(bastion)
    sign_in_through(portal, code)
    resp = portal.post(f"/login/{code}", data={"csrf_token": portal.csrf(), "action": "approve"})
    assert resp.status_code == 200 and "Connection approved" in resp.text
    identity = links.consume(code)
    assert identity is not None and identity.subject == "alice" and identity.groups == {"dba", "admins"}
    assert links.consume(code) is None
    assert portal.post(f"/login/{code}", data={"csrf_token": portal.csrf(), "action": "approve"}).status_code == 410


def test_wait_sees_the_approval(bastion: BastionProc, links: LoginLinks) -> None:
    code = links.open("ssh", "shop-db", "203.0.113.9:40023")
    portal = Portal(bastion)
    sign_in_through(portal, code)
    portal.post(f"/login/{code}", data={"csrf_token": portal.csrf(), "action": "approve"})
    identity = links.wait(code, timeout=5, interval=0.05)
    assert identity is not None and identity.subject == "alice"


def test_denied_link_cannot_be_approved(bastion: BastionProc, links: LoginLinks) -> None:
    code = links.open("ssh", "shop-db", "203.0.113.9:40024")
    portal = Portal(bastion)
    sign_in_through(portal, code)
    resp = portal.post(f"/login/{code}", data={"csrf_token": portal.csrf(), "action": "deny"})
    assert resp.status_code == 200 and "Connection denied" in resp.text
    again = portal.post(f"/login/{code}", data={"csrf_token": portal.csrf(), "action": "approve"})
    assert again.status_code == 410
    assert links.consume(code) is None and links.wait(code, timeout=1, interval=0.05) is None


def test_expired_link_cannot_be_approved(bastion: BastionProc, links: LoginLinks) -> None:
    code = links.open("ssh", "shop-db", "203.0.113.9:40025")
    with links.store.engine.begin() as conn:
        conn.execute(login_links.update().where(login_links.c.code == code).values(expires_at=time.time() - 1))
    portal = Portal(bastion)
    page = sign_in_through(portal, code)
    assert "expired" in page and 'id="approve"' not in page
    resp = portal.post(f"/login/{code}", data={"csrf_token": portal.csrf(), "action": "approve"})
    assert resp.status_code == 410 and links.consume(code) is None


def test_approve_needs_csrf(bastion: BastionProc, links: LoginLinks) -> None:
    code = links.open("ssh", "shop-db", "203.0.113.9:40026")
    portal = Portal(bastion)
    sign_in_through(portal, code)
    assert portal.post(f"/login/{code}", data={"action": "approve"}).status_code == 403
    assert links.get(code).status == "pending"  # type: ignore[union-attr]
