"""What every protocol's session shares: access decision, audit records, masking, holds.

A protocol plugin keeps only its wire protocol. Its session class derives from
:class:`BaseSession`, which owns the session's :class:`~bastion.guard.Guard` (every
judged request goes through it), its :class:`~bastion.core.masks.Masks` (storage
redaction, live masking, result-column plans), the approval hold, and the
``session.start``/``session.end`` records. :func:`authorize` and :func:`audit_refused`
are the connection-phase halves both plugins call before a session exists.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson

from bastion.context import PluginContext
from bastion.core import records
from bastion.core.contracts import AuditEvent
from bastion.core.masks import Masks
from bastion.core.types import Connect, Decision, Event, Identity, Session, Target, Verdict
from bastion.guard import Guard
from bastion.runtime import metrics

log = logging.getLogger("bastion.session")


_PLAIN_JSON = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


def printable(value: Any) -> Any:
    """Audit data as valid Unicode. Wire text is decoded with ``surrogateescape``, so bytes
    that were not UTF-8 (a client's garbage, a latin1 literal) are lone surrogates, which
    JSON-to-SQLite/OpenSearch sinks reject; they become ``\\xNN`` escapes here.

    Most records hold nothing to change: orjson refuses a lone surrogate (and anything but
    plain JSON types with string keys), so a record it serialises is returned as is (a new
    top-level dict) without walking it value by value — about 4 us instead of 50 for a
    statement's record."""
    if isinstance(value, dict):
        try:
            orjson.dumps(value, option=_PLAIN_JSON)
        except TypeError:  # orjson.JSONEncodeError is one: a surrogate, a key or type to walk
            pass
        else:
            return dict(value)
    return _printable(value)


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        if value.isascii():
            return value
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            try:
                return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            except UnicodeEncodeError:
                return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_printable(v) for v in value]
    return value


_TOKEN = re.compile(r"bst_[0-9a-f]+_[A-Za-z0-9_-]{6,}")
_NOBODY = Session(id="", identity=Identity(subject=""), target=Target(name="", protocol="", host="", port=0),
                  account="", client_addr="", started_at=0.0)


def scrub(ctx: PluginContext, text: str) -> str:
    """``text`` that a client chose (a user name, a target name) fit for logs and the audit
    trail: a bastion token pasted in the wrong field, or any value the masking recognizers
    know (storage masking, whoever the client is), is replaced."""
    text = _TOKEN.sub("[bastion token]", text)
    return Masks(ctx.maskers, _NOBODY).redact(text)[0] if ctx.maskers else text


def authorize(ctx: PluginContext, session: Session) -> tuple[Session | None, Decision, Event]:
    """The pipeline's ``Connect`` decision: the session with its upstream account, or None
    (refused: no rule grants the target, or a stage denied)."""
    event = Connect(session=session)
    decision = ctx.pipeline.decide(event).decision
    if decision.verdict is not Verdict.ALLOW or not decision.account:
        return None, decision, event
    return dataclasses.replace(session, account=decision.account), decision, event


def audit_refused(ctx: PluginContext, protocol: str, client_addr: str, **data: Any) -> None:
    """Record a refused login (there is no session to attach it to)."""
    metrics.AUTH.labels(protocol=protocol, result="refused").inc()
    clean = {k: scrub(ctx, v) if isinstance(v, str) else v for k, v in data.items()}  # client-chosen text
    ctx.emit(AuditEvent(type=records.AUTH, session_id="", at=time.time(),
                        data=printable({"protocol": protocol, "result": "refused", "client_addr": client_addr,
                                        **clean})))


@dataclass(kw_only=True)
class BaseSession:
    """One authenticated connection through the bastion."""

    ctx: PluginContext
    session: Session
    denied: int = 0
    """Requests refused in this session."""
    end_request: str | None = None
    """Why the session must end now (its grant ended: see :meth:`terminate`)."""
    masks: Masks = field(init=False)
    guard: Guard = field(init=False)

    text_field: ClassVar[str] = "statement"
    """The record field holding a request's (redacted) text."""

    def __post_init__(self) -> None:
        self.masks = Masks(self.ctx.maskers, self.session)
        self.guard = Guard(self)

    # ------------------------------------------------------------------ audit records

    def emit(self, type_: str, data: dict[str, Any]) -> bool:
        """Record an audit event; True if the audit trail wrote it (PluginContext.emit)."""
        return self.ctx.emit(AuditEvent(type=type_, session_id=self.session.id, at=time.time(),
                                        data=printable(data)))

    def redact(self, text: str) -> str:
        """``text`` as the audit trail may hold it."""
        return self.masks.redact(text)[0]

    def redact_request(self, text: str) -> dict[str, Any]:
        """The record fields for a request's text: masked, with what was masked counted.
        Plugins that know their request language mask only its values (:meth:`_fields`)."""
        return self._fields(text, lambda text, mask: mask(text))

    def counting_mask(self) -> tuple[Callable[[str], str], dict[str, int]]:
        """The storage masking as a function of one piece of text, and the counts (by
        recognizer) of what it has masked so far, filled in as it runs."""
        found: dict[str, int] = {}

        def mask(piece: str) -> str:
            masked, counts = self.masks.redact(piece)
            for key, n in counts.items():
                found[key] = found.get(key, 0) + n
            return masked

        return mask, found

    def _fields(self, text: str, apply: Callable[[str, Callable[[str], str]], str]) -> dict[str, Any]:
        """``apply(text, mask)`` runs the storage masking on the pieces of ``text`` it
        chooses (literal values, shell segments); the record fields, with the counts."""
        mask, found = self.counting_mask()
        fields: dict[str, Any] = {self.text_field: apply(text, mask)}
        if found:
            fields[f"{self.text_field}_masked"] = found
        return fields

    def start_data(self) -> dict[str, Any]:
        """The ``session.start`` record (plugins add their own fields)."""
        s = self.session
        return {"protocol": s.target.protocol, "user": s.identity.subject, "email": s.identity.email,
                "groups": sorted(s.identity.groups), "target": s.target.name, "account": s.account,
                "client_addr": s.client_addr, "reason": s.reason, **dict(s.protocol_info)}

    def begin(self) -> None:
        metrics.AUTH.labels(protocol=self.session.target.protocol, result="ok").inc()
        self.emit(records.SESSION_START, self.start_data())
        if self.ctx.liveness is not None:
            self.ctx.liveness.add(self)

    def end(self, reason: str, data: dict[str, Any]) -> None:
        """Record the end of the session (``data``: the plugin's counters)."""
        if self.ctx.liveness is not None:
            self.ctx.liveness.remove(self.session.id)
        if self.end_request is not None:
            reason = f"ended: {self.end_request}"
        self.emit(records.SESSION_END, {"reason": reason, "denied": self.denied, **data,
                                        "duration_s": round(time.time() - self.session.started_at, 3)})

    def terminate(self, why: str) -> None:
        """End the session now (its token was revoked, an administrator ended it). The
        plugin notices at its next safe point (:meth:`interrupt` may hurry it)."""
        self.end_request = why
        self.interrupt()

    def interrupt(self) -> None:
        """Make the plugin notice :attr:`end_request` soon (default: its own polling does)."""

    # ------------------------------------------------------------------ approvals

    def hold(self, event: Event, decision: Decision, cancelled: Callable[[], bool] | None) -> Decision:
        """Resolve a REVIEW: wait for approvers (only this greenlet waits), else deny.
        ``cancelled`` tells the broker the user gave up waiting."""
        broker = self.ctx.approvals
        if broker is None:
            return Decision.deny(rule=decision.rule, reason="review required but no approval service runs",
                                 message="this needs an approval, which is not available here")
        log.info("%s held for review", event.kind, extra={"session_id": self.session.id, "event_id": event.id})
        text = getattr(event, "sql", None) or getattr(event, "line", None)
        shown = self.redact_request(text)[self.text_field] if isinstance(text, str) else None
        return broker.hold(event, decision, cancelled=cancelled, shown=shown)
