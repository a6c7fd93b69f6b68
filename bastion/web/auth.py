"""Who is calling: a portal session (after SAML sign-in) or a bastion token (API only).

Roles: everyone signed in has ``user``; ``saml.roles`` maps the other roles (admin,
approver, auditor) to IdP groups. A token carries the groups of its owner as of its
issue, so the same mapping gives a token's roles.

Portal views use :func:`login_required` / :func:`role_required`; API views use
:func:`api_auth`. Other blueprints (approvals, audit) can use the same helpers.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for

from bastion.context import PluginContext
from bastion.core.types import Identity
from bastion.state.throttle import keys as throttle_keys

F = TypeVar("F", bound=Callable[..., Any])
SESSION_VERSION = 1


@dataclass(frozen=True)
class Principal:
    identity: Identity
    roles: frozenset[str]
    via: str
    """``session`` (portal sign-in) or ``token`` (``Authorization: Bearer``)."""
    expires_at: float
    token_id: str = ""

    @property
    def subject(self) -> str:
        return self.identity.subject

    def has(self, role: str) -> bool:
        return role in self.roles


def roles_for(groups: frozenset[str], role_map: Mapping[str, Sequence[str]]) -> frozenset[str]:
    """Bastion roles of a member of ``groups``: ``user`` plus every role naming one of them."""
    return frozenset({"user"} | {role for role, members in role_map.items() if groups & set(members)})


def ctx() -> PluginContext:
    return cast(PluginContext, current_app.config["BASTION_CTX"])


def role_map() -> Mapping[str, Sequence[str]]:
    saml = ctx().settings.config.saml
    return saml.roles if saml is not None else {}


def start_session(identity: Identity, roles: frozenset[str], expires_at: float, slo: dict[str, Any]) -> None:
    """A fresh session (never reuse a pre-login one: no fixation), with a new CSRF token."""
    session.clear()
    session.permanent = True
    session.update({
        "v": SESSION_VERSION, "sub": identity.subject, "email": identity.email,
        "name": identity.display_name, "groups": sorted(identity.groups), "roles": sorted(roles),
        "iat": identity.authenticated_at, "exp": expires_at, "slo": slo,
    })


def session_principal() -> Principal | None:
    """The signed-in user of this request's cookie, if the session is current."""
    if "principal" in g:
        return cast(Principal | None, g.principal)
    principal = None
    if session.get("v") == SESSION_VERSION and isinstance(session.get("sub"), str):
        if float(session.get("exp", 0)) > time.time():
            identity = Identity(subject=session["sub"], email=session.get("email", ""),
                                groups=frozenset(session.get("groups", [])),
                                display_name=session.get("name", ""), idp="saml",
                                authenticated_at=float(session.get("iat", 0)))
            principal = Principal(identity, frozenset(session.get("roles", [])), "session",
                                  float(session["exp"]))
        else:
            session.clear()
    g.principal = principal
    return principal


def token_principal(header: str) -> Principal | None:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    info = ctx().tokens.verify(token.strip())
    if info is None:
        return None
    return Principal(info.identity(), roles_for(info.groups, role_map()), "token", info.expires_at, info.id)


def login_required(view: F) -> F:
    """Portal views: signed-in users only; others go through SAML sign-in and come back."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if session_principal() is None:
            if request.method in ("GET", "HEAD"):
                return redirect(url_for("saml.login", next=request.full_path.rstrip("?")))
            abort(401)
        return view(*args, **kwargs)
    return cast(F, wrapper)


def role_required(*roles: str) -> Callable[[F], F]:
    """Portal views for signed-in users with (any) one of ``roles``: others get 403, and
    people not signed in go through SAML sign-in first (:func:`login_required`)."""
    if not roles:
        raise ValueError("role_required needs at least one role")
    needed = " or ".join(roles)

    def decorate(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = session_principal()
            if principal is None or not any(principal.has(role) for role in roles):
                abort(403, description=f"This page needs the {needed} role.")
            return view(*args, **kwargs)
        return cast(F, wrapper)
    return decorate


def current() -> Principal:
    """The principal of a view protected by one of the decorators here."""
    principal = g.get("principal")
    if principal is None:
        abort(401)
    return cast(Principal, principal)


def api_auth(role: str = "user") -> Callable[[F], F]:
    """API views: ``Authorization: Bearer <token>`` (only that, when the header is sent)
    or the portal session (its CSRF header is checked for unsafe methods)."""
    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            header = request.headers.get("Authorization")
            if header is not None:
                throttle, attempt = ctx().throttle, throttle_keys(request.remote_addr or "")
                wait = throttle.wait(attempt) if throttle is not None else 0.0
                if wait > 0:
                    resp = jsonify(error=f"too many failed logins; try again in {wait:.0f} s")
                    resp.status_code = 429
                    resp.headers["Retry-After"] = str(int(wait) + 1)
                    return resp
                principal = token_principal(header)
                g.principal = principal
                if throttle is not None:
                    (throttle.succeeded if principal is not None else throttle.failed)(attempt)
                if principal is None:
                    resp = jsonify(error="invalid, expired or revoked token")
                    resp.status_code = 401
                    resp.headers["WWW-Authenticate"] = 'Bearer realm="bastion"'
                    return resp
            else:
                principal = session_principal()
                if principal is None:
                    resp = jsonify(error="sign in at the portal or send Authorization: Bearer <token>")
                    resp.status_code = 401
                    resp.headers["WWW-Authenticate"] = 'Bearer realm="bastion"'
                    return resp
            if not principal.has(role):
                return jsonify(error=f"this call needs the {role} role"), 403
            return view(*args, **kwargs)
        return cast(F, wrapper)
    return decorate
