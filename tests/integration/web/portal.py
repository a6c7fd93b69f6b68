"""A browser-less portal user: SP-initiated SAML login against the real IdP with ``requests``."""

from __future__ import annotations

import html
import json
import re
import time
from typing import Any

import requests

from bastion.demo.idp import DEMO_USERS
from tests.integration.conftest import BastionProc, wait_for

PASSWORDS = {u.username: u.password for u in DEMO_USERS}
_HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


class Portal:
    """One user agent (its own cookie jar, shared by the bastion and the IdP like a browser's)."""

    def __init__(self, bastion: BastionProc | None, base: str | None = None) -> None:
        """A user agent for ``bastion``'s portal, or for the portal at ``base`` (a load balancer)."""
        self.bastion = bastion
        assert bastion is not None or base is not None
        self.base = base or f"http://127.0.0.1:{bastion.ports['web']}"  # type: ignore[union-attr]
        self.http = requests.Session()

    def idp_answer(self, user: str = "alice", next_path: str = "/") -> dict[str, str]:
        """Start a login and sign in at the IdP; the fields its auto-post form would send to the ACS."""
        resp = self.http.get(f"{self.base}/saml/login", params={"next": next_path}, timeout=10)
        if 'name="AuthState"' in resp.text:  # no IdP session yet: the login form
            state = html.unescape(re.search(r'name="AuthState" value="([^"]+)"', resp.text).group(1))  # type: ignore[union-attr]
            resp = self.http.post(resp.url.split("?")[0], timeout=10,
                                  data={"username": user, "password": PASSWORDS[user], "AuthState": state})
        return self.auto_post_fields(resp.text)

    def auto_post_fields(self, page: str) -> dict[str, str]:
        action = re.search(r'<form method="post"\s+action="([^"]+)"', page)
        assert action is not None, f"no SAML POST form from the IdP:\n{page[:2000]}"
        assert html.unescape(action.group(1)) == f"{self.base}/saml/acs"
        return {html.unescape(k): html.unescape(v) for k, v in _HIDDEN.findall(page)}

    def post_acs(self, fields: dict[str, str], http: requests.Session | None = None) -> requests.Response:
        return (http or self.http).post(f"{self.base}/saml/acs", data=fields, allow_redirects=False, timeout=10)

    def login(self, user: str = "alice", next_path: str = "/") -> requests.Response:
        resp = self.post_acs(self.idp_answer(user, next_path))
        assert resp.status_code == 303, resp.text
        return resp

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(f"{self.base}{path}", timeout=10, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        return self.http.post(f"{self.base}{path}", timeout=10, **kw)

    def me(self) -> requests.Response:
        return self.get("/api/v1/me")

    def csrf(self) -> str:
        return str(self.me().json()["csrf_token"])


def rejection_logged(bastion: BastionProc, page: str) -> dict[str, Any]:
    """The ``bastion.saml`` log record whose reference the 403 page shows."""
    ref = re.search(r'id="error-ref">([0-9a-f]+)<', page)
    assert ref is not None, f"no reference on the page:\n{page[:1500]}"

    def find() -> dict[str, Any] | None:
        for line in bastion.log_text().splitlines():
            if line.startswith("{") and f'"ref": "{ref.group(1)}"' in line:  # type: ignore[union-attr]
                record = json.loads(line)
                if record.get("logger") == "bastion.saml":
                    return dict(record)
        return None

    record = wait_for(find, timeout=5)
    assert record is not None, f"no log record for ref {ref.group(1)}"
    return record


def pending_id(portal: Portal, needle: str, timeout: float = 10) -> str:
    """The id of the pending approval request whose statement contains ``needle``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page = portal.get("/approvals").text
        for match in re.finditer(r'data-approval-id="(REQ-[0-9A-F]+)".*?<code class="statement">([^<]*)', page, re.S):
            if needle in match.group(2):
                return match.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no pending request with {needle!r}")
