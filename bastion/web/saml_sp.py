"""The SAML 2.0 Service Provider on python3-saml, without Flask (its endpoints are ``saml_views.py``).

Theory of operation
-------------------
*Login.* ``login`` builds an AuthnRequest (HTTP-Redirect binding) and stores its ID in
the state store table ``saml_requests`` for ``saml.login_timeout`` seconds. The state
store, not the browser's cookie, binds the answer to the request: the IdP's POST back is
often cross-site and a ``SameSite=Lax`` cookie is not sent with it.

*Response.* ``consume`` validates the ``SAMLResponse`` with python3-saml in strict mode
(XML schema, signatures on Response and/or Assertion, exactly one assertion, the signed
element found by its signature reference — which is what defeats signature wrapping —,
issuer, SubjectConfirmation, Conditions) and then applies the bastion's own, stricter
checks, each rejection naming a ``code``:

* ``wrong_destination`` — Destination must be present and be our ACS URL exactly;
* ``wrong_recipient`` — a bearer SubjectConfirmationData must name our ACS URL exactly
  (python3-saml only checks a substring);
* ``wrong_audience`` — an AudienceRestriction must exist and every one must name us;
* ``not_yet_valid`` / ``expired`` — Conditions NotBefore/NotOnOrAfter with
  ``saml.clock_skew`` (python3-saml's own tolerance is a fixed 300 s);
* ``no_expiry`` — an assertion without NotOnOrAfter cannot be bounded in the replay cache;
* ``replayed`` — each assertion ID is accepted once (table ``saml_assertions``);
* ``unsolicited`` — no InResponseTo, refused unless ``saml.allow_unsolicited``;
* ``unknown_request`` — InResponseTo must name an outstanding AuthnRequest we issued;
  it is consumed, so one request yields at most one session.

Everything python3-saml refuses is reported as ``invalid`` with its message.

*Metadata.* Ours and the IdP's, merged into python3-saml settings: see
:mod:`bastion.web.saml_settings`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from onelogin.saml2.auth import OneLogin_Saml2_Auth
from onelogin.saml2.constants import OneLogin_Saml2_Constants
from onelogin.saml2.errors import OneLogin_Saml2_Error, OneLogin_Saml2_ValidationError
from onelogin.saml2.logout_request import OneLogin_Saml2_Logout_Request
from onelogin.saml2.logout_response import OneLogin_Saml2_Logout_Response
from onelogin.saml2.response import OneLogin_Saml2_Response

from bastion.config.model import SAMLConfig
from bastion.core.types import Identity
from bastion.state.store import StateStore, saml_assertions, saml_requests
from bastion.web import saml_checks as checks
from bastion.web.saml_checks import SAMLRejected
from bastion.web.saml_settings import IdPUnavailable, SPSettings

__all__ = ["IdPUnavailable", "LogoutOutcome", "SAMLLogin", "SAMLRejected", "SAMLService", "valid_user_id"]

log = logging.getLogger("bastion.saml")

REPLAY_MARGIN = 300 + 60
"""Replay-cache rows outlive the assertion by python3-saml's own drift plus a minute."""
TRANSIENT = OneLogin_Saml2_Constants.NAMEID_TRANSIENT


@dataclass(frozen=True)
class SAMLLogin:
    """A validated sign-in: who, and what single logout needs later."""

    identity: Identity
    name_id: str | None
    name_id_format: str | None
    name_id_nq: str | None
    name_id_spnq: str | None
    session_index: str | None
    session_not_on_or_after: float | None
    relay_state: str
    assertion_id: str


@dataclass(frozen=True)
class LogoutOutcome:
    """What ``/saml/sls`` does: ``redirect`` (to the IdP) and whether to end our session."""

    redirect: str | None
    end_session: bool
    kind: str
    """``response`` (our logout finished at the IdP) or ``request`` (IdP-initiated)."""


def _first(values: Any) -> str:
    if isinstance(values, list | tuple):
        return str(values[0]).strip() if values else ""
    return str(values or "").strip()


def valid_user_id(value: str) -> bool:
    return 0 < len(value) <= 255 and value.isprintable() and not any(c.isspace() for c in value)


class SAMLService(SPSettings):
    """One per web app: settings built once from config and the IdP metadata (see
    :class:`bastion.web.saml_settings.SPSettings`), sign-in and single logout."""

    def __init__(self, cfg: SAMLConfig, store: StateStore) -> None:
        self.store = store
        super().__init__(cfg)

    def request_data(self, path: str, get: dict[str, str] | None = None,
                     post: dict[str, str] | None = None) -> dict[str, Any]:
        """python3-saml's view of the request, built from ``sp_base_url`` (never from the
        Host header): the URL it checks Destination and Recipient against is our public one."""
        url = urlsplit(self.cfg.base_url)
        return {"https": "on" if url.scheme == "https" else "off", "http_host": url.netloc,
                "script_name": url.path.rstrip("/") + path, "get_data": dict(get or {}),
                "post_data": dict(post or {})}

    # ------------------------------------------------------------------ login

    def login(self, relay_state: str) -> str:
        """URL of the IdP with a fresh AuthnRequest; its ID is remembered until it expires."""
        auth = OneLogin_Saml2_Auth(self.request_data("/saml/login"), self.settings())
        url = str(auth.login(return_to=relay_state))
        self._remember_request(str(auth.get_last_request_id()))
        return url

    def _remember_request(self, request_id: str) -> None:
        self.store.remember_once(saml_requests, request_id, time.time() + self.cfg.login_timeout)

    def _consume_request(self, request_id: str) -> bool:
        with self.store.engine.begin() as conn:
            result = conn.execute(saml_requests.delete().where(saml_requests.c.id == request_id,
                                                               saml_requests.c.expires_at > time.time()))
        return bool(result.rowcount)

    def consume(self, post: dict[str, str]) -> SAMLLogin:
        """Validate a POSTed SAMLResponse; the sign-in, or :class:`SAMLRejected`."""
        encoded = post.get("SAMLResponse", "")
        if not encoded:
            raise SAMLRejected("missing", "no SAMLResponse in the POST")
        settings = self.settings()
        try:
            response = OneLogin_Saml2_Response(settings, encoded)
        except Exception as exc:  # noqa: BLE001 - any parse failure is a rejection
            raise SAMLRejected("malformed", f"unreadable SAMLResponse: {type(exc).__name__}: {exc}") from None
        try:
            response.is_valid(self.request_data("/saml/acs", post=post), raise_exceptions=True)
        except OneLogin_Saml2_ValidationError as exc:
            raise SAMLRejected("invalid", f"{exc} (python3-saml code {exc.code})") from None
        except Exception as exc:  # noqa: BLE001
            raise SAMLRejected("invalid", f"{type(exc).__name__}: {exc}") from None
        now = time.time()
        checks.destination(response, self.acs_url)
        scd = checks.recipient(response, self.acs_url)
        checks.audience(response, self.cfg.entity_id)
        expires = checks.conditions(response, scd, now, self.cfg.clock_skew)
        assertion_id = str(response.get_assertion_id() or "")
        if not assertion_id:
            raise SAMLRejected("invalid", "the assertion has no ID")
        if not self.store.remember_once(saml_assertions, assertion_id, expires + REPLAY_MARGIN):
            raise SAMLRejected("replayed", f"assertion {assertion_id} was already used")
        self._check_in_response_to(response, scd)
        self.store.purge_expired(now)
        return self._login_from(response, post.get("RelayState", ""), assertion_id, now)

    def _check_in_response_to(self, response: OneLogin_Saml2_Response, scd: Any) -> None:
        outer, inner = response.get_in_response_to(), scd.get("InResponseTo")
        if outer and inner and outer != inner:
            raise SAMLRejected("unknown_request", f"InResponseTo differs: Response {outer!r}, assertion {inner!r}")
        request_id = outer or inner
        if not request_id:
            if self.cfg.allow_unsolicited:
                return
            raise SAMLRejected("unsolicited", "unsolicited response (no InResponseTo) and "
                                              "saml.allow_unsolicited is off")
        if not self._consume_request(request_id):
            raise SAMLRejected("unknown_request", f"InResponseTo {request_id!r} names no outstanding "
                                                  "AuthnRequest of ours (unknown, expired or already answered)")

    def _login_from(self, response: OneLogin_Saml2_Response, relay_state: str, assertion_id: str,
                    now: float) -> SAMLLogin:
        attributes = response.get_attributes()
        names = self.cfg.attribute_names
        user_id = _first(attributes.get(names["user_id"]))
        name_id = response.get_nameid()
        name_id_format = response.get_nameid_format()
        if not user_id:
            if not name_id or name_id_format == TRANSIENT:
                raise SAMLRejected("no_user_id", f"the assertion has no {names['user_id']!r} attribute "
                                                 "and no persistent NameID")
            user_id = str(name_id)
        if not valid_user_id(user_id):
            raise SAMLRejected("no_user_id", f"user id {user_id[:80]!r} is empty, too long or has spaces")
        groups = attributes.get(names["groups"]) or []
        identity = Identity(
            subject=user_id, email=_first(attributes.get(names["email"])),
            groups=frozenset(str(g).strip() for g in groups if str(g).strip()),
            display_name=_first(attributes.get(names["display_name"])) or user_id,
            idp="saml", authenticated_at=now)
        session_end = response.get_session_not_on_or_after()
        return SAMLLogin(identity=identity, name_id=name_id, name_id_format=name_id_format,
                         name_id_nq=response.get_nameid_nq(), name_id_spnq=response.get_nameid_spnq(),
                         session_index=response.get_session_index(),
                         session_not_on_or_after=float(session_end) if session_end else None,
                         relay_state=relay_state, assertion_id=assertion_id)

    # ------------------------------------------------------------------ logout

    def logout(self, relay_state: str, name_id: str | None, name_id_format: str | None,
               nq: str | None, spnq: str | None, session_index: str | None) -> str | None:
        """IdP URL with a LogoutRequest, or None when the IdP has no single logout."""
        settings = self.settings()
        if not (settings.get_idp_data().get("singleLogoutService") or {}).get("url"):
            return None
        auth = OneLogin_Saml2_Auth(self.request_data("/logout"), settings)
        url = str(auth.logout(return_to=relay_state, name_id=name_id, session_index=session_index, nq=nq,
                              name_id_format=name_id_format, spnq=spnq))
        self._remember_request(str(auth.get_last_request_id()))
        return url

    def single_logout(self, get: dict[str, str], session_name_id: str | None) -> LogoutOutcome:
        """Handle ``/saml/sls``: the IdP's LogoutResponse to us, or its own LogoutRequest."""
        settings = self.settings()
        auth = OneLogin_Saml2_Auth(self.request_data("/saml/sls", get=get), settings)
        if "SAMLResponse" in get:
            try:
                answer = OneLogin_Saml2_Logout_Response(settings, get["SAMLResponse"])
                request_id = answer.document.get("InResponseTo")
            except Exception as exc:  # noqa: BLE001
                raise SAMLRejected("malformed", f"unreadable LogoutResponse: {exc}") from None
            if not request_id or not self._consume_request(request_id):
                raise SAMLRejected("unknown_request", f"LogoutResponse to {request_id!r}, which we did not send")
            auth.process_slo(keep_local_session=True, request_id=request_id)
            if auth.get_errors():
                raise SAMLRejected("invalid", f"LogoutResponse: {auth.get_errors()} {auth.get_last_error_reason()}")
            return LogoutOutcome(None, True, "response")
        if "SAMLRequest" in get:
            try:
                redirect = auth.process_slo(keep_local_session=True)
            except OneLogin_Saml2_Error as exc:
                raise SAMLRejected("invalid", f"LogoutRequest: {exc}") from None
            if auth.get_errors():
                raise SAMLRejected("invalid", f"LogoutRequest: {auth.get_errors()} {auth.get_last_error_reason()}")
            name_id = OneLogin_Saml2_Logout_Request.get_nameid(auth.get_last_request_xml())
            # only the session the IdP names ends: a forged or stale request cannot log others out
            return LogoutOutcome(str(redirect) if redirect else None,
                                 bool(session_name_id) and name_id == session_name_id, "request")
        raise SAMLRejected("missing", "no SAMLRequest or SAMLResponse")
