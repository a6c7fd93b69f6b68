"""SAML SP in-process: metadata, login, the ACS accepting one good response and refusing
every bad one with a logged reason and no session."""

from __future__ import annotations

import base64
import copy
import logging
import time
from typing import Any

import pytest
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from bastion.state.store import saml_requests
from tests.samlkit import XSW_VARIANTS, TestIdP, decode, encode, resign, set_attribute, set_conditions, strip_signatures
from tests.unit.bastion.web.conftest import ACS, BASE, ENTITY, Web


def signed_in(web: Web, client: Any = None) -> bool:
    return (client or web.client).get("/api/v1/me").status_code == 200


def assert_rejected(web: Web, resp: Any, caplog: pytest.LogCaptureFixture, code: str, reason: str = "",
                    client: Any = None) -> None:
    assert resp.status_code == 403, resp.data
    assert b"Sign-in refused" in resp.data
    assert "Set-Cookie" not in resp.headers, "a refused sign-in must not set a cookie"
    assert not signed_in(web, client)
    records = [r for r in caplog.records if r.name == "bastion.saml" and getattr(r, "code", None)]
    assert records, "no rejection logged"
    last = records[-1]
    assert last.levelno == logging.WARNING
    assert last.code == code, (last.code, last.reason)
    assert reason.lower() in last.reason.lower(), last.reason
    ref = last.ref
    assert ref.encode() in resp.data, "the page shows the logged reference"
    assert web.sink.events[-1].type == "web.login" and web.sink.events[-1].data["result"] == "refused"


# --------------------------------------------------------------------------- metadata & login


def test_sp_metadata(web: Web) -> None:
    resp = web.client.get("/saml/metadata")
    assert resp.status_code == 200
    body = resp.data.decode()
    assert f'entityID="{ENTITY}"' in body
    assert f'Location="{ACS}"' in body and f'Location="{BASE}/saml/sls"' in body


def test_login_redirects_to_idp_and_remembers_the_request(web: Web) -> None:
    resp = web.client.get("/saml/login?next=/tokens")
    assert resp.status_code == 302
    assert resp.headers["Location"].startswith("https://idp.test/sso?SAMLRequest=")
    assert "RelayState=%2Ftokens" in resp.headers["Location"]
    rid = web.start_login()
    with web.ctx.store.engine.begin() as conn:
        row = conn.execute(saml_requests.select().where(saml_requests.c.id == rid)).first()
    assert row is not None and row.expires_at > time.time() + 500


@pytest.mark.parametrize("next_path", ["https://evil.example/", "//evil.example/x", "/\\evil", "javascript:x"])
def test_relay_state_never_redirects_off_site(web: Web, next_path: str) -> None:
    rid = web.start_login()
    resp = web.post_acs(web.response_for(rid), relay_state=next_path)
    assert resp.status_code == 303 and resp.headers["Location"] == "/"


# --------------------------------------------------------------------------- accepted


def test_login_alice_two_groups(web: Web) -> None:
    resp = web.login("alice", ("dba", "admins"), next_path="/tokens", display_name="Alice DBA")
    assert resp.headers["Location"] == "/tokens"
    cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("bastion_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http portal
    me = web.client.get("/api/v1/me").get_json()
    assert me["subject"] == "alice" and me["display_name"] == "Alice DBA"
    assert me["groups"] == ["admins", "dba"] and me["roles"] == ["admin", "user"]
    targets = {t["name"]: t for t in web.client.get("/api/v1/targets").get_json()["targets"]}
    assert set(targets) == {"shop-db", "demo-host"}
    assert targets["shop-db"]["account"] == "admin" and targets["shop-db"]["rule"] == "dba-admin"
    # identity refreshed in the directory at every login
    identity = web.ctx.users.get("alice")
    assert identity is not None and identity.groups == frozenset({"dba", "admins"})
    web.login("alice", ("dba",), client=web.new_client())
    assert web.ctx.users.get("alice").groups == frozenset({"dba"})  # type: ignore[union-attr]
    assert [e.data["result"] for e in web.sink.events if e.type == "web.login"] == ["ok", "ok"]


def test_login_bob_developer(web: Web) -> None:
    web.login("bob", ("developers",))
    me = web.client.get("/api/v1/me").get_json()
    assert me["roles"] == ["user"]
    targets = web.client.get("/api/v1/targets").get_json()["targets"]
    assert [(t["name"], t["account"]) for t in targets] == [("shop-db", "readonly")]
    assert targets[0]["usernames"] == ["shop-db", "shop-db/ro", "shop-db/readonly"]


def test_session_ends_with_idp_session_not_on_or_after(web: Web) -> None:
    web.login(session_not_on_or_after=time.time() + 120)
    me = web.client.get("/api/v1/me").get_json()
    assert me["expires_at"] <= time.time() + 121


def test_session_lifetime_is_enforced_server_side(web: Web) -> None:
    web.login()
    with web.client.session_transaction() as sess:
        sess["exp"] = time.time() - 1
    assert web.client.get("/api/v1/me").status_code == 401
    assert web.client.get("/").data.count(b"Sign in with SSO") == 1


def test_unsolicited_accepted_only_when_allowed(make_web: Any, caplog: pytest.LogCaptureFixture) -> None:
    web = make_web({"allow_unsolicited": True})
    resp = web.post_acs(web.response_for(None))
    assert resp.status_code == 303 and signed_in(web)


def test_missing_user_id_with_persistent_name_id_falls_back(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    root = web.idp.response(acs=ACS, audience=ENTITY, in_response_to=rid, sign="none")
    uid = root.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}Attribute[@Name='uid']")
    uid.getparent().remove(uid)
    resp = web.post_acs(encode(resign(root, web.idp.key_pem, web.idp.cert_pem)))
    assert_rejected(web, resp, caplog, "no_user_id", "no 'uid' attribute")


# --------------------------------------------------------------------------- refused


def test_tampered_attribute(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    root = decode(web.response_for(rid, user="bob", groups=("developers",)))
    set_attribute(root, "eduPersonAffiliation", ["developers", "admins"])
    assert_rejected(web, web.post_acs(encode(root)), caplog, "invalid", "signature validation failed")


def test_unsigned(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    root = strip_signatures(decode(web.response_for(rid)))
    assert_rejected(web, web.post_acs(encode(root)), caplog, "invalid", "not signed")


def test_only_response_signed_when_assertions_must_be_signed(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    resp = web.post_acs(web.response_for(rid, sign="response"))
    assert_rejected(web, resp, caplog, "invalid", "assertion of the response is not signed")


@pytest.mark.parametrize("variant", sorted(XSW_VARIANTS))
def test_signature_wrapping(web: Web, caplog: pytest.LogCaptureFixture, variant: str) -> None:
    rid = web.start_login()
    root = XSW_VARIANTS[variant](decode(web.response_for(rid, user="bob", groups=("developers",))))
    assert_rejected(web, web.post_acs(encode(root)), caplog, "invalid")
    assert web.ctx.users.get("mallory") is None


def test_replayed(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    saml = web.response_for(rid)
    assert web.post_acs(saml).status_code == 303
    other = web.new_client()
    assert_rejected(web, web.post_acs(saml, client=other), caplog, "replayed", "already used", client=other)


def test_second_response_to_the_same_request(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    assert web.post_acs(web.response_for(rid)).status_code == 303
    other = web.new_client()
    resp = web.post_acs(web.response_for(rid), client=other)
    assert_rejected(web, resp, caplog, "unknown_request", "no outstanding", client=other)


@pytest.mark.parametrize(("offsets", "code", "reason"), [
    ({"not_on_or_after": -3600, "scd_not_on_or_after": -3600}, "invalid", "expired"),
    ({"not_on_or_after": -120, "scd_not_on_or_after": 300}, "expired", "has passed"),
    ({"not_before": 200, "not_on_or_after": 600, "scd_not_on_or_after": 600}, "not_yet_valid", "in the future"),
])
def test_expired_or_not_yet_valid(web: Web, caplog: pytest.LogCaptureFixture, offsets: dict[str, int],
                                  code: str, reason: str) -> None:
    rid = web.start_login()
    now = time.time()
    resp = web.post_acs(web.response_for(rid, **{k: now + v for k, v in offsets.items()}))
    assert_rejected(web, resp, caplog, code, reason)


def test_within_clock_skew_is_accepted(web: Web) -> None:
    rid = web.start_login()
    now = time.time()
    resp = web.post_acs(web.response_for(rid, not_before=now + 30, not_on_or_after=now + 600))
    assert resp.status_code == 303


def test_wrong_audience(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    resp = web.post_acs(web.response_for(rid, audience="https://other-sp.example/metadata"))
    assert_rejected(web, resp, caplog, "invalid", "not a valid audience")


def test_missing_audience(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    root = web.idp.response(acs=ACS, audience=ENTITY, in_response_to=rid, sign="none")
    ar = root.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}AudienceRestriction")
    ar.getparent().remove(ar)
    resp = web.post_acs(encode(resign(root, web.idp.key_pem, web.idp.cert_pem)))
    assert_rejected(web, resp, caplog, "wrong_audience", "no AudienceRestriction")


def test_wrong_destination(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    resp = web.post_acs(web.response_for(rid, destination="https://other-sp.example/saml/acs"))
    assert_rejected(web, resp, caplog, "invalid", "received at")


def test_missing_destination(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    root = web.idp.response(acs=ACS, audience=ENTITY, in_response_to=rid, sign="none")
    del root.attrib["Destination"]
    resp = web.post_acs(encode(resign(root, web.idp.key_pem, web.idp.cert_pem)))
    assert_rejected(web, resp, caplog, "wrong_destination", "is not")


def test_recipient_must_match_exactly(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    # python3-saml accepts any Recipient that *contains* the ACS URL
    rid = web.start_login()
    resp = web.post_acs(web.response_for(rid, recipient=f"https://evil.example/?{ACS}"))
    assert_rejected(web, resp, caplog, "wrong_recipient", "no bearer SubjectConfirmation")


def test_unsolicited(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    assert_rejected(web, web.post_acs(web.response_for(None)), caplog, "unsolicited", "allow_unsolicited is off")


def test_unknown_request_id(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    resp = web.post_acs(web.response_for("ONELOGIN_forged"))
    assert_rejected(web, resp, caplog, "unknown_request", "no outstanding")


def test_expired_request_id(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    with web.ctx.store.engine.begin() as conn:
        conn.execute(saml_requests.update().values(expires_at=time.time() - 1))
    assert_rejected(web, web.post_acs(web.response_for(rid)), caplog, "unknown_request")


def test_in_response_to_differs_between_response_and_assertion(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid, other = web.start_login(), web.start_login()
    root = web.idp.response(acs=ACS, audience=ENTITY, in_response_to=rid, sign="none")
    root.set("InResponseTo", other)
    resp = web.post_acs(encode(resign(root, web.idp.key_pem, web.idp.cert_pem)))
    assert_rejected(web, resp, caplog, "invalid", "subjectconfirmation")


def test_wrong_idp_certificate(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    impostor = TestIdP.generate(web.idp.entity_id)
    resp = web.post_acs(encode(impostor.response(acs=ACS, audience=ENTITY, in_response_to=rid)))
    assert_rejected(web, resp, caplog, "invalid", "signature validation failed")


def test_wrong_issuer(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    other = TestIdP("https://other-idp.example/", web.idp.key_pem, web.idp.cert_pem)
    resp = web.post_acs(encode(other.response(acs=ACS, audience=ENTITY, in_response_to=rid)))
    assert_rejected(web, resp, caplog, "invalid", "invalid issuer")


def test_sha1_signatures_refused(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    root = decode(web.response_for(rid, sign="none"))
    xml = OneLogin_Saml2_Utils.add_sign(root, web.idp.key_pem.decode(), web.idp.cert_pem.decode(),
                                        sign_algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                                        digest_algorithm="http://www.w3.org/2000/09/xmldsig#sha1")
    resp = web.post_acs(base64.b64encode(xml).decode())
    assert_rejected(web, resp, caplog, "invalid", "deprecated")


@pytest.mark.parametrize("body", [{}, {"SAMLResponse": "not base64 !!"}, {"SAMLResponse": "PGZvbz4="}])
def test_garbage(web: Web, caplog: pytest.LogCaptureFixture, body: dict[str, str]) -> None:
    resp = web.client.post("/saml/acs", data=body)
    assert resp.status_code == 403 and not signed_in(web)


def test_audience_is_checked_per_restriction(web: Web, caplog: pytest.LogCaptureFixture) -> None:
    rid = web.start_login()
    root = web.idp.response(acs=ACS, audience=ENTITY, in_response_to=rid, sign="none")
    cond = root.find(".//{urn:oasis:names:tc:SAML:2.0:assertion}Conditions")
    extra = copy.deepcopy(cond[0])
    extra[0].text = "https://someone-else.example/"
    cond.append(extra)
    resp = web.post_acs(encode(resign(root, web.idp.key_pem, web.idp.cert_pem)))
    assert_rejected(web, resp, caplog, "wrong_audience", "does not include")


def test_set_conditions_helper_keeps_tests_honest(web: Web) -> None:
    """Re-signing after an edit (what the integration tests do with the real IdP's key) is accepted."""
    rid = web.start_login()
    root = decode(web.response_for(rid))
    set_conditions(root, not_on_or_after=time.time() + 100)
    resp = web.post_acs(encode(resign(root, web.idp.key_pem, web.idp.cert_pem)))
    assert resp.status_code == 303


def test_comment_injection_does_not_truncate_the_user_id(web: Web) -> None:
    """CVE-2017-11427 class: ``bob<!---->.evil`` must stay ``bob.evil``, never become ``bob``."""
    from tests.samlkit import comment_injection

    rid = web.start_login()
    root = comment_injection(decode(web.response_for(rid, user="bob.evil", groups=("developers",))), split_at=3)
    resp = web.post_acs(encode(root))
    assert resp.status_code == 303  # the signature still covers the whole value (comments are not signed)
    assert web.client.get("/api/v1/me").get_json()["subject"] == "bob.evil"
    assert web.ctx.users.get("bob") is None


# --------------------------------------------------------------------------- IdP metadata


def test_bad_metadata_file_fails_start_up(tmp_path: Any, test_idp: TestIdP) -> None:
    from bastion.config.schema import ConfigError
    from tests.unit.bastion.web.conftest import build_web

    (tmp_path / "w").mkdir()
    web = build_web(tmp_path / "w", test_idp)
    web.ctx.store.dispose()
    (tmp_path / "w" / "idp.xml").write_text("<not-metadata/>")
    import bastion.web as webpkg

    with pytest.raises(ConfigError, match="saml.idp_metadata_file: .*no IdP entity"):
        webpkg.create_app(web.ctx)


def test_unreachable_metadata_url_gives_503_then_recovers(make_web: Any, monkeypatch: pytest.MonkeyPatch,
                                                          test_idp: TestIdP, caplog: pytest.LogCaptureFixture) -> None:
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    from bastion.web import saml_settings, saml_sp

    calls: list[str] = []

    def unreachable(self: Any) -> dict[str, Any]:
        calls.append("fetch")
        raise OSError("connection refused")

    monkeypatch.setattr(saml_sp.SAMLService, "_fetch", unreachable)
    web = make_web({"idp_metadata_file": None, "idp_metadata_url": "http://idp.invalid/metadata"})
    assert calls == ["fetch"]
    assert any("IdP metadata unavailable at start-up" in r.getMessage() for r in caplog.records)
    assert web.client.get("/healthz").status_code == 200
    resp = web.client.get("/saml/login")
    assert resp.status_code == 503 and b"cannot be reached" in resp.data
    assert calls == ["fetch"], "retries are spaced (RETRY_SECONDS)"
    monkeypatch.setattr(saml_settings, "RETRY_SECONDS", 0.0)
    web.app.extensions["bastion.saml"]._next_try = 0.0
    monkeypatch.setattr(saml_sp.SAMLService, "_fetch",
                        lambda self: OneLogin_Saml2_IdPMetadataParser.parse(test_idp.metadata()))
    assert web.client.get("/saml/login").status_code == 302


# --------------------------------------------------------------------------- single logout


def _name_id(web: Web, client: Any = None) -> str:
    with (client or web.client).session_transaction() as sess:
        return str(sess["slo"]["name_id"])


def test_idp_initiated_logout_ends_the_named_session(web: Web) -> None:
    from tests.samlkit import logout_request

    web.login()
    saml_request = logout_request(issuer=web.idp.entity_id, destination=f"{BASE}/saml/sls", name_id=_name_id(web))
    resp = web.client.get("/saml/sls", query_string={"SAMLRequest": saml_request, "RelayState": "x"})
    assert resp.status_code == 302 and resp.headers["Location"].startswith("https://idp.test/slo?SAMLResponse=")
    assert not signed_in(web)


def test_idp_initiated_logout_for_someone_else_keeps_the_session(web: Web) -> None:
    from tests.samlkit import logout_request

    web.login()
    saml_request = logout_request(issuer=web.idp.entity_id, destination=f"{BASE}/saml/sls", name_id="_other")
    resp = web.client.get("/saml/sls", query_string={"SAMLRequest": saml_request})
    assert resp.status_code == 302 and signed_in(web)


def test_logout_request_from_another_issuer_is_refused(web: Web) -> None:
    from tests.samlkit import logout_request

    web.login()
    saml_request = logout_request(issuer="https://evil.example/", destination=f"{BASE}/saml/sls",
                                  name_id=_name_id(web))
    resp = web.client.get("/saml/sls", query_string={"SAMLRequest": saml_request})
    assert resp.status_code == 400 and signed_in(web)


def test_logout_response_we_did_not_ask_for(web: Web) -> None:
    resp = web.client.get("/saml/sls", query_string={"SAMLResponse": "PGZvbz4="})
    assert resp.status_code == 400
    assert web.client.get("/saml/sls").status_code == 400
