"""What the portal and the API do to tokens and SSH keys, with the checks and the audit
records in one place. A token's clear text is returned once and never logged or stored.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bastion.context import PluginContext
from bastion.core.contracts import AuditEvent
from bastion.state.directory import SSHKey
from bastion.state.live import LiveSessions
from bastion.state.tokens import TokenInfo
from bastion.web.auth import Principal

log = logging.getLogger("bastion.web")

MAX_REASON = 500
TTL_CHOICES = (900, 3600, 4 * 3600, 8 * 3600, 12 * 3600, 24 * 3600)


class ActionError(Exception):
    """The request cannot be done; ``message`` is shown to the user, ``status`` is the HTTP code."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def audit(ctx: PluginContext, type_: str, principal: Principal | None, client: str | None, **data: Any) -> None:
    base = {"user": principal.subject if principal else "", "via": principal.via if principal else "",
            "client_addr": client or ""}
    ctx.emit(AuditEvent(type=type_, session_id="", at=time.time(), data={**base, **data}))


def ttl_choices(ctx: PluginContext) -> list[int]:
    max_ttl = ctx.settings.config.tokens.max_ttl
    choices = sorted({c for c in TTL_CHOICES if c <= max_ttl} | {ctx.settings.config.tokens.default_ttl, max_ttl})
    return [c for c in choices if 0 < c <= max_ttl]


def parse_ttl(ctx: PluginContext, value: Any) -> int:
    cfg = ctx.settings.config.tokens
    if value is None or value == "":
        return cfg.default_ttl
    try:
        ttl = int(value)
    except (TypeError, ValueError):
        raise ActionError("ttl must be a whole number of seconds") from None
    if isinstance(value, bool) or not 1 <= ttl <= cfg.max_ttl:
        raise ActionError(f"ttl must be between 1 and {cfg.max_ttl} seconds (tokens.max_ttl)")
    return ttl


def clean_reason(ctx: PluginContext, value: Any) -> str:
    reason = " ".join(str(value or "").split())
    if len(reason) > MAX_REASON:
        raise ActionError(f"the reason is longer than {MAX_REASON} characters")
    if not reason.isprintable():
        raise ActionError("the reason contains control characters")
    if ctx.settings.config.tokens.require_reason and not reason:
        raise ActionError("a reason is required (a ticket id or a short text): tokens.require_reason is on")
    return reason


def issue_token(ctx: PluginContext, principal: Principal, ttl_value: Any, reason_value: Any,
                client: str | None) -> tuple[str, TokenInfo]:
    """A new token for ``principal`` with their current groups; the clear token is returned once."""
    ttl = parse_ttl(ctx, ttl_value)
    reason = clean_reason(ctx, reason_value)
    if principal.via == "token":
        # a token must not mint a longer-lived credential than itself
        remaining = int(principal.expires_at - time.time())
        if ttl > remaining:
            raise ActionError(f"a token can only issue tokens that expire before it does (ttl <= {max(remaining, 0)})")
    identity = principal.identity
    token, info = ctx.tokens.issue(identity.subject, identity.groups, ttl, email=identity.email, reason=reason,
                                   created_by=identity.subject)
    log.info("token issued", extra={"user": identity.subject, "token_id": info.id, "ttl": ttl, "via": principal.via})
    audit(ctx, "token.issued", principal, client, token_id=info.id, ttl=ttl, reason=reason,
          groups=sorted(identity.groups), expires_at=info.expires_at)
    return token, info


def revoke_token(ctx: PluginContext, principal: Principal, token_id: str, client: str | None,
                 any_user: bool = False) -> None:
    owner = None if any_user and principal.has("admin") else principal.subject
    info = ctx.tokens.get(token_id)
    if info is None or (owner is not None and info.user != owner):
        raise ActionError("no such token", 404)
    if not ctx.tokens.revoke(token_id, user=owner):
        raise ActionError("this token is already revoked", 409)
    log.info("token revoked", extra={"user": principal.subject, "token_id": token_id, "owner": info.user})
    audit(ctx, "token.revoked", principal, client, token_id=token_id, owner=info.user)


def end_session(ctx: PluginContext, principal: Principal, session_id: str, reason: Any, client: str | None) -> None:
    """Ask whichever process serves ``session_id`` to end it (within two seconds)."""
    why = str(reason or "").strip()[:200] or f"by {principal.subject}"
    if not LiveSessions(ctx.store).request_end(session_id, f"{why} ({principal.subject})"):
        raise ActionError("no such open session", 404)
    log.info("session end requested", extra={"user": principal.subject, "session_id": session_id})
    audit(ctx, "session.end_requested", principal, client, session_id=session_id, reason=why)


def add_ssh_key(ctx: PluginContext, principal: Principal, line: Any, client: str | None) -> SSHKey:
    text = str(line or "").strip()
    if not text:
        raise ActionError("paste an OpenSSH public key line (ssh-ed25519 AAAA... comment)")
    if len(text) > 16384 or "\n" in text:
        raise ActionError("one public key per upload, on one line")
    if "PRIVATE KEY" in text:
        raise ActionError("that is a private key: never paste it anywhere; upload the .pub file's line")
    try:
        key = ctx.ssh_keys.add(principal.subject, text)
    except ValueError as exc:
        raise ActionError(str(exc)) from None
    audit(ctx, "ssh_key.added", principal, client, fingerprint=key.fingerprint, comment=key.comment)
    return key


def remove_ssh_key(ctx: PluginContext, principal: Principal, fingerprint: str, client: str | None,
                   any_user: bool = False) -> None:
    owner = None if any_user and principal.has("admin") else principal.subject
    keys = [k for k in ctx.ssh_keys.list(owner) if k.fingerprint == fingerprint]
    if not keys or not ctx.ssh_keys.remove(fingerprint, user=owner):
        raise ActionError("no such key", 404)
    audit(ctx, "ssh_key.removed", principal, client, fingerprint=fingerprint, owner=keys[0].user)


def token_json(info: TokenInfo) -> dict[str, Any]:
    return {"id": info.id, "user": info.user, "email": info.email, "groups": sorted(info.groups),
            "reason": info.reason, "created_by": info.created_by, "created_at": info.created_at,
            "expires_at": info.expires_at, "revoked_at": info.revoked_at, "last_used_at": info.last_used_at,
            "active": info.active}


def key_json(key: SSHKey) -> dict[str, Any]:
    return {"fingerprint": key.fingerprint, "user": key.user, "public_key": key.public_key,
            "comment": key.comment, "created_at": key.created_at}
