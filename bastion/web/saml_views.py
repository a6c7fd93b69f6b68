"""SAML endpoints: SP metadata, SP-initiated login, ACS, single logout; the session they start.

Every refused response is logged on ``bastion.saml`` with its reason and a reference the
user sees on the 403 page, recorded as a ``web.login`` audit event, and never touches
the session cookie.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import cast

from flask import Blueprint, Response, current_app, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from bastion.web import actions
from bastion.web.auth import ctx, roles_for, session_principal, start_session
from bastion.web.saml_sp import IdPUnavailable, SAMLRejected, SAMLService
from bastion.web.security import safe_next

bp = Blueprint("saml", __name__)
log = logging.getLogger("bastion.saml")

USER_MESSAGES = {
    "replayed": "This sign-in response was already used. Please sign in again.",
    "unsolicited": "This sign-in was not started at the bastion. Please start it here.",
    "unknown_request": "This sign-in was not started here, or it took too long. Please sign in again.",
    "expired": "The sign-in response has expired (or the clocks of the bastion and the identity provider "
               "disagree). Please sign in again.",
    "not_yet_valid": "The sign-in response is not valid yet (the clocks of the bastion and the identity "
                     "provider disagree).",
    "no_user_id": "The identity provider did not say who you are (no user id attribute).",
}
DEFAULT_MESSAGE = "The identity provider's response could not be verified."

View = Response | WerkzeugResponse | str | tuple[str, int]


def service() -> SAMLService | None:
    return cast(SAMLService | None, current_app.extensions.get("bastion.saml"))


def _unavailable(detail: str) -> tuple[str, int]:
    return render_template("error.html", code=503, title="Sign-in unavailable", message=detail), 503


def _need_service() -> SAMLService:
    svc = service()
    if svc is None:
        raise IdPUnavailable("SAML is not configured (no saml section in the configuration)")
    return svc


@bp.get("/saml/metadata")
def metadata() -> View:
    svc = service()
    if svc is None:
        return _unavailable("SAML is not configured.")
    return Response(svc.metadata(), mimetype="application/samlmetadata+xml")


@bp.get("/saml/login")
def login() -> View:
    target = safe_next(request.args.get("next"))
    try:
        url = _need_service().login(target)
    except IdPUnavailable as exc:
        log.error("sign-in unavailable", extra={"error": str(exc)})
        return _unavailable("The identity provider cannot be reached right now. Please try again in a minute.")
    return redirect(url, code=302)


@bp.post("/saml/acs")
def acs() -> View:
    ref = secrets.token_hex(6)
    client = request.remote_addr
    try:
        svc = _need_service()
        signin = svc.consume({k: str(v) for k, v in request.form.items()})
    except IdPUnavailable as exc:
        log.error("sign-in unavailable", extra={"error": str(exc), "ref": ref})
        return _unavailable("The identity provider cannot be reached right now. Please try again in a minute.")
    except SAMLRejected as exc:
        log.warning("SAML response rejected: %s", exc.reason,
                    extra={"ref": ref, "code": exc.code, "reason": exc.reason, "client": client})
        actions.audit(ctx(), "web.login", None, client, result="refused", code=exc.code, reason=exc.reason, ref=ref)
        message = USER_MESSAGES.get(exc.code, DEFAULT_MESSAGE)
        return render_template("error.html", code=403, title="Sign-in refused", message=message, ref=ref,
                               retry=True), 403
    identity = signin.identity
    saml_cfg = svc.cfg
    roles = roles_for(identity.groups, saml_cfg.roles)
    expires = time.time() + saml_cfg.session_lifetime
    if signin.session_not_on_or_after is not None:
        expires = min(expires, signin.session_not_on_or_after)
    start_session(identity, roles, expires, {
        "name_id": signin.name_id, "format": signin.name_id_format, "nq": signin.name_id_nq,
        "spnq": signin.name_id_spnq, "index": signin.session_index})
    ctx().users.remember(identity, roles)
    log.info("signed in", extra={"user": identity.subject, "groups": sorted(identity.groups), "roles": sorted(roles),
                                 "assertion": signin.assertion_id, "client": client})
    actions.audit(ctx(), "web.login", None, client, result="ok", user=identity.subject,
                  groups=sorted(identity.groups), roles=sorted(roles), assertion=signin.assertion_id)
    return redirect(safe_next(signin.relay_state), code=303)


@bp.get("/saml/sls")
def sls() -> View:
    svc = service()
    if svc is None:
        return _unavailable("SAML is not configured.")
    principal = session_principal()
    slo = session.get("slo") or {}
    try:
        outcome = svc.single_logout({k: str(v) for k, v in request.args.items()}, slo.get("name_id"))
    except IdPUnavailable:
        return _unavailable("The identity provider cannot be reached right now.")
    except SAMLRejected as exc:
        ref = secrets.token_hex(6)
        log.warning("SAML logout message rejected: %s", exc.reason, extra={"ref": ref, "code": exc.code,
                                                                          "reason": exc.reason})
        return render_template("error.html", code=400, title="Sign-out message refused",
                               message="The identity provider's sign-out message could not be verified.",
                               ref=ref), 400
    if outcome.end_session:
        if principal is not None:
            log.info("signed out by the IdP", extra={"user": principal.subject})
        session.clear()
    if outcome.redirect:
        return redirect(outcome.redirect, code=302)
    return render_template("signed_out.html")


@bp.get("/logout")
def logout_page() -> View:
    if session_principal() is None:
        return redirect(url_for("portal.home"))
    return render_template("logout.html")


@bp.post("/logout")
def logout() -> View:
    principal = session_principal()
    slo = session.get("slo") or {}
    session.clear()
    if principal is None:
        return redirect(url_for("portal.home"), code=303)
    log.info("signed out", extra={"user": principal.subject})
    actions.audit(ctx(), "web.logout", principal, request.remote_addr)
    svc = service()
    if svc is not None and slo.get("name_id"):
        try:
            url = svc.logout("/", slo.get("name_id"), slo.get("format"), slo.get("nq"), slo.get("spnq"),
                             slo.get("index"))
        except IdPUnavailable:
            url = None
        if url:
            return redirect(url, code=303)
    return render_template("signed_out.html")
