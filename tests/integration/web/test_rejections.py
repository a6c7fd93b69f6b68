"""Refused SAML responses at the real bastion, each built from what the real IdP issued.

Every refusal must: answer 403, set no cookie, leave the user signed out, and be logged on
``bastion.saml`` with its reason under the reference the page shows. Where a response
must stay validly signed to reach the check under test (audience, destination, expiry),
it is re-signed with the test IdP's own key (a throwaway SimpleSAMLphp in the fixture).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from bastion.demo.idp import SimpleSAMLphp
from tests.integration.conftest import BastionProc
from tests.integration.web.portal import Portal, rejection_logged
from tests.samlkit import (
    XSW_VARIANTS,
    TestIdP,
    decode,
    encode,
    request_id_from_redirect,
    resign,
    set_attribute,
    set_conditions,
    strip_signatures,
)


def refused(bastion: BastionProc, portal: Portal, fields: dict[str, str], code: str, reason: str) -> dict[str, Any]:
    fresh = requests.Session()  # the browser that posts the forged answer has no session of its own
    resp = portal.post_acs(fields, http=fresh)
    assert resp.status_code == 403, resp.text[:500]
    assert "Sign-in refused" in resp.text
    assert "Set-Cookie" not in resp.headers
    assert fresh.get(f"{portal.base}/api/v1/me", timeout=10).status_code == 401
    record = rejection_logged(bastion, resp.text)
    assert record["level"] == "warning" and record["code"] == code, record
    assert reason.lower() in record["reason"].lower(), record["reason"]
    return record


def idp_key(idp: SimpleSAMLphp) -> tuple[bytes, bytes]:
    return (idp.workdir / "cert" / "idp.key").read_bytes(), idp.cert.read_bytes()


def with_change(idp: SimpleSAMLphp, fields: dict[str, str], **change: Any) -> dict[str, str]:
    root = set_conditions(decode(fields["SAMLResponse"]), **change)
    return {**fields, "SAMLResponse": encode(resign(root, *idp_key(idp)))}


def test_tampered_assertion(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    fields = portal.idp_answer("bob")
    root = set_attribute(decode(fields["SAMLResponse"]), "eduPersonAffiliation", ["developers", "admins"])
    refused(bastion, portal, {**fields, "SAMLResponse": encode(root)}, "invalid", "signature validation failed")


def test_unsigned_assertion(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    fields = portal.idp_answer("bob")
    root = strip_signatures(decode(fields["SAMLResponse"]))
    refused(bastion, portal, {**fields, "SAMLResponse": encode(root)}, "invalid", "not signed")


@pytest.mark.parametrize("variant", sorted(XSW_VARIANTS))
def test_signature_wrapping(bastion: BastionProc, variant: str) -> None:
    portal = Portal(bastion)
    fields = portal.idp_answer("bob")
    root = XSW_VARIANTS[variant](decode(fields["SAMLResponse"]))
    record = refused(bastion, portal, {**fields, "SAMLResponse": encode(root)}, "invalid", "")
    assert any(s in record["reason"] for s in ("1 assertion", "Signature validation failed",
                                              "invalid Signed Element", "signatures found")), record["reason"]
    assert "mallory" not in Portal(bastion).get("/api/v1/me").text


def test_replayed_response(bastion: BastionProc) -> None:
    portal = Portal(bastion)
    fields = portal.idp_answer("alice")
    assert portal.post_acs(fields).status_code == 303
    assert portal.me().status_code == 200
    refused(bastion, portal, fields, "replayed", "already used")


def test_expired_assertion(bastion: BastionProc, idp: SimpleSAMLphp) -> None:
    portal = Portal(bastion)
    past = time.time() - 3600
    fields = with_change(idp, portal.idp_answer("alice"), not_before=past - 60, not_on_or_after=past,
                         scd_not_on_or_after=past)
    refused(bastion, portal, fields, "invalid", "expired")


def test_expired_beyond_clock_skew(bastion: BastionProc, idp: SimpleSAMLphp) -> None:
    """Expired two minutes ago: within python3-saml's fixed 300 s drift, beyond saml.clock_skew (60 s)."""
    portal = Portal(bastion)
    fields = with_change(idp, portal.idp_answer("alice"), not_on_or_after=time.time() - 120)
    refused(bastion, portal, fields, "expired", "has passed")


def test_wrong_audience(bastion: BastionProc, idp: SimpleSAMLphp) -> None:
    portal = Portal(bastion)
    fields = with_change(idp, portal.idp_answer("alice"), audience="https://other-sp.example/metadata")
    refused(bastion, portal, fields, "invalid", "not a valid audience")


def test_wrong_destination(bastion: BastionProc, idp: SimpleSAMLphp) -> None:
    portal = Portal(bastion)
    fields = with_change(idp, portal.idp_answer("alice"), destination="https://other-sp.example/saml/acs")
    refused(bastion, portal, fields, "invalid", "received at")


def test_wrong_recipient(bastion: BastionProc, idp: SimpleSAMLphp) -> None:
    portal = Portal(bastion)
    fields = with_change(idp, portal.idp_answer("alice"), recipient=f"https://evil.example/{portal.base}/saml/acs")
    refused(bastion, portal, fields, "wrong_recipient", "no bearer SubjectConfirmation")


def test_unsolicited_response(bastion: BastionProc, idp: SimpleSAMLphp) -> None:
    """IdP-initiated SSO (SimpleSAMLphp's own unsolicited flow): validly signed, answers no request of ours."""
    portal = Portal(bastion)
    portal.login("alice")  # an IdP session, so the IdP answers at once
    page = portal.http.get(f"{idp.base}/saml2/idp/SSOService.php",
                           params={"spentityid": f"{portal.base}/saml/metadata", "RelayState": "/"}, timeout=10)
    fields = portal.auto_post_fields(page.text)
    assert "InResponseTo" not in decode(fields["SAMLResponse"]).attrib
    refused(bastion, portal, fields, "unsolicited", "allow_unsolicited is off")


def test_answer_to_a_request_we_never_sent(bastion: BastionProc, idp: SimpleSAMLphp) -> None:
    portal = Portal(bastion)
    root = decode(portal.idp_answer("alice")["SAMLResponse"])
    root.set("InResponseTo", "ONELOGIN_never_sent")
    root.find(".//{*}SubjectConfirmationData").set("InResponseTo", "ONELOGIN_never_sent")
    refused(bastion, portal, {"SAMLResponse": encode(resign(root, *idp_key(idp)))}, "unknown_request",
            "no outstanding")


def test_wrong_idp_certificate(bastion: BastionProc, idp: SimpleSAMLphp) -> None:
    """Same issuer, audience, destination and a real outstanding request — signed by another key."""
    portal = Portal(bastion)
    location = portal.get("/saml/login", allow_redirects=False).headers["Location"]
    impostor = TestIdP.generate(f"{idp.base}/saml2/idp/metadata.php")
    root = impostor.response(acs=f"{portal.base}/saml/acs", audience=f"{portal.base}/saml/metadata",
                             in_response_to=request_id_from_redirect(location), user="alice",
                             groups=("dba", "admins"))
    refused(bastion, portal, {"SAMLResponse": encode(root), "RelayState": "/"}, "invalid",
            "signature validation failed")
