"""Web session security: the cookie secret, CSRF tokens, security headers, safe redirects.

* The session is Flask's signed cookie, keyed by a secret kept in
  ``config.secret_key_file`` (created with mode 0600 on first start). The cookie is
  HttpOnly, SameSite=Lax, Secure (and ``__Host-`` prefixed) when the portal is https.
* Every state-changing request (POST, PUT, PATCH, DELETE) carries the session's CSRF
  token: forms in the ``csrf_token`` field, JSON clients in ``X-CSRF-Token``. Exempt:
  the ACS the IdP posts to (authenticated by the SAML signature and our request ID)
  and ``/api/`` calls with an ``Authorization`` header — the API then
  authenticates by that header only, never by the cookie, and browsers cannot add
  such a header to a cross-site request.
* Every response gets CSP ``default-src 'self'`` with ``frame-ancestors 'none'`` (no inline
  script or style anywhere), ``X-Frame-Options: DENY``, ``nosniff``, ``no-referrer``
  (login-link codes stay out of Referer headers) and ``Cache-Control: no-store``
  (pages show one-time tokens), plus HSTS on https.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import secrets
import stat
from pathlib import Path

from flask import Flask, Response, abort, current_app, request, session

log = logging.getLogger("bastion.web")

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_EXEMPT_ENDPOINTS = frozenset({"saml.acs"})
CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"


class SecretKeyError(Exception):
    """The session secret cannot be read or created."""


def load_secret_key(path: str | os.PathLike[str]) -> bytes:
    """Read the base64 secret from ``path``; create it (32 random bytes, mode 0600) if missing."""
    file = Path(path)
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it first: use theirs
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    try:
        mode = file.stat().st_mode
        raw = file.read_text().strip()
    except OSError as exc:
        raise SecretKeyError(f"secret_key_file {file}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("secret_key_file is readable by others; it should be mode 0600", extra={"path": str(file)})
    try:
        key = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise SecretKeyError(f"secret_key_file {file} is not valid base64") from None
    if len(key) < 32:
        raise SecretKeyError(f"secret_key_file {file} must hold at least 32 bytes, found {len(key)}")
    return key


def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok() -> bool:
    expected = session.get("csrf")
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    return isinstance(expected, str) and bool(expected) and bool(sent) and hmac.compare_digest(expected, sent)


def check_csrf() -> None:
    """``before_request``: refuse an unsafe request without the session's token (403)."""
    if request.method not in UNSAFE_METHODS or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
        return
    if request.path.startswith("/api/") and "Authorization" in request.headers:
        return
    if not csrf_ok():
        log.warning("CSRF check failed", extra={"path": request.path, "method": request.method,
                                                "client": request.remote_addr})
        abort(403, description="The request was refused: its CSRF token is missing or wrong. "
                               "Reload the page and try again.")


def security_headers(response: Response) -> Response:
    """``after_request``: headers on every response."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if not request.path.startswith("/static/"):
        headers["Cache-Control"] = "no-store"
    if current_app.config.get("SESSION_COOKIE_SECURE"):  # the portal's public URL is https
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to go to after sign-in; anything else (other hosts, schemes) is ``default``."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(c in value for c in "\\\r\n\t") or not value.isprintable():
        return default
    return value


def init_app(app: Flask) -> None:
    app.before_request(check_csrf)
    app.after_request(security_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
