"""Core value types shared by every ring of the bastion.

Everything here is pure: frozen, slotted dataclasses and enums with no I/O imports.
Protocol plugins translate their wire events into the protocol-neutral events below;
policy stages judge those events and answer with a :class:`Decision`.
"""

from __future__ import annotations

import enum
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is acting: a person signed in through SAML, or the holder of a bastion token."""

    subject: str
    """Stable user id from the IdP (or the token's user)."""
    email: str = ""
    groups: frozenset[str] = frozenset()
    """IdP groups; access, guardrail and masking rules are scoped by them."""
    display_name: str = ""
    idp: str = ""
    """Where the identity came from: ``saml``, ``token``, ``cli``."""
    authenticated_at: float = 0.0


@dataclass(frozen=True, slots=True)
class UpstreamTLS:
    """How the bastion's own upstream connection to a target uses TLS."""

    mode: Literal["disabled", "preferred", "required", "verify-full"] = "preferred"
    ca_file: str | None = None
    server_name: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """A database or host that users reach through the bastion."""

    name: str
    protocol: str
    """Entry-point name of the protocol plugin (``mysql``, ``ssh``)."""
    host: str
    port: int
    tags: frozenset[str] = frozenset()
    tls: UpstreamTLS = UpstreamTLS()
    accounts: tuple[str, ...] = ()
    """Upstream accounts whose credentials the vault holds (``<target>/<account>``)."""
    options: Mapping[str, Any] = field(default_factory=dict)
    """Protocol specific settings (e.g. ``known_hosts`` for SSH)."""

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Session:
    """One client connection through the bastion, from authentication to close."""

    id: str
    identity: Identity
    target: Target
    account: str
    """The upstream account chosen by the access rules."""
    client_addr: str
    started_at: float
    reason: str = ""
    """Why the user connects (ticket id or free text) — carried from their token."""
    protocol_info: Mapping[str, str] = field(default_factory=dict)
    """Client program, attributes and similar details reported by the client."""

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex


# --------------------------------------------------------------------------- events


_RANDOM = bytearray()
os.register_at_fork(after_in_child=_RANDOM.clear)  # a forked worker must never reuse its parent's bytes


def _event_id() -> str:
    """16 hex digits from the system's CSPRNG, which is read 4 KiB at a time (a
    ``getrandom`` call per statement was one of the relay's syscalls)."""
    if len(_RANDOM) < 8:
        _RANDOM.extend(os.urandom(4096))
    piece = _RANDOM[-8:]
    del _RANDOM[-8:]
    return piece.hex()


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every protocol-neutral event judged by the pipeline."""

    session: Session
    at: float = field(default_factory=time.time)
    id: str = field(default_factory=lambda: _event_id())
    """Short reference shown to users in error messages and searchable in the audit."""

    kind = "event"


@dataclass(frozen=True, slots=True, kw_only=True)
class Connect(Event):
    """A client wants a session on ``session.target`` as ``session.account``."""

    kind = "connect"


@dataclass(frozen=True, slots=True, kw_only=True)
class Query(Event):
    """A SQL statement (or a schema change) about to be sent upstream."""

    sql: str
    database: str = ""
    command: str = "query"
    """``query``, ``prepare`` or ``init_db``."""
    no_backslash_escapes: bool = False
    ansi_quotes: bool = False
    kind = "query"


@dataclass(frozen=True, slots=True, kw_only=True)
class Command(Event):
    """A command to run on a host: an SSH exec request or (audit-only) a typed shell line."""

    line: str
    mode: Literal["exec", "shell"] = "exec"
    kind = "command"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileOp(Event):
    """A file operation (SFTP/SCP) on the target host."""

    op: str
    """``open-read``, ``open-write``, ``remove``, ``rename``, ``mkdir``, ``rmdir``, ``setstat``, ``list``…"""
    path: str
    target_path: str = ""
    home: str = ""
    """The session's home on the target: relative paths are resolved against it ("" if
    unknown; rules then fail closed on relative paths)."""
    kind = "fileop"


@dataclass(frozen=True, slots=True, kw_only=True)
class Forward(Event):
    """A port forward (SSH direct-tcpip) towards ``host:port`` seen from the target."""

    host: str
    port: int
    kind = "forward"


@dataclass(frozen=True, slots=True, kw_only=True)
class Kill(Event):
    """``KILL [QUERY] n`` (or COM_PROCESS_KILL) of one of the user's own bastion connections."""

    connection_id: int
    query_only: bool = False
    kind = "kill"


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel(Event):
    """An interactive shell or a subsystem (``sftp``) about to open on the target."""

    request: str
    """``shell`` or ``subsystem:<name>``."""
    kind = "channel"


# --------------------------------------------------------------------------- decisions


class Verdict(enum.IntEnum):
    """What happens to an event; ordered so the strictest verdict is the largest."""

    ALLOW = 0
    REVIEW = 1
    DENY = 2


@dataclass(frozen=True, slots=True)
class Decision:
    """A policy stage's answer about one event."""

    verdict: Verdict
    reason: str = ""
    rule: str = ""
    """Id of the rule that decided (``<stage>:<rule-id>``)."""
    approvers: frozenset[str] = frozenset()
    """Groups allowed to approve a REVIEW."""
    approvals_needed: int = 1
    hold_seconds: float = 0.0
    """How long a REVIEW may hold the event before it is denied."""
    window_seconds: float = 0.0
    """After an approval, the same statement (fingerprint) passes again for this long."""
    audit_only: bool = False
    """True when a rule in audit mode *would* have decided this; the event is allowed."""
    account: str = ""
    """For Connect: the upstream account the access rule grants."""
    message: str = ""
    """Text shown to the user (deny message)."""

    @classmethod
    def allow(cls, rule: str = "", reason: str = "", **kw: object) -> Decision:
        return cls(Verdict.ALLOW, reason=reason, rule=rule, **kw)  # type: ignore[arg-type]

    @classmethod
    def deny(cls, rule: str = "", reason: str = "", **kw: object) -> Decision:
        return cls(Verdict.DENY, reason=reason, rule=rule, **kw)  # type: ignore[arg-type]

    @classmethod
    def review(cls, rule: str = "", reason: str = "", **kw: object) -> Decision:
        return cls(Verdict.REVIEW, reason=reason, rule=rule, **kw)  # type: ignore[arg-type]
